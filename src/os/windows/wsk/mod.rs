//! The WSK UDP datagram carrier (`docs/CARRIER.md`: correct for IPv6; for
//! IPv4 `tx_ipv4() = None` and receives are `RxIp::V4Unverifiable` until
//! Windows is measured to send ID 0 + DF).
//!
//! - `types`: the WSK declarations; `sockaddr`: pure address/control-data
//!   helpers (host-tested);
//! - `gate`: the pure close gate (host-tested);
//! - `client`: WskRegister / WskCaptureProviderNPI and the synchronous IRP
//!   helper;
//! - `carrier`: the socket, its preallocated send pool and the receive event.

pub mod carrier;
pub mod client;
pub mod gate;
pub mod sockaddr;
pub mod types;

pub use carrier::WskCarrier;
pub use client::WskClient;
