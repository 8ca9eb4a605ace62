//! Wire formats: RoCEv2 transport headers, ICRC, MADs, IB CM messages and the
//! RDMA-CM header, in the smoltcp style (`Packet<T: AsRef<[u8]>>` zero-copy views
//! with checked construction, and `Repr` structs with `parse`/`emit`).
//!
//! Owns byte layouts only. Must not keep state, read clocks or do I/O; the IP
//! fields the ICRC covers come in as input (the carrier is an `os` concern).
//! Malformed input of any length or content yields [`Error`], never a panic.
//!
//! IRQL: every function in `wire` is pure (no allocation, no blocking, no
//! locks, no global state) and may be called at any IRQL <= DISPATCH_LEVEL.
//! Layout and checks: `docs/WIRE.md`.
#![deny(unsafe_code)]

use core::fmt;

#[macro_use]
mod view;
pub(crate) use view::view_skeleton;
pub(crate) mod be;
pub(crate) mod bytes;

pub mod aeth;
pub mod arp;
pub mod atomic;
pub mod bth;
pub mod cm;
pub mod cma;
pub mod crc32;
pub mod deth;
pub mod ethernet;
pub mod ext;
pub mod frame;
pub mod icrc;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod mad;
pub mod opcode;
pub mod packet;
pub mod reth;
pub mod udp;

pub use arp::{ArpOp, ArpPacket, ArpRepr};
pub use bth::{BthPacket, BthRepr};
pub use ethernet::{EthernetFrame, EthernetRepr, VlanTag};
pub use ext::{
    rnr_timer_micros, AethPacket, AethRepr, AtomicAckEthPacket, AtomicAckEthRepr, AtomicEthPacket,
    AtomicEthRepr, DethPacket, DethRepr, NakCode, RethPacket, RethRepr, Syndrome,
};
pub use ip::{IpRepr, RoceDatagram};
pub use ipv4::{Ipv4Packet, Ipv4Repr};
pub use ipv6::{Ipv6Packet, Ipv6Repr};
pub use opcode::{Headers, Opcode, Position, Service};
pub use packet::{PacketRepr, RocePacket};
pub use udp::{UdpPacket, UdpRepr};

/// The UDP destination port of every RoCEv2 packet.
pub const ROCE_V2_UDP_PORT: u16 = 4791;
/// The only P_Key rxe accepts (default, full membership).
pub const DEFAULT_PKEY: u16 = 0xFFFF;
/// The Q_Key of the GSI QP (QP1).
pub const GSI_QKEY: u32 = 0x8001_0000;
/// Length of the invariant CRC trailer.
pub const ICRC_LEN: usize = 4;

/// Why bytes could not be parsed (or a repr could not be emitted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer is shorter than the headers it must hold.
    Truncated,
    /// A field holds a value the format does not allow.
    Malformed,
    /// An opcode, version or attribute softroce does not know.
    Unsupported,
    /// The ICRC does not match.
    BadIcrc,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated packet",
            Error::Malformed => "malformed packet",
            Error::Unsupported => "unsupported packet",
            Error::BadIcrc => "bad ICRC",
        })
    }
}

/// Result of wire operations.
pub type Result<T> = core::result::Result<T, Error>;

/// Byte ranges of fields, as in smoltcp.
pub(crate) mod field {
    pub type Field = core::ops::Range<usize>;
    /// For views with a variable-length tail (the MAD and CM views use it).
    #[allow(dead_code)]
    pub type Rest = core::ops::RangeFrom<usize>;
}
