//! Connection handshakes under loss, on a SimNet with the virtual clock:
//! each handshake message (REQ, REP, RTU, DREQ, DREP) lost once and
//! recovered by the CM's retries; a DREQ never answered (NdkDisconnect
//! IO_TIMEOUT); and 1,000 connect/accept/disconnect cycles that leave no
//! object, port, connection or timer behind.

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;

const GIVE_UP: Duration = Duration::from_secs(80);

/// Advances time a second at a time until `done` holds (at most `limit`).
fn until(net: &Net, limit: Duration, done: impl Fn() -> bool) {
    net.run();
    let mut t = Duration::ZERO;
    while !done() {
        assert!(t < limit, "not done after {limit:?}");
        net.advance(Duration::from_secs(1));
        t += Duration::from_secs(1);
    }
}

/// One full cycle A -> B on `at`: connect, accept, complete, disconnect
/// (by A), close both connectors. Tags start at `tag`.
fn cycle(net: &Net, a: &Side, b: &Side, listener_tag: usize, at: SocketAddr, tag: usize) {
    let c = a.connector();
    let before = b.delivered(listener_tag).len();
    assert_eq!(a.connect(c, at, b"hi", tag), STATUS_PENDING);
    until(net, Duration::from_secs(20), || {
        b.delivered(listener_tag).len() > before
    });
    let p = b.delivered(listener_tag)[before];
    let (s, _, _, _, data) = b.connection_data(p, 56);
    assert_eq!(s, STATUS_SUCCESS);
    assert_eq!(&data[..2], b"hi");
    assert_eq!(b.accept_on(p, b.qp, 4, 4, b"ok", tag + 1), STATUS_PENDING);
    until(net, Duration::from_secs(20), || {
        !a.completions(tag).is_empty()
    });
    assert_eq!(a.completions(tag), vec![STATUS_SUCCESS]);
    assert_eq!(a.complete(c, tag + 3), STATUS_SUCCESS);
    until(net, Duration::from_secs(20), || {
        !b.completions(tag + 1).is_empty()
    });
    assert_eq!(b.completions(tag + 1), vec![STATUS_SUCCESS]);
    assert_eq!(a.disconnect(c, tag + 5), STATUS_PENDING);
    until(net, Duration::from_secs(20), || {
        !a.completions(tag + 5).is_empty()
    });
    assert_eq!(a.completions(tag + 5), vec![STATUS_SUCCESS]);
    assert_eq!(b.calls(tag + 2).len(), 1, "one DisconnectEventEx at B");
    assert!(
        a.calls(tag + 4).is_empty(),
        "no DisconnectEvent for our own disconnect"
    );
    assert_eq!(close_obj(c, None), STATUS_SUCCESS);
    assert_eq!(close_obj(p, None), STATUS_SUCCESS);
}

fn lose_once(seed: u64, from_b: bool, attr_id: u16) {
    let mut net = Net::new(seed);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let from = if from_b { b.ip } else { a.ip };
    let f = net.sim.drop_nth(
        Some(from),
        None,
        1,
        Box::new(move |_, _, p| cm_attr(p) == Some(attr_id)),
    );
    cycle(&net, &a, &b, 1, at, 10);
    assert!(net.sim.filter_hit(f) >= 1, "the message was sent and lost");
    assert_eq!(net.sim.stats().filtered, 1);
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(GIVE_UP);
    for s in [&a, &b] {
        let st = s.stats();
        assert_eq!(
            (st.cm_connections, st.cm_endpoints, st.timer_armed),
            (0, 0, false),
            "{st:?}"
        );
        s.close_objects();
    }
    net.finish();
}

#[test]
fn lost_req_is_retried() {
    lose_once(31, false, attr::REQ);
}

#[test]
fn lost_rep_is_retried() {
    lose_once(32, true, attr::REP);
}

#[test]
fn lost_rtu_is_recovered_by_the_rep_retry() {
    lose_once(33, false, attr::RTU);
}

#[test]
fn lost_dreq_is_retried() {
    lose_once(34, false, attr::DREQ);
}

#[test]
fn lost_drep_is_recovered_by_the_dreq_retry() {
    lose_once(35, true, attr::DREP);
}

#[test]
fn unanswered_disconnect_times_out_and_still_flushes() {
    let mut net = Net::new(36);
    let a = net.adapter("2001:db8::1");
    let b = net.adapter("2001:db8::2");
    let (l, at) = b.listen(1, 7000);
    let (c, p) = establish(&net, &a, &b, at);
    // Every DREQ from A is lost from now on.
    for n in 1..=16 {
        net.sim.drop_nth(
            Some(a.ip),
            None,
            n,
            Box::new(|_, _, p| cm_attr(p) == Some(attr::DREQ)),
        );
    }
    let mut buf = vec![0u8; 32];
    let (mr, _mdl) = registered_mr(a.pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    assert_eq!(
        receive(a.qp, 5, &[sge(buf.as_ptr() as u64, 32, token)]),
        STATUS_SUCCESS
    );
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.advance(Duration::from_secs(60));
    assert!(a.completions(40).is_empty());
    assert!(
        results_ex(a.cq, 2).is_empty(),
        "not flushed while the DREQ is retried"
    );
    net.advance(Duration::from_secs(10));
    assert_eq!(a.completions(40), vec![STATUS_IO_TIMEOUT]);
    let r = results_ex(a.cq, 2);
    assert_eq!(r.len(), 1);
    assert_eq!(
        (r[0].Status, r[0].RequestContext as usize),
        (STATUS_CANCELLED, 5)
    );
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    assert!(b.calls(21).is_empty(), "B never heard of it");
    for x in [c, p] {
        assert_eq!(close_obj(x, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(GIVE_UP * 2);
    for s in [&a, &b] {
        assert_eq!(s.stats().cm_connections, 0);
        s.close_objects();
    }
    net.finish();
}

#[test]
fn a_thousand_cycles_leave_nothing_behind() {
    let mut net = Net::new(37);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let objects = net.pool_objects();
    let bytes = net.pool_bytes();
    for i in 0..1000 {
        // Tags 10.. are reused: each cycle checks only its own.
        let tag = 10 + (i % 2) * 10;
        a.log_reset();
        b.log_reset_keep(1);
        cycle(&net, &a, &b, 1, at, tag);
        if i % 50 == 49 {
            net.advance(Duration::from_secs(5));
        }
    }
    net.advance(Duration::from_secs(10));
    assert_eq!(net.pool_objects(), objects, "no object leaked");
    assert_eq!(net.pool_bytes(), bytes, "no bytes leaked");
    for s in [&a, &b] {
        let st = s.stats();
        assert_eq!(st.cm_connections, 0, "no connection left in timewait");
        assert!(!st.timer_armed, "no timer left armed");
        assert_eq!(st.cm_dropped_events, 0);
    }
    assert_eq!(b.stats().cm_endpoints, 1, "only the listener's port");
    assert_eq!(a.stats().cm_endpoints, 0, "every active port released");
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

#[test]
fn first_traffic_establishes_when_every_rtu_is_lost() {
    use softroce::wire::{BthRepr, Opcode, PacketRepr};
    let mut net = Net::new(38);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    for n in 1..=16 {
        net.sim.drop_nth(
            Some(a.ip),
            None,
            n,
            Box::new(|_, _, p| cm_attr(p) == Some(attr::RTU)),
        );
    }
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert!(b.completions(20).is_empty(), "the RTU was lost");
    // A's first SEND reaches B's QP (QPN 0x11, B's first QP): B's accept
    // completes as the RTU would have made it.
    let bth = BthRepr {
        opcode: Opcode::RC_SEND_ONLY,
        solicited: false,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: 0xFFFF,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp: 0x11,
        ack_req: true,
        resv7: 0,
        psn: 1,
    };
    let repr = PacketRepr::new(bth, b"data");
    let packet_from = |src: [u8; 4]| roce_v4(src, [192, 0, 2, 2], &repr);
    let b_addr: SocketAddr = "192.0.2.2:4791".parse().unwrap();
    // From someone else first (valid ICRC): dropped as not from the QP's
    // peer (as rxe checks the address vector); it does not establish the
    // connection.
    net.sim.inject(
        "192.0.2.7:4791".parse().unwrap(),
        b_addr,
        &packet_from([192, 0, 2, 7]),
    );
    net.run();
    assert_eq!(b.stats().rx_for_qp, 0);
    assert_eq!(b.stats().rx_wrong_peer, 1);
    assert!(
        b.completions(20).is_empty(),
        "only the peer's traffic counts"
    );
    net.sim.inject(
        "192.0.2.1:4791".parse().unwrap(),
        b_addr,
        &packet_from([192, 0, 2, 1]),
    );
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    assert_eq!(b.stats().rx_for_qp, 1);
    assert_eq!(b.stats().rx_wrong_peer, 1);
    assert_eq!(b.stats().rx_bad_icrc, 0);
    for x in [c, p] {
        assert_eq!(close_obj(x, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(GIVE_UP);
    for s in [&a, &b] {
        assert_eq!(s.stats().cm_connections, 0);
        s.close_objects();
    }
    net.finish();
}

#[test]
fn a_slow_passive_consumer_is_covered_by_mra() {
    let mut net = Net::new(39);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let mras = net.sim.drop_nth(
        Some(b.ip),
        None,
        u64::MAX,
        Box::new(|_, _, p| cm_attr(p) == Some(attr::MRA)),
    );
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    // B's consumer takes 75 s to answer, longer than A's REQ retries last
    // (68.7 s): the repeated REQs get MRAs and A keeps waiting.
    net.advance(Duration::from_secs(75));
    assert!(net.sim.filter_hit(mras) >= 1, "B sent MRA");
    assert!(a.completions(10).is_empty());
    assert_eq!(
        b.delivered(1).len(),
        1,
        "a repeated REQ is not a new request"
    );
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    for x in [c, p] {
        assert_eq!(close_obj(x, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(GIVE_UP);
    for s in [&a, &b] {
        assert_eq!(s.stats().cm_connections, 0);
        s.close_objects();
    }
    net.finish();
}
