//! Property tests of the frame receive path: `classify` never panics on
//! arbitrary, truncated or mutated frames; whatever it (and `on_frame`)
//! delivers lies inside the frame and has exactly the length the UDP header
//! of that frame says; and the drop reasons for hand-broken headers.

mod link_common;
mod wire_support;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use link_common::*;
use proptest::prelude::*;
use softroce::link::{classify, Classified, DropReason, FrameCarrier, FrameVerdict, Resolver};
use softroce::os::{DatagramSink, Received};
use softroce::wire::ipv4::internet_checksum;
use wire_support::{read_capture, CAPTURES};

/// The UDP length field of an untagged or tagged IPv4/IPv6 frame, read
/// here independently of the classifier.
fn udp_len_of(frame: &[u8]) -> Option<usize> {
    let mut at = 12;
    while matches!(frame.get(at..at + 2)?, [0x81, 0x00] | [0x88, 0xA8]) {
        at += 4;
    }
    let ip = at + 2;
    let udp = match frame.get(at..at + 2)? {
        [0x08, 0x00] => ip + usize::from(frame.get(ip)? & 0x0F) * 4,
        _ => ip + 40,
    };
    Some(usize::from(u16::from_be_bytes([
        *frame.get(udp + 4)?,
        *frame.get(udp + 5)?,
    ])))
}

/// Checks a classification against the frame; returns whether it delivered.
fn check(frame: &[u8], local: SocketAddr) -> Result<bool, TestCaseError> {
    if let Classified::Roce(r) = classify(frame, local) {
        prop_assert_eq!(r.dst, local);
        let start = r.payload.as_ptr() as usize - frame.as_ptr() as usize;
        prop_assert!(start + r.payload.len() <= frame.len());
        prop_assert_eq!(Some(r.payload.len() + 8), udp_len_of(frame));
        return Ok(true);
    }
    Ok(false)
}

/// Every 7th golden frame with its destination endpoint (read once).
fn golden() -> &'static [(Vec<u8>, SocketAddr)] {
    static FRAMES: std::sync::OnceLock<Vec<(Vec<u8>, SocketAddr)>> = std::sync::OnceLock::new();
    FRAMES.get_or_init(|| {
        CAPTURES
            .iter()
            .flat_map(|n| read_capture(n))
            .step_by(7)
            .map(|f| {
                let dst: [u8; 4] = f.data[30..34].try_into().unwrap();
                (f.data, SocketAddr::new(dst.into(), 4791))
            })
            .collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn arbitrary_frames_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200), six: bool) {
        let local = if six { roce(v6(1)) } else { roce(v4(1)) };
        check(&data, local)?;
    }

    #[test]
    fn mutated_golden_frames_never_panic_nor_lie(
        pick: prop::sample::Index,
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
        cut: prop::sample::Index,
        truncate: bool,
    ) {
        let frames = golden();
        let (mut f, local) = frames[pick.index(frames.len())].clone();
        for (at, x) in flips {
            let i = at.index(f.len());
            f[i] ^= x;
        }
        if truncate {
            f.truncate(cut.index(f.len() + 1));
        }
        check(&f, local)?;
    }
}

/// A sink that checks every delivery against the frame being processed.
struct Checker(std::sync::Mutex<Option<usize>>);
impl DatagramSink for Checker {
    fn on_datagram(&self, d: &Received<'_>) {
        let want = self
            .0
            .lock()
            .unwrap()
            .take()
            .expect("one delivery per frame");
        assert_eq!(d.payload.len() + 8, want);
    }
}

#[test]
fn on_frame_delivers_exactly_the_udp_length() {
    let sink = Arc::new(Checker(std::sync::Mutex::new(None)));
    let mut delivered = 0;
    for (f, local) in golden().iter().cloned() {
        let c = FrameCarrier::new(
            config(local.ip(), 1, Resolver::Arp),
            WirePort::default(),
            sink.clone(),
        )
        .unwrap();
        for cut in [f.len(), f.len() - 1, 60] {
            let g = &f[..cut.min(f.len())];
            *sink.0.lock().unwrap() = udp_len_of(g);
            if c.on_frame(g) == FrameVerdict::Consumed {
                delivered += 1;
                assert!(sink.0.lock().unwrap().is_none(), "sink called");
            }
        }
    }
    assert!(delivered > 100);
}

/// An IPv4 RoCE frame to 10.0.0.1:4791 with `roce_len` payload bytes.
fn v4_frame(roce_len: usize) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00];
    let total = 28 + roce_len;
    let mut ip = vec![
        0x45,
        0,
        (total >> 8) as u8,
        total as u8,
        0x12,
        0x34,
        0x40,
        0,
        64,
        17,
        0,
        0,
    ];
    ip.extend_from_slice(&[10, 0, 0, 2, 10, 0, 0, 1]);
    f.extend_from_slice(&ip);
    let ulen = 8 + roce_len;
    f.extend_from_slice(&[0xC0, 0, 0x12, 0xB7, (ulen >> 8) as u8, ulen as u8, 0, 0]);
    f.extend(std::iter::repeat_n(0x33, roce_len));
    fix_sum(&mut f);
    f
}

fn fix_sum(f: &mut [u8]) {
    let hl = usize::from(f[14] & 0x0F) * 4;
    f[24..26].fill(0);
    let s = internet_checksum(&f[14..14 + hl]);
    f[24..26].copy_from_slice(&s.to_be_bytes());
}

#[test]
fn drop_reasons() {
    let local = roce(v4(1));
    let verdict = |f: &[u8]| match classify(f, local) {
        Classified::Dropped(r) => Some(r),
        Classified::Roce(_) => None,
        other => panic!("{other:?}"),
    };
    assert_eq!(verdict(&v4_frame(20)), None);
    let mut f = v4_frame(20);
    f[24] ^= 1;
    assert_eq!(verdict(&f), Some(DropReason::BadIpChecksum));
    let mut f = v4_frame(20);
    f[20] = 0x20; // MF, DF clear
    fix_sum(&mut f);
    assert_eq!(verdict(&f), Some(DropReason::Fragment));
    let mut f = v4_frame(20);
    f[17] += 1; // total length one past the frame
    fix_sum(&mut f);
    assert_eq!(verdict(&f), Some(DropReason::Truncated));
    let mut f = v4_frame(20);
    f[39] -= 1; // UDP length one short
    assert_eq!(verdict(&f), Some(DropReason::BadUdpLength));
    // IHL 6 with a NOP option: the ICRC cannot cover it.
    let base = v4_frame(20);
    let mut f = base[..34].to_vec();
    f.extend_from_slice(&[1, 1, 1, 0]);
    f.extend_from_slice(&base[34..]);
    f[14] = 0x46;
    f[17] += 4;
    fix_sum(&mut f);
    assert_eq!(verdict(&f), Some(DropReason::Ipv4Options));
    // A non-first fragment shows no port: the OS gets it.
    let mut f = v4_frame(20);
    f[20..22].copy_from_slice(&[0, 8]);
    fix_sum(&mut f);
    assert!(matches!(classify(&f, local), Classified::NotOurs));
}

/// An IPv6 frame to fd00::1 whose next header is `nh`, then `ext`, then UDP
/// to `port`.
fn v6_frame(nh: u8, ext: &[u8], port: u16) -> Vec<u8> {
    let mut f = vec![2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x86, 0xDD];
    let plen = ext.len() + 8 + 20;
    f.extend_from_slice(&[0x60, 0, 0, 0, (plen >> 8) as u8, plen as u8, nh, 64]);
    let IpAddr::V6(src) = v6(2) else {
        unreachable!()
    };
    let IpAddr::V6(dst) = v6(1) else {
        unreachable!()
    };
    f.extend_from_slice(&src.octets());
    f.extend_from_slice(&dst.octets());
    f.extend_from_slice(ext);
    f.extend_from_slice(&[0xC0, 0, (port >> 8) as u8, port as u8, 0, 28, 0, 0]);
    f.extend(std::iter::repeat_n(0x33, 20));
    f
}

#[test]
fn ipv6_extension_headers_to_our_port_are_dropped_others_pass() {
    let local = roce(v6(1));
    assert!(matches!(
        classify(&v6_frame(17, &[], 4791), local),
        Classified::Roce(_)
    ));
    let hop_by_hop = [17, 0, 1, 4, 0, 0, 0, 0];
    let f = v6_frame(0, &hop_by_hop, 4791);
    assert!(matches!(
        classify(&f, local),
        Classified::Dropped(DropReason::Ipv6Extension)
    ));
    let f = v6_frame(0, &hop_by_hop, 53);
    assert!(matches!(classify(&f, local), Classified::NotOurs));
    // A first fragment to our port is dropped; a later one cannot be told.
    let first = [17, 0, 0, 1, 0, 0, 0, 9];
    let f = v6_frame(44, &first, 4791);
    assert!(matches!(
        classify(&f, local),
        Classified::Dropped(DropReason::Ipv6Extension)
    ));
    let later = [17, 0, 0, 0x11, 0, 0, 0, 9];
    assert!(matches!(
        classify(&v6_frame(44, &later, 4791), local),
        Classified::NotOurs
    ));
    let mut f = v6_frame(17, &[], 4791);
    f[59] = 27; // UDP length one short of the payload length
    assert!(matches!(
        classify(&f, local),
        Classified::Dropped(DropReason::BadUdpLength)
    ));
    let mut f = v6_frame(17, &[], 4791);
    f.pop();
    assert!(matches!(
        classify(&f, local),
        Classified::Dropped(DropReason::Truncated)
    ));
}
