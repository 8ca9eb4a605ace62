//! The provider's NDK_ADAPTER_DISPATCH table and the adapter entries not
//! implemented elsewhere. Owns the table's contents.
//!
//! PENDING (a later issue): NdkCreateCq, NdkCreatePd, NdkCreateSharedEndpoint,
//! NdkCreateConnector, NdkCreateListener and NdkBuildLAM check the adapter
//! pointer and return STATUS_NOT_IMPLEMENTED without calling any completion
//! and without touching their out-parameters; NdkReleaseLAM does nothing
//! (no LAM can exist yet).

use core::ffi::c_void;

use crate::abi::{
    NtStatus, GROUP_AFFINITY, MDL, NDK_ADAPTER, NDK_ADAPTER_DISPATCH, NDK_CONNECTOR, NDK_CQ,
    NDK_FN_CONNECT_EVENT_CALLBACK, NDK_FN_CQ_NOTIFICATION_CALLBACK, NDK_FN_CREATE_COMPLETION,
    NDK_FN_REQUEST_COMPLETION, NDK_LISTENER, NDK_LOGICAL_ADDRESS_MAPPING, NDK_PD,
    NDK_SHARED_ENDPOINT, SOCKADDR, STATUS_INVALID_HANDLE, STATUS_INVALID_PARAMETER,
    STATUS_NOT_IMPLEMENTED,
};

use super::adapter::Adapter;
use super::extension::ndk_query_extension;
use super::query_adapter_info::ndk_query_adapter_info;

/// The table every adapter's `Dispatch` points to, in ABI order.
pub static ADAPTER_DISPATCH: NDK_ADAPTER_DISPATCH = NDK_ADAPTER_DISPATCH {
    NdkQueryExtension: ndk_query_extension,
    NdkQueryAdapterInfo: ndk_query_adapter_info,
    NdkCreateCq: ndk_create_cq,
    NdkCreatePd: ndk_create_pd,
    NdkCreateSharedEndpoint: ndk_create_shared_endpoint,
    NdkCreateConnector: ndk_create_connector,
    NdkCreateListener: ndk_create_listener,
    NdkBuildLAM: ndk_build_lam,
    NdkReleaseLAM: ndk_release_lam,
};

/// The answer of a pending entry: invalid adapter pointers are still refused.
///
/// # Safety
/// `adapter` is NULL or a readable NDK object (NDKPI contract).
unsafe fn pending(adapter: *mut NDK_ADAPTER) -> NtStatus {
    if adapter.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: non-null; readable by the caller's contract.
    match unsafe { Adapter::from_ndk(adapter) } {
        Some(_) => STATUS_NOT_IMPLEMENTED,
        None => STATUS_INVALID_HANDLE,
    }
}

/// NDK_FN_CREATE_CQ. PENDING: STATUS_NOT_IMPLEMENTED, no completion.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_create_cq(
    adapter: *mut NDK_ADAPTER,
    _cq_depth: u32,
    _notification: Option<NDK_FN_CQ_NOTIFICATION_CALLBACK>,
    _notification_context: *mut c_void,
    _affinity: *mut GROUP_AFFINITY,
    _create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    _request_context: *mut c_void,
    _pp_cq: *mut *mut NDK_CQ,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_CREATE_PD. PENDING: STATUS_NOT_IMPLEMENTED, no completion.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_create_pd(
    adapter: *mut NDK_ADAPTER,
    _create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    _request_context: *mut c_void,
    _pp_pd: *mut *mut NDK_PD,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_CREATE_SHARED_ENDPOINT. PENDING: STATUS_NOT_IMPLEMENTED, no completion.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_create_shared_endpoint(
    adapter: *mut NDK_ADAPTER,
    _address: *const SOCKADDR,
    _address_length: u32,
    _create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    _request_context: *mut c_void,
    _pp_shared_endpoint: *mut *mut NDK_SHARED_ENDPOINT,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_CREATE_CONNECTOR. PENDING: STATUS_NOT_IMPLEMENTED, no completion.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_create_connector(
    adapter: *mut NDK_ADAPTER,
    _create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    _request_context: *mut c_void,
    _pp_connector: *mut *mut NDK_CONNECTOR,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_CREATE_LISTENER. PENDING: STATUS_NOT_IMPLEMENTED, no completion.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_create_listener(
    adapter: *mut NDK_ADAPTER,
    _connect_event: Option<NDK_FN_CONNECT_EVENT_CALLBACK>,
    _connect_event_context: *mut c_void,
    _create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    _request_context: *mut c_void,
    _pp_listener: *mut *mut NDK_LISTENER,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_BUILD_LAM. PENDING: STATUS_NOT_IMPLEMENTED, no completion, sizes
/// untouched.
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract for `adapter`.
unsafe extern "system" fn ndk_build_lam(
    adapter: *mut NDK_ADAPTER,
    _mdl: *mut MDL,
    _length: usize,
    _request_completion: Option<NDK_FN_REQUEST_COMPLETION>,
    _request_context: *mut c_void,
    _lam: *mut NDK_LOGICAL_ADDRESS_MAPPING,
    _lam_size: *mut u32,
    _fbo: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded NDKPI contract.
    unsafe { pending(adapter) }
}

/// NDK_FN_RELEASE_LAM. PENDING: nothing to release, since NdkBuildLAM never
/// succeeds yet.
/// IRQL: <= DISPATCH_LEVEL.
unsafe extern "system" fn ndk_release_lam(
    _adapter: *mut NDK_ADAPTER,
    _lam: *mut NDK_LOGICAL_ADDRESS_MAPPING,
) {
}
