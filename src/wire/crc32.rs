//! CRC-32 (the Ethernet/zlib one: reflected polynomial 0xEDB88320, init and
//! final XOR 0xFFFFFFFF), slicing-by-8 over tables built at compile time.
//! Owns the checksum arithmetic only; must not know which bytes the ICRC
//! covers or masks (that is `icrc.rs`). No allocation, no dependencies.

const POLY: u32 = 0xEDB8_8320;

const fn build_tables() -> [[u32; 256]; 8] {
    let mut t = [[0u32; 256]; 8];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 { (c >> 1) ^ POLY } else { c >> 1 };
            k += 1;
        }
        t[0][i] = c;
        i += 1;
    }
    let mut s = 1;
    while s < 8 {
        let mut i = 0;
        while i < 256 {
            let prev = t[s - 1][i];
            t[s][i] = (prev >> 8) ^ t[0][(prev & 0xFF) as usize];
            i += 1;
        }
        s += 1;
    }
    t
}

/// `TABLES[0]` is the classic byte table; `TABLES[k]` advances a byte by k more.
static TABLES: [[u32; 256]; 8] = build_tables();

/// One table entry; the index is always < 256 so the fallback never happens.
#[inline(always)]
fn entry(table: usize, index: u32) -> u32 {
    TABLES
        .get(table)
        .and_then(|t| t.get((index & 0xFF) as usize))
        .copied()
        .unwrap_or(0)
}

/// A running CRC-32.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc32 {
    /// The raw (non-inverted) register.
    state: u32,
}

impl Default for Crc32 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc32 {
    /// A CRC with the standard initial value.
    pub const fn new() -> Crc32 {
        Crc32 { state: 0xFFFF_FFFF }
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        let mut crc = self.state;
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let Ok(w) = <[u8; 8]>::try_from(c) else {
                continue; // chunks_exact(8) only yields 8-byte chunks
            };
            let lo = u32::from_le_bytes([w[0], w[1], w[2], w[3]]) ^ crc;
            let hi = u32::from_le_bytes([w[4], w[5], w[6], w[7]]);
            crc = entry(7, lo)
                ^ entry(6, lo >> 8)
                ^ entry(5, lo >> 16)
                ^ entry(4, lo >> 24)
                ^ entry(3, hi)
                ^ entry(2, hi >> 8)
                ^ entry(1, hi >> 16)
                ^ entry(0, hi >> 24);
        }
        for &b in chunks.remainder() {
            crc = (crc >> 8) ^ entry(0, crc ^ u32::from(b));
        }
        self.state = crc;
    }

    /// Feeds `count` copies of `byte` (for masked fields).
    pub fn update_repeat(&mut self, byte: u8, count: usize) {
        for _ in 0..count {
            self.update(&[byte]);
        }
    }

    /// The finished CRC value (final XOR applied).
    pub const fn finish(&self) -> u32 {
        !self.state
    }
}

/// CRC-32 of `data` in one call.
pub fn crc32(data: &[u8]) -> u32 {
    let mut c = Crc32::new();
    c.update(data);
    c.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bit-at-a-time reference, straight from the definition.
    fn reference(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    #[test]
    fn check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn slicing_matches_bitwise_at_every_length_and_split() {
        let data: [u8; 67] = core::array::from_fn(|i| (i as u8).wrapping_mul(151).wrapping_add(7));
        for len in 0..data.len() {
            assert_eq!(crc32(&data[..len]), reference(&data[..len]), "len {len}");
            for split in 0..=len {
                let mut c = Crc32::new();
                c.update(&data[..split]);
                c.update(&data[split..len]);
                assert_eq!(c.finish(), reference(&data[..len]));
            }
        }
    }

    #[test]
    fn eight_ff_bytes_give_the_rxe_seed() {
        let mut c = Crc32::new();
        c.update_repeat(0xFF, 8);
        assert_eq!(!c.finish(), 0xDEBB_20E3);
    }
}
