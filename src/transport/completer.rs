//! The RC completer: consumes ACKs, NAKs, READ responses and atomic ACKs;
//! retires WQEs in posting order (coalesced and implicit ACKs), places READ
//! and atomic results, and runs the retry logic — go-back-N on sequence NAKs
//! and timeouts, implied NAKs for lost READ/atomic responses, RNR waits,
//! retry/RNR-retry counters, fatal NAKs (ROCE-FACTS §1.7, §5). Ignores ghost
//! and stale responses. Must not build packets or touch the responder.

use super::memory::{scatter, MemoryAccess};
use super::qp::{QpState, RcQp};
use super::time::{rnr_delay, Instant};
use super::wr::{Completion, WcStatus, WrKind};
use crate::wire::{NakCode, Opcode, PacketRepr, Syndrome};

/// "Infinite" for retry_cnt and rnr_retry (ROCE-FACTS §1.7).
const INFINITE_RETRY: u8 = 7;

/// What kind of response arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Ack,
    ReadResponse,
    AtomicAck,
    Rnr(u8),
    Nak(NakCode),
}

impl RcQp {
    /// Handles an ACKNOWLEDGE, ATOMIC_ACKNOWLEDGE or READ response.
    pub(crate) fn handle_response<M: MemoryAccess + ?Sized>(
        &mut self,
        now: Instant,
        pkt: &PacketRepr<'_>,
        mem: &mut M,
    ) {
        let psn = super::psn::Psn::new(pkt.bth.psn);
        let op = pkt.bth.opcode;
        let kind = match (op, pkt.aeth.map(|a| a.syndrome)) {
            (o, _) if o.is_read_response() => Kind::ReadResponse,
            (Opcode::RC_ATOMIC_ACKNOWLEDGE, Some(Syndrome::Ack { .. })) => Kind::AtomicAck,
            (Opcode::RC_ACKNOWLEDGE, Some(Syndrome::Ack { .. })) => Kind::Ack,
            (Opcode::RC_ACKNOWLEDGE, Some(Syndrome::RnrNak { timer })) => Kind::Rnr(timer),
            (Opcode::RC_ACKNOWLEDGE, Some(Syndrome::Nak(code))) => Kind::Nak(code),
            _ => return,
        };
        // Ghost (never sent) or stale (already acknowledged): ignore safely.
        if !self.outstanding() || psn.diff(self.psn_hwm) >= 0 {
            self.stats.ghost_acks += 1;
            return;
        }
        if psn.diff(self.comp_psn) < 0 {
            return;
        }
        let before = self.comp_psn;
        // Whole messages before `psn` (through it, for an ACK) are acknowledged.
        while let Some(w) = self.sq.front().copied() {
            if !w.started {
                break;
            }
            let d = psn.diff(w.last_psn());
            let covered = if kind == Kind::Ack { d >= 0 } else { d > 0 };
            if !covered {
                break;
            }
            if w.kind.is_read_or_atomic() {
                if let Kind::Nak(code) = kind {
                    if code != NakCode::PsnSequenceError {
                        // The responder failed a later request: the READ/atomic
                        // results before it never came; fail at the NAKed one.
                        self.fail_nak(psn, code);
                        return;
                    }
                }
                // A response beyond an outstanding READ/atomic: its response was lost.
                self.progress(now, before);
                self.implied_nak();
                return;
            }
            self.complete_front(WcStatus::Success, 0);
        }
        let head = self.sq.front().copied().filter(|w| w.started);
        match kind {
            Kind::Ack => {
                if let Some(w) = head {
                    if w.kind.is_read_or_atomic() {
                        if psn.diff(w.first_psn) >= 0 {
                            self.progress(now, before);
                            self.implied_nak();
                            return;
                        }
                    } else if psn.diff(w.first_psn) >= 0 {
                        // A coalesced ACK inside a long SEND/WRITE.
                        self.comp_psn = psn.add(1);
                    }
                }
            }
            Kind::ReadResponse => self.read_response(psn, pkt, mem),
            Kind::AtomicAck => {
                if let Some(w) = head {
                    if w.kind.is_read_or_atomic()
                        && !matches!(w.kind, WrKind::Read { .. })
                        && psn == w.first_psn
                    {
                        let orig = pkt.atomic_ack_eth.map(|a| a.orig_data).unwrap_or(0);
                        if scatter(mem, self.sq.sges(0), 0, &orig.to_le_bytes()).is_err() {
                            self.fail_at(0, WcStatus::LocalProtectionError);
                            return;
                        }
                        self.complete_front(WcStatus::Success, 8);
                    }
                }
            }
            Kind::Rnr(timer) => {
                self.advance_partial(psn);
                self.progress(now, before);
                self.stats.rnr_naks_received += 1;
                if self.rnr_until.is_some() {
                    return;
                }
                if self.rnr_left == 0 {
                    self.fail_at(0, WcStatus::RnrRetryExceeded);
                    return;
                }
                if self.rnr_left != INFINITE_RETRY {
                    self.rnr_left -= 1;
                }
                self.rnr_until = Some(now.saturating_add(rnr_delay(timer)));
                self.rto = None;
                return;
            }
            Kind::Nak(NakCode::PsnSequenceError) => {
                self.advance_partial(psn);
                self.progress(now, before);
                self.stats.seq_naks_received += 1;
                if self.rnr_until.is_some() || self.retry_at == Some(self.comp_psn) {
                    return;
                }
                self.retry();
                return;
            }
            Kind::Nak(code) => {
                self.fail_nak(psn, code);
                return;
            }
        }
        self.progress(now, before);
    }

    /// A fatal NAK at `psn`: the WQE holding `psn` fails with the NAK's
    /// status, those before it are flushed, the QP enters error.
    fn fail_nak(&mut self, psn: super::psn::Psn, code: NakCode) {
        let status = match code {
            NakCode::RemoteAccessError => WcStatus::RemoteAccessError,
            NakCode::RemoteOperationalError => WcStatus::RemoteOperationalError,
            _ => WcStatus::RemoteInvalidRequest,
        };
        let idx = self
            .sq
            .iter()
            .position(|w| w.started && psn.diff(w.last_psn()) <= 0)
            .unwrap_or(0);
        self.fail_at(idx, status);
    }

    /// A NAK at `psn` inside the front SEND/WRITE acknowledges the packets before it.
    fn advance_partial(&mut self, psn: super::psn::Psn) {
        if let Some(w) = self
            .sq
            .front()
            .filter(|w| w.started && !w.kind.is_read_or_atomic())
        {
            if psn.within(w.first_psn, w.last_psn()) && psn.diff(self.comp_psn) > 0 {
                self.comp_psn = psn;
            }
        }
    }

    /// Places one READ response at the front READ, if it is the next expected.
    fn read_response<M: MemoryAccess + ?Sized>(
        &mut self,
        psn: super::psn::Psn,
        pkt: &PacketRepr<'_>,
        mem: &mut M,
    ) {
        let Some(w) = self.sq.front().copied().filter(|w| w.started) else {
            return;
        };
        if !matches!(w.kind, WrKind::Read { .. }) {
            return;
        }
        if psn != self.comp_psn {
            if psn.diff(self.comp_psn) > 0 {
                // A later response: the one at comp_psn was lost.
                self.implied_nak();
            }
            return;
        }
        let mtu = self.cfg.path_mtu.bytes();
        let remaining = w.len.saturating_sub(w.read_done);
        let plen = pkt.payload.len();
        let op = pkt.bth.opcode;
        let is_end =
            op == Opcode::RC_RDMA_READ_RESPONSE_LAST || op == Opcode::RC_RDMA_READ_RESPONSE_ONLY;
        let valid = if remaining > mtu {
            !is_end && plen == mtu as usize
        } else {
            is_end && plen == remaining as usize
        };
        if !valid {
            return;
        }
        if scatter(mem, self.sq.sges(0), w.read_done, pkt.payload).is_err() {
            self.fail_at(0, WcStatus::LocalProtectionError);
            return;
        }
        if let Some(f) = self.sq.front_mut() {
            f.read_done = w.read_done + plen as u32;
        }
        self.comp_psn = psn.add(1);
        if is_end {
            self.complete_front(WcStatus::Success, w.len);
        }
    }

    /// Retires the front WQE; reports it if signaled or failed.
    fn complete_front(&mut self, status: WcStatus, byte_len: u32) {
        let Some(w) = self.sq.pop_front() else { return };
        if w.started {
            self.comp_psn = w.last_psn().add(1);
        }
        if w.signaled || status != WcStatus::Success {
            self.cq.push(Completion::send(
                w.wr_id,
                w.kind.wc_opcode(),
                status,
                byte_len,
            ));
        }
        if self.req_idx > 0 {
            self.req_idx -= 1;
        } else {
            // The requester was (re)sending this WQE: move it on.
            self.reposition();
        }
    }

    /// After an acknowledgement: reset the retry counters and the retransmit
    /// timer if `comp_psn` moved, and keep the requester cursor ahead of it.
    fn progress(&mut self, now: Instant, before: super::psn::Psn) {
        if self.comp_psn == before {
            return;
        }
        self.retry_left = self.cfg.retry_cnt;
        self.rnr_left = self.cfg.rnr_retry;
        if self.next_psn.diff(self.comp_psn) < 0 {
            self.reposition();
        }
        if self.retry_at.is_some_and(|p| p.diff(self.comp_psn) < 0) {
            self.retry_at = None;
        }
        if self.outstanding() {
            self.arm_rto(now);
        } else {
            self.rto = None;
        }
    }

    fn implied_nak(&mut self) {
        if self.retry_at == Some(self.comp_psn) {
            return;
        }
        self.stats.implied_naks += 1;
        self.retry();
    }

    /// A go-back-N retry from `comp_psn`, counted against retry_cnt
    /// (7 = infinite); exhaustion fails the front WQE and flushes the rest.
    pub(crate) fn retry(&mut self) {
        if self.state != QpState::Ready {
            return;
        }
        if self.retry_left == 0 {
            self.fail_at(0, WcStatus::RetryExceeded);
            return;
        }
        if self.retry_left != INFINITE_RETRY {
            self.retry_left -= 1;
        }
        self.stats.retries += 1;
        self.rto = None;
        self.rewind();
    }
}
