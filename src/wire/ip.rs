//! RoCEv2 over IP: [`IpRepr`] (IPv4 or IPv6), locating the UDP/4791 payload
//! inside an IP packet ([`RoceDatagram`], [`split_mut`]) and building the
//! IP + UDP headers for a RoCE payload ([`emit_roce_headers`]).
//! Owns the framing between IP and the BTH; must not pick IP identification,
//! TTL/hop limit, traffic class or source port (all inputs).

use core::fmt;

use super::ipv4::{self, Ipv4Packet, Ipv4Repr};
use super::ipv6::{self, Ipv6Packet, Ipv6Repr};
use super::udp::{self, UdpPacket, UdpRepr};
use super::{Error, Result, ROCE_V2_UDP_PORT};

/// The IP protocol / next-header number of UDP.
pub const UDP_PROTOCOL: u8 = 17;

/// An IPv4 or IPv6 header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IpRepr {
    V4(Ipv4Repr),
    V6(Ipv6Repr),
}

impl IpRepr {
    /// 20 or 40.
    pub const fn header_len(&self) -> usize {
        match self {
            IpRepr::V4(_) => ipv4::HEADER_LEN,
            IpRepr::V6(_) => ipv6::HEADER_LEN,
        }
    }

    /// Bytes after the header.
    pub const fn payload_len(&self) -> usize {
        match self {
            IpRepr::V4(r) => r.payload_len,
            IpRepr::V6(r) => r.payload_len,
        }
    }

    /// The upper-layer protocol (IPv4 protocol, IPv6 next header).
    pub const fn protocol(&self) -> u8 {
        match self {
            IpRepr::V4(r) => r.protocol,
            IpRepr::V6(r) => r.next_header,
        }
    }

    /// Writes the header into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        match self {
            IpRepr::V4(r) => r.emit(buf),
            IpRepr::V6(r) => r.emit(buf),
        }
    }
}

impl fmt::Display for IpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IpRepr::V4(r) => write!(f, "{r}"),
            IpRepr::V6(r) => write!(f, "{r}"),
        }
    }
}

/// Where the parts of a UDP-in-IP packet lie: IP header length and the end
/// of the UDP datagram (by the UDP length field).
fn layout(ip_packet: &[u8]) -> Result<(usize, usize)> {
    let first = ip_packet.first().copied().ok_or(Error::Truncated)?;
    let (header_len, ip_end) = match first >> 4 {
        4 => {
            let p = Ipv4Packet::new_checked(ip_packet)?;
            if p.protocol() != UDP_PROTOCOL {
                return Err(Error::Unsupported);
            }
            if p.more_frags() || p.frag_offset() != 0 {
                return Err(Error::Unsupported);
            }
            (p.header_len(), usize::from(p.total_len()))
        }
        6 => {
            let p = Ipv6Packet::new_checked(ip_packet)?;
            if p.next_header() != UDP_PROTOCOL {
                return Err(Error::Unsupported);
            }
            (
                ipv6::HEADER_LEN,
                ipv6::HEADER_LEN + usize::from(p.payload_len()),
            )
        }
        _ => return Err(Error::Malformed),
    };
    let ip_payload = ip_packet.get(header_len..ip_end).ok_or(Error::Truncated)?;
    let udp = UdpPacket::new_checked(ip_payload)?;
    Ok((header_len, header_len + usize::from(udp.len())))
}

/// Splits a UDP-in-IP packet (any port) into IP header, UDP header and UDP
/// payload, writable (for `icrc::fill`). Link-layer padding is left out.
pub fn split_mut(ip_packet: &mut [u8]) -> Result<(&mut [u8], &mut [u8], &mut [u8])> {
    let (hl, end) = layout(ip_packet)?;
    let packet = ip_packet.get_mut(..end).ok_or(Error::Truncated)?;
    let (ip, rest) = packet.split_at_mut(hl);
    let (udp, payload) = rest.split_at_mut(udp::HEADER_LEN.min(rest.len()));
    Ok((ip, udp, payload))
}

/// Splits a UDP-in-IP packet (any port) into IP header, UDP header and payload.
pub fn split(ip_packet: &[u8]) -> Result<(&[u8], &[u8], &[u8])> {
    let (hl, end) = layout(ip_packet)?;
    let packet = ip_packet.get(..end).ok_or(Error::Truncated)?;
    let (ip, rest) = packet.split_at(hl);
    let (udp, payload) = rest.split_at(udp::HEADER_LEN.min(rest.len()));
    Ok((ip, udp, payload))
}

/// A RoCEv2 datagram found in an IP packet: the parsed IP and UDP headers,
/// their raw bytes (for the ICRC) and the RoCE bytes (BTH through ICRC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RoceDatagram<'a> {
    pub ip: IpRepr,
    pub udp: UdpRepr,
    pub ip_header: &'a [u8],
    pub udp_header: &'a [u8],
    pub roce: &'a [u8],
}

impl<'a> RoceDatagram<'a> {
    /// Parses an IP packet down to the UDP payload. `Unsupported` if it is not
    /// UDP to port 4791 or is a fragment; IPv4 checksum errors and a UDP length
    /// other than the IP payload length are `Malformed`.
    pub fn parse(ip_packet: &'a [u8]) -> Result<RoceDatagram<'a>> {
        let (ip_header, udp_header, roce) = split(ip_packet)?;
        let ip = match ip_packet.first().map(|b| b >> 4) {
            Some(4) => IpRepr::V4(Ipv4Repr::parse(&Ipv4Packet::new_checked(ip_packet)?)?),
            _ => IpRepr::V6(Ipv6Repr::parse(&Ipv6Packet::new_checked(ip_packet)?)?),
        };
        let udp_bytes = ip_packet.get(ip_header.len()..).ok_or(Error::Truncated)?;
        let udp = UdpRepr::parse(&UdpPacket::new_checked(udp_bytes)?)?;
        if udp.dst_port != ROCE_V2_UDP_PORT {
            return Err(Error::Unsupported);
        }
        // Linux would trim bytes after the UDP length; no RoCE sender adds
        // any, and keeping the lengths equal keeps re-emission exact.
        if udp.buffer_len() != ip.payload_len() {
            return Err(Error::Malformed);
        }
        Ok(RoceDatagram {
            ip,
            udp,
            ip_header,
            udp_header,
            roce,
        })
    }

    /// The IP packet's length: IP header (options included) + UDP header +
    /// RoCE bytes. Re-emitting from the reprs drops IPv4 options.
    pub fn buffer_len(&self) -> usize {
        self.ip_header
            .len()
            .saturating_add(self.udp_header.len())
            .saturating_add(self.roce.len())
    }
}

impl fmt::Display for RoceDatagram<'_> {
    /// The IP and UDP headers, then the transport packet (or why it does not parse).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} | {} | ", self.ip, self.udp)?;
        match super::packet::PacketRepr::parse(self.roce) {
            Ok(repr) => write!(f, "{repr}"),
            Err(err) => write!(f, "RoCE ({err})"),
        }
    }
}

/// Writes IP and UDP headers for a RoCE payload of `roce_len` bytes (BTH
/// through ICRC) at the start of `buf`, the way rxe does: UDP to 4791 from
/// `src_port` with checksum 0, IP protocol 17 and lengths from `roce_len`;
/// all other IP fields come from `ip`. Returns the header length (28 or 48);
/// the RoCE bytes go right after it.
pub fn emit_roce_headers(
    ip: &IpRepr,
    src_port: u16,
    roce_len: usize,
    buf: &mut [u8],
) -> Result<usize> {
    let udp = UdpRepr {
        src_port,
        dst_port: ROCE_V2_UDP_PORT,
        checksum: 0,
        payload_len: roce_len,
    };
    let ip = match *ip {
        IpRepr::V4(r) => IpRepr::V4(Ipv4Repr {
            protocol: UDP_PROTOCOL,
            payload_len: udp.buffer_len(),
            ..r
        }),
        IpRepr::V6(r) => IpRepr::V6(Ipv6Repr {
            next_header: UDP_PROTOCOL,
            payload_len: udp.buffer_len(),
            ..r
        }),
    };
    emit_headers(&ip, &udp, buf)
}

/// Writes `ip` then `udp` exactly as given (lengths included) at the start
/// of `buf`. Returns the header length.
pub fn emit_headers(ip: &IpRepr, udp: &UdpRepr, buf: &mut [u8]) -> Result<usize> {
    let hl = ip.header_len();
    let total = hl + udp::HEADER_LEN;
    let out = buf.get_mut(..total).ok_or(Error::Truncated)?;
    let (ip_buf, udp_buf) = out.split_at_mut(hl);
    ip.emit(ip_buf)?;
    udp.emit(udp_buf)?;
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vector B of ROCE-FACTS §2 (IPv4, UDP, UC SEND_ONLY).
    const VECTOR_B: [u8; 64] = [
        0x45, 0x01, 0x00, 0x40, 0x04, 0x78, 0x40, 0x00, 0x40, 0x11, 0xb4, 0xd5, 0xc0, 0xa8, 0x00,
        0x07, 0xc0, 0xa8, 0x00, 0x07, 0xc0, 0x00, 0x12, 0xb7, 0x00, 0x2c, 0xac, 0xa2, 0x24, 0x60,
        0xff, 0xff, 0x00, 0x00, 0x00, 0xd3, 0x00, 0xcf, 0x17, 0x10, 0x46, 0x30, 0x81, 0x8b, 0xe2,
        0x89, 0x35, 0xd9, 0x0e, 0x9a, 0x95, 0x50, 0x54, 0x01, 0xbe, 0x88, 0x5e, 0x50, 0x00, 0x00,
        0x78, 0xf3, 0x53, 0xf3,
    ];

    #[test]
    fn finds_the_roce_bytes_and_ignores_link_padding() {
        let mut framed = [0u8; 70];
        framed[..64].copy_from_slice(&VECTOR_B);
        let d = RoceDatagram::parse(&framed).unwrap();
        assert_eq!(d.udp.src_port, 0xC000);
        assert_eq!(d.udp.checksum, 0xaca2);
        assert_eq!(d.roce, &VECTOR_B[28..]);
        assert_eq!(d.buffer_len(), 64);
        let IpRepr::V4(v4) = d.ip else {
            panic!("not IPv4")
        };
        assert_eq!((v4.tos, v4.ttl, v4.ident), (0x01, 0x40, 0x0478));
        assert_eq!(
            d.to_string(),
            "IPv4 192.168.0.7 > 192.168.0.7 tos=0x01 id=1144 ttl=64 proto=17 len=44 \
             | UDP 49152 > 4791 len=36 csum=0xaca2 \
             | BTH UC_SEND_ONLY pkey=0xffff dqp=0x0000d3 psn=13571856 M pad=2 | payload 18 B"
        );
    }

    #[test]
    fn rejects_other_ports_protocols_and_length_mismatch() {
        let mut p = VECTOR_B;
        p[23] = 0xB8; // dport 4792
        assert_eq!(RoceDatagram::parse(&p), Err(Error::Unsupported));
        let mut p = VECTOR_B;
        p[25] -= 4; // UDP shorter than the IP payload
        assert_eq!(RoceDatagram::parse(&p), Err(Error::Malformed));
        assert!(split(&p).is_ok(), "split follows the UDP length");
        let mut p = VECTOR_B;
        p[9] = 6; // TCP
        assert_eq!(RoceDatagram::parse(&p), Err(Error::Unsupported));
    }

    #[test]
    fn ipv4_options_are_skipped() {
        // Vector B with a 4-byte option (IHL 6): the RoCE bytes are still found.
        let mut p = [0u8; 68];
        p[..20].copy_from_slice(&VECTOR_B[..20]);
        p[0] = 0x46;
        p[3] = 0x44;
        p[20..24].copy_from_slice(&[1, 1, 1, 0]); // NOP NOP NOP EOL
        p[24..].copy_from_slice(&VECTOR_B[20..]);
        let mut v = crate::wire::ipv4::Ipv4Packet::new_unchecked(&mut p[..]);
        v.fill_checksum();
        let d = RoceDatagram::parse(&p).unwrap();
        assert_eq!(d.ip_header.len(), 24);
        assert_eq!(d.roce, &VECTOR_B[28..]);
        assert_eq!(d.buffer_len(), 68);
        // The ICRC only covers 20-byte IPv4 headers (as rxe).
        assert_eq!(crate::wire::icrc::verify(&p), Err(Error::Unsupported));
    }

    #[test]
    fn rxe_style_headers() {
        let d = RoceDatagram::parse(&VECTOR_B).unwrap();
        let mut out = [0u8; 28];
        assert_eq!(emit_roce_headers(&d.ip, 0xC000, 36, &mut out), Ok(28));
        // Same as the vector except the UDP checksum, which rxe sends as 0.
        assert_eq!(out[..26], VECTOR_B[..26]);
        assert_eq!(out[26..28], [0, 0]);
        assert_eq!(
            emit_roce_headers(&d.ip, 1, 36, &mut out[..27]),
            Err(Error::Truncated)
        );
    }
}
