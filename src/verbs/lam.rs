//! Logical address mappings (NdkBuildLAM): the adapter's table of live LAMs
//! and the logical address space they define. A logical address is
//! `lam_token << 32 | offset`, where `offset` counts bytes from the start of
//! the LAM's first page, so pages of one LAM are logically contiguous and a
//! stale or forged address names no live LAM (the token is unguessable).
//!
//! Owns the table and the translation of a logical range into system
//! address pieces; must not touch the memory (the `ndk` glue copies).

use super::token::{TableFull, TokenRng, TokenTable};

/// The page size of logical addresses.
pub const LAM_PAGE_SIZE: u64 = 4096;
/// At most this many MDLs in one chain (segments of one LAM or MR).
pub const MAX_SEGMENTS: usize = 8;

/// One virtually contiguous piece of a buffer, mapped at `sys`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Segment {
    /// The system address of the piece's first byte.
    pub sys: usize,
    /// Its length in bytes.
    pub len: u64,
}

/// A buffer as the OS mapped it: up to [`MAX_SEGMENTS`] pieces that are
/// contiguous in the consumer's virtual address space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mapping {
    segs: [Segment; MAX_SEGMENTS],
    count: usize,
    total: u64,
}

/// Why a mapping could not be built or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingError {
    /// More than [`MAX_SEGMENTS`] pieces.
    TooManySegments,
    /// The range is not inside the mapping.
    OutOfRange,
}

impl Mapping {
    /// Appends a piece. IRQL: any.
    pub fn push(&mut self, seg: Segment) -> Result<(), MappingError> {
        let slot = self
            .segs
            .get_mut(self.count)
            .ok_or(MappingError::TooManySegments)?;
        *slot = seg;
        self.count += 1;
        self.total = self
            .total
            .checked_add(seg.len)
            .ok_or(MappingError::OutOfRange)?;
        Ok(())
    }

    /// Bytes mapped. IRQL: any.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// True when nothing is mapped. IRQL: any.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// Calls `f(sys_address, len)` for each piece of `[offset, offset+len)`.
    /// Refuses (before calling `f` at all) a range outside the mapping.
    /// IRQL: any.
    pub fn pieces(
        &self,
        offset: u64,
        len: u64,
        mut f: impl FnMut(usize, usize),
    ) -> Result<(), MappingError> {
        let end = offset.checked_add(len).ok_or(MappingError::OutOfRange)?;
        if end > self.total {
            return Err(MappingError::OutOfRange);
        }
        let mut start = 0u64;
        for seg in self.segs.iter().take(self.count) {
            let seg_end = start.saturating_add(seg.len);
            let lo = offset.max(start);
            let hi = end.min(seg_end);
            if lo < hi {
                let sys = usize::try_from(lo - start)
                    .ok()
                    .and_then(|d| seg.sys.checked_add(d))
                    .ok_or(MappingError::OutOfRange)?;
                let n = usize::try_from(hi - lo).map_err(|_| MappingError::OutOfRange)?;
                f(sys, n);
            }
            start = seg_end;
        }
        Ok(())
    }
}

/// One live LAM.
#[derive(Debug, Clone, Copy)]
pub struct Lam {
    /// Offset of the buffer's first byte in the first page.
    pub fbo: u64,
    /// The buffer (exactly the bytes the MDL chain describes, up to Length).
    pub mapping: Mapping,
}

impl Lam {
    /// Pages the LAM covers. IRQL: any.
    pub fn pages(&self) -> u64 {
        self.fbo
            .saturating_add(self.mapping.len())
            .div_ceil(LAM_PAGE_SIZE)
    }
}

/// Where a logical range lies: the LAM's token and the byte offset into its
/// buffer (already net of the FBO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LamLocated {
    pub token: u32,
    pub offset: u64,
}

/// The live LAMs of one adapter.
#[derive(Debug)]
pub struct LamTable {
    lams: TokenTable<Lam>,
}

impl LamTable {
    /// Room for `capacity` LAMs. Allocates: IRQL PASSIVE_LEVEL, adapter open.
    pub fn new(capacity: u32) -> Self {
        Self {
            lams: TokenTable::with_capacity(capacity),
        }
    }

    /// Adds a LAM; returns its token. IRQL: <= DISPATCH_LEVEL (no allocation).
    pub fn insert(&mut self, rng: &mut TokenRng, lam: Lam) -> Result<u32, TableFull> {
        self.lams.insert(rng, lam)
    }

    /// Removes a LAM; its logical addresses stop resolving at once.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn remove(&mut self, token: u32) -> Option<Lam> {
        self.lams.remove(token)
    }

    /// The LAM named by `token`. IRQL: any.
    pub fn get(&self, token: u32) -> Option<&Lam> {
        self.lams.get(token)
    }

    /// Live LAMs (for leak checks). IRQL: any.
    pub fn len(&self) -> usize {
        self.lams.len()
    }

    /// True when no LAM is live. IRQL: any.
    pub fn is_empty(&self) -> bool {
        self.lams.is_empty()
    }

    /// The logical address of page `page` of the LAM `token`. IRQL: any.
    pub fn page_address(token: u32, page: u64) -> i64 {
        ((u64::from(token) << 32) | page.saturating_mul(LAM_PAGE_SIZE)) as i64
    }

    /// Checks that `[logical, logical+len)` lies inside the bytes of one live
    /// LAM (not in the unused head of its first page or tail of its last).
    /// IRQL: any.
    pub fn locate(&self, logical: i64, len: u64) -> Result<LamLocated, MappingError> {
        let logical = logical as u64;
        let token = (logical >> 32) as u32;
        let in_lam = logical & 0xFFFF_FFFF;
        let lam = self.lams.get(token).ok_or(MappingError::OutOfRange)?;
        let offset = in_lam
            .checked_sub(lam.fbo)
            .ok_or(MappingError::OutOfRange)?;
        let end = offset.checked_add(len).ok_or(MappingError::OutOfRange)?;
        if end > lam.mapping.len() {
            return Err(MappingError::OutOfRange);
        }
        Ok(LamLocated { token, offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lam(fbo: u64, lens: &[u64]) -> Lam {
        let mut mapping = Mapping::default();
        let mut sys = 0x10_0000usize;
        for &l in lens {
            mapping.push(Segment { sys, len: l }).unwrap();
            sys += 0x10_0000;
        }
        Lam { fbo, mapping }
    }

    #[test]
    fn pages_cover_fbo_and_length() {
        assert_eq!(lam(0, &[4096]).pages(), 1);
        assert_eq!(lam(1, &[4096]).pages(), 2);
        assert_eq!(lam(100, &[3996, 4096]).pages(), 2);
    }

    #[test]
    fn logical_ranges_resolve_only_inside_live_lams() {
        let mut t = LamTable::new(4);
        let mut rng = TokenRng::from_seed([1; 32]);
        let tok = t.insert(&mut rng, lam(16, &[4080, 100])).unwrap();
        let base = LamTable::page_address(tok, 0);
        assert_eq!(
            t.locate(base + 16, 8),
            Ok(LamLocated {
                token: tok,
                offset: 0
            })
        );
        // The head of the first page is not the buffer's.
        assert_eq!(t.locate(base, 8), Err(MappingError::OutOfRange));
        // Page 1 starts at offset 4080 of the buffer; 100 bytes there.
        let p1 = LamTable::page_address(tok, 1);
        assert!(t.locate(p1, 100).is_ok());
        assert_eq!(t.locate(p1, 101), Err(MappingError::OutOfRange));
        // Forged token.
        assert!(t.locate(base ^ (1 << 40), 1).is_err());
        t.remove(tok);
        assert!(t.locate(base + 16, 1).is_err());
    }

    #[test]
    fn pieces_split_at_segment_edges() {
        let l = lam(0, &[10, 20]);
        let mut got = alloc::vec::Vec::new();
        l.mapping.pieces(5, 10, |s, n| got.push((s, n))).unwrap();
        assert_eq!(got, [(0x10_0005, 5), (0x20_0000, 5)]);
        assert_eq!(
            l.mapping.pieces(25, 6, |_, _| panic!("must not be called")),
            Err(MappingError::OutOfRange)
        );
    }

    #[test]
    fn too_many_segments_refused() {
        let mut m = Mapping::default();
        for _ in 0..MAX_SEGMENTS {
            m.push(Segment { sys: 1, len: 1 }).unwrap();
        }
        assert_eq!(
            m.push(Segment { sys: 1, len: 1 }),
            Err(MappingError::TooManySegments)
        );
    }
}
