//! Conformance: completion queues (NDKPI facts §5.3, §2.5-2.6, §5.1),
//! through the hosted C entry points and the dispatch tables only.
//! Completions come from NdkReceive + NdkFlush (STATUS_CANCELLED), the one
//! way to make entries without a connection.

mod ndk_common;

use ndk_common::*;
use std::ptr::null_mut;

struct Rig {
    env: Env,
    log: Box<Log>,
    pd: *mut NDK_PD,
    cq: *mut NDK_CQ,
    qp: *mut NDK_QP,
    cq_ctx: Box<Ctx>,
    mr: *mut NDK_MR,
    token: u32,
    buf: Vec<u8>,
    _mdl: Box<MDL>,
}

impl Rig {
    fn new(cq_depth: u32, rq_depth: u32) -> Rig {
        let env = Env::new();
        let log = Box::new(Log::default());
        let pd = env.pd();
        let (cq, cq_ctx) = env.cq(cq_depth, &log, 1);
        let qp = qp(pd, cq, 0xC0FFEE, rq_depth, 4).unwrap();
        let mut buf = vec![0u8; 4096];
        let (mr, mdl) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
        Rig {
            env,
            log,
            pd,
            cq,
            qp,
            cq_ctx,
            mr,
            token,
            buf,
            _mdl: mdl,
        }
    }

    fn post(&self, ctx: usize) -> NtStatus {
        let va = self.buf.as_ptr() as u64;
        receive(self.qp, ctx, &[sge(va, 64, self.token)])
    }

    fn arm(&self, kind: u32) {
        unsafe { (cq_d(self.cq).NdkArmCq)(self.cq, kind) };
    }

    fn flush(&self) {
        unsafe { (qp_d(self.qp).NdkFlush)(self.qp) };
    }

    fn notes(&self) -> Vec<i32> {
        self.log
            .calls()
            .iter()
            .filter(|c| c.what == "notify")
            .map(|c| c.status)
            .collect()
    }

    fn finish(self) {
        assert_eq!(close_obj(self.qp, None), STATUS_SUCCESS);
        assert_eq!(close_obj(self.mr, None), STATUS_SUCCESS);
        assert_eq!(close_obj(self.cq, None), STATUS_SUCCESS);
        assert_eq!(close_obj(self.pd, None), STATUS_SUCCESS);
        drop(self.cq_ctx);
        self.env.finish();
    }
}

/// §5.3: CqDepth 0 or above MaxCqDepth -> STATUS_INVALID_PARAMETER; the
/// notification callback is required; the maximum is accepted.
#[test]
fn create_cq_checks_depth_and_callback() {
    let env = Env::new();
    let log = Log::default();
    let c = Ctx::new(&log, 1);
    let mut cq = null_mut();
    for (depth, cb) in [(0u32, true), (32769, true), (u32::MAX, true), (16, false)] {
        let notify = if cb {
            Some(on_notify as NDK_FN_CQ_NOTIFICATION_CALLBACK)
        } else {
            None
        };
        let s = unsafe {
            (env.d().NdkCreateCq)(
                env.adapter,
                depth,
                notify,
                c.ptr(),
                null_mut(),
                Some(on_create),
                c.ptr(),
                &mut cq,
            )
        };
        assert_eq!(s, STATUS_INVALID_PARAMETER, "depth {depth} cb {cb}");
        assert!(cq.is_null());
    }
    let (cq, _c) = env.cq(32768, &log, 2);
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    env.run();
    assert!(log.calls().is_empty());
    env.finish();
}

/// §5.3 + §2.5/2.6: an ANY arm fires once, from a DPC (never inside the
/// call), at DISPATCH with no lock; results come back in order with the
/// QP and request contexts; Ex adds Type; plain results drain the same ring.
#[test]
fn any_arm_notifies_once_and_results_carry_the_contexts() {
    let r = Rig::new(16, 8);
    for ctx in [11, 12, 13] {
        assert_eq!(r.post(ctx), STATUS_SUCCESS);
    }
    r.arm(NDK_CQ_NOTIFY_ANY);
    r.flush();
    assert!(r.notes().is_empty(), "notification inside NdkFlush");
    r.env.run();
    assert_eq!(r.notes(), vec![0]);
    // One shot: nothing more without a new arm.
    assert_eq!(r.post(14), STATUS_SUCCESS);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![0]);

    let ex = results_ex(r.cq, 2);
    assert_eq!(ex.len(), 2);
    for (e, want) in ex.iter().zip([11usize, 12]) {
        assert_eq!(e.Status, STATUS_CANCELLED);
        assert_eq!(e.RequestContext as usize, want);
        assert_eq!(e.QPContext as usize, 0xC0FFEE);
        assert_eq!(e.Type, NdkOperationTypeReceive);
    }
    let mut plain: [NDK_RESULT; 4] = unsafe { std::mem::zeroed() };
    let n = unsafe { (cq_d(r.cq).NdkGetCqResults)(r.cq, plain.as_mut_ptr(), 4) };
    assert_eq!(n, 2);
    assert_eq!(plain[0].RequestContext as usize, 13);
    assert_eq!(plain[1].RequestContext as usize, 14);
    assert_eq!(
        unsafe { (cq_d(r.cq).NdkGetCqResults)(r.cq, plain.as_mut_ptr(), 4) },
        0
    );
    r.finish();
}

/// §5.3: an arm made while unseen entries wait is satisfied at once (from
/// the DPC); an arm with nothing new since the last notification waits.
#[test]
fn arm_with_unseen_entries_fires_immediately() {
    let r = Rig::new(16, 8);
    r.post(1);
    r.flush();
    r.env.run();
    assert!(r.notes().is_empty(), "unarmed CQ notified");
    r.arm(NDK_CQ_NOTIFY_ANY);
    assert!(r.notes().is_empty(), "notification inside NdkArmCq");
    r.env.run();
    assert_eq!(r.notes(), vec![0]);
    r.arm(NDK_CQ_NOTIFY_ANY);
    r.env.run();
    assert_eq!(r.notes(), vec![0], "no new entry since: must wait");
    r.post(2);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![0, 0]);
    r.finish();
}

/// §5.3: error completions satisfy SOLICITED; ERRORS is satisfied only by
/// CQ errors; re-arming before satisfaction combines (ERRORS+SOLICITED =
/// SOLICITED, ERRORS+ANY = ANY).
#[test]
fn solicited_errors_and_the_combination_table() {
    let r = Rig::new(16, 8);
    r.arm(NDK_CQ_NOTIFY_ERRORS);
    r.post(1);
    r.flush();
    r.env.run();
    assert!(r.notes().is_empty(), "ERRORS fired on a completion");
    // ERRORS then SOLICITED = SOLICITED; the flushed (error) entry since the
    // last notification satisfies it.
    r.arm(NDK_CQ_NOTIFY_SOLICITED);
    r.env.run();
    assert_eq!(r.notes(), vec![0]);
    // SOLICITED + ERRORS stays SOLICITED: an error completion fires it.
    r.arm(NDK_CQ_NOTIFY_SOLICITED);
    r.arm(NDK_CQ_NOTIFY_ERRORS);
    r.post(2);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![0, 0]);
    // Undefined arm types are ignored.
    r.arm(7);
    r.post(3);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![0, 0]);
    r.finish();
}

/// §5.3: notifications are serialized per CQ: a re-arm + new completion
/// made inside the callback is delivered only after it returned (the
/// recorder fails on overlap), and never more than one per satisfied arm.
#[test]
fn notifications_are_serialized_and_rearm_inside_the_callback_works() {
    let r = Rig::new(64, 16);
    let cq = r.cq as usize;
    let qp = r.qp as usize;
    let va = r.buf.as_ptr() as u64;
    let token = r.token;
    let rounds = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let rounds2 = rounds.clone();
    *r.cq_ctx.hook.lock().unwrap() = Some(Box::new(move |_| {
        let n = rounds2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        if n < 3 {
            let (cq, qp) = (cq as *mut NDK_CQ, qp as *mut NDK_QP);
            unsafe { (cq_d(cq).NdkArmCq)(cq, NDK_CQ_NOTIFY_ANY) };
            assert_eq!(receive(qp, 100 + n, &[sge(va, 8, token)]), STATUS_SUCCESS);
            unsafe { (qp_d(qp).NdkFlush)(qp) };
        }
    }));
    r.post(1);
    r.arm(NDK_CQ_NOTIFY_ANY);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![0, 0, 0, 0]);
    assert_eq!(results_ex(r.cq, 16).len(), 4);
    *r.cq_ctx.hook.lock().unwrap() = None;
    r.finish();
}

/// §5.3: overrun: STATUS_BUFFER_OVERFLOW to an armed consumer (any arm
/// type), the CQ and its QP unusable afterwards; entries already queued can
/// still be drained.
#[test]
fn overrun_reports_buffer_overflow_and_disables_cq_and_qp() {
    let r = Rig::new(2, 8);
    for i in 0..4 {
        assert_eq!(r.post(i), STATUS_SUCCESS);
    }
    r.arm(NDK_CQ_NOTIFY_ERRORS);
    r.flush();
    r.env.run();
    assert_eq!(r.notes(), vec![STATUS_BUFFER_OVERFLOW.0]);
    assert_eq!(r.post(9), STATUS_INVALID_DEVICE_STATE);
    let s = unsafe { (cq_d(r.cq).NdkResizeCq)(r.cq, 64, None, null_mut()) };
    assert_eq!(s, STATUS_INVALID_DEVICE_STATE);
    assert_eq!(results_ex(r.cq, 8).len(), 2);
    r.arm(NDK_CQ_NOTIFY_ANY);
    r.env.run();
    assert_eq!(r.notes().len(), 1, "the error is reported once");
    r.finish();
}

/// §5.3: NdkResizeCq (CQ_RESIZE_SUPPORTED): below the queued entries or
/// above MaxCqDepth (or 0) -> STATUS_INVALID_PARAMETER and nothing changes;
/// a valid resize keeps the entries in order; pending when deferred.
#[test]
fn resize_checks_bounds_and_keeps_entries() {
    let r = Rig::new(4, 8);
    for i in 0..3 {
        r.post(i);
    }
    r.flush();
    for depth in [0u32, 2, 32769] {
        let s = unsafe { (cq_d(r.cq).NdkResizeCq)(r.cq, depth, None, null_mut()) };
        assert_eq!(s, STATUS_INVALID_PARAMETER, "depth {depth}");
    }
    let before = r.env.pool_bytes();
    let s = unsafe { (cq_d(r.cq).NdkResizeCq)(r.cq, 64, None, null_mut()) };
    assert_eq!(s, STATUS_SUCCESS);
    assert!(r.env.pool_bytes() > before, "the larger ring is accounted");
    // The bigger ring holds more: 40 more entries do not overrun.
    for i in 3..43 {
        assert_eq!(r.post(i), STATUS_SUCCESS);
        r.flush();
    }
    let got: Vec<usize> = results_ex(r.cq, 64)
        .iter()
        .map(|e| e.RequestContext as usize)
        .collect();
    assert_eq!(got, (0..43).collect::<Vec<_>>());
    unsafe { softroce_set_deferred_completions(r.env.adapter, 1) };
    let c = Ctx::new(&r.log, 5);
    let s = unsafe { (cq_d(r.cq).NdkResizeCq)(r.cq, 8, Some(on_request), c.ptr()) };
    assert_eq!(s, STATUS_PENDING);
    r.env.run();
    assert_eq!(r.log.count("request"), 1);
    unsafe { softroce_set_deferred_completions(r.env.adapter, 0) };
    r.finish();
}

/// §5.3/§5.0: interrupt moderation is not advertised: every call answers
/// STATUS_NOT_SUPPORTED (never PENDING), including the MAXULONG/MAXULONG mix.
#[test]
fn interrupt_moderation_is_not_supported() {
    let r = Rig::new(4, 4);
    for (interval, count) in [
        (0, 0),
        (100, 8),
        (u32::MAX, 8),
        (100, u32::MAX),
        (u32::MAX, u32::MAX),
    ] {
        let s = unsafe { (cq_d(r.cq).NdkControlCqInterruptModeration)(r.cq, interval, count) };
        assert_eq!(s, STATUS_NOT_SUPPORTED);
    }
    let s = unsafe { (cq_d(r.cq).NdkControlCqInterruptModeration)(null_mut(), 0, 0) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    r.finish();
}

/// §5.2/§5.3: a CQ closed from inside its own notification callback: the
/// close pends, its completion follows the callback's return, and no
/// notification comes after it.
#[test]
fn close_cq_inside_its_notification_callback() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, cq_ctx) = env.cq(8, &log, 1);
    let q = qp(pd, cq, 0, 4, 4).unwrap();
    let mut buf = vec![0u8; 64];
    let (mr, _mdl) = registered_mr(pd, &mut buf, 1);
    let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    assert_eq!(
        receive(q, 1, &[sge(buf.as_ptr() as u64, 8, token)]),
        STATUS_SUCCESS
    );
    unsafe { (cq_d(cq).NdkArmCq)(cq, NDK_CQ_NOTIFY_ANY) };
    unsafe { (qp_d(q).NdkFlush)(q) };
    // The QP goes first (inline), then the CQ closes from its callback.
    assert_eq!(close_obj(q, None), STATUS_SUCCESS);
    let close_ctx = Ctx::new(&log, 2);
    let (cqa, cca) = (cq as usize, close_ctx.ptr() as usize);
    let statuses = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let st2 = statuses.clone();
    *cq_ctx.hook.lock().unwrap() = Some(Box::new(move |_| {
        let s = unsafe {
            (cq_d(cqa as *mut NDK_CQ).NdkCloseCq)(cqa as *mut _, Some(on_close), cca as *mut _)
        };
        st2.lock().unwrap().push(s);
    }));
    env.run();
    assert_eq!(*statuses.lock().unwrap(), vec![STATUS_PENDING]);
    let whats: Vec<&str> = log.calls().iter().map(|c| c.what).collect();
    assert_eq!(whats, vec!["notify", "close"]);
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}
