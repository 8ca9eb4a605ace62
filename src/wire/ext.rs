//! The RoCEv2 extended transport headers: DETH, RETH, AETH, AtomicETH,
//! AtomicAckETH (ImmDt and IETH are plain 32-bit words). Views and reprs.
//! Owns these layouts; must not know which opcode carries which header
//! (that is `opcode.rs`).

/// Datagram ETH (8 bytes): UD only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DethRepr {
    pub qkey: u32,
    /// Source QP (24 bits); the reserved byte before it is kept for exact emit.
    pub src_qp: u32,
    pub resv8: u8,
}

/// RDMA ETH (16 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RethRepr {
    pub va: u64,
    pub rkey: u32,
    /// Length of the whole message (not of this packet).
    pub dma_len: u32,
}

/// The NAK codes of an AETH syndrome of type `011`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NakCode {
    PsnSequenceError,
    InvalidRequest,
    RemoteAccessError,
    RemoteOperationalError,
    InvalidRdRequest,
    /// A reserved code (kept for exact emit).
    Reserved(u8),
}

/// The AETH syndrome byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syndrome {
    /// ACK with a 5-bit credit count (0x1F = unlimited / invalid).
    Ack { credits: u8 },
    /// RNR NAK with the 5-bit encoded timer.
    RnrNak { timer: u8 },
    /// NAK with a code.
    Nak(NakCode),
    /// Type `010` (reserved), the raw byte.
    Reserved(u8),
}

/// ACK ETH (4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AethRepr {
    pub syndrome: Syndrome,
    /// Message sequence number (24 bits).
    pub msn: u32,
}

/// Atomic ETH (28 bytes, packed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomicEthRepr {
    pub va: u64,
    pub rkey: u32,
    pub swap_add: u64,
    pub compare: u64,
}

/// Atomic ACK ETH (8 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AtomicAckEthRepr {
    pub orig_data: u64,
}
