//! The ntoskrnl structures and constants softroce.sys touches, written by
//! hand for the Linux cross-build (no WDK headers): dispatcher objects (KDPC,
//! KTIMER, KEVENT, opaque, only passed to `Ke*`), the IRP and its stack
//! location (the fields `IoSetCompletionRoutine` and completion touch), the
//! IO_STATUS_BLOCK, the x64 MDL header and the MDL/IRP constants.
//!
//! Layout sources (x64), asserted below:
//! - IRP, IO_STACK_LOCATION, IO_STATUS_BLOCK, KTIMER: PDB type dumps of
//!   ntoskrnl.exe / ndis.sys (github.com/ntdiff/headers,
//!   `Win10_1709_RS3/x64/System32/ntoskrnl.exe/Standalone/_IRP.h`,
//!   `.../ndis.sys/Standalone/_IO_STACK_LOCATION.h`; KTIMER size 0x40 in
//!   every x64 dump).
//! - KDPC (0x40) and KEVENT (= DISPATCHER_HEADER, 0x18): wdm.h x64.
//! - MDL header (0x30, PFN array follows): `crate::abi::MDL` (asserted there).
//!
//! Owns: layouts, constants and `io_set_completion_routine` (the wdm.h macro
//! `IoSetCompletionRoutine` written as a function). Must not call the kernel.

#![allow(missing_debug_implementations, non_camel_case_types, non_snake_case)]

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use super::ffi::NTSTATUS;

/// `LARGE_INTEGER` passed by value (a 64-bit union: one integer register).
pub type LARGE_INTEGER = i64;
/// `KIRQL`.
pub type KIRQL = u8;
/// `KPRIORITY`.
pub type KPRIORITY = i32;
/// `BOOLEAN`.
pub type BOOLEAN = u8;

pub const TRUE: BOOLEAN = 1;
pub const FALSE: BOOLEAN = 0;

/// `STATUS_MORE_PROCESSING_REQUIRED`: a completion routine keeps the IRP.
pub const STATUS_MORE_PROCESSING_REQUIRED: NTSTATUS = 0xC000_0016u32 as i32;
/// `STATUS_PENDING`.
pub const STATUS_PENDING: NTSTATUS = 0x0000_0103;
/// `STATUS_UNSUCCESSFUL`, the status `IoReuseIrp` is given.
pub const STATUS_UNSUCCESSFUL: NTSTATUS = 0xC000_0001u32 as i32;
/// `STATUS_DEVICE_NOT_READY`.
pub const STATUS_DEVICE_NOT_READY: NTSTATUS = 0xC000_00A3u32 as i32;
/// `STATUS_ADDRESS_ALREADY_EXISTS`.
pub const STATUS_ADDRESS_ALREADY_EXISTS: NTSTATUS = 0xC000_020Au32 as i32;
/// `STATUS_INVALID_ADDRESS_COMPONENT` (bind to an address not on this host).
pub const STATUS_INVALID_ADDRESS_COMPONENT: NTSTATUS = 0xC000_0207u32 as i32;
/// `STATUS_INVALID_ADDRESS`.
pub const STATUS_INVALID_ADDRESS: NTSTATUS = 0xC000_0141u32 as i32;

/// `KDPC` (x64, 0x40 bytes). Opaque: only `KeInitializeDpc` and friends
/// touch it.
#[repr(C, align(8))]
pub struct KDPC {
    _opaque: [u8; 0x40],
}

/// `KTIMER` (x64, 0x40 bytes). Opaque.
#[repr(C, align(8))]
pub struct KTIMER {
    _opaque: [u8; 0x40],
}

/// `KEVENT` (x64: a DISPATCHER_HEADER, 0x18 bytes). Opaque.
#[repr(C, align(8))]
pub struct KEVENT {
    _opaque: [u8; 0x18],
}

impl KDPC {
    /// Zeroed storage for `KeInitializeDpc`.
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        KDPC { _opaque: [0; 0x40] }
    }
}

impl KTIMER {
    /// Zeroed storage for `KeInitializeTimerEx`.
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        KTIMER { _opaque: [0; 0x40] }
    }
}

impl KEVENT {
    /// Zeroed storage for `KeInitializeEvent`.
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        KEVENT { _opaque: [0; 0x18] }
    }
}

/// `KDEFERRED_ROUTINE`: runs at DISPATCH_LEVEL.
pub type PKDEFERRED_ROUTINE = Option<
    unsafe extern "system" fn(
        dpc: *mut KDPC,
        context: *mut c_void,
        arg1: *mut c_void,
        arg2: *mut c_void,
    ),
>;

/// `TIMER_TYPE::NotificationTimer`.
pub const NOTIFICATION_TIMER: u32 = 0;
/// `EVENT_TYPE::NotificationEvent`.
pub const NOTIFICATION_EVENT: u32 = 0;
/// `EVENT_TYPE::SynchronizationEvent`.
pub const SYNCHRONIZATION_EVENT: u32 = 1;
/// `KWAIT_REASON::Executive`.
pub const EXECUTIVE: u32 = 0;
/// `KPROCESSOR_MODE::KernelMode`.
pub const KERNEL_MODE: i8 = 0;
/// `IO_NO_INCREMENT`.
pub const IO_NO_INCREMENT: KPRIORITY = 0;

/// `IO_STATUS_BLOCK`: `Status` shares its 8 bytes with `Pointer`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct IO_STATUS_BLOCK {
    pub Status: NTSTATUS,
    _pointer_high: u32,
    pub Information: usize,
}

/// `IO_COMPLETION_ROUTINE`: IRQL <= DISPATCH_LEVEL.
pub type PIO_COMPLETION_ROUTINE = Option<
    unsafe extern "system" fn(device: *mut c_void, irp: *mut IRP, context: *mut c_void) -> NTSTATUS,
>;

/// `IO_STACK_LOCATION` (x64). `Parameters` is a 32-byte union we never read.
#[repr(C)]
pub struct IO_STACK_LOCATION {
    pub MajorFunction: u8,
    pub MinorFunction: u8,
    pub Flags: u8,
    pub Control: u8,
    pub Parameters: [usize; 4],
    pub DeviceObject: *mut c_void,
    pub FileObject: *mut c_void,
    pub CompletionRoutine: PIO_COMPLETION_ROUTINE,
    pub Context: *mut c_void,
}

/// `SL_INVOKE_ON_CANCEL`.
pub const SL_INVOKE_ON_CANCEL: u8 = 0x20;
/// `SL_INVOKE_ON_SUCCESS`.
pub const SL_INVOKE_ON_SUCCESS: u8 = 0x40;
/// `SL_INVOKE_ON_ERROR`.
pub const SL_INVOKE_ON_ERROR: u8 = 0x80;

/// `IRP` (x64, 0xD0 bytes; stack locations follow it). The `Tail.Overlay`
/// union members are spelled out up to `CurrentStackLocation`.
#[repr(C)]
pub struct IRP {
    pub Type: i16,
    pub Size: u16,
    pub AllocationProcessorNumber: u16,
    pub Reserved: u16,
    pub MdlAddress: *mut c_void,
    pub Flags: u32,
    pub AssociatedIrp: *mut c_void,
    pub ThreadListEntry: [usize; 2],
    pub IoStatus: IO_STATUS_BLOCK,
    pub RequestorMode: i8,
    pub PendingReturned: u8,
    pub StackCount: i8,
    pub CurrentLocation: i8,
    pub Cancel: u8,
    pub CancelIrql: u8,
    pub ApcEnvironment: i8,
    pub AllocationFlags: u8,
    pub UserIosb: *mut IO_STATUS_BLOCK,
    pub UserEvent: *mut KEVENT,
    pub Overlay: [usize; 2],
    pub CancelRoutine: *mut c_void,
    pub UserBuffer: *mut c_void,
    pub DriverContext: [*mut c_void; 4],
    pub Thread: *mut c_void,
    pub AuxiliaryBuffer: *mut c_void,
    pub ListEntry: [usize; 2],
    pub CurrentStackLocation: *mut IO_STACK_LOCATION,
    pub OriginalFileObject: *mut c_void,
    pub IrpExtension: *mut c_void,
}

/// The wdm.h macro `IoSetCompletionRoutine`: fills the *next* stack location
/// (`CurrentStackLocation - 1`) with the routine, its context and when to
/// call it. For an IRP from `IoAllocateIrp(1, ..)` (or after `IoReuseIrp`)
/// the next location is the IRP's only one.
///
/// IRQL: any (touches only the IRP).
///
/// # Safety
/// `irp` is a valid IRP owned by the caller, not yet passed to a driver,
/// with at least one stack location below the current one.
pub unsafe fn io_set_completion_routine(
    irp: *mut IRP,
    routine: PIO_COMPLETION_ROUTINE,
    context: *mut c_void,
    on_success: bool,
    on_error: bool,
    on_cancel: bool,
) {
    // SAFETY: the caller's contract: the IRP is valid and has a next stack
    // location, which is `CurrentStackLocation - 1` (IoGetNextIrpStackLocation).
    unsafe {
        let next = (*irp).CurrentStackLocation.sub(1);
        (*next).CompletionRoutine = routine;
        (*next).Context = context;
        let mut control = 0;
        if on_success {
            control |= SL_INVOKE_ON_SUCCESS;
        }
        if on_error {
            control |= SL_INVOKE_ON_ERROR;
        }
        if on_cancel {
            control |= SL_INVOKE_ON_CANCEL;
        }
        (*next).Control = control;
    }
}

/// The x64 `MDL` header (PFN array after it: `MmGetMdlPfnArray(mdl) ==
/// (PPFN_NUMBER)(mdl + 1)`): `crate::abi::MDL`, whose layout is asserted
/// there, under the name the kernel glue uses.
pub use crate::abi::MDL as MdlHeader;
pub use crate::abi::{MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL};

/// `MDL_PAGES_LOCKED`.
pub const MDL_PAGES_LOCKED: i16 = 0x0002;
/// `MDL_PARTIAL`.
pub const MDL_PARTIAL: i16 = 0x0010;
/// `MDL_IO_SPACE`: the PFNs are device memory, not RAM.
pub const MDL_IO_SPACE: i16 = 0x0800;

/// `MEMORY_CACHING_TYPE::MmCached`.
pub const MM_CACHED: u32 = 1;
/// `MM_PAGE_PRIORITY::NormalPagePriority`.
pub const NORMAL_PAGE_PRIORITY: u32 = 16;
/// `MdlMappingNoExecute`: map without execute permission (Windows 8+).
pub const MDL_MAPPING_NO_EXECUTE: u32 = 0x4000_0000;

/// `KUSER_SHARED_DATA` in kernel space on x64 (`KI_USER_SHARED_DATA`).
pub const KI_USER_SHARED_DATA: usize = 0xFFFF_F780_0000_0000;
/// Offset of `InterruptTime` (a KSYSTEM_TIME) in KUSER_SHARED_DATA: wdm.h
/// reads it as one 64-bit value on x64 (`KeQueryInterruptTime` macro).
pub const KUSER_INTERRUPT_TIME_OFFSET: usize = 0x8;

/// `ALL_PROCESSOR_GROUPS` for `KeQueryMaximumProcessorCountEx`.
pub const ALL_PROCESSOR_GROUPS: u16 = 0xFFFF;

const _: () = {
    assert!(size_of::<KDPC>() == 0x40);
    assert!(size_of::<KTIMER>() == 0x40);
    assert!(size_of::<KEVENT>() == 0x18);
    assert!(size_of::<IO_STATUS_BLOCK>() == 0x10);
    assert!(offset_of!(IO_STATUS_BLOCK, Information) == 0x8);
    assert!(offset_of!(IO_STACK_LOCATION, Control) == 0x3);
    assert!(offset_of!(IO_STACK_LOCATION, Parameters) == 0x8);
    assert!(offset_of!(IO_STACK_LOCATION, DeviceObject) == 0x28);
    assert!(offset_of!(IO_STACK_LOCATION, FileObject) == 0x30);
    assert!(offset_of!(IO_STACK_LOCATION, CompletionRoutine) == 0x38);
    assert!(offset_of!(IO_STACK_LOCATION, Context) == 0x40);
    assert!(size_of::<IO_STACK_LOCATION>() == 0x48);
    assert!(offset_of!(IRP, MdlAddress) == 0x08);
    assert!(offset_of!(IRP, Flags) == 0x10);
    assert!(offset_of!(IRP, AssociatedIrp) == 0x18);
    assert!(offset_of!(IRP, IoStatus) == 0x30);
    assert!(offset_of!(IRP, RequestorMode) == 0x40);
    assert!(offset_of!(IRP, PendingReturned) == 0x41);
    assert!(offset_of!(IRP, StackCount) == 0x42);
    assert!(offset_of!(IRP, CurrentLocation) == 0x43);
    assert!(offset_of!(IRP, UserIosb) == 0x48);
    assert!(offset_of!(IRP, UserEvent) == 0x50);
    assert!(offset_of!(IRP, CancelRoutine) == 0x68);
    assert!(offset_of!(IRP, UserBuffer) == 0x70);
    assert!(offset_of!(IRP, DriverContext) == 0x78);
    assert!(offset_of!(IRP, Thread) == 0x98);
    assert!(offset_of!(IRP, ListEntry) == 0xA8);
    assert!(offset_of!(IRP, CurrentStackLocation) == 0xB8);
    assert!(offset_of!(IRP, OriginalFileObject) == 0xC0);
    assert!(size_of::<IRP>() == 0xD0);
};
