//! The NDK side of the miniport: the OPEN/CLOSE_NDK_ADAPTER handlers
//! registered through NdisSetOptionalHandlers, OID_NDK_SET_STATE (the OID
//! handler records the wanted state and queues an NDIS I/O work item; the
//! work item raises NetEventNDKEnable/NetEventNDKDisable with
//! NdisMNetPnPEvent at PASSIVE, never inside the OID handler), and the
//! tables behind OID_NDK_CONNECTIONS / OID_NDK_LOCAL_ENDPOINTS (every open
//! instance is entered in the adapter's `NdkInstances` at open and taken
//! out at close).
//!
//! The open handler is the kernel twin of `os::hosted::entry`: version
//! first (`ndk::negotiate_version`), then the adapter address (here the
//! configured `CarrierIpAddress`), then the adapter's one `ndk::Network`
//! (created by the first open on the adapter's `WindowsPlatform`, feeding
//! the adapter's `NdkCounters`, kept in `NdkInstances`), then
//! `ndk::open_adapter_on` that network: every NDK instance of the miniport
//! adapter shares its carrier, CM, QPNs and listener ports. The network
//! stops when NDK is disabled with no instance open (the work item drops it
//! after NetEventNDKDisable returned, opens being refused by then) or at
//! halt (the table is dropped with the adapter).
//!
//! Owns: those handlers and the work item routine. Must not implement NDK
//! objects (`ndk` does).

use core::net::{IpAddr, SocketAddr};
use core::ptr::{self, NonNull};
use core::sync::atomic::Ordering;

use crate::abi::{
    NetEventNDKDisable, NetEventNDKEnable, NDIS_HANDLE, NDIS_OBJECT_HEADER,
    NDIS_OPEN_NDK_ADAPTER_PARAMETERS, NDIS_STATUS, NDIS_STATUS_ADAPTER_NOT_READY,
    NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS, NDK_ADAPTER, STATUS_INVALID_PARAMETER,
};
use crate::ndk::{
    close_adapter, negotiate_version, open_adapter_on, Adapter as NdkAdapter, Network,
};
use crate::os::irql;

use super::super::imports::{
    KeInitializeEvent, KeWaitForSingleObject, NdisMNetPnPEvent, NdisQueueIoWorkItem,
};
use super::super::ndis::{
    NDIS_OBJECT_TYPE_DEFAULT, NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1, NET_PNP_EVENT,
    NET_PNP_EVENT_NOTIFICATION, NET_PNP_EVENT_NOTIFICATION_REVISION_1,
};
use super::super::nt::{EXECUTIVE, FALSE, KERNEL_MODE, KEVENT, NOTIFICATION_EVENT};
use super::adapter::Adapter;
use super::ndk_instances::Claim;

/// OPEN_NDK_ADAPTER_HANDLER.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn open_ndk_adapter(
    ctx: NDIS_HANDLE,
    params: *mut NDIS_OPEN_NDK_ADAPTER_PARAMETERS,
    out: *mut *mut NDK_ADAPTER,
) -> NDIS_STATUS {
    irql::assert_passive("OpenNDKAdapterHandler");
    if params.is_null() || out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    // SAFETY: NDIS's parameters for this call.
    let requested = unsafe { (*params).Version };
    let result = if !a.ndk_enabled() {
        Err(NDIS_STATUS_ADAPTER_NOT_READY)
    } else {
        negotiate_version(requested)
            .and_then(|_| a.ndk_address().ok_or(NDIS_STATUS_ADAPTER_NOT_READY))
            .and_then(|ip| {
                // Claimed in `adapter_network`: counted as opening (NDK
                // disable leaves the network alone) until registered or failed.
                let opened = adapter_network(a, ip)
                    .and_then(|network| open_adapter_on(&network, requested))
                    .and_then(|p| register(a, p));
                a.ndk_instances.open_done();
                opened
            })
    };
    let (ptr, status) = match result {
        Ok(p) => {
            a.ndk_open.fetch_add(1, Ordering::SeqCst);
            (p.as_ptr(), NDIS_STATUS_SUCCESS)
        }
        Err(s) => (ptr::null_mut(), s),
    };
    // SAFETY: NDIS's out pointer, checked non-null.
    unsafe { out.write(ptr) };
    status
}

/// The miniport adapter's network: the one in its table, or (first open)
/// a new one at `ip` on the adapter's platform feeding its counters. An
/// open racing the creation waits for it (1 ms sleeps).
///
/// IRQL: PASSIVE_LEVEL.
fn adapter_network(a: &Adapter, ip: IpAddr) -> Result<Network, NDIS_STATUS> {
    loop {
        match a.ndk_instances.claim_network() {
            Claim::Ready(network) => return Ok(network),
            Claim::Create => {
                let made = Network::with_roce_mtu(
                    ip,
                    a.platform.clone(),
                    Some(a.counters.clone()),
                    a.config.frame_size,
                );
                a.ndk_instances.publish_network(made.as_ref().ok());
                return made;
            }
            Claim::Wait => sleep_1ms(),
        }
    }
}

/// Sleeps about a millisecond (a wait with timeout on an event nobody
/// sets).
///
/// IRQL: PASSIVE_LEVEL.
fn sleep_1ms() {
    let mut event = KEVENT::zeroed();
    let mut one_ms: i64 = -10_000;
    // SAFETY: PASSIVE; the event lives on this stack for the whole wait
    // (a kernel-mode wait: the stack stays resident), and nobody else
    // knows it.
    unsafe {
        KeInitializeEvent(&mut event, NOTIFICATION_EVENT, FALSE);
        KeWaitForSingleObject(
            (&mut event as *mut KEVENT).cast(),
            EXECUTIVE,
            KERNEL_MODE,
            FALSE,
            &mut one_ms,
        );
    }
}

/// Enters a freshly opened instance in the adapter's table; a full table
/// closes it again -> NDIS_STATUS_RESOURCES.
///
/// IRQL: PASSIVE_LEVEL.
fn register(a: &Adapter, p: NonNull<NDK_ADAPTER>) -> Result<NonNull<NDK_ADAPTER>, NDIS_STATUS> {
    // SAFETY: just opened by `open_adapter_on`, not closed.
    let Some(core) = (unsafe { NdkAdapter::from_ndk(p.as_ptr()) }).map(|x| x.core().clone()) else {
        return Err(NDIS_STATUS_RESOURCES);
    };
    match a.ndk_instances.add(core) {
        Ok(()) => Ok(p),
        Err(core) => {
            drop(core);
            // SAFETY: ours, never handed out, closed once.
            let _ = unsafe { close_adapter(p) };
            Err(NDIS_STATUS_RESOURCES)
        }
    }
}

/// CLOSE_NDK_ADAPTER_HANDLER: blocking; returns when every callback on the
/// instance and its descendants has returned (`ndk::close_adapter`'s rule).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by NDIS only, once per opened instance.
pub unsafe extern "system" fn close_ndk_adapter(ctx: NDIS_HANDLE, adapter: *mut NDK_ADAPTER) {
    irql::assert_passive("CloseNDKAdapterHandler");
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    if let Some(p) = NonNull::new(adapter) {
        // SAFETY: an instance `open_ndk_adapter` returned, not closed yet.
        if let Some(ours) = unsafe { NdkAdapter::from_ndk(p.as_ptr()) } {
            // Out of the OIDs' sight first; our reference dropped here, at
            // PASSIVE, so `close_adapter` frees the state as it would alone.
            drop(a.ndk_instances.remove(ours.core()));
        }
        // SAFETY: an instance `open_ndk_adapter` returned, closed once.
        if unsafe { close_adapter(p) }.is_ok() {
            a.ndk_open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

/// OID_NDK_SET_STATE: TRUE enables (only if `*NetworkDirect` is on), FALSE
/// disables. Records the wanted state and queues the work item; returns at
/// once (the OID completes with success, not pending).
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn set_state(a: &Adapter, on: bool) {
    if a.ndk.request(on) {
        // SAFETY: `request` returned true, so the work item is not queued;
        // the adapter outlives it (halt waits while `ndk.busy()`).
        unsafe {
            NdisQueueIoWorkItem(
                a.work_item,
                ndk_state_work,
                (a as *const Adapter).cast_mut().cast(),
            )
        };
    }
}

/// Raises NetEventNDKEnable (`enable`) or NetEventNDKDisable.
///
/// IRQL: PASSIVE_LEVEL.
fn raise(a: &Adapter, enable: bool) -> NDIS_STATUS {
    let mut n = NET_PNP_EVENT_NOTIFICATION {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_PNP_EVENT_NOTIFICATION_REVISION_1,
            Size: NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1,
        },
        PortNumber: 0,
        NetPnPEvent: NET_PNP_EVENT {
            NetEvent: if enable {
                NetEventNDKEnable
            } else {
                NetEventNDKDisable
            },
            Buffer: ptr::null_mut(),
            BufferLength: 0,
            NdisReserved: [0; 4],
            TransportReserved: [0; 4],
            TdiReserved: [0; 4],
            TdiClientReserved: [0; 4],
        },
        Flags: 0,
    };
    // SAFETY: PASSIVE (work item), outside any OID handler; NDKDisable
    // blocks until upper drivers closed their NDK adapters.
    unsafe { NdisMNetPnPEvent(a.handle, &mut n) }
}

/// The work item: raise events until the signalled state matches the
/// wanted one.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn ndk_state_work(ctx: *mut core::ffi::c_void, _item: NDIS_HANDLE) {
    // SAFETY: the adapter queued us and halt waits while `ndk.busy()`.
    let a = unsafe { &*ctx.cast::<Adapter>() };
    loop {
        if let Some(on) = a.ndk.next_event() {
            let _ = raise(a, on);
            if !on {
                // NetEventNDKDisable returned: the consumers closed their
                // instances and opens are refused. The network stops here
                // (PASSIVE) unless an instance is somehow still open.
                drop(a.ndk_instances.take_idle_network());
            }
        }
        if !a.ndk.finish_pass() {
            break;
        }
    }
    // Last touch of the adapter: halt may free it after this.
    a.ndk.exit();
}

/// The connections (being set up or established) of this adapter's
/// network (each once, whichever instance owns it), for OID_NDK_CONNECTIONS.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn visit_connections(a: &Adapter, f: &mut dyn FnMut(SocketAddr, SocketAddr)) {
    a.ndk_instances.visit_connections(f);
}

/// The listeners and shared endpoints of this adapter's network (each
/// once), for OID_NDK_LOCAL_ENDPOINTS.
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn visit_local_endpoints(a: &Adapter, f: &mut dyn FnMut(SocketAddr, bool)) {
    a.ndk_instances.visit_local_endpoints(f);
}
