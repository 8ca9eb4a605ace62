//! Property tests of the wire layer: emit-then-parse is the identity for
//! every header repr and for whole packets of every known opcode, parse-then-
//! emit reproduces any bytes that parse, and no parser panics on any input.

mod wire_support;

use proptest::prelude::*;
use softroce::wire::frame::{self, LinkType};
use softroce::wire::ip::{self, RoceDatagram};
use softroce::wire::{
    icrc, AethPacket, AethRepr, AtomicAckEthPacket, AtomicAckEthRepr, AtomicEthPacket,
    AtomicEthRepr, BthPacket, BthRepr, DethPacket, DethRepr, IpRepr, Ipv4Packet, Ipv4Repr,
    Ipv6Packet, Ipv6Repr, Opcode, PacketRepr, RethPacket, RethRepr, RocePacket, UdpPacket, UdpRepr,
};
use wire_support::build_ip_packet;
use wire_support::strategies::{self as st, known_opcodes};

/// Emits `repr` into a buffer of `len` bytes prefilled with junk, parses it back.
macro_rules! header_round_trip {
    ($repr:expr, $view:ident, $ty:ident, $len:expr) => {{
        let repr = $repr;
        let mut buf = vec![0xA5u8; $len];
        repr.emit(&mut $view::new_unchecked(&mut buf[..]));
        let back = $ty::parse(&$view::new_checked(&buf[..]).unwrap()).unwrap();
        prop_assert_eq!(back, repr);
        prop_assert_eq!(
            $view::new_checked(&buf[..$len - 1]).unwrap_err(),
            softroce::wire::Error::Truncated
        );
    }};
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn bth_round_trips(op: u8, b in st::bth(Opcode(0)), pad in 0u8..4, tver in 0u8..16) {
        header_round_trip!(BthRepr { opcode: Opcode(op), pad_count: pad, tver, ..b }, BthPacket, BthRepr, 12);
    }

    #[test]
    fn deth_round_trips(d in st::deth()) {
        header_round_trip!(d, DethPacket, DethRepr, 8);
    }

    #[test]
    fn reth_round_trips(r in st::reth()) {
        header_round_trip!(r, RethPacket, RethRepr, 16);
    }

    #[test]
    fn aeth_round_trips(a in st::aeth()) {
        header_round_trip!(a, AethPacket, AethRepr, 4);
    }

    #[test]
    fn atomic_eth_round_trips(a in st::atomic_eth()) {
        header_round_trip!(a, AtomicEthPacket, AtomicEthRepr, 28);
    }

    #[test]
    fn atomic_ack_eth_round_trips(a in st::atomic_ack_eth()) {
        header_round_trip!(a, AtomicAckEthPacket, AtomicAckEthRepr, 8);
    }

    #[test]
    fn ip_and_udp_headers_round_trip(ip in st::ip(), sport: u16, dport: u16, csum: u16, len in 0usize..1500) {
        let udp = UdpRepr { src_port: sport, dst_port: dport, checksum: csum, payload_len: len };
        let ip = match ip {
            IpRepr::V4(r) => IpRepr::V4(Ipv4Repr { payload_len: udp.buffer_len(), ..r }),
            IpRepr::V6(r) => IpRepr::V6(Ipv6Repr { payload_len: udp.buffer_len(), ..r }),
        };
        let mut buf = vec![0x5Au8; ip.header_len() + udp.buffer_len()];
        let hl = ip::emit_headers(&ip, &udp, &mut buf).unwrap();
        let back_ip = match ip {
            IpRepr::V4(_) => IpRepr::V4(Ipv4Repr::parse(&Ipv4Packet::new_checked(&buf[..]).unwrap()).unwrap()),
            IpRepr::V6(_) => IpRepr::V6(Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).unwrap()).unwrap()),
        };
        prop_assert_eq!(back_ip, ip);
        let back_udp = UdpRepr::parse(&UdpPacket::new_checked(&buf[hl - 8..]).unwrap()).unwrap();
        prop_assert_eq!(back_udp, udp);
    }

    #[test]
    fn every_opcode_round_trips(g in st::packet(80)) {
        let repr = g.repr();
        let len = repr.buffer_len();
        let mut buf = vec![0xEEu8; len + 5];
        prop_assert_eq!(repr.emit(&mut buf), Ok(len));
        prop_assert!(buf[len..].iter().all(|&b| b == 0xEE), "wrote past buffer_len");
        prop_assert_eq!(len % 4, 0);
        let back = PacketRepr::parse(&buf[..len]).unwrap();
        prop_assert_eq!(back, repr);
        prop_assert_eq!(back.header_len(), 12 + repr.bth.opcode.ext_headers_len());
        // One byte short never parses.
        prop_assert!(PacketRepr::parse(&buf[..len - 1]).is_err());
        // emit_around + the caller's payload copy is the same as emit.
        let mut around = vec![0x33u8; len];
        prop_assert_eq!(repr.emit_around(repr.payload.len(), &mut around), Ok(len));
        let hl = repr.header_len();
        around[hl..hl + repr.payload.len()].copy_from_slice(repr.payload);
        prop_assert_eq!(&around[..], &buf[..len]);
    }

    #[test]
    fn whole_ip_packets_round_trip(g in st::packet(64), ip in st::ip(), sport: u16) {
        let repr = g.repr();
        let pkt = build_ip_packet(&ip, sport, &repr);
        prop_assert_eq!(icrc::verify(&pkt), Ok(()));
        let d = RoceDatagram::parse(&pkt).unwrap();
        prop_assert_eq!(d.udp.src_port, sport);
        prop_assert_eq!(d.buffer_len(), pkt.len());
        prop_assert_eq!(PacketRepr::parse(d.roce).unwrap(), repr);
    }

    #[test]
    fn parse_then_emit_reproduces_whatever_parses(bytes in proptest::collection::vec(any::<u8>(), 0..200), op in proptest::sample::select(known_opcodes())) {
        // Steer half the inputs to a known opcode with TVer 0 so parse succeeds often.
        let mut bytes = bytes;
        if bytes.len() >= 12 && bytes[0] & 1 == 0 {
            bytes[0] = op.0;
            bytes[1] &= 0xF0;
            let keep = bytes.len() & !3;
            bytes.truncate(keep);
        }
        if let Ok(repr) = PacketRepr::parse(&bytes) {
            let mut out = vec![0u8; repr.buffer_len()];
            prop_assert_eq!(repr.emit(&mut out), Ok(bytes.len()));
            let view = RocePacket::new_checked(&bytes[..]).unwrap();
            let body = bytes.len() - 4 - view.pad().len();
            prop_assert_eq!(&out[..body], &bytes[..body]);
            prop_assert!(out[body..].iter().all(|&b| b == 0), "pad and ICRC are zero");
        }
    }

    #[test]
    fn nothing_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = PacketRepr::parse(&bytes);
        let _ = RoceDatagram::parse(&bytes);
        let _ = icrc::verify(&bytes);
        let _ = ip::split(&bytes);
        let mut copy = bytes.clone();
        let _ = icrc::fill(&mut copy);
        for link in [LinkType::Ethernet, LinkType::LinuxSll, LinkType::LinuxSll2, LinkType::RawIp] {
            if let Ok(ip) = frame::ip_packet(link, &bytes) {
                let _ = RoceDatagram::parse(ip);
                let _ = icrc::verify(ip);
            }
        }
        // Unchecked views over short buffers read zeros, never panic.
        let v = RocePacket::new_unchecked(&bytes[..]);
        let _ = (v.payload(), v.pad(), v.icrc(), v.covered(), v.ext_headers(), v.to_string());
        let b = BthPacket::new_unchecked(&bytes[..]);
        let _ = (b.psn(), b.dest_qp(), b.pkey(), b.to_string());
        let _ = Ipv4Packet::new_unchecked(&bytes[..]).payload();
        let _ = Ipv6Packet::new_unchecked(&bytes[..]).payload();
        let _ = UdpPacket::new_unchecked(&bytes[..]).payload();
        let mut w = bytes.clone();
        let mut rp = RocePacket::new_unchecked(&mut w[..]);
        rp.set_icrc(1);
        let _ = rp.payload_mut();
        let mut bp = BthPacket::new_unchecked(&mut w[..]);
        bp.set_psn(0xFFFFFF);
    }

    #[test]
    fn mutated_real_packets_never_panic(idx: prop::sample::Index, edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut: prop::sample::Index) {
        let packets = real_ip_packets();
        let mut p = packets[idx.index(packets.len())].clone();
        for (at, v) in edits {
            let i = at.index(p.len());
            p[i] = v;
        }
        let end = cut.index(p.len() + 1);
        let p = &p[..end.max(p.len() / 2)];
        if let Ok(d) = RoceDatagram::parse(p) {
            let _ = icrc::verify(p);
            if let Ok(repr) = PacketRepr::parse(d.roce) {
                let mut out = vec![0u8; repr.buffer_len()];
                prop_assert_eq!(repr.emit(&mut out), Ok(d.roce.len()));
            }
        }
    }
}

/// One IP packet per distinct opcode of the rping capture (cached).
fn real_ip_packets() -> &'static Vec<Vec<u8>> {
    static CACHE: std::sync::OnceLock<Vec<Vec<u8>>> = std::sync::OnceLock::new();
    CACHE.get_or_init(|| {
        let mut seen = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        for f in wire_support::read_capture(wire_support::CAPTURES[0]) {
            let ip = frame::ip_packet(f.link, &f.data).unwrap();
            let d = RoceDatagram::parse(ip).unwrap();
            if seen.insert(d.roce[0]) {
                out.push(ip[..d.buffer_len()].to_vec());
            }
        }
        out
    })
}

#[test]
fn known_opcode_strategy_covers_the_table() {
    assert_eq!(known_opcodes().len(), 38);
}
