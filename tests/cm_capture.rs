//! The CM engine against the real rxe rping exchange in
//! `tests/data/rxe-rping.pcap` (REQ, REP, RTU, DREQ, DREP between
//! 10.99.0.12 (client) and 10.99.0.11 (server)): our REQ, REP, RTU and DREP
//! equal rxe's in every field except the ones that must differ; rxe's
//! messages drive our engine on both sides; and REQ variants derived from the
//! real one get the REJ reasons Linux gives.

mod rping_capture;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use rping_capture::capture_mads;

use softroce::cm::{
    AcceptParams, CmConfig, CmEngine, CmEvent, ConnId, ConnectParams, Instant, LocalEndpoint, State,
};
use softroce::wire::cm::{tst, CmMad, CmMessage, CmMsgRef, CmReqRepr, RejReason};
use softroce::wire::cma::{ipv4_mapped_gid, service_id, RDMA_PS_UDP};
use softroce::wire::mad::MAD_LEN;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11));
const CLIENT_GUID: u64 = 0x5054_00ff_fe99_0012;
const SERVER_GUID: u64 = 0x5054_00ff_fe99_0011;
/// The client's source port in the capture's CMA header.
const CLIENT_PORT: u16 = 0xc716;

fn engine(guid: u64, addr: IpAddr) -> CmEngine {
    CmEngine::new(CmConfig::new(guid, &[addr], [9; 32]))
}

fn encode(m: &CmMad) -> [u8; MAD_LEN] {
    let mut b = [0u8; MAD_LEN];
    m.emit(&mut b).unwrap();
    b
}

fn rping_connect() -> ConnectParams<'static> {
    ConnectParams {
        local: LocalEndpoint::Bind(SocketAddr::new(CLIENT, CLIENT_PORT)),
        remote: SocketAddr::new(SERVER, 7174),
        local_qpn: 0x11,
        recv_psn: 0xdb_b97a,
        inbound_read_limit: 1,
        outbound_read_limit: 1,
        path_mtu: 3,
        private_data: &[],
        retry_count: 7,
        rnr_retry_count: 7,
        srq: false,
    }
}

/// Our REQ with rping's parameters and the capture's GUID and port.
fn our_req() -> (CmEngine, ConnId, CmMad) {
    let mut a = engine(CLIENT_GUID, CLIENT);
    let now = Instant::from_nanos(0);
    let conn = a.connect(now, &rping_connect()).unwrap();
    let (to, mad) = a.poll_transmit().unwrap();
    assert_eq!(to, SERVER);
    (a, conn, CmMad::parse_bytes(&mad).unwrap())
}

#[test]
fn our_req_equals_rxe_req_but_for_comm_id_tid_and_flow_label() {
    let theirs = capture_mads()[0];
    let (_, conn, ours) = our_req();
    let (CmMessage::Req(mut o), CmMessage::Req(t)) = (ours.message, theirs.message) else {
        panic!()
    };
    assert_eq!(o.local_comm_id, conn.0);
    // Deliberate differences: the comm ID and TID are ours (random), and we
    // send flow label 0 where Linux hashes the ports (rxe then derives the
    // UDP source port from the QPNs instead).
    assert_eq!(o.primary_path.flow_label, 0);
    assert_ne!(t.primary_path.flow_label, 0);
    o.local_comm_id = t.local_comm_id;
    o.primary_path.flow_label = t.primary_path.flow_label;
    assert_eq!(o, t, "every other REQ field, CMA header included");
    let mut h = ours.header;
    h.transaction_id = theirs.header.transaction_id;
    assert_eq!(h, theirs.header);
}

#[test]
fn rxe_rep_completes_our_connect_and_our_rtu_equals_rxe_rtu() {
    let caps = capture_mads();
    let (mut a, conn, req) = our_req();
    let now = Instant::from_nanos(1);
    let mut rep = caps[1];
    let CmMessage::Rep(ref mut r) = rep.message else {
        panic!()
    };
    r.remote_comm_id = conn.0;
    rep.header.transaction_id = req.header.transaction_id;
    a.handle_mad(now, SERVER, &encode(&rep));
    match a.poll_event() {
        Some(CmEvent::ConnectReply(r)) => {
            assert_eq!(r.conn, conn);
            assert_eq!((r.remote_qpn, r.send_psn), (0x11, 0x7b_2b28));
            assert_eq!((r.inbound_read_limit, r.outbound_read_limit), (1, 1));
            assert_eq!(
                (r.rnr_retry_count, r.target_ack_delay, r.srq),
                (7, 15, false)
            );
        }
        other => panic!("{other:?}"),
    }
    a.complete_connect(conn).unwrap();
    let (_, rtu) = a.poll_transmit().unwrap();
    let ours = CmMad::parse_bytes(&rtu).unwrap();
    let mut theirs = caps[2];
    let (CmMessage::Rtu(o), CmMessage::Rtu(ref mut t)) = (ours.message, &mut theirs.message) else {
        panic!()
    };
    assert_eq!(o.local_comm_id, conn.0);
    assert_eq!(o.remote_comm_id, 0x2d15_0405, "the REP's local comm ID");
    t.local_comm_id = conn.0;
    assert_eq!(ours.message, theirs.message);
    assert_eq!(
        ours.header.transaction_id, req.header.transaction_id,
        "the RTU reuses the REQ's TID"
    );
    assert_eq!(a.conn_state(conn), Some(State::Established));
}

#[test]
fn rxe_req_is_accepted_and_our_rep_and_drep_equal_rxe_s() {
    let caps = capture_mads();
    let mut b = engine(SERVER_GUID, SERVER);
    let (listener, _) = b.listen(SERVER, 7174, 8).unwrap();
    let now = Instant::from_nanos(0);
    b.handle_mad(now, CLIENT, &encode(&caps[0]));
    let req = match b.poll_event() {
        Some(CmEvent::ConnectRequest(r)) => r,
        other => panic!("{other:?}"),
    };
    assert_eq!(req.listener, listener);
    assert_eq!(req.remote, SocketAddr::new(CLIENT, CLIENT_PORT));
    assert_eq!(req.local, SocketAddr::new(SERVER, 7174));
    assert_eq!(
        (req.remote_qpn, req.send_psn, req.path_mtu),
        (0x11, 0xdb_b97a, 3)
    );
    assert_eq!((req.inbound_read_limit, req.outbound_read_limit), (1, 1));
    assert_eq!(req.local_ack_timeout, 19);
    assert!(req.private_data.as_slice().iter().all(|&x| x == 0));

    let accept = AcceptParams {
        local_qpn: 0x11,
        recv_psn: 0x7b_2b28,
        inbound_read_limit: 16,
        outbound_read_limit: 16,
        private_data: &[],
        rnr_retry_count: 7,
        srq: false,
    };
    assert_eq!(b.accept(now, req.conn, &accept), Ok((1, 1)));
    let (to, rep) = b.poll_transmit().unwrap();
    assert_eq!(to, CLIENT);
    let ours = CmMad::parse_bytes(&rep).unwrap();
    let mut theirs = caps[1];
    let CmMessage::Rep(ref mut t) = theirs.message else {
        panic!()
    };
    t.local_comm_id = req.conn.0;
    assert_eq!(ours, theirs, "REP fields and TID (the REQ's)");

    // rxe's RTU and DREQ, addressed to our comm ID.
    let mut rtu = caps[2];
    let CmMessage::Rtu(ref mut r) = rtu.message else {
        panic!()
    };
    r.remote_comm_id = req.conn.0;
    b.handle_mad(now, CLIENT, &encode(&rtu));
    assert_eq!(
        b.poll_event(),
        Some(CmEvent::Established { conn: req.conn })
    );
    let mut dreq = caps[3];
    let CmMessage::Dreq(ref mut d) = dreq.message else {
        panic!()
    };
    d.remote_comm_id = req.conn.0;
    b.handle_mad(now, CLIENT, &encode(&dreq));
    assert_eq!(
        b.poll_event(),
        Some(CmEvent::Disconnected { conn: req.conn })
    );
    let (_, drep) = b.poll_transmit().unwrap();
    let ours = CmMad::parse_bytes(&drep).unwrap();
    let mut theirs = caps[4];
    let CmMessage::Drep(ref mut t) = theirs.message else {
        panic!()
    };
    t.local_comm_id = req.conn.0;
    assert_eq!(ours, theirs, "DREP fields and TID (the DREQ's)");
}

/// Feeds a variant of rxe's REQ to a listening server; returns the REJ.
fn rej_for(edit: impl FnOnce(&mut CmReqRepr), max_mtu: u8) -> softroce::wire::cm::CmRejRepr {
    let caps = capture_mads();
    let mut cfg = CmConfig::new(SERVER_GUID, &[SERVER], [9; 32]);
    cfg.max_path_mtu = max_mtu;
    let mut b = CmEngine::new(cfg);
    b.listen(SERVER, 7174, 8).unwrap();
    let mut req = caps[0];
    let CmMessage::Req(ref mut r) = req.message else {
        panic!()
    };
    edit(r);
    let comm = r.local_comm_id;
    b.handle_mad(Instant::from_nanos(0), CLIENT, &encode(&req));
    assert_eq!(b.poll_event(), None, "no connection is reported");
    assert_eq!(b.stats().connections, 0);
    let (to, out) = b.poll_transmit().expect("a REJ");
    assert_eq!(to, CLIENT);
    let m = CmMad::parse_bytes(&out).unwrap();
    assert_eq!(m.header.transaction_id, req.header.transaction_id);
    let CmMessage::Rej(rej) = m.message else {
        panic!("{m}")
    };
    assert_eq!(rej.remote_comm_id, comm);
    assert_eq!(rej.message_rejected, CmMsgRef::Req);
    assert_eq!(b.poll_transmit(), None);
    rej
}

#[test]
fn unmodified_rxe_req_is_not_rejected() {
    let caps = capture_mads();
    let mut b = engine(SERVER_GUID, SERVER);
    b.listen(SERVER, 7174, 8).unwrap();
    b.handle_mad(Instant::from_nanos(0), CLIENT, &encode(&caps[0]));
    assert!(matches!(b.poll_event(), Some(CmEvent::ConnectRequest(_))));
    assert_eq!(b.poll_transmit(), None);
}

#[test]
fn req_to_a_gid_not_ours_is_rej_12_with_our_gid() {
    let rej = rej_for(
        |r| r.primary_path.remote_gid = ipv4_mapped_gid(Ipv4Addr::new(10, 99, 0, 99)),
        5,
    );
    assert_eq!(rej.reason, RejReason::InvalidGid);
    assert_eq!(rej.ari_length, 16);
    assert_eq!(rej.ari[..16], ipv4_mapped_gid(Ipv4Addr::new(10, 99, 0, 11)));
}

#[test]
fn bad_cma_header_is_rej_8() {
    for edit in [
        (|r: &mut CmReqRepr| r.private_data[0] = 1) as fn(&mut CmReqRepr), // CMA version
        |r| r.private_data[1] = 0x50,                                      // IP version 5
        |r| r.private_data[1] = 0x60, // IPv6 with IPv4 addresses
        |r| r.private_data[35] = 77,  // destination 10.99.0.77
        |r| r.private_data = [0; 92], // no header at all
    ] {
        assert_eq!(rej_for(edit, 5).reason, RejReason::InvalidServiceId);
    }
}

#[test]
fn service_id_must_name_a_tcp_listener() {
    let other_port = rej_for(|r| r.service_id += 1, 5);
    assert_eq!(other_port.reason, RejReason::InvalidServiceId);
    let udp = rej_for(|r| r.service_id = service_id(RDMA_PS_UDP, 7174), 5);
    assert_eq!(udp.reason, RejReason::InvalidServiceId);
}

#[test]
fn transport_and_mtu_are_checked() {
    let uc = rej_for(|r| r.transport_service_type = tst::UC, 5);
    assert_eq!(uc.reason, RejReason::InvalidTransportType);
    let zero = rej_for(|r| r.path_mtu = 0, 5);
    assert_eq!(zero.reason, RejReason::InvalidMtu);
    let six = rej_for(|r| r.path_mtu = 6, 5);
    assert_eq!(six.reason, RejReason::InvalidMtu);
}

/// The path MTU a server with `max_mtu` gives a connection whose REQ asks
/// for `req_mtu` (no REJ, no transmission before the accept).
fn accepted_mtu(req_mtu: u8, max_mtu: u8) -> u8 {
    let caps = capture_mads();
    let mut cfg = CmConfig::new(SERVER_GUID, &[SERVER], [9; 32]);
    cfg.max_path_mtu = max_mtu;
    let mut b = CmEngine::new(cfg);
    b.listen(SERVER, 7174, 8).unwrap();
    let mut req = caps[0];
    let CmMessage::Req(ref mut r) = req.message else {
        panic!()
    };
    r.path_mtu = req_mtu;
    b.handle_mad(Instant::from_nanos(0), CLIENT, &encode(&req));
    assert_eq!(b.poll_transmit(), None, "no REJ");
    match b.poll_event() {
        Some(CmEvent::ConnectRequest(cr)) => cr.path_mtu,
        e => panic!("{e:?}"),
    }
}

#[test]
fn a_larger_req_mtu_is_clamped_to_ours_not_rejected() {
    // REQ 4096 to a 1024 server: the connection runs at 1024.
    assert_eq!(accepted_mtu(5, 3), 3);
    assert_eq!(accepted_mtu(4, 1), 1);
    // A smaller REQ is taken as is.
    assert_eq!(accepted_mtu(2, 5), 2);
    assert_eq!(accepted_mtu(5, 5), 5);
}
