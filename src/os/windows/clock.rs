//! Pure time arithmetic of the kernel platform, shared with the host tests
//! (`tests/windows_helpers.rs` includes this file by path): interrupt time
//! (100 ns units since boot, what `KeQueryInterruptTime` returns) to
//! `os::Instant` nanoseconds, and the `KeSetTimer` due time for a deadline.
//!
//! Owns: numbers only. Must not read a clock.

use crate::os::Instant;

/// Nanoseconds per interrupt-time unit.
pub const INTERRUPT_TIME_UNIT_NS: u64 = 100;

/// The platform clock reading for an interrupt time (saturating; 100 ns
/// units overflow `u64` nanoseconds only after ~58 000 years).
///
/// IRQL: any (pure).
pub const fn instant_from_interrupt_time(units: u64) -> Instant {
    Instant::from_nanos(units.saturating_mul(INTERRUPT_TIME_UNIT_NS))
}

/// The `KeSetTimer` due time for `deadline` when the clock reads `now`: a
/// negative (relative) count of 100 ns units, rounded up so the timer never
/// fires before the deadline; a deadline at or before `now` gives -1 (the
/// next clock tick), never 0 (which would mean the absolute time 0).
///
/// IRQL: any (pure).
pub fn relative_due_time(deadline: Instant, now: Instant) -> i64 {
    let ns = deadline.as_nanos().saturating_sub(now.as_nanos());
    let units = ns.div_ceil(INTERRUPT_TIME_UNIT_NS).max(1);
    let units = i64::try_from(units).unwrap_or(i64::MAX);
    -units
}
