//! MiniportOidRequest and MiniportCancelOidRequest: every request completes
//! synchronously (never NDIS_STATUS_PENDING, as OID_NDK_SET_STATE requires).
//! Answers and checks are the pure `oid_payload` module's; this file moves
//! bytes between it and the NDIS_OID_REQUEST.
//!
//! Owns: the OID dispatch. Must not raise PnP events (the `ndk` module's
//! work item does, outside the OID handler).

use core::sync::atomic::Ordering;

use crate::abi::{
    NtStatus, NDIS_HANDLE, NDIS_OID, NDIS_STATUS, NDIS_STATUS_NOT_SUPPORTED, NDIS_STATUS_SUCCESS,
    OID_NDK_CONNECTIONS, OID_NDK_LOCAL_ENDPOINTS, OID_NDK_SET_STATE, OID_NDK_STATISTICS,
};
use crate::os::irql;

use super::super::ndis::*;
use super::adapter::Adapter;
use super::ndk;
use super::oid_payload::{self, general_query, is_ndk_oid, parse_set, SetRequest};

/// The OIDs the adapter answers (OID_GEN_SUPPORTED_LIST, from the general
/// attributes).
pub static SUPPORTED_OIDS: [NDIS_OID; 41] = [
    OID_GEN_HARDWARE_STATUS,
    OID_GEN_MEDIA_SUPPORTED,
    OID_GEN_MEDIA_IN_USE,
    OID_GEN_PHYSICAL_MEDIUM,
    OID_GEN_MAXIMUM_LOOKAHEAD,
    OID_GEN_MAXIMUM_FRAME_SIZE,
    OID_GEN_CURRENT_LOOKAHEAD,
    OID_GEN_MAXIMUM_TOTAL_SIZE,
    OID_GEN_TRANSMIT_BLOCK_SIZE,
    OID_GEN_RECEIVE_BLOCK_SIZE,
    OID_GEN_TRANSMIT_BUFFER_SPACE,
    OID_GEN_RECEIVE_BUFFER_SPACE,
    OID_GEN_LINK_SPEED,
    OID_GEN_VENDOR_ID,
    OID_GEN_VENDOR_DESCRIPTION,
    OID_GEN_VENDOR_DRIVER_VERSION,
    OID_GEN_DRIVER_VERSION,
    OID_GEN_CURRENT_PACKET_FILTER,
    OID_GEN_MAC_OPTIONS,
    OID_GEN_MEDIA_CONNECT_STATUS,
    OID_GEN_MAXIMUM_SEND_PACKETS,
    OID_GEN_XMIT_OK,
    OID_GEN_RCV_OK,
    OID_GEN_XMIT_ERROR,
    OID_GEN_RCV_ERROR,
    OID_GEN_RCV_NO_BUFFER,
    OID_GEN_STATISTICS,
    OID_GEN_INTERRUPT_MODERATION,
    OID_GEN_LINK_PARAMETERS,
    OID_GEN_NETWORK_LAYER_ADDRESSES,
    OID_802_3_PERMANENT_ADDRESS,
    OID_802_3_CURRENT_ADDRESS,
    OID_802_3_MULTICAST_LIST,
    OID_802_3_MAXIMUM_LIST_SIZE,
    OID_802_3_RCV_ERROR_ALIGNMENT,
    OID_802_3_XMIT_ONE_COLLISION,
    OID_802_3_XMIT_MORE_COLLISIONS,
    OID_NDK_SET_STATE,
    OID_NDK_STATISTICS,
    OID_NDK_CONNECTIONS,
    OID_NDK_LOCAL_ENDPOINTS,
];

/// IRQL: any.
fn status(bits: u32) -> NDIS_STATUS {
    NtStatus(bits as i32)
}

/// The request's information buffer as a byte slice.
///
/// # Safety
/// `r` is NDIS's live request.
///
/// IRQL: any.
unsafe fn info_buffer<'a>(r: &NDIS_OID_REQUEST) -> &'a mut [u8] {
    if r.InformationBuffer.is_null() || r.InformationBufferLength == 0 {
        return &mut [];
    }
    // SAFETY: NDIS's buffer of InformationBufferLength bytes, ours for the
    // duration of the request.
    unsafe {
        core::slice::from_raw_parts_mut(
            r.InformationBuffer.cast::<u8>(),
            r.InformationBufferLength as usize,
        )
    }
}

/// IRQL: any.
fn finish_query(r: &mut NDIS_OID_REQUEST, result: Result<usize, usize>) -> NDIS_STATUS {
    match result {
        Ok(n) => {
            r.BytesWrittenOrRead = n as u32;
            r.BytesNeeded = 0;
            NDIS_STATUS_SUCCESS
        }
        Err(needed) => {
            r.BytesWrittenOrRead = 0;
            r.BytesNeeded = u32::try_from(needed).unwrap_or(u32::MAX);
            status(NDIS_STATUS_BUFFER_TOO_SHORT)
        }
    }
}

/// IRQL: <= DISPATCH_LEVEL.
fn query(a: &Adapter, r: &mut NDIS_OID_REQUEST) -> NDIS_STATUS {
    // SAFETY: NDIS's live request.
    let out = unsafe { info_buffer(r) };
    let oid = r.Oid;
    if is_ndk_oid(oid) {
        let result = match oid {
            OID_NDK_STATISTICS => {
                let img = oid_payload::ndk_statistics(&a.counters.snapshot());
                match out.get_mut(..img.len()) {
                    Some(dst) => {
                        dst.copy_from_slice(&img);
                        Ok(img.len())
                    }
                    None => Err(img.len()),
                }
            }
            OID_NDK_CONNECTIONS => {
                oid_payload::ndk_connections(&|f| ndk::visit_connections(a, f), out)
            }
            OID_NDK_LOCAL_ENDPOINTS => {
                oid_payload::ndk_local_endpoints(&|f| ndk::visit_local_endpoints(a, f), out)
            }
            _ => return NDIS_STATUS_NOT_SUPPORTED,
        };
        return finish_query(r, result);
    }
    match general_query(oid, &a.general_info()) {
        Some(answer) => finish_query(r, answer.write(out)),
        None => NDIS_STATUS_NOT_SUPPORTED,
    }
}

/// IRQL: <= DISPATCH_LEVEL.
fn set(a: &Adapter, r: &mut NDIS_OID_REQUEST) -> NDIS_STATUS {
    // SAFETY: NDIS's live request.
    let buf = unsafe { info_buffer(r) };
    match parse_set(r.Oid, buf, a.mtu) {
        Ok(req) => {
            match req {
                SetRequest::PacketFilter(f) => a.packet_filter.store(f, Ordering::Relaxed),
                SetRequest::Lookahead(l) => a.lookahead.store(l, Ordering::Relaxed),
                SetRequest::MulticastList(_) | SetRequest::Accept => {}
                SetRequest::NdkState(on) => ndk::set_state(a, on),
            }
            r.BytesWrittenOrRead = r.InformationBufferLength;
            r.BytesNeeded = 0;
            NDIS_STATUS_SUCCESS
        }
        Err(refused) => {
            r.BytesWrittenOrRead = 0;
            r.BytesNeeded = refused.bytes_needed;
            status(refused.status)
        }
    }
}

/// MiniportOidRequest.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn oid_request(
    ctx: NDIS_HANDLE,
    request: *mut NDIS_OID_REQUEST,
) -> NDIS_STATUS {
    irql::assert_at_most(crate::os::Irql::Dispatch, "MiniportOidRequest");
    // SAFETY: NDIS's live context and request.
    let (a, r) = unsafe { (Adapter::from_context(ctx), &mut *request) };
    match r.RequestType {
        NDIS_REQUEST_QUERY_INFORMATION | NDIS_REQUEST_QUERY_STATISTICS => query(a, r),
        NDIS_REQUEST_SET_INFORMATION => set(a, r),
        _ => NDIS_STATUS_NOT_SUPPORTED,
    }
}

/// MiniportCancelOidRequest: every request completed synchronously, so
/// there is never one to cancel.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn cancel_oid_request(
    _ctx: NDIS_HANDLE,
    _request_id: *mut core::ffi::c_void,
) {
}
