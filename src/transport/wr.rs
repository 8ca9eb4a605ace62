//! Work requests in ([`WorkRequest`], [`RecvRequest`], [`Sge`]) and
//! completions out ([`Completion`], [`WcStatus`], [`WcOpcode`]), plus the
//! synchronous posting errors. Owns these value types; must not hold queue state.

/// A scatter/gather element: `len` bytes at `addr` of the region with local key `lkey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Sge {
    pub lkey: u32,
    pub addr: u64,
    pub len: u32,
}

/// What a send-queue work request does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WrKind {
    /// SEND; with `imm` SEND_WITH_IMMEDIATE; with `invalidate` SEND_WITH_INVALIDATE
    /// (both at once is refused).
    Send {
        imm: Option<u32>,
        invalidate: Option<u32>,
    },
    /// RDMA WRITE (with immediate data if `imm`).
    Write {
        remote_va: u64,
        rkey: u32,
        imm: Option<u32>,
    },
    /// RDMA READ into the SGE list.
    Read { remote_va: u64, rkey: u32 },
    /// 8-byte COMPARE_SWAP; the original value lands in the (8-byte) SGE list.
    CompareSwap {
        remote_va: u64,
        rkey: u32,
        compare: u64,
        swap: u64,
    },
    /// 8-byte FETCH_ADD; the original value lands in the (8-byte) SGE list.
    FetchAdd { remote_va: u64, rkey: u32, add: u64 },
}

impl WrKind {
    /// True for READ and the atomics (bounded by the outbound read limit).
    pub const fn is_read_or_atomic(&self) -> bool {
        matches!(
            self,
            WrKind::Read { .. } | WrKind::CompareSwap { .. } | WrKind::FetchAdd { .. }
        )
    }

    /// The completion opcode of this kind.
    pub const fn wc_opcode(&self) -> WcOpcode {
        match self {
            WrKind::Send { .. } => WcOpcode::Send,
            WrKind::Write { .. } => WcOpcode::RdmaWrite,
            WrKind::Read { .. } => WcOpcode::RdmaRead,
            WrKind::CompareSwap { .. } => WcOpcode::CompareSwap,
            WrKind::FetchAdd { .. } => WcOpcode::FetchAdd,
        }
    }
}

/// A send-queue work request. The SGE list is copied into the queue's
/// preallocated slot; the borrow ends when `post_send` returns.
#[derive(Debug, Clone, Copy)]
pub struct WorkRequest<'a> {
    pub wr_id: u64,
    pub kind: WrKind,
    pub sges: &'a [Sge],
    /// Report a successful completion (errors are always reported).
    pub signaled: bool,
    /// READ_FENCE: do not start until every earlier READ/atomic has completed.
    pub fence: bool,
    /// Set SE on the last packet (SEND and WRITE with immediate).
    pub solicited: bool,
}

/// A receive-queue work request.
#[derive(Debug, Clone, Copy)]
pub struct RecvRequest<'a> {
    pub wr_id: u64,
    pub sges: &'a [Sge],
}

/// Why a post was refused; nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostError {
    /// The queue is full.
    QueueFull,
    /// More SGEs than the QP allows.
    TooManySges,
    /// The QP is in the error state.
    QpError,
    /// The request is malformed (lengths overflow, atomic SGE not 8 bytes,
    /// immediate and invalidate together, UD payload above the MTU...).
    Invalid,
}

/// The status of a completion (IB work completion status, in our words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WcStatus {
    Success,
    /// Cancelled by a flush or by an earlier error (STATUS_CANCELLED in NDK).
    Flushed,
    /// Local ACK timeout / sequence-NAK retries exhausted.
    RetryExceeded,
    /// RNR NAK retries exhausted.
    RnrRetryExceeded,
    /// The peer NAKed with remote access error (0x62).
    RemoteAccessError,
    /// The peer NAKed with invalid request (0x61).
    RemoteInvalidRequest,
    /// The peer NAKed with remote operational error (0x63).
    RemoteOperationalError,
    /// A received message did not fit the receive buffers, or a response length was wrong.
    LocalLengthError,
    /// A local key check failed (SGE outside its region or without the right).
    LocalProtectionError,
    /// Our responder found the inbound request invalid (recv side of an invalid-request NAK).
    LocalQpOperationError,
}

/// Which operation a completion reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WcOpcode {
    Send,
    RdmaWrite,
    RdmaRead,
    CompareSwap,
    FetchAdd,
    /// A received SEND (possibly with immediate or invalidate).
    Recv,
    /// A received RDMA WRITE with immediate (consumes a receive).
    RecvRdmaWithImm,
}

/// The queue a completion belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WcQueue {
    Send,
    Recv,
}

/// One completed work request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Completion {
    pub wr_id: u64,
    pub queue: WcQueue,
    pub status: WcStatus,
    pub opcode: WcOpcode,
    /// Bytes received (receive side) or transferred (READ).
    pub byte_len: u32,
    pub imm: Option<u32>,
    /// The rkey a SEND_WITH_INVALIDATE invalidated (receive side).
    pub invalidated_rkey: Option<u32>,
    /// The sender's QPN (UD receives only).
    pub src_qp: Option<u32>,
    /// The message's last packet had SE set (receive side; for solicited CQ arming).
    pub solicited: bool,
}

impl Completion {
    pub(crate) const fn send(
        wr_id: u64,
        opcode: WcOpcode,
        status: WcStatus,
        byte_len: u32,
    ) -> Self {
        Completion {
            wr_id,
            queue: WcQueue::Send,
            status,
            opcode,
            byte_len,
            imm: None,
            invalidated_rkey: None,
            src_qp: None,
            solicited: false,
        }
    }

    pub(crate) const fn recv(wr_id: u64, status: WcStatus) -> Self {
        Completion {
            wr_id,
            queue: WcQueue::Recv,
            status,
            opcode: WcOpcode::Recv,
            byte_len: 0,
            imm: None,
            invalidated_rkey: None,
            src_qp: None,
            solicited: false,
        }
    }
}

/// Sum of SGE lengths, or `None` on overflow of 32 bits.
pub fn sge_total(sges: &[Sge]) -> Option<u32> {
    sges.iter().try_fold(0u32, |acc, s| acc.checked_add(s.len))
}

impl Default for WrKind {
    fn default() -> Self {
        WrKind::Send {
            imm: None,
            invalidate: None,
        }
    }
}
