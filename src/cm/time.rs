//! Time for the CM: the IB CM timeout encoding (4.096 µs × 2^n), and
//! [`Instant`], the platform's clock value type (`os::time`), re-exported.
//! Owns that conversion only; must not read any clock (the caller passes `now`).

use core::time::Duration;

/// A point on the caller's monotonic clock (nanoseconds). The engine never
/// reads a clock: every input carries `now`, every deadline is an `Instant`.
pub use crate::os::time::Instant;

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
}
