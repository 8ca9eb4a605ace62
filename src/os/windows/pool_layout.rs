//! Pure arithmetic of the pool allocator: how many bytes to ask
//! `ExAllocatePool2` for, and where an over-aligned block starts inside it.
//! Pool blocks are only `MEMORY_ALLOCATION_ALIGNMENT` (16) aligned on x64, so a
//! stricter `Layout` is served from a larger block with the block's base
//! stored in the word just below the aligned pointer.
//!
//! Owns: numbers only (no pointers are dereferenced, no unsafe), so the host
//! test `tests/windows_pool_layout.rs` includes this file and checks it.
//! Must not call the kernel.

/// How a `Layout` is placed in a pool block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// The pool's own alignment suffices: allocate `size` bytes, use the base.
    Direct { size: usize },
    /// Allocate `size` bytes; the caller's pointer is `align_up(base + 8, align)`,
    /// and the base is stored in the 8 bytes just below it.
    OverAligned { size: usize, align: usize },
}

/// Width of the stored base pointer of an over-aligned block.
pub const HEADER: usize = core::mem::size_of::<usize>();

/// The placement of a request of `size` bytes at `align` (a power of two),
/// given the pool's natural alignment. `None` if the sizes overflow.
///
/// IRQL: any (pure).
pub fn placement(size: usize, align: usize, pool_align: usize) -> Option<Placement> {
    // A zero-sized request still gets a real block so every pointer is unique.
    let size = size.max(1);
    if align <= pool_align {
        return Some(Placement::Direct { size });
    }
    // Worst case the base sits just past an `align` boundary: skip HEADER
    // bytes, then up to `align - 1` bytes to the next boundary.
    let extra = align.checked_add(HEADER)?.checked_sub(1)?;
    Some(Placement::OverAligned {
        size: size.checked_add(extra)?,
        align,
    })
}

/// The caller's address for an over-aligned block whose pool base is `base`:
/// the first `align` boundary that leaves `HEADER` bytes free below it.
/// `None` if the address would overflow.
///
/// IRQL: any (pure).
pub fn aligned_start(base: usize, align: usize) -> Option<usize> {
    let first = base.checked_add(HEADER)?;
    let mask = align.checked_sub(1)?;
    Some(first.checked_add(mask)? & !mask)
}
