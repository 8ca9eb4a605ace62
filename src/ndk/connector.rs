//! The connector object: NdkCreateConnector (adapter table) and the 13-entry
//! NDK_CONNECTOR_DISPATCH: NdkConnect / NdkConnectWithSharedEndpoint,
//! NdkCompleteConnect(Ex), NdkAccept(Ex), NdkReject, NdkGetConnectionData,
//! NdkGetLocalAddress / NdkGetPeerAddress and NdkDisconnect over the
//! adapter's CM engine (`net.rs`), and the close that cancels what is
//! pending. Statuses per request: `docs/CM.md` (NTSTATUS mapping) and
//! `docs/COMPLIANCE.md`.
//!
//! Owns the connector's argument checks and its requests to the CM; the
//! completions and events come back through `net.rs` as callbacks queued to
//! this object's DPC. Must not call the consumer or touch packets.

use alloc::sync::Arc;
use core::ffi::c_void;
use core::net::{IpAddr, SocketAddr};

use crate::abi::*;
use crate::cm::{AcceptParams, ConnId, ConnectParams, DisconnectStarted, LocalEndpoint};
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::endpoint::{read_sockaddr, write_sockaddr};
use super::extension::ndk_query_extension;
use super::limits::{
    MAX_CALLEE_DATA, MAX_CALLER_DATA, MAX_INBOUND_READ_LIMIT, MAX_OUTBOUND_READ_LIMIT,
};
use super::net::{cm_status, NetState, Pending, PATH_MTU, RETRY_COUNT};
use super::object::{
    finish_create, finish_request, ndk_close, recover, Base, DisconnectCallback, Object,
};
use super::qp::{Qp, QpConnection, QpLinkState};
use super::shared_endpoint::SharedEndpoint;

/// A connector: its slot in the adapter's connector table holds its CM
/// connection and pending requests.
#[repr(C)]
pub(crate) struct Connector {
    ndk: NDK_CONNECTOR,
    base: Base,
    slot: usize,
}
const _: () = assert!(core::mem::offset_of!(Connector, ndk) == 0);

impl Connector {
    /// A connector object over `slot` (made by `net::make_connector`).
    pub(crate) fn new(core: &AdapterCore, base: Base, slot: usize) -> Self {
        Connector {
            ndk: NDK_CONNECTOR {
                Header: super::object::header(core, NdkObjectTypeConnector),
                Dispatch: &CONNECTOR_DISPATCH,
            },
            base,
            slot,
        }
    }
}

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
    /// Closing without accepting rejects; mid-connect sends REJ and the
    /// pending request completes with STATUS_CANCELLED; established sends a
    /// DREQ (the CM finishes on its own).
    fn on_close(&self) {
        self.base.core.net.close_connector(self.slot);
    }
}

impl Drop for Connector {
    fn drop(&mut self) {
        self.base.core.net.free_connector(self.slot);
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
    NdkGetLocalAddress: ndk_get_local_address,
    NdkGetPeerAddress: ndk_get_peer_address,
    NdkDisconnect: ndk_disconnect,
    NdkCompleteConnectEx: ndk_complete_connect_ex,
    NdkAcceptEx: ndk_accept_ex,
};

/// NDK_FN_CREATE_CONNECTOR: a new, unconnected connector (a table slot;
/// none free -> STATUS_INSUFFICIENT_RESOURCES).
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
    if adapter.is_null() || pp.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, readable by contract.
    let Some(adapter) = (unsafe { super::Adapter::from_ndk(adapter) }) else {
        return STATUS_INVALID_HANDLE;
    };
    let core = adapter.core();
    match core.net.new_connector(core) {
        // SAFETY: `pp` is non-null and writable by contract.
        Ok(obj) => unsafe { finish_create(obj, create_completion, request_context, pp) },
        Err(e) => e,
    }
}

/// The consumer's private data: NULL with a length, or more than `max`
/// bytes -> STATUS_INVALID_PARAMETER.
///
/// # Safety
/// `data` is NULL or has `len` readable bytes.
unsafe fn private_data<'a>(data: *const c_void, len: u32, max: u32) -> Result<&'a [u8], NtStatus> {
    if len > max || (data.is_null() && len != 0) {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-null with `len` readable bytes by contract.
    Ok(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) })
}

/// A read limit capped at the adapter's maximum (NDKPI: effective =
/// min(request, local max, peer's)).
fn cap(limit: u32, max: u32) -> u8 {
    u8::try_from(limit.min(max)).unwrap_or(u8::MAX)
}

/// Where an active connection comes from.
enum Source<'a> {
    Address(*const SOCKADDR, u32),
    Shared(&'a SharedEndpoint),
}

/// The destination must be a unicast host of the source's family.
/// Another family -> STATUS_NETWORK_UNREACHABLE (no route between
/// families); multicast / broadcast -> STATUS_HOST_UNREACHABLE; unspecified
/// or port 0 -> STATUS_INVALID_PARAMETER.
fn check_route(src: IpAddr, dst: SocketAddr) -> Result<(), NtStatus> {
    let dst_ip = dst.ip().to_canonical();
    if dst_ip.is_unspecified() || dst.port() == 0 {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if dst_ip.is_ipv4() != src.is_ipv4() {
        return Err(STATUS_NETWORK_UNREACHABLE);
    }
    let broadcast = matches!(dst_ip, IpAddr::V4(v4) if v4.is_broadcast());
    if dst_ip.is_multicast() || broadcast {
        return Err(STATUS_HOST_UNREACHABLE);
    }
    Ok(())
}

/// NdkConnect and NdkConnectWithSharedEndpoint.
///
/// # Safety
/// NDKPI contract for every pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn connect(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    from: impl FnOnce() -> Result<Source<'static>, NtStatus>,
    dst: *const SOCKADDR,
    dst_len: u32,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let qp = match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    let Some(completion) = completion else {
        return STATUS_INVALID_PARAMETER;
    };
    let core = &conn.base.core;
    let from = match from() {
        Ok(f) => f,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let remote = match unsafe { read_sockaddr(dst, dst_len) } {
        Ok((ip, port)) => SocketAddr::new(ip.to_canonical(), port),
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let user = match unsafe { private_data(data, data_len, MAX_CALLER_DATA) } {
        Ok(d) => d,
        Err(e) => return e,
    };
    let (local, se_events) = match from {
        Source::Address(src, src_len) => {
            // SAFETY: forwarded contract.
            let (ip, port) = match unsafe { read_sockaddr(src, src_len) } {
                Ok(a) => a,
                Err(e) => return e,
            };
            let ip = ip.to_canonical();
            let ip = if ip.is_unspecified() && ip.is_ipv4() == core.address.is_ipv4() {
                core.address
            } else {
                ip
            };
            if ip != core.address {
                return STATUS_INVALID_ADDRESS;
            }
            (LocalEndpoint::Bind(SocketAddr::new(ip, port)), None)
        }
        Source::Shared(se) => (LocalEndpoint::Shared(se.id), Some(se.base().events.clone())),
    };
    if let Err(e) = check_route(core.address, remote) {
        return e;
    }
    if !core.net.online() {
        return STATUS_NETWORK_UNREACHABLE;
    }
    let net = &core.net;
    let now = net.now();
    let mut st = net.lock();
    let fresh = st
        .conns
        .get(conn.slot)
        .and_then(Option::as_ref)
        .is_some_and(|e| !e.used && !e.passive);
    let qp_free = !qp_bound(&st, qp.qpn());
    if !fresh || !qp_free {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let recv_psn = st.cm.random_psn();
    let (ird, ord) = (
        cap(ird, MAX_INBOUND_READ_LIMIT),
        cap(ord, MAX_OUTBOUND_READ_LIMIT),
    );
    let params = ConnectParams {
        local,
        remote,
        local_qpn: qp.qpn(),
        recv_psn,
        inbound_read_limit: ird,
        outbound_read_limit: ord,
        path_mtu: PATH_MTU,
        private_data: user,
        retry_count: RETRY_COUNT,
        rnr_retry_count: RETRY_COUNT,
        srq: qp.has_srq(),
    };
    let id = match st.cm.connect(now, &params) {
        Ok(id) => id,
        Err(e) => return cm_status(e),
    };
    let local_addr = st.cm.conn_addrs(id).map(|a| a.0);
    bind_qp(
        &mut st,
        conn.slot,
        id,
        qp,
        se_events,
        (completion, context as usize),
    );
    if let Some(e) = st.conns.get_mut(conn.slot).and_then(Option::as_mut) {
        e.recv_psn = recv_psn;
    }
    qp.set_connection(Some(QpConnection {
        state: QpLinkState::Connecting,
        local: local_addr.unwrap_or(remote),
        remote,
        remote_qpn: 0,
        send_psn: 0,
        recv_psn,
        path_mtu: PATH_MTU,
        inbound_read_limit: ird,
        outbound_read_limit: ord,
        retry_count: RETRY_COUNT,
        rnr_retry_count: RETRY_COUNT,
        local_ack_timeout: st.cm.config().local_ack_timeout,
    }));
    net.pump(&mut st);
    drop(st);
    // The completion is queued to this connector's DPC (never called from
    // inside this call); the connector is not touched after the unlock.
    STATUS_PENDING
}

/// Whether a connector already uses QP `qpn`.
fn qp_bound(st: &NetState, qpn: u32) -> bool {
    st.conns
        .iter()
        .flatten()
        .any(|e| e.conn.is_some() && e.qp.as_ref().is_some_and(|q| q.0 == qpn))
}

/// Records a connection on the connector's slot: the CM connection, the
/// QP (and shared endpoint) as its parents, the pending request.
fn bind_qp(
    st: &mut NetState,
    slot: usize,
    id: ConnId,
    qp: &Qp,
    se: Option<Arc<super::object::Events>>,
    pending: Pending,
) {
    if let Some(e) = st.conns.get_mut(slot).and_then(Option::as_mut) {
        e.conn = Some(id);
        e.used = true;
        if e.passive {
            e.accept = Some(pending);
        } else {
            e.connect = Some(pending);
        }
        if e.qp.is_none() {
            qp.base().events.add_child();
            e.qp = Some((qp.qpn(), qp.base().events.clone()));
        }
        if let (None, Some(se)) = (&e.se, se) {
            se.add_child();
            e.se = Some(se);
        }
    }
}

/// NDK_FN_CONNECT: STATUS_PENDING, then the completion: SUCCESS when the
/// REP arrives; CONNECTION_REFUSED (REJ: no listener, paused, backlog,
/// rejected; the peer's REJ private data kept for NdkGetConnectionData);
/// IO_TIMEOUT (no answer after every retry, or REJ TIMEOUT); CANCELLED
/// (connector closed meanwhile). Inline: NULL/foreign connector or QP,
/// NULL RequestCompletion, bad SOCKADDR, private data > MaxCallerData ->
/// INVALID_PARAMETER / INVALID_HANDLE; source not this adapter's address ->
/// INVALID_ADDRESS; destination of another family -> NETWORK_UNREACHABLE
/// (also when the adapter has no carrier); multicast/broadcast destination
/// -> HOST_UNREACHABLE; port in use -> SHARING_VIOLATION; port 0 and no
/// ephemeral port -> TOO_MANY_ADDRESSES; same 4-tuple connected ->
/// ADDRESS_ALREADY_EXISTS; tables full -> INSUFFICIENT_RESOURCES; connector
/// already used or QP already connected -> INVALID_DEVICE_STATE.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    src: *const SOCKADDR,
    src_len: u32,
    dst: *const SOCKADDR,
    dst_len: u32,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkConnect");
    let from = || Ok(Source::Address(src, src_len));
    // SAFETY: forwarded contract.
    unsafe {
        connect(
            c, qp, from, dst, dst_len, ird, ord, data, data_len, completion, context,
        )
    }
}

/// NDK_FN_CONNECT_WITH_SHARED_ENDPOINT: NdkConnect from a shared endpoint's
/// address:port (several connectors share it; the 4-tuple must differ ->
/// else ADDRESS_ALREADY_EXISTS). The shared endpoint becomes a parent.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect_with_shared_endpoint(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    se: *mut NDK_SHARED_ENDPOINT,
    dst: *const SOCKADDR,
    dst_len: u32,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkConnectWithSharedEndpoint");
    // SAFETY: forwarded contract; the shared endpoint outlives the call
    // (the consumer does not close an object while calling it).
    let from = || unsafe { recover::<SharedEndpoint>(se.cast()) }.map(Source::Shared);
    // SAFETY: forwarded contract.
    unsafe {
        connect(
            c, qp, from, dst, dst_len, ird, ord, data, data_len, completion, context,
        )
    }
}

/// NdkCompleteConnect(Ex): the RTU; registers the disconnect callback.
/// Inline: SUCCESS (through the completion when completions are
/// deferred); not after a successful connect -> CONNECTION_INVALID; the
/// peer gave up (REJ/DREQ after its REP) -> CONNECTION_ABORTED.
///
/// # Safety
/// NDKPI contract.
unsafe fn complete_connect(
    c: *mut NDK_CONNECTOR,
    cb: Option<DisconnectCallback>,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    let net = &conn.base.core.net;
    let mut st = net.lock();
    let Some(e) = st.conns.get(conn.slot).and_then(Option::as_ref) else {
        return STATUS_CONNECTION_INVALID;
    };
    let (Some(id), false) = (e.conn, e.passive) else {
        return STATUS_CONNECTION_INVALID;
    };
    let qpn = e.qp.as_ref().map(|q| q.0);
    let status = match st.cm.complete_connect(id) {
        Ok(()) => {
            if let Some(e) = st.conns.get_mut(conn.slot).and_then(Option::as_mut) {
                e.on_disconnect = cb;
            }
            if let Some(qp) = qpn.and_then(|q| st.qp(q)) {
                qp.set_link_state(QpLinkState::Connected);
            }
            STATUS_SUCCESS
        }
        Err(e) => cm_status(e),
    };
    net.pump(&mut st);
    drop(st);
    finish_request(&conn.base, status, completion, context)
}

/// NDK_FN_COMPLETE_CONNECT (see `complete_connect`).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect(
    c: *mut NDK_CONNECTOR,
    event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    event_context: *mut c_void,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCompleteConnect");
    let cb = event.map(|f| DisconnectCallback::Plain(f, event_context as usize));
    // SAFETY: forwarded contract.
    unsafe { complete_connect(c, cb, completion, context) }
}

/// NDK_FN_COMPLETE_CONNECT_EX (2.1: the disconnect callback gets a reason).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect_ex(
    c: *mut NDK_CONNECTOR,
    event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    event_context: *mut c_void,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCompleteConnectEx");
    let cb = event.map(|f| DisconnectCallback::Ex(f, event_context as usize));
    // SAFETY: forwarded contract.
    unsafe { complete_connect(c, cb, completion, context) }
}

/// NdkAccept(Ex): the REP with the capped read limits and private data;
/// STATUS_PENDING, then SUCCESS when the RTU (or first traffic) arrives,
/// IO_TIMEOUT when the active side never completes, CONNECTION_ABORTED when
/// it gave up, CANCELLED if the connector closes first. Inline: private
/// data > MaxCalleeData -> INVALID_PARAMETER; not a delivered request ->
/// CONNECTION_INVALID; the peer already gave up -> CONNECTION_ABORTED.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe fn accept(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    cb: Option<DisconnectCallback>,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let qp = match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    let Some(completion) = completion else {
        return STATUS_INVALID_PARAMETER;
    };
    // SAFETY: forwarded contract.
    let user = match unsafe { private_data(data, data_len, MAX_CALLEE_DATA) } {
        Ok(d) => d,
        Err(e) => return e,
    };
    let net = &conn.base.core.net;
    let now = net.now();
    let mut st = net.lock();
    let Some(e) = st.conns.get(conn.slot).and_then(Option::as_ref) else {
        return STATUS_CONNECTION_INVALID;
    };
    let (Some(id), true, Some(req)) = (e.conn, e.passive, e.request) else {
        return STATUS_CONNECTION_INVALID;
    };
    if e.accept.is_some() || qp_bound(&st, qp.qpn()) {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let recv_psn = st.cm.random_psn();
    let params = AcceptParams {
        local_qpn: qp.qpn(),
        recv_psn,
        inbound_read_limit: cap(ird, MAX_INBOUND_READ_LIMIT),
        outbound_read_limit: cap(ord, MAX_OUTBOUND_READ_LIMIT),
        private_data: user,
        rnr_retry_count: RETRY_COUNT,
        srq: qp.has_srq(),
    };
    let (ird, ord) = match st.cm.accept(now, id, &params) {
        Ok(limits) => limits,
        Err(e) => return cm_status(e),
    };
    bind_qp(
        &mut st,
        conn.slot,
        id,
        qp,
        None,
        (completion, context as usize),
    );
    if let Some(e) = st.conns.get_mut(conn.slot).and_then(Option::as_mut) {
        e.on_disconnect = cb;
        e.recv_psn = recv_psn;
    }
    qp.set_connection(Some(QpConnection {
        state: QpLinkState::Connecting,
        local: req.local,
        remote: req.remote,
        remote_qpn: req.remote_qpn,
        send_psn: req.send_psn,
        recv_psn,
        path_mtu: req.path_mtu,
        inbound_read_limit: ird,
        outbound_read_limit: ord,
        retry_count: req.retry_count,
        rnr_retry_count: req.rnr_retry_count,
        local_ack_timeout: req.local_ack_timeout,
    }));
    net.pump(&mut st);
    drop(st);
    STATUS_PENDING
}

/// NDK_FN_ACCEPT (see `accept`).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    event_context: *mut c_void,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkAccept");
    let cb = event.map(|f| DisconnectCallback::Plain(f, event_context as usize));
    // SAFETY: forwarded contract.
    unsafe { accept(c, qp, ird, ord, data, data_len, cb, completion, context) }
}

/// NDK_FN_ACCEPT_EX (see `accept`; 2.1 disconnect callback with a reason).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept_ex(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    ird: u32,
    ord: u32,
    data: *const c_void,
    data_len: u32,
    event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    event_context: *mut c_void,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkAcceptEx");
    let cb = event.map(|f| DisconnectCallback::Ex(f, event_context as usize));
    // SAFETY: forwarded contract.
    unsafe { accept(c, qp, ird, ord, data, data_len, cb, completion, context) }
}

/// NDK_FN_REJECT (synchronous): a REJ (consumer defined) with the private
/// data, for a delivered request (passive) or after a successful connect
/// (active). SUCCESS; the peer already gave up -> CONNECTION_ABORTED;
/// nothing to reject -> CONNECTION_INVALID; private data > MaxCalleeData ->
/// INVALID_PARAMETER.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_reject(
    c: *mut NDK_CONNECTOR,
    data: *const c_void,
    data_len: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkReject");
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let user = match unsafe { private_data(data, data_len, MAX_CALLEE_DATA) } {
        Ok(d) => d,
        Err(e) => return e,
    };
    let net = &conn.base.core.net;
    let mut st = net.lock();
    let Some(id) = st.conns.get(conn.slot).and_then(|e| e.as_ref()?.conn) else {
        return STATUS_CONNECTION_INVALID;
    };
    let status = match st.cm.reject(id, user) {
        Ok(()) => STATUS_SUCCESS,
        Err(e) => cm_status(e),
    };
    net.pump(&mut st);
    status
}

/// NDK_FN_GET_CONNECTION_DATA: the effective read limits and the peer's
/// private data (REQ, REP or REJ) with the RDS protocol of NDKPI §5.8: RDS
/// = the size of the message's private data area (56 REQ, 196 REP, 148
/// REJ; IB CM carries no length). NULL buffer and *len 0 -> SUCCESS, *len =
/// RDS; NULL buffer and *len > 0, or NULL len -> INVALID_PARAMETER;
/// otherwise min(*len, RDS) bytes copied, SUCCESS if *len >= RDS else
/// BUFFER_TOO_SMALL, *len = RDS always. Before a request was delivered or
/// a connect completed -> CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_connection_data(
    c: *mut NDK_CONNECTOR,
    ird: *mut u32,
    ord: *mut u32,
    data: *mut c_void,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetConnectionData");
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    if len.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null, readable by contract.
    let have = unsafe { len.read_unaligned() };
    if data.is_null() && have != 0 {
        return STATUS_INVALID_PARAMETER;
    }
    let got = {
        let st = conn.base.core.net.lock();
        let entry = st.conns.get(conn.slot).and_then(Option::as_ref);
        // Active: only once the connect completed (REP or REJ received).
        let ready = entry.is_some_and(|e| e.passive || (e.used && e.connect.is_none()));
        let id = entry.and_then(|e| e.conn).filter(|_| ready);
        id.and_then(|id| st.cm.connection_data(id))
    };
    let Some((pd, in_limit, out_limit)) = got else {
        return STATUS_CONNECTION_INVALID;
    };
    let bytes = pd.as_slice();
    let rds = bytes.len() as u32;
    // SAFETY: optional outputs, writable when non-null by contract.
    unsafe {
        if !ird.is_null() {
            ird.write_unaligned(u32::from(in_limit).min(MAX_INBOUND_READ_LIMIT));
        }
        if !ord.is_null() {
            ord.write_unaligned(u32::from(out_limit).min(MAX_OUTBOUND_READ_LIMIT));
        }
        len.write_unaligned(rds);
    }
    if data.is_null() {
        return STATUS_SUCCESS;
    }
    let n = have.min(rds) as usize;
    if let Some(src) = bytes.get(..n) {
        // SAFETY: `data` has `have` >= n writable bytes by contract.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), data.cast::<u8>(), n) };
    }
    if have >= rds {
        STATUS_SUCCESS
    } else {
        STATUS_BUFFER_TOO_SMALL
    }
}

/// The local (`peer` false) or peer address of a connecting or connected
/// connector, with the size protocol; none -> CONNECTION_INVALID.
///
/// # Safety
/// NDKPI contract.
unsafe fn address(
    c: *mut NDK_CONNECTOR,
    peer: bool,
    out: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    let addrs = {
        let st = conn.base.core.net.lock();
        let id = st.conns.get(conn.slot).and_then(|e| e.as_ref()?.conn);
        id.and_then(|id| st.cm.conn_addrs(id))
    };
    let Some((local, remote)) = addrs else {
        return STATUS_CONNECTION_INVALID;
    };
    let a = if peer { remote } else { local };
    // SAFETY: forwarded contract.
    unsafe { write_sockaddr((a.ip(), a.port()), out, len) }
}

/// NDK_FN_GET_LOCAL_ADDRESS (connector): our address and port.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_local_address(
    c: *mut NDK_CONNECTOR,
    out: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetLocalAddress");
    // SAFETY: forwarded contract.
    unsafe { address(c, false, out, len) }
}

/// NDK_FN_GET_PEER_ADDRESS: the peer's address and port (for a passive
/// connector: the source port of the peer's CMA header).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_peer_address(
    c: *mut NDK_CONNECTOR,
    out: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkGetPeerAddress");
    // SAFETY: forwarded contract.
    unsafe { address(c, true, out, len) }
}

/// NDK_FN_DISCONNECT: a DREQ; STATUS_PENDING, then SUCCESS (DREP, or the
/// peer's DREQ crossed ours) or IO_TIMEOUT (no answer after every retry),
/// the QP flushed just before. The peer already disconnected -> flush and
/// SUCCESS inline (through the completion when deferred). Not connected ->
/// CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_disconnect(
    c: *mut NDK_CONNECTOR,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkDisconnect");
    // SAFETY: forwarded contract.
    let conn = match unsafe { recover::<Connector>(c.cast()) } {
        Ok(x) => x,
        Err(e) => return e,
    };
    let Some(completion) = completion else {
        return STATUS_INVALID_PARAMETER;
    };
    let net = &conn.base.core.net;
    let now = net.now();
    let mut st = net.lock();
    let Some(e) = st.conns.get(conn.slot).and_then(Option::as_ref) else {
        return STATUS_CONNECTION_INVALID;
    };
    let (Some(id), None) = (e.conn, e.disconnect) else {
        return STATUS_CONNECTION_INVALID;
    };
    let qpn = e.qp.as_ref().map(|q| q.0);
    let status = match st.cm.disconnect(now, id) {
        Ok(DisconnectStarted::Pending) => {
            if let Some(e) = st.conns.get_mut(conn.slot).and_then(Option::as_mut) {
                e.disconnect = Some((completion, context as usize));
            }
            STATUS_PENDING
        }
        Ok(DisconnectStarted::AlreadyDisconnected) => {
            if let Some(qp) = qpn.and_then(|q| st.qp(q)) {
                qp.set_link_state(QpLinkState::Down);
                qp.flush();
            }
            STATUS_SUCCESS
        }
        Err(e) => cm_status(e),
    };
    net.pump(&mut st);
    drop(st);
    if status == STATUS_PENDING {
        return status;
    }
    finish_request(&conn.base, status, Some(completion), context)
}
