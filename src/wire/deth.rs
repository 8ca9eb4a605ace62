//! The Datagram Extended Transport Header (8 bytes, UD only): [`DethPacket`]
//! view and [`DethRepr`]. Owns the DETH layout; must not judge Q_Keys.

use core::fmt;

use super::bth::MAX_24;
use super::bytes::{get_u24, get_u32, get_u8, set_u24, set_u32, set_u8};
use super::Result;

mod field {
    use crate::wire::field::Field;

    pub const QKEY: Field = 0..4;
    pub const RESV8: usize = 4;
    pub const SRC_QP: Field = 5..8;
}

/// Length of the DETH.
pub const HEADER_LEN: usize = 8;

fixed_view!(
    /// A read/write view of a DETH at the start of a buffer.
    DethPacket,
    DethRepr,
    HEADER_LEN,
    "DETH"
);

impl<T: AsRef<[u8]>> DethPacket<T> {
    pub fn qkey(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::QKEY)
    }
    pub fn resv8(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::RESV8)
    }
    pub fn src_qp(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::SRC_QP)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> DethPacket<T> {
    pub fn set_qkey(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::QKEY, value);
    }
    pub fn set_resv8(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::RESV8, value);
    }
    /// Only the low 24 bits are used.
    pub fn set_src_qp(&mut self, value: u32) {
        set_u24(self.buffer.as_mut(), field::SRC_QP, value);
    }
}

/// Datagram ETH (8 bytes): UD only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DethRepr {
    pub qkey: u32,
    /// Source QP (24 bits); the reserved byte before it is kept for exact emit.
    pub src_qp: u32,
    pub resv8: u8,
}

impl DethRepr {
    /// The header length.
    pub const LEN: usize = HEADER_LEN;

    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &DethPacket<&T>) -> Result<DethRepr> {
        packet.check_len()?;
        Ok(DethRepr {
            qkey: packet.qkey(),
            src_qp: packet.src_qp(),
            resv8: packet.resv8(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Whether every field fits its bit width.
    pub const fn fits(&self) -> bool {
        self.src_qp <= MAX_24
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut DethPacket<&mut T>) {
        packet.set_qkey(self.qkey);
        packet.set_resv8(self.resv8);
        packet.set_src_qp(self.src_qp);
    }
}

impl fmt::Display for DethRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DETH qkey=0x{:08x} sqp=0x{:06x}", self.qkey, self.src_qp)?;
        if self.resv8 != 0 {
            write!(f, " resv8=0x{:02x}", self.resv8)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gsi_deth_layout() {
        let bytes = [0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01];
        let repr = DethRepr::parse(&DethPacket::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(repr.qkey, crate::wire::GSI_QKEY);
        assert_eq!(repr.src_qp, 1);
        let mut out = [0xEEu8; 8];
        repr.emit(&mut DethPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);
    }
}
