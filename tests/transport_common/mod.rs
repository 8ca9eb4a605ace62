//! Shared helpers for the `transport_*` integration tests: building a pair of
//! RC QPs over a simulated link, posting helpers and completion draining.
#![allow(dead_code)]

use softroce::transport::sim::{Dir, Link, LinkConfig, Peer, SimPair};
use softroce::transport::*;
use softroce::wire::PacketRepr;

pub const QPN_A: u32 = 0x11;
pub const QPN_B: u32 = 0x22;
pub const PSN_A: u32 = 0x100;
pub const PSN_B: u32 = 0x200;
/// 10 us one-way delay.
pub const DELAY: u64 = 10_000;

pub fn cfgs() -> (QpConfig, QpConfig) {
    let mut a = QpConfig::new(QPN_A, QPN_B, PSN_A, PSN_B);
    let mut b = QpConfig::new(QPN_B, QPN_A, PSN_B, PSN_A);
    for c in [&mut a, &mut b] {
        c.local_ack_timeout = 8; // ~1 ms
        c.min_rnr_timer = 1; // 10 us
    }
    (a, b)
}

pub fn pair_with(a: QpConfig, b: QpConfig, link: LinkConfig, seed: u64) -> SimPair {
    SimPair::new(
        Peer {
            qp: RcQp::new(a).unwrap(),
            mem: SimMemory::new(0x1000_0000),
        },
        Peer {
            qp: RcQp::new(b).unwrap(),
            mem: SimMemory::new(0x8000_0000),
        },
        Link::new(link, seed),
        Link::new(link, seed ^ 0x5555),
    )
}

pub fn pair() -> SimPair {
    let (a, b) = cfgs();
    pair_with(a, b, LinkConfig::clean(DELAY), 1)
}

pub const ALL: Access = Access::LOCAL_WRITE
    .union(Access::REMOTE_READ)
    .union(Access::REMOTE_WRITE)
    .union(Access::REMOTE_ATOMIC);

/// A region filled with a recognisable pattern.
pub fn patterned(mem: &mut SimMemory, len: u32, salt: u8) -> SimMr {
    let mr = mem.register(len, ALL);
    for (i, b) in mem.bytes_mut(mr.lkey).unwrap().iter_mut().enumerate() {
        *b = (i as u8).wrapping_mul(31).wrapping_add(salt);
    }
    mr
}

pub fn wr(wr_id: u64, kind: WrKind, sges: &[Sge]) -> WorkRequest<'_> {
    WorkRequest {
        wr_id,
        kind,
        sges,
        signaled: true,
        fence: false,
        solicited: false,
    }
}

pub fn send(imm: Option<u32>) -> WrKind {
    WrKind::Send {
        imm,
        invalidate: None,
    }
}

pub fn write(mr: &SimMr, off: u32, imm: Option<u32>) -> WrKind {
    WrKind::Write {
        remote_va: mr.va + u64::from(off),
        rkey: mr.rkey,
        imm,
    }
}

pub fn read(mr: &SimMr, off: u32) -> WrKind {
    WrKind::Read {
        remote_va: mr.va + u64::from(off),
        rkey: mr.rkey,
    }
}

/// Posts one receive of a single SGE.
pub fn recv(qp: &mut RcQp, wr_id: u64, sge: Sge) {
    qp.post_recv(&RecvRequest {
        wr_id,
        sges: &[sge],
    })
    .unwrap();
}

pub fn drain(qp: &mut RcQp) -> Vec<Completion> {
    core::iter::from_fn(|| qp.poll_completion()).collect()
}

/// Runs until quiescent (bounded), recording every packet that was sent.
pub fn run_logged(p: &mut SimPair, log: &mut Vec<(Dir, Opcode, u32, bool)>) {
    run_filtered(p, &mut |d, pkt| {
        log.push((d, pkt.bth.opcode, pkt.bth.psn, pkt.bth.ack_req));
        true
    });
}

/// Runs until quiescent (bounded), dropping packets `keep` refuses.
pub fn run_filtered(p: &mut SimPair, keep: &mut dyn FnMut(Dir, &PacketRepr<'_>) -> bool) {
    for _ in 0..1_000_000 {
        if !p.step_with(keep) {
            return;
        }
    }
    panic!("did not quiesce");
}

pub use softroce::wire::Opcode;
