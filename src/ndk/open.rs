//! Opening and closing an adapter instance, platform-neutral: address check,
//! version negotiation, allocation, attaching the instance to its network
//! (a private one, or a shared [`Network`]), and the matching free. The Windows
//! OPEN/CLOSE_NDK_ADAPTER_HANDLERs and the hosted C entry points are thin
//! wrappers over this. Owns adapter lifetime only.

use alloc::sync::Arc;
use core::net::IpAddr;
use core::ptr::NonNull;

use crate::abi::{
    NtStatus, NDK_ADAPTER, NDK_VERSION, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_ADDRESS,
    STATUS_INVALID_HANDLE,
};

use super::adapter::Adapter;
use super::core::{core_bytes, tags, AdapterCore};
use super::network::Network;
use super::object_alloc::{free_object, try_box};
use super::version::negotiate_version;
use crate::os::{irql, NdkCounters, Platform};

/// The address an adapter can be bound to: a unicast IPv4 or IPv6 address.
/// IPv4-mapped IPv6 addresses become IPv4. Unspecified, multicast and the
/// IPv4 broadcast address -> STATUS_INVALID_ADDRESS.
///
/// IRQL: any (pure).
pub fn adapter_address(address: IpAddr) -> Result<IpAddr, NtStatus> {
    let address = address.to_canonical();
    let unusable = address.is_unspecified()
        || address.is_multicast()
        || matches!(address, IpAddr::V4(v4) if v4.is_broadcast());
    if unusable {
        return Err(STATUS_INVALID_ADDRESS);
    }
    Ok(address)
}

/// Bytes an open adapter instance charges under `SRad` (its network
/// charges `SRnt` once, `network.rs`).
fn adapter_bytes() -> usize {
    core::mem::size_of::<Adapter>() + core_bytes()
}

/// Opens a new adapter instance bound to `address`, running on `platform`,
/// on a network of its own (carrier, CM, QPNs, listeners: not shared with
/// any other instance; [`open_adapter_on`] shares one).
/// Checks the version first (NDIS_STATUS_BAD_VERSION), then the address
/// (STATUS_INVALID_ADDRESS); out of memory (or the pool books' limit) ->
/// STATUS_INSUFFICIENT_RESOURCES (= NDIS_STATUS_RESOURCES).
/// The result is closed with [`close_adapter`].
///
/// IRQL: PASSIVE_LEVEL.
pub fn open_adapter(
    address: IpAddr,
    requested: NDK_VERSION,
    platform: Arc<dyn Platform>,
) -> Result<NonNull<NDK_ADAPTER>, NtStatus> {
    irql::assert_passive("open_adapter");
    open_adapter_with_counters(address, requested, platform, None)
}

/// [`open_adapter`] feeding `counters` (`Some`: a set shared with other
/// instances; `None`: counters of the instance's own). The network is the
/// instance's own, as for [`open_adapter`].
///
/// IRQL: PASSIVE_LEVEL.
pub fn open_adapter_with_counters(
    address: IpAddr,
    requested: NDK_VERSION,
    platform: Arc<dyn Platform>,
    counters: Option<Arc<NdkCounters>>,
) -> Result<NonNull<NDK_ADAPTER>, NtStatus> {
    irql::assert_passive("open_adapter");
    negotiate_version(requested)?;
    let network = Network::new(address, platform, counters)?;
    // Our handle goes at return: the instance holds the only one.
    open_adapter_on(&network, requested)
}

/// Opens a new adapter instance attached to `network` (its address, its
/// platform, its counters; QPNs, listeners and connections shared with
/// every other instance on it; memory table, LAMs and tokens of its own).
/// The instance holds a handle on the network until [`close_adapter`].
/// Checks the version (NDIS_STATUS_BAD_VERSION); out of memory ->
/// STATUS_INSUFFICIENT_RESOURCES.
///
/// IRQL: PASSIVE_LEVEL.
pub fn open_adapter_on(
    network: &Network,
    requested: NDK_VERSION,
) -> Result<NonNull<NDK_ADAPTER>, NtStatus> {
    irql::assert_passive("open_adapter");
    let version = negotiate_version(requested)?;
    let platform = network.platform().clone();
    platform
        .pool()
        .charge(tags::ADAPTER, adapter_bytes())
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    let core = AdapterCore::on_net(platform.clone(), version, network.net().clone());
    match try_box(Adapter::on_network(Arc::new(core), network.clone())) {
        // `Adapter` is `#[repr(C)]` with its NDK_ADAPTER at offset 0.
        Ok(adapter) => Ok(adapter.cast::<NDK_ADAPTER>()),
        Err(adapter) => {
            drop(adapter);
            platform.pool().release(tags::ADAPTER, adapter_bytes());
            Err(STATUS_INSUFFICIENT_RESOURCES)
        }
    }
}

/// Closes an adapter instance from [`open_adapter`] / [`open_adapter_on`].
/// Blocking by contract:
/// it runs (virtual platform) or waits for (real platform) the deferred work
/// of every descendant until all of them are freed, so when it returns no
/// callback on the adapter or any descendant is running or queued. Objects
/// the consumer never closed (a consumer bug) stop the wait once no progress
/// is made; they stay allocated (visible in the pool books) and are cut off
/// from the network (their listeners stop listening, their connections are
/// dropped without a callback, their QPs receive nothing), which the other
/// instances on it keep using. The instance's handle on the network is
/// dropped last: if it was the last one, the network stops (carrier
/// closed, timer cancelled).
/// A pointer that is not one of our adapters -> STATUS_INVALID_HANDLE and
/// nothing is freed.
///
/// IRQL: PASSIVE_LEVEL.
///
/// # Safety
/// `adapter` is readable as an NDK object; if it is one of ours it is not
/// used again by anyone after this call (NDKPI: the consumer never closes an
/// adapter twice, nor from inside a callback).
pub unsafe fn close_adapter(adapter: NonNull<NDK_ADAPTER>) -> Result<(), NtStatus> {
    irql::assert_passive("close_adapter");
    // SAFETY: readable by the caller's contract.
    let Some(a) = (unsafe { Adapter::from_ndk(adapter.as_ptr()) }) else {
        return Err(STATUS_INVALID_HANDLE);
    };
    let core = a.core().clone();
    let settle = || loop {
        let before = core.live();
        core.platform.flush_deferred();
        let after = core.live();
        if after == 0 || after == before {
            break;
        }
    };
    settle();
    // No datagram or CM event reaches this instance's objects after this.
    core.net.detach(&core);
    settle();
    let platform = core.platform.clone();
    drop(core);
    // SAFETY: `from_ndk` proved this is one of our adapters, and every one of
    // them was allocated by `try_box::<Adapter>` in `open_adapter_on`; the
    // caller guarantees no further use. Dropping it drops its network handle
    // here, at PASSIVE.
    unsafe { free_object(adapter.cast::<Adapter>()) };
    platform.pool().release(tags::ADAPTER, adapter_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::NDIS_STATUS_BAD_VERSION;
    use crate::os::hosted::VirtualPlatform;
    use core::net::{Ipv4Addr, Ipv6Addr};

    const V21: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };

    #[test]
    fn address_rules() {
        let lo4 = IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(adapter_address(lo4), Ok(lo4));
        let lo6 = IpAddr::V6(Ipv6Addr::LOCALHOST);
        assert_eq!(adapter_address(lo6), Ok(lo6));
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 1, 2, 3).to_ipv6_mapped());
        assert_eq!(
            adapter_address(mapped),
            Ok(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
        );
        for bad in [
            IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V4(Ipv4Addr::BROADCAST),
            IpAddr::V4(Ipv4Addr::new(224, 0, 0, 1)),
            IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            IpAddr::V6(Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1)),
        ] {
            assert_eq!(adapter_address(bad), Err(STATUS_INVALID_ADDRESS), "{bad}");
        }
    }

    #[test]
    fn instances_opened_with_shared_counters_feed_one_set() {
        let p = VirtualPlatform::new(2);
        let shared = Arc::new(NdkCounters::new());
        let open = |last: u8, c: Option<Arc<NdkCounters>>| {
            let ip = IpAddr::V4(Ipv4Addr::new(127, 0, 0, last));
            open_adapter_with_counters(ip, V21, p.clone(), c).unwrap()
        };
        let (x, y, z) = (
            open(3, Some(shared.clone())),
            open(4, Some(shared.clone())),
            open(5, None),
        );
        // SAFETY: just opened, not closed.
        let counters = |q: NonNull<NDK_ADAPTER>| {
            unsafe { Adapter::from_ndk(q.as_ptr()) }
                .map(|a| a.core().counters().clone())
                .unwrap()
        };
        assert!(Arc::ptr_eq(&counters(x), &shared));
        assert!(Arc::ptr_eq(&counters(y), &shared));
        assert!(!Arc::ptr_eq(&counters(z), &shared));
        NdkCounters::add(&counters(x).accept, 1);
        // SAFETY: just opened, not closed.
        let stats = |q: NonNull<NDK_ADAPTER>| {
            unsafe { Adapter::from_ndk(q.as_ptr()) }
                .map(|a| a.statistics().Accept)
                .unwrap()
        };
        assert_eq!((stats(x), stats(y), stats(z)), (1, 1, 0));
        for q in [x, y, z] {
            // SAFETY: ours, closed once.
            assert_eq!(unsafe { close_adapter(q) }, Ok(()));
        }
        assert_eq!(
            shared.snapshot().Accept,
            1,
            "the set outlives its instances"
        );
        assert!(crate::os::Platform::pool(&*p).is_balanced());
    }

    #[test]
    fn open_checks_version_before_address_and_close_frees() {
        let bad_v = NDK_VERSION { Major: 1, Minor: 2 };
        let p = VirtualPlatform::new(1);
        assert_eq!(
            open_adapter(IpAddr::V4(Ipv4Addr::UNSPECIFIED), bad_v, p.clone()).err(),
            Some(NDIS_STATUS_BAD_VERSION)
        );
        assert_eq!(
            open_adapter(IpAddr::V4(Ipv4Addr::UNSPECIFIED), V21, p.clone()).err(),
            Some(STATUS_INVALID_ADDRESS)
        );
        let opened = open_adapter(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)), V21, p.clone());
        let Ok(ptr) = opened else {
            panic!("open failed: {opened:?}");
        };
        // SAFETY: just opened, not closed.
        let adapter = unsafe { Adapter::from_ndk(ptr.as_ptr()) };
        assert_eq!(
            adapter.map(Adapter::address),
            Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)))
        );
        // SAFETY: ours, closed once.
        assert_eq!(unsafe { close_adapter(ptr) }, Ok(()));
        assert!(crate::os::Platform::pool(&*p).is_balanced());
    }
}
