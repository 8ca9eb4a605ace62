//! The NDK enable/disable state machine of one adapter, pure (atomics only)
//! so the host tests (`tests/windows_helpers.rs`) can drive it with
//! threads. OID_NDK_SET_STATE calls [`NdkState::request`] (any IRQL <=
//! DISPATCH, returns at once); when it says so the caller queues the NDIS
//! work item, which loops `next_event` (raise NetEventNDKEnable/Disable for
//! `Some(on)`) and `finish_pass` until that says stop, then calls `exit` as
//! its last touch of the adapter. At most one work item is queued or running
//! at a time; every request made while one runs is seen by it; the events it
//! raises alternate (never two enables or two disables in a row), and when
//! the machine is idle the signalled state equals the last request.
//!
//! Owns: the state. Must not call NDIS.

use core::sync::atomic::{AtomicBool, AtomicU32, Ordering};

/// See the module documentation.
#[derive(Debug)]
pub struct NdkState {
    /// `*NetworkDirect` != 0: without it NDK is never enabled.
    configured: bool,
    desired: AtomicBool,
    reported: AtomicBool,
    /// A work item is queued or running and will see `desired`.
    queued: AtomicBool,
    /// Work items queued and not yet exited (halt waits for 0).
    busy: AtomicU32,
}

impl NdkState {
    /// The state at initialisation: the NDK attributes reported
    /// `Enabled = configured`.
    ///
    /// IRQL: any.
    pub const fn new(configured: bool) -> Self {
        NdkState {
            configured,
            desired: AtomicBool::new(configured),
            reported: AtomicBool::new(configured),
            queued: AtomicBool::new(false),
            busy: AtomicU32::new(0),
        }
    }

    /// Whether NDK is enabled now (NDK opens are allowed).
    ///
    /// IRQL: any.
    pub fn enabled(&self) -> bool {
        self.configured && self.reported.load(Ordering::SeqCst)
    }

    /// OID_NDK_SET_STATE(`on`). `true`: the caller must queue the work item
    /// (counted in `busy` already).
    ///
    /// IRQL: any.
    #[must_use]
    pub fn request(&self, on: bool) -> bool {
        self.desired.store(on && self.configured, Ordering::SeqCst);
        if self.queued.swap(true, Ordering::SeqCst) {
            return false;
        }
        self.busy.fetch_add(1, Ordering::SeqCst);
        true
    }

    /// In the work item: the event to raise now, if the signalled state
    /// differs from the wanted one (recorded as signalled first, so opens
    /// are refused as soon as disabling starts).
    ///
    /// IRQL: any.
    pub fn next_event(&self) -> Option<bool> {
        let want = self.desired.load(Ordering::SeqCst);
        (self.reported.swap(want, Ordering::SeqCst) != want).then_some(want)
    }

    /// In the work item, after a pass: `true` to make another pass (a
    /// request arrived that no other work item will see).
    ///
    /// IRQL: any.
    #[must_use]
    pub fn finish_pass(&self) -> bool {
        self.queued.store(false, Ordering::SeqCst);
        let settled = self.desired.load(Ordering::SeqCst) == self.reported.load(Ordering::SeqCst);
        !settled && !self.queued.swap(true, Ordering::SeqCst)
    }

    /// The work item's last touch of the adapter.
    ///
    /// IRQL: any.
    pub fn exit(&self) {
        self.busy.fetch_sub(1, Ordering::SeqCst);
    }

    /// Whether a work item is queued or running (halt waits while true).
    ///
    /// IRQL: any.
    pub fn busy(&self) -> bool {
        self.busy.load(Ordering::SeqCst) != 0
    }
}
