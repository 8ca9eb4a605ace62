//! The NDIS side of NDK (ndis.h / ndisndk.h / ntddndis.h, facts §7): provider
//! characteristics, the open/close handlers, adapter NDK attributes and
//! capabilities, the NDK OIDs and their payloads, and the NDK PnP events.
//! Owns layouts and numbers; the Windows glue in `os::windows` fills them.

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::adapter_info::NDK_ADAPTER_INFO;
use super::dispatch::NDK_ADAPTER;
use super::sockaddr::SOCKADDR_INET;
use super::status::NDIS_STATUS;
use super::types::{BOOLEAN, NDK_VERSION, UCHAR, ULONG, USHORT};

pub type NDIS_HANDLE = *mut c_void;
pub type NDIS_OID = ULONG;
pub type NDIS_NIC_SWITCH_ID = ULONG;
pub type NDIS_NIC_SWITCH_VPORT_ID = ULONG;

/// The common NDIS structure header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct NDIS_OBJECT_HEADER {
    pub Type: UCHAR,
    pub Revision: UCHAR,
    pub Size: USHORT,
}
const_assert_eq!(size_of::<NDIS_OBJECT_HEADER>(), 4);
const_assert_eq!(offset_of!(NDIS_OBJECT_HEADER, Revision), 1);
const_assert_eq!(offset_of!(NDIS_OBJECT_HEADER, Size), 2);

pub const NDIS_OBJECT_TYPE_DEFAULT: UCHAR = 0x80;
pub const NDIS_OBJECT_TYPE_NDK_PROVIDER_CHARACTERISTICS: UCHAR = 0xB2;
pub const NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_NDK_ATTRIBUTES: UCHAR = 0xB3;

pub const NDIS_NDK_PROVIDER_CHARACTERISTICS_REVISION_1: UCHAR = 1;
pub const NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES_REVISION_1: UCHAR = 1;
pub const NDIS_NDK_CAPABILITIES_REVISION_1: UCHAR = 1;
pub const NDIS_NDK_STATISTICS_INFO_REVISION_1: UCHAR = 1;
pub const NDIS_NDK_CONNECTIONS_REVISION_1: UCHAR = 1;
pub const NDIS_NDK_LOCAL_ENDPOINTS_REVISION_1: UCHAR = 1;

/// OPEN_NDK_ADAPTER_HANDLER: PASSIVE_LEVEL. Returns SUCCESS, BAD_VERSION,
/// ADAPTER_NOT_READY (NDK disabled) or RESOURCES.
pub type OPEN_NDK_ADAPTER_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    Parameters: *mut NDIS_OPEN_NDK_ADAPTER_PARAMETERS,
    ppNdkAdapter: *mut *mut NDK_ADAPTER,
) -> NDIS_STATUS;
/// CLOSE_NDK_ADAPTER_HANDLER: PASSIVE_LEVEL, blocking until every callback on
/// every descendant object has returned.
pub type CLOSE_NDK_ADAPTER_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, pNdkAdapter: *mut NDK_ADAPTER);

/// Registered from MiniportSetOptions with NdisSetOptionalHandlers.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_PROVIDER_CHARACTERISTICS {
    /// Type 0xB2, Revision 1, Size = bytes through CloseNDKAdapterHandler.
    pub Header: NDIS_OBJECT_HEADER,
    /// Reserved, 0.
    pub Flags: ULONG,
    pub OpenNDKAdapterHandler: OPEN_NDK_ADAPTER_HANDLER,
    pub CloseNDKAdapterHandler: CLOSE_NDK_ADAPTER_HANDLER,
}
const_assert_eq!(offset_of!(NDIS_NDK_PROVIDER_CHARACTERISTICS, Flags), 4);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDIS_NDK_PROVIDER_CHARACTERISTICS, OpenNDKAdapterHandler) == 8);
    assert!(offset_of!(NDIS_NDK_PROVIDER_CHARACTERISTICS, CloseNDKAdapterHandler) == 0x10);
    assert!(size_of::<NDIS_NDK_PROVIDER_CHARACTERISTICS>() == 0x18);
};

/// What NDIS passes to the open handler. No NDIS_OBJECT_HEADER: the PDB
/// layouts (v1607..Win11) put Version at offset 0 and the size at 0xC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct NDIS_OPEN_NDK_ADAPTER_PARAMETERS {
    /// Major and the *lowest* Minor the consumer can use.
    pub Version: NDK_VERSION,
    /// NDIS 6.50+: the NIC switch and vPort (NDK mode 2).
    pub SwitchId: NDIS_NIC_SWITCH_ID,
    pub VPortId: NDIS_NIC_SWITCH_VPORT_ID,
}
const_assert_eq!(offset_of!(NDIS_OPEN_NDK_ADAPTER_PARAMETERS, Version), 0);
const_assert_eq!(offset_of!(NDIS_OPEN_NDK_ADAPTER_PARAMETERS, SwitchId), 4);
const_assert_eq!(offset_of!(NDIS_OPEN_NDK_ADAPTER_PARAMETERS, VPortId), 8);
const_assert_eq!(size_of::<NDIS_OPEN_NDK_ADAPTER_PARAMETERS>(), 0xC);

/// Per-adapter limits reported with the NDK attributes.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_CAPABILITIES {
    /// Type NDIS_OBJECT_TYPE_DEFAULT, Revision 1.
    pub Header: NDIS_OBJECT_HEADER,
    /// Undocumented; 0.
    pub Flags: ULONG,
    pub MaxQpCount: ULONG,
    pub MaxCqCount: ULONG,
    pub MaxMrCount: ULONG,
    pub MaxPdCount: ULONG,
    /// Adapter-wide; 0 = none.
    pub MaxInboundReadLimit: ULONG,
    pub MaxOutboundReadLimit: ULONG,
    pub MaxMwCount: ULONG,
    pub MaxSrqCount: ULONG,
    /// One bit per unsupported performance counter.
    pub MissingCounterMask: u64,
    pub NdkInfo: *mut NDK_ADAPTER_INFO,
}
#[cfg(target_pointer_width = "64")]
const _: () = {
    type C = NDIS_NDK_CAPABILITIES;
    assert!(offset_of!(C, Header) == 0x00);
    assert!(offset_of!(C, Flags) == 0x04);
    assert!(offset_of!(C, MaxQpCount) == 0x08);
    assert!(offset_of!(C, MaxCqCount) == 0x0C);
    assert!(offset_of!(C, MaxMrCount) == 0x10);
    assert!(offset_of!(C, MaxPdCount) == 0x14);
    assert!(offset_of!(C, MaxInboundReadLimit) == 0x18);
    assert!(offset_of!(C, MaxOutboundReadLimit) == 0x1C);
    assert!(offset_of!(C, MaxMwCount) == 0x20);
    assert!(offset_of!(C, MaxSrqCount) == 0x24);
    assert!(offset_of!(C, MissingCounterMask) == 0x28);
    assert!(offset_of!(C, NdkInfo) == 0x30);
    assert!(size_of::<C>() == 0x38);
};

/// Reported from MiniportInitializeEx even when NDK is disabled.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES {
    /// Type 0xB3, Revision 1.
    pub Header: NDIS_OBJECT_HEADER,
    pub Enabled: BOOLEAN,
    pub NdkCapabilities: *mut NDIS_NDK_CAPABILITIES,
}
const_assert_eq!(offset_of!(NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES, Enabled), 4);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES, NdkCapabilities) == 8);
    assert!(size_of::<NDIS_MINIPORT_ADAPTER_NDK_ATTRIBUTES>() == 0x10);
};

// --- OIDs --------------------------------------------------------------------

/// Set; buffer = BOOLEAN. Must succeed synchronously.
pub const OID_NDK_SET_STATE: NDIS_OID = 0xFC04_0201;
/// Query; NDIS_NDK_STATISTICS_INFO.
pub const OID_NDK_STATISTICS: NDIS_OID = 0xFC04_0202;
/// Query; NDIS_NDK_CONNECTIONS.
pub const OID_NDK_CONNECTIONS: NDIS_OID = 0xFC04_0203;
/// Query; NDIS_NDK_LOCAL_ENDPOINTS.
pub const OID_NDK_LOCAL_ENDPOINTS: NDIS_OID = 0xFC04_0204;

/// The NDK counter set (all `u64`, in this order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct NDIS_NDK_PERFORMANCE_COUNTERS {
    pub Connect: u64,
    pub Accept: u64,
    pub ConnectFailure: u64,
    pub ConnectionError: u64,
    pub ActiveConnection: u64,
    pub Reserved01: u64,
    pub Reserved02: u64,
    pub Reserved03: u64,
    pub Reserved04: u64,
    pub Reserved05: u64,
    pub Reserved06: u64,
    pub Reserved07: u64,
    pub Reserved08: u64,
    pub Reserved09: u64,
    pub Reserved10: u64,
    pub Reserved11: u64,
    pub Reserved12: u64,
    pub Reserved13: u64,
    pub Reserved14: u64,
    pub Reserved15: u64,
    pub Reserved16: u64,
    pub Reserved17: u64,
    pub Reserved18: u64,
    pub Reserved19: u64,
    pub Reserved20: u64,
    pub CQError: u64,
    pub RDMAInOctets: u64,
    pub RDMAOutOctets: u64,
    pub RDMAInFrames: u64,
    pub RDMAOutFrames: u64,
}
const _: () = {
    type P = NDIS_NDK_PERFORMANCE_COUNTERS;
    assert!(size_of::<P>() == 30 * 8);
    assert!(offset_of!(P, ActiveConnection) == 4 * 8);
    assert!(offset_of!(P, Reserved01) == 5 * 8);
    assert!(offset_of!(P, Reserved20) == 24 * 8);
    assert!(offset_of!(P, CQError) == 25 * 8);
    assert!(offset_of!(P, RDMAOutFrames) == 29 * 8);
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct NDIS_NDK_STATISTICS_INFO {
    /// Revision 1.
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub CounterSet: NDIS_NDK_PERFORMANCE_COUNTERS,
}
const_assert_eq!(offset_of!(NDIS_NDK_STATISTICS_INFO, Flags), 4);
const_assert_eq!(offset_of!(NDIS_NDK_STATISTICS_INFO, CounterSet), 8);
const_assert_eq!(size_of::<NDIS_NDK_STATISTICS_INFO>(), 8 + 240);

/// One active connection.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_CONNECTION_ENTRY {
    pub Local: SOCKADDR_INET,
    pub Remote: SOCKADDR_INET,
    pub UserModeOwner: BOOLEAN,
    pub OwnerPid: ULONG,
}
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTION_ENTRY, Local), 0);
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTION_ENTRY, Remote), 28);
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTION_ENTRY, UserModeOwner), 56);
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTION_ENTRY, OwnerPid), 60);
const_assert_eq!(size_of::<NDIS_NDK_CONNECTION_ENTRY>(), 64);

/// `Connections[1]` as in the header (ANYSIZE_ARRAY): `Count` entries follow
/// from `Connections`; size with [`ndis_sizeof_ndk_connections`].
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_CONNECTIONS {
    /// Revision 1; Size = min(MAXUSHORT, total bytes).
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub Count: ULONG,
    /// TRUE only for iWARP, where ND connections map to TCP connections.
    pub NDConnectionsMappedtoTCPConnections: BOOLEAN,
    pub Connections: [NDIS_NDK_CONNECTION_ENTRY; 1],
}
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTIONS, Flags), 4);
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTIONS, Count), 8);
const_assert_eq!(
    offset_of!(NDIS_NDK_CONNECTIONS, NDConnectionsMappedtoTCPConnections),
    12
);
const_assert_eq!(offset_of!(NDIS_NDK_CONNECTIONS, Connections), 16);
const_assert_eq!(size_of::<NDIS_NDK_CONNECTIONS>(), 16 + 64);

/// One listener or shared endpoint.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_LOCAL_ENDPOINT_ENTRY {
    pub Local: SOCKADDR_INET,
    pub UserModeOwner: BOOLEAN,
    pub Listener: BOOLEAN,
    pub OwnerPid: ULONG,
}
const_assert_eq!(offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, UserModeOwner), 28);
const_assert_eq!(offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Listener), 29);
const_assert_eq!(offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, OwnerPid), 32);
const_assert_eq!(size_of::<NDIS_NDK_LOCAL_ENDPOINT_ENTRY>(), 36);

/// `LocalEndpoints[1]` as in the header; size with
/// [`ndis_sizeof_ndk_local_endpoints`].
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDIS_NDK_LOCAL_ENDPOINTS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: ULONG,
    pub Count: ULONG,
    pub NDLocalEndpointsMappedtoTCPLocalEndpoints: BOOLEAN,
    pub LocalEndpoints: [NDIS_NDK_LOCAL_ENDPOINT_ENTRY; 1],
}
const_assert_eq!(offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, Count), 8);
const_assert_eq!(
    offset_of!(
        NDIS_NDK_LOCAL_ENDPOINTS,
        NDLocalEndpointsMappedtoTCPLocalEndpoints
    ),
    12
);
const_assert_eq!(offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, LocalEndpoints), 16);
const_assert_eq!(size_of::<NDIS_NDK_LOCAL_ENDPOINTS>(), 16 + 36);

/// Bytes of an NDIS_NDK_CONNECTIONS with `count` entries, or `None` on overflow.
pub const fn ndis_sizeof_ndk_connections(count: u32) -> Option<usize> {
    match (count as usize).checked_mul(size_of::<NDIS_NDK_CONNECTION_ENTRY>()) {
        Some(n) => offset_of!(NDIS_NDK_CONNECTIONS, Connections).checked_add(n),
        None => None,
    }
}

/// Bytes of an NDIS_NDK_LOCAL_ENDPOINTS with `count` entries, or `None` on overflow.
pub const fn ndis_sizeof_ndk_local_endpoints(count: u32) -> Option<usize> {
    match (count as usize).checked_mul(size_of::<NDIS_NDK_LOCAL_ENDPOINT_ENTRY>()) {
        Some(n) => offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, LocalEndpoints).checked_add(n),
        None => None,
    }
}

// --- PnP events --------------------------------------------------------------

/// NET_PNP_EVENT_CODE (a C enum).
pub type NET_PNP_EVENT_CODE = u32;
/// Signalled with NdisMNetPnPEvent (from a work item, never inside the OID handler).
#[allow(non_upper_case_globals)]
pub const NetEventNDKEnable: NET_PNP_EVENT_CODE = 13;
/// Makes NDIS and upper drivers close every NDK_ADAPTER; pends until they have.
#[allow(non_upper_case_globals)]
pub const NetEventNDKDisable: NET_PNP_EVENT_CODE = 14;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_sized_payloads() {
        assert_eq!(ndis_sizeof_ndk_connections(0), Some(16));
        assert_eq!(ndis_sizeof_ndk_connections(2), Some(16 + 128));
        assert_eq!(ndis_sizeof_ndk_local_endpoints(3), Some(16 + 108));
        #[cfg(target_pointer_width = "64")]
        assert_eq!(
            ndis_sizeof_ndk_connections(u32::MAX),
            Some(16 + 64 * u32::MAX as usize)
        );
    }
}
