//! The ten NDK object structs and their dispatch tables (facts §2.3-2.4), in
//! exact ABI order, with every table size and entry offset asserted. Owns the
//! tables' shape; the provider's thunks that fill them live in `ndk`.
//!
//! Every object is `{ Header: NDK_OBJECT_HEADER @0x00, Dispatch @0x28 }`
//! (0x30 bytes); the consumer finds the functions through `obj->Dispatch`.

use core::mem::{offset_of, size_of};

use super::callbacks::*;
use super::types::NDK_OBJECT_HEADER;

/// Declares an NDK object struct (header + dispatch pointer) and asserts its layout.
macro_rules! ndk_object {
    ($($(#[$doc:meta])* $object:ident => $table:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug)]
        #[repr(C)]
        pub struct $object {
            pub Header: NDK_OBJECT_HEADER,
            pub Dispatch: *const $table,
        }
        const _: () = assert!(offset_of!($object, Header) == 0);
        #[cfg(target_pointer_width = "64")]
        const _: () = {
            assert!(offset_of!($object, Dispatch) == 0x28);
            assert!(size_of::<$object>() == 0x30);
        };
    )*};
}

ndk_object! {
    /// An open NDK adapter. Closed through NDIS (or `softroce_close_adapter`),
    /// not through its table.
    NDK_ADAPTER => NDK_ADAPTER_DISPATCH;
    NDK_PD => NDK_PD_DISPATCH;
    NDK_CQ => NDK_CQ_DISPATCH;
    NDK_QP => NDK_QP_DISPATCH;
    NDK_SRQ => NDK_SRQ_DISPATCH;
    NDK_MR => NDK_MR_DISPATCH;
    NDK_MW => NDK_MW_DISPATCH;
    NDK_SHARED_ENDPOINT => NDK_SHARED_ENDPOINT_DISPATCH;
    NDK_CONNECTOR => NDK_CONNECTOR_DISPATCH;
    NDK_LISTENER => NDK_LISTENER_DISPATCH;
}

/// Asserts `entry i is at byte 8*i` for each listed field and the total size.
macro_rules! assert_table {
    ($table:ident: $($field:ident),* $(,)?) => {
        #[cfg(target_pointer_width = "64")]
        const _: () = {
            let mut index = 0usize;
            $(
                assert!(offset_of!($table, $field) == 8 * index);
                index += 1;
            )*
            assert!(size_of::<$table>() == 8 * index);
        };
    };
}

/// 9 entries (0x48), no close: the adapter is closed through NDIS.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_ADAPTER_DISPATCH {
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkQueryAdapterInfo: NDK_FN_QUERY_ADAPTER_INFO,
    pub NdkCreateCq: NDK_FN_CREATE_CQ,
    pub NdkCreatePd: NDK_FN_CREATE_PD,
    pub NdkCreateSharedEndpoint: NDK_FN_CREATE_SHARED_ENDPOINT,
    pub NdkCreateConnector: NDK_FN_CREATE_CONNECTOR,
    pub NdkCreateListener: NDK_FN_CREATE_LISTENER,
    pub NdkBuildLAM: NDK_FN_BUILD_LAM,
    pub NdkReleaseLAM: NDK_FN_RELEASE_LAM,
}
assert_table!(NDK_ADAPTER_DISPATCH: NdkQueryExtension, NdkQueryAdapterInfo, NdkCreateCq,
    NdkCreatePd, NdkCreateSharedEndpoint, NdkCreateConnector, NdkCreateListener, NdkBuildLAM,
    NdkReleaseLAM);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<NDK_ADAPTER_DISPATCH>() == 0x48);

/// 8 entries (0x40).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_PD_DISPATCH {
    pub NdkClosePd: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkCreateMr: NDK_FN_CREATE_MR,
    pub NdkCreateMw: NDK_FN_CREATE_MW,
    pub NdkCreateSrq: NDK_FN_CREATE_SRQ,
    pub NdkCreateQp: NDK_FN_CREATE_QP,
    pub NdkCreateQpWithSrq: NDK_FN_CREATE_QP_WITH_SRQ,
    pub NdkGetPrivilegedMemoryRegionToken: NDK_FN_GET_PRIVILEGED_MEMORY_REGION_TOKEN,
}
assert_table!(NDK_PD_DISPATCH: NdkClosePd, NdkQueryExtension, NdkCreateMr, NdkCreateMw,
    NdkCreateSrq, NdkCreateQp, NdkCreateQpWithSrq, NdkGetPrivilegedMemoryRegionToken);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<NDK_PD_DISPATCH>() == 0x40);

/// 7 entries (0x38).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_CQ_DISPATCH {
    pub NdkCloseCq: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkResizeCq: NDK_FN_RESIZE_CQ,
    pub NdkArmCq: NDK_FN_ARM_CQ,
    pub NdkGetCqResults: NDK_FN_GET_CQ_RESULTS,
    pub NdkControlCqInterruptModeration: NDK_FN_CONTROL_CQ_INTERRUPT_MODERATION,
    pub NdkGetCqResultsEx: NDK_FN_GET_CQ_RESULTS_EX,
}
assert_table!(NDK_CQ_DISPATCH: NdkCloseCq, NdkQueryExtension, NdkResizeCq, NdkArmCq,
    NdkGetCqResults, NdkControlCqInterruptModeration, NdkGetCqResultsEx);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<NDK_CQ_DISPATCH>() == 0x38);

/// 11 entries (0x58). There is no "modify QP" entry.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_QP_DISPATCH {
    pub NdkCloseQp: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkFlush: NDK_FN_FLUSH,
    pub NdkSend: NDK_FN_SEND,
    pub NdkReceive: NDK_FN_RECEIVE,
    pub NdkBind: NDK_FN_BIND,
    pub NdkFastRegister: NDK_FN_FAST_REGISTER,
    pub NdkInvalidate: NDK_FN_INVALIDATE,
    pub NdkRead: NDK_FN_READ,
    pub NdkWrite: NDK_FN_WRITE,
    pub NdkSendAndInvalidate: NDK_FN_SEND_AND_INVALIDATE,
}
assert_table!(NDK_QP_DISPATCH: NdkCloseQp, NdkQueryExtension, NdkFlush, NdkSend, NdkReceive,
    NdkBind, NdkFastRegister, NdkInvalidate, NdkRead, NdkWrite, NdkSendAndInvalidate);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<NDK_QP_DISPATCH>() == 0x58);

/// 4 entries (0x20).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_SRQ_DISPATCH {
    pub NdkCloseSrq: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkModifySrq: NDK_FN_MODIFY_SRQ,
    pub NdkSrqReceive: NDK_FN_SRQ_RECEIVE,
}
assert_table!(NDK_SRQ_DISPATCH: NdkCloseSrq, NdkQueryExtension, NdkModifySrq, NdkSrqReceive);

/// 7 entries (0x38).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_MR_DISPATCH {
    pub NdkCloseMr: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkRegisterMr: NDK_FN_REGISTER_MR,
    pub NdkDeregisterMr: NDK_FN_DEREGISTER_MR,
    pub NdkInitializeFastRegisterMr: NDK_FN_INITIALIZE_FAST_REGISTER_MR,
    pub NdkGetRemoteTokenFromMr: NDK_FN_GET_REMOTE_TOKEN_FROM_MR,
    pub NdkGetLocalTokenFromMr: NDK_FN_GET_LOCAL_TOKEN_FROM_MR,
}
assert_table!(NDK_MR_DISPATCH: NdkCloseMr, NdkQueryExtension, NdkRegisterMr, NdkDeregisterMr,
    NdkInitializeFastRegisterMr, NdkGetRemoteTokenFromMr, NdkGetLocalTokenFromMr);

/// 3 entries (0x18).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_MW_DISPATCH {
    pub NdkCloseMw: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkGetRemoteTokenFromMw: NDK_FN_GET_REMOTE_TOKEN_FROM_MW,
}
assert_table!(NDK_MW_DISPATCH: NdkCloseMw, NdkQueryExtension, NdkGetRemoteTokenFromMw);

/// 3 entries (0x18).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_SHARED_ENDPOINT_DISPATCH {
    pub NdkCloseSharedEndpoint: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkGetSharedEndpointLocalAddress: NDK_FN_GET_SHARED_ENDPOINT_LOCAL_ADDRESS,
}
assert_table!(NDK_SHARED_ENDPOINT_DISPATCH: NdkCloseSharedEndpoint, NdkQueryExtension,
    NdkGetSharedEndpointLocalAddress);

/// 5 entries (0x28).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_LISTENER_DISPATCH {
    pub NdkCloseListener: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkListen: NDK_FN_LISTEN,
    pub NdkGetListenerLocalAddress: NDK_FN_GET_LISTENER_LOCAL_ADDRESS,
    pub NdkControlConnectEvents: NDK_FN_CONTROL_CONNECT_EVENTS,
}
assert_table!(NDK_LISTENER_DISPATCH: NdkCloseListener, NdkQueryExtension, NdkListen,
    NdkGetListenerLocalAddress, NdkControlConnectEvents);
#[cfg(target_pointer_width = "64")]
const _: () = assert!(size_of::<NDK_LISTENER_DISPATCH>() == 0x28);

/// 13 entries (0x68) in NDKPI 2.1; a 2.0 consumer never reads past entry 10.
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct NDK_CONNECTOR_DISPATCH {
    pub NdkCloseConnector: NDK_FN_CLOSE_OBJECT,
    pub NdkQueryExtension: NDK_FN_QUERY_EXTENSION_INTERFACE,
    pub NdkConnect: NDK_FN_CONNECT,
    pub NdkConnectWithSharedEndpoint: NDK_FN_CONNECT_WITH_SHARED_ENDPOINT,
    pub NdkCompleteConnect: NDK_FN_COMPLETE_CONNECT,
    pub NdkAccept: NDK_FN_ACCEPT,
    pub NdkReject: NDK_FN_REJECT,
    pub NdkGetConnectionData: NDK_FN_GET_CONNECTION_DATA,
    pub NdkGetLocalAddress: NDK_FN_GET_LOCAL_ADDRESS,
    pub NdkGetPeerAddress: NDK_FN_GET_PEER_ADDRESS,
    pub NdkDisconnect: NDK_FN_DISCONNECT,
    pub NdkCompleteConnectEx: NDK_FN_COMPLETE_CONNECT_EX,
    pub NdkAcceptEx: NDK_FN_ACCEPT_EX,
}
assert_table!(NDK_CONNECTOR_DISPATCH: NdkCloseConnector, NdkQueryExtension, NdkConnect,
    NdkConnectWithSharedEndpoint, NdkCompleteConnect, NdkAccept, NdkReject, NdkGetConnectionData,
    NdkGetLocalAddress, NdkGetPeerAddress, NdkDisconnect, NdkCompleteConnectEx, NdkAcceptEx);
#[cfg(target_pointer_width = "64")]
const _: () = {
    assert!(offset_of!(NDK_CONNECTOR_DISPATCH, NdkCompleteConnectEx) == 0x58);
    assert!(offset_of!(NDK_CONNECTOR_DISPATCH, NdkAcceptEx) == 0x60);
    assert!(size_of::<NDK_CONNECTOR_DISPATCH>() == 0x68);
};
