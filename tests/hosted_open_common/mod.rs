//! The hosted C entry points as a C consumer declares them (softroce.h),
//! shared by the `hosted_open*` tests so they call the exported symbols, not
//! Rust paths.

use core::ffi::c_char;

use softroce::abi::{NDK_ADAPTER, NDK_VERSION, NTSTATUS};

extern "C" {
    pub fn softroce_open_adapter(
        ip_address: *const c_char,
        requested: NDK_VERSION,
        adapter: *mut *mut NDK_ADAPTER,
    ) -> NTSTATUS;
    pub fn softroce_close_adapter(adapter: *mut NDK_ADAPTER);
    #[allow(dead_code)] // not every test uses it
    pub fn softroce_version() -> NDK_VERSION;
    #[allow(dead_code)] // not every test uses it
    pub fn softroce_status_name(status: NTSTATUS) -> *const c_char;
}
