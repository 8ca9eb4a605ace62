//! ICRC strength: flipping any single bit of a real captured packet, or of a
//! generated one, must make verification fail, except for the bits the ICRC
//! masks by definition (IPv4 TOS/TTL/checksum, IPv6 traffic class/flow
//! label/hop limit, UDP checksum, BTH byte 4), which must not matter.

mod wire_support;

use std::collections::BTreeSet;

use proptest::prelude::*;
use softroce::wire::frame;
use softroce::wire::icrc;
use softroce::wire::ip::RoceDatagram;
use wire_support::strategies as st;
use wire_support::{build_ip_packet, read_capture, CAPTURES};

/// Per-byte masks of the bits the ICRC does not cover, for an IP packet.
fn masked_bits(pkt: &[u8]) -> Vec<u8> {
    let mut m = vec![0u8; pkt.len()];
    let l3 = match pkt[0] >> 4 {
        4 => {
            m[1] = 0xFF;
            m[8] = 0xFF;
            m[10] = 0xFF;
            m[11] = 0xFF;
            20
        }
        6 => {
            m[0] = 0x0F;
            m[1] = 0xFF;
            m[2] = 0xFF;
            m[3] = 0xFF;
            m[7] = 0xFF;
            40
        }
        v => panic!("IP version {v}"),
    };
    m[l3 + 6] = 0xFF;
    m[l3 + 7] = 0xFF;
    m[l3 + 8 + 4] = 0xFF;
    m
}

/// Flips every bit of `pkt` once; returns the number of flips checked.
fn flip_every_bit(pkt: &[u8]) -> usize {
    assert_eq!(icrc::verify(pkt), Ok(()));
    let masks = masked_bits(pkt);
    let mut work = pkt.to_vec();
    let mut n = 0;
    for (i, &mask) in masks.iter().enumerate() {
        for bit in 0..8 {
            let b = 1u8 << bit;
            work[i] ^= b;
            let r = icrc::verify(&work);
            if mask & b != 0 {
                assert_eq!(r, Ok(()), "masked bit {bit} of byte {i} changed the ICRC");
            } else {
                assert_ne!(r, Ok(()), "bit {bit} of byte {i} flipped unnoticed");
            }
            work[i] ^= b;
            n += 1;
        }
    }
    n
}

#[test]
fn every_bit_of_real_packets_is_protected() {
    let mut total = 0;
    let mut packets = 0;
    for name in CAPTURES {
        let mut seen = BTreeSet::new();
        for f in read_capture(name) {
            let ip = frame::ip_packet(f.link, &f.data).unwrap();
            let d = RoceDatagram::parse(ip).unwrap();
            // One packet per opcode and capture.
            if seen.insert(d.roce[0]) {
                total += flip_every_bit(&ip[..d.buffer_len()]);
                packets += 1;
            }
        }
    }
    println!("{packets} real packets, {total} single-bit flips checked");
    assert!(packets >= 13);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn every_bit_of_generated_packets_is_protected(g in st::packet(40), ip in st::ip(), sport: u16) {
        let pkt = build_ip_packet(&ip, sport, &g.repr());
        flip_every_bit(&pkt);
    }
}
