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
