//! The per-QP data path: the transport RC engine (allocated at QP create
//! from the QP's depths, given the connection's parameters by
//! [`Datapath::connect`]), the preallocated receive ring, the initiator
//! completion order, the inline area, the retransmit/RNR timer and the
//! outbox. Packets in: [`Datapath::deliver`] (the runtime's demux, at
//! DISPATCH_LEVEL, after ICRC/P_Key checks). Packets out: a [`PacketSink`]
//! (the adapter runtime over its carrier; the test pairing hook), one UDP
//! payload at a time with a zeroed 4-byte ICRC trailer the sink fills.
//!
//! Locking: `outbox` (one pump at a time, keeps packet and completion
//! order) -> `state` (the engine) -> the adapter's memory/LAM tables. The
//! engine's output is drained under `state` into the preallocated outbox;
//! the sink and `CqObject::complete` are called with only `outbox` held
//! (neither calls the consumer: CQ notifications go through the CQ's DPC).
//! Nothing here allocates after create. Must not parse or build IP/UDP
//! headers (the runtime's), nor call the consumer.

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::net::IpAddr;
use core::ptr::NonNull;

use crate::abi::{
    NdkOperationTypeReceive, NtStatus, STATUS_CONNECTION_INVALID, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, DeferredRoutine, Instant, Irql, SendError, SpinLock, Timer};
use crate::transport::ring::Ring;
use crate::transport::{
    self as t, Mtu, PostError, QpConfig, QpState, RcQp, RecvRequest, WcQueue, WorkRequest,
};
use crate::verbs::cq::CqEntry;
use crate::verbs::memory::RegionKind;
use crate::verbs::wq::{RecvQueue, Sge, MAX_SGE};
use crate::wire::{PacketRepr, Position};

use super::core::AdapterCore;
use super::cq::CqObject;
use super::dp_memory::{DpMem, INLINE_LKEY};
use super::dp_order::OrderRing;
use super::dp_status::entry_of;
use super::limits::MAX_INBOUND_READ_LIMIT;
use super::memory_access::QpMemory;
use super::sge::PdKeys;
use super::srq::SrqObject;

/// Where a QP's packets go: the adapter runtime over its carrier (or the
/// test pairing hook). `udp_payload` is BTH through a zeroed 4-byte ICRC,
/// which the sink fills in place (it knows the IP header), so no copy is
/// made on the way out.
pub(crate) trait PacketSink: Send + Sync {
    /// Sends one UDP payload to `dst`:4791. A refusal loses the packet (the
    /// engine retransmits on its timer).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn send(&self, dst: IpAddr, udp_payload: &mut [u8]) -> Result<(), SendError>;
}

/// What the connection work hands the data path when a QP becomes
/// connected (NdkConnect/NdkAccept completion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectParams {
    /// Our QP number (the demux key; 24 bits, not 0/1).
    pub local_qpn: u32,
    /// The peer's address (where the sink sends).
    pub remote: IpAddr,
    pub remote_qpn: u32,
    /// The first PSN we send (our starting PSN in the REQ/REP).
    pub send_psn: u32,
    /// The first PSN we expect (the peer's starting PSN).
    pub recv_psn: u32,
    pub path_mtu: Mtu,
    /// Inbound RDMA READ limit (IRD, responder resources), <= 16.
    pub inbound_read_limit: u8,
    /// Outbound RDMA READ limit (ORD, initiator depth), <= 16.
    pub outbound_read_limit: u8,
    /// Local ACK timeout exponent (4.096 us * 2^t; 0 = none).
    pub local_ack_timeout: u8,
    /// Retries on timeout / sequence NAK (7 = infinite).
    pub retry_count: u8,
    /// Retries on RNR NAK (7 = infinite).
    pub rnr_retry: u8,
    /// The RNR timer (5-bit encoding) our RNR NAKs advertise.
    pub min_rnr_timer: u8,
}

/// Why [`Datapath::connect`] refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectError {
    /// The QP was connected before (an NDK QP connects once).
    AlreadyConnected,
    /// The QP is closing.
    Closed,
    /// A parameter is out of range (QPN, timer width, read limit).
    BadParams,
}

/// Packets one pump step stages before sending them.
const TX_BATCH: usize = 8;
/// Completions one pump step stages before queueing them.
const CQ_BATCH: usize = 32;
/// Receives the engine holds at once: one is handed to it when a message
/// that needs one starts (see `feed_receive`).
const ENGINE_RQ: u16 = 2;

/// A pointer to a provider object that outlives the data path's use of it
/// (the QP's parents; the data path stops at QP close, before they can go).
struct ObjRef<T>(NonNull<T>);

// SAFETY: the referenced objects keep their shared state behind spin locks
// and atomics; only `&T` is ever formed.
unsafe impl<T> Send for ObjRef<T> {}
// SAFETY: as above.
unsafe impl<T> Sync for ObjRef<T> {}

impl<T> ObjRef<T> {
    fn get(&self) -> &T {
        // SAFETY: a parent's close cannot complete before the QP's close
        // has, and `Datapath::close` (called at QP close) waits for any pump
        // in progress and stops every later use.
        unsafe { self.0.as_ref() }
    }
}

/// A completion waiting for its CQ.
#[derive(Debug, Clone, Copy, Default)]
struct Staged {
    entry: CqEntry,
    receive: bool,
    solicited: bool,
}

struct State {
    engine: RcQp,
    link: Option<(IpAddr, Arc<dyn PacketSink>)>,
    connected_once: bool,
    /// The engine's error state was seen (counted as a ConnectionError) or
    /// caused by a flush (not an error of the connection).
    error_seen: bool,
    closed: bool,
    order: OrderRing,
    /// `inline_size` bytes per initiator slot.
    inline: Vec<u8>,
    inline_size: usize,
    done: Ring<Staged>,
    /// Packets the sink refused.
    tx_refused: u64,
}

struct Outbox {
    bufs: Vec<u8>,
    lens: [usize; TX_BATCH],
    /// CQ_BATCH staged completions, on the heap: by value they would make
    /// the create path's kernel stack frame exceed a page.
    done: Box<[Staged]>,
}

/// The data path of one QP.
pub(crate) struct Datapath {
    core: Arc<AdapterCore>,
    keys: PdKeys,
    qp_context: usize,
    receive_cq: ObjRef<CqObject>,
    initiator_cq: ObjRef<CqObject>,
    srq: Option<ObjRef<SrqObject>>,
    /// Receives posted with NdkReceive (not with an SRQ), in posting order.
    pub(crate) receives: SpinLock<RecvQueue>,
    state: SpinLock<State>,
    outbox: SpinLock<Outbox>,
    timer: Option<Box<dyn Timer>>,
    /// Bytes of one outbox packet slot.
    packet_len: usize,
}

/// The QP's depths and limits the data path is sized from.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sizes {
    pub receive_depth: u32,
    pub receive_sge: u32,
    pub initiator_depth: u32,
    pub initiator_sge: u32,
    pub inline: u32,
}

/// The engine's depth for `n` NDK slots (at least 1; NDK depths are at most 4096).
fn depth16(n: u32) -> u16 {
    u16::try_from(n.max(1)).unwrap_or(u16::MAX)
}

fn sge8(n: u32) -> u8 {
    u8::try_from(n.clamp(1, MAX_SGE as u32)).unwrap_or(1)
}

fn engine_now(now: Instant) -> t::Instant {
    t::Instant(now.as_nanos())
}

/// The engine's configuration before any connection: real depths, SGE
/// limits, the largest MTU and read limits (so nothing grows at connect);
/// placeholder QPNs and PSNs.
fn placeholder(s: &Sizes) -> QpConfig {
    QpConfig {
        path_mtu: Mtu::Mtu4096,
        max_dest_rd_atomic: MAX_INBOUND_READ_LIMIT as u8,
        max_rd_atomic: MAX_INBOUND_READ_LIMIT as u8,
        sq_depth: depth16(s.initiator_depth),
        rq_depth: ENGINE_RQ,
        max_send_sge: sge8(s.initiator_sge),
        max_recv_sge: MAX_SGE as u8,
        ..QpConfig::new(2, 2, 0, 0)
    }
}

/// Whether `pkt` starts (or, for WRITE with immediate, ends) a message that
/// consumes a receive at the responder.
fn needs_receive(pkt: &PacketRepr<'_>) -> bool {
    let op = pkt.bth.opcode;
    let pos = op.position();
    (op.is_send() && matches!(pos, Some(Position::First | Position::Only)))
        || (op.is_write()
            && pkt.imm.is_some()
            && matches!(pos, Some(Position::Last | Position::Only)))
}

/// The data path's timer routine (holds the data path weakly).
struct Tick(Weak<Datapath>);

impl DeferredRoutine for Tick {
    /// IRQL: DISPATCH_LEVEL.
    fn run(&self, now: Instant) {
        if let Some(dp) = self.0.upgrade() {
            dp.on_timer(now);
        }
    }
}

impl Datapath {
    /// Bytes a data path of `s` allocates (an estimate charged to the QP).
    ///
    /// IRQL: any.
    pub(crate) fn bytes(s: &Sizes) -> usize {
        let sq = s.initiator_depth.max(1) as usize;
        let engine = sq * (96 + 16 * s.initiator_sge.max(1) as usize)
            + usize::from(ENGINE_RQ) * (32 + 16 * MAX_SGE)
            + (sq + usize::from(ENGINE_RQ)) * 48
            + 64 * 64
            + 4096;
        let outbox = TX_BATCH * (4096 + 128) + CQ_BATCH * 64;
        core::mem::size_of::<Datapath>()
            + RecvQueue::bytes(s.receive_depth, s.receive_sge)
            + engine
            + outbox
            + sq * (s.inline as usize + 48)
            + (sq + s.receive_depth as usize + 8) * core::mem::size_of::<Staged>()
    }

    /// Allocates the data path of a new QP (engine queues from its depths,
    /// receive ring, inline area, staging, timer). `None`: out of memory.
    ///
    /// IRQL: <= DISPATCH_LEVEL, at QP create.
    pub(crate) fn try_new(
        core: &Arc<AdapterCore>,
        keys: PdKeys,
        qp_context: usize,
        receive_cq: &CqObject,
        initiator_cq: &CqObject,
        srq: Option<&SrqObject>,
        s: &Sizes,
    ) -> Option<Arc<Datapath>> {
        let receives = RecvQueue::try_new(s.receive_depth, s.receive_sge).ok()?;
        let engine = RcQp::new(placeholder(s)).ok()?;
        let packet_len = engine.max_packet_len();
        let order = OrderRing::try_new(s.initiator_depth as usize)?;
        let inline_size = s.inline as usize;
        let inline_len = inline_size.checked_mul(s.initiator_depth.max(1) as usize)?;
        let mut inline = Vec::new();
        inline.try_reserve_exact(inline_len).ok()?;
        inline.resize(inline_len, 0);
        let mut bufs = Vec::new();
        let bufs_len = packet_len.checked_mul(TX_BATCH)?;
        bufs.try_reserve_exact(bufs_len).ok()?;
        bufs.resize(bufs_len, 0);
        let done_cap = (s.initiator_depth as usize)
            .saturating_add(s.receive_depth as usize)
            .saturating_add(usize::from(ENGINE_RQ) + 8);
        let state = State {
            engine,
            link: None,
            connected_once: false,
            error_seen: false,
            closed: false,
            order,
            inline,
            inline_size,
            done: Ring::try_with_capacity(done_cap)?,
            tx_refused: 0,
        };
        let mut staged = Vec::new();
        staged.try_reserve_exact(CQ_BATCH).ok()?;
        staged.resize(CQ_BATCH, Staged::default());
        let outbox = Outbox {
            bufs,
            lens: [0; TX_BATCH],
            done: staged.into_boxed_slice(),
        };
        let platform = core.platform.clone();
        let dp = Arc::new_cyclic(|weak: &Weak<Datapath>| Datapath {
            core: core.clone(),
            keys,
            qp_context,
            receive_cq: ObjRef(NonNull::from(receive_cq)),
            initiator_cq: ObjRef(NonNull::from(initiator_cq)),
            srq: srq.map(|s| ObjRef(NonNull::from(s))),
            receives: SpinLock::new(receives),
            state: SpinLock::new(state),
            outbox: SpinLock::new(outbox),
            timer: platform.new_timer(Arc::new(Tick(weak.clone()))).ok(),
            packet_len,
        });
        dp.timer.as_ref()?;
        Some(dp)
    }

    /// The QP's memory (its PD's regions, windows and the adapter's LAMs).
    ///
    /// IRQL: any.
    fn memory(&self) -> QpMemory<'_> {
        QpMemory::new(&self.core, self.keys)
    }

    /// Gives the engine the connection's parameters and starts sending
    /// through `sink`. Once per QP.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn connect(
        &self,
        p: &ConnectParams,
        sink: Arc<dyn PacketSink>,
    ) -> Result<(), ConnectError> {
        irql::assert_at_most(Irql::Dispatch, "Datapath::connect");
        let mut st = self.state.lock();
        if st.closed {
            return Err(ConnectError::Closed);
        }
        if st.connected_once {
            return Err(ConnectError::AlreadyConnected);
        }
        let old = *st.engine.config();
        let cfg = QpConfig {
            qpn: p.local_qpn,
            remote_qpn: p.remote_qpn,
            send_psn: t::Psn::new(p.send_psn),
            recv_psn: t::Psn::new(p.recv_psn),
            path_mtu: p.path_mtu,
            local_ack_timeout: p.local_ack_timeout,
            retry_cnt: p.retry_count,
            rnr_retry: p.rnr_retry,
            min_rnr_timer: p.min_rnr_timer,
            max_dest_rd_atomic: p.inbound_read_limit,
            max_rd_atomic: p.outbound_read_limit,
            ..old
        };
        if p.outbound_read_limit > old.max_rd_atomic {
            return Err(ConnectError::BadParams);
        }
        st.engine
            .reconfigure(cfg)
            .map_err(|_| ConnectError::BadParams)?;
        st.link = Some((p.remote, sink));
        st.connected_once = true;
        Ok(())
    }

    /// Whether the initiator CQ still takes completions (an overrun makes
    /// the CQ and its QPs unusable, facts §5.3).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn initiator_cq_usable(&self) -> bool {
        self.initiator_cq.get().is_usable()
    }

    /// Whether the QP is connected (posts are accepted).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn is_connected(&self) -> bool {
        self.state.lock().link.is_some()
    }

    /// Stops the data path at QP close, after the close's flush
    /// ([`Datapath::flush`], which completed every outstanding request): no
    /// packet, completion or timer after this returns (waits for a pump in
    /// progress). The receive ring is emptied (already empty after the
    /// flush).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn close(&self) {
        let ob = self.outbox.lock();
        let mut st = self.state.lock();
        st.closed = true;
        st.link = None;
        drop(st);
        drop(ob);
        if let Some(t) = self.timer.as_ref() {
            t.cancel();
        }
        self.receives.lock().clear();
    }

    /// One inbound packet for this QP (already parsed; ICRC and P_Key
    /// checked by the caller). Hands a receive to the engine when the packet
    /// needs one, runs the engine, then sends what it produced and queues
    /// its completions (after the engine lock is released).
    ///
    /// IRQL: <= DISPATCH_LEVEL (the runtime's receive indication).
    pub(crate) fn deliver(&self, now: Instant, pkt: &PacketRepr<'_>) {
        irql::assert_at_most(Irql::Dispatch, "Datapath::deliver");
        {
            let mut st = self.state.lock();
            if st.closed || st.link.is_none() {
                return;
            }
            let s = &mut *st;
            if needs_receive(pkt)
                && s.engine.expected_recv_psn().value() == pkt.bth.psn
                && s.engine.recv_queue_len() == 0
            {
                self.feed_receive(s);
            }
            let mut mem = DpMem {
                mem: self.memory(),
                inline: &s.inline,
            };
            s.engine.handle_packet(engine_now(now), pkt, &mut mem);
            self.drain(s);
        }
        self.pump(now);
    }

    /// Hands the oldest posted receive (the QP's ring or its SRQ) to the
    /// engine, whose wr_id is the consumer's RequestContext.
    ///
    /// IRQL: <= DISPATCH_LEVEL (engine lock held).
    fn feed_receive(&self, s: &mut State) {
        let mut raw = [Sge::default(); MAX_SGE];
        let taken = match self.srq.as_ref() {
            Some(srq) => srq.get().take(&mut raw),
            None => self.receives.lock().pop(&mut raw),
        };
        let Some((ctx, n)) = taken else { return };
        let mut sges = [t::Sge::default(); MAX_SGE];
        for (d, r) in sges.iter_mut().zip(raw.iter()).take(n) {
            *d = t::Sge {
                lkey: r.token,
                addr: r.addr,
                len: r.len,
            };
        }
        let wr = RecvRequest {
            wr_id: ctx as u64,
            sges: sges.get(..n).unwrap_or(&[]),
        };
        // Cannot fail (the engine's queue is empty and not in error); a
        // refused receive would be lost, so it completes as cancelled.
        if s.engine.post_recv(&wr).is_err() {
            let _ = s.done.push_back(Staged {
                entry: self.cancelled(ctx, NdkOperationTypeReceive),
                receive: true,
                solicited: false,
            });
        }
    }

    /// Moves engine completions into the ordered staging (initiator ones
    /// through the order ring), and, once the engine is in error, cancels
    /// the receives still in the QP's ring. A receive whose message carried
    /// SE (SEND_AND_SOLICIT_EVENT) is queued as solicited.
    ///
    /// IRQL: <= DISPATCH_LEVEL (engine lock held).
    fn drain(&self, s: &mut State) {
        while s.done.len() < s.done.capacity() {
            let Some(c) = s.engine.poll_completion() else {
                break;
            };
            let entry = entry_of(&c, self.qp_context);
            match c.queue {
                WcQueue::Recv => {
                    let staged = Staged {
                        entry,
                        receive: true,
                        solicited: c.solicited && !entry.is_error(),
                    };
                    let _ = s.done.push_back(staged);
                }
                WcQueue::Send => {
                    let slot = c.wr_id as usize;
                    s.order.complete(slot, entry);
                }
            }
            release_ordered(s, &self.core);
        }
        release_ordered(s, &self.core);
        if s.engine.state() == QpState::Error && s.link.is_some() && !s.error_seen {
            // The transport failed on its own (retry or RNR retry
            // exhaustion, a fatal NAK sent or received): one ConnectionError
            // per connection (`net/stats.rs`).
            s.error_seen = true;
            crate::os::NdkCounters::add(&self.core.counters().connection_error, 1);
        }
        if s.engine.state() == QpState::Error && s.link.is_some() && self.srq.is_none() {
            let mut raw = [Sge::default(); MAX_SGE];
            let mut ring = self.receives.lock();
            while s.done.len() < s.done.capacity() {
                let Some((ctx, _)) = ring.pop(&mut raw) else {
                    break;
                };
                let _ = s.done.push_back(Staged {
                    entry: self.cancelled(ctx, NdkOperationTypeReceive),
                    receive: true,
                    solicited: false,
                });
            }
        }
    }

    /// A STATUS_CANCELLED entry for request `ctx` of type `op`.
    ///
    /// IRQL: any.
    fn cancelled(&self, ctx: usize, op: u32) -> CqEntry {
        let (status, provider_error) = super::dp_status::status_of(t::WcStatus::Flushed);
        CqEntry {
            status: status.0,
            bytes: 0,
            qp_context: self.qp_context,
            request_context: ctx,
            op,
            provider_error,
            type_specific: 0,
        }
    }

    /// Transmits what the engine has ready, arms the timer, queues the
    /// staged completions; repeats until the engine has nothing more.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn pump(&self, now: Instant) {
        let mut ob = self.outbox.lock();
        let ob = &mut *ob;
        loop {
            let mut st = self.state.lock();
            if st.closed {
                return;
            }
            let s = &mut *st;
            let mut n = 0usize;
            if s.link.is_some() {
                while n < TX_BATCH {
                    let start = n * self.packet_len;
                    let Some(buf) = ob.bufs.get_mut(start..start + self.packet_len) else {
                        break;
                    };
                    let mut mem = DpMem {
                        mem: QpMemory::new(&self.core, self.keys),
                        inline: &s.inline,
                    };
                    match s.engine.poll_transmit(engine_now(now), &mut mem, buf) {
                        Some(len) => {
                            if let Some(l) = ob.lens.get_mut(n) {
                                *l = len;
                            }
                            n += 1;
                        }
                        None => break,
                    }
                }
            }
            self.drain(s);
            let mut m = 0usize;
            while m < CQ_BATCH {
                let Some(x) = s.done.pop_front() else { break };
                if let Some(slot) = ob.done.get_mut(m) {
                    *slot = x;
                }
                m += 1;
            }
            let deadline = s.engine.poll_timeout();
            let link = s.link.clone();
            drop(st);
            if let Some(timer) = self.timer.as_ref() {
                match deadline {
                    Some(d) => {
                        timer.set(Instant::from_nanos(d.nanos()));
                    }
                    None => {
                        timer.cancel();
                    }
                }
            }
            let mut refused = 0u64;
            if let Some((dst, sink)) = link {
                for i in 0..n {
                    let len = ob.lens.get(i).copied().unwrap_or(0);
                    let start = i * self.packet_len;
                    if let Some(p) = ob.bufs.get_mut(start..start + len) {
                        if sink.send(dst, p).is_err() {
                            refused += 1;
                        }
                    }
                }
            }
            for x in ob.done.iter().take(m) {
                let cq = if x.receive {
                    &self.receive_cq
                } else {
                    &self.initiator_cq
                };
                cq.get().complete(x.entry, x.solicited);
            }
            if refused > 0 {
                let mut st = self.state.lock();
                st.tx_refused = st.tx_refused.saturating_add(refused);
            }
            if n == 0 && m == 0 {
                return;
            }
        }
    }

    /// The retransmit / RNR timer fired.
    ///
    /// IRQL: DISPATCH_LEVEL.
    fn on_timer(&self, now: Instant) {
        {
            let mut st = self.state.lock();
            if st.closed || st.link.is_none() {
                return;
            }
            st.engine.handle_timeout(engine_now(now));
        }
        self.pump(now);
    }

    /// Posts an initiator work request (its `wr_id` and `signaled` are set
    /// here). `inline`: the data of an INLINE post, copied now into the
    /// request's inline slot (its SGEs are then ignored). On a QP in error
    /// the request is accepted and completes with STATUS_CANCELLED. Unless
    /// `defer`, the engine is pumped at once; a failed post pumps too (every
    /// earlier DEFERred request reaches the wire before the failure is
    /// returned). `invalidate`: a local token invalidated when the request
    /// succeeds (NdkRead with RDMA_READ_LOCAL_INVALIDATE; fast-registered
    /// regions only). Failures change nothing: not connected ->
    /// STATUS_CONNECTION_INVALID; queue full -> STATUS_INSUFFICIENT_RESOURCES;
    /// refused by the engine (SGE count, length, read limit 0) ->
    /// STATUS_INVALID_PARAMETER.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn post_send(
        &self,
        ctx: usize,
        silent: bool,
        wr: &WorkRequest<'_>,
        inline: Option<&[u8]>,
        defer: bool,
        invalidate: Option<u32>,
    ) -> Result<(), NtStatus> {
        let r = self.post_send_locked(ctx, silent, wr, inline, invalidate);
        if r.is_err() || !defer {
            self.pump(self.core.platform.now());
        }
        r
    }

    /// [`Datapath::post_send`] under the engine lock.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn post_send_locked(
        &self,
        ctx: usize,
        silent: bool,
        wr: &WorkRequest<'_>,
        inline: Option<&[u8]>,
        invalidate: Option<u32>,
    ) -> Result<(), NtStatus> {
        let mut st = self.state.lock();
        let s = &mut *st;
        if s.closed || s.link.is_none() {
            return Err(STATUS_CONNECTION_INVALID);
        }
        if s.order.is_full() {
            return Err(STATUS_INSUFFICIENT_RESOURCES);
        }
        if s.engine.state() == QpState::Error {
            let op = super::dp_status::op_of(&wr.kind);
            s.order.push(ctx, silent, Some(self.cancelled(ctx, op)));
            release_ordered(s, &self.core);
            return Ok(());
        }
        let slot = s.order.next_slot();
        let inline_sge;
        let mut wr = WorkRequest {
            wr_id: slot as u64,
            signaled: true,
            ..*wr
        };
        if let Some(data) = inline {
            let start = slot * s.inline_size;
            let dst = s
                .inline
                .get_mut(start..start + data.len())
                .filter(|_| data.len() <= s.inline_size)
                .ok_or(STATUS_INVALID_PARAMETER)?;
            dst.copy_from_slice(data);
            inline_sge = [t::Sge {
                lkey: INLINE_LKEY,
                addr: start as u64,
                len: data.len() as u32,
            }];
            wr.sges = if data.is_empty() { &[] } else { &inline_sge };
        }
        match s.engine.post_send(&wr) {
            Ok(()) => {
                s.order.push_invalidating(ctx, silent, None, invalidate);
                Ok(())
            }
            Err(PostError::QueueFull) => Err(STATUS_INSUFFICIENT_RESOURCES),
            Err(PostError::QpError) => Err(STATUS_CONNECTION_INVALID),
            Err(PostError::TooManySges | PostError::Invalid) => Err(STATUS_INVALID_PARAMETER),
        }
    }

    /// Posts a local operation (Bind, FastRegister, Invalidate): `execute`
    /// runs now, under the engine lock, and decides the post's result; on
    /// success its completion (`op`, STATUS_SUCCESS) is queued in order
    /// behind every earlier initiator request. On a QP in error it is not
    /// executed and completes with STATUS_CANCELLED.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn post_local(
        &self,
        ctx: usize,
        silent: bool,
        op: u32,
        defer: bool,
        execute: impl FnOnce() -> NtStatus,
    ) -> Result<(), NtStatus> {
        let r = {
            let mut st = self.state.lock();
            let s = &mut *st;
            if s.closed || s.link.is_none() {
                Err(STATUS_CONNECTION_INVALID)
            } else if s.order.is_full() {
                Err(STATUS_INSUFFICIENT_RESOURCES)
            } else if s.engine.state() == QpState::Error {
                s.order.push(ctx, silent, Some(self.cancelled(ctx, op)));
                release_ordered(s, &self.core);
                Ok(())
            } else {
                let status = execute();
                if status == STATUS_SUCCESS {
                    let entry = CqEntry {
                        status: 0,
                        bytes: 0,
                        qp_context: self.qp_context,
                        request_context: ctx,
                        op,
                        provider_error: 0,
                        type_specific: 0,
                    };
                    s.order.push(ctx, silent, Some(entry));
                    release_ordered(s, &self.core);
                    Ok(())
                } else {
                    Err(status)
                }
            }
        };
        if r.is_err() || !defer {
            self.pump(self.core.platform.now());
        }
        r
    }

    /// A receive posted on a QP in error completes at once with
    /// STATUS_CANCELLED; returns false if the QP is not in error (the
    /// caller queues it).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn cancel_if_error(&self, ctx: usize) -> bool {
        let in_error = {
            let mut st = self.state.lock();
            let s = &mut *st;
            if s.link.is_some() && s.engine.state() == QpState::Error {
                let _ = s.done.push_back(Staged {
                    entry: self.cancelled(ctx, NdkOperationTypeReceive),
                    receive: true,
                    solicited: false,
                });
                true
            } else {
                false
            }
        };
        if in_error {
            self.pump(self.core.platform.now());
        }
        in_error
    }

    /// Re-checks the receive ring after a receive was queued: if the QP
    /// entered error meanwhile (a concurrent packet or timer), the receive
    /// is cancelled now rather than at the next activity.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn after_receive_queued(&self) {
        let in_error = {
            let st = self.state.lock();
            st.link.is_some() && st.engine.state() == QpState::Error
        };
        if in_error {
            self.pump(self.core.platform.now());
        }
    }

    /// NdkFlush / disconnect: every outstanding request of both queues
    /// completes with STATUS_CANCELLED in posting order (initiator requests,
    /// the receive the engine holds, then the receive ring); the QP stays in
    /// error. Before a connection only the receive ring is flushed.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn flush(&self) {
        let connected = {
            let mut st = self.state.lock();
            let s = &mut *st;
            if s.link.is_some() {
                // Error state by request, not a failure of the connection.
                s.error_seen = true;
                s.engine.flush();
            }
            s.link.is_some()
        };
        if connected {
            // Drains everything, the receive ring included (engine in error).
            self.pump(self.core.platform.now());
            return;
        }
        let mut raw = [Sge::default(); MAX_SGE];
        loop {
            let next = self.receives.lock().pop(&mut raw);
            let Some((ctx, _)) = next else { break };
            self.receive_cq
                .get()
                .complete(self.cancelled(ctx, NdkOperationTypeReceive), false);
        }
    }

    /// Packets the sink refused so far (diagnostics).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)]
    pub(crate) fn tx_refused(&self) -> u64 {
        self.state.lock().tx_refused
    }

    /// The engine's counters (diagnostics, tests).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)]
    pub(crate) fn engine_stats(&self) -> t::QpStats {
        self.state.lock().engine.stats()
    }
}

/// Moves released initiator completions (posting order) to the staging;
/// a successful READ with RDMA_READ_LOCAL_INVALIDATE invalidates its sink's
/// (fast-registered) token first.
///
/// IRQL: <= DISPATCH_LEVEL (engine lock held).
fn release_ordered(s: &mut State, core: &AdapterCore) {
    while s.done.len() < s.done.capacity() {
        let Some((report, invalidate)) = s.order.pop_ready_invalidating() else {
            break;
        };
        if let Some(lkey) = invalidate {
            let mut memory = core.memory.lock();
            if let Some(region) = memory.region_mut(lkey) {
                if matches!(region.kind, RegionKind::FastRegister { .. }) {
                    region.valid = false;
                }
            }
        }
        if let Some(entry) = report {
            let _ = s.done.push_back(Staged {
                entry,
                receive: false,
                solicited: false,
            });
        }
    }
}
