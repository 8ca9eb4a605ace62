//! The frame carrier through its public API with the OS resolver: the
//! frames it builds (VLAN tag, IPv4 and IPv6 headers, UDP checksum,
//! padding), resolution requests, the pending queue (held datagrams sent in
//! order on the answer, the per-neighbour cap, the age limit, failure, a
//! full pool), size and address checks, configuration checks and counters.

mod link_common;

use std::time::Duration;

use link_common::*;
use softroce::link::{FrameCarrier, FrameConfigError, FrameVerdict, Resolver, VlanTag};
use softroce::os::{Carrier, RxIp, SendError};
use softroce::wire::ipv4::internet_checksum;

fn os_pair(a_ip: std::net::IpAddr, b_ip: std::net::IpAddr) -> (Clock, End, End) {
    let clock = Clock::default();
    let a = End::new(config(a_ip, 1, Resolver::Os), &clock);
    let b = End::new(config(b_ip, 2, Resolver::Os), &clock);
    (clock, a, b)
}

/// `n` distinct datagrams of 40 bytes, tagged 0, 1, ...
fn tagged(n: u8) -> Vec<Vec<u8>> {
    (0..n).map(|i| vec![i; 40]).collect()
}

/// The first byte of each payload `to` received (its tag).
fn tags(to: &End) -> Vec<u8> {
    to.sink.take().iter().map(|g| g.payload[0]).collect()
}

#[test]
fn os_resolution_is_asked_once_per_interval_and_the_held_datagrams_go_first() {
    let (clock, a, b) = os_pair(v4(1), v4(2));
    let d = tagged(4);
    assert_eq!(a.carrier.send(roce(v4(2)), &d[0]), Ok(()));
    clock.advance(Duration::from_millis(999));
    assert_eq!(a.carrier.send(roce(v4(2)), &d[1]), Ok(()));
    assert_eq!(a.port().resolutions(), [v4(2)]);
    clock.advance(Duration::from_millis(1));
    assert_eq!(a.carrier.send(roce(v4(2)), &d[2]), Ok(()));
    assert_eq!(a.port().resolutions(), [v4(2), v4(2)]);
    assert!(
        a.port().take().is_empty(),
        "held; no ARP under the OS resolver"
    );
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(a.carrier.send(roce(v4(2)), &d[3]), Ok(()));
    assert_eq!(a.deliver_to(&b), [FrameVerdict::Consumed; 4]);
    assert_eq!(tags(&b), [0, 1, 2, 3], "the held ones first, in order");
    let s = a.carrier.stats();
    assert_eq!(
        (
            s.resolutions_requested,
            s.tx_no_neighbour,
            s.tx_queued,
            s.tx_queue_sent,
            s.tx_frames,
            s.neighbours_learned
        ),
        (2, 0, 3, 3, 4, 1)
    );
}

#[test]
fn os_failure_drops_the_held_datagrams_and_is_unreachable_until_the_hold_ends() {
    let (clock, a, b) = os_pair(v4(1), v4(2));
    let d = tagged(4);
    assert_eq!(a.carrier.send(roce(v4(2)), &d[0]), Ok(()));
    assert_eq!(a.carrier.send(roce(v4(2)), &d[1]), Ok(()));
    // Another neighbour's datagram is not touched by this failure.
    assert_eq!(a.carrier.send(roce(v4(3)), &d[2]), Ok(()));
    a.carrier.neighbour_failed(v4(2));
    assert_eq!(a.carrier.stats().tx_queue_failed, 2);
    assert_eq!(
        a.carrier.send(roce(v4(2)), &d[3]),
        Err(SendError::Unreachable)
    );
    // A late answer finds nothing held for it.
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert!(a.port().take().is_empty());
    a.carrier.neighbour_resolved(v4(3), mac(2));
    assert_eq!(a.port().take().len(), 1, "v4(3)'s datagram kept");
    clock.advance(Duration::from_secs(5));
    a.carrier.neighbour_failed(v4(2));
    clock.advance(Duration::from_secs(5));
    assert_eq!(a.carrier.send(roce(v4(2)), &d[3]), Ok(()));
    assert_eq!(a.port().resolutions(), [v4(2), v4(3), v4(2)]);
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(a.deliver_to(&b), [FrameVerdict::Consumed]);
    assert_eq!(tags(&b), [3]);
}

#[test]
fn a_neighbour_holds_three_and_the_newest_replaces_the_oldest() {
    let (_clock, a, b) = os_pair(v4(1), v4(2));
    for d in tagged(5) {
        assert_eq!(a.carrier.send(roce(v4(2)), &d), Ok(()));
    }
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(a.deliver_to(&b), [FrameVerdict::Consumed; 3]);
    assert_eq!(tags(&b), [2, 3, 4]);
    let s = a.carrier.stats();
    assert_eq!(
        (s.tx_queued, s.tx_queue_replaced, s.tx_queue_sent),
        (5, 2, 3)
    );
}

#[test]
fn held_datagrams_expire_after_three_seconds() {
    let (clock, a, b) = os_pair(v4(1), v4(2));
    let d = tagged(3);
    a.carrier.send(roce(v4(2)), &d[0]).unwrap();
    clock.advance(Duration::from_millis(1));
    a.carrier.send(roce(v4(2)), &d[1]).unwrap();
    // d[0] is 3 s old now, d[1] 1 ms younger: only d[1] goes.
    clock.advance(Duration::from_millis(2999));
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(a.deliver_to(&b), [FrameVerdict::Consumed]);
    assert_eq!(tags(&b), [1]);
    // An expired slot is freed when a later send finds it: a pool of one,
    // its only slot taken by a datagram that never resolves.
    let mut c = config(v4(1), 1, Resolver::Os);
    c.pending = 1;
    let one = End::new(c, &clock);
    one.carrier.send(roce(v4(7)), &d[0]).unwrap();
    clock.advance(Duration::from_millis(2999));
    assert_eq!(
        one.carrier.send(roce(v4(2)), &d[1]),
        Err(SendError::WouldBlock),
        "the pool is full"
    );
    clock.advance(Duration::from_millis(1));
    assert_eq!(one.carrier.send(roce(v4(2)), &d[2]), Ok(()));
    one.carrier.neighbour_resolved(v4(7), mac(7));
    one.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(one.deliver_to(&b), [FrameVerdict::Consumed]);
    assert_eq!(tags(&b), [2]);
    let s = a.carrier.stats();
    assert_eq!(
        (s.tx_queued, s.tx_queue_expired, s.tx_queue_sent),
        (2, 1, 1)
    );
    let s = one.carrier.stats();
    assert_eq!(
        (
            s.tx_queued,
            s.tx_queue_expired,
            s.tx_no_neighbour,
            s.tx_queue_sent
        ),
        (2, 1, 1, 1)
    );
}

#[test]
fn a_full_pool_refuses_and_no_pool_keeps_the_old_rule() {
    let clock = Clock::default();
    let b = End::new(config(v4(2), 2, Resolver::Os), &clock);
    for pending in [0, 2] {
        let mut c = config(v4(1), 1, Resolver::Os);
        c.pending = pending;
        let a = End::new(c, &clock);
        let mut accepted = Vec::new();
        for (n, dst) in [(0u8, 2u8), (1, 2), (2, 3)] {
            if a.carrier.send(roce(v4(dst)), &[n; 40]) == Ok(()) {
                accepted.push(n);
            } else {
                assert_eq!(
                    a.carrier.send(roce(v4(dst)), &[n; 40]),
                    Err(SendError::WouldBlock)
                );
            }
        }
        assert_eq!(accepted.len(), pending, "pending = {pending}");
        a.carrier.neighbour_resolved(v4(2), mac(2));
        a.carrier.neighbour_resolved(v4(3), mac(2));
        a.deliver_to(&b);
        assert_eq!(tags(&b), accepted, "pending = {pending}");
        let s = a.carrier.stats();
        assert_eq!(
            (s.tx_queued, s.tx_queue_sent),
            (pending as u64, pending as u64)
        );
        assert_eq!(s.tx_no_neighbour, 2 * (3 - pending as u64));
        assert_eq!(a.port().resolutions(), [v4(2), v4(3)]);
    }
}

#[test]
fn a_destination_the_table_has_no_room_for_is_not_held() {
    let clock = Clock::default();
    let mut c = config(v4(1), 1, Resolver::Os);
    c.neighbours = 1;
    let a = End::new(c, &clock);
    assert_eq!(a.carrier.send(roce(v4(2)), &[0; 40]), Ok(()));
    // The only entry is a live resolution: v4(3) gets none, so nothing
    // would ever send a held datagram: refused as without a queue.
    assert_eq!(
        a.carrier.send(roce(v4(3)), &[1; 40]),
        Err(SendError::WouldBlock)
    );
    assert_eq!(a.port().resolutions(), [v4(2)]);
    let s = a.carrier.stats();
    assert_eq!((s.tx_queued, s.tx_no_neighbour), (1, 1));
}

#[test]
fn a_held_datagram_the_port_refuses_is_counted_and_freed() {
    let (_clock, a, b) = os_pair(v4(1), v4(2));
    let d = tagged(2);
    a.carrier.send(roce(v4(2)), &d[0]).unwrap();
    *a.port().fail.lock().unwrap() = Some(SendError::WouldBlock);
    a.carrier.neighbour_resolved(v4(2), mac(2));
    *a.port().fail.lock().unwrap() = None;
    a.carrier.send(roce(v4(2)), &d[1]).unwrap();
    a.deliver_to(&b);
    assert_eq!(tags(&b), [1]);
    let s = a.carrier.stats();
    assert_eq!(
        (s.tx_queued, s.tx_queue_errors, s.tx_queue_sent, s.tx_frames),
        (1, 1, 0, 1)
    );
}

#[test]
fn arp_is_ignored_under_the_os_resolver() {
    let (_clock, a, _b) = os_pair(v4(1), v4(2));
    a.carrier.send(roce(v4(2)), &[0; 16]).unwrap();
    let reply = arp_reply((v4(2), mac(2)), (v4(1), mac(1)));
    assert_eq!(a.carrier.on_frame(&reply), FrameVerdict::NotOurs);
    assert_eq!(a.carrier.stats().neighbours_learned, 0);
    assert_eq!(a.carrier.send(roce(v4(2)), &[0; 16]), Ok(()));
    assert!(a.port().take().is_empty(), "both still held");
    assert_eq!(a.carrier.stats().tx_queued, 2);
}

#[test]
fn ipv4_headers_are_exactly_ours() {
    let clock = Clock::default();
    let mut c = config(v4(1), 1, Resolver::Os);
    c.traffic_class = 0x6A;
    c.hop_limit = 17;
    let a = End::new(c, &clock);
    a.carrier.neighbour_resolved(v4(2), mac(2));
    let d = datagram(64);
    a.carrier
        .send(std::net::SocketAddr::new(v4(2), 5000), &d)
        .unwrap();
    let f = &a.port().take()[0];
    assert_eq!(f.len(), 14 + 20 + 8 + 64);
    assert_eq!(f[..14], [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00]);
    let ip = &f[14..34];
    assert_eq!(
        ip[..12],
        [0x45, 0x6A, 0, 92, 0, 0, 0x40, 0, 17, 17, ip[10], ip[11]]
    );
    assert_eq!(ip[12..], [10, 0, 0, 1, 10, 0, 0, 2]);
    assert_eq!(internet_checksum(ip), 0, "header checksum");
    assert_eq!(
        f[34..42],
        [0x12, 0xB7, 0x13, 0x88, 0, 72, 0, 0],
        "UDP checksum 0"
    );
    assert_eq!(f[42..], d[..]);
}

#[test]
fn vlan_tag_round_trip() {
    let clock = Clock::default();
    let mut c = config(v4(1), 1, Resolver::Arp);
    c.vlan = Some(VlanTag { pcp: 3, vid: 100 });
    let a = End::new(c, &clock);
    let b = End::new(config(v4(2), 2, Resolver::Arp), &clock);
    a.carrier.send(roce(v4(2)), &datagram(30)).unwrap();
    let req = a.port().take();
    assert_eq!(req.len(), 1, "the request; the datagram is held");
    assert_eq!(
        req[0][12..18],
        [0x81, 0x00, 0x60, 100, 0x08, 0x06],
        "tagged ARP"
    );
    assert_eq!(b.carrier.on_frame(&req[0]), FrameVerdict::NotOurs);
    a.carrier
        .on_frame(&arp_reply((v4(2), mac(2)), (v4(1), mac(1))));
    a.carrier.send(roce(v4(2)), &datagram(31)).unwrap();
    let f = a.port().take();
    assert_eq!(f.len(), 2, "the held datagram, then the new one");
    for f in &f {
        assert_eq!(f[12..18], [0x81, 0x00, 0x60, 100, 0x08, 0x00]);
        assert_eq!(b.carrier.on_frame(f), FrameVerdict::Consumed);
    }
    let got = b.sink.take();
    assert_eq!(
        (got[0].payload.clone(), got[1].payload.clone()),
        (datagram(30), datagram(31))
    );
}

/// The UDP checksum over the IPv6 pseudo header, computed here.
fn udp6_sum_ok(ip: &[u8]) -> bool {
    let len = u16::from_be_bytes([ip[4], ip[5]]) as usize;
    let mut pseudo = ip[8..40].to_vec();
    pseudo.extend_from_slice(&(len as u32).to_be_bytes());
    pseudo.extend_from_slice(&[0, 0, 0, 17]);
    pseudo.extend_from_slice(&ip[40..40 + len]);
    internet_checksum(&pseudo) == 0
}

#[test]
fn ipv6_round_trip() {
    let (_clock, a, b) = os_pair(v6(1), v6(2));
    let d = datagram(201);
    a.carrier.neighbour_resolved(v6(2), mac(2));
    assert_eq!(a.carrier.tx_ipv4(), None);
    a.carrier.send(roce(v6(2)), &d).unwrap();
    let f = a.port().take();
    let ip = &f[0][14..];
    assert_eq!(f[0][12..14], [0x86, 0xDD]);
    assert_eq!(ip[..8], [0x60, 0, 0, 0, 0, 209, 17, 64]);
    assert_ne!(ip[46..48], [0, 0], "UDP checksum computed on IPv6");
    assert!(udp6_sum_ok(ip));
    assert_eq!(b.carrier.on_frame(&f[0]), FrameVerdict::Consumed);
    let got = b.sink.take();
    assert_eq!(
        got[0].ip,
        RxIp::V6 {
            payload_length: 209
        }
    );
    assert_eq!((got[0].src, got[0].payload.clone()), (roce(v6(1)), d));
}

#[test]
fn too_big_is_measured_on_the_ip_packet() {
    let (_c4, a, _b) = os_pair(v4(1), v4(2));
    a.carrier.neighbour_resolved(v4(2), mac(2));
    assert_eq!(
        a.carrier.send(roce(v4(2)), &vec![0; 1473]),
        Err(SendError::TooBig)
    );
    assert_eq!(a.carrier.send(roce(v4(2)), &vec![0; 1472]), Ok(()));
    assert_eq!(a.port().take()[0].len(), 1514);
    let (_c6, a6, _b6) = os_pair(v6(1), v6(2));
    a6.carrier.neighbour_resolved(v6(2), mac(2));
    assert_eq!(
        a6.carrier.send(roce(v6(2)), &vec![0; 1453]),
        Err(SendError::TooBig)
    );
    assert_eq!(a6.carrier.send(roce(v6(2)), &vec![0; 1452]), Ok(()));
    assert_eq!(a.carrier.stats().tx_errors, 1);
}

#[test]
fn unreachable_destinations_send_nothing() {
    let (_clock, a, _b) = os_pair(v4(1), v4(2));
    for dst in [
        v6(2),
        [255, 255, 255, 255].into(),
        [224, 0, 0, 1].into(),
        [0, 0, 0, 0].into(),
        [127, 0, 0, 1].into(),
    ] {
        assert_eq!(
            a.carrier.send(roce(dst), &[0; 16]),
            Err(SendError::Unreachable),
            "{dst}"
        );
    }
    assert!(a.port().take().is_empty());
    assert!(a.port().resolutions().is_empty());
    assert_eq!(a.carrier.stats().tx_errors, 5);
}

#[test]
fn the_port_errors_come_back() {
    let (_clock, a, _b) = os_pair(v4(1), v4(2));
    a.carrier.neighbour_resolved(v4(2), mac(2));
    *a.port().fail.lock().unwrap() = Some(SendError::WouldBlock);
    assert_eq!(
        a.carrier.send(roce(v4(2)), &[0; 16]),
        Err(SendError::WouldBlock)
    );
    *a.port().fail.lock().unwrap() = Some(SendError::Closed);
    assert_eq!(
        a.carrier.send(roce(v4(2)), &[0; 16]),
        Err(SendError::Closed)
    );
    let s = a.carrier.stats();
    assert_eq!((s.tx_errors, s.tx_no_neighbour, s.tx_frames), (2, 0, 0));
}

#[test]
fn short_frames_are_padded_and_padding_is_never_payload() {
    let (_clock, a, b) = os_pair(v4(1), v4(2));
    a.carrier.neighbour_resolved(v4(2), mac(2));
    let d = datagram(16); // BTH + ICRC: 58 bytes of frame
    a.carrier.send(roce(v4(2)), &d).unwrap();
    let mut f = a.port().take().remove(0);
    assert_eq!(f.len(), 60);
    assert_eq!(f[58..], [0, 0]);
    assert_eq!(b.carrier.on_frame(&f), FrameVerdict::Consumed);
    // Junk padding (some NICs) is not payload either.
    f[58..].copy_from_slice(&[0xEE, 0xEE]);
    f.extend_from_slice(&[0xEE; 6]);
    assert_eq!(b.carrier.on_frame(&f), FrameVerdict::Consumed);
    let got = b.sink.take();
    assert_eq!(
        (got[0].payload.clone(), got[1].payload.clone()),
        (d.clone(), d)
    );
}

#[test]
fn frames_for_others_are_left_to_the_os() {
    let (_clock, a, b) = os_pair(v4(1), v4(2));
    a.carrier.neighbour_resolved(v4(2), mac(2));
    a.carrier.neighbour_resolved(v4(3), mac(3));
    a.carrier.send(roce(v4(3)), &datagram(20)).unwrap();
    a.carrier
        .send(std::net::SocketAddr::new(v4(2), 4792), &datagram(20))
        .unwrap();
    assert_eq!(
        a.deliver_to(&b),
        [FrameVerdict::NotOurs, FrameVerdict::NotOurs]
    );
    assert!(b.sink.take().is_empty());
    assert_eq!(b.carrier.stats().rx_not_ours, 2);
}

#[test]
fn configurations_are_checked() {
    let clock = Clock::default();
    let new = |c| {
        FrameCarrier::new(
            c,
            WirePort::new(clock.clone()),
            std::sync::Arc::new(Keep::default()),
        )
    };
    let ok = config(v4(1), 1, Resolver::Arp);
    assert!(new(ok).is_ok());
    let bad = [
        config(v6(1), 1, Resolver::Arp),
        softroce::link::FrameConfig { ip_mtu: 575, ..ok },
        softroce::link::FrameConfig {
            ip_mtu: 1279,
            ..config(v6(1), 1, Resolver::Os)
        },
        softroce::link::FrameConfig {
            neighbours: 0,
            ..ok
        },
        softroce::link::FrameConfig {
            mac: [1, 0, 0, 0, 0, 1],
            ..ok
        },
        softroce::link::FrameConfig {
            vlan: Some(VlanTag { pcp: 8, vid: 1 }),
            ..ok
        },
        softroce::link::FrameConfig {
            local: roce([0, 0, 0, 0].into()),
            ..ok
        },
    ];
    for c in bad {
        assert_eq!(new(c).err().map(|_| ()), Some(()), "{c:?}");
        assert!(matches!(new(c), Err(FrameConfigError::Invalid)));
    }
    assert!(new(softroce::link::FrameConfig { ip_mtu: 576, ..ok }).is_ok());
    assert!(new(softroce::link::FrameConfig {
        ip_mtu: 1280,
        ..config(v6(1), 1, Resolver::Os)
    })
    .is_ok());
}
