//! Virtual time for the engine: an opaque [`Instant`] supplied by the caller
//! and the IB timer encodings as durations (local ACK timeout, RNR NAK timer;
//! ROCE-FACTS §1.4, §1.7). Owns time arithmetic only; the engine never reads a clock.

use core::time::Duration;

/// A point in time, in nanoseconds since an epoch the caller chooses.
/// The engine only compares and adds; it never reads a clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(pub u64);

impl Instant {
    /// `self + d`, saturating at the end of time.
    pub fn saturating_add(self, d: Duration) -> Instant {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        Instant(self.0.saturating_add(ns))
    }

    /// Nanoseconds since the epoch.
    pub const fn nanos(self) -> u64 {
        self.0
    }
}

/// The delay an RNR NAK with the 5-bit `timer` asks the requester to wait
/// (the IBA table, held by `wire::rnr_timer_micros`; ROCE-FACTS §1.4).
pub fn rnr_delay(timer: u8) -> Duration {
    Duration::from_micros(u64::from(crate::wire::rnr_timer_micros(timer)))
}

/// The local ACK timeout `4.096 us * 2^timeout`; `None` for 0 (infinite).
pub fn local_ack_timeout(timeout: u8) -> Option<Duration> {
    match timeout & 0x1F {
        0 => None,
        t => Some(Duration::from_nanos(4096u64 << t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_follow_the_facts() {
        assert_eq!(rnr_delay(0), Duration::from_micros(655_360));
        assert_eq!(rnr_delay(1), Duration::from_micros(10));
        assert_eq!(rnr_delay(25), Duration::from_micros(61_440));
        assert_eq!(rnr_delay(31), Duration::from_micros(491_520));
        assert_eq!(local_ack_timeout(0), None);
        assert_eq!(
            local_ack_timeout(14),
            Some(Duration::from_nanos(4096 << 14))
        );
        assert_eq!(
            Instant(5).saturating_add(Duration::from_nanos(3)),
            Instant(8)
        );
        assert_eq!(
            Instant(u64::MAX).saturating_add(Duration::from_secs(1)),
            Instant(u64::MAX)
        );
    }
}
