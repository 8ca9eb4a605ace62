//! The open NDK adapter instances of one miniport adapter (NDIS may open
//! several NDK_ADAPTERs on it) and the network they share: a fixed table of
//! the instances' states, added at OPEN_NDK_ADAPTER and removed at
//! CLOSE_NDK_ADAPTER (PASSIVE), walked under its spin lock by
//! OID_NDK_CONNECTIONS / OID_NDK_LOCAL_ENDPOINTS at <= DISPATCH_LEVEL
//! without allocating; and the adapter's [`Network`] slot: the first open
//! claims it and creates the network (PASSIVE, outside the lock), later
//! opens take it, and it is given back at NDK disable once no instance is
//! open ([`NdkInstances::take_idle_network`]) or dropped with the table at
//! halt. The enumerations visit each network once, however many instances
//! share it (its connections and listeners are the network's, not an
//! instance's). Pure (no NDIS call), so the host tests
//! (`tests/windows_ndk_oids.rs`) include it by path and drive it with
//! hosted adapters.
//!
//! Owns the table and the slot. Must not open or close NDK adapters
//! (`ndk.rs`, `ndk`); lock order: the instance table -> the network slot,
//! and the instance table -> each adapter's runtime lock (taken by the
//! `ndk` enumerations); nothing in `ndk` takes these locks. A `Network`
//! is only ever dropped outside them (the caller drops what is returned).

use alloc::sync::Arc;
use core::net::SocketAddr;

use crate::ndk::core::AdapterCore;
use crate::ndk::Network;
use crate::os::SpinLock;

/// NDK instances one miniport adapter keeps open at once (an open beyond
/// it fails with NDIS_STATUS_RESOURCES).
pub const MAX_NDK_INSTANCES: usize = 64;

/// The adapter's network slot.
enum NetSlot {
    /// No network (before the first open, after NDK disable).
    Empty,
    /// An open is creating it (others wait, [`Claim::Wait`]).
    Creating,
    /// The network every instance attaches to.
    Ready(Network),
}

/// What [`NdkInstances::claim_network`] tells an opener.
#[derive(Debug)]
pub enum Claim {
    /// Attach to this network.
    Ready(Network),
    /// Create the network and hand it to [`NdkInstances::publish_network`]
    /// (or `None` on failure).
    Create,
    /// Another open is creating it: wait a little and claim again.
    Wait,
}

/// The network slot and the opens between their claim and
/// [`NdkInstances::open_done`] (NDK disable must not take the network from
/// under them: they would attach to a network the table no longer holds).
struct NetState {
    slot: NetSlot,
    opening: usize,
}

/// See the module documentation.
pub struct NdkInstances {
    slots: SpinLock<[Option<Arc<AdapterCore>>; MAX_NDK_INSTANCES]>,
    network: SpinLock<NetState>,
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
            network: SpinLock::new(NetState {
                slot: NetSlot::Empty,
                opening: 0,
            }),
        }
    }

    /// At NDK open: the adapter's network, or the claim to create it (the
    /// first open), or wait (another open is creating it). `Ready` and
    /// `Create` count the caller as an open in progress until it calls
    /// [`NdkInstances::open_done`] (registered or failed).
    ///
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE at NDK open).
    pub fn claim_network(&self) -> Claim {
        let mut st = self.network.lock();
        let claim = match &st.slot {
            NetSlot::Ready(n) => Claim::Ready(n.clone()),
            NetSlot::Creating => return Claim::Wait,
            NetSlot::Empty => {
                st.slot = NetSlot::Creating;
                Claim::Create
            }
        };
        st.opening += 1;
        claim
    }

    /// An open that claimed (`Ready` or `Create`) has registered its
    /// instance or given up.
    ///
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE at NDK open).
    pub fn open_done(&self) {
        let mut st = self.network.lock();
        st.opening = st.opening.saturating_sub(1);
    }

    /// After [`Claim::Create`]: the network made (`Some`, kept and handed
    /// to later opens) or the failure (`None`: the next open tries again).
    ///
    /// IRQL: <= DISPATCH_LEVEL (PASSIVE at NDK open).
    pub fn publish_network(&self, network: Option<&Network>) {
        let mut st = self.network.lock();
        st.slot = match network {
            Some(n) => NetSlot::Ready(n.clone()),
            None => NetSlot::Empty,
        };
    }

    /// At NDK disable: the network, taken out if no instance is open and no
    /// open is in progress (the caller drops it at PASSIVE, which stops it
    /// unless an instance still holds it); `None` while instances are open
    /// or opening, or none was made.
    ///
    /// IRQL: <= DISPATCH_LEVEL (the drop: PASSIVE).
    pub fn take_idle_network(&self) -> Option<Network> {
        let slots = self.slots.lock();
        if slots.iter().any(Option::is_some) {
            return None;
        }
        let mut st = self.network.lock();
        if st.opening > 0 {
            return None;
        }
        let taken = match core::mem::replace(&mut st.slot, NetSlot::Empty) {
            NetSlot::Ready(n) => Some(n),
            other => {
                st.slot = other;
                None
            }
        };
        drop(st);
        drop(slots);
        taken
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

    /// `f(local, remote)` for every connection on the networks of the open
    /// instances, each network once (instances sharing one are not counted
    /// twice).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn visit_connections(&self, f: &mut dyn FnMut(SocketAddr, SocketAddr)) {
        let slots = self.slots.lock();
        for core in first_of_each_network(&slots[..]) {
            core.for_each_connection(&mut *f);
        }
    }

    /// `f(address, is_listener)` for every listener and shared endpoint on
    /// the networks of the open instances, each network once.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn visit_local_endpoints(&self, f: &mut dyn FnMut(SocketAddr, bool)) {
        let slots = self.slots.lock();
        for core in first_of_each_network(&slots[..]) {
            core.for_each_local_endpoint(&mut *f);
        }
    }
}

/// The open instances, skipping any whose network an earlier one is on
/// (no allocation: a quadratic scan of at most [`MAX_NDK_INSTANCES`]).
///
/// IRQL: <= DISPATCH_LEVEL (the table's lock held).
fn first_of_each_network(
    slots: &[Option<Arc<AdapterCore>>],
) -> impl Iterator<Item = &Arc<AdapterCore>> {
    slots.iter().enumerate().filter_map(move |(i, s)| {
        let core = s.as_ref()?;
        let earlier = slots.get(..i)?;
        let seen = earlier
            .iter()
            .flatten()
            .any(|other| other.same_network(core));
        (!seen).then_some(core)
    })
}
