//! Classifying a received Ethernet frame (FCS stripped): a RoCEv2 datagram
//! for our address and port (with the IP header fields the ICRC covers),
//! an ARP packet, something that is not ours, or a frame addressed to our
//! RoCE endpoint that cannot be used (dropped, with the reason).
//! Owns the receive-side checks of the Ethernet, IP and UDP headers; must
//! not look past the UDP header (the RoCE bytes are opaque here) nor keep
//! state.
//!
//! "For us" means IP destination == `local`'s address, IP protocol / next
//! header UDP and UDP destination port == `local`'s port. Only such frames
//! are [`Classified::Dropped`]; anything we cannot tell is ours (too short
//! to show the port, other protocols, other addresses, non-first IPv4
//! fragments, malformed headers before the port) is [`Classified::NotOurs`]
//! and left to the OS stack. The checks, in order, for IPv4: header
//! checksum, fragment, total length within the frame, UDP length = total
//! length - header length, no options (the ICRC, as rxe computes it, only
//! covers a 20-byte header); for IPv6: no extension header before UDP,
//! payload length within the frame, UDP length = payload length.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::os::{Ipv4RxFields, Received, RxIp};
use crate::wire::arp::{ArpPacket, ArpRepr};
use crate::wire::ethernet::{EthernetFrame, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6};
use crate::wire::ip::UDP_PROTOCOL;
use crate::wire::ipv4::{self, Ipv4Packet};
use crate::wire::ipv6::{self, Ipv6Packet};
use crate::wire::udp::{self, UdpPacket};

/// Why a RoCEv2-for-us shaped frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Shorter than its headers say.
    Truncated,
    /// IPv4 header checksum wrong.
    BadIpChecksum,
    /// An IPv4 fragment (MF set or offset non-zero).
    Fragment,
    /// UDP length disagrees with the IP length.
    BadUdpLength,
    /// IPv6 with extension headers before UDP.
    Ipv6Extension,
    /// IPv4 with options (IHL > 5): the ICRC, as rxe computes it, covers a
    /// 20-byte header only, so it cannot be checked.
    Ipv4Options,
}

/// What a received frame is.
#[derive(Debug, Clone, Copy)]
pub enum Classified<'a> {
    /// A UDP datagram to our address and port: addresses, the IP fields
    /// the ICRC covers, and the UDP payload (BTH through ICRC, trimmed to
    /// the UDP length so Ethernet padding is left out).
    Roce(Received<'a>),
    /// An ARP packet (IPv4 over Ethernet).
    Arp(ArpRepr),
    /// Not ours: let the OS have it.
    NotOurs,
    /// Addressed to our RoCE endpoint but unusable.
    Dropped(DropReason),
}

/// Classifies one frame for the endpoint `local`. Never panics.
///
/// IRQL: any (pure, no allocation).
pub fn classify(frame: &[u8], local: SocketAddr) -> Classified<'_> {
    let Ok(eth) = EthernetFrame::new_checked(frame) else {
        return Classified::NotOurs;
    };
    let payload = eth.payload();
    match (eth.ethertype(), local.ip()) {
        (ETHERTYPE_ARP, _) => ArpPacket::new_checked(payload)
            .and_then(|p| ArpRepr::parse(&p))
            .map_or(Classified::NotOurs, Classified::Arp),
        (ETHERTYPE_IPV4, IpAddr::V4(ip)) => ipv4_frame(payload, ip, local.port()),
        (ETHERTYPE_IPV6, IpAddr::V6(ip)) => ipv6_frame(payload, ip, local.port()),
        _ => Classified::NotOurs,
    }
}

/// The UDP header at `at` in `packet`, if its destination port is `port`.
fn udp_to(packet: &[u8], at: usize, port: u16) -> Option<UdpPacket<&[u8]>> {
    let bytes = packet.get(at..)?;
    let udp = UdpPacket::new_unchecked(bytes);
    (bytes.len() >= udp::HEADER_LEN && udp.dst_port() == port).then_some(udp)
}

fn ipv4_frame(p: &[u8], local: Ipv4Addr, port: u16) -> Classified<'_> {
    let ip = Ipv4Packet::new_unchecked(p);
    let hl = ip.header_len();
    let ours = p.len() >= ipv4::HEADER_LEN
        && ip.version() == 4
        && hl >= ipv4::HEADER_LEN
        && ip.dst_addr() == local.octets()
        && ip.protocol() == UDP_PROTOCOL
        && ip.frag_offset() == 0;
    let Some(udp) = ours.then(|| udp_to(p, hl, port)).flatten() else {
        return Classified::NotOurs;
    };
    if !ip.verify_checksum() {
        return Classified::Dropped(DropReason::BadIpChecksum);
    }
    if ip.more_frags() {
        return Classified::Dropped(DropReason::Fragment);
    }
    let total = usize::from(ip.total_len());
    if total > p.len() {
        return Classified::Dropped(DropReason::Truncated);
    }
    let udp_len = usize::from(udp.len());
    if total < hl.saturating_add(udp::HEADER_LEN) || udp_len != total - hl {
        return Classified::Dropped(DropReason::BadUdpLength);
    }
    if hl != ipv4::HEADER_LEN {
        return Classified::Dropped(DropReason::Ipv4Options);
    }
    let fields = Ipv4RxFields {
        ihl: (hl / 4) as u8,
        total_length: ip.total_len(),
        identification: ip.ident(),
        flags_fragment: ip.flags_frag(),
    };
    let Some(payload) = p.get(hl + udp::HEADER_LEN..total) else {
        return Classified::Dropped(DropReason::Truncated);
    };
    Classified::Roce(Received {
        src: SocketAddr::new(Ipv4Addr::from(ip.src_addr()).into(), udp.src_port()),
        dst: SocketAddr::new(local.into(), port),
        ip: RxIp::V4(fields),
        payload,
    })
}

/// IPv6 extension headers that may stand between the fixed header and UDP
/// (RFC 8200 §4, RFC 7045): hop-by-hop, routing, fragment, destination
/// options, AH, mobility, HIP, shim6, experimental.
const fn is_extension(next_header: u8) -> bool {
    matches!(
        next_header,
        0 | 43 | 44 | 51 | 60 | 135 | 139 | 140 | 253 | 254
    )
}

/// At most this many extension headers are walked.
const MAX_EXTENSIONS: usize = 8;

/// Walks the extension headers after the fixed header: `true` if they lead
/// to a UDP header to `port` in the first (or only) fragment.
fn extensions_lead_to(p: &[u8], mut next: u8, port: u16) -> bool {
    let mut at = ipv6::HEADER_LEN;
    for _ in 0..MAX_EXTENSIONS {
        if next == UDP_PROTOCOL {
            return udp_to(p, at, port).is_some();
        }
        let Some(&[nh, len, off_hi, off_lo]) = p.get(at..).and_then(|h| h.first_chunk::<4>())
        else {
            return false;
        };
        let size = match next {
            44 => {
                // Fragment header: a non-first fragment has no UDP header.
                if u16::from_be_bytes([off_hi, off_lo]) & 0xFFF8 != 0 {
                    return false;
                }
                8
            }
            51 => (usize::from(len) + 2) * 4,
            n if is_extension(n) => (usize::from(len) + 1) * 8,
            _ => return false,
        };
        next = nh;
        at = at.saturating_add(size);
    }
    false
}

fn ipv6_frame(p: &[u8], local: Ipv6Addr, port: u16) -> Classified<'_> {
    let ip = Ipv6Packet::new_unchecked(p);
    if p.len() < ipv6::HEADER_LEN || ip.version() != 6 || ip.dst_addr() != local.octets() {
        return Classified::NotOurs;
    }
    let next = ip.next_header();
    if next != UDP_PROTOCOL {
        return if is_extension(next) && extensions_lead_to(p, next, port) {
            Classified::Dropped(DropReason::Ipv6Extension)
        } else {
            Classified::NotOurs
        };
    }
    let Some(udp) = udp_to(p, ipv6::HEADER_LEN, port) else {
        return Classified::NotOurs;
    };
    let payload_len = usize::from(ip.payload_len());
    let end = ipv6::HEADER_LEN + payload_len;
    if end > p.len() {
        return Classified::Dropped(DropReason::Truncated);
    }
    if payload_len < udp::HEADER_LEN || usize::from(udp.len()) != payload_len {
        return Classified::Dropped(DropReason::BadUdpLength);
    }
    let Some(payload) = p.get(ipv6::HEADER_LEN + udp::HEADER_LEN..end) else {
        return Classified::Dropped(DropReason::Truncated);
    };
    Classified::Roce(Received {
        src: SocketAddr::new(Ipv6Addr::from(ip.src_addr()).into(), udp.src_port()),
        dst: SocketAddr::new(local.into(), port),
        ip: RxIp::V6 {
            payload_length: ip.payload_len(),
        },
        payload,
    })
}
