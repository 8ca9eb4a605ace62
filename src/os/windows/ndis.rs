//! The NDIS 6.30 miniport declarations softroce.sys uses, written by hand
//! (no WDK on the Linux cross-build): driver characteristics, the handler
//! signatures, init/pause/restart parameters (opaque parts), adapter
//! registration and general attributes, the OID request, the fields of
//! NET_BUFFER_LIST the send path touches, the PnP event notification, the
//! configuration object/parameter and the OID, status and flag numbers.
//! The NDK pieces (provider characteristics, NDK attributes/capabilities,
//! NDK OIDs and payloads) are `crate::abi::ndis`, reused, not repeated.
//!
//! Layout sources (x64), asserted below: PDB type dumps of ndis.sys
//! (github.com/ntdiff/headers, e.g. `Win10_1709_RS3/x64/System32/ndis.sys`):
//! NDIS_MINIPORT_DRIVER_CHARACTERISTICS (0x98), NDIS_OID_REQUEST (0xF0),
//! NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES (0xE0), NET_BUFFER_LIST (`Status`
//! at 0x8C); ndis.h / learn.microsoft.com for NDIS_MINIPORT_ADAPTER_
//! REGISTRATION_ATTRIBUTES, NET_PNP_EVENT(_NOTIFICATION), NDIS_CONFIGURATION_
//! OBJECT/PARAMETER, NDIS_STATISTICS_INFO; object type numbers from ndis.h
//! (0x8A characteristics, 0x9E/0x9F attributes, 0xA9 configuration object).
//! OID numbers: ntddndis.h.
//!
//! Owns: layouts and numbers. Must not call NDIS.

#![allow(
    missing_debug_implementations,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]

use core::ffi::c_void;
use core::mem::{offset_of, size_of};

use crate::abi::{NDIS_HANDLE, NDIS_OBJECT_HEADER, NDIS_OID, NDIS_STATUS, NET_PNP_EVENT_CODE};

use super::ffi::{DRIVER_OBJECT, UNICODE_STRING};
use super::nt::BOOLEAN;

/// `NDIS_PORT_NUMBER`.
pub type NDIS_PORT_NUMBER = u32;

// --- object types and revisions (ndis.h) --------------------------------------

pub const NDIS_OBJECT_TYPE_DEFAULT: u8 = 0x80;
pub const NDIS_OBJECT_TYPE_MINIPORT_DRIVER_CHARACTERISTICS: u8 = 0x8A;
pub const NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES: u8 = 0x9E;
pub const NDIS_OBJECT_TYPE_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES: u8 = 0x9F;
pub const NDIS_OBJECT_TYPE_CONFIGURATION_OBJECT: u8 = 0xA9;

pub const NDIS_MINIPORT_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
pub const NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES_REVISION_2: u8 = 2;
pub const NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES_REVISION_2: u8 = 2;
pub const NDIS_CONFIGURATION_OBJECT_REVISION_1: u8 = 1;
pub const NET_PNP_EVENT_NOTIFICATION_REVISION_1: u8 = 1;
pub const NDIS_STATISTICS_INFO_REVISION_1: u8 = 1;

/// The NDIS version softroce registers as: 6.30 (the first with NDK).
pub const NDIS_MINIPORT_MAJOR_VERSION: u8 = 6;
pub const NDIS_MINIPORT_MINOR_VERSION: u8 = 30;

// --- statuses not in crate::abi (ndis.h: the 0xC001xxxx values are literal
// there; the NDIS 6 ones are STATUS_NDIS_* = 0xC023xxxx) -----------------------

/// `NDIS_STATUS_FAILURE` (= STATUS_UNSUCCESSFUL).
pub const NDIS_STATUS_FAILURE: u32 = 0xC000_0001;
/// `NDIS_STATUS_INVALID_LENGTH`.
pub const NDIS_STATUS_INVALID_LENGTH: u32 = 0xC001_0014;
/// `NDIS_STATUS_INVALID_DATA`.
pub const NDIS_STATUS_INVALID_DATA: u32 = 0xC001_0015;
/// `NDIS_STATUS_BUFFER_TOO_SHORT`.
pub const NDIS_STATUS_BUFFER_TOO_SHORT: u32 = 0xC001_0016;
/// `NDIS_STATUS_MULTICAST_FULL`.
pub const NDIS_STATUS_MULTICAST_FULL: u32 = 0xC001_0009;
/// `NDIS_STATUS_PAUSED` (= STATUS_NDIS_PAUSED).
pub const NDIS_STATUS_PAUSED: u32 = 0xC023_002A;
/// `NDIS_STATUS_MEDIA_DISCONNECTED` (= STATUS_NDIS_MEDIA_DISCONNECTED).
pub const NDIS_STATUS_MEDIA_DISCONNECTED: u32 = 0xC023_001F;

// --- handlers (ndis.h; all `extern "system"`) ----------------------------------

/// MINIPORT_SET_OPTIONS: PASSIVE_LEVEL.
pub type SET_OPTIONS_HANDLER = unsafe extern "system" fn(
    NdisDriverHandle: NDIS_HANDLE,
    DriverContext: NDIS_HANDLE,
) -> NDIS_STATUS;
/// MINIPORT_INITIALIZE: PASSIVE_LEVEL.
pub type MINIPORT_INITIALIZE_HANDLER = unsafe extern "system" fn(
    NdisMiniportHandle: NDIS_HANDLE,
    MiniportDriverContext: NDIS_HANDLE,
    MiniportInitParameters: *mut NDIS_MINIPORT_INIT_PARAMETERS,
) -> NDIS_STATUS;
/// MINIPORT_HALT: PASSIVE_LEVEL.
pub type MINIPORT_HALT_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, HaltAction: u32);
/// MINIPORT_UNLOAD: PASSIVE_LEVEL.
pub type MINIPORT_DRIVER_UNLOAD = unsafe extern "system" fn(DriverObject: *mut DRIVER_OBJECT);
/// MINIPORT_PAUSE: PASSIVE_LEVEL.
pub type MINIPORT_PAUSE_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    PauseParameters: *mut NDIS_MINIPORT_PAUSE_PARAMETERS,
) -> NDIS_STATUS;
/// MINIPORT_RESTART: PASSIVE_LEVEL.
pub type MINIPORT_RESTART_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    RestartParameters: *mut NDIS_MINIPORT_RESTART_PARAMETERS,
) -> NDIS_STATUS;
/// MINIPORT_OID_REQUEST: <= DISPATCH_LEVEL.
pub type MINIPORT_OID_REQUEST_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    OidRequest: *mut NDIS_OID_REQUEST,
) -> NDIS_STATUS;
/// MINIPORT_SEND_NET_BUFFER_LISTS: <= DISPATCH_LEVEL.
pub type MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferList: *mut NET_BUFFER_LIST,
    PortNumber: NDIS_PORT_NUMBER,
    SendFlags: u32,
);
/// MINIPORT_RETURN_NET_BUFFER_LISTS: <= DISPATCH_LEVEL.
pub type MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    NetBufferLists: *mut NET_BUFFER_LIST,
    ReturnFlags: u32,
);
/// MINIPORT_CANCEL_SEND: <= DISPATCH_LEVEL.
pub type MINIPORT_CANCEL_SEND_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, CancelId: *mut c_void);
/// MINIPORT_CHECK_FOR_HANG: PASSIVE_LEVEL.
pub type MINIPORT_CHECK_FOR_HANG_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE) -> BOOLEAN;
/// MINIPORT_RESET: <= DISPATCH_LEVEL.
pub type MINIPORT_RESET_HANDLER = unsafe extern "system" fn(
    MiniportAdapterContext: NDIS_HANDLE,
    AddressingReset: *mut BOOLEAN,
) -> NDIS_STATUS;
/// MINIPORT_DEVICE_PNP_EVENT_NOTIFY: PASSIVE_LEVEL.
pub type MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, NetDevicePnPEvent: *mut c_void);
/// MINIPORT_SHUTDOWN: any IRQL (PASSIVE for NdisShutdownPowerOff,
/// HIGH for NdisShutdownBugCheck).
pub type MINIPORT_SHUTDOWN_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, ShutdownAction: u32);
/// MINIPORT_CANCEL_OID_REQUEST: <= DISPATCH_LEVEL.
pub type MINIPORT_CANCEL_OID_REQUEST_HANDLER =
    unsafe extern "system" fn(MiniportAdapterContext: NDIS_HANDLE, RequestId: *mut c_void);
/// NDIS_IO_WORKITEM_ROUTINE: PASSIVE_LEVEL.
pub type NDIS_IO_WORKITEM_ROUTINE =
    unsafe extern "system" fn(WorkItemContext: *mut c_void, NdisIoWorkItemHandle: NDIS_HANDLE);

/// `NDIS_MINIPORT_DRIVER_CHARACTERISTICS`, revision 2 (NDIS 6.1+), x64 0x98.
/// Unused optional handlers are `None` (NULL).
#[repr(C)]
pub struct NDIS_MINIPORT_DRIVER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub MajorNdisVersion: u8,
    pub MinorNdisVersion: u8,
    pub MajorDriverVersion: u8,
    pub MinorDriverVersion: u8,
    pub Flags: u32,
    pub SetOptionsHandler: Option<SET_OPTIONS_HANDLER>,
    pub InitializeHandlerEx: Option<MINIPORT_INITIALIZE_HANDLER>,
    pub HaltHandlerEx: Option<MINIPORT_HALT_HANDLER>,
    pub UnloadHandler: Option<MINIPORT_DRIVER_UNLOAD>,
    pub PauseHandler: Option<MINIPORT_PAUSE_HANDLER>,
    pub RestartHandler: Option<MINIPORT_RESTART_HANDLER>,
    pub OidRequestHandler: Option<MINIPORT_OID_REQUEST_HANDLER>,
    pub SendNetBufferListsHandler: Option<MINIPORT_SEND_NET_BUFFER_LISTS_HANDLER>,
    pub ReturnNetBufferListsHandler: Option<MINIPORT_RETURN_NET_BUFFER_LISTS_HANDLER>,
    pub CancelSendHandler: Option<MINIPORT_CANCEL_SEND_HANDLER>,
    pub CheckForHangHandlerEx: Option<MINIPORT_CHECK_FOR_HANG_HANDLER>,
    pub ResetHandlerEx: Option<MINIPORT_RESET_HANDLER>,
    pub DevicePnPEventNotifyHandler: Option<MINIPORT_DEVICE_PNP_EVENT_NOTIFY_HANDLER>,
    pub ShutdownHandlerEx: Option<MINIPORT_SHUTDOWN_HANDLER>,
    pub CancelOidRequestHandler: Option<MINIPORT_CANCEL_OID_REQUEST_HANDLER>,
    pub DirectOidRequestHandler: Option<MINIPORT_OID_REQUEST_HANDLER>,
    pub CancelDirectOidRequestHandler: Option<MINIPORT_CANCEL_OID_REQUEST_HANDLER>,
}

/// `NDIS_MINIPORT_INIT_PARAMETERS` (x64 0x40, PDB type dump): NDIS owns
/// it; softroce reads only `NetLuid` (the interface the lower edge resolves
/// routes and addresses on; a root-enumerated virtual miniport has no
/// resources).
#[repr(C)]
pub struct NDIS_MINIPORT_INIT_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub AllocatedResources: *mut c_void,
    pub IMDeviceInstanceContext: NDIS_HANDLE,
    pub MiniportAddDeviceContext: NDIS_HANDLE,
    pub IfIndex: u32,
    /// `NET_LUID`.
    pub NetLuid: u64,
    pub DefaultPortAuthStates: *mut c_void,
    pub PciDeviceCustomProperties: *mut c_void,
}

/// `NDIS_MINIPORT_PAUSE_PARAMETERS` (Header, Flags, PauseReason).
#[repr(C)]
pub struct NDIS_MINIPORT_PAUSE_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    pub PauseReason: u32,
}

/// `NDIS_MINIPORT_RESTART_PARAMETERS`: only the header is read. Opaque.
#[repr(C)]
pub struct NDIS_MINIPORT_RESTART_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    _opaque: [u8; 0],
}

/// `NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES` (x64 0x20).
#[repr(C)]
pub struct NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub MiniportAdapterContext: NDIS_HANDLE,
    pub AttributeFlags: u32,
    pub CheckForHangTimeInSeconds: u32,
    /// `NDIS_INTERFACE_TYPE` (NdisInterfaceInternal = 0).
    pub InterfaceType: u32,
}

/// `NDIS_MAX_PHYS_ADDRESS_LENGTH` (= IF_MAX_PHYS_ADDRESS_LENGTH).
pub const NDIS_MAX_PHYS_ADDRESS_LENGTH: usize = 32;

/// `NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES`, revision 2 (x64 0xE0).
#[repr(C)]
pub struct NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES {
    pub Header: NDIS_OBJECT_HEADER,
    pub Flags: u32,
    /// `NDIS_MEDIUM` (NdisMedium802_3 = 0).
    pub MediaType: u32,
    /// `NDIS_PHYSICAL_MEDIUM` (NdisPhysicalMedium802_3 = 14).
    pub PhysicalMediumType: u32,
    pub MtuSize: u32,
    pub MaxXmitLinkSpeed: u64,
    pub XmitLinkSpeed: u64,
    pub MaxRcvLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    /// `NDIS_MEDIA_CONNECT_STATE`.
    pub MediaConnectState: u32,
    /// `NDIS_MEDIA_DUPLEX_STATE`.
    pub MediaDuplexState: u32,
    pub LookaheadSize: u32,
    pub PowerManagementCapabilities: *mut c_void,
    pub MacOptions: u32,
    pub SupportedPacketFilters: u32,
    pub MaxMulticastListSize: u32,
    pub MacAddressLength: u16,
    pub PermanentMacAddress: [u8; NDIS_MAX_PHYS_ADDRESS_LENGTH],
    pub CurrentMacAddress: [u8; NDIS_MAX_PHYS_ADDRESS_LENGTH],
    pub RecvScaleCapabilities: *mut c_void,
    /// `NET_IF_ACCESS_TYPE` (NET_IF_ACCESS_BROADCAST = 2).
    pub AccessType: u32,
    /// `NET_IF_DIRECTION_TYPE` (NET_IF_DIRECTION_SENDRECEIVE = 0).
    pub DirectionType: u32,
    /// `NET_IF_CONNECTION_TYPE` (NET_IF_CONNECTION_DEDICATED = 1).
    pub ConnectionType: u32,
    /// `NET_IFTYPE` (IF_TYPE_ETHERNET_CSMACD = 6).
    pub IfType: u16,
    pub IfConnectorPresent: BOOLEAN,
    pub SupportedStatistics: u32,
    pub SupportedPauseFunctions: u32,
    pub DataBackFillSize: u32,
    pub ContextBackFillSize: u32,
    pub SupportedOidList: *const NDIS_OID,
    pub SupportedOidListLength: u32,
    pub AutoNegotiationFlags: u32,
    pub PowerManagementCapabilitiesEx: *mut c_void,
}

pub const NDIS_MEDIUM_802_3: u32 = 0;
pub const NDIS_PHYSICAL_MEDIUM_802_3: u32 = 14;
pub const MEDIA_CONNECT_STATE_CONNECTED: u32 = 1;
pub const MEDIA_CONNECT_STATE_DISCONNECTED: u32 = 2;
pub const MEDIA_DUPLEX_STATE_FULL: u32 = 2;
pub const NET_IF_ACCESS_BROADCAST: u32 = 2;
pub const NET_IF_DIRECTION_SENDRECEIVE: u32 = 0;
pub const NET_IF_CONNECTION_DEDICATED: u32 = 1;
pub const IF_TYPE_ETHERNET_CSMACD: u16 = 6;
pub const NDIS_PAUSE_FUNCTIONS_UNSUPPORTED: u32 = 0;
/// `NDIS_MAC_OPTION_*` (ndis.h, OID_GEN_MAC_OPTIONS).
pub const NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA: u32 = 0x1;
pub const NDIS_MAC_OPTION_RECEIVE_SERIALIZED: u32 = 0x2;
pub const NDIS_MAC_OPTION_TRANSFERS_NOT_PEND: u32 = 0x4;
pub const NDIS_MAC_OPTION_NO_LOOPBACK: u32 = 0x8;
/// What softroce reports: not RECEIVE_SERIALIZED (a paired adapter indicates
/// receives from every processor at once); TRANSFERS_NOT_PEND, which
/// OID_GEN_MAC_OPTIONS says a miniport indicating with
/// NdisMIndicateReceiveNetBufferLists should set; NO_LOOPBACK (NDIS loops
/// back for us).
pub const SOFTROCE_MAC_OPTIONS: u32 = NDIS_MAC_OPTION_COPY_LOOKAHEAD_DATA
    | NDIS_MAC_OPTION_TRANSFERS_NOT_PEND
    | NDIS_MAC_OPTION_NO_LOOPBACK;
/// `NDIS_PACKET_TYPE_DIRECTED | MULTICAST | ALL_MULTICAST | BROADCAST`.
pub const SOFTROCE_PACKET_FILTERS: u32 = 0x1 | 0x2 | 0x4 | 0x8;
/// `NDIS_INTERFACE_TYPE::NdisInterfaceInternal`.
pub const NDIS_INTERFACE_INTERNAL: u32 = 0;

/// `NDIS_OID_REQUEST` (x64 0xF0 through `Reserved2`; NDIS 6.50+ appends
/// SwitchId/VPortId/Flags, which softroce does not read). `DATA` is the
/// QUERY/SET/METHOD union, spelled as the QUERY member plus the tail words.
#[repr(C)]
pub struct NDIS_OID_REQUEST {
    pub Header: NDIS_OBJECT_HEADER,
    /// `NDIS_REQUEST_TYPE`.
    pub RequestType: u32,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub Timeout: u32,
    pub RequestId: *mut c_void,
    pub RequestHandle: NDIS_HANDLE,
    /// QUERY/SET: Oid, METHOD: Oid.
    pub Oid: NDIS_OID,
    /// All three: InformationBuffer.
    pub InformationBuffer: *mut c_void,
    /// QUERY/SET: InformationBufferLength; METHOD: InputBufferLength.
    pub InformationBufferLength: u32,
    /// QUERY: BytesWritten; SET: BytesRead; METHOD: OutputBufferLength.
    pub BytesWrittenOrRead: u32,
    /// QUERY/SET: BytesNeeded; METHOD: MethodId.
    pub BytesNeeded: u32,
    /// METHOD only: BytesWritten, BytesRead, BytesNeeded.
    pub MethodTail: [u32; 3],
    pub NdisReserved: [u8; 128],
    pub MiniportReserved: [u8; 16],
    pub SourceReserved: [u8; 16],
    pub SupportedRevision: u8,
    pub Reserved1: u8,
    pub Reserved2: u16,
}

/// `NDIS_REQUEST_TYPE` values softroce answers.
pub const NDIS_REQUEST_QUERY_INFORMATION: u32 = 0;
pub const NDIS_REQUEST_SET_INFORMATION: u32 = 1;
pub const NDIS_REQUEST_QUERY_STATISTICS: u32 = 2;
pub const NDIS_REQUEST_METHOD: u32 = 12;

/// The `NET_BUFFER_LIST` fields the send path touches (x64). The structure
/// goes on (NetBufferListInfo[]); its length differs between NDIS versions,
/// so only the prefix through `Status` is declared and never allocated here.
#[repr(C)]
pub struct NET_BUFFER_LIST {
    pub Next: *mut NET_BUFFER_LIST,
    pub FirstNetBuffer: *mut c_void,
    pub Context: *mut c_void,
    pub ParentNetBufferList: *mut NET_BUFFER_LIST,
    pub NdisPoolHandle: NDIS_HANDLE,
    _align_hole: *mut c_void,
    pub NdisReserved: [*mut c_void; 2],
    pub ProtocolReserved: [*mut c_void; 4],
    pub MiniportReserved: [*mut c_void; 2],
    pub Scratch: *mut c_void,
    pub SourceHandle: NDIS_HANDLE,
    pub NblFlags: u32,
    pub ChildRefCount: i32,
    pub Flags: u32,
    pub Status: NDIS_STATUS,
}

/// `NDIS_SEND_FLAGS_DISPATCH_LEVEL`.
pub const NDIS_SEND_FLAGS_DISPATCH_LEVEL: u32 = 0x1;
/// `NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL`.
pub const NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL: u32 = 0x1;

/// `NET_PNP_EVENT` (x64 0x98).
#[repr(C)]
pub struct NET_PNP_EVENT {
    pub NetEvent: NET_PNP_EVENT_CODE,
    pub Buffer: *mut c_void,
    pub BufferLength: u32,
    pub NdisReserved: [usize; 4],
    pub TransportReserved: [usize; 4],
    pub TdiReserved: [usize; 4],
    pub TdiClientReserved: [usize; 4],
}

/// `NET_PNP_EVENT_NOTIFICATION` (revision 1), what `NdisMNetPnPEvent`
/// takes. `Header.Size` is NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1
/// = through `Flags` (0xA4; NdisMNetPnPEvent rejects less). NDIS 6.50's
/// revision 2 appends SwitchId and VPortId (not used: no vPorts).
#[repr(C)]
pub struct NET_PNP_EVENT_NOTIFICATION {
    pub Header: NDIS_OBJECT_HEADER,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub NetPnPEvent: NET_PNP_EVENT,
    /// Reserved for NDIS except NET_EVENT_FLAGS_VPORT_ID_VALID: 0.
    pub Flags: u32,
}

/// NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1.
pub const NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1: u16 =
    (offset_of!(NET_PNP_EVENT_NOTIFICATION, Flags) + 4) as u16;

/// `NDIS_CONFIGURATION_OBJECT` (x64 0x18; `Header.Size` is the size through
/// `Flags`, 0x14 = NDIS_SIZEOF_CONFIGURATION_OBJECT_REVISION_1).
#[repr(C)]
pub struct NDIS_CONFIGURATION_OBJECT {
    pub Header: NDIS_OBJECT_HEADER,
    pub NdisHandle: NDIS_HANDLE,
    pub Flags: u32,
}

/// `NDIS_PARAMETER_TYPE` values.
pub const NDIS_PARAMETER_INTEGER: u32 = 0;
pub const NDIS_PARAMETER_HEX_INTEGER: u32 = 1;
pub const NDIS_PARAMETER_STRING: u32 = 2;

/// `NDIS_CONFIGURATION_PARAMETER` (x64 0x18): the type, then a union of
/// `ULONG IntegerData`, `NDIS_STRING StringData` and binary data. The union
/// is read as the string (its first 4 bytes are the integer).
#[repr(C)]
pub struct NDIS_CONFIGURATION_PARAMETER {
    pub ParameterType: u32,
    pub StringData: UNICODE_STRING,
}

impl NDIS_CONFIGURATION_PARAMETER {
    /// `ParameterData.IntegerData`: the union's first four bytes.
    ///
    /// IRQL: any.
    pub fn integer(&self) -> u32 {
        u32::from(self.StringData.Length) | (u32::from(self.StringData.MaximumLength) << 16)
    }
}

/// `NDIS_STATISTICS_INFO` (revision 1, 0x98): header, supported flags and
/// 18 RFC 2863 counters.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NDIS_STATISTICS_INFO {
    pub Header: NDIS_OBJECT_HEADER,
    pub SupportedStatistics: u32,
    pub ifInDiscards: u64,
    pub ifInErrors: u64,
    pub ifHCInOctets: u64,
    pub ifHCInUcastPkts: u64,
    pub ifHCInMulticastPkts: u64,
    pub ifHCInBroadcastPkts: u64,
    pub ifHCOutOctets: u64,
    pub ifHCOutUcastPkts: u64,
    pub ifHCOutMulticastPkts: u64,
    pub ifHCOutBroadcastPkts: u64,
    pub ifOutErrors: u64,
    pub ifOutDiscards: u64,
    pub ifHCInUcastOctets: u64,
    pub ifHCInMulticastOctets: u64,
    pub ifHCInBroadcastOctets: u64,
    pub ifHCOutUcastOctets: u64,
    pub ifHCOutMulticastOctets: u64,
    pub ifHCOutBroadcastOctets: u64,
}

/// `NDIS_STATISTICS_FLAGS_VALID_*` (ntddndis.h) of the counters softroce
/// reports truthfully: DIRECTED_FRAMES_RCV 0x1 and BYTES_RCV 0x8 (always 0:
/// nothing is ever indicated up), DIRECTED_FRAMES_XMIT 0x40 and BYTES_XMIT
/// 0x200 (always 0: nothing is transmitted), XMIT_DISCARDS 0x8000 (every
/// frame the stack sends, see `miniport::datapath`).
pub const SOFTROCE_SUPPORTED_STATISTICS: u32 = 0x1 | 0x8 | 0x40 | 0x200 | 0x8000;

// --- OIDs (ntddndis.h) ---------------------------------------------------------

pub const OID_GEN_SUPPORTED_LIST: NDIS_OID = 0x0001_0101;
pub const OID_GEN_HARDWARE_STATUS: NDIS_OID = 0x0001_0102;
pub const OID_GEN_MEDIA_SUPPORTED: NDIS_OID = 0x0001_0103;
pub const OID_GEN_MEDIA_IN_USE: NDIS_OID = 0x0001_0104;
pub const OID_GEN_MAXIMUM_LOOKAHEAD: NDIS_OID = 0x0001_0105;
pub const OID_GEN_MAXIMUM_FRAME_SIZE: NDIS_OID = 0x0001_0106;
pub const OID_GEN_LINK_SPEED: NDIS_OID = 0x0001_0107;
pub const OID_GEN_TRANSMIT_BUFFER_SPACE: NDIS_OID = 0x0001_0108;
pub const OID_GEN_RECEIVE_BUFFER_SPACE: NDIS_OID = 0x0001_0109;
pub const OID_GEN_TRANSMIT_BLOCK_SIZE: NDIS_OID = 0x0001_010A;
pub const OID_GEN_RECEIVE_BLOCK_SIZE: NDIS_OID = 0x0001_010B;
pub const OID_GEN_VENDOR_ID: NDIS_OID = 0x0001_010C;
pub const OID_GEN_VENDOR_DESCRIPTION: NDIS_OID = 0x0001_010D;
pub const OID_GEN_CURRENT_PACKET_FILTER: NDIS_OID = 0x0001_010E;
pub const OID_GEN_CURRENT_LOOKAHEAD: NDIS_OID = 0x0001_010F;
pub const OID_GEN_DRIVER_VERSION: NDIS_OID = 0x0001_0110;
pub const OID_GEN_MAXIMUM_TOTAL_SIZE: NDIS_OID = 0x0001_0111;
pub const OID_GEN_MAC_OPTIONS: NDIS_OID = 0x0001_0113;
pub const OID_GEN_MEDIA_CONNECT_STATUS: NDIS_OID = 0x0001_0114;
pub const OID_GEN_MAXIMUM_SEND_PACKETS: NDIS_OID = 0x0001_0115;
pub const OID_GEN_VENDOR_DRIVER_VERSION: NDIS_OID = 0x0001_0116;
pub const OID_GEN_NETWORK_LAYER_ADDRESSES: NDIS_OID = 0x0001_0118;
pub const OID_GEN_PHYSICAL_MEDIUM: NDIS_OID = 0x0001_0202;
pub const OID_GEN_LINK_PARAMETERS: NDIS_OID = 0x0001_0208;
pub const OID_GEN_INTERRUPT_MODERATION: NDIS_OID = 0x0001_0209;
pub const OID_GEN_XMIT_OK: NDIS_OID = 0x0002_0101;
pub const OID_GEN_RCV_OK: NDIS_OID = 0x0002_0102;
pub const OID_GEN_XMIT_ERROR: NDIS_OID = 0x0002_0103;
pub const OID_GEN_RCV_ERROR: NDIS_OID = 0x0002_0104;
pub const OID_GEN_RCV_NO_BUFFER: NDIS_OID = 0x0002_0105;
pub const OID_GEN_STATISTICS: NDIS_OID = 0x0002_0106;
pub const OID_802_3_PERMANENT_ADDRESS: NDIS_OID = 0x0101_0101;
pub const OID_802_3_CURRENT_ADDRESS: NDIS_OID = 0x0101_0102;
pub const OID_802_3_MULTICAST_LIST: NDIS_OID = 0x0101_0103;
pub const OID_802_3_MAXIMUM_LIST_SIZE: NDIS_OID = 0x0101_0104;
pub const OID_802_3_RCV_ERROR_ALIGNMENT: NDIS_OID = 0x0102_0101;
pub const OID_802_3_XMIT_ONE_COLLISION: NDIS_OID = 0x0102_0102;
pub const OID_802_3_XMIT_MORE_COLLISIONS: NDIS_OID = 0x0102_0103;
pub const OID_PNP_SET_POWER: NDIS_OID = 0xFD01_0101;
pub const OID_PNP_QUERY_POWER: NDIS_OID = 0xFD01_0102;

const _: () = {
    type C = NDIS_MINIPORT_DRIVER_CHARACTERISTICS;
    assert!(offset_of!(C, Flags) == 0x08);
    assert!(offset_of!(C, SetOptionsHandler) == 0x10);
    assert!(offset_of!(C, InitializeHandlerEx) == 0x18);
    assert!(offset_of!(C, HaltHandlerEx) == 0x20);
    assert!(offset_of!(C, UnloadHandler) == 0x28);
    assert!(offset_of!(C, PauseHandler) == 0x30);
    assert!(offset_of!(C, RestartHandler) == 0x38);
    assert!(offset_of!(C, OidRequestHandler) == 0x40);
    assert!(offset_of!(C, SendNetBufferListsHandler) == 0x48);
    assert!(offset_of!(C, ReturnNetBufferListsHandler) == 0x50);
    assert!(offset_of!(C, CancelSendHandler) == 0x58);
    assert!(offset_of!(C, CheckForHangHandlerEx) == 0x60);
    assert!(offset_of!(C, ResetHandlerEx) == 0x68);
    assert!(offset_of!(C, DevicePnPEventNotifyHandler) == 0x70);
    assert!(offset_of!(C, ShutdownHandlerEx) == 0x78);
    assert!(offset_of!(C, CancelOidRequestHandler) == 0x80);
    assert!(offset_of!(C, DirectOidRequestHandler) == 0x88);
    assert!(offset_of!(C, CancelDirectOidRequestHandler) == 0x90);
    assert!(size_of::<C>() == 0x98);

    type I = NDIS_MINIPORT_INIT_PARAMETERS;
    assert!(offset_of!(I, AllocatedResources) == 0x08);
    assert!(offset_of!(I, IfIndex) == 0x20);
    assert!(offset_of!(I, NetLuid) == 0x28);
    assert!(offset_of!(I, PciDeviceCustomProperties) == 0x38);
    assert!(size_of::<I>() == 0x40);

    type R = NDIS_MINIPORT_ADAPTER_REGISTRATION_ATTRIBUTES;
    assert!(offset_of!(R, MiniportAdapterContext) == 0x08);
    assert!(offset_of!(R, AttributeFlags) == 0x10);
    assert!(offset_of!(R, CheckForHangTimeInSeconds) == 0x14);
    assert!(offset_of!(R, InterfaceType) == 0x18);
    assert!(size_of::<R>() == 0x20);

    type G = NDIS_MINIPORT_ADAPTER_GENERAL_ATTRIBUTES;
    assert!(offset_of!(G, MediaType) == 0x08);
    assert!(offset_of!(G, MtuSize) == 0x10);
    assert!(offset_of!(G, MaxXmitLinkSpeed) == 0x18);
    assert!(offset_of!(G, RcvLinkSpeed) == 0x30);
    assert!(offset_of!(G, MediaConnectState) == 0x38);
    assert!(offset_of!(G, LookaheadSize) == 0x40);
    assert!(offset_of!(G, PowerManagementCapabilities) == 0x48);
    assert!(offset_of!(G, MacOptions) == 0x50);
    assert!(offset_of!(G, MaxMulticastListSize) == 0x58);
    assert!(offset_of!(G, MacAddressLength) == 0x5C);
    assert!(offset_of!(G, PermanentMacAddress) == 0x5E);
    assert!(offset_of!(G, CurrentMacAddress) == 0x7E);
    assert!(offset_of!(G, RecvScaleCapabilities) == 0xA0);
    assert!(offset_of!(G, AccessType) == 0xA8);
    assert!(offset_of!(G, IfType) == 0xB4);
    assert!(offset_of!(G, IfConnectorPresent) == 0xB6);
    assert!(offset_of!(G, SupportedStatistics) == 0xB8);
    assert!(offset_of!(G, SupportedOidList) == 0xC8);
    assert!(offset_of!(G, SupportedOidListLength) == 0xD0);
    assert!(offset_of!(G, AutoNegotiationFlags) == 0xD4);
    assert!(offset_of!(G, PowerManagementCapabilitiesEx) == 0xD8);
    assert!(size_of::<G>() == 0xE0);

    type O = NDIS_OID_REQUEST;
    assert!(offset_of!(O, RequestType) == 0x04);
    assert!(offset_of!(O, PortNumber) == 0x08);
    assert!(offset_of!(O, RequestId) == 0x10);
    assert!(offset_of!(O, RequestHandle) == 0x18);
    assert!(offset_of!(O, Oid) == 0x20);
    assert!(offset_of!(O, InformationBuffer) == 0x28);
    assert!(offset_of!(O, InformationBufferLength) == 0x30);
    assert!(offset_of!(O, BytesWrittenOrRead) == 0x34);
    assert!(offset_of!(O, BytesNeeded) == 0x38);
    assert!(offset_of!(O, NdisReserved) == 0x48);
    assert!(offset_of!(O, MiniportReserved) == 0xC8);
    assert!(offset_of!(O, SourceReserved) == 0xD8);
    assert!(offset_of!(O, SupportedRevision) == 0xE8);
    assert!(size_of::<O>() == 0xF0);

    type N = NET_BUFFER_LIST;
    assert!(offset_of!(N, FirstNetBuffer) == 0x08);
    assert!(offset_of!(N, Context) == 0x10);
    assert!(offset_of!(N, NdisPoolHandle) == 0x20);
    assert!(offset_of!(N, NdisReserved) == 0x30);
    assert!(offset_of!(N, ProtocolReserved) == 0x40);
    assert!(offset_of!(N, MiniportReserved) == 0x60);
    assert!(offset_of!(N, SourceHandle) == 0x78);
    assert!(offset_of!(N, NblFlags) == 0x80);
    assert!(offset_of!(N, Flags) == 0x88);
    assert!(offset_of!(N, Status) == 0x8C);

    assert!(offset_of!(NET_PNP_EVENT, Buffer) == 0x08);
    assert!(offset_of!(NET_PNP_EVENT, BufferLength) == 0x10);
    assert!(offset_of!(NET_PNP_EVENT, NdisReserved) == 0x18);
    assert!(size_of::<NET_PNP_EVENT>() == 0x98);
    assert!(offset_of!(NET_PNP_EVENT_NOTIFICATION, PortNumber) == 0x04);
    assert!(offset_of!(NET_PNP_EVENT_NOTIFICATION, NetPnPEvent) == 0x08);
    assert!(offset_of!(NET_PNP_EVENT_NOTIFICATION, Flags) == 0xA0);
    assert!(NDIS_SIZEOF_NET_PNP_EVENT_NOTIFICATION_REVISION_1 == 0xA4);

    assert!(offset_of!(NDIS_CONFIGURATION_OBJECT, NdisHandle) == 0x08);
    assert!(size_of::<NDIS_CONFIGURATION_OBJECT>() == 0x18);
    assert!(offset_of!(NDIS_CONFIGURATION_PARAMETER, StringData) == 0x08);
    assert!(size_of::<NDIS_CONFIGURATION_PARAMETER>() == 0x18);

    assert!(offset_of!(NDIS_STATISTICS_INFO, ifInDiscards) == 0x08);
    assert!(offset_of!(NDIS_STATISTICS_INFO, ifOutDiscards) == 0x08 + 11 * 8);
    assert!(size_of::<NDIS_STATISTICS_INFO>() == 0x98);
};
