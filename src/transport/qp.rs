//! [`RcQp`]: the reliable-connected queue pair engine and its public,
//! quinn-style API (post, handle_packet, poll_transmit, poll_timeout,
//! handle_timeout, poll_completion, flush). Owns the QP state, the error
//! transition and transmit arbitration; the requester, completer and responder
//! logic live in their own files. Must not lock, read a clock or do I/O.

use super::config::{ConfigError, QpConfig};
use super::cq::Cq;
use super::memory::MemoryAccess;
use super::psn::Psn;
use super::queue::{RecvWqe, SendWqe, WqeQueue};
use super::responder::Responder;
use super::time::Instant;
use super::wr::{
    sge_total, Completion, PostError, RecvRequest, WcQueue, WcStatus, WorkRequest, WrKind,
};
use crate::wire::{BthRepr, Opcode, PacketRepr, Service, DEFAULT_PKEY, ICRC_LEN};

/// rxe's RXE_MAX_UNACKED_PSNS (ROCE-FACTS §1.7): the requester stalls when the
/// next PSN is *more than* this beyond the oldest unacknowledged one (so a
/// packet at exactly +128 still goes; a real rxe capture shows a third 64-PSN
/// READ sent with 128 PSNs outstanding).
pub const MAX_UNACKED_PSNS: i32 = 128;
/// AckReq is also set inside a long message after this many packets without one.
pub const MAX_PKTS_PER_ACK: u32 = 64;
/// Largest header block (BTH + AtomicETH) the engine emits.
const MAX_HEADERS: usize = 12 + 28;
/// Largest RETH DMALength a work request may carry (2^31).
pub const MAX_MESSAGE: u32 = 1 << 31;
/// Most PSNs one message may use (2^22): keeps every PSN comparison within a
/// message's range unambiguous in the 24-bit circle (signed compare needs < 2^23).
pub const MAX_MESSAGE_PSNS: u32 = 1 << 22;

/// The QP state as the engine sees it (the CM/verbs layer owns RESET/INIT/RTR).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QpState {
    /// Ready to send and receive (RTS).
    Ready,
    /// Error: every request was or will be completed with an error status.
    Error,
}

/// Counters for tests and diagnostics.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QpStats {
    pub tx_packets: u64,
    pub rx_packets: u64,
    /// Packets dropped before the state machines (wrong QPN, P_Key, service).
    pub rx_dropped: u64,
    /// Retransmit-timer expiries that caused a retry.
    pub timeouts: u64,
    /// Go-back-N retries (timeouts, sequence NAKs, implied NAKs).
    pub retries: u64,
    pub rnr_naks_received: u64,
    /// Responses acknowledging PSNs never sent (ignored).
    pub ghost_acks: u64,
    /// Retries triggered by an implied NAK (a response beyond an outstanding READ/atomic).
    pub implied_naks: u64,
    pub seq_naks_received: u64,
}

/// A reliable-connected queue pair: requester, completer and responder.
///
/// Memory is allocated once in [`RcQp::new`] from the configured depths;
/// nothing on the packet or posting paths allocates. Every method except
/// `new` may be called at IRQL <= DISPATCH_LEVEL; the caller serializes calls
/// on one QP (the engine holds no lock).
#[derive(Debug, Clone)]
pub struct RcQp {
    pub(crate) cfg: QpConfig,
    pub(crate) state: QpState,
    pub(crate) sq: WqeQueue<SendWqe>,
    pub(crate) cq: Cq,
    pub(crate) resp: Responder,
    // Requester cursor: the WQE (position from the SQ front) and packet being sent.
    pub(crate) req_idx: usize,
    pub(crate) req_pkt: u32,
    pub(crate) next_psn: Psn,
    /// One past the highest PSN ever sent.
    pub(crate) psn_hwm: Psn,
    pub(crate) noack_pkts: u32,
    // Completer.
    /// The oldest PSN not yet acknowledged.
    pub(crate) comp_psn: Psn,
    pub(crate) retry_left: u8,
    pub(crate) rnr_left: u8,
    /// A go-back-N retry from this PSN is in progress: further retry triggers
    /// (duplicate NAKs, implied NAKs) at the same `comp_psn` are ignored until
    /// it advances or the retransmit timer fires.
    pub(crate) retry_at: Option<Psn>,
    // Timers.
    pub(crate) rto: Option<Instant>,
    pub(crate) rnr_until: Option<Instant>,
    prefer_requester: bool,
    pub(crate) stats: QpStats,
}

impl RcQp {
    /// Creates a QP in the ready state with queues of the configured depths.
    ///
    /// IRQL: PASSIVE_LEVEL (allocates).
    pub fn new(cfg: QpConfig) -> Result<RcQp, ConfigError> {
        cfg.validate()?;
        let sq_depth = usize::from(cfg.sq_depth);
        let rq_depth = usize::from(cfg.rq_depth);
        Ok(RcQp {
            cfg,
            state: QpState::Ready,
            sq: WqeQueue::new(sq_depth, usize::from(cfg.max_send_sge))
                .ok_or(ConfigError::NoMemory)?,
            cq: Cq::new(sq_depth + rq_depth).ok_or(ConfigError::NoMemory)?,
            resp: Responder::new(&cfg).ok_or(ConfigError::NoMemory)?,
            req_idx: 0,
            req_pkt: 0,
            next_psn: cfg.send_psn,
            psn_hwm: cfg.send_psn,
            noack_pkts: 0,
            comp_psn: cfg.send_psn,
            retry_left: cfg.retry_cnt,
            rnr_left: cfg.rnr_retry,
            retry_at: None,
            rto: None,
            rnr_until: None,
            prefer_requester: false,
            stats: QpStats::default(),
        })
    }

    /// Gives a QP made at create time (queues allocated from its depths)
    /// the connection's parameters, without allocating: QPNs, PSNs, path
    /// MTU, timers, retry counts and read limits. The depths and SGE limits
    /// must equal those it was created with, the inbound read limit must not
    /// exceed its own, and no request may be queued yet
    /// (`ConfigError::BadDepth` otherwise). The state becomes Ready.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn reconfigure(&mut self, cfg: QpConfig) -> Result<(), ConfigError> {
        cfg.validate()?;
        let old = &self.cfg;
        let fits = cfg.sq_depth == old.sq_depth
            && cfg.rq_depth == old.rq_depth
            && cfg.max_send_sge == old.max_send_sge
            && cfg.max_recv_sge == old.max_recv_sge
            && cfg.max_dest_rd_atomic <= old.max_dest_rd_atomic
            && self.sq.is_empty()
            && self.resp.rq.is_empty()
            && self.cq.pending(WcQueue::Send) == 0
            && self.cq.pending(WcQueue::Recv) == 0;
        if !fits {
            return Err(ConfigError::BadDepth);
        }
        self.resp.reconfigure(&cfg);
        self.cfg = cfg;
        self.state = QpState::Ready;
        self.req_idx = 0;
        self.req_pkt = 0;
        self.next_psn = cfg.send_psn;
        self.psn_hwm = cfg.send_psn;
        self.noack_pkts = 0;
        self.comp_psn = cfg.send_psn;
        self.retry_left = cfg.retry_cnt;
        self.rnr_left = cfg.rnr_retry;
        self.retry_at = None;
        self.rto = None;
        self.rnr_until = None;
        self.prefer_requester = false;
        self.stats = QpStats::default();
        Ok(())
    }

    pub fn config(&self) -> &QpConfig {
        &self.cfg
    }

    pub fn state(&self) -> QpState {
        self.state
    }

    pub fn stats(&self) -> QpStats {
        self.stats
    }

    /// The PSN the responder expects next.
    pub fn expected_recv_psn(&self) -> Psn {
        self.resp.expected_psn()
    }

    /// The PSN of the next new request packet (one past the highest sent).
    pub fn next_send_psn(&self) -> Psn {
        self.psn_hwm
    }

    /// The oldest unacknowledged PSN.
    pub fn unacked_psn(&self) -> Psn {
        self.comp_psn
    }

    /// Send work requests not yet completed.
    pub fn send_queue_len(&self) -> usize {
        self.sq.len()
    }

    /// Receives queued and not yet completed.
    pub fn recv_queue_len(&self) -> usize {
        self.resp.rq.len()
    }

    /// The smallest `buf` [`poll_transmit`](Self::poll_transmit) accepts:
    /// headers + one path MTU of payload + ICRC.
    pub fn max_packet_len(&self) -> usize {
        MAX_HEADERS + self.cfg.path_mtu.bytes() as usize + ICRC_LEN
    }

    /// Queues a send-queue work request. On error nothing changes and no
    /// completion will be generated.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn post_send(&mut self, wr: &WorkRequest<'_>) -> Result<(), PostError> {
        if self.state == QpState::Error {
            return Err(PostError::QpError);
        }
        if wr.sges.len() > usize::from(self.cfg.max_send_sge) {
            return Err(PostError::TooManySges);
        }
        if self.sq.len() + self.cq.pending(WcQueue::Send) >= self.sq.capacity() {
            return Err(PostError::QueueFull);
        }
        let len = sge_total(wr.sges)
            .filter(|&l| l <= MAX_MESSAGE && self.cfg.path_mtu.packets(l) <= MAX_MESSAGE_PSNS)
            .ok_or(PostError::Invalid)?;
        let valid = match wr.kind {
            WrKind::Send { imm, invalidate } => imm.is_none() || invalidate.is_none(),
            WrKind::Write { .. } => true,
            WrKind::Read { .. } => self.cfg.max_rd_atomic > 0,
            WrKind::CompareSwap { .. } | WrKind::FetchAdd { .. } => {
                self.cfg.max_rd_atomic > 0 && len == 8
            }
        };
        if !valid {
            return Err(PostError::Invalid);
        }
        let wqe = SendWqe {
            wr_id: wr.wr_id,
            kind: wr.kind,
            signaled: wr.signaled,
            fence: wr.fence,
            solicited: wr.solicited,
            len,
            ..SendWqe::default()
        };
        self.sq.push(wqe, wr.sges)
    }

    /// Queues a receive.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn post_recv(&mut self, wr: &RecvRequest<'_>) -> Result<(), PostError> {
        if self.state == QpState::Error {
            return Err(PostError::QpError);
        }
        if wr.sges.len() > usize::from(self.cfg.max_recv_sge) {
            return Err(PostError::TooManySges);
        }
        let rq = &self.resp.rq;
        if rq.len() + self.cq.pending(WcQueue::Recv) >= rq.capacity() {
            return Err(PostError::QueueFull);
        }
        let len = sge_total(wr.sges).ok_or(PostError::Invalid)?;
        self.resp.rq.push(
            RecvWqe {
                wr_id: wr.wr_id,
                len,
            },
            wr.sges,
        )
    }

    /// Takes one inbound packet (already parsed, ICRC already verified by the
    /// caller). Packets for another QPN, with a P_Key other than 0xFFFF or of
    /// another service are dropped.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn handle_packet<M: MemoryAccess + ?Sized>(
        &mut self,
        now: Instant,
        pkt: &PacketRepr<'_>,
        mem: &mut M,
    ) {
        let bth = &pkt.bth;
        if bth.dest_qp != self.cfg.qpn
            || bth.pkey != DEFAULT_PKEY
            || bth.opcode.service() != Service::Rc
            || self.state == QpState::Error
        {
            self.stats.rx_dropped += 1;
            return;
        }
        self.stats.rx_packets += 1;
        let op = bth.opcode;
        if op == Opcode::RC_ACKNOWLEDGE
            || op == Opcode::RC_ATOMIC_ACKNOWLEDGE
            || op.is_read_response()
        {
            self.handle_response(now, pkt, mem);
        } else if self.resp.handle(pkt, mem, &mut self.cq).is_err() {
            // Responses to earlier requests and the fatal NAK still go out.
            self.enter_error(true);
        }
    }

    /// Writes the next packet to send into `buf` (a whole UDP payload, BTH
    /// through a zeroed ICRC trailer the caller fills with `wire::icrc`) and
    /// returns its length. `None` when nothing is ready or `buf` is shorter
    /// than [`max_packet_len`](Self::max_packet_len).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll_transmit<M: MemoryAccess + ?Sized>(
        &mut self,
        now: Instant,
        mem: &mut M,
        buf: &mut [u8],
    ) -> Option<usize> {
        if buf.len() < self.max_packet_len() {
            return None;
        }
        let n = if self.prefer_requester {
            self.poll_request(now, mem, buf)
                .or_else(|| self.poll_response(mem, buf))
        } else {
            self.poll_response(mem, buf)
                .or_else(|| self.poll_request(now, mem, buf))
        };
        self.prefer_requester = !self.prefer_requester;
        if n.is_some() {
            self.stats.tx_packets += 1;
        }
        n
    }

    fn poll_response<M: MemoryAccess + ?Sized>(
        &mut self,
        mem: &M,
        buf: &mut [u8],
    ) -> Option<usize> {
        let (n, fatal) = self.resp.poll_emit(mem, self.cfg.remote_qpn, buf)?;
        if fatal {
            self.enter_error(true);
        }
        Some(n)
    }

    /// A BTH for a packet to the peer.
    pub(crate) fn bth(&self, opcode: Opcode, psn: Psn, ack_req: bool, solicited: bool) -> BthRepr {
        make_bth(self.cfg.remote_qpn, opcode, psn, ack_req, solicited)
    }

    /// The earliest time [`handle_timeout`](Self::handle_timeout) must be called.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match (self.rto, self.rnr_until) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Runs the expired timers (retransmit, RNR wait).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.state == QpState::Error {
            return;
        }
        if self.rnr_until.is_some_and(|t| now >= t) {
            self.rnr_until = None;
            self.rewind();
        }
        if self.rto.is_some_and(|t| now >= t) {
            self.rto = None;
            if self.outstanding() && self.rnr_until.is_none() {
                self.stats.timeouts += 1;
                self.retry();
            }
        }
    }

    /// The next completion, in posting order per queue.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll_completion(&mut self) -> Option<Completion> {
        self.cq.pop()
    }

    /// Moves the QP to the error state and completes every outstanding
    /// request (send and receive) with [`WcStatus::Flushed`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn flush(&mut self) {
        self.enter_error(false);
    }

    /// Whether PSNs are sent but not yet acknowledged.
    pub(crate) fn outstanding(&self) -> bool {
        self.comp_psn != self.psn_hwm
    }

    /// The transition to error: flush both queues and stop timers. The
    /// responder's queued output (responses to requests executed before a
    /// responder error, then its fatal NAK) is kept when `keep_responses`.
    pub(crate) fn enter_error(&mut self, keep_responses: bool) {
        self.state = QpState::Error;
        while let Some(w) = self.sq.pop_front() {
            self.cq.push(Completion::send(
                w.wr_id,
                w.kind.wc_opcode(),
                WcStatus::Flushed,
                0,
            ));
        }
        while let Some(w) = self.resp.rq.pop_front() {
            self.cq.push(Completion::recv(w.wr_id, WcStatus::Flushed));
        }
        if !keep_responses {
            self.resp.clear_output();
        }
        self.req_idx = 0;
        self.req_pkt = 0;
        self.rto = None;
        self.rnr_until = None;
    }

    /// Completes the WQE at position `idx` with `status`: earlier ones are
    /// flushed first (posting order), then the QP enters the error state.
    pub(crate) fn fail_at(&mut self, idx: usize, status: WcStatus) {
        for _ in 0..idx {
            if let Some(w) = self.sq.pop_front() {
                self.cq.push(Completion::send(
                    w.wr_id,
                    w.kind.wc_opcode(),
                    WcStatus::Flushed,
                    0,
                ));
            }
        }
        if let Some(w) = self.sq.pop_front() {
            self.cq
                .push(Completion::send(w.wr_id, w.kind.wc_opcode(), status, 0));
        }
        self.enter_error(false);
    }
}

/// A BTH for a packet to `dest_qp`: P_Key 0xFFFF, TVer 0, no FECN/BECN/MigReq.
pub(crate) fn make_bth(
    dest_qp: u32,
    opcode: Opcode,
    psn: Psn,
    ack_req: bool,
    solicited: bool,
) -> BthRepr {
    BthRepr {
        opcode,
        solicited,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: DEFAULT_PKEY,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp,
        ack_req,
        resv7: 0,
        psn: psn.value(),
    }
}

#[cfg(test)]
mod reconfigure_tests {
    use super::*;
    use crate::transport::memory::{Access, SimMemory};
    use crate::transport::Mtu;

    fn created() -> RcQp {
        let mut cfg = QpConfig::new(2, 2, 0, 0);
        cfg.path_mtu = Mtu::Mtu4096;
        cfg.sq_depth = 4;
        cfg.rq_depth = 2;
        RcQp::new(cfg).unwrap()
    }

    #[test]
    fn reconfigure_rekeys_without_growing_and_only_while_idle() {
        let mut qp = created();
        let mut cfg = QpConfig::new(0x42, 0x43, 1000, 2000);
        cfg.sq_depth = 4;
        cfg.rq_depth = 2;
        cfg.path_mtu = Mtu::Mtu256;
        cfg.max_dest_rd_atomic = 17;
        assert_eq!(
            qp.reconfigure(cfg),
            Err(ConfigError::BadDepth),
            "IRD above created"
        );
        cfg.max_dest_rd_atomic = 4;
        cfg.sq_depth = 8;
        assert_eq!(
            qp.reconfigure(cfg),
            Err(ConfigError::BadDepth),
            "depth differs"
        );
        cfg.sq_depth = 4;
        cfg.qpn = 1;
        assert_eq!(qp.reconfigure(cfg), Err(ConfigError::BadQpn));
        cfg.qpn = 0x42;
        assert_eq!(qp.reconfigure(cfg), Ok(()));
        assert_eq!(qp.next_send_psn(), Psn::new(1000));
        assert_eq!(qp.expected_recv_psn(), Psn::new(2000));
        assert_eq!(qp.max_packet_len(), MAX_HEADERS + 256 + ICRC_LEN);
        // Once a request is queued the QP is no longer idle.
        let mut mem = SimMemory::new(0x1000);
        let mr = mem.register(64, Access::LOCAL_WRITE);
        let sge = mr.sge(0, 8);
        let wr = WorkRequest {
            wr_id: 1,
            kind: WrKind::default(),
            sges: &[sge],
            signaled: true,
            fence: false,
            solicited: false,
        };
        assert_eq!(qp.post_send(&wr), Ok(()));
        assert_eq!(qp.reconfigure(cfg), Err(ConfigError::BadDepth), "not idle");
    }
}
