//! One lower binding: softroce's protocol open on a physical Ethernet NIC
//! (`Binding`, shared as `Arc`: the protocol binding context, the registry,
//! the paired adapter link and the frame carrier's port hold it). It owns
//! everything the data path needs, allocated at bind (PASSIVE) so nothing
//! is allocated on DISPATCH paths by softroce itself:
//!
//! - the send contexts of the frame carrier: `SEND_CONTEXTS` NBL+NB+MDL
//!   over a nonpaged buffer of `frame_capacity` bytes each, from an NBL
//!   pool allocated with the protocol driver handle; a free list of their
//!   indices (a preallocated stack under a spin lock);
//! - an NBL pool for the clones of stack sends forwarded to the NIC;
//! - per-processor classification storage (two nesting levels of
//!   `CLASSIFY_STORAGE` bytes) for `NdisGetDataBuffer` on receive;
//! - the events and the OID request the PASSIVE bind/unbind paths wait on.
//!
//! State: Opening -> Paused (bind done) -> Running (NetEventRestart) ->
//! Paused (NetEventPause, after outstanding NBLs drained) -> Closing
//! (unbind). Every send (own frame or forwarded clone) and every receive
//! clone indicated up counts in `outstanding`, entered before the state is
//! checked, so pause and unbind can wait for zero.
//!
//! Owns: the binding's resources and state. Must not parse frames nor call
//! the miniport (`datapath`, `link`).

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ffi::c_void;
use core::mem::size_of;
use core::ptr;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicU8, Ordering,
};

use crate::abi::{NDIS_HANDLE, NDIS_OBJECT_HEADER};
use crate::link::MacAddr;
use crate::os::SendError;

use super::super::alloc::zeroed_slice;
use super::super::ffi::POOL_TAG;
use super::super::imports::{
    IoAllocateMdl, IoFreeMdl, KeInitializeEvent, KeQueryMaximumProcessorCountEx,
    MmBuildMdlForNonPagedPool, NdisAllocateNetBufferAndNetBufferList,
    NdisAllocateNetBufferListPool, NdisFreeNetBufferList, NdisFreeNetBufferListPool,
};
use super::super::ndis::{NDIS_OBJECT_TYPE_DEFAULT, NDIS_OID_REQUEST, NET_BUFFER_LIST};
use super::super::ndis_protocol::*;
use super::super::nt::{MdlHeader, ALL_PROCESSOR_GROUPS, FALSE, KEVENT, NOTIFICATION_EVENT};
use super::super::spin::SpinLock;
use super::link::AdapterLink;
use super::pairing::Slot;

/// Preallocated send contexts per binding.
pub const SEND_CONTEXTS: usize = 256;
/// Bytes of classification storage per processor and nesting level: a
/// received frame up to this size is classified even when its NET_BUFFER
/// is not contiguous (larger ones only when contiguous).
pub const CLASSIFY_STORAGE: usize = 2048;
/// Ethernet header + one 802.1Q tag.
pub const LINK_HEADER_MAX: usize = 18;

/// Binding states.
pub const OPENING: u32 = 0;
pub const PAUSED: u32 = 1;
pub const RUNNING: u32 = 2;
pub const CLOSING: u32 = 3;

/// One send context: an NBL with one NB over one MDL over `buf`.
#[allow(missing_debug_implementations)]
pub struct SendCtx {
    pub nbl: *mut NET_BUFFER_LIST,
    mdl: *mut MdlHeader,
    pub buf: *mut u8,
}

/// Per-processor classification storage.
#[allow(missing_debug_implementations)]
pub struct Scratch {
    pub depth: AtomicU8,
    pub bufs: [UnsafeCell<[u8; CLASSIFY_STORAGE]>; 2],
}

/// See the module documentation.
#[allow(missing_debug_implementations)]
pub struct Binding {
    /// The NIC's current MAC (bind parameters).
    pub mac: MacAddr,
    /// The NIC's MTU (bind parameters).
    pub mtu: u32,
    /// Largest frame a send context holds (MTU + Ethernet + 802.1Q).
    pub frame_capacity: usize,
    /// `BoundIfNetluid` of the NIC.
    pub luid: u64,
    handle: AtomicPtr<c_void>,
    link_up: AtomicBool,
    speed: AtomicU64,
    state: AtomicU32,
    /// Sends (own frames and forwarded clones) not completed, plus receive
    /// clones indicated up and not returned.
    pub outstanding: AtomicU32,
    /// Receives returned at once because no running adapter is paired.
    pub rx_unpaired: AtomicU64,
    partner: SpinLock<Option<Arc<AdapterLink>>>,
    /// Pool of the send contexts' NBLs (with NET_BUFFERs).
    pub frame_pool: NDIS_HANDLE,
    /// Pool of the clones of forwarded stack sends (no NET_BUFFERs).
    pub clone_pool: NDIS_HANDLE,
    ctxs: Vec<SendCtx>,
    bufs: Box<[u8]>,
    free: SpinLock<Vec<u16>>,
    pub scratch: Box<[Scratch]>,
    pub open_event: UnsafeCell<KEVENT>,
    pub open_status: AtomicI32,
    pub close_event: UnsafeCell<KEVENT>,
    pub oid_event: UnsafeCell<KEVENT>,
    pub oid_status: AtomicI32,
    pub oid: UnsafeCell<NDIS_OID_REQUEST>,
    pub filter: UnsafeCell<u32>,
    pub slot: SpinLock<Option<Slot>>,
}

// SAFETY: raw pointers are NDIS objects and our own buffers, used under the
// free-list lock / ownership rules above; the rest is atomics and locks.
unsafe impl Send for Binding {}
// SAFETY: as above.
unsafe impl Sync for Binding {}

/// What bind reads from NDIS_BIND_PARAMETERS.
#[derive(Debug, Clone, Copy)]
pub struct BindInfo {
    pub mac: MacAddr,
    pub mtu: u32,
    pub luid: u64,
    /// `LowestIfNetluid`: the miniport's own interface under any filters.
    pub lowest_luid: u64,
    pub connected: bool,
    pub speed: u64,
}

/// An NBL pool (with a NET_BUFFER per NBL when `with_nb`) allocated with
/// `handle`: the protocol driver handle (binding pools) or a miniport
/// adapter handle (the adapter link's receive clone pool). Null when out of
/// resources.
///
/// IRQL: PASSIVE_LEVEL.
pub(super) fn pool(handle: NDIS_HANDLE, with_nb: bool) -> NDIS_HANDLE {
    let mut params = NET_BUFFER_LIST_POOL_PARAMETERS {
        Header: NDIS_OBJECT_HEADER {
            Type: NDIS_OBJECT_TYPE_DEFAULT,
            Revision: NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1,
            Size: size_of::<NET_BUFFER_LIST_POOL_PARAMETERS>() as u16,
        },
        ProtocolId: NDIS_PROTOCOL_ID_DEFAULT,
        fAllocateNetBuffer: u8::from(with_nb),
        ContextSize: 0,
        PoolTag: POOL_TAG,
        DataSize: 0,
    };
    // SAFETY: PASSIVE; an NDIS driver or adapter handle; parameters live
    // through the call.
    unsafe { NdisAllocateNetBufferListPool(handle, &mut params) }
}

impl Binding {
    /// A binding for the NIC described by `info`, with every resource
    /// allocated; `None` when out of memory (nothing leaks).
    ///
    /// IRQL: PASSIVE_LEVEL (ProtocolBindAdapterEx).
    pub fn new(driver: NDIS_HANDLE, info: BindInfo) -> Option<Arc<Binding>> {
        let frame_capacity = (info.mtu as usize).saturating_add(LINK_HEADER_MAX);
        // SAFETY: any IRQL.
        let cpus = unsafe { KeQueryMaximumProcessorCountEx(ALL_PROCESSOR_GROUPS) } as usize;
        // SAFETY: zero is a valid Scratch (atomic 0, zero bytes).
        let scratch = unsafe { zeroed_slice::<Scratch>(cpus) }?;
        // SAFETY: zero bytes are valid u8s.
        let bufs = unsafe { zeroed_slice::<u8>(frame_capacity.checked_mul(SEND_CONTEXTS)?) }?;
        let mut free = Vec::new();
        free.try_reserve_exact(SEND_CONTEXTS).ok()?;
        let mut ctxs = Vec::new();
        ctxs.try_reserve_exact(SEND_CONTEXTS).ok()?;
        let frame_pool = pool(driver, true);
        let clone_pool = pool(driver, false);
        let mut b = Binding {
            mac: info.mac,
            mtu: info.mtu,
            frame_capacity,
            luid: info.luid,
            handle: AtomicPtr::new(ptr::null_mut()),
            link_up: AtomicBool::new(info.connected),
            speed: AtomicU64::new(info.speed),
            state: AtomicU32::new(OPENING),
            outstanding: AtomicU32::new(0),
            rx_unpaired: AtomicU64::new(0),
            partner: SpinLock::new(None),
            frame_pool,
            clone_pool,
            ctxs,
            bufs,
            free: SpinLock::new(free),
            scratch,
            open_event: UnsafeCell::new(KEVENT::zeroed()),
            open_status: AtomicI32::new(0),
            close_event: UnsafeCell::new(KEVENT::zeroed()),
            oid_event: UnsafeCell::new(KEVENT::zeroed()),
            oid_status: AtomicI32::new(0),
            // SAFETY: all-zero is a valid (empty) NDIS_OID_REQUEST: integers
            // and null pointers.
            oid: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            filter: UnsafeCell::new(0),
            slot: SpinLock::new(None),
        };
        if frame_pool.is_null() || clone_pool.is_null() {
            return None; // Drop frees whichever pool exists.
        }
        let base = b.bufs.as_mut_ptr();
        for i in 0..SEND_CONTEXTS {
            // SAFETY: i * frame_capacity < bufs.len() (checked_mul above).
            let buf = unsafe { base.add(i * frame_capacity) };
            // SAFETY: PASSIVE; a nonpaged buffer of frame_capacity bytes.
            let mdl = unsafe {
                IoAllocateMdl(
                    buf.cast(),
                    frame_capacity as u32,
                    FALSE,
                    FALSE,
                    ptr::null_mut(),
                )
            };
            if mdl.is_null() {
                return None;
            }
            // SAFETY: an MDL over nonpaged pool.
            unsafe { MmBuildMdlForNonPagedPool(mdl) };
            // SAFETY: our pool; the MDL describes frame_capacity bytes.
            let nbl = unsafe {
                NdisAllocateNetBufferAndNetBufferList(frame_pool, 0, 0, mdl, 0, frame_capacity)
            };
            if nbl.is_null() {
                // SAFETY: our MDL, not attached to anything.
                unsafe { IoFreeMdl(mdl) };
                return None;
            }
            // SAFETY: our fresh NBL; ProtocolReserved belongs to its allocator.
            unsafe { (*nbl).ProtocolReserved[0] = i as *mut c_void };
            b.ctxs.push(SendCtx { nbl, mdl, buf });
            b.free.lock().push(i as u16);
        }
        let b = Arc::new(b);
        // SAFETY: events inside the Arc (never moved again), initialised
        // before any NDIS call can signal them.
        unsafe {
            KeInitializeEvent(b.open_event.get(), NOTIFICATION_EVENT, FALSE);
            KeInitializeEvent(b.close_event.get(), NOTIFICATION_EVENT, FALSE);
            KeInitializeEvent(b.oid_event.get(), NOTIFICATION_EVENT, FALSE);
        }
        Some(b)
    }

    /// The NdisBindingHandle (null before the open completed).
    ///
    /// IRQL: any.
    pub fn handle(&self) -> NDIS_HANDLE {
        self.handle.load(Ordering::Acquire)
    }

    /// IRQL: PASSIVE_LEVEL (bind).
    pub fn set_handle(&self, h: NDIS_HANDLE) {
        self.handle.store(h, Ordering::Release);
    }

    /// IRQL: any.
    pub fn state(&self) -> u32 {
        self.state.load(Ordering::SeqCst)
    }

    /// IRQL: any.
    pub fn set_state(&self, s: u32) {
        self.state.store(s, Ordering::SeqCst);
    }

    /// Whether the NIC reports its link up.
    ///
    /// IRQL: any.
    pub fn link_up(&self) -> bool {
        self.link_up.load(Ordering::Relaxed)
    }

    /// The NIC's link speed (bits/s).
    ///
    /// IRQL: any.
    pub fn link_speed(&self) -> u64 {
        self.speed.load(Ordering::Relaxed)
    }

    /// Records an NDIS_STATUS_LINK_STATE of the NIC.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_link(&self, up: bool, speed: u64) {
        self.link_up.store(up, Ordering::Relaxed);
        self.speed.store(speed, Ordering::Relaxed);
    }

    /// The paired adapter link.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn partner(&self) -> Option<Arc<AdapterLink>> {
        self.partner.lock().clone()
    }

    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_partner(&self, p: Option<Arc<AdapterLink>>) {
        let old = core::mem::replace(&mut *self.partner.lock(), p);
        // The old partner is dropped outside the lock; it is never the last
        // reference (its adapter holds one until halt, at PASSIVE).
        drop(old);
    }

    /// Counts one outstanding NBL and checks the binding can send:
    /// `WouldBlock` while opening or paused, `Closed` when closing (the
    /// count is taken back on refusal).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn enter_send(&self) -> Result<(), SendError> {
        self.outstanding.fetch_add(1, Ordering::SeqCst);
        match self.state() {
            RUNNING => Ok(()),
            s => {
                self.outstanding.fetch_sub(1, Ordering::SeqCst);
                Err(if s == CLOSING {
                    SendError::Closed
                } else {
                    SendError::WouldBlock
                })
            }
        }
    }

    /// Drops one outstanding count.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn leave(&self) {
        self.outstanding.fetch_sub(1, Ordering::SeqCst);
    }

    /// Takes a free send context.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn pop_ctx(&self) -> Option<&SendCtx> {
        let i = self.free.lock().pop()?;
        self.ctxs.get(usize::from(i))
    }

    /// Gives a send context back (from its NBL, at send completion).
    ///
    /// # Safety
    /// `nbl` is one of this binding's frame NBLs (from `frame_pool`), its
    /// send completed.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub unsafe fn push_ctx(&self, nbl: *mut NET_BUFFER_LIST) {
        // SAFETY: one of our frame NBLs (the caller checked the pool);
        // ProtocolReserved[0] holds its index since `new`.
        let i = unsafe { (*nbl).ProtocolReserved[0] } as usize;
        if i < self.ctxs.len() {
            // Never reallocates: capacity SEND_CONTEXTS, at most that many.
            self.free.lock().push(i as u16);
        }
    }
}

impl Drop for Binding {
    /// IRQL: <= DISPATCH_LEVEL. Usually the unbind's reference is the last,
    /// at PASSIVE, but a send or receive path that cloned the `Arc`
    /// (`AdapterLink::binding`, a receive clone's reference) may drop it
    /// last at DISPATCH; every callee here is documented for <= DISPATCH
    /// (NdisFreeNetBufferList, IoFreeMdl, NdisFreeNetBufferListPool,
    /// ExFreePoolWithTag).
    fn drop(&mut self) {
        for c in &self.ctxs {
            // SAFETY: every send completed (unbind drained `outstanding`);
            // the NBL and MDL are ours, freed once.
            unsafe {
                NdisFreeNetBufferList(c.nbl);
                IoFreeMdl(c.mdl);
            }
        }
        for p in [self.frame_pool, self.clone_pool] {
            if !p.is_null() {
                // SAFETY: our pool; every NBL from it was freed above or
                // (clones) at send completion.
                unsafe { NdisFreeNetBufferListPool(p) };
            }
        }
    }
}
