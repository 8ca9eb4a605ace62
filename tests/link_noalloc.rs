//! The frame carrier's data path does not allocate: after `FrameCarrier::new`,
//! sends (resolution asks, ARP requests, framed datagrams, datagrams held in
//! the pending queue), received frames (delivered, dropped, ARP learned and
//! the held datagrams it releases, not ours), neighbour answers (and their
//! flushes) and failures, the per-neighbour cap, the age limit and a full
//! pool make zero heap allocations. Counted with the `allocation-counter`
//! global allocator.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use softroce::link::{FrameCarrier, FrameConfig, FrameVerdict, LinkPort, Resolver};
use softroce::os::{Carrier, DatagramSink, Instant, Received, SendError};

/// A port with two preallocated frame buffers: the last IP frame and the
/// last ARP frame sent.
struct OneBuffer {
    buf: Mutex<[([u8; 1600], usize); 2]>,
    clock: AtomicU64,
}

impl LinkPort for OneBuffer {
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        let mut scratch = [0u8; 1600];
        let out = scratch.get_mut(..len).ok_or(SendError::TooBig)?;
        fill(out);
        let slot = usize::from(out[12..14] == [0x08, 0x06]);
        self.buf.lock().unwrap()[slot] = (scratch, len);
        Ok(())
    }
    fn request_resolution(&self, _: IpAddr) {}
    fn now(&self) -> Instant {
        Instant::from_nanos(self.clock.load(Ordering::SeqCst))
    }
}

#[derive(Default)]
struct Count(AtomicUsize);
impl DatagramSink for Count {
    fn on_datagram(&self, d: &Received<'_>) {
        self.0.fetch_add(d.payload.len(), Ordering::SeqCst);
    }
}

fn carrier(ip: [u8; 4], mac: u8, resolver: Resolver) -> (FrameCarrier<OneBuffer>, Arc<Count>) {
    carrier_with(ip, mac, resolver, 4)
}

fn carrier_with(
    ip: [u8; 4],
    mac: u8,
    resolver: Resolver,
    pending: usize,
) -> (FrameCarrier<OneBuffer>, Arc<Count>) {
    let sink = Arc::new(Count::default());
    let port = OneBuffer {
        buf: Mutex::new([([0; 1600], 0); 2]),
        clock: AtomicU64::new(0),
    };
    let config = FrameConfig {
        local: SocketAddr::new(ip.into(), 4791),
        mac: [2, 0, 0, 0, 0, mac],
        ip_mtu: 1500,
        vlan: None,
        traffic_class: 0,
        hop_limit: 64,
        resolver,
        neighbours: 4,
        pending,
    };
    (FrameCarrier::new(config, port, sink.clone()).unwrap(), sink)
}

/// The last IP (`arp = false`) or ARP frame sent.
fn last(c: &FrameCarrier<OneBuffer>, arp: bool) -> ([u8; 1600], usize) {
    c.port().buf.lock().unwrap()[usize::from(arp)]
}

#[test]
fn send_and_receive_make_no_heap_allocation() {
    let (a, _) = carrier([10, 0, 0, 1], 1, Resolver::Arp);
    let (b, b_sink) = carrier([10, 0, 0, 2], 2, Resolver::Os);
    let to_b = SocketAddr::new([10, 0, 0, 2].into(), 4791);
    let payload = [0x5Au8; 1000];
    let mut consumed = 0;
    let info = allocation_counter::measure(|| {
        for round in 0..50u64 {
            a.port()
                .clock
                .store(round * 70_000_000_000, Ordering::SeqCst);
            // Unknown (or stale) neighbour: an ARP request goes out (round
            // 0: the datagram is held, and sent when the reply comes).
            assert_eq!(a.send(to_b, &payload), Ok(()));
            let (req, n) = last(&a, true);
            // B sees the request for its address (not ours: OS answers).
            assert_eq!(b.on_frame(&req[..n]), FrameVerdict::NotOurs);
            // The OS's reply, played here: turn the request around.
            let mut reply = req;
            reply[..6].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
            reply[6..12].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
            reply[21] = 2;
            reply[22..28].copy_from_slice(&[2, 0, 0, 0, 0, 2]);
            reply[28..32].copy_from_slice(&[10, 0, 0, 2]);
            reply[32..38].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
            reply[38..42].copy_from_slice(&[10, 0, 0, 1]);
            a.on_frame(&reply[..n]);
            let (frame, n) = last(&a, false);
            if b.on_frame(&frame[..n]) == FrameVerdict::Consumed {
                consumed += 1;
            }
            let mut bad = frame;
            bad[24] ^= 1;
            assert!(matches!(b.on_frame(&bad[..n]), FrameVerdict::Dropped(_)));
            b.neighbour_resolved([10, 0, 0, 1].into(), [2, 0, 0, 0, 0, 1]);
            b.neighbour_failed([10, 0, 0, 9].into());
        }
    });
    assert_eq!(consumed, 50);
    assert_eq!(b_sink.0.load(Ordering::SeqCst), 50 * 1000);
    assert_eq!(
        a.stats().arp_requests_sent,
        50,
        "stale every round: refreshed"
    );
    assert_eq!(a.stats().tx_queue_sent, 1, "round 0's datagram was held");
    assert_eq!(info.count_total, 0, "{info:?}");
}

#[test]
fn the_pending_queue_makes_no_heap_allocation() {
    let (a, _) = carrier_with([10, 0, 0, 1], 1, Resolver::Os, 4);
    let (b, b_sink) = carrier([10, 0, 0, 2], 2, Resolver::Os);
    let to = |n: u8| SocketAddr::new([10, 0, 0, n].into(), 4791);
    let payload = [0x3Cu8; 1000];
    let rounds = 20u64;
    let mut consumed = 0;
    let info = allocation_counter::measure(|| {
        for round in 0..rounds {
            let t0 = round * 20_000_000_000;
            a.port().clock.store(t0, Ordering::SeqCst);
            // Four to one neighbour: held, the fourth replaces the first.
            for _ in 0..4 {
                assert_eq!(a.send(to(2), &payload), Ok(()));
            }
            // One to another fills the pool; a third neighbour is refused.
            assert_eq!(a.send(to(3), &payload), Ok(()));
            assert_eq!(a.send(to(4), &payload), Err(SendError::WouldBlock));
            // The answer flushes three; the failure drops one.
            a.neighbour_resolved(to(2).ip(), [2, 0, 0, 0, 0, 2]);
            let (frame, n) = last(&a, false);
            if b.on_frame(&frame[..n]) == FrameVerdict::Consumed {
                consumed += 1;
            }
            a.neighbour_failed(to(3).ip());
            // Held past the age limit: freed by the next hold.
            assert_eq!(a.send(to(5), &payload), Ok(()));
            a.port().clock.store(t0 + 3_000_000_000, Ordering::SeqCst);
            assert_eq!(a.send(to(6), &payload), Ok(()));
            a.neighbour_resolved(to(6).ip(), [2, 0, 0, 0, 0, 2]);
            for n in [2, 4, 5, 6] {
                a.neighbour_failed(to(n).ip());
            }
        }
    });
    assert_eq!(info.count_total, 0, "{info:?}");
    assert_eq!(consumed, rounds);
    assert_eq!(b_sink.0.load(Ordering::SeqCst), rounds as usize * 1000);
    let s = a.stats();
    assert_eq!(
        (
            s.tx_queued,
            s.tx_queue_sent,
            s.tx_queue_replaced,
            s.tx_queue_failed,
            s.tx_queue_expired,
            s.tx_no_neighbour
        ),
        (7 * rounds, 4 * rounds, rounds, rounds, rounds, rounds)
    );
}
