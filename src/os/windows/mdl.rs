//! MDL helpers for memory registration and the WSK carrier. Decisions (see
//! `docs/WINDOWS.md`, "Memory registration"):
//! - Probing and locking are the consumer's job: NDK consumers are kernel
//!   code and pass MDLs whose pages are already locked (or nonpaged).
//! - Mapping: `MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority |
//!   MdlMappingNoExecute)` ([`system_address`]); the mapping lives as long as
//!   the MDL's pages stay locked, so the `ndk` layer maps once at
//!   registration (NdkRegisterMr/NdkBuildLAM) and keeps the address.
//! - LAM logical addresses: there is no DMA remapping for a software
//!   adapter, so a page's "logical address" is its physical address,
//!   `PFN << PAGE_SHIFT` ([`pfn_array`], [`logical_addresses`]). The way back
//!   from a logical address to bytes is the LAM table the `ndk` layer keeps
//!   (logical page -> system VA from the mapping made at BuildLAM), not
//!   `MmGetVirtualForPhysical` (not for driver use) nor `MmMapIoSpaceEx`
//!   (maps device space; RAM owned by the memory manager must not be mapped
//!   with it): both are unneeded, so neither is imported.
//!
//! Owns: reading MDL headers and PFN arrays, mapping, copying out of a chain.
//! Must not lock, unlock or free a consumer's MDL.

use core::ptr::{self, NonNull};

use crate::os::OsError;

use super::imports::MmMapLockedPagesSpecifyCache;
use super::nt::{
    MdlHeader, KERNEL_MODE, MDL_MAPPED_TO_SYSTEM_VA, MDL_MAPPING_NO_EXECUTE,
    MDL_SOURCE_IS_NONPAGED_POOL, MM_CACHED, NORMAL_PAGE_PRIORITY,
};
use super::page::{logical_address, span_pages};

/// `MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute)`:
/// the system address of the first byte the MDL describes (at `StartVa +
/// ByteOffset`; the mapping starts at the page, MappedSystemVa includes the
/// byte offset). `InsufficientResources` when the system is out of PTEs.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `mdl` points to a valid MDL whose pages are locked (or nonpaged).
pub unsafe fn system_address(mdl: NonNull<MdlHeader>) -> Result<NonNull<u8>, OsError> {
    let m = mdl.as_ptr();
    // SAFETY: a valid MDL by the caller's contract.
    let (flags, mapped) = unsafe { ((*m).MdlFlags, (*m).MappedSystemVa) };
    let va = if flags & (MDL_MAPPED_TO_SYSTEM_VA | MDL_SOURCE_IS_NONPAGED_POOL) != 0 {
        mapped
    } else {
        // SAFETY: locked pages, kernel-mode mapping, no bugcheck on failure
        // (returns NULL): exactly the expansion of the wdm.h macro.
        unsafe {
            MmMapLockedPagesSpecifyCache(
                m,
                KERNEL_MODE,
                MM_CACHED,
                ptr::null_mut(),
                0,
                NORMAL_PAGE_PRIORITY | MDL_MAPPING_NO_EXECUTE,
            )
        }
    };
    NonNull::new(va.cast::<u8>()).ok_or(OsError::InsufficientResources)
}

/// `MmGetMdlPfnArray`: the PFN array that follows the MDL header, one
/// `PFN_NUMBER` (u64 on x64) per spanned page.
///
/// IRQL: any.
///
/// # Safety
/// `mdl` is a valid MDL describing locked pages (its PFN array is filled) and
/// outlives the returned slice.
pub unsafe fn pfn_array<'a>(mdl: NonNull<MdlHeader>) -> &'a [u64] {
    let m = mdl.as_ptr();
    // SAFETY: valid MDL by contract.
    let (offset, count) = unsafe { ((*m).ByteOffset, (*m).ByteCount) };
    let n = span_pages(offset, count);
    // SAFETY: the PFN array starts right after the header (wdm.h: `(PPFN_NUMBER)(Mdl + 1)`)
    // and holds at least `n` entries for a locked MDL.
    unsafe { core::slice::from_raw_parts(m.add(1).cast::<u64>(), n) }
}

/// The logical (= physical) address of each page of one MDL, for a LAM:
/// `pfn << PAGE_SHIFT`, written to `out`. Returns how many were written
/// (`None` if `out` is too short or a PFN is out of range).
///
/// IRQL: any.
///
/// # Safety
/// As [`pfn_array`].
pub unsafe fn logical_addresses(mdl: NonNull<MdlHeader>, out: &mut [u64]) -> Option<usize> {
    // SAFETY: forwarded contract.
    let pfns = unsafe { pfn_array(mdl) };
    let dst = out.get_mut(..pfns.len())?;
    for (d, pfn) in dst.iter_mut().zip(pfns) {
        *d = logical_address(*pfn)?;
    }
    Some(pfns.len())
}

/// Copies `len` bytes starting `offset` bytes into the first MDL of a chain
/// into `out`, walking `Next`. Returns the bytes copied, or `None` if the
/// chain is shorter than `offset + len`, `out` is too small, or a piece
/// cannot be mapped.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `mdl` is the head of a valid chain of locked MDLs.
pub unsafe fn copy_from_chain(
    mdl: NonNull<MdlHeader>,
    offset: usize,
    len: usize,
    out: &mut [u8],
) -> Option<usize> {
    let out = out.get_mut(..len)?;
    let mut cur = Some(mdl);
    let mut skip = offset;
    let mut done = 0usize;
    while done < len {
        let m = cur?;
        // SAFETY: valid chain member by contract.
        let (count, next) = unsafe { ((*m.as_ptr()).ByteCount as usize, (*m.as_ptr()).Next) };
        if skip < count {
            // SAFETY: valid locked MDL by contract.
            let base = unsafe { system_address(m) }.ok()?;
            let take = (count - skip).min(len - done);
            // SAFETY: the mapping covers `count` bytes from `base`; `skip +
            // take <= count`; `out[done..done + take]` is in bounds.
            unsafe {
                ptr::copy_nonoverlapping(base.as_ptr().add(skip), out.as_mut_ptr().add(done), take)
            };
            done += take;
            skip = 0;
        } else {
            skip -= count;
        }
        cur = NonNull::new(next);
    }
    Some(done)
}
