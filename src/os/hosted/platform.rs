//! The two hosted [`Platform`]s: [`HostedPlatform`] (a DPC worker thread, the
//! wall clock, OS randomness, the UDP carrier) and [`VirtualPlatform`] (work
//! runs on the test's thread when it calls `advance`/`run_pending`/
//! `run_until_idle`, time is virtual, randomness is seeded). Either can route
//! its carriers through a [`SimNet`] instead of sockets, or through the
//! Ethernet frame link ([`FrameLink`]) on a named interface.

use std::net::SocketAddr;
use std::ptr::NonNull;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::engine::Engine;
use super::packet::FrameLink;
use super::random::{os_fill, SeededRng};
use super::simnet::SimNet;
use super::udp::{RawReceive, UdpCarrier};
use crate::abi::{MDL, MDL_MAPPED_TO_SYSTEM_VA, MDL_SOURCE_IS_NONPAGED_POOL};
use crate::os::{
    irql, Carrier, CarrierError, DatagramSink, DeferredRoutine, Dpc, Instant, OsError, Platform,
    PoolBooks, Timer,
};

/// The hosted MDL mapping: a hosted MDL describes a buffer of this process
/// the way a non-paged-pool MDL does, so `MappedSystemVa` is its address.
///
/// # Safety
/// `mdl` points to a readable MDL header.
unsafe fn map_hosted_mdl(mdl: NonNull<MDL>) -> Result<NonNull<u8>, OsError> {
    irql::assert_at_most(crate::os::Irql::Dispatch, "Platform::map_mdl");
    // SAFETY: readable by the caller's contract.
    let (flags, va) = unsafe {
        let m = mdl.as_ptr();
        ((*m).MdlFlags, (*m).MappedSystemVa)
    };
    if flags & (MDL_SOURCE_IS_NONPAGED_POOL | MDL_MAPPED_TO_SYSTEM_VA) == 0 {
        return Err(OsError::InsufficientResources);
    }
    NonNull::new(va.cast::<u8>()).ok_or(OsError::InsufficientResources)
}

/// Where a platform's `fill_random` draws from.
enum Randomness {
    /// The OS generator (the real-time platform).
    Os,
    /// A seeded stream (the virtual-clock platform), reproducible from its seed.
    Seeded(SeededRng),
}

/// Shared by both platforms.
struct Common {
    engine: Arc<Engine>,
    random: Randomness,
    pool: PoolBooks,
    net: Mutex<Option<SimNet>>,
    raw: Mutex<RawReceive>,
    link: Mutex<Option<String>>,
}

impl Common {
    fn new(engine: Arc<Engine>, random: Randomness) -> Self {
        Common {
            engine,
            random,
            pool: PoolBooks::new(),
            net: Mutex::new(None),
            raw: Mutex::new(RawReceive::Auto),
            link: Mutex::new(None),
        }
    }

    fn fill_random(&self, buf: &mut [u8]) {
        match &self.random {
            Randomness::Os => os_fill(buf),
            Randomness::Seeded(rng) => rng.fill(buf),
        }
    }

    fn open_carrier(
        &self,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Box<dyn Carrier>, CarrierError> {
        irql::assert_passive("Platform::open_carrier");
        let net = self.net.lock().unwrap_or_else(|p| p.into_inner()).clone();
        match net {
            Some(net) => Ok(Box::new(net.attach(local, sink)?)),
            None => {
                let link = self.link.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(ifname) = link {
                    return Ok(Box::new(FrameLink::open(
                        &self.engine,
                        &ifname,
                        local,
                        sink,
                    )?));
                }
                let raw = *self.raw.lock().unwrap_or_else(|p| p.into_inner());
                Ok(Box::new(UdpCarrier::open(&self.engine, local, sink, raw)?))
            }
        }
    }

    fn simnet(&self, seed: u64) -> SimNet {
        let net = SimNet::new(self.engine.clone(), seed);
        *self.net.lock().unwrap_or_else(|p| p.into_inner()) = Some(net.clone());
        net
    }
}

/// The inherent knobs, the [`Platform`] impl and `Drop` of a platform that
/// keeps its state in a `common: Common` field.
macro_rules! common_platform_impl {
    ($ty:ty) => {
        impl $ty {
            /// From now on `open_carrier` attaches to a new simulated network
            /// (seeded) instead of opening sockets; returns it for its knobs.
            pub fn use_simnet(&self, seed: u64) -> SimNet {
                self.common.simnet(seed)
            }

            /// From now on `open_carrier` opens the Ethernet frame link
            /// ([`FrameLink`]: the portable frame carrier over an `AF_PACKET`
            /// socket, ARP resolution, IPv4) on interface `ifname` instead of
            /// the UDP carrier; `None` goes back to UDP. A simulated network
            /// ([`Self::use_simnet`]) still takes precedence. The interface is
            /// looked up at each open. Needs CAP_NET_RAW.
            pub fn use_frame_link(&self, ifname: Option<&str>) {
                *self.common.link.lock().unwrap_or_else(|p| p.into_inner()) =
                    ifname.map(str::to_string);
            }

            /// Opens the Ethernet frame link on `ifname` for `local` now, as
            /// `open_carrier` does after [`Self::use_frame_link`], returning
            /// the concrete link (for its counters).
            ///
            /// IRQL: PASSIVE_LEVEL.
            pub fn open_frame_link(
                &self,
                ifname: &str,
                local: SocketAddr,
                sink: Arc<dyn DatagramSink>,
            ) -> Result<FrameLink, CarrierError> {
                irql::assert_passive("Platform::open_carrier");
                FrameLink::open(&self.common.engine, ifname, local, sink)
            }

            /// Whether UDP carriers may use a raw socket for IPv4 receive
            /// (default: yes, falling back when not permitted).
            pub fn set_raw_receive(&self, raw: RawReceive) {
                *self.common.raw.lock().unwrap_or_else(|p| p.into_inner()) = raw;
            }
        }

        impl Platform for $ty {
            fn now(&self) -> Instant {
                self.common.engine.now()
            }
            fn fill_random(&self, buf: &mut [u8]) {
                self.common.fill_random(buf);
            }
            fn pool(&self) -> &PoolBooks {
                &self.common.pool
            }
            fn new_dpc(&self, routine: Arc<dyn DeferredRoutine>) -> Result<Box<dyn Dpc>, OsError> {
                Ok(self.common.engine.new_dpc(routine))
            }
            fn new_timer(
                &self,
                routine: Arc<dyn DeferredRoutine>,
            ) -> Result<Box<dyn Timer>, OsError> {
                Ok(self.common.engine.new_timer(routine))
            }
            fn open_carrier(
                &self,
                local: SocketAddr,
                sink: Arc<dyn DatagramSink>,
            ) -> Result<Box<dyn Carrier>, CarrierError> {
                self.common.open_carrier(local, sink)
            }
            fn flush_deferred(&self) {
                irql::assert_passive("Platform::flush_deferred");
                self.common.engine.flush();
            }
            unsafe fn map_mdl(&self, mdl: NonNull<MDL>) -> Result<NonNull<u8>, OsError> {
                // SAFETY: forwarded contract.
                unsafe { map_hosted_mdl(mdl) }
            }
        }

        impl Drop for $ty {
            fn drop(&mut self) {
                self.common.engine.shutdown();
            }
        }
    };
}

/// The real-time hosted platform.
pub struct HostedPlatform {
    common: Common,
}

impl std::fmt::Debug for HostedPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HostedPlatform").finish_non_exhaustive()
    }
}

impl HostedPlatform {
    /// A platform with its own DPC worker thread named `<name>-dpc`.
    pub fn new(name: &str) -> Arc<HostedPlatform> {
        Arc::new(HostedPlatform {
            common: Common::new(Engine::real(name), Randomness::Os),
        })
    }
}

common_platform_impl!(HostedPlatform);

/// The deterministic virtual-clock platform for tests.
pub struct VirtualPlatform {
    common: Common,
}

impl std::fmt::Debug for VirtualPlatform {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VirtualPlatform")
            .field("now", &self.now())
            .finish_non_exhaustive()
    }
}

impl VirtualPlatform {
    /// A virtual-clock platform; `seed` drives `fill_random`. Time starts at
    /// [`super::VIRTUAL_EPOCH`].
    pub fn new(seed: u64) -> Arc<VirtualPlatform> {
        Arc::new(VirtualPlatform {
            common: Common::new(
                Engine::virtual_clock(),
                Randomness::Seeded(SeededRng::new(seed)),
            ),
        })
    }

    /// Runs queued DPCs, deliveries and timers due now, on this thread at
    /// DISPATCH_LEVEL, without moving time. Returns how many ran.
    pub fn run_pending(&self) -> usize {
        self.common.engine.run_pending()
    }

    /// Moves time forward by `d`, running everything that falls due on the
    /// way, each at its own deadline. Returns how many ran.
    pub fn advance(&self, d: Duration) -> usize {
        self.common.engine.advance(d)
    }

    /// Runs until nothing is queued or armed, jumping time to each deadline.
    /// Panics after a million items (something re-arms forever).
    pub fn run_until_idle(&self) -> usize {
        self.common.engine.run_until_idle(1_000_000)
    }
}

common_platform_impl!(VirtualPlatform);
