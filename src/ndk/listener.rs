//! The listener object: NdkCreateListener (adapter table) and
//! NDK_LISTENER_DISPATCH: NdkListen over the adapter's CM engine,
//! NdkGetListenerLocalAddress, NdkControlConnectEvents (pause: incoming
//! requests are refused as if no listener existed) and the close that
//! refuses further requests at once. Each incoming request becomes a new
//! connector, delivered by `net.rs` through the ConnectEvent callback queued
//! to this listener's DPC; those connectors are its children (its close
//! pends until they are closed).
//!
//! Owns the listener's argument checks and its slot in the runtime's
//! listener table; must not call the consumer.

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::*;
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::endpoint::{local_ip, read_sockaddr, write_sockaddr};
use super::extension::ndk_query_extension;
use super::net::{cm_status, ListenerEntry, LISTEN_BACKLOG};
use super::object::{
    adapter_create, create, finish_request, header, ndk_close, recover, Base, NewObject, Object,
};

/// A listener: its slot in the runtime's listener table holds its CM
/// listener, pause flag and ConnectEvent callback.
#[repr(C)]
pub(crate) struct Listener {
    ndk: NDK_LISTENER,
    base: Base,
    slot: usize,
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
    /// Further requests are refused at once; delivered connectors stay the
    /// consumer's (the close pends until they are closed).
    fn on_close(&self) {
        self.base.core.net.close_listener(self.slot);
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.base.core.net.free_listener(self.slot);
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
/// STATUS_INVALID_PARAMETER; no listener slot -> INSUFFICIENT_RESOURCES.
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
        let mut st = core.net.lock();
        let slot = st
            .listeners
            .iter()
            .position(Option::is_none)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let mut events = None;
        let ptr = create(NewObject::of(core), |base| {
            events = Some(base.events.clone());
            Listener {
                ndk: NDK_LISTENER {
                    Header: header(core, NdkObjectTypeListener),
                    Dispatch: &LISTENER_DISPATCH,
                },
                base,
                slot,
            }
        })?;
        if let (Some(s), Some(events)) = (st.listeners.get_mut(slot), events) {
            *s = Some(ListenerEntry {
                events,
                core: core.clone(),
                connect_event: (connect_event, connect_event_context as usize),
                id: None,
                paused: false,
            });
        }
        Ok(ptr)
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// NDK_FN_LISTEN: listens on the address (this adapter's IP, or the
/// unspecified address of its family; port 0 -> an ephemeral port).
/// Inline SUCCESS (through the completion when completions are deferred).
/// Bad SOCKADDR -> INVALID_PARAMETER; another address or family ->
/// INVALID_ADDRESS; port in use -> SHARING_VIOLATION; port 0 and no
/// ephemeral port free -> TOO_MANY_ADDRESSES; listener table full ->
/// INSUFFICIENT_RESOURCES; already listening -> INVALID_DEVICE_STATE.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_listen(
    listener: *mut NDK_LISTENER,
    address: *const SOCKADDR,
    len: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkListen");
    // SAFETY: forwarded contract.
    let l = match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(l) => l,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let (ip, port) = match unsafe { read_sockaddr(address, len) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    let core = &l.base.core;
    let ip = match local_ip(core, ip, true) {
        Ok(ip) => ip,
        Err(e) => return e,
    };
    let mut st = core.net.lock();
    let Some(Some(entry)) = st.listeners.get(l.slot) else {
        return STATUS_INVALID_DEVICE_STATE;
    };
    if entry.id.is_some() {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let paused = entry.paused;
    let status = match st.cm.listen(ip, port, LISTEN_BACKLOG) {
        Ok((id, _)) => {
            let _ = st.cm.pause_listener(id, paused);
            if let Some(Some(e)) = st.listeners.get_mut(l.slot) {
                e.id = Some(id);
            }
            STATUS_SUCCESS
        }
        Err(e) => cm_status(e),
    };
    drop(st);
    finish_request(&l.base, status, completion, context)
}

/// NDK_FN_GET_LISTENER_LOCAL_ADDRESS: the bound address (the chosen port
/// if 0 was asked; the unspecified address for a wildcard listen), with the
/// size protocol. Not listening -> INVALID_DEVICE_STATE.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_listener_local_address(
    listener: *mut NDK_LISTENER,
    address: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetListenerLocalAddress");
    // SAFETY: forwarded contract.
    let l = match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(l) => l,
        Err(e) => return e,
    };
    if len.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let bound = {
        let st = l.base.core.net.lock();
        let id = st.listeners.get(l.slot).and_then(|e| e.as_ref()?.id);
        id.and_then(|id| st.cm.listener_addr(id))
    };
    match bound {
        // SAFETY: forwarded contract.
        Some(a) => unsafe { write_sockaddr((a.ip(), a.port()), address, len) },
        None => STATUS_INVALID_DEVICE_STATE,
    }
}

/// NDK_FN_CONTROL_CONNECT_EVENTS: Pause TRUE -> new requests are refused
/// (REJ, the active side sees CONNECTION_REFUSED) as if no listener
/// existed; FALSE resumes. Remembered if called before NdkListen.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_control_connect_events(listener: *mut NDK_LISTENER, pause: BOOLEAN) {
    irql::assert_at_most(Irql::Dispatch, "NdkControlConnectEvents");
    // SAFETY: forwarded contract.
    let Ok(l) = (unsafe { recover::<Listener>(listener.cast()) }) else {
        return;
    };
    let mut st = l.base.core.net.lock();
    let id = match st.listeners.get_mut(l.slot) {
        Some(Some(e)) => {
            e.paused = pause != 0;
            e.id
        }
        _ => None,
    };
    if let Some(id) = id {
        let _ = st.cm.pause_listener(id, pause != 0);
    }
}
