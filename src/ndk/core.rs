//! The state one adapter instance shares with every object created from it:
//! the platform (clock, DPCs, pool books, MDL mapping), the memory table
//! (MRs, MWs, privileged tokens), the LAM table, the token CSPRNG, the count
//! of live descendants (adapter close waits for them), the network runtime
//! (`net.rs`) and the test knob that makes completions deferred. Everything
//! here is the instance's own except the network runtime, which every
//! instance opened on one [`super::network::Network`] shares (QPNs,
//! listeners, connections, counters; `network.rs`). Owns that state; the
//! objects live in their own files. Must not call the consumer.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use crate::abi::{NtStatus, NDK_VERSION, STATUS_INSUFFICIENT_RESOURCES};
use crate::os::{NdkCounters, Platform, PoolTag, SpinLock};
use crate::verbs::lam::{Lam, LamTable, Mapping};
use crate::verbs::memory::{MemoryTable, Region};
use crate::verbs::token::{TableFull, TokenRng};

use super::net::Net;

/// Regions (registered + fast + one privileged token per PD) per adapter.
pub const MAX_REGIONS: u32 = 1024;
/// Memory windows per adapter.
pub const MAX_WINDOWS: u32 = 1024;
/// Live LAMs per adapter.
pub const MAX_LAMS: u32 = 1024;

/// Pool tags, one per kind of allocation (`!poolused` names).
pub mod tags {
    use crate::os::PoolTag;
    pub const ADAPTER: PoolTag = PoolTag::new(*b"SRad");
    pub const EVENTS: PoolTag = PoolTag::new(*b"SRev");
    pub const PD: PoolTag = PoolTag::new(*b"SRpd");
    pub const CQ: PoolTag = PoolTag::new(*b"SRcq");
    pub const QP: PoolTag = PoolTag::new(*b"SRqp");
    pub const SRQ: PoolTag = PoolTag::new(*b"SRsr");
    pub const MR: PoolTag = PoolTag::new(*b"SRmr");
    pub const MW: PoolTag = PoolTag::new(*b"SRmw");
    pub const LISTENER: PoolTag = PoolTag::new(*b"SRli");
    pub const CONNECTOR: PoolTag = PoolTag::new(*b"SRco");
    pub const SHARED_ENDPOINT: PoolTag = PoolTag::new(*b"SRse");
    pub const FRMR_PAGES: PoolTag = PoolTag::new(*b"SRfp");
    pub const NET: PoolTag = PoolTag::new(*b"SRnt");
}

/// What backs a region in the memory table.
#[derive(Debug)]
pub enum Backing {
    /// A privileged token: no bytes of its own.
    None,
    /// NdkRegisterMr: the MDL chain's bytes as the OS mapped them.
    Mapped(Mapping),
    /// A fast-register MR: room for `capacity` logical page addresses, filled
    /// by NdkFastRegister (the data path).
    Fast { pages: Vec<i64>, capacity: u32 },
}

/// The shared state of one adapter instance.
pub struct AdapterCore {
    pub(crate) platform: Arc<dyn Platform>,
    pub(crate) version: NDK_VERSION,
    pub(crate) address: IpAddr,
    pub(crate) memory: SpinLock<MemoryTable<Backing>>,
    pub(crate) lams: SpinLock<LamTable>,
    pub(crate) rng: SpinLock<TokenRng>,
    live: AtomicUsize,
    next_pd: AtomicU32,
    deferred: AtomicBool,
    /// The network runtime: CM engine, carrier, timer, object tables
    /// (shared with the other instances on the same `ndk::Network`).
    pub(crate) net: Arc<Net>,
}

impl core::fmt::Debug for AdapterCore {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AdapterCore")
            .field("address", &self.address)
            .field("live", &self.live())
            .finish_non_exhaustive()
    }
}

/// Bytes the adapter's tables take (charged under `SRad` at open).
pub fn core_bytes() -> usize {
    core::mem::size_of::<AdapterCore>()
        + (MAX_REGIONS as usize) * 128
        + (MAX_WINDOWS as usize) * 64
        + (MAX_LAMS as usize) * 160
}

impl AdapterCore {
    /// The state of a new adapter with counters of its own. Seeds the token
    /// CSPRNG from the platform.
    ///
    /// IRQL: PASSIVE_LEVEL (adapter open).
    pub fn new(platform: Arc<dyn Platform>, address: IpAddr, version: NDK_VERSION) -> Self {
        Self::with_counters(platform, address, version, Arc::new(NdkCounters::new()))
    }

    /// The state of a new adapter that feeds `counters` (the Windows
    /// miniport hands every NDK instance of one miniport adapter the same
    /// counters, `docs/WINDOWS.md` section 8).
    ///
    /// IRQL: PASSIVE_LEVEL (adapter open).
    pub fn with_counters(
        platform: Arc<dyn Platform>,
        address: IpAddr,
        version: NDK_VERSION,
        counters: Arc<NdkCounters>,
    ) -> Self {
        let net = Arc::new(Net::new(platform.clone(), address, counters));
        Self::on_net(platform, version, net)
    }

    /// The state of a new instance on an existing runtime (a shared
    /// [`super::network::Network`]): bound to its address, feeding its
    /// counters; memory table, LAMs and tokens of its own.
    ///
    /// IRQL: PASSIVE_LEVEL (adapter open).
    pub(crate) fn on_net(platform: Arc<dyn Platform>, version: NDK_VERSION, net: Arc<Net>) -> Self {
        let mut seed = [0u8; 32];
        platform.fill_random(&mut seed);
        Self {
            version,
            address: net.address(),
            memory: SpinLock::new(MemoryTable::new(MAX_REGIONS, MAX_WINDOWS)),
            lams: SpinLock::new(LamTable::new(MAX_LAMS)),
            rng: SpinLock::new(TokenRng::from_seed(seed)),
            live: AtomicUsize::new(0),
            next_pd: AtomicU32::new(1),
            deferred: AtomicBool::new(false),
            net,
            platform,
        }
    }

    /// The NDK performance counters this adapter feeds (OID_NDK_STATISTICS;
    /// what moves each one is in `net/stats.rs`).
    ///
    /// IRQL: any.
    pub fn counters(&self) -> &Arc<NdkCounters> {
        self.net.counters()
    }

    /// Calls `f(local, remote)` for every connection being set up or
    /// established on this adapter's network, whichever instance owns it
    /// (OID_NDK_CONNECTIONS: the instances of one network share it, so
    /// visit it once per network, not once per instance). Runs under the
    /// runtime's lock: `f` must not call into the provider; nothing is
    /// allocated.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn for_each_connection(&self, f: impl FnMut(SocketAddr, SocketAddr)) {
        self.net.for_each_connection(f);
    }

    /// Calls `f(address, is_listener)` for every listening listener and
    /// open shared endpoint of this adapter's network (OID_NDK_LOCAL_ENDPOINTS,
    /// once per network as above). Same
    /// rules as [`AdapterCore::for_each_connection`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn for_each_local_endpoint(&self, f: impl FnMut(SocketAddr, bool)) {
        self.net.for_each_local_endpoint(f);
    }

    /// Whether `self` and `other` are instances on one network (they share
    /// its connections, listeners and QPNs).
    ///
    /// IRQL: any.
    pub fn same_network(&self, other: &AdapterCore) -> bool {
        Arc::ptr_eq(&self.net, &other.net)
    }

    /// The instance's identity in the shared runtime's tables (which
    /// instance owns a QP, a connector, a listener). Unique while the state
    /// lives, and every table entry's object keeps it alive.
    ///
    /// IRQL: any.
    pub(crate) fn id(&self) -> usize {
        core::ptr::from_ref(self) as usize
    }

    /// Live objects created from this adapter (all descendants).
    ///
    /// IRQL: any.
    pub fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    pub(crate) fn object_created(&self) {
        self.live.fetch_add(1, Ordering::AcqRel);
    }

    pub(crate) fn object_freed(&self) {
        self.live.fetch_sub(1, Ordering::AcqRel);
    }

    /// A new protection domain id (never 0).
    pub(crate) fn next_pd_id(&self) -> u32 {
        loop {
            let id = self.next_pd.fetch_add(1, Ordering::Relaxed);
            if id != 0 {
                return id;
            }
        }
    }

    /// Whether entries with a completion callback answer STATUS_PENDING and
    /// complete from a DPC (a test knob; default: inline).
    ///
    /// IRQL: any.
    pub fn deferred(&self) -> bool {
        self.deferred.load(Ordering::Acquire)
    }

    /// Sets the completion mode (see [`AdapterCore::deferred`]).
    ///
    /// IRQL: any.
    pub fn set_deferred(&self, on: bool) {
        self.deferred.store(on, Ordering::Release);
    }

    /// Charges `bytes` under `tag` in the pool books; a refusal (limit
    /// reached) is STATUS_INSUFFICIENT_RESOURCES.
    ///
    /// IRQL: any.
    pub(crate) fn charge(&self, tag: PoolTag, bytes: usize) -> Result<(), NtStatus> {
        self.platform
            .pool()
            .charge(tag, bytes)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)
    }

    /// Enters a region in the memory table (minting its tokens). The guards
    /// are released in reverse order of acquisition (the IRQL each restores
    /// depends on it).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn insert_region(&self, region: Region<Backing>) -> Result<u32, TableFull> {
        let mut rng = self.rng.lock();
        let mut memory = self.memory.lock();
        let token = memory.insert(&mut rng, region);
        drop(memory);
        drop(rng);
        token
    }

    /// Enters a LAM in the LAM table (minting its token); guards released
    /// in reverse order.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn insert_lam(&self, lam: Lam) -> Result<u32, TableFull> {
        let mut rng = self.rng.lock();
        let mut lams = self.lams.lock();
        let token = lams.insert(&mut rng, lam);
        drop(lams);
        drop(rng);
        token
    }

    /// Releases a charge made by [`AdapterCore::charge`].
    ///
    /// IRQL: any.
    pub(crate) fn release(&self, tag: PoolTag, bytes: usize) {
        let _ = self.platform.pool().release(tag, bytes);
    }
}
