//! Panic-free big-endian field access for the wire views.
//! Owns byte-order helpers only; must not know any header layout.
//!
//! Every reader returns 0 and every writer does nothing when the range lies
//! outside the buffer. A view whose `check_len` succeeded never hits that case,
//! but a view made with `new_unchecked` over short bytes still cannot panic.

use super::field::Field;

/// The bytes of `range`, as a fixed-size array, if they are all present.
fn array<const N: usize>(data: &[u8], range: Field) -> Option<[u8; N]> {
    data.get(range).and_then(|s| <[u8; N]>::try_from(s).ok())
}

/// The byte at `offset`, or 0.
pub(crate) fn get_u8(data: &[u8], offset: usize) -> u8 {
    data.get(offset).copied().unwrap_or(0)
}

/// A big-endian u16 at `range` (2 bytes), or 0.
pub(crate) fn get_u16(data: &[u8], range: Field) -> u16 {
    array(data, range).map(u16::from_be_bytes).unwrap_or(0)
}

/// A big-endian 24-bit value at `range` (3 bytes), or 0.
pub(crate) fn get_u24(data: &[u8], range: Field) -> u32 {
    array::<3>(data, range)
        .map(|[a, b, c]| u32::from_be_bytes([0, a, b, c]))
        .unwrap_or(0)
}

/// A big-endian u32 at `range` (4 bytes), or 0.
pub(crate) fn get_u32(data: &[u8], range: Field) -> u32 {
    array(data, range).map(u32::from_be_bytes).unwrap_or(0)
}

/// A big-endian u64 at `range` (8 bytes), or 0.
pub(crate) fn get_u64(data: &[u8], range: Field) -> u64 {
    array(data, range).map(u64::from_be_bytes).unwrap_or(0)
}

/// A copy of the bytes at `range`, or zeros.
pub(crate) fn get_bytes<const N: usize>(data: &[u8], range: Field) -> [u8; N] {
    array(data, range).unwrap_or([0; N])
}

/// Writes `value` at `offset` if present.
pub(crate) fn set_u8(data: &mut [u8], offset: usize, value: u8) {
    if let Some(b) = data.get_mut(offset) {
        *b = value;
    }
}

/// Writes `bytes` at `range` if the range is present and has the same length.
pub(crate) fn set_bytes(data: &mut [u8], range: Field, bytes: &[u8]) {
    if let Some(dst) = data.get_mut(range) {
        if dst.len() == bytes.len() {
            dst.copy_from_slice(bytes);
        }
    }
}

/// Writes a big-endian u16 at `range` (2 bytes).
pub(crate) fn set_u16(data: &mut [u8], range: Field, value: u16) {
    set_bytes(data, range, &value.to_be_bytes());
}

/// Writes the low 24 bits of `value` big-endian at `range` (3 bytes).
pub(crate) fn set_u24(data: &mut [u8], range: Field, value: u32) {
    let [_, a, b, c] = value.to_be_bytes();
    set_bytes(data, range, &[a, b, c]);
}

/// Writes a big-endian u32 at `range` (4 bytes).
pub(crate) fn set_u32(data: &mut [u8], range: Field, value: u32) {
    set_bytes(data, range, &value.to_be_bytes());
}

/// Writes a big-endian u64 at `range` (8 bytes).
pub(crate) fn set_u64(data: &mut [u8], range: Field, value: u64) {
    set_bytes(data, range, &value.to_be_bytes());
}

/// Fails with [`super::Error::Truncated`] unless `data` holds at least `len` bytes.
pub(crate) fn check_len(data: &[u8], len: usize) -> super::Result<()> {
    if data.len() < len {
        Err(super::Error::Truncated)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_writes_big_endian() {
        let mut b = [0u8; 8];
        set_u24(&mut b, 1..4, 0xAB_CDEF);
        assert_eq!(b[..4], [0, 0xAB, 0xCD, 0xEF]);
        assert_eq!(get_u24(&b, 1..4), 0xAB_CDEF);
        set_u64(&mut b, 0..8, 0x0102_0304_0506_0708);
        assert_eq!(get_u16(&b, 6..8), 0x0708);
        assert_eq!(get_u32(&b, 0..4), 0x0102_0304);
    }

    #[test]
    fn out_of_range_is_harmless() {
        let mut b = [0xFFu8; 3];
        assert_eq!(get_u32(&b, 0..4), 0);
        assert_eq!(get_u8(&b, 3), 0);
        set_u32(&mut b, 1..5, 0);
        assert_eq!(b, [0xFF; 3]);
    }
}
