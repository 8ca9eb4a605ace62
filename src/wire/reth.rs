//! The RDMA Extended Transport Header (16 bytes): [`RethPacket`] view and
//! [`RethRepr`]. Owns the RETH layout; must not check R_Keys or lengths.

use core::fmt;

use super::bytes::{get_u32, get_u64, set_u32, set_u64};
use super::Result;

mod field {
    use crate::wire::field::Field;

    pub const VA: Field = 0..8;
    pub const RKEY: Field = 8..12;
    pub const DMA_LEN: Field = 12..16;
}

/// Length of the RETH.
pub const HEADER_LEN: usize = 16;

fixed_view!(
    /// A read/write view of a RETH at the start of a buffer.
    RethPacket,
    RethRepr,
    HEADER_LEN,
    "RETH"
);

impl<T: AsRef<[u8]>> RethPacket<T> {
    pub fn va(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::VA)
    }
    pub fn rkey(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::RKEY)
    }
    pub fn dma_len(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::DMA_LEN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RethPacket<T> {
    pub fn set_va(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::VA, value);
    }
    pub fn set_rkey(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::RKEY, value);
    }
    pub fn set_dma_len(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::DMA_LEN, value);
    }
}

/// RDMA ETH (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RethRepr {
    pub va: u64,
    pub rkey: u32,
    /// Length of the whole message (not of this packet).
    pub dma_len: u32,
}

impl RethRepr {
    /// The header length.
    pub const LEN: usize = HEADER_LEN;

    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &RethPacket<&T>) -> Result<RethRepr> {
        packet.check_len()?;
        Ok(RethRepr {
            va: packet.va(),
            rkey: packet.rkey(),
            dma_len: packet.dma_len(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut RethPacket<&mut T>) {
        packet.set_va(self.va);
        packet.set_rkey(self.rkey);
        packet.set_dma_len(self.dma_len);
    }
}

impl fmt::Display for RethRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "RETH va=0x{:016x} rkey=0x{:08x} len={}",
            self.va, self.rkey, self.dma_len
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout() {
        let repr = RethRepr {
            va: 0x0102_0304_0506_0708,
            rkey: 0x0A0B_0C0D,
            dma_len: 0x0000_1000,
        };
        let mut out = [0u8; 16];
        repr.emit(&mut RethPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 0, 0, 0x10, 0]);
        let back = RethRepr::parse(&RethPacket::new_checked(&out[..]).unwrap()).unwrap();
        assert_eq!(back, repr);
    }
}
