//! Several NDK adapter instances on one address share one network, as the
//! instances NDIS opens per consumer on one miniport adapter do: through
//! the hosted entry points (`softroce_open_adapter_on` twice on one
//! platform and address) and the dispatch tables, on a SimNet. QPNs never
//! collide, a port listened on by one instance is taken for the other, a
//! REQ reaches the instance that listens on its port, both instances move
//! data at once, a token of one instance is unknown to the other's QPs
//! (remote access error, as for any unknown token), closing one instance
//! leaves the other's connection and listener working, one closed with
//! live objects is cut off from the network (port released, connection
//! torn down, QP out of the demux, no callback) while the others go on,
//! and 200 open/close cycles on a live network leave the pool books where
//! they were.
//! Also the registry of `softroce_open_adapter` (real platform): two opens
//! on one address share one network.

mod ndk_common;
mod ndk_conn_common;

use std::collections::HashSet;
use std::ffi::CString;
use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;
use softroce::ndk::Adapter;

extern "C" {
    fn softroce_qp_number(qp: *mut NDK_QP) -> u32;
    fn softroce_open_adapter(
        ip: *const std::ffi::c_char,
        requested: NDK_VERSION,
        adapter: *mut *mut NDK_ADAPTER,
    ) -> NtStatus;
}

const V21: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };
/// The provider's code for a remote access error (`docs/TRANSPORT.md`).
const REMOTE_ACCESS: u32 = 0x5352_0004;
/// Past the CM's timewait and every retry.
const GIVE_UP: Duration = Duration::from_secs(80);

fn network_of(side: &Side) -> softroce::ndk::Network {
    let a = unsafe { Adapter::from_ndk(side.adapter) }.unwrap();
    a.network().cloned().expect("opened on a network")
}

fn qpn(qp: *mut NDK_QP) -> u32 {
    unsafe { softroce_qp_number(qp) }
}

/// One established connection: `active` connects from `qp` to `at`, where
/// `passive` listens (its listener logs connect events under `ltag`) and
/// accepts on `pqp`. Returns (active connector, passive connector).
#[allow(clippy::too_many_arguments)]
fn connect(
    net: &Net,
    active: &Side,
    qp: *mut NDK_QP,
    passive: &Side,
    ltag: usize,
    pqp: *mut NDK_QP,
    at: SocketAddr,
    tag: usize,
) -> (*mut NDK_CONNECTOR, *mut NDK_CONNECTOR) {
    let c = active.connector();
    assert_eq!(
        active.connect_from(c, qp, SocketAddr::new(active.ip, 0), at, 4, 4, b"", tag),
        STATUS_PENDING
    );
    net.run();
    let delivered = passive.delivered(ltag);
    assert_eq!(delivered.len(), 1, "the REQ reached the listener");
    let p = delivered[0];
    assert_eq!(
        passive.accept_on(p, pqp, 4, 4, b"", tag + 10),
        STATUS_PENDING
    );
    net.run();
    assert_eq!(active.completions(tag), vec![STATUS_SUCCESS]);
    assert_eq!(active.complete(c, tag + 20), STATUS_SUCCESS);
    net.run();
    assert_eq!(passive.completions(tag + 10), vec![STATUS_SUCCESS]);
    passive.log_reset();
    active.log_reset();
    (c, p)
}

/// A SEND of `bytes` from `from_qp` (completing on `from_cq`) into a
/// receive posted on `to_qp` (completing on `to_cq`): checked end to end.
struct Send<'a> {
    from: (&'a Side, *mut NDK_QP),
    to: (&'a Side, *mut NDK_QP),
    fill: u8,
}

/// Runs every SEND at once (all posted, then the network runs), then checks
/// each arrived intact and completed on both ends.
fn sends_at_once(net: &Net, sends: &[Send<'_>]) {
    let mut bufs = Vec::new();
    for (i, s) in sends.iter().enumerate() {
        let mut src = vec![s.fill; 2000];
        let mut dst = vec![0u8; 2048];
        let (smr, sm) = registered_mr(s.from.0.pd, &mut src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        let (dmr, dm) = registered_mr(s.to.0.pd, &mut dst, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        let rsge = sge(dst.as_ptr() as u64, 2048, mr_token(dmr, false));
        assert_eq!(receive(s.to.1, 700 + i, &[rsge]), STATUS_SUCCESS);
        bufs.push((src, dst, smr, sm, dmr, dm));
    }
    for (i, s) in sends.iter().enumerate() {
        let b = &bufs[i];
        let ssge = sge(b.0.as_ptr() as u64, 2000, mr_token(b.2, false));
        assert_eq!(post_send(s.from.1, 600 + i, &[ssge]), STATUS_SUCCESS);
    }
    net.run();
    // Every completion of every CQ involved (a CQ may serve several sends).
    let mut done: Vec<NDK_RESULT_EX> = Vec::new();
    let mut cqs: Vec<*mut NDK_CQ> = Vec::new();
    for s in sends {
        for cq in [s.from.0.cq, s.to.0.cq] {
            if !cqs.contains(&cq) {
                cqs.push(cq);
                done.extend(results_ex(cq, 16));
            }
        }
    }
    assert_eq!(done.len(), 2 * sends.len(), "{done:?}");
    for (i, s) in sends.iter().enumerate() {
        assert!(
            done.iter()
                .any(|r| r.RequestContext as usize == 600 + i && r.Status == STATUS_SUCCESS),
            "send {i} completed: {done:?}"
        );
        assert!(
            done.iter().any(|r| r.RequestContext as usize == 700 + i
                && r.Status == STATUS_SUCCESS
                && r.BytesTransferred == 2000),
            "receive {i} completed: {done:?}"
        );
        assert!(
            bufs[i].1[..2000].iter().all(|&x| x == s.fill),
            "send {i} arrived intact"
        );
    }
    for (_, _, smr, _, dmr, _) in bufs {
        assert_eq!(close_obj(smr, None), STATUS_SUCCESS);
        assert_eq!(close_obj(dmr, None), STATUS_SUCCESS);
    }
}

/// Disconnects (active side) and closes every connector and listener given.
fn close_all(net: &Net, conns: &[(&Side, *mut NDK_CONNECTOR)], listeners: &[*mut NDK_LISTENER]) {
    for (side, c) in conns {
        let _ = side.disconnect(*c, 990);
    }
    net.run();
    for (_, c) in conns {
        let s = close_obj(*c, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s}");
    }
    for l in listeners {
        let s = close_obj(*l, None);
        assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "{s}");
    }
    net.advance(GIVE_UP);
}

#[test]
fn two_instances_on_one_address_share_qpns_ports_and_the_carrier() {
    let mut net = Net::new(81);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    assert!(network_of(&a).same(&network_of(&b)), "one network");
    assert!(!network_of(&a).same(&network_of(&r)));
    assert!(
        a.stats().online && b.stats().online,
        "both have the carrier"
    );

    // QPNs are the network's: interleaved creations never collide.
    let mut qpns = HashSet::new();
    for q in [a.qp, b.qp] {
        assert!(qpns.insert(qpn(q)));
    }
    for _ in 0..4 {
        assert!(qpns.insert(qpn(a.new_qp())), "{qpns:?}");
        assert!(qpns.insert(qpn(b.new_qp())), "{qpns:?}");
    }

    // A port listened on by A is taken for B (as for a second listener of
    // one instance); B listens elsewhere.
    let (la, at_a) = a.listen(1, 7000);
    let lb_taken = b.listener(2).unwrap();
    assert_eq!(b.listen_on(lb_taken, at_a), Err(STATUS_SHARING_VIOLATION));
    let (lb, at_b) = b.listen(3, 7001);
    // One CM holds both listeners.
    assert_eq!(a.stats().cm_listeners, 2);

    // B holds a connection (R -> 7001) ...
    let r_qp2 = r.new_qp();
    let (rc_b, pb) = connect(&net, &r, r_qp2, &b, 3, b.qp, at_b, 10);
    assert!(a.delivered(1).is_empty(), "not A's port");
    // ... while a REQ to 7000 reaches A's listener, not B's.
    let (rc_a, pa) = connect(&net, &r, r.qp, &a, 1, a.qp, at_a, 40);
    assert!(b.delivered(3).is_empty() && b.delivered(2).is_empty());
    assert_eq!(a.stats().cm_connections, 2, "both connections, one CM");

    // Data on both instances' connections at once, both ways.
    sends_at_once(
        &net,
        &[
            Send {
                from: (&r, r.qp),
                to: (&a, a.qp),
                fill: 0xA1,
            },
            Send {
                from: (&r, r_qp2),
                to: (&b, b.qp),
                fill: 0xB2,
            },
            Send {
                from: (&a, a.qp),
                to: (&r, r.qp),
                fill: 0xA3,
            },
            Send {
                from: (&b, b.qp),
                to: (&r, r_qp2),
                fill: 0xB4,
            },
        ],
    );

    close_all(
        &net,
        &[(&r, rc_a), (&r, rc_b), (&a, pa), (&b, pb)],
        &[la, lb, lb_taken],
    );
    for s in [&a, &b, &r] {
        let st = s.stats();
        assert_eq!((st.cm_connections, st.cm_listeners), (0, 0), "{st:?}");
        s.close_objects();
    }
    net.finish();
}

#[test]
fn a_token_of_one_instance_is_unknown_to_the_other_instances_qps() {
    let mut net = Net::new(82);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    let (la, at_a) = a.listen(1, 7000);
    let (lb, at_b) = b.listen(2, 7001);
    let r_qp2 = r.new_qp();
    let (rc_a, pa) = connect(&net, &r, r.qp, &a, 1, a.qp, at_a, 10);
    let (rc_b, pb) = connect(&net, &r, r_qp2, &b, 2, b.qp, at_b, 40);

    // A region of instance A that remote peers may write.
    let mut target = vec![0u8; 256];
    let (tmr, _tm) = registered_mr(
        a.pd,
        &mut target,
        NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_WRITE,
    );
    let (taddr, ttoken) = (target.as_ptr() as u64, mr_token(tmr, true));
    let mut src = vec![0x5Cu8; 64];
    let (smr, _sm) = registered_mr(r.pd, &mut src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let ssge = sge(src.as_ptr() as u64, 64, mr_token(smr, false));
    let write = |qp: *mut NDK_QP, ctx: usize| unsafe {
        (qp_d(qp).NdkWrite)(qp, ctx as *mut std::ffi::c_void, &ssge, 1, taddr, ttoken, 0)
    };

    // Through B's QP (same address, same network): the token is not B's.
    assert_eq!(write(r_qp2, 1), STATUS_SUCCESS);
    net.run();
    let res = results_ex(r.cq, 8);
    assert_eq!(res.len(), 1, "{res:?}");
    assert_eq!(
        (
            res[0].RequestContext as usize,
            res[0].Status,
            res[0].ProviderErrorCode
        ),
        (1, STATUS_REMOTE_RESOURCES, REMOTE_ACCESS)
    );
    assert!(target.iter().all(|&x| x == 0), "nothing written");

    // Through A's own QP the same write lands.
    assert_eq!(write(r.qp, 2), STATUS_SUCCESS);
    net.run();
    let res = results_ex(r.cq, 8);
    assert_eq!(res.len(), 1, "{res:?}");
    assert_eq!(
        (res[0].RequestContext as usize, res[0].Status),
        (2, STATUS_SUCCESS)
    );
    assert_eq!(&target[..64], &src[..]);
    assert!(target[64..].iter().all(|&x| x == 0));

    assert_eq!(close_obj(tmr, None), STATUS_SUCCESS);
    assert_eq!(close_obj(smr, None), STATUS_SUCCESS);
    close_all(
        &net,
        &[(&r, rc_a), (&r, rc_b), (&a, pa), (&b, pb)],
        &[la, lb],
    );
    for s in [&a, &b, &r] {
        s.close_objects();
    }
    // R's and B's QPs went to error with the fault: they close like any.
    net.finish();
}

#[test]
fn closing_one_instance_leaves_the_others_connection_and_listener() {
    let mut net = Net::new(83);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    let (la, at_a) = a.listen(1, 7000);
    let (lb, at_b) = b.listen(2, 7001);
    let r_qp2 = r.new_qp();
    let (rc_a, pa) = connect(&net, &r, r.qp, &a, 1, a.qp, at_a, 10);
    let (rc_b, pb) = connect(&net, &r, r_qp2, &b, 2, b.qp, at_b, 40);
    let network = network_of(&b);
    let users = network.users();

    // A closes everything of its own (its connection ends) and goes away.
    close_all(&net, &[(&a, pa), (&r, rc_a)], &[la]);
    a.close_objects();
    let a_ptr = net.adapters.remove(0);
    assert_eq!(a_ptr, a.adapter);
    unsafe { softroce_close_adapter(a_ptr) };
    assert_eq!(network.users(), users - 1, "A's handle is gone");
    let st = b.stats();
    assert!(st.online, "the network stays up for B");
    assert_eq!((st.cm_connections, st.cm_listeners), (1, 1), "{st:?}");

    // B's connection still carries data both ways.
    sends_at_once(
        &net,
        &[
            Send {
                from: (&r, r_qp2),
                to: (&b, b.qp),
                fill: 0x11,
            },
            Send {
                from: (&b, b.qp),
                to: (&r, r_qp2),
                fill: 0x22,
            },
        ],
    );
    // B's listener still hears REQs; A's port is free again (for B).
    let q3 = r.new_qp();
    let b_q2 = b.new_qp();
    let (rc3, p3) = connect(&net, &r, q3, &b, 2, b_q2, at_b, 70);
    let (la2, _) = b.listen(3, at_a.port());

    close_all(
        &net,
        &[(&r, rc_b), (&r, rc3), (&b, pb), (&b, p3)],
        &[lb, la2],
    );
    for s in [&b, &r] {
        s.close_objects();
    }
    drop(network);
    net.finish();
}

#[test]
fn open_close_cycles_on_a_live_network_leak_nothing() {
    let mut net = Net::new(84);
    let b = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    let (lb, at_b) = b.listen(2, 7001);
    let (rc_b, pb) = connect(&net, &r, r.qp, &b, 2, b.qp, at_b, 10);
    let (bytes, objects) = (net.pool_bytes(), net.pool_objects());
    let users = network_of(&b).users();
    let mut seen_qpns = HashSet::new();
    for i in 0..200u16 {
        // An instance on B's network with a PD, CQ, QP and a listener on a
        // port B does not use (the same port every time: it is released).
        let x = Side::open_on(net.platform, "192.0.2.1");
        assert!(network_of(&x).same(&network_of(&b)), "cycle {i}");
        assert_ne!(qpn(x.qp), qpn(b.qp));
        seen_qpns.insert(qpn(x.qp));
        let (lx, _) = x.listen(1, 7100);
        assert_eq!(close_obj(lx, None), STATUS_SUCCESS);
        x.close_objects();
        unsafe { softroce_close_adapter(x.adapter) };
        net.run();
    }
    assert_eq!(
        (net.pool_bytes(), net.pool_objects()),
        (bytes, objects),
        "pool books back where they were"
    );
    assert_eq!(network_of(&b).users(), users);
    assert!(!seen_qpns.is_empty());
    let st = b.stats();
    assert!(st.online);
    assert_eq!((st.cm_connections, st.cm_listeners), (1, 1), "{st:?}");
    // B's connection still works after the churn.
    sends_at_once(
        &net,
        &[Send {
            from: (&r, r.qp),
            to: (&b, b.qp),
            fill: 0x77,
        }],
    );
    close_all(&net, &[(&r, rc_b), (&b, pb)], &[lb]);
    for s in [&b, &r] {
        s.close_objects();
    }
    net.finish();
}

#[test]
fn softroce_open_adapter_shares_one_network_per_address() {
    // An address of the loopback network nobody else uses; whether the
    // socket binds does not matter here (both instances see the same).
    let ip = CString::new("127.81.0.1").unwrap();
    let open = || {
        let mut p = std::ptr::null_mut();
        assert_eq!(
            unsafe { softroce_open_adapter(ip.as_ptr(), V21, &mut p) },
            STATUS_SUCCESS
        );
        p
    };
    let (x, y) = (open(), open());
    let net_of = |p: *mut NDK_ADAPTER| {
        unsafe { Adapter::from_ndk(p) }
            .and_then(Adapter::network)
            .cloned()
            .unwrap()
    };
    let (nx, ny) = (net_of(x), net_of(y));
    assert!(nx.same(&ny), "one network for one address");
    assert!(
        std::sync::Arc::ptr_eq(nx.platform(), ny.platform()),
        "and one platform"
    );
    assert_eq!(nx.stats().online, ny.stats().online);
    // Another address: another network.
    let other = CString::new("127.81.0.2").unwrap();
    let mut z = std::ptr::null_mut();
    assert_eq!(
        unsafe { softroce_open_adapter(other.as_ptr(), V21, &mut z) },
        STATUS_SUCCESS
    );
    assert!(!net_of(z).same(&nx));
    let weak = nx.downgrade();
    drop((nx, ny));
    unsafe { softroce_close_adapter(x) };
    assert!(weak.upgrade().is_some(), "y still holds it");
    unsafe { softroce_close_adapter(y) };
    assert!(weak.upgrade().is_none(), "the last close stopped it");
    unsafe { softroce_close_adapter(z) };
    // A new open on the address makes a new network.
    let w = open();
    assert_eq!(net_of(w).users(), 2, "the instance's and ours");
    unsafe { softroce_close_adapter(w) };
}

#[test]
fn softroce_open_adapter_on_shares_per_platform_and_address() {
    let p1 = unsafe { softroce_platform_virtual(85) };
    let p2 = unsafe { softroce_platform_virtual(86) };
    let ip = CString::new("192.0.2.50").unwrap();
    let open = |p| {
        let mut a = std::ptr::null_mut();
        assert_eq!(
            unsafe { softroce_open_adapter_on(p, ip.as_ptr(), V21, &mut a) },
            STATUS_SUCCESS
        );
        let n = unsafe { Adapter::from_ndk(a) }
            .and_then(Adapter::network)
            .cloned()
            .unwrap();
        (a, n)
    };
    let (x, nx) = open(p1);
    let (y, ny) = open(p1);
    let (z, nz) = open(p2);
    assert!(nx.same(&ny), "one platform, one address: one network");
    assert!(!nx.same(&nz), "another platform (clock, SimNet): its own");
    drop((nx, ny, nz));
    for a in [x, y, z] {
        unsafe { softroce_close_adapter(a) };
    }
    for p in [p1, p2] {
        assert_eq!(unsafe { softroce_platform_pool_bytes(p) }, 0);
        unsafe { softroce_platform_release(p) };
    }
}

/// An instance closed with live objects (a consumer bug) is cut off from
/// the network the others keep using: its listener's port refuses REQs, its
/// connection is torn down toward the peer, its QP hears nothing, and no
/// callback reaches it after the close; its objects stay allocated.
#[test]
fn an_instance_closed_with_live_objects_is_cut_off_from_the_shared_network() {
    let mut net = Net::new(87);
    let b = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    let (lb, at_b) = b.listen(2, 7001);
    let (rc_b, pb) = connect(&net, &r, r.qp, &b, 2, b.qp, at_b, 10);
    let before = net.pool_objects();

    let x = Side::open_on(net.platform, "192.0.2.1");
    let (_lx, at_x) = x.listen(1, 7200);
    let r_q2 = r.new_qp();
    let (rc_x, _px) = connect(&net, &r, r_q2, &x, 1, x.qp, at_x, 40);
    // The consumer closes the adapter with all of that still open; R sends
    // to X's QP before it hears of it.
    unsafe { softroce_close_adapter(x.adapter) };
    let x_calls = x.log.calls().len();
    let mut src = vec![1u8; 64];
    let (smr, _sm) = registered_mr(r.pd, &mut src, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let ssge = sge(src.as_ptr() as u64, 64, mr_token(smr, false));
    let no_qp = b.stats().rx_no_qp;
    assert_eq!(post_send(r_q2, 5, &[ssge]), STATUS_SUCCESS);
    net.run();
    assert!(net.pool_objects() > before, "X's objects stay allocated");
    assert_eq!(b.stats().cm_listeners, 1, "X's port is released");
    // X's QP left the demux: the SEND found no QP.
    assert!(b.stats().rx_no_qp > no_qp, "{:?}", b.stats());

    // Its port refuses; its connection went down toward R.
    let c = r.connector();
    let r_q3 = r.new_qp();
    assert_eq!(
        r.connect_from(c, r_q3, SocketAddr::new(r.ip, 0), at_x, 4, 4, b"", 70),
        STATUS_PENDING
    );
    net.run();
    assert_eq!(r.completions(70), vec![STATUS_CONNECTION_REFUSED]);
    assert!(
        r.calls(61).iter().any(|c| c.what.starts_with("disconnect")),
        "R heard X's side end: {:?}",
        r.calls(61)
    );
    net.advance(GIVE_UP);
    assert_eq!(x.log.calls().len(), x_calls, "no callback after close");

    // B is untouched.
    assert!(b.stats().online);
    sends_at_once(
        &net,
        &[Send {
            from: (&r, r.qp),
            to: (&b, b.qp),
            fill: 0x42,
        }],
    );
    assert_eq!(close_obj(smr, None), STATUS_SUCCESS);
    close_all(&net, &[(&r, rc_b), (&b, pb), (&r, rc_x), (&r, c)], &[lb]);
    r.close_objects();
    b.close_objects();
    for a in net.adapters.drain(..) {
        unsafe { softroce_close_adapter(a) };
    }
    // X's leaked objects keep the books above zero: no `finish` here.
}
