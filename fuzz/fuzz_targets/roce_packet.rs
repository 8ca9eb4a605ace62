//! Fuzz target: arbitrary bytes as a RoCEv2 UDP payload, as an IP packet and
//! as link-layer frames. Nothing may panic; whatever parses must re-emit to
//! the same bytes (pad and ICRC aside; by `emit` and by `emit_around`), and a
//! rebuilt IP packet must equal the input exactly when, and only when, the
//! input's ICRC verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use softroce::wire::frame::{self, LinkType};
use softroce::wire::ip::{emit_headers, RoceDatagram};
use softroce::wire::{icrc, PacketRepr, RocePacket};

/// Parses a UDP payload; if it parses, emit must reproduce it.
fn roce_round_trip(udp_payload: &[u8]) -> Option<Vec<u8>> {
    let repr = PacketRepr::parse(udp_payload).ok()?;
    let mut out = vec![0u8; repr.buffer_len()];
    assert_eq!(repr.emit(&mut out), Ok(udp_payload.len()));
    let view = RocePacket::new_checked(udp_payload).expect("parsed, so the view checks");
    let body = udp_payload.len() - 4 - view.pad().len();
    assert_eq!(
        out[..body],
        udp_payload[..body],
        "emit differs from parsed bytes"
    );
    assert!(out[body..].iter().all(|&b| b == 0));
    assert_eq!(PacketRepr::parse(&out), Ok(repr), "re-parse differs");
    // emit_around + the caller's own payload copy gives the same bytes.
    let mut around = vec![0x5Au8; out.len()];
    let n = repr.payload.len();
    assert_eq!(repr.emit_around(n, &mut around), Ok(out.len()));
    let hl = repr.header_len();
    around[hl..hl + n].copy_from_slice(repr.payload);
    assert_eq!(around, out, "emit_around differs from emit");
    Some(out)
}

/// Parses an IP packet; rebuilds it from the reprs and compares.
fn ip_round_trip(ip: &[u8]) {
    let verified = icrc::verify(ip).is_ok();
    let Ok(d) = RoceDatagram::parse(ip) else {
        return;
    };
    let Some(roce) = roce_round_trip(d.roce) else {
        return;
    };
    if d.ip_header.len() != d.ip.header_len() {
        return; // IPv4 options are not re-emitted.
    }
    let len = d.buffer_len();
    let mut out = vec![0u8; len];
    let hl = emit_headers(&d.ip, &d.udp, &mut out).expect("headers fit");
    assert_eq!(out[..hl], ip[..hl], "IP/UDP headers differ");
    out[hl..].copy_from_slice(&roce);
    icrc::fill(&mut out).expect("fill");
    let pad_zero = RocePacket::new_unchecked(d.roce)
        .pad()
        .iter()
        .all(|&b| b == 0);
    if pad_zero {
        assert_eq!(out[..] == ip[..len], verified, "rebuild vs ICRC verdict");
    }
}

fuzz_target!(|data: &[u8]| {
    let _ = roce_round_trip(data);
    ip_round_trip(data);
    for link in [
        LinkType::Ethernet,
        LinkType::LinuxSll,
        LinkType::LinuxSll2,
        LinkType::RawIp,
    ] {
        if let Ok(ip) = frame::ip_packet(link, data) {
            ip_round_trip(ip);
        }
    }
});
