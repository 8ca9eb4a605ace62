//! The miniport adapter's side of the lower edge: [`AdapterLink`], one per
//! softroce adapter that has a `LowerMacAddress`, shared (`Arc`) by the
//! adapter, the platform (for `open_carrier`) and the binding it is paired
//! with; and the driver-global registry that pairs links with bindings
//! (`pairing::Pairing` under a spin lock; either side may appear first).
//!
//! The link holds what both directions need: the miniport handle (receive
//! indications, send completions, link status), the paired binding, the
//! frame carrier (at most one per adapter), the counters of NBLs the
//! miniport owes NDIS (forwarded sends, indicated receives; pause waits for
//! both), a receive clone pool allocated with the miniport handle, and the
//! neighbour resolver (`resolve`).
//!
//! Owns: pairing and the carrier slot. Must not touch NBL contents
//! (`datapath`) nor open or close bindings (`protocol`).

use alloc::sync::Arc;
use core::mem::size_of;
use core::net::IpAddr;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::abi::{NtStatus, NDIS_HANDLE, NDIS_OBJECT_HEADER};
use crate::link::{FrameCarrier, MacAddr};
use crate::os::irql;

use super::super::imports::{
    FreeMibTable, GetUnicastIpAddressTable, KeInitializeEvent, KeWaitForSingleObject,
    NdisFreeNetBufferListPool, NdisMIndicateStatusEx,
};
use super::super::ndis::NDIS_OBJECT_TYPE_DEFAULT;
use super::super::ndis_protocol::*;
use super::super::netio::{pick_interface_address, AF_UNSPEC, MIB_UNICASTIPADDRESS_TABLE};
use super::super::nt::{EXECUTIVE, FALSE, KERNEL_MODE, KEVENT, NOTIFICATION_EVENT};
use super::super::spin::SpinLock;
use super::binding::Binding;
use super::pairing::{Pairing, Slot};
use super::port::LowerPort;
use super::resolve::Resolver;

/// How many adapters and bindings the registry holds.
pub const MAX_PAIRS: usize = 8;

/// The frame carrier of a paired adapter.
pub type LowerCarrier = FrameCarrier<LowerPort>;

/// The driver-global registry.
static REGISTRY: SpinLock<Pairing<Arc<AdapterLink>, Arc<Binding>, MAX_PAIRS>> =
    SpinLock::new(Pairing::new());

/// Sleeps `ms` milliseconds (an event nobody signals, waited with a
/// timeout).
///
/// IRQL: PASSIVE_LEVEL.
pub fn sleep_ms(ms: i64) {
    let mut ev = KEVENT::zeroed();
    let mut due: i64 = -(ms.max(1) * 10_000);
    // SAFETY: PASSIVE; a local event initialised before the wait, which
    // times out (nobody else knows the event).
    unsafe {
        KeInitializeEvent(&mut ev, NOTIFICATION_EVENT, FALSE);
        KeWaitForSingleObject(
            ptr::addr_of_mut!(ev).cast(),
            EXECUTIVE,
            KERNEL_MODE,
            FALSE,
            &mut due,
        );
    }
}

/// Waits until `counter` is zero, polling every millisecond.
///
/// IRQL: PASSIVE_LEVEL.
pub fn drain(counter: &AtomicU32) {
    while counter.load(Ordering::SeqCst) != 0 {
        sleep_ms(1);
    }
}

/// Counters of the pass-through (read by the docs' debugging steps).
#[derive(Debug, Default)]
pub struct LinkCounters {
    /// Receives passed up unchanged because they were URO-coalesced.
    pub rx_uro_passed: AtomicU64,
    /// Receives passed up without classification: frame larger than the
    /// classification storage and not contiguous, or several NET_BUFFERs.
    pub rx_unclassified_passed: AtomicU64,
    /// Receives dropped: no clone NBL, adapter paused or unpaired.
    pub rx_dropped: AtomicU64,
    /// Receives consumed by the frame carrier (RoCEv2 for us or dropped by it).
    pub rx_consumed: AtomicU64,
    /// Stack sends forwarded to the NIC.
    pub tx_forwarded: AtomicU64,
    /// Stack sends failed here (no clone NBL, unpaired, paused).
    pub tx_failed: AtomicU64,
}

/// See the module documentation.
#[allow(missing_debug_implementations)]
pub struct AdapterLink {
    /// The miniport adapter handle.
    pub miniport: NDIS_HANDLE,
    /// `LowerMacAddress`.
    pub lower_mac: MacAddr,
    /// The adapter's `NET_LUID` (MiniportInitializeEx parameters).
    pub net_luid: u64,
    /// NBL pool (allocated with the miniport handle) for the clones the
    /// miniport indicates up.
    pub rx_clone_pool: NDIS_HANDLE,
    binding: SpinLock<Option<Arc<Binding>>>,
    carrier: SpinLock<Option<Arc<LowerCarrier>>>,
    /// The miniport is between Restart and Pause.
    pub running: AtomicBool,
    /// The miniport has restarted once: status indications are allowed
    /// (pairing during MiniportInitializeEx indicates nothing).
    ready: AtomicBool,
    /// Forwarded stack sends not yet completed to NDIS.
    pub tx_pending: AtomicU32,
    /// Clones indicated up and not yet returned.
    pub rx_pending: AtomicU32,
    pub counters: LinkCounters,
    pub resolver: Resolver,
    slot: SpinLock<Option<Slot>>,
}

// SAFETY: the handles are NDIS's, usable from any processor; everything
// else is atomics and spin locks.
unsafe impl Send for AdapterLink {}
// SAFETY: as above.
unsafe impl Sync for AdapterLink {}

impl AdapterLink {
    /// A link for the adapter `miniport` wanting the NIC `lower_mac`; its
    /// receive clone pool and the resolver's work item are allocated here.
    ///
    /// # Safety
    /// `miniport` is the handle of the adapter being initialised; the link
    /// is dropped (PASSIVE) before that adapter's halt returns.
    ///
    /// IRQL: PASSIVE_LEVEL (MiniportInitializeEx).
    pub unsafe fn new(
        miniport: NDIS_HANDLE,
        lower_mac: MacAddr,
        net_luid: u64,
    ) -> Option<Arc<Self>> {
        irql::assert_passive("AdapterLink::new");
        let pool = super::binding::pool(miniport, false);
        if pool.is_null() {
            return None;
        }
        // SAFETY: forwarded contract.
        let Some(resolver) = (unsafe { Resolver::new(miniport) }) else {
            // SAFETY: our pool, nothing allocated from it.
            unsafe { NdisFreeNetBufferListPool(pool) };
            return None;
        };
        Some(Arc::new(AdapterLink {
            miniport,
            lower_mac,
            net_luid,
            rx_clone_pool: pool,
            binding: SpinLock::new(None),
            carrier: SpinLock::new(None),
            running: AtomicBool::new(false),
            ready: AtomicBool::new(false),
            tx_pending: AtomicU32::new(0),
            rx_pending: AtomicU32::new(0),
            counters: LinkCounters::default(),
            resolver,
            slot: SpinLock::new(None),
        }))
    }

    /// The paired binding, if any.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn binding(&self) -> Option<Arc<Binding>> {
        self.binding.lock().clone()
    }

    /// Whether the adapter is paired and the NIC's link is up: what the
    /// miniport reports as its media connect state.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn connected(&self) -> bool {
        self.binding().is_some_and(|b| b.link_up())
    }

    /// The frame carrier, if one is open.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn carrier(&self) -> Option<Arc<LowerCarrier>> {
        self.carrier.lock().clone()
    }

    /// Installs the adapter's frame carrier; `false` if one is open.
    ///
    /// IRQL: PASSIVE_LEVEL (`open_carrier`).
    pub fn install_carrier(&self, c: Arc<LowerCarrier>) -> bool {
        let mut slot = self.carrier.lock();
        if slot.is_some() {
            return false;
        }
        *slot = Some(c);
        true
    }

    /// Takes the carrier `c` out of the slot (if it is the one there).
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn remove_carrier(&self, c: &Arc<LowerCarrier>) {
        let mut slot = self.carrier.lock();
        if slot.as_ref().is_some_and(|x| Arc::ptr_eq(x, c)) {
            *slot = None;
        }
    }

    /// Marks the miniport restarted (link indications allowed from now).
    ///
    /// IRQL: PASSIVE_LEVEL (MiniportRestartEx).
    pub fn set_ready(&self) {
        self.ready.store(true, Ordering::SeqCst);
    }

    /// Reports the media connect state to NDIS (NDIS_STATUS_LINK_STATE on
    /// the miniport), from the paired binding's link; nothing before the
    /// miniport's first restart.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn indicate_link(&self) {
        if !self.ready.load(Ordering::SeqCst) {
            return;
        }
        let (up, speed) = match self.binding() {
            Some(b) if b.link_up() => (true, b.link_speed()),
            _ => (false, 0),
        };
        let mut state = NDIS_LINK_STATE {
            Header: NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_DEFAULT,
                Revision: NDIS_LINK_STATE_REVISION_1,
                Size: size_of::<NDIS_LINK_STATE>() as u16,
            },
            MediaConnectState: if up {
                MEDIA_CONNECT_STATE_CONNECTED
            } else {
                MEDIA_CONNECT_STATE_DISCONNECTED
            },
            MediaDuplexState: 2,
            XmitLinkSpeed: speed,
            RcvLinkSpeed: speed,
            PauseFunctions: 0,
            AutoNegotiationFlags: 0,
        };
        let mut ind = NDIS_STATUS_INDICATION {
            Header: NDIS_OBJECT_HEADER {
                Type: NDIS_OBJECT_TYPE_STATUS_INDICATION,
                Revision: NDIS_STATUS_INDICATION_REVISION_1,
                Size: size_of::<NDIS_STATUS_INDICATION>() as u16,
            },
            SourceHandle: self.miniport,
            PortNumber: 0,
            StatusCode: NtStatus(NDIS_STATUS_LINK_STATE as i32),
            Flags: 0,
            DestinationHandle: ptr::null_mut(),
            RequestId: ptr::null_mut(),
            StatusBuffer: ptr::addr_of_mut!(state).cast(),
            StatusBufferSize: size_of::<NDIS_LINK_STATE>() as u32,
            Guid: GUID {
                Data1: 0,
                Data2: 0,
                Data3: 0,
                Data4: [0; 8],
            },
            NdisReserved: [ptr::null_mut(); 4],
        };
        // SAFETY: the miniport is initialised (the link is registered only
        // after MiniportInitializeEx set its attributes) and not halted (halt
        // unregisters first); the indication and its buffer live through
        // the call.
        unsafe { NdisMIndicateStatusEx(self.miniport, &mut ind) };
    }

    /// The softroce interface's own unicast address for NDK: a preferred
    /// IPv4 address, else a global IPv6 one (GetUnicastIpAddressTable
    /// filtered by our NET_LUID).
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn interface_address(&self) -> Option<IpAddr> {
        irql::assert_passive("AdapterLink::interface_address");
        let mut table: *mut MIB_UNICASTIPADDRESS_TABLE = ptr::null_mut();
        // SAFETY: PASSIVE; netio allocates the table and returns it through
        // the out pointer.
        let status = unsafe { GetUnicastIpAddressTable(AF_UNSPEC, &mut table) };
        if status < 0 || table.is_null() {
            return None;
        }
        // SAFETY: netio's table: NumEntries rows follow the header.
        let rows = unsafe {
            core::slice::from_raw_parts(
                ptr::addr_of!((*table).Table).cast(),
                (*table).NumEntries as usize,
            )
        };
        let ip = pick_interface_address(rows, self.net_luid);
        // SAFETY: the table GetUnicastIpAddressTable returned, freed once.
        unsafe { FreeMibTable(table.cast()) };
        ip
    }
}

impl Drop for AdapterLink {
    /// IRQL: PASSIVE_LEVEL (the adapter's halt drops the last reference).
    fn drop(&mut self) {
        self.resolver.wait_idle();
        // SAFETY: every clone from the pool was returned (pause waited for
        // rx_pending) and freed.
        unsafe { NdisFreeNetBufferListPool(self.rx_clone_pool) };
    }
}

/// Sets the pair: link <-> binding, then reports the link state.
///
/// IRQL: <= DISPATCH_LEVEL.
fn pair(link: &Arc<AdapterLink>, binding: &Arc<Binding>) {
    *link.binding.lock() = Some(binding.clone());
    binding.set_partner(Some(link.clone()));
    link.indicate_link();
}

/// Enters an adapter's link; pairs it with a binding already there.
/// `false`: the registry is full or another adapter wants the same NIC.
///
/// IRQL: PASSIVE_LEVEL (MiniportInitializeEx).
pub fn register_link(link: &Arc<AdapterLink>) -> bool {
    let added = REGISTRY.lock().add_adapter(link.lower_mac, link.clone());
    match added {
        Ok((slot, partner)) => {
            *link.slot.lock() = Some(slot);
            if let Some(b) = partner {
                pair(link, &b);
            }
            true
        }
        Err(_) => false,
    }
}

/// Takes an adapter's link out and unpairs it. Its carrier is closed by
/// then (NDIS closes every NDK instance before halt).
///
/// IRQL: PASSIVE_LEVEL (MiniportHaltEx).
pub fn unregister_link(link: &Arc<AdapterLink>) {
    // No more status indications on the halting miniport.
    link.ready.store(false, Ordering::SeqCst);
    let Some(slot) = link.slot.lock().take() else {
        return;
    };
    let removed = REGISTRY.lock().remove_adapter(slot);
    if let Some((_, Some(b))) = removed {
        b.set_partner(None);
    }
    *link.binding.lock() = None;
}

/// Whether the NIC `mac` is wanted by an adapter and `luid` is not one of
/// ours (a softroce adapter has the same MAC as its NIC).
///
/// IRQL: <= DISPATCH_LEVEL.
pub fn wanted(mac: MacAddr, luid: u64) -> bool {
    let r = REGISTRY.lock();
    r.wanted(mac) && !r.any_adapter(|a| a.net_luid == luid)
}

/// Enters a binding; pairs it with an adapter already there. `None` when
/// full or a duplicate.
///
/// IRQL: PASSIVE_LEVEL (ProtocolBindAdapterEx).
pub fn register_binding(binding: &Arc<Binding>) -> Option<Slot> {
    let added = REGISTRY.lock().add_binding(binding.mac, binding.clone());
    let (slot, partner) = added.ok()?;
    if let Some(link) = partner {
        pair(&link, binding);
    }
    Some(slot)
}

/// Takes a binding out and unpairs it (the adapter reports media
/// disconnected).
///
/// IRQL: PASSIVE_LEVEL (ProtocolUnbindAdapterEx).
pub fn unregister_binding(slot: Slot) {
    let removed = REGISTRY.lock().remove_binding(slot);
    if let Some((b, partner)) = removed {
        b.set_partner(None);
        if let Some(link) = partner {
            *link.binding.lock() = None;
            link.indicate_link();
        }
    }
}
