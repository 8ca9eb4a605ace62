//! A minimal IPv6 header: [`Ipv6Packet`] view and [`Ipv6Repr`], enough to
//! carry RoCEv2 (no extension headers). Owns the IPv6 fixed-header layout;
//! must not choose traffic class or hop limit (inputs from the AV).

use core::fmt;

use super::bytes::{
    check_len, get_bytes, get_u16, get_u32, get_u8, set_bytes, set_u16, set_u32, set_u8,
};
use super::{Error, Result};

mod field {
    use crate::wire::field::Field;

    /// Version (4 bits), traffic class (8), flow label (20).
    pub const VER_TC_FLOW: Field = 0..4;
    pub const PAYLOAD_LEN: Field = 4..6;
    pub const NEXT_HEADER: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
}

/// Length of the IPv6 fixed header.
pub const HEADER_LEN: usize = 40;
/// Offset of the hop limit (masked by the ICRC).
pub const HOP_LIMIT_OFFSET: usize = field::HOP_LIMIT;

const FLOW_MASK: u32 = 0x000F_FFFF;

view_skeleton!(
    /// A read/write view of an IPv6 packet.
    Ipv6Packet
);

impl<T: AsRef<[u8]>> Ipv6Packet<T> {
    /// Checks the version (`Malformed`) and that the header and payload
    /// length fit the buffer (`Truncated`); trailing bytes are allowed.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(data, HEADER_LEN)?;
        if self.version() != 6 {
            return Err(Error::Malformed);
        }
        check_len(data, HEADER_LEN + usize::from(self.payload_len()))
    }

    fn word0(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::VER_TC_FLOW)
    }

    pub fn version(&self) -> u8 {
        (self.word0() >> 28) as u8
    }
    pub fn traffic_class(&self) -> u8 {
        (self.word0() >> 20) as u8
    }
    pub fn flow_label(&self) -> u32 {
        self.word0() & FLOW_MASK
    }
    pub fn payload_len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PAYLOAD_LEN)
    }
    pub fn next_header(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::NEXT_HEADER)
    }
    pub fn hop_limit(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::HOP_LIMIT)
    }
    pub fn src_addr(&self) -> [u8; 16] {
        get_bytes(self.buffer.as_ref(), field::SRC_ADDR)
    }
    pub fn dst_addr(&self) -> [u8; 16] {
        get_bytes(self.buffer.as_ref(), field::DST_ADDR)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv6Packet<&'a T> {
    /// The payload (payload-length bytes after the fixed header).
    pub fn payload(&self) -> &'a [u8] {
        let end = HEADER_LEN + usize::from(self.payload_len());
        T::as_ref(self.buffer).get(HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv6Packet<T> {
    /// Sets version 6, the traffic class and the flow label (low 20 bits).
    pub fn set_version_tc_flow(&mut self, traffic_class: u8, flow_label: u32) {
        let w = (6 << 28) | (u32::from(traffic_class) << 20) | (flow_label & FLOW_MASK);
        set_u32(self.buffer.as_mut(), field::VER_TC_FLOW, w);
    }
    pub fn set_payload_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::PAYLOAD_LEN, value);
    }
    pub fn set_next_header(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::NEXT_HEADER, value);
    }
    pub fn set_hop_limit(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::HOP_LIMIT, value);
    }
    pub fn set_src_addr(&mut self, value: [u8; 16]) {
        set_bytes(self.buffer.as_mut(), field::SRC_ADDR, &value);
    }
    pub fn set_dst_addr(&mut self, value: [u8; 16]) {
        set_bytes(self.buffer.as_mut(), field::DST_ADDR, &value);
    }
}

/// An IPv6 fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Repr {
    pub src_addr: [u8; 16],
    pub dst_addr: [u8; 16],
    pub traffic_class: u8,
    /// 20 bits; rxe sends 0.
    pub flow_label: u32,
    pub next_header: u8,
    pub hop_limit: u8,
    /// Bytes after the fixed header.
    pub payload_len: usize,
}

impl Ipv6Repr {
    /// Parses the fixed header. A zero payload length (jumbogram) is `Unsupported`.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv6Packet<&T>) -> Result<Ipv6Repr> {
        packet.check_len()?;
        if packet.payload_len() == 0 {
            return Err(Error::Unsupported);
        }
        Ok(Ipv6Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            traffic_class: packet.traffic_class(),
            flow_label: packet.flow_label(),
            next_header: packet.next_header(),
            hop_limit: packet.hop_limit(),
            payload_len: packet.payload().len(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Writes the 40-byte header into the start of `buf`. `Malformed` if the
    /// payload exceeds 65535 bytes or the flow label 20 bits.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = u16::try_from(self.payload_len).map_err(|_| Error::Malformed)?;
        if self.flow_label > FLOW_MASK {
            return Err(Error::Malformed);
        }
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::Truncated)?;
        let mut p = Ipv6Packet::new_unchecked(header);
        p.set_version_tc_flow(self.traffic_class, self.flow_label);
        p.set_payload_len(len);
        p.set_next_header(self.next_header);
        p.set_hop_limit(self.hop_limit);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        Ok(())
    }
}

impl fmt::Display for Ipv6Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IPv6 ")?;
        write_v6(f, &self.src_addr)?;
        f.write_str(" > ")?;
        write_v6(f, &self.dst_addr)?;
        write!(
            f,
            " tc=0x{:02x} flow=0x{:05x} hlim={} nh={} len={}",
            self.traffic_class, self.flow_label, self.hop_limit, self.next_header, self.payload_len
        )
    }
}

/// Writes an IPv6 address as eight colon-separated hex groups (no `::` compression).
fn write_v6(f: &mut fmt::Formatter<'_>, addr: &[u8; 16]) -> fmt::Result {
    for (i, pair) in addr.chunks_exact(2).enumerate() {
        if i != 0 {
            f.write_str(":")?;
        }
        write!(f, "{:x}", get_u16(pair, 0..2))?;
    }
    Ok(())
}

repr_display!(Ipv6Packet, Ipv6Repr, "IPv6");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_bit_positions() {
        let repr = Ipv6Repr {
            src_addr: [0xfe; 16],
            dst_addr: [0x20; 16],
            traffic_class: 0xAB,
            flow_label: 0x1_2345,
            next_header: 17,
            hop_limit: 64,
            payload_len: 4,
        };
        let mut buf = [0u8; 44];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf[..4], [0x6A, 0xB1, 0x23, 0x45]);
        assert_eq!(buf[4..8], [0, 4, 17, 64]);
        let back = Ipv6Repr::parse(&Ipv6Packet::new_checked(&buf[..]).unwrap()).unwrap();
        assert_eq!(back, repr);
        assert_eq!(
            Ipv6Packet::new_checked(&buf[..43]).unwrap_err(),
            Error::Truncated
        );
    }
}
