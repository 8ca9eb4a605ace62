//! What softroce puts on the wire for a connection, captured on the SimNet:
//! the REQ of an NdkConnect with rping's parameters decodes as a
//! well-formed UD SEND_ONLY to QP1 (ICRC over ID 0 + DF) carrying a REQ
//! whose every field, CMA header included, equals the REQ rxe sent in the
//! rping capture, except the ones that must differ (comm ID, TID, flow
//! label, CA GUID, QPN, starting PSN); and corrupted packets are dropped
//! by the ICRC check (counted), never reaching the CM.

mod ndk_common;
mod ndk_conn_common;
mod rping_capture;

use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;
use rping_capture::{capture_mads, frames, ROCE_AT};
use softroce::os::hosted::SimKnobs;
use softroce::wire::cm::{CmMad, CmMessage};
use softroce::wire::mad::MAD_LEN;
use softroce::wire::{icrc, IpRepr, Ipv4Repr, Opcode, PacketRepr};

#[test]
fn our_req_is_well_formed_and_matches_the_rping_capture() {
    let mut net = Net::new(41);
    let client = net.adapter("10.99.0.12");
    let server = net.adapter("10.99.0.11");
    let (l, at) = server.listen(1, 7174);
    let seen = capture(&net, Some(client.ip));
    let c = client.connector();
    let src: SocketAddr = "10.99.0.12:50966".parse().unwrap(); // 0xc716, rping's port
    assert_eq!(
        client.connect_from(c, client.qp, src, at, 1, 1, b"", 10),
        STATUS_PENDING
    );
    net.run();
    let ours = payloads(&seen)[0].clone();
    assert_eq!(cm_attr(&ours), Some(attr::REQ));

    // The RoCE packet: parses, UD SEND_ONLY to QP1, ICRC right for the IPv4
    // header the carrier sends (ID 0, DF).
    let repr = PacketRepr::parse(&ours).expect("parses");
    assert_eq!(repr.bth.opcode, Opcode::UD_SEND_ONLY);
    assert_eq!(repr.payload.len(), MAD_LEN);
    let ip = IpRepr::V4(Ipv4Repr {
        src_addr: [10, 99, 0, 12],
        dst_addr: [10, 99, 0, 11],
        tos: 0,
        ident: 0,
        dont_frag: true,
        ttl: 64,
        protocol: 17,
        payload_len: ours.len() + 8,
    });
    let mut hdr = [0u8; 28];
    softroce::wire::ip::emit_roce_headers(&ip, 4791, ours.len(), &mut hdr).unwrap();
    icrc::verify_parts(&hdr[..20], &hdr[20..], &ours).expect("ICRC over ID 0 + DF");

    // BTH + DETH equal rxe's but for the PSN (bytes 9..12 of the BTH).
    let theirs_frame = &frames()[0];
    let theirs_roce = &theirs_frame[ROCE_AT..];
    let mut o = ours[..20].to_vec();
    let mut t = theirs_roce[..20].to_vec();
    o[9..12].fill(0);
    t[9..12].fill(0);
    assert_eq!(o, t, "BTH (AckReq, P_Key, QP1) and DETH (Q_Key, SrcQP 1)");

    // The REQ, field by field.
    let mine = CmMad::parse_bytes(repr.payload).expect("MAD parses");
    let rxe = capture_mads()[0];
    let (CmMessage::Req(mut m), CmMessage::Req(r)) = (mine.message, rxe.message) else {
        panic!("not REQs")
    };
    assert_eq!(m.local_qpn, 0x11, "our first QP");
    assert_ne!(m.local_ca_guid, 0);
    assert_eq!(m.primary_path.flow_label, 0, "deliberate: docs/CM.md");
    m.local_comm_id = r.local_comm_id;
    m.local_ca_guid = r.local_ca_guid;
    m.local_qpn = r.local_qpn;
    m.starting_psn = r.starting_psn;
    m.primary_path.flow_label = r.primary_path.flow_label;
    assert_eq!(m, r, "every other field, CMA header included");
    let mut h = mine.header;
    h.transaction_id = rxe.header.transaction_id;
    assert_eq!(h, rxe.header);

    net.run();
    let p = server.delivered(1)[0];
    assert_eq!(
        server.addresses(p).1,
        src,
        "the CMA header's source port reached the server"
    );
    // Closing mid-connect cancels the connect (its completion comes first).
    assert_eq!(close_obj(c, None), STATUS_PENDING);
    for o in [p.cast::<NDK_PD>(), l.cast()] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    net.advance(Duration::from_secs(80));
    assert_eq!(client.completions(10), vec![STATUS_CANCELLED]);
    for s in [&client, &server] {
        s.close_objects();
    }
    net.finish();
}

#[test]
fn corrupted_packets_are_dropped_by_the_icrc_check() {
    let mut net = Net::new(42);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    net.sim.set_knobs(SimKnobs {
        corrupt_ppm: 1_000_000,
        ..SimKnobs::default()
    });
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.advance(Duration::from_secs(70));
    let st = b.stats();
    assert_eq!(
        st.rx_mads
            + st.rx_bad_icrc
            + st.rx_malformed
            + st.rx_bad_pkey
            + st.rx_no_qp
            + st.rx_not_gsi,
        16
    );
    assert!(st.rx_bad_icrc >= 12, "{st:?}");
    if st.rx_mads == 0 {
        assert!(b.delivered(1).is_empty());
        assert_eq!(a.completions(10), vec![STATUS_IO_TIMEOUT]);
    }
    net.sim.set_knobs(SimKnobs::default());
    let mut all = vec![c.cast::<NDK_PD>(), l.cast()];
    all.extend(b.delivered(1).iter().map(|p| p.cast::<NDK_PD>()));
    for o in all {
        let s = close_obj(o, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING);
    }
    net.advance(Duration::from_secs(80));
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

/// The RoCE UD SEND_ONLY carrying `mad` from `src`'s QP1 to `dst`'s QP1
/// (IPv4, ID 0 + DF, ICRC filled): what a peer's CM would send.
fn mad_packet(src: [u8; 4], dst: [u8; 4], mad: &[u8; MAD_LEN]) -> Vec<u8> {
    use softroce::wire::{BthRepr, DethRepr};
    let bth = BthRepr {
        opcode: Opcode::UD_SEND_ONLY,
        solicited: false,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: 0xFFFF,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp: 1,
        ack_req: true,
        resv7: 0,
        psn: 9,
    };
    let mut repr = PacketRepr::new(bth, mad);
    repr.deth = Some(DethRepr {
        qkey: 0x8001_0000,
        src_qp: 1,
        resv8: 0,
    });
    roce_v4(src, dst, &repr)
}

#[test]
fn complete_connect_after_the_peer_abandoned_is_connection_aborted() {
    use softroce::wire::cm::{CmMsgRef, CmRejRepr, RejReason};
    let mut net = Net::new(43);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let from_b = capture(&net, Some(b.ip));
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    // The peer (as another CM might) rejects our REP with a reason other
    // than TIMEOUT before we complete.
    let rep = payloads(&from_b)
        .into_iter()
        .find(|p| cm_attr(p) == Some(attr::REP))
        .expect("B sent a REP");
    let CmMessage::Rep(r) = CmMad::parse_bytes(&rep[20..20 + MAD_LEN]).unwrap().message else {
        panic!("not a REP")
    };
    let rej = CmRejRepr {
        local_comm_id: r.local_comm_id,
        remote_comm_id: r.remote_comm_id,
        message_rejected: CmMsgRef::Rep,
        resv8: 0,
        ari_length: 0,
        resv9: 0,
        reason: RejReason::ConsumerDefined,
        ari: [0; 72],
        private_data: [0; 148],
    };
    let mut mad = [0u8; MAD_LEN];
    CmMad::new(0x1234, CmMessage::Rej(rej))
        .emit(&mut mad)
        .unwrap();
    net.sim.inject(
        "192.0.2.2:4791".parse().unwrap(),
        "192.0.2.1:4791".parse().unwrap(),
        &mad_packet([192, 0, 2, 2], [192, 0, 2, 1], &mad),
    );
    net.run();
    assert_eq!(a.complete(c, 30), STATUS_CONNECTION_ABORTED);
    assert!(a.completions(30).is_empty(), "inline");
    assert_eq!(a.stats().rx_bad_icrc, 0);
    assert_eq!(close_obj(c, None), STATUS_SUCCESS);
    // B's accept is still waiting (the REJ was not B's): closing cancels it.
    assert_eq!(close_obj(p, None), STATUS_PENDING);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_CANCELLED]);
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(Duration::from_secs(80));
    for s in [&a, &b] {
        assert_eq!(s.stats().cm_connections, 0);
        s.close_objects();
    }
    net.finish();
}
