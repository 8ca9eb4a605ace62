//! The connector object: NdkCreateConnector (adapter table), the 13-entry
//! NDK_CONNECTOR_DISPATCH, the close that cancels what is pending, and the
//! entries both sides share: NdkReject, NdkGetConnectionData,
//! NdkGetLocalAddress / NdkGetPeerAddress, NdkDisconnect, over the
//! adapter's CM engine (`net.rs`). The active side's entries are in
//! `connector_active.rs`, the passive side's in `connector_passive.rs`. Statuses per request: `docs/CM.md` (NTSTATUS mapping) and
//! `docs/COMPLIANCE.md`.
//!
//! Owns the connector's argument checks and its requests to the CM; the
//! completions and events come back through `net.rs` as callbacks queued to
//! this object's DPC. Must not call the consumer or touch packets.

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::*;
use crate::cm::{ConnId, DisconnectStarted};
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::endpoint::write_sockaddr;
use super::extension::ndk_query_extension;
use super::limits::{MAX_CALLEE_DATA, MAX_INBOUND_READ_LIMIT, MAX_OUTBOUND_READ_LIMIT};
use super::net::{cm_status, NetState, Pending};
use super::object::{finish_create, finish_request, ndk_close, recover, Base, Object};
use super::qp::{Qp, QpLinkState};

/// A connector: its slot in the adapter's connector table holds its CM
/// connection and pending requests.
#[repr(C)]
pub(crate) struct Connector {
    ndk: NDK_CONNECTOR,
    pub(super) base: Base,
    /// Its slot in the runtime's connector table.
    pub(super) slot: usize,
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
    NdkConnect: super::connector_active::ndk_connect,
    NdkConnectWithSharedEndpoint: super::connector_active::ndk_connect_with_shared_endpoint,
    NdkCompleteConnect: super::connector_active::ndk_complete_connect,
    NdkAccept: super::connector_passive::ndk_accept,
    NdkReject: ndk_reject,
    NdkGetConnectionData: ndk_get_connection_data,
    NdkGetLocalAddress: ndk_get_local_address,
    NdkGetPeerAddress: ndk_get_peer_address,
    NdkDisconnect: ndk_disconnect,
    NdkCompleteConnectEx: super::connector_active::ndk_complete_connect_ex,
    NdkAcceptEx: super::connector_passive::ndk_accept_ex,
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
pub(super) unsafe fn private_data<'a>(
    data: *const c_void,
    len: u32,
    max: u32,
) -> Result<&'a [u8], NtStatus> {
    if len > max || (data.is_null() && len != 0) {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if len == 0 {
        return Ok(&[]);
    }
    // SAFETY: non-null with `len` readable bytes by contract.
    Ok(unsafe { core::slice::from_raw_parts(data.cast::<u8>(), len as usize) })
}

/// What NdkConnect(WithSharedEndpoint) and NdkAccept(Ex) check first.
pub(super) struct Request<'a> {
    pub conn: &'a Connector,
    pub qp: &'a Qp,
    pub completion: NDK_FN_REQUEST_COMPLETION,
    pub data: &'a [u8],
}

/// The connector and the QP (their statuses), a RequestCompletion (NULL ->
/// STATUS_INVALID_PARAMETER) and the private data (at most `max` bytes).
///
/// # Safety
/// NDKPI contract for every pointer.
pub(super) unsafe fn request<'a>(
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    data: (*const c_void, u32),
    max: u32,
) -> Result<Request<'a>, NtStatus> {
    // SAFETY: forwarded contract.
    let conn = unsafe { recover::<Connector>(c.cast()) }?;
    // SAFETY: forwarded contract.
    let qp = unsafe { recover::<Qp>(qp.cast()) }?;
    let completion = completion.ok_or(STATUS_INVALID_PARAMETER)?;
    // SAFETY: forwarded contract.
    let data = unsafe { private_data(data.0, data.1, max) }?;
    Ok(Request {
        conn,
        qp,
        completion,
        data,
    })
}

/// A read limit capped at the adapter's maximum (NDKPI: effective =
/// min(request, local max, peer's)).
pub(super) fn cap(limit: u32, max: u32) -> u8 {
    u8::try_from(limit.min(max)).unwrap_or(u8::MAX)
}

/// Whether a connector already uses QP `qpn`.
pub(super) fn qp_bound(st: &NetState, qpn: u32) -> bool {
    st.conns
        .iter()
        .flatten()
        .any(|e| e.conn.is_some() && e.qp.as_ref().is_some_and(|q| q.0 == qpn))
}

/// Records a connection on the connector's slot: the CM connection, the
/// QP (and shared endpoint) as its parents, the pending request.
pub(super) fn bind_qp(
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
        Ok(()) => {
            if let Some(e) = st.conns.get_mut(conn.slot).and_then(Option::as_mut) {
                net.link_end(e);
            }
            STATUS_SUCCESS
        }
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
