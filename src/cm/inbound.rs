//! Incoming CM MADs: parsing through `crate::wire`, the passive side's REQ
//! checks (service ID, CMA header, GID, listener, backlog), and every other
//! message's effect on the connection it names, including duplicates and
//! stale comm IDs.
//!
//! Owns the message side of the state machines; must not parse bytes itself
//! (the layouts are `crate::wire`'s) nor do I/O.

use core::net::{IpAddr, SocketAddr};

use crate::wire::cm::{
    tst, CmDreqRepr, CmMad, CmMessage, CmMraRepr, CmMsgRef, CmRejRepr, CmRepRepr, CmReqRepr,
    CmRtuRepr, RejReason,
};
use crate::wire::cma::{gid_ip, parse_service_id, CmaHdrRepr, CMA_VERSION, RDMA_PS_TCP};
use crate::wire::mad::METHOD_SEND;

use super::api::{CmEvent, ConnId, ConnectReply, ConnectRequest, ListenerId, PrivateData};
use super::conn::{Conn, Ended, Sent, Side, State};
use super::engine::CmEngine;
use super::msg;
use super::time::{cm_timeout, Instant};

/// The shortest REP retry interval we accept from a REQ: 4.096 µs × 2^8 ≈ 1 ms.
const MIN_RETRY_TIMEOUT: u8 = 8;

/// Why a REQ is refused before any connection exists.
struct Refuse {
    reason: RejReason,
    ari: [u8; 16],
    ari_len: usize,
}

impl Refuse {
    fn plain(reason: RejReason) -> Self {
        Self {
            reason,
            ari: [0; 16],
            ari_len: 0,
        }
    }
}

impl CmEngine {
    /// A MAD received on QP1 from `peer_ip` (the IP source address). Any
    /// length or content is accepted: what does not parse as a CM Send is
    /// counted and dropped. IRQL: <= DISPATCH_LEVEL.
    pub fn handle_mad(&mut self, now: Instant, peer_ip: IpAddr, mad: &[u8]) {
        let parsed = match CmMad::parse_bytes(mad) {
            Ok(m) if m.header.method == METHOD_SEND && !m.header.response => m,
            _ => {
                self.stats.dropped_malformed = self.stats.dropped_malformed.saturating_add(1);
                return;
            }
        };
        let tid = parsed.header.transaction_id;
        match parsed.message {
            CmMessage::Req(m) => self.on_req(peer_ip, tid, &m),
            CmMessage::Mra(m) => self.on_mra(now, peer_ip, &m),
            CmMessage::Rej(m) => self.on_rej(peer_ip, &m),
            CmMessage::Rep(m) => self.on_rep(peer_ip, tid, &m),
            CmMessage::Rtu(m) => self.on_rtu(peer_ip, &m),
            CmMessage::Dreq(m) => self.on_dreq(now, peer_ip, tid, &m),
            CmMessage::Drep(m) => self.on_drep(now, peer_ip, &m),
            CmMessage::SidrReq(_) | CmMessage::SidrRep(_) => self.stale(),
        }
    }

    fn stale(&mut self) {
        self.stats.dropped_stale = self.stats.dropped_stale.saturating_add(1);
    }

    /// The connection a reply names by our comm ID, if it came from its peer.
    fn lookup(&self, peer_ip: IpAddr, ours: u32, theirs: u32) -> Option<u32> {
        self.conns
            .get(ours)
            .filter(|c| c.is_from_peer(peer_ip, theirs))
            .map(|_| ours)
    }

    /// The connection made from the peer's REQ `their_comm_id` from `peer_ip`.
    fn lookup_by_remote(&self, peer_ip: IpAddr, their_comm_id: u32) -> Option<u32> {
        self.conns
            .iter()
            .find(|(_, c)| c.peer_ip == peer_ip && c.remote_comm_id == their_comm_id)
            .map(|(id, _)| id)
    }

    // ----- REQ (passive side) -------------------------------------------

    fn on_req(&mut self, peer_ip: IpAddr, tid: u64, req: &CmReqRepr) {
        if let Some(id) = self.lookup_by_remote(peer_ip, req.local_comm_id) {
            self.on_dup_req(id);
            return;
        }
        match self.admit_req(peer_ip, tid, req) {
            Ok(()) => {}
            Err(r) => {
                let ari = r.ari.get(..r.ari_len).unwrap_or(&[]);
                let rej = msg::rej(0, req.local_comm_id, CmMsgRef::Req, r.reason, ari, &[]);
                self.send(peer_ip, tid, rej);
            }
        }
    }

    /// A repeated REQ: the REP again, an MRA while the consumer decides, our
    /// REJ again, or STALE_CONN in timewait; ignored otherwise.
    fn on_dup_req(&mut self, id: u32) {
        let Some(c) = self.conns.get(id) else {
            return;
        };
        match (c.state, c.last_sent) {
            (State::RepSent, _) | (State::Done(_) | State::TimeWait, Sent::Rej) => self.resend(id),
            (State::ReqRcvd, _) => {
                let mra = msg::mra_req(&self.cfg, c);
                self.send_conn(id, Sent::Mra, mra);
            }
            (State::TimeWait, _) => {
                let (tid, peer) = (c.tid, c.peer_ip);
                let rej = msg::rej(
                    c.local_comm_id,
                    c.remote_comm_id,
                    CmMsgRef::Req,
                    RejReason::StaleConn,
                    &[],
                    &[],
                );
                self.send(peer, tid, rej);
            }
            _ => self.stale(),
        }
    }

    /// The passive checks, in Linux's order, then a new connection and a
    /// ConnectRequest event.
    fn admit_req(&mut self, peer_ip: IpAddr, tid: u64, req: &CmReqRepr) -> Result<(), Refuse> {
        let port = match parse_service_id(req.service_id) {
            Some((RDMA_PS_TCP, port)) => port,
            _ => return Err(Refuse::plain(RejReason::InvalidServiceId)),
        };
        // The path must end at one of our GIDs.
        let target = gid_ip(&req.primary_path.remote_gid);
        if !self.ports.is_local(target) {
            let mut r = Refuse::plain(RejReason::InvalidGid);
            if let Some(ours) = self
                .ports
                .local_addrs()
                .iter()
                .find(|a| a.is_ipv4() == target.is_ipv4())
            {
                r.ari = msg::gid_of(*ours);
                r.ari_len = 16;
            }
            return Err(r);
        }
        let cma = match req.cma_header() {
            Ok(h) if h.version == CMA_VERSION => h,
            _ => return Err(Refuse::plain(RejReason::InvalidServiceId)),
        };
        let listener = self
            .find_listener(&cma, port)
            .ok_or(Refuse::plain(RejReason::InvalidServiceId))?;
        if req.transport_service_type != tst::RC {
            return Err(Refuse::plain(RejReason::InvalidTransportType));
        }
        // Not an IB MTU enum -> REJ 26. A valid one larger than ours is
        // accepted and clamped: the connection runs at min(REQ, ours)
        // (`docs/CM.md`, "Path MTU").
        if !(1..=5).contains(&req.path_mtu) {
            return Err(Refuse::plain(RejReason::InvalidMtu));
        }
        let path_mtu = req.path_mtu.min(self.cfg.max_path_mtu.clamp(1, 5));
        let l = self
            .listeners
            .get(listener.0)
            .copied()
            .ok_or(Refuse::plain(RejReason::InvalidServiceId))?;
        if l.pending >= l.backlog || self.conns.len() >= self.cfg.max_connections as usize {
            return Err(Refuse::plain(RejReason::NoResources));
        }
        let local = SocketAddr::new(cma.dst_addr, port);
        let remote = SocketAddr::new(cma.src_addr, cma.src_port);
        let mut c = Conn::new(Side::Passive, l.endpoint, local, remote);
        c.peer_ip = peer_ip;
        c.listener = Some(listener);
        c.in_backlog = true;
        c.remote_comm_id = req.local_comm_id;
        c.remote_ca_guid = req.local_ca_guid;
        c.tid = tid;
        c.remote_qpn = req.local_qpn;
        // Swapped: what the peer lets us do.
        c.inbound_read_limit = req.initiator_depth;
        c.outbound_read_limit = req.responder_resources;
        c.path_mtu = path_mtu;
        // Pace REP retries as the peer asked (at least ~1 ms apart).
        c.retry_timeout = req.local_cm_response_timeout.max(MIN_RETRY_TIMEOUT);
        c.max_retries = req.max_cm_retries;
        c.private_data = PrivateData::new(req.cma_user_data());
        let id = self
            .conns
            .insert(&mut self.rng, c)
            .map_err(|_| Refuse::plain(RejReason::NoResources))?;
        self.ports.add_ref(l.endpoint);
        if let Some(lm) = self.listeners.get_mut(listener.0) {
            lm.pending = lm.pending.saturating_add(1);
            lm.open_conns = lm.open_conns.saturating_add(1);
        }
        if let Some(c) = self.conns.get_mut(id) {
            c.local_comm_id = id;
        }
        self.push_event(CmEvent::ConnectRequest(ConnectRequest {
            listener,
            conn: ConnId(id),
            local,
            remote,
            private_data: PrivateData::new(req.cma_user_data()),
            inbound_read_limit: req.initiator_depth,
            outbound_read_limit: req.responder_resources,
            remote_qpn: req.local_qpn,
            send_psn: req.starting_psn,
            path_mtu,
            retry_count: req.retry_count,
            rnr_retry_count: req.rnr_retry_count,
            local_ack_timeout: req.primary_path.local_ack_timeout,
        }));
        Ok(())
    }

    /// The listener for a REQ to `port` whose CMA header names `cma.dst_addr`:
    /// open, not paused, bound to that address (preferred) or to the wildcard
    /// of its family, and the address must be ours.
    fn find_listener(&self, cma: &CmaHdrRepr, port: u16) -> Option<ListenerId> {
        let dst = cma.dst_addr;
        if !self.ports.is_local(dst) || cma.src_addr.is_ipv4() != dst.is_ipv4() {
            return None;
        }
        let usable = |l: &super::engine::Listener| !l.closed && !l.paused && l.port == port;
        let exact = self
            .listeners
            .iter()
            .find(|(_, l)| usable(l) && l.addr == dst);
        let wild = || {
            self.listeners.iter().find(|(_, l)| {
                usable(l) && l.addr.is_unspecified() && l.addr.is_ipv4() == dst.is_ipv4()
            })
        };
        exact.or_else(wild).map(|(id, _)| ListenerId(id))
    }

    // ----- replies --------------------------------------------------------

    fn on_rep(&mut self, peer_ip: IpAddr, tid: u64, rep: &CmRepRepr) {
        let Some(id) = self.lookup(peer_ip, rep.remote_comm_id, rep.local_comm_id) else {
            // A REP for no REQ of ours.
            let rej = msg::rej(
                0,
                rep.local_comm_id,
                CmMsgRef::Rep,
                RejReason::InvalidCommId,
                &[],
                &[],
            );
            self.send(peer_ip, tid, rej);
            self.stale();
            return;
        };
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        match c.state {
            State::ReqSent | State::MraReqRcvd if c.side == Side::Active => {}
            // Our RTU was lost: send it again.
            State::Established if c.last_sent == Sent::Rtu => {
                self.resend(id);
                return;
            }
            _ => {
                self.stale();
                return;
            }
        }
        c.state = State::RepRcvd;
        c.deadline = None;
        c.remote_comm_id = rep.local_comm_id;
        c.remote_ca_guid = rep.local_ca_guid;
        c.remote_qpn = rep.local_qpn;
        // Swapped: the peer's initiator depth bounds our inbound reads.
        c.inbound_read_limit = c.inbound_read_limit.min(rep.initiator_depth);
        c.outbound_read_limit = c.outbound_read_limit.min(rep.responder_resources);
        c.private_data = PrivateData::new(&rep.private_data);
        let ev = ConnectReply {
            conn: ConnId(id),
            remote_qpn: rep.local_qpn,
            send_psn: rep.starting_psn,
            inbound_read_limit: c.inbound_read_limit,
            outbound_read_limit: c.outbound_read_limit,
            private_data: c.private_data,
            rnr_retry_count: rep.rnr_retry_count,
            target_ack_delay: rep.target_ack_delay,
            srq: rep.srq,
        };
        self.report(id, CmEvent::ConnectReply(ev));
    }

    fn on_rtu(&mut self, peer_ip: IpAddr, rtu: &CmRtuRepr) {
        let Some(id) = self.lookup(peer_ip, rtu.remote_comm_id, rtu.local_comm_id) else {
            self.stale();
            return;
        };
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if c.state != State::RepSent {
            // Duplicates and strays change nothing.
            self.stale();
            return;
        }
        c.state = State::Established;
        c.deadline = None;
        self.report(id, CmEvent::Established { conn: ConnId(id) });
    }

    fn on_mra(&mut self, now: Instant, peer_ip: IpAddr, mra: &CmMraRepr) {
        let Some(id) = self.lookup(peer_ip, mra.remote_comm_id, mra.local_comm_id) else {
            self.stale();
            return;
        };
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let wait = cm_timeout(mra.service_timeout).saturating_add(cm_timeout(c.retry_timeout));
        match (c.state, mra.message_mraed) {
            // One extension per retry: a peer cannot hold us forever.
            (State::ReqSent, CmMsgRef::Req) => {
                c.state = State::MraReqRcvd;
                c.remote_comm_id = mra.local_comm_id;
                c.deadline = Some(now.saturating_add(wait));
            }
            (State::RepSent, CmMsgRef::Rep) => c.deadline = Some(now.saturating_add(wait)),
            _ => self.stale(),
        }
    }

    fn on_rej(&mut self, peer_ip: IpAddr, rej: &CmRejRepr) {
        // A REJ names our comm ID, or (a peer cancelling its REQ) only its own.
        let id = self
            .lookup(peer_ip, rej.remote_comm_id, rej.local_comm_id)
            .or_else(|| {
                (rej.local_comm_id != 0)
                    .then(|| self.lookup_by_remote(peer_ip, rej.local_comm_id))
                    .flatten()
            });
        let Some(id) = id else {
            self.stale();
            return;
        };
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let conn = ConnId(id);
        let event = match c.state {
            State::ReqSent | State::MraReqRcvd => {
                c.state = State::Done(Ended::RejectedByPeer);
                c.private_data = PrivateData::new(&rej.private_data);
                CmEvent::ConnectRejected {
                    conn,
                    reason: rej.reason,
                    private_data: c.private_data,
                }
            }
            State::RepRcvd | State::ReqRcvd | State::RepSent => {
                c.state = State::Done(Ended::Aborted);
                c.aborted = true;
                c.private_data = PrivateData::new(&rej.private_data);
                CmEvent::ConnectAborted { conn }
            }
            _ => {
                self.stale();
                return;
            }
        };
        if let Some(c) = self.conns.get_mut(id) {
            c.deadline = None;
        }
        self.leave_backlog(id);
        self.report(id, event);
    }

    // ----- disconnect -----------------------------------------------------

    fn on_dreq(&mut self, now: Instant, peer_ip: IpAddr, tid: u64, dreq: &CmDreqRepr) {
        let found = self
            .lookup(peer_ip, dreq.remote_comm_id, dreq.local_comm_id)
            .filter(|&id| {
                self.conns
                    .get(id)
                    .is_some_and(|c| c.local_qpn == dreq.remote_qpn)
            });
        let Some(id) = found else {
            // Like Linux: answer so the peer's disconnect completes.
            let drep = msg::drep(dreq.remote_comm_id, dreq.local_comm_id);
            self.send(peer_ip, tid, drep);
            self.stale();
            return;
        };
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let conn = ConnId(id);
        let state = c.state;
        match state {
            State::Established | State::RepSent | State::RepRcvd | State::DreqSent => {}
            // Our DREP was lost: answer again, even after timewait.
            State::TimeWait | State::Done(Ended::Disconnected) => {
                c.dreq_tid = tid;
                let drep = msg::drep(c.local_comm_id, c.remote_comm_id);
                self.send_conn(id, Sent::Drep, drep);
                return;
            }
            _ => {
                self.stale();
                return;
            }
        }
        c.dreq_tid = tid;
        let drep = msg::drep(c.local_comm_id, c.remote_comm_id);
        self.send_conn(id, Sent::Drep, drep);
        self.enter_timewait(now, id);
        match state {
            State::RepSent => {
                // The RTU was lost and the peer is already leaving.
                self.report(id, CmEvent::Established { conn });
                self.report(id, CmEvent::Disconnected { conn });
            }
            State::RepRcvd => {
                if let Some(c) = self.conns.get_mut(id) {
                    c.aborted = true;
                }
                self.report(id, CmEvent::ConnectAborted { conn });
            }
            State::DreqSent => self.report(
                id,
                CmEvent::DisconnectDone {
                    conn,
                    timed_out: false,
                },
            ),
            _ => self.report(id, CmEvent::Disconnected { conn }),
        }
    }

    fn on_drep(&mut self, now: Instant, peer_ip: IpAddr, drep: &CmRtuRepr) {
        let Some(id) = self.lookup(peer_ip, drep.remote_comm_id, drep.local_comm_id) else {
            self.stale();
            return;
        };
        if self.conns.get(id).map(|c| c.state) != Some(State::DreqSent) {
            self.stale();
            return;
        }
        self.enter_timewait(now, id);
        self.report(
            id,
            CmEvent::DisconnectDone {
                conn: ConnId(id),
                timed_out: false,
            },
        );
    }
}
