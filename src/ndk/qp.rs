//! The queue pair object: NdkCreateQp / NdkCreateQpWithSrq (PD table) and
//! NDK_QP_DISPATCH. Owns creation (limits, parents: PD, both CQs, the SRQ,
//! and the data path with every queue preallocated), close (which flushes
//! first, as NdkFlush does: facts §5.2), NdkReceive
//! (queued in the data path's receive ring) and NdkFlush, plus the hooks the
//! connection work calls (`connect_datapath`, `deliver`,
//! `disconnect_datapath`). The initiator posts are `qp_post` (Send, Write,
//! Read, SendAndInvalidate) and `qp_local` (Bind, FastRegister,
//! Invalidate); the engine glue is `datapath`.

use core::ffi::c_void;
use core::ptr::NonNull;

use alloc::sync::Arc;

use crate::abi::{
    NdkObjectTypeQp, NtStatus, NDK_CQ, NDK_FN_CREATE_COMPLETION, NDK_PD, NDK_QP, NDK_QP_DISPATCH,
    NDK_SGE, NDK_SRQ, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Instant, Irql, PoolTag, SpinLock};
use crate::transport::Mtu;
use crate::verbs::memory::Access;
use crate::verbs::wq::{Sge, MAX_SGE};
use crate::wire::PacketRepr;

use super::core::tags;
use super::cq::CqObject;
use super::datapath::{ConnectError, ConnectParams, Datapath, PacketSink, Sizes};
use super::extension::ndk_query_extension;
use super::limits::{
    MAX_INITIATOR_QUEUE_DEPTH, MAX_INITIATOR_REQUEST_SGE, MAX_INLINE_DATA_SIZE,
    MAX_RECEIVE_QUEUE_DEPTH, MAX_RECEIVE_REQUEST_SGE,
};
use super::object::{child_create, create, header, ndk_close, recover, Base, NewObject, Object};
use super::pd::Pd;
use super::qp_local::{ndk_bind, ndk_fast_register, ndk_invalidate};
use super::qp_post::{ndk_read, ndk_send, ndk_send_and_invalidate, ndk_write};
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
    pub(crate) keys: PdKeys,
    context: usize,
    pub(crate) limits: QpLimits,
    receive_cq: Parent<CqObject>,
    #[allow(dead_code)] // kept for the parent relation; completions go through the data path
    initiator_cq: Parent<CqObject>,
    srq: Option<Parent<SrqObject>>,
    /// The engine, queues and timer (`datapath`), allocated at create.
    pub(crate) datapath: Arc<Datapath>,
    /// Our QP number (the adapter's receive demux routes packets by it).
    qpn: u32,
    /// What the connector recorded for the data path (see [`QpConnection`]).
    connection: SpinLock<Option<QpConnection>>,
}

/// The RNR NAK timer we advertise (IB encoding 12 = 0.64 ms): short, since
/// NDK consumers such as SMB Direct keep receives posted by credits.
pub(crate) const MIN_RNR_TIMER: u8 = 12;

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

    /// Updates the state of the connection record, if any. The transition
    /// to `Connected` (CompleteConnect on the active side; the RTU or the
    /// first packet on the passive side) starts the data path with the
    /// recorded parameters, sending through the adapter's carrier.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn set_link_state(&self, state: QpLinkState) {
        let start = {
            let mut record = self.connection.lock();
            let Some(c) = record.as_mut() else { return };
            let was = c.state;
            c.state = state;
            (state == QpLinkState::Connected && was != QpLinkState::Connected).then_some(*c)
        };
        if let Some(c) = start {
            self.start_datapath(&c);
        }
    }

    /// Connects the data path (once per QP; a QP is connected at most once
    /// in the NDK). Parameters the consumer cannot choose use softroce's
    /// defaults: our RNR NAK timer [`MIN_RNR_TIMER`].
    /// IRQL: <= DISPATCH_LEVEL.
    fn start_datapath(&self, c: &QpConnection) {
        let Some(path_mtu) = Mtu::from_ib_enum(c.path_mtu) else {
            return;
        };
        let params = ConnectParams {
            local_qpn: self.qpn,
            remote: c.remote.ip(),
            remote_qpn: c.remote_qpn,
            send_psn: c.send_psn,
            recv_psn: c.recv_psn,
            path_mtu,
            inbound_read_limit: c.inbound_read_limit,
            outbound_read_limit: c.outbound_read_limit,
            local_ack_timeout: c.local_ack_timeout,
            retry_count: c.retry_count,
            rnr_retry: c.rnr_retry_count,
            min_rnr_timer: MIN_RNR_TIMER,
        };
        let sink: Arc<dyn PacketSink> = self.base.core.net.clone();
        // Already connected (the record moved back to Connected) or closed:
        // nothing to start.
        let _ = self.datapath.connect(&params, sink);
    }

    /// NdkFlush's work, also the implicit flush after NdkDisconnect: every
    /// outstanding request on both queues completes with STATUS_CANCELLED.
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn flush(&self) {
        self.datapath.flush();
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
    /// Close starts by flushing (facts §5.2 "close must itself start
    /// flushing/cancelling pending async requests"): exactly NdkFlush's
    /// work, so every outstanding request of the initiator queue and of the
    /// receive queue completes on its CQ with STATUS_CANCELLED, in posting
    /// order per queue (an SRQ's receives stay in the SRQ, as with
    /// NdkFlush). The CQs outlive the QP (CQ->QP), so the consumer reaps
    /// them with NdkGetCqResults after the close. Then the data path stops:
    /// no packet, completion or timer after this.
    fn on_close(&self) {
        self.flush();
        self.datapath.close();
    }
}

impl Qp {
    /// The QP became connected (NdkConnect / NdkAccept completion, or the
    /// hosted test pairing hook): the engine takes the connection's
    /// parameters and sends through `sink`. Once per QP.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)] // the connection work calls it; the hosted pairing hook does
    pub(crate) fn connect_datapath(
        &self,
        params: &ConnectParams,
        sink: Arc<dyn PacketSink>,
    ) -> Result<(), ConnectError> {
        self.datapath.connect(params, sink)
    }

    /// One inbound RoCEv2 packet for this QP (the runtime's demux by
    /// destination QPN, after the ICRC and P_Key checks).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)] // the network runtime calls it
    pub(crate) fn deliver(&self, now: Instant, packet: &PacketRepr<'_>) {
        self.datapath.deliver(now, packet);
    }

    /// A strong handle on the data path, for the runtime's demux: take it
    /// under the demux lock, release that lock, then call
    /// [`Datapath::deliver`] (which may send through the sink). Cloning is
    /// an atomic increment (no allocation).
    ///
    /// IRQL: any.
    #[allow(dead_code)] // the network runtime calls it
    pub(crate) fn datapath_handle(&self) -> Arc<Datapath> {
        self.datapath.clone()
    }

    /// NdkDisconnect's implicit flush: every outstanding request completes
    /// with STATUS_CANCELLED and the QP stays in error.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)] // the connection work calls it
    pub(crate) fn disconnect_datapath(&self) {
        self.datapath.flush();
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
        let sizes = Sizes {
            receive_depth: limits.receive_depth,
            receive_sge: limits.receive_sge,
            initiator_depth: limits.initiator_depth,
            initiator_sge: limits.initiator_sge,
            inline: limits.inline,
        };
        let keys = PdKeys {
            pd: pd.id,
            privileged: pd.privileged,
        };
        let extra = Datapath::bytes(&sizes);
        // Charged with the QP below; allocated first so a failure leaves nothing.
        let datapath = Datapath::try_new(core, keys, context as usize, rcq, icq, srq, &sizes)
            .ok_or(STATUS_INSUFFICIENT_RESOURCES)?;
        let mut new = NewObject::of(core)
            .child_of(&pd.base().events)
            .child_of(&rcq.base_ref().events)
            .child_of(&icq.base_ref().events)
            .extra(extra);
        if let Some(s) = srq {
            new = new.child_of(&s.base_ref().events);
        }
        let qpn = core.net.reserve_qpn(core.id())?;
        let made = create(new, |base| Qp {
            ndk: NDK_QP {
                Header: header(core, NdkObjectTypeQp),
                Dispatch: &QP_DISPATCH,
            },
            base,
            keys,
            context: context as usize,
            limits,
            receive_cq: Parent(NonNull::from(rcq)),
            initiator_cq: Parent(NonNull::from(icq)),
            srq: srq.map(|s| Parent(NonNull::from(s))),
            datapath,
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

/// NDK_FN_FLUSH: every outstanding request of both queues completes with
/// STATUS_CANCELLED, in posting order per queue (initiator requests on the
/// initiator CQ; receives on the receive CQ; an SRQ's receives stay in the
/// SRQ except one the QP already took). The QP stays in error: later posts
/// complete with STATUS_CANCELLED. Before a connection only the queued
/// receives are cancelled.
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
/// produces a completion). On a QP in error the receive completes with
/// STATUS_CANCELLED. A queued receive is handed to the engine when a message
/// that needs one arrives.
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
    if qp.datapath.cancel_if_error(request_context as usize) {
        return STATUS_SUCCESS;
    }
    let pushed = qp
        .datapath
        .receives
        .lock()
        .push(request_context as usize, sges.get(..n).unwrap_or(&[]));
    match pushed {
        Ok(()) => {
            qp.datapath.after_receive_queued();
            STATUS_SUCCESS
        }
        Err(_) => STATUS_INSUFFICIENT_RESOURCES,
    }
}
