//! Link layers seen in captures, stripped down to the IP packet: Ethernet II
//! (with 802.1Q / 802.1ad tags, read by `ethernet.rs`), Linux cooked capture v1 (SLL) and v2 (SLL2),
//! and raw IP. Owns these framings only; must not parse IP (the returned
//! slice may still carry link-layer padding after the IP packet, which the IP
//! length fields exclude).

use super::bytes::{check_len, get_u16};
use super::{Error, Result};

use super::ethernet::EthernetFrame;
pub use super::ethernet::{ETHERTYPE_IPV4, ETHERTYPE_IPV6, ETHERTYPE_QINQ, ETHERTYPE_VLAN};

const SLL_HEADER_LEN: usize = 16;
const SLL2_HEADER_LEN: usize = 20;

/// The link-layer framing of a capture (pcap LINKTYPE_* values in
/// [`LinkType::from_linktype`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II, LINKTYPE_ETHERNET (1).
    Ethernet,
    /// Linux cooked capture v1, LINKTYPE_LINUX_SLL (113).
    LinuxSll,
    /// Linux cooked capture v2, LINKTYPE_LINUX_SLL2 (276).
    LinuxSll2,
    /// Raw IPv4 or IPv6: LINKTYPE_RAW (101), LINKTYPE_IPV4 (228), LINKTYPE_IPV6 (229).
    RawIp,
}

impl LinkType {
    /// Maps a pcap/pcapng LINKTYPE value; `None` for framings not handled.
    pub const fn from_linktype(value: u32) -> Option<LinkType> {
        match value {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            // 12 and 14 are DLT_RAW on some BSDs, written as-is by old tools.
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            _ => None,
        }
    }
}

/// The IP packet inside a captured frame. `Unsupported` if the frame does not
/// carry IPv4 or IPv6; `Truncated` if the link header does not fit.
pub fn ip_packet(link: LinkType, frame: &[u8]) -> Result<&[u8]> {
    let (ethertype, rest) = match link {
        LinkType::Ethernet => ethernet(frame)?,
        LinkType::LinuxSll => {
            check_len(frame, SLL_HEADER_LEN)?;
            (get_u16(frame, 14..16), frame.get(SLL_HEADER_LEN..))
        }
        LinkType::LinuxSll2 => {
            check_len(frame, SLL2_HEADER_LEN)?;
            (get_u16(frame, 0..2), frame.get(SLL2_HEADER_LEN..))
        }
        LinkType::RawIp => return raw_ip(frame),
    };
    let rest = rest.ok_or(Error::Truncated)?;
    match ethertype {
        ETHERTYPE_IPV4 | ETHERTYPE_IPV6 => Ok(rest),
        _ => Err(Error::Unsupported),
    }
}

/// Skips the Ethernet header and up to two VLAN tags ([`EthernetFrame`]).
fn ethernet(frame: &[u8]) -> Result<(u16, Option<&[u8]>)> {
    let f = EthernetFrame::new_checked(frame)?;
    Ok((f.ethertype(), Some(f.payload())))
}

/// A raw-IP frame: accepted if it starts with version 4 or 6.
fn raw_ip(frame: &[u8]) -> Result<&[u8]> {
    match frame.first().map(|b| b >> 4) {
        Some(4 | 6) => Ok(frame),
        Some(_) => Err(Error::Unsupported),
        None => Err(Error::Truncated),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const IP: [u8; 4] = [0x45, 1, 2, 3];

    fn eth(tags: &[[u8; 4]], ethertype: u16) -> Vec<u8> {
        let mut f = vec![0xAA; 12];
        for t in tags {
            f.extend_from_slice(t);
        }
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(&IP);
        f
    }

    #[test]
    fn ethernet_with_and_without_vlan() {
        let f = eth(&[], ETHERTYPE_IPV4);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Ok(&IP[..]));
        let f = eth(&[[0x81, 0x00, 0x00, 0x05]], ETHERTYPE_IPV6);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Ok(&IP[..]));
        let f = eth(&[[0x88, 0xA8, 0, 1], [0x81, 0x00, 0, 2]], ETHERTYPE_IPV4);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Ok(&IP[..]));
        let f = eth(
            &[[0x81, 0, 0, 1], [0x81, 0, 0, 2], [0x81, 0, 0, 3]],
            ETHERTYPE_IPV4,
        );
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Err(Error::Unsupported));
        let f = eth(&[], 0x0806);
        assert_eq!(ip_packet(LinkType::Ethernet, &f), Err(Error::Unsupported));
        assert_eq!(
            ip_packet(LinkType::Ethernet, &f[..13]),
            Err(Error::Truncated)
        );
        let f = eth(&[[0x81, 0x00, 0x00, 0x05]], ETHERTYPE_IPV4);
        assert_eq!(
            ip_packet(LinkType::Ethernet, &f[..17]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn linux_cooked_v1_and_v2() {
        let mut sll = vec![0u8; 14];
        sll.extend_from_slice(&ETHERTYPE_IPV4.to_be_bytes());
        sll.extend_from_slice(&IP);
        assert_eq!(ip_packet(LinkType::LinuxSll, &sll), Ok(&IP[..]));
        let mut sll2 = ETHERTYPE_IPV6.to_be_bytes().to_vec();
        sll2.extend_from_slice(&[0u8; 18]);
        sll2.extend_from_slice(&IP);
        assert_eq!(ip_packet(LinkType::LinuxSll2, &sll2), Ok(&IP[..]));
        assert_eq!(
            ip_packet(LinkType::LinuxSll2, &sll2[..19]),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn raw_ip_and_linktypes() {
        assert_eq!(ip_packet(LinkType::RawIp, &IP), Ok(&IP[..]));
        assert_eq!(ip_packet(LinkType::RawIp, &[0x30]), Err(Error::Unsupported));
        assert_eq!(ip_packet(LinkType::RawIp, &[]), Err(Error::Truncated));
        assert_eq!(LinkType::from_linktype(1), Some(LinkType::Ethernet));
        assert_eq!(LinkType::from_linktype(276), Some(LinkType::LinuxSll2));
        assert_eq!(LinkType::from_linktype(113), Some(LinkType::LinuxSll));
        assert_eq!(LinkType::from_linktype(101), Some(LinkType::RawIp));
        assert_eq!(LinkType::from_linktype(127), None);
    }
}
