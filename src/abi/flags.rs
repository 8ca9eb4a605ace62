//! NDKPI flag words (facts §2.11, §3): the raw `NDK_*_FLAG_*` constants with
//! their C names and `bitflags` types over them for Rust callers. Owns the bit
//! values; must not decide which flags an operation accepts.

use bitflags::bitflags;

// --- NDK_OP_FLAG_* (the Flags of every post on a QP) -----------------------

pub const NDK_OP_FLAG_SILENT_SUCCESS: u32 = 0x0000_0001;
pub const NDK_OP_FLAG_READ_FENCE: u32 = 0x0000_0002;
pub const NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT: u32 = 0x0000_0004;
pub const NDK_OP_FLAG_ALLOW_REMOTE_READ: u32 = 0x0000_0008;
/// FastRegister only.
pub const NDK_OP_FLAG_ALLOW_LOCAL_WRITE: u32 = 0x0000_0010;
/// Includes ALLOW_LOCAL_WRITE (0x20 | 0x10).
pub const NDK_OP_FLAG_ALLOW_REMOTE_WRITE: u32 = 0x0000_0030;
pub const NDK_OP_FLAG_INLINE: u32 = 0x0000_0040;
pub const NDK_OP_FLAG_RDMA_READ_SINK: u32 = 0x0000_0080;
/// 0x100, not 0x200. The facts (§3 and §11 "Conflicts") record that the
/// header copy defines 0x100 while the NdkRead documentation page prints
/// 0x200, which would collide with NDK_OP_FLAG_DEFER (0x200). We follow the
/// header; re-check against a current WDK ndkpi.h when one is available.
pub const NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE: u32 = 0x0000_0100;
/// NDKPI 1.2+: a hint that more posts follow.
pub const NDK_OP_FLAG_DEFER: u32 = 0x0000_0200;

bitflags! {
    /// NDK_OP_FLAG_* as a typed set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NdkOpFlags: u32 {
        const SILENT_SUCCESS = NDK_OP_FLAG_SILENT_SUCCESS;
        const READ_FENCE = NDK_OP_FLAG_READ_FENCE;
        const SEND_AND_SOLICIT_EVENT = NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT;
        const ALLOW_REMOTE_READ = NDK_OP_FLAG_ALLOW_REMOTE_READ;
        const ALLOW_LOCAL_WRITE = NDK_OP_FLAG_ALLOW_LOCAL_WRITE;
        const ALLOW_REMOTE_WRITE = NDK_OP_FLAG_ALLOW_REMOTE_WRITE;
        const INLINE = NDK_OP_FLAG_INLINE;
        const RDMA_READ_SINK = NDK_OP_FLAG_RDMA_READ_SINK;
        const RDMA_READ_LOCAL_INVALIDATE = NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE;
        const DEFER = NDK_OP_FLAG_DEFER;
    }
}

// --- NDK_MR_FLAG_* (NdkRegisterMr Flags) -----------------------------------

/// Zero: local read is always allowed. Not a member of [`NdkMrFlags`],
/// because a zero flag would always be "contained".
pub const NDK_MR_FLAG_ALLOW_LOCAL_READ: u32 = 0x0000_0000;
pub const NDK_MR_FLAG_ALLOW_LOCAL_WRITE: u32 = 0x0000_0001;
pub const NDK_MR_FLAG_ALLOW_REMOTE_READ: u32 = 0x0000_0002;
/// Includes ALLOW_LOCAL_WRITE (0x4 | 0x1).
pub const NDK_MR_FLAG_ALLOW_REMOTE_WRITE: u32 = 0x0000_0005;
pub const NDK_MR_FLAG_RDMA_READ_SINK: u32 = 0x0000_0008;

bitflags! {
    /// NDK_MR_FLAG_* as a typed set (ALLOW_LOCAL_READ is implied).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NdkMrFlags: u32 {
        const ALLOW_LOCAL_WRITE = NDK_MR_FLAG_ALLOW_LOCAL_WRITE;
        const ALLOW_REMOTE_READ = NDK_MR_FLAG_ALLOW_REMOTE_READ;
        const ALLOW_REMOTE_WRITE = NDK_MR_FLAG_ALLOW_REMOTE_WRITE;
        const RDMA_READ_SINK = NDK_MR_FLAG_RDMA_READ_SINK;
    }
}

// --- NDK_ADAPTER_FLAG_* (NDK_ADAPTER_INFO::AdapterFlags) -------------------

pub const NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED: u32 = 0x0000_0001;
pub const NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED: u32 = 0x0000_0002;
pub const NDK_ADAPTER_FLAG_CQ_INTERRUPT_MODERATION_SUPPORTED: u32 = 0x0000_0004;
pub const NDK_ADAPTER_FLAG_MULTI_ENGINE_SUPPORTED: u32 = 0x0000_0008;
/// NDKPI 1.2+.
pub const NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED: u32 = 0x0000_0010;
pub const NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED: u32 = 0x0000_0100;
pub const NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED: u32 = 0x0001_0000;

bitflags! {
    /// NDK_ADAPTER_FLAG_* as a typed set.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct NdkAdapterFlags: u32 {
        const IN_ORDER_DMA_SUPPORTED = NDK_ADAPTER_FLAG_IN_ORDER_DMA_SUPPORTED;
        const RDMA_READ_SINK_NOT_REQUIRED = NDK_ADAPTER_FLAG_RDMA_READ_SINK_NOT_REQUIRED;
        const CQ_INTERRUPT_MODERATION_SUPPORTED =
            NDK_ADAPTER_FLAG_CQ_INTERRUPT_MODERATION_SUPPORTED;
        const MULTI_ENGINE_SUPPORTED = NDK_ADAPTER_FLAG_MULTI_ENGINE_SUPPORTED;
        const RDMA_READ_LOCAL_INVALIDATE_SUPPORTED =
            NDK_ADAPTER_FLAG_RDMA_READ_LOCAL_INVALIDATE_SUPPORTED;
        const CQ_RESIZE_SUPPORTED = NDK_ADAPTER_FLAG_CQ_RESIZE_SUPPORTED;
        const LOOPBACK_CONNECTIONS_SUPPORTED = NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_flags_are_distinct_bits_except_the_documented_composite() {
        assert_eq!(NdkOpFlags::all().bits(), 0x3FF);
        assert!(NdkOpFlags::ALLOW_REMOTE_WRITE.contains(NdkOpFlags::ALLOW_LOCAL_WRITE));
        assert!(!NdkOpFlags::DEFER.intersects(NdkOpFlags::RDMA_READ_LOCAL_INVALIDATE));
        assert_eq!(NdkOpFlags::from_bits(0x400), None);
        assert_eq!(
            NdkOpFlags::from_bits(0x201),
            Some(NdkOpFlags::DEFER | NdkOpFlags::SILENT_SUCCESS)
        );
    }

    #[test]
    fn mr_flags() {
        assert!(NdkMrFlags::ALLOW_REMOTE_WRITE.contains(NdkMrFlags::ALLOW_LOCAL_WRITE));
        assert_eq!(NdkMrFlags::all().bits(), 0xF);
        assert_eq!(NdkMrFlags::from_bits(0x10), None);
        assert_eq!(NDK_MR_FLAG_ALLOW_LOCAL_READ, 0);
    }

    #[test]
    fn adapter_flags() {
        assert_eq!(NdkAdapterFlags::all().bits(), 0x1_011F);
        assert_eq!(NdkAdapterFlags::from_bits(0x20), None);
    }
}
