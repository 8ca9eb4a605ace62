//! The memory window object: NdkCreateMw (PD table) and NDK_MW_DISPATCH
//! (close, remote token). Binding (NdkBind, a QP post) is the data path's:
//! it records the window's remote token and the MR it is bound to here with
//! [`Mw::bind_to`] / [`Mw::unbind`]. Must not bind by itself.
//!
//! MR->MW (via Bind) antecedent (NDKPI facts §5.2): while bound, the window
//! counts as a child of the MR's `Events`, so closing the MR pends until the
//! window is closed (after its close completion returned), locally
//! invalidated (NdkInvalidate) or bound to another MR. An invalidated window
//! is no longer a successor: it no longer refers to the MR. A window
//! invalidated by the *peer* (an incoming SendAndInvalidate) is not seen
//! here and keeps the MR's close pending until one of the three events
//! above (later, never earlier, than the rule asks).

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::{
    NdkObjectTypeMw, NtStatus, NDK_FN_CREATE_COMPLETION, NDK_MW, NDK_MW_DISPATCH, NDK_PD,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};

use super::core::tags;
use super::extension::ndk_query_extension;
use super::object::{
    child_create, create, header, ndk_close, recover, Base, Events, NewObject, Object,
};
use super::pd::Pd;

/// A memory window.
#[repr(C)]
pub(crate) struct Mw {
    ndk: NDK_MW,
    base: Base,
    pub(crate) pd: u32,
    /// The current bind, if any.
    bind: SpinLock<Option<Binding>>,
}

/// A window's current bind: its remote token and the events of the MR it
/// is bound to (a counted child of them while the bind lasts).
struct Binding {
    rkey: u32,
    mr: Arc<Events>,
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
    /// Records a bind done by the data path: its remote token and the MR
    /// (`mr`: its events) it is bound to. Bound to another MR than before:
    /// the window becomes the new MR's child and stops being the old one's
    /// (whose pending close may then complete). Returns the earlier token
    /// (the caller invalidates it). No allocation (an `Arc` clone).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn bind_to(&self, rkey: u32, mr: &Arc<Events>) -> Option<u32> {
        // Lock order: the window's bind, then the MR's events (a leaf).
        let mut bind = self.bind.lock();
        let same = bind.as_ref().is_some_and(|b| Arc::ptr_eq(&b.mr, mr));
        if !same {
            mr.add_child();
        }
        let old = bind.replace(Binding {
            rkey,
            mr: mr.clone(),
        });
        drop(bind);
        let old_rkey = old.as_ref().map(|b| b.rkey);
        if let Some(b) = old.filter(|_| !same) {
            b.mr.child_closed();
        }
        old_rkey
    }

    /// Records an unbind (NdkInvalidate of the window): it stops being its
    /// MR's child. Returns the token it had (the caller invalidates it).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn unbind(&self) -> Option<u32> {
        let old = self.bind.lock().take()?;
        old.mr.child_closed();
        Some(old.rkey)
    }

    /// The remote token while bound.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn rkey(&self) -> Option<u32> {
        self.bind.lock().as_ref().map(|b| b.rkey)
    }
}

/// Runs when the window is freed, after its close completion returned: its
/// token dies, then its MR learns that this successor is gone.
impl Drop for Mw {
    fn drop(&mut self) {
        let bind = self.bind.lock().take();
        if let Some(b) = bind {
            let _ = self
                .base
                .core
                .memory
                .lock()
                .invalidate_remote(b.rkey, self.pd);
            b.mr.child_closed();
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
            bind: SpinLock::new(None),
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
    unsafe { recover::<Mw>(mw.cast()) }.map_or(0, |m| m.rkey().unwrap_or(0))
}
