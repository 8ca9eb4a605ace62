//! Listener, connector and shared endpoint objects (adapter table creates,
//! their three dispatch tables). Owns their creation, lifetimes, local
//! address bookkeeping and the answers of an unbound / unconnected object.
//! PENDING (the connection manager work): NdkListen, NdkConnect,
//! NdkConnectWithSharedEndpoint, NdkCompleteConnect(Ex), NdkAccept(Ex),
//! NdkReject and NdkDisconnect answer STATUS_NOT_IMPLEMENTED (never pend,
//! never call a completion).

use alloc::sync::Arc;
use core::ffi::c_void;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use core::sync::atomic::{AtomicBool, Ordering};

use crate::abi::{
    NdkObjectTypeConnector, NdkObjectTypeListener, NdkObjectTypeSharedEndpoint, NtStatus, AF_INET,
    AF_INET6, BOOLEAN, NDK_ADAPTER, NDK_CONNECTOR, NDK_CONNECTOR_DISPATCH,
    NDK_FN_CONNECT_EVENT_CALLBACK, NDK_FN_CREATE_COMPLETION, NDK_FN_DISCONNECT_EVENT_CALLBACK,
    NDK_FN_DISCONNECT_EVENT_CALLBACK_EX, NDK_FN_REQUEST_COMPLETION, NDK_LISTENER,
    NDK_LISTENER_DISPATCH, NDK_QP, NDK_SHARED_ENDPOINT, NDK_SHARED_ENDPOINT_DISPATCH, SOCKADDR,
    SOCKADDR_IN, SOCKADDR_IN6, STATUS_BUFFER_TOO_SMALL, STATUS_CONNECTION_INVALID,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER,
    STATUS_NOT_IMPLEMENTED, STATUS_SHARING_VIOLATION, STATUS_SUCCESS, STATUS_TOO_MANY_ADDRESSES,
};
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::extension::ndk_query_extension;
use super::object::{adapter_create, create, header, ndk_close, recover, Base, NewObject, Object};

/// The first ND port of the ephemeral range.
const EPHEMERAL_FIRST: u16 = 49152;

/// Reads an AF_INET / AF_INET6 SOCKADDR of `len` bytes.
///
/// # Safety
/// `sa` is NULL or has `len` readable bytes.
unsafe fn read_sockaddr(sa: *const SOCKADDR, len: u32) -> Result<(IpAddr, u16), NtStatus> {
    if sa.is_null() || (len as usize) < core::mem::size_of::<SOCKADDR>() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: at least a SOCKADDR is readable.
    let family = unsafe { core::ptr::addr_of!((*sa).sa_family).read_unaligned() };
    match family {
        AF_INET if len as usize >= core::mem::size_of::<SOCKADDR_IN>() => {
            // SAFETY: `len` covers a SOCKADDR_IN.
            let v4 = unsafe { sa.cast::<SOCKADDR_IN>().read_unaligned() };
            Ok((
                IpAddr::V4(Ipv4Addr::from(v4.sin_addr.octets())),
                u16::from_be(v4.sin_port),
            ))
        }
        AF_INET6 if len as usize >= core::mem::size_of::<SOCKADDR_IN6>() => {
            // SAFETY: `len` covers a SOCKADDR_IN6.
            let v6 = unsafe { sa.cast::<SOCKADDR_IN6>().read_unaligned() };
            Ok((
                IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.Byte)),
                u16::from_be(v6.sin6_port),
            ))
        }
        AF_INET | AF_INET6 => Err(STATUS_INVALID_PARAMETER),
        _ => Err(STATUS_INVALID_ADDRESS),
    }
}

/// The GetLocalAddress size protocol: NULL length -> INVALID_PARAMETER;
/// NULL buffer or too small -> required length, BUFFER_TOO_SMALL; else the
/// address and its length.
///
/// # Safety
/// `out` is NULL or has `*len` writable bytes; `len` is NULL or writable.
unsafe fn write_sockaddr(address: (IpAddr, u16), out: *mut SOCKADDR, len: *mut u32) -> NtStatus {
    if len.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let need = match address.0 {
        IpAddr::V4(_) => core::mem::size_of::<SOCKADDR_IN>(),
        IpAddr::V6(_) => core::mem::size_of::<SOCKADDR_IN6>(),
    } as u32;
    // SAFETY: non-null, readable and writable by contract.
    let have = unsafe { len.read_unaligned() };
    // SAFETY: as above.
    unsafe { len.write_unaligned(need) };
    if out.is_null() || have < need {
        return STATUS_BUFFER_TOO_SMALL;
    }
    match address.0 {
        IpAddr::V4(ip) => {
            let sa = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: address.1.to_be(),
                sin_addr: crate::abi::IN_ADDR::from_octets(ip.octets()),
                sin_zero: [0; 8],
            };
            // SAFETY: `need` writable bytes.
            unsafe { out.cast::<SOCKADDR_IN>().write_unaligned(sa) };
        }
        IpAddr::V6(ip) => {
            // SAFETY: `need` writable bytes; zero first (no padding leaks).
            unsafe {
                out.cast::<u8>().write_bytes(0, need as usize);
                let p = out.cast::<SOCKADDR_IN6>();
                core::ptr::addr_of_mut!((*p).sin6_family).write_unaligned(AF_INET6);
                core::ptr::addr_of_mut!((*p).sin6_port).write_unaligned(address.1.to_be());
                core::ptr::addr_of_mut!((*p).sin6_addr)
                    .write_unaligned(crate::abi::IN6_ADDR { Byte: ip.octets() });
            }
        }
    }
    STATUS_SUCCESS
}

/// Binds `(ip, port)` on the adapter for a shared endpoint: the IP must be
/// the adapter's (or unspecified: the adapter's), port 0 picks a free
/// ephemeral port.
fn bind_port(core: &AdapterCore, ip: IpAddr, port: u16) -> Result<(IpAddr, u16), NtStatus> {
    let ip = ip.to_canonical();
    let same_family = ip.is_ipv4() == core.address.is_ipv4();
    if !same_family || (!ip.is_unspecified() && ip != core.address) {
        return Err(STATUS_INVALID_ADDRESS);
    }
    let mut ports = core.ports.lock();
    let port = if port == 0 {
        (EPHEMERAL_FIRST..=u16::MAX)
            .find(|p| !ports.contains(p))
            .ok_or(STATUS_TOO_MANY_ADDRESSES)?
    } else if ports.contains(&port) {
        return Err(STATUS_SHARING_VIOLATION);
    } else {
        port
    };
    if ports.try_reserve(1).is_err() {
        return Err(crate::abi::STATUS_INSUFFICIENT_RESOURCES);
    }
    ports.push(port);
    Ok((core.address, port))
}

// --- shared endpoint ----------------------------------------------------------

/// A shared endpoint: a bound local address:port that connectors share.
#[repr(C)]
pub(crate) struct SharedEndpoint {
    ndk: NDK_SHARED_ENDPOINT,
    base: Base,
    address: (IpAddr, u16),
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
}

impl Drop for SharedEndpoint {
    fn drop(&mut self) {
        self.base.core.ports.lock().retain(|&p| p != self.address.1);
    }
}

/// The table every shared endpoint's `Dispatch` points to.
pub static SHARED_ENDPOINT_DISPATCH: NDK_SHARED_ENDPOINT_DISPATCH = NDK_SHARED_ENDPOINT_DISPATCH {
    NdkCloseSharedEndpoint: ndk_close::<SharedEndpoint>,
    NdkQueryExtension: ndk_query_extension,
    NdkGetSharedEndpointLocalAddress: ndk_get_shared_endpoint_local_address,
};

/// NDK_FN_CREATE_SHARED_ENDPOINT: binds the address. Bad SOCKADDR ->
/// STATUS_INVALID_PARAMETER; another family or not the adapter's IP ->
/// STATUS_INVALID_ADDRESS; port taken -> STATUS_SHARING_VIOLATION; port 0
/// and no ephemeral port free -> STATUS_TOO_MANY_ADDRESSES.
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
        let bound = bind_port(core, ip, port)?;
        create(NewObject::of(core), |base| SharedEndpoint {
            ndk: NDK_SHARED_ENDPOINT {
                Header: header(core, NdkObjectTypeSharedEndpoint),
                Dispatch: &SHARED_ENDPOINT_DISPATCH,
            },
            base,
            address: bound,
        })
        .inspect_err(|_| core.ports.lock().retain(|&p| p != bound.1))
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

// --- listener -------------------------------------------------------------------

/// A listener (not listening until NdkListen, pending the connection work).
#[repr(C)]
pub(crate) struct Listener {
    ndk: NDK_LISTENER,
    base: Base,
    #[allow(dead_code)] // delivered connectors: the connection work
    connect_event: (NDK_FN_CONNECT_EVENT_CALLBACK, usize),
    paused: AtomicBool,
}
const _: () = assert!(core::mem::offset_of!(Listener, ndk) == 0);

impl Object for Listener {
    const TYPE: u32 = NdkObjectTypeListener;
    const TAG: PoolTag = tags::LISTENER;
    const CLOSE: &'static str = "NdkCloseListener";
    fn dispatch() -> *const c_void {
        (&LISTENER_DISPATCH as *const NDK_LISTENER_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

/// The table every listener's `Dispatch` points to.
pub static LISTENER_DISPATCH: NDK_LISTENER_DISPATCH = NDK_LISTENER_DISPATCH {
    NdkCloseListener: ndk_close::<Listener>,
    NdkQueryExtension: ndk_query_extension,
    NdkListen: ndk_listen,
    NdkGetListenerLocalAddress: ndk_get_listener_local_address,
    NdkControlConnectEvents: ndk_control_connect_events,
};

/// NDK_FN_CREATE_LISTENER: NULL ConnectEvent or out-param ->
/// STATUS_INVALID_PARAMETER.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_listener(
    adapter: *mut NDK_ADAPTER,
    connect_event: Option<NDK_FN_CONNECT_EVENT_CALLBACK>,
    connect_event_context: *mut c_void,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp: *mut *mut NDK_LISTENER,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateListener");
    let make = |core: &Arc<AdapterCore>| {
        let connect_event = connect_event.ok_or(STATUS_INVALID_PARAMETER)?;
        create(NewObject::of(core), |base| Listener {
            ndk: NDK_LISTENER {
                Header: header(core, NdkObjectTypeListener),
                Dispatch: &LISTENER_DISPATCH,
            },
            base,
            connect_event: (connect_event, connect_event_context as usize),
            paused: AtomicBool::new(false),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// NDK_FN_LISTEN: PENDING (connection work) -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_listen(
    listener: *mut NDK_LISTENER,
    _address: *const SOCKADDR,
    _len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkListen");
    // SAFETY: forwarded contract.
    match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(_) => STATUS_NOT_IMPLEMENTED,
        Err(e) => e,
    }
}

/// NDK_FN_GET_LISTENER_LOCAL_ADDRESS: a listener that is not listening has
/// no address -> STATUS_INVALID_DEVICE_STATE (length untouched).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_listener_local_address(
    listener: *mut NDK_LISTENER,
    _address: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetListenerLocalAddress");
    // SAFETY: forwarded contract.
    match unsafe { recover::<Listener>(listener.cast()) } {
        Ok(_) if len.is_null() => STATUS_INVALID_PARAMETER,
        Ok(_) => STATUS_INVALID_DEVICE_STATE,
        Err(e) => e,
    }
}

/// NDK_FN_CONTROL_CONNECT_EVENTS: records pause/resume.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_control_connect_events(listener: *mut NDK_LISTENER, pause: BOOLEAN) {
    irql::assert_at_most(Irql::Dispatch, "NdkControlConnectEvents");
    // SAFETY: forwarded contract.
    if let Ok(l) = unsafe { recover::<Listener>(listener.cast()) } {
        l.paused.store(pause != 0, Ordering::Release);
    }
}

// --- connector ------------------------------------------------------------------

/// A connector (never connected until the connection work lands).
#[repr(C)]
pub(crate) struct Connector {
    ndk: NDK_CONNECTOR,
    base: Base,
}
const _: () = assert!(core::mem::offset_of!(Connector, ndk) == 0);

impl Object for Connector {
    const TYPE: u32 = NdkObjectTypeConnector;
    const TAG: PoolTag = tags::CONNECTOR;
    const CLOSE: &'static str = "NdkCloseConnector";
    fn dispatch() -> *const c_void {
        (&CONNECTOR_DISPATCH as *const NDK_CONNECTOR_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

/// The table every connector's `Dispatch` points to (13 entries, 2.1).
pub static CONNECTOR_DISPATCH: NDK_CONNECTOR_DISPATCH = NDK_CONNECTOR_DISPATCH {
    NdkCloseConnector: ndk_close::<Connector>,
    NdkQueryExtension: ndk_query_extension,
    NdkConnect: ndk_connect,
    NdkConnectWithSharedEndpoint: ndk_connect_with_shared_endpoint,
    NdkCompleteConnect: ndk_complete_connect,
    NdkAccept: ndk_accept,
    NdkReject: ndk_reject,
    NdkGetConnectionData: ndk_get_connection_data,
    NdkGetLocalAddress: ndk_get_connector_address,
    NdkGetPeerAddress: ndk_get_connector_address,
    NdkDisconnect: ndk_disconnect,
    NdkCompleteConnectEx: ndk_complete_connect_ex,
    NdkAcceptEx: ndk_accept_ex,
};

/// NDK_FN_CREATE_CONNECTOR.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_connector(
    adapter: *mut NDK_ADAPTER,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp: *mut *mut NDK_CONNECTOR,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateConnector");
    let make = |core: &Arc<AdapterCore>| {
        create(NewObject::of(core), |base| Connector {
            ndk: NDK_CONNECTOR {
                Header: header(core, NdkObjectTypeConnector),
                Dispatch: &CONNECTOR_DISPATCH,
            },
            base,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// The connector check shared by the entries below: its status, or `ok`.
///
/// # Safety
/// NDKPI contract.
unsafe fn connector_answer(c: *mut NDK_CONNECTOR, what: &'static str, ok: NtStatus) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, what);
    // SAFETY: forwarded contract.
    match unsafe { recover::<Connector>(c.cast()) } {
        Ok(_) => ok,
        Err(e) => e,
    }
}

/// NdkGetLocalAddress / NdkGetPeerAddress of a connector that is neither
/// connected nor connecting: STATUS_CONNECTION_INVALID (ND2's answer).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_connector_address(
    c: *mut NDK_CONNECTOR,
    _address: *mut SOCKADDR,
    _len: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkGetLocal/PeerAddress", STATUS_CONNECTION_INVALID) }
}

/// NdkGetConnectionData of an unconnected connector: STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_connection_data(
    c: *mut NDK_CONNECTOR,
    _ird: *mut u32,
    _ord: *mut u32,
    _data: *mut c_void,
    _len: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkGetConnectionData", STATUS_CONNECTION_INVALID) }
}

/// NDK_FN_CONNECT: PENDING (connection work) -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _src: *const SOCKADDR,
    _src_len: u32,
    _dst: *const SOCKADDR,
    _dst_len: u32,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkConnect", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_CONNECT_WITH_SHARED_ENDPOINT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect_with_shared_endpoint(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _se: *mut NDK_SHARED_ENDPOINT,
    _dst: *const SOCKADDR,
    _dst_len: u32,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkConnectWithSharedEndpoint", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_COMPLETE_CONNECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect(
    c: *mut NDK_CONNECTOR,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkCompleteConnect", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_COMPLETE_CONNECT_EX: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect_ex(
    c: *mut NDK_CONNECTOR,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkCompleteConnectEx", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_ACCEPT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkAccept", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_ACCEPT_EX: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept_ex(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkAcceptEx", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_REJECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_reject(
    c: *mut NDK_CONNECTOR,
    _data: *const c_void,
    _data_len: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkReject", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_DISCONNECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_disconnect(
    c: *mut NDK_CONNECTOR,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkDisconnect", STATUS_NOT_IMPLEMENTED) }
}
