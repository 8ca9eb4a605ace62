//! The adapter's limits and capability flags: the one place NDK_ADAPTER_INFO
//! is built from. Values are what this software provider can really honour
//! (rxe-like); later issues implement everything advertised here. Owns the
//! numbers; must not enforce them (the verbs layer does).

use crate::abi::{NdkAdapterFlags, NdkRoCEv2, NDK_ADAPTER_INFO, NDK_VERSION};

/// The page size of logical address arrays (LAM, FastRegister).
pub const PAGE_SIZE: usize = 4096;

/// No registered OUI: the value Linux soft-RoCE reports as its vendor id.
pub const VENDOR_ID: u32 = 0x00FF_FFFF;
/// "SR": softroce, device 1.
pub const DEVICE_ID: u32 = 0x5352_0001;

/// One registration (MDL chain) may span up to 1 GiB.
pub const MAX_REGISTRATION_SIZE: usize = 1 << 30;
/// A memory window is bound inside one MR, so the same bound.
pub const MAX_WINDOW_SIZE: usize = MAX_REGISTRATION_SIZE;
/// 512 pages = 2 MiB per FRMR (rxe's fast-register page list length);
/// covers a 1 MiB SMB Direct transfer at any page offset. Docs require >= 16.
pub const FRMR_PAGE_COUNT: u32 = 512;
/// The most pages one fast-register MR may be initialized for (16 MiB,
/// twice MaxTransferLength): above it NdkInitializeFastRegisterMr answers
/// STATUS_IMPLEMENTATION_LIMIT.
pub const MAX_FRMR_PAGES: u32 = 4096;
/// SGEs per initiator request, per receive and per read (rxe: 32).
pub const MAX_INITIATOR_REQUEST_SGE: u32 = 32;
pub const MAX_RECEIVE_REQUEST_SGE: u32 = 32;
pub const MAX_READ_REQUEST_SGE: u32 = 32;
/// 8 MiB per send/receive/read/write (rxe's message size limit).
pub const MAX_TRANSFER_LENGTH: u32 = 8 << 20;
/// Inline bytes copied into the work request at post time.
pub const MAX_INLINE_DATA_SIZE: u32 = 256;
/// IRD and ORD per QP (sent in the 8-bit IB CM responder_resources /
/// initiator_depth fields).
pub const MAX_INBOUND_READ_LIMIT: u32 = 16;
pub const MAX_OUTBOUND_READ_LIMIT: u32 = 16;
/// Queue depths: rings are allocated at create time from pool memory.
pub const MAX_RECEIVE_QUEUE_DEPTH: u32 = 4096;
pub const MAX_INITIATOR_QUEUE_DEPTH: u32 = 4096;
/// SRQs are supported (non-zero; 0 would mean "no SRQ").
pub const MAX_SRQ_DEPTH: u32 = 4096;
pub const MAX_CQ_DEPTH: u32 = 32768;
/// Above 8 KiB (Windows SMB Direct's receive size) a read/write avoids the
/// receive-buffer copy a send needs.
pub const LARGE_REQUEST_THRESHOLD: u32 = 8192;
/// RDMA-CM over IB CM: 92 bytes of REQ private data minus the 36-byte
/// RDMA-CM (CMA) header.
pub const MAX_CALLER_DATA: u32 = 56;
/// The smaller of REP (196) and REJ (148) private data, since accept and
/// reject share the one limit.
pub const MAX_CALLEE_DATA: u32 = 148;

/// The capability flags we advertise, each one a promise:
/// - IN_ORDER_DMA_SUPPORTED: the RC responder accepts packets only in PSN
///   order (out-of-order ones are NAKed and resent), and places each payload
///   before the next, so the last byte of a buffer is written last.
/// - RDMA_READ_SINK_NOT_REQUIRED: placing read responses is a CPU copy into
///   any locally writable MR or privileged logical address; the READ_SINK
///   flags are accepted and ignored.
/// - RDMA_READ_LOCAL_INVALIDATE_SUPPORTED: the completer invalidates the sink
///   MR's token when the read completes.
/// - CQ_RESIZE_SUPPORTED: a CQ ring is reallocated from nonpaged pool.
/// - LOOPBACK_CONNECTIONS_SUPPORTED: packets to our own address are
///   delivered locally.
///
/// Not advertised: CQ_INTERRUPT_MODERATION_SUPPORTED (completions are
/// indicated from deferred work; NdkControlCqInterruptModeration returns
/// STATUS_NOT_SUPPORTED) and MULTI_ENGINE_SUPPORTED.
pub const ADAPTER_FLAGS: NdkAdapterFlags = NdkAdapterFlags::IN_ORDER_DMA_SUPPORTED
    .union(NdkAdapterFlags::RDMA_READ_SINK_NOT_REQUIRED)
    .union(NdkAdapterFlags::RDMA_READ_LOCAL_INVALIDATE_SUPPORTED)
    .union(NdkAdapterFlags::CQ_RESIZE_SUPPORTED)
    .union(NdkAdapterFlags::LOOPBACK_CONNECTIONS_SUPPORTED);

/// NDK_ADAPTER_INFO for an adapter opened at `version` (the negotiated one).
///
/// IRQL: any (pure).
pub const fn adapter_info(version: NDK_VERSION) -> NDK_ADAPTER_INFO {
    NDK_ADAPTER_INFO {
        Version: version,
        VendorId: VENDOR_ID,
        DeviceId: DEVICE_ID,
        MaxRegistrationSize: MAX_REGISTRATION_SIZE,
        MaxWindowSize: MAX_WINDOW_SIZE,
        FRMRPageCount: FRMR_PAGE_COUNT,
        MaxInitiatorRequestSge: MAX_INITIATOR_REQUEST_SGE,
        MaxReceiveRequestSge: MAX_RECEIVE_REQUEST_SGE,
        MaxReadRequestSge: MAX_READ_REQUEST_SGE,
        MaxTransferLength: MAX_TRANSFER_LENGTH,
        MaxInlineDataSize: MAX_INLINE_DATA_SIZE,
        MaxInboundReadLimit: MAX_INBOUND_READ_LIMIT,
        MaxOutboundReadLimit: MAX_OUTBOUND_READ_LIMIT,
        MaxReceiveQueueDepth: MAX_RECEIVE_QUEUE_DEPTH,
        MaxInitiatorQueueDepth: MAX_INITIATOR_QUEUE_DEPTH,
        MaxSrqDepth: MAX_SRQ_DEPTH,
        MaxCqDepth: MAX_CQ_DEPTH,
        LargeRequestThreshold: LARGE_REQUEST_THRESHOLD,
        MaxCallerData: MAX_CALLER_DATA,
        MaxCalleeData: MAX_CALLEE_DATA,
        AdapterFlags: ADAPTER_FLAGS.bits(),
        RdmaTechnology: NdkRoCEv2,
    }
}

// Relations the values must keep (checked at compile time).
const _: () = {
    assert!(FRMR_PAGE_COUNT >= 16);
    // An FRMR and a full transfer fit in one registration.
    assert!(FRMR_PAGE_COUNT as usize * PAGE_SIZE <= MAX_REGISTRATION_SIZE);
    assert!(MAX_TRANSFER_LENGTH as usize <= MAX_REGISTRATION_SIZE);
    assert!(MAX_WINDOW_SIZE <= MAX_REGISTRATION_SIZE);
    assert!(MAX_INLINE_DATA_SIZE <= MAX_TRANSFER_LENGTH);
    assert!(LARGE_REQUEST_THRESHOLD <= MAX_TRANSFER_LENGTH);
    // IB CM carries IRD/ORD in 8 bits.
    assert!(MAX_INBOUND_READ_LIMIT <= 255 && MAX_OUTBOUND_READ_LIMIT <= 255);
    // A CQ can hold at least one full QP's worth of completions.
    assert!(MAX_RECEIVE_QUEUE_DEPTH <= MAX_CQ_DEPTH);
    assert!(MAX_INITIATOR_QUEUE_DEPTH <= MAX_CQ_DEPTH);
    assert!(MAX_CALLER_DATA == 92 - 36);
    assert!(MAX_CALLEE_DATA <= 196 && MAX_CALLEE_DATA <= 148);
    // Never promise interrupt moderation we do not implement.
    assert!(!ADAPTER_FLAGS.contains(NdkAdapterFlags::CQ_INTERRUPT_MODERATION_SUPPORTED));
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{RdmaTechnology, NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED};

    #[test]
    fn info_carries_the_given_version_and_roce_v2() {
        let v = NDK_VERSION { Major: 2, Minor: 1 };
        let info = adapter_info(v);
        assert_eq!(info.Version, v);
        assert_eq!(
            RdmaTechnology::try_from(info.RdmaTechnology),
            Ok(RdmaTechnology::RoCEv2)
        );
        assert_eq!(
            info.AdapterFlags & NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED,
            NDK_ADAPTER_FLAG_LOOPBACK_CONNECTIONS_SUPPORTED
        );
        assert_eq!(
            NdkAdapterFlags::from_bits(info.AdapterFlags),
            Some(ADAPTER_FLAGS)
        );
    }
}
