//! The seam to the operating system: spin locks, deferred work at
//! DISPATCH_LEVEL, timers, a monotonic clock, randomness, pool accounting,
//! datagram send/receive and the current IRQL. `hosted` implements it on std
//! (with IRQL books that fail tests on rule breaks); `windows` on the kernel.
//! The only platform code in the crate; the core sees only the names below.
//!
//! Two halves (see `docs/OS.md`):
//! - compile-time primitives, chosen by feature/target: [`SpinLock`],
//!   [`current_irql`], the [`irql`] assertions and [`consumer_call`];
//! - runtime services behind the object-safe [`Platform`] trait: clock, DPCs,
//!   timers, randomness, pool books and the [`Carrier`] (datagram socket).
//!
//! Must not touch: protocol logic. Nothing here knows about RoCE except the
//! IP header fields the ICRC needs ([`carrier::RxIp`], [`carrier::TxIpv4`]).

pub mod carrier;
#[cfg(any(feature = "hosted", windows))]
pub mod conformance;
pub mod counters;
pub mod irql;
pub mod platform;
pub mod pool;
pub mod time;

#[cfg(feature = "hosted")]
pub mod hosted;

// Both platforms export the same primitive names: `SpinLock`, `SpinLockGuard`,
// `current_irql`, `provider_locks_held`, `report_violation`.
#[cfg(all(windows, not(feature = "hosted")))]
pub mod windows;

#[cfg(feature = "hosted")]
use hosted as platform_impl;
#[cfg(all(windows, not(feature = "hosted")))]
use windows as platform_impl;

pub use carrier::{
    Carrier, CarrierError, CarrierOwner, DatagramSink, Ipv4RxFields, Received, RxIp, SendError,
    TxIpv4,
};
pub use counters::NdkCounters;
#[cfg(any(feature = "hosted", windows))]
pub use irql::consumer_call;
pub use irql::{Rule, Violation};
pub use platform::{DeferredRoutine, Dpc, OsError, Platform, Timer};
pub use pool::{PoolBooks, PoolError, PoolTag, PoolUsage};
pub use time::Instant;

#[cfg(any(feature = "hosted", windows))]
pub use platform_impl::{SpinLock, SpinLockGuard};

/// Interrupt request levels the provider distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Irql {
    Passive = 0,
    Apc = 1,
    Dispatch = 2,
    /// Anything above DISPATCH_LEVEL (device IRQLs): never allowed for consumer callbacks.
    High = 3,
}

/// The IRQL the calling thread (processor, in the kernel) runs at.
///
/// IRQL: any.
#[cfg(any(feature = "hosted", windows))]
#[inline]
pub fn current_irql() -> Irql {
    platform_impl::current_irql()
}
