//! The adapter's RoCE path MTU over real connections: two hosted adapters on
//! one SimNet, each with its MTU set through `softroce_set_roce_mtu`,
//! connect through the NDK connector verbs (IB CM over QP1) and move SEND,
//! WRITE and READ data both ways. What the wire shows is checked: the REQ's
//! path MTU field, every data packet's payload <= the connection's MTU,
//! FIRST/MIDDLE exactly MTU, and ceil(len / MTU) packets per message. Also:
//! a REQ asking for more than the listener's MTU is clamped (the passive
//! side runs at min(REQ, ours)); a peer sending packets larger than our MTU
//! gets NAK Invalid Request (ROCE-FACTS 1.6); bad knob values are refused.

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use softroce::os::hosted::entry::{softroce_roce_mtu, softroce_set_roce_mtu};
use softroce::wire::aeth::{NakCode, Syndrome};
use softroce::wire::cm::{CmMad, CmMessage};
use softroce::wire::PacketRepr;

use ndk_common::*;
use ndk_conn_common::*;

/// Past the CM's timewait.
const TIMEWAIT: Duration = Duration::from_secs(5);
/// The largest message the tests move (4 x 4096 + a bit).
const BIG: usize = 4 * 4096 + 64;

/// Sets `side`'s RoCE MTU; returns the MTU in effect.
fn set_mtu(side: &Side, bytes: u32) -> u32 {
    let mut in_effect = 0;
    let s = unsafe { softroce_set_roce_mtu(side.adapter, bytes, &mut in_effect) };
    assert_eq!(s, STATUS_SUCCESS, "set {bytes}");
    in_effect
}

fn rdma(qp: *mut NDK_QP, read: bool, ctx: usize, sg: NDK_SGE, va: u64, token: u32) -> NtStatus {
    let d = qp_d(qp);
    let f = if read { d.NdkRead } else { d.NdkWrite };
    unsafe { f(qp, ctx as *mut std::ffi::c_void, &sg, 1, va, token, 0) }
}

/// The one completion on `cq`: (context, status, bytes).
fn one(cq: *mut NDK_CQ) -> (usize, NtStatus, u32) {
    let r = results_ex(cq, 8);
    assert_eq!(r.len(), 1, "exactly one completion: {r:?}");
    (
        r[0].RequestContext as usize,
        r[0].Status,
        r[0].BytesTransferred,
    )
}

/// RC opcodes carrying message payload: SEND and WRITE packets, READ
/// responses (not the READ request, not ACKs).
fn carries_data(opcode: u8) -> bool {
    matches!(opcode, 0x00..=0x0B | 0x0D..=0x10)
}

/// (opcode, payload length) of the data packets captured after `since`.
fn data_packets(c: &Captured, since: usize) -> Vec<(u8, usize)> {
    payloads(c)[since..]
        .iter()
        .filter_map(|p| PacketRepr::parse(p).ok())
        .filter(|p| p.bth.dest_qp != 1 && carries_data(p.bth.opcode.0))
        .map(|p| (p.bth.opcode.0, p.payload.len()))
        .collect()
}

/// The NAK codes captured after `since`.
fn naks(c: &Captured, since: usize) -> Vec<NakCode> {
    payloads(c)[since..]
        .iter()
        .filter_map(|p| PacketRepr::parse(p).ok())
        .filter_map(|p| match p.aeth?.syndrome {
            Syndrome::Nak(code) => Some(code),
            _ => None,
        })
        .collect()
}

/// The path MTU field of the first REQ in `c`.
fn req_mtu(c: &Captured) -> u8 {
    payloads(c)
        .iter()
        .filter_map(|p| PacketRepr::parse(p).ok())
        .filter(|p| p.bth.dest_qp == 1)
        .find_map(|p| match CmMad::parse_bytes(p.payload).ok()?.message {
            CmMessage::Req(r) => Some(r.path_mtu),
            _ => None,
        })
        .expect("a REQ was captured")
}

/// Checks one message of `len` bytes went as the IB rules for `mtu` say:
/// ceil(len/mtu) packets (1 for len 0), all but the last exactly `mtu`, the
/// last 1..=mtu (or the whole of a single packet).
fn assert_segmented(pkts: &[(u8, usize)], len: usize, mtu: usize, what: &str) {
    let want = len.div_ceil(mtu).max(1);
    assert_eq!(pkts.len(), want, "{what}: {len} B at MTU {mtu}: {pkts:?}");
    let total: usize = pkts.iter().map(|p| p.1).sum();
    assert_eq!(total, len, "{what}: payload bytes");
    for (i, &(_, plen)) in pkts.iter().enumerate() {
        assert!(plen <= mtu, "{what}: packet {i} carries {plen} > MTU {mtu}");
        if i + 1 < pkts.len() {
            assert_eq!(plen, mtu, "{what}: FIRST/MIDDLE carry exactly MTU");
        }
    }
}

/// Two connected adapters, A (active) and B (passive), with registered
/// buffers on both sides and a capture of each side's packets.
struct Pair {
    net: Net,
    a: Side,
    b: Side,
    conns: Vec<*mut NDK_CONNECTOR>,
    l: *mut NDK_LISTENER,
    from_a: Captured,
    from_b: Captured,
    a_buf: Vec<u8>,
    b_buf: Vec<u8>,
    a_mr: *mut NDK_MR,
    b_mr: *mut NDK_MR,
    /// Boxed: the provider holds their addresses.
    _mdls: [Box<MDL>; 2],
}

fn connected(seed: u64, a_mtu: u32, b_mtu: u32) -> Pair {
    let mut net = Net::new(seed);
    let a = net.adapter("10.9.0.1");
    let b = net.adapter("10.9.0.2");
    assert_eq!(set_mtu(&a, a_mtu), a_mtu);
    assert_eq!(set_mtu(&b, b_mtu), b_mtu);
    let (l, bound) = b.listen(1, 0);
    let from_a = capture(&net, Some(a.ip));
    let from_b = capture(&net, Some(b.ip));
    let rw = NDK_MR_FLAG_ALLOW_LOCAL_WRITE
        | NDK_MR_FLAG_ALLOW_REMOTE_READ
        | NDK_MR_FLAG_ALLOW_REMOTE_WRITE;
    let mut a_buf: Vec<u8> = (0..2 * BIG).map(|i| (i * 7 + 3) as u8).collect();
    let mut b_buf: Vec<u8> = (0..2 * BIG).map(|i| (i * 13 + 1) as u8).collect();
    let (a_mr, m1) = registered_mr(a.pd, &mut a_buf, rw);
    let (b_mr, m2) = registered_mr(b.pd, &mut b_buf, rw);
    let c = a.connector();
    assert_eq!(
        a.connect_from(c, a.qp, SocketAddr::new(a.ip, 0), bound, 4, 4, b"", 10),
        STATUS_PENDING
    );
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 4, 4, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    Pair {
        net,
        a,
        b,
        conns: vec![c, p],
        l,
        from_a,
        from_b,
        a_buf,
        b_buf,
        a_mr,
        b_mr,
        _mdls: [m1, m2],
    }
}

impl Pair {
    fn a_addr(&self) -> u64 {
        self.a_buf.as_ptr() as u64
    }
    fn b_addr(&self) -> u64 {
        self.b_buf.as_ptr() as u64
    }

    /// SEND `len` bytes A -> B (or B -> A), checked byte for byte; returns
    /// the sender's data packets.
    fn send(&mut self, a_to_b: bool, len: usize, ctx: usize) -> Vec<(u8, usize)> {
        let (tx, rx) = if a_to_b {
            (&self.a, &self.b)
        } else {
            (&self.b, &self.a)
        };
        let (tx_addr, tx_mr, rx_addr, rx_mr) = if a_to_b {
            (self.a_addr(), self.a_mr, self.b_addr(), self.b_mr)
        } else {
            (self.b_addr(), self.b_mr, self.a_addr(), self.a_mr)
        };
        let cap = if a_to_b { &self.from_a } else { &self.from_b };
        let mark = payloads(cap).len();
        let dst = rx_addr + BIG as u64;
        let r = sge(dst, BIG as u32, mr_token(rx_mr, false));
        assert_eq!(receive(rx.qp, ctx + 1, &[r]), STATUS_SUCCESS);
        let s = sge(tx_addr, len as u32, mr_token(tx_mr, false));
        assert_eq!(post_send(tx.qp, ctx, &[s]), STATUS_SUCCESS);
        self.net.run();
        assert_eq!(one(tx.cq), (ctx, STATUS_SUCCESS, 0));
        assert_eq!(one(rx.cq), (ctx + 1, STATUS_SUCCESS, len as u32));
        let (src, dstb) = if a_to_b {
            (&self.a_buf[..len], &self.b_buf[BIG..BIG + len])
        } else {
            (&self.b_buf[..len], &self.a_buf[BIG..BIG + len])
        };
        assert_eq!(src, dstb, "SEND data");
        data_packets(cap, mark)
    }

    /// WRITE `len` bytes of A's buffer into B's second half; returns A's
    /// data packets.
    fn write(&mut self, len: usize, ctx: usize) -> Vec<(u8, usize)> {
        let mark = payloads(&self.from_a).len();
        let s = sge(self.a_addr(), len as u32, mr_token(self.a_mr, false));
        let va = self.b_addr() + BIG as u64;
        let st = rdma(self.a.qp, false, ctx, s, va, mr_token(self.b_mr, true));
        assert_eq!(st, STATUS_SUCCESS);
        self.net.run();
        assert_eq!(one(self.a.cq), (ctx, STATUS_SUCCESS, 0));
        assert_eq!(self.a_buf[..len], self.b_buf[BIG..BIG + len], "WRITE data");
        data_packets(&self.from_a, mark)
    }

    /// READ `len` bytes of B's first half into A's second half; returns B's
    /// response packets.
    fn read(&mut self, len: usize, ctx: usize) -> Vec<(u8, usize)> {
        let mark = payloads(&self.from_b).len();
        let s = sge(
            self.a_addr() + BIG as u64,
            len as u32,
            mr_token(self.a_mr, false),
        );
        let st = rdma(
            self.a.qp,
            true,
            ctx,
            s,
            self.b_addr(),
            mr_token(self.b_mr, true),
        );
        assert_eq!(st, STATUS_SUCCESS);
        self.net.run();
        assert_eq!(one(self.a.cq), (ctx, STATUS_SUCCESS, 0));
        assert_eq!(self.b_buf[..len], self.a_buf[BIG..BIG + len], "READ data");
        data_packets(&self.from_b, mark)
    }

    /// Every operation both ways at the lengths around `mtu`'s boundaries.
    fn exercise(&mut self, mtu: usize) {
        let mut ctx = 100;
        for len in [1, mtu - 1, mtu, mtu + 1, 2 * mtu, 3 * mtu + 7, BIG] {
            let p = self.send(true, len, ctx);
            assert_segmented(&p, len, mtu, "SEND A->B");
            let p = self.send(false, len, ctx + 2);
            assert_segmented(&p, len, mtu, "SEND B->A");
            let p = self.write(len, ctx + 4);
            assert_segmented(&p, len, mtu, "WRITE A->B");
            let p = self.read(len, ctx + 5);
            assert_segmented(&p, len, mtu, "READ responses B->A");
            ctx += 10;
        }
        let st = (self.a.stats(), self.b.stats());
        assert_eq!((st.0.rx_malformed, st.1.rx_malformed), (0, 0));
        assert_eq!((st.0.rx_bad_icrc, st.1.rx_bad_icrc), (0, 0));
    }

    fn finish(self) {
        let Pair {
            net,
            a,
            b,
            conns,
            l,
            a_mr,
            b_mr,
            ..
        } = self;
        assert_eq!(a.disconnect(conns[0], 40), STATUS_PENDING);
        net.run();
        for c in conns {
            assert_eq!(close_obj(c, None), STATUS_SUCCESS);
        }
        for mr in [a_mr, b_mr] {
            assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
        }
        assert_eq!(close_obj(l, None), STATUS_SUCCESS);
        net.advance(TIMEWAIT);
        for s in [&a, &b] {
            s.close_objects();
        }
        net.finish();
    }
}

#[test]
fn every_path_mtu_segments_send_write_and_read_both_ways() {
    for (i, (bytes, ib)) in [(256, 1), (512, 2), (1024, 3), (2048, 4), (4096, 5)]
        .into_iter()
        .enumerate()
    {
        let mut pair = connected(40 + i as u64, bytes, bytes);
        assert_eq!(req_mtu(&pair.from_a), ib, "the REQ asks for our MTU");
        pair.exercise(bytes as usize);
        pair.finish();
    }
}

#[test]
fn a_1024_connector_and_a_4096_listener_run_at_1024() {
    let mut pair = connected(50, 1024, 4096);
    assert_eq!(req_mtu(&pair.from_a), 3);
    // The listener's own setting stays 4096 (for other connections).
    assert_eq!(unsafe { softroce_roce_mtu(pair.b.adapter) }, 4096);
    pair.exercise(1024);
    pair.finish();
}

/// Posts a SEND of `len` bytes from `tx` (the receiver posted a receive)
/// that the receiver must refuse; returns (sender's data packets, the
/// receiver's NAK codes). The SEND completes with an error and nothing is
/// delivered.
fn refused_send(pair: &mut Pair, a_to_b: bool, len: u32) -> (Vec<(u8, usize)>, Vec<NakCode>) {
    let (tx, rx) = if a_to_b {
        (&pair.a, &pair.b)
    } else {
        (&pair.b, &pair.a)
    };
    let (tx_cap, rx_cap) = if a_to_b {
        (&pair.from_a, &pair.from_b)
    } else {
        (&pair.from_b, &pair.from_a)
    };
    let (tx_addr, tx_mr, rx_addr, rx_mr) = if a_to_b {
        (pair.a_addr(), pair.a_mr, pair.b_addr(), pair.b_mr)
    } else {
        (pair.b_addr(), pair.b_mr, pair.a_addr(), pair.a_mr)
    };
    let (mark_tx, mark_rx) = (payloads(tx_cap).len(), payloads(rx_cap).len());
    let r = sge(rx_addr + BIG as u64, BIG as u32, mr_token(rx_mr, false));
    assert_eq!(receive(rx.qp, 301, &[r]), STATUS_SUCCESS);
    let s = sge(tx_addr, len, mr_token(tx_mr, false));
    assert_eq!(post_send(tx.qp, 300, &[s]), STATUS_SUCCESS);
    pair.net.run();
    let (ctx, status, _) = one(tx.cq);
    assert_eq!(ctx, 300);
    assert_ne!(status, STATUS_SUCCESS, "the refused SEND fails");
    for r in results_ex(rx.cq, 8) {
        assert_ne!(r.Status, STATUS_SUCCESS, "nothing delivered: {r:?}");
    }
    (data_packets(tx_cap, mark_tx), naks(rx_cap, mark_rx))
}

#[test]
fn a_4096_req_to_a_1024_listener_is_accepted_at_1024() {
    let mut pair = connected(51, 4096, 1024);
    assert_eq!(req_mtu(&pair.from_a), 5, "the REQ asks for 4096");
    // What fits one packet at both MTUs goes through both ways.
    let p = pair.send(true, 1024, 200);
    assert_segmented(&p, 1024, 1024, "SEND A->B");
    let p = pair.send(false, 1024, 210);
    assert_segmented(&p, 1024, 1024, "SEND B->A");
    let p = pair.read(1024, 220);
    assert_segmented(&p, 1024, 1024, "READ responses B->A");
    // The passive side runs at min(REQ, ours) = 1024: B segments 2000
    // bytes at 1024. A runs at its own 4096 (IB CM's REP carries no MTU),
    // so that FIRST is not a full A-MTU: A NAKs Invalid Request
    // (ROCE-FACTS 1.6, as rxe's check_length).
    let (sent, naks) = refused_send(&mut pair, false, 2000);
    assert_eq!(
        sent.first(),
        Some(&(0x00, 1024)),
        "B's SEND_FIRST: {sent:?}"
    );
    assert!(sent.iter().all(|p| p.1 <= 1024), "{sent:?}");
    assert_eq!(naks, vec![NakCode::InvalidRequest]);
    pair.finish();
    // And the other way: A's 3000-byte SEND_ONLY is larger than B's MTU.
    let mut pair = connected(54, 4096, 1024);
    let (sent, naks) = refused_send(&mut pair, true, 3000);
    assert_eq!(sent, vec![(0x04, 3000)], "A sends at 4096");
    assert_eq!(naks, vec![NakCode::InvalidRequest]);
    pair.finish();
}

#[test]
fn the_knob_refuses_what_is_not_an_ib_mtu() {
    let mut net = Net::new(52);
    let a = net.adapter("10.9.0.1");
    assert_eq!(unsafe { softroce_roce_mtu(a.adapter) }, 1024, "the default");
    for bad in [0, 128, 1000, 1500, 3000, 4097, 9000, u32::MAX] {
        let mut out = 7;
        let s = unsafe { softroce_set_roce_mtu(a.adapter, bad, &mut out) };
        assert_eq!(s, STATUS_INVALID_PARAMETER, "{bad}");
        assert_eq!(out, 7, "nothing written for {bad}");
        assert_eq!(unsafe { softroce_roce_mtu(a.adapter) }, 1024);
    }
    let s = unsafe { softroce_set_roce_mtu(std::ptr::null_mut(), 1024, std::ptr::null_mut()) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    assert_eq!(unsafe { softroce_roce_mtu(std::ptr::null_mut()) }, 0);
    assert_eq!(set_mtu(&a, 2048), 2048);
    assert_eq!(unsafe { softroce_roce_mtu(a.adapter) }, 2048);
    a.close_objects();
    net.finish();
}

#[test]
fn the_link_caps_the_setting() {
    let mut net = Net::new(53);
    // A link of IP MTU 1500: at most 1024 (rxe's rule).
    net.sim.set_ip_mtu(Some(1500));
    let a = net.adapter("10.9.0.1");
    assert_eq!(set_mtu(&a, 4096), 1024);
    assert_eq!(set_mtu(&a, 512), 512);
    a.close_objects();
    net.finish();
}
