//! Two frame carriers joined by an in-memory wire, resolving with ARP: the
//! first send asks (broadcast request) and is held, the answer the OS gives
//! teaches the asker, which then sends what it held, in order and before
//! later sends, with ID 0 + DF; retries, failure (held datagrams dropped)
//! and what the peer may (not) learn.

mod link_common;

use std::time::Duration;

use link_common::*;
use softroce::link::{FrameVerdict, Resolver};
use softroce::os::{Carrier, Ipv4RxFields, RxIp, SendError};

fn pair() -> (Clock, End, End) {
    let clock = Clock::default();
    let a = End::new(config(v4(1), 1, Resolver::Arp), &clock);
    let b = End::new(config(v4(2), 2, Resolver::Arp), &clock);
    (clock, a, b)
}

/// Checks `f` is "who has `target`? tell 10.0.0.1" from mac(1) to `dst`.
fn assert_arp_request(f: &[u8], dst: [u8; 6], target: [u8; 4]) {
    assert_eq!(f.len(), 60, "padded to the Ethernet minimum");
    assert_eq!(f[..6], dst);
    assert_eq!(f[6..12], mac(1));
    assert_eq!(f[12..14], [0x08, 0x06]);
    assert_eq!(f[14..22], [0, 1, 0x08, 0, 6, 4, 0, 1]);
    assert_eq!(f[22..28], mac(1));
    assert_eq!(f[28..32], [10, 0, 0, 1]);
    assert_eq!(f[32..38], [0; 6]);
    assert_eq!(f[38..42], target);
    assert!(f[42..].iter().all(|&b| b == 0), "zero padding");
}

#[test]
fn first_send_asks_and_is_held_then_the_answer_sends_it_first() {
    let (_clock, a, b) = pair();
    let d = datagram(300);
    let d2: Vec<u8> = d.iter().map(|x| x ^ 0xFF).collect();
    let d3 = datagram(301);
    // Accepted (held), and the ARP request is the only frame.
    assert_eq!(a.carrier.send(roce(v4(2)), &d), Ok(()));
    let frames = a.port().take();
    assert_eq!(frames.len(), 1);
    assert_arp_request(&frames[0], [0xFF; 6], [10, 0, 0, 2]);
    // Still pending: held too, no second request within the retry interval.
    assert_eq!(a.carrier.send(roce(v4(2)), &d2), Ok(()));
    assert!(a.port().take().is_empty());
    let s = a.carrier.stats();
    assert_eq!(
        (
            s.tx_queued,
            s.tx_no_neighbour,
            s.arp_requests_sent,
            s.tx_frames
        ),
        (2, 0, 1, 0)
    );

    // B sees the request: the OS answers it, B learns the asker (the
    // request is for B's own address, RFC 826), nothing is consumed.
    assert_eq!(b.carrier.on_frame(&frames[0]), FrameVerdict::NotOurs);
    assert_eq!(b.carrier.stats().neighbours_learned, 1);

    // The OS's reply teaches A, which sends what it held at once.
    let reply = arp_reply((v4(2), mac(2)), (v4(1), mac(1)));
    assert_eq!(a.carrier.on_frame(&reply), FrameVerdict::NotOurs);
    assert_eq!(a.carrier.stats().neighbours_learned, 1);
    assert_eq!(a.port().frames.lock().unwrap().len(), 2, "both held, sent");
    // A later send goes straight out, after them.
    assert_eq!(a.carrier.send(roce(v4(2)), &d3), Ok(()));
    let frames = a.port().take();
    assert_eq!(frames.len(), 3);
    for f in &frames {
        assert_eq!(f[..6], mac(2), "unicast to the learned MAC");
        assert_eq!(b.carrier.on_frame(f), FrameVerdict::Consumed);
    }
    let got = b.sink.take();
    let payloads: Vec<&[u8]> = got.iter().map(|g| &g.payload[..]).collect();
    assert_eq!(payloads, [&d[..], &d2[..], &d3[..]], "in order");
    assert_eq!((got[0].src, got[0].dst), (roce(v4(1)), roce(v4(2))));
    assert_eq!(
        got[0].ip,
        RxIp::V4(Ipv4RxFields {
            ihl: 5,
            total_length: 328,
            identification: 0,
            flags_fragment: Ipv4RxFields::DONT_FRAGMENT,
        })
    );
    let s = a.carrier.stats();
    assert_eq!((s.tx_frames, s.tx_queue_sent, s.tx_queued), (3, 2, 2));
    assert_eq!(b.carrier.stats().rx_delivered, 3);

    // B learned A from the request, so B answers without asking.
    assert_eq!(b.carrier.send(roce(v4(1)), &d), Ok(()));
    assert_eq!(b.deliver_to(&a), [FrameVerdict::Consumed]);
}

#[test]
fn the_peer_learns_nothing_it_should_not() {
    let (_clock, a, b) = pair();
    // A request for a third host, a reply to a third host, a probe
    // (sender 0.0.0.0), a reply claiming B's own address: B learns nothing.
    a.carrier.send(roce(v4(3)), &datagram(20)).unwrap();
    let for_c = a.port().take();
    assert_eq!(for_c.len(), 1, "the request only: the datagram is held");
    assert_eq!(b.carrier.on_frame(&for_c[0]), FrameVerdict::NotOurs);
    let to_c = arp_reply((v4(1), mac(1)), (v4(3), mac(3)));
    assert_eq!(b.carrier.on_frame(&to_c), FrameVerdict::NotOurs);
    let probe = arp_reply(([0, 0, 0, 0].into(), mac(9)), (v4(2), mac(2)));
    assert_eq!(b.carrier.on_frame(&probe), FrameVerdict::NotOurs);
    let spoof = arp_reply((v4(2), mac(9)), (v4(2), mac(2)));
    assert_eq!(b.carrier.on_frame(&spoof), FrameVerdict::NotOurs);
    let s = b.carrier.stats();
    assert_eq!((s.neighbours_learned, s.rx_arp, s.rx_frames), (0, 4, 4));
    // So B must still ask for A (and holds the datagram).
    assert_eq!(b.carrier.send(roce(v4(1)), &datagram(20)), Ok(()));
    let asked = b.port().take();
    assert_eq!(asked.len(), 1);
    assert_eq!(asked[0][12..14], [0x08, 0x06], "an ARP request");
    // But an ARP update for an entry B is resolving is learned (merge),
    // and what B held goes out.
    let update = arp_reply((v4(1), mac(1)), (v4(3), mac(3)));
    assert_eq!(b.carrier.on_frame(&update), FrameVerdict::NotOurs);
    assert_eq!(b.carrier.stats().neighbours_learned, 1);
    assert_eq!(b.carrier.send(roce(v4(1)), &datagram(21)), Ok(()));
    assert_eq!(
        b.deliver_to(&a),
        [FrameVerdict::Consumed, FrameVerdict::Consumed]
    );
    let got: Vec<usize> = a.sink.take().iter().map(|g| g.payload.len()).collect();
    assert_eq!(got, [20, 21], "the held one first");
}

#[test]
fn unanswered_requests_retry_each_second_then_fail_for_five() {
    let (clock, a, b) = pair();
    let d = datagram(40);
    // Six sends over 3 s: each held, the newest three kept (the cap).
    for _ in 0..3 {
        assert_eq!(a.carrier.send(roce(v4(2)), &d), Ok(()));
        assert_eq!(a.port().take().len(), 1, "one request per interval");
        clock.advance(Duration::from_millis(500));
        assert_eq!(a.carrier.send(roce(v4(2)), &d), Ok(()));
        assert!(a.port().take().is_empty());
        clock.advance(Duration::from_millis(500));
    }
    let s = a.carrier.stats();
    assert_eq!((s.tx_queued, s.tx_queue_replaced), (6, 3));
    // Failed: the three still held are dropped, nothing is sent.
    assert_eq!(a.carrier.send(roce(v4(2)), &d), Err(SendError::Unreachable));
    assert_eq!(a.carrier.stats().tx_queue_failed, 3);
    clock.advance(Duration::from_millis(4999));
    assert_eq!(a.carrier.send(roce(v4(2)), &d), Err(SendError::Unreachable));
    assert!(a.port().take().is_empty());
    clock.advance(Duration::from_millis(1));
    assert_eq!(a.carrier.send(roce(v4(2)), &d), Ok(()));
    assert_eq!(a.port().take().len(), 1, "resolution starts again");
    assert_eq!(a.carrier.stats().arp_requests_sent, 4);
    // Answered now: only the datagram held after the failure goes out.
    a.carrier
        .on_frame(&arp_reply((v4(2), mac(2)), (v4(1), mac(1))));
    assert_eq!(a.deliver_to(&b), [FrameVerdict::Consumed]);
    let s = a.carrier.stats();
    assert_eq!(
        (
            s.tx_queued,
            s.tx_queue_sent,
            s.tx_queue_replaced,
            s.tx_queue_failed,
            s.tx_queue_expired
        ),
        (7, 1, 3, 3, 0),
        "every held datagram accounted for"
    );
}

#[test]
fn a_stale_entry_is_used_and_refreshed_by_unicast() {
    let (clock, a, _b) = pair();
    a.carrier.send(roce(v4(2)), &datagram(20)).unwrap();
    a.port().take();
    a.carrier
        .on_frame(&arp_reply((v4(2), mac(2)), (v4(1), mac(1))));
    assert_eq!(a.port().take().len(), 1, "the held datagram");
    clock.advance(Duration::from_secs(60));
    assert_eq!(a.carrier.send(roce(v4(2)), &datagram(20)), Ok(()));
    let frames = a.port().take();
    assert_eq!(frames.len(), 2, "the datagram and a refresh");
    assert_eq!(frames[0][12..14], [0x08, 0x00]);
    assert_arp_request(&frames[1], mac(2), [10, 0, 0, 2]);
}
