//! The hosted twin of NDIS's OPEN/CLOSE_NDK_ADAPTER_HANDLER: `extern "C"`
//! entry points exported by the cdylib (`libsoftroce.so`) and declared in
//! `softroce.h`. Owns argument marshalling only (C string -> address, out
//! pointer); the rules live in `ndk::open` and `ndk::version`. Must not touch
//! the rest of `os::hosted` (IRQL books, carrier).

use core::ffi::{c_char, CStr};
use core::net::IpAddr;
use core::ptr::{null, null_mut, NonNull};

use crate::abi::{
    NtStatus, NDK_ADAPTER, NDK_VERSION, STATUS_INVALID_ADDRESS, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};
use crate::ndk::{close_adapter, negotiate_version, open_adapter, NDK_PROVIDER_VERSION};

/// Parses a NUL-terminated IPv4 or IPv6 literal (no zone id, no port).
///
/// # Safety
/// `text` points to a NUL-terminated string.
unsafe fn parse_address(text: *const c_char) -> Result<IpAddr, NtStatus> {
    // SAFETY: the caller guarantees a NUL-terminated string.
    let text = unsafe { CStr::from_ptr(text) };
    let text = text.to_str().map_err(|_| STATUS_INVALID_ADDRESS)?;
    text.parse::<IpAddr>().map_err(|_| STATUS_INVALID_ADDRESS)
}

/// Opens an NDK adapter instance bound to `ip_address`, as NDIS's
/// OPEN_NDK_ADAPTER_HANDLER would.
///
/// Checks, in order: NULL `adapter` or NULL `ip_address` ->
/// STATUS_INVALID_PARAMETER; `requested` not {2, <=1} ->
/// NDIS_STATUS_BAD_VERSION; not an IPv4/IPv6 literal, or unspecified,
/// multicast or broadcast -> STATUS_INVALID_ADDRESS; out of memory ->
/// STATUS_INSUFFICIENT_RESOURCES. On success `*adapter` is the new instance
/// (running at NDK 2.1) and STATUS_SUCCESS is returned; on failure `*adapter`
/// is set to NULL (when `adapter` itself is not NULL).
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `ip_address` is NULL or NUL-terminated; `adapter` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn softroce_open_adapter(
    ip_address: *const c_char,
    requested: NDK_VERSION,
    adapter: *mut *mut NDK_ADAPTER,
) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let result = if ip_address.is_null() {
        Err(STATUS_INVALID_PARAMETER)
    } else {
        // Version before address, the order `open_adapter` checks them in.
        negotiate_version(requested)
            // SAFETY: non-null and NUL-terminated by the caller's contract.
            .and_then(|_| unsafe { parse_address(ip_address) })
            .and_then(|address| open_adapter(address, requested))
            .map(NonNull::as_ptr)
    };
    let (out, status) = match result {
        Ok(ptr) => (ptr, STATUS_SUCCESS),
        Err(status) => (null_mut(), status),
    };
    // SAFETY: non-null and writable by the caller's contract.
    unsafe { adapter.write(out) };
    status
}

/// Closes an adapter from [`softroce_open_adapter`], as NDIS's
/// CLOSE_NDK_ADAPTER_HANDLER would: blocking; when it returns no callback on
/// the adapter or its children is running. NULL, or a pointer that is not one
/// of our adapters, is ignored.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an adapter from `softroce_open_adapter` that is not
/// used again (never closed twice, never closed from inside a callback).
#[no_mangle]
pub unsafe extern "C" fn softroce_close_adapter(adapter: *mut NDK_ADAPTER) {
    if let Some(adapter) = NonNull::new(adapter) {
        // SAFETY: forwarded contract. A foreign pointer is refused inside and
        // there is no status to report it through (the NDIS handler is void).
        let _ = unsafe { close_adapter(adapter) };
    }
}

/// The highest NDK version the provider implements ({2, 1}).
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_version() -> NDK_VERSION {
    NDK_PROVIDER_VERSION
}

/// The C name of a status ("STATUS_BUFFER_TOO_SMALL"), or NULL if unknown.
/// The string is static.
///
/// IRQL: any.
#[no_mangle]
pub extern "C" fn softroce_status_name(status: NtStatus) -> *const c_char {
    status.name_cstr().map_or(null(), CStr::as_ptr)
}
