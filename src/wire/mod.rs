//! Wire formats: RoCEv2 transport headers, ICRC, MADs, IB CM messages and the
//! RDMA-CM header, in the smoltcp style (`Packet<T: AsRef<[u8]>>` zero-copy views
//! with checked construction, and `Repr` structs with `parse`/`emit`).
//!
//! Owns byte layouts only. Must not keep state, read clocks or do I/O; the IP
//! fields the ICRC covers come in as input (the carrier is an `os` concern).
//! Malformed input of any length or content yields [`Error`], never a panic.
#![deny(unsafe_code)]

use core::fmt;

pub(crate) mod be;
pub mod bth;
pub mod cm;
pub mod cma;
pub mod ext;
pub mod mad;
pub mod opcode;

pub use bth::BthRepr;
pub use ext::{AethRepr, AtomicAckEthRepr, AtomicEthRepr, DethRepr, NakCode, RethRepr, Syndrome};
pub use opcode::{Headers, Opcode, Position, Service};

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
    pub type Rest = core::ops::RangeFrom<usize>;
}
