//! Panic-free little-endian field access for the SMB Direct and SMB2 views.
//! Owns byte-order helpers only; must not know any layout. Readers return 0
//! and writers do nothing when the field lies outside the buffer.

/// The little-endian u16 at `at`, or 0.
pub(crate) fn u16_at(data: &[u8], at: usize) -> u16 {
    data.get(at..at.saturating_add(2))
        .and_then(|s| <[u8; 2]>::try_from(s).ok())
        .map(u16::from_le_bytes)
        .unwrap_or(0)
}

/// The little-endian u32 at `at`, or 0.
pub(crate) fn u32_at(data: &[u8], at: usize) -> u32 {
    data.get(at..at.saturating_add(4))
        .and_then(|s| <[u8; 4]>::try_from(s).ok())
        .map(u32::from_le_bytes)
        .unwrap_or(0)
}

/// The little-endian u64 at `at`, or 0.
pub(crate) fn u64_at(data: &[u8], at: usize) -> u64 {
    data.get(at..at.saturating_add(8))
        .and_then(|s| <[u8; 8]>::try_from(s).ok())
        .map(u64::from_le_bytes)
        .unwrap_or(0)
}

/// Writes `v` at `at` if the bytes are present.
pub(crate) fn put(data: &mut [u8], at: usize, v: &[u8]) {
    if let Some(d) = data.get_mut(at..at.saturating_add(v.len())) {
        d.copy_from_slice(v);
    }
}

pub(crate) fn set_u16(data: &mut [u8], at: usize, v: u16) {
    put(data, at, &v.to_le_bytes());
}

pub(crate) fn set_u32(data: &mut [u8], at: usize, v: u32) {
    put(data, at, &v.to_le_bytes());
}

pub(crate) fn set_u64(data: &mut [u8], at: usize, v: u64) {
    put(data, at, &v.to_le_bytes());
}
