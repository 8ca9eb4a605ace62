//! `DriverEntry` and `DriverUnload` of softroce.sys.
//!
//! The entry logs a banner (with the running NDIS version and the service's
//! registry path), allocates the driver context from pool and registers the
//! NDIS miniport (`miniport::register`). NDIS then owns the driver object's
//! unload routine and calls MiniportDriverUnload, which deregisters and
//! calls [`unloaded`] to free the context.
//!
//! Owns: the driver-level lifetime (load/unload). Must not hold miniport or
//! NDK logic.

use alloc::boxed::Box;
use core::alloc::Layout;
use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use super::ffi::{
    DPFLTR_ERROR_LEVEL, DPFLTR_IHVNETWORK_ID, DPFLTR_INFO_LEVEL, DRIVER_OBJECT, NTSTATUS,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, UNICODE_STRING,
};
use super::imports::{DbgPrintEx, NdisGetVersion};

/// What the driver keeps between load and unload.
#[derive(Debug)]
pub struct DriverContext {
    /// `NdisGetVersion()` at load: major in the high 16 bits.
    pub ndis_version: u32,
}

/// The context allocated by `DriverEntry`; null before load and after unload.
static CONTEXT: AtomicPtr<DriverContext> = AtomicPtr::new(ptr::null_mut());

/// The kernel calls this once when the service starts.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// Called by the I/O manager only: `driver` is this image's driver object and
/// `registry_path` its service key (or null).
#[no_mangle]
pub unsafe extern "system" fn DriverEntry(
    driver: *mut DRIVER_OBJECT,
    registry_path: *const UNICODE_STRING,
) -> NTSTATUS {
    if driver.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NdisGetVersion has no preconditions and runs at any IRQL.
    let ndis_version = unsafe { NdisGetVersion() };
    let layout = Layout::new::<DriverContext>();
    // SAFETY: DriverContext is not zero-sized; the global allocator is pool.
    let context = unsafe { alloc::alloc::alloc(layout) }.cast::<DriverContext>();
    if context.is_null() {
        // SAFETY: constant NUL-terminated format without conversions.
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVNETWORK_ID,
                DPFLTR_ERROR_LEVEL,
                c"softroce: out of pool at load\n".as_ptr().cast(),
            )
        };
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    // SAFETY: `context` is a fresh, suitably aligned block for one DriverContext.
    unsafe { context.write(DriverContext { ndis_version }) };
    CONTEXT.store(context, Ordering::Release);

    if registry_path.is_null() {
        // SAFETY: NUL-terminated format; %x reads the one u32 passed.
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVNETWORK_ID,
                DPFLTR_INFO_LEVEL,
                c"softroce: loaded, NDIS %x\n".as_ptr().cast(),
                ndis_version,
            )
        };
    } else {
        // SAFETY: NUL-terminated format; %x reads the u32, %wZ the
        // UNICODE_STRING the I/O manager passed (valid for this call, and we
        // are at PASSIVE_LEVEL as %wZ requires).
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVNETWORK_ID,
                DPFLTR_INFO_LEVEL,
                c"softroce: loaded, NDIS %x, service %wZ\n".as_ptr().cast(),
                ndis_version,
                registry_path,
            )
        };
    }

    // SAFETY: DriverEntry's own arguments, at PASSIVE_LEVEL.
    let status = unsafe { super::miniport::register(driver, registry_path) };
    if status < 0 {
        // SAFETY: NUL-terminated format; %x reads the one u32 passed.
        unsafe {
            DbgPrintEx(
                DPFLTR_IHVNETWORK_ID,
                DPFLTR_ERROR_LEVEL,
                c"softroce: NdisMRegisterMiniportDriver failed %x\n"
                    .as_ptr()
                    .cast(),
                status as u32,
            )
        };
        unloaded();
    }
    status
}

/// Frees the driver context: from MiniportDriverUnload, or from DriverEntry
/// when registration failed.
///
/// IRQL: PASSIVE_LEVEL.
pub fn unloaded() {
    let context = CONTEXT.swap(ptr::null_mut(), Ordering::AcqRel);
    if !context.is_null() {
        // SAFETY: `context` was allocated by the global allocator with
        // DriverContext's layout and initialised in DriverEntry; the swap above
        // made this the only owner, so Box may drop and free it.
        drop(unsafe { Box::from_raw(context) });
    }
    // SAFETY: constant NUL-terminated format without conversions.
    unsafe {
        DbgPrintEx(
            DPFLTR_IHVNETWORK_ID,
            DPFLTR_INFO_LEVEL,
            c"softroce: unloaded\n".as_ptr().cast(),
        )
    };
}
