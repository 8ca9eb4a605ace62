//! The CM engine of one adapter: its tables (connections, listeners, shared
//! endpoints, the port space), its bounded output queues, and the consumer
//! requests (listen, connect, accept, reject, complete_connect, disconnect,
//! close). Incoming MADs are handled in `inbound.rs`, timers in `timers.rs`.
//!
//! Owns the engine object and the request side of the state machines; must
//! not do I/O, read clocks or call the consumer (everything leaves through
//! `poll_transmit`, `poll_event` and `poll_timeout`).

use alloc::collections::VecDeque;
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};

use crate::verbs::token::{TokenRng, TokenTable};
use crate::wire::cm::{CmMessage, CmMsgRef, RejReason};
use crate::wire::mad::MAD_LEN;

use super::api::{
    AcceptParams, Cancelled, CmConfig, CmError, CmEvent, CmStats, ConnId, ConnectParams,
    DisconnectStarted, ListenerClose, ListenerId, LocalEndpoint, PrivateData, SharedEndpointId,
    MAX_ACCEPT_PRIVATE, MAX_CONNECT_PRIVATE, MAX_REJECT_PRIVATE,
};
use super::conn::{Conn, Ended, Sent, Side, State};
use super::msg;
use super::ports::{EndpointKind, PortError, PortSpace};
use super::time::{cm_timeout, Instant};

/// A listener: a bound endpoint, its pause flag and its backlog.
#[derive(Debug, Clone, Copy)]
pub(super) struct Listener {
    pub endpoint: u32,
    pub addr: IpAddr,
    pub port: u16,
    pub paused: bool,
    pub closed: bool,
    /// Most REQs reported and not yet answered (accept, reject or close).
    pub backlog: u32,
    pub pending: u32,
    /// Connectors born from this listener that the consumer has not closed.
    pub open_conns: u32,
}

/// The sans-IO connection manager of one adapter. All memory is reserved in
/// [`CmEngine::new`]; no method allocates afterwards.
pub struct CmEngine {
    pub(super) cfg: CmConfig,
    pub(super) rng: TokenRng,
    pub(super) ports: PortSpace,
    pub(super) conns: TokenTable<Conn>,
    pub(super) listeners: TokenTable<Listener>,
    pub(super) shared: TokenTable<u32>,
    pub(super) tx: VecDeque<(IpAddr, [u8; MAD_LEN])>,
    tx_cap: usize,
    pub(super) events: VecDeque<CmEvent>,
    events_cap: usize,
    /// Scratch list of connection tokens for timer sweeps.
    pub(super) scratch: Vec<u32>,
    /// High 32 bits of the TIDs we start.
    tid_hi: u32,
    pub(super) stats: CmStats,
}

impl core::fmt::Debug for CmEngine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CmEngine")
            .field("stats", &self.stats())
            .finish()
    }
}

impl CmEngine {
    /// An engine for one adapter. Allocates every table and queue now.
    /// IRQL: PASSIVE_LEVEL (adapter creation).
    pub fn new(cfg: CmConfig) -> Self {
        let mut rng = TokenRng::from_seed(cfg.seed);
        let conns = cfg.max_connections.max(1);
        let listeners = cfg.max_listeners.max(1);
        let shared = cfg.max_shared_endpoints.max(1);
        let endpoints = conns.saturating_add(listeners).saturating_add(shared);
        let start = rng.next_u32() as u16;
        let tid_hi = rng.next_u32();
        // Each connection answers at most a few MADs per input; the queues are
        // drained after every input by the caller.
        let tx_cap = (conns as usize).saturating_mul(2).saturating_add(64);
        let events_cap = (conns as usize)
            .saturating_mul(4)
            .saturating_add(listeners as usize);
        Self {
            ports: PortSpace::new(&cfg.local_addrs, endpoints, conns, start),
            conns: TokenTable::with_capacity(conns),
            listeners: TokenTable::with_capacity(listeners),
            shared: TokenTable::with_capacity(shared),
            tx: VecDeque::with_capacity(tx_cap),
            tx_cap,
            events: VecDeque::with_capacity(events_cap),
            events_cap,
            scratch: Vec::with_capacity(conns as usize),
            tid_hi,
            stats: CmStats::default(),
            cfg,
            rng,
        }
    }

    /// The configuration. IRQL: any.
    pub fn config(&self) -> &CmConfig {
        &self.cfg
    }

    /// Sets our path MTU ([`CmConfig::max_path_mtu`], IB enum; out of
    /// 1..=5 -> [`CmError::InvalidParameter`]). Applies to connections
    /// started or requested from now on. IRQL: <= DISPATCH_LEVEL.
    pub fn set_max_path_mtu(&mut self, mtu: u8) -> Result<(), CmError> {
        if !(1..=5).contains(&mtu) {
            return Err(CmError::InvalidParameter);
        }
        self.cfg.max_path_mtu = mtu;
        Ok(())
    }

    /// A random 24-bit starting PSN from the engine's seeded source.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn random_psn(&mut self) -> u32 {
        self.rng.next_u32() & 0xFF_FFFF
    }

    // ----- outputs ------------------------------------------------------

    /// The next MAD to send over QP1 to `peer_ip`. IRQL: <= DISPATCH_LEVEL.
    pub fn poll_transmit(&mut self) -> Option<(IpAddr, [u8; MAD_LEN])> {
        let out = self.tx.pop_front();
        self.stats.queued_mads = self.tx.len();
        out
    }

    /// The next event for the NDK layer. IRQL: <= DISPATCH_LEVEL.
    pub fn poll_event(&mut self) -> Option<CmEvent> {
        let out = self.events.pop_front();
        self.stats.queued_events = self.events.len();
        out
    }

    /// The earliest deadline; call `handle_timeout` then. IRQL: <= DISPATCH_LEVEL.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns.iter().filter_map(|(_, c)| c.deadline).min()
    }

    /// Occupancy and counters. IRQL: any.
    pub fn stats(&self) -> CmStats {
        CmStats {
            connections: self.conns.len(),
            listeners: self.listeners.len(),
            endpoints: self.ports.endpoint_count(),
            tuples: self.ports.tuple_count(),
            queued_mads: self.tx.len(),
            queued_events: self.events.len(),
            ..self.stats
        }
    }

    pub(super) fn send(&mut self, peer: IpAddr, tid: u64, message: CmMessage) {
        if self.tx.len() >= self.tx_cap {
            self.stats.dropped_tx = self.stats.dropped_tx.saturating_add(1);
            return;
        }
        self.tx.push_back((peer, msg::encode(tid, message)));
    }

    /// Sends `message` for connection `id` and keeps it for retransmission.
    pub(super) fn send_conn(&mut self, id: u32, kind: Sent, message: CmMessage) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        let tid = match kind {
            Sent::Drep => c.dreq_tid,
            Sent::Dreq => own_tid(self.tid_hi, c.local_comm_id),
            _ => c.tid,
        };
        c.last = msg::encode(tid, message);
        c.last_sent = kind;
        let (peer, mad) = (c.peer_ip, c.last);
        self.push_raw(peer, mad);
    }

    pub(super) fn push_raw(&mut self, peer: IpAddr, mad: [u8; MAD_LEN]) {
        if self.tx.len() >= self.tx_cap {
            self.stats.dropped_tx = self.stats.dropped_tx.saturating_add(1);
            return;
        }
        self.tx.push_back((peer, mad));
    }

    /// Resends the last MAD of connection `id`.
    pub(super) fn resend(&mut self, id: u32) {
        if let Some((peer, mad)) = self.conns.get(id).map(|c| (c.peer_ip, c.last)) {
            self.push_raw(peer, mad);
        }
    }

    /// Reports `event` about connection `id` if its connector is still open.
    pub(super) fn report(&mut self, id: u32, event: CmEvent) {
        if self.conns.get(id).is_some_and(|c| c.open) {
            self.push_event(event);
        }
    }

    pub(super) fn push_event(&mut self, event: CmEvent) {
        if self.events.len() >= self.events_cap {
            self.stats.dropped_events = self.stats.dropped_events.saturating_add(1);
            return;
        }
        self.events.push_back(event);
    }

    /// Arms the retry timer of `id` for a freshly sent REQ, REP or DREQ.
    pub(super) fn arm_retries(&mut self, id: u32, now: Instant) {
        if let Some(c) = self.conns.get_mut(id) {
            c.retries_left = c.max_retries;
            c.deadline = Some(now.saturating_add(cm_timeout(c.retry_timeout)));
        }
    }

    // ----- listeners ----------------------------------------------------

    /// NdkListen: listen on `addr:port` (unspecified address: every address of
    /// that family; port 0: an ephemeral port) with room for `backlog`
    /// unanswered requests. Returns the listener and its port.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn listen(
        &mut self,
        addr: IpAddr,
        port: u16,
        backlog: u32,
    ) -> Result<(ListenerId, u16), CmError> {
        if self.listeners.len() >= self.cfg.max_listeners as usize {
            return Err(CmError::NoResources);
        }
        let (endpoint, port) =
            self.ports
                .bind(&mut self.rng, addr, port, EndpointKind::Listener)?;
        let l = Listener {
            endpoint,
            addr,
            port,
            paused: false,
            closed: false,
            backlog: backlog.max(1),
            pending: 0,
            open_conns: 0,
        };
        match self.listeners.insert(&mut self.rng, l) {
            Ok(id) => Ok((ListenerId(id), port)),
            Err(_) => {
                self.ports.release(endpoint);
                Err(CmError::NoResources)
            }
        }
    }

    /// NdkControlConnectEvents: while paused, REQs are refused as if no
    /// listener existed. IRQL: <= DISPATCH_LEVEL.
    pub fn pause_listener(&mut self, listener: ListenerId, paused: bool) -> Result<(), CmError> {
        match self.listeners.get_mut(listener.0) {
            Some(l) if !l.closed => {
                l.paused = paused;
                Ok(())
            }
            _ => Err(CmError::InvalidHandle),
        }
    }

    /// The listener's bound address and port (NdkGetListenerLocalAddress).
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn listener_addr(&self, listener: ListenerId) -> Option<SocketAddr> {
        self.listeners
            .get(listener.0)
            .filter(|l| !l.closed)
            .map(|l| SocketAddr::new(l.addr, l.port))
    }

    /// `f(address, is_listener)` for every listener not closed (`true`) and
    /// every shared endpoint not closed (`false`), with its bound address
    /// (OID_NDK_LOCAL_ENDPOINTS). No allocation. IRQL: <= DISPATCH_LEVEL.
    pub fn for_each_local_endpoint(&self, mut f: impl FnMut(SocketAddr, bool)) {
        for (_, l) in self.listeners.iter().filter(|(_, l)| !l.closed) {
            f(SocketAddr::new(l.addr, l.port), true);
        }
        for (_, &token) in self.shared.iter() {
            if let Some(ep) = self.ports.get(token) {
                f(SocketAddr::new(ep.addr, ep.port), false);
            }
        }
    }

    /// NdkCloseListener: new REQs are refused at once and the port is
    /// released; connectors already reported stay the consumer's.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn close_listener(&mut self, listener: ListenerId) -> Result<ListenerClose, CmError> {
        let l = match self.listeners.get_mut(listener.0) {
            Some(l) if !l.closed => l,
            _ => return Err(CmError::InvalidHandle),
        };
        l.closed = true;
        let (endpoint, open) = (l.endpoint, l.open_conns);
        self.ports.release(endpoint);
        if open == 0 {
            self.listeners.remove(listener.0);
            Ok(ListenerClose::Closed)
        } else {
            Ok(ListenerClose::Pending)
        }
    }

    /// Narrows the ephemeral ports that port 0 picks from to `first..=last`
    /// (see `PortSpace::set_ephemeral_range`). IRQL: <= DISPATCH_LEVEL.
    pub fn set_ephemeral_range(&mut self, first: u16, last: u16) -> bool {
        self.ports.set_ephemeral_range(first, last)
    }

    // ----- shared endpoints ---------------------------------------------

    /// NdkCreateSharedEndpoint + bind: an endpoint several connectors can
    /// connect from. Returns it and its port. IRQL: <= DISPATCH_LEVEL.
    pub fn create_shared_endpoint(
        &mut self,
        local: SocketAddr,
    ) -> Result<(SharedEndpointId, u16), CmError> {
        if local.ip().is_unspecified() {
            return Err(PortError::InvalidAddress.into());
        }
        if self.shared.len() >= self.cfg.max_shared_endpoints as usize {
            return Err(CmError::NoResources);
        }
        let (endpoint, port) = self.ports.bind(
            &mut self.rng,
            local.ip(),
            local.port(),
            EndpointKind::Shared,
        )?;
        match self.shared.insert(&mut self.rng, endpoint) {
            Ok(id) => Ok((SharedEndpointId(id), port)),
            Err(_) => {
                self.ports.release(endpoint);
                Err(CmError::NoResources)
            }
        }
    }

    /// Closes a shared endpoint; its address:port stays bound while
    /// connectors use it. IRQL: <= DISPATCH_LEVEL.
    pub fn close_shared_endpoint(&mut self, ep: SharedEndpointId) -> Result<(), CmError> {
        let endpoint = self.shared.remove(ep.0).ok_or(CmError::InvalidHandle)?;
        self.ports.release(endpoint);
        Ok(())
    }

    // ----- active side --------------------------------------------------

    /// NdkConnect: binds the local endpoint, sends a REQ and returns the
    /// connection. [`CmEvent::ConnectReply`], `ConnectRejected` or
    /// `ConnectTimedOut` follows. IRQL: <= DISPATCH_LEVEL.
    pub fn connect(&mut self, now: Instant, p: &ConnectParams<'_>) -> Result<ConnId, CmError> {
        if p.private_data.len() > MAX_CONNECT_PRIVATE
            || !(1..=5).contains(&p.path_mtu)
            || p.remote.port() == 0
            || p.remote.ip().is_unspecified()
        {
            return Err(CmError::InvalidParameter);
        }
        if self.conns.len() >= self.cfg.max_connections as usize {
            return Err(CmError::NoResources);
        }
        let (endpoint, local) = match p.local {
            LocalEndpoint::Bind(local) => {
                if local.ip().is_unspecified() || !self.ports.is_local(local.ip()) {
                    return Err(PortError::InvalidAddress.into());
                }
                if local.is_ipv4() != p.remote.is_ipv4() {
                    return Err(CmError::InvalidParameter);
                }
                let (ep, port) = self.ports.bind(
                    &mut self.rng,
                    local.ip(),
                    local.port(),
                    EndpointKind::Connector,
                )?;
                (ep, SocketAddr::new(local.ip(), port))
            }
            LocalEndpoint::Shared(id) => {
                let ep = *self.shared.get(id.0).ok_or(CmError::InvalidHandle)?;
                let e = self.ports.get(ep).ok_or(CmError::InvalidHandle)?;
                if e.addr.is_ipv4() != p.remote.is_ipv4() {
                    return Err(CmError::InvalidParameter);
                }
                let local = SocketAddr::new(e.addr, e.port);
                if self.ports.has_tuple(local, p.remote) {
                    return Err(PortError::AddressAlreadyExists.into());
                }
                self.ports.add_ref(ep);
                (ep, local)
            }
        };
        if let Err(e) = self.ports.add_tuple(local, p.remote) {
            self.ports.release(endpoint);
            return Err(e.into());
        }
        let mut c = Conn::new(Side::Active, endpoint, local, p.remote);
        c.has_tuple = true;
        c.local_qpn = p.local_qpn & 0xFF_FFFF;
        c.inbound_read_limit = p.inbound_read_limit;
        c.outbound_read_limit = p.outbound_read_limit;
        c.path_mtu = p.path_mtu.min(self.cfg.max_path_mtu.max(1));
        c.retry_timeout = self.cfg.response_timeout;
        c.max_retries = self.cfg.max_cm_retries;
        let id = match self.conns.insert(&mut self.rng, c) {
            Ok(id) => id,
            Err(_) => {
                self.ports.remove_tuple(local, p.remote);
                self.ports.release(endpoint);
                return Err(CmError::NoResources);
            }
        };
        let tid_hi = self.tid_hi;
        let fields = msg::ReqFields {
            starting_psn: p.recv_psn,
            retry_count: p.retry_count,
            rnr_retry_count: p.rnr_retry_count,
            srq: p.srq,
            user_data: p.private_data,
        };
        let Some(c) = self.conns.get_mut(id) else {
            return Err(CmError::NoResources);
        };
        c.local_comm_id = id;
        c.tid = own_tid(tid_hi, id);
        let req = msg::req(&self.cfg, c, &fields);
        self.send_conn(id, Sent::Req, req);
        self.arm_retries(id, now);
        Ok(ConnId(id))
    }

    /// NdkCompleteConnect: sends the RTU; the connection is established.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn complete_connect(&mut self, conn: ConnId) -> Result<(), CmError> {
        let c = open_conn(&mut self.conns, conn)?;
        if c.aborted {
            return Err(CmError::Aborted);
        }
        if c.state != State::RepRcvd {
            return Err(CmError::InvalidState);
        }
        c.state = State::Established;
        let rtu = msg::rtu(c);
        self.send_conn(conn.0, Sent::Rtu, rtu);
        Ok(())
    }

    // ----- passive side -------------------------------------------------

    /// The transport received a packet on the passive QP while the REP was
    /// outstanding (IB CM "communication established": the RTU was lost or
    /// is late). Establishes the connection as the RTU would;
    /// [`CmEvent::Established`] follows. Returns false (and does nothing) in
    /// any other state. IRQL: <= DISPATCH_LEVEL.
    pub fn notify_traffic(&mut self, conn: ConnId) -> bool {
        let Ok(c) = open_conn(&mut self.conns, conn) else {
            return false;
        };
        if c.state != State::RepSent {
            return false;
        }
        c.state = State::Established;
        c.deadline = None;
        self.report(conn.0, CmEvent::Established { conn });
        true
    }

    /// NdkAccept: sends the REP with the read limits capped by the peer's;
    /// [`CmEvent::Established`], `AcceptTimedOut` or `ConnectAborted` follows.
    /// Returns the effective (inbound, outbound) read limits.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn accept(
        &mut self,
        now: Instant,
        conn: ConnId,
        p: &AcceptParams<'_>,
    ) -> Result<(u8, u8), CmError> {
        if p.private_data.len() > MAX_ACCEPT_PRIVATE {
            return Err(CmError::InvalidParameter);
        }
        let c = open_conn(&mut self.conns, conn)?;
        if c.aborted {
            return Err(CmError::Aborted);
        }
        if c.state != State::ReqRcvd {
            return Err(CmError::InvalidState);
        }
        // The REQ-derived limits are the peer's caps (already swapped).
        c.inbound_read_limit = c.inbound_read_limit.min(p.inbound_read_limit);
        c.outbound_read_limit = c.outbound_read_limit.min(p.outbound_read_limit);
        c.local_qpn = p.local_qpn & 0xFF_FFFF;
        c.state = State::RepSent;
        c.accepted = true;
        let limits = (c.inbound_read_limit, c.outbound_read_limit);
        let fields = msg::RepFields {
            starting_psn: p.recv_psn,
            rnr_retry_count: p.rnr_retry_count,
            srq: p.srq,
            private_data: p.private_data,
        };
        let rep = msg::rep(&self.cfg, c, &fields);
        self.leave_backlog(conn.0);
        self.send_conn(conn.0, Sent::Rep, rep);
        self.arm_retries(conn.0, now);
        Ok(limits)
    }

    /// NdkReject: a REJ (reason 28, CONSUMER_DEFINED) with `private_data`,
    /// for a reported REQ (passive) or a received REP (active).
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn reject(&mut self, conn: ConnId, private_data: &[u8]) -> Result<(), CmError> {
        if private_data.len() > MAX_REJECT_PRIVATE {
            return Err(CmError::InvalidParameter);
        }
        let c = open_conn(&mut self.conns, conn)?;
        if c.aborted {
            return Err(CmError::Aborted);
        }
        let rejected = match c.state {
            State::ReqRcvd => CmMsgRef::Req,
            State::RepRcvd => CmMsgRef::Rep,
            _ => return Err(CmError::InvalidState),
        };
        c.state = State::Done(Ended::RejectedByUs);
        c.deadline = None;
        let rej = msg::rej(
            c.local_comm_id,
            c.remote_comm_id,
            rejected,
            RejReason::ConsumerDefined,
            &[],
            private_data,
        );
        self.leave_backlog(conn.0);
        self.send_conn(conn.0, Sent::Rej, rej);
        Ok(())
    }

    // ----- both sides ---------------------------------------------------

    /// NdkDisconnect: a DREQ (retried; [`CmEvent::DisconnectDone`] follows),
    /// or nothing if the peer already disconnected. IRQL: <= DISPATCH_LEVEL.
    pub fn disconnect(&mut self, now: Instant, conn: ConnId) -> Result<DisconnectStarted, CmError> {
        let c = open_conn(&mut self.conns, conn)?;
        match c.state {
            State::Established => {}
            State::TimeWait | State::Done(Ended::Disconnected) => {
                return Ok(DisconnectStarted::AlreadyDisconnected)
            }
            _ => return Err(CmError::InvalidState),
        }
        c.state = State::DreqSent;
        let dreq = msg::dreq(c);
        self.send_conn(conn.0, Sent::Dreq, dreq);
        self.arm_retries(conn.0, now);
        Ok(DisconnectStarted::Pending)
    }

    /// NdkCloseConnector: the CM finishes on its own (REJ mid-connect, DREQ
    /// if established, then timewait) and reports nothing more about `conn`.
    /// Returns the pending request this cancels (it completes with
    /// STATUS_CANCELLED). IRQL: <= DISPATCH_LEVEL.
    pub fn close_conn(&mut self, now: Instant, conn: ConnId) -> Result<Option<Cancelled>, CmError> {
        let c = open_conn(&mut self.conns, conn)?;
        c.open = false;
        let state = c.state;
        let listener = c.listener;
        let accepted = c.accepted;
        // Nothing more is reported for this connector. A withdrawn event that
        // would have completed a request leaves that request pending in the
        // NDK layer: it is cancelled.
        let withdrawn = self
            .events
            .iter()
            .filter(|e| e.conn() == Some(conn))
            .find_map(|e| completes(e, accepted));
        self.events.retain(|e| e.conn() != Some(conn));
        self.stats.queued_events = self.events.len();
        if let Some(l) = listener.and_then(|l| self.listeners.get_mut(l.0)) {
            l.open_conns = l.open_conns.saturating_sub(1);
        }
        if let Some(l) = listener {
            self.maybe_listener_closed(l);
        }
        let cancelled = match state {
            State::ReqSent | State::MraReqRcvd => {
                self.reject_and_linger(now, conn.0, CmMsgRef::Req, RejReason::Timeout);
                Some(Cancelled::Connect)
            }
            State::RepSent => {
                self.reject_and_linger(now, conn.0, CmMsgRef::Rep, RejReason::Timeout);
                Some(Cancelled::Accept)
            }
            State::ReqRcvd => {
                self.leave_backlog(conn.0);
                self.reject_and_linger(now, conn.0, CmMsgRef::Req, RejReason::ConsumerDefined);
                None
            }
            State::RepRcvd => {
                self.reject_and_linger(now, conn.0, CmMsgRef::Rep, RejReason::ConsumerDefined);
                None
            }
            State::Established => {
                if let Some(c) = self.conns.get_mut(conn.0) {
                    c.state = State::DreqSent;
                    let dreq = msg::dreq(c);
                    self.send_conn(conn.0, Sent::Dreq, dreq);
                    self.arm_retries(conn.0, now);
                }
                None
            }
            State::DreqSent => Some(Cancelled::Disconnect),
            State::TimeWait => None,
            State::Done(_) => {
                if self.conns.get(conn.0).is_some_and(|c| c.timewait_over) {
                    self.free(conn.0);
                } else {
                    self.enter_timewait(now, conn.0);
                }
                None
            }
        };
        Ok(cancelled.or(withdrawn))
    }

    /// What NdkGetConnectionData returns: the peer's private data (from the
    /// REQ, REP or REJ) and the effective (inbound, outbound) read limits.
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn connection_data(&self, conn: ConnId) -> Option<(PrivateData, u8, u8)> {
        self.conns
            .get(conn.0)
            .filter(|c| c.open)
            .map(|c| (c.private_data, c.inbound_read_limit, c.outbound_read_limit))
    }

    /// The local and remote address of a connection
    /// (NdkGetLocalAddress / NdkGetPeerAddress). IRQL: <= DISPATCH_LEVEL.
    pub fn conn_addrs(&self, conn: ConnId) -> Option<(SocketAddr, SocketAddr)> {
        self.conns
            .get(conn.0)
            .filter(|c| c.open)
            .map(|c| (c.local, c.remote))
    }

    /// The connection's IB CM state (for diagnostics and tests). IRQL: any.
    pub fn conn_state(&self, conn: ConnId) -> Option<State> {
        self.conns.get(conn.0).filter(|c| c.open).map(|c| c.state)
    }

    // ----- helpers ------------------------------------------------------

    /// Sends a REJ for `id` (no retransmission) and enters timewait.
    fn reject_and_linger(&mut self, now: Instant, id: u32, rejected: CmMsgRef, reason: RejReason) {
        let Some(c) = self.conns.get(id) else {
            return;
        };
        let rej = msg::rej(
            c.local_comm_id,
            c.remote_comm_id,
            rejected,
            reason,
            &[],
            &[],
        );
        self.send_conn(id, Sent::Rej, rej);
        self.enter_timewait(now, id);
    }

    /// Takes `id` out of its listener's backlog count (once).
    pub(super) fn leave_backlog(&mut self, id: u32) {
        let Some(c) = self.conns.get_mut(id) else {
            return;
        };
        if !c.in_backlog {
            return;
        }
        c.in_backlog = false;
        if let Some(l) = c.listener.and_then(|l| self.listeners.get_mut(l.0)) {
            l.pending = l.pending.saturating_sub(1);
        }
    }

    /// Timewait: answer duplicates until `timewait` has passed.
    pub(super) fn enter_timewait(&mut self, now: Instant, id: u32) {
        let tw = self.cfg.timewait;
        if let Some(c) = self.conns.get_mut(id) {
            c.state = State::TimeWait;
            c.deadline = Some(now.saturating_add(tw));
        }
    }

    /// Drops the record and everything it holds (endpoint reference, tuple).
    pub(super) fn free(&mut self, id: u32) {
        let Some(c) = self.conns.remove(id) else {
            return;
        };
        if c.has_tuple {
            self.ports.remove_tuple(c.local, c.remote);
        }
        self.ports.release(c.endpoint);
        if c.in_backlog {
            if let Some(l) = c.listener.and_then(|l| self.listeners.get_mut(l.0)) {
                l.pending = l.pending.saturating_sub(1);
            }
        }
        if c.open {
            if let Some(l) = c.listener.and_then(|l| self.listeners.get_mut(l.0)) {
                l.open_conns = l.open_conns.saturating_sub(1);
            }
        }
        if let Some(l) = c.listener {
            self.maybe_listener_closed(l);
        }
    }

    /// A closed listener goes away with its last open connector.
    fn maybe_listener_closed(&mut self, l: ListenerId) {
        if self
            .listeners
            .get(l.0)
            .is_some_and(|x| x.closed && x.open_conns == 0)
        {
            self.listeners.remove(l.0);
            self.push_event(CmEvent::ListenerClosed { listener: l });
        }
    }
}

/// The NDK request an event completes (`accepted`: NdkAccept was called).
fn completes(e: &CmEvent, accepted: bool) -> Option<Cancelled> {
    match e {
        CmEvent::ConnectReply(_)
        | CmEvent::ConnectRejected { .. }
        | CmEvent::ConnectTimedOut { .. } => Some(Cancelled::Connect),
        CmEvent::Established { .. } | CmEvent::AcceptTimedOut { .. } => Some(Cancelled::Accept),
        CmEvent::ConnectAborted { .. } if accepted => Some(Cancelled::Accept),
        CmEvent::DisconnectDone { .. } => Some(Cancelled::Disconnect),
        _ => None,
    }
}

/// The consumer's connection `conn`, if it has not closed it.
fn open_conn(conns: &mut TokenTable<Conn>, conn: ConnId) -> Result<&mut Conn, CmError> {
    match conns.get_mut(conn.0) {
        Some(c) if c.open => Ok(c),
        _ => Err(CmError::InvalidHandle),
    }
}

/// The TID of an exchange we start: our random high half, our comm ID low.
pub(super) fn own_tid(tid_hi: u32, comm_id: u32) -> u64 {
    (u64::from(tid_hi) << 32) | u64::from(comm_id)
}
