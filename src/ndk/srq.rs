//! The shared receive queue object: NdkCreateSrq (PD table) and
//! NDK_SRQ_DISPATCH (close, modify, receive). The limit event (NotifyThreshold)
//! is one-shot and delivered through the SRQ's notification callback from its
//! DPC (serialized, no lock held). [`SrqObject::take`] is the data path's way
//! to consume a posted receive.

use core::ffi::c_void;

use crate::abi::{
    NdkObjectTypeSrq, NtStatus, GROUP_AFFINITY, NDK_FN_CREATE_COMPLETION,
    NDK_FN_REQUEST_COMPLETION, NDK_FN_SRQ_NOTIFICATION_CALLBACK, NDK_PD, NDK_SGE, NDK_SRQ,
    NDK_SRQ_DISPATCH, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Irql, PoolTag, SpinLock};
use crate::verbs::memory::Access;
use crate::verbs::srq::Srq;
use crate::verbs::wq::{RecvQueue, Sge, MAX_SGE};

use super::core::tags;
use super::extension::ndk_query_extension;
use super::limits::{MAX_RECEIVE_REQUEST_SGE, MAX_SRQ_DEPTH};
use super::object::{
    child_create, create, finish_request, header, ndk_close, recover, Base, NewObject, Object,
};
use super::pd::Pd;
use super::sge::{read_sges, PdKeys};

/// A shared receive queue.
#[repr(C)]
pub(crate) struct SrqObject {
    ndk: NDK_SRQ,
    base: Base,
    pub(crate) keys: PdKeys,
    srq: SpinLock<Srq>,
}
const _: () = assert!(core::mem::offset_of!(SrqObject, ndk) == 0);

impl Object for SrqObject {
    const TYPE: u32 = NdkObjectTypeSrq;
    const TAG: PoolTag = tags::SRQ;
    const CLOSE: &'static str = "NdkCloseSrq";
    fn dispatch() -> *const c_void {
        (&SRQ_DISPATCH as *const NDK_SRQ_DISPATCH).cast()
    }
    fn base(&self) -> &Base {
        &self.base
    }
    fn on_close(&self) {
        self.srq.lock().clear();
    }
}

impl SrqObject {
    /// Takes the oldest posted receive for an incoming message: its context
    /// and SGE count (SGEs copied into `out`). Fires the limit event when
    /// the count falls below an armed threshold.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    #[allow(dead_code)] // the QP data path's receive side
    pub(crate) fn take(&self, out: &mut [Sge]) -> Option<(usize, usize)> {
        let (ctx, n, fire) = self.srq.lock().take(out)?;
        if fire {
            self.base.events.notify(STATUS_SUCCESS);
        }
        Some((ctx, n))
    }

    /// Its framework part (for QPs using it).
    pub(crate) fn base_ref(&self) -> &Base {
        &self.base
    }
}

/// The table every SRQ's `Dispatch` points to, in ABI order.
pub static SRQ_DISPATCH: NDK_SRQ_DISPATCH = NDK_SRQ_DISPATCH {
    NdkCloseSrq: ndk_close::<SrqObject>,
    NdkQueryExtension: ndk_query_extension,
    NdkModifySrq: ndk_modify_srq,
    NdkSrqReceive: ndk_srq_receive,
};

/// NDK_FN_CREATE_SRQ (PD table). Depth 0 or above MaxSrqDepth, SGEs above
/// MaxReceiveRequestSge, NotifyThreshold above the depth, NULL out-param ->
/// STATUS_INVALID_PARAMETER. The notification callback is optional (without
/// it no limit event is delivered). The ring is allocated here.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_create_srq(
    pd: *mut NDK_PD,
    depth: u32,
    max_sge: u32,
    threshold: u32,
    notification: Option<NDK_FN_SRQ_NOTIFICATION_CALLBACK>,
    notification_context: *mut c_void,
    _affinity: *mut GROUP_AFFINITY,
    create_completion: Option<NDK_FN_CREATE_COMPLETION>,
    request_context: *mut c_void,
    pp_srq: *mut *mut NDK_SRQ,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkCreateSrq");
    let make = |pd: &Pd| {
        if depth == 0
            || depth > MAX_SRQ_DEPTH
            || max_sge > MAX_RECEIVE_REQUEST_SGE
            || threshold > depth
        {
            return Err(STATUS_INVALID_PARAMETER);
        }
        let queue =
            RecvQueue::try_new(depth, max_sge).map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
        let core = &pd.base().core;
        let new = NewObject::of(core)
            .child_of(&pd.base().events)
            .extra(RecvQueue::bytes(depth, max_sge))
            .notifier(notification.map(|f| (f, notification_context as usize)));
        create(new, |base| SrqObject {
            ndk: NDK_SRQ {
                Header: header(core, NdkObjectTypeSrq),
                Dispatch: &SRQ_DISPATCH,
            },
            base,
            keys: PdKeys {
                pd: pd.id,
                privileged: pd.privileged,
            },
            srq: SpinLock::new(Srq::new(queue, threshold)),
        })
    };
    // SAFETY: forwarded contract.
    unsafe { child_create(pd.cast(), pp_srq, create_completion, request_context, make) }
}

/// NDK_FN_MODIFY_SRQ: a new depth (0, above MaxSrqDepth or below the
/// receives posted -> STATUS_INVALID_PARAMETER) and threshold (above the
/// depth -> STATUS_INVALID_PARAMETER; 0 disarms; non-zero re-arms the
/// one-shot limit event). Posted receives are kept.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_modify_srq(
    srq: *mut NDK_SRQ,
    depth: u32,
    threshold: u32,
    completion: Option<NDK_FN_REQUEST_COMPLETION>,
    context: *mut c_void,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkModifySrq");
    // SAFETY: forwarded contract.
    let srq = match unsafe { recover::<SrqObject>(srq.cast()) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    if depth > MAX_SRQ_DEPTH {
        return STATUS_INVALID_PARAMETER;
    }
    let core = &srq.base.core;
    let mut state = srq.srq.lock();
    if state.check_modify(depth, threshold).is_err() {
        return STATUS_INVALID_PARAMETER;
    }
    let max_sge = state.queue().max_sge() as u32;
    let old_depth = state.queue().depth() as u32;
    let requeue = if depth != old_depth {
        let (old, new) = (
            RecvQueue::bytes(old_depth, max_sge),
            RecvQueue::bytes(depth, max_sge),
        );
        if let Err(e) = core.charge(tags::SRQ, new) {
            return e;
        }
        let Ok(q) = RecvQueue::try_new(depth, max_sge) else {
            core.release(tags::SRQ, new);
            return STATUS_INSUFFICIENT_RESOURCES;
        };
        core.release(tags::SRQ, old);
        srq.base.adjust_bytes(old, new);
        Some(q)
    } else {
        None
    };
    state.apply_modify(requeue, threshold);
    drop(state);
    finish_request(&srq.base, STATUS_SUCCESS, completion, context)
}

/// NDK_FN_SRQ_RECEIVE: posts a receive. Too many SGEs ->
/// STATUS_INVALID_PARAMETER; a bad SGE -> STATUS_ACCESS_VIOLATION; full ->
/// STATUS_INSUFFICIENT_RESOURCES. A failed post changes nothing.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
unsafe extern "system" fn ndk_srq_receive(
    srq: *mut NDK_SRQ,
    request_context: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkSrqReceive");
    // SAFETY: forwarded contract.
    let srq = match unsafe { recover::<SrqObject>(srq.cast()) } {
        Ok(s) => s,
        Err(e) => return e,
    };
    let max = srq.srq.lock().queue().max_sge();
    let mut sges = [Sge::default(); MAX_SGE];
    // SAFETY: forwarded contract.
    let n = match unsafe {
        read_sges(
            &srq.base.core,
            srq.keys,
            sgl,
            n,
            max,
            Access::LOCAL_WRITE,
            &mut sges,
        )
    } {
        Ok(n) => n,
        Err(e) => return e,
    };
    match srq
        .srq
        .lock()
        .post(request_context as usize, sges.get(..n).unwrap_or(&[]))
    {
        Ok(()) => STATUS_SUCCESS,
        Err(_) => STATUS_INSUFFICIENT_RESOURCES,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ndk::test_support::TestAdapter;
    use core::ptr::null_mut;
    use core::sync::atomic::{AtomicUsize, Ordering};

    static EVENTS: AtomicUsize = AtomicUsize::new(0);

    unsafe extern "system" fn limit(_: *mut c_void, s: NtStatus) {
        assert_eq!(s, STATUS_SUCCESS);
        EVENTS.fetch_add(1, Ordering::SeqCst);
    }

    /// The limit event: delivered from the SRQ's DPC once the posted count
    /// falls below NotifyThreshold, once, and again only after a re-arm
    /// through NdkModifySrq.
    #[test]
    fn limit_event_is_one_shot_and_rearmed_by_modify() {
        let t = TestAdapter::new();
        let (pd, _) = t.pd();
        let mut srq = null_mut();
        // SAFETY: a live PD and a writable out-param.
        let s = unsafe {
            ndk_create_srq(
                pd,
                8,
                0,
                2,
                Some(limit),
                null_mut(),
                null_mut(),
                None,
                null_mut(),
                &mut srq,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        // SAFETY: just created.
        let obj = unsafe { recover::<SrqObject>(srq.cast()) }.unwrap_or_else(|e| panic!("{e:?}"));
        for i in 0..3 {
            // SAFETY: a live SRQ, no SGEs.
            assert_eq!(
                unsafe { ndk_srq_receive(srq, i as *mut c_void, core::ptr::null(), 0) },
                STATUS_SUCCESS
            );
        }
        let mut out = [Sge::default(); 1];
        assert_eq!(obj.take(&mut out), Some((0, 0)));
        t.platform.run_pending();
        assert_eq!(EVENTS.load(Ordering::SeqCst), 0, "2 posted is not below 2");
        obj.take(&mut out);
        assert_eq!(
            EVENTS.load(Ordering::SeqCst),
            0,
            "inside the data path call"
        );
        t.platform.run_pending();
        assert_eq!(EVENTS.load(Ordering::SeqCst), 1);
        obj.take(&mut out);
        t.platform.run_pending();
        assert_eq!(EVENTS.load(Ordering::SeqCst), 1, "one shot");
        // SAFETY: a live SRQ.
        assert_eq!(
            unsafe { ndk_modify_srq(srq, 8, 1, None, null_mut()) },
            STATUS_SUCCESS
        );
        // SAFETY: a live SRQ, no SGEs.
        unsafe { ndk_srq_receive(srq, null_mut(), core::ptr::null(), 0) };
        obj.take(&mut out);
        t.platform.run_pending();
        assert_eq!(EVENTS.load(Ordering::SeqCst), 2);
        // SAFETY: live objects, closed once.
        unsafe {
            assert_eq!(
                crate::ndk::object::ndk_close::<SrqObject>(srq.cast(), None, null_mut()),
                STATUS_SUCCESS
            );
            assert_eq!(
                ((*(*pd).Dispatch).NdkClosePd)(pd.cast(), None, null_mut()),
                STATUS_SUCCESS
            );
        }
        t.finish();
    }
}
