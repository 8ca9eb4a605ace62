//! IRQL primitives in the kernel: the current IRQL (CR8 on x64, which is what
//! `KeGetCurrentIrql` reads) and the rule-break report. In the kernel the
//! per-thread lock books of the hosted platform are not kept: Driver Verifier's
//! IRQL and lock checks play that part (`docs/WINDOWS.md`).
//! Owns these three functions only.

use crate::os::{Irql, Violation};

use super::ffi::{DPFLTR_ERROR_LEVEL, DPFLTR_IHVNETWORK_ID};
use super::imports::DbgPrintEx;

/// The processor's IRQL.
///
/// IRQL: any.
#[inline]
pub fn current_irql() -> Irql {
    let cr8: u64;
    // SAFETY: reading CR8 (the task priority register) is allowed at ring 0,
    // has no side effects and is how KeGetCurrentIrql is implemented on x64.
    unsafe {
        core::arch::asm!("mov {}, cr8", out(reg) cr8, options(nomem, nostack, preserves_flags))
    };
    match cr8 {
        0 => Irql::Passive,
        1 => Irql::Apc,
        2 => Irql::Dispatch,
        _ => Irql::High,
    }
}

/// Provider spin locks held by this processor: not tracked in the kernel
/// (Driver Verifier checks lock use there), so always 0.
///
/// IRQL: any.
#[inline]
pub fn provider_locks_held() -> u32 {
    0
}

/// Reports a broken IRQL rule to the kernel debugger.
///
/// IRQL: any.
pub fn report_violation(v: Violation) {
    let what = v.what.as_bytes();
    let len = i32::try_from(what.len()).unwrap_or(i32::MAX);
    // SAFETY: NUL-terminated format; `%.*s` reads exactly `len` bytes of
    // `what`, and `%u` reads the two u32 values passed.
    unsafe {
        DbgPrintEx(
            DPFLTR_IHVNETWORK_ID,
            DPFLTR_ERROR_LEVEL,
            c"softroce: IRQL rule broken in %.*s at IRQL %u, line %u\n"
                .as_ptr()
                .cast(),
            len,
            what.as_ptr(),
            v.irql as u32,
            v.location.line(),
        )
    };
}

/// Raises the processor to DISPATCH_LEVEL for its lifetime when it runs
/// below, and restores the old IRQL on drop; a no-op at DISPATCH_LEVEL or
/// above. x64 `KeRaiseIrql`/`KeLowerIrql` are inline CR8 writes in wdm.h
/// (`KfRaiseIrql`/`KeLowerIrql`), which is what this does.
#[derive(Debug)]
pub struct RaiseToDispatch {
    old: Option<u64>,
}

impl RaiseToDispatch {
    /// Raises to DISPATCH_LEVEL if below it.
    ///
    /// IRQL: any; DISPATCH_LEVEL or above while the guard lives.
    #[inline]
    pub fn new() -> Self {
        let cr8: u64;
        // SAFETY: reading CR8 at ring 0 has no side effects.
        unsafe {
            core::arch::asm!("mov {}, cr8", out(reg) cr8, options(nomem, nostack, preserves_flags))
        };
        if cr8 >= 2 {
            return RaiseToDispatch { old: None };
        }
        // SAFETY: raising CR8 to DISPATCH_LEVEL (2) from a lower level is what
        // KfRaiseIrql does on x64; `drop` restores it on this same processor
        // (no thread switch can happen at DISPATCH_LEVEL).
        unsafe {
            core::arch::asm!("mov cr8, {}", in(reg) 2u64, options(nomem, nostack, preserves_flags))
        };
        RaiseToDispatch { old: Some(cr8) }
    }
}

impl Default for RaiseToDispatch {
    /// IRQL: any.
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RaiseToDispatch {
    #[inline]
    /// IRQL: the raised DISPATCH_LEVEL; lowers back.
    fn drop(&mut self) {
        if let Some(old) = self.old {
            // SAFETY: lowering back to the IRQL `new` saw (below DISPATCH) on
            // the same processor, as KeLowerIrql does on x64.
            unsafe {
                core::arch::asm!("mov cr8, {}", in(reg) old, options(nomem, nostack, preserves_flags))
            };
        }
    }
}
