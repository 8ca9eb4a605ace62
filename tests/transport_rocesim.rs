//! The datenlord roce-sim compatibility scenarios (ROCE-FACTS §7), each as a
//! test against the engine over the simulated link: partial WRITE retry,
//! partial READ retry (duplicate READ replay from a mid PSN, and from the
//! start), RNR retry limit, PSN sequence error retry, local ACK timeout, rkey
//! violation, ghost ACK and implied NAK.

mod transport_common;
use transport_common::*;

use std::collections::HashMap;

use softroce::transport::sim::{Dir, LinkConfig, SimPair};
use softroce::transport::*;
use softroce::wire::{AethRepr, BthRepr, NakCode, PacketRepr, RethRepr, Syndrome};

fn mtu256() -> SimPair {
    let (mut a, mut b) = cfgs();
    a.path_mtu = Mtu::Mtu256;
    b.path_mtu = Mtu::Mtu256;
    pair_with(a, b, LinkConfig::clean(DELAY), 1)
}

/// Drops the `nth` transmission (1-based) of packets matching `dir`/`psn`.
struct Dropper {
    seen: HashMap<(u8, u32), u32>,
    rules: Vec<(Dir, u32, u32)>,
}

impl Dropper {
    fn new(rules: &[(Dir, u32, u32)]) -> Self {
        Dropper {
            seen: HashMap::new(),
            rules: rules.to_vec(),
        }
    }
    fn keep(&mut self, d: Dir, psn: u32) -> bool {
        let n = self.seen.entry((d as u8, psn)).or_default();
        *n += 1;
        !self
            .rules
            .iter()
            .any(|&(rd, rp, rn)| rd == d && rp == psn && rn == *n)
    }
}

#[test]
fn partial_write_retry_resumes_at_the_lost_packet() {
    let mut p = mtu256();
    let src = patterned(&mut p.a.mem, 2048, 3);
    let dst = p.b.mem.register(2048, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 2048)]))
        .unwrap(); // 8 packets
    let mut drop = Dropper::new(&[(Dir::AtoB, PSN_A + 3, 1)]);
    let mut sent = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::AtoB {
            sent.push(pkt.bth.psn - PSN_A);
        }
        drop.keep(d, pkt.bth.psn)
    });
    assert_eq!(sent, [0, 1, 2, 3, 4, 5, 6, 7, 3, 4, 5, 6, 7]);
    assert_eq!(drain(&mut p.a.qp)[0].status, WcStatus::Success);
    assert_eq!(
        p.b.mem.bytes(dst.lkey).unwrap(),
        p.a.mem.bytes(src.lkey).unwrap()
    );
}

/// A READ of 4 packets whose response at `lost` (offset from the first PSN)
/// is dropped once; returns the READ requests sent and the responses' opcodes.
type ReadTrace = (
    Vec<(u32, RethRepr)>,
    Vec<(u32, Opcode, Option<u32>)>,
    SimPair,
);

fn read_with_lost_response(lost: u32) -> ReadTrace {
    let mut p = mtu256();
    let src = patterned(&mut p.b.mem, 1024, 5);
    let sink = p.a.mem.register(1024, ALL);
    p.a.qp
        .post_send(&wr(1, read(&src, 0), &[sink.sge(0, 1024)]))
        .unwrap();
    let mut drop = Dropper::new(&[(Dir::BtoA, PSN_A + lost, 1)]);
    let mut reqs = Vec::new();
    let mut resps = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        match d {
            Dir::AtoB => reqs.push((pkt.bth.psn - PSN_A, pkt.reth.unwrap())),
            Dir::BtoA => resps.push((pkt.bth.psn - PSN_A, pkt.bth.opcode, pkt.aeth.map(|a| a.msn))),
        }
        drop.keep(d, pkt.bth.psn)
    });
    let c = drain(&mut p.a.qp);
    assert_eq!((c[0].status, c[0].byte_len), (WcStatus::Success, 1024));
    assert_eq!(
        p.a.mem.bytes(sink.lkey).unwrap(),
        p.b.mem.bytes(src.lkey).unwrap()
    );
    (reqs, resps, p)
}

#[test]
fn partial_read_retry_reissues_the_remainder_and_is_replayed_from_a_mid_psn() {
    let (reqs, resps, p) = read_with_lost_response(1);
    let va = reqs[0].1.va;
    assert_eq!(reqs.len(), 2);
    assert_eq!(
        reqs[0],
        (
            0,
            RethRepr {
                va,
                rkey: reqs[0].1.rkey,
                dma_len: 1024
            }
        )
    );
    // Re-issued at the first missing PSN for the remaining bytes.
    assert_eq!(
        reqs[1],
        (
            1,
            RethRepr {
                va: va + 256,
                rkey: reqs[0].1.rkey,
                dma_len: 768
            }
        )
    );
    // The responder replays from that PSN as a new response (FIRST), same MSN.
    let replay: Vec<_> = resps.iter().skip(4).copied().collect();
    assert_eq!(
        replay,
        [
            (1, Opcode::RC_RDMA_READ_RESPONSE_FIRST, Some(1)),
            (2, Opcode::RC_RDMA_READ_RESPONSE_MIDDLE, None),
            (3, Opcode::RC_RDMA_READ_RESPONSE_LAST, Some(1)),
        ]
    );
    // The duplicate did not advance the responder.
    assert_eq!(p.b.qp.expected_recv_psn(), Psn::new(PSN_A + 4));
    assert_eq!(p.a.qp.stats().implied_naks, 1);
}

#[test]
fn duplicate_read_from_the_start_is_replayed() {
    let (reqs, resps, p) = read_with_lost_response(0);
    // Response 1 arrived before 0: implied NAK, re-issue from the start.
    assert_eq!(reqs.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 0]);
    assert_eq!(reqs[1].1.dma_len, 1024);
    assert_eq!(resps[4], (0, Opcode::RC_RDMA_READ_RESPONSE_FIRST, Some(1)));
    assert_eq!(p.b.qp.expected_recv_psn(), Psn::new(PSN_A + 4));
}

#[test]
fn rnr_retry_limit() {
    let (mut a, mut b) = cfgs();
    a.rnr_retry = 3;
    b.min_rnr_timer = 5; // 60 us
    let mut p = pair_with(a, b, LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 256, 1);
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 64)]))
        .unwrap();
    let mut times = Vec::new();
    let mut rnr = 0;
    loop {
        let now = p.now;
        let more = p.step_with(&mut |d, pkt| {
            if d == Dir::AtoB {
                times.push(now.0);
            } else if pkt.aeth.map(|a| a.syndrome) == Some(Syndrome::RnrNak { timer: 5 }) {
                rnr += 1;
            }
            true
        });
        if !more {
            break;
        }
    }
    assert_eq!(rnr, 4, "first try + 3 retries");
    assert_eq!(times.len(), 4);
    for w in times.windows(2) {
        assert!(
            w[1] - w[0] >= 60_000 + 2 * DELAY,
            "waited the RNR timer: {times:?}"
        );
    }
    assert_eq!(drain(&mut p.a.qp)[0].status, WcStatus::RnrRetryExceeded);
}

#[test]
fn psn_sequence_error_retry_without_waiting_for_the_timer() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 1);
    let rb = p.b.mem.register(4096, ALL);
    for i in 0..6u32 {
        recv(&mut p.b.qp, u64::from(i), rb.sge(i * 64, 64));
    }
    for i in 0..6u32 {
        p.a.qp
            .post_send(&wr(u64::from(i), send(None), &[src.sge(i, 64)]))
            .unwrap();
    }
    let mut drop = Dropper::new(&[(Dir::AtoB, PSN_A + 2, 1)]);
    let mut nak = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if pkt.aeth.map(|a| a.syndrome) == Some(Syndrome::Nak(NakCode::PsnSequenceError)) {
            nak.push(pkt.bth.psn - PSN_A);
        }
        drop.keep(d, pkt.bth.psn)
    });
    assert_eq!(nak, [2]);
    let s = p.a.qp.stats();
    assert_eq!((s.seq_naks_received, s.retries, s.timeouts), (1, 1, 0));
    assert!(
        p.now.0 < 4096 << 8,
        "recovered before the local ACK timeout"
    );
    let rc = drain(&mut p.b.qp);
    assert_eq!(
        rc.iter().map(|c| c.wr_id).collect::<Vec<_>>(),
        [0, 1, 2, 3, 4, 5]
    );
    for (i, c) in rc.iter().enumerate() {
        assert_eq!(
            &p.b.mem.bytes(rb.lkey).unwrap()[i * 64..][..64],
            &p.a.mem.bytes(src.lkey).unwrap()[i..][..64]
        );
        assert_eq!(c.byte_len, 64);
    }
}

#[test]
fn local_ack_timeout_retransmits_after_4096ns_times_2_pow_timeout() {
    for timeout in [8u8, 12] {
        let (mut a, b) = cfgs();
        a.local_ack_timeout = timeout;
        let mut p = pair_with(a, b, LinkConfig::clean(DELAY), 1);
        let src = patterned(&mut p.a.mem, 256, 1);
        let dst = p.b.mem.register(256, ALL);
        p.a.qp
            .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 64)]))
            .unwrap();
        let mut drop = Dropper::new(&[(Dir::BtoA, PSN_A, 1)]); // lose the ACK
        let mut times = Vec::new();
        loop {
            let now = p.now;
            let more = p.step_with(&mut |d, pkt| {
                if d == Dir::AtoB {
                    times.push(now.0);
                }
                drop.keep(d, pkt.bth.psn)
            });
            if !more {
                break;
            }
        }
        assert_eq!(times.len(), 2);
        assert_eq!(times[1] - times[0], 4096u64 << timeout);
        assert_eq!(p.a.qp.stats().timeouts, 1);
        assert_eq!(drain(&mut p.a.qp)[0].status, WcStatus::Success);
    }
    // Timeout 0 means no timer at all.
    let (mut a, b) = cfgs();
    a.local_ack_timeout = 0;
    let mut p = pair_with(a, b, LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 256, 1);
    p.a.qp
        .post_send(&wr(1, write(&src, 0, None), &[src.sge(0, 8)]))
        .unwrap();
    run_filtered(&mut p, &mut |d, _| d == Dir::BtoA);
    assert_eq!(p.a.qp.poll_timeout(), None);
    assert!(drain(&mut p.a.qp).is_empty());
}

#[test]
fn rkey_violation_naks_and_breaks_both_qps() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 4096, 1);
    let dst =
        p.b.mem
            .register(4096, Access::LOCAL_WRITE | Access::REMOTE_READ);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 2000)]))
        .unwrap();
    let mut nak = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::BtoA {
            nak.push((pkt.bth.psn - PSN_A, pkt.aeth.unwrap().syndrome));
        }
        true
    });
    // NAK on the first packet (RETH checked there); later packets are dropped.
    assert_eq!(nak, [(0, Syndrome::Nak(NakCode::RemoteAccessError))]);
    assert!(p.b.mem.bytes(dst.lkey).unwrap().iter().all(|&b| b == 0));
    assert_eq!(drain(&mut p.a.qp)[0].status, WcStatus::RemoteAccessError);
    assert_eq!(
        (p.a.qp.state(), p.b.qp.state()),
        (QpState::Error, QpState::Error)
    );
}

fn ack(psn: u32, msn: u32) -> PacketRepr<'static> {
    let bth = BthRepr {
        opcode: Opcode::RC_ACKNOWLEDGE,
        solicited: false,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: 0xFFFF,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp: QPN_A,
        ack_req: false,
        resv7: 0,
        psn,
    };
    let mut p = PacketRepr::new(bth, &[]);
    p.aeth = Some(AethRepr {
        syndrome: Syndrome::Ack { credits: 0x1F },
        msn,
    });
    p
}

#[test]
fn ghost_ack_is_ignored_safely() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 1);
    let dst = p.b.mem.register(256, ALL);
    // Nothing outstanding: an ACK for anything is a ghost.
    p.a.qp.handle_packet(p.now, &ack(PSN_A, 1), &mut p.a.mem);
    for id in 1..=2 {
        p.a.qp
            .post_send(&wr(id, write(&dst, 0, None), &[src.sge(0, 8)]))
            .unwrap();
    }
    // Send both (they reach B), then inject ACKs for PSNs never sent before B's real ACK.
    assert!(p.step());
    assert_eq!(p.b.qp.expected_recv_psn(), Psn::new(PSN_A + 2));
    for ghost in [PSN_A + 2, PSN_A + 100, PSN_A + 0x7F_FFFF] {
        p.a.qp.handle_packet(p.now, &ack(ghost, 9), &mut p.a.mem);
    }
    assert!(
        p.a.qp.poll_completion().is_none(),
        "a ghost ACK completes nothing"
    );
    assert_eq!(p.a.qp.stats().ghost_acks, 4);
    assert_eq!(p.a.qp.state(), QpState::Ready);
    // The real (coalesced) ACK then completes both, once.
    p.run(100_000);
    assert_eq!(
        drain(&mut p.a.qp)
            .iter()
            .map(|c| (c.wr_id, c.status))
            .collect::<Vec<_>>(),
        [(1, WcStatus::Success), (2, WcStatus::Success)]
    );
    assert_eq!(p.a.qp.stats().retries, 0);
}

#[test]
fn implied_nak_retries_a_read_whose_response_was_lost() {
    let mut p = pair();
    let src = patterned(&mut p.b.mem, 256, 1);
    let sink = p.a.mem.register(256, ALL);
    let rb = p.b.mem.register(256, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 256));
    p.a.qp
        .post_send(&wr(1, read(&src, 0), &[sink.sge(0, 100)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, send(None), &[sink.sge(0, 0)]))
        .unwrap();
    // Lose the READ response; the SEND's ACK (a later PSN) then implies it.
    let mut drop = Dropper::new(&[(Dir::BtoA, PSN_A, 1)]);
    run_filtered(&mut p, &mut |d, pkt| drop.keep(d, pkt.bth.psn));
    let s = p.a.qp.stats();
    assert_eq!((s.implied_naks, s.timeouts), (1, 0));
    assert!(p.now.0 < 4096 << 8, "no timer needed");
    assert_eq!(
        drain(&mut p.a.qp)
            .iter()
            .map(|c| (c.wr_id, c.status))
            .collect::<Vec<_>>(),
        [(1, WcStatus::Success), (2, WcStatus::Success)]
    );
    assert_eq!(
        &p.a.mem.bytes(sink.lkey).unwrap()[..100],
        &p.b.mem.bytes(src.lkey).unwrap()[..100]
    );
}
