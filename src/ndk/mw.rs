//! The memory window object: NdkCreateMw (PD table) and NDK_MW_DISPATCH
//! (close, remote token). Binding (NdkBind, a QP post) is the data path's:
//! it records the window's remote token here with [`Mw::bound`]. Must not
//! bind by itself.

use core::ffi::c_void;

use crate::abi::{
    NdkObjectTypeMw, NtStatus, NDK_FN_CREATE_COMPLETION, NDK_MW, NDK_MW_DISPATCH, NDK_PD,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};

use super::core::tags;
use super::extension::ndk_query_extension;
use super::object::{child_create, create, header, ndk_close, recover, Base, NewObject, Object};
use super::pd::Pd;

/// A memory window.
#[repr(C)]
pub(crate) struct Mw {
    ndk: NDK_MW,
    base: Base,
    pub(crate) pd: u32,
    /// The remote token while bound.
    rkey: SpinLock<Option<u32>>,
}
const _: () = assert!(core::mem::offset_of!(Mw, ndk) == 0);

impl Object for Mw {
    const TYPE: u32 = NdkObjectTypeMw;
    const TAG: PoolTag = tags::MW;
    const CLOSE: &'static str = "NdkCloseMw";
    fn dispatch() -> *const c_void {
        (&MW_DISPATCH as *const NDK_MW_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

impl Mw {
    /// Records a bind done by the data path (its remote token), or an
    /// unbind/invalidate (`None`).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn bound(&self, rkey: Option<u32>) {
        *self.rkey.lock() = rkey;
    }

    /// The remote token while bound.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn rkey(&self) -> Option<u32> {
        *self.rkey.lock()
    }
}

impl Drop for Mw {
    fn drop(&mut self) {
        if let Some(rkey) = *self.rkey.lock() {
            let _ = self
                .base
                .core
                .memory
                .lock()
                .invalidate_remote(rkey, self.pd);
        }
    }
}

/// The table every MW's `Dispatch` points to, in ABI order.
pub static MW_DISPATCH: NDK_MW_DISPATCH = NDK_MW_DISPATCH {
    NdkCloseMw: ndk_close::<Mw>,
    NdkQueryExtension: ndk_query_extension,
    NdkGetRemoteTokenFromMw: ndk_get_remote_token_from_mw,
};

/// NDK_FN_CREATE_MW (PD table): an unbound window of the PD.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_mw(
    pd: *mut NDK_PD,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_mw: *mut *mut NDK_MW,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateMw");
    let make = |pd: &Pd| {
        let core = &pd.base().core;
        create(NewObject::of(core).child_of(&pd.base().events), |base| Mw {
            ndk: NDK_MW {
                Header: header(core, NdkObjectTypeMw),
                Dispatch: &MW_DISPATCH,
            },
            base,
            pd: pd.id,
            rkey: SpinLock::new(None),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { child_create(pd.cast(), pp_mw, create_completion, request_context, make) }
}

/// NDK_FN_GET_REMOTE_TOKEN_FROM_MW: the token of the current bind (0 while
/// unbound, or for a bad MW).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_remote_token_from_mw(mw: *mut NDK_MW) -> u32 {
    irql::assert_at_most(Irql::Dispatch, "NdkGetRemoteTokenFromMw");
    // SAFETY: forwarded contract.
    unsafe { recover::<Mw>(mw.cast()) }.map_or(0, |m| m.rkey.lock().unwrap_or(0))
}
