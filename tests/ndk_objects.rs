//! Conformance: QP, SRQ, listener, connector and shared endpoint objects
//! (NDKPI facts §5.0, §5.4 QP limits, §5.7-5.9 where no connection is
//! needed), through the hosted C entry points and the dispatch tables only.

mod ndk_common;

use ndk_common::*;
use std::ffi::c_void;
use std::ptr::null_mut;

fn create_qp_with(
    pd: *mut NDK_PD,
    rcq: *mut NDK_CQ,
    icq: *mut NDK_CQ,
    l: [u32; 5],
) -> (NtStatus, *mut NDK_QP) {
    let mut qp = null_mut();
    let s = unsafe {
        (pd_d(pd).NdkCreateQp)(
            pd,
            rcq,
            icq,
            null_mut(),
            l[0],
            l[1],
            l[2],
            l[3],
            l[4],
            None,
            null_mut(),
            &mut qp,
        )
    };
    (s, qp)
}

/// §5.4: depths, SGE counts and InlineDataSize above the adapter's maxima
/// -> STATUS_INVALID_PARAMETER, nothing created (pool unchanged); the
/// maxima themselves are accepted; CQs of another adapter are refused.
#[test]
fn qp_limits_are_enforced_at_create() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _c) = env.cq(64, &log, 1);
    let before = env.pool_bytes();
    let max = [4096, 4096, 32, 32, 256];
    for i in 0..5 {
        let mut l = max;
        l[i] += 1;
        let (s, qp) = create_qp_with(pd, cq, cq, l);
        assert_eq!(s, STATUS_INVALID_PARAMETER, "limit {i}");
        assert!(qp.is_null());
    }
    assert_eq!(env.pool_bytes(), before);
    let (s, _) = create_qp_with(pd, null_mut(), cq, [1, 1, 1, 1, 0]);
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    let other = Env::at("192.0.2.2");
    let (ocq, _oc) = other.cq(8, &log, 2);
    let (s, _) = create_qp_with(pd, cq, ocq, [1, 1, 1, 1, 0]);
    assert_eq!(s, STATUS_INVALID_PARAMETER, "CQ of another adapter");
    let (s, qp) = create_qp_with(pd, cq, cq, max);
    assert_eq!(s, STATUS_SUCCESS);
    assert!(
        env.pool_bytes() > before + 4096 * 32 * 16,
        "both queues preallocated"
    );
    assert_eq!(close_obj(qp, None), STATUS_SUCCESS);
    assert_eq!(close_obj(ocq, None), STATUS_SUCCESS);
    other.finish();
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4: initiator posts on a QP that is not connected ->
/// STATUS_CONNECTION_INVALID and no completion; NdkReceive on an SRQ QP ->
/// STATUS_INVALID_DEVICE_REQUEST; the SRQ must be of the same PD.
#[test]
fn unconnected_qp_posts_and_srq_rules() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let other = env.pd();
    let (cq, _c) = env.cq(16, &log, 1);
    let q = qp(pd, cq, 0, 4, 4).unwrap();
    let d = qp_d(q);
    let ctx = null_mut::<c_void>();
    let sg = [sge(0, 0, 0)];
    let statuses = unsafe {
        [
            (d.NdkSend)(q, ctx, sg.as_ptr(), 1, 0),
            (d.NdkWrite)(q, ctx, sg.as_ptr(), 1, 0x1000, 1, 0),
            (d.NdkRead)(q, ctx, sg.as_ptr(), 1, 0x1000, 1, 0),
            (d.NdkSendAndInvalidate)(q, ctx, sg.as_ptr(), 1, 0, 1),
            (d.NdkBind)(q, ctx, null_mut(), null_mut(), null_mut(), 0, 0),
            (d.NdkFastRegister)(q, ctx, null_mut(), 0, std::ptr::null(), 0, 0, null_mut(), 0),
            (d.NdkInvalidate)(q, ctx, null_mut(), 0),
        ]
    };
    assert!(
        statuses.iter().all(|&s| s == STATUS_CONNECTION_INVALID),
        "{statuses:?}"
    );
    unsafe { (d.NdkFlush)(q) };
    assert!(results_ex(cq, 8).is_empty(), "failed posts completed");

    let (s, srq) = create_srq(other, 8, 2);
    assert_eq!(s, STATUS_SUCCESS);
    let (s, _) = create_qp_with_srq(pd, cq, srq, 0, 4, 1);
    assert_eq!(s, STATUS_INVALID_PARAMETER, "SRQ of another PD");
    let (s, _) = create_qp_with_srq(pd, cq, null_mut(), 0, 4, 1);
    assert_eq!(s, STATUS_INVALID_PARAMETER, "NULL SRQ");
    let (s, qs) = create_qp_with_srq(other, cq, srq, 0, 4, 1);
    assert_eq!(s, STATUS_SUCCESS);
    assert_eq!(receive(qs, 1, &[]), STATUS_INVALID_DEVICE_REQUEST);
    for o in [qs.cast::<NDK_PD>(), q.cast(), srq.cast()] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    assert_eq!(close_obj(other, None), STATUS_SUCCESS);
    env.finish();
}

/// SRQ: depth and SGE limits, NotifyThreshold above the depth, posting
/// with the SGE checks, queue full, NdkModifySrq bounds (below the posted
/// count, above the maximum, threshold above depth).
#[test]
fn srq_limits_receive_and_modify() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let create = |depth, sge, threshold| {
        let mut srq = null_mut();
        let c = Ctx::new(&log, 1);
        let s = unsafe {
            (pd_d(pd).NdkCreateSrq)(
                pd,
                depth,
                sge,
                threshold,
                Some(on_notify),
                c.ptr(),
                null_mut(),
                None,
                null_mut(),
                &mut srq,
            )
        };
        (s, srq)
    };
    for (d, s, t) in [(0, 1, 0), (4097, 1, 0), (8, 33, 0), (8, 1, 9)] {
        assert_eq!(create(d, s, t).0, STATUS_INVALID_PARAMETER, "{d} {s} {t}");
    }
    let (s, srq) = create(2, 1, 1);
    assert_eq!(s, STATUS_SUCCESS);
    let d = unsafe { &*(*srq).Dispatch };
    let mut buf = vec![0u8; 256];
    let (mr, _m) = registered_mr(pd, &mut buf, 1);
    let t = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    let va = buf.as_ptr() as u64;
    let post = |ctx: usize, sges: &[NDK_SGE]| unsafe {
        (d.NdkSrqReceive)(srq, ctx as *mut c_void, sges.as_ptr(), sges.len() as u32)
    };
    assert_eq!(
        post(1, &[sge(va, 8, t), sge(va, 8, t)]),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(post(1, &[sge(va, 300, t)]), STATUS_ACCESS_VIOLATION);
    assert_eq!(post(1, &[sge(va, 8, t)]), STATUS_SUCCESS);
    assert_eq!(post(2, &[sge(va, 8, t)]), STATUS_SUCCESS);
    assert_eq!(post(3, &[sge(va, 8, t)]), STATUS_INSUFFICIENT_RESOURCES);
    let modify =
        |depth, threshold| unsafe { (d.NdkModifySrq)(srq, depth, threshold, None, null_mut()) };
    assert_eq!(
        modify(1, 0),
        STATUS_INVALID_PARAMETER,
        "below the posted count"
    );
    assert_eq!(modify(4097, 0), STATUS_INVALID_PARAMETER);
    assert_eq!(modify(4, 5), STATUS_INVALID_PARAMETER);
    assert_eq!(modify(4, 2), STATUS_SUCCESS);
    assert_eq!(
        post(3, &[sge(va, 8, t)]),
        STATUS_SUCCESS,
        "the deeper queue kept the posted ones"
    );
    assert_eq!(post(4, &[sge(va, 8, t)]), STATUS_SUCCESS);
    assert_eq!(post(5, &[sge(va, 8, t)]), STATUS_INSUFFICIENT_RESOURCES);
    env.run();
    assert_eq!(log.count("notify"), 0, "no limit event without consumption");
    assert_eq!(close_obj(srq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

fn sockaddr_in(ip: [u8; 4], port: u16) -> SOCKADDR_IN {
    SOCKADDR_IN {
        sin_family: AF_INET,
        sin_port: port.to_be(),
        sin_addr: IN_ADDR::from_octets(ip),
        sin_zero: [0; 8],
    }
}

fn create_se(env: &Env, sa: &SOCKADDR_IN, len: u32) -> (NtStatus, *mut NDK_SHARED_ENDPOINT) {
    let mut se = null_mut();
    let s = unsafe {
        (env.d().NdkCreateSharedEndpoint)(
            env.adapter,
            (sa as *const SOCKADDR_IN).cast(),
            len,
            None,
            null_mut(),
            &mut se,
        )
    };
    (s, se)
}

/// §5.9: a shared endpoint binds the adapter's address; port 0 picks an
/// ephemeral port (>= 49152) reported by GetLocalAddress (with its size
/// protocol); a port in use -> SHARING_VIOLATION until the endpoint closes;
/// another IP -> INVALID_ADDRESS; a short SOCKADDR -> INVALID_PARAMETER.
#[test]
fn shared_endpoints_bind_ports() {
    let env = Env::new();
    let ip = [192, 0, 2, 1];
    let len = std::mem::size_of::<SOCKADDR_IN>() as u32;
    assert_eq!(
        create_se(&env, &sockaddr_in([192, 0, 2, 9], 0), len).0,
        STATUS_INVALID_ADDRESS
    );
    assert_eq!(
        create_se(&env, &sockaddr_in(ip, 0), 8).0,
        STATUS_INVALID_PARAMETER
    );
    let (s, a) = create_se(&env, &sockaddr_in(ip, 5000), len);
    assert_eq!(s, STATUS_SUCCESS);
    assert_eq!(
        create_se(&env, &sockaddr_in(ip, 5000), len).0,
        STATUS_SHARING_VIOLATION
    );
    let (s, b) = create_se(&env, &sockaddr_in([0, 0, 0, 0], 0), len);
    assert_eq!(s, STATUS_SUCCESS);
    let d = unsafe { &*(*b).Dispatch };
    let mut out: SOCKADDR_IN = unsafe { std::mem::zeroed() };
    let mut out_len = 4u32;
    let get = |o: *mut SOCKADDR_IN, l: &mut u32| unsafe {
        (d.NdkGetSharedEndpointLocalAddress)(b, o.cast(), l)
    };
    assert_eq!(get(&mut out, &mut out_len), STATUS_BUFFER_TOO_SMALL);
    assert_eq!(out_len, len);
    assert_eq!(get(null_mut(), &mut out_len), STATUS_BUFFER_TOO_SMALL);
    assert_eq!(get(&mut out, &mut out_len), STATUS_SUCCESS);
    assert_eq!(out.sin_family, AF_INET);
    assert_eq!(out.sin_addr.octets(), ip);
    assert!(u16::from_be(out.sin_port) >= 49152);
    assert_eq!(close_obj(a, None), STATUS_SUCCESS);
    let (s, a2) = create_se(&env, &sockaddr_in(ip, 5000), len);
    assert_eq!(s, STATUS_SUCCESS, "the port is free again after close");
    assert_eq!(close_obj(a2, None), STATUS_SUCCESS);
    assert_eq!(close_obj(b, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.0/§5.7: listener and connector before any connection: a listener
/// needs its ConnectEvent; an unbound listener has no address
/// (STATUS_INVALID_DEVICE_STATE); an unconnected connector's local/peer
/// address and connection data -> STATUS_CONNECTION_INVALID; the
/// connection verbs are not implemented yet (never pend, never complete);
/// every object's QueryExtension answers STATUS_NOT_SUPPORTED.
#[test]
fn listener_and_connector_before_any_connection() {
    let env = Env::new();
    let log = Log::default();
    let mut l = null_mut();
    let s = unsafe {
        (env.d().NdkCreateListener)(env.adapter, None, null_mut(), None, null_mut(), &mut l)
    };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    let s = unsafe {
        (env.d().NdkCreateListener)(
            env.adapter,
            Some(on_connect),
            null_mut(),
            None,
            null_mut(),
            &mut l,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let ld = unsafe { &*(*l).Dispatch };
    let mut sa: SOCKADDR_IN6 = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<SOCKADDR_IN6>() as u32;
    let s = unsafe {
        (ld.NdkGetListenerLocalAddress)(l, (&mut sa as *mut SOCKADDR_IN6).cast(), &mut len)
    };
    assert_eq!(s, STATUS_INVALID_DEVICE_STATE);
    unsafe { (ld.NdkControlConnectEvents)(l, 1) };
    let c = Ctx::new(&log, 1);
    let s = unsafe {
        (ld.NdkListen)(
            l,
            (&sa as *const SOCKADDR_IN6).cast(),
            len,
            Some(on_request),
            c.ptr(),
        )
    };
    // A zeroed SOCKADDR has no family: not an address of this adapter.
    assert_eq!(s, STATUS_INVALID_ADDRESS);

    let mut conn = null_mut();
    assert_eq!(
        unsafe { (env.d().NdkCreateConnector)(env.adapter, None, null_mut(), &mut conn) },
        STATUS_SUCCESS
    );
    let cd = unsafe { &*(*conn).Dispatch };
    let sp = (&mut sa as *mut SOCKADDR_IN6).cast();
    unsafe {
        assert_eq!(
            (cd.NdkGetLocalAddress)(conn, sp, &mut len),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (cd.NdkGetPeerAddress)(conn, sp, &mut len),
            STATUS_CONNECTION_INVALID
        );
        let mut plen = 0u32;
        assert_eq!(
            (cd.NdkGetConnectionData)(conn, null_mut(), null_mut(), null_mut(), &mut plen),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (cd.NdkDisconnect)(conn, Some(on_request), c.ptr()),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (cd.NdkReject)(conn, null_mut(), 0),
            STATUS_CONNECTION_INVALID
        );
    }
    // QueryExtension on every object type: NOT_SUPPORTED.
    let pd = env.pd();
    let (cq, _cc) = env.cq(4, &log, 2);
    let guid = GUID::default();
    let mut ext = NDK_EXTENSION_INTERFACE {
        Dispatch: std::ptr::null(),
    };
    for o in [l.cast::<NDK_PD>(), conn.cast(), pd, cq.cast()] {
        let qe = unsafe { (*(*o).Dispatch).NdkQueryExtension };
        assert_eq!(
            unsafe { qe(o.cast(), &guid, V21, &mut ext) },
            STATUS_NOT_SUPPORTED
        );
    }
    env.run();
    assert!(
        log.calls().is_empty(),
        "a non-pending status completed: {:?}",
        log.calls()
    );
    for o in [l.cast::<NDK_PD>(), conn.cast(), pd, cq.cast()] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    env.finish();
}
