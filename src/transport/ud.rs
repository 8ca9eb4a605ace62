//! [`UdQp`]: an unreliable-datagram queue pair, enough for QP1 (GSI) to carry
//! connection-manager MADs: UD SEND_ONLY (with immediate) with a DETH, Q_Key
//! checked on receive, payload at most one path MTU (ROCE-FACTS §1.3, §3.1,
//! §8.3). Addresses are opaque handles (`ah`) the caller maps to IP/UDP.
//! Must not know about RC state, CM messages or the GRH the verbs layer adds.

use super::config::{ConfigError, Mtu};
use super::cq::Cq;
use super::memory::{gather, scatter, MemoryAccess};
use super::psn::Psn;
use super::qp::make_bth;
use super::queue::{RecvWqe, WqeQueue};
use super::ring::Ring;
use super::wr::{sge_total, Completion, PostError, RecvRequest, Sge, WcOpcode, WcQueue, WcStatus};
use crate::wire::{DethRepr, Opcode, PacketRepr, DEFAULT_PKEY, GSI_QKEY, ICRC_LEN};

/// The GSI QP number.
pub const GSI_QPN: u32 = 1;

/// Configuration of a UD QP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdConfig {
    pub qpn: u32,
    /// Our Q_Key (forced to 0x80010000 for QP1).
    pub qkey: u32,
    pub mtu: Mtu,
    pub sq_depth: u16,
    pub rq_depth: u16,
    pub max_sge: u8,
    /// The PSN of the first datagram (rxe's QP1 starts at 0; receivers do not check it).
    pub send_psn: u32,
}

impl UdConfig {
    /// QP1 with the GSI Q_Key and MTU 256 (a MAD is 256 bytes).
    pub fn gsi(sq_depth: u16, rq_depth: u16) -> UdConfig {
        UdConfig {
            qpn: GSI_QPN,
            qkey: GSI_QKEY,
            mtu: Mtu::Mtu256,
            sq_depth,
            rq_depth,
            max_sge: 2,
            send_psn: 0,
        }
    }
}

/// A UD send: to `dest_qpn` at address handle `ah` with the peer's `dest_qkey`.
#[derive(Debug, Clone, Copy)]
pub struct UdSendRequest<'a> {
    pub wr_id: u64,
    pub ah: u32,
    pub dest_qpn: u32,
    pub dest_qkey: u32,
    pub imm: Option<u32>,
    pub sges: &'a [Sge],
    pub signaled: bool,
}

/// One datagram written by [`UdQp::poll_transmit`]: its length and where it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdTransmit {
    pub len: usize,
    pub ah: u32,
}

/// A UD completion and, for receives, the sender's address handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UdCompletion {
    pub completion: Completion,
    pub src_ah: Option<u32>,
}

#[derive(Debug, Clone, Copy, Default)]
struct UdWqe {
    wr_id: u64,
    ah: u32,
    dest_qpn: u32,
    dest_qkey: u32,
    imm: Option<u32>,
    len: u32,
    signaled: bool,
}

/// An unreliable-datagram QP. Memory is allocated at creation only.
#[derive(Debug, Clone)]
pub struct UdQp {
    cfg: UdConfig,
    psn: Psn,
    sq: WqeQueue<UdWqe>,
    rq: WqeQueue<RecvWqe>,
    cq: Cq,
    src_ahs: Ring<u32>,
    /// Received datagrams dropped (wrong QPN, Q_Key, P_Key, or no receive posted).
    pub dropped: u64,
}

impl UdQp {
    /// IRQL: PASSIVE_LEVEL (allocates).
    /// A UD QP with every queue reserved now; `ConfigError::NoMemory` when
    /// the memory cannot be had.
    pub fn new(cfg: UdConfig) -> Result<UdQp, ConfigError> {
        let sq = usize::from(cfg.sq_depth.max(1));
        let rq = usize::from(cfg.rq_depth.max(1));
        let no_mem = ConfigError::NoMemory;
        Ok(UdQp {
            cfg,
            psn: Psn::new(cfg.send_psn),
            sq: WqeQueue::new(sq, usize::from(cfg.max_sge.max(1))).ok_or(no_mem)?,
            rq: WqeQueue::new(rq, usize::from(cfg.max_sge.max(1))).ok_or(no_mem)?,
            cq: Cq::new(sq + rq).ok_or(no_mem)?,
            src_ahs: Ring::try_with_capacity(rq).ok_or(no_mem)?,
            dropped: 0,
        })
    }

    /// The smallest `buf` [`poll_transmit`](Self::poll_transmit) accepts.
    pub fn max_packet_len(&self) -> usize {
        12 + 12 + self.cfg.mtu.bytes() as usize + ICRC_LEN
    }

    fn qkey(&self) -> u32 {
        if self.cfg.qpn == GSI_QPN {
            GSI_QKEY
        } else {
            self.cfg.qkey
        }
    }

    /// IRQL: <= DISPATCH_LEVEL.
    pub fn post_send(&mut self, wr: &UdSendRequest<'_>) -> Result<(), PostError> {
        if self.sq.len() + self.cq.pending(WcQueue::Send) >= self.sq.capacity() {
            return Err(PostError::QueueFull);
        }
        let len = sge_total(wr.sges)
            .filter(|&l| l <= self.cfg.mtu.bytes())
            .ok_or(PostError::Invalid)?;
        let w = UdWqe {
            wr_id: wr.wr_id,
            ah: wr.ah,
            dest_qpn: wr.dest_qpn,
            dest_qkey: wr.dest_qkey,
            imm: wr.imm,
            len,
            signaled: wr.signaled,
        };
        self.sq.push(w, wr.sges)
    }

    /// IRQL: <= DISPATCH_LEVEL.
    pub fn post_recv(&mut self, wr: &RecvRequest<'_>) -> Result<(), PostError> {
        if self.rq.len() + self.cq.pending(WcQueue::Recv) >= self.rq.capacity() {
            return Err(PostError::QueueFull);
        }
        let len = sge_total(wr.sges).ok_or(PostError::Invalid)?;
        self.rq.push(
            RecvWqe {
                wr_id: wr.wr_id,
                len,
            },
            wr.sges,
        )
    }

    /// Writes the next datagram (BTH+DETH[+ImmDt]+payload+pad+zeroed ICRC).
    /// A send whose SGEs cannot be read completes with LocalProtectionError.
    /// `None` when nothing is queued or `buf` is shorter than
    /// [`max_packet_len`](Self::max_packet_len) (nothing is consumed then).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll_transmit<M: MemoryAccess + ?Sized>(
        &mut self,
        mem: &M,
        buf: &mut [u8],
    ) -> Option<UdTransmit> {
        if buf.len() < self.max_packet_len() {
            return None;
        }
        loop {
            let w = *self.sq.front()?;
            let plen = w.len as usize;
            // rxe sets AckReq on every QP1 datagram (its GSI QP type is not
            // "UD", so the UD exception in its AckReq rule does not apply) and
            // never on other UD QPs: both are what the rxe captures show.
            let gsi = self.cfg.qpn == GSI_QPN;
            let opcode = if w.imm.is_some() {
                Opcode::UD_SEND_ONLY_WITH_IMMEDIATE
            } else {
                Opcode::UD_SEND_ONLY
            };
            let mut pkt = PacketRepr::new(make_bth(w.dest_qpn, opcode, self.psn, gsi, false), &[]);
            let qkey = if self.cfg.qpn == GSI_QPN {
                GSI_QKEY
            } else {
                w.dest_qkey
            };
            pkt.deth = Some(DethRepr {
                qkey,
                src_qp: self.cfg.qpn,
                resv8: 0,
            });
            pkt.imm = w.imm;
            let at = pkt.header_len();
            let ok = match buf.get_mut(at..at + plen) {
                Some(data) => gather(mem, self.sq.sges(0), 0, data).is_ok(),
                None => false,
            };
            if !ok {
                self.sq.pop_front();
                self.cq.push(Completion::send(
                    w.wr_id,
                    WcOpcode::Send,
                    WcStatus::LocalProtectionError,
                    0,
                ));
                continue;
            }
            let len = pkt.emit_around(plen, buf).ok()?;
            self.psn = self.psn.add(1);
            self.sq.pop_front();
            if w.signaled {
                self.cq.push(Completion::send(
                    w.wr_id,
                    WcOpcode::Send,
                    WcStatus::Success,
                    w.len,
                ));
            }
            return Some(UdTransmit { len, ah: w.ah });
        }
    }

    /// Takes one datagram received from address handle `src_ah`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn handle_packet<M: MemoryAccess + ?Sized>(
        &mut self,
        pkt: &PacketRepr<'_>,
        src_ah: u32,
        mem: &mut M,
    ) {
        let op = pkt.bth.opcode;
        let Some(deth) = pkt.deth else {
            self.dropped += 1;
            return;
        };
        if pkt.bth.dest_qp != self.cfg.qpn
            || pkt.bth.pkey != DEFAULT_PKEY
            || deth.qkey != self.qkey()
            || (op != Opcode::UD_SEND_ONLY && op != Opcode::UD_SEND_ONLY_WITH_IMMEDIATE)
        {
            self.dropped += 1;
            return;
        }
        let Some(w) = self.rq.front().copied() else {
            self.dropped += 1;
            return;
        };
        let len = u32::try_from(pkt.payload.len()).unwrap_or(u32::MAX);
        let status = if len > w.len {
            WcStatus::LocalLengthError
        } else if scatter(mem, self.rq.sges(0), 0, pkt.payload).is_err() {
            WcStatus::LocalProtectionError
        } else {
            WcStatus::Success
        };
        self.rq.pop_front();
        let mut c = Completion::recv(w.wr_id, status);
        c.byte_len = len;
        c.imm = pkt.imm;
        c.src_qp = Some(deth.src_qp);
        c.solicited = pkt.bth.solicited;
        let _ = self.src_ahs.push_back(src_ah);
        self.cq.push(c);
    }

    /// IRQL: <= DISPATCH_LEVEL.
    pub fn poll_completion(&mut self) -> Option<UdCompletion> {
        let completion = self.cq.pop()?;
        let src_ah = match completion.queue {
            WcQueue::Recv => self.src_ahs.pop_front(),
            WcQueue::Send => None,
        };
        Some(UdCompletion { completion, src_ah })
    }
}
