//! Pure byte-level helpers of the WSK carrier, shared with the host tests
//! (`tests/windows_helpers.rs` includes this file by path): SOCKADDR_IN /
//! SOCKADDR_IN6 encoding and decoding (ws2def.h / ws2ipdef.h layouts: family
//! little-endian, port and IPv4 address in network order, IPv6 flow info and
//! scope id little-endian), the walk over WSK control data (CMSGHDR, x64:
//! `SIZE_T cmsg_len; INT cmsg_level; INT cmsg_type;`, data and the next
//! header 8-byte aligned) for IP_PKTINFO / IPV6_PKTINFO, and what the carrier
//! reports about a received datagram's IP header.
//!
//! Owns: those pure functions. Must not touch pointers or the kernel.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

/// `AF_INET` / `AF_INET6` (Windows values).
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 23;
/// `sizeof(SOCKADDR_IN)` and `sizeof(SOCKADDR_IN6)`.
pub const SOCKADDR_IN_LEN: usize = 16;
pub const SOCKADDR_IN6_LEN: usize = 28;
/// Bytes that hold either.
pub const SOCKADDR_MAX: usize = SOCKADDR_IN6_LEN;

/// Level/type of the packet-info control messages (ws2ipdef.h).
pub const IPPROTO_IP: i32 = 0;
pub const IPPROTO_IPV6: i32 = 41;
pub const IP_PKTINFO: i32 = 19;
pub const IPV6_PKTINFO: i32 = 19;

/// `sizeof(CMSGHDR)` on x64 and the data alignment (`CMSGDATA_ALIGN`).
const CMSG_HDR: usize = 16;
const CMSG_ALIGN: usize = 8;

/// A SOCKADDR_IN/IN6 for `addr`, in a buffer large enough for either, and
/// the length that is meaningful.
///
/// IRQL: any (pure).
pub fn encode(addr: SocketAddr) -> ([u8; SOCKADDR_MAX], usize) {
    let mut b = [0u8; SOCKADDR_MAX];
    match addr {
        SocketAddr::V4(a) => {
            b[0..2].copy_from_slice(&AF_INET.to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.ip().octets());
            (b, SOCKADDR_IN_LEN)
        }
        SocketAddr::V6(a) => {
            b[0..2].copy_from_slice(&AF_INET6.to_le_bytes());
            b[2..4].copy_from_slice(&a.port().to_be_bytes());
            b[4..8].copy_from_slice(&a.flowinfo().to_le_bytes());
            b[8..24].copy_from_slice(&a.ip().octets());
            b[24..28].copy_from_slice(&a.scope_id().to_le_bytes());
            (b, SOCKADDR_IN6_LEN)
        }
    }
}

/// The family of a SOCKADDR whose first two bytes are `head`.
///
/// IRQL: any (pure).
pub fn family(head: [u8; 2]) -> u16 {
    u16::from_le_bytes(head)
}

/// How many bytes a SOCKADDR of `family` has, or `None` for other families.
///
/// IRQL: any (pure).
pub fn len_of_family(family: u16) -> Option<usize> {
    match family {
        AF_INET => Some(SOCKADDR_IN_LEN),
        AF_INET6 => Some(SOCKADDR_IN6_LEN),
        _ => None,
    }
}

/// Decodes a SOCKADDR_IN or SOCKADDR_IN6; `None` if short or another family.
///
/// IRQL: any (pure).
pub fn decode(b: &[u8]) -> Option<SocketAddr> {
    let fam = family(b.get(0..2)?.try_into().ok()?);
    let port = u16::from_be_bytes(b.get(2..4)?.try_into().ok()?);
    match fam {
        AF_INET => {
            let ip: [u8; 4] = b.get(4..8)?.try_into().ok()?;
            Some(SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::from(ip), port)))
        }
        AF_INET6 => {
            let flow = u32::from_le_bytes(b.get(4..8)?.try_into().ok()?);
            let ip: [u8; 16] = b.get(8..24)?.try_into().ok()?;
            let scope = u32::from_le_bytes(b.get(24..28)?.try_into().ok()?);
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(ip),
                port,
                flow,
                scope,
            )))
        }
        _ => None,
    }
}

/// IRQL: any.
fn align_up(n: usize) -> Option<usize> {
    Some(n.checked_add(CMSG_ALIGN - 1)? & !(CMSG_ALIGN - 1))
}

/// The destination address in WSK control data: the first IPV6_PKTINFO
/// (`want_v6`) or IP_PKTINFO message's address. `None` if absent or
/// malformed (a length that runs past the buffer ends the walk).
///
/// IRQL: any (pure).
pub fn find_pktinfo(control: &[u8], want_v6: bool) -> Option<IpAddr> {
    let (level, kind, len) = if want_v6 {
        (IPPROTO_IPV6, IPV6_PKTINFO, 16)
    } else {
        (IPPROTO_IP, IP_PKTINFO, 4)
    };
    let mut at = 0usize;
    while at.checked_add(CMSG_HDR)? <= control.len() {
        let hdr = control.get(at..at + CMSG_HDR)?;
        let cmsg_len = usize::try_from(u64::from_le_bytes(hdr[0..8].try_into().ok()?)).ok()?;
        let cmsg_level = i32::from_le_bytes(hdr[8..12].try_into().ok()?);
        let cmsg_type = i32::from_le_bytes(hdr[12..16].try_into().ok()?);
        if cmsg_len < CMSG_HDR || at.checked_add(cmsg_len)? > control.len() {
            return None;
        }
        if cmsg_level == level && cmsg_type == kind {
            let data = control.get(at + CMSG_HDR..at + cmsg_len)?;
            let addr = data.get(..len)?;
            return Some(if want_v6 {
                let a: [u8; 16] = addr.try_into().ok()?;
                IpAddr::V6(Ipv6Addr::from(a))
            } else {
                let a: [u8; 4] = addr.try_into().ok()?;
                IpAddr::V4(Ipv4Addr::from(a))
            });
        }
        at = align_up(at.checked_add(cmsg_len)?)?;
    }
    None
}

/// One control message (for tests and for building send control data).
///
/// IRQL: any (pure).
pub fn cmsg(level: i32, kind: i32, data: &[u8], out: &mut [u8]) -> Option<usize> {
    let len = CMSG_HDR.checked_add(data.len())?;
    let total = align_up(len)?;
    let o = out.get_mut(..total)?;
    o.fill(0);
    o[0..8].copy_from_slice(&(len as u64).to_le_bytes());
    o[8..12].copy_from_slice(&level.to_le_bytes());
    o[12..16].copy_from_slice(&kind.to_le_bytes());
    o[CMSG_HDR..len].copy_from_slice(data);
    Some(total)
}
