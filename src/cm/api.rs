//! The CM engine's public vocabulary: configuration, handles, consumer
//! request parameters, events and errors. What each event and error means to
//! an NDK request (and which NTSTATUS completes it) is in `docs/CM.md`.
//!
//! Owns these types only; must not hold state or know wire layouts.

use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use core::time::Duration;

use super::ports::PortError;
use super::time::cm_timeout;
use crate::wire::cm::RejReason;

/// Bytes of consumer private data in a REQ: 92 minus the 36-byte CMA header.
pub const MAX_CONNECT_PRIVATE: usize = 56;
/// Bytes of private data in a REP.
pub const MAX_ACCEPT_PRIVATE: usize = 196;
/// Bytes of private data in a REJ.
pub const MAX_REJECT_PRIVATE: usize = 148;

/// Engine configuration, fixed at creation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmConfig {
    /// Our CA GUID (node GUID), sent in REQ and REP.
    pub ca_guid: u64,
    /// The adapter's IP addresses; our GIDs are derived from them.
    pub local_addrs: Vec<IpAddr>,
    /// CM response timeout exponent (4.096 µs × 2^n), sent in REQ; 20 like rdma_cm.
    pub response_timeout: u8,
    /// Retransmissions of REQ, REP and DREQ before giving up; 15 like rdma_cm.
    pub max_cm_retries: u8,
    /// Connections (including those in timewait); fixed at creation.
    pub max_connections: u32,
    /// Listeners; fixed at creation.
    pub max_listeners: u32,
    /// Shared endpoints; fixed at creation.
    pub max_shared_endpoints: u32,
    /// How long a connection stays in timewait after a disconnect or a close.
    pub timewait: Duration,
    /// Our path MTU (IB enum 1..=5): the most our REQs ask for, and what a
    /// larger REQ is clamped to (a passive connection runs at
    /// min(REQ, this)). The adapter's RoCE MTU (`ndk::net`).
    pub max_path_mtu: u8,
    /// Primary path local ACK timeout put in our REQs (rxe sent 19).
    pub local_ack_timeout: u8,
    /// Target ACK delay put in our REPs (rxe sent 15).
    pub target_ack_delay: u8,
    /// Primary path hop limit of our REQs (> 1: routed, LIDs permissive).
    pub hop_limit: u8,
    /// Primary path traffic class of our REQs.
    pub traffic_class: u8,
    /// Primary path packet rate enum of our REQs.
    pub packet_rate: u8,
    /// Service timeout exponent we put in an MRA when a REQ is repeated
    /// while the consumer has not answered.
    pub mra_service_timeout: u8,
    /// Seed of the comm-id/TID/port source.
    pub seed: [u8; 32],
}

impl CmConfig {
    /// rdma_cm's defaults for an adapter with these addresses.
    pub fn new(ca_guid: u64, local_addrs: &[IpAddr], seed: [u8; 32]) -> Self {
        Self {
            ca_guid,
            local_addrs: local_addrs.to_vec(),
            response_timeout: 20,
            max_cm_retries: 15,
            max_connections: 256,
            max_listeners: 32,
            max_shared_endpoints: 32,
            timewait: cm_timeout(20),
            max_path_mtu: 5,
            local_ack_timeout: 19,
            target_ack_delay: 15,
            hop_limit: 64,
            traffic_class: 0,
            packet_rate: 0,
            mra_service_timeout: 24,
            seed,
        }
    }
}

/// A connection (an NDK connector's CM state). Its value is our local comm ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ConnId(pub u32);

/// A listener.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ListenerId(pub u32);

/// A shared endpoint (NdkCreateSharedEndpoint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SharedEndpointId(pub u32);

/// Where an active connection's local address:port comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalEndpoint {
    /// Bind this address and port (0: an ephemeral port) for the connection.
    Bind(SocketAddr),
    /// Use a shared endpoint (NdkConnectWithSharedEndpoint).
    Shared(SharedEndpointId),
}

/// NdkConnect's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectParams<'a> {
    pub local: LocalEndpoint,
    pub remote: SocketAddr,
    /// Our QP number (24 bits).
    pub local_qpn: u32,
    /// The PSN our QP expects to receive first (its RTR rq_psn), sent as the
    /// REQ's Starting PSN: with Linux the REQ's PSN is the one the *passive*
    /// side sends from (rping capture: the server's first packet carries the
    /// REQ's PSN, the client's the REP's). 24 bits.
    pub recv_psn: u32,
    /// Incoming RDMA reads we allow at once (REQ responder resources).
    pub inbound_read_limit: u8,
    /// RDMA reads we issue at once (REQ initiator depth).
    pub outbound_read_limit: u8,
    /// IB MTU enum (1=256 .. 5=4096).
    pub path_mtu: u8,
    /// At most [`MAX_CONNECT_PRIVATE`] bytes.
    pub private_data: &'a [u8],
    /// The peer's transport retry count (3 bits; 7 = infinite).
    pub retry_count: u8,
    /// The peer's RNR retry count (3 bits; 7 = infinite).
    pub rnr_retry_count: u8,
    /// Our QP receives from an SRQ.
    pub srq: bool,
}

/// NdkAccept's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptParams<'a> {
    pub local_qpn: u32,
    /// The PSN our QP expects to receive first (its RTR rq_psn), sent as the
    /// REP's Starting PSN; the active side sends from it. 24 bits.
    pub recv_psn: u32,
    /// Capped at the peer's outbound limit (REQ initiator depth).
    pub inbound_read_limit: u8,
    /// Capped at the peer's inbound limit (REQ responder resources).
    pub outbound_read_limit: u8,
    /// At most [`MAX_ACCEPT_PRIVATE`] bytes.
    pub private_data: &'a [u8],
    /// The active side's RNR retry count (REP, 3 bits).
    pub rnr_retry_count: u8,
    pub srq: bool,
}

/// Private data as received: the whole fixed-size area of the message (REQ:
/// the 56 bytes after the CMA header; REP: 196; REJ: 148). IB CM does not
/// carry a length, so this length is also the NDK's "required data size".
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PrivateData {
    len: u8,
    bytes: [u8; MAX_ACCEPT_PRIVATE],
}

impl PrivateData {
    /// No private data.
    pub const EMPTY: PrivateData = PrivateData {
        len: 0,
        bytes: [0; MAX_ACCEPT_PRIVATE],
    };

    /// A copy of the first 196 bytes of `data`.
    pub fn new(data: &[u8]) -> Self {
        let mut p = Self::EMPTY;
        let n = data.len().min(MAX_ACCEPT_PRIVATE);
        if let (Some(dst), Some(src)) = (p.bytes.get_mut(..n), data.get(..n)) {
            dst.copy_from_slice(src);
            p.len = n as u8;
        }
        p
    }

    /// The bytes.
    pub fn as_slice(&self) -> &[u8] {
        self.bytes.get(..usize::from(self.len)).unwrap_or(&[])
    }
}

impl core::fmt::Debug for PrivateData {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let s = self.as_slice();
        let used = s.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        write!(
            f,
            "PrivateData({} B, {:02x?})",
            s.len(),
            s.get(..used).unwrap_or(&[])
        )
    }
}

/// What the peer asked for in a REQ, delivered with [`CmEvent::ConnectRequest`]:
/// everything NdkGetConnectionData and the passive QP's RTR/RTS need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectRequest {
    pub listener: ListenerId,
    pub conn: ConnId,
    /// Our address (the CMA header's destination) and the listener's port.
    pub local: SocketAddr,
    /// The peer's address and source port (from the CMA header).
    pub remote: SocketAddr,
    /// The 56 bytes after the CMA header.
    pub private_data: PrivateData,
    /// The most incoming reads we may allow: REQ.InitiatorDepth (swapped).
    pub inbound_read_limit: u8,
    /// The most reads we may issue: REQ.ResponderResources (swapped).
    pub outbound_read_limit: u8,
    pub remote_qpn: u32,
    /// The PSN our QP sends from (its RTS sq_psn): the REQ's Starting PSN.
    pub send_psn: u32,
    /// IB MTU enum of the path.
    pub path_mtu: u8,
    /// Our QP's transport retry count (REQ.RetryCount).
    pub retry_count: u8,
    /// Our QP's RNR retry count (REQ.RnrRetryCount).
    pub rnr_retry_count: u8,
    /// Our QP's local ACK timeout (REQ primary path).
    pub local_ack_timeout: u8,
}

/// The peer's REP, delivered with [`CmEvent::ConnectReply`]: NdkConnect
/// completes with STATUS_SUCCESS, and the active QP goes to RTR/RTS with these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectReply {
    pub conn: ConnId,
    pub remote_qpn: u32,
    /// The PSN our QP sends from (its RTS sq_psn): the REP's Starting PSN.
    pub send_psn: u32,
    /// min(our inbound limit, REP.InitiatorDepth).
    pub inbound_read_limit: u8,
    /// min(our outbound limit, REP.ResponderResources).
    pub outbound_read_limit: u8,
    /// The 196 bytes of REP private data.
    pub private_data: PrivateData,
    /// Our QP's RNR retry count (REP.RnrRetryCount).
    pub rnr_retry_count: u8,
    /// The peer's target ACK delay.
    pub target_ack_delay: u8,
    pub srq: bool,
}

/// Which pending NDK request a close cancelled (it completes with STATUS_CANCELLED):
/// the one the connection's state was waiting on, or the one a withdrawn,
/// not yet polled event would have completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cancelled {
    /// NdkConnect (a REQ was outstanding).
    Connect,
    /// NdkAccept (a REP was outstanding).
    Accept,
    /// NdkDisconnect (a DREQ was outstanding; the CM finishes it on its own).
    Disconnect,
}

/// Something the NDK layer must act on. Events name connections that are
/// still open: after `close_conn`, none is reported for that connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmEvent {
    /// A REQ matched a listener: the ConnectEvent callback gets a new connector.
    ConnectRequest(ConnectRequest),
    /// The peer accepted: NdkConnect completes with STATUS_SUCCESS.
    ConnectReply(ConnectReply),
    /// The peer rejected: NdkConnect completes with STATUS_CONNECTION_REFUSED;
    /// the REJ's private data is kept for NdkGetConnectionData.
    ConnectRejected {
        conn: ConnId,
        reason: RejReason,
        private_data: PrivateData,
    },
    /// No answer to the REQ after every retry: NdkConnect completes with
    /// STATUS_IO_TIMEOUT.
    ConnectTimedOut { conn: ConnId },
    /// The peer gave up on a connection we had not finished (REJ after our
    /// REP, or REJ/DREQ before our RTU): a pending NdkAccept completes with
    /// STATUS_CONNECTION_ABORTED; a later Accept, Reject or CompleteConnect
    /// fails with it.
    ConnectAborted { conn: ConnId },
    /// No RTU after every REP retry: NdkAccept completes with STATUS_IO_TIMEOUT.
    AcceptTimedOut { conn: ConnId },
    /// The RTU arrived (or the peer disconnected right after a lost RTU):
    /// NdkAccept completes with STATUS_SUCCESS.
    Established { conn: ConnId },
    /// The peer sent a DREQ (answered with a DREP): the DisconnectEvent
    /// callback, once.
    Disconnected { conn: ConnId },
    /// Our DREQ was answered (or crossed the peer's), or it timed out:
    /// NdkDisconnect completes with STATUS_SUCCESS, or STATUS_IO_TIMEOUT.
    DisconnectDone { conn: ConnId, timed_out: bool },
    /// A closed listener's last connector is gone: its close completes.
    ListenerClosed { listener: ListenerId },
}

impl CmEvent {
    /// The connection the event is about (`None` for listener events).
    pub fn conn(&self) -> Option<ConnId> {
        match *self {
            CmEvent::ConnectRequest(r) => Some(r.conn),
            CmEvent::ConnectReply(r) => Some(r.conn),
            CmEvent::ConnectRejected { conn, .. }
            | CmEvent::ConnectTimedOut { conn }
            | CmEvent::ConnectAborted { conn }
            | CmEvent::AcceptTimedOut { conn }
            | CmEvent::Established { conn }
            | CmEvent::Disconnected { conn }
            | CmEvent::DisconnectDone { conn, .. } => Some(conn),
            CmEvent::ListenerClosed { .. } => None,
        }
    }
}

/// Why a consumer request was refused at once. The NTSTATUS for each is in
/// `docs/CM.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmError {
    /// Binding or tuple problems (sharing violation, invalid address, ...).
    Port(PortError),
    /// The handle names nothing (STATUS_INVALID_HANDLE).
    InvalidHandle,
    /// The request does not fit the connection's state
    /// (STATUS_CONNECTION_INVALID).
    InvalidState,
    /// The peer abandoned the connection (STATUS_CONNECTION_ABORTED).
    Aborted,
    /// Private data too long or a field out of range (STATUS_INVALID_PARAMETER).
    InvalidParameter,
    /// The connection or listener table is full (STATUS_INSUFFICIENT_RESOURCES).
    NoResources,
}

impl From<PortError> for CmError {
    fn from(e: PortError) -> Self {
        CmError::Port(e)
    }
}

/// What `disconnect` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectStarted {
    /// A DREQ is out; [`CmEvent::DisconnectDone`] follows (STATUS_PENDING).
    Pending,
    /// The peer already disconnected: complete with STATUS_SUCCESS now.
    AlreadyDisconnected,
}

/// What `close_listener` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerClose {
    /// Closed (STATUS_SUCCESS).
    Closed,
    /// Connectors born from it are still open: [`CmEvent::ListenerClosed`]
    /// follows (STATUS_PENDING).
    Pending,
}

/// Counters and occupancy, for tests and diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CmStats {
    pub connections: usize,
    pub listeners: usize,
    pub endpoints: usize,
    pub tuples: usize,
    pub queued_mads: usize,
    pub queued_events: usize,
    /// MADs that did not parse, or were not CM Sends.
    pub dropped_malformed: u64,
    /// Well-formed MADs that matched no state and got no answer.
    pub dropped_stale: u64,
    /// Outgoing MADs dropped because the transmit queue was full.
    pub dropped_tx: u64,
    /// Events dropped because the event queue was full (should stay 0).
    pub dropped_events: u64,
}
