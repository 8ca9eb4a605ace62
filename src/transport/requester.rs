//! The RC requester: walks the send queue and emits request packets —
//! segmentation by path MTU, PSN assignment, AckReq placement, the 128-PSN
//! window, the outbound READ/atomic limit, READ_FENCE, and the go-back-N
//! rewind of its cursor (ROCE-FACTS §1.6, §1.7, §5). Must not consume
//! responses (that is the completer) or touch the responder.

use super::memory::{gather, MemoryAccess};
use super::psn::Psn;
use super::qp::{QpState, RcQp, MAX_PKTS_PER_ACK, MAX_UNACKED_PSNS};
use super::queue::SendWqe;
use super::wr::{WcStatus, WrKind};
use crate::wire::{AtomicEthRepr, Opcode, PacketRepr, Position, RethRepr};

/// The opcode of a SEND or WRITE packet at `pos`.
fn send_write_opcode(kind: &WrKind, pos: Position) -> Opcode {
    use Position::*;
    match (*kind, pos) {
        (WrKind::Send { .. }, First) => Opcode::RC_SEND_FIRST,
        (WrKind::Send { .. }, Middle) => Opcode::RC_SEND_MIDDLE,
        (WrKind::Send { imm: Some(_), .. }, Last) => Opcode::RC_SEND_LAST_WITH_IMMEDIATE,
        (WrKind::Send { imm: Some(_), .. }, Only) => Opcode::RC_SEND_ONLY_WITH_IMMEDIATE,
        (
            WrKind::Send {
                invalidate: Some(_),
                ..
            },
            Last,
        ) => Opcode::RC_SEND_LAST_WITH_INVALIDATE,
        (
            WrKind::Send {
                invalidate: Some(_),
                ..
            },
            Only,
        ) => Opcode::RC_SEND_ONLY_WITH_INVALIDATE,
        (WrKind::Send { .. }, Last) => Opcode::RC_SEND_LAST,
        (WrKind::Send { .. }, Only) => Opcode::RC_SEND_ONLY,
        (_, First) => Opcode::RC_RDMA_WRITE_FIRST,
        (_, Middle) => Opcode::RC_RDMA_WRITE_MIDDLE,
        (WrKind::Write { imm: Some(_), .. }, Last) => Opcode::RC_RDMA_WRITE_LAST_WITH_IMMEDIATE,
        (WrKind::Write { imm: Some(_), .. }, Only) => Opcode::RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE,
        (_, Last) => Opcode::RC_RDMA_WRITE_LAST,
        (_, Only) => Opcode::RC_RDMA_WRITE_ONLY,
    }
}

/// Packet `k` of `n`'s position in its message.
fn position(k: u32, n: u32) -> Position {
    if n <= 1 {
        Position::Only
    } else if k == 0 {
        Position::First
    } else if k + 1 >= n {
        Position::Last
    } else {
        Position::Middle
    }
}

impl RcQp {
    /// READ/atomic WQEs ahead of the requester cursor (sent, not completed).
    fn rd_atomic_in_flight(&self) -> usize {
        self.sq
            .iter()
            .take(self.req_idx)
            .filter(|w| w.kind.is_read_or_atomic())
            .count()
    }

    /// Builds and emits the next request packet, if one may go now.
    pub(crate) fn poll_request<M: MemoryAccess + ?Sized>(
        &mut self,
        now: super::time::Instant,
        mem: &mut M,
        buf: &mut [u8],
    ) -> Option<usize> {
        if self.state != QpState::Ready || self.rnr_until.is_some() {
            return None;
        }
        let mut w: SendWqe = *self.sq.get(self.req_idx)?;
        if self.next_psn.diff(self.comp_psn) > MAX_UNACKED_PSNS {
            return None;
        }
        let mtu = self.cfg.path_mtu.bytes();
        if self.req_pkt == 0 {
            let in_flight = self.rd_atomic_in_flight();
            if w.kind.is_read_or_atomic() && in_flight >= usize::from(self.cfg.max_rd_atomic) {
                return None;
            }
            if w.fence && in_flight > 0 {
                return None;
            }
            if !w.started {
                w.started = true;
                w.first_psn = self.next_psn;
                w.npsn = match w.kind {
                    WrKind::CompareSwap { .. } | WrKind::FetchAdd { .. } => 1,
                    _ => self.cfg.path_mtu.packets(w.len),
                };
            }
        }
        let (psn, ack_req, done, n) = match w.kind {
            WrKind::Send { .. } | WrKind::Write { .. } => {
                let k = self.req_pkt;
                let offset = k.saturating_mul(mtu);
                let plen = w.len.saturating_sub(offset).min(mtu) as usize;
                let pos = position(k, w.npsn);
                let last = matches!(pos, Position::Last | Position::Only);
                let psn = w.first_psn.add(k);
                self.noack_pkts += 1;
                let ack_req = last || self.noack_pkts >= MAX_PKTS_PER_ACK;
                let opcode = send_write_opcode(&w.kind, pos);
                let bth = self.bth(opcode, psn, ack_req, last && w.solicited);
                let mut pkt = PacketRepr::new(bth, &[]);
                match w.kind {
                    WrKind::Write {
                        remote_va,
                        rkey,
                        imm,
                    } => {
                        if matches!(pos, Position::First | Position::Only) {
                            pkt.reth = Some(RethRepr {
                                va: remote_va,
                                rkey,
                                dma_len: w.len,
                            });
                        }
                        if last {
                            pkt.imm = imm;
                        }
                    }
                    WrKind::Send { imm, invalidate } if last => {
                        pkt.imm = imm;
                        pkt.ieth = invalidate;
                    }
                    _ => {}
                }
                // Gather the payload straight into place behind the headers.
                let at = pkt.header_len();
                let data = buf.get_mut(at..at + plen)?;
                if gather(mem, self.sq.sges(self.req_idx), offset, data).is_err() {
                    self.fail_at(self.req_idx, WcStatus::LocalProtectionError);
                    return None;
                }
                let n = pkt.emit_around(plen, buf).ok()?;
                (psn, ack_req, last, n)
            }
            WrKind::Read { remote_va, rkey } => {
                let done = w.read_done;
                let psn = w.first_psn.add(done / mtu);
                let reth = RethRepr {
                    va: remote_va.wrapping_add(u64::from(done)),
                    rkey,
                    dma_len: w.len - done.min(w.len),
                };
                let mut pkt = PacketRepr::new(
                    self.bth(Opcode::RC_RDMA_READ_REQUEST, psn, true, false),
                    &[],
                );
                pkt.reth = Some(reth);
                let n = pkt.emit(buf).ok()?;
                (psn, true, true, n)
            }
            WrKind::CompareSwap {
                remote_va,
                rkey,
                compare,
                swap,
            } => self.atomic_packet(
                Opcode::RC_COMPARE_SWAP,
                &w,
                AtomicEthRepr {
                    va: remote_va,
                    rkey,
                    swap_add: swap,
                    compare,
                },
                buf,
            )?,
            WrKind::FetchAdd {
                remote_va,
                rkey,
                add,
            } => self.atomic_packet(
                Opcode::RC_FETCH_ADD,
                &w,
                AtomicEthRepr {
                    va: remote_va,
                    rkey,
                    swap_add: add,
                    compare: 0,
                },
                buf,
            )?,
        };
        if ack_req {
            self.noack_pkts = 0;
        }
        if let Some(slot) = self.sq.get_mut(self.req_idx) {
            *slot = w;
        }
        if done {
            self.req_idx += 1;
            self.req_pkt = 0;
            self.next_psn = w.first_psn.add(w.npsn);
        } else {
            self.req_pkt += 1;
            self.next_psn = psn.add(1);
        }
        if self.next_psn.diff(self.psn_hwm) > 0 {
            self.psn_hwm = self.next_psn;
        }
        if self.rto.is_none() {
            self.arm_rto(now);
        }
        Some(n)
    }

    fn atomic_packet(
        &self,
        opcode: Opcode,
        w: &SendWqe,
        eth: AtomicEthRepr,
        buf: &mut [u8],
    ) -> Option<(Psn, bool, bool, usize)> {
        let mut pkt = PacketRepr::new(self.bth(opcode, w.first_psn, true, false), &[]);
        pkt.atomic_eth = Some(eth);
        let n = pkt.emit(buf).ok()?;
        Some((w.first_psn, true, true, n))
    }

    /// Arms the retransmit timer at `now + local ACK timeout` (never for timeout 0).
    pub(crate) fn arm_rto(&mut self, now: super::time::Instant) {
        self.rto = super::time::local_ack_timeout(self.cfg.local_ack_timeout)
            .map(|d| now.saturating_add(d));
    }

    /// Points the requester cursor at `comp_psn`: the SQ front, skipping the
    /// packets of a partially acknowledged SEND/WRITE (a partial READ is
    /// re-issued for its remaining bytes when sent).
    pub(crate) fn reposition(&mut self) {
        self.req_idx = 0;
        self.req_pkt = 0;
        self.next_psn = self.comp_psn;
        if let Some(w) = self.sq.front() {
            if w.started && !w.kind.is_read_or_atomic() {
                let k = self.comp_psn.diff(w.first_psn);
                self.req_pkt = u32::try_from(k).unwrap_or(0).min(w.npsn.saturating_sub(1));
            }
        }
    }

    /// Go-back-N: restart sending at `comp_psn`.
    pub(crate) fn rewind(&mut self) {
        self.reposition();
        self.retry_at = Some(self.comp_psn);
        self.noack_pkts = 0;
    }
}
