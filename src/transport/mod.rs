//! The sans-IO reliable transport: an RC queue pair engine (requester, responder,
//! completer) and UD for QP1. Takes work requests, packets and `now`; returns
//! packets, completions and deadlines. Must not lock, read a clock or do I/O.
//!
//! See `docs/TRANSPORT.md` for the API, states, timers and the mapping to rxe.
#![deny(unsafe_code)]

mod completer;
pub mod config;
mod cq;
pub mod memory;
pub mod psn;
mod qp;
mod queue;
mod requester;
mod responder;
pub mod ring;
pub mod sim;
pub mod time;
pub mod ud;
pub mod wr;

pub use config::{ConfigError, Mtu, QpConfig, MAX_SGE};
pub use memory::{Access, AccessError, AtomicOp, Key, MemoryAccess, SimMemory, SimMr};
pub use psn::Psn;
pub use qp::{
    QpState, QpStats, RcQp, MAX_MESSAGE, MAX_MESSAGE_PSNS, MAX_PKTS_PER_ACK, MAX_UNACKED_PSNS,
};
pub use time::Instant;
pub use ud::{UdCompletion, UdConfig, UdQp, UdSendRequest, UdTransmit, GSI_QPN};
pub use wr::{
    Completion, PostError, RecvRequest, Sge, WcOpcode, WcQueue, WcStatus, WorkRequest, WrKind,
};
