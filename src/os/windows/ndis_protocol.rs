//! The NDIS 6.30 protocol-driver declarations of softroce's lower edge
//! (`os::windows::lower`), written by hand for the Linux cross-build:
//! the protocol characteristics and handler signatures, the bind/open
//! parameters, the status indication and link state, NET_BUFFER (the
//! fields the data path reads and writes), the NET_BUFFER_LIST pool
//! parameters and the NetBufferListInfo slots used, and the flag/status
//! numbers. The miniport declarations are `ndis.rs` (NET_BUFFER_LIST,
//! NDIS_OID_REQUEST, NET_PNP_EVENT_NOTIFICATION are reused from there).
//!
//! Layout sources (x64), asserted below:
//! - NDIS_PROTOCOL_DRIVER_CHARACTERISTICS (0x80) and NDIS_BIND_PARAMETERS
//!   (through HDSplitCurrentConfig, 0x100: revision 2, NDIS 6.1; revision 1
//!   ends after BoundAdapterName, 0xF8): PDB type dumps of ndis.sys
//!   (github.com/ntdiff/headers, Win10 x64).
//! - NDIS_STATUS_INDICATION (0x70): ndis.h; ndis.sys code initialises its
//!   header as 0x00700198 (type 0x98, revision 1, size 0x70).
//! - NDIS_OPEN_PARAMETERS, NET_BUFFER_LIST_POOL_PARAMETERS, NDIS_LINK_STATE,
//!   NET_BUFFER (the NET_BUFFER_DATA prefix): ndis.h / learn.microsoft.com
//!   field lists with x64 natural alignment.
//! - Object types: ndis.h (0x87 open parameters, 0x95 protocol
//!   characteristics, 0x98 status indication).
//! - NetBufferListInfo index of UdpRecvSegCoalesceOffloadInfo (17, the
//!   TcpReceiveBytesTransferred slot reused from NDIS 6.84): ndis/nblinfo.h
//!   (`NDIS_NET_BUFFER_LIST_INFO`); NetBufferListInfo starts at 0x90, after
//!   `Status` (0x8C, `ndis.rs`).
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

use crate::abi::{NDIS_HANDLE, NDIS_OBJECT_HEADER, NDIS_STATUS};

use super::ffi::UNICODE_STRING;
use super::ndis::{
    NDIS_OID_REQUEST, NDIS_PORT_NUMBER, NET_BUFFER_LIST, NET_PNP_EVENT_NOTIFICATION,
    SET_OPTIONS_HANDLER,
};
use super::nt::BOOLEAN;

// --- object types and revisions ------------------------------------------------

pub const NDIS_OBJECT_TYPE_OPEN_PARAMETERS: u8 = 0x87;
pub const NDIS_OBJECT_TYPE_PROTOCOL_DRIVER_CHARACTERISTICS: u8 = 0x95;
pub const NDIS_OBJECT_TYPE_OID_REQUEST: u8 = 0x96;
pub const NDIS_OBJECT_TYPE_STATUS_INDICATION: u8 = 0x98;

pub const NDIS_PROTOCOL_DRIVER_CHARACTERISTICS_REVISION_2: u8 = 2;
pub const NDIS_OPEN_PARAMETERS_REVISION_1: u8 = 1;
pub const NDIS_OID_REQUEST_REVISION_1: u8 = 1;
pub const NDIS_STATUS_INDICATION_REVISION_1: u8 = 1;
pub const NET_BUFFER_LIST_POOL_PARAMETERS_REVISION_1: u8 = 1;
pub const NDIS_LINK_STATE_REVISION_1: u8 = 1;

/// The NDIS version the protocol registers as: 6.30, like the miniport.
pub const NDIS_PROTOCOL_MAJOR_VERSION: u8 = 6;
pub const NDIS_PROTOCOL_MINOR_VERSION: u8 = 30;

// --- statuses (ndis.h; NDIS_STATUS_* indications are 0x4001xxxx) -----------------

/// `NDIS_STATUS_LINK_STATE` (a status indication; buffer NDIS_LINK_STATE).
pub const NDIS_STATUS_LINK_STATE: u32 = 0x4001_0017;
/// `NDIS_STATUS_UNSUPPORTED_MEDIA`.
pub const NDIS_STATUS_UNSUPPORTED_MEDIA: u32 = 0xC001_0019;
/// `NDIS_STATUS_REQUEST_ABORTED`.
pub const NDIS_STATUS_REQUEST_ABORTED: u32 = 0xC001_000C;

// --- flags -----------------------------------------------------------------------

/// `NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL`.
pub const NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL: u32 = 0x1;
/// `NDIS_RECEIVE_FLAGS_RESOURCES`: the NBLs must be returned by the time
/// the receive handler returns.
pub const NDIS_RECEIVE_FLAGS_RESOURCES: u32 = 0x2;
/// `NDIS_RETURN_FLAGS_DISPATCH_LEVEL`.
pub const NDIS_RETURN_FLAGS_DISPATCH_LEVEL: u32 = 0x1;
/// `NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS`.
pub const NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS: u32 = 0x2;
/// `NDIS_PACKET_TYPE_DIRECTED | MULTICAST | ALL_MULTICAST | BROADCAST`: the
/// filter the lower binding sets (the host's traffic rides on it).
pub const LOWER_PACKET_FILTER: u32 = 0x1 | 0x2 | 0x4 | 0x8;
/// `NDIS_PROTOCOL_ID_DEFAULT` for NBL pools.
pub const NDIS_PROTOCOL_ID_DEFAULT: u8 = 0;
/// `NDIS_MEDIUM::NdisMedium802_3`.
pub const NDIS_MEDIUM_802_3: u32 = 0;

/// `NDIS_NET_BUFFER_LIST_INFO::UdpRecvSegCoalesceOffloadInfo` (= the
/// TcpReceiveBytesTransferred slot, reused from NDIS 6.84 on receive).
pub const UDP_RECV_SEG_COALESCE_OFFLOAD_INFO: usize = 17;
/// Offset of `NET_BUFFER_LIST::NetBufferListInfo[0]` (x64).
pub const NET_BUFFER_LIST_INFO_OFFSET: usize = 0x90;

// --- handlers (ndis.h; all `extern "system"`) ----------------------------------

/// PROTOCOL_BIND_ADAPTER_EX: PASSIVE_LEVEL.
pub type PROTOCOL_BIND_ADAPTER_EX = unsafe extern "system" fn(
    ProtocolDriverContext: NDIS_HANDLE,
    BindContext: NDIS_HANDLE,
    BindParameters: *mut NDIS_BIND_PARAMETERS,
) -> NDIS_STATUS;
/// PROTOCOL_UNBIND_ADAPTER_EX: PASSIVE_LEVEL.
pub type PROTOCOL_UNBIND_ADAPTER_EX = unsafe extern "system" fn(
    UnbindContext: NDIS_HANDLE,
    ProtocolBindingContext: NDIS_HANDLE,
) -> NDIS_STATUS;
/// PROTOCOL_OPEN_ADAPTER_COMPLETE_EX: PASSIVE_LEVEL.
pub type PROTOCOL_OPEN_ADAPTER_COMPLETE_EX =
    unsafe extern "system" fn(ProtocolBindingContext: NDIS_HANDLE, Status: NDIS_STATUS);
/// PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX: PASSIVE_LEVEL.
pub type PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX =
    unsafe extern "system" fn(ProtocolBindingContext: NDIS_HANDLE);
/// PROTOCOL_NET_PNP_EVENT: PASSIVE_LEVEL.
pub type PROTOCOL_NET_PNP_EVENT = unsafe extern "system" fn(
    ProtocolBindingContext: NDIS_HANDLE,
    NetPnPEventNotification: *mut NET_PNP_EVENT_NOTIFICATION,
) -> NDIS_STATUS;
/// PROTOCOL_UNINSTALL: PASSIVE_LEVEL.
pub type PROTOCOL_UNINSTALL = unsafe extern "system" fn();
/// PROTOCOL_OID_REQUEST_COMPLETE: <= DISPATCH_LEVEL.
pub type PROTOCOL_OID_REQUEST_COMPLETE = unsafe extern "system" fn(
    ProtocolBindingContext: NDIS_HANDLE,
    OidRequest: *mut NDIS_OID_REQUEST,
    Status: NDIS_STATUS,
);
/// PROTOCOL_STATUS_EX: <= DISPATCH_LEVEL.
pub type PROTOCOL_STATUS_EX = unsafe extern "system" fn(
    ProtocolBindingContext: NDIS_HANDLE,
    StatusIndication: *mut NDIS_STATUS_INDICATION,
);
/// PROTOCOL_RECEIVE_NET_BUFFER_LISTS: <= DISPATCH_LEVEL.
pub type PROTOCOL_RECEIVE_NET_BUFFER_LISTS = unsafe extern "system" fn(
    ProtocolBindingContext: NDIS_HANDLE,
    NetBufferLists: *mut NET_BUFFER_LIST,
    PortNumber: NDIS_PORT_NUMBER,
    NumberOfNetBufferLists: u32,
    ReceiveFlags: u32,
);
/// PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE: <= DISPATCH_LEVEL.
pub type PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE = unsafe extern "system" fn(
    ProtocolBindingContext: NDIS_HANDLE,
    NetBufferList: *mut NET_BUFFER_LIST,
    SendCompleteFlags: u32,
);

/// `NDIS_PROTOCOL_DRIVER_CHARACTERISTICS`, revision 2 (NDIS 6.1+), x64 0x80.
#[repr(C)]
pub struct NDIS_PROTOCOL_DRIVER_CHARACTERISTICS {
    pub Header: NDIS_OBJECT_HEADER,
    pub MajorNdisVersion: u8,
    pub MinorNdisVersion: u8,
    pub MajorDriverVersion: u8,
    pub MinorDriverVersion: u8,
    pub Flags: u32,
    /// The protocol's name: must match the `Ndi\Service` of its NetTrans
    /// component for NDIS to find its bindings.
    pub Name: UNICODE_STRING,
    pub SetOptionsHandler: Option<SET_OPTIONS_HANDLER>,
    pub BindAdapterHandlerEx: Option<PROTOCOL_BIND_ADAPTER_EX>,
    pub UnbindAdapterHandlerEx: Option<PROTOCOL_UNBIND_ADAPTER_EX>,
    pub OpenAdapterCompleteHandlerEx: Option<PROTOCOL_OPEN_ADAPTER_COMPLETE_EX>,
    pub CloseAdapterCompleteHandlerEx: Option<PROTOCOL_CLOSE_ADAPTER_COMPLETE_EX>,
    pub NetPnPEventHandler: Option<PROTOCOL_NET_PNP_EVENT>,
    pub UninstallHandler: Option<PROTOCOL_UNINSTALL>,
    pub OidRequestCompleteHandler: Option<PROTOCOL_OID_REQUEST_COMPLETE>,
    pub StatusHandlerEx: Option<PROTOCOL_STATUS_EX>,
    pub ReceiveNetBufferListsHandler: Option<PROTOCOL_RECEIVE_NET_BUFFER_LISTS>,
    pub SendNetBufferListsCompleteHandler: Option<PROTOCOL_SEND_NET_BUFFER_LISTS_COMPLETE>,
    pub DirectOidRequestCompleteHandler: Option<PROTOCOL_OID_REQUEST_COMPLETE>,
}

/// `NDIS_BIND_PARAMETERS` through `HDSplitCurrentConfig` (x64 0x100), which
/// learn.microsoft.com NDIS_BIND_PARAMETERS says revision 2 (NDIS 6.1) added;
/// revision 1 (NDIS 6.0) ends after `BoundAdapterName` (0xF8). NDIS owns the
/// structure (later revisions append fields); softroce only reads it, during
/// ProtocolBindAdapterEx, and only fields of revision 1.
#[repr(C)]
pub struct NDIS_BIND_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub ProtocolSection: *mut UNICODE_STRING,
    pub AdapterName: *mut UNICODE_STRING,
    pub PhysicalDeviceObject: *mut c_void,
    /// `NDIS_MEDIUM`.
    pub MediaType: u32,
    pub MtuSize: u32,
    pub MaxXmitLinkSpeed: u64,
    pub XmitLinkSpeed: u64,
    pub MaxRcvLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    /// `NET_IF_MEDIA_CONNECT_STATE`.
    pub MediaConnectState: u32,
    pub MediaDuplexState: u32,
    pub LookaheadSize: u32,
    pub PowerManagementCapabilities: *mut c_void,
    pub SupportedPacketFilters: u32,
    pub MaxMulticastListSize: u32,
    pub MacAddressLength: u16,
    pub CurrentMacAddress: [u8; 32],
    /// `NDIS_PHYSICAL_MEDIUM`.
    pub PhysicalMediumType: u32,
    pub RcvScaleCapabilities: *mut c_void,
    /// `NET_LUID` of the bound interface.
    pub BoundIfNetluid: u64,
    pub BoundIfIndex: u32,
    pub LowestIfNetluid: u64,
    pub LowestIfIndex: u32,
    pub AccessType: u32,
    pub DirectionType: u32,
    pub ConnectionType: u32,
    pub IfType: u16,
    pub IfConnectorPresent: BOOLEAN,
    pub ActivePorts: *mut c_void,
    pub DataBackFillSize: u32,
    pub ContextBackFillSize: u32,
    pub MacOptions: u32,
    pub CompartmentId: u32,
    pub DefaultOffloadConfiguration: *mut c_void,
    pub TcpConnectionOffloadCapabilities: *mut c_void,
    pub BoundAdapterName: *mut UNICODE_STRING,
    pub HDSplitCurrentConfig: *mut c_void,
}

/// `NDIS_OPEN_PARAMETERS` (x64 0x38; `Header.Size` is
/// NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1, through `FrameTypeArraySize`).
#[repr(C)]
pub struct NDIS_OPEN_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub AdapterName: *mut UNICODE_STRING,
    pub MediumArray: *mut u32,
    pub MediumArraySize: u32,
    pub SelectedMediumIndex: *mut u32,
    /// `NET_FRAME_TYPE` array (u16 EtherTypes); null = all.
    pub FrameTypeArray: *mut u16,
    pub FrameTypeArraySize: u32,
}

/// NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1.
pub const NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1: u16 =
    (offset_of!(NDIS_OPEN_PARAMETERS, FrameTypeArraySize) + 4) as u16;

/// `GUID`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct GUID {
    pub Data1: u32,
    pub Data2: u16,
    pub Data3: u16,
    pub Data4: [u8; 8],
}

/// `NDIS_STATUS_INDICATION` (revision 1, x64 0x70).
#[repr(C)]
pub struct NDIS_STATUS_INDICATION {
    pub Header: NDIS_OBJECT_HEADER,
    pub SourceHandle: NDIS_HANDLE,
    pub PortNumber: NDIS_PORT_NUMBER,
    pub StatusCode: NDIS_STATUS,
    pub Flags: u32,
    pub DestinationHandle: NDIS_HANDLE,
    pub RequestId: *mut c_void,
    pub StatusBuffer: *mut c_void,
    pub StatusBufferSize: u32,
    pub Guid: GUID,
    pub NdisReserved: [*mut c_void; 4],
}

/// `NDIS_LINK_STATE` (revision 1, x64 0x28): the buffer of
/// NDIS_STATUS_LINK_STATE.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct NDIS_LINK_STATE {
    pub Header: NDIS_OBJECT_HEADER,
    pub MediaConnectState: u32,
    pub MediaDuplexState: u32,
    pub XmitLinkSpeed: u64,
    pub RcvLinkSpeed: u64,
    pub PauseFunctions: u32,
    pub AutoNegotiationFlags: u32,
}

/// `NET_BUFFER_LIST_POOL_PARAMETERS` (x64 0x10).
#[repr(C)]
pub struct NET_BUFFER_LIST_POOL_PARAMETERS {
    pub Header: NDIS_OBJECT_HEADER,
    pub ProtocolId: u8,
    pub fAllocateNetBuffer: BOOLEAN,
    pub ContextSize: u16,
    pub PoolTag: u32,
    pub DataSize: u32,
}

/// The `NET_BUFFER` prefix (NET_BUFFER_DATA) the data path touches:
/// `NET_BUFFER_NEXT_NB`, `NET_BUFFER_DATA_LENGTH` (read on receive, written
/// on our own sends), `NET_BUFFER_FIRST_MDL`. NDIS allocates NET_BUFFERs;
/// this prefix is never allocated here.
#[repr(C)]
pub struct NET_BUFFER {
    pub Next: *mut NET_BUFFER,
    pub CurrentMdl: *mut c_void,
    pub CurrentMdlOffset: u32,
    _align: u32,
    /// `DataLength` (a ULONG in a union with the SIZE_T `stDataLength`).
    pub DataLength: u32,
    _data_length_high: u32,
    pub MdlChain: *mut c_void,
    pub DataOffset: u32,
}

/// `NET_IF_MEDIA_CONNECT_STATE` values.
pub const MEDIA_CONNECT_STATE_UNKNOWN: u32 = 0;
pub const MEDIA_CONNECT_STATE_CONNECTED: u32 = 1;
pub const MEDIA_CONNECT_STATE_DISCONNECTED: u32 = 2;

/// `NET_PNP_EVENT_CODE` values the lower edge handles.
pub const NET_EVENT_PAUSE: u32 = 8;
pub const NET_EVENT_RESTART: u32 = 9;

const _: () = {
    type P = NDIS_PROTOCOL_DRIVER_CHARACTERISTICS;
    assert!(offset_of!(P, Flags) == 0x08);
    assert!(offset_of!(P, Name) == 0x10);
    assert!(offset_of!(P, SetOptionsHandler) == 0x20);
    assert!(offset_of!(P, BindAdapterHandlerEx) == 0x28);
    assert!(offset_of!(P, UnbindAdapterHandlerEx) == 0x30);
    assert!(offset_of!(P, OpenAdapterCompleteHandlerEx) == 0x38);
    assert!(offset_of!(P, CloseAdapterCompleteHandlerEx) == 0x40);
    assert!(offset_of!(P, NetPnPEventHandler) == 0x48);
    assert!(offset_of!(P, UninstallHandler) == 0x50);
    assert!(offset_of!(P, OidRequestCompleteHandler) == 0x58);
    assert!(offset_of!(P, StatusHandlerEx) == 0x60);
    assert!(offset_of!(P, ReceiveNetBufferListsHandler) == 0x68);
    assert!(offset_of!(P, SendNetBufferListsCompleteHandler) == 0x70);
    assert!(offset_of!(P, DirectOidRequestCompleteHandler) == 0x78);
    assert!(size_of::<P>() == 0x80);

    type B = NDIS_BIND_PARAMETERS;
    assert!(offset_of!(B, ProtocolSection) == 0x08);
    assert!(offset_of!(B, AdapterName) == 0x10);
    assert!(offset_of!(B, PhysicalDeviceObject) == 0x18);
    assert!(offset_of!(B, MediaType) == 0x20);
    assert!(offset_of!(B, MtuSize) == 0x24);
    assert!(offset_of!(B, MaxXmitLinkSpeed) == 0x28);
    assert!(offset_of!(B, RcvLinkSpeed) == 0x40);
    assert!(offset_of!(B, MediaConnectState) == 0x48);
    assert!(offset_of!(B, LookaheadSize) == 0x50);
    assert!(offset_of!(B, PowerManagementCapabilities) == 0x58);
    assert!(offset_of!(B, SupportedPacketFilters) == 0x60);
    assert!(offset_of!(B, MacAddressLength) == 0x68);
    assert!(offset_of!(B, CurrentMacAddress) == 0x6A);
    assert!(offset_of!(B, PhysicalMediumType) == 0x8C);
    assert!(offset_of!(B, RcvScaleCapabilities) == 0x90);
    assert!(offset_of!(B, BoundIfNetluid) == 0x98);
    assert!(offset_of!(B, BoundIfIndex) == 0xA0);
    assert!(offset_of!(B, LowestIfNetluid) == 0xA8);
    assert!(offset_of!(B, LowestIfIndex) == 0xB0);
    assert!(offset_of!(B, AccessType) == 0xB4);
    assert!(offset_of!(B, IfType) == 0xC0);
    assert!(offset_of!(B, IfConnectorPresent) == 0xC2);
    assert!(offset_of!(B, ActivePorts) == 0xC8);
    assert!(offset_of!(B, MacOptions) == 0xD8);
    assert!(offset_of!(B, CompartmentId) == 0xDC);
    assert!(offset_of!(B, DefaultOffloadConfiguration) == 0xE0);
    assert!(offset_of!(B, BoundAdapterName) == 0xF0);
    assert!(offset_of!(B, HDSplitCurrentConfig) == 0xF8);
    assert!(size_of::<B>() == 0x100);

    type O = NDIS_OPEN_PARAMETERS;
    assert!(offset_of!(O, AdapterName) == 0x08);
    assert!(offset_of!(O, MediumArray) == 0x10);
    assert!(offset_of!(O, MediumArraySize) == 0x18);
    assert!(offset_of!(O, SelectedMediumIndex) == 0x20);
    assert!(offset_of!(O, FrameTypeArray) == 0x28);
    assert!(offset_of!(O, FrameTypeArraySize) == 0x30);
    assert!(size_of::<O>() == 0x38);
    assert!(NDIS_SIZEOF_OPEN_PARAMETERS_REVISION_1 == 0x34);

    type S = NDIS_STATUS_INDICATION;
    assert!(offset_of!(S, SourceHandle) == 0x08);
    assert!(offset_of!(S, PortNumber) == 0x10);
    assert!(offset_of!(S, StatusCode) == 0x14);
    assert!(offset_of!(S, Flags) == 0x18);
    assert!(offset_of!(S, DestinationHandle) == 0x20);
    assert!(offset_of!(S, RequestId) == 0x28);
    assert!(offset_of!(S, StatusBuffer) == 0x30);
    assert!(offset_of!(S, StatusBufferSize) == 0x38);
    assert!(offset_of!(S, Guid) == 0x3C);
    assert!(offset_of!(S, NdisReserved) == 0x50);
    assert!(size_of::<S>() == 0x70);

    type L = NDIS_LINK_STATE;
    assert!(offset_of!(L, MediaConnectState) == 0x04);
    assert!(offset_of!(L, MediaDuplexState) == 0x08);
    assert!(offset_of!(L, XmitLinkSpeed) == 0x10);
    assert!(offset_of!(L, RcvLinkSpeed) == 0x18);
    assert!(offset_of!(L, PauseFunctions) == 0x20);
    assert!(size_of::<L>() == 0x28);

    type Q = NET_BUFFER_LIST_POOL_PARAMETERS;
    assert!(offset_of!(Q, ProtocolId) == 0x04);
    assert!(offset_of!(Q, fAllocateNetBuffer) == 0x05);
    assert!(offset_of!(Q, ContextSize) == 0x06);
    assert!(offset_of!(Q, PoolTag) == 0x08);
    assert!(offset_of!(Q, DataSize) == 0x0C);
    assert!(size_of::<Q>() == 0x10);

    type N = NET_BUFFER;
    assert!(offset_of!(N, CurrentMdl) == 0x08);
    assert!(offset_of!(N, CurrentMdlOffset) == 0x10);
    assert!(offset_of!(N, DataLength) == 0x18);
    assert!(offset_of!(N, MdlChain) == 0x20);
    assert!(offset_of!(N, DataOffset) == 0x28);

    assert!(offset_of!(NET_BUFFER_LIST, Status) + 4 == NET_BUFFER_LIST_INFO_OFFSET);
};
