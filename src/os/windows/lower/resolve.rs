//! Next-hop resolution for the frame carrier of one adapter: a bounded ring
//! of destinations (coalesced: a destination already queued is not queued
//! twice; a full ring drops the request and counts it, the carrier asks
//! again on its next send) and one NDIS I/O work item, both allocated at
//! adapter initialisation, so `request` neither allocates nor blocks at
//! DISPATCH. The work item (PASSIVE) runs netio `GetBestRoute2` on the
//! softroce interface's NET_LUID (the interface that owns the IP address),
//! takes the route's next hop (the destination itself when on-link), runs
//! `ResolveIpNetEntry2` on it (which sends ARP/ND and waits for the answer)
//! and answers the adapter's carrier with `neighbour_resolved` or
//! `neighbour_failed`.
//!
//! Owns: the ring and the work item. Must not touch the carrier's cache.

use core::ffi::c_void;
use core::net::IpAddr;
use core::ptr;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::abi::NDIS_HANDLE;

use super::super::imports::{
    GetBestRoute2, NdisAllocateIoWorkItem, NdisFreeIoWorkItem, NdisQueueIoWorkItem,
    ResolveIpNetEntry2,
};
use super::super::netio::{MIB_IPFORWARD_ROW2, MIB_IPNET_ROW2, SOCKADDR_INET};
use super::super::spin::SpinLock;
use super::link::{sleep_ms, AdapterLink};

/// Destinations waiting for resolution, at most.
pub const RING: usize = 32;

/// See the module documentation.
#[allow(missing_debug_implementations)]
pub struct Resolver {
    work_item: NDIS_HANDLE,
    ring: SpinLock<[Option<IpAddr>; RING]>,
    /// Queued or draining (cleared by the routine before its last check).
    busy: AtomicBool,
    /// The routine is executing; its very last store clears it, so a
    /// waiter that sees `busy` and then `running` clear knows the routine
    /// touches the link no more.
    running: AtomicBool,
    /// Requests dropped because the ring was full.
    pub dropped: AtomicU64,
}

// SAFETY: the work item handle is NDIS's, usable from any processor.
unsafe impl Send for Resolver {}
// SAFETY: as above; the rest is atomics and a spin lock.
unsafe impl Sync for Resolver {}

impl Resolver {
    /// A resolver with its work item (allocated with the miniport handle).
    ///
    /// # Safety
    /// `miniport` is the handle of an adapter being initialised, which
    /// outlives the resolver.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub unsafe fn new(miniport: NDIS_HANDLE) -> Option<Resolver> {
        // SAFETY: the caller's contract.
        let work_item = unsafe { NdisAllocateIoWorkItem(miniport) };
        if work_item.is_null() {
            return None;
        }
        Some(Resolver {
            work_item,
            ring: SpinLock::new([None; RING]),
            busy: AtomicBool::new(false),
            running: AtomicBool::new(false),
            dropped: AtomicU64::new(0),
        })
    }

    /// Queues `dst` for resolution on `link`'s interface.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn request(&self, link: &AdapterLink, dst: IpAddr) {
        {
            let mut ring = self.ring.lock();
            if ring.iter().flatten().any(|x| *x == dst) {
                return;
            }
            match ring.iter_mut().find(|x| x.is_none()) {
                Some(free) => *free = Some(dst),
                None => {
                    self.dropped.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        }
        if !self.busy.swap(true, Ordering::SeqCst) {
            // SAFETY: not queued (busy was false); the link outlives the
            // routine (its drop waits in `wait_idle`).
            unsafe {
                NdisQueueIoWorkItem(
                    self.work_item,
                    resolve_work,
                    (link as *const AdapterLink).cast_mut().cast(),
                )
            };
        }
    }

    /// The next queued destination.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn pop(&self) -> Option<IpAddr> {
        self.ring.lock().iter_mut().find_map(Option::take)
    }

    /// Waits until the work item is neither queued nor running, then frees
    /// it.
    ///
    /// IRQL: PASSIVE_LEVEL (the link's drop).
    pub fn wait_idle(&self) {
        // `busy` first: once it is clear, a routine that was draining has
        // set `running` before clearing it (no new request can come: the
        // carrier is closed before the adapter halts).
        while self.busy.load(Ordering::SeqCst) || self.running.load(Ordering::SeqCst) {
            sleep_ms(1);
        }
        // SAFETY: not queued and not running; freed once (drop).
        unsafe { NdisFreeIoWorkItem(self.work_item) };
    }
}

/// GetBestRoute2 + ResolveIpNetEntry2 for `dst` on interface `luid`: the
/// next hop's MAC.
///
/// IRQL: PASSIVE_LEVEL.
fn resolve(luid: u64, dst: IpAddr) -> Option<[u8; 6]> {
    let target = SOCKADDR_INET::from_ip(dst);
    let mut route = MIB_IPFORWARD_ROW2::zeroed();
    let mut source = SOCKADDR_INET::zeroed();
    // SAFETY: PASSIVE; every pointer is a live local for the call.
    let status =
        unsafe { GetBestRoute2(&luid, 0, ptr::null(), &target, 0, &mut route, &mut source) };
    if status < 0 {
        return None;
    }
    let next_hop = route
        .NextHop
        .ip()
        .filter(|ip| !ip.is_unspecified())
        .unwrap_or(dst);
    let mut row = MIB_IPNET_ROW2::zeroed();
    row.Address = SOCKADDR_INET::from_ip(next_hop);
    row.InterfaceLuid = route.InterfaceLuid;
    // SAFETY: PASSIVE; a live row with Address and InterfaceLuid set.
    let status = unsafe { ResolveIpNetEntry2(&mut row, ptr::null()) };
    if status < 0 {
        return None;
    }
    row.mac()
}

/// The work item routine.
///
/// IRQL: PASSIVE_LEVEL.
unsafe extern "system" fn resolve_work(ctx: *mut c_void, _item: NDIS_HANDLE) {
    // SAFETY: the link queued us; its drop waits for `busy` to clear.
    let link = unsafe { &*ctx.cast::<AdapterLink>() };
    let r = &link.resolver;
    r.running.store(true, Ordering::SeqCst);
    loop {
        while let Some(dst) = r.pop() {
            let mac = resolve(link.net_luid, dst);
            if let Some(c) = link.carrier() {
                match mac {
                    Some(m) => c.neighbour_resolved(dst, m),
                    None => c.neighbour_failed(dst),
                }
            }
        }
        r.busy.store(false, Ordering::SeqCst);
        // A request may have slipped in after the last pop: run again if it
        // did not queue the item itself.
        let pending = r.ring.lock().iter().any(Option::is_some);
        if !pending || r.busy.swap(true, Ordering::SeqCst) {
            break;
        }
    }
    // Last touch of the link.
    r.running.store(false, Ordering::SeqCst);
}
