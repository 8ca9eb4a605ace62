//! ARP for IPv4 over Ethernet (RFC 826): the [`ArpPacket`] view and
//! [`ArpRepr`] (hardware type 1, protocol 0x0800, lengths 6 and 4,
//! request or reply). Owns the 28-byte ARP layout; must not keep a
//! neighbour table or decide what to answer (that is `link`).

use core::fmt;

use super::bytes::{check_len, get_bytes, get_u16, get_u8, set_bytes, set_u16, set_u8};
use super::ethernet::{write_mac, ETHERTYPE_IPV4};
use super::{Error, Result};

mod field {
    use crate::wire::field::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

/// Length of an ARP packet for IPv4 over Ethernet.
pub const PACKET_LEN: usize = 28;
/// The hardware type of Ethernet.
pub const HTYPE_ETHERNET: u16 = 1;

view_skeleton!(
    /// A read/write view of an ARP packet.
    ArpPacket
);

impl<T: AsRef<[u8]>> ArpPacket<T> {
    /// `Truncated` if the buffer is shorter than 28 bytes (what IPv4 over
    /// Ethernet needs; the length fields are checked by [`ArpRepr::parse`]).
    pub fn check_len(&self) -> Result<()> {
        check_len(self.buffer.as_ref(), PACKET_LEN)
    }

    pub fn hardware_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::HTYPE)
    }
    pub fn protocol_type(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PTYPE)
    }
    pub fn hardware_len(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::HLEN)
    }
    pub fn protocol_len(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::PLEN)
    }
    pub fn operation(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::OPER)
    }
    pub fn sender_hardware_addr(&self) -> [u8; 6] {
        get_bytes(self.buffer.as_ref(), field::SHA)
    }
    pub fn sender_protocol_addr(&self) -> [u8; 4] {
        get_bytes(self.buffer.as_ref(), field::SPA)
    }
    pub fn target_hardware_addr(&self) -> [u8; 6] {
        get_bytes(self.buffer.as_ref(), field::THA)
    }
    pub fn target_protocol_addr(&self) -> [u8; 4] {
        get_bytes(self.buffer.as_ref(), field::TPA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> ArpPacket<T> {
    pub fn set_hardware_type(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::HTYPE, value);
    }
    pub fn set_protocol_type(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::PTYPE, value);
    }
    pub fn set_hardware_len(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::HLEN, value);
    }
    pub fn set_protocol_len(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::PLEN, value);
    }
    pub fn set_operation(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::OPER, value);
    }
    pub fn set_sender_hardware_addr(&mut self, value: [u8; 6]) {
        set_bytes(self.buffer.as_mut(), field::SHA, &value);
    }
    pub fn set_sender_protocol_addr(&mut self, value: [u8; 4]) {
        set_bytes(self.buffer.as_mut(), field::SPA, &value);
    }
    pub fn set_target_hardware_addr(&mut self, value: [u8; 6]) {
        set_bytes(self.buffer.as_mut(), field::THA, &value);
    }
    pub fn set_target_protocol_addr(&mut self, value: [u8; 4]) {
        set_bytes(self.buffer.as_mut(), field::TPA, &value);
    }
}

/// An ARP operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ArpOp {
    /// 1: who has the target address?
    Request,
    /// 2: the sender has it.
    Reply,
}

impl ArpOp {
    const fn code(self) -> u16 {
        match self {
            ArpOp::Request => 1,
            ArpOp::Reply => 2,
        }
    }
}

/// An ARP request or reply for IPv4 over Ethernet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ArpRepr {
    pub op: ArpOp,
    pub sender_mac: [u8; 6],
    pub sender_ip: [u8; 4],
    /// Zero in a request.
    pub target_mac: [u8; 6],
    pub target_ip: [u8; 4],
}

impl ArpRepr {
    /// Parses an ARP packet. `Unsupported` for a hardware type other than
    /// Ethernet, a protocol other than IPv4 or an operation other than
    /// request/reply; `Malformed` for address lengths other than 6 and 4.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &ArpPacket<&T>) -> Result<ArpRepr> {
        packet.check_len()?;
        if packet.hardware_type() != HTYPE_ETHERNET || packet.protocol_type() != ETHERTYPE_IPV4 {
            return Err(Error::Unsupported);
        }
        if packet.hardware_len() != 6 || packet.protocol_len() != 4 {
            return Err(Error::Malformed);
        }
        let op = match packet.operation() {
            1 => ArpOp::Request,
            2 => ArpOp::Reply,
            _ => return Err(Error::Unsupported),
        };
        Ok(ArpRepr {
            op,
            sender_mac: packet.sender_hardware_addr(),
            sender_ip: packet.sender_protocol_addr(),
            target_mac: packet.target_hardware_addr(),
            target_ip: packet.target_protocol_addr(),
        })
    }

    /// Always 28.
    pub const fn buffer_len(&self) -> usize {
        PACKET_LEN
    }

    /// Writes the 28-byte packet into the start of `buf` (`Truncated` if
    /// shorter).
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let out = buf.get_mut(..PACKET_LEN).ok_or(Error::Truncated)?;
        let mut p = ArpPacket::new_unchecked(out);
        p.set_hardware_type(HTYPE_ETHERNET);
        p.set_protocol_type(ETHERTYPE_IPV4);
        p.set_hardware_len(6);
        p.set_protocol_len(4);
        p.set_operation(self.op.code());
        p.set_sender_hardware_addr(self.sender_mac);
        p.set_sender_protocol_addr(self.sender_ip);
        p.set_target_hardware_addr(self.target_mac);
        p.set_target_protocol_addr(self.target_ip);
        Ok(())
    }
}

impl fmt::Display for ArpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.sender_ip;
        let [e, g, h, i] = self.target_ip;
        let op = match self.op {
            ArpOp::Request => "request",
            ArpOp::Reply => "reply",
        };
        write!(f, "ARP {op} {a}.{b}.{c}.{d} (")?;
        write_mac(f, &self.sender_mac)?;
        write!(f, ") > {e}.{g}.{h}.{i} (")?;
        write_mac(f, &self.target_mac)?;
        f.write_str(")")
    }
}

repr_display!(ArpPacket, ArpRepr, "ARP");

#[cfg(test)]
mod tests {
    use super::*;

    /// An ARP request as Linux sends it: who has 10.99.0.11, tell 10.99.0.12.
    const REQUEST: [u8; 28] = [
        0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0x52, 0x54, 0x00, 0x00, 0x00, 0x12, 10, 99,
        0, 12, 0, 0, 0, 0, 0, 0, 10, 99, 0, 11,
    ];

    #[test]
    fn parses_and_re_emits_a_request() {
        let repr = ArpRepr::parse(&ArpPacket::new_checked(&REQUEST[..]).unwrap()).unwrap();
        assert_eq!(repr.op, ArpOp::Request);
        assert_eq!(repr.sender_mac, [0x52, 0x54, 0, 0, 0, 0x12]);
        assert_eq!(
            (repr.sender_ip, repr.target_ip),
            ([10, 99, 0, 12], [10, 99, 0, 11])
        );
        let mut out = [0u8; 28];
        repr.emit(&mut out).unwrap();
        assert_eq!(out, REQUEST);
        assert_eq!(
            repr.to_string(),
            "ARP request 10.99.0.12 (52:54:00:00:00:12) > 10.99.0.11 (00:00:00:00:00:00)"
        );
        assert_eq!(repr.emit(&mut out[..27]), Err(Error::Truncated));
    }

    #[test]
    fn rejects_other_types_lengths_and_operations() {
        let parse = |b: &[u8]| ArpRepr::parse(&ArpPacket::new_unchecked(b));
        assert_eq!(parse(&REQUEST[..27]), Err(Error::Truncated));
        for (off, val, err) in [
            (1, 6, Error::Unsupported),    // IEEE 802 hardware
            (2, 0x86, Error::Unsupported), // not IPv4
            (4, 8, Error::Malformed),
            (5, 16, Error::Malformed),
            (7, 3, Error::Unsupported), // RARP request
            (7, 0, Error::Unsupported),
        ] {
            let mut p = REQUEST;
            p[off] = val;
            assert_eq!(parse(&p), Err(err), "offset {off}");
        }
        let mut reply = REQUEST;
        reply[7] = 2;
        assert_eq!(parse(&reply).map(|r| r.op), Ok(ArpOp::Reply));
    }
}
