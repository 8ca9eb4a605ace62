//! Golden vectors: every RoCEv2 packet in the real Linux rxe captures under
//! `tests/data/` must parse, verify its ICRC, and be rebuilt byte for byte
//! from its reprs (IP and UDP headers, transport headers, payload, ICRC).

mod wire_support;

use std::collections::BTreeMap;

use softroce::wire::frame;
use softroce::wire::icrc;
use softroce::wire::ip::{emit_headers, emit_roce_headers, RoceDatagram};
use softroce::wire::{IpRepr, Opcode, PacketRepr, Syndrome, DEFAULT_PKEY, GSI_QKEY};
use wire_support::{read_capture, CAPTURES};

/// What one capture held.
#[derive(Default)]
struct Summary {
    frames: usize,
    by_opcode: BTreeMap<Opcode, usize>,
    padded: usize,
}

/// Checks every frame of a capture and returns the counts.
fn check_capture(name: &str) -> Summary {
    let mut s = Summary::default();
    for (i, f) in read_capture(name).iter().enumerate() {
        let at = format!("{name} frame {}", i + 1);
        s.frames += 1;
        let ip = frame::ip_packet(f.link, &f.data).unwrap_or_else(|e| panic!("{at}: {e}"));
        let dgram = RoceDatagram::parse(ip).unwrap_or_else(|e| panic!("{at}: {e}"));
        icrc::verify(ip).unwrap_or_else(|e| panic!("{at}: {e}"));
        let repr = PacketRepr::parse(dgram.roce).unwrap_or_else(|e| panic!("{at}: {e}"));
        let ip_len = dgram.buffer_len();

        // Rebuild from the reprs exactly as parsed.
        let mut out = vec![0u8; ip_len];
        let hl = emit_headers(&dgram.ip, &dgram.udp, &mut out).unwrap();
        assert_eq!(repr.emit(&mut out[hl..]), Ok(dgram.roce.len()), "{at}");
        icrc::fill(&mut out).unwrap();
        assert_eq!(out[..], ip[..ip_len], "{at}: rebuilt packet differs");

        // rxe's own header recipe (UDP checksum 0, dport 4791, lengths from
        // the RoCE length) must give the same headers for its own packets.
        let mut out2 = vec![0u8; ip_len];
        let hl2 = emit_roce_headers(&dgram.ip, dgram.udp.src_port, dgram.roce.len(), &mut out2);
        assert_eq!(hl2, Ok(hl), "{at}");
        out2[hl..].copy_from_slice(&out[hl..]);
        assert_eq!(out2, out, "{at}: rxe-style headers differ");

        // Facts the captures must show (ROCE-FACTS §1): rxe sends P_Key
        // 0xFFFF, UDP checksum 0, DF set on IPv4.
        assert_eq!(repr.bth.pkey, DEFAULT_PKEY, "{at}");
        assert_eq!(dgram.udp.checksum, 0, "{at}");
        if let IpRepr::V4(v4) = dgram.ip {
            assert!(v4.dont_frag, "{at}");
        }
        if let Some(aeth) = repr.aeth {
            assert_eq!(
                aeth.syndrome,
                Syndrome::ACK_UNLIMITED,
                "{at}: rxe ACKs use 0x1F"
            );
        }
        if repr.bth.opcode == Opcode::UD_SEND_ONLY && repr.bth.dest_qp == 1 {
            let deth = repr.deth.unwrap();
            assert_eq!((deth.qkey, deth.src_qp), (GSI_QKEY, 1), "{at}: GSI DETH");
            assert_eq!(repr.payload.len(), 256, "{at}: a MAD is 256 bytes");
        }
        if repr.bth.pad_count != 0 {
            s.padded += 1;
        }
        *s.by_opcode.entry(repr.bth.opcode).or_default() += 1;
    }
    println!("{name}: {} RoCEv2 frames, {} with pad", s.frames, s.padded);
    for (op, n) in &s.by_opcode {
        println!("  {op:<36} {n:>5}");
    }
    s
}

fn has(s: &Summary, op: Opcode) -> bool {
    s.by_opcode.get(&op).copied().unwrap_or(0) > 0
}

#[test]
fn rping_capture_round_trips_and_holds_what_its_readme_says() {
    let s = check_capture(CAPTURES[0]);
    assert_eq!(s.frames, 65, "README: 65 packets");
    // CM MADs on QP1, the buffer-advertisement SENDs, READs, WRITEs, ACKs.
    for op in [
        Opcode::UD_SEND_ONLY,
        Opcode::RC_SEND_ONLY,
        Opcode::RC_RDMA_READ_REQUEST,
        Opcode::RC_ACKNOWLEDGE,
    ] {
        assert!(has(&s, op), "rping capture lacks {op}");
    }
    assert!(
        s.by_opcode.keys().any(|op| op.is_read_response()),
        "rping capture lacks READ responses"
    );
    assert!(
        s.by_opcode.keys().any(|op| op.is_write()),
        "rping capture lacks WRITEs"
    );
}

#[test]
fn verbs_capture_round_trips_including_multi_packet_messages() {
    let s = check_capture(CAPTURES[1]);
    assert_eq!(s.frames, 1101, "README: 1101 packets");
    for op in [
        Opcode::RC_SEND_FIRST,
        Opcode::RC_SEND_MIDDLE,
        Opcode::RC_SEND_LAST,
        Opcode::RC_RDMA_WRITE_FIRST,
        Opcode::RC_RDMA_WRITE_MIDDLE,
        Opcode::RC_RDMA_WRITE_LAST,
        Opcode::RC_RDMA_READ_REQUEST,
        Opcode::RC_RDMA_READ_RESPONSE_FIRST,
        Opcode::RC_RDMA_READ_RESPONSE_MIDDLE,
        Opcode::RC_RDMA_READ_RESPONSE_LAST,
        Opcode::RC_ACKNOWLEDGE,
        Opcode::UD_SEND_ONLY,
    ] {
        assert!(has(&s, op), "verbs capture lacks {op}");
    }
}
