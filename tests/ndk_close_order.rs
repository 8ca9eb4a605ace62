//! Conformance: close order and close-time flushing (NDKPI facts §5.2),
//! through the hosted C entry points and the dispatch tables only.
//!
//! Every antecedent->successor pair of §5.2 is proved the same way
//! ([`prove`]): closing the antecedent first returns STATUS_PENDING; no
//! callback for it until the successor's close has completed (and, when that
//! close itself pends, until the successor's CloseCompletion has *returned*:
//! checked from inside it); then exactly one CloseCompletion, and nothing
//! after it. The adapter's close is blocking instead (§5.2): it returns only
//! after every successor's close completion. A QP's close flushes first:
//! every outstanding request completes with STATUS_CANCELLED on its CQ and is
//! reaped after the close. Every test ends with balanced pool books and clean
//! IRQL books.

mod ndk_common;
mod ndk_conn_common;
mod ndk_data_common;

use std::ffi::c_void;
use std::net::SocketAddr;
use std::ptr::null_mut;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::{connect_shared, establish, shared_endpoint, Net};
use ndk_data_common::{check_stuck_flushed, stuck_requests, Pair};

const FLUSHED: u32 = 0x5352_0001;
const GIVE_UP: Duration = Duration::from_secs(80);

/// The tag of an antecedent's close context and of its successor's.
const ANTE: usize = 0xA17E;
const SUCC: usize = 0x5ACC;

/// Whether `log` holds a close completion recorded under `tag`.
fn closes(log: &Log, tag: usize) -> usize {
    log.calls()
        .iter()
        .filter(|c| c.what == "close" && c.tag == tag)
        .count()
}

/// Proves one antecedent->successor pair: `ante` closed first pends, with no
/// callback (running `run`, the platform's DPCs, in between) until `succ`'s
/// close completed; `succ`'s own CloseCompletion (if its close pends) runs
/// before the antecedent's and sees no antecedent callback yet; then the
/// antecedent's CloseCompletion exactly once, and nothing after it.
/// `after_ante` runs right after the antecedent's close returned.
fn prove<A, S>(
    name: &str,
    log: &Log,
    run: &dyn Fn(),
    ante: *mut A,
    succ: *mut S,
    after_ante: &dyn Fn(),
) {
    let ac = Ctx::new(log, ANTE);
    let sc = Ctx::new(log, SUCC);
    let lp = log as *const Log as usize;
    *sc.hook.lock().unwrap() = Some(Box::new(move |_| {
        // SAFETY (test): the log outlives every callback of this proof.
        let log = unsafe { &*(lp as *const Log) };
        assert_eq!(
            closes(log, ANTE),
            0,
            "antecedent closed during its successor's close completion"
        );
    }));
    assert_eq!(close_obj(ante, Some(&ac)), STATUS_PENDING, "{name}");
    after_ante();
    run();
    run();
    assert_eq!(closes(log, ANTE), 0, "{name}: closed before its successor");
    let s = close_obj(succ, Some(&sc));
    assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{name}: {s:?}");
    assert_eq!(
        closes(log, ANTE),
        0,
        "{name}: completion inside a close call"
    );
    run();
    run();
    let calls = log.calls();
    let at = |tag| calls.iter().position(|c| c.what == "close" && c.tag == tag);
    assert_eq!(closes(log, ANTE), 1, "{name}: exactly one close completion");
    if s == STATUS_PENDING {
        assert_eq!(closes(log, SUCC), 1, "{name}: successor's completion");
        assert!(at(SUCC) < at(ANTE), "{name}: successor's completion first");
    } else {
        assert_eq!(closes(log, SUCC), 0, "{name}: inline close called back");
    }
    run();
    let calls = log.calls();
    let last = calls.iter().rposition(|c| c.tag == ANTE);
    assert_eq!(
        last,
        at(ANTE),
        "{name}: a callback after the close completion"
    );
    assert_eq!(closes(log, ANTE), 1, "{name}: still once");
    log.clear();
}

fn create_mr(pd: *mut NDK_PD) -> *mut NDK_MR {
    let mut mr = null_mut();
    let s = unsafe { (pd_d(pd).NdkCreateMr)(pd, 0, None, null_mut(), &mut mr) };
    assert_eq!(s, STATUS_SUCCESS);
    mr
}

/// What one row of the single-adapter table builds: the antecedent, the
/// successor, and what to close afterwards (in order).
struct Built {
    ante: *mut NDK_PD,
    succ: *mut NDK_PD,
    rest: Vec<*mut NDK_PD>,
    /// Buffers and MDLs the objects use.
    _keep: Vec<Box<dyn std::any::Any>>,
}

type Row = (&'static str, fn(&Env, &Log) -> Built);

fn as_pd<T>(p: *mut T) -> *mut NDK_PD {
    p.cast()
}

/// §5.2 PD->{MR, MW, QP, SRQ}, CQ->QP, SRQ->QP on one adapter; the PD->MR
/// row also with a successor whose close pends (a deferred completion
/// queued before it), so the antecedent must wait for that CloseCompletion
/// to return.
#[test]
fn every_pair_on_one_adapter_pends_until_its_successor_closed() {
    let rows: Vec<Row> = vec![
        ("PD->MR", |env, _| {
            let pd = env.pd();
            let mut buf = vec![0u8; 4096];
            let (mr, mdl) = registered_mr(pd, &mut buf, 0);
            Built {
                ante: pd,
                succ: as_pd(mr),
                rest: vec![],
                _keep: vec![Box::new(buf), Box::new(mdl)],
            }
        }),
        ("PD->MR (successor close pends)", |env, log| {
            let pd = env.pd();
            let mr = create_mr(pd);
            unsafe { softroce_set_deferred_completions(env.adapter, 1) };
            let mut buf = vec![0u8; 4096];
            let mut mdl = new_mdl(&mut buf, 0);
            let rc = Ctx::new(log, 0x7E9);
            let s = unsafe {
                (mr_d(mr).NdkRegisterMr)(mr, &mut *mdl, 4096, 0, Some(on_request), rc.ptr())
            };
            assert_eq!(s, STATUS_PENDING, "a completion waits in the MR's queue");
            unsafe { softroce_set_deferred_completions(env.adapter, 0) };
            Built {
                ante: pd,
                succ: as_pd(mr),
                rest: vec![],
                _keep: vec![Box::new(buf), Box::new(mdl), Box::new(rc)],
            }
        }),
        ("PD->MW", |env, _| {
            let pd = env.pd();
            Built {
                ante: pd,
                succ: as_pd(create_mw(pd)),
                rest: vec![],
                _keep: vec![],
            }
        }),
        ("PD->SRQ", |env, _| {
            let pd = env.pd();
            let (s, srq) = create_srq(pd, 4, 1);
            assert_eq!(s, STATUS_SUCCESS);
            Built {
                ante: pd,
                succ: as_pd(srq),
                rest: vec![],
                _keep: vec![],
            }
        }),
        ("PD->QP", |env, log| {
            let pd = env.pd();
            let (cq, c) = env.cq(8, log, 1);
            let q = qp(pd, cq, 0, 4, 4).unwrap();
            Built {
                ante: pd,
                succ: as_pd(q),
                rest: vec![as_pd(cq)],
                _keep: vec![Box::new(c)],
            }
        }),
        ("CQ->QP", |env, log| {
            let pd = env.pd();
            let (cq, c) = env.cq(8, log, 1);
            let q = qp(pd, cq, 0, 4, 4).unwrap();
            Built {
                ante: as_pd(cq),
                succ: as_pd(q),
                rest: vec![pd],
                _keep: vec![Box::new(c)],
            }
        }),
        ("SRQ->QP", |env, log| {
            let pd = env.pd();
            let (cq, c) = env.cq(8, log, 1);
            let (_, srq) = create_srq(pd, 4, 1);
            let (s, q) = create_qp_with_srq(pd, cq, srq, 0, 4, 1);
            assert_eq!(s, STATUS_SUCCESS);
            Built {
                ante: as_pd(srq),
                succ: as_pd(q),
                rest: vec![as_pd(cq), pd],
                _keep: vec![Box::new(c)],
            }
        }),
    ];
    for (name, build) in rows {
        let env = Env::new();
        let log = Log::default();
        let b = build(&env, &log);
        prove(
            name,
            &log,
            &|| {
                env.run();
            },
            b.ante,
            b.succ,
            &|| {},
        );
        for o in b.rest {
            assert_eq!(close_obj(o, None), STATUS_SUCCESS, "{name}");
        }
        env.run();
        env.finish();
    }
}

/// NdkInvalidate of a window (or a fast MR) through `qp`.
fn invalidate(qp: *mut NDK_QP, ctx: usize, target: *mut NDK_MW) -> NtStatus {
    unsafe { (qp_d(qp).NdkInvalidate)(qp, ctx as *mut c_void, target.cast(), 0) }
}

fn deregister(mr: *mut NDK_MR) -> NtStatus {
    unsafe { (mr_d(mr).NdkDeregisterMr)(mr, None, null_mut()) }
}

/// §5.2 MR->MW (via Bind): while a window is bound to it, closing the MR
/// pends until the window is closed (here: the MW's close completion
/// returned first) and NdkDeregisterMr answers STATUS_DEVICE_BUSY (nothing
/// changes: the window still works); an unbound window holds nothing.
#[test]
fn a_bound_window_holds_its_mrs_close_until_the_window_closes() {
    let p = Pair::new(None);
    let run = || {
        unsafe { softroce_platform_run_pending(p.platform) };
    };
    let mut buf = vec![0u8; 4096];
    let a_mr = p.a.mr(&mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let aa = buf.as_ptr() as u64;
    // An unbound window is no successor of any MR.
    let idle = create_mw(p.a.pd);
    let mut other = vec![0u8; 64];
    let lone = p.a.mr(&mut other, 0);
    assert_eq!(close_obj(lone.mr, None), STATUS_SUCCESS);

    let mw = create_mw(p.a.pd);
    let s =
        p.a.bind(1, a_mr.mr, mw, aa, 256, NDK_OP_FLAG_ALLOW_REMOTE_READ);
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(1);
    assert_eq!(p.a.results().len(), 1, "the bind completed");
    let token = mw_remote_token(mw);
    assert_ne!(token, 0);
    assert_eq!(deregister(a_mr.mr), STATUS_DEVICE_BUSY);
    assert_ne!(a_mr.local(), 0, "a refused deregistration changes nothing");
    // B reads through the window while A's MR close is pending.
    let mut b_buf = vec![0u8; 64];
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let bb = b_buf.as_ptr() as u64;
    let log = Log::default();
    // Between the MR's close and the window's, B reads through the window.
    prove("MR->MW", &log, &run, a_mr.mr, mw, &|| {
        assert_eq!(
            p.b.read(9, &[sge(bb, 16, b_mr.local())], aa, token, 0),
            STATUS_SUCCESS
        );
        p.settle(1);
        let r = p.b.results();
        assert_eq!(r.len(), 1);
        assert_eq!(
            r[0].Status, STATUS_SUCCESS,
            "the window outlives the MR's close call"
        );
    });
    assert_eq!(close_obj(idle, None), STATUS_SUCCESS);
    let mut p = p;
    p.keep(b_mr.mr);
    p.finish();
}

/// MR->MW ends when the window stops referring to the MR: a window rebound
/// to another MR releases the first MR's pending close, a locally
/// invalidated one the second's; binding twice to one MR counts once; after
/// the invalidation NdkDeregisterMr succeeds again.
#[test]
fn rebinding_or_invalidating_the_window_releases_the_mr() {
    let p = Pair::new(None);
    let run = || {
        unsafe { softroce_platform_run_pending(p.platform) };
    };
    let log = Log::default();
    let (mut b1, mut b2, mut b3) = (vec![0u8; 256], vec![0u8; 256], vec![0u8; 256]);
    let m1 = p.a.mr(&mut b1, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let m2 = p.a.mr(&mut b2, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let m3 = p.a.mr(&mut b3, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (a1, a2, a3) = (b1.as_ptr() as u64, b2.as_ptr() as u64, b3.as_ptr() as u64);
    let rr = NDK_OP_FLAG_ALLOW_REMOTE_READ;
    let mw = create_mw(p.a.pd);
    assert_eq!(p.a.bind(1, m1.mr, mw, a1, 64, rr), STATUS_SUCCESS);
    let c1 = Ctx::new(&log, 1);
    assert_eq!(close_obj(m1.mr, Some(&c1)), STATUS_PENDING);
    p.settle(1);
    assert_eq!(closes(&log, 1), 0, "the window still refers to MR 1");
    // Rebound elsewhere: MR 1 is no antecedent any more.
    assert_eq!(p.a.bind(2, m2.mr, mw, a2, 64, rr), STATUS_SUCCESS);
    run();
    assert_eq!(
        closes(&log, 1),
        1,
        "MR 1's close completed after the rebind"
    );
    let c2 = Ctx::new(&log, 2);
    assert_eq!(deregister(m2.mr), STATUS_DEVICE_BUSY);
    assert_eq!(close_obj(m2.mr, Some(&c2)), STATUS_PENDING);
    p.settle(1);
    assert_eq!(closes(&log, 2), 0);
    assert_eq!(invalidate(p.a.qp, 3, mw), STATUS_SUCCESS);
    run();
    assert_eq!(
        closes(&log, 2),
        1,
        "MR 2's close completed after the invalidate"
    );
    // Bound twice to MR 3, invalidated once: no successor is left.
    assert_eq!(p.a.bind(4, m3.mr, mw, a3, 64, rr), STATUS_SUCCESS);
    assert_eq!(p.a.bind(5, m3.mr, mw, a3 + 64, 64, rr), STATUS_SUCCESS);
    assert_eq!(deregister(m3.mr), STATUS_DEVICE_BUSY);
    assert_eq!(invalidate(p.a.qp, 6, mw), STATUS_SUCCESS);
    assert_eq!(deregister(m3.mr), STATUS_SUCCESS);
    assert_eq!(close_obj(m3.mr, None), STATUS_SUCCESS);
    p.settle(1);
    let r = p.a.results();
    assert_eq!(r.len(), 6, "every bind and invalidate completed: {r:?}");
    assert!(r.iter().all(|r| r.Status == STATUS_SUCCESS), "{r:?}");
    run();
    assert_eq!(log.count("close"), 2, "each MR's close once");
    let mut p = p;
    p.keep(mw);
    p.finish();
}

/// §5.2 QP->Connector (via Connect), Listener->Connector (delivered by the
/// ConnectEvent) and SharedEndpoint->Connector (via
/// ConnectWithSharedEndpoint); each connector's close pends itself (its
/// pending request completes with STATUS_CANCELLED first), so each
/// antecedent also waits for that CloseCompletion to return.
#[test]
fn connector_pairs_pend_until_the_connector_closed() {
    let mut net = Net::new(21);
    let mut a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let run = || {
        net.run();
    };

    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    prove("QP->Connector", &a.log, &run, a.qp, c, &|| {});
    a.qp = qp(a.pd, a.cq, 0x51, 16, 16).unwrap();
    prove("Listener->Connector", &b.log, &run, l, p, &|| {});

    let se = shared_endpoint(&a, SocketAddr::new(a.ip, 7100)).unwrap();
    let c2 = a.connector();
    let q2 = a.new_qp();
    let s = connect_shared(&a, c2, q2, se, SocketAddr::new(b.ip, 7001), 30);
    assert_eq!(s, STATUS_PENDING);
    prove("SharedEndpoint->Connector", &a.log, &run, se, c2, &|| {});

    net.advance(GIVE_UP);
    a.close_objects();
    b.close_objects();
    net.finish();
}

/// §5.2 + §5.6: closing a connected QP first (its connector still open)
/// flushes at once — the queued receive is on the CQ with STATUS_CANCELLED
/// before any disconnect — and the close pends until the connector's close
/// completion returned; the connector's close ends the connection.
#[test]
fn closing_a_connected_qp_flushes_and_waits_for_its_connector() {
    let mut net = Net::new(22);
    let mut a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let (c, p) = establish(&net, &a, &b, at);
    let mut buf = vec![0u8; 64];
    let (mr, _mdl) = registered_mr(a.pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    assert_eq!(
        receive(a.qp, 77, &[sge(buf.as_ptr() as u64, 64, token)]),
        STATUS_SUCCESS
    );
    let run = || {
        net.run();
    };
    let cq = a.cq;
    prove("QP->Connector (connected)", &a.log, &run, a.qp, c, &|| {
        let r = results_ex(cq, 4);
        assert_eq!(r.len(), 1, "the close flushed the receive: {r:?}");
        assert_eq!(
            (r[0].Status, r[0].RequestContext as usize, r[0].Type),
            (STATUS_CANCELLED, 77, NdkOperationTypeReceive)
        );
        assert_eq!(r[0].ProviderErrorCode, FLUSHED);
    });
    assert!(results_ex(a.cq, 4).is_empty(), "nothing after the flush");
    net.advance(GIVE_UP);
    assert_eq!(b.calls(21).len(), 1, "the peer saw the connection end once");
    a.qp = qp(a.pd, a.cq, 0x51, 16, 16).unwrap();
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    for o in [p as *mut NDK_PD, l.cast()] {
        let s = close_obj(o, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s:?}");
    }
    net.advance(GIVE_UP);
    a.close_objects();
    b.close_objects();
    net.finish();
}

/// §5.2 "close must itself start flushing": a QP closed with receives
/// queued (never connected) completes them on its CQ with STATUS_CANCELLED
/// in posting order, reaped after the close; the close stays inline (no QP
/// callback). With an SRQ the receives stay in the SRQ (as with NdkFlush).
#[test]
fn closing_a_qp_cancels_its_queued_receives() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _c) = env.cq(16, &log, 1);
    let q = qp(pd, cq, 0x51, 8, 8).unwrap();
    let mut buf = vec![0u8; 256];
    let (mr, _mdl) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let t = mr_token(mr, false);
    let a = buf.as_ptr() as u64;
    for i in 0..3u64 {
        assert_eq!(
            receive(q, 0x100 + i as usize, &[sge(a + 16 * i, 16, t)]),
            STATUS_SUCCESS
        );
    }
    let (s, srq) = create_srq(pd, 4, 1);
    assert_eq!(s, STATUS_SUCCESS);
    let (s, q2) = create_qp_with_srq(pd, cq, srq, 0x52, 4, 1);
    assert_eq!(s, STATUS_SUCCESS);
    let srq_receive = unsafe { (*(*srq).Dispatch).NdkSrqReceive };
    let s = unsafe { srq_receive(srq, 0x200 as *mut c_void, [sge(a, 16, t)].as_ptr(), 1) };
    assert_eq!(s, STATUS_SUCCESS);

    let qc = Ctx::new(&log, 2);
    assert_eq!(close_obj(q, Some(&qc)), STATUS_SUCCESS);
    assert_eq!(close_obj(q2, Some(&qc)), STATUS_SUCCESS);
    env.run();
    assert_eq!(log.count("close"), 0, "inline closes call nothing");
    let r = results_ex(cq, 8);
    let got: Vec<_> = r
        .iter()
        .map(|r| {
            (
                r.Status,
                r.RequestContext as usize,
                r.QPContext as usize,
                r.Type,
            )
        })
        .collect();
    let want: Vec<_> = (0..3)
        .map(|i| (STATUS_CANCELLED, 0x100 + i, 0x51, NdkOperationTypeReceive))
        .collect();
    assert_eq!(got, want, "the QP's receives, in order; none of the SRQ's");
    for o in [as_pd(srq), as_pd(mr), as_pd(cq), pd] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    env.finish();
}

/// The close of a connected QP with requests outstanding: exactly
/// NdkFlush's outcome (initiator requests in posting order — Send and Read
/// cancelled, the executed Bind's success in its place — and both receives
/// cancelled), reaped with NdkGetCqResultsEx after the close.
#[test]
fn closing_a_connected_qp_cancels_everything_in_order() {
    let mut p = Pair::new(None);
    let stuck = stuck_requests(&p);
    assert_eq!(close_obj(p.a.qp, None), STATUS_SUCCESS);
    check_stuck_flushed(&p.a.results());
    p.settle(5);
    assert!(p.a.results().is_empty(), "nothing after the close's flush");
    p.a.qp = null_mut();
    stuck.keep_in(&mut p);
    p.finish();
}

/// §5.2 Adapter->{CQ, PD, Connector, Listener, SharedEndpoint, LAM}: the
/// adapter's close is blocking. Each successor's close is left pending with
/// its completion not yet delivered (no DPC runs before the adapter close);
/// when the adapter close returns every one of them has run exactly once,
/// each after the callbacks queued before it (a connector's cancelled
/// connect first), and an unreleased LAM is gone with the books balanced.
#[test]
fn adapter_close_returns_after_every_successors_close_completion() {
    let mut net = Net::new(23);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    // A connector (via QP a.qp) whose ConnectEvent reached B's listener.
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    // A CQ with a QP and a PD with an MR: children closed after the parents.
    let (cq, _cqc) = create_cq(a.adapter, 8, &a.log, 2);
    let pd = {
        let mut pd = null_mut();
        let s = unsafe { (a.d().NdkCreatePd)(a.adapter, None, null_mut(), &mut pd) };
        assert_eq!(s, STATUS_SUCCESS);
        pd
    };
    let q = qp(pd, cq, 0, 4, 4).unwrap();
    let mw = create_mw(pd);
    // A shared endpoint with a connector connecting through it.
    let se = shared_endpoint(&a, SocketAddr::new(a.ip, 7100)).unwrap();
    let c2 = a.connector();
    let q2 = a.new_qp();
    let s = connect_shared(&a, c2, q2, se, SocketAddr::new(b.ip, 7001), 31);
    assert_eq!(s, STATUS_PENDING);
    // An unreleased LAM.
    let mut page = vec![0u8; 4096];
    let mut mdl = new_mdl(&mut page, 0);
    let mut lam_buf = vec![0u64; 8];
    let (mut size, mut fbo) = (64u32, 0u32);
    let s = unsafe {
        (a.d().NdkBuildLAM)(
            a.adapter,
            &mut *mdl,
            4096,
            None,
            null_mut(),
            lam_buf.as_mut_ptr().cast(),
            &mut size,
            &mut fbo,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);

    // Antecedents first (each pends), then their successors; no DPC runs.
    let tags: [(usize, *mut NDK_PD, &ndk_conn_common::Side); 5] = [
        (101, as_pd(cq), &a),
        (102, pd, &a),
        (103, as_pd(c), &a),
        (104, as_pd(se), &a),
        (105, as_pd(l), &b),
    ];
    let ctxs: Vec<Box<Ctx>> = tags.iter().map(|(t, _, s)| Ctx::new(&s.log, *t)).collect();
    for ((t, o, _), ctx) in tags.iter().zip(&ctxs) {
        let s = close_obj(*o, Some(ctx));
        assert_eq!(s, STATUS_PENDING, "antecedent {t}");
    }
    for o in [as_pd(q), as_pd(mw), as_pd(p), as_pd(c2), as_pd(q2)] {
        let s = close_obj(o, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s:?}");
    }
    for o in [
        as_pd(a.qp),
        as_pd(a.cq),
        a.pd,
        as_pd(b.qp),
        as_pd(b.cq),
        b.pd,
    ] {
        let s = close_obj(o, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s:?}");
    }
    assert_eq!(
        closes(&a.log, 101) + closes(&a.log, 102),
        0,
        "no DPC ran yet"
    );
    unsafe { softroce_close_adapter(a.adapter) };
    for t in [101, 102, 103, 104] {
        assert_eq!(
            closes(&a.log, t),
            1,
            "A's successor {t} completed by the adapter close"
        );
    }
    let calls = a.log.calls();
    let pos = |tag: usize, what: &str| calls.iter().position(|c| c.tag == tag && c.what == what);
    assert!(
        pos(10, "request") < pos(103, "close"),
        "the connect's completion first"
    );
    assert!(
        pos(31, "request") < pos(104, "close"),
        "SE waits for its connector"
    );
    unsafe { softroce_close_adapter(b.adapter) };
    assert_eq!(
        closes(&b.log, 105),
        1,
        "B's listener completed by the adapter close"
    );
    assert_eq!(net.pool_bytes(), 0, "pool bytes leaked");
    assert_eq!(net.pool_objects(), 0, "pool objects leaked");
    drop((mdl, page, lam_buf));
    net.adapters.clear();
    unsafe { softroce_platform_release(net.platform) };
    softroce::os::hosted::irql_books().assert_clean();
}
