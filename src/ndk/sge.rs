//! Reading and checking a consumer's SGE list at post time (receives): the
//! count against the queue's limit, then each entry against the memory
//! table (token, PD, range, LOCAL_WRITE) or, for the PD's privileged token,
//! against the live LAMs of the adapter. Owns that check; never
//! dereferences an address the consumer gave.

use crate::abi::{NtStatus, NDK_SGE, STATUS_ACCESS_VIOLATION, STATUS_INVALID_PARAMETER};
use crate::verbs::memory::Access;
use crate::verbs::wq::{Sge, MAX_SGE};

use super::core::AdapterCore;

/// The PD an SGE list is checked in.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PdKeys {
    pub pd: u32,
    pub privileged: u32,
}

/// Copies `n` SGEs from `sgl` into `out` and checks each for `need`. More
/// than `max` SGEs, or a NULL list with `n > 0` -> STATUS_INVALID_PARAMETER;
/// a token that is unknown, of another PD, invalid, out of range or without
/// the right (or a logical address outside every live LAM) ->
/// STATUS_ACCESS_VIOLATION. Returns the count.
///
/// # Safety
/// `sgl` is NULL or points to `n` readable NDK_SGEs (NDKPI contract).
///
/// IRQL: <= DISPATCH_LEVEL.
pub(crate) unsafe fn read_sges(
    core: &AdapterCore,
    keys: PdKeys,
    sgl: *const NDK_SGE,
    n: u32,
    max: usize,
    need: Access,
    out: &mut [Sge; MAX_SGE],
) -> Result<usize, NtStatus> {
    let n = n as usize;
    if n > max || n > MAX_SGE {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if n > 0 && sgl.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    for (i, slot) in out.iter_mut().enumerate().take(n) {
        // SAFETY: `i < n` and the consumer provided `n` entries.
        let raw = unsafe { sgl.add(i).read_unaligned() };
        // SAFETY: both union members are 8 plain bytes; which one is meant
        // depends on the token, and either way we only keep the bits.
        let addr = unsafe { raw.Anonymous.LogicalAddress } as u64;
        *slot = Sge {
            addr,
            len: raw.Length,
            token: raw.MemoryRegionToken,
        };
        let ok = if slot.token == keys.privileged {
            core.lams
                .lock()
                .locate(addr as i64, u64::from(slot.len))
                .is_ok()
        } else {
            core.memory
                .lock()
                .check_local(slot.token, keys.pd, addr, u64::from(slot.len), need)
                .is_ok()
        };
        if !ok {
            return Err(STATUS_ACCESS_VIOLATION);
        }
    }
    Ok(n)
}
