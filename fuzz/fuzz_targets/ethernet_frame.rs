//! Fuzz target: arbitrary bytes as a received Ethernet frame, classified for
//! an IPv4 and an IPv6 endpoint. Nothing may panic; a delivered datagram
//! lies inside the frame, is addressed to the endpoint, and is exactly as
//! long as the UDP header of the frame says.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use libfuzzer_sys::fuzz_target;
use softroce::link::{classify, Classified};

fuzz_target!(|data: &[u8]| {
    let v4 = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11));
    let v6 = IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0x0a63, 0x000b));
    for ip in [v4, v6] {
        let local = SocketAddr::new(ip, 4791);
        if let Classified::Roce(r) = classify(data, local) {
            assert_eq!(r.dst, local);
            let start = r.payload.as_ptr() as usize - data.as_ptr() as usize;
            let end = start + r.payload.len();
            assert!(end <= data.len());
            // The UDP length field sits right before the payload (6 bytes back).
            let udp_len = u16::from_be_bytes([data[start - 4], data[start - 3]]);
            assert_eq!(usize::from(udp_len), r.payload.len() + 8);
        }
    }
});
