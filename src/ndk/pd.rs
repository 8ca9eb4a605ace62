//! The protection domain: NdkCreatePd (adapter table), the NDK_PD_DISPATCH
//! table, NdkClosePd and NdkGetPrivilegedMemoryRegionToken. A PD owns one
//! privileged token (a memory-table entry that names no bytes: SGEs carrying
//! it hold LAM logical addresses, local read/write only, never remote).
//! The creates of its children live in `mr.rs`, `mw.rs`, `srq.rs`, `qp.rs`;
//! must not touch their state.

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::{
    NdkObjectTypePd, NtStatus, NDK_ADAPTER, NDK_FN_CREATE_COMPLETION, NDK_PD, NDK_PD_DISPATCH,
    STATUS_INSUFFICIENT_RESOURCES,
};
use crate::os::{irql, Irql, PoolTag};
use crate::verbs::memory::{Access, Region, RegionKind};

use super::core::{tags, AdapterCore, Backing};
use super::extension::ndk_query_extension;
use super::object::{adapter_create, create, header, ndk_close, recover, Base, NewObject, Object};
use super::{mr, mw, qp, srq};

/// A protection domain.
#[repr(C)]
pub(crate) struct Pd {
    ndk: NDK_PD,
    base: Base,
    /// The PD's id in the memory table.
    pub(crate) id: u32,
    /// Its privileged token.
    pub(crate) privileged: u32,
}
const _: () = assert!(core::mem::offset_of!(Pd, ndk) == 0);

impl Object for Pd {
    const TYPE: u32 = NdkObjectTypePd;
    const TAG: PoolTag = tags::PD;
    const CLOSE: &'static str = "NdkClosePd";
    fn dispatch() -> *const c_void {
        (&PD_DISPATCH as *const NDK_PD_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

impl Drop for Pd {
    fn drop(&mut self) {
        self.base.core.memory.lock().remove(self.privileged);
    }
}

/// The table every PD's `Dispatch` points to, in ABI order.
pub static PD_DISPATCH: NDK_PD_DISPATCH = NDK_PD_DISPATCH {
    NdkClosePd: ndk_close::<Pd>,
    NdkQueryExtension: ndk_query_extension,
    NdkCreateMr: mr::ndk_create_mr,
    NdkCreateMw: mw::ndk_create_mw,
    NdkCreateSrq: srq::ndk_create_srq,
    NdkCreateQp: qp::ndk_create_qp,
    NdkCreateQpWithSrq: qp::ndk_create_qp_with_srq,
    NdkGetPrivilegedMemoryRegionToken: ndk_get_privileged_memory_region_token,
};

/// Mints the privileged token of PD `id`.
fn mint_privileged(core: &AdapterCore, id: u32) -> Result<u32, NtStatus> {
    let region = Region {
        pd: id,
        base: 0,
        len: 0,
        access: Access::LOCAL_WRITE,
        kind: RegionKind::Privileged,
        rkey: None,
        valid: true,
        backing: Backing::None,
    };
    core.insert_region(region)
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)
}

/// NDK_FN_CREATE_PD. Inline (or deferred, see `AdapterCore::deferred`).
/// NULL adapter or out-param -> STATUS_INVALID_PARAMETER; foreign adapter
/// -> STATUS_INVALID_HANDLE; no memory / full token table ->
/// STATUS_INSUFFICIENT_RESOURCES.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: pointers are NULL or valid.
pub(crate) unsafe extern "system" fn ndk_create_pd(
    adapter: *mut NDK_ADAPTER,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_pd: *mut *mut NDK_PD,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreatePd");
    let make = |core: &Arc<AdapterCore>| {
        let id = core.next_pd_id();
        let privileged = mint_privileged(core, id)?;
        create(NewObject::of(core), |base| Pd {
            ndk: NDK_PD {
                Header: header(core, NdkObjectTypePd),
                Dispatch: &PD_DISPATCH,
            },
            base,
            id,
            privileged,
        })
        .inspect_err(|_| {
            core.memory.lock().remove(privileged);
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp_pd, create_completion, request_context, make) }
}

/// NDK_FN_GET_PRIVILEGED_MEMORY_REGION_TOKEN: the PD's privileged token
/// (LOCAL_READ + LOCAL_WRITE on LAM logical addresses; no remote token
/// exists for it). A bad PD or NULL out-param: nothing is written.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_privileged_memory_region_token(pd: *mut NDK_PD, token: *mut u32) {
    irql::assert_at_most(Irql::Dispatch, "NdkGetPrivilegedMemoryRegionToken");
    if token.is_null() {
        return;
    }
    // SAFETY: forwarded contract.
    if let Ok(pd) = unsafe { recover::<Pd>(pd.cast()) } {
        // SAFETY: non-null and writable by contract.
        unsafe { token.write_unaligned(pd.privileged) };
    }
}
