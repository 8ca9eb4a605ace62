//! The provider's adapter object: an NDK_ADAPTER (header + dispatch pointer)
//! followed by the provider's state: the shared [`AdapterCore`] (platform,
//! tables, bound IP address), the NDK_ADAPTER_INFO it reports and its
//! handle on the network it is attached to ([`Network`], shared with the
//! other instances on that address; dropped when the adapter is freed by
//! `close_adapter`, at PASSIVE). Owns the object and the check that turns a
//! consumer's `*mut NDK_ADAPTER` back into it; the entries live in
//! `adapter_dispatch.rs`, open/close in `open.rs`.

use alloc::sync::Arc;
use core::net::IpAddr;

use crate::abi::{
    NdkObjectTypeAdapter, NDK_ADAPTER, NDK_ADAPTER_INFO, NDK_OBJECT_HEADER,
    NDK_OBJECT_HEADER_RESERVED_BLOCK, NDK_VERSION,
};

use super::adapter_dispatch::ADAPTER_DISPATCH;
use super::core::AdapterCore;
use super::limits::adapter_info;
use super::network::Network;

/// One open NDK adapter instance. `#[repr(C)]` with the NDK_ADAPTER first,
/// so a `*mut NDK_ADAPTER` handed to the consumer is also a `*mut Adapter`.
#[derive(Debug)]
#[repr(C)]
pub struct Adapter {
    ndk: NDK_ADAPTER,
    core: Arc<AdapterCore>,
    info: NDK_ADAPTER_INFO,
    /// The network this instance is attached to (`None`: a bare adapter
    /// over a core, unit tests). Its user count includes this instance.
    network: Option<Network>,
}

const _: () = assert!(core::mem::offset_of!(Adapter, ndk) == 0);

impl Adapter {
    /// A new adapter over `core` (bound address, negotiated version):
    /// header Version = the version, ObjectType = Adapter, NdkReserved zeroed,
    /// Dispatch = the provider's adapter table.
    ///
    /// IRQL: any.
    pub fn new(core: Arc<AdapterCore>) -> Self {
        Self::build(core, None)
    }

    /// [`Adapter::new`] for an instance attached to `network` (its core's
    /// runtime is the network's): the adapter holds the handle until freed.
    ///
    /// IRQL: any.
    pub(crate) fn on_network(core: Arc<AdapterCore>, network: Network) -> Self {
        Self::build(core, Some(network))
    }

    /// IRQL: any.
    fn build(core: Arc<AdapterCore>, network: Option<Network>) -> Self {
        let version = core.version;
        Self {
            ndk: NDK_ADAPTER {
                Header: NDK_OBJECT_HEADER {
                    Version: version,
                    ObjectType: NdkObjectTypeAdapter,
                    NdkReserved: NDK_OBJECT_HEADER_RESERVED_BLOCK::ZEROED,
                },
                Dispatch: &ADAPTER_DISPATCH,
            },
            core,
            info: adapter_info(version),
            network,
        }
    }

    /// The network this instance is attached to (shared with the other
    /// instances opened on it; see `network.rs`).
    ///
    /// IRQL: any.
    pub fn network(&self) -> Option<&Network> {
        self.network.as_ref()
    }

    /// The IP address this adapter instance is bound to.
    ///
    /// IRQL: any.
    pub fn address(&self) -> IpAddr {
        self.core.address
    }

    /// The state shared with the adapter's objects.
    ///
    /// IRQL: any.
    pub fn core(&self) -> &Arc<AdapterCore> {
        &self.core
    }

    /// The network runtime's counters and CM occupancy (tests, diagnostics;
    /// the whole network's, shared by every instance on it).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn net_stats(&self) -> super::net::NetStats {
        self.core.net.stats()
    }

    /// The NDK performance counters in OID_NDK_STATISTICS layout
    /// (NDIS_NDK_PERFORMANCE_COUNTERS; reserved ones 0).
    ///
    /// IRQL: any.
    pub fn statistics(&self) -> crate::abi::NDIS_NDK_PERFORMANCE_COUNTERS {
        self.core.counters().snapshot()
    }

    /// Narrows the ephemeral ND ports (port 0) to `first..=last` within
    /// 49152-65535 (a configuration / test knob; for the whole network the
    /// instance is on). False if out of range.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn set_ephemeral_range(&self, first: u16, last: u16) -> bool {
        self.core.net.lock().cm.set_ephemeral_range(first, last)
    }

    /// What NdkQueryAdapterInfo reports.
    ///
    /// IRQL: any.
    pub fn info(&self) -> &NDK_ADAPTER_INFO {
        &self.info
    }

    /// The negotiated NDK version.
    ///
    /// IRQL: any.
    pub fn version(&self) -> NDK_VERSION {
        self.ndk.Header.Version
    }

    /// The NDK view of this adapter.
    ///
    /// IRQL: any.
    pub fn ndk(&self) -> &NDK_ADAPTER {
        &self.ndk
    }

    /// Recovers the provider's adapter from a consumer's pointer. Returns
    /// `None` for NULL, or for an object that is not one of our adapters
    /// (wrong object type or another dispatch table).
    ///
    /// # Safety
    /// `ndk` is NULL or points to a readable NDK object header and dispatch
    /// pointer (the NDKPI contract: an adapter this provider opened and that
    /// is not yet closed), and the adapter outlives `'a`.
    ///
    /// IRQL: any.
    pub unsafe fn from_ndk<'a>(ndk: *const NDK_ADAPTER) -> Option<&'a Adapter> {
        if ndk.is_null() {
            return None;
        }
        // SAFETY: non-null, and by the caller's contract readable as an
        // NDK_ADAPTER (header + dispatch pointer).
        let (object_type, dispatch) = unsafe { ((*ndk).Header.ObjectType, (*ndk).Dispatch) };
        if object_type != NdkObjectTypeAdapter || !core::ptr::eq(dispatch, &ADAPTER_DISPATCH) {
            return None;
        }
        // SAFETY: only `Adapter::new` installs ADAPTER_DISPATCH, and every
        // Adapter lives in its own allocation with the NDK_ADAPTER at offset
        // 0 (`#[repr(C)]`), so the pointer is the start of a live Adapter.
        Some(unsafe { &*ndk.cast::<Adapter>() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::hosted::VirtualPlatform;
    use core::net::Ipv4Addr;

    fn core_at(address: IpAddr, v: NDK_VERSION) -> Arc<AdapterCore> {
        Arc::new(AdapterCore::new(VirtualPlatform::new(1), address, v))
    }

    #[test]
    fn header_and_info_follow_the_version() {
        let v = NDK_VERSION { Major: 2, Minor: 1 };
        let a = Adapter::new(core_at(IpAddr::V4(Ipv4Addr::LOCALHOST), v));
        assert_eq!(a.version(), v);
        assert_eq!(a.info().Version, v);
        assert_eq!(a.ndk().Header.ObjectType, NdkObjectTypeAdapter);
        assert!(a.ndk().Header.NdkReserved.rf.iter().all(|p| p.is_null()));
        assert_eq!(a.address(), IpAddr::V4(Ipv4Addr::LOCALHOST));
        // SAFETY: `a` is a live Adapter.
        let back = unsafe { Adapter::from_ndk(a.ndk()) };
        assert!(back.is_some_and(|b| core::ptr::eq(b, &a)));
    }

    #[test]
    fn from_ndk_refuses_null_and_foreign_objects() {
        // SAFETY: NULL is allowed.
        assert!(unsafe { Adapter::from_ndk(core::ptr::null()) }.is_none());
        let mut foreign = Adapter::new(core_at(
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            NDK_VERSION { Major: 2, Minor: 1 },
        ));
        foreign.ndk.Header.ObjectType = crate::abi::NdkObjectTypePd;
        // SAFETY: `foreign` is readable.
        assert!(unsafe { Adapter::from_ndk(&foreign.ndk) }.is_none());
        let copy_of_table = ADAPTER_DISPATCH;
        foreign.ndk.Header.ObjectType = NdkObjectTypeAdapter;
        foreign.ndk.Dispatch = &copy_of_table;
        // SAFETY: `foreign` is readable.
        assert!(unsafe { Adapter::from_ndk(&foreign.ndk) }.is_none());
    }
}
