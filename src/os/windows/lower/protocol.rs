//! The NDIS 6.30 protocol driver softroce.sys registers beside its
//! miniport (from DriverEntry, name "softroce" = the service, so NDIS finds
//! the bindings of the `softroce_lower` NetTrans component) and its
//! control-path handlers: ProtocolBindAdapterEx (bind only to an 802.3 NIC
//! whose current MAC a softroce adapter wants as `LowerMacAddress`, never to
//! a softroce adapter itself), ProtocolUnbindAdapterEx, the open/close/OID
//! completions (the PASSIVE bind and unbind paths wait for them),
//! ProtocolStatusEx (the NIC's link state is mirrored to the paired
//! miniport), ProtocolNetPnPEvent (pause: stop sends and wait for the
//! outstanding NBLs; restart) and ProtocolUninstall. Not an NDIS
//! intermediate driver: no NDIS_INTERMEDIATE_DRIVER flag and no
//! NdisIMAssociateMiniport (docs/WINDOWS.md §4 and §7 give the evidence).
//!
//! Owns: registration and the binding lifecycle. Must not handle NBLs
//! (`datapath`).

use alloc::sync::Arc;
use core::ffi::c_void;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::abi::{
    NtStatus, NDIS_HANDLE, NDIS_OBJECT_HEADER, NDIS_STATUS, NDIS_STATUS_NOT_SUPPORTED,
    NDIS_STATUS_PENDING, NDIS_STATUS_RESOURCES, NDIS_STATUS_SUCCESS,
};
use crate::os::irql;

use super::super::ffi::{DPFLTR_ERROR_LEVEL, DPFLTR_IHVNETWORK_ID, DRIVER_OBJECT, UNICODE_STRING};
use super::super::imports::{
    DbgPrintEx, KeResetEvent, KeSetEvent, KeWaitForSingleObject, NdisCloseAdapterEx,
    NdisDeregisterProtocolDriver, NdisOidRequest, NdisOpenAdapterEx,
    NdisReEnumerateProtocolBindings, NdisRegisterProtocolDriver,
};
use super::super::miniport::config::utf16;
use super::super::ndis::{
    NDIS_OID_REQUEST, NDIS_REQUEST_SET_INFORMATION, NET_PNP_EVENT_NOTIFICATION,
    OID_GEN_CURRENT_PACKET_FILTER,
};
use super::super::ndis_protocol::*;
use super::super::nt::{EXECUTIVE, FALSE, KERNEL_MODE, KEVENT};
use super::binding::{BindInfo, Binding, CLOSING, PAUSED, RUNNING};
use super::datapath::{receive, send_complete};
use super::link::{drain, register_binding, unregister_binding, wanted};

/// The protocol handle; null when not registered.
static PROTOCOL_HANDLE: AtomicPtr<c_void> = AtomicPtr::new(ptr::null_mut());

/// The protocol's name: the service name (`Ndi\Service` of softroce_lower).
static NAME: [u16; 8] = utf16("softroce");

/// IRQL: <= DIRQL.
fn log(msg: &core::ffi::CStr) {
    // SAFETY: a NUL-terminated format with no conversions.
    unsafe {
        DbgPrintEx(
            DPFLTR_IHVNETWORK_ID,
            DPFLTR_ERROR_LEVEL,
            msg.as_ptr().cast(),
        )
    };
}

/// Registers the protocol. A failure is logged and leaves the driver
/// without a lower edge (adapters then use the WSK bring-up carrier).
///
/// IRQL: PASSIVE_LEVEL (DriverEntry).
pub fn register(_driver: *mut DRIVER_OBJECT) {
    irql::assert_passive("NdisRegisterProtocolDriver");
    let chars = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS,
            Revision: NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2,
            Size: size_of::<NDIS_PROTOCOL_DRIVER_CHARACTERISTICS>() as u16,
        },
        MajorNdisVersion: NDIS_PROTOCOL_MAJOR_VERSION,
        MinorNdisVersion: NDIS_PROTOCOL_MINOR_VERSION,
        MajorDriverVersion: 0,
        MinorDriverVersion: 1,
        Flags: 0,
        Name: UNICODE_STRING {
            Length: (NAME.len() * 2) as u16,
            MaximumLength: (NAME.len() * 2) as u16,
            // NDIS copies the name; it is only read.
            Buffer: NAME.as_ptr().cast_mut(),
        },
        SetOptionsHandler: None,
        BindAdapterHandlerEx: Some(bind),
        UnbindAdapterHandlerEx: Some(unbind),
        OpenAdapterCompleteHandlerEx: Some(open_complete),
        CloseAdapterCompleteHandlerEx: Some(close_complete),
        NetPnPEventHandler: Some(pnp_event),
        UninstallHandler: Some(uninstall),
        OidRequestCompleteHandler: Some(oid_complete),
        StatusHandlerEx: Some(status),
        ReceiveNetBufferListsHandler: Some(receive),
        SendNetBufferListsCompleteHandler: Some(send_complete),
        DirectOidRequestCompleteHandler: None,
    };
    let mut handle: NDIS_HANDLE = ptr::null_mut();
    // SAFETY: PASSIVE in DriverEntry; characteristics valid through the
    // call (NDIS copies them).
    let st = unsafe { NdisRegisterProtocolDriver(ptr::null_mut(), &chars, &mut handle) };
    if st == NDIS_STATUS_SUCCESS {
        PROTOCOL_HANDLE.store(handle, Ordering::Release);
    } else {
        log(c"softroce: NdisRegisterProtocolDriver failed: no lower edge\n");
    }
}

/// Deregisters the protocol (NDIS unbinds every binding first).
///
/// IRQL: PASSIVE_LEVEL (MiniportDriverUnload).
pub fn deregister() {
    let h = PROTOCOL_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !h.is_null() {
        // SAFETY: our handle, deregistered once.
        unsafe { NdisDeregisterProtocolDriver(h) };
    }
}

/// Asks NDIS to offer again the bindings softroce declined (a new adapter
/// may want one of those NICs).
///
/// IRQL: PASSIVE_LEVEL.
pub fn reenumerate() {
    let h = PROTOCOL_HANDLE.load(Ordering::Acquire);
    if !h.is_null() {
        // SAFETY: PASSIVE; our registered protocol handle.
        unsafe { NdisReEnumerateProtocolBindings(h) };
    }
}

/// Waits for `ev` (set by a completion handler), then resets it.
///
/// IRQL: PASSIVE_LEVEL.
fn wait(ev: &core::cell::UnsafeCell<KEVENT>) {
    // SAFETY: PASSIVE; the binding's initialised event; no timeout (NDIS
    // always calls the completion handler of a pended request).
    unsafe {
        KeWaitForSingleObject(
            ev.get().cast(),
            EXECUTIVE,
            KERNEL_MODE,
            FALSE,
            ptr::null_mut(),
        );
        KeResetEvent(ev.get());
    }
}

/// Sets the binding's packet filter (directed, multicast, all-multicast,
/// broadcast), waiting if NDIS pends the request.
///
/// IRQL: PASSIVE_LEVEL.
fn set_packet_filter(b: &Binding) -> NDIS_STATUS {
    // SAFETY: only the PASSIVE bind path uses the OID storage, one request at
    // a time; NDIS owns it from NdisOidRequest until the completion.
    unsafe {
        *b.filter.get() = LOWER_PACKET_FILTER;
        let r = &mut *b.oid.get();
        *r = core::mem::zeroed::<NDIS_OID_REQUEST>();
        r.Header = NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_OID_REQUEST,
            Revision: NDIS_OID_REQUEST_REVISION_1,
            Size: size_of::<NDIS_OID_REQUEST>() as u16,
        };
        r.RequestType = NDIS_REQUEST_SET_INFORMATION;
        r.Oid = OID_GEN_CURRENT_PACKET_FILTER;
        r.InformationBuffer = b.filter.get().cast();
        r.InformationBufferLength = 4;
    }
    // SAFETY: an open binding handle; the request lives in the binding.
    let st = unsafe { NdisOidRequest(b.handle(), b.oid.get()) };
    if st == NDIS_STATUS_PENDING {
        wait(&b.oid_event);
        return NtStatus(b.oid_status.load(Ordering::SeqCst));
    }
    st
}

/// Closes an open binding, waiting if NDIS pends the close.
///
/// IRQL: PASSIVE_LEVEL.
fn close(b: &Binding) {
    // SAFETY: an open binding handle with no sends outstanding.
    let st = unsafe { NdisCloseAdapterEx(b.handle()) };
    if st == NDIS_STATUS_PENDING {
        wait(&b.close_event);
    }
}

/// What NDIS_BIND_PARAMETERS says about the NIC; `None` when it is not an
/// 802.3 adapter with a 6-byte MAC.
///
/// IRQL: PASSIVE_LEVEL.
fn bind_info(p: &NDIS_BIND_PARAMETERS) -> Option<BindInfo> {
    if p.MediaType != NDIS_MEDIUM_802_3 || p.MacAddressLength != 6 {
        return None;
    }
    let mac: [u8; 6] = p.CurrentMacAddress.get(..6)?.try_into().ok()?;
    Some(BindInfo {
        mac,
        mtu: p.MtuSize,
        luid: p.BoundIfNetluid,
        lowest_luid: p.LowestIfNetluid,
        connected: p.MediaConnectState == MEDIA_CONNECT_STATE_CONNECTED,
        speed: p.XmitLinkSpeed,
    })
}

/// ProtocolBindAdapterEx: synchronous (it waits for a pended open/OID).
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn bind(
    _driver_ctx: NDIS_HANDLE,
    bind_ctx: NDIS_HANDLE,
    params: *mut NDIS_BIND_PARAMETERS,
) -> NDIS_STATUS {
    irql::assert_passive("ProtocolBindAdapterEx");
    // SAFETY: NDIS's parameters for this call.
    let Some(info) = (unsafe { params.as_ref() }).and_then(bind_info) else {
        return NtStatus(NDIS_STATUS_UNSUPPORTED_MEDIA as i32);
    };
    if !wanted(info.mac, info.luid) || !wanted(info.mac, info.lowest_luid) {
        // Not a NIC any softroce adapter rides on (or a softroce adapter):
        // decline; a later adapter re-enumerates (`reenumerate`).
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    let driver = PROTOCOL_HANDLE.load(Ordering::Acquire);
    if driver.is_null() {
        // Only during NdisRegisterProtocolDriver, before any adapter exists
        // (so `wanted` was false anyway): nothing to open with.
        return NDIS_STATUS_NOT_SUPPORTED;
    }
    let Some(b) = Binding::new(driver, info) else {
        return NDIS_STATUS_RESOURCES;
    };
    let ctx = Arc::into_raw(b.clone()).cast_mut();
    let mut medium = NDIS_MEDIUM_802_3;
    let mut selected = 0u32;
    let mut open = NDIS_OPEN_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_OPEN_PARAMETERS,
            Revision: NDIS_OPEN_PARAMETERS_REVISION_1,
            Size: NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1,
        },
        // SAFETY: NDIS's parameters (checked non-null by `as_ref` above).
        AdapterName: unsafe { (*params).AdapterName },
        MediumArray: &mut medium,
        MediumArraySize: 1,
        SelectedMediumIndex: &mut selected,
        FrameTypeArray: ptr::null_mut(),
        FrameTypeArraySize: 0,
    };
    let mut handle: NDIS_HANDLE = ptr::null_mut();
    // SAFETY: PASSIVE; our protocol handle, NDIS's bind context, parameters
    // living through the call (and the wait below, for a pended open).
    let mut st = unsafe { NdisOpenAdapterEx(driver, ctx.cast(), &mut open, bind_ctx, &mut handle) };
    if st == NDIS_STATUS_PENDING {
        wait(&b.open_event);
        st = NtStatus(b.open_status.load(Ordering::SeqCst));
    }
    if st != NDIS_STATUS_SUCCESS {
        // SAFETY: the reference given to NDIS as context, not kept by it
        // after a failed open.
        drop(unsafe { Arc::from_raw(ctx.cast_const()) });
        return st;
    }
    b.set_handle(handle);
    let filter = set_packet_filter(&b);
    let slot = if filter == NDIS_STATUS_SUCCESS {
        register_binding(&b)
    } else {
        None
    };
    let Some(slot) = slot else {
        close(&b);
        // SAFETY: as above, after the close completed.
        drop(unsafe { Arc::from_raw(ctx.cast_const()) });
        return if filter == NDIS_STATUS_SUCCESS {
            NDIS_STATUS_RESOURCES
        } else {
            filter
        };
    };
    *b.slot.lock() = Some(slot);
    // The binding is Paused until NDIS restarts it (NetEventRestart).
    b.set_state(PAUSED);
    NDIS_STATUS_SUCCESS
}

/// ProtocolUnbindAdapterEx: synchronous.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn unbind(_unbind_ctx: NDIS_HANDLE, ctx: NDIS_HANDLE) -> NDIS_STATUS {
    irql::assert_passive("ProtocolUnbindAdapterEx");
    // SAFETY: the context `bind` gave NDIS: an Arc<Binding> raw pointer,
    // taken back here (NDIS calls no handler of this binding after unbind).
    let b = unsafe { Arc::from_raw(ctx.cast::<Binding>().cast_const()) };
    b.set_state(CLOSING);
    if let Some(slot) = b.slot.lock().take() {
        unregister_binding(slot);
    }
    drain(&b.outstanding);
    close(&b);
    drop(b);
    NDIS_STATUS_SUCCESS
}

/// ProtocolOpenAdapterCompleteEx.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn open_complete(ctx: NDIS_HANDLE, st: NDIS_STATUS) {
    // SAFETY: our binding context, live while bind waits.
    let b = unsafe { &*ctx.cast::<Binding>() };
    b.open_status.store(st.0, Ordering::SeqCst);
    // SAFETY: the binding's initialised event.
    unsafe { KeSetEvent(b.open_event.get(), 0, FALSE) };
}

/// ProtocolCloseAdapterCompleteEx.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn close_complete(ctx: NDIS_HANDLE) {
    // SAFETY: our binding context, live while unbind waits.
    let b = unsafe { &*ctx.cast::<Binding>() };
    // SAFETY: the binding's initialised event.
    unsafe { KeSetEvent(b.close_event.get(), 0, FALSE) };
}

/// ProtocolOidRequestComplete.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn oid_complete(
    ctx: NDIS_HANDLE,
    _req: *mut NDIS_OID_REQUEST,
    st: NDIS_STATUS,
) {
    // SAFETY: our binding context, live while bind waits.
    let b = unsafe { &*ctx.cast::<Binding>() };
    b.oid_status.store(st.0, Ordering::SeqCst);
    // SAFETY: the binding's initialised event.
    unsafe { KeSetEvent(b.oid_event.get(), 0, FALSE) };
}

/// ProtocolStatusEx: mirrors NDIS_STATUS_LINK_STATE to the paired miniport.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn status(ctx: NDIS_HANDLE, ind: *mut NDIS_STATUS_INDICATION) {
    // SAFETY: our binding context; NDIS's indication for this call.
    let (b, ind) = unsafe { (&*ctx.cast::<Binding>(), &*ind) };
    if ind.StatusCode.0 as u32 != NDIS_STATUS_LINK_STATE
        || (ind.StatusBufferSize as usize) < size_of::<NDIS_LINK_STATE>()
        || ind.StatusBuffer.is_null()
    {
        return;
    }
    // SAFETY: an NDIS_LINK_STATE of the size checked above.
    let state = unsafe { ind.StatusBuffer.cast::<NDIS_LINK_STATE>().read_unaligned() };
    b.set_link(
        state.MediaConnectState == MEDIA_CONNECT_STATE_CONNECTED,
        state.XmitLinkSpeed,
    );
    if let Some(link) = b.partner() {
        link.indicate_link();
    }
}

/// ProtocolNetPnPEvent: pause (no new sends; wait for every outstanding
/// NBL) and restart; everything else succeeds.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn pnp_event(
    ctx: NDIS_HANDLE,
    n: *mut NET_PNP_EVENT_NOTIFICATION,
) -> NDIS_STATUS {
    // SAFETY: NDIS's notification; ctx is null for events not tied to a
    // binding.
    let Some(n) = (unsafe { n.as_ref() }) else {
        return NDIS_STATUS_SUCCESS;
    };
    if ctx.is_null() {
        return NDIS_STATUS_SUCCESS;
    }
    // SAFETY: our binding context.
    let b = unsafe { &*ctx.cast::<Binding>() };
    match n.NetPnPEvent.NetEvent {
        NET_EVENT_PAUSE => {
            if b.state() == RUNNING {
                b.set_state(PAUSED);
            }
            drain(&b.outstanding);
        }
        NET_EVENT_RESTART if b.state() == PAUSED => b.set_state(RUNNING),
        _ => {}
    }
    NDIS_STATUS_SUCCESS
}

/// ProtocolUninstall: nothing to clean up beyond unbind.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn uninstall() {}
