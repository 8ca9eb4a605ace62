//! Reading a consumer's MDL chain (NdkRegisterMr, NdkBuildLAM): each MDL's
//! virtual address (`StartVa + ByteOffset`, an index only, never
//! dereferenced), the virtual contiguity of the chain for the requested
//! length, and the system mapping of each piece through the OS
//! (`Platform::map_mdl`). Owns that walk; the tables live in `verbs`. Must
//! not read the buffers.

use core::ptr::NonNull;

use crate::abi::{NtStatus, MDL, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER};
use crate::verbs::lam::{Mapping, Segment, MAX_SEGMENTS};

use super::core::AdapterCore;
use super::limits::PAGE_SIZE;

/// A mapped chain prefix of `length` bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Chain {
    /// The consumer's virtual address of the first byte.
    pub va: u64,
    /// The first byte's offset in its page.
    pub fbo: u64,
    pub mapping: Mapping,
}

/// Walks `mdl` for `length` bytes. Length 0, a NULL MDL, a chain shorter
/// than `length`, a gap between MDLs (or, with `page_joins`, a join inside
/// a page), or a VA of 0 -> STATUS_INVALID_PARAMETER; more than
/// `MAX_SEGMENTS` MDLs or an unmappable MDL -> STATUS_INSUFFICIENT_RESOURCES.
///
/// # Safety
/// `mdl` is NULL or the head of a readable MDL chain (NDKPI contract: the
/// consumer does not touch it during the call).
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn read_chain(
    core: &AdapterCore,
    mdl: *mut MDL,
    length: usize,
    page_joins: bool,
) -> Result<Chain, NtStatus> {
    let want = u64::try_from(length).map_err(|_| STATUS_INVALID_PARAMETER)?;
    if want == 0 {
        return Err(STATUS_INVALID_PARAMETER);
    }
    let mut cur = NonNull::new(mdl).ok_or(STATUS_INVALID_PARAMETER)?;
    let mut mapping = Mapping::default();
    let mut first_va = None;
    let mut next_va = 0u64;
    let mut have = 0u64;
    for _ in 0..=MAX_SEGMENTS {
        // SAFETY: a readable MDL by the caller's contract.
        let (start, offset, count, next) = unsafe {
            let m = cur.as_ptr();
            (
                (*m).StartVa as u64,
                (*m).ByteOffset,
                (*m).ByteCount,
                (*m).Next,
            )
        };
        let va = start
            .checked_add(u64::from(offset))
            .ok_or(STATUS_INVALID_PARAMETER)?;
        match first_va {
            None => {
                if va == 0 {
                    return Err(STATUS_INVALID_PARAMETER);
                }
                first_va = Some(va);
            }
            Some(_) => {
                if va != next_va || (page_joins && va % PAGE_SIZE as u64 != 0) {
                    return Err(STATUS_INVALID_PARAMETER);
                }
            }
        }
        let take = u64::from(count).min(want - have);
        if take > 0 {
            // SAFETY: a readable MDL by the caller's contract.
            let sys =
                unsafe { core.platform.map_mdl(cur) }.map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
            mapping
                .push(Segment {
                    sys: sys.as_ptr() as usize,
                    len: take,
                })
                .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        }
        have += take;
        next_va = va
            .checked_add(u64::from(count))
            .ok_or(STATUS_INVALID_PARAMETER)?;
        if have == want {
            let va = first_va.ok_or(STATUS_INVALID_PARAMETER)?;
            return Ok(Chain {
                va,
                fbo: va % PAGE_SIZE as u64,
                mapping,
            });
        }
        cur = NonNull::new(next).ok_or(STATUS_INVALID_PARAMETER)?;
    }
    Err(STATUS_INSUFFICIENT_RESOURCES)
}
