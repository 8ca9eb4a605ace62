//! The kernel `os::Platform`: the interrupt-time clock, DPCs and timers over
//! KDPC/KTIMER (`deferred`), randomness (`entropy`), the pool books, the WSK
//! datagram carrier (`wsk`), `flush_deferred` (KeFlushQueuedDpcs) and MDL
//! mapping (`mdl`); in paired mode (`LowerMacAddress`) `open_carrier` makes
//! the frame carrier on the paired lower binding instead of a WSK socket.
//! One instance per miniport adapter, held as
//! `Arc<WindowsPlatform>`; its last reference is dropped at PASSIVE_LEVEL
//! (MiniportHaltEx, after every NDK adapter is closed).
//!
//! Owns: the trait implementation and the adapter's WSK registration. Must
//! not hold protocol logic.

use alloc::boxed::Box;
use alloc::sync::Arc;
use core::mem::size_of;
use core::net::SocketAddr;
use core::ptr::NonNull;

use crate::os::{
    irql, Carrier, CarrierError, DatagramSink, DeferredRoutine, Dpc, Instant, OsError, Platform,
    PoolBooks, PoolTag, Timer,
};

use super::clock::instant_from_interrupt_time;
use super::deferred::{Graveyard, KernelDpc, KernelTimer};
use super::entropy::Entropy;
use super::ffi::STATUS_INSUFFICIENT_RESOURCES;
use super::imports::KeFlushQueuedDpcs;
use super::lower::link::AdapterLink;
use super::lower::port::{LinkCarrier, LowerPort};
use super::mdl;
use super::nt::{MdlHeader, KI_USER_SHARED_DATA, KUSER_INTERRUPT_TIME_OFFSET};
use super::spin::SpinLock;
use super::wsk::{WskCarrier, WskClient};
use crate::link::{FrameCarrier, FrameConfig, Resolver};

/// Pool-book tags of the platform's objects (the allocations themselves
/// all carry the driver tag 'RoCE', see `alloc.rs`).
pub const TAG_DPC: PoolTag = PoolTag::new(*b"RoDp");
pub const TAG_TIMER: PoolTag = PoolTag::new(*b"RoTm");
pub const TAG_CARRIER: PoolTag = PoolTag::new(*b"RoWk");

/// Neighbour cache entries of a frame carrier on a lower binding.
pub const LOWER_NEIGHBOURS: usize = 256;

/// The interrupt time now, as the platform clock. x64 wdm.h implements
/// `KeQueryInterruptTime` as a 64-bit read of KUSER_SHARED_DATA.InterruptTime
/// (0xFFFFF78000000008), not an import; this is that read.
///
/// IRQL: any.
#[inline]
pub fn interrupt_time_now() -> Instant {
    let p = (KI_USER_SHARED_DATA + KUSER_INTERRUPT_TIME_OFFSET) as *const u64;
    // SAFETY: KUSER_SHARED_DATA is mapped read-only at this fixed kernel
    // address on every x64 Windows; an aligned 64-bit load is atomic, which
    // is how the WDK macro reads it.
    let units = unsafe { core::ptr::read_volatile(p) };
    instant_from_interrupt_time(units)
}

/// The kernel platform of one adapter.
pub struct WindowsPlatform {
    books: Arc<PoolBooks>,
    graveyard: Arc<Graveyard>,
    entropy: Entropy,
    wsk: SpinLock<Option<Arc<WskClient>>>,
    /// Paired mode: the adapter's lower-edge link (`open_carrier` makes a
    /// frame carrier on the paired binding).
    link: Option<Arc<AdapterLink>>,
}

impl core::fmt::Debug for WindowsPlatform {
    /// IRQL: any.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WindowsPlatform")
            .field("entropy", &self.entropy)
            .finish()
    }
}

impl WindowsPlatform {
    /// A new platform (seeds the entropy source).
    ///
    /// IRQL: PASSIVE_LEVEL (MiniportInitializeEx).
    pub fn new() -> Self {
        Self::with_link(None)
    }

    /// A new platform of an adapter in paired mode (`link`) or WSK mode
    /// (`None`).
    ///
    /// IRQL: PASSIVE_LEVEL (MiniportInitializeEx).
    pub fn with_link(link: Option<Arc<AdapterLink>>) -> Self {
        WindowsPlatform {
            books: Arc::new(PoolBooks::new()),
            graveyard: Arc::new(Graveyard::new()),
            entropy: Entropy::new(),
            wsk: SpinLock::new(None),
            link,
        }
    }

    /// The frame carrier on the paired binding, when the adapter is paired:
    /// `Ok(None)` when it is not (the caller falls back to WSK).
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn frame_carrier(
        &self,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Option<Box<dyn Carrier>>, CarrierError> {
        let Some(link) = &self.link else {
            return Ok(None);
        };
        if local.ip().is_loopback() {
            // Loopback never leaves through the NIC (the in-kernel self-test
            // uses [::1] over WSK).
            return Ok(None);
        }
        let Some(binding) = link.binding() else {
            return Ok(None);
        };
        let config = FrameConfig {
            local,
            mac: binding.mac,
            ip_mtu: binding.mtu as usize,
            vlan: None,
            traffic_class: 0,
            hop_limit: 64,
            resolver: Resolver::Os,
            neighbours: LOWER_NEIGHBOURS,
            pending: crate::link::DEFAULT_PENDING,
        };
        let port = LowerPort { link: link.clone() };
        let carrier = FrameCarrier::new(config, port, sink)
            .map(Arc::new)
            .map_err(|_| CarrierError::Os(STATUS_INSUFFICIENT_RESOURCES))?;
        if !link.install_carrier(carrier.clone()) {
            // One carrier per adapter (UDP port 4791 on its address).
            return Err(CarrierError::AddressInUse);
        }
        Ok(Some(Box::new(LinkCarrier {
            carrier,
            link: link.clone(),
        })))
    }

    /// Whether the random seed came from RDSEED/RDRAND only.
    ///
    /// IRQL: any.
    pub fn entropy_strong(&self) -> bool {
        self.entropy.strong()
    }

    /// The WSK registration, made on first use.
    ///
    /// IRQL: PASSIVE_LEVEL.
    fn wsk_client(&self) -> Result<Arc<WskClient>, CarrierError> {
        if let Some(c) = self.wsk.lock().as_ref() {
            return Ok(c.clone());
        }
        // Registration waits (PASSIVE), so it is made without the lock; a
        // racing opener's extra registration is dropped below.
        let fresh = WskClient::open().map_err(CarrierError::Os)?;
        let mut slot = self.wsk.lock();
        let c = slot.get_or_insert(fresh.clone()).clone();
        drop(slot);
        Ok(c)
    }

    /// IRQL: PASSIVE_LEVEL.
    fn flush(&self) {
        let list = self.graveyard.take();
        // SAFETY: PASSIVE_LEVEL (callers assert it); no arguments.
        unsafe { KeFlushQueuedDpcs() };
        // SAFETY: every block in `list` was buried before the flush, with its
        // timer cancelled and its DPC dequeued, and the flush waited for any
        // run already started: none can run again.
        unsafe { Graveyard::free(list) };
    }
}

impl Default for WindowsPlatform {
    /// IRQL: PASSIVE_LEVEL.
    fn default() -> Self {
        Self::new()
    }
}

/// A DPC that keeps its pool-book entry.
struct BookedDpc {
    dpc: KernelDpc,
    books: Arc<PoolBooks>,
}

impl Dpc for BookedDpc {
    /// IRQL: <= DISPATCH_LEVEL.
    fn queue(&self) -> bool {
        self.dpc.queue()
    }
}

impl Drop for BookedDpc {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        self.books.release(TAG_DPC, size_of::<KernelDpc>());
    }
}

/// A timer that keeps its pool-book entry.
struct BookedTimer {
    timer: KernelTimer,
    books: Arc<PoolBooks>,
}

impl Timer for BookedTimer {
    /// IRQL: <= DISPATCH_LEVEL.
    fn set(&self, deadline: Instant) -> bool {
        self.timer.set(deadline)
    }
    /// IRQL: <= DISPATCH_LEVEL.
    fn cancel(&self) -> bool {
        self.timer.cancel()
    }
}

impl Drop for BookedTimer {
    /// IRQL: <= DISPATCH_LEVEL.
    fn drop(&mut self) {
        self.books.release(TAG_TIMER, size_of::<KernelTimer>());
    }
}

impl Platform for WindowsPlatform {
    /// IRQL: any.
    fn now(&self) -> Instant {
        interrupt_time_now()
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn fill_random(&self, buf: &mut [u8]) {
        irql::assert_at_most(crate::os::Irql::Dispatch, "Platform::fill_random");
        self.entropy.fill(buf);
    }

    /// IRQL: any.
    fn pool(&self) -> &PoolBooks {
        &self.books
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn new_dpc(&self, routine: Arc<dyn DeferredRoutine>) -> Result<Box<dyn Dpc>, OsError> {
        irql::assert_at_most(crate::os::Irql::Dispatch, "Platform::new_dpc");
        self.books
            .charge(TAG_DPC, size_of::<KernelDpc>())
            .map_err(|_| OsError::InsufficientResources)?;
        Ok(Box::new(BookedDpc {
            dpc: KernelDpc::new(routine, self.graveyard.clone()),
            books: self.books.clone(),
        }))
    }

    /// IRQL: <= DISPATCH_LEVEL.
    fn new_timer(&self, routine: Arc<dyn DeferredRoutine>) -> Result<Box<dyn Timer>, OsError> {
        irql::assert_at_most(crate::os::Irql::Dispatch, "Platform::new_timer");
        self.books
            .charge(TAG_TIMER, size_of::<KernelTimer>())
            .map_err(|_| OsError::InsufficientResources)?;
        Ok(Box::new(BookedTimer {
            timer: KernelTimer::new(routine, self.graveyard.clone()),
            books: self.books.clone(),
        }))
    }

    /// IRQL: PASSIVE_LEVEL.
    fn open_carrier(
        &self,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Box<dyn Carrier>, CarrierError> {
        irql::assert_passive("Platform::open_carrier");
        if let Some(c) = self.frame_carrier(local, sink.clone())? {
            return Ok(c);
        }
        let client = self.wsk_client()?;
        // The carrier charges TAG_CARRIER (and its buffers) itself and
        // releases them when dropped.
        let carrier = WskCarrier::open(client, local, sink, self.books.clone())?;
        Ok(Box::new(carrier))
    }

    /// IRQL: PASSIVE_LEVEL.
    fn flush_deferred(&self) {
        irql::assert_passive("Platform::flush_deferred");
        self.flush();
    }

    /// `MmGetSystemAddressForMdlSafe(mdl, NormalPagePriority |
    /// MdlMappingNoExecute)` (`mdl::system_address`).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    unsafe fn map_mdl(&self, mdl: NonNull<MdlHeader>) -> Result<NonNull<u8>, OsError> {
        irql::assert_at_most(crate::os::Irql::Dispatch, "Platform::map_mdl");
        // SAFETY: forwarded contract (a readable MDL whose pages are locked).
        unsafe { mdl::system_address(mdl) }
    }
}

impl Drop for WindowsPlatform {
    /// IRQL: PASSIVE_LEVEL (the adapter's halt drops the last reference).
    fn drop(&mut self) {
        irql::assert_passive("WindowsPlatform::drop");
        self.flush();
    }
}
