//! The kernel functions softroce.sys imports, declared as `raw-dylib` so the
//! Linux cross-build needs no WDK import libraries: rustc writes the import
//! descriptors itself and `scripts/check-pe.sh` checks the result.
//!
//! Owns: the extern declarations only (each with the IRQL it may be called
//! at). Allowed DLLs: ntoskrnl.exe, hal.dll, ndis.sys, netio.sys. Must not hold
//! behaviour; only code in `src/os/windows` calls these.

use core::ffi::c_void;

#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "system" {
    /// IRQL: <= DISPATCH_LEVEL for nonpaged pool. Returns null on failure.
    pub fn ExAllocatePool2(flags: u64, number_of_bytes: usize, tag: u32) -> *mut c_void;
    /// IRQL: <= DISPATCH_LEVEL for nonpaged pool.
    pub fn ExFreePoolWithTag(p: *mut c_void, tag: u32);
    /// The stack probe LLVM calls (rax = frame size) before a frame larger
    /// than a page; never called from Rust. Kernel stacks are small: keep
    /// frames well under 4 KiB so it stays unused.
    pub fn __chkstk();
    /// IRQL: <= DISPATCH_LEVEL; raises to DISPATCH_LEVEL and returns the old IRQL.
    pub fn KeAcquireSpinLockRaiseToDpc(lock: *mut usize) -> u8;
    /// IRQL: DISPATCH_LEVEL (holding `lock`); lowers to `new_irql`.
    pub fn KeReleaseSpinLock(lock: *mut usize, new_irql: u8);
    /// Any IRQL; does not return.
    pub fn KeBugCheckEx(code: u32, p1: usize, p2: usize, p3: usize, p4: usize) -> !;
}

#[link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")]
extern "C" {
    /// IRQL: <= DIRQL; `%wZ` reads a `UNICODE_STRING` (only at PASSIVE_LEVEL).
    pub fn DbgPrintEx(component_id: u32, level: u32, format: *const u8, ...) -> u32;
}

#[link(name = "ndis.sys", kind = "raw-dylib", modifiers = "+verbatim")]
extern "system" {
    /// IRQL: any. The NDIS version of the running system, major in the high 16 bits.
    pub fn NdisGetVersion() -> u32;
}
