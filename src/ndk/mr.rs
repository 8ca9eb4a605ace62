//! The memory region object: NdkCreateMr (PD table) and NDK_MR_DISPATCH
//! (close, register, deregister, initialize-fast-register, remote and local
//! tokens). Registration maps the MDL chain through the OS and enters the
//! region in the adapter's memory table, which mints the unguessable tokens
//! and checks PD, range and rights on every use. Memory windows bound to
//! the MR are its successors (facts §5.2 MR->MW, counted by `mw.rs`): its
//! close pends and its registration stays until they are gone. Must not
//! touch the bytes.

use alloc::vec::Vec;
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::abi::{
    NdkMrFlags, NdkObjectTypeMr, NtStatus, BOOLEAN, MDL, NDK_FN_CREATE_COMPLETION,
    NDK_FN_REQUEST_COMPLETION, NDK_MR, NDK_MR_DISPATCH, NDK_PD, STATUS_DEVICE_BUSY,
    STATUS_IMPLEMENTATION_LIMIT, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};
use crate::verbs::memory::{Access, Region, RegionKind};

use super::core::{tags, AdapterCore, Backing};
use super::extension::ndk_query_extension;
use super::limits::{MAX_FRMR_PAGES, MAX_REGISTRATION_SIZE};
use super::mdl::read_chain;
use super::object::{
    child_create, create, finish_request, header, ndk_close, recover, Base, NewObject, Object,
};
use super::pd::Pd;

/// What an MR currently is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum MrState {
    /// Created, nothing registered.
    Empty,
    /// NdkRegisterMr'd or fast-register initialized: its local token.
    Live(u32),
}

/// A memory region.
#[repr(C)]
pub(crate) struct Mr {
    ndk: NDK_MR,
    base: Base,
    pub(crate) pd: u32,
    /// Created with FastRegister = TRUE.
    fast: bool,
    state: SpinLock<MrState>,
    /// InitializeFastRegisterMr granted remote access (FastRegister may
    /// then give remote rights).
    remote_capable: AtomicBool,
}
const _: () = assert!(core::mem::offset_of!(Mr, ndk) == 0);

impl Object for Mr {
    const TYPE: u32 = NdkObjectTypeMr;
    const TAG: PoolTag = tags::MR;
    const CLOSE: &'static str = "NdkCloseMr";
    fn dispatch() -> *const c_void {
        (&MR_DISPATCH as *const NDK_MR_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

impl Drop for Mr {
    fn drop(&mut self) {
        if let MrState::Live(lkey) = *self.state.lock() {
            remove_region(&self.base.core, lkey);
        }
    }
}

/// The table every MR's `Dispatch` points to, in ABI order.
pub static MR_DISPATCH: NDK_MR_DISPATCH = NDK_MR_DISPATCH {
    NdkCloseMr: ndk_close::<Mr>,
    NdkQueryExtension: ndk_query_extension,
    NdkRegisterMr: ndk_register_mr,
    NdkDeregisterMr: ndk_deregister_mr,
    NdkInitializeFastRegisterMr: ndk_initialize_fast_register_mr,
    NdkGetRemoteTokenFromMr: ndk_get_remote_token_from_mr,
    NdkGetLocalTokenFromMr: ndk_get_local_token_from_mr,
};

/// Removes a region and releases what its backing charged.
fn remove_region(core: &AdapterCore, lkey: u32) {
    let removed = core.memory.lock().remove(lkey);
    if let Some(Region {
        backing: Backing::Fast { capacity, .. },
        ..
    }) = removed
    {
        core.release(tags::FRMR_PAGES, frmr_bytes(capacity));
    }
}

fn frmr_bytes(pages: u32) -> usize {
    (pages as usize).saturating_mul(core::mem::size_of::<i64>())
}

/// NDK_MR_FLAG_* -> rights. Unknown bits -> None. REMOTE_WRITE (0x5, and
/// its 0x4 bit alone) implies LOCAL_WRITE; RDMA_READ_SINK is accepted and
/// ignored (RDMA_READ_SINK_NOT_REQUIRED is advertised); local read is
/// always granted.
pub(crate) fn mr_access(flags: u32) -> Option<Access> {
    let f = NdkMrFlags::from_bits(flags)?;
    let mut a = Access::empty();
    if f.intersects(NdkMrFlags::ALLOW_LOCAL_WRITE) {
        a |= Access::LOCAL_WRITE;
    }
    if f.contains(NdkMrFlags::ALLOW_REMOTE_READ) {
        a |= Access::REMOTE_READ;
    }
    if flags & 0x4 != 0 {
        a |= Access::REMOTE_WRITE | Access::LOCAL_WRITE | Access::REMOTE_ATOMIC;
    }
    Some(a)
}

/// NDK_FN_CREATE_MR (PD table): an empty MR of the PD (FastRegister: only
/// NdkInitializeFastRegisterMr may set it up; otherwise only NdkRegisterMr).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_mr(
    pd: *mut NDK_PD,
    fast_register: BOOLEAN,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_mr: *mut *mut NDK_MR,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateMr");
    let make = |pd: &Pd| {
        let core = &pd.base().core;
        create(NewObject::of(core).child_of(&pd.base().events), |base| Mr {
            ndk: NDK_MR {
                Header: header(core, NdkObjectTypeMr),
                Dispatch: &MR_DISPATCH,
            },
            base,
            pd: pd.id,
            fast: fast_register != 0,
            state: SpinLock::new(MrState::Empty),
            remote_capable: AtomicBool::new(false),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { child_create(pd.cast(), pp_mr, create_completion, request_context, make) }
}

/// NDK_FN_REGISTER_MR. Checks, in order: MR (INVALID_HANDLE / PARAMETER),
/// unknown flag bits -> STATUS_INVALID_PARAMETER, a fast-register MR or one
/// already registered -> STATUS_INVALID_DEVICE_REQUEST, Length 0 or above
/// MaxRegistrationSize -> STATUS_INVALID_PARAMETER, the MDL chain (NULL,
/// shorter than Length, not virtually contiguous, VA 0) ->
/// STATUS_INVALID_PARAMETER, too many MDLs / unmappable / table full ->
/// STATUS_INSUFFICIENT_RESOURCES. On any failure nothing changes. The
/// region's addresses are the MDL's VAs (an index; the bytes are reached
/// only through the OS mapping).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_register_mr(
    mr: *mut NDK_MR,
    mdl: *mut MDL,
    length: usize,
    flags: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkRegisterMr");
    // SAFETY: forwarded contract.
    let mr = match unsafe { recover::<Mr>(mr.cast()) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let Some(access) = mr_access(flags) else {
        return STATUS_INVALID_PARAMETER;
    };
    let mut state = mr.state.lock();
    if mr.fast || *state != MrState::Empty {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if length == 0 || length > MAX_REGISTRATION_SIZE {
        return STATUS_INVALID_PARAMETER;
    }
    let core = &mr.base.core;
    // SAFETY: forwarded contract (the consumer leaves the MDL alone).
    let chain = match unsafe { read_chain(core, mdl, length, false) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    let region = Region {
        pd: mr.pd,
        base: chain.va,
        len: chain.mapping.len(),
        access,
        kind: RegionKind::Registered,
        rkey: None,
        valid: true,
        backing: Backing::Mapped(chain.mapping),
    };
    let inserted = core.insert_region(region);
    let Ok(lkey) = inserted else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    *state = MrState::Live(lkey);
    drop(state);
    finish_request(&mr.base, STATUS_SUCCESS, completion, context)
}

/// NDK_FN_DEREGISTER_MR: the tokens stop working at once. Nothing
/// registered -> STATUS_INVALID_DEVICE_REQUEST; a memory window still bound
/// to the MR (NdkBind, not yet invalidated, rebound elsewhere or closed) ->
/// STATUS_DEVICE_BUSY and nothing changes. The NDK page names no status for
/// this; the answer is NetworkDirect's (INDAdapter::DeregisterMemory:
/// ND_DEVICE_BUSY "the memory region still has memory windows bound to
/// it"), the conservative choice: a window never outlives the registration
/// it exposes.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_deregister_mr(
    mr: *mut NDK_MR,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkDeregisterMr");
    // SAFETY: forwarded contract.
    let mr = match unsafe { recover::<Mr>(mr.cast()) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    let mut state = mr.state.lock();
    let MrState::Live(lkey) = *state else {
        return STATUS_INVALID_DEVICE_REQUEST;
    };
    if mr.base.events.children() > 0 {
        return STATUS_DEVICE_BUSY;
    }
    remove_region(&mr.base.core, lkey);
    *state = MrState::Empty;
    drop(state);
    finish_request(&mr.base, STATUS_SUCCESS, completion, context)
}

/// NDK_FN_INITIALIZE_FAST_REGISTER_MR: an MR created with FastRegister =
/// TRUE gets room for `page_count` logical pages (allocated now, so the
/// NdkFastRegister post never allocates) and a local token; its remote
/// token becomes usable after NdkFastRegister (RemoteAccess decides whether
/// remote rights may be granted then). May be repeated (the earlier
/// initialization is replaced). Not a fast-register MR ->
/// STATUS_INVALID_DEVICE_REQUEST; 0 pages -> STATUS_INVALID_PARAMETER; more
/// than MAX_FRMR_PAGES -> STATUS_IMPLEMENTATION_LIMIT.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_initialize_fast_register_mr(
    mr: *mut NDK_MR,
    page_count: u32,
    remote_access: BOOLEAN,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkInitializeFastRegisterMr");
    // SAFETY: forwarded contract.
    let mr = match unsafe { recover::<Mr>(mr.cast()) } {
        Ok(m) => m,
        Err(e) => return e,
    };
    if !mr.fast {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if page_count == 0 {
        return STATUS_INVALID_PARAMETER;
    }
    if page_count > MAX_FRMR_PAGES {
        return STATUS_IMPLEMENTATION_LIMIT;
    }
    let core = &mr.base.core;
    if let Err(e) = core.charge(tags::FRMR_PAGES, frmr_bytes(page_count)) {
        return e;
    }
    let mut pages = Vec::new();
    if pages.try_reserve_exact(page_count as usize).is_err() {
        core.release(tags::FRMR_PAGES, frmr_bytes(page_count));
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    let mut access = Access::LOCAL_WRITE;
    if remote_access != 0 {
        access |= Access::REMOTE_READ | Access::REMOTE_WRITE | Access::REMOTE_ATOMIC;
    }
    let region = Region {
        pd: mr.pd,
        base: 0,
        len: 0,
        access,
        kind: RegionKind::FastRegister {
            max_pages: page_count,
        },
        rkey: None,
        valid: false,
        backing: Backing::Fast {
            pages,
            capacity: page_count,
        },
    };
    let mut state = mr.state.lock();
    let inserted = core.insert_region(region);
    let Ok(lkey) = inserted else {
        core.release(tags::FRMR_PAGES, frmr_bytes(page_count));
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    if let MrState::Live(old) = *state {
        remove_region(core, old);
    }
    *state = MrState::Live(lkey);
    mr.remote_capable
        .store(remote_access != 0, Ordering::Release);
    drop(state);
    finish_request(&mr.base, STATUS_SUCCESS, completion, context)
}

impl Mr {
    /// The local token while registered or fast-register initialized.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn lkey(&self) -> Option<u32> {
        match *self.state.lock() {
            MrState::Live(lkey) => Some(lkey),
            MrState::Empty => None,
        }
    }

    /// Whether it was created for fast registration, and whether its
    /// initialization allowed remote access.
    ///
    /// IRQL: any.
    pub(crate) fn fast(&self) -> (bool, bool) {
        (self.fast, self.remote_capable.load(Ordering::Acquire))
    }
}

/// The region's tokens: (local, remote-if-any).
fn tokens(mr: &Mr) -> (u32, u32) {
    let MrState::Live(lkey) = *mr.state.lock() else {
        return (0, 0);
    };
    let rkey = mr
        .base
        .core
        .memory
        .lock()
        .region(lkey)
        .and_then(|r| r.rkey)
        .unwrap_or(0);
    (lkey, rkey)
}

/// NDK_FN_GET_REMOTE_TOKEN_FROM_MR: the remote token of a region registered
/// with a remote right (0 otherwise, or for a bad MR).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_remote_token_from_mr(mr: *mut NDK_MR) -> u32 {
    irql::assert_at_most(Irql::Dispatch, "NdkGetRemoteTokenFromMr");
    // SAFETY: forwarded contract.
    unsafe { recover::<Mr>(mr.cast()) }.map_or(0, |m| tokens(m).1)
}

/// NDK_FN_GET_LOCAL_TOKEN_FROM_MR: the local token (0 when nothing is
/// registered, or for a bad MR).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_local_token_from_mr(mr: *mut NDK_MR) -> u32 {
    irql::assert_at_most(Irql::Dispatch, "NdkGetLocalTokenFromMr");
    // SAFETY: forwarded contract.
    unsafe { recover::<Mr>(mr.cast()) }.map_or(0, |m| tokens(m).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_mapping() {
        assert_eq!(mr_access(0), Some(Access::empty()));
        assert_eq!(mr_access(1), Some(Access::LOCAL_WRITE));
        assert_eq!(mr_access(2), Some(Access::REMOTE_READ));
        let rw = Access::REMOTE_WRITE | Access::LOCAL_WRITE | Access::REMOTE_ATOMIC;
        assert_eq!(mr_access(5), Some(rw));
        assert_eq!(mr_access(4), Some(rw));
        assert_eq!(mr_access(8), Some(Access::empty()));
        assert_eq!(mr_access(0x10), None);
        assert_eq!(mr_access(0x8000_0000), None);
    }
}
