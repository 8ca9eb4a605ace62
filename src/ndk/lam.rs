//! NdkBuildLAM / NdkReleaseLAM (adapter table): the LamSize protocol, the
//! page array, the FBO, and the adapter's LAM table (`verbs::lam`), whose
//! logical addresses the privileged token's SGEs are checked against.
//! Both complete inline (no callback). Must not touch the pages.

use core::ffi::c_void;

use crate::abi::{
    lam_size, NtStatus, MDL, NDK_ADAPTER, NDK_FN_REQUEST_COMPLETION, NDK_LOGICAL_ADDRESS_MAPPING,
    STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Irql};
use crate::verbs::lam::{Lam, LamTable};

use super::adapter::Adapter;
use super::limits::MAX_REGISTRATION_SIZE;
use super::mdl::read_chain;

/// NDK_FN_BUILD_LAM. Checks: adapter; NULL LamSize or FBO, Length 0 or above
/// MaxRegistrationSize, a bad chain (NULL, short, not virtually contiguous,
/// joined inside a page) -> STATUS_INVALID_PARAMETER; then the size
/// protocol: NULL Lam or `*LamSize` below the size for
/// ceil((FBO + Length) / PAGE_SIZE) pages -> `*LamSize` = that size,
/// STATUS_BUFFER_TOO_SMALL (nothing mapped, nothing kept); table full /
/// unmappable -> STATUS_INSUFFICIENT_RESOURCES. On success the LAM is
/// filled (AdapterContext = our handle, page addresses logically
/// contiguous), `*LamSize` = the size used, `*FBO` = the first byte's
/// offset in its page. Always inline: RequestCompletion is never called.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: a non-NULL `lam` has `*lam_size` writable bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_build_lam(
    adapter: *mut NDK_ADAPTER,
    mdl: *mut MDL,
    length: usize,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
    lam: *mut NDK_LOGICAL_ADDRESS_MAPPING,
    size: *mut u32,
    fbo: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkBuildLAM");
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, readable by contract.
    let Some(adapter) = (unsafe { Adapter::from_ndk(adapter) }) else {
        return STATUS_INVALID_HANDLE;
    };
    if size.is_null() || fbo.is_null() || length == 0 || length > MAX_REGISTRATION_SIZE {
        return STATUS_INVALID_PARAMETER;
    }
    let core = adapter.core();
    // SAFETY: forwarded contract.
    let chain = match unsafe { read_chain(core, mdl, length, true) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    let lam_entry = Lam {
        fbo: chain.fbo,
        mapping: chain.mapping,
    };
    let Ok(pages) = u32::try_from(lam_entry.pages()) else {
        return STATUS_INVALID_PARAMETER;
    };
    let Some(needed) = lam_size(pages).and_then(|n| u32::try_from(n).ok()) else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: non-null, readable and writable by contract.
    let have = unsafe { size.read_unaligned() };
    if lam.is_null() || have < needed {
        // SAFETY: as above.
        unsafe { size.write_unaligned(needed) };
        return STATUS_BUFFER_TOO_SMALL;
    }
    let inserted = core.insert_lam(lam_entry);
    let Ok(token) = inserted else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    // SAFETY: `lam` has `needed` writable bytes (checked against *size):
    // the header and `pages` addresses.
    unsafe {
        core::ptr::addr_of_mut!((*lam).AdapterContext).write_unaligned(token as usize as *mut _);
        core::ptr::addr_of_mut!((*lam).AdapterPageCount).write_unaligned(pages);
        let array = core::ptr::addr_of_mut!((*lam).AdapterPageArray).cast::<i64>();
        for i in 0..pages {
            array
                .add(i as usize)
                .write_unaligned(LamTable::page_address(token, u64::from(i)));
        }
        size.write_unaligned(needed);
        fbo.write_unaligned(chain.fbo as u32);
    }
    STATUS_SUCCESS
}

/// NDK_FN_RELEASE_LAM: the LAM's logical addresses stop resolving at once.
/// A LAM this adapter did not build (or already released) is ignored.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: `lam` is NULL or a LAM from NdkBuildLAM.
pub(crate) unsafe extern "system" fn ndk_release_lam(
    adapter: *mut NDK_ADAPTER,
    lam: *mut NDK_LOGICAL_ADDRESS_MAPPING,
) {
    irql::assert_at_most(Irql::Dispatch, "NdkReleaseLAM");
    if adapter.is_null() || lam.is_null() {
        return;
    }
    // SAFETY: non-null, readable by contract.
    let Some(adapter) = (unsafe { Adapter::from_ndk(adapter) }) else {
        return;
    };
    // SAFETY: a readable LAM header by contract.
    let context = unsafe { core::ptr::addr_of!((*lam).AdapterContext).read_unaligned() };
    let Ok(token) = u32::try_from(context as usize) else {
        return;
    };
    adapter.core().lams.lock().remove(token);
}
