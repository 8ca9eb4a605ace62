//! The MUX data path between the softroce miniport (upper edge, the host's
//! IP interface) and its lower binding (the physical NIC):
//!
//! - **Stack sends** ([`forward_sends`], from MiniportSendNetBufferLists):
//!   each NBL is cloned (`NdisAllocateCloneNetBufferList` from the
//!   binding's clone pool, original MDLs), its send info copied
//!   (`NdisCopySendNetBufferListInfo`), `SourceHandle` = the binding
//!   handle, `ParentNetBufferList` set, the adapter link remembered in
//!   `ProtocolReserved[0]`, and sent down. Unpaired
//!   or paused: completed at once with NDIS_STATUS_MEDIA_DISCONNECTED /
//!   NDIS_STATUS_PAUSED; no clone: NDIS_STATUS_RESOURCES.
//! - **Send completions** ([`send_complete`], ProtocolSendNetBufferListsComplete):
//!   NBLs from the clone pool complete their parent to NDIS with the
//!   clone's status and are freed; NBLs from the frame pool are the
//!   carrier's own frames and go back to the free list.
//! - **Receives** ([`receive`], ProtocolReceiveNetBufferLists): each NBL on
//!   its own; URO-coalesced NBLs and NBLs that cannot be classified pass up
//!   unchanged (counted); otherwise the frame is read with `NdisGetDataBuffer`
//!   (per-processor storage of `CLASSIFY_STORAGE` bytes when not
//!   contiguous) and given to the frame carrier: Consumed/Dropped are not
//!   indicated up; NotOurs (and everything while no carrier is open) is
//!   indicated up on the paired miniport as a clone (receive info copied,
//!   `SourceHandle` = the miniport adapter handle).
//!   Under NDIS_RECEIVE_FLAGS_RESOURCES the clone is indicated with the same
//!   flag (the stack copies), freed when the indication returns, and the
//!   originals stay with NDIS; otherwise the originals are kept until the
//!   stack returns the clone ([`return_clones`], MiniportReturnNetBufferLists)
//!   and then returned with `NdisReturnNetBufferLists`. Unpaired or paused
//!   adapter: everything is returned.
//!
//! Clone NBLs come from NBL pools made at bind / adapter initialisation;
//! NDIS serves them from its per-pool lookaside at DISPATCH (the documented
//! NDIS data-path allocation); softroce's own heap is never touched here.
//!
//! Owns: NBL handling of both directions. Must not parse protocol headers
//! (the frame carrier classifies).

use alloc::sync::Arc;
use core::ffi::c_void;
use core::ptr;
use core::sync::atomic::Ordering;

use crate::abi::{NtStatus, NDIS_HANDLE, NDIS_STATUS_RESOURCES};
use crate::link::FrameVerdict;

use super::super::imports::{
    KeGetCurrentProcessorNumberEx, NdisAllocateCloneNetBufferList,
    NdisCopyReceiveNetBufferListInfo, NdisCopySendNetBufferListInfo, NdisFreeCloneNetBufferList,
    NdisGetDataBuffer, NdisMIndicateReceiveNetBufferLists, NdisMSendNetBufferListsComplete,
    NdisReturnNetBufferLists, NdisSendNetBufferLists,
};
use super::super::irql::RaiseToDispatch;
use super::super::ndis::{
    NDIS_PORT_NUMBER, NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL, NDIS_SEND_FLAGS_DISPATCH_LEVEL,
    NDIS_STATUS_MEDIA_DISCONNECTED, NDIS_STATUS_PAUSED, NET_BUFFER_LIST,
};
use super::super::ndis_protocol::*;
use super::binding::{Binding, CLASSIFY_STORAGE, RUNNING};
use super::link::{AdapterLink, LowerCarrier};

/// Iterates a chain, detaching each NBL (`Next` = null) before yielding it.
///
/// # Safety
/// The caller owns every NBL of the chain.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe fn detach_each(mut nbl: *mut NET_BUFFER_LIST, mut f: impl FnMut(*mut NET_BUFFER_LIST)) {
    while !nbl.is_null() {
        // SAFETY: an NBL of the caller's chain.
        let next = unsafe { (*nbl).Next };
        // SAFETY: as above; detaching is the owner's right.
        unsafe { (*nbl).Next = ptr::null_mut() };
        f(nbl);
        nbl = next;
    }
}

/// A chain built by appending.
struct Chain {
    head: *mut NET_BUFFER_LIST,
    tail: *mut NET_BUFFER_LIST,
}

impl Chain {
    /// IRQL: any.
    const fn new() -> Self {
        Chain {
            head: ptr::null_mut(),
            tail: ptr::null_mut(),
        }
    }

    /// Appends a detached NBL.
    ///
    /// IRQL: any.
    fn push(&mut self, nbl: *mut NET_BUFFER_LIST) {
        if self.tail.is_null() {
            self.head = nbl;
        } else {
            // SAFETY: the tail is an NBL this chain holds.
            unsafe { (*self.tail).Next = nbl };
        }
        self.tail = nbl;
    }
}

/// The send-complete flags that match send flags.
///
/// IRQL: any.
fn complete_flags(dispatch: bool) -> u32 {
    if dispatch {
        NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL
    } else {
        0
    }
}

/// MiniportSendNetBufferLists of a paired-mode adapter. See the module
/// documentation.
///
/// # Safety
/// `nbls` is NDIS's send chain, owned by the miniport until completed.
///
/// IRQL: <= DISPATCH_LEVEL.
pub unsafe fn forward_sends(link: &Arc<AdapterLink>, nbls: *mut NET_BUFFER_LIST, send_flags: u32) {
    let dispatch = send_flags & NDIS_SEND_FLAGS_DISPATCH_LEVEL != 0;
    let binding = link.binding();
    let mut down = Chain::new();
    let mut failed = Chain::new();
    // SAFETY: the caller's chain.
    unsafe {
        detach_each(nbls, |nbl| {
            // Counted before `running` is checked, so a pause that saw the
            // count at zero has stopped this send (its check sees false).
            link.tx_pending.fetch_add(1, Ordering::SeqCst);
            let status = match &binding {
                _ if !link.running.load(Ordering::SeqCst) => Err(NDIS_STATUS_PAUSED),
                None => Err(NDIS_STATUS_MEDIA_DISCONNECTED),
                Some(b) => forward_one(link, b, nbl).map(|clone| down.push(clone)),
            };
            if let Err(s) = status {
                link.tx_pending.fetch_sub(1, Ordering::SeqCst);
                (*nbl).Status = NtStatus(s as i32);
                link.counters.tx_failed.fetch_add(1, Ordering::Relaxed);
                failed.push(nbl);
            }
        });
    }
    if let (Some(b), false) = (&binding, down.head.is_null()) {
        let flags = if dispatch {
            NDIS_SEND_FLAGS_DISPATCH_LEVEL
        } else {
            0
        };
        // SAFETY: each clone entered the binding (Running) and is ours until
        // its send completes.
        unsafe { NdisSendNetBufferLists(b.handle(), down.head, 0, flags) };
    }
    if !failed.head.is_null() {
        // SAFETY: NDIS's NBLs, each with its status.
        unsafe {
            NdisMSendNetBufferListsComplete(link.miniport, failed.head, complete_flags(dispatch))
        };
    }
}

/// Clones one stack NBL for the binding. `Err(status)` to complete it with.
///
/// # Safety
/// `nbl` is a detached NBL of the stack's send.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe fn forward_one(
    link: &Arc<AdapterLink>,
    b: &Binding,
    nbl: *mut NET_BUFFER_LIST,
) -> Result<*mut NET_BUFFER_LIST, u32> {
    if let Err(e) = b.enter_send() {
        return Err(match e {
            crate::os::SendError::WouldBlock => NDIS_STATUS_PAUSED,
            _ => NDIS_STATUS_MEDIA_DISCONNECTED,
        });
    }
    // SAFETY: the stack's NBL; our clone pool (no NET_BUFFERs: NDIS clones
    // the NBs too, sharing the original MDLs).
    let clone = unsafe {
        NdisAllocateCloneNetBufferList(
            nbl,
            b.clone_pool,
            ptr::null_mut(),
            NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS,
        )
    };
    if clone.is_null() {
        b.leave();
        return Err(NDIS_STATUS_RESOURCES.0 as u32);
    }
    link.counters.tx_forwarded.fetch_add(1, Ordering::Relaxed);
    // SAFETY: both NBLs are live; the clone is ours. A protocol driver sets
    // SourceHandle of every NBL it sends to its NdisBindingHandle (NDIS
    // routes the completion by it; learn.microsoft.com
    // NdisSendNetBufferLists, "Sending Network Data").
    unsafe {
        let _ = NdisCopySendNetBufferListInfo(clone, nbl);
        (*clone).SourceHandle = b.handle();
        (*clone).ParentNetBufferList = nbl;
        (*clone).ProtocolReserved[0] = Arc::as_ptr(link).cast_mut().cast();
        (*clone).Next = ptr::null_mut();
    }
    Ok(clone)
}

/// ProtocolSendNetBufferListsComplete.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn send_complete(
    ctx: NDIS_HANDLE,
    nbls: *mut NET_BUFFER_LIST,
    flags: u32,
) {
    // SAFETY: our binding context (an Arc raw pointer, live until unbind
    // completes, which waits for every send).
    let b = unsafe { &*ctx.cast::<Binding>() };
    let dispatch = flags & NDIS_SEND_COMPLETE_FLAGS_DISPATCH_LEVEL != 0;
    // SAFETY: NDIS hands the completed chain back to us.
    unsafe {
        detach_each(nbls, |nbl| {
            let pool = (*nbl).NdisPoolHandle;
            if pool == b.clone_pool {
                let parent = (*nbl).ParentNetBufferList;
                // A link lives until halt, which follows a pause that waited
                // for `tx_pending`.
                let link = &*(*nbl).ProtocolReserved[0].cast::<AdapterLink>();
                (*parent).Status = (*nbl).Status;
                NdisFreeCloneNetBufferList(nbl, NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS);
                (*parent).Next = ptr::null_mut();
                NdisMSendNetBufferListsComplete(link.miniport, parent, complete_flags(dispatch));
                link.tx_pending.fetch_sub(1, Ordering::SeqCst);
            } else if pool == b.frame_pool {
                // A frame NBL of this binding, its send completed.
                b.push_ctx(nbl);
            }
            b.leave();
        });
    }
}

/// Reads the frame of a single-NET_BUFFER NBL and lets the carrier judge
/// it. `None`: not classifiable (passed up unchanged).
///
/// # Safety
/// `nbl` is a received NBL the caller owns for this call.
///
/// IRQL: DISPATCH_LEVEL.
unsafe fn classify(
    b: &Binding,
    carrier: &LowerCarrier,
    nbl: *mut NET_BUFFER_LIST,
) -> Option<FrameVerdict> {
    // SAFETY: a received NBL.
    let nb = unsafe { (*nbl).FirstNetBuffer }.cast::<NET_BUFFER>();
    // SAFETY: nb checked non-null before the read.
    if nb.is_null() || !unsafe { (*nb).Next }.is_null() {
        return None;
    }
    // SAFETY: a live NET_BUFFER.
    let len = unsafe { (*nb).DataLength };
    let n = len as usize;
    if n <= CLASSIFY_STORAGE {
        // SAFETY: any IRQL; a null PROCESSOR_NUMBER pointer is allowed.
        let cpu = unsafe { KeGetCurrentProcessorNumberEx(ptr::null_mut()) } as usize;
        let scratch = b.scratch.get(cpu)?;
        // At DISPATCH this processor cannot switch threads: only our own
        // nesting (a loopback receive inside a send) races the depth.
        let level = scratch.depth.fetch_add(1, Ordering::Relaxed) as usize;
        let verdict = scratch.bufs.get(level).and_then(|cell| {
            // SAFETY: this processor's storage at this nesting level, used by
            // this call only until it returns; NdisGetDataBuffer copies at
            // most `len` bytes into it.
            let p = unsafe { NdisGetDataBuffer(nb.cast(), len, cell.get().cast(), 1, 0) };
            if p.is_null() {
                return None;
            }
            // SAFETY: NdisGetDataBuffer's contiguous `len` bytes (in the NB or
            // in our storage), valid during this call.
            let frame = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) };
            Some(carrier.on_frame(frame))
        });
        scratch.depth.fetch_sub(1, Ordering::Relaxed);
        verdict
    } else {
        // Larger than the storage: only when contiguous in the NB.
        // SAFETY: a live NET_BUFFER; no storage means "contiguous or null".
        let p = unsafe { NdisGetDataBuffer(nb.cast(), len, ptr::null_mut(), 1, 0) };
        if p.is_null() {
            return None;
        }
        // SAFETY: contiguous `len` bytes mapped by NDIS, valid during this call.
        let frame = unsafe { core::slice::from_raw_parts(p.cast::<u8>(), n) };
        Some(carrier.on_frame(frame))
    }
}

/// Whether the NBL carries URO (UDP receive segment coalescing) info.
///
/// # Safety
/// `nbl` is a live received NBL.
///
/// IRQL: any.
unsafe fn is_uro(nbl: *mut NET_BUFFER_LIST) -> bool {
    let info = nbl
        .cast::<u8>()
        .wrapping_add(NET_BUFFER_LIST_INFO_OFFSET)
        .cast::<*mut c_void>()
        .wrapping_add(UDP_RECV_SEG_COALESCE_OFFLOAD_INFO);
    // SAFETY: NetBufferListInfo has more than 17 slots on every NDIS 6.20+
    // system; the slot is pointer-sized and aligned.
    !unsafe { info.read() }.is_null()
}

/// Indicates a clone of `nbl` up on the link's miniport. `false`: no clone
/// (the caller returns the original).
///
/// # Safety
/// `nbl` is a received NBL the caller owns (kept until the clone returns,
/// unless `resources`).
///
/// IRQL: DISPATCH_LEVEL.
unsafe fn indicate_up(
    b: &Arc<Binding>,
    link: &AdapterLink,
    nbl: *mut NET_BUFFER_LIST,
    flags: u32,
) -> bool {
    // SAFETY: a live received NBL; the link's receive clone pool.
    let clone = unsafe {
        NdisAllocateCloneNetBufferList(
            nbl,
            link.rx_clone_pool,
            ptr::null_mut(),
            NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS,
        )
    };
    if clone.is_null() {
        return false;
    }
    // Counted before `running` is checked (see `forward_sends`): a paused
    // miniport indicates nothing.
    link.rx_pending.fetch_add(1, Ordering::SeqCst);
    if !link.running.load(Ordering::SeqCst) {
        link.rx_pending.fetch_sub(1, Ordering::SeqCst);
        // SAFETY: our clone, never indicated.
        unsafe { NdisFreeCloneNetBufferList(clone, NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS) };
        return false;
    }
    let resources = flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0;
    b.outstanding.fetch_add(1, Ordering::SeqCst);
    // SAFETY: both NBLs are live; the clone is ours (MiniportReserved is
    // the miniport's: ours, since the miniport indicates it). A miniport sets
    // SourceHandle of every NBL it indicates to its MiniportAdapterHandle
    // (learn.microsoft.com NdisMIndicateReceiveNetBufferLists, Remarks): NDIS
    // returns the clone to this miniport's MiniportReturnNetBufferLists by it.
    unsafe {
        let _ = NdisCopyReceiveNetBufferListInfo(clone, nbl);
        (*clone).SourceHandle = link.miniport;
        (*clone).ParentNetBufferList = nbl;
        (*clone).MiniportReserved[0] = Arc::into_raw(b.clone()).cast_mut().cast();
        (*clone).Next = ptr::null_mut();
        NdisMIndicateReceiveNetBufferLists(
            link.miniport,
            clone,
            0,
            1,
            flags & (NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL | NDIS_RECEIVE_FLAGS_RESOURCES),
        );
    }
    if resources {
        // The stack copied what it needed; the clone is ours again and the
        // original goes back to NDIS when the receive handler returns.
        // SAFETY: our clone, indicated with RESOURCES and back in our hands.
        unsafe { finish_clone(link, clone, false, 0) };
    }
    true
}

/// Frees a receive clone, drops its binding reference and (`give_back`)
/// returns its original to NDIS.
///
/// # Safety
/// `clone` is a receive clone this module indicated, back in our hands.
///
/// IRQL: <= DISPATCH_LEVEL.
unsafe fn finish_clone(
    link: &AdapterLink,
    clone: *mut NET_BUFFER_LIST,
    give_back: bool,
    return_flags: u32,
) {
    // SAFETY: set in `indicate_up`: the parent and an Arc<Binding> raw
    // pointer.
    let (parent, b) = unsafe {
        (
            (*clone).ParentNetBufferList,
            Arc::from_raw((*clone).MiniportReserved[0].cast::<Binding>().cast_const()),
        )
    };
    // SAFETY: our clone, allocated with the same flags.
    unsafe { NdisFreeCloneNetBufferList(clone, NDIS_CLONE_FLAGS_USE_ORIGINAL_MDLS) };
    if give_back {
        // SAFETY: the original the binding indicated without RESOURCES, kept
        // until now; the binding stays open while `outstanding` counts it.
        unsafe {
            (*parent).Next = ptr::null_mut();
            NdisReturnNetBufferLists(b.handle(), parent, return_flags);
        }
    }
    link.rx_pending.fetch_sub(1, Ordering::SeqCst);
    b.leave();
    // Not the last reference: unbind holds one while it drains `outstanding`.
    drop(b);
}

/// ProtocolReceiveNetBufferLists.
///
/// IRQL: <= DISPATCH_LEVEL (runs at DISPATCH_LEVEL, raised if called below).
///
/// # Safety
/// Called by NDIS only.
pub unsafe extern "system" fn receive(
    ctx: NDIS_HANDLE,
    nbls: *mut NET_BUFFER_LIST,
    _port: NDIS_PORT_NUMBER,
    _count: u32,
    flags: u32,
) {
    // NDIS may call this below DISPATCH (no NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL).
    // `classify` picks this processor's storage by nesting depth, which is
    // only exclusive when the thread cannot be preempted or migrate, and the
    // frame carrier's `on_frame` runs at DISPATCH: so the whole handler runs
    // at DISPATCH (as the WSK receive event does), and every NDIS call made
    // from it says so in its flags.
    let _dispatch = RaiseToDispatch::new();
    let flags = flags | NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL;
    // SAFETY: our binding context: an `Arc<Binding>` raw pointer, live until
    // unbind completes. Borrowed as an Arc without taking it over.
    let b = core::mem::ManuallyDrop::new(unsafe { Arc::from_raw(ctx.cast::<Binding>()) });
    let resources = flags & NDIS_RECEIVE_FLAGS_RESOURCES != 0;
    // A pausing or paused binding returns receives at once (learn.microsoft.com
    // "Pausing a binding"), so its pause is not held up by new indications.
    let link = if b.state() == RUNNING {
        b.partner().filter(|l| l.running.load(Ordering::SeqCst))
    } else {
        None
    };
    let carrier = link.as_ref().and_then(|l| l.carrier());
    let mut give_back = Chain::new();
    let mut nbl = nbls;
    while !nbl.is_null() {
        // SAFETY: NDIS's chain. Under RESOURCES the chain stays as NDIS
        // built it (NDIS takes it back when we return); otherwise each NBL is
        // detached, because we keep some and return the rest.
        let next = unsafe { (*nbl).Next };
        if !resources {
            // SAFETY: we own the NBL (no RESOURCES).
            unsafe { (*nbl).Next = ptr::null_mut() };
        }
        let kept = match &link {
            None => {
                b.rx_unpaired.fetch_add(1, Ordering::Relaxed);
                false
            }
            Some(l) => {
                // SAFETY: a received NBL we own during this call.
                let verdict = if unsafe { is_uro(nbl) } {
                    l.counters.rx_uro_passed.fetch_add(1, Ordering::Relaxed);
                    None
                } else {
                    let v = carrier
                        .as_ref()
                        // SAFETY: as above, at DISPATCH (NDIS receive).
                        .and_then(|c| unsafe { classify(&b, c, nbl) });
                    if v.is_none() && carrier.is_some() {
                        l.counters
                            .rx_unclassified_passed
                            .fetch_add(1, Ordering::Relaxed);
                    }
                    v
                };
                match verdict {
                    Some(FrameVerdict::Consumed) | Some(FrameVerdict::Dropped(_)) => {
                        l.counters.rx_consumed.fetch_add(1, Ordering::Relaxed);
                        false
                    }
                    Some(FrameVerdict::NotOurs) | None => {
                        // SAFETY: a received NBL we own (kept if indicated
                        // without RESOURCES).
                        let up = unsafe { indicate_up(&b, l, nbl, flags) };
                        if !up {
                            l.counters.rx_dropped.fetch_add(1, Ordering::Relaxed);
                        }
                        up
                    }
                }
            }
        };
        // Kept NBLs wait for the clone's return; under RESOURCES nothing is
        // returned explicitly (NDIS takes the chain back when we return).
        if !kept && !resources {
            give_back.push(nbl);
        }
        nbl = next;
    }
    if !give_back.head.is_null() {
        let rf = if flags & NDIS_RECEIVE_FLAGS_DISPATCH_LEVEL != 0 {
            NDIS_RETURN_FLAGS_DISPATCH_LEVEL
        } else {
            0
        };
        // SAFETY: received NBLs we own and do not keep.
        unsafe { NdisReturnNetBufferLists(b.handle(), give_back.head, rf) };
    }
}

/// MiniportReturnNetBufferLists of a paired-mode adapter: the stack returns
/// clones indicated without RESOURCES.
///
/// # Safety
/// `nbls` is NDIS's chain of our receive clones.
///
/// IRQL: <= DISPATCH_LEVEL.
pub unsafe fn return_clones(link: &AdapterLink, nbls: *mut NET_BUFFER_LIST, return_flags: u32) {
    let rf = return_flags & NDIS_RETURN_FLAGS_DISPATCH_LEVEL;
    // SAFETY: the stack gives our clones back.
    unsafe { detach_each(nbls, |clone| finish_clone(link, clone, true, rf)) };
}
