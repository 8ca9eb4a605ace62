//! Management datagrams (MADs) as carried on QP1: the 24-byte common MAD
//! header ([`MadPacket`] view, [`MadRepr`]) and the 256-byte MAD it heads
//! (header + 232 data bytes), with the CM class and attribute constants.
//! Owns the MAD header layout only; must not interpret the data bytes (the
//! CM messages are `cm/`) nor the BTH/DETH that carry the MAD.

use core::fmt;

use super::be::{wire_view, Bits};
use super::Result;

/// Length of a MAD as sent on QP1 (IB_MGMT_MAD_SIZE).
pub const MAD_LEN: usize = 256;
/// Length of the common MAD header.
pub const MAD_HEADER_LEN: usize = 24;
/// Length of the data after the common header.
pub const MAD_DATA_LEN: usize = MAD_LEN - MAD_HEADER_LEN;

/// The only base version in use.
pub const BASE_VERSION: u8 = 1;
/// Management class of the communication manager.
pub const MGMT_CLASS_CM: u8 = 0x07;
/// CM class version (IB_CM_CLASS_VERSION).
pub const CM_CLASS_VERSION: u8 = 2;
/// Method Send, the one the CM uses for every message.
pub const METHOD_SEND: u8 = 0x03;

/// CM attribute identifiers (ROCE-FACTS §3.3).
pub mod attr {
    pub const CLASS_PORT_INFO: u16 = 0x0001;
    pub const REQ: u16 = 0x0010;
    pub const MRA: u16 = 0x0011;
    pub const REJ: u16 = 0x0012;
    pub const REP: u16 = 0x0013;
    pub const RTU: u16 = 0x0014;
    pub const DREQ: u16 = 0x0015;
    pub const DREP: u16 = 0x0016;
    pub const SIDR_REQ: u16 = 0x0017;
    pub const SIDR_REP: u16 = 0x0018;
    pub const LAP: u16 = 0x0019;
    pub const APR: u16 = 0x001A;
}

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const BASE_VERSION: Field = 0..1;
    pub const MGMT_CLASS: Field = 1..2;
    pub const CLASS_VERSION: Field = 2..3;
    /// The R (response) bit of the method byte.
    pub const RESPONSE: Bits = Bits::at(3, 7, 7);
    pub const METHOD: Bits = Bits::at(3, 6, 0);
    pub const STATUS: Field = 4..6;
    pub const CLASS_SPECIFIC: Field = 6..8;
    pub const TRANSACTION_ID: Field = 8..16;
    pub const ATTRIBUTE_ID: Field = 16..18;
    pub const RESERVED: Field = 18..20;
    pub const ATTRIBUTE_MODIFIER: Field = 20..24;
}

wire_view! {
    /// A view of a 256-byte MAD: the common header and the data after it.
    MadPacket, MadRepr, MAD_LEN, "MAD";
    base_version, set_base_version: u8 = be(field::BASE_VERSION);
    mgmt_class, set_mgmt_class: u8 = be(field::MGMT_CLASS);
    class_version, set_class_version: u8 = be(field::CLASS_VERSION);
    /// The R bit: set in responses.
    response, set_response: bool = flag(field::RESPONSE);
    /// The method without the R bit.
    method, set_method: u8 = bits(field::METHOD);
    status, set_status: u16 = be(field::STATUS);
    class_specific, set_class_specific: u16 = be(field::CLASS_SPECIFIC);
    transaction_id, set_transaction_id: u64 = be(field::TRANSACTION_ID);
    attribute_id, set_attribute_id: u16 = be(field::ATTRIBUTE_ID);
    reserved, set_reserved: u16 = be(field::RESERVED);
    attribute_modifier, set_attribute_modifier: u32 = be(field::ATTRIBUTE_MODIFIER);
}

impl<'a, T: AsRef<[u8]> + ?Sized> MadPacket<&'a T> {
    /// The 232 data bytes after the header.
    pub fn data(&self) -> &'a [u8] {
        self.buffer
            .as_ref()
            .get(MAD_HEADER_LEN..MAD_LEN)
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> MadPacket<T> {
    /// The 232 data bytes after the header, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        self.buffer
            .as_mut()
            .get_mut(MAD_HEADER_LEN..MAD_LEN)
            .unwrap_or(&mut [])
    }
}

/// The common MAD header. Every field is kept, so parse-then-emit is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MadRepr {
    pub base_version: u8,
    pub mgmt_class: u8,
    pub class_version: u8,
    /// The R bit (0x80 of the method byte).
    pub response: bool,
    /// The method (7 bits).
    pub method: u8,
    pub status: u16,
    pub class_specific: u16,
    pub transaction_id: u64,
    pub attribute_id: u16,
    pub reserved: u16,
    /// 0 normally; newer kernels carry ECE options here in REQ/REP.
    pub attribute_modifier: u32,
}

impl MadRepr {
    /// The header of a CM message as Linux sends it: base version 1, class
    /// CM version 2, method Send, status 0.
    pub const fn cm(transaction_id: u64, attribute_id: u16) -> MadRepr {
        MadRepr {
            base_version: BASE_VERSION,
            mgmt_class: MGMT_CLASS_CM,
            class_version: CM_CLASS_VERSION,
            response: false,
            method: METHOD_SEND,
            status: 0,
            class_specific: 0,
            transaction_id,
            attribute_id,
            reserved: 0,
            attribute_modifier: 0,
        }
    }

    /// Reads the header. Any value is accepted; what a class supports is
    /// decided by the class (see `cm::CmMad::parse`).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &MadPacket<&T>) -> Result<MadRepr> {
        packet.check_len()?;
        Ok(MadRepr {
            base_version: packet.base_version(),
            mgmt_class: packet.mgmt_class(),
            class_version: packet.class_version(),
            response: packet.response(),
            method: packet.method(),
            status: packet.status(),
            class_specific: packet.class_specific(),
            transaction_id: packet.transaction_id(),
            attribute_id: packet.attribute_id(),
            reserved: packet.reserved(),
            attribute_modifier: packet.attribute_modifier(),
        })
    }

    /// Writes the header (the data bytes are left alone).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, packet: &mut MadPacket<T>) {
        packet.set_base_version(self.base_version);
        packet.set_mgmt_class(self.mgmt_class);
        packet.set_class_version(self.class_version);
        packet.set_response(self.response);
        packet.set_method(self.method);
        packet.set_status(self.status);
        packet.set_class_specific(self.class_specific);
        packet.set_transaction_id(self.transaction_id);
        packet.set_attribute_id(self.attribute_id);
        packet.set_reserved(self.reserved);
        packet.set_attribute_modifier(self.attribute_modifier);
    }
}

/// The name of a CM attribute, if it is one.
pub const fn cm_attribute_name(id: u16) -> Option<&'static str> {
    Some(match id {
        attr::CLASS_PORT_INFO => "ClassPortInfo",
        attr::REQ => "REQ",
        attr::MRA => "MRA",
        attr::REJ => "REJ",
        attr::REP => "REP",
        attr::RTU => "RTU",
        attr::DREQ => "DREQ",
        attr::DREP => "DREP",
        attr::SIDR_REQ => "SIDR_REQ",
        attr::SIDR_REP => "SIDR_REP",
        attr::LAP => "LAP",
        attr::APR => "APR",
        _ => return None,
    })
}

impl fmt::Display for MadRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MAD v{} class=0x{:02x} cv={} method=0x{:02x}{} status=0x{:04x} tid=0x{:016x} attr=0x{:04x}",
            self.base_version,
            self.mgmt_class,
            self.class_version,
            self.method,
            if self.response { "(R)" } else { "" },
            self.status,
            self.transaction_id,
            self.attribute_id,
        )?;
        if self.mgmt_class == MGMT_CLASS_CM {
            if let Some(name) = cm_attribute_name(self.attribute_id) {
                write!(f, "({name})")?;
            }
        }
        if self.attribute_modifier != 0 {
            write!(f, " mod=0x{:08x}", self.attribute_modifier)?;
        }
        Ok(())
    }
}
