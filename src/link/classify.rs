//! Classifying a received Ethernet frame. API skeleton (link-api branch).

/// Why a RoCEv2-for-us shaped frame was dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Shorter than its headers say.
    Truncated,
    /// IPv4 header checksum wrong.
    BadIpChecksum,
    /// An IPv4 fragment (MF set or offset non-zero).
    Fragment,
    /// UDP length disagrees with the IP length.
    BadUdpLength,
    /// IPv6 with extension headers before UDP.
    Ipv6Extension,
}
