//! The monotonic clock's value type: [`Instant`], nanoseconds since an
//! arbitrary per-platform origin. Owns only the arithmetic; reading the clock
//! is [`crate::os::Platform::now`]. Must not touch any platform clock.

use core::time::Duration;

/// A point on a platform's monotonic clock, in nanoseconds since an arbitrary
/// origin (boot in the kernel: `KeQueryInterruptTime` × 100; creation of the
/// platform when hosted). Only differences between instants of the same
/// platform mean anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The instant `nanos` nanoseconds after the origin.
    ///
    /// IRQL: any.
    pub const fn from_nanos(nanos: u64) -> Self {
        Instant(nanos)
    }

    /// Nanoseconds since the origin.
    ///
    /// IRQL: any.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time (a deadline that never comes).
    ///
    /// IRQL: any.
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(nanos))
    }

    /// How long after `earlier` this is; zero if `earlier` is later.
    ///
    /// IRQL: any.
    pub fn saturating_duration_since(self, earlier: Instant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(earlier.0))
    }
}
