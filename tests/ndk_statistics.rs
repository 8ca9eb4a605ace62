//! The NDK performance counters and tables (the hosted twins of
//! OID_NDK_STATISTICS, OID_NDK_CONNECTIONS and OID_NDK_LOCAL_ENDPOINTS),
//! read only through the C entry points `softroce_adapter_statistics`,
//! `softroce_adapter_connections` and `softroce_adapter_local_endpoints`
//! while two hosted adapters on one SimNet connect, move data, fail and
//! disconnect through the NDK dispatch tables. Every counter is checked for
//! its exact value after each step (what moves each one:
//! `docs/HOSTED-API.md`), RDMA frames/octets against a tap on the SimNet,
//! and the tables against the connectors' own addresses.

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;

extern "C" {
    fn softroce_adapter_statistics(
        adapter: *mut NDK_ADAPTER,
        out: *mut NDIS_NDK_PERFORMANCE_COUNTERS,
    ) -> NtStatus;
    fn softroce_adapter_connections(
        adapter: *mut NDK_ADAPTER,
        out: *mut NDIS_NDK_CONNECTION_ENTRY,
        capacity: u32,
        count: *mut u32,
    ) -> NtStatus;
    fn softroce_adapter_local_endpoints(
        adapter: *mut NDK_ADAPTER,
        out: *mut NDIS_NDK_LOCAL_ENDPOINT_ENTRY,
        capacity: u32,
        count: *mut u32,
    ) -> NtStatus;
}

/// Past the CM's timewait.
const TIMEWAIT: Duration = Duration::from_secs(5);

/// The counters that are not RDMA traffic, in OID order:
/// Connect, Accept, ConnectFailure, ConnectionError, ActiveConnection, CQError.
type Conns = [u64; 6];

fn stats(side: &Side) -> NDIS_NDK_PERFORMANCE_COUNTERS {
    stats_of(side.adapter)
}

fn stats_of(adapter: *mut NDK_ADAPTER) -> NDIS_NDK_PERFORMANCE_COUNTERS {
    let mut out = NDIS_NDK_PERFORMANCE_COUNTERS::default();
    let s = unsafe { softroce_adapter_statistics(adapter, &mut out) };
    assert_eq!(s, STATUS_SUCCESS);
    out
}

fn conns(side: &Side) -> Conns {
    conns_of(side.adapter)
}

fn conns_of(adapter: *mut NDK_ADAPTER) -> Conns {
    let s = stats_of(adapter);
    assert!(
        [s.Reserved01, s.Reserved10, s.Reserved20]
            .iter()
            .all(|&r| r == 0),
        "reserved counters stay 0"
    );
    [
        s.Connect,
        s.Accept,
        s.ConnectFailure,
        s.ConnectionError,
        s.ActiveConnection,
        s.CQError,
    ]
}

fn sockaddr_of(s: &SOCKADDR_INET) -> SocketAddr {
    let b = unsafe {
        std::slice::from_raw_parts(
            s as *const SOCKADDR_INET as *const u8,
            std::mem::size_of::<SOCKADDR_INET>(),
        )
    };
    parse_sockaddr(b)
}

/// The connection table, through the size protocol (a first call with no
/// room reports the count).
fn connections(side: &Side) -> Vec<(SocketAddr, SocketAddr)> {
    let mut n = 0u32;
    let s = unsafe { softroce_adapter_connections(side.adapter, std::ptr::null_mut(), 0, &mut n) };
    let expect = if n == 0 {
        STATUS_SUCCESS
    } else {
        STATUS_BUFFER_TOO_SMALL
    };
    assert_eq!(s, expect);
    let mut v: Vec<NDIS_NDK_CONNECTION_ENTRY> = Vec::with_capacity(n as usize);
    let mut m = 0u32;
    let s = unsafe { softroce_adapter_connections(side.adapter, v.as_mut_ptr(), n, &mut m) };
    assert_eq!((s, m), (STATUS_SUCCESS, n));
    unsafe { v.set_len(n as usize) };
    v.iter()
        .map(|e| {
            assert_eq!((e.UserModeOwner, e.OwnerPid), (0, 0), "kernel owner");
            (sockaddr_of(&e.Local), sockaddr_of(&e.Remote))
        })
        .collect()
}

fn local_endpoints(side: &Side) -> Vec<(SocketAddr, bool)> {
    let mut v: Vec<NDIS_NDK_LOCAL_ENDPOINT_ENTRY> = Vec::with_capacity(8);
    let mut n = 0u32;
    let s = unsafe { softroce_adapter_local_endpoints(side.adapter, v.as_mut_ptr(), 8, &mut n) };
    assert_eq!(s, STATUS_SUCCESS);
    unsafe { v.set_len(n as usize) };
    v.iter()
        .map(|e| {
            assert_eq!((e.UserModeOwner, e.OwnerPid), (0, 0), "kernel owner");
            (sockaddr_of(&e.Local), e.Listener != 0)
        })
        .collect()
}

/// (frames, octets) of the datagrams a capture saw.
fn frames_octets(c: &Captured) -> (u64, u64) {
    let seen = c.lock().unwrap();
    let octets = seen.iter().map(|(_, _, p)| p.len() as u64).sum();
    (seen.len() as u64, octets)
}

/// A's sent datagrams are exactly B's received ones and the other way
/// round, and each side's out/in counters equal what the tap saw.
fn check_traffic(a: &Side, b: &Side, from_a: &Captured, from_b: &Captured) {
    let (sa, sb) = (stats(a), stats(b));
    let (ta, tb) = (frames_octets(from_a), frames_octets(from_b));
    assert!(ta.0 > 0 && tb.0 > 0);
    assert_eq!((sa.RDMAOutFrames, sa.RDMAOutOctets), ta, "A out = tap");
    assert_eq!((sb.RDMAInFrames, sb.RDMAInOctets), ta, "B in = A's tap");
    assert_eq!((sb.RDMAOutFrames, sb.RDMAOutOctets), tb, "B out = tap");
    assert_eq!((sa.RDMAInFrames, sa.RDMAInOctets), tb, "A in = B's tap");
}

fn se_addr(se: *mut NDK_SHARED_ENDPOINT) -> SocketAddr {
    let mut out = [0u8; 28];
    let mut len = 28u32;
    let s = unsafe {
        (se_d(se).NdkGetSharedEndpointLocalAddress)(se, out.as_mut_ptr().cast(), &mut len)
    };
    assert_eq!(s, STATUS_SUCCESS);
    parse_sockaddr(&out[..len as usize])
}

/// A connects to B's listener (`bound`), B accepts, A completes.
/// Returns (A's connector, B's connector).
fn connect(
    net: &Net,
    a: &Side,
    b: &Side,
    bound: SocketAddr,
) -> (*mut NDK_CONNECTOR, *mut NDK_CONNECTOR) {
    let c = a.connector();
    assert_eq!(a.connect(c, bound, b"", 10), STATUS_PENDING);
    // Setting up: listed on A, nothing counted yet.
    assert_eq!(connections(a).len(), 1);
    assert_eq!(connections(a)[0].1, bound);
    net.run();
    let p = *b.delivered(1).last().expect("a connect event");
    // The delivered request is listed on B.
    assert_eq!(connections(b).len(), 1);
    assert_eq!(b.accept_on(p, b.qp, 4, 4, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    // The REP arrived, but A counts Connect only at CompleteConnect.
    assert_eq!(conns(a), [0, 0, 0, 0, 0, 0]);
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    assert_eq!(conns(a), [1, 0, 0, 0, 1, 0]);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    assert_eq!(conns(b), [0, 1, 0, 0, 1, 0]);
    (c, p)
}

fn connection_lifecycle(a_ip: &str, b_ip: &str) {
    let mut net = Net::new(61);
    let a = net.adapter(a_ip);
    let b = net.adapter(b_ip);
    let (from_a, from_b) = (capture(&net, Some(a.ip)), capture(&net, Some(b.ip)));
    for s in [&a, &b] {
        assert_eq!(conns(s), [0; 6]);
        assert!(connections(s).is_empty() && local_endpoints(s).is_empty());
        let t = stats(s);
        assert_eq!(
            [
                t.RDMAInFrames,
                t.RDMAOutFrames,
                t.RDMAInOctets,
                t.RDMAOutOctets
            ],
            [0; 4]
        );
    }

    // Local endpoints: B's listener, A's shared endpoint.
    let (l, bound) = b.listen(1, 0);
    assert_eq!(local_endpoints(&b), vec![(bound, true)]);
    let se = shared_endpoint(&a, SocketAddr::new(a.ip, 0)).expect("shared endpoint");
    assert_eq!(local_endpoints(&a), vec![(se_addr(se), false)]);

    let (c, p) = connect(&net, &a, &b, bound);
    let (a_local, a_remote) = a.addresses(c);
    assert_eq!(a_remote, bound);
    assert_eq!(connections(&a), vec![(a_local, bound)]);
    assert_eq!(connections(&b), vec![(bound, a_local)]);
    assert_eq!(b.addresses(p), (bound, a_local));

    // Data: 3000 bytes A -> B (3 packets at a 1024-byte MTU, and an ACK).
    let mut src: Vec<u8> = (0..3000u32).map(|i| i as u8).collect();
    let mut dst = vec![0u8; 4096];
    let (src_mr, _m1) = registered_mr(a.pd, &mut src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (dst_mr, _m2) = registered_mr(b.pd, &mut dst, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let recv = sge(dst.as_ptr() as u64, 4096, mr_token(dst_mr, false));
    assert_eq!(receive(b.qp, 500, &[recv]), STATUS_SUCCESS);
    let before = (stats(&a), stats(&b));
    let send = sge(src.as_ptr() as u64, 3000, mr_token(src_mr, false));
    assert_eq!(post_send(a.qp, 1, &[send]), STATUS_SUCCESS);
    net.run();
    assert_eq!(results_ex(a.cq, 4).len(), 1);
    assert_eq!(results_ex(b.cq, 4)[0].BytesTransferred, 3000);
    assert_eq!(&dst[..3000], &src[..]);
    let after = (stats(&a), stats(&b));
    assert!(after.0.RDMAOutFrames >= before.0.RDMAOutFrames + 3);
    assert!(after.0.RDMAOutOctets >= before.0.RDMAOutOctets + 3000);
    check_traffic(&a, &b, &from_a, &from_b);
    assert_eq!(conns(&a), [1, 0, 0, 0, 1, 0]);
    assert_eq!(conns(&b), [0, 1, 0, 0, 1, 0]);

    // Disconnect: both gauges down, no error, tables empty of connections.
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    assert_eq!(conns(&a), [1, 0, 0, 0, 0, 0]);
    assert_eq!(conns(&b), [0, 1, 0, 0, 0, 0]);
    assert!(connections(&a).is_empty() && connections(&b).is_empty());
    check_traffic(&a, &b, &from_a, &from_b);

    for conn in [c, p] {
        assert_eq!(close_obj(conn, None), STATUS_SUCCESS);
    }
    for mr in [src_mr, dst_mr] {
        assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    assert_eq!(close_obj(se, None), STATUS_SUCCESS);
    net.run();
    assert!(local_endpoints(&a).is_empty() && local_endpoints(&b).is_empty());
    // Closing after the disconnect changes no counter.
    assert_eq!(conns(&a), [1, 0, 0, 0, 0, 0]);
    assert_eq!(conns(&b), [0, 1, 0, 0, 0, 0]);
    net.advance(TIMEWAIT);
    check_traffic(&a, &b, &from_a, &from_b);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

#[test]
fn counters_and_tables_follow_a_connection_ipv4() {
    connection_lifecycle("192.0.2.1", "192.0.2.2");
}

#[test]
fn counters_and_tables_follow_a_connection_ipv6() {
    connection_lifecycle("2001:db8::1", "2001:db8::2");
}

/// A connect to a port nobody listens on is refused (REJ): one
/// ConnectFailure on A, nothing on B; the connection is listed only while
/// it is being set up.
#[test]
fn refused_connect_counts_one_connect_failure() {
    let mut net = Net::new(62);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let c = a.connector();
    let nobody = SocketAddr::new(b.ip, 5555);
    assert_eq!(a.connect(c, nobody, b"", 10), STATUS_PENDING);
    assert_eq!(connections(&a).len(), 1);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_CONNECTION_REFUSED]);
    assert_eq!(conns(&a), [0, 0, 1, 0, 0, 0]);
    assert_eq!(conns(&b), [0; 6]);
    assert!(connections(&a).is_empty());
    assert_eq!(close_obj(c, None), STATUS_SUCCESS);
    net.run();
    assert_eq!(conns(&a), [0, 0, 1, 0, 0, 0], "closing counts nothing more");
    net.advance(TIMEWAIT);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

/// A rejects B's REP (NdkReject after its connect completed): A's attempt
/// and B's accept both fail, once each.
#[test]
fn reject_after_the_reply_fails_both_attempts() {
    let mut net = Net::new(63);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, bound) = b.listen(1, 0);
    let c = a.connector();
    assert_eq!(a.connect(c, bound, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 4, 4, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.reject(c, b""), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_CONNECTION_ABORTED]);
    assert_eq!(conns(&a), [0, 0, 1, 0, 0, 0]);
    assert_eq!(conns(&b), [0, 0, 1, 0, 0, 0]);
    assert!(connections(&a).is_empty() && connections(&b).is_empty());
    for o in [c, p] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    assert_eq!(conns(&a), [0, 0, 1, 0, 0, 0]);
    assert_eq!(conns(&b), [0, 0, 1, 0, 0, 0]);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

/// A WRITE with a wrong remote token: B's responder answers a remote
/// access error NAK and both QPs enter the error state: one
/// ConnectionError each; the later disconnect (a flush) adds none, and
/// closing the connectors takes ActiveConnection back to 0.
#[test]
fn a_remote_access_error_counts_one_connection_error_per_side() {
    let mut net = Net::new(64);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, bound) = b.listen(1, 0);
    let (c, p) = connect(&net, &a, &b, bound);
    let mut src = vec![7u8; 64];
    let mut region = vec![0u8; 64];
    let (src_mr, _m1) = registered_mr(a.pd, &mut src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (region_mr, _m2) = registered_mr(
        b.pd,
        &mut region,
        NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_WRITE,
    );
    let bad = mr_token(region_mr, true) ^ 0x100;
    let s = sge(src.as_ptr() as u64, 64, mr_token(src_mr, false));
    let status = unsafe {
        (qp_d(a.qp).NdkWrite)(
            a.qp,
            2usize as *mut std::ffi::c_void,
            &s,
            1,
            region.as_ptr() as u64,
            bad,
            0,
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    net.run();
    let r = results_ex(a.cq, 4);
    assert_eq!(r.len(), 1);
    assert_ne!(r[0].Status, STATUS_SUCCESS);
    assert_eq!(conns(&a), [1, 0, 0, 1, 1, 0]);
    assert_eq!(conns(&b), [0, 1, 0, 1, 1, 0]);
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    results_ex(a.cq, 16);
    results_ex(b.cq, 16);
    assert_eq!(conns(&a), [1, 0, 0, 1, 0, 0]);
    assert_eq!(conns(&b), [0, 1, 0, 1, 0, 0]);
    for o in [c, p] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    for mr in [src_mr, region_mr] {
        assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

/// Closing an established connection's connectors without a disconnect
/// takes ActiveConnection down on both sides (B by the DREQ the close
/// sends, A by the close itself).
#[test]
fn closing_an_established_connector_ends_the_connection() {
    let mut net = Net::new(65);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, bound) = b.listen(1, 0);
    let (c, p) = connect(&net, &a, &b, bound);
    assert_eq!(close_obj(c, None), STATUS_SUCCESS);
    assert_eq!(conns(&a), [1, 0, 0, 0, 0, 0]);
    net.run();
    assert_eq!(conns(&b), [0, 1, 0, 0, 0, 0]);
    assert!(connections(&a).is_empty() && connections(&b).is_empty());
    assert_eq!(close_obj(p, None), STATUS_SUCCESS);
    assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    net.advance(TIMEWAIT);
    assert_eq!(conns(&b), [0, 1, 0, 0, 0, 0]);
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}

/// A CQ of depth 2 gets 4 cancelled receives (NdkFlush of an unconnected
/// QP): it overruns once: one CQError, and more completions add none.
#[test]
fn a_cq_overrun_counts_one_cq_error() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _ctx) = env.cq(2, &log, 900);
    let q = qp(pd, cq, 0x77, 8, 8).unwrap();
    let mut buf = vec![0u8; 64];
    let (mr, _m) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let s = sge(buf.as_ptr() as u64, 8, mr_token(mr, false));
    for i in 0..4 {
        assert_eq!(receive(q, i, &[s]), STATUS_SUCCESS);
    }
    assert_eq!(conns_of(env.adapter), [0; 6]);
    unsafe { (qp_d(q).NdkFlush)(q) };
    env.run();
    assert_eq!(conns_of(env.adapter), [0, 0, 0, 0, 0, 1]);
    // The overrun CQ stays failed; its QP refuses posts; still one error.
    assert_ne!(receive(q, 9, &[s]), STATUS_SUCCESS);
    unsafe { (qp_d(q).NdkFlush)(q) };
    env.run();
    assert_eq!(conns_of(env.adapter), [0, 0, 0, 0, 0, 1]);
    for o in [q as *mut NDK_PD, cq as *mut NDK_PD, mr as *mut NDK_PD, pd] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    env.finish();
}

/// The entry points' argument checks.
#[test]
fn entry_points_refuse_bad_arguments() {
    let mut net = Net::new(67);
    let a = net.adapter("192.0.2.1");
    let mut out = NDIS_NDK_PERFORMANCE_COUNTERS::default();
    let mut n = 7u32;
    unsafe {
        assert_eq!(
            softroce_adapter_statistics(std::ptr::null_mut(), &mut out),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            softroce_adapter_statistics(a.adapter, std::ptr::null_mut()),
            STATUS_INVALID_PARAMETER
        );
        let foreign = a.pd.cast::<NDK_ADAPTER>();
        assert_eq!(
            softroce_adapter_statistics(foreign, &mut out),
            STATUS_INVALID_HANDLE
        );
        assert_eq!(
            softroce_adapter_connections(foreign, std::ptr::null_mut(), 0, &mut n),
            STATUS_INVALID_HANDLE
        );
        assert_eq!(
            softroce_adapter_connections(a.adapter, std::ptr::null_mut(), 0, std::ptr::null_mut()),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            softroce_adapter_local_endpoints(a.adapter, std::ptr::null_mut(), 1, &mut n),
            STATUS_INVALID_PARAMETER
        );
        assert_eq!(
            softroce_adapter_local_endpoints(a.adapter, std::ptr::null_mut(), 0, &mut n),
            STATUS_SUCCESS
        );
        assert_eq!(n, 0);
    }
    // Two listeners, room for one: BUFFER_TOO_SMALL with the count, the
    // first entry written.
    let (l1, b1) = a.listen(1, 0);
    let (l2, b2) = a.listen(2, 0);
    let mut one: Vec<NDIS_NDK_LOCAL_ENDPOINT_ENTRY> = Vec::with_capacity(1);
    let s = unsafe { softroce_adapter_local_endpoints(a.adapter, one.as_mut_ptr(), 1, &mut n) };
    assert_eq!((s, n), (STATUS_BUFFER_TOO_SMALL, 2));
    unsafe { one.set_len(1) };
    assert!([b1, b2].contains(&sockaddr_of(&one[0].Local)));
    let mut all = local_endpoints(&a);
    all.sort();
    let mut want = vec![(b1, true), (b2, true)];
    want.sort();
    assert_eq!(all, want);
    for l in [l1, l2] {
        assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    }
    a.close_objects();
    net.finish();
}
