//! One connection's CM state: the IB CM state ([`State`]), the identities of
//! both ends, the negotiated parameters, the peer's private data, the last MAD
//! we sent (for retransmission and for answering duplicates) and its timer.
//!
//! Owns the per-connection record and its small invariants; must not send,
//! queue events or touch other connections (the engine does that).

use core::net::{IpAddr, SocketAddr};

use super::api::{ListenerId, PrivateData};
use super::time::Instant;
use crate::wire::mad::MAD_LEN;

/// Which end of the connection we are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// We sent the REQ (NdkConnect).
    Active,
    /// We received the REQ (a listener's connector).
    Passive,
}

/// Why a connection ended before or without a disconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ended {
    /// We rejected (consumer reject, REJ sent).
    RejectedByUs,
    /// The peer rejected our REQ.
    RejectedByPeer,
    /// The peer gave up (REJ after REP, or REJ/DREQ before RTU).
    Aborted,
    /// REQ or REP retries ran out.
    TimedOut,
    /// The disconnect and timewait are over.
    Disconnected,
}

/// IB CM connection states (only those softroce uses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    /// Active: REQ sent, waiting for REP/REJ/MRA (NdkConnect pending).
    ReqSent,
    /// Active: the peer MRAed our REQ; waiting longer.
    MraReqRcvd,
    /// Active: REP received, NdkConnect completed, waiting for the consumer's
    /// CompleteConnect (RTU) or Reject.
    RepRcvd,
    /// Passive: REQ received and reported, waiting for Accept or Reject.
    ReqRcvd,
    /// Passive: REP sent, waiting for the RTU (NdkAccept pending).
    RepSent,
    /// Both: connected.
    Established,
    /// Our DREQ is out (NdkDisconnect pending, or the connector was closed).
    DreqSent,
    /// Disconnected or closed; answering duplicates until the deadline.
    TimeWait,
    /// Over; the record waits for the consumer to close the connector.
    Done(Ended),
}

/// What the last MAD we sent was, so duplicates can be answered with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    Nothing,
    Req,
    Rep,
    Rtu,
    Rej,
    Mra,
    Dreq,
    Drep,
}

/// One connection.
#[derive(Debug, Clone)]
pub struct Conn {
    pub state: State,
    pub side: Side,
    /// The consumer has not closed the connector: events may be reported.
    pub open: bool,
    /// Timewait has been passed through (closing frees at once).
    pub timewait_over: bool,
    /// NdkAccept was called (passive).
    pub accepted: bool,
    /// The peer gave up before we finished connecting ([`super::api::CmEvent::ConnectAborted`]).
    pub aborted: bool,
    /// The listener the REQ came through (passive).
    pub listener: Option<ListenerId>,
    /// The REQ is counted in the listener's backlog (not yet answered).
    pub in_backlog: bool,
    /// The port-space endpoint this connection holds one reference on.
    pub endpoint: u32,
    /// The 4-tuple is recorded in the port space.
    pub has_tuple: bool,
    pub local: SocketAddr,
    pub remote: SocketAddr,
    /// Where our MADs go (the IP source of the peer's MADs).
    pub peer_ip: IpAddr,
    pub local_comm_id: u32,
    pub remote_comm_id: u32,
    pub remote_ca_guid: u64,
    /// TID of the REQ exchange (REQ, REP, RTU and REJs of it).
    pub tid: u64,
    /// TID of the last DREQ received (its DREP reuses it).
    pub dreq_tid: u64,
    pub local_qpn: u32,
    pub remote_qpn: u32,
    /// What we asked for (active) or were allowed (passive), then the effective values.
    pub inbound_read_limit: u8,
    pub outbound_read_limit: u8,
    pub path_mtu: u8,
    /// The peer's private data (REQ user part, REP, or REJ).
    pub private_data: PrivateData,
    /// The last MAD we sent.
    pub last: [u8; MAD_LEN],
    pub last_sent: Sent,
    /// Retransmissions left for the outstanding REQ, REP or DREQ.
    pub retries_left: u8,
    /// Retry interval exponent (4.096 µs × 2^n): ours for REQ and DREQ on the
    /// active side; the REQ's Local CM Response Timeout on the passive side.
    pub retry_timeout: u8,
    /// Retransmissions allowed: ours, or the REQ's Max CM Retries (passive).
    pub max_retries: u8,
    pub deadline: Option<Instant>,
}

impl Conn {
    /// A fresh record; the caller fills in the rest.
    pub fn new(side: Side, endpoint: u32, local: SocketAddr, remote: SocketAddr) -> Self {
        Self {
            state: match side {
                Side::Active => State::ReqSent,
                Side::Passive => State::ReqRcvd,
            },
            side,
            open: true,
            timewait_over: false,
            aborted: false,
            accepted: false,
            listener: None,
            in_backlog: false,
            endpoint,
            has_tuple: false,
            local,
            remote,
            peer_ip: remote.ip(),
            local_comm_id: 0,
            remote_comm_id: 0,
            remote_ca_guid: 0,
            tid: 0,
            dreq_tid: 0,
            local_qpn: 0,
            remote_qpn: 0,
            inbound_read_limit: 0,
            outbound_read_limit: 0,
            path_mtu: 0,
            private_data: PrivateData::EMPTY,
            last: [0; MAD_LEN],
            last_sent: Sent::Nothing,
            retries_left: 0,
            retry_timeout: 20,
            max_retries: 15,
            deadline: None,
        }
    }

    /// True when a message from `peer_ip` claiming to come from the peer's
    /// `local_comm_id` belongs to this connection (once we know the peer's id).
    pub fn is_from_peer(&self, peer_ip: IpAddr, their_comm_id: u32) -> bool {
        self.peer_ip == peer_ip
            && (self.remote_comm_id == 0 || self.remote_comm_id == their_comm_id)
    }
}
