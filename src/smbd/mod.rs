//! SMB Direct ([MS-SMBD] 1.0) over an RDMA connection, and the few SMB2
//! messages the probe needs: the 20-byte Negotiate Request, the 32-byte
//! Negotiate Response and the Data Transfer message as smoltcp-style views
//! ([`NegotiateRequestPacket`], [`NegotiateResponsePacket`],
//! [`DataTransferPacket`]) with reprs that `parse`/`emit`; the receiver checks
//! of §3.1.5.6 (request), §3.1.5.7 (response) and §3.1.5.8 (data transfer) as
//! functions returning [`Error`]; a sans-IO initiator ([`Initiator`]) that
//! keeps the negotiated sizes and the credits of §3.1.5.9; and a minimal SMB2
//! NEGOTIATE request builder and response parser ([`smb2`]).
//!
//! Why not in `wire`: `wire` holds the RoCEv2/IB CM byte layouts the provider
//! itself speaks, keeps no state and is big-endian. SMB Direct is a protocol
//! *above* the provider (an NDK consumer's payload in RC SENDs), is
//! little-endian and needs connection state (credits, sizes, reassembly). No
//! provider layer may call into it; only consumers (the hosted `smbd-probe`
//! tool, tests) do.
//!
//! Owns these formats and the initiator's bookkeeping. Must not do I/O, read
//! clocks or touch provider internals. Malformed input of any length or
//! content yields an [`Error`], never a panic. Layout and checks: `docs/SMBD.md`.
//!
//! IRQL: every function here is pure or works on caller-owned state (no
//! blocking, no locks); it may be called at any IRQL <= DISPATCH_LEVEL.
//! [`Initiator::send`] and [`smb2`]'s builders allocate (`Vec`): call them at
//! PASSIVE_LEVEL or from pre-sized buffers' owners.
#![deny(unsafe_code)]

use core::fmt;

mod data;
mod initiator;
mod le;
mod negotiate;
mod probe;
pub mod smb2;

pub use data::{check_data_transfer, DataTransferPacket, DataTransferRepr};
pub use initiator::{Config, Initiator, Negotiated, Received};
pub use negotiate::{
    check_request, check_response, NegotiateRequestPacket, NegotiateRequestRepr,
    NegotiateResponsePacket, NegotiateResponseRepr,
};
pub use probe::{Probe, ProbeError, Smb2Negotiated, Step};

/// SMB Direct protocol version 1.0 (§1.7).
pub const SMBD_VERSION: u16 = 0x0100;
/// Length of a Negotiate Request (§2.2.1).
pub const NEGOTIATE_REQUEST_LEN: usize = 20;
/// Length of a Negotiate Response (§2.2.2).
pub const NEGOTIATE_RESPONSE_LEN: usize = 32;
/// Length of a Data Transfer header without padding (§2.2.3).
pub const DATA_HEADER_LEN: usize = 20;
/// Where this implementation puts the data of a Data Transfer message: the
/// first 8-byte aligned offset after the header (4 bytes of padding).
pub const DATA_OFFSET: usize = 24;
/// Smallest MaxReceiveSize a peer may announce (§3.1.5.6/§3.1.5.7).
pub const MIN_RECEIVE_SIZE: u32 = 128;
/// Smallest MaxFragmentedSize a peer may announce (§3.1.5.6/§3.1.5.7).
pub const MIN_FRAGMENTED_SIZE: u32 = 131_072;
/// Data Transfer flag: the peer asks for a prompt message back (§2.2.3).
pub const FLAG_RESPONSE_REQUESTED: u16 = 0x0001;
/// RDMA-CM port of SMB Direct over InfiniBand and RoCE (iWARP uses 5445).
pub const SMBD_PORT: u16 = 445;
/// NTSTATUS a responder returns for a version range without 1.0 (§3.1.5.6).
pub const STATUS_NOT_SUPPORTED: u32 = 0xC000_00BB;

/// Why an SMB Direct message was refused (each one terminates the connection
/// per [MS-SMBD] §3.1.5, except where noted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Error {
    /// The message is shorter than its fixed part (`need` bytes, got `have`).
    Truncated { need: usize, have: usize },
    /// A request whose version range does not include 0x0100 (answer with
    /// STATUS_NOT_SUPPORTED), or a response negotiating another version.
    Version { min: u16, max: u16, negotiated: u16 },
    /// CreditsRequested is 0.
    NoCreditsRequested,
    /// A Negotiate Response granting no credits.
    NoCreditsGranted,
    /// MaxReceiveSize below 128.
    ReceiveSizeTooSmall(u32),
    /// MaxFragmentedSize below 131072.
    FragmentedSizeTooSmall(u32),
    /// The peer's PreferredSendSize exceeds our MaxReceiveSize.
    PreferredSendSizeTooLarge { preferred: u32, max_receive: u32 },
    /// A Negotiate Response with a non-zero Status (an NTSTATUS).
    Status(u32),
    /// DataOffset not a multiple of 8 (or inside the header while data follows).
    BadDataOffset(u32),
    /// DataOffset + DataLength beyond the message's length.
    DataBeyondMessage {
        offset: u32,
        length: u32,
        message: usize,
    },
    /// DataLength + RemainingDataLength above the max fragmented size.
    TooLong { total: u64, max: u32 },
    /// A fragment whose RemainingDataLength does not continue the message
    /// being reassembled.
    BadFragment,
    /// A message larger than the negotiated receive size.
    MessageTooLarge { len: usize, max: u32 },
    /// The call does not fit the initiator's state (e.g. data before the
    /// negotiation ended, a second Negotiate Response).
    State,
    /// No send credit left (wait for the peer to grant some).
    NoSendCredits,
    /// Nothing left to account a receive against (more receives completed
    /// than were posted).
    NoReceiveCredits,
    /// An output buffer too small for the message.
    BufferTooSmall { need: usize, have: usize },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { need, have } => write!(f, "message of {have} bytes, need {need}"),
            Error::Version {
                min,
                max,
                negotiated,
            } => write!(
                f,
                "version not 0x0100 (min {min:#06x} max {max:#06x} negotiated {negotiated:#06x})"
            ),
            Error::NoCreditsRequested => f.write_str("CreditsRequested is 0"),
            Error::NoCreditsGranted => f.write_str("CreditsGranted is 0"),
            Error::ReceiveSizeTooSmall(v) => write!(f, "MaxReceiveSize {v} < 128"),
            Error::FragmentedSizeTooSmall(v) => write!(f, "MaxFragmentedSize {v} < 131072"),
            Error::PreferredSendSizeTooLarge {
                preferred,
                max_receive,
            } => write!(
                f,
                "PreferredSendSize {preferred} > our MaxReceiveSize {max_receive}"
            ),
            Error::Status(s) => write!(f, "negotiate failed with status {s:#010x}"),
            Error::BadDataOffset(o) => {
                write!(f, "DataOffset {o} not 8-byte aligned after the header")
            }
            Error::DataBeyondMessage {
                offset,
                length,
                message,
            } => write!(
                f,
                "DataOffset {offset} + DataLength {length} beyond the {message}-byte message"
            ),
            Error::TooLong { total, max } => {
                write!(f, "DataLength + RemainingDataLength {total} > {max}")
            }
            Error::BadFragment => f.write_str("fragment does not continue the message"),
            Error::MessageTooLarge { len, max } => {
                write!(f, "message of {len} bytes > receive size {max}")
            }
            Error::State => f.write_str("message not expected in this state"),
            Error::NoSendCredits => f.write_str("no send credits"),
            Error::NoReceiveCredits => f.write_str("receive without a posted receive"),
            Error::BufferTooSmall { need, have } => {
                write!(f, "buffer of {have} bytes, need {need}")
            }
        }
    }
}

/// Result of this module.
pub type Result<T> = core::result::Result<T, Error>;

/// `Ok` if `data` holds at least `need` bytes.
fn check_len(data: &[u8], need: usize) -> Result<()> {
    if data.len() < need {
        Err(Error::Truncated {
            need,
            have: data.len(),
        })
    } else {
        Ok(())
    }
}
