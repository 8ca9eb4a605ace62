//! The seam to the operating system: spin locks, deferred work at
//! DISPATCH_LEVEL, timers, a monotonic clock, pool memory, datagram
//! send/receive and the current IRQL. `hosted` implements it on std (with IRQL
//! books that fail tests on rule breaks); `windows` on the kernel.
//! The only platform code in the crate.

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

#[cfg(feature = "hosted")]
pub mod hosted;
