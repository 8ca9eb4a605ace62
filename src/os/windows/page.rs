//! Pure page arithmetic of the MDL helpers, shared with the host tests
//! (`tests/windows_helpers.rs` includes this file by path): how many pages
//! an MDL spans (`ADDRESS_AND_SIZE_TO_SPAN_PAGES`) and the logical address
//! of a page frame for a LAM (a software adapter has no DMA remapping, so
//! the logical address is the physical one, `PFN << PAGE_SHIFT`).
//!
//! Owns: numbers only. Must not touch an MDL.

/// x64 page size and shift.
pub const PAGE_SIZE: usize = 4096;
pub const PAGE_SHIFT: u32 = 12;

/// Pages spanned by `byte_count` bytes starting `byte_offset` bytes into a
/// page (`ADDRESS_AND_SIZE_TO_SPAN_PAGES`; only the offset within the page
/// matters). 0 bytes span 0 pages.
///
/// IRQL: any (pure).
pub fn span_pages(byte_offset: u32, byte_count: u32) -> usize {
    let first = byte_offset as usize % PAGE_SIZE;
    if byte_count == 0 {
        return 0;
    }
    (first + byte_count as usize).div_ceil(PAGE_SIZE)
}

/// The logical (= physical) address of page frame `pfn`, or `None` if it
/// does not fit 64 bits.
///
/// IRQL: any (pure).
pub fn logical_address(pfn: u64) -> Option<u64> {
    pfn.checked_mul(PAGE_SIZE as u64)
}
