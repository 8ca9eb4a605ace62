//! The sans-IO connection manager: IB CM state machines (REQ, MRA, REP, RTU,
//! REJ, DREQ, DREP) speaking RDMA-CM's conventions, and RDMA-CM's TCP port
//! space. One [`CmEngine`] per adapter takes consumer requests, whole
//! 256-byte MADs with the peer's IP address, and `now`; it gives back MADs to
//! send over QP1, events for the NDK layer, and its next deadline.
//! States, timers and the NTSTATUS mapping are in `docs/CM.md`.
//!
//! Owns connection state and CM timers; must not touch sockets, clocks,
//! QP1 transport or consumer callbacks, and must not lay out bytes (the
//! message layouts are `crate::wire`'s).
#![deny(unsafe_code)]

pub mod api;
mod conn;
mod engine;
mod inbound;
mod msg;
pub mod ports;
pub mod time;
mod timers;

pub use api::{
    AcceptParams, Cancelled, CmConfig, CmError, CmEvent, CmStats, ConnId, ConnectParams,
    ConnectReply, ConnectRequest, DisconnectStarted, ListenerClose, ListenerId, LocalEndpoint,
    PrivateData, SharedEndpointId, MAX_ACCEPT_PRIVATE, MAX_CONNECT_PRIVATE, MAX_REJECT_PRIVATE,
};
pub use conn::{Ended, State};
pub use engine::CmEngine;
pub use ports::PortError;
pub use time::{cm_timeout, Instant};
