//! The passive side of a connector (delivered by a listener's
//! ConnectEvent): NdkAccept(Ex): the REP with the capped read limits and
//! private data, the disconnect callback, the QP's connection record from
//! the peer's REQ. Owns those checks; the completion comes back through
//! `net/events.rs`. Must not call the consumer.

use core::ffi::c_void;

use crate::abi::*;
use crate::cm::AcceptParams;
use crate::os::{irql, Irql};

use super::connector::{bind_qp, cap, qp_bound, request, Request};
use super::limits::{MAX_CALLEE_DATA, MAX_INBOUND_READ_LIMIT, MAX_OUTBOUND_READ_LIMIT};
use super::net::{cm_status, RETRY_COUNT};
use super::object::DisconnectCallback;
use super::qp::{QpConnection, QpLinkState};

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
    let Request {
        conn,
        qp,
        completion,
        data: user,
    } = match unsafe { request(c, qp, completion, (data, data_len), MAX_CALLEE_DATA) } {
        Ok(r) => r,
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
        net.link_attempt(e);
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
pub(super) unsafe extern "system" fn ndk_accept(
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
pub(super) unsafe extern "system" fn ndk_accept_ex(
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
