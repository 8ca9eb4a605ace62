//! The datagram carrier contract: a UDP endpoint (port 4791) that sends
//! RoCEv2 datagrams without blocking and hands received ones, with the IP
//! header fields the ICRC covers, to a sink at DISPATCH_LEVEL.
//! Owns only types and traits; sockets live in `hosted` and `windows`.
//! Must not touch RoCE parsing or the ICRC itself (that is `wire`).

use core::fmt;
use core::net::SocketAddr;

/// The IPv4 header fields the ICRC covers that the UDP/IP addresses do not
/// give (the ICRC masks TOS, TTL and the header checksum; protocol is 17).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4RxFields {
    /// Internet header length in 32-bit words (5 without options).
    pub ihl: u8,
    /// Total length (header + UDP header + UDP payload), as on the wire.
    pub total_length: u16,
    /// Identification, as on the wire.
    pub identification: u16,
    /// Flags (top 3 bits: reserved, DF 0x4000, MF 0x2000) and fragment offset.
    pub flags_fragment: u16,
}

impl Ipv4RxFields {
    /// The DF bit in [`Ipv4RxFields::flags_fragment`].
    pub const DONT_FRAGMENT: u16 = 0x4000;
}

/// What the carrier knows of the IP header of a received datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RxIp {
    /// IPv4 with the header fields read from the packet itself.
    V4(Ipv4RxFields),
    /// IPv6: the ICRC covers version, payload length, next header and the
    /// addresses; TC, flow label and hop limit are masked. Without extension
    /// headers the payload length is the UDP length, so a UDP socket knows it.
    V6 {
        /// IPv6 payload length (= UDP length: 8 + datagram length).
        payload_length: u16,
    },
    /// IPv4 received through a plain UDP socket: identification, flags and
    /// total length are unknown, so the peer's ICRC cannot be verified.
    /// The core decides (documented policy) whether to accept such packets.
    V4Unverifiable,
}

/// A datagram handed to a [`DatagramSink`]. Borrowed: copy what you keep.
#[derive(Debug, Clone, Copy)]
pub struct Received<'a> {
    /// The sender's address and UDP source port.
    pub src: SocketAddr,
    /// The address and port it was sent to (ours).
    pub dst: SocketAddr,
    /// What is known of the IP header (for the ICRC).
    pub ip: RxIp,
    /// The UDP payload (BTH onwards, ICRC included).
    pub payload: &'a [u8],
}

/// What the OS stamps into the IPv4 header of every datagram the carrier
/// sends, so the core can compute an ICRC the peer will accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TxIpv4 {
    /// The identification field of every sent packet.
    pub identification: u16,
    /// Flags + fragment offset of every sent packet (0x4000: DF, offset 0).
    pub flags_fragment: u16,
}

impl TxIpv4 {
    /// The softroce rule on every platform: ID 0 with DF (RFC 6864 allows any
    /// ID on atomic datagrams). See `docs/CARRIER.md`.
    pub const ZERO_ID_DF: TxIpv4 = TxIpv4 {
        identification: 0,
        flags_fragment: Ipv4RxFields::DONT_FRAGMENT,
    };
}

/// Receives datagrams from a [`Carrier`].
pub trait DatagramSink: Send + Sync {
    /// One datagram arrived. Must not block; copy what it keeps.
    ///
    /// IRQL: DISPATCH_LEVEL.
    fn on_datagram(&self, datagram: &Received<'_>);
}

/// Why a send failed. Sends never block: a full queue is an error the
/// transport treats like a lost packet (it retransmits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendError {
    /// No buffer space right now (EAGAIN / no free send context).
    WouldBlock,
    /// Larger than the path allows without fragmenting (EMSGSIZE).
    TooBig,
    /// The destination's family differs from the carrier's, or it is unroutable.
    Unreachable,
    /// The carrier is closed or broken.
    Closed,
}

/// Why a carrier could not be opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CarrierError {
    /// The address/port is taken (STATUS_ADDRESS_ALREADY_EXISTS).
    AddressInUse,
    /// The address is not one of this host's (STATUS_INVALID_ADDRESS).
    AddressNotAvailable,
    /// Another OS failure (errno or NTSTATUS).
    Os(i32),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

impl fmt::Display for CarrierError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// An open datagram endpoint. Dropping it closes the socket; after the drop
/// returns the sink is not called again.
pub trait Carrier: Send + Sync {
    /// The bound address (port included).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn local_addr(&self) -> SocketAddr;

    /// Sends one datagram to `dst` without blocking.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError>;

    /// The IPv4 ID/flags this carrier's packets carry, or `None` if the OS
    /// picks them unpredictably (then peers will reject our ICRC). IPv6
    /// carriers return `None` (no ID field).
    ///
    /// IRQL: any.
    fn tx_ipv4(&self) -> Option<TxIpv4>;

    /// Whether received IPv4 datagrams come with their header fields
    /// ([`RxIp::V4`]) or without ([`RxIp::V4Unverifiable`]). Always `true`
    /// for IPv6 carriers.
    ///
    /// IRQL: any.
    fn rx_icrc_verifiable(&self) -> bool;

    /// The IP MTU of the link under this carrier (the largest IP packet it
    /// sends), when the carrier knows it; `None` (the default): unknown,
    /// no cap (`ndk::net` caps the adapter's RoCE path MTU with it).
    ///
    /// IRQL: any.
    fn ip_mtu(&self) -> Option<usize> {
        None
    }
}

/// A carrier that is another carrier plus what keeps it running (a receive
/// thread, a lower binding): every [`Carrier`] method goes to
/// [`CarrierOwner::carrier`], so a wrapper cannot forget one (the blanket
/// impl below). The hosted frame link and the Windows lower-edge carrier
/// are such wrappers around `link::FrameCarrier`.
pub trait CarrierOwner: Send + Sync {
    /// The carrier every call goes to.
    ///
    /// IRQL: any.
    fn carrier(&self) -> &dyn Carrier;
}

impl<W: CarrierOwner> Carrier for W {
    fn local_addr(&self) -> SocketAddr {
        self.carrier().local_addr()
    }

    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        self.carrier().send(dst, datagram)
    }

    fn tx_ipv4(&self) -> Option<TxIpv4> {
        self.carrier().tx_ipv4()
    }

    fn rx_icrc_verifiable(&self) -> bool {
        self.carrier().rx_icrc_verifiable()
    }

    fn ip_mtu(&self) -> Option<usize> {
        self.carrier().ip_mtu()
    }
}
