//! Every NDKPI function type (facts §4): the consumer callbacks and the
//! `NDK_FN_*` provider functions, as `unsafe extern "system" fn` types with the
//! C parameter names. Owns signatures only.
//!
//! Callback *parameters* are `Option<..>` throughout, including the ones the
//! documentation calls required: a provider must validate what a consumer
//! passes, and `Option<fn>` has the same ABI as a nullable C function pointer.
//! Dispatch-table *entries* (in `dispatch.rs`) are non-nullable: every entry
//! is mandatory and the provider fills them all.
//!
//! IRQL: every function and callback here runs at <= DISPATCH_LEVEL except
//! NDK_FN_QUERY_ADAPTER_INFO (PASSIVE_LEVEL).

use core::ffi::c_void;

use super::adapter_info::NDK_ADAPTER_INFO;
use super::dispatch::{
    NDK_ADAPTER, NDK_CONNECTOR, NDK_CQ, NDK_LISTENER, NDK_MR, NDK_MW, NDK_PD, NDK_QP,
    NDK_SHARED_ENDPOINT, NDK_SRQ,
};
use super::sockaddr::SOCKADDR;
use super::status::NTSTATUS;
use super::types::{
    BOOLEAN, GROUP_AFFINITY, GUID, MDL, NDK_EXTENSION_INTERFACE, NDK_LOGICAL_ADDRESS,
    NDK_LOGICAL_ADDRESS_MAPPING, NDK_OBJECT_HEADER, NDK_RESULT, NDK_RESULT_EX, NDK_SGE,
    NDK_VERSION, PVOID, SIZE_T, UINT32, ULONG,
};

// --- consumer callbacks ------------------------------------------------------

pub type NDK_FN_REQUEST_COMPLETION = unsafe extern "system" fn(Context: PVOID, Status: NTSTATUS);
pub type NDK_FN_CREATE_COMPLETION =
    unsafe extern "system" fn(Context: PVOID, Status: NTSTATUS, pNdkObject: *mut NDK_OBJECT_HEADER);
pub type NDK_FN_CLOSE_COMPLETION = unsafe extern "system" fn(Context: PVOID);
pub type NDK_FN_CQ_NOTIFICATION_CALLBACK =
    unsafe extern "system" fn(CqNotificationContext: PVOID, CqStatus: NTSTATUS);
pub type NDK_FN_SRQ_NOTIFICATION_CALLBACK =
    unsafe extern "system" fn(SrqNotificationContext: PVOID, SrqStatus: NTSTATUS);
pub type NDK_FN_CONNECT_EVENT_CALLBACK =
    unsafe extern "system" fn(ConnectEventContext: PVOID, pConnector: *mut NDK_CONNECTOR);
pub type NDK_FN_DISCONNECT_EVENT_CALLBACK =
    unsafe extern "system" fn(DisconnectEventContext: PVOID);
/// NDKPI 2.1. `ProviderDisconnectReason` 0 = none / not supported.
pub type NDK_FN_DISCONNECT_EVENT_CALLBACK_EX =
    unsafe extern "system" fn(DisconnectEventContext: PVOID, ProviderDisconnectReason: ULONG);

type ReqDone = Option<NDK_FN_REQUEST_COMPLETION>;
type CreateDone = Option<NDK_FN_CREATE_COMPLETION>;

// --- generic -----------------------------------------------------------------

/// NdkCloseXxx for every object except the adapter.
pub type NDK_FN_CLOSE_OBJECT = unsafe extern "system" fn(
    pNdkObject: *mut NDK_OBJECT_HEADER,
    CloseCompletion: Option<NDK_FN_CLOSE_COMPLETION>,
    RequestContext: PVOID,
) -> NTSTATUS;
/// NdkQueryExtension; `Version` is passed by value.
pub type NDK_FN_QUERY_EXTENSION_INTERFACE = unsafe extern "system" fn(
    pNdkObject: *mut NDK_OBJECT_HEADER,
    ExtensionInterfaceID: *const GUID,
    ExtensionInterfaceVersion: NDK_VERSION,
    pExtensionInterface: *mut NDK_EXTENSION_INTERFACE,
) -> NTSTATUS;

// --- adapter -----------------------------------------------------------------

/// PASSIVE_LEVEL, may block.
pub type NDK_FN_QUERY_ADAPTER_INFO = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    pInfo: *mut NDK_ADAPTER_INFO,
    pBufferSize: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_CREATE_CQ = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    CqDepth: ULONG,
    CqNotification: Option<NDK_FN_CQ_NOTIFICATION_CALLBACK>,
    CqNotificationContext: PVOID,
    Affinity: *mut GROUP_AFFINITY,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkCq: *mut *mut NDK_CQ,
) -> NTSTATUS;
pub type NDK_FN_CREATE_PD = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkPd: *mut *mut NDK_PD,
) -> NTSTATUS;
pub type NDK_FN_CREATE_SHARED_ENDPOINT = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    pAddress: *const SOCKADDR,
    AddressLength: ULONG,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkSharedEndpoint: *mut *mut NDK_SHARED_ENDPOINT,
) -> NTSTATUS;
pub type NDK_FN_CREATE_CONNECTOR = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkConnector: *mut *mut NDK_CONNECTOR,
) -> NTSTATUS;
pub type NDK_FN_CREATE_LISTENER = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    ConnectEventHandler: Option<NDK_FN_CONNECT_EVENT_CALLBACK>,
    ConnectEventContext: PVOID,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkListener: *mut *mut NDK_LISTENER,
) -> NTSTATUS;
pub type NDK_FN_BUILD_LAM = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    Mdl: *mut MDL,
    Length: SIZE_T,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
    pNdkLAM: *mut NDK_LOGICAL_ADDRESS_MAPPING,
    pLAMSize: *mut ULONG,
    pFBO: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_RELEASE_LAM = unsafe extern "system" fn(
    pNdkAdapter: *mut NDK_ADAPTER,
    pNdkLAM: *mut NDK_LOGICAL_ADDRESS_MAPPING,
);

// --- PD ----------------------------------------------------------------------

pub type NDK_FN_CREATE_MR = unsafe extern "system" fn(
    pNdkPd: *mut NDK_PD,
    FastRegister: BOOLEAN,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkMr: *mut *mut NDK_MR,
) -> NTSTATUS;
pub type NDK_FN_CREATE_MW = unsafe extern "system" fn(
    pNdkPd: *mut NDK_PD,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkMw: *mut *mut NDK_MW,
) -> NTSTATUS;
pub type NDK_FN_CREATE_SRQ = unsafe extern "system" fn(
    pNdkPd: *mut NDK_PD,
    SrqDepth: ULONG,
    MaxReceiveRequestSge: ULONG,
    NotifyThreshold: ULONG,
    SrqNotification: Option<NDK_FN_SRQ_NOTIFICATION_CALLBACK>,
    SrqNotificationContext: PVOID,
    Affinity: *mut GROUP_AFFINITY,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkSrq: *mut *mut NDK_SRQ,
) -> NTSTATUS;
pub type NDK_FN_CREATE_QP = unsafe extern "system" fn(
    pNdkPd: *mut NDK_PD,
    pReceiveCq: *mut NDK_CQ,
    pInitiatorCq: *mut NDK_CQ,
    QPContext: PVOID,
    ReceiveQueueDepth: ULONG,
    InitiatorQueueDepth: ULONG,
    MaxReceiveRequestSge: ULONG,
    MaxInitiatorRequestSge: ULONG,
    InlineDataSize: ULONG,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkQp: *mut *mut NDK_QP,
) -> NTSTATUS;
pub type NDK_FN_CREATE_QP_WITH_SRQ = unsafe extern "system" fn(
    pNdkPd: *mut NDK_PD,
    pReceiveCq: *mut NDK_CQ,
    pInitiatorCq: *mut NDK_CQ,
    pSrq: *mut NDK_SRQ,
    QPContext: PVOID,
    InitiatorQueueDepth: ULONG,
    MaxInitiatorRequestSge: ULONG,
    InlineDataSize: ULONG,
    CreateCompletion: CreateDone,
    RequestContext: PVOID,
    ppNdkQp: *mut *mut NDK_QP,
) -> NTSTATUS;
pub type NDK_FN_GET_PRIVILEGED_MEMORY_REGION_TOKEN =
    unsafe extern "system" fn(pNdkPd: *mut NDK_PD, pPrivilegedMemoryToken: *mut UINT32);

// --- CQ ----------------------------------------------------------------------

pub type NDK_FN_RESIZE_CQ = unsafe extern "system" fn(
    pNdkCq: *mut NDK_CQ,
    CqDepth: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
/// `TriggerType` is an NDK_CQ_NOTIFY_* value.
pub type NDK_FN_ARM_CQ = unsafe extern "system" fn(pNdkCq: *mut NDK_CQ, TriggerType: ULONG);
/// Returns how many results were removed (0 = empty).
pub type NDK_FN_GET_CQ_RESULTS = unsafe extern "system" fn(
    pNdkCq: *mut NDK_CQ,
    pResult: *mut NDK_RESULT,
    nResults: ULONG,
) -> ULONG;
pub type NDK_FN_CONTROL_CQ_INTERRUPT_MODERATION = unsafe extern "system" fn(
    pNdkCq: *mut NDK_CQ,
    ModerationInterval: ULONG,
    ModerationCount: ULONG,
) -> NTSTATUS;
pub type NDK_FN_GET_CQ_RESULTS_EX = unsafe extern "system" fn(
    pNdkCq: *mut NDK_CQ,
    pResultEx: *mut NDK_RESULT_EX,
    nResults: ULONG,
) -> ULONG;

// --- QP ----------------------------------------------------------------------

pub type NDK_FN_FLUSH = unsafe extern "system" fn(pNdkQp: *mut NDK_QP);
pub type NDK_FN_SEND = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
    Flags: ULONG,
) -> NTSTATUS;
pub type NDK_FN_RECEIVE = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
) -> NTSTATUS;
pub type NDK_FN_BIND = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pMr: *mut NDK_MR,
    pMw: *mut NDK_MW,
    VirtualAddress: PVOID,
    Length: SIZE_T,
    Flags: ULONG,
) -> NTSTATUS;
pub type NDK_FN_FAST_REGISTER = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pMr: *mut NDK_MR,
    AdapterPageCount: ULONG,
    AdapterPageArray: *const NDK_LOGICAL_ADDRESS,
    FBO: ULONG,
    Length: SIZE_T,
    BaseVirtualAddress: PVOID,
    Flags: ULONG,
) -> NTSTATUS;
pub type NDK_FN_INVALIDATE = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pMrOrMw: *mut NDK_OBJECT_HEADER,
    Flags: ULONG,
) -> NTSTATUS;
pub type NDK_FN_READ = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
    RemoteAddress: u64,
    RemoteToken: UINT32,
    Flags: ULONG,
) -> NTSTATUS;
pub type NDK_FN_WRITE = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
    RemoteAddress: u64,
    RemoteToken: UINT32,
    Flags: ULONG,
) -> NTSTATUS;
/// Note the order: `Flags` comes before `RemoteToken` here.
pub type NDK_FN_SEND_AND_INVALIDATE = unsafe extern "system" fn(
    pNdkQp: *mut NDK_QP,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
    Flags: ULONG,
    RemoteToken: UINT32,
) -> NTSTATUS;

// --- SRQ ---------------------------------------------------------------------

pub type NDK_FN_MODIFY_SRQ = unsafe extern "system" fn(
    pNdkSrq: *mut NDK_SRQ,
    SrqDepth: ULONG,
    NotifyThreshold: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_SRQ_RECEIVE = unsafe extern "system" fn(
    pNdkSrq: *mut NDK_SRQ,
    RequestContext: PVOID,
    pSgl: *const NDK_SGE,
    nSge: ULONG,
) -> NTSTATUS;

// --- MR / MW -----------------------------------------------------------------

/// `Flags` is a set of NDK_MR_FLAG_* values.
pub type NDK_FN_REGISTER_MR = unsafe extern "system" fn(
    pNdkMr: *mut NDK_MR,
    Mdl: *mut MDL,
    Length: SIZE_T,
    Flags: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_DEREGISTER_MR = unsafe extern "system" fn(
    pNdkMr: *mut NDK_MR,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_INITIALIZE_FAST_REGISTER_MR = unsafe extern "system" fn(
    pNdkMr: *mut NDK_MR,
    AdapterPageCount: ULONG,
    RemoteAccess: BOOLEAN,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_GET_REMOTE_TOKEN_FROM_MR = unsafe extern "system" fn(pNdkMr: *mut NDK_MR) -> UINT32;
pub type NDK_FN_GET_LOCAL_TOKEN_FROM_MR = unsafe extern "system" fn(pNdkMr: *mut NDK_MR) -> UINT32;
pub type NDK_FN_GET_REMOTE_TOKEN_FROM_MW = unsafe extern "system" fn(pNdkMw: *mut NDK_MW) -> UINT32;

// --- shared endpoint / listener ----------------------------------------------

pub type NDK_FN_GET_SHARED_ENDPOINT_LOCAL_ADDRESS = unsafe extern "system" fn(
    pNdkSharedEndpoint: *mut NDK_SHARED_ENDPOINT,
    pAddress: *mut SOCKADDR,
    pAddressLength: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_LISTEN = unsafe extern "system" fn(
    pNdkListener: *mut NDK_LISTENER,
    pAddress: *const SOCKADDR,
    AddressLength: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_GET_LISTENER_LOCAL_ADDRESS = unsafe extern "system" fn(
    pNdkListener: *mut NDK_LISTENER,
    pAddress: *mut SOCKADDR,
    pAddressLength: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_CONTROL_CONNECT_EVENTS =
    unsafe extern "system" fn(pNdkListener: *mut NDK_LISTENER, Pause: BOOLEAN);

// --- connector ---------------------------------------------------------------

pub type NDK_FN_CONNECT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pNdkQp: *mut NDK_QP,
    pSrcAddress: *const SOCKADDR,
    SrcAddressLength: ULONG,
    pDestAddress: *const SOCKADDR,
    DestAddressLength: ULONG,
    InboundReadLimit: ULONG,
    OutboundReadLimit: ULONG,
    pPrivateData: *const c_void,
    PrivateDataLength: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_CONNECT_WITH_SHARED_ENDPOINT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pNdkQp: *mut NDK_QP,
    pNdkSharedEndpoint: *mut NDK_SHARED_ENDPOINT,
    pDestAddress: *const SOCKADDR,
    DestAddressLength: ULONG,
    InboundReadLimit: ULONG,
    OutboundReadLimit: ULONG,
    pPrivateData: *const c_void,
    PrivateDataLength: ULONG,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_COMPLETE_CONNECT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    DisconnectEvent: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    DisconnectEventContext: PVOID,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
/// NDKPI 2.1.
pub type NDK_FN_COMPLETE_CONNECT_EX = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    DisconnectEventEx: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    DisconnectEventContext: PVOID,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
pub type NDK_FN_ACCEPT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pNdkQp: *mut NDK_QP,
    InboundReadLimit: ULONG,
    OutboundReadLimit: ULONG,
    pPrivateData: *const c_void,
    PrivateDataLength: ULONG,
    DisconnectEvent: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    DisconnectEventContext: PVOID,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
/// NDKPI 2.1.
pub type NDK_FN_ACCEPT_EX = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pNdkQp: *mut NDK_QP,
    InboundReadLimit: ULONG,
    OutboundReadLimit: ULONG,
    pPrivateData: *const c_void,
    PrivateDataLength: ULONG,
    DisconnectEventEx: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    DisconnectEventContext: PVOID,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
/// Synchronous: no completion callback.
pub type NDK_FN_REJECT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pPrivateData: *const c_void,
    PrivateDataLength: ULONG,
) -> NTSTATUS;
pub type NDK_FN_GET_CONNECTION_DATA = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pInboundReadLimit: *mut ULONG,
    pOutboundReadLimit: *mut ULONG,
    pPrivateData: *mut c_void,
    pPrivateDataLength: *mut ULONG,
) -> NTSTATUS;
/// The connector's NdkGetLocalAddress.
pub type NDK_FN_GET_LOCAL_ADDRESS = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pAddress: *mut SOCKADDR,
    pAddressLength: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_GET_PEER_ADDRESS = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    pAddress: *mut SOCKADDR,
    pAddressLength: *mut ULONG,
) -> NTSTATUS;
pub type NDK_FN_DISCONNECT = unsafe extern "system" fn(
    pNdkConnector: *mut NDK_CONNECTOR,
    RequestCompletion: ReqDone,
    RequestContext: PVOID,
) -> NTSTATUS;
