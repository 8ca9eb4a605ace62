//! The frame carrier builds exactly the IP/UDP headers the core computed
//! its ICRC over: a MAD sealed by the core's own framing (`ndk::qp1`, with
//! the carrier's `tx_ipv4()`) goes through a [`FrameCarrier`], and the
//! captured frame verifies with `wire::icrc` over the received IP packet,
//! and passes the core's own receive check (`qp1::classify`) after
//! [`classify`](super::classify::classify), and the shared independent
//! Python ICRC (`../shared/tools/icrc_check.py`, when python3 and the file
//! are there) agrees. Owns these tests only.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;

use super::{FrameCarrier, FrameConfig, LinkPort, Resolver};
use crate::ndk::qp1::{self, Rx, MAD_PACKET_LEN};
use crate::os::{Carrier, DatagramSink, Instant, Received, RxIp, SendError};
use crate::wire::ethernet::EthernetFrame;
use crate::wire::mad::MAD_LEN;
use crate::wire::{icrc, ROCE_V2_UDP_PORT};

#[derive(Default)]
struct Capture(Mutex<Vec<Vec<u8>>>);

impl LinkPort for Capture {
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        let mut buf = alloc::vec![0xA5; len];
        fill(&mut buf);
        self.0.lock().unwrap().push(buf);
        Ok(())
    }
    fn request_resolution(&self, _: IpAddr) {}
    fn now(&self) -> Instant {
        Instant::from_nanos(0)
    }
}

struct Nobody;
impl DatagramSink for Nobody {
    fn on_datagram(&self, _: &Received<'_>) {}
}

fn carrier(local: IpAddr) -> FrameCarrier<Capture> {
    let config = FrameConfig {
        local: SocketAddr::new(local, ROCE_V2_UDP_PORT),
        mac: [2, 0, 0, 0, 0, 1],
        ip_mtu: 1500,
        vlan: None,
        traffic_class: 0x68,
        hop_limit: 64,
        resolver: Resolver::Os,
        neighbours: 4,
        pending: 0,
    };
    FrameCarrier::new(config, Capture::default(), Arc::new(Nobody)).unwrap()
}

/// Seals a MAD with the core's framing, sends it, returns the frame.
fn sealed_frame(local: IpAddr, peer: IpAddr) -> (Vec<u8>, [u8; MAD_LEN]) {
    let a = carrier(local);
    a.neighbour_resolved(peer, [2, 0, 0, 0, 0, 2]);
    let mut mad = [0u8; MAD_LEN];
    for (i, b) in mad.iter_mut().enumerate() {
        *b = i as u8;
    }
    let mut buf = [0u8; MAD_PACKET_LEN];
    let len = qp1::frame_mad(&mut buf, a.local_addr(), peer, 7, &mad, a.tx_ipv4()).unwrap();
    a.send(SocketAddr::new(peer, ROCE_V2_UDP_PORT), &buf[..len])
        .unwrap();
    let mut frames = a.port().0.lock().unwrap();
    assert_eq!(frames.len(), 1);
    (frames.remove(0), mad)
}

fn check(local: IpAddr, peer: IpAddr) {
    let (frame, mad) = sealed_frame(local, peer);
    let ip_packet = EthernetFrame::new_checked(&frame[..]).unwrap().payload();
    assert_eq!(icrc::verify(ip_packet), Ok(()), "wire::icrc over the frame");
    // A wrong ID (what a socket carrier might stamp) breaks it: the test can fail.
    if local.is_ipv4() {
        let mut bad = ip_packet.to_vec();
        bad[5] = 1;
        assert_eq!(icrc::verify(&bad), Err(crate::wire::Error::BadIcrc));
    }
    python_icrc_agrees(ip_packet);
    let peer_side = SocketAddr::new(peer, ROCE_V2_UDP_PORT);
    let super::Classified::Roce(received) = super::classify(&frame, peer_side) else {
        panic!("not delivered");
    };
    if let RxIp::V4(f) = received.ip {
        assert_eq!((f.ihl, f.identification, f.flags_fragment), (5, 0, 0x4000));
    }
    assert_eq!(qp1::classify(&received), Rx::Mad(local, &mad[..]));
}

/// Runs `icrc_v2` of the shared tool over the IP packet (ICRC excluded) and
/// compares with the trailer. Skipped (with a note) without python3 or the tool.
fn python_icrc_agrees(ip_packet: &[u8]) {
    let tools = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/tools");
    if !tools.join("icrc_check.py").exists() {
        std::eprintln!("skipped: no ../shared/tools/icrc_check.py");
        return;
    }
    let hex: alloc::string::String = ip_packet.iter().map(|b| std::format!("{b:02x}")).collect();
    let script = "import sys; sys.path.insert(0, sys.argv[1]); import icrc_check as m; \
                  p = bytes.fromhex(sys.argv[2]); \
                  print('ICRC-OK' if m.icrc_v2(p[:-4]) == p[-4:] else 'ICRC-BAD')";
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&tools)
        .arg(&hex)
        .output();
    let Ok(out) = out else {
        std::eprintln!("skipped: no python3");
        return;
    };
    let text = alloc::string::String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().last(), Some("ICRC-OK"), "{text}");
}

#[test]
fn a_core_sealed_ipv4_mad_verifies_after_framing() {
    check(
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
    );
}

#[test]
fn a_core_sealed_ipv6_mad_verifies_after_framing() {
    check(
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)),
    );
}
