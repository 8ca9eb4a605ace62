//! The active side of a connector: NdkConnect, NdkConnectWithSharedEndpoint
//! (route and address checks, the REQ through the CM, the QP's connection
//! record) and NdkCompleteConnect(Ex) (the RTU, the disconnect callback).
//! Owns those checks; completions come back through `net/events.rs`. Must
//! not call the consumer.

use core::ffi::c_void;
use core::net::{IpAddr, SocketAddr};

use crate::abi::*;
use crate::cm::{ConnectParams, LocalEndpoint};
use crate::os::{irql, Irql};

use super::connector::{bind_qp, cap, qp_bound, request, Connector, Request};
use super::endpoint::read_sockaddr;
use super::limits::{MAX_CALLER_DATA, MAX_INBOUND_READ_LIMIT, MAX_OUTBOUND_READ_LIMIT};
use super::net::{cm_status, RETRY_COUNT};
use super::object::{finish_request, recover, DisconnectCallback, Object};
use super::qp::{QpConnection, QpLinkState};
use super::shared_endpoint::SharedEndpoint;

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
    let Request {
        conn,
        qp,
        completion,
        data: user,
    } = match unsafe { request(c, qp, completion, (data, data_len), MAX_CALLER_DATA) } {
        Ok(r) => r,
        Err(e) => return e,
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
    // Our REQ asks for the adapter's MTU and the connection runs at it (the
    // active side's path record, as rdma_cm's from the netdev's MTU).
    let path_mtu = st.cm.config().max_path_mtu;
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
        path_mtu,
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
        net.link_attempt(e);
    }
    qp.set_connection(Some(QpConnection {
        state: QpLinkState::Connecting,
        local: local_addr.unwrap_or(remote),
        remote,
        remote_qpn: 0,
        send_psn: 0,
        recv_psn,
        path_mtu,
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
pub(super) unsafe extern "system" fn ndk_connect(
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
pub(super) unsafe extern "system" fn ndk_connect_with_shared_endpoint(
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
                net.link_up(e);
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
pub(super) unsafe extern "system" fn ndk_complete_connect(
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
pub(super) unsafe extern "system" fn ndk_complete_connect_ex(
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
