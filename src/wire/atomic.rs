//! The atomic headers: AtomicETH (28 bytes, packed) and AtomicAckETH
//! (8 bytes), views and reprs. Owns these layouts; must not execute atomics.

use core::fmt;

use super::bytes::{get_u32, get_u64, set_u32, set_u64};
use super::Result;

mod field {
    use crate::wire::field::Field;

    pub const VA: Field = 0..8;
    pub const RKEY: Field = 8..12;
    pub const SWAP_ADD: Field = 12..20;
    pub const COMPARE: Field = 20..28;
    pub const ORIG_DATA: Field = 0..8;
}

/// Length of the AtomicETH.
pub const ATOMIC_ETH_LEN: usize = 28;
/// Length of the AtomicAckETH.
pub const ATOMIC_ACK_ETH_LEN: usize = 8;

fixed_view!(
    /// A read/write view of an AtomicETH at the start of a buffer.
    AtomicEthPacket,
    AtomicEthRepr,
    ATOMIC_ETH_LEN,
    "AtomicETH"
);

fixed_view!(
    /// A read/write view of an AtomicAckETH at the start of a buffer.
    AtomicAckEthPacket,
    AtomicAckEthRepr,
    ATOMIC_ACK_ETH_LEN,
    "AtomicAckETH"
);

impl<T: AsRef<[u8]>> AtomicEthPacket<T> {
    pub fn va(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::VA)
    }
    pub fn rkey(&self) -> u32 {
        get_u32(self.buffer.as_ref(), field::RKEY)
    }
    pub fn swap_add(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::SWAP_ADD)
    }
    pub fn compare(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::COMPARE)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AtomicEthPacket<T> {
    pub fn set_va(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::VA, value);
    }
    pub fn set_rkey(&mut self, value: u32) {
        set_u32(self.buffer.as_mut(), field::RKEY, value);
    }
    pub fn set_swap_add(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::SWAP_ADD, value);
    }
    pub fn set_compare(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::COMPARE, value);
    }
}

impl<T: AsRef<[u8]>> AtomicAckEthPacket<T> {
    pub fn orig_data(&self) -> u64 {
        get_u64(self.buffer.as_ref(), field::ORIG_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AtomicAckEthPacket<T> {
    pub fn set_orig_data(&mut self, value: u64) {
        set_u64(self.buffer.as_mut(), field::ORIG_DATA, value);
    }
}

/// Atomic ETH (28 bytes, packed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomicEthRepr {
    pub va: u64,
    pub rkey: u32,
    pub swap_add: u64,
    pub compare: u64,
}

impl AtomicEthRepr {
    /// The header length.
    pub const LEN: usize = ATOMIC_ETH_LEN;

    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &AtomicEthPacket<&T>) -> Result<Self> {
        packet.check_len()?;
        Ok(AtomicEthRepr {
            va: packet.va(),
            rkey: packet.rkey(),
            swap_add: packet.swap_add(),
            compare: packet.compare(),
        })
    }

    pub const fn header_len(&self) -> usize {
        ATOMIC_ETH_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut AtomicEthPacket<&mut T>,
    ) {
        packet.set_va(self.va);
        packet.set_rkey(self.rkey);
        packet.set_swap_add(self.swap_add);
        packet.set_compare(self.compare);
    }
}

impl fmt::Display for AtomicEthRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "AtomicETH va=0x{:016x} rkey=0x{:08x} swap_add=0x{:x} compare=0x{:x}",
            self.va, self.rkey, self.swap_add, self.compare
        )
    }
}

/// Atomic ACK ETH (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomicAckEthRepr {
    pub orig_data: u64,
}

impl AtomicAckEthRepr {
    /// The header length.
    pub const LEN: usize = ATOMIC_ACK_ETH_LEN;

    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &AtomicAckEthPacket<&T>) -> Result<Self> {
        packet.check_len()?;
        Ok(AtomicAckEthRepr {
            orig_data: packet.orig_data(),
        })
    }

    pub const fn header_len(&self) -> usize {
        ATOMIC_ACK_ETH_LEN
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut AtomicAckEthPacket<&mut T>,
    ) {
        packet.set_orig_data(self.orig_data);
    }
}

impl fmt::Display for AtomicAckEthRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AtomicAckETH orig=0x{:x}", self.orig_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_layout() {
        let repr = AtomicEthRepr {
            va: 0x1111_2222_3333_4444,
            rkey: 0x5555_6666,
            swap_add: 0x7777_8888_9999_AAAA,
            compare: 0xBBBB_CCCC_DDDD_EEEE,
        };
        let mut out = [0u8; 28];
        repr.emit(&mut AtomicEthPacket::new_unchecked(&mut out[..]));
        assert_eq!(out[8..12], [0x55, 0x55, 0x66, 0x66]);
        assert_eq!(out[12..14], [0x77, 0x77]);
        assert_eq!(out[26..28], [0xEE, 0xEE]);
        let back = AtomicEthRepr::parse(&AtomicEthPacket::new_checked(&out[..]).unwrap());
        assert_eq!(back, Ok(repr));
        assert!(AtomicEthPacket::new_checked(&out[..27]).is_err());

        let ack = AtomicAckEthRepr {
            orig_data: 0x0102_0304_0506_0708,
        };
        let mut out = [0u8; 8];
        ack.emit(&mut AtomicAckEthPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, [1, 2, 3, 4, 5, 6, 7, 8]);
    }
}
