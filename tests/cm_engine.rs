//! Two CM engines joined by a deterministic link with a virtual clock:
//! handshakes both families, rejects, refusals, loss and retries, timeouts,
//! duplicates, ports, backlog, close mid-connect and long cycling.

mod cm_link;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use cm_link::*;
use softroce::cm::{
    cm_timeout, Cancelled, CmError, CmEvent, ConnId, ConnectReply, ConnectRequest,
    DisconnectStarted, ListenerClose, LocalEndpoint, PortError, State,
};
use softroce::wire::cm::{CmMad, CmMessage, RejReason};
use softroce::wire::mad::attr;

/// A link whose B listens on B4:PORT.
fn listening() -> Link {
    let mut l = Link::new();
    l.b.listen(B4, PORT, 8).unwrap();
    l
}

/// A dials B; B reports the request.
fn requested(l: &mut Link) -> (ConnId, ConnectRequest) {
    let a = l.dial();
    l.pump();
    (a, expect_request(l))
}

fn expect_request(l: &mut Link) -> ConnectRequest {
    match l.take_b() {
        Some(CmEvent::ConnectRequest(r)) => r,
        other => panic!("expected ConnectRequest, got {other:?}"),
    }
}

fn expect_reply(l: &mut Link) -> ConnectReply {
    match l.take_a() {
        Some(CmEvent::ConnectReply(r)) => r,
        other => panic!("expected ConnectReply, got {other:?}"),
    }
}

/// A full connect (A) / accept (B) / RTU; returns (A's conn, B's conn).
fn establish(l: &mut Link, local: IpAddr, remote: IpAddr) -> (ConnId, ConnId) {
    let now = l.now;
    let a =
        l.a.connect(
            now,
            &params(
                SocketAddr::new(local, 0),
                SocketAddr::new(remote, PORT),
                b"",
            ),
        )
        .unwrap();
    l.pump();
    let req = expect_request(l);
    l.b.accept(now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    let rep = expect_reply(l);
    assert_eq!(rep.conn, a);
    l.a.complete_connect(a).unwrap();
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Established { conn: req.conn }));
    (a, req.conn)
}

fn handshake_with_data(local: IpAddr, remote: IpAddr) {
    let mut l = Link::new();
    let (listener, port) = l.b.listen(remote, PORT, 8).unwrap();
    assert_eq!(port, PORT);
    let now = l.now;
    let mut p = params(
        SocketAddr::new(local, 0),
        SocketAddr::new(remote, PORT),
        b"hello from A",
    );
    p.inbound_read_limit = 4;
    p.outbound_read_limit = 2;
    let a = l.a.connect(now, &p).unwrap();
    let (a_local, _) = l.a.conn_addrs(a).unwrap();
    assert!(a_local.port() >= 49152, "ephemeral port {a_local}");
    l.pump();

    let req = expect_request(&mut l);
    assert_eq!(req.listener, listener);
    assert_eq!(req.local, SocketAddr::new(remote, PORT));
    assert_eq!(
        req.remote, a_local,
        "peer address and source port from the CMA header"
    );
    assert_eq!(&req.private_data.as_slice()[..12], b"hello from A");
    assert_eq!(req.private_data.as_slice().len(), 56);
    // Swapped: A's outbound (2) bounds B's inbound, A's inbound (4) B's outbound.
    assert_eq!((req.inbound_read_limit, req.outbound_read_limit), (2, 4));
    assert_eq!(
        (req.remote_qpn, req.send_psn, req.path_mtu),
        (0x11, 0xdb_b97a, 3)
    );
    assert_eq!((req.retry_count, req.rnr_retry_count), (7, 7));
    assert_eq!(l.a.conn_state(a), Some(State::ReqSent));

    let limits =
        l.b.accept(now, req.conn, &accept_params(b"hello from B"))
            .unwrap();
    assert_eq!(limits, (2, 4));
    l.pump();
    let rep = expect_reply(&mut l);
    assert_eq!(rep.conn, a);
    assert_eq!((rep.remote_qpn, rep.send_psn), (0x22, 0x7b_2b28));
    assert_eq!((rep.inbound_read_limit, rep.outbound_read_limit), (4, 2));
    assert_eq!(&rep.private_data.as_slice()[..12], b"hello from B");
    let (pd, ird, ord) = l.a.connection_data(a).unwrap();
    assert_eq!(
        (&pd.as_slice()[..12], ird, ord),
        (&b"hello from B"[..], 4, 2)
    );
    assert_eq!(l.take_b(), None, "no Established before the RTU");

    l.a.complete_connect(a).unwrap();
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Established { conn: req.conn }));
    assert_eq!(l.a.conn_state(a), Some(State::Established));
    assert_eq!(l.b.conn_state(req.conn), Some(State::Established));

    // Disconnect from A: B is told once, A's disconnect completes.
    assert_eq!(l.a.disconnect(l.now, a), Ok(DisconnectStarted::Pending));
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Disconnected { conn: req.conn }));
    assert_eq!(
        l.take_a(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: false
        })
    );
    assert_eq!(
        l.b.disconnect(l.now, req.conn),
        Ok(DisconnectStarted::AlreadyDisconnected)
    );
    assert_eq!(l.take_a(), None);
    assert_eq!(l.take_b(), None);
}

#[test]
fn connect_accept_ipv4() {
    handshake_with_data(A4, B4);
}

#[test]
fn connect_accept_ipv6() {
    handshake_with_data(A6, B6);
}

#[test]
fn reject_carries_private_data() {
    let mut l = listening();
    let a =
        l.a.connect(
            l.now,
            &params(SocketAddr::new(A4, 0), SocketAddr::new(B4, PORT), b"x"),
        )
        .unwrap();
    l.pump();
    let req = expect_request(&mut l);
    l.b.reject(req.conn, b"go away").unwrap();
    l.pump();
    match l.take_a() {
        Some(CmEvent::ConnectRejected {
            conn,
            reason,
            private_data,
        }) => {
            assert_eq!(conn, a);
            assert_eq!(reason, RejReason::ConsumerDefined);
            assert_eq!(&private_data.as_slice()[..7], b"go away");
            assert_eq!(private_data.as_slice().len(), 148);
        }
        other => panic!("{other:?}"),
    }
    let (pd, _, _) = l.a.connection_data(a).unwrap();
    assert_eq!(&pd.as_slice()[..7], b"go away");
    // A rejected connector can no longer be accepted or completed.
    assert_eq!(
        l.b.accept(l.now, req.conn, &accept_params(b"")),
        Err(CmError::InvalidState)
    );
    assert_eq!(l.a.complete_connect(a), Err(CmError::InvalidState));
}

fn expect_refused(l: &mut Link, a: ConnId, want: RejReason) {
    match l.take_a() {
        Some(CmEvent::ConnectRejected { conn, reason, .. }) => {
            assert_eq!((conn, reason), (a, want));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.take_b(), None, "the passive side reports nothing");
}

#[test]
fn no_listener_is_rej_8() {
    let mut l = Link::new();
    let a = l.dial();
    l.pump();
    expect_refused(&mut l, a, RejReason::InvalidServiceId);
    // The REJ is one message; nothing is retried afterwards.
    assert_eq!(l.sent(Peer::B, attr::REJ), 1);
    l.run_for(Duration::from_secs(600));
    assert_eq!(l.sent(Peer::A, attr::REQ), 1);
}

#[test]
fn listener_on_another_address_or_port_is_rej_8() {
    let mut l = Link::new();
    // Bound to B6 only: an IPv4 REQ does not match; nor does another port.
    l.b.listen(B6, PORT, 8).unwrap();
    l.b.listen(B4, PORT + 1, 8).unwrap();
    let a = l.dial();
    l.pump();
    expect_refused(&mut l, a, RejReason::InvalidServiceId);
}

#[test]
fn wildcard_listener_matches_its_family() {
    let mut l = Link::new();
    l.b.listen(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), PORT, 8)
        .unwrap();
    let now = l.now;
    l.dial();
    let a6 =
        l.a.connect(
            now,
            &params(SocketAddr::new(A6, 0), SocketAddr::new(B6, PORT), b""),
        )
        .unwrap();
    l.pump();
    let req = expect_request(&mut l);
    assert_eq!(req.local, SocketAddr::new(B4, PORT));
    expect_refused(&mut l, a6, RejReason::InvalidServiceId);
}

#[test]
fn paused_listener_refuses_until_resumed() {
    let mut l = Link::new();
    let (lid, _) = l.b.listen(B4, PORT, 8).unwrap();
    l.b.pause_listener(lid, true).unwrap();
    let a = l.dial();
    l.pump();
    expect_refused(&mut l, a, RejReason::InvalidServiceId);
    l.b.pause_listener(lid, false).unwrap();
    l.dial();
    l.pump();
    expect_request(&mut l);
}

#[test]
fn closed_listener_refuses_and_releases_its_port() {
    let mut l = Link::new();
    let (lid, _) = l.b.listen(B4, PORT, 8).unwrap();
    assert_eq!(l.b.close_listener(lid), Ok(ListenerClose::Closed));
    let a = l.dial();
    l.pump();
    expect_refused(&mut l, a, RejReason::InvalidServiceId);
    l.b.listen(B4, PORT, 8).unwrap();
}

#[test]
fn listener_close_waits_for_its_connectors() {
    let mut l = Link::new();
    let (lid, _) = l.b.listen(B4, PORT, 8).unwrap();
    let (_, b) = establish(&mut l, A4, B4);
    assert_eq!(l.b.close_listener(lid), Ok(ListenerClose::Pending));
    assert_eq!(l.b.pause_listener(lid, true), Err(CmError::InvalidHandle));
    l.b.close_conn(l.now, b).unwrap();
    l.pump();
    assert!(l
        .events_b
        .contains(&CmEvent::ListenerClosed { listener: lid }));
}

// ----- loss and retries ----------------------------------------------------

/// Drops the first `n` messages of `attr` from `from`, then runs a whole
/// connect/accept/disconnect and checks that it still completes.
fn recovers_from_loss(from: Peer, attr_id: u16, n: u32) -> Link {
    let mut l = Link::new();
    l.drop_next(from, attr_id, n);
    l.b.listen(B4, PORT, 8).unwrap();
    let a = l.dial();
    l.pump();
    while l.events_b.is_empty() {
        assert!(l.step_timer(l.now.saturating_add(Duration::from_secs(600))));
    }
    let req = expect_request(&mut l);
    assert_eq!(l.take_b(), None, "one connection only");
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    while l.events_a.is_empty() {
        assert!(l.step_timer(l.now.saturating_add(Duration::from_secs(600))));
    }
    assert_eq!(expect_reply(&mut l).conn, a);
    l.a.complete_connect(a).unwrap();
    l.pump();
    while l.events_b.is_empty() {
        assert!(l.step_timer(l.now.saturating_add(Duration::from_secs(600))));
    }
    assert_eq!(l.take_b(), Some(CmEvent::Established { conn: req.conn }));
    l.a.disconnect(l.now, a).unwrap();
    l.pump();
    while l.events_a.is_empty() {
        assert!(l.step_timer(l.now.saturating_add(Duration::from_secs(600))));
    }
    assert_eq!(
        l.take_a(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: false
        })
    );
    assert_eq!(l.take_b(), Some(CmEvent::Disconnected { conn: req.conn }));
    assert_eq!(l.take_b(), None, "the peer's disconnect is told once");
    l
}

#[test]
fn lost_req_is_retried() {
    let l = recovers_from_loss(Peer::A, attr::REQ, 2);
    assert_eq!(l.sent(Peer::A, attr::REQ), 3);
}

#[test]
fn lost_rep_is_retried() {
    let l = recovers_from_loss(Peer::B, attr::REP, 1);
    assert!(l.sent(Peer::B, attr::REP) >= 2);
}

#[test]
fn lost_rtu_is_recovered_by_rep_retry() {
    let l = recovers_from_loss(Peer::A, attr::RTU, 1);
    // B's REP retry made A send the RTU again.
    assert_eq!(l.sent(Peer::B, attr::REP), 2);
    assert_eq!(l.sent(Peer::A, attr::RTU), 2);
}

#[test]
fn lost_dreq_is_retried() {
    let l = recovers_from_loss(Peer::A, attr::DREQ, 3);
    assert_eq!(l.sent(Peer::A, attr::DREQ), 4);
}

#[test]
fn lost_drep_is_recovered_from_timewait() {
    let l = recovers_from_loss(Peer::B, attr::DREP, 1);
    assert_eq!(l.sent(Peer::A, attr::DREQ), 2);
    assert_eq!(l.sent(Peer::B, attr::DREP), 2);
}

#[test]
fn dead_peer_times_out_the_connect_after_every_retry() {
    let mut l = Link::new();
    l.blackhole = true;
    let start = l.now;
    let a = l.dial();
    l.pump();
    l.run_for(Duration::from_secs(3600));
    assert_eq!(l.take_a(), Some(CmEvent::ConnectTimedOut { conn: a }));
    assert_eq!(l.take_a(), None);
    assert_eq!(l.sent(Peer::A, attr::REQ), 16, "1 + 15 retries");
    // The last try waited one response timeout: 16 of them in all.
    let last = l.a.conn_state(a);
    assert_eq!(last, Some(State::Done(softroce::cm::Ended::TimedOut)));
    assert_eq!(l.a.poll_timeout(), None);
    // The moment of failure: exactly 16 response timeouts after the REQ.
    let mut l2 = Link::new();
    l2.blackhole = true;
    let a2 = l2.dial();
    let almost = start.saturating_add(cm_timeout(20) * 16 - Duration::from_nanos(1));
    while l2.step_timer(almost) {}
    assert!(l2.events_a.is_empty(), "not before 16 timeouts");
    l2.now = almost;
    l2.run_for(Duration::from_nanos(1));
    assert_eq!(l2.take_a(), Some(CmEvent::ConnectTimedOut { conn: a2 }));
}

#[test]
fn lost_reps_time_out_the_accept() {
    let mut l = Link::new();
    l.drop_next(Peer::B, attr::REP, u32::MAX);
    l.b.listen(B4, PORT, 8).unwrap();
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.run_for(Duration::from_secs(3600));
    assert_eq!(l.take_b(), Some(CmEvent::AcceptTimedOut { conn: req.conn }));
    assert_eq!(l.take_b(), None);
    // The active side fails too, by its own timeout or by B's REJ(TIMEOUT).
    match l.take_a() {
        Some(CmEvent::ConnectTimedOut { conn }) => assert_eq!(conn, a),
        Some(CmEvent::ConnectRejected { conn, reason, .. }) => {
            assert_eq!((conn, reason), (a, RejReason::Timeout))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(l.next_deadline(), None);
}

#[test]
fn lost_rtus_time_out_the_accept() {
    let mut l = Link::new();
    l.drop_next(Peer::A, attr::RTU, u32::MAX);
    l.b.listen(B4, PORT, 8).unwrap();
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    expect_reply(&mut l);
    l.a.complete_connect(a).unwrap();
    l.run_for(Duration::from_secs(3600));
    assert_eq!(l.take_b(), Some(CmEvent::AcceptTimedOut { conn: req.conn }));
    assert_eq!(l.sent(Peer::B, attr::REP), 16);
    assert_eq!(l.sent(Peer::A, attr::RTU), 16, "one RTU per REP");
}

#[test]
fn lost_dreps_still_complete_the_disconnect() {
    let mut l = listening();
    let (a, b) = establish(&mut l, A4, B4);
    l.drop_next(Peer::B, attr::DREP, u32::MAX);
    l.a.disconnect(l.now, a).unwrap();
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Disconnected { conn: b }));
    l.run_for(Duration::from_secs(3600));
    assert_eq!(
        l.take_a(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: true
        })
    );
    assert_eq!(l.sent(Peer::A, attr::DREQ), 16);
    assert_eq!(l.take_b(), None, "duplicate DREQs are not reported again");
}

#[test]
fn crossed_dreqs_complete_both_disconnects() {
    let mut l = listening();
    let (a, b) = establish(&mut l, A4, B4);
    l.a.disconnect(l.now, a).unwrap();
    l.b.disconnect(l.now, b).unwrap();
    l.pump();
    assert_eq!(
        l.take_a(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: false
        })
    );
    assert_eq!(
        l.take_b(),
        Some(CmEvent::DisconnectDone {
            conn: b,
            timed_out: false
        })
    );
    assert_eq!((l.take_a(), l.take_b()), (None, None));
}

// ----- duplicates ----------------------------------------------------------

#[test]
fn duplicate_req_makes_no_second_connection() {
    let mut l = listening();
    l.dial();
    let (dst, req_mad) = l.a.poll_transmit().unwrap();
    assert_eq!(dst, B4);
    l.b.handle_mad(l.now, A4, &req_mad);
    l.b.handle_mad(l.now, A4, &req_mad);
    let first = l.b.poll_event();
    let Some(CmEvent::ConnectRequest(req)) = first else {
        panic!("{first:?}")
    };
    assert_eq!(l.b.poll_event(), None, "one ConnectRequest");
    assert_eq!(l.b.stats().connections, 1);
    // While the consumer decides, the duplicate is answered with an MRA.
    let (_, mra) = l.b.poll_transmit().unwrap();
    assert!(matches!(parse(&mra), CmMessage::Mra(_)));
    assert_eq!(l.b.poll_transmit(), None);
    // After the accept, a duplicate gets the same REP again.
    l.b.accept(l.now, req.conn, &accept_params(b"rep")).unwrap();
    let (_, rep1) = l.b.poll_transmit().unwrap();
    l.b.handle_mad(l.now, A4, &req_mad);
    let (_, rep2) = l.b.poll_transmit().unwrap();
    assert_eq!(rep1, rep2);
    assert!(matches!(parse(&rep1), CmMessage::Rep(_)));
    assert_eq!(l.b.stats().connections, 1);
}

#[test]
fn mra_delays_the_req_retry() {
    let mut l = listening();
    let start = l.now;
    let a = l.dial();
    let (_, req_mad) = l.a.poll_transmit().unwrap();
    l.b.handle_mad(start, A4, &req_mad);
    l.b.handle_mad(start, A4, &req_mad);
    let (_, mra) = l.b.poll_transmit().unwrap();
    l.a.handle_mad(start, B4, &mra);
    assert_eq!(l.a.conn_state(a), Some(State::MraReqRcvd));
    let service = cm_timeout(l.b.config().mra_service_timeout);
    assert_eq!(
        l.a.poll_timeout(),
        Some(start.saturating_add(service + cm_timeout(20)))
    );
    // A second MRA does not extend the wait again.
    l.a.handle_mad(start.saturating_add(Duration::from_secs(1)), B4, &mra);
    assert_eq!(
        l.a.poll_timeout(),
        Some(start.saturating_add(service + cm_timeout(20)))
    );
}

#[test]
fn stale_messages_get_the_linux_answers() {
    let mut l = listening();
    let (a, b) = establish(&mut l, A4, B4);
    // A REP for a comm ID A never used: REJ INVALID_COMM_ID.
    let rep = softroce::wire::cm::CmRepRepr {
        local_comm_id: 0x1234,
        remote_comm_id: a.0 ^ 0x8000_0000,
        local_qkey: 0,
        local_qpn: 5,
        vendor_id: 0,
        local_eecn: 0,
        starting_psn: 1,
        responder_resources: 1,
        initiator_depth: 1,
        target_ack_delay: 0,
        failover_accepted: 0,
        e2e_flow_control: false,
        rnr_retry_count: 7,
        srq: false,
        resv27: 0,
        local_ca_guid: 9,
        private_data: [0; 196],
    };
    let mut mad = [0u8; 256];
    CmMad::new(77, CmMessage::Rep(rep)).emit(&mut mad).unwrap();
    l.a.handle_mad(l.now, B4, &mad);
    let (to, out) = l.a.poll_transmit().unwrap();
    assert_eq!(to, B4);
    let m = CmMad::parse_bytes(&out).unwrap();
    assert_eq!(m.header.transaction_id, 77);
    match m.message {
        CmMessage::Rej(r) => {
            assert_eq!(r.reason, RejReason::InvalidCommId);
            assert_eq!(r.remote_comm_id, 0x1234);
        }
        other => panic!("{other:?}"),
    }
    // A DREQ for an unknown connection: DREP anyway (the peer's disconnect completes).
    let dreq = softroce::wire::cm::CmDreqRepr {
        local_comm_id: 0x4444,
        remote_comm_id: 0x5555,
        remote_qpn: 0x11,
        resv11: 0,
        private_data: [0; 220],
    };
    CmMad::new(78, CmMessage::Dreq(dreq))
        .emit(&mut mad)
        .unwrap();
    l.a.handle_mad(l.now, B4, &mad);
    let (_, out) = l.a.poll_transmit().unwrap();
    match parse(&out) {
        CmMessage::Drep(d) => assert_eq!((d.local_comm_id, d.remote_comm_id), (0x5555, 0x4444)),
        other => panic!("{other:?}"),
    }
    // Nothing changed for the real connections.
    assert_eq!(l.a.conn_state(a), Some(State::Established));
    assert_eq!(l.b.conn_state(b), Some(State::Established));
    assert!(l.events_a.is_empty() && l.events_b.is_empty());
    assert_eq!(l.a.poll_event(), None);
}

// ----- closing mid-connect ---------------------------------------------------

#[test]
fn closing_a_connecting_connector_cancels_and_tells_the_peer() {
    let mut l = listening();
    let (a, req) = requested(&mut l);
    assert_eq!(l.a.close_conn(l.now, a), Ok(Some(Cancelled::Connect)));
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::ConnectAborted { conn: req.conn }));
    assert_eq!(
        l.b.accept(l.now, req.conn, &accept_params(b"")),
        Err(CmError::Aborted)
    );
    assert_eq!(l.take_a(), None, "nothing after close");
    assert_eq!(l.a.close_conn(l.now, a), Err(CmError::InvalidHandle));
}

#[test]
fn closing_an_unanswered_request_rejects_it() {
    let mut l = listening();
    let (a, req) = requested(&mut l);
    assert_eq!(l.b.close_conn(l.now, req.conn), Ok(None));
    l.pump();
    expect_refused(&mut l, a, RejReason::ConsumerDefined);
}

#[test]
fn closing_during_accept_cancels_the_accept() {
    let mut l = listening();
    l.drop_next(Peer::B, attr::REP, 1);
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    assert_eq!(l.b.close_conn(l.now, req.conn), Ok(Some(Cancelled::Accept)));
    l.pump();
    match l.take_a() {
        Some(CmEvent::ConnectRejected { conn, reason, .. }) => {
            assert_eq!((conn, reason), (a, RejReason::Timeout))
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn peer_rejecting_after_rep_aborts_complete_connect() {
    let mut l = listening();
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    expect_reply(&mut l);
    // B gives up on the connector before A completes.
    l.b.close_conn(l.now, req.conn).unwrap();
    l.pump();
    assert_eq!(l.take_a(), Some(CmEvent::ConnectAborted { conn: a }));
    assert_eq!(l.a.complete_connect(a), Err(CmError::Aborted));
}

#[test]
fn active_reject_after_rep_aborts_the_accept() {
    let mut l = listening();
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    expect_reply(&mut l);
    l.a.reject(a, b"read limits too low").unwrap();
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::ConnectAborted { conn: req.conn }));
    let (pd, _, _) = l.b.connection_data(req.conn).unwrap();
    assert_eq!(&pd.as_slice()[..19], b"read limits too low");
}

// ----- ports and resources ---------------------------------------------------

#[test]
fn port_errors() {
    let mut l = Link::new();
    let now = l.now;
    let fixed = SocketAddr::new(A4, 5000);
    let remote = SocketAddr::new(B4, PORT);
    l.a.connect(now, &params(fixed, remote, b"")).unwrap();
    assert_eq!(
        l.a.connect(now, &params(fixed, SocketAddr::new(B4, 9), b"")),
        Err(CmError::Port(PortError::SharingViolation))
    );
    assert_eq!(
        l.a.listen(A4, 5000, 1),
        Err(CmError::Port(PortError::SharingViolation))
    );
    let foreign = SocketAddr::new(B4, 0);
    assert_eq!(
        l.a.connect(now, &params(foreign, remote, b"")),
        Err(CmError::Port(PortError::InvalidAddress))
    );
    assert_eq!(
        l.a.listen(B6, 1, 1),
        Err(CmError::Port(PortError::InvalidAddress))
    );
    assert_eq!(
        l.a.connect(now, &params(SocketAddr::new(A4, 0), remote, &[0; 57])),
        Err(CmError::InvalidParameter),
        "56 bytes of private data at most"
    );
    // The port comes back once the connector is closed and timewait is over.
    let (a2, port) = {
        let c =
            l.a.connect(now, &params(SocketAddr::new(A4, 5001), remote, b""))
                .unwrap();
        (c, 5001)
    };
    l.a.close_conn(now, a2).unwrap();
    assert_eq!(
        l.a.connect(now, &params(SocketAddr::new(A4, port), remote, b"")),
        Err(CmError::Port(PortError::SharingViolation)),
        "held through timewait"
    );
    l.blackhole = true;
    l.pump();
    l.run_for(l.a.config().timewait);
    l.a.connect(l.now, &params(SocketAddr::new(A4, port), remote, b""))
        .unwrap();
}

#[test]
fn shared_endpoint_refcount_and_duplicate_tuple() {
    let mut l = listening();
    l.b.listen(B4, PORT + 1, 8).unwrap();
    let (ep, port) = l.a.create_shared_endpoint(SocketAddr::new(A4, 0)).unwrap();
    let mut p = params(SocketAddr::new(A4, 0), SocketAddr::new(B4, PORT), b"");
    p.local = LocalEndpoint::Shared(ep);
    let c1 = l.a.connect(l.now, &p).unwrap();
    assert_eq!(
        l.a.connect(l.now, &p),
        Err(CmError::Port(PortError::AddressAlreadyExists))
    );
    p.remote = SocketAddr::new(B4, PORT + 1);
    let c2 = l.a.connect(l.now, &p).unwrap();
    assert_eq!(l.a.conn_addrs(c1).unwrap().0, SocketAddr::new(A4, port));
    assert_eq!(l.a.conn_addrs(c2).unwrap().0, SocketAddr::new(A4, port));
    l.pump();
    assert_eq!(l.events_b.len(), 2, "both REQs carry the shared port");
    // Closing the endpoint keeps the port while connectors use it.
    l.a.close_shared_endpoint(ep).unwrap();
    assert_eq!(
        l.a.listen(A4, port, 1),
        Err(CmError::Port(PortError::SharingViolation))
    );
    l.a.close_conn(l.now, c1).unwrap();
    l.a.close_conn(l.now, c2).unwrap();
    l.pump();
    l.run_for(l.a.config().timewait + Duration::from_secs(1));
    l.a.listen(A4, port, 1).unwrap();
}

#[test]
fn req_flood_fills_the_backlog_then_gets_no_resources() {
    let mut l = Link::new();
    l.b.listen(B4, PORT, 4).unwrap();
    let mut conns = Vec::new();
    for _ in 0..10 {
        conns.push(l.dial());
    }
    l.pump();
    let requests = l
        .events_b
        .iter()
        .filter(|e| matches!(e, CmEvent::ConnectRequest(_)))
        .count();
    assert_eq!(requests, 4);
    let refused = l
        .events_a
        .iter()
        .filter(|e| {
            matches!(
                e,
                CmEvent::ConnectRejected {
                    reason: RejReason::NoResources,
                    ..
                }
            )
        })
        .count();
    assert_eq!(refused, 6);
    assert_eq!(l.b.stats().connections, 4);
    // Answering one frees a backlog slot.
    let Some(CmEvent::ConnectRequest(r)) = l.take_b() else {
        panic!()
    };
    l.b.accept(l.now, r.conn, &accept_params(b"")).unwrap();
    l.dial();
    l.pump();
    assert!(l
        .events_b
        .iter()
        .any(|e| matches!(e, CmEvent::ConnectRequest(x) if x.conn != r.conn)));
}

#[test]
fn full_connection_table_refuses_locally_and_remotely() {
    let mut a = config(1, &[A4], 5);
    a.max_connections = 2;
    let mut b = config(2, &[B4], 6);
    b.max_connections = 1;
    let mut l = Link::with(a, b);
    l.b.listen(B4, PORT, 8).unwrap();
    let remote = SocketAddr::new(B4, PORT);
    let c1 =
        l.a.connect(l.now, &params(SocketAddr::new(A4, 0), remote, b""))
            .unwrap();
    let c2 =
        l.a.connect(l.now, &params(SocketAddr::new(A4, 0), remote, b""))
            .unwrap();
    assert_eq!(
        l.a.connect(l.now, &params(SocketAddr::new(A4, 0), remote, b"")),
        Err(CmError::NoResources)
    );
    l.pump();
    assert!(matches!(l.take_b(), Some(CmEvent::ConnectRequest(r)) if r.remote.port() != 0));
    let rejected = l.take_a();
    assert!(
        matches!(rejected, Some(CmEvent::ConnectRejected { conn, reason: RejReason::NoResources, .. }) if conn == c2 || conn == c1),
        "{rejected:?}"
    );
}

#[test]
fn thousand_cycles_leave_nothing_behind() {
    let mut l = Link::new();
    let (lid, _) = l.b.listen(B4, PORT, 8).unwrap();
    for i in 0..1000u32 {
        let (local, remote) = if i % 2 == 0 { (A4, B4) } else { (A6, B6) };
        if i % 2 == 1 && i == 1 {
            l.b.listen(B6, PORT, 8).unwrap();
        }
        let (a, b) = establish(&mut l, local, remote);
        // Alternate who disconnects.
        if i % 3 == 0 {
            l.b.disconnect(l.now, b).unwrap();
        } else {
            l.a.disconnect(l.now, a).unwrap();
        }
        l.pump();
        l.events_a.clear();
        l.events_b.clear();
        l.a.close_conn(l.now, a).unwrap();
        l.b.close_conn(l.now, b).unwrap();
        if i % 25 == 24 {
            l.run_for(l.a.config().timewait + Duration::from_secs(1));
        }
    }
    l.run_for(l.a.config().timewait + Duration::from_secs(1));
    l.pump();
    assert_eq!(l.b.close_listener(lid), Ok(ListenerClose::Closed));
    for e in [&l.a, &l.b] {
        let s = e.stats();
        assert_eq!(s.connections, 0, "{s:?}");
        assert_eq!(s.tuples, 0, "{s:?}");
        assert_eq!((s.queued_mads, s.queued_events), (0, 0));
        assert_eq!(s.dropped_tx + s.dropped_events, 0);
        assert_eq!(e.poll_timeout(), None);
    }
    assert_eq!(l.a.stats().endpoints, 0);
    assert_eq!(l.b.stats().endpoints, 1, "only the IPv6 listener");
    assert!(l.events_a.is_empty() && l.events_b.is_empty());
}

#[test]
fn traffic_before_the_rtu_establishes_the_passive_side() {
    let mut l = Link::new();
    l.drop_next(Peer::A, attr::RTU, 1);
    l.b.listen(B4, PORT, 8).unwrap();
    let (a, req) = requested(&mut l);
    assert!(!l.b.notify_traffic(req.conn), "not before the accept");
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    expect_reply(&mut l);
    l.a.complete_connect(a).unwrap();
    l.pump();
    assert_eq!(l.take_b(), None, "the RTU was lost");
    // The first data packet from A reaches B's QP.
    assert!(l.b.notify_traffic(req.conn));
    assert_eq!(l.take_b(), None);
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Established { conn: req.conn }));
    assert!(!l.b.notify_traffic(req.conn), "once");
    assert_eq!(l.b.poll_timeout(), None, "no more REP retries");
    l.run_for(Duration::from_secs(600));
    assert_eq!(l.sent(Peer::B, attr::REP), 1);
}

#[test]
fn rep_retries_follow_the_req_s_timeout_and_retry_count() {
    let mut l = listening();
    l.dial();
    let (_, mad) = l.a.poll_transmit().unwrap();
    let mut m = CmMad::parse_bytes(&mad).unwrap();
    let CmMessage::Req(ref mut r) = m.message else {
        panic!()
    };
    r.local_cm_response_timeout = 16;
    r.max_cm_retries = 2;
    let mut edited = [0u8; 256];
    m.emit(&mut edited).unwrap();
    let start = l.now;
    l.b.handle_mad(start, A4, &edited);
    let Some(CmEvent::ConnectRequest(req)) = l.b.poll_event() else {
        panic!()
    };
    l.b.accept(start, req.conn, &accept_params(b"")).unwrap();
    assert_eq!(
        l.b.poll_timeout(),
        Some(start.saturating_add(cm_timeout(16)))
    );
    // A is silent from now on: 1 REP + 2 retries, then the accept times out.
    l.blackhole = true;
    l.pump();
    let mut reps = 0;
    let end = start.saturating_add(cm_timeout(16) * 3);
    while let Some(t) = l.b.poll_timeout() {
        assert!(t <= end);
        l.now = t;
        l.b.handle_timeout(t);
        while let Some((_, x)) = l.b.poll_transmit() {
            if matches!(parse(&x), CmMessage::Rep(_)) {
                reps += 1;
            }
        }
    }
    assert_eq!(reps, 2, "two retransmissions");
    assert_eq!(
        l.b.poll_event(),
        Some(CmEvent::AcceptTimedOut { conn: req.conn })
    );
    assert_eq!(l.now, end);
}

#[test]
fn ephemeral_ports_run_out_at_16384_connections() {
    let mut cfg = config(1, &[A4, A6], 7);
    cfg.max_connections = 16_400;
    let mut a = softroce::cm::CmEngine::new(cfg);
    let now = softroce::cm::Instant::from_nanos(0);
    let remote = SocketAddr::new(B4, PORT);
    let mut seen = vec![false; 16_384];
    for _ in 0..16_384 {
        let c = a
            .connect(now, &params(SocketAddr::new(A4, 0), remote, b""))
            .unwrap();
        let port = a.conn_addrs(c).unwrap().0.port();
        assert!(port >= 49152);
        assert!(!std::mem::replace(
            &mut seen[usize::from(port - 49152)],
            true
        ));
        while a.poll_transmit().is_some() {}
    }
    assert_eq!(
        a.connect(
            now,
            &params(SocketAddr::new(A6, 0), SocketAddr::new(B6, PORT), b"")
        ),
        Err(CmError::Port(PortError::NoEphemeralPort))
    );
    assert_eq!(
        a.listen(A4, 0, 1),
        Err(CmError::Port(PortError::NoEphemeralPort))
    );
    // An explicit port still binds.
    a.listen(A4, 80, 1).unwrap();
}

#[test]
fn duplicate_rtu_dreq_drep_are_idempotent() {
    let mut l = listening();
    let now = l.now;
    let a = l.dial();
    let (_, req) = l.a.poll_transmit().unwrap();
    l.b.handle_mad(now, A4, &req);
    let Some(CmEvent::ConnectRequest(r)) = l.b.poll_event() else {
        panic!()
    };
    l.b.accept(now, r.conn, &accept_params(b"")).unwrap();
    let (_, rep) = l.b.poll_transmit().unwrap();
    l.a.handle_mad(now, B4, &rep);
    assert!(matches!(l.a.poll_event(), Some(CmEvent::ConnectReply(_))));
    l.a.complete_connect(a).unwrap();
    let (_, rtu) = l.a.poll_transmit().unwrap();
    for _ in 0..3 {
        l.b.handle_mad(now, A4, &rtu);
    }
    assert_eq!(
        l.b.poll_event(),
        Some(CmEvent::Established { conn: r.conn })
    );
    assert_eq!(l.b.poll_event(), None);
    assert_eq!(l.b.poll_transmit(), None, "RTUs are not answered");

    l.a.disconnect(now, a).unwrap();
    let (_, dreq) = l.a.poll_transmit().unwrap();
    l.b.handle_mad(now, A4, &dreq);
    l.b.handle_mad(now, A4, &dreq);
    assert_eq!(
        l.b.poll_event(),
        Some(CmEvent::Disconnected { conn: r.conn })
    );
    assert_eq!(l.b.poll_event(), None, "told once");
    let (_, drep1) = l.b.poll_transmit().unwrap();
    let (_, drep2) = l.b.poll_transmit().unwrap();
    assert_eq!(drep1, drep2, "the same DREP, with the DREQ's TID");
    assert_eq!(
        CmMad::parse_bytes(&drep1).unwrap().header.transaction_id,
        CmMad::parse_bytes(&dreq).unwrap().header.transaction_id
    );
    l.a.handle_mad(now, B4, &drep1);
    l.a.handle_mad(now, B4, &drep2);
    assert_eq!(
        l.a.poll_event(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: false
        })
    );
    assert_eq!(l.a.poll_event(), None);
    assert_eq!(l.a.poll_transmit(), None);
}

#[test]
fn loopback_connection_within_one_engine() {
    let mut e = softroce::cm::CmEngine::new(config(1, &[A4, A6], 3));
    let now = softroce::cm::Instant::from_nanos(0);
    let (_, port) = e.listen(A6, 0, 4).unwrap();
    let loop_mads = |e: &mut softroce::cm::CmEngine| {
        while let Some((dst, mad)) = e.poll_transmit() {
            e.handle_mad(now, dst, &mad);
        }
    };
    let a = e
        .connect(
            now,
            &params(SocketAddr::new(A6, 0), SocketAddr::new(A6, port), b"self"),
        )
        .unwrap();
    loop_mads(&mut e);
    let Some(CmEvent::ConnectRequest(r)) = e.poll_event() else {
        panic!()
    };
    assert_ne!(r.conn, a);
    assert_eq!(r.remote, e.conn_addrs(a).unwrap().0);
    e.accept(now, r.conn, &accept_params(b"")).unwrap();
    loop_mads(&mut e);
    assert!(matches!(e.poll_event(), Some(CmEvent::ConnectReply(x)) if x.conn == a));
    e.complete_connect(a).unwrap();
    loop_mads(&mut e);
    assert_eq!(e.poll_event(), Some(CmEvent::Established { conn: r.conn }));
    e.disconnect(now, r.conn).unwrap();
    loop_mads(&mut e);
    assert_eq!(e.poll_event(), Some(CmEvent::Disconnected { conn: a }));
    assert_eq!(
        e.poll_event(),
        Some(CmEvent::DisconnectDone {
            conn: r.conn,
            timed_out: false
        })
    );
}

#[test]
fn peer_leaving_after_a_lost_rtu_completes_the_accept_first() {
    let mut l = listening();
    l.drop_next(Peer::A, attr::RTU, 1);
    let (a, req) = requested(&mut l);
    l.b.accept(l.now, req.conn, &accept_params(b"")).unwrap();
    l.pump();
    expect_reply(&mut l);
    l.a.complete_connect(a).unwrap();
    l.a.disconnect(l.now, a).unwrap();
    l.pump();
    assert_eq!(l.take_b(), Some(CmEvent::Established { conn: req.conn }));
    assert_eq!(l.take_b(), Some(CmEvent::Disconnected { conn: req.conn }));
    assert_eq!(
        l.take_a(),
        Some(CmEvent::DisconnectDone {
            conn: a,
            timed_out: false
        })
    );
}

#[test]
fn close_withdraws_queued_events_of_that_connector() {
    let mut l = listening();
    let a = l.dial();
    let (_, req) = l.a.poll_transmit().unwrap();
    l.b.handle_mad(l.now, A4, &req);
    let Some(CmEvent::ConnectRequest(r)) = l.b.poll_event() else {
        panic!()
    };
    l.b.accept(l.now, r.conn, &accept_params(b"")).unwrap();
    let (_, rep) = l.b.poll_transmit().unwrap();
    l.a.handle_mad(l.now, B4, &rep);
    assert_eq!(l.a.stats().queued_events, 1, "ConnectReply is queued");
    // The consumer closes before the NDK layer polled the reply: its
    // NdkConnect is still pending and is cancelled.
    assert_eq!(l.a.close_conn(l.now, a), Ok(Some(Cancelled::Connect)));
    assert_eq!(l.a.poll_event(), None);
    assert_eq!(l.a.connection_data(a), None);
    // The peer learns through a REJ (consumer-defined: our consumer left).
    let (_, rej) = l.a.poll_transmit().unwrap();
    match parse(&rej) {
        CmMessage::Rej(x) => assert_eq!(x.reason, RejReason::ConsumerDefined),
        other => panic!("{other:?}"),
    }
}
