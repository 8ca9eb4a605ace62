//! The RC responder: inbound SEND/WRITE/READ/atomic requests in PSN order,
//! duplicate detection and replay, sequence/RNR/access/invalid-request NAKs,
//! the receive queue, responder resources (READ/atomic replay ring) and the
//! ordered queue of outbound ACKs, NAKs and READ/atomic responses
//! (ROCE-FACTS §1.4, §1.7, §5). Must not touch the send queue or the timers.

use alloc::vec::Vec;

use super::config::{Mtu, QpConfig};
use super::cq::Cq;
use super::memory::{scatter, Access, AccessError, AtomicOp, Key, MemoryAccess};
use super::psn::Psn;
use super::qp::{make_bth, MAX_MESSAGE_PSNS};
use super::queue::{RecvWqe, WqeQueue};
use super::ring::Ring;
use super::wr::{Completion, WcOpcode, WcStatus};
use crate::wire::{AethRepr, AtomicAckEthRepr, NakCode, Opcode, PacketRepr, Position, Syndrome};

/// The AETH credit field rxe always sends: "unlimited/invalid".
pub const ACK_CREDITS_UNLIMITED: u8 = 0x1F;
/// Largest RETH DMALength accepted (2^31).
const MAX_DMA_LEN: u32 = 1 << 31;

const ACK: Syndrome = Syndrome::Ack {
    credits: ACK_CREDITS_UNLIMITED,
};

/// The message being received, between its FIRST and LAST packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum InMsg {
    #[default]
    Idle,
    /// A SEND filling the receive at the RQ front; `offset` bytes so far.
    Send { offset: u32 },
    /// An RDMA WRITE: where the next byte goes and how many remain.
    Write {
        va: u64,
        rkey: u32,
        remaining: u32,
        total: u32,
    },
}

/// A saved READ/atomic for duplicate replay.
#[derive(Debug, Clone, Copy, Default)]
enum Resource {
    #[default]
    Empty,
    Read {
        first: Psn,
        last: Psn,
        va: u64,
        rkey: u32,
        len: u32,
    },
    Atomic {
        psn: Psn,
        orig: u64,
    },
}

/// One queued outbound response, sent in queue order.
#[derive(Debug, Clone, Copy)]
enum Item {
    /// ACKNOWLEDGE with an ACK, RNR NAK or NAK syndrome.
    Ack {
        psn: Psn,
        syndrome: Syndrome,
        msn: u32,
    },
    AtomicAck {
        psn: Psn,
        msn: u32,
        orig: u64,
        fresh: bool,
    },
    /// A READ response stream, advanced one packet per transmit.
    Read {
        psn: Psn,
        va: u64,
        rkey: u32,
        remaining: u32,
        first: bool,
        msn: u32,
        fresh: bool,
    },
}

impl Default for Item {
    fn default() -> Self {
        Item::Ack {
            psn: Psn::new(0),
            syndrome: ACK,
            msn: 0,
        }
    }
}

impl Item {
    fn is_fresh_rd_atomic(&self) -> bool {
        matches!(
            self,
            Item::AtomicAck { fresh: true, .. } | Item::Read { fresh: true, .. }
        )
    }
}

/// A responder failure that moves the QP to the error state (the NAK is queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Fatal;

/// The responder half of an RC QP.
#[derive(Debug, Clone)]
pub(crate) struct Responder {
    epsn: Psn,
    /// Completed inbound messages, 24 bits.
    msn: u32,
    nak_sent: bool,
    cur: InMsg,
    pub rq: WqeQueue<RecvWqe>,
    res: Vec<Resource>,
    res_next: usize,
    out: Ring<Item>,
    mtu: Mtu,
    min_rnr_timer: u8,
    max_dest_rd_atomic: u8,
}

type RespResult = Result<(), Fatal>;

impl Responder {
    /// A responder with its receive queue and responder resources reserved
    /// now; `None` when the memory cannot be had.
    pub fn new(cfg: &QpConfig) -> Option<Responder> {
        let nres = usize::from(cfg.max_dest_rd_atomic).max(1);
        let mut res = Vec::new();
        res.try_reserve_exact(nres).ok()?;
        res.resize(nres, Resource::Empty);
        Some(Responder {
            epsn: cfg.recv_psn,
            msn: 0,
            nak_sent: false,
            cur: InMsg::Idle,
            rq: WqeQueue::new(usize::from(cfg.rq_depth), usize::from(cfg.max_recv_sge))?,
            res,
            res_next: 0,
            // Room for every fresh READ/atomic the peer may have outstanding,
            // their replays, and NAKs/ACKs between them.
            out: Ring::try_with_capacity(2 * nres + 16)?,
            mtu: cfg.path_mtu,
            min_rnr_timer: cfg.min_rnr_timer,
            max_dest_rd_atomic: cfg.max_dest_rd_atomic,
        })
    }

    /// Re-keys a responder that never carried traffic for a connection,
    /// without allocating: expected PSN, MTU, RNR timer and inbound read
    /// limit (at most the one it was created with; the caller checks).
    /// The receive queue keeps its entries.
    pub fn reconfigure(&mut self, cfg: &QpConfig) {
        self.epsn = cfg.recv_psn;
        self.msn = 0;
        self.nak_sent = false;
        self.cur = InMsg::Idle;
        for r in self.res.iter_mut() {
            *r = Resource::Empty;
        }
        self.res_next = 0;
        self.out.clear();
        self.mtu = cfg.path_mtu;
        self.min_rnr_timer = cfg.min_rnr_timer;
        self.max_dest_rd_atomic = cfg.max_dest_rd_atomic;
    }

    /// The next PSN the responder expects.
    pub fn expected_psn(&self) -> Psn {
        self.epsn
    }

    fn queue(&mut self, item: Item) {
        // Coalesce plain ACKs: a newer ACK covers an older one still queued.
        if matches!(item, Item::Ack { syndrome: ACK, .. }) {
            if let Some(back) = self.out.back_mut() {
                if matches!(back, Item::Ack { syndrome: ACK, .. }) {
                    *back = item;
                    return;
                }
            }
        }
        // A full queue drops the response, as a lossy link would; the
        // requester's retry recovers it (READ/atomic from the resource ring).
        let _ = self.out.push_back(item);
    }

    fn ack(&mut self, psn: Psn) {
        self.queue(Item::Ack {
            psn,
            syndrome: ACK,
            msn: self.msn,
        });
    }

    /// Queues a fatal NAK behind the responses to earlier requests (making
    /// room if needed) and reports the failure.
    fn fatal_nak(&mut self, psn: Psn, code: NakCode) -> RespResult {
        let nak = Item::Ack {
            psn,
            syndrome: Syndrome::Nak(code),
            msn: self.msn,
        };
        if let Err(nak) = self.out.push_back(nak) {
            if let Some(back) = self.out.back_mut() {
                *back = nak;
            }
        }
        Err(Fatal)
    }

    /// Completes the receive at the RQ front with an error, then NAKs.
    fn fail_recv(&mut self, cq: &mut Cq, status: WcStatus, psn: Psn, code: NakCode) -> RespResult {
        if let Some(w) = self.rq.pop_front() {
            cq.push(Completion::recv(w.wr_id, status));
        }
        self.fatal_nak(psn, code)
    }

    fn rnr_nak(&mut self, psn: Psn) {
        self.queue(Item::Ack {
            psn,
            syndrome: Syndrome::RnrNak {
                timer: self.min_rnr_timer,
            },
            msn: self.msn,
        });
    }

    fn msn_inc(&mut self) {
        self.msn = self.msn.wrapping_add(1) & 0x00FF_FFFF;
    }

    /// Handles one inbound request packet (not an ACK or response).
    pub fn handle<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        mem: &mut M,
        cq: &mut Cq,
    ) -> RespResult {
        let psn = Psn::new(pkt.bth.psn);
        let d = psn.diff(self.epsn);
        if d > 0 {
            // Out of sequence: one NAK with the expected PSN until recovery.
            if !self.nak_sent {
                self.nak_sent = true;
                self.queue(Item::Ack {
                    psn: self.epsn,
                    syndrome: Syndrome::Nak(NakCode::PsnSequenceError),
                    msn: self.msn,
                });
            }
            return Ok(());
        }
        if d < 0 {
            self.duplicate(pkt, psn);
            return Ok(());
        }
        self.nak_sent = false;
        let op = pkt.bth.opcode;
        if op.is_send() {
            self.send(pkt, psn, mem, cq)
        } else if op.is_write() {
            self.write(pkt, psn, mem, cq)
        } else if op == Opcode::RC_RDMA_READ_REQUEST {
            self.read(pkt, psn, mem)
        } else if op.is_atomic() {
            self.atomic(pkt, psn, mem)
        } else {
            self.fatal_nak(psn, NakCode::InvalidRequest)
        }
    }

    /// The packet's position in its message if it passes the opcode-sequence
    /// and per-packet length checks (SEND and WRITE).
    fn sequenced(&self, pkt: &PacketRepr<'_>, is_send: bool) -> Option<Position> {
        let pos = pkt.bth.opcode.position()?;
        self.check_sequence(pos, is_send, pkt.payload.len())
            .then_some(pos)
    }

    fn check_sequence(&self, pos: Position, is_send: bool, len: usize) -> bool {
        let mtu = self.mtu.bytes() as usize;
        let seq_ok = match (self.cur, pos) {
            (InMsg::Idle, Position::First | Position::Only) => true,
            (InMsg::Send { .. }, Position::Middle | Position::Last) => is_send,
            (InMsg::Write { .. }, Position::Middle | Position::Last) => !is_send,
            _ => false,
        };
        let len_ok = match pos {
            Position::First | Position::Middle => len == mtu,
            Position::Last => len >= 1 && len <= mtu,
            Position::Only => len <= mtu,
        };
        seq_ok && len_ok
    }

    fn send<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        psn: Psn,
        mem: &mut M,
        cq: &mut Cq,
    ) -> RespResult {
        let Some(pos) = self.sequenced(pkt, true) else {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        };
        let offset = match self.cur {
            InMsg::Send { offset } => offset,
            _ => 0,
        };
        let Some(wqe) = self.rq.front().copied() else {
            // No receive posted: RNR NAK, drop, stay ready.
            self.rnr_nak(psn);
            return Ok(());
        };
        let plen = pkt.payload.len() as u32;
        let Some(end) = offset.checked_add(plen).filter(|&e| e <= wqe.len) else {
            return self.fail_recv(cq, WcStatus::LocalLengthError, psn, NakCode::InvalidRequest);
        };
        if scatter(mem, self.rq.sges(0), offset, pkt.payload).is_err() {
            return self.fail_recv(
                cq,
                WcStatus::LocalProtectionError,
                psn,
                NakCode::RemoteOperationalError,
            );
        }
        if matches!(pos, Position::Last | Position::Only) {
            let mut c = Completion::recv(wqe.wr_id, WcStatus::Success);
            c.byte_len = end;
            c.imm = pkt.imm;
            c.solicited = pkt.bth.solicited;
            if let Some(rkey) = pkt.ieth {
                if mem.invalidate_remote(rkey).is_err() {
                    return self.fail_recv(
                        cq,
                        WcStatus::LocalProtectionError,
                        psn,
                        NakCode::InvalidRequest,
                    );
                }
                c.invalidated_rkey = Some(rkey);
            }
            self.rq.pop_front();
            cq.push(c);
            self.msn_inc();
            self.cur = InMsg::Idle;
        } else {
            self.cur = InMsg::Send { offset: end };
        }
        self.advance(psn, pkt.bth.ack_req, 1);
        Ok(())
    }

    fn write<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        psn: Psn,
        mem: &mut M,
        cq: &mut Cq,
    ) -> RespResult {
        let Some(pos) = self.sequenced(pkt, false) else {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        };
        let plen = pkt.payload.len() as u32;
        let mtu = self.mtu.bytes();
        let (va, rkey, remaining, total) = match (self.cur, pkt.reth) {
            (InMsg::Idle, Some(reth)) => {
                let ok = reth.dma_len <= MAX_DMA_LEN
                    && match pos {
                        Position::Only => reth.dma_len == plen,
                        _ => reth.dma_len > mtu,
                    };
                if !ok {
                    return self.fatal_nak(psn, NakCode::InvalidRequest);
                }
                (reth.va, reth.rkey, reth.dma_len, reth.dma_len)
            }
            (
                InMsg::Write {
                    va,
                    rkey,
                    remaining,
                    total,
                },
                None,
            ) => (va, rkey, remaining, total),
            _ => return self.fatal_nak(psn, NakCode::InvalidRequest),
        };
        let last = matches!(pos, Position::Last | Position::Only);
        if (last && plen != remaining) || (!last && plen >= remaining) {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        }
        if last && pkt.imm.is_some() && self.rq.is_empty() {
            self.rnr_nak(psn);
            return Ok(());
        }
        if pkt.reth.is_some()
            && total > 0
            && mem
                .check_remote(rkey, va, total, Access::REMOTE_WRITE)
                .is_err()
        {
            return self.fatal_nak(psn, NakCode::RemoteAccessError);
        }
        if plen > 0 && mem.write(Key::Remote(rkey), va, pkt.payload).is_err() {
            return self.fatal_nak(psn, NakCode::RemoteAccessError);
        }
        if last {
            if let Some(imm) = pkt.imm {
                if let Some(w) = self.rq.pop_front() {
                    let mut c = Completion::recv(w.wr_id, WcStatus::Success);
                    c.solicited = pkt.bth.solicited;
                    c.opcode = WcOpcode::RecvRdmaWithImm;
                    c.byte_len = total;
                    c.imm = Some(imm);
                    cq.push(c);
                }
            }
            self.msn_inc();
            self.cur = InMsg::Idle;
        } else {
            self.cur = InMsg::Write {
                va: va.wrapping_add(u64::from(plen)),
                rkey,
                remaining: remaining - plen,
                total,
            };
        }
        self.advance(psn, pkt.bth.ack_req, 1);
        Ok(())
    }

    fn advance(&mut self, psn: Psn, ack_req: bool, n: u32) {
        self.epsn = psn.add(n);
        if ack_req {
            self.ack(psn);
        }
    }

    fn fresh_rd_atomic(&self) -> usize {
        self.out.iter().filter(|i| i.is_fresh_rd_atomic()).count()
    }

    /// Checks the inbound READ/atomic limit and the opcode sequence.
    fn rd_atomic_allowed(&self) -> bool {
        self.cur == InMsg::Idle && self.fresh_rd_atomic() < usize::from(self.max_dest_rd_atomic)
    }

    fn save(&mut self, r: Resource) {
        let n = self.res.len();
        if let Some(slot) = self.res.get_mut(self.res_next) {
            *slot = r;
        }
        self.res_next = (self.res_next + 1) % n.max(1);
    }

    fn read<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        psn: Psn,
        mem: &mut M,
    ) -> RespResult {
        let Some(reth) = pkt.reth.filter(|r| {
            r.dma_len <= MAX_DMA_LEN && self.mtu.packets(r.dma_len) <= MAX_MESSAGE_PSNS
        }) else {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        };
        if !self.rd_atomic_allowed() {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        }
        if reth.dma_len > 0
            && mem
                .check_remote(reth.rkey, reth.va, reth.dma_len, Access::REMOTE_READ)
                .is_err()
        {
            return self.fatal_nak(psn, NakCode::RemoteAccessError);
        }
        let n = self.mtu.packets(reth.dma_len);
        self.msn_inc();
        self.save(Resource::Read {
            first: psn,
            last: psn.add(n - 1),
            va: reth.va,
            rkey: reth.rkey,
            len: reth.dma_len,
        });
        self.queue(Item::Read {
            psn,
            va: reth.va,
            rkey: reth.rkey,
            remaining: reth.dma_len,
            first: true,
            msn: self.msn,
            fresh: true,
        });
        self.epsn = psn.add(n);
        Ok(())
    }

    fn atomic<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        psn: Psn,
        mem: &mut M,
    ) -> RespResult {
        let Some(a) = pkt.atomic_eth else {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        };
        if !self.rd_atomic_allowed() || !a.va.is_multiple_of(8) {
            return self.fatal_nak(psn, NakCode::InvalidRequest);
        }
        let op = if pkt.bth.opcode == Opcode::RC_COMPARE_SWAP {
            AtomicOp::CompareSwap {
                compare: a.compare,
                swap: a.swap_add,
            }
        } else {
            AtomicOp::FetchAdd { add: a.swap_add }
        };
        let orig = match mem.atomic(a.rkey, a.va, op) {
            Ok(v) => v,
            Err(AccessError::Misaligned) => return self.fatal_nak(psn, NakCode::InvalidRequest),
            Err(_) => return self.fatal_nak(psn, NakCode::RemoteAccessError),
        };
        self.msn_inc();
        self.save(Resource::Atomic { psn, orig });
        self.queue(Item::AtomicAck {
            psn,
            msn: self.msn,
            orig,
            fresh: true,
        });
        self.epsn = psn.add(1);
        Ok(())
    }

    /// If a READ response stream of the resource whose PSNs are
    /// `[first, last]` is still queued, restarts it at `psn` for the requested
    /// range instead of queueing a second stream (a re-issued READ means the
    /// requester lost what that stream already sent). Returns whether one was found.
    fn restart_stream(&mut self, psn: Psn, va: u64, len: u32, first: Psn, last: Psn) -> bool {
        for i in 0..self.out.len() {
            let Some(item) = self.out.get_mut(i) else {
                continue;
            };
            if let Item::Read {
                psn: p,
                rkey,
                msn,
                fresh,
                ..
            } = *item
            {
                if p.within(first, last) {
                    *item = Item::Read {
                        psn,
                        va,
                        rkey,
                        remaining: len,
                        first: true,
                        msn,
                        fresh,
                    };
                    return true;
                }
            }
        }
        false
    }

    /// A request with PSN before the expected one: re-ACK, replay or drop.
    fn duplicate(&mut self, pkt: &PacketRepr<'_>, psn: Psn) {
        let op = pkt.bth.opcode;
        if op.is_send() || op.is_write() {
            self.ack(self.epsn.sub(1));
        } else if op == Opcode::RC_RDMA_READ_REQUEST {
            let Some(reth) = pkt.reth else { return };
            let found = self.res.iter().find_map(|r| match *r {
                Resource::Read {
                    first,
                    last,
                    va,
                    rkey,
                    len,
                } if psn.within(first, last) => Some((first, last, va, rkey, len)),
                _ => None,
            });
            let Some((first, last, va, rkey, len)) = found else {
                return;
            };
            let end = va.checked_add(u64::from(len));
            let req_end = reth.va.checked_add(u64::from(reth.dma_len));
            let inside = rkey == reth.rkey
                && reth.va >= va
                && matches!((req_end, end), (Some(a), Some(b)) if a <= b);
            if inside && !self.restart_stream(psn, reth.va, reth.dma_len, first, last) {
                self.queue(Item::Read {
                    psn,
                    va: reth.va,
                    rkey,
                    remaining: reth.dma_len,
                    first: true,
                    msn: self.msn,
                    fresh: false,
                });
            }
        } else if op.is_atomic() {
            let found = self.res.iter().find_map(|r| match *r {
                Resource::Atomic { psn: p, orig } if p == psn => Some(orig),
                _ => None,
            });
            if let Some(orig) = found {
                self.queue(Item::AtomicAck {
                    psn,
                    msn: self.msn,
                    orig,
                    fresh: false,
                });
            }
        }
    }

    /// Emits the next response packet into `buf` (a whole UDP payload, ICRC
    /// zeroed; READ data is read from memory straight into place). Returns its
    /// length, and `true` when it is a fatal remote-access NAK replacing a READ
    /// response whose memory can no longer be read: the QP must enter error.
    pub fn poll_emit<M: MemoryAccess + ?Sized>(
        &mut self,
        mem: &M,
        dest_qp: u32,
        buf: &mut [u8],
    ) -> Option<(usize, bool)> {
        let item = *self.out.front()?;
        let bth = |opcode, psn| make_bth(dest_qp, opcode, psn, false, false);
        match item {
            Item::Ack { psn, syndrome, msn } => {
                self.out.pop_front();
                let mut pkt = PacketRepr::new(bth(Opcode::RC_ACKNOWLEDGE, psn), &[]);
                pkt.aeth = Some(AethRepr { syndrome, msn });
                pkt.emit(buf).ok().map(|n| (n, false))
            }
            Item::AtomicAck { psn, msn, orig, .. } => {
                self.out.pop_front();
                let mut pkt = PacketRepr::new(bth(Opcode::RC_ATOMIC_ACKNOWLEDGE, psn), &[]);
                pkt.aeth = Some(AethRepr { syndrome: ACK, msn });
                pkt.atomic_ack_eth = Some(AtomicAckEthRepr { orig_data: orig });
                pkt.emit(buf).ok().map(|n| (n, false))
            }
            Item::Read {
                psn,
                va,
                rkey,
                remaining,
                first,
                msn,
                fresh,
            } => {
                let mtu = self.mtu.bytes();
                let plen = remaining.min(mtu);
                let last = remaining <= mtu;
                let opcode = match (first, last) {
                    (true, true) => Opcode::RC_RDMA_READ_RESPONSE_ONLY,
                    (true, false) => Opcode::RC_RDMA_READ_RESPONSE_FIRST,
                    (false, false) => Opcode::RC_RDMA_READ_RESPONSE_MIDDLE,
                    (false, true) => Opcode::RC_RDMA_READ_RESPONSE_LAST,
                };
                let mut pkt = PacketRepr::new(bth(opcode, psn), &[]);
                pkt.aeth = (opcode != Opcode::RC_RDMA_READ_RESPONSE_MIDDLE)
                    .then_some(AethRepr { syndrome: ACK, msn });
                let at = pkt.header_len();
                let data = buf.get_mut(at..at + plen as usize)?;
                if plen > 0 && mem.read(Key::Remote(rkey), va, data).is_err() {
                    // The region went away under us: NAK instead.
                    self.out.clear();
                    let mut nak = PacketRepr::new(bth(Opcode::RC_ACKNOWLEDGE, psn), &[]);
                    nak.aeth = Some(AethRepr {
                        syndrome: Syndrome::Nak(NakCode::RemoteAccessError),
                        msn: self.msn,
                    });
                    return nak.emit(buf).ok().map(|n| (n, true));
                }
                if last {
                    self.out.pop_front();
                } else if let Some(f) = self.out.front_mut() {
                    *f = Item::Read {
                        psn: psn.add(1),
                        va: va.wrapping_add(u64::from(plen)),
                        rkey,
                        remaining: remaining - plen,
                        first: false,
                        msn,
                        fresh,
                    };
                }
                pkt.emit_around(plen as usize, buf).ok().map(|n| (n, false))
            }
        }
    }

    /// Drops everything queued (QP error): receives are flushed by the caller.
    pub fn clear_output(&mut self) {
        self.out.clear();
    }
}
