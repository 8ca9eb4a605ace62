//! Golden frames: every Ethernet frame of the real rxe captures under
//! `tests/data/` (copies of `../shared/pcaps/`), classified for its own
//! destination address and port 4791, yields a datagram whose addresses,
//! IPv4 fields (rxe's non-zero IDs, DF, total length) and payload match the
//! packet, and whose ICRC verifies over an IP header rebuilt from only what
//! the classifier reported; for any other address or port it is not ours.

mod wire_support;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use softroce::link::{classify, Classified};
use softroce::os::{Ipv4RxFields, Received, RxIp};
use softroce::wire::frame::{self, LinkType};
use softroce::wire::ip::{emit_headers, IpRepr, UDP_PROTOCOL};
use softroce::wire::{icrc, Ipv4Packet, Ipv4Repr, RoceDatagram, UdpRepr};
use wire_support::{read_capture, CAPTURES};

/// The ICRC check the core makes: IP and UDP headers rebuilt from the
/// reported fields (masked fields zero), then `wire::icrc`.
fn icrc_from_report(r: &Received<'_>) -> bool {
    let (RxIp::V4(f), IpAddr::V4(src), IpAddr::V4(dst)) = (r.ip, r.src.ip(), r.dst.ip()) else {
        panic!("IPv4 captures");
    };
    let udp = UdpRepr {
        src_port: r.src.port(),
        dst_port: r.dst.port(),
        checksum: 0,
        payload_len: r.payload.len(),
    };
    let ip = IpRepr::V4(Ipv4Repr {
        src_addr: src.octets(),
        dst_addr: dst.octets(),
        tos: 0,
        ident: f.identification,
        dont_frag: f.flags_fragment & Ipv4RxFields::DONT_FRAGMENT != 0,
        ttl: 0,
        protocol: UDP_PROTOCOL,
        payload_len: usize::from(f.total_length) - 20,
    });
    let mut h = [0u8; 28];
    emit_headers(&ip, &udp, &mut h).unwrap();
    icrc::verify_parts(&h[..20], &h[20..], r.payload).is_ok()
}

#[test]
fn every_rxe_frame_is_delivered_with_its_own_header_fields() {
    let (mut frames, mut nonzero_ids, mut tagged) = (0, 0, 0);
    for name in CAPTURES {
        for (i, f) in read_capture(name).iter().enumerate() {
            let at = format!("{name} frame {}", i + 1);
            assert_eq!(f.link, LinkType::Ethernet, "{at}");
            let ip = frame::ip_packet(f.link, &f.data).unwrap();
            let d = RoceDatagram::parse(ip).unwrap();
            let v = Ipv4Packet::new_checked(ip).unwrap();
            let local = SocketAddr::new(Ipv4Addr::from(v.dst_addr()).into(), 4791);
            let Classified::Roce(r) = classify(&f.data, local) else {
                panic!("{at}: not delivered");
            };
            assert_eq!(
                r.src,
                SocketAddr::new(Ipv4Addr::from(v.src_addr()).into(), d.udp.src_port),
                "{at}"
            );
            assert_eq!(r.dst, local, "{at}");
            let RxIp::V4(fields) = r.ip else {
                panic!("{at}")
            };
            assert_eq!(fields.ihl, 5, "{at}");
            assert_eq!(fields.total_length, v.total_len(), "{at}");
            assert_eq!(fields.identification, v.ident(), "{at}");
            assert_eq!(fields.flags_fragment, Ipv4RxFields::DONT_FRAGMENT, "{at}");
            assert_eq!(r.payload, d.roce, "{at}");
            assert!(icrc_from_report(&r), "{at}: ICRC");
            nonzero_ids += usize::from(fields.identification != 0);

            // The same frame with an 802.1Q tag: same datagram.
            let mut t = f.data[..12].to_vec();
            t.extend_from_slice(&[0x81, 0x00, 0x60, 0x05]);
            t.extend_from_slice(&f.data[12..]);
            if let Classified::Roce(rt) = classify(&t, local) {
                assert_eq!((rt.ip, rt.payload), (r.ip, r.payload), "{at} tagged");
                tagged += 1;
            }

            // Other address, other port: not ours.
            for other in [
                SocketAddr::new([10, 99, 0, 99].into(), 4791),
                SocketAddr::new(local.ip(), 4792),
                SocketAddr::new(r.src.ip(), 4791),
            ] {
                if other.ip() == local.ip() && other.port() == 4791 {
                    continue; // loopback-style frame (src == dst)
                }
                assert!(
                    matches!(classify(&f.data, other), Classified::NotOurs),
                    "{at} {other}"
                );
            }
            frames += 1;
        }
    }
    assert_eq!(frames, 65 + 1101);
    assert_eq!(tagged, frames);
    // rxe stamps kernel-chosen IDs: the fields are really read from the frame.
    assert!(nonzero_ids > frames / 2, "{nonzero_ids} of {frames}");
}

#[test]
fn the_report_is_what_makes_the_icrc_verify() {
    // Flip the ID a golden frame reports: the rebuilt ICRC must fail.
    let f = &read_capture(CAPTURES[0])[0];
    let ip = frame::ip_packet(f.link, &f.data).unwrap();
    let v = Ipv4Packet::new_checked(ip).unwrap();
    let local = SocketAddr::new(Ipv4Addr::from(v.dst_addr()).into(), 4791);
    let Classified::Roce(mut r) = classify(&f.data, local) else {
        panic!()
    };
    assert!(icrc_from_report(&r));
    if let RxIp::V4(ref mut fields) = r.ip {
        fields.identification ^= 1;
    }
    assert!(!icrc_from_report(&r));
}
