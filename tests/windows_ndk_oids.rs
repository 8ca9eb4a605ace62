//! Host tests of OID_NDK_CONNECTIONS / OID_NDK_LOCAL_ENDPOINTS /
//! OID_NDK_STATISTICS as the miniport fills them, from real NDK instances:
//! the pure kernel files `miniport/ndk_instances.rs` (the miniport
//! adapter's table of open NDK instances) and `miniport/oid_payload.rs`
//! (the payload images) are included by path as in
//! `tests/windows_helpers.rs`, fed with hosted adapters connected on a
//! SimNet through the NDK dispatch tables (`tests/ndk_conn_common`).
//! Owns these checks only.

extern crate alloc;

mod ndk_common;
mod ndk_conn_common;

mod abi {
    pub use softroce::abi::*;
}

mod ndk {
    pub use softroce::ndk::*;
}

#[allow(dead_code, unused_imports, clippy::upper_case_acronyms)]
#[path = "../src/os"]
mod os {
    pub use softroce::os::*;
    #[path = "windows"]
    pub mod windows {
        #[path = "ffi.rs"]
        pub mod ffi;
        #[path = "ndis.rs"]
        pub mod ndis;
        #[path = "nt.rs"]
        pub mod nt;
        #[path = "wsk"]
        pub mod wsk {
            #[path = "sockaddr.rs"]
            pub mod sockaddr;
        }
        #[path = "miniport"]
        pub mod miniport {
            #[path = "ndk_instances.rs"]
            pub mod ndk_instances;
            #[path = "oid_payload.rs"]
            pub mod oid_payload;
        }
    }
}

use std::mem::{offset_of, size_of};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use ndk_common::{close_obj, STATUS_PENDING, STATUS_SUCCESS};
use ndk_conn_common::{Net, Side};
use os::windows::miniport::ndk_instances::{NdkInstances, MAX_NDK_INSTANCES};
use os::windows::miniport::oid_payload::{ndk_connections, ndk_local_endpoints, ndk_statistics};
use os::windows::wsk::sockaddr;
use softroce::abi::{
    NDIS_NDK_CONNECTIONS, NDIS_NDK_CONNECTION_ENTRY, NDIS_NDK_LOCAL_ENDPOINTS,
    NDIS_NDK_LOCAL_ENDPOINT_ENTRY, NDIS_NDK_PERFORMANCE_COUNTERS, NDIS_NDK_STATISTICS_INFO,
};
use softroce::ndk::core::AdapterCore;

fn core_of(side: &Side) -> Arc<AdapterCore> {
    let a = unsafe { softroce::ndk::Adapter::from_ndk(side.adapter) }.unwrap();
    a.core().clone()
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

/// OID_NDK_CONNECTIONS as the miniport answers it: (Count, entries).
fn connections_oid(t: &NdkInstances) -> (u32, Vec<(SocketAddr, SocketAddr)>) {
    let visit = |f: &mut dyn FnMut(SocketAddr, SocketAddr)| t.visit_connections(f);
    let need = match ndk_connections(&visit, &mut []) {
        Err(n) => n,
        Ok(n) => panic!("an empty buffer cannot hold {n} bytes"),
    };
    let mut out = vec![0xAAu8; need];
    assert_eq!(ndk_connections(&visit, &mut out), Ok(need));
    let count = u32_at(&out, offset_of!(NDIS_NDK_CONNECTIONS, Count));
    assert_eq!(out[0], 0x80, "NDIS_OBJECT_TYPE_DEFAULT");
    let size = u16::from_le_bytes([out[2], out[3]]) as usize;
    let e = size_of::<NDIS_NDK_CONNECTION_ENTRY>();
    let base = offset_of!(NDIS_NDK_CONNECTIONS, Connections);
    assert_eq!(size, base + count as usize * e);
    let entries = (0..count as usize)
        .map(|i| {
            let at = base + i * e;
            let owner = at + offset_of!(NDIS_NDK_CONNECTION_ENTRY, UserModeOwner);
            let pid = at + offset_of!(NDIS_NDK_CONNECTION_ENTRY, OwnerPid);
            assert_eq!((out[owner], u32_at(&out, pid)), (0, 0), "kernel owner");
            let r = at + offset_of!(NDIS_NDK_CONNECTION_ENTRY, Remote);
            (
                sockaddr::decode(&out[at..at + 28]).unwrap(),
                sockaddr::decode(&out[r..r + 28]).unwrap(),
            )
        })
        .collect();
    (count, entries)
}

/// OID_NDK_LOCAL_ENDPOINTS as the miniport answers it.
fn endpoints_oid(t: &NdkInstances) -> Vec<(SocketAddr, bool)> {
    let visit = |f: &mut dyn FnMut(SocketAddr, bool)| t.visit_local_endpoints(f);
    let mut out = vec![0xAAu8; 1024];
    let n = ndk_local_endpoints(&visit, &mut out).unwrap();
    let count = u32_at(&out, offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, Count)) as usize;
    let e = size_of::<NDIS_NDK_LOCAL_ENDPOINT_ENTRY>();
    let base = offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, LocalEndpoints);
    assert_eq!(
        n,
        (base + count * e).max(size_of::<NDIS_NDK_LOCAL_ENDPOINTS>())
    );
    (0..count)
        .map(|i| {
            let at = base + i * e;
            let l = at + offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Listener);
            (sockaddr::decode(&out[at..at + 28]).unwrap(), out[l] != 0)
        })
        .collect()
}

fn sorted<T: Ord>(mut v: Vec<T>) -> Vec<T> {
    v.sort();
    v
}

/// One miniport adapter's table holding two open NDK instances, A and B,
/// connected to each other: OID_NDK_CONNECTIONS lists the connection from
/// each side, OID_NDK_LOCAL_ENDPOINTS both listeners; a closed instance
/// (taken out of the table) disappears from both.
#[test]
fn oids_list_every_open_instance_and_forget_closed_ones() {
    let mut net = Net::new(71);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let table = NdkInstances::new();
    assert!(table.is_empty());
    assert_eq!(connections_oid(&table), (0, vec![]));
    assert!(endpoints_oid(&table).is_empty());
    table.add(core_of(&a)).unwrap();
    table.add(core_of(&b)).unwrap();
    assert_eq!(table.len(), 2);

    let (la, bound_a) = a.listen(1, 0);
    let (lb, bound_b) = b.listen(1, 0);
    assert_eq!(
        sorted(endpoints_oid(&table)),
        sorted(vec![(bound_a, true), (bound_b, true)])
    );

    let c = a.connector();
    assert_eq!(a.connect(c, bound_b, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 4, 4, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    let (a_local, _) = a.addresses(c);
    // In table order: A's side of the connection, then B's.
    assert_eq!(
        connections_oid(&table),
        (2, vec![(a_local, bound_b), (bound_b, a_local)])
    );

    // OID_NDK_STATISTICS from A's counters: Connect 1, ActiveConnection 1.
    let img = ndk_statistics(&a.stats_counters());
    let cs = offset_of!(NDIS_NDK_STATISTICS_INFO, CounterSet);
    let at = |f: usize| u64::from_le_bytes(img[cs + f..cs + f + 8].try_into().unwrap());
    assert_eq!(at(offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, Connect)), 1);
    assert_eq!(
        at(offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, ActiveConnection)),
        1
    );
    let snap = a.stats_counters();
    assert!(snap.RDMAOutFrames >= 2, "at least the REQ and the RTU");
    assert_eq!(
        [
            at(offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAOutFrames)),
            at(offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAInOctets)),
        ],
        [snap.RDMAOutFrames, snap.RDMAInOctets]
    );

    // B's instance closes (taken out first, as close_ndk_adapter does).
    let core_b = core_of(&b);
    assert!(table.remove(&core_b).is_some());
    assert!(table.remove(&core_b).is_none(), "removed once");
    assert_eq!(connections_oid(&table), (1, vec![(a_local, bound_b)]));
    assert_eq!(endpoints_oid(&table), vec![(bound_a, true)]);

    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    net.run();
    assert_eq!(connections_oid(&table), (0, vec![]));
    for o in [c, p] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    for l in [la, lb] {
        assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    }
    assert!(endpoints_oid(&table).is_empty());
    assert!(table.remove(&core_of(&a)).is_some());
    net.advance(Duration::from_secs(5));
    for s in [&a, &b] {
        s.close_objects();
    }
    drop(core_b);
    net.finish();
}

/// The table holds MAX_NDK_INSTANCES; one more is handed back (the open
/// then fails with NDIS_STATUS_RESOURCES).
#[test]
fn the_table_is_bounded() {
    let mut net = Net::new(72);
    let a = net.adapter("192.0.2.1");
    let core = core_of(&a);
    let table = NdkInstances::new();
    for _ in 0..MAX_NDK_INSTANCES {
        table.add(core.clone()).unwrap();
    }
    assert!(table.add(core.clone()).is_err());
    while table.remove(&core).is_some() {}
    assert!(table.is_empty());
    drop(core);
    a.close_objects();
    net.finish();
}

/// Two NDK instances of one miniport adapter share its network (as the
/// miniport opens them, `ndk::open_adapter_on` the table's network): the
/// OIDs list each connection and listener of that network once, whichever
/// instance owns it and however many instances are in the table.
#[test]
fn instances_sharing_a_network_are_listed_once() {
    let mut net = Net::new(73);
    let a1 = net.adapter("192.0.2.1");
    let a2 = net.adapter("192.0.2.1");
    let r = net.adapter("192.0.2.2");
    assert!(core_of(&a1).same_network(&core_of(&a2)));
    let table = NdkInstances::new();
    table.add(core_of(&a1)).unwrap();
    table.add(core_of(&a2)).unwrap();
    table.add(core_of(&r)).unwrap();

    let (l1, at1) = a1.listen(1, 7000);
    let (l2, at2) = a2.listen(2, 7001);
    let (lr, at_r) = r.listen(3, 7002);
    assert_eq!(
        sorted(endpoints_oid(&table)),
        sorted(vec![(at1, true), (at2, true), (at_r, true)]),
        "each listener once"
    );
    // A2 connects to R; R's side is the passive connector.
    let c = a2.connector();
    assert_eq!(a2.connect(c, at_r, b"", 10), STATUS_PENDING);
    net.run();
    let p = r.delivered(3)[0];
    assert_eq!(r.accept_on(p, r.qp, 4, 4, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a2.complete(c, 30), STATUS_SUCCESS);
    net.run();
    let (local, _) = a2.addresses(c);
    assert_eq!(
        sorted(connections_oid(&table).1),
        sorted(vec![(local, at_r), (at_r, local)]),
        "A2's connection once (not again for A1), and R's side"
    );
    // A1 leaves the table: the network's entries stay listed through A2.
    assert!(table.remove(&core_of(&a1)).is_some());
    assert_eq!(connections_oid(&table).0, 2);
    assert_eq!(endpoints_oid(&table).len(), 3);

    assert_eq!(a2.disconnect(c, 40), STATUS_PENDING);
    net.run();
    for o in [c, p] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    for l in [l1, l2, lr] {
        assert_eq!(close_obj(l, None), STATUS_SUCCESS);
    }
    while table.remove(&core_of(&a2)).is_some() {}
    assert!(table.remove(&core_of(&r)).is_some());
    net.advance(Duration::from_secs(5));
    for s in [&a1, &a2, &r] {
        s.close_objects();
    }
    net.finish();
}

/// The adapter's network slot: the first open claims it (others wait), the
/// network made is handed to later opens, a failed creation lets the next
/// open try again, and NDK disable takes it only with no instance open.
#[test]
fn the_network_slot_is_claimed_once_and_taken_only_when_idle() {
    use os::windows::miniport::ndk_instances::Claim;
    let mut net = Net::new(74);
    let a = net.adapter("192.0.2.1");
    let table = NdkInstances::new();
    assert!(matches!(table.claim_network(), Claim::Create));
    assert!(matches!(table.claim_network(), Claim::Wait), "one creator");
    table.publish_network(None);
    table.open_done();
    assert!(matches!(table.claim_network(), Claim::Create), "retry");
    let network = unsafe { softroce::ndk::Adapter::from_ndk(a.adapter) }
        .and_then(|x| x.network().cloned())
        .unwrap();
    table.publish_network(Some(&network));
    table.open_done();
    match table.claim_network() {
        Claim::Ready(n) => assert!(n.same(&network)),
        other => panic!("{other:?}"),
    }
    // Claimed, not registered yet: disable must leave the network alone.
    assert!(
        table.take_idle_network().is_none(),
        "an open is in progress"
    );
    table.add(core_of(&a)).unwrap();
    table.open_done();
    assert!(table.take_idle_network().is_none(), "an instance is open");
    assert!(table.remove(&core_of(&a)).is_some());
    let users = network.users();
    let taken = table.take_idle_network().expect("idle: given back");
    assert!(taken.same(&network));
    drop(taken);
    assert_eq!(network.users(), users - 1, "the table's handle");
    assert!(table.take_idle_network().is_none());
    assert!(matches!(table.claim_network(), Claim::Create), "next open");
    table.publish_network(None);
    table.open_done();
    drop(network);
    a.close_objects();
    net.finish();
}

trait StatsCounters {
    fn stats_counters(&self) -> NDIS_NDK_PERFORMANCE_COUNTERS;
}

impl StatsCounters for Side {
    fn stats_counters(&self) -> NDIS_NDK_PERFORMANCE_COUNTERS {
        core_of(self).counters().snapshot()
    }
}
