//! The network of one adapter address, shareable by every NDK instance
//! opened on it: a handle ([`Network`]) over the runtime (`net.rs`: CM
//! engine, carrier on UDP 4791, CM timer, QP/QPN table, listener and
//! connector tables) and the NDK performance counters it feeds.
//!
//! NDIS opens one NDK adapter instance per consumer (SMB client, SMB
//! server, HLK tests ...) on one miniport adapter; like a real RDMA NIC,
//! they share one network: QPNs are unique per network, two instances
//! cannot listen on the same port (STATUS_SHARING_VIOLATION, as two
//! listeners of one instance), and an incoming REQ reaches whichever
//! instance listens on its port. What stays per instance is in `core.rs` (memory table, LAMs,
//! tokens, live-object count): a QP's data path resolves keys in its own
//! instance's memory table only.
//!
//! Lifetime (reference counted): [`Network::new`] opens the carrier and
//! makes the timer (PASSIVE); every clone is a user: each instance opened
//! with [`super::open_adapter_on`] holds one until [`super::close_adapter`],
//! and an owner (the Windows miniport's instance table, a test) may hold
//! more. When the last handle is dropped the network stops (carrier closed,
//! timer cancelled) and its pool charge (`SRnt`) is released, so the last
//! handle must be dropped at PASSIVE_LEVEL (every `ndk` path does: adapter
//! close; owners must too). [`WeakNetwork`] finds a live network without
//! keeping it up (the hosted registry, `os::hosted::entry`).
//!
//! Owns the handle and the network's lifetime; must not call the consumer.
#![deny(unsafe_code)]

use alloc::sync::{Arc, Weak};
use core::net::{IpAddr, SocketAddr};

use crate::abi::{NtStatus, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER};
use crate::os::{irql, NdkCounters, Platform};
use crate::transport::Mtu;

use super::core::tags;
use super::net::{net_bytes, Net, NetStats};
use super::open::adapter_address;

/// What the handles share; dropping it stops the network.
struct Shared {
    net: Arc<Net>,
    platform: Arc<dyn Platform>,
}

impl Drop for Shared {
    /// The last handle went away. IRQL: PASSIVE_LEVEL (see the module
    /// documentation).
    fn drop(&mut self) {
        self.net.stop();
        self.platform.pool().release(tags::NET, net_bytes());
    }
}

/// A handle to the network of one adapter address (see the module
/// documentation). Cloning adds a user.
#[derive(Clone)]
pub struct Network {
    shared: Arc<Shared>,
}

impl core::fmt::Debug for Network {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Network")
            .field("address", &self.address())
            .field("users", &self.users())
            .finish_non_exhaustive()
    }
}

/// A handle that does not keep the network up (see [`Network::downgrade`]).
#[derive(Clone, Default)]
pub struct WeakNetwork {
    shared: Weak<Shared>,
}

impl core::fmt::Debug for WeakNetwork {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("WeakNetwork").finish_non_exhaustive()
    }
}

impl WeakNetwork {
    /// The network, if some user still holds it.
    ///
    /// IRQL: any.
    pub fn upgrade(&self) -> Option<Network> {
        self.shared.upgrade().map(|shared| Network { shared })
    }
}

impl Network {
    /// The network of an adapter at `address` on `platform`, feeding
    /// `counters` (`None`: a set of its own), started: the carrier is open
    /// on `address:4791` (or, if it cannot open, the network runs without
    /// one: connects answer STATUS_NETWORK_UNREACHABLE, `docs/CM.md`) and
    /// the CM timer made. An unusable address -> STATUS_INVALID_ADDRESS
    /// ([`super::open::adapter_address`]); out of memory (or the pool
    /// books' limit) -> STATUS_INSUFFICIENT_RESOURCES.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn new(
        address: IpAddr,
        platform: Arc<dyn Platform>,
        counters: Option<Arc<NdkCounters>>,
    ) -> Result<Self, NtStatus> {
        irql::assert_passive("Network::new");
        let address = adapter_address(address)?;
        platform
            .pool()
            .charge(tags::NET, net_bytes())
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        let counters = counters.unwrap_or_else(|| Arc::new(NdkCounters::new()));
        let net = Arc::new(Net::new(platform.clone(), address, counters));
        net.start();
        Ok(Self {
            shared: Arc::new(Shared { net, platform }),
        })
    }

    /// [`Network::new`] with the RoCE path MTU set to `mtu_bytes` before
    /// anyone can connect ([`Network::set_roce_mtu`]; the Windows miniport
    /// passes its `*NetworkDirectRoCEFrameSize`). A bad MTU ->
    /// STATUS_INVALID_PARAMETER (the network is not made).
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn with_roce_mtu(
        address: IpAddr,
        platform: Arc<dyn Platform>,
        counters: Option<Arc<NdkCounters>>,
        mtu_bytes: u32,
    ) -> Result<Self, NtStatus> {
        if Mtu::from_bytes(mtu_bytes).is_none() {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let network = Self::new(address, platform, counters)?;
        network.set_roce_mtu(mtu_bytes)?;
        Ok(network)
    }

    /// A handle that does not keep the network up.
    ///
    /// IRQL: any.
    pub fn downgrade(&self) -> WeakNetwork {
        WeakNetwork {
            shared: Arc::downgrade(&self.shared),
        }
    }

    /// Whether `self` and `other` are the same network.
    ///
    /// IRQL: any.
    pub fn same(&self, other: &Network) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// Handles alive now (instances + owners).
    ///
    /// IRQL: any.
    pub fn users(&self) -> usize {
        Arc::strong_count(&self.shared)
    }

    /// The address the network is bound to.
    ///
    /// IRQL: any.
    pub fn address(&self) -> IpAddr {
        self.shared.net.address()
    }

    /// The platform it runs on (its instances run there too).
    ///
    /// IRQL: any.
    pub fn platform(&self) -> &Arc<dyn Platform> {
        &self.shared.platform
    }

    /// The NDK performance counters it feeds (OID_NDK_STATISTICS).
    ///
    /// IRQL: any.
    pub fn counters(&self) -> &Arc<NdkCounters> {
        self.shared.net.counters()
    }

    /// The RoCE path MTU in effect (the setting capped by the carrier's
    /// link; `docs/CM.md`, "Path MTU").
    ///
    /// IRQL: any.
    pub fn roce_mtu(&self) -> Mtu {
        self.shared.net.roce_mtu()
    }

    /// Sets the adapter's RoCE path MTU in bytes (256, 512, 1024, 2048 or
    /// 4096; anything else -> STATUS_INVALID_PARAMETER, nothing changed).
    /// Connections set up from now on use it, capped by the link; returns
    /// the MTU in effect.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_roce_mtu(&self, bytes: u32) -> Result<Mtu, NtStatus> {
        let mtu = Mtu::from_bytes(bytes).ok_or(STATUS_INVALID_PARAMETER)?;
        Ok(self.shared.net.set_roce_mtu(mtu))
    }

    /// The runtime's counters and CM occupancy (tests, diagnostics).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn stats(&self) -> NetStats {
        self.shared.net.stats()
    }

    /// `f(local, remote)` for every connection being set up or established
    /// on this network, whichever instance owns it (OID_NDK_CONNECTIONS).
    /// Runs under the runtime's lock: `f` must not call into the provider;
    /// nothing is allocated.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn for_each_connection(&self, f: impl FnMut(SocketAddr, SocketAddr)) {
        self.shared.net.for_each_connection(f);
    }

    /// `f(address, is_listener)` for every listening listener and open
    /// shared endpoint on this network (OID_NDK_LOCAL_ENDPOINTS). Same
    /// rules as [`Network::for_each_connection`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn for_each_local_endpoint(&self, f: impl FnMut(SocketAddr, bool)) {
        self.shared.net.for_each_local_endpoint(f);
    }

    /// The runtime (the instances' `AdapterCore::net`).
    pub(crate) fn net(&self) -> &Arc<Net> {
        &self.shared.net
    }
}

#[cfg(test)]
#[allow(unsafe_code)] // closing the adapters the tests open
mod tests {
    use super::*;
    use crate::abi::NDK_VERSION;
    use crate::ndk::{close_adapter, open_adapter_on};
    use crate::os::hosted::VirtualPlatform;
    use core::net::Ipv4Addr;

    const V21: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };

    #[test]
    fn the_network_stops_when_its_last_user_goes() {
        let p = VirtualPlatform::new(4);
        let _sim = p.use_simnet(4);
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let network = Network::new(ip, p.clone(), None).unwrap();
        assert!(network.stats().online);
        let x = open_adapter_on(&network, V21).unwrap();
        let y = open_adapter_on(&network, V21).unwrap();
        assert_eq!(network.users(), 3);
        let weak = network.downgrade();
        drop(network);
        // Another network on the address cannot have the carrier while
        // this one is up (and is stopped at once: the owner drops it).
        let rival = Network::new(ip, p.clone(), None).unwrap();
        assert!(!rival.stats().online);
        drop(rival);
        // SAFETY: ours, closed once.
        assert_eq!(unsafe { close_adapter(x) }, Ok(()));
        let up = weak.upgrade().unwrap();
        assert!(up.stats().online, "y still uses it");
        drop(up);
        // SAFETY: ours, closed once.
        assert_eq!(unsafe { close_adapter(y) }, Ok(()));
        assert!(weak.upgrade().is_none(), "the last user stopped it");
        // The carrier was closed: the address's port is free again.
        let again = Network::new(ip, p.clone(), None).unwrap();
        assert!(again.stats().online);
        drop(again);
        assert!(crate::os::Platform::pool(&*p).is_balanced());
    }

    #[test]
    fn the_roce_mtu_is_a_setting_capped_by_the_link() {
        let p = VirtualPlatform::new(6);
        let sim = p.use_simnet(6);
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
        let network = Network::new(ip, p.clone(), None).unwrap();
        assert_eq!(network.roce_mtu(), Mtu::Mtu1024, "the default");
        for bad in [0, 1, 255, 1000, 1500, 4095, 8192, u32::MAX] {
            assert_eq!(network.set_roce_mtu(bad), Err(STATUS_INVALID_PARAMETER));
            assert_eq!(network.roce_mtu(), Mtu::Mtu1024, "unchanged by {bad}");
        }
        assert_eq!(network.set_roce_mtu(4096), Ok(Mtu::Mtu4096));
        assert_eq!(network.net().lock().cm.config().max_path_mtu, 5);
        assert_eq!(network.set_roce_mtu(256), Ok(Mtu::Mtu256));
        assert_eq!(network.net().lock().cm.config().max_path_mtu, 1);
        drop(network);
        // A link of IP MTU 1500 carries 1024 at most: a 4096 setting is
        // capped (rxe's rule, 1500 - 80 -> 1024).
        sim.set_ip_mtu(Some(1500));
        let network = Network::new(ip, p.clone(), None).unwrap();
        assert_eq!(network.set_roce_mtu(4096), Ok(Mtu::Mtu1024));
        assert_eq!(network.set_roce_mtu(512), Ok(Mtu::Mtu512));
        drop(network);
        sim.set_ip_mtu(Some(9000));
        let network = Network::with_roce_mtu(ip, p.clone(), None, 4096).unwrap();
        assert_eq!(network.roce_mtu(), Mtu::Mtu4096);
        drop(network);
        assert_eq!(
            Network::with_roce_mtu(ip, p.clone(), None, 1500).err(),
            Some(STATUS_INVALID_PARAMETER)
        );
        assert!(crate::os::Platform::pool(&*p).is_balanced());
    }

    #[test]
    fn new_checks_the_address_and_the_pool() {
        let p = VirtualPlatform::new(5);
        assert_eq!(
            Network::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), p.clone(), None).err(),
            Some(crate::abi::STATUS_INVALID_ADDRESS)
        );
        crate::os::Platform::pool(&*p).set_limit(16);
        assert_eq!(
            Network::new(IpAddr::V4(Ipv4Addr::LOCALHOST), p.clone(), None).err(),
            Some(STATUS_INSUFFICIENT_RESOURCES)
        );
        crate::os::Platform::pool(&*p).set_limit(usize::MAX);
        assert!(crate::os::Platform::pool(&*p).is_balanced());
    }
}
