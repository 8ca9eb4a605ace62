//! RDMA-CM conventions on top of IB CM (IBA Annex A11 "RDMA IP CM"): service
//! IDs built from a port space and a port, the 36-byte CMA header at the start
//! of a REQ's private data ([`CmaHdrPacket`] view, [`CmaHdrRepr`]), and the
//! IPv4-mapped GID helpers.
//! Owns these layouts only; must not know the CM message that carries them.

use core::fmt;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::be::{self, wire_view, Bits};
use super::{Error, Result};

/// Port space of IPoIB.
pub const RDMA_PS_IPOIB: u16 = 0x0002;
/// Port space of TCP (rping, RC connections).
pub const RDMA_PS_TCP: u16 = 0x0106;
/// Port space of UDP (UD, SIDR).
pub const RDMA_PS_UDP: u16 = 0x0111;
/// Port space of native IB addressing (AF_IB).
pub const RDMA_PS_IB: u16 = 0x013F;

/// The RDMA IP CM service-ID prefix 0x0000000001xxxxxx ...
pub const IP_CM_SID_PREFIX: u64 = 0x0000_0000_0100_0000;
/// ... under this mask.
pub const IP_CM_SID_MASK: u64 = 0xFFFF_FFFF_FF00_0000;

/// The service ID rdma_cm uses for `port` in port space `ps`: `ps << 16 | port`.
pub const fn service_id(ps: u16, port: u16) -> u64 {
    ((ps as u64) << 16) | port as u64
}

/// `(port space, port)` of a service ID with the IP CM prefix, else `None`.
pub const fn parse_service_id(sid: u64) -> Option<(u16, u16)> {
    if sid & IP_CM_SID_MASK == IP_CM_SID_PREFIX {
        Some(((sid >> 16) as u16, sid as u16))
    } else {
        None
    }
}

/// The GID of an IPv4 address: `::ffff:a.b.c.d`.
pub const fn ipv4_mapped_gid(addr: Ipv4Addr) -> [u8; 16] {
    addr.to_ipv6_mapped().octets()
}

/// The IPv4 address of an IPv4-mapped GID, else `None`.
pub fn gid_ipv4(gid: &[u8; 16]) -> Option<Ipv4Addr> {
    Ipv6Addr::from(*gid).to_ipv4_mapped()
}

/// The IP address a RoCEv2 GID stands for (IPv4 when it is IPv4-mapped).
pub fn gid_ip(gid: &[u8; 16]) -> IpAddr {
    match gid_ipv4(gid) {
        Some(v4) => IpAddr::V4(v4),
        None => IpAddr::V6(Ipv6Addr::from(*gid)),
    }
}

/// Displays a GID as its IP address (dotted IPv4 when IPv4-mapped).
#[derive(Debug, Clone, Copy)]
pub struct GidDisplay<'a>(pub &'a [u8; 16]);

impl fmt::Display for GidDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", gid_ip(self.0))
    }
}

/// The RoCEv2 UDP source port Linux derives from a path's 20-bit flow label
/// (the REQ's Primary Flow Label): the low 14 bits XOR the high 6 bits, in
/// the range 0xC000..=0xFFFF. The rxe captures show every RC packet of an
/// rdma_cm connection leaving from this port.
pub const fn flow_label_udp_sport(flow_label: u32) -> u16 {
    let low = flow_label & 0x3FFF;
    let high = (flow_label & 0xF_C000) >> 14;
    (0xC000 | (low ^ high)) as u16
}

/// Length of the CMA header.
pub const CMA_HDR_LEN: usize = 36;
/// The only CMA header version.
pub const CMA_VERSION: u8 = 0;

mod field {
    use super::Bits;
    use crate::wire::field::{Field, Rest};

    pub const VERSION: Field = 0..1;
    pub const IP_VERSION: Bits = Bits::at(1, 7, 4);
    pub const RESV: Bits = Bits::at(1, 3, 0);
    pub const SRC_PORT: Field = 2..4;
    pub const SRC_ADDR: usize = 4;
    pub const DST_ADDR: usize = 20;
    /// The consumer's private data after the header.
    pub const USER_DATA: Rest = 36..;
}

wire_view! {
    /// A view of the 36-byte CMA header.
    CmaHdrPacket, CmaHdrRepr, CMA_HDR_LEN, "CMA header";
    /// CMA version (IP CM MajV/MinV nibbles); 0.
    version, set_version: u8 = be(field::VERSION);
    /// 4 or 6.
    ip_version, set_ip_version: u8 = bits(field::IP_VERSION);
    resv, set_resv: u8 = bits(field::RESV);
    /// The active side's source port.
    src_port, set_src_port: u16 = be(field::SRC_PORT);
}

impl<T: AsRef<[u8]>> CmaHdrPacket<T> {
    /// The raw 16-byte source address field.
    pub fn src_addr_raw(&self) -> [u8; 16] {
        be::array(self.buffer.as_ref(), field::SRC_ADDR)
    }
    /// The raw 16-byte destination address field.
    pub fn dst_addr_raw(&self) -> [u8; 16] {
        be::array(self.buffer.as_ref(), field::DST_ADDR)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmaHdrPacket<&'a T> {
    /// The bytes after the header (the consumer's private data when the view
    /// wraps a whole REQ private data field).
    pub fn user_data(&self) -> &'a [u8] {
        self.buffer.as_ref().get(field::USER_DATA).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmaHdrPacket<T> {
    pub fn set_src_addr_raw(&mut self, raw: &[u8; 16]) {
        be::put(self.buffer.as_mut(), field::SRC_ADDR, raw);
    }
    pub fn set_dst_addr_raw(&mut self, raw: &[u8; 16]) {
        be::put(self.buffer.as_mut(), field::DST_ADDR, raw);
    }
}

/// The CMA header. Source and destination have the same IP version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmaHdrRepr {
    /// 0 (rdma_cm rejects anything else; kept raw here).
    pub version: u8,
    pub src_port: u16,
    pub src_addr: IpAddr,
    pub dst_addr: IpAddr,
}

/// An IPv4 address field: 12 zero bytes then the address.
fn v4_field(raw: &[u8; 16]) -> Result<Ipv4Addr> {
    match raw {
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, a, b, c, d] => Ok(Ipv4Addr::new(*a, *b, *c, *d)),
        _ => Err(Error::Malformed),
    }
}

fn v4_raw(addr: Ipv4Addr) -> [u8; 16] {
    let mut raw = [0u8; 16];
    be::put(&mut raw, 12, &addr.octets());
    raw
}

impl CmaHdrRepr {
    /// Parses the header. `Unsupported` for an IP version other than 4 or 6;
    /// `Malformed` if the reserved nibble or the padding before an IPv4
    /// address is nonzero (Linux writes zeros there), so emit is exact.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmaHdrPacket<&T>) -> Result<CmaHdrRepr> {
        p.check_len()?;
        if p.resv() != 0 {
            return Err(Error::Malformed);
        }
        let (src_addr, dst_addr) = match p.ip_version() {
            4 => (
                IpAddr::V4(v4_field(&p.src_addr_raw())?),
                IpAddr::V4(v4_field(&p.dst_addr_raw())?),
            ),
            6 => (
                IpAddr::V6(Ipv6Addr::from(p.src_addr_raw())),
                IpAddr::V6(Ipv6Addr::from(p.dst_addr_raw())),
            ),
            _ => return Err(Error::Unsupported),
        };
        Ok(CmaHdrRepr {
            version: p.version(),
            src_port: p.src_port(),
            src_addr,
            dst_addr,
        })
    }

    /// Writes the header. `Malformed` if source and destination differ in IP
    /// version (the header has one version nibble for both).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmaHdrPacket<T>) -> Result<()> {
        let (ipv, src, dst) = match (self.src_addr, self.dst_addr) {
            (IpAddr::V4(s), IpAddr::V4(d)) => (4, v4_raw(s), v4_raw(d)),
            (IpAddr::V6(s), IpAddr::V6(d)) => (6, s.octets(), d.octets()),
            _ => return Err(Error::Malformed),
        };
        p.set_version(self.version);
        p.set_ip_version(ipv);
        p.set_resv(0);
        p.set_src_port(self.src_port);
        p.set_src_addr_raw(&src);
        p.set_dst_addr_raw(&dst);
        Ok(())
    }
}

impl fmt::Display for CmaHdrRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CMA v{} ", self.version)?;
        match self.src_addr {
            IpAddr::V4(a) => write!(f, "{a}:{}", self.src_port)?,
            IpAddr::V6(a) => write!(f, "[{a}]:{}", self.src_port)?,
        }
        write!(f, " -> {}", self.dst_addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_ids() {
        assert_eq!(service_id(RDMA_PS_TCP, 7174), 0x0000_0000_0106_1C06);
        assert_eq!(
            parse_service_id(0x0000_0000_0106_1C06),
            Some((RDMA_PS_TCP, 7174))
        );
        assert_eq!(
            parse_service_id(service_id(RDMA_PS_UDP, 1)),
            Some((RDMA_PS_UDP, 1))
        );
        assert_eq!(parse_service_id(service_id(RDMA_PS_IPOIB, 1)), None);
        assert_eq!(parse_service_id(0x0000_0001_0106_1C06), None);
    }

    #[test]
    fn flow_label_ports() {
        assert_eq!(flow_label_udp_sport(0), 0xC000);
        assert_eq!(flow_label_udp_sport(0x3FFF), 0xFFFF);
        assert_eq!(flow_label_udp_sport(0xF_C000), 0xC03F);
        assert_eq!(flow_label_udp_sport(0xF_FFFF), 0xFFC0);
    }

    #[test]
    fn gids() {
        let a = Ipv4Addr::new(10, 99, 0, 12);
        let g = ipv4_mapped_gid(a);
        assert_eq!(&g[10..], &[0xFF, 0xFF, 10, 99, 0, 12]);
        assert_eq!(gid_ipv4(&g), Some(a));
        let mut ll = [0u8; 16];
        ll[0] = 0xFE;
        ll[1] = 0x80;
        assert_eq!(gid_ipv4(&ll), None);
        assert!(matches!(gid_ip(&ll), IpAddr::V6(_)));
    }

    #[test]
    fn mixed_families_are_refused() {
        let r = CmaHdrRepr {
            version: 0,
            src_port: 1,
            src_addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
            dst_addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
        };
        let mut buf = [0u8; CMA_HDR_LEN];
        assert_eq!(
            r.emit(&mut CmaHdrPacket::new_unchecked(&mut buf[..])),
            Err(Error::Malformed)
        );
    }
}
