//! The Ethernet frame carrier: RoCEv2 datagrams in Ethernet frames softroce
//! builds itself (IPv4 ID 0 + DF, header checksum, UDP checksum 0 on IPv4),
//! and received frames classified below the OS's IP stack, so the ICRC
//! covers the real IP header on every platform (`docs/CARRIER.md`).
//!
//! Portable and `no_std`: the same code runs over the Windows NDIS lower
//! edge (`os::windows::lower`) and the hosted AF_PACKET link
//! (`os::hosted::packet`). The OS supplies a [`LinkPort`] (send a frame,
//! resolve a neighbour, the clock); [`FrameCarrier`] implements
//! [`crate::os::Carrier`] over it.
//!
//! Parts: `port.rs` (the [`LinkPort`] contract), `neighbour.rs` (the sans-IO
//! neighbour cache), `pending.rs` (the sans-IO pending queue: datagrams held
//! while their next hop resolves), `classify.rs` (a received frame -> RoCEv2 for us /
//! ARP / not ours / dropped, with the reason), `carrier.rs` (the
//! [`FrameCarrier`]: framing on send, delivery on receive, ARP resolution
//! when configured).
//!
//! Must not touch RoCE transport headers (BTH onwards is opaque payload) nor
//! any OS API.
#![deny(unsafe_code)]

pub mod carrier;
pub mod classify;
pub mod neighbour;
pub mod pending;
pub mod port;

#[cfg(test)]
mod core_icrc_tests;

pub use carrier::{
    FrameCarrier, FrameConfig, FrameConfigError, FrameVerdict, LinkStats, Resolver, DEFAULT_PENDING,
};
pub use classify::{classify, Classified, DropReason};
pub use neighbour::{Lookup, NeighbourCache};
pub use pending::PendingPool;
pub use port::{LinkPort, MacAddr, VlanTag};
