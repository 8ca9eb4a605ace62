//! Data over a real connection: two hosted adapters on one SimNet connect
//! through the NDK connector verbs (IB CM REQ/REP/RTU over QP1), then move
//! data with NdkSend, NdkWrite and NdkRead through the RC data path, checked
//! byte for byte and completion by completion, on IPv4 and IPv6. Proves the
//! connection manager hands each QP the right peer, QPNs and PSNs, and that
//! the runtime's carrier, ICRC and demux carry RC traffic both ways.

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use softroce::wire::cm::{CmMad, CmMessage};
use softroce::wire::{Opcode, PacketRepr};

use ndk_common::*;
use ndk_conn_common::*;

/// Past the CM's timewait.
const TIMEWAIT: Duration = Duration::from_secs(5);

fn rdma(
    qp: *mut NDK_QP,
    read: bool,
    ctx: usize,
    sges: &[NDK_SGE],
    va: u64,
    token: u32,
) -> NtStatus {
    let d = qp_d(qp);
    let f = if read { d.NdkRead } else { d.NdkWrite };
    unsafe {
        f(
            qp,
            ctx as *mut std::ffi::c_void,
            sges.as_ptr(),
            sges.len() as u32,
            va,
            token,
            0,
        )
    }
}

/// The Starting PSN of the first REQ or REP in `packets`.
fn starting_psn(packets: &[Vec<u8>], rep: bool) -> u32 {
    packets
        .iter()
        .filter_map(|p| PacketRepr::parse(p).ok())
        .filter(|p| p.bth.dest_qp == 1)
        .find_map(|p| match CmMad::parse_bytes(p.payload).ok()?.message {
            CmMessage::Req(r) if !rep => Some(r.starting_psn),
            CmMessage::Rep(r) if rep => Some(r.starting_psn),
            _ => None,
        })
        .expect("the CM message was captured")
}

/// The PSN of the first request packet (SEND, WRITE or READ request; not
/// an ACK or a READ response, which carry the peer's PSNs) to an RC QP.
fn first_request_psn(packets: &[Vec<u8>]) -> u32 {
    packets
        .iter()
        .filter_map(|p| PacketRepr::parse(p).ok())
        .find(|p| {
            let op = p.bth.opcode;
            p.bth.dest_qp != 1
                && (op.is_send() || op.is_write() || op == Opcode::RC_RDMA_READ_REQUEST)
        })
        .map(|p| p.bth.psn)
        .expect("a data packet was captured")
}

/// One result: (request context, status, bytes, type).
fn one(cq: *mut NDK_CQ) -> (usize, NtStatus, u32, u32) {
    let r = results_ex(cq, 8);
    assert_eq!(r.len(), 1, "exactly one completion: {r:?}");
    let r = r[0];
    (
        r.RequestContext as usize,
        r.Status,
        r.BytesTransferred,
        r.Type,
    )
}

fn data_over_a_connection(a_ip: &str, b_ip: &str) {
    let mut net = Net::new(23);
    let a = net.adapter(a_ip);
    let b = net.adapter(b_ip);
    let (l, bound) = b.listen(1, 0);
    let from_a = capture(&net, Some(a.ip));
    let from_b = capture(&net, Some(b.ip));

    // Memory on both sides: A's send source and read sink, B's receive
    // buffer and a region A writes into and reads back from.
    let rw = NDK_MR_FLAG_ALLOW_LOCAL_WRITE
        | NDK_MR_FLAG_ALLOW_REMOTE_READ
        | NDK_MR_FLAG_ALLOW_REMOTE_WRITE;
    let mut a_src: Vec<u8> = (0..3000u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut a_sink = vec![0u8; 3000];
    let mut b_recv = vec![0u8; 4096];
    let mut b_region = vec![0u8; 8192];
    let (a_src_mr, _m1) = registered_mr(a.pd, &mut a_src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (a_sink_mr, _m2) = registered_mr(a.pd, &mut a_sink, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (b_recv_mr, _m3) = registered_mr(b.pd, &mut b_recv, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (b_region_mr, _m4) = registered_mr(b.pd, &mut b_region, rw);
    let src_addr = a_src.as_ptr() as u64;
    let sink_addr = a_sink.as_ptr() as u64;
    let region_addr = b_region.as_ptr() as u64;

    // B posts its receive before accepting (as SMB Direct does).
    let recv_sge = sge(b_recv.as_ptr() as u64, 4096, mr_token(b_recv_mr, false));
    assert_eq!(receive(b.qp, 500, &[recv_sge]), STATUS_SUCCESS);

    // Connect, accept, complete.
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

    // SEND A -> B: 3000 bytes over a 1024-byte path MTU (FIRST/MIDDLE/LAST).
    let src_sge = sge(src_addr, 3000, mr_token(a_src_mr, false));
    assert_eq!(post_send(a.qp, 1, &[src_sge]), STATUS_SUCCESS);
    net.run();
    assert_eq!(one(a.cq), (1, STATUS_SUCCESS, 0, NdkOperationTypeSend));
    assert_eq!(
        one(b.cq),
        (500, STATUS_SUCCESS, 3000, NdkOperationTypeReceive)
    );
    assert_eq!(&b_recv[..3000], &a_src[..]);

    // WRITE A -> B's region at offset 100, then READ it back into A's sink.
    let remote = mr_token(b_region_mr, true);
    assert_eq!(
        rdma(a.qp, false, 2, &[src_sge], region_addr + 100, remote),
        STATUS_SUCCESS
    );
    net.run();
    assert_eq!(one(a.cq), (2, STATUS_SUCCESS, 0, NdkOperationTypeWrite));
    assert_eq!(&b_region[100..3100], &a_src[..]);
    assert!(
        b_region[..100].iter().all(|&x| x == 0),
        "nothing before the target"
    );
    assert!(
        results_ex(b.cq, 4).is_empty(),
        "a WRITE completes nothing at the target"
    );
    let sink_sge = sge(sink_addr, 3000, mr_token(a_sink_mr, false));
    assert_eq!(
        rdma(a.qp, true, 3, &[sink_sge], region_addr + 100, remote),
        STATUS_SUCCESS
    );
    net.run();
    assert_eq!(one(a.cq), (3, STATUS_SUCCESS, 0, NdkOperationTypeRead));
    assert_eq!(a_sink, a_src);

    // And back: SEND B -> A into a receive A posts now.
    a_sink.fill(0);
    assert_eq!(receive(a.qp, 600, &[sink_sge]), STATUS_SUCCESS);
    let back = sge(region_addr + 100, 1500, mr_token(b_region_mr, false));
    assert_eq!(post_send(b.qp, 4, &[back]), STATUS_SUCCESS);
    net.run();
    assert_eq!(one(b.cq), (4, STATUS_SUCCESS, 0, NdkOperationTypeSend));
    assert_eq!(
        one(a.cq),
        (600, STATUS_SUCCESS, 1500, NdkOperationTypeReceive)
    );
    assert_eq!(&a_sink[..1500], &a_src[..1500]);

    // On the wire, as rxe does it: the Starting PSN a side puts in its
    // REQ/REP is the PSN it expects to receive, so each side's first data
    // packet carries the peer's Starting PSN.
    let (from_a, from_b) = (payloads(&from_a), payloads(&from_b));
    assert_eq!(first_request_psn(&from_a), starting_psn(&from_b, true));
    assert_eq!(first_request_psn(&from_b), starting_psn(&from_a, false));

    // A stranger cannot talk to B's connected QP: same QPN, right ICRC,
    // wrong source address.
    let st = b.stats();
    assert!(st.rx_for_qp > 0 && st.tx_packets > 0);
    assert_eq!(
        (st.rx_bad_icrc, st.rx_malformed, st.rx_wrong_peer),
        (0, 0, 0)
    );
    assert!(
        a.stats().tx_packets >= 7, // 3 SEND + 3 WRITE packets + 1 READ request
        "every data packet left through the carrier"
    );

    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    for conn in [c, p] {
        assert_eq!(close_obj(conn, None), STATUS_SUCCESS);
    }
    for mr in [a_src_mr, a_sink_mr, b_recv_mr, b_region_mr] {
        assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

#[test]
fn send_write_read_over_a_cm_connection_ipv4() {
    data_over_a_connection("192.0.2.1", "192.0.2.2");
}

#[test]
fn send_write_read_over_a_cm_connection_ipv6() {
    data_over_a_connection("2001:db8::1", "2001:db8::2");
}
