//! Addresses and ports of connections between hosted adapters on a
//! SimNet: the inline statuses of NdkListen / NdkConnect /
//! NdkConnectWithSharedEndpoint / NdkCreateSharedEndpoint, each produced by
//! setting up its cause (NETWORK_UNREACHABLE, HOST_UNREACHABLE,
//! ADDRESS_ALREADY_EXISTS, SHARING_VIOLATION, INVALID_ADDRESS,
//! TOO_MANY_ADDRESSES, INSUFFICIENT_RESOURCES), shared endpoints sharing a
//! local port across connectors, and the GetLocalAddress size protocol.

mod ndk_common;
mod ndk_conn_common;

use std::net::SocketAddr;
use std::time::Duration;

use ndk_common::*;
use ndk_conn_common::*;

extern "C" {
    fn softroce_set_ephemeral_ports(a: *mut NDK_ADAPTER, first: u16, last: u16) -> NtStatus;
}

const GIVE_UP: Duration = Duration::from_secs(80);

fn se_address(se: *mut NDK_SHARED_ENDPOINT) -> SocketAddr {
    let mut out = [0u8; 28];
    let mut len = 28u32;
    let s = unsafe {
        (se_d(se).NdkGetSharedEndpointLocalAddress)(se, out.as_mut_ptr().cast(), &mut len)
    };
    assert_eq!(s, STATUS_SUCCESS);
    parse_sockaddr(&out[..len as usize])
}

fn finish(net: Net, sides: &[&Side], closes: &[*mut NDK_PD]) {
    for &o in closes {
        let s = close_obj(o, None);
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
        s.close_objects();
    }
    net.finish();
}

#[test]
fn unreachable_destinations_fail_inline() {
    let mut net = Net::new(21);
    let a = net.adapter("192.0.2.1");
    let c = a.connector();
    // Another family: no route from this adapter's network.
    assert_eq!(
        a.connect(c, "[2001:db8::2]:7000".parse().unwrap(), b"", 1),
        STATUS_NETWORK_UNREACHABLE
    );
    // Not a host: multicast and broadcast.
    assert_eq!(
        a.connect(c, "224.0.0.5:7000".parse().unwrap(), b"", 2),
        STATUS_HOST_UNREACHABLE
    );
    assert_eq!(
        a.connect(c, "255.255.255.255:7000".parse().unwrap(), b"", 3),
        STATUS_HOST_UNREACHABLE
    );
    // An adapter whose carrier could not open (the address's UDP 4791 is
    // taken on this network) has no network at all: one opened with
    // `ndk::open_adapter`, which makes a private network, on `a`'s address.
    // (`softroce_open_adapter_on` would attach it to `a`'s network instead,
    // `tests/ndk_shared_net.rs`.)
    let twin = net.private_adapter("192.0.2.1");
    assert!(!twin.stats().online);
    let tc = twin.connector();
    assert_eq!(
        twin.connect(tc, "192.0.2.2:7000".parse().unwrap(), b"", 4),
        STATUS_NETWORK_UNREACHABLE
    );
    net.run();
    for t in 1..=4 {
        assert!(
            a.completions(t).is_empty() && twin.completions(t).is_empty(),
            "inline: no callback"
        );
    }
    // The connector is still unused: a good connect works afterwards.
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    assert_eq!(a.connect(c, at, b"", 5), STATUS_PENDING);
    net.run();
    assert_eq!(b.delivered(1).len(), 1);
    let p = b.delivered(1)[0];
    finish(
        net,
        &[&a, &twin, &b],
        &[c.cast(), tc.cast(), p.cast(), l.cast()],
    );
}

#[test]
fn shared_endpoint_ports_are_shared_and_four_tuples_unique() {
    let mut net = Net::new(22);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l1, at1) = b.listen(1, 7000);
    let (l2, at2) = b.listen(2, 7001);
    let se = shared_endpoint(&a, "0.0.0.0:5000".parse().unwrap()).unwrap();
    assert_eq!(
        se_address(se),
        "192.0.2.1:5000".parse::<SocketAddr>().unwrap()
    );
    let (c1, c2, c3) = (a.connector(), a.connector(), a.connector());
    let (q2, q3) = (a.new_qp(), a.new_qp());
    assert_eq!(connect_shared(&a, c1, a.qp, se, at1, 10), STATUS_PENDING);
    // The same 4-tuple again.
    assert_eq!(
        connect_shared(&a, c2, q2, se, at1, 11),
        STATUS_ADDRESS_ALREADY_EXISTS
    );
    // Another destination from the same local port.
    assert_eq!(connect_shared(&a, c3, q3, se, at2, 12), STATUS_PENDING);
    net.run();
    let (p1, p2) = (b.delivered(1)[0], b.delivered(2)[0]);
    assert_eq!(b.accept_on(p1, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    let bq = b.new_qp();
    assert_eq!(b.accept_on(p2, bq, 1, 1, b"", 22), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.completions(12), vec![STATUS_SUCCESS]);
    assert!(a.completions(11).is_empty());
    let (l1a, _) = a.addresses(c1);
    let (l3a, _) = a.addresses(c3);
    assert_eq!(l1a, l3a);
    assert_eq!(l1a.port(), 5000);
    assert_eq!(b.addresses(p1).1, l1a, "the peer sees the shared port");
    // Closing the shared endpoint pends while its connectors are open, and
    // the port stays bound until they are gone.
    let ctx = a.ctx(30);
    assert_eq!(
        unsafe { (se_d(se).NdkCloseSharedEndpoint)(se.cast(), Some(on_close), ctx) },
        STATUS_PENDING
    );
    assert_eq!(
        shared_endpoint(&a, "192.0.2.1:5000".parse().unwrap()),
        Err(STATUS_SHARING_VIOLATION)
    );
    for c in [c1, c3] {
        assert_eq!(close_obj(c, None), STATUS_SUCCESS);
    }
    net.run();
    assert_eq!(
        a.calls(30).len(),
        1,
        "close completed after the last connector"
    );
    net.advance(GIVE_UP);
    let again = shared_endpoint(&a, "192.0.2.1:5000".parse().unwrap()).unwrap();
    finish(
        net,
        &[&a, &b],
        &[
            again.cast(),
            c2.cast(),
            p1.cast(),
            p2.cast(),
            l1.cast(),
            l2.cast(),
        ],
    );
}

#[test]
fn ports_in_use_are_sharing_violations() {
    let mut net = Net::new(23);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let l2 = b.listener(2).unwrap();
    assert_eq!(b.listen_on(l2, at), Err(STATUS_SHARING_VIOLATION));
    assert_eq!(
        b.listen_on(l2, "0.0.0.0:7000".parse().unwrap()),
        Err(STATUS_SHARING_VIOLATION),
        "wildcard overlaps"
    );
    assert_eq!(shared_endpoint(&b, at), Err(STATUS_SHARING_VIOLATION));
    // A connector's own port: NdkConnect from the listener's port.
    let cb = b.connector();
    assert_eq!(
        b.connect_from(
            cb,
            b.qp,
            at,
            "192.0.2.1:9000".parse().unwrap(),
            1,
            1,
            b"",
            5
        ),
        STATUS_SHARING_VIOLATION
    );
    // An active connection's port is held too.
    let (la, ata) = a.listen(3, 0);
    let c = a.connector();
    assert_eq!(
        a.connect_from(c, a.qp, "192.0.2.1:6000".parse().unwrap(), at, 1, 1, b"", 6),
        STATUS_PENDING
    );
    let c2 = a.connector();
    let q2 = a.new_qp();
    assert_eq!(
        a.connect_from(
            c2,
            q2,
            "192.0.2.1:6000".parse().unwrap(),
            "192.0.2.2:7005".parse().unwrap(),
            1,
            1,
            b"",
            7
        ),
        STATUS_SHARING_VIOLATION
    );
    let l4 = a.listener(4).unwrap();
    assert_eq!(
        a.listen_on(l4, "192.0.2.1:6000".parse().unwrap()),
        Err(STATUS_SHARING_VIOLATION)
    );
    assert_eq!(
        a.listen_on(l4, ata),
        Err(STATUS_SHARING_VIOLATION),
        "an ephemeral listen port too"
    );
    net.run();
    let p = b.delivered(1)[0];
    finish(
        net,
        &[&a, &b],
        &[
            c.cast(),
            c2.cast(),
            cb.cast(),
            p.cast(),
            l.cast(),
            l2.cast(),
            la.cast(),
            l4.cast(),
        ],
    );
}

#[test]
fn addresses_not_on_the_adapter_are_invalid() {
    let mut net = Net::new(24);
    let a = net.adapter("192.0.2.1");
    let l = a.listener(1).unwrap();
    assert_eq!(
        a.listen_on(l, "192.0.2.77:7000".parse().unwrap()),
        Err(STATUS_INVALID_ADDRESS)
    );
    assert_eq!(
        a.listen_on(l, "[2001:db8::1]:7000".parse().unwrap()),
        Err(STATUS_INVALID_ADDRESS)
    );
    assert_eq!(
        shared_endpoint(&a, "192.0.2.77:0".parse().unwrap()),
        Err(STATUS_INVALID_ADDRESS)
    );
    let c = a.connector();
    assert_eq!(
        a.connect_from(
            c,
            a.qp,
            "192.0.2.77:0".parse().unwrap(),
            "192.0.2.2:7000".parse().unwrap(),
            1,
            1,
            b"",
            2
        ),
        STATUS_INVALID_ADDRESS
    );
    // The wildcard of the adapter's family is fine for a listener.
    let bound = a.listen_on(l, "0.0.0.0:7000".parse().unwrap()).unwrap();
    assert_eq!(bound, "0.0.0.0:7000".parse::<SocketAddr>().unwrap());
    // Private data above MaxCallerData is refused inline.
    assert_eq!(
        a.connect(c, "192.0.2.2:7000".parse().unwrap(), &[0u8; 57], 3),
        STATUS_INVALID_PARAMETER
    );
    finish(net, &[&a], &[c.cast(), l.cast()]);
}

#[test]
fn no_free_ephemeral_port_is_too_many_addresses() {
    let mut net = Net::new(25);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (lb, at) = b.listen(1, 7000);
    assert_eq!(
        unsafe { softroce_set_ephemeral_ports(a.adapter, 60000, 60001) },
        STATUS_SUCCESS
    );
    assert_eq!(
        unsafe { softroce_set_ephemeral_ports(a.adapter, 100, 200) },
        STATUS_INVALID_PARAMETER
    );
    // Two ephemeral ports: a listener and a shared endpoint take them.
    let (l, port) = a.listen(2, 0);
    assert_eq!(port.port(), 60000);
    let se = shared_endpoint(&a, "192.0.2.1:0".parse().unwrap()).unwrap();
    assert_eq!(se_address(se).port(), 60001);
    let l2 = a.listener(3).unwrap();
    assert_eq!(
        a.listen_on(l2, "192.0.2.1:0".parse().unwrap()),
        Err(STATUS_TOO_MANY_ADDRESSES)
    );
    assert_eq!(
        shared_endpoint(&a, "192.0.2.1:0".parse().unwrap()),
        Err(STATUS_TOO_MANY_ADDRESSES)
    );
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 4), STATUS_TOO_MANY_ADDRESSES);
    // Releasing one makes it available again.
    assert_eq!(close_obj(se, None), STATUS_SUCCESS);
    assert_eq!(a.connect(c, at, b"", 5), STATUS_PENDING);
    net.run();
    assert_eq!(a.addresses(c).0.port(), 60001);
    let p = b.delivered(1)[0];
    finish(
        net,
        &[&a, &b],
        &[c.cast(), p.cast(), l.cast(), l2.cast(), lb.cast()],
    );
}

#[test]
fn pool_limit_and_full_tables_are_insufficient_resources() {
    let mut net = Net::new(26);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (l, at) = b.listen(1, 7000);
    let used = net.pool_bytes();
    net.set_pool_limit(used);
    let mut c = std::ptr::null_mut();
    let s = unsafe { (a.d().NdkCreateConnector)(a.adapter, None, std::ptr::null_mut(), &mut c) };
    assert_eq!(s, STATUS_INSUFFICIENT_RESOURCES);
    assert!(c.is_null());
    assert_eq!(b.listener(2), Err(STATUS_INSUFFICIENT_RESOURCES));
    assert_eq!(
        shared_endpoint(&a, "192.0.2.1:0".parse().unwrap()),
        Err(STATUS_INSUFFICIENT_RESOURCES)
    );
    assert_eq!(a.stats().cm_endpoints, 0, "a refused create binds nothing");
    net.set_pool_limit(usize::MAX);
    // The passive side cannot make the new connector: the request is refused.
    let c = a.connector();
    let used = net.pool_bytes();
    net.set_pool_limit(used);
    assert_eq!(a.connect(c, at, b"", 3), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(3), vec![STATUS_CONNECTION_REFUSED]);
    assert!(b.delivered(1).is_empty());
    net.set_pool_limit(usize::MAX);
    // The CM's connection table (256) full: the next NdkConnect fails inline.
    let dst: SocketAddr = "192.0.2.9:7000".parse().unwrap();
    let mut conns = vec![c];
    let mut status = STATUS_PENDING;
    for i in 0..300usize {
        let c = a.connector();
        let q = a.new_qp();
        conns.push(c);
        status = a.connect_from(c, q, SocketAddr::new(a.ip, 0), dst, 1, 1, b"", 100 + i);
        if status != STATUS_PENDING {
            break;
        }
    }
    assert_eq!(status, STATUS_INSUFFICIENT_RESOURCES);
    assert_eq!(a.stats().cm_connections, 256);
    let mut all: Vec<*mut NDK_PD> = conns.iter().map(|c| c.cast()).collect();
    all.push(l.cast());
    finish(net, &[&a, &b], &all);
}

#[test]
fn get_local_address_size_protocol() {
    let mut net = Net::new(27);
    let a = net.adapter("2001:db8::1");
    let (l, _) = a.listen(1, 0);
    let se = shared_endpoint(&a, "[2001:db8::1]:0".parse().unwrap()).unwrap();
    let mut out = [0u8; 28];
    for (what, f) in [
        (
            "listener",
            Box::new(|p: *mut SOCKADDR, n: *mut u32| unsafe {
                (lis_d(l).NdkGetListenerLocalAddress)(l, p, n)
            }) as Box<dyn Fn(*mut SOCKADDR, *mut u32) -> NtStatus>,
        ),
        (
            "shared endpoint",
            Box::new(|p, n| unsafe { (se_d(se).NdkGetSharedEndpointLocalAddress)(se, p, n) }),
        ),
    ] {
        let mut len = 0u32;
        assert_eq!(
            f(std::ptr::null_mut(), &mut len),
            STATUS_BUFFER_TOO_SMALL,
            "{what}"
        );
        assert_eq!(len, 28, "{what}: SOCKADDR_IN6");
        let mut len = 27u32;
        assert_eq!(
            f(out.as_mut_ptr().cast(), &mut len),
            STATUS_BUFFER_TOO_SMALL,
            "{what}"
        );
        assert_eq!(len, 28);
        let mut len = 28u32;
        assert_eq!(
            f(out.as_mut_ptr().cast(), &mut len),
            STATUS_SUCCESS,
            "{what}"
        );
        assert_eq!(parse_sockaddr(&out).ip(), a.ip);
        assert_eq!(
            f(out.as_mut_ptr().cast(), std::ptr::null_mut()),
            STATUS_INVALID_PARAMETER
        );
    }
    finish(net, &[&a], &[se.cast(), l.cast()]);
}
