//! The completion queue object: NdkCreateCq (adapter table), the
//! NDK_CQ_DISPATCH table (close, resize, arm, results, results Ex,
//! interrupt moderation) and [`CqObject::complete`], the entry the data path
//! uses to queue a completion. The ring and arming rules are
//! `verbs::cq`; notifications go through the object's `Events` (one at a
//! time, from its DPC, no lock held, never after close completed). Must not
//! call the consumer directly.

use alloc::sync::Arc;
use core::ffi::c_void;

use crate::abi::{
    CqNotifyType, NdkObjectTypeCq, NtStatus, GROUP_AFFINITY, NDK_ADAPTER, NDK_CQ, NDK_CQ_DISPATCH,
    NDK_FN_CQ_NOTIFICATION_CALLBACK, NDK_FN_CREATE_COMPLETION, NDK_FN_REQUEST_COMPLETION,
    NDK_RESULT, NDK_RESULT_EX, STATUS_BUFFER_OVERFLOW, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INTERNAL_ERROR, STATUS_INVALID_DEVICE_STATE, STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};
use crate::verbs::cq::{Cq, CqEntry, CqStatus, ResizeError};

use super::core::{tags, AdapterCore};
use super::extension::ndk_query_extension;
use super::limits::MAX_CQ_DEPTH;
use super::object::{
    adapter_create, create, finish_request, header, ndk_close, recover, Base, NewObject, Object,
};

/// A completion queue.
#[repr(C)]
pub(crate) struct CqObject {
    ndk: NDK_CQ,
    base: Base,
    ring: SpinLock<Cq>,
}
const _: () = assert!(core::mem::offset_of!(CqObject, ndk) == 0);

impl Object for CqObject {
    const TYPE: u32 = NdkObjectTypeCq;
    const TAG: PoolTag = tags::CQ;
    const CLOSE: &'static str = "NdkCloseCq";
    fn dispatch() -> *const c_void {
        (&CQ_DISPATCH as *const NDK_CQ_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
}

/// The table every CQ's `Dispatch` points to, in ABI order.
pub static CQ_DISPATCH: NDK_CQ_DISPATCH = NDK_CQ_DISPATCH {
    NdkCloseCq: ndk_close::<CqObject>,
    NdkQueryExtension: ndk_query_extension,
    NdkResizeCq: ndk_resize_cq,
    NdkArmCq: ndk_arm_cq,
    NdkGetCqResults: ndk_get_cq_results,
    NdkControlCqInterruptModeration: ndk_control_cq_interrupt_moderation,
    NdkGetCqResultsEx: ndk_get_cq_results_ex,
};

fn notification_status(s: CqStatus) -> NtStatus {
    match s {
        CqStatus::Success => STATUS_SUCCESS,
        CqStatus::Overflow => STATUS_BUFFER_OVERFLOW,
        CqStatus::InternalError => STATUS_INTERNAL_ERROR,
    }
}

impl CqObject {
    /// Queues a completion (`solicited`: a receive of a send that carried
    /// SEND_AND_SOLICIT_EVENT). A satisfied arm queues one notification; a
    /// full ring overruns the CQ (STATUS_BUFFER_OVERFLOW to an armed
    /// consumer; the CQ and its QPs are unusable from then on). Never
    /// allocates, never calls the consumer itself.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    /// The CQ's first overrun counts one CQError (`os::NdkCounters`).
    pub(crate) fn complete(&self, entry: CqEntry, solicited: bool) {
        let (note, failed) = {
            let mut ring = self.ring.lock();
            let was_usable = ring.is_usable();
            let note = ring.push(entry, solicited);
            (note, was_usable && !ring.is_usable())
        };
        if failed {
            crate::os::NdkCounters::add(&self.base.core.counters().cq_error, 1);
        }
        if let Some(n) = note {
            self.base.events.notify(notification_status(n));
        }
    }

    /// Whether the CQ still takes completions (not overrun or failed).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn is_usable(&self) -> bool {
        self.ring.lock().is_usable()
    }

    /// Its framework part (for children).
    pub(crate) fn base_ref(&self) -> &Base {
        &self.base
    }
}

/// NDK_FN_CREATE_CQ. CqDepth 0 or above MaxCqDepth, NULL notification
/// callback (not optional in NDKPI) or NULL out-param ->
/// STATUS_INVALID_PARAMETER; foreign adapter -> STATUS_INVALID_HANDLE; no
/// memory -> STATUS_INSUFFICIENT_RESOURCES. The ring is allocated here.
/// Affinity is accepted and ignored (completions are indicated from DPCs).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_create_cq(
    adapter: *mut NDK_ADAPTER,
    cq_depth: u32,
    notification: Option<NDK_FN_CQ_NOTIFICATION_CALLBACK>,
    notification_context: *mut c_void,
    _affinity: *mut GROUP_AFFINITY,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_cq: *mut *mut NDK_CQ,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateCq");
    let make = |core: &Arc<AdapterCore>| {
        let notification = notification.ok_or(STATUS_INVALID_PARAMETER)?;
        if cq_depth == 0 || cq_depth > MAX_CQ_DEPTH {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let ring = Cq::try_new(cq_depth).map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        let new = NewObject::of(core)
            .extra(Cq::ring_bytes(cq_depth))
            .notifier(Some((notification, notification_context as usize)));
        create(new, |base| CqObject {
            ndk: NDK_CQ {
                Header: header(core, NdkObjectTypeCq),
                Dispatch: &CQ_DISPATCH,
            },
            base,
            ring: SpinLock::new(ring),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { adapter_create(adapter, pp_cq, create_completion, request_context, make) }
}

/// NDK_FN_RESIZE_CQ (CQ_RESIZE_SUPPORTED is advertised). Depth 0, above
/// MaxCqDepth or below the entries queued -> STATUS_INVALID_PARAMETER; an
/// overrun CQ -> STATUS_INVALID_DEVICE_STATE; no memory ->
/// STATUS_INSUFFICIENT_RESOURCES. Queued entries are kept in order. Inline
/// (or deferred).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_resize_cq(
    cq: *mut NDK_CQ,
    cq_depth: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkResizeCq");
    // SAFETY: forwarded contract.
    let cq = match unsafe { recover::<CqObject>(cq.cast()) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    if cq_depth == 0 || cq_depth > MAX_CQ_DEPTH {
        return STATUS_INVALID_PARAMETER;
    }
    let core = &cq.base.core;
    let mut ring = cq.ring.lock();
    let old = Cq::ring_bytes(ring.depth());
    let new = Cq::ring_bytes(cq_depth);
    let grow = new.saturating_sub(old);
    if let Err(e) = core.charge(tags::CQ, grow) {
        return e;
    }
    let status = match ring.resize(cq_depth) {
        Ok(()) => {
            core.release(tags::CQ, old.saturating_sub(new));
            STATUS_SUCCESS
        }
        Err(e) => {
            core.release(tags::CQ, grow);
            match e {
                ResizeError::TooSmall => STATUS_INVALID_PARAMETER,
                ResizeError::Unusable => STATUS_INVALID_DEVICE_STATE,
                ResizeError::NoMemory => STATUS_INSUFFICIENT_RESOURCES,
            }
        }
    };
    drop(ring);
    // The object's charge (released at free) follows the ring's size.
    if status == STATUS_SUCCESS {
        cq.base.adjust_bytes(old, new);
    }
    finish_request(&cq.base, status, completion, context)
}

/// NDK_FN_ARM_CQ: one-shot; re-arming before satisfaction combines
/// (verbs::cq's table). If entries arrived since the last notification
/// (or the CQ overran) the arm is satisfied at once (notification from the
/// CQ's DPC, never inside this call). Undefined types are ignored.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_arm_cq(cq: *mut NDK_CQ, trigger: u32) {
    irql::assert_at_most(Irql::Dispatch, "NdkArmCq");
    // SAFETY: forwarded contract.
    let Ok(cq) = (unsafe { recover::<CqObject>(cq.cast()) }) else {
        return;
    };
    let Ok(kind) = CqNotifyType::try_from(trigger) else {
        return;
    };
    let note = cq.ring.lock().arm(kind);
    if let Some(n) = note {
        cq.base.events.notify(notification_status(n));
    }
}

/// Pops up to `n` entries and writes each with `write(index, entry)`.
fn drain(cq: &CqObject, n: u32, mut write: impl FnMut(usize, &CqEntry)) -> u32 {
    let mut ring = cq.ring.lock();
    let mut done = 0u32;
    while done < n {
        let Some(e) = ring.pop() else { break };
        write(done as usize, &e);
        done += 1;
    }
    done
}

/// NDK_FN_GET_CQ_RESULTS: removes up to `n` entries (0 when empty, or for a
/// bad CQ / NULL array). ReceiveAndInvalidate entries are drained too (the
/// token stays invalidated).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: `results` has room for `n` entries.
unsafe extern "system" fn ndk_get_cq_results(
    cq: *mut NDK_CQ,
    results: *mut NDK_RESULT,
    n: u32,
) -> u32 {
    irql::assert_at_most(Irql::Dispatch, "NdkGetCqResults");
    if results.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract.
    let Ok(cq) = (unsafe { recover::<CqObject>(cq.cast()) }) else {
        return 0;
    };
    drain(cq, n, |i, e| {
        let r = NDK_RESULT {
            Status: crate::abi::NtStatus(e.status),
            BytesTransferred: e.bytes,
            QPContext: e.qp_context as *mut c_void,
            RequestContext: e.request_context as *mut c_void,
        };
        // SAFETY: `i < n` and the consumer provided `n` entries.
        unsafe { results.add(i).write_unaligned(r) };
    })
}

/// NDK_FN_GET_CQ_RESULTS_EX: as NdkGetCqResults plus Type,
/// ProviderErrorCode (forced to 0 on success) and
/// TypeSpecificCompletionOutput (the invalidated token of a
/// ReceiveAndInvalidate).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: `results` has room for `n` entries.
unsafe extern "system" fn ndk_get_cq_results_ex(
    cq: *mut NDK_CQ,
    results: *mut NDK_RESULT_EX,
    n: u32,
) -> u32 {
    irql::assert_at_most(Irql::Dispatch, "NdkGetCqResultsEx");
    if results.is_null() {
        return 0;
    }
    // SAFETY: forwarded contract.
    let Ok(cq) = (unsafe { recover::<CqObject>(cq.cast()) }) else {
        return 0;
    };
    drain(cq, n, |i, e| {
        let r = NDK_RESULT_EX {
            Status: crate::abi::NtStatus(e.status),
            BytesTransferred: e.bytes,
            QPContext: e.qp_context as *mut c_void,
            RequestContext: e.request_context as *mut c_void,
            Type: e.op,
            ProviderErrorCode: if e.is_error() { e.provider_error } else { 0 },
            TypeSpecificCompletionOutput: e.type_specific,
        };
        // SAFETY: `i < n` and the consumer provided `n` entries.
        unsafe { results.add(i).write_unaligned(r) };
    })
}

/// NDK_FN_CONTROL_CQ_INTERRUPT_MODERATION: CQ_INTERRUPT_MODERATION_SUPPORTED
/// is not advertised, so every well-formed call answers
/// STATUS_NOT_SUPPORTED (the parameter-mix rule belongs to providers that
/// moderate; see docs/COMPLIANCE.md). Never pends.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_control_cq_interrupt_moderation(
    cq: *mut NDK_CQ,
    _interval: u32,
    _count: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkControlCqInterruptModeration");
    // SAFETY: forwarded contract.
    match unsafe { recover::<CqObject>(cq.cast()) } {
        Ok(_) => STATUS_NOT_SUPPORTED,
        Err(e) => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::{
        NdkOperationTypeReceiveAndInvalidate, NdkOperationTypeSend, NDK_CQ_NOTIFY_SOLICITED,
    };
    use crate::ndk::test_support::TestAdapter;
    use core::ptr::null_mut;
    use core::sync::atomic::{AtomicUsize, Ordering};

    static NOTES: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "system" fn count(_: *mut c_void, _: NtStatus) {
        NOTES.fetch_add(1, Ordering::SeqCst);
    }

    fn entry(status: i32, op: u32, provider_error: u32, type_specific: usize) -> CqEntry {
        CqEntry {
            status,
            bytes: 7,
            qp_context: 1,
            request_context: 2,
            op,
            provider_error,
            type_specific,
        }
    }

    /// The data path's `complete`: SOLICITED waits for a solicited receive;
    /// Ex reports Type, ProviderErrorCode (forced to 0 on success) and the
    /// invalidated token of a ReceiveAndInvalidate; plain results drain the
    /// same entries.
    #[test]
    fn complete_feeds_results_ex_and_solicited_arms() {
        let t = TestAdapter::new();
        let (cq, obj) = t.cq(8, count, null_mut());
        // SAFETY: a live CQ.
        unsafe { ndk_arm_cq(cq, NDK_CQ_NOTIFY_SOLICITED) };
        obj.complete(entry(0, NdkOperationTypeSend, 99, 0), false);
        t.platform.run_pending();
        assert_eq!(
            NOTES.load(Ordering::SeqCst),
            0,
            "unsolicited success fired SOLICITED"
        );
        obj.complete(
            entry(0, NdkOperationTypeReceiveAndInvalidate, 0, 0xABCD),
            true,
        );
        t.platform.run_pending();
        assert_eq!(NOTES.load(Ordering::SeqCst), 1);
        obj.complete(
            entry(STATUS_CANCELLED_RAW, NdkOperationTypeSend, 42, 0),
            false,
        );
        // SAFETY: zeroed results are plain data.
        let mut ex: [NDK_RESULT_EX; 2] = unsafe { core::mem::zeroed() };
        // SAFETY: a live CQ and room for 2.
        assert_eq!(unsafe { ndk_get_cq_results_ex(cq, ex.as_mut_ptr(), 2) }, 2);
        assert_eq!(ex[0].Type, NdkOperationTypeSend);
        assert_eq!(ex[0].ProviderErrorCode, 0, "success must report 0");
        assert_eq!(ex[0].BytesTransferred, 7);
        assert_eq!(ex[1].Type, NdkOperationTypeReceiveAndInvalidate);
        assert_eq!(ex[1].TypeSpecificCompletionOutput, 0xABCD);
        // SAFETY: zeroed results are plain data.
        let mut plain: [NDK_RESULT; 2] = unsafe { core::mem::zeroed() };
        // SAFETY: a live CQ and room for 2.
        assert_eq!(unsafe { ndk_get_cq_results(cq, plain.as_mut_ptr(), 2) }, 1);
        assert_eq!(plain[0].Status.0, STATUS_CANCELLED_RAW);
        // SAFETY: a live CQ, no children.
        assert_eq!(
            unsafe { crate::ndk::object::ndk_close::<CqObject>(cq.cast(), None, null_mut()) },
            STATUS_SUCCESS
        );
        t.finish();
    }

    const STATUS_CANCELLED_RAW: i32 = crate::abi::STATUS_CANCELLED.0;
}
