//! The CM messages softroce emits decode as well-formed IB CM in
//! `softroce decode` and in tshark: two hosted adapters on a SimNet run an
//! accepted connection (REQ, REP, RTU, DREQ, DREP) and a rejected one (REQ,
//! REJ); every datagram either adapter sends is captured, given the IPv4 and
//! UDP headers the carrier puts on the wire (ID 0 + DF, UDP checksum 0),
//! written to a pcap and decoded. Every ICRC must verify, the CM messages
//! must come out in protocol order, and tshark must agree value for value.

mod decode_support;
mod ndk_common;
mod ndk_conn_common;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use decode_support::{compare_with_tshark, decode, decode_json, s, write_raw_ip_pcap};
use ndk_common::*;
use ndk_conn_common::*;
use softroce::wire::ip::emit_roce_headers;
use softroce::wire::{IpRepr, Ipv4Repr};

const TIMEWAIT: Duration = Duration::from_secs(5);

/// The IPv4 packet the carrier sends for a UDP payload (as `Carrier::tx_ipv4`
/// promises: identification 0, DF; TTL 64 as a stack would put it).
fn ipv4_packet(src: SocketAddr, dst: SocketAddr, payload: &[u8]) -> Vec<u8> {
    let (IpAddr::V4(s4), IpAddr::V4(d4)) = (src.ip(), dst.ip()) else {
        panic!("IPv4 test");
    };
    let ip = IpRepr::V4(Ipv4Repr {
        src_addr: s4.octets(),
        dst_addr: d4.octets(),
        tos: 0,
        ident: 0,
        dont_frag: true,
        ttl: 64,
        protocol: 17,
        payload_len: 0,
    });
    let mut pkt = vec![0u8; 28 + payload.len()];
    emit_roce_headers(&ip, src.port(), payload.len(), &mut pkt).unwrap();
    pkt[28..].copy_from_slice(payload);
    pkt
}

#[test]
fn our_cm_messages_decode_in_softroce_decode_and_tshark() {
    let mut net = Net::new(31);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let seen = capture(&net, None);
    let (l, bound) = b.listen(1, 7174);

    // Accepted, established, disconnected.
    let c = a.connector();
    let any = SocketAddr::new(a.ip, 0);
    assert_eq!(
        a.connect_from(c, a.qp, any, bound, 1, 1, b"hello", 10),
        STATUS_PENDING
    );
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"welcome", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);

    // Rejected by the consumer, with private data.
    let qp2 = a.new_qp();
    let c2 = a.connector();
    assert_eq!(
        a.connect_from(c2, qp2, any, bound, 1, 1, b"again", 11),
        STATUS_PENDING
    );
    net.run();
    let p2 = b.delivered(1)[1];
    assert_eq!(b.reject(p2, b"no thanks"), STATUS_SUCCESS);
    net.run();
    assert_eq!(a.completions(11), vec![STATUS_CONNECTION_REFUSED]);

    let packets: Vec<Vec<u8>> = seen
        .lock()
        .unwrap()
        .iter()
        .map(|(src, dst, p)| ipv4_packet(*src, *dst, p))
        .collect();
    let path = write_raw_ip_pcap(&packets, "softroce-cm");
    let (code, objs) = decode_json(&path);
    let (tcode, text) = decode(&path, false);
    let compared = compare_with_tshark(&path);
    let _ = std::fs::remove_file(&path);

    assert_eq!((code, tcode), (0, 0), "no malformed packet, no bad ICRC");
    assert_eq!(objs.len(), packets.len());
    assert_eq!(text.len(), packets.len());
    for o in &objs {
        assert_eq!(s(o, "icrc"), "ok", "{o:?}");
    }
    let cm: Vec<&str> = objs
        .iter()
        .filter_map(|o| o.get("cm").and_then(|v| v.as_str()))
        .collect();
    assert_eq!(cm, ["REQ", "REP", "RTU", "DREQ", "DREP", "REQ", "REJ"]);
    if let Some(n) = compared {
        assert!(
            n > packets.len() * 8,
            "only {n} values compared with tshark"
        );
    }

    for x in [c, p, c2, p2] {
        assert_eq!(close_obj(x, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    for side in [&a, &b] {
        side.close_objects();
    }
    net.finish();
}
