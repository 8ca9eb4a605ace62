//! Field access for the MAD, CM and RDMA-CM views, on top of `bytes.rs`:
//! integers of any width up to 8 bytes, sub-byte bit fields, arrays at an
//! offset, and the `wire_view!` macro that turns a field list into a
//! smoltcp-style `Packet<T>` view (skeleton from `fixed_view!`) with getters
//! and setters.
//! Owns only the mechanics of reading and writing fields; must not know any
//! protocol layout (those live in the `mod field` of each protocol file).
//!
//! Every accessor is total: an out-of-range field reads as 0 (or zeros) and a
//! write to it is dropped. Views check their length once in `new_checked`, so
//! after that the fallbacks are never taken; they exist so that no code path
//! can index out of bounds.

use core::ops::Range;

use super::bytes;

/// A bit field inside one byte: `width` bits whose lowest bit is `shift`
/// (bit 7 is the most significant bit of the byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Bits {
    pub byte: usize,
    pub shift: u8,
    pub width: u8,
}

impl Bits {
    /// The field `[hi:lo]` of byte `byte`, as the facts sheet writes it.
    pub(crate) const fn at(byte: usize, hi: u8, lo: u8) -> Bits {
        Bits {
            byte,
            shift: lo,
            width: hi - lo + 1,
        }
    }

    /// The mask of the field, not shifted.
    const fn mask(self) -> u8 {
        ((1u16 << self.width) - 1) as u8
    }
}

/// Reads `range` (at most 8 bytes) as a big-endian integer.
pub(crate) fn get(data: &[u8], range: Range<usize>) -> u64 {
    data.get(range)
        .map(|b| b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x)))
        .unwrap_or(0)
}

/// Writes the low `range.len()` bytes of `value` big-endian into `range`.
pub(crate) fn set(data: &mut [u8], range: Range<usize>, value: u64) {
    if let Some(b) = data.get_mut(range) {
        let mut v = value;
        for x in b.iter_mut().rev() {
            *x = v as u8;
            v >>= 8;
        }
    }
}

/// Reads a bit field.
pub(crate) fn get_bits(data: &[u8], bits: Bits) -> u8 {
    data.get(bits.byte)
        .map(|&b| (b >> bits.shift) & bits.mask())
        .unwrap_or(0)
}

/// Writes a bit field; bits of `value` above the field's width are dropped,
/// the other bits of the byte are kept.
pub(crate) fn set_bits(data: &mut [u8], bits: Bits, value: u8) {
    if let Some(b) = data.get_mut(bits.byte) {
        let mask = bits.mask() << bits.shift;
        *b = (*b & !mask) | ((value << bits.shift) & mask);
    }
}

/// Copies `N` bytes starting at `start` (zeros if out of range).
pub(crate) fn array<const N: usize>(data: &[u8], start: usize) -> [u8; N] {
    start
        .checked_add(N)
        .map(|end| bytes::get_bytes(data, start..end))
        .unwrap_or([0; N])
}

/// Copies `src` into `data` at `start` (dropped if out of range).
pub(crate) fn put(data: &mut [u8], start: usize, src: &[u8]) {
    if let Some(end) = start.checked_add(src.len()) {
        bytes::set_bytes(data, start..end, src);
    }
}

/// Declares a zero-copy view `$view<T: AsRef<[u8]>>` of at least `$len` bytes
/// (the skeleton and `Display` come from `fixed_view!`) with one getter and one
/// setter per listed field. Field kinds: `be(range)` a big-endian integer of
/// the range's width, `bits(Bits)` a sub-byte field (`u8`), `flag(Bits)` a
/// one-bit field (`bool`).
macro_rules! wire_view {
    (
        $(#[$vm:meta])*
        $view:ident, $repr:ident, $len:expr, $name:expr;
        $( $(#[$fm:meta])* $get:ident, $set:ident : $ty:ty = $kind:ident($loc:expr); )*
    ) => {
        fixed_view!($(#[$vm])* $view, $repr, $len, $name);

        impl<T: AsRef<[u8]>> $view<T> {
            /// The length this view needs.
            pub const LEN: usize = $len;

            $(
                $(#[$fm])*
                pub fn $get(&self) -> $ty {
                    $crate::wire::be::wire_view!(@get $kind, self.buffer.as_ref(), $loc, $ty)
                }
            )*
        }

        impl<T: AsRef<[u8]> + AsMut<[u8]>> $view<T> {
            $(
                pub fn $set(&mut self, value: $ty) {
                    $crate::wire::be::wire_view!(@set $kind, self.buffer.as_mut(), $loc, value)
                }
            )*
        }
    };
    (@get be, $d:expr, $loc:expr, $ty:ty) => { $crate::wire::be::get($d, $loc) as $ty };
    (@get bits, $d:expr, $loc:expr, $ty:ty) => { $crate::wire::be::get_bits($d, $loc) };
    (@get flag, $d:expr, $loc:expr, $ty:ty) => { $crate::wire::be::get_bits($d, $loc) != 0 };
    (@set be, $d:expr, $loc:expr, $v:expr) => { $crate::wire::be::set($d, $loc, u64::from($v)) };
    (@set bits, $d:expr, $loc:expr, $v:expr) => { $crate::wire::be::set_bits($d, $loc, $v) };
    (@set flag, $d:expr, $loc:expr, $v:expr) => { $crate::wire::be::set_bits($d, $loc, u8::from($v)) };
}
pub(crate) use wire_view;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_stay_in_bounds() {
        let mut b = [0u8; 8];
        set(&mut b, 1..4, 0xABCD_EF12);
        assert_eq!(b, [0, 0xCD, 0xEF, 0x12, 0, 0, 0, 0]);
        assert_eq!(get(&b, 1..4), 0xCD_EF12);
        set(&mut b, 6..10, 0xFFFF_FFFF);
        assert_eq!(b[6..], [0, 0]);
        assert_eq!(get(&b, 7..9), 0);
        let f = Bits::at(0, 7, 3);
        set_bits(&mut b, f, 0x14);
        set_bits(&mut b, Bits::at(0, 2, 0), 7);
        assert_eq!(b[0], 0xA7);
        assert_eq!(get_bits(&b, f), 0x14);
        assert_eq!(get_bits(&b, Bits::at(9, 7, 0)), 0);
        assert_eq!(array::<4>(&b, 6), [0; 4]);
        assert_eq!(array::<2>(&b, 1), [0xCD, 0xEF]);
    }
}
