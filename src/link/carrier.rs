//! [`FrameCarrier`]: an [`os::Carrier`](crate::os::Carrier) over a
//! [`LinkPort`]. API skeleton (link-api branch): bodies are filled in by the
//! link-core work.

use alloc::sync::Arc;
use core::net::{IpAddr, SocketAddr};

use crate::os::{Carrier, DatagramSink, SendError, TxIpv4};

use super::classify::DropReason;
use super::port::{LinkPort, MacAddr, VlanTag};

/// How next-hop MACs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// The carrier sends ARP requests itself and learns from ARP replies
    /// (and requests) it sees in [`FrameCarrier::on_frame`]. IPv4, on-link
    /// destinations only. Hosted.
    Arp,
    /// The OS resolves ([`LinkPort::request_resolution`]) and answers with
    /// [`FrameCarrier::neighbour_resolved`] / [`FrameCarrier::neighbour_failed`].
    /// ARP frames are not consumed. Windows.
    Os,
}

/// A frame carrier's fixed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameConfig {
    /// Our address and UDP port (4791): source of every packet, and the only
    /// destination we accept.
    pub local: SocketAddr,
    /// Our MAC: source of every frame.
    pub mac: MacAddr,
    /// The link's IP MTU (largest IP packet, 1500 on plain Ethernet).
    pub ip_mtu: usize,
    /// 802.1Q tag for every sent frame, if any.
    pub vlan: Option<VlanTag>,
    /// IPv4 TOS / IPv6 traffic class of every packet (DSCP << 2 | ECN).
    pub traffic_class: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub hop_limit: u8,
    /// How next hops are resolved.
    pub resolver: Resolver,
    /// Neighbour cache entries (preallocated at [`FrameCarrier::new`]).
    pub neighbours: usize,
}

/// What the OS glue does with a received frame after
/// [`FrameCarrier::on_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameVerdict {
    /// A RoCEv2 datagram for us, handed to the sink: do not pass it up.
    Consumed,
    /// RoCEv2-for-us shaped but unusable (reason counted): do not pass it up.
    Dropped(DropReason),
    /// Not ours (other traffic, ARP under [`Resolver::Os`], ...): pass it up
    /// to the OS stack unchanged.
    NotOurs,
}

/// Counters of a frame carrier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    pub rx_frames: u64,
    pub rx_delivered: u64,
    pub rx_dropped: u64,
    pub rx_not_ours: u64,
    pub tx_frames: u64,
    pub tx_no_neighbour: u64,
    pub tx_errors: u64,
    pub arp_requests_sent: u64,
    pub neighbours_learned: u64,
    pub resolutions_requested: u64,
}

/// Error from [`FrameCarrier::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameConfigError {
    /// Inconsistent configuration (e.g. IPv6 local address with ARP).
    Invalid,
    /// The neighbour table could not be allocated.
    NoMemory,
}

/// The frame carrier.
pub struct FrameCarrier<P: LinkPort> {
    config: FrameConfig,
    port: P,
    sink: Arc<dyn DatagramSink>,
}

impl<P: LinkPort> core::fmt::Debug for FrameCarrier<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrameCarrier")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: LinkPort> FrameCarrier<P> {
    /// A carrier sending on `port`, delivering to `sink`; preallocates
    /// everything it uses on the data path.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn new(
        config: FrameConfig,
        port: P,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Self, FrameConfigError> {
        let _ = (&config, &port, &sink);
        todo!("link-core")
    }

    /// One received Ethernet frame (link header first, FCS stripped).
    /// Delivers a RoCEv2 datagram for us to the sink (before returning),
    /// learns from ARP under [`Resolver::Arp`], and says what the OS glue
    /// should do with the frame.
    ///
    /// IRQL: DISPATCH_LEVEL.
    pub fn on_frame(&self, frame: &[u8]) -> FrameVerdict {
        let _ = frame;
        todo!("link-core")
    }

    /// The OS resolved `ip`'s next hop to `mac`.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn neighbour_resolved(&self, ip: IpAddr, mac: MacAddr) {
        let _ = (ip, mac);
        todo!("link-core")
    }

    /// The OS could not resolve `ip` (no route, no answer).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn neighbour_failed(&self, ip: IpAddr) {
        let _ = ip;
        todo!("link-core")
    }

    /// The configuration.
    ///
    /// IRQL: any.
    pub fn config(&self) -> &FrameConfig {
        &self.config
    }

    /// The port.
    ///
    /// IRQL: any.
    pub fn port(&self) -> &P {
        &self.port
    }

    /// A snapshot of the counters.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn stats(&self) -> LinkStats {
        todo!("link-core")
    }
}

impl<P: LinkPort> Carrier for FrameCarrier<P> {
    fn local_addr(&self) -> SocketAddr {
        self.config.local
    }

    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        let _ = (dst, datagram, &self.sink);
        todo!("link-core")
    }

    fn tx_ipv4(&self) -> Option<TxIpv4> {
        match self.config.local.ip() {
            IpAddr::V4(_) => Some(TxIpv4::ZERO_ID_DF),
            IpAddr::V6(_) => None,
        }
    }

    fn rx_icrc_verifiable(&self) -> bool {
        true
    }
}
