//! The open NDK adapter instances of one miniport adapter (NDIS may open
//! several NDK_ADAPTERs on it): a fixed table of their shared states, added
//! at OPEN_NDK_ADAPTER and removed at CLOSE_NDK_ADAPTER (PASSIVE), walked
//! under its spin lock by OID_NDK_CONNECTIONS / OID_NDK_LOCAL_ENDPOINTS at
//! <= DISPATCH_LEVEL without allocating. Pure (no NDIS call), so the host
//! tests (`tests/windows_ndk_oids.rs`) include it by path and drive it with
//! hosted adapters.
//!
//! Owns the table. Must not open or close NDK adapters (`ndk.rs`, `ndk`);
//! lock order: this table -> each adapter's runtime lock (taken by the
//! `ndk` enumerations); nothing in `ndk` takes this lock.

use alloc::sync::Arc;
use core::net::SocketAddr;

use crate::ndk::core::AdapterCore;
use crate::os::SpinLock;

/// NDK instances one miniport adapter keeps open at once (an open beyond
/// it fails with NDIS_STATUS_RESOURCES).
pub const MAX_NDK_INSTANCES: usize = 64;

/// See the module documentation.
pub struct NdkInstances {
    slots: SpinLock<[Option<Arc<AdapterCore>>; MAX_NDK_INSTANCES]>,
}

impl core::fmt::Debug for NdkInstances {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NdkInstances")
            .field("open", &self.len())
            .finish()
    }
}

impl Default for NdkInstances {
    fn default() -> Self {
        Self::new()
    }
}

impl NdkInstances {
    /// An empty table.
    ///
    /// IRQL: any.
    pub const fn new() -> Self {
        const NONE: Option<Arc<AdapterCore>> = None;
        NdkInstances {
            slots: SpinLock::new([NONE; MAX_NDK_INSTANCES]),
        }
    }

    /// Enters an opened instance's state. `Err` gives it back when the
    /// table is full.
    ///
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE at NDK open).
    pub fn add(&self, core: Arc<AdapterCore>) -> Result<(), Arc<AdapterCore>> {
        let mut slots = self.slots.lock();
        match slots.iter_mut().find(|s| s.is_none()) {
            Some(s) => {
                *s = Some(core);
                Ok(())
            }
            None => Err(core),
        }
    }

    /// Takes an instance's state out (NDK close, before the instance is
    /// freed). The caller drops what is returned after the lock is gone.
    ///
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE at NDK close).
    pub fn remove(&self, core: &Arc<AdapterCore>) -> Option<Arc<AdapterCore>> {
        let mut slots = self.slots.lock();
        slots
            .iter_mut()
            .find(|s| s.as_ref().is_some_and(|c| Arc::ptr_eq(c, core)))
            .and_then(Option::take)
    }

    /// Instances open now.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn len(&self) -> usize {
        self.slots.lock().iter().flatten().count()
    }

    /// Whether none is open.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `f(local, remote)` for every connection of every open instance.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn visit_connections(&self, f: &mut dyn FnMut(SocketAddr, SocketAddr)) {
        let slots = self.slots.lock();
        for core in slots.iter().flatten() {
            core.for_each_connection(&mut *f);
        }
    }

    /// `f(address, is_listener)` for every listener and shared endpoint of
    /// every open instance.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn visit_local_endpoints(&self, f: &mut dyn FnMut(SocketAddr, bool)) {
        let slots = self.slots.lock();
        for core in slots.iter().flatten() {
            core.for_each_local_endpoint(&mut *f);
        }
    }
}
