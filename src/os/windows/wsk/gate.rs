//! The close gate of the WSK carrier, pure (atomics only) so the host tests
//! (`tests/windows_helpers.rs`) can hammer it with threads: senders take a
//! reference for each `WskSendTo` call and each send IRP; the closer refuses
//! new references, drops the owner's reference and, unless that was the
//! last one, waits for the event the last holder signals. The owner's
//! reference makes "last" unambiguous: the count can only reach zero after
//! `close` began, so exactly one party learns it was last, and the closer
//! never frees the event while a holder may still signal it.
//!
//! Owns: the counting. Must not touch WSK or the event itself.

use core::sync::atomic::{AtomicU32, Ordering};

const CLOSING: u32 = 1 << 31;
const SIGNALED: u32 = 1 << 30;
const COUNT: u32 = SIGNALED - 1;

/// See the module documentation. One word: the reference count (low 30
/// bits, including the owner's until `close`), CLOSING and SIGNALED (the
/// one signal has been claimed; later refused `enter`s never signal again).
#[derive(Debug)]
pub struct CloseGate {
    state: AtomicU32,
}

impl Default for CloseGate {
    /// IRQL: any.
    fn default() -> Self {
        Self::new()
    }
}

impl CloseGate {
    /// Open, with the owner's reference.
    ///
    /// IRQL: any.
    pub const fn new() -> Self {
        CloseGate {
            state: AtomicU32::new(1),
        }
    }

    /// Takes a reference unless the gate is closing. `Err(signal)` when
    /// refused: `signal` says the caller dropped the last reference and must
    /// wake the closer.
    ///
    /// IRQL: any.
    pub fn enter(&self) -> Result<(), bool> {
        if self.state.fetch_add(1, Ordering::SeqCst) & CLOSING != 0 {
            return Err(self.leave());
        }
        Ok(())
    }

    /// Takes one more reference while holding one (an IRP about to be
    /// handed to WSK).
    ///
    /// IRQL: any.
    pub fn add(&self) {
        self.state.fetch_add(1, Ordering::SeqCst);
    }

    /// Drops a reference. `true` exactly once: for the holder that dropped
    /// the last reference after `close` began; it must signal the closer's
    /// event (and touch nothing of the carrier afterwards).
    ///
    /// IRQL: any.
    #[must_use]
    pub fn leave(&self) -> bool {
        let now = self.state.fetch_sub(1, Ordering::SeqCst).wrapping_sub(1);
        if now & COUNT != 0 || now & CLOSING == 0 {
            return false;
        }
        self.state.fetch_or(SIGNALED, Ordering::SeqCst) & SIGNALED == 0
    }

    /// Starts closing: refuses new references and drops the owner's.
    /// `true`: references remain and the closer must wait for the signal;
    /// `false`: nothing is held, no signal will come.
    ///
    /// IRQL: any (the wait that follows is PASSIVE_LEVEL).
    #[must_use]
    pub fn close(&self) -> bool {
        self.state.fetch_or(CLOSING, Ordering::SeqCst);
        !self.leave()
    }

    /// Whether `close` has begun.
    ///
    /// IRQL: any.
    pub fn is_closing(&self) -> bool {
        self.state.load(Ordering::SeqCst) & CLOSING != 0
    }
}
