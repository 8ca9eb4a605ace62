//! The contract between the frame carrier and the OS link beneath it: an
//! Ethernet port that sends a frame without blocking into a buffer it owns,
//! asks the OS to resolve a next-hop MAC, and tells the time.
//! Owns the trait and its small value types only.

use core::net::IpAddr;

use crate::os::{Instant, SendError};

/// An Ethernet MAC address.
pub type MacAddr = [u8; 6];

/// An IEEE 802.1Q tag to put on every sent frame (PFC priority, VLAN): the
/// wire type, shared with [`crate::wire::ethernet`].
pub use crate::wire::ethernet::VlanTag;

/// An Ethernet port the frame carrier sends on. Implemented by the OS glue:
/// the Windows NDIS lower edge (preallocated NBLs) and the hosted AF_PACKET
/// socket.
pub trait LinkPort: Send + Sync {
    /// Sends one frame of exactly `len` bytes, which `fill` writes in full
    /// (Ethernet header first) into a buffer the port owns, without
    /// blocking. No free buffer -> `WouldBlock`; `len` over the port's
    /// frame limit -> `TooBig`; port down -> `Closed`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError>;

    /// Starts resolving the next-hop MAC for `dst` without blocking (kernel:
    /// a work item running GetBestRoute2 + ResolveIpNetEntry2 at PASSIVE).
    /// The answer comes back through `FrameCarrier::neighbour_resolved` /
    /// `neighbour_failed`. Only called with [`crate::link::Resolver::Os`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn request_resolution(&self, dst: IpAddr);

    /// The platform's monotonic clock.
    ///
    /// IRQL: any.
    fn now(&self) -> Instant;
}
