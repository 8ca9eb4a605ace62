//! The queue pair object: NdkCreateQp / NdkCreateQpWithSrq (PD table) and
//! NDK_QP_DISPATCH. Owns creation (limits, preallocated queues, parents:
//! PD, both CQs, the SRQ), close, NdkReceive (queued in the preallocated
//! receive ring) and NdkFlush (queued receives complete with
//! STATUS_CANCELLED). The initiator posts belong to the data path (pending
//! the transport engine and the connector): an unconnected QP answers them
//! STATUS_CONNECTION_INVALID, which is what NDKPI requires of a QP that is
//! not connected, and no QP can be connected yet.

use core::ffi::c_void;
use core::ptr::NonNull;

use crate::abi::{
    NdkObjectTypeQp, NdkOperationTypeReceive, NtStatus, NDK_CQ, NDK_FN_CREATE_COMPLETION,
    NDK_LOGICAL_ADDRESS, NDK_MR, NDK_MW, NDK_OBJECT_HEADER, NDK_PD, NDK_QP, NDK_QP_DISPATCH,
    NDK_SGE, NDK_SRQ, STATUS_CANCELLED, STATUS_CONNECTION_INVALID, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};
use crate::verbs::cq::CqEntry;
use crate::verbs::memory::Access;
use crate::verbs::wq::{RecvQueue, Sge, MAX_SGE};

use super::core::tags;
use super::cq::CqObject;
use super::extension::ndk_query_extension;
use super::limits::{
    MAX_INITIATOR_QUEUE_DEPTH, MAX_INITIATOR_REQUEST_SGE, MAX_INLINE_DATA_SIZE,
    MAX_RECEIVE_QUEUE_DEPTH, MAX_RECEIVE_REQUEST_SGE,
};
use super::object::{child_create, create, header, ndk_close, recover, Base, NewObject, Object};
use super::pd::Pd;
use super::sge::{read_sges, PdKeys};
use super::srq::SrqObject;

/// A pointer to a parent object, which outlives the QP (its close pends
/// while the QP exists).
struct Parent<T>(NonNull<T>);

// SAFETY: the parents are provider objects whose shared state is behind
// spin locks and atomics; the pointer is only dereferenced as `&T`.
unsafe impl<T> Send for Parent<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for Parent<T> {}

impl<T> Parent<T> {
    fn get(&self) -> &T {
        // SAFETY: a parent's close cannot complete (nor free it) before
        // this child's close has completed (`object::close`).
        unsafe { self.0.as_ref() }
    }
}

/// The limits a QP was created with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct QpLimits {
    pub receive_depth: u32,
    pub initiator_depth: u32,
    pub receive_sge: u32,
    pub initiator_sge: u32,
    pub inline: u32,
}

/// A queue pair.
#[repr(C)]
pub(crate) struct Qp {
    ndk: NDK_QP,
    base: Base,
    keys: PdKeys,
    context: usize,
    limits: QpLimits,
    receive_cq: Parent<CqObject>,
    initiator_cq: Parent<CqObject>,
    srq: Option<Parent<SrqObject>>,
    receives: SpinLock<RecvQueue>,
    /// Preallocated initiator slots (request context + SGEs), for the data path.
    #[allow(dead_code)]
    initiator: SpinLock<RecvQueue>,
    /// Our QP number (the adapter's receive demux routes packets by it).
    qpn: u32,
    /// What the connector recorded for the data path (see [`QpConnection`]).
    connection: SpinLock<Option<QpConnection>>,
}

/// Where a QP's connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QpLinkState {
    /// NdkConnect / NdkAccept is under way (the peer's values may be partial).
    Connecting,
    /// CompleteConnect sent the RTU (active) or the RTU arrived (passive):
    /// the data path may send.
    Connected,
    /// Disconnected (by us or the peer) or the connector closed.
    Down,
}

/// What the data path needs once the QP is connected: the connector records
/// it here (`Qp::set_connection`); the transport integration reads it with
/// [`Qp::connection`] to build its RC QP (RTR with `recv_psn`, RTS with
/// `send_psn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct QpConnection {
    pub state: QpLinkState,
    pub local: core::net::SocketAddr,
    pub remote: core::net::SocketAddr,
    pub remote_qpn: u32,
    /// The PSN we send from (the peer's REQ/REP Starting PSN).
    pub send_psn: u32,
    /// The PSN we expect first (what we sent as Starting PSN).
    pub recv_psn: u32,
    /// IB MTU enum (1=256 .. 5=4096).
    pub path_mtu: u8,
    /// Effective incoming RDMA reads allowed at once.
    pub inbound_read_limit: u8,
    /// Effective RDMA reads we may issue at once.
    pub outbound_read_limit: u8,
    /// Transport retry count for our requests (3 bits, 7 = infinite).
    pub retry_count: u8,
    /// RNR retry count for our requests (3 bits, 7 = infinite).
    pub rnr_retry_count: u8,
    /// Local ACK timeout exponent (4.096 us x 2^n).
    pub local_ack_timeout: u8,
}

impl Qp {
    /// Whether the QP receives from an SRQ. IRQL: any.
    pub(crate) fn has_srq(&self) -> bool {
        self.srq.is_some()
    }

    /// Our QP number. IRQL: any.
    pub(crate) fn qpn(&self) -> u32 {
        self.qpn
    }

    /// The connection record (None until NdkConnect / NdkAccept).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn connection(&self) -> Option<QpConnection> {
        *self.connection.lock()
    }

    /// Replaces the connection record. The data-path integration hooks here
    /// (start / stop its RC engine on `state` changes).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn set_connection(&self, c: Option<QpConnection>) {
        *self.connection.lock() = c;
    }

    /// Updates the state of the connection record, if any.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn set_link_state(&self, state: QpLinkState) {
        if let Some(c) = self.connection.lock().as_mut() {
            c.state = state;
        }
    }

    /// NdkFlush's work, also the implicit flush after NdkDisconnect: every
    /// queued receive completes with STATUS_CANCELLED (the data path adds
    /// its initiator requests here).
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn flush(&self) {
        let mut scratch = [Sge::default(); MAX_SGE];
        loop {
            let next = self.receives.lock().pop(&mut scratch);
            let Some((ctx, _)) = next else { break };
            let entry = CqEntry {
                status: STATUS_CANCELLED.0,
                bytes: 0,
                qp_context: self.context,
                request_context: ctx,
                op: NdkOperationTypeReceive,
                provider_error: 0,
                type_specific: 0,
            };
            self.receive_cq.get().complete(entry, false);
        }
    }
}

impl Drop for Qp {
    fn drop(&mut self) {
        self.base.core.net.unregister_qp(self.qpn);
    }
}
const _: () = assert!(core::mem::offset_of!(Qp, ndk) == 0);

impl Object for Qp {
    const TYPE: u32 = NdkObjectTypeQp;
    const TAG: PoolTag = tags::QP;
    const CLOSE: &'static str = "NdkCloseQp";
    fn dispatch() -> *const c_void {
        (&QP_DISPATCH as *const NDK_QP_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
    fn on_close(&self) {
        // Receives still queued are discarded: no completion follows a close.
        self.receives.lock().clear();
    }
}

/// The table every QP's `Dispatch` points to, in ABI order.
pub static QP_DISPATCH: NDK_QP_DISPATCH = NDK_QP_DISPATCH {
    NdkCloseQp: ndk_close::<Qp>,
    NdkQueryExtension: ndk_query_extension,
    NdkFlush: ndk_flush,
    NdkSend: ndk_send,
    NdkReceive: ndk_receive,
    NdkBind: ndk_bind,
    NdkFastRegister: ndk_fast_register,
    NdkInvalidate: ndk_invalidate,
    NdkRead: ndk_read,
    NdkWrite: ndk_write,
    NdkSendAndInvalidate: ndk_send_and_invalidate,
};

/// The checks and allocation both creates share.
///
/// # Safety
/// NDKPI contract for every pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn create_qp(
    pd: *mut NDK_PD,
    receive_cq: *mut NDK_CQ,
    initiator_cq: *mut NDK_CQ,
    srq: *mut NDK_SRQ,
    context: *mut c_void,
    limits: QpLimits,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_qp: *mut *mut NDK_QP,
) -> NtStatus {
    let make = |pd: &Pd| {
        // SAFETY: forwarded contract.
        let rcq = unsafe { recover::<CqObject>(receive_cq.cast()) }?;
        // SAFETY: forwarded contract.
        let icq = unsafe { recover::<CqObject>(initiator_cq.cast()) }?;
        let srq = if srq.is_null() {
            None
        } else {
            // SAFETY: forwarded contract.
            Some(unsafe { recover::<SrqObject>(srq.cast()) }?)
        };
        let core = &pd.base().core;
        let same_adapter = alloc::sync::Arc::ptr_eq(&rcq.base_ref().core, core)
            && alloc::sync::Arc::ptr_eq(&icq.base_ref().core, core);
        let srq_ok = srq.is_none_or(|s| s.keys.pd == pd.id);
        if !same_adapter
            || !srq_ok
            || limits.receive_depth > MAX_RECEIVE_QUEUE_DEPTH
            || limits.initiator_depth > MAX_INITIATOR_QUEUE_DEPTH
            || limits.receive_sge > MAX_RECEIVE_REQUEST_SGE
            || limits.initiator_sge > MAX_INITIATOR_REQUEST_SGE
            || limits.inline > MAX_INLINE_DATA_SIZE
        {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let receives = RecvQueue::try_new(limits.receive_depth, limits.receive_sge)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        let initiator = RecvQueue::try_new(limits.initiator_depth, limits.initiator_sge)
            .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        let extra = RecvQueue::bytes(limits.receive_depth, limits.receive_sge).saturating_add(
            RecvQueue::bytes(limits.initiator_depth, limits.initiator_sge),
        );
        let mut new = NewObject::of(core)
            .child_of(&pd.base().events)
            .child_of(&rcq.base_ref().events)
            .child_of(&icq.base_ref().events)
            .extra(extra);
        if let Some(s) = srq {
            new = new.child_of(&s.base_ref().events);
        }
        let qpn = core.net.reserve_qpn()?;
        let made = create(new, |base| Qp {
            ndk: NDK_QP {
                Header: header(core, NdkObjectTypeQp),
                Dispatch: &QP_DISPATCH,
            },
            base,
            keys: PdKeys {
                pd: pd.id,
                privileged: pd.privileged,
            },
            context: context as usize,
            limits,
            receive_cq: Parent(NonNull::from(rcq)),
            initiator_cq: Parent(NonNull::from(icq)),
            srq: srq.map(|s| Parent(NonNull::from(s))),
            receives: SpinLock::new(receives),
            initiator: SpinLock::new(initiator),
            qpn,
            connection: SpinLock::new(None),
        });
        match made {
            Ok(ptr) => {
                core.net.attach_qp(qpn, ptr);
                Ok(ptr)
            }
            Err(e) => {
                core.net.unregister_qp(qpn);
                Err(e)
            }
        }
    };
    // SAFETY: forwarded contract.
    unsafe { child_create(pd.cast(), pp_qp, create_completion, request_context, make) }
}

/// NDK_FN_CREATE_QP (PD table). NULL or foreign PD/CQ ->
/// STATUS_INVALID_PARAMETER / STATUS_INVALID_HANDLE; CQs of another adapter,
/// depths, SGE counts or InlineDataSize above the adapter's limits, NULL
/// out-param -> STATUS_INVALID_PARAMETER. Both queues are allocated here.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_create_qp(
    pd: *mut NDK_PD,
    receive_cq: *mut NDK_CQ,
    initiator_cq: *mut NDK_CQ,
    qp_context: *mut c_void,
    receive_depth: u32,
    initiator_depth: u32,
    receive_sge: u32,
    initiator_sge: u32,
    inline_data_size: u32,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_qp: *mut *mut NDK_QP,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateQp");
    let limits = QpLimits {
        receive_depth,
        initiator_depth,
        receive_sge,
        initiator_sge,
        inline: inline_data_size,
    };
    // SAFETY: forwarded contract.
    unsafe {
        create_qp(
            pd,
            receive_cq,
            initiator_cq,
            core::ptr::null_mut(),
            qp_context,
            limits,
            create_completion,
            request_context,
            pp_qp,
        )
    }
}

/// NDK_FN_CREATE_QP_WITH_SRQ (PD table): as NdkCreateQp, receives come from
/// the SRQ (of the same PD, else STATUS_INVALID_PARAMETER; NULL ->
/// STATUS_INVALID_PARAMETER).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_create_qp_with_srq(
    pd: *mut NDK_PD,
    receive_cq: *mut NDK_CQ,
    initiator_cq: *mut NDK_CQ,
    srq: *mut NDK_SRQ,
    qp_context: *mut c_void,
    initiator_depth: u32,
    initiator_sge: u32,
    inline_data_size: u32,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_qp: *mut *mut NDK_QP,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateQpWithSrq");
    if srq.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let limits = QpLimits {
        receive_depth: 0,
        initiator_depth,
        receive_sge: 0,
        initiator_sge,
        inline: inline_data_size,
    };
    // SAFETY: forwarded contract.
    unsafe {
        create_qp(
            pd,
            receive_cq,
            initiator_cq,
            srq,
            qp_context,
            limits,
            create_completion,
            request_context,
            pp_qp,
        )
    }
}

/// NDK_FN_FLUSH: every queued receive completes on the receive CQ with
/// STATUS_CANCELLED (Type Receive), in posting order. (No initiator request
/// can be outstanding yet.)
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_flush(qp: *mut NDK_QP) {
    irql::assert_at_most(Irql::Dispatch, "NdkFlush");
    // SAFETY: forwarded contract.
    let Ok(qp) = (unsafe { recover::<Qp>(qp.cast()) }) else {
        return;
    };
    qp.flush();
}

/// NDK_FN_RECEIVE: queues a receive. A QP using an SRQ ->
/// STATUS_INVALID_DEVICE_REQUEST; its receive CQ overran ->
/// STATUS_INVALID_DEVICE_STATE; more SGEs than the QP's
/// MaxReceiveRequestSge -> STATUS_INVALID_PARAMETER; a bad SGE (token,
/// PD, range, LOCAL_WRITE, LAM) -> STATUS_ACCESS_VIOLATION; queue full ->
/// STATUS_INSUFFICIENT_RESOURCES. A failed post queues nothing (and so never
/// produces a completion).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_receive(
    qp: *mut NDK_QP,
    request_context: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkReceive");
    // SAFETY: forwarded contract.
    let qp = match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    if qp.srq.is_some() {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if !qp.receive_cq.get().is_usable() {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let mut sges = [Sge::default(); MAX_SGE];
    // SAFETY: forwarded contract.
    let n = match unsafe {
        read_sges(
            &qp.base.core,
            qp.keys,
            sgl,
            n,
            qp.limits.receive_sge as usize,
            Access::LOCAL_WRITE,
            &mut sges,
        )
    } {
        Ok(n) => n,
        Err(e) => return e,
    };
    match qp
        .receives
        .lock()
        .push(request_context as usize, sges.get(..n).unwrap_or(&[]))
    {
        Ok(()) => STATUS_SUCCESS,
        Err(_) => STATUS_INSUFFICIENT_RESOURCES,
    }
}

/// The answer of every initiator post until the QP can be connected: a bad
/// QP -> its status; otherwise STATUS_CONNECTION_INVALID (not connected),
/// with nothing queued and so no completion.
///
/// # Safety
/// NDKPI contract.
unsafe fn not_connected(qp: *mut NDK_QP, what: &'static str) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, what);
    // SAFETY: forwarded contract.
    match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(_) => STATUS_CONNECTION_INVALID,
        Err(e) => e,
    }
}

/// NDK_FN_SEND (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_send(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _sgl: *const NDK_SGE,
    _n: u32,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkSend") }
}

/// NDK_FN_BIND (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_bind(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _mr: *mut NDK_MR,
    _mw: *mut NDK_MW,
    _va: *mut c_void,
    _len: usize,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkBind") }
}

/// NDK_FN_FAST_REGISTER (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_fast_register(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _mr: *mut NDK_MR,
    _pages: u32,
    _page_array: *const NDK_LOGICAL_ADDRESS,
    _fbo: u32,
    _len: usize,
    _base: *mut c_void,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkFastRegister") }
}

/// NDK_FN_INVALIDATE (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_invalidate(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _target: *mut NDK_OBJECT_HEADER,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkInvalidate") }
}

/// NDK_FN_READ (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_read(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _sgl: *const NDK_SGE,
    _n: u32,
    _remote_address: u64,
    _remote_token: u32,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkRead") }
}

/// NDK_FN_WRITE (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_write(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _sgl: *const NDK_SGE,
    _n: u32,
    _remote_address: u64,
    _remote_token: u32,
    _flags: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkWrite") }
}

/// NDK_FN_SEND_AND_INVALIDATE (data path pending): STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_send_and_invalidate(
    qp: *mut NDK_QP,
    _ctx: *mut c_void,
    _sgl: *const NDK_SGE,
    _n: u32,
    _flags: u32,
    _remote_token: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { not_connected(qp, "NdkSendAndInvalidate") }
}
