//! The runtime services of the seam as object-safe traits: [`Platform`] (clock,
//! randomness, pool books, factories) and the objects it makes: [`Dpc`],
//! [`Timer`] and (in `carrier`) the datagram [`crate::os::Carrier`].
//! Owns only the contracts; implementations live in `hosted` and `windows`.
//!
//! Design: every deferred object is created up front (at create time, where
//! the kernel allocates its KDPC/KTIMER from non-paged pool) around a
//! [`DeferredRoutine`] the core supplies; queueing and setting never allocate,
//! so they are legal on the DISPATCH_LEVEL data path.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::fmt;
use core::net::SocketAddr;
use core::ptr::NonNull;

use super::carrier::{Carrier, CarrierError, DatagramSink};
use super::pool::PoolBooks;
use super::time::Instant;
use crate::abi::MDL;

/// Work the platform runs at DISPATCH_LEVEL when a [`Dpc`] is queued or a
/// [`Timer`] expires. Kernel: the `KDEFERRED_ROUTINE` of a KDPC.
pub trait DeferredRoutine: Send + Sync {
    /// Runs the deferred work. `now` is the platform clock when the run began
    /// (for a timer: at or after its deadline).
    ///
    /// IRQL: DISPATCH_LEVEL (always; the IRQL books check it).
    fn run(&self, now: Instant);
}

/// A deferred procedure call object: queue it and its routine runs once, soon,
/// at DISPATCH_LEVEL on a platform thread. Kernel: a KDPC
/// (`KeInitializeDpc` at create, `KeInsertQueueDpc` on [`Dpc::queue`]).
/// Dropping it removes it from the queue if it has not started.
pub trait Dpc: Send + Sync {
    /// Queues the routine. Returns `false` if it was already queued and has not
    /// started yet (the two requests coalesce into one run, as in the kernel).
    /// Once the routine has started, a new `queue` queues it again.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn queue(&self) -> bool;
}

/// A one-shot timer: at `deadline` its routine runs once at DISPATCH_LEVEL.
/// Kernel: a KTIMER + KDPC (`KeSetTimer` with a relative due time computed
/// from `deadline - KeQueryInterruptTime`), or an `EX_TIMER`.
/// Dropping it cancels it.
pub trait Timer: Send + Sync {
    /// Arms the timer for `deadline`, replacing any earlier deadline. Returns
    /// `true` if it was already armed (like `KeSetTimer`). A deadline in the
    /// past fires as soon as possible.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn set(&self, deadline: Instant) -> bool;

    /// Disarms the timer. Returns `true` if it was armed and has not started
    /// (like `KeCancelTimer`); a routine already running is not stopped.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn cancel(&self) -> bool;
}

/// Errors of the factories.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OsError {
    /// Out of memory (or the pool books' limit was reached): STATUS_INSUFFICIENT_RESOURCES.
    InsufficientResources,
    /// The platform is shutting down.
    ShuttingDown,
}

impl fmt::Display for OsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OsError::InsufficientResources => f.write_str("insufficient resources"),
            OsError::ShuttingDown => f.write_str("platform is shutting down"),
        }
    }
}

/// The runtime services one adapter instance uses. The core holds an
/// `Arc<dyn Platform>` and never learns which implementation it has.
pub trait Platform: Send + Sync {
    /// The monotonic clock. Kernel: `KeQueryInterruptTime() * 100`.
    ///
    /// IRQL: any.
    fn now(&self) -> Instant;

    /// Fills `buf` with unpredictable bytes (keys, initial PSNs, comm ids).
    /// Kernel: a ChaCha20 generator seeded from RDSEED/RDRAND mixed with
    /// the performance counters (no CNG import is allowed; see
    /// `docs/WINDOWS.md`).
    /// A virtual-clock platform draws from its seed instead (deterministic).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn fill_random(&self, buf: &mut [u8]);

    /// The books of pool memory outstanding per tag.
    ///
    /// IRQL: any.
    fn pool(&self) -> &PoolBooks;

    /// Creates a DPC object around `routine`. Kernel: allocate + `KeInitializeDpc`.
    ///
    /// IRQL: <= DISPATCH_LEVEL (create time, not the data path).
    fn new_dpc(&self, routine: Arc<dyn DeferredRoutine>) -> Result<Box<dyn Dpc>, OsError>;

    /// Creates a disarmed timer around `routine`. Kernel: allocate +
    /// `KeInitializeTimerEx` + `KeInitializeDpc`.
    ///
    /// IRQL: <= DISPATCH_LEVEL (create time, not the data path).
    fn new_timer(&self, routine: Arc<dyn DeferredRoutine>) -> Result<Box<dyn Timer>, OsError>;

    /// Opens the RoCEv2 carrier bound to `local` (the adapter's address, port
    /// 4791 in production). Received datagrams go to `sink` at DISPATCH_LEVEL.
    /// Kernel: a WSK datagram socket (see `docs/CARRIER.md`).
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn open_carrier(
        &self,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Box<dyn Carrier>, CarrierError>;

    /// The system address of the first byte one MDL describes (not its
    /// chain), valid until the MDL's pages are unlocked. Kernel:
    /// `MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority | MdlMappingNoExecute)`.
    /// Hosted: `MappedSystemVa` of an MDL flagged `MDL_SOURCE_IS_NONPAGED_POOL`
    /// or `MDL_MAPPED_TO_SYSTEM_VA`; any other MDL cannot be mapped
    /// (`InsufficientResources`, as when the kernel runs out of PTEs).
    ///
    /// # Safety
    /// `mdl` points to a readable MDL header.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    unsafe fn map_mdl(&self, mdl: NonNull<MDL>) -> Result<NonNull<u8>, OsError>;

    /// Waits until every DPC queued and every timer expired before the call
    /// has finished running. Kernel: `KeFlushQueuedDpcs`. Use before freeing
    /// what a routine touches.
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn flush_deferred(&self);
}
