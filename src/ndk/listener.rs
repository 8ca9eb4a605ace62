//! The listener object: NdkCreateListener (adapter table) and
//! NDK_LISTENER_DISPATCH. Owns creation, lifetime, pause state and the
//! answers of a listener that is not listening. PENDING (connection work):
//! NdkListen answers STATUS_NOT_IMPLEMENTED (never pends, never completes).

use core::sync::atomic::{AtomicBool, Ordering};

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::*;
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::extension::ndk_query_extension;
use super::object::{adapter_create, create, header, ndk_close, recover, Base, NewObject, Object};

/// A listener (not listening until NdkListen, pending the connection work).
#[repr(C)]
pub(crate) struct Listener {
    ndk: NDK_LISTENER,
    base: Base,
    #[allow(dead_code)] // delivered connectors: the connection work
    connect_event: (NDK_FN_CONNECT_EVENT_CALLBACK, usize),
    paused: AtomicBool,
}
const _: () = assert!(core::mem::offset_of!(Listener, ndk) == 0);

impl Object for Listener {
    const TYPE: u32 = NdkObjectTypeListener;
    const TAG: PoolTag = tags::LISTENER;
    const CLOSE: &'static str = "NdkCloseListener";
    fn dispatch() -> *const c_void {
        (&LISTENER_DISPATCH as *const NDK_LISTENER_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

/// The table every listener's `Dispatch` points to.
pub static LISTENER_DISPATCH: NDK_LISTENER_DISPATCH = NDK_LISTENER_DISPATCH {
    NdkCloseListener: ndk_close::<Listener>,
    NdkQueryExtension: ndk_query_extension,
    NdkListen: ndk_listen,
    NdkGetListenerLocalAddress: ndk_get_listener_local_address,
    NdkControlConnectEvents: ndk_control_connect_events,
};

/// NDK_FN_CREATE_LISTENER: NULL ConnectEvent or out-param ->
/// STATUS_INVALID_PARAMETER.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_listener(
    adapter: *mut NDK_ADAPTER,
    connect_event: Option<NDK_FN_CONNECT_EVENT_CALLBACK>,
    connect_event_context: *mut c_void,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp: *mut *mut NDK_LISTENER,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateListener");
    let make = |core: &Arc<AdapterCore>| {
        let connect_event = connect_event.ok_or(STATUS_INVALID_PARAMETER)?;
        create(NewObject::of(core), |base| Listener {
            ndk: NDK_LISTENER {
                Header: header(core, NdkObjectTypeListener),
                Dispatch: &LISTENER_DISPATCH,
            },
            base,
            connect_event: (connect_event, connect_event_context as usize),
            paused: AtomicBool::new(false),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// NDK_FN_LISTEN: PENDING (connection work) -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_listen(
    listener: *mut NDK_LISTENER,
    _address: *const SOCKADDR,
    _len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkListen");
    // SAFETY: forwarded contract.
    match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(_) => STATUS_NOT_IMPLEMENTED,
        Err(e) => e,
    }
}

/// NDK_FN_GET_LISTENER_LOCAL_ADDRESS: a listener that is not listening has
/// no address -> STATUS_INVALID_DEVICE_STATE (length untouched).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_listener_local_address(
    listener: *mut NDK_LISTENER,
    _address: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetListenerLocalAddress");
    // SAFETY: forwarded contract.
    match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(_) if len.is_null() => STATUS_INVALID_PARAMETER,
        Ok(_) => STATUS_INVALID_DEVICE_STATE,
        Err(e) => e,
    }
}

/// NDK_FN_CONTROL_CONNECT_EVENTS: records pause/resume.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_control_connect_events(listener: *mut NDK_LISTENER, pause: BOOLEAN) {
    irql::assert_at_most(Irql::Dispatch, "NdkControlConnectEvents");
    // SAFETY: forwarded contract.
    if let Ok(l) = unsafe { recover::<Listener>(listener.cast()) } {
        l.paused.store(pause != 0, Ordering::Release);
    }
}
