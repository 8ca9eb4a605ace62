//! The shared endpoint object: NdkCreateSharedEndpoint (adapter table) and
//! NDK_SHARED_ENDPOINT_DISPATCH (close, QueryExtension, GetLocalAddress).
//! Owns its binding in the CM engine's port space (created here, released
//! at close; connectors that used it keep the port until they are gone).
//! Must not connect (the connector's).

use alloc::sync::Arc;
use core::ffi::c_void;
use core::net::{IpAddr, SocketAddr};

use crate::abi::*;
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::endpoint::{local_ip, read_sockaddr, write_sockaddr};
use super::extension::ndk_query_extension;
use super::net::cm_status;
use super::object::{adapter_create, create, header, ndk_close, recover, Base, NewObject, Object};
use crate::cm::SharedEndpointId;

/// A shared endpoint: a bound local address:port that connectors share.
#[repr(C)]
pub(crate) struct SharedEndpoint {
    ndk: NDK_SHARED_ENDPOINT,
    base: Base,
    address: (IpAddr, u16),
    pub(crate) id: SharedEndpointId,
}
const _: () = assert!(core::mem::offset_of!(SharedEndpoint, ndk) == 0);

impl Object for SharedEndpoint {
    const TYPE: u32 = NdkObjectTypeSharedEndpoint;
    const TAG: PoolTag = tags::SHARED_ENDPOINT;
    const CLOSE: &'static str = "NdkCloseSharedEndpoint";
    fn dispatch() -> *const c_void {
        (&SHARED_ENDPOINT_DISPATCH as *const NDK_SHARED_ENDPOINT_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
    /// The endpoint closes; its address:port stays bound while connectors
    /// that connected through it hold a reference (NDKPI §5.9).
    fn on_close(&self) {
        let net = &self.base.core.net;
        let mut st = net.lock();
        let _ = st.cm.close_shared_endpoint(self.id);
        net.pump(&mut st);
    }
}

impl SharedEndpoint {
    /// Its bound address and port. IRQL: any.
    #[allow(dead_code)]
    pub(crate) fn address(&self) -> (IpAddr, u16) {
        self.address
    }
}

/// The table every shared endpoint's `Dispatch` points to.
pub static SHARED_ENDPOINT_DISPATCH: NDK_SHARED_ENDPOINT_DISPATCH = NDK_SHARED_ENDPOINT_DISPATCH {
    NdkCloseSharedEndpoint: ndk_close::<SharedEndpoint>,
    NdkQueryExtension: ndk_query_extension,
    NdkGetSharedEndpointLocalAddress: ndk_get_shared_endpoint_local_address,
};

/// NDK_FN_CREATE_SHARED_ENDPOINT: binds the address (unspecified = the
/// adapter's). Bad SOCKADDR -> STATUS_INVALID_PARAMETER; another family or
/// not the adapter's IP -> STATUS_INVALID_ADDRESS; port taken ->
/// STATUS_SHARING_VIOLATION; port 0 and no ephemeral port free ->
/// STATUS_TOO_MANY_ADDRESSES; endpoint table full ->
/// STATUS_INSUFFICIENT_RESOURCES.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_shared_endpoint(
    adapter: *mut NDK_ADAPTER,
    address: *const SOCKADDR,
    address_length: u32,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp: *mut *mut NDK_SHARED_ENDPOINT,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateSharedEndpoint");
    let make = |core: &Arc<AdapterCore>| {
        // SAFETY: forwarded contract.
        let (ip, port) = unsafe { read_sockaddr(address, address_length) }?;
        let ip = local_ip(core, ip, false)?;
        let (id, port) = core
            .net
            .lock()
            .cm
            .create_shared_endpoint(SocketAddr::new(ip, port))
            .map_err(cm_status)?;
        create(NewObject::of(core), |base| SharedEndpoint {
            ndk: NDK_SHARED_ENDPOINT {
                Header: header(core, NdkObjectTypeSharedEndpoint),
                Dispatch: &SHARED_ENDPOINT_DISPATCH,
            },
            base,
            address: (ip, port),
            id,
        })
        .inspect_err(|_| {
            let _ = core.net.lock().cm.close_shared_endpoint(id);
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// NDK_FN_GET_SHARED_ENDPOINT_LOCAL_ADDRESS: the bound address (the chosen
/// port if 0 was asked), with the size protocol.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_shared_endpoint_local_address(
    se: *mut NDK_SHARED_ENDPOINT,
    address: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetSharedEndpointLocalAddress");
    // SAFETY: forwarded contract.
    match unsafe { recover::<SharedEndpoint>(se.cast()) } {
        // SAFETY: forwarded contract.
        Ok(se) => unsafe { write_sockaddr(se.address, address, len) },
        Err(e) => e,
    }
}
