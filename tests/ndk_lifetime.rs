//! Conformance: object framework and lifetimes (NDKPI facts §2.3, §5.1,
//! §5.2), through the hosted C entry points and the dispatch tables only.

mod ndk_common;

use ndk_common::*;
use std::ptr::null_mut;

/// §2.3: every object's header: negotiated Version, ObjectType, NdkReserved
/// zeroed, a dispatch table; inline create + inline close (no callback).
#[test]
fn every_object_creates_and_closes_inline_with_a_proper_header() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _cqc) = env.cq(16, &log, 1);
    let mut buf = vec![0u8; 8192];
    let (mr, _mdl) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let mw = create_mw(pd);
    let (s, srq) = create_srq(pd, 8, 2);
    assert_eq!(s, STATUS_SUCCESS);
    let qp1 = qp(pd, cq, 0x51, 8, 8).unwrap();
    let (s, qp2) = create_qp_with_srq(pd, cq, srq, 0, 8, 2);
    assert_eq!(s, STATUS_SUCCESS);
    let mut listener = null_mut();
    let s = unsafe {
        (env.d().NdkCreateListener)(
            env.adapter,
            Some(on_connect),
            null_mut(),
            None,
            null_mut(),
            &mut listener,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let mut connector = null_mut();
    assert_eq!(
        unsafe { (env.d().NdkCreateConnector)(env.adapter, None, null_mut(), &mut connector) },
        STATUS_SUCCESS
    );
    let objects: Vec<(*mut NDK_OBJECT_HEADER, u32)> = vec![
        (qp1.cast(), NdkObjectTypeQp),
        (qp2.cast(), NdkObjectTypeQp),
        (mw.cast(), NdkObjectTypeMw),
        (mr.cast(), NdkObjectTypeMr),
        (srq.cast(), NdkObjectTypeSrq),
        (cq.cast(), NdkObjectTypeCq),
        (pd.cast(), NdkObjectTypePd),
        (listener.cast(), NdkObjectTypeListener),
        (connector.cast(), NdkObjectTypeConnector),
    ];
    let mut all_dispatch = std::collections::HashSet::new();
    for &(o, ty) in &objects {
        let h = unsafe { &*o };
        assert_eq!(h.Version, V21);
        assert_eq!(h.ObjectType, ty);
        assert!(h.NdkReserved.rf.iter().all(|p| p.is_null()));
        let d = unsafe { (*(o as *mut NDK_PD)).Dispatch } as usize;
        assert_ne!(d, 0);
        all_dispatch.insert((ty, d));
    }
    // Children first: each close is inline and calls nothing.
    for &(o, _) in &objects {
        let c = Ctx::new(&log, 9);
        assert_eq!(close_obj(o, Some(&c)), STATUS_SUCCESS);
    }
    env.run();
    assert!(
        log.calls().is_empty(),
        "inline closes called back: {:?}",
        log.calls()
    );
    env.finish();
}

/// §5.2: closing a parent with children pends; its CloseCompletion runs
/// exactly once, from a DPC, after the last child's close, and is the
/// object's last callback.
#[test]
fn parent_close_pends_until_the_last_child_closes() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let mut buf = vec![0u8; 4096];
    let (mr, _mdl) = registered_mr(pd, &mut buf, 0);
    let mw = create_mw(pd);
    let pdc = Ctx::new(&log, 1);
    assert_eq!(close_obj(pd, Some(&pdc)), STATUS_PENDING);
    env.run();
    assert_eq!(log.count("close"), 0, "parent closed before its children");
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    env.run();
    assert_eq!(log.count("close"), 0);
    assert_eq!(close_obj(mw, None), STATUS_SUCCESS);
    assert_eq!(
        log.count("close"),
        0,
        "close completion inside the child's close call"
    );
    env.run();
    assert_eq!(
        log.calls(),
        vec![Call {
            what: "close",
            tag: 1,
            status: 0,
            object: 0
        }]
    );
    env.run();
    assert_eq!(log.count("close"), 1, "exactly once");
    env.finish();
}

/// §5.2: CQ->QP and PD->QP: both parents wait; a child's pending close
/// completion runs before its parents'.
#[test]
fn nested_pending_closes_complete_children_first() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _c) = env.cq(8, &log, 100);
    let q = qp(pd, cq, 0, 4, 4).unwrap();
    let (_, srq) = create_srq(pd, 4, 1);
    let (_, q2) = create_qp_with_srq(pd, cq, srq, 0, 4, 1);
    let (cqc, pdc, srqc, q2c) = (
        Ctx::new(&log, 1),
        Ctx::new(&log, 2),
        Ctx::new(&log, 3),
        Ctx::new(&log, 4),
    );
    assert_eq!(close_obj(cq, Some(&cqc)), STATUS_PENDING);
    assert_eq!(close_obj(pd, Some(&pdc)), STATUS_PENDING);
    assert_eq!(close_obj(srq, Some(&srqc)), STATUS_PENDING);
    assert_eq!(close_obj(q, None), STATUS_SUCCESS);
    env.run();
    assert!(log.calls().is_empty(), "{:?}", log.calls());
    // The last QP: its close is inline, then SRQ, CQ and PD complete.
    assert_eq!(close_obj(q2, Some(&q2c)), STATUS_SUCCESS);
    env.run();
    let tags: Vec<usize> = log.calls().iter().map(|c| c.tag).collect();
    let mut sorted = tags.clone();
    sorted.sort();
    assert_eq!(sorted, vec![1, 2, 3], "each parent's close once: {tags:?}");
    env.finish();
}

/// §5.2 + recover: a closed (pending) object refuses further calls with
/// STATUS_INVALID_HANDLE; a second close too; NULL -> INVALID_PARAMETER.
#[test]
fn closed_and_foreign_objects_are_refused() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let mut buf = vec![0u8; 4096];
    let (mr, _mdl) = registered_mr(pd, &mut buf, 0);
    let c = Ctx::new(&log, 1);
    assert_eq!(close_obj(pd, Some(&c)), STATUS_PENDING);
    let mut mr2 = null_mut();
    let s = unsafe { (pd_d(pd).NdkCreateMr)(pd, 0, None, null_mut(), &mut mr2) };
    assert_eq!(s, STATUS_INVALID_HANDLE);
    assert!(mr2.is_null());
    assert_eq!(close_obj(pd, Some(&c)), STATUS_INVALID_HANDLE);
    // A foreign object: right type, another provider's table.
    let table = *pd_d(pd);
    let fake = NDK_PD {
        Header: unsafe { std::ptr::read(pd.cast::<NDK_OBJECT_HEADER>()) },
        Dispatch: &table,
    };
    let fake_ptr = &fake as *const NDK_PD as *mut NDK_PD;
    assert_eq!(
        unsafe { (table.NdkCreateMr)(fake_ptr, 0, None, null_mut(), &mut mr2) },
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        unsafe { (table.NdkClosePd)(fake_ptr.cast(), None, null_mut()) },
        STATUS_INVALID_HANDLE
    );
    assert_eq!(
        unsafe { (table.NdkCreateMr)(null_mut(), 0, None, null_mut(), &mut mr2) },
        STATUS_INVALID_PARAMETER
    );
    // A wrong-type object passed as a PD (an MR).
    assert_eq!(
        unsafe { (table.NdkCreateMw)(mr.cast(), None, null_mut(), &mut mr2.cast()) },
        STATUS_INVALID_HANDLE
    );
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    env.run();
    assert_eq!(log.count("close"), 1);
    env.finish();
}

/// §5.1: pending creates never touch the out-param and deliver the object
/// through CreateCompletion exactly once; pending requests call their
/// RequestCompletion exactly once; inline failures call nothing.
#[test]
fn deferred_creates_and_requests_complete_exactly_once() {
    let env = Env::new();
    let log = Log::default();
    assert_eq!(
        unsafe { softroce_set_deferred_completions(env.adapter, 1) },
        STATUS_SUCCESS
    );
    let c = Ctx::new(&log, 7);
    let sentinel = 0x5EED as *mut NDK_PD;
    let mut pd = sentinel;
    let s = unsafe { (env.d().NdkCreatePd)(env.adapter, Some(on_create), c.ptr(), &mut pd) };
    assert_eq!(s, STATUS_PENDING);
    assert_eq!(pd, sentinel, "pending create wrote the out-param");
    assert_eq!(log.count("create"), 0, "completion inside the call");
    env.run();
    let calls = log.calls();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].status, 0);
    let pd = calls[0].object as *mut NDK_PD;
    assert_eq!(unsafe { (*pd).Header.ObjectType }, NdkObjectTypePd);
    env.run();
    assert_eq!(log.count("create"), 1, "exactly once");

    // A pending request (RegisterMr) and an inline failure.
    unsafe { softroce_set_deferred_completions(env.adapter, 0) };
    let mut mr = null_mut();
    unsafe { (pd_d(pd).NdkCreateMr)(pd, 0, None, null_mut(), &mut mr) };
    unsafe { softroce_set_deferred_completions(env.adapter, 1) };
    let mut buf = vec![0u8; 4096];
    let mut mdl = new_mdl(&mut buf, 0);
    let rc = Ctx::new(&log, 8);
    let bad =
        unsafe { (mr_d(mr).NdkRegisterMr)(mr, &mut *mdl, 4096, 0x40, Some(on_request), rc.ptr()) };
    assert_eq!(bad, STATUS_INVALID_PARAMETER);
    let s = unsafe { (mr_d(mr).NdkRegisterMr)(mr, &mut *mdl, 4096, 1, Some(on_request), rc.ptr()) };
    assert_eq!(s, STATUS_PENDING);
    env.run();
    env.run();
    assert_eq!(log.count("request"), 1);
    assert_eq!(log.calls().last().unwrap().status, 0);
    // Pending close of a childless object with a completion queued first:
    // the request completion, then the close completion, last.
    let s = unsafe { (mr_d(mr).NdkDeregisterMr)(mr, Some(on_request), rc.ptr()) };
    assert_eq!(s, STATUS_PENDING);
    let cc = Ctx::new(&log, 9);
    assert_eq!(close_obj(mr, Some(&cc)), STATUS_PENDING);
    env.run();
    let last: Vec<&str> = log.calls().iter().rev().take(2).map(|c| c.what).collect();
    assert_eq!(last, vec!["close", "request"]);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.2: hosted adapter close blocks until every descendant callback ran
/// (here: a pending PD close whose child was closed just before).
#[test]
fn adapter_close_delivers_pending_close_completions_before_returning() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let mw = create_mw(pd);
    let c = Ctx::new(&log, 3);
    assert_eq!(close_obj(pd, Some(&c)), STATUS_PENDING);
    assert_eq!(close_obj(mw, None), STATUS_SUCCESS);
    assert_eq!(log.count("close"), 0);
    env.finish(); // closes the adapter without running the DPCs first
    assert_eq!(log.count("close"), 1);
}

/// The same on the real-time platform: the completion comes from the DPC
/// worker thread, and close of the adapter waits for it.
#[test]
fn real_platform_pending_close_from_the_dpc_thread() {
    let platform = unsafe { softroce_platform_real() };
    let mut adapter = null_mut();
    let ip = std::ffi::CString::new("::1").unwrap();
    assert_eq!(
        unsafe { softroce_open_adapter_on(platform, ip.as_ptr(), V21, &mut adapter) },
        STATUS_SUCCESS
    );
    let d = unsafe { &*(*adapter).Dispatch };
    let log = Log::default();
    let mut pd = null_mut();
    unsafe { (d.NdkCreatePd)(adapter, None, null_mut(), &mut pd) };
    let mw = create_mw(pd);
    let c = Ctx::new(&log, 5);
    let thread = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let t2 = thread.clone();
    *c.hook.lock().unwrap() = Some(Box::new(move |_| {
        *t2.lock().unwrap() = std::thread::current().name().unwrap_or("").to_owned();
    }));
    assert_eq!(close_obj(pd, Some(&c)), STATUS_PENDING);
    assert_eq!(close_obj(mw, None), STATUS_SUCCESS);
    unsafe { softroce_close_adapter(adapter) };
    assert_eq!(log.count("close"), 1);
    assert_eq!(&*thread.lock().unwrap(), "softroce-dpc");
    assert_eq!(unsafe { softroce_platform_pool_bytes(platform) }, 0);
    unsafe { softroce_platform_release(platform) };
}

/// Out of pool memory: creates fail with STATUS_INSUFFICIENT_RESOURCES,
/// inline, and leave nothing behind.
#[test]
fn out_of_memory_fails_inline_and_changes_nothing() {
    let env = Env::new();
    let log = Log::default();
    let before = env.pool_bytes();
    unsafe { softroce_platform_set_pool_limit(env.platform, env.pool_bytes() + 64) };
    let c = Ctx::new(&log, 1);
    let mut cq = null_mut();
    let s = unsafe {
        (env.d().NdkCreateCq)(
            env.adapter,
            1024,
            Some(on_notify),
            c.ptr(),
            null_mut(),
            Some(on_create),
            c.ptr(),
            &mut cq,
        )
    };
    assert_eq!(s, STATUS_INSUFFICIENT_RESOURCES);
    assert!(cq.is_null());
    let mut pd = null_mut();
    let s = unsafe { (env.d().NdkCreatePd)(env.adapter, Some(on_create), c.ptr(), &mut pd) };
    assert_eq!(s, STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(env.pool_bytes(), before);
    env.run();
    assert!(log.calls().is_empty());
    unsafe { softroce_platform_set_pool_limit(env.platform, usize::MAX) };
    env.finish();
}

/// Concurrency on the real-time platform: threads create, post, arm, flush
/// and close (parents first, so closes pend) while the DPC thread delivers
/// notifications and close completions; every pending close completes
/// exactly once, callbacks never overlap per object, and nothing leaks.
#[test]
fn concurrent_objects_on_the_real_platform() {
    let platform = unsafe { softroce_platform_real() } as usize;
    let mut adapter = null_mut();
    let ip = std::ffi::CString::new("203.0.113.5").unwrap();
    assert_eq!(
        unsafe { softroce_open_adapter_on(platform as *const _, ip.as_ptr(), V21, &mut adapter) },
        STATUS_SUCCESS
    );
    let adapter = adapter as usize;
    let threads: Vec<_> = (0..4)
        .map(|t| {
            std::thread::spawn(move || {
                let adapter = adapter as *mut NDK_ADAPTER;
                let d = unsafe { &*(*adapter).Dispatch };
                let log = Log::default();
                for round in 0..25 {
                    let mut pd = null_mut();
                    assert_eq!(
                        unsafe { (d.NdkCreatePd)(adapter, None, null_mut(), &mut pd) },
                        STATUS_SUCCESS
                    );
                    let c = Ctx::new(&log, t * 100 + round);
                    let mut cq = null_mut();
                    let s = unsafe {
                        (d.NdkCreateCq)(
                            adapter,
                            8,
                            Some(on_notify),
                            c.ptr(),
                            null_mut(),
                            None,
                            null_mut(),
                            &mut cq,
                        )
                    };
                    assert_eq!(s, STATUS_SUCCESS);
                    let q = qp(pd, cq, 0, 4, 1).unwrap();
                    let mut buf = vec![0u8; 256];
                    let (mr, _m) = registered_mr(pd, &mut buf, 1);
                    let tok = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
                    for i in 0..3 {
                        assert_eq!(
                            receive(q, i, &[sge(buf.as_ptr() as u64, 16, tok)]),
                            STATUS_SUCCESS
                        );
                    }
                    unsafe { (cq_d(cq).NdkArmCq)(cq, NDK_CQ_NOTIFY_ANY) };
                    unsafe { (qp_d(q).NdkFlush)(q) };
                    let (pc, cc) = (Ctx::new(&log, 1), Ctx::new(&log, 2));
                    assert_eq!(close_obj(pd, Some(&pc)), STATUS_PENDING);
                    let cq_close = close_obj(cq, Some(&cc));
                    assert!(cq_close == STATUS_PENDING, "CQ with a QP must pend");
                    assert_eq!(close_obj(q, None), STATUS_SUCCESS);
                    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
                    // Both parents complete, each once, from the DPC thread.
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                    while log.count("close") < 2 * (round + 1) {
                        assert!(
                            std::time::Instant::now() < deadline,
                            "close completion lost"
                        );
                        std::thread::yield_now();
                    }
                    drop((pc, cc, c));
                }
                assert_eq!(log.count("close"), 50);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    unsafe { softroce_close_adapter(adapter as *mut NDK_ADAPTER) };
    assert_eq!(
        unsafe { softroce_platform_pool_bytes(platform as *const _) },
        0
    );
    assert_eq!(
        unsafe { softroce_platform_pool_objects(platform as *const _) },
        0
    );
    unsafe { softroce_platform_release(platform as *mut _) };
    softroce::os::hosted::irql_books().assert_clean();
}
