//! The NDIS 6.30 virtual miniport that is softroce's NDK provider:
//! driver-level registration (NdisMRegisterMiniportDriver from DriverEntry,
//! MiniportSetOptions registering the NDK provider characteristics with
//! NdisSetOptionalHandlers, MiniportDriverUnload) and the small handlers
//! (reset, PnP, shutdown). Per-adapter code: `adapter` (initialize, halt,
//! pause, restart), `oid`, `datapath`, `ndk`; pure logic: `config`,
//! `oid_payload`, `ndk_state`, `ndk_instances`; registry reads: `registry`.
//!
//! Owns: the characteristics and the driver handle. Must not hold NDK
//! objects.

pub mod adapter;
pub mod config;
pub mod datapath;
pub mod ndk;
pub mod ndk_instances;
pub mod ndk_state;
pub mod oid;
pub mod oid_payload;
pub mod registry;

use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::abi::{
    NDIS_HANDLE, NDIS_NDK_PROVIDER_CHARACTERISTICS, NDIS_NDK_PROVIDER_CHARACTERISTICS_REVISION_1,
    NDIS_OBJECT_HEADER, NDIS_OBJECT_TYPE_NDK_PROVIDER_CHARACTERISTICS, NDIS_STATUS,
    NDIS_STATUS_SUCCESS,
};
use crate::os::irql;

use super::ffi::{DRIVER_OBJECT, NTSTATUS, UNICODE_STRING};
use super::imports::{
    NdisMDeregisterMiniportDriver, NdisMRegisterMiniportDriver, NdisSetOptionalHandlers,
};
use super::ndis::*;
use super::nt::BOOLEAN;

/// The handle NdisMRegisterMiniportDriver returned; null when unregistered.
static DRIVER_HANDLE: AtomicPtr<core::ffi::c_void> = AtomicPtr::new(ptr::null_mut());

/// softroce's version as the characteristics report it (0.1).
const DRIVER_MAJOR: u8 = 0;
const DRIVER_MINOR: u8 = 1;

static CHARACTERISTICS: NDIS_MINIPORT_DRIVER_CHARACTERISTICS =
    NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS,
            Revision: NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2,
            Size: size_of::<NDIS_MINIPORT_DRIVER_CHARACTERISTICS>() as u16,
        },
        MajorNdisVersion: NDIS_MINIPORT_MAJOR_VERSION,
        MinorNdisVersion: NDIS_MINIPORT_MINOR_VERSION,
        MajorDriverVersion: DRIVER_MAJOR,
        MinorDriverVersion: DRIVER_MINOR,
        Flags: 0,
        SetOptionsHandler: Some(set_options),
        InitializeHandlerEx: Some(adapter::initialize),
        HaltHandlerEx: Some(adapter::halt),
        UnloadHandler: Some(driver_unload),
        PauseHandler: Some(adapter::pause),
        RestartHandler: Some(adapter::restart),
        OidRequestHandler: Some(oid::oid_request),
        SendNetBufferListsHandler: Some(datapath::send_net_buffer_lists),
        ReturnNetBufferListsHandler: Some(datapath::return_net_buffer_lists),
        CancelSendHandler: Some(datapath::cancel_send),
        CheckForHangHandlerEx: None,
        ResetHandlerEx: Some(reset),
        DevicePnPEventNotifyHandler: Some(device_pnp_event),
        ShutdownHandlerEx: Some(shutdown),
        CancelOidRequestHandler: Some(oid::cancel_oid_request),
        DirectOidRequestHandler: None,
        CancelDirectOidRequestHandler: None,
    };

/// Registers the miniport driver. On failure DriverEntry returns the status
/// and the driver unloads.
///
/// IRQL: PASSIVE_LEVEL (DriverEntry).
///
/// # Safety
/// `driver` and `registry_path` are DriverEntry's arguments.
pub unsafe fn register(
    driver: *mut DRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
) -> NTSTATUS {
    irql::assert_passive("NdisMRegisterMiniportDriver");
    let mut handle: NDIS_HANDLE = ptr::null_mut();
    // SAFETY: DriverEntry's arguments; static characteristics.
    let status = unsafe {
        NdisMRegisterMiniportDriver(
            driver,
            registry_path,
            ptr::null_mut(),
            &CHARACTERISTICS,
            &mut handle,
        )
    };
    if status == NDIS_STATUS_SUCCESS {
        DRIVER_HANDLE.store(handle, Ordering::Release);
        // The lower edge: a plain protocol driver beside the miniport (not
        // an NDIS intermediate driver; docs/WINDOWS.md §4). Its failure
        // leaves the WSK bring-up mode working.
        super::lower::protocol::register(driver);
    }
    status.0
}

/// MiniportSetOptions: registers the NDK provider handlers.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn set_options(
    driver_handle: NDIS_HANDLE,
    _ctx: NDIS_HANDLE,
) -> NDIS_STATUS {
    let mut ndk = NDIS_NDK_PROVIDER_CHARACTERISTICS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_NDK_PROVIDER_CHARACTERISTICS,
            Revision: NDIS_NDK_PROVIDER_CHARACTERISTICS_REVISION_1,
            Size: size_of::<NDIS_NDK_PROVIDER_CHARACTERISTICS>() as u16,
        },
        Flags: 0,
        OpenNDKAdapterHandler: ndk::open_ndk_adapter,
        CloseNDKAdapterHandler: ndk::close_ndk_adapter,
    };
    // SAFETY: PASSIVE inside MiniportSetOptions; NDIS copies the handlers.
    unsafe { NdisSetOptionalHandlers(driver_handle, ptr::addr_of_mut!(ndk).cast()) }
}

/// MiniportDriverUnload.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn driver_unload(_driver: *mut DRIVER_OBJECT) {
    super::lower::protocol::deregister();
    let handle = DRIVER_HANDLE.swap(ptr::null_mut(), Ordering::AcqRel);
    if !handle.is_null() {
        // SAFETY: the handle from registration; every adapter is halted.
        unsafe { NdisMDeregisterMiniportDriver(handle) };
    }
    super::entry::unloaded();
}

/// MiniportResetEx: nothing to reset in a virtual adapter.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn reset(_ctx: NDIS_HANDLE, addressing_reset: *mut BOOLEAN) -> NDIS_STATUS {
    if !addressing_reset.is_null() {
        // SAFETY: NDIS's out parameter.
        unsafe { addressing_reset.write(0) };
    }
    NDIS_STATUS_SUCCESS
}

/// MiniportDevicePnPEventNotify: surprise removal and power profile
/// changes need nothing from a virtual adapter.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn device_pnp_event(_ctx: NDIS_HANDLE, _event: *mut core::ffi::c_void) {}

/// MiniportShutdownEx: no hardware to quiesce (may run at HIGH_LEVEL on
/// bugcheck, so it must not touch anything).
///
/// IRQL: any.
unsafe extern "system" fn shutdown(_ctx: NDIS_HANDLE, _action: u32) {}
