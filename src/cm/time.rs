//! Virtual time for the CM: [`Instant`] (nanoseconds on the caller's
//! monotonic clock) and the IB CM timeout encoding (4.096 µs × 2^n).
//! Owns time arithmetic only; must not read any clock (the caller passes `now`).

use core::time::Duration;

/// A point on the caller's monotonic clock, in nanoseconds. The engine never
/// reads a clock: every input carries `now`, every deadline is an `Instant`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    /// The instant `nanos` nanoseconds after the clock's origin.
    pub const fn from_nanos(nanos: u64) -> Self {
        Self(nanos)
    }

    /// Nanoseconds since the clock's origin.
    pub const fn as_nanos(self) -> u64 {
        self.0
    }

    /// `self + d`, saturating at the end of time (a deadline that never comes).
    pub fn saturating_add(self, d: Duration) -> Self {
        let nanos = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Self(self.0.saturating_add(nanos))
    }
}

/// The IB CM timeout `exp` (5 bits): 4.096 µs × 2^exp. Values above 31 are
/// clamped to 31, the largest the 5-bit fields can carry.
pub fn cm_timeout(exp: u8) -> Duration {
    let exp = u32::from(exp.min(31));
    Duration::from_nanos(4096u64 << exp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeout_encoding_matches_the_facts() {
        // 20 => 4.096 µs × 2^20 ≈ 4.29 s (ROCE-FACTS §3.6).
        assert_eq!(cm_timeout(20), Duration::from_nanos(4_294_967_296));
        assert_eq!(cm_timeout(0), Duration::from_nanos(4096));
        assert_eq!(cm_timeout(200), cm_timeout(31));
    }

    #[test]
    fn deadlines_saturate() {
        let t = Instant::from_nanos(u64::MAX - 1);
        assert_eq!(t.saturating_add(cm_timeout(31)).as_nanos(), u64::MAX);
        assert_eq!(
            Instant::from_nanos(5)
                .saturating_add(Duration::from_nanos(7))
                .as_nanos(),
            12
        );
    }
}
