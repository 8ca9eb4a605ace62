//! The connector object: NdkCreateConnector (adapter table) and the 13-entry
//! NDK_CONNECTOR_DISPATCH. Owns creation, lifetime and the answers of an
//! unconnected connector. PENDING (connection work): NdkConnect,
//! NdkConnectWithSharedEndpoint, NdkCompleteConnect(Ex), NdkAccept(Ex),
//! NdkReject and NdkDisconnect answer STATUS_NOT_IMPLEMENTED (never pend,
//! never complete).

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::*;
use crate::os::{irql, Irql, PoolTag};

use super::core::{tags, AdapterCore};
use super::extension::ndk_query_extension;
use super::object::{adapter_create, create, header, ndk_close, recover, Base, NewObject, Object};

/// A connector (never connected until the connection work lands).
#[repr(C)]
pub(crate) struct Connector {
    ndk: NDK_CONNECTOR,
    base: Base,
}
const _: () = assert!(core::mem::offset_of!(Connector, ndk) == 0);

impl Object for Connector {
    const TYPE: u32 = NdkObjectTypeConnector;
    const TAG: PoolTag = tags::CONNECTOR;
    const CLOSE: &'static str = "NdkCloseConnector";
    fn dispatch() -> *const c_void {
        (&CONNECTOR_DISPATCH as *const NDK_CONNECTOR_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

/// The table every connector's `Dispatch` points to (13 entries, 2.1).
pub static CONNECTOR_DISPATCH: NDK_CONNECTOR_DISPATCH = NDK_CONNECTOR_DISPATCH {
    NdkCloseConnector: ndk_close::<Connector>,
    NdkQueryExtension: ndk_query_extension,
    NdkConnect: ndk_connect,
    NdkConnectWithSharedEndpoint: ndk_connect_with_shared_endpoint,
    NdkCompleteConnect: ndk_complete_connect,
    NdkAccept: ndk_accept,
    NdkReject: ndk_reject,
    NdkGetConnectionData: ndk_get_connection_data,
    NdkGetLocalAddress: ndk_get_connector_address,
    NdkGetPeerAddress: ndk_get_connector_address,
    NdkDisconnect: ndk_disconnect,
    NdkCompleteConnectEx: ndk_complete_connect_ex,
    NdkAcceptEx: ndk_accept_ex,
};

/// NDK_FN_CREATE_CONNECTOR.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_create_connector(
    adapter: *mut NDK_ADAPTER,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp: *mut *mut NDK_CONNECTOR,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateConnector");
    let make = |core: &Arc<AdapterCore>| {
        create(NewObject::of(core), |base| Connector {
            ndk: NDK_CONNECTOR {
                Header: header(core, NdkObjectTypeConnector),
                Dispatch: &CONNECTOR_DISPATCH,
            },
            base,
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp, create_completion, request_context, make) }
}

/// The connector check shared by the entries below: its status, or `ok`.
///
/// # Safety
/// NDKPI contract.
unsafe fn connector_answer(c: *mut NDK_CONNECTOR, what: &'static str, ok: NtStatus) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, what);
    // SAFETY: forwarded contract.
    match unsafe { recover::<Connector>(c.cast()) } {
        Ok(_) => ok,
        Err(e) => e,
    }
}

/// NdkGetLocalAddress / NdkGetPeerAddress of a connector that is neither
/// connected nor connecting: STATUS_CONNECTION_INVALID (ND2's answer).
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_connector_address(
    c: *mut NDK_CONNECTOR,
    _address: *mut SOCKADDR,
    _len: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkGetLocal/PeerAddress", STATUS_CONNECTION_INVALID) }
}

/// NdkGetConnectionData of an unconnected connector: STATUS_CONNECTION_INVALID.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_get_connection_data(
    c: *mut NDK_CONNECTOR,
    _ird: *mut u32,
    _ord: *mut u32,
    _data: *mut c_void,
    _len: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkGetConnectionData", STATUS_CONNECTION_INVALID) }
}

/// NDK_FN_CONNECT: PENDING (connection work) -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _src: *const SOCKADDR,
    _src_len: u32,
    _dst: *const SOCKADDR,
    _dst_len: u32,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkConnect", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_CONNECT_WITH_SHARED_ENDPOINT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_connect_with_shared_endpoint(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _se: *mut NDK_SHARED_ENDPOINT,
    _dst: *const SOCKADDR,
    _dst_len: u32,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkConnectWithSharedEndpoint", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_COMPLETE_CONNECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect(
    c: *mut NDK_CONNECTOR,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkCompleteConnect", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_COMPLETE_CONNECT_EX: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_complete_connect_ex(
    c: *mut NDK_CONNECTOR,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkCompleteConnectEx", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_ACCEPT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkAccept", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_ACCEPT_EX: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
unsafe extern "system" fn ndk_accept_ex(
    c: *mut NDK_CONNECTOR,
    _qp: *mut NDK_QP,
    _ird: u32,
    _ord: u32,
    _data: *const c_void,
    _data_len: u32,
    _event: Option<NDK_FN_DISCONNECT_EVENT_CALLBACK_EX>,
    _event_context: *mut c_void,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkAcceptEx", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_REJECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_reject(
    c: *mut NDK_CONNECTOR,
    _data: *const c_void,
    _data_len: u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkReject", STATUS_NOT_IMPLEMENTED) }
}

/// NDK_FN_DISCONNECT: PENDING -> STATUS_NOT_IMPLEMENTED.
/// IRQL: <= DISPATCH_LEVEL.
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_disconnect(
    c: *mut NDK_CONNECTOR,
    _completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _context: *mut c_void,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe { connector_answer(c, "NdkDisconnect", STATUS_NOT_IMPLEMENTED) }
}
