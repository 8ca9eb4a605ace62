//! The virtual adapter's Ethernet data path. Decision (`docs/WINDOWS.md`):
//! the NDIS send path is not the RDMA path (RoCEv2 goes through the carrier
//! on the real NIC), so every frame the TCP/IP stack sends on the softroce
//! interface (ARP, ND, DHCP, anything routed to it) is completed at once
//! with NDIS_STATUS_SUCCESS and dropped, counted as ifOutDiscards
//! (OID_GEN_STATISTICS); while paused, completed with NDIS_STATUS_PAUSED.
//! Nothing is ever indicated up, so MiniportReturnNetBufferLists is never
//! called with anything, and no send is ever pending to cancel.
//!
//! Paired mode (`LowerMacAddress`, `os::windows::lower`) replaces all of
//! the above: sends are forwarded to the NIC and receives indicated up
//! (`lower::datapath`); this module only dispatches to it.
//!
//! Owns: the send/return/cancel handlers. Must not look into frames.

use core::sync::atomic::Ordering;

use crate::abi::{NtStatus, NDIS_HANDLE, NDIS_STATUS_SUCCESS};

use super::super::imports::NdisMSendNetBufferListsComplete;
use super::super::lower::datapath::{forward_sends, return_clones};
use super::super::ndis::{
    NDIS_PORT_NUMBER, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL, NDIS_SEND_FLAGS_DISPATCH_LEVEL,
    NDIS_STATUS_PAUSED, NET_BUFFER_LIST,
};
use super::adapter::Adapter;

/// MiniportSendNetBufferLists.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn send_net_buffer_lists(
    ctx: NDIS_HANDLE,
    nbls: *mut NET_BUFFER_LIST,
    _port: NDIS_PORT_NUMBER,
    send_flags: u32,
) {
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    if let Some(link) = &a.link {
        // SAFETY: NDIS's send chain, ours until completed.
        unsafe { forward_sends(link, nbls, send_flags) };
        return;
    }
    let status = if a.paused.load(Ordering::Relaxed) {
        NtStatus(NDIS_STATUS_PAUSED as i32)
    } else {
        NDIS_STATUS_SUCCESS
    };
    let mut n = 0u64;
    let mut cur = nbls;
    while !cur.is_null() {
        // SAFETY: NDIS's chain of NBLs, owned by us until completed.
        unsafe {
            (*cur).Status = status;
            cur = (*cur).Next;
        }
        n += 1;
    }
    if status == NDIS_STATUS_SUCCESS {
        a.xmit_discards.fetch_add(n, Ordering::Relaxed);
    }
    let flags = if send_flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL != 0 {
        NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL
    } else {
        0
    };
    if !nbls.is_null() {
        // SAFETY: returns the whole chain NDIS gave us, each with a status.
        unsafe { NdisMSendNetBufferListsComplete(a.handle, nbls, flags) };
    }
}

/// MiniportReturnNetBufferLists: WSK mode never indicates anything; paired
/// mode gets its receive clones back.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn return_net_buffer_lists(
    ctx: NDIS_HANDLE,
    nbls: *mut NET_BUFFER_LIST,
    flags: u32,
) {
    // SAFETY: NDIS's live context.
    let a = unsafe { Adapter::from_context(ctx) };
    if let Some(link) = &a.link {
        // SAFETY: NDIS returns clones the paired data path indicated.
        unsafe { return_clones(link, nbls, flags) };
    }
}

/// MiniportCancelSend: WSK mode completes inline; paired mode forwards to
/// the NIC, whose completion comes back (cancel ids are not propagated:
/// the NIC completes every send).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn cancel_send(_ctx: NDIS_HANDLE, _cancel_id: *mut core::ffi::c_void) {}
