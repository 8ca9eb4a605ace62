//! Connection establishment end to end between hosted adapters on a
//! simulated network with the virtual clock: NdkListen / NdkConnect /
//! ConnectEvent / NdkAcceptEx / NdkCompleteConnectEx / NdkGetConnectionData
//! / addresses / NdkDisconnect, on IPv4 and IPv6, through the C entry
//! points and dispatch tables only. Every test ends with the adapters
//! closed, the pool books empty and the IRQL books clean (every callback at
//! DISPATCH_LEVEL with no provider lock held, checked as it is recorded).

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;

/// Long enough for every CM retry to run out (16 x 4.29 s) plus timewait.
const GIVE_UP: Duration = Duration::from_secs(80);
/// Timewait (one response timeout, 4.29 s) and a margin.
const TIMEWAIT: Duration = Duration::from_secs(5);

/// The full exchange between adapters at `a_ip` (active) and `b_ip`.
fn connect_exchange_disconnect(a_ip: &str, b_ip: &str) {
    let mut net = Net::new(11);
    let a = net.adapter(a_ip);
    let b = net.adapter(b_ip);
    let (l, bound) = b.listen(1, 0);
    assert_eq!(bound.ip(), b.ip);
    assert!(bound.port() >= 49152, "port 0 -> an ephemeral port");

    let c = a.connector();
    let req_data: Vec<u8> = (1..=56).collect();
    assert_eq!(
        a.connect_from(
            c,
            a.qp,
            SocketAddr::new(a.ip, 0),
            bound,
            6,
            3,
            &req_data,
            10
        ),
        STATUS_PENDING
    );
    assert!(
        a.completions(10).is_empty(),
        "never completes inside the call"
    );
    net.run();
    let got = b.delivered(1);
    assert_eq!(got.len(), 1, "one ConnectEvent with a new connector");
    let p = got[0];

    // Passive GetConnectionData: RDS 56 (REQ area), the peer's bytes, and the
    // read limits the peer allows: min(local max 16, peer's opposite).
    let (s, ird, ord, len, _) = b.connection_data(p, 0);
    assert_eq!((s, len), (STATUS_SUCCESS, 56));
    assert_eq!(
        (ird, ord),
        (3, 6),
        "inbound = peer's outbound, outbound = peer's inbound"
    );
    let (s, _, _, len, data) = b.connection_data(p, 56);
    assert_eq!((s, len), (STATUS_SUCCESS, 56));
    assert_eq!(data, req_data);
    let (s, _, _, len, data) = b.connection_data(p, 10);
    assert_eq!((s, len), (STATUS_BUFFER_TOO_SMALL, 56));
    assert_eq!(data, req_data[..10]);
    let (pl, pr) = b.addresses(p);
    assert_eq!(pl, bound);
    assert_eq!(pr.ip(), a.ip);

    let rep_data: Vec<u8> = (100..248).collect();
    assert_eq!(b.accept_on(p, b.qp, 2, 16, &rep_data, 20), STATUS_PENDING);
    net.run();
    assert_eq!(
        a.completions(10),
        vec![STATUS_SUCCESS],
        "REP completes NdkConnect"
    );
    assert!(b.completions(20).is_empty(), "Accept waits for the RTU");

    // Active GetConnectionData: RDS 196 (REP area), limits = min(request, max, peer's).
    let (s, ird, ord, len, data) = a.connection_data(c, 196);
    assert_eq!((s, len), (STATUS_SUCCESS, 196));
    assert_eq!(&data[..148], &rep_data[..]);
    assert!(data[148..].iter().all(|&x| x == 0));
    assert_eq!((ird, ord), (min3(6, 16, 16), min3(3, 16, 2)));
    let (al, ar) = a.addresses(c);
    assert_eq!(ar, bound);
    assert_eq!(al, pr, "both sides agree on the active address:port");
    assert_eq!(al.ip(), a.ip);

    assert_eq!(
        a.complete(c, 30),
        STATUS_SUCCESS,
        "CompleteConnect is inline"
    );
    net.run();
    assert_eq!(
        b.completions(20),
        vec![STATUS_SUCCESS],
        "RTU completes NdkAccept"
    );

    // A receive posted on the active QP is flushed by the disconnect.
    let mut buf = vec![0u8; 64];
    let (mr, _mdl) = registered_mr(a.pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    let addr = buf.as_ptr() as u64;
    assert_eq!(receive(a.qp, 77, &[sge(addr, 64, token)]), STATUS_SUCCESS);

    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    assert!(
        results_ex(a.cq, 4).is_empty(),
        "no flush before the disconnect completes"
    );
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    let r = results_ex(a.cq, 4);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].Status, STATUS_CANCELLED);
    assert_eq!(r[0].RequestContext as usize, 77);
    // The peer's DisconnectEventEx, exactly once, reason 0.
    let ev: Vec<_> = b
        .calls(21)
        .into_iter()
        .map(|c| (c.what, c.status))
        .collect();
    assert_eq!(ev, vec![("disconnect_ex", 0)]);
    assert!(a.calls(31).is_empty(), "our own disconnect is no event");
    // The peer already disconnected: its NdkDisconnect succeeds inline.
    assert_eq!(b.disconnect(p, 50), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    assert_eq!(b.calls(21).len(), 1, "still once");
    assert!(b.completions(50).is_empty(), "inline result: no callback");

    for conn in [c, p] {
        assert_eq!(close_obj(conn, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    for s in [&a, &b] {
        let st = s.stats();
        assert_eq!(
            (st.cm_connections, st.cm_endpoints, st.timer_armed),
            (0, 0, false)
        );
        assert_eq!((st.rx_bad_icrc, st.rx_malformed, st.rx_no_qp), (0, 0, 0));
        s.close_objects();
    }
    net.finish();
}

fn min3(a: u32, b: u32, c: u32) -> u32 {
    a.min(b).min(c)
}

#[test]
fn connect_exchange_private_data_and_disconnect_ipv4() {
    connect_exchange_disconnect("192.0.2.1", "192.0.2.2");
}

#[test]
fn connect_exchange_private_data_and_disconnect_ipv6() {
    connect_exchange_disconnect("2001:db8::1", "2001:db8::2");
}

/// Two adapters on one SimNet and a listener on B at port 7000.
fn setup(seed: u64) -> (Net, Side, Side, *mut NDK_LISTENER, SocketAddr) {
    let mut net = Net::new(seed);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    (net, a, b, l, at)
}

/// Closes what a test left open (connectors first), lets timewait end,
/// checks the CM tables are empty, closes the rest and the adapters.
fn teardown(
    net: Net,
    sides: &[&Side],
    objects: &[*mut NDK_CONNECTOR],
    listeners: &[*mut NDK_LISTENER],
) {
    for &c in objects {
        let s = close_obj(c, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s}");
    }
    for &l in listeners {
        let s = close_obj(l, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s}");
    }
    net.advance(GIVE_UP);
    for s in sides {
        let st = s.stats();
        assert_eq!(
            (st.cm_connections, st.cm_endpoints, st.cm_listeners),
            (0, 0, 0),
            "{st:?}"
        );
        assert!(!st.timer_armed);
        assert_eq!(st.cm_dropped_events, 0);
        s.close_objects();
    }
    net.finish();
}

#[test]
fn refused_when_no_listener_on_the_port() {
    let (net, a, b, l, at) = setup(1);
    let c = a.connector();
    let dst = SocketAddr::new(at.ip(), 7001);
    assert_eq!(a.connect(c, dst, b"x", 10), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_CONNECTION_REFUSED]);
    assert!(b.delivered(1).is_empty());
    teardown(net, &[&a, &b], &[c], &[l]);
}

#[test]
fn paused_listener_refuses_and_resume_accepts_again() {
    let (net, a, b, l, at) = setup(2);
    unsafe { (lis_d(l).NdkControlConnectEvents)(l, 1) };
    let c1 = a.connector();
    assert_eq!(a.connect(c1, at, b"", 10), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_CONNECTION_REFUSED]);
    assert!(b.delivered(1).is_empty(), "no ConnectEvent while paused");

    unsafe { (lis_d(l).NdkControlConnectEvents)(l, 0) };
    let c2 = a.connector();
    let q2 = a.new_qp();
    assert_eq!(
        a.connect_from(c2, q2, SocketAddr::new(a.ip, 0), at, 1, 1, b"", 11),
        STATUS_PENDING
    );
    net.run();
    assert_eq!(b.delivered(1).len(), 1, "resumed");
    let p = b.delivered(1)[0];
    teardown(net, &[&a, &b], &[c1, c2, p], &[l]);
}

#[test]
fn rejected_with_private_data_kept_for_get_connection_data() {
    let (net, a, b, l, at) = setup(3);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"please", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    let why: Vec<u8> = (0..148).map(|i| (i * 7) as u8).collect();
    assert_eq!(
        b.reject(p, &[0u8; 149]),
        STATUS_INVALID_PARAMETER,
        "> MaxCalleeData"
    );
    assert_eq!(b.reject(p, &why), STATUS_SUCCESS);
    assert_eq!(
        b.reject(p, &why),
        STATUS_CONNECTION_INVALID,
        "already rejected"
    );
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_CONNECTION_REFUSED]);
    // NULL buffer, *len 0: the required size (REJ area, 148).
    let (s, _, _, len, _) = a.connection_data(c, 0);
    assert_eq!((s, len), (STATUS_SUCCESS, 148));
    let (s, _, _, len, data) = a.connection_data(c, 200);
    assert_eq!((s, len), (STATUS_SUCCESS, 148));
    assert_eq!(&data[..148], &why[..]);
    // NULL buffer with a non-zero length is refused.
    let mut len = 5u32;
    let s = unsafe {
        (conn_d(c).NdkGetConnectionData)(
            c,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            &mut len,
        )
    };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    teardown(net, &[&a, &b], &[c, p], &[l]);
}

#[test]
fn backlog_full_refuses_the_next_request() {
    let (net, a, b, l, at) = setup(4);
    let mut conns = Vec::new();
    for i in 0..5usize {
        let c = a.connector();
        let q = if i == 0 { a.qp } else { a.new_qp() };
        assert_eq!(
            a.connect_from(c, q, SocketAddr::new(a.ip, 0), at, 1, 1, b"", 10 + i),
            STATUS_PENDING
        );
        net.run();
        conns.push(c);
    }
    // Four requests are waiting for the consumer's answer: the fifth is refused.
    assert_eq!(b.delivered(1).len(), 4);
    for i in 0..4 {
        assert!(a.completions(10 + i).is_empty());
    }
    assert_eq!(a.completions(14), vec![STATUS_CONNECTION_REFUSED]);
    // Answering one makes room again.
    let first = b.delivered(1)[0];
    assert_eq!(b.reject(first, b""), STATUS_SUCCESS);
    let c = a.connector();
    let q = a.new_qp();
    assert_eq!(
        a.connect_from(c, q, SocketAddr::new(a.ip, 0), at, 1, 1, b"", 20),
        STATUS_PENDING
    );
    net.run();
    assert_eq!(b.delivered(1).len(), 5);
    conns.push(c);
    let mut all = conns.clone();
    all.extend(b.delivered(1));
    teardown(net, &[&a, &b], &all, &[l]);
}

#[test]
fn io_timeout_when_nobody_answers() {
    let (net, a, b, l, _) = setup(5);
    let c = a.connector();
    // Nothing is attached at 192.0.2.9: every REQ is lost.
    let dst: SocketAddr = "192.0.2.9:7000".parse().unwrap();
    assert_eq!(a.connect(c, dst, b"", 10), STATUS_PENDING);
    net.advance(Duration::from_secs(60));
    assert!(a.completions(10).is_empty(), "still retrying after 60 s");
    net.advance(Duration::from_secs(10));
    assert_eq!(a.completions(10), vec![STATUS_IO_TIMEOUT]);
    assert_eq!(net.sim.stats().unroutable, 16, "REQ + 15 retries");
    teardown(net, &[&a, &b], &[c], &[l]);
}

#[test]
fn accept_times_out_when_the_active_side_never_completes() {
    let (net, a, b, l, at) = setup(6);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    // A never calls CompleteConnect: B's REP retries run out.
    net.advance(Duration::from_secs(70));
    assert_eq!(b.completions(20), vec![STATUS_IO_TIMEOUT]);
    // B's REJ (TIMEOUT) reached A: the peer abandoned the connection.
    assert_eq!(a.complete(c, 30), STATUS_CONNECTION_ABORTED);
    assert!(a.completions(30).is_empty());
    teardown(net, &[&a, &b], &[c, p], &[l]);
}

#[test]
fn accept_aborted_when_the_active_side_gives_up() {
    let (net, a, b, l, at) = setup(7);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    // A rejects after the REP (NDKPI allows it, e.g. over the peer's limits).
    assert_eq!(a.reject(c, b"no"), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_CONNECTION_ABORTED]);
    assert_eq!(
        b.reject(p, b""),
        STATUS_CONNECTION_ABORTED,
        "the peer abandoned it"
    );
    assert_eq!(
        a.complete(c, 30),
        STATUS_CONNECTION_INVALID,
        "rejected, not connecting"
    );
    teardown(net, &[&a, &b], &[c, p], &[l]);
}

#[test]
fn closing_a_connecting_connector_cancels_its_connect() {
    let (net, a, b, l, at) = setup(8);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    // Closed before the REP: the connect completes with CANCELLED, then
    // the close completion, as its last callback.
    let cc = a.ctx(11);
    let s = unsafe { (conn_d(c).NdkCloseConnector)(c.cast(), Some(on_close), cc) };
    assert_eq!(s, STATUS_PENDING);
    net.run();
    let order: Vec<_> = a
        .log
        .calls()
        .iter()
        .filter(|x| x.tag == 10 || x.tag == 11)
        .map(|x| (x.what, x.status))
        .collect();
    assert_eq!(order, vec![("request", STATUS_CANCELLED.0), ("close", 0)]);
    // The passive side got the request and then the REJ: its connector's
    // accept is refused as abandoned.
    let p = b.delivered(1)[0];
    assert_eq!(
        b.accept_on(p, b.qp, 1, 1, b"", 20),
        STATUS_CONNECTION_ABORTED
    );
    teardown(net, &[&a, &b], &[p], &[l]);
}

#[test]
fn closing_an_unanswered_passive_connector_rejects() {
    let (net, a, b, l, at) = setup(9);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    // The listener's close pends while its connector is open.
    let lc = b.ctx(2);
    assert_eq!(
        unsafe { (lis_d(l).NdkCloseListener)(l.cast(), Some(on_close), lc) },
        STATUS_PENDING
    );
    net.run();
    assert!(b.calls(2).is_empty());
    assert_eq!(close_obj(p, None), STATUS_SUCCESS);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_CONNECTION_REFUSED]);
    assert_eq!(
        b.calls(2).len(),
        1,
        "listener close completed after its connector"
    );
    teardown(net, &[&a, &b], &[c], &[]);
}

unsafe extern "system" fn plain_disconnect(p: *mut std::ffi::c_void) {
    on_disconnect(p)
}

#[test]
fn plain_callbacks_deferred_completions_and_a_passive_disconnect() {
    let (net, a, b, l, at) = setup(12);
    // Inline successes now answer PENDING and complete from the DPC.
    assert_eq!(
        unsafe { softroce_set_deferred_completions(a.adapter, 1) },
        STATUS_SUCCESS
    );
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    // NdkAccept (2.0 shape) with a plain DisconnectEvent.
    let (actx, dctx) = (b.ctx(20), b.ctx(21));
    let s = unsafe {
        (conn_d(p).NdkAccept)(
            p,
            b.qp,
            1,
            1,
            std::ptr::null(),
            0,
            Some(plain_disconnect),
            dctx,
            Some(on_request),
            actx,
        )
    };
    assert_eq!(s, STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    // CompleteConnect on the passive connector is not its business.
    let x = b.ctx(22);
    assert_eq!(
        unsafe {
            (conn_d(p).NdkCompleteConnect)(p, None, std::ptr::null_mut(), Some(on_request), x)
        },
        STATUS_CONNECTION_INVALID
    );
    let (cctx, ddctx) = (a.ctx(30), a.ctx(31));
    let s = unsafe {
        (conn_d(c).NdkCompleteConnect)(c, Some(plain_disconnect), ddctx, Some(on_request), cctx)
    };
    assert_eq!(
        s, STATUS_PENDING,
        "deferred knob: the success comes through the callback"
    );
    assert!(a.completions(30).is_empty());
    net.run();
    assert_eq!(a.completions(30), vec![STATUS_SUCCESS]);
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    // B disconnects: A gets the plain DisconnectEvent once; A's QP is not
    // flushed by the indication.
    let mut buf = vec![0u8; 32];
    let (mr, _mdl) = registered_mr(a.pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let token = unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    assert_eq!(
        receive(a.qp, 9, &[sge(buf.as_ptr() as u64, 32, token)]),
        STATUS_SUCCESS
    );
    assert_eq!(b.disconnect(p, 40), STATUS_PENDING);
    net.run();
    assert_eq!(b.completions(40), vec![STATUS_SUCCESS]);
    assert_eq!(
        a.calls(31).iter().map(|c| c.what).collect::<Vec<_>>(),
        vec!["disconnect"]
    );
    assert!(
        results_ex(a.cq, 2).is_empty(),
        "no flush merely because of the indication"
    );
    // A's own NdkDisconnect then completes (deferred knob: via the callback)
    // and flushes.
    assert_eq!(a.disconnect(c, 50), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(50), vec![STATUS_SUCCESS]);
    assert_eq!(results_ex(a.cq, 2).len(), 1);
    assert_eq!(a.calls(31).len(), 1, "once");
    assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    teardown(net, &[&a, &b], &[c, p], &[l]);
}

/// A pointer the hooks may carry across the callback boundary.
#[derive(Clone, Copy)]
struct P(usize);
unsafe impl Send for P {}

#[test]
fn consumer_answers_from_inside_its_callbacks() {
    let mut net = Net::new(13);
    let a = net.adapter("2001:db8::1");
    let b = net.adapter("2001:db8::2");
    // B accepts from inside its ConnectEvent; A completes from inside its
    // connect completion; B, on the disconnect event, disconnects and closes
    // its connector from inside the callback (the SDN sample's pattern).
    let (bq, blog) = (P(b.qp as usize), P(&*b.log as *const Log as usize));
    let accept_ctx = P(b.ctx(20) as usize);
    let dis_ctx = P(b.ctx_hook(
        21,
        Box::new(move |_| {
            let log = unsafe { &*(blog.0 as *const Log) };
            let p = log
                .calls()
                .iter()
                .find(|c| c.what == "connect_event")
                .unwrap()
                .object as *mut NDK_CONNECTOR;
            let s =
                unsafe { (conn_d(p).NdkDisconnect)(p, Some(on_request), accept_ctx.0 as *mut _) };
            assert_eq!(s, STATUS_SUCCESS, "the peer already left: inline");
            // Inside one of its own callbacks the close pends (completes
            // once the callback returned).
            assert_eq!(close_obj(p, None), STATUS_PENDING);
        }),
    ) as usize);
    let lctx = b.ctx_hook(
        1,
        Box::new(move |_| {
            let log = unsafe { &*(blog.0 as *const Log) };
            let p = log.calls().last().unwrap().object as *mut NDK_CONNECTOR;
            let s = unsafe {
                (conn_d(p).NdkAcceptEx)(
                    p,
                    bq.0 as *mut NDK_QP,
                    1,
                    1,
                    std::ptr::null(),
                    0,
                    Some(on_disconnect_ex),
                    dis_ctx.0 as *mut _,
                    Some(on_request),
                    accept_ctx.0 as *mut _,
                )
            };
            assert_eq!(s, STATUS_PENDING);
        }),
    );
    let mut l = std::ptr::null_mut();
    let s = unsafe {
        (b.d().NdkCreateListener)(
            b.adapter,
            Some(on_connect_event),
            lctx,
            None,
            std::ptr::null_mut(),
            &mut l,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let at = b
        .listen_on(l, "[2001:db8::2]:445".parse().unwrap())
        .unwrap();
    let c = a.connector();
    let cptr = P(c as usize);
    let complete_ctx = P(a.ctx(30) as usize);
    let cctx = a.ctx_hook(
        10,
        Box::new(move |status| {
            assert_eq!(NtStatus(status), STATUS_SUCCESS);
            let c = cptr.0 as *mut NDK_CONNECTOR;
            let s = unsafe {
                (conn_d(c).NdkCompleteConnect)(
                    c,
                    None,
                    std::ptr::null_mut(),
                    Some(on_request),
                    complete_ctx.0 as *mut _,
                )
            };
            assert_eq!(s, STATUS_SUCCESS);
        }),
    );
    let (d, dn) = sockaddr(at);
    let (s_, sn) = sockaddr("[2001:db8::1]:0".parse().unwrap());
    let s = unsafe {
        (conn_d(c).NdkConnect)(
            c,
            a.qp,
            s_.as_ptr().cast(),
            sn,
            d.as_ptr().cast(),
            dn,
            1,
            1,
            std::ptr::null(),
            0,
            Some(on_request),
            cctx,
        )
    };
    assert_eq!(s, STATUS_PENDING);
    net.run();
    assert_eq!(
        b.completions(20),
        vec![STATUS_SUCCESS],
        "accepted from inside the ConnectEvent"
    );
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    assert_eq!(b.calls(21).len(), 1);
    teardown(net, &[&a, &b], &[c], &[l]);
}
