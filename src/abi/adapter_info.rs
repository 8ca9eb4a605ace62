//! NDK_ADAPTER_INFO (ndkinfo.h, facts §2.11): what NdkQueryAdapterInfo
//! returns. Owns the layout; the values live in `ndk::limits`.

use core::mem::{offset_of, size_of};

use super::enums::NDK_RDMA_TECHNOLOGY;
use super::types::{NDK_VERSION, SIZE_T, ULONG};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct NDK_ADAPTER_INFO {
    /// The negotiated NDK version.
    pub Version: NDK_VERSION,
    /// Vendor OUI.
    pub VendorId: ULONG,
    pub DeviceId: ULONG,
    /// Largest single memory registration, bytes.
    pub MaxRegistrationSize: SIZE_T,
    /// Largest memory window, bytes.
    pub MaxWindowSize: SIZE_T,
    /// FRMR size in pages that gives the best FRMR count (>= 16).
    pub FRMRPageCount: ULONG,
    pub MaxInitiatorRequestSge: ULONG,
    pub MaxReceiveRequestSge: ULONG,
    /// Overrides MaxInitiatorRequestSge for reads.
    pub MaxReadRequestSge: ULONG,
    /// Largest total of one send/receive/read/write, bytes.
    pub MaxTransferLength: ULONG,
    pub MaxInlineDataSize: ULONG,
    /// Per-QP incoming in-flight reads (IRD).
    pub MaxInboundReadLimit: ULONG,
    /// Per-QP outgoing in-flight reads (ORD).
    pub MaxOutboundReadLimit: ULONG,
    pub MaxReceiveQueueDepth: ULONG,
    pub MaxInitiatorQueueDepth: ULONG,
    /// 0 = no SRQ support.
    pub MaxSrqDepth: ULONG,
    pub MaxCqDepth: ULONG,
    /// Hint: above this size read/write beats send/receive.
    pub LargeRequestThreshold: ULONG,
    /// Private data bytes in a connect request.
    pub MaxCallerData: ULONG,
    /// Private data bytes in an accept or reject.
    pub MaxCalleeData: ULONG,
    /// NDK_ADAPTER_FLAG_*.
    pub AdapterFlags: ULONG,
    pub RdmaTechnology: NDK_RDMA_TECHNOLOGY,
}

#[cfg(target_pointer_width = "64")]
const _: () = {
    type I = NDK_ADAPTER_INFO;
    assert!(size_of::<I>() == 0x68);
    assert!(offset_of!(I, Version) == 0x00);
    assert!(offset_of!(I, VendorId) == 0x04);
    assert!(offset_of!(I, DeviceId) == 0x08);
    assert!(offset_of!(I, MaxRegistrationSize) == 0x10);
    assert!(offset_of!(I, MaxWindowSize) == 0x18);
    assert!(offset_of!(I, FRMRPageCount) == 0x20);
    assert!(offset_of!(I, MaxInitiatorRequestSge) == 0x24);
    assert!(offset_of!(I, MaxReceiveRequestSge) == 0x28);
    assert!(offset_of!(I, MaxReadRequestSge) == 0x2C);
    assert!(offset_of!(I, MaxTransferLength) == 0x30);
    assert!(offset_of!(I, MaxInlineDataSize) == 0x34);
    assert!(offset_of!(I, MaxInboundReadLimit) == 0x38);
    assert!(offset_of!(I, MaxOutboundReadLimit) == 0x3C);
    assert!(offset_of!(I, MaxReceiveQueueDepth) == 0x40);
    assert!(offset_of!(I, MaxInitiatorQueueDepth) == 0x44);
    assert!(offset_of!(I, MaxSrqDepth) == 0x48);
    assert!(offset_of!(I, MaxCqDepth) == 0x4C);
    assert!(offset_of!(I, LargeRequestThreshold) == 0x50);
    assert!(offset_of!(I, MaxCallerData) == 0x54);
    assert!(offset_of!(I, MaxCalleeData) == 0x58);
    assert!(offset_of!(I, AdapterFlags) == 0x5C);
    assert!(offset_of!(I, RdmaTechnology) == 0x60);
};
