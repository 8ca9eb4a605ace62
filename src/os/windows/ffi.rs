//! The few kernel types the entry code needs, written out by hand because the
//! Linux cross-build has no WDK headers: `NTSTATUS`, `UNICODE_STRING`,
//! `DRIVER_OBJECT` (x64 layout, asserted below) and the constants used with
//! the imports in `imports.rs`.
//!
//! Owns: layouts and constants only. Must not hold behaviour. When the NDIS
//! miniport lands these should move to (or be re-exported from) `crate::abi`.

#![allow(non_camel_case_types, non_snake_case)]

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

/// `NTSTATUS`: negative is an error.
pub type NTSTATUS = i32;
/// `STATUS_SUCCESS`.
pub const STATUS_SUCCESS: NTSTATUS = 0;
/// `STATUS_INVALID_PARAMETER` (0xC000000D).
pub const STATUS_INVALID_PARAMETER: NTSTATUS = 0xC000_000Du32 as i32;
/// `STATUS_INSUFFICIENT_RESOURCES` (0xC000009A).
pub const STATUS_INSUFFICIENT_RESOURCES: NTSTATUS = 0xC000_009Au32 as i32;

/// `POOL_FLAG_NON_PAGED` for `ExAllocatePool2` (nonpaged, no-execute).
pub const POOL_FLAG_NON_PAGED: u64 = 0x0000_0000_0000_0040;
/// `MEMORY_ALLOCATION_ALIGNMENT` on x64: every pool block is this aligned.
pub const MEMORY_ALLOCATION_ALIGNMENT: usize = 16;

/// The pool tag of every softroce allocation. `poolmon` and `!pool` show the
/// four bytes in memory order, so this reads "RoCE" there.
pub const POOL_TAG: u32 = u32::from_le_bytes(*b"RoCE");

/// Bug check code of a softroce panic (`KeBugCheckEx`): the bytes "SRcE", a
/// driver-private value that no documented Microsoft bug check uses.
/// Parameters: line, column, file name pointer, file name length.
pub const SOFTROCE_BUGCHECK: u32 = 0x5352_6345;

/// `DPFLTR_IHVNETWORK_ID` (dpfilter.h `DPFLTR_TYPE`): the filter component of
/// `DbgPrintEx` for network drivers.
pub const DPFLTR_IHVNETWORK_ID: u32 = 80;
/// `DPFLTR_ERROR_LEVEL`: always shown by the debugger.
pub const DPFLTR_ERROR_LEVEL: u32 = 0;
/// `DPFLTR_INFO_LEVEL`: shown when the IHVNETWORK filter mask enables it.
pub const DPFLTR_INFO_LEVEL: u32 = 3;

/// `UNICODE_STRING`: counted UTF-16, lengths in bytes.
#[repr(C)]
#[derive(Debug)]
pub struct UNICODE_STRING {
    pub Length: u16,
    pub MaximumLength: u16,
    pub Buffer: *mut u16,
}

/// `DRIVER_UNLOAD` (`extern "system"`, PASSIVE_LEVEL).
pub type PDRIVER_UNLOAD = Option<unsafe extern "system" fn(driver: *mut DRIVER_OBJECT)>;
/// `DRIVER_DISPATCH`; left unset (null) until the NDIS miniport owns them.
pub type PDRIVER_DISPATCH =
    Option<unsafe extern "system" fn(device: *mut c_void, irp: *mut c_void) -> NTSTATUS>;
/// `IRP_MJ_MAXIMUM_FUNCTION + 1`.
pub const IRP_MJ_COUNT: usize = 28;

/// `DRIVER_OBJECT` (wdm.h), the x64 layout.
#[repr(C)]
#[derive(Debug)]
pub struct DRIVER_OBJECT {
    pub Type: i16,
    pub Size: i16,
    pub DeviceObject: *mut c_void,
    pub Flags: u32,
    pub DriverStart: *mut c_void,
    pub DriverSize: u32,
    pub DriverSection: *mut c_void,
    pub DriverExtension: *mut c_void,
    pub DriverName: UNICODE_STRING,
    pub HardwareDatabase: *mut UNICODE_STRING,
    pub FastIoDispatch: *mut c_void,
    pub DriverInit: *mut c_void,
    pub DriverStartIo: *mut c_void,
    pub DriverUnload: PDRIVER_UNLOAD,
    pub MajorFunction: [PDRIVER_DISPATCH; IRP_MJ_COUNT],
}

const _: () = assert!(size_of::<UNICODE_STRING>() == 16);
const _: () = assert!(offset_of!(DRIVER_OBJECT, DriverName) == 0x38);
const _: () = assert!(offset_of!(DRIVER_OBJECT, DriverUnload) == 0x68);
const _: () = assert!(offset_of!(DRIVER_OBJECT, MajorFunction) == 0x70);
const _: () = assert!(size_of::<DRIVER_OBJECT>() == 0x150);
