//! Lock order of the frame carrier: no provider lock is held while it
//! calls the port (`send_frame`, `request_resolution`) or the sink, so
//! both may call back into the carrier (the sink answers from inside
//! `on_datagram`, as the core's receive path may). Also while it flushes
//! the pending queue: a send made from inside the port during a flush
//! (another CPU's send, here re-entrant) joins the queue behind the held
//! datagrams instead of overtaking them.

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};

use softroce::link::{FrameCarrier, FrameConfig, FrameVerdict, LinkPort, Resolver};
use softroce::os::hosted::provider_locks_held;
use softroce::os::{Carrier, DatagramSink, Instant, Received, SendError};

/// Records frames and checks no provider lock is held on every call.
#[derive(Default)]
struct CheckingPort {
    frames: Mutex<Vec<Vec<u8>>>,
    calls: AtomicUsize,
}

impl LinkPort for CheckingPort {
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        assert_eq!(provider_locks_held(), 0, "lock held across send_frame");
        self.calls.fetch_add(1, Ordering::SeqCst);
        let mut buf = vec![0; len];
        fill(&mut buf);
        self.frames.lock().unwrap().push(buf);
        Ok(())
    }
    fn request_resolution(&self, _: IpAddr) {
        assert_eq!(
            provider_locks_held(),
            0,
            "lock held across request_resolution"
        );
        self.calls.fetch_add(1, Ordering::SeqCst);
    }
    fn now(&self) -> Instant {
        Instant::from_nanos(1)
    }
}

/// Answers every datagram by sending one back through the same carrier.
#[derive(Default)]
struct Echo {
    carrier: OnceLock<Arc<FrameCarrier<CheckingPort>>>,
    answered: Mutex<Vec<Result<(), SendError>>>,
}

impl DatagramSink for Echo {
    fn on_datagram(&self, d: &Received<'_>) {
        assert_eq!(provider_locks_held(), 0, "lock held across the sink");
        let c = self.carrier.get().expect("set");
        let r = c.send(d.src, d.payload);
        self.answered.lock().unwrap().push(r);
    }
}

fn config(ip: [u8; 4], mac: u8, resolver: Resolver) -> FrameConfig {
    FrameConfig {
        local: SocketAddr::new(ip.into(), 4791),
        mac: [2, 0, 0, 0, 0, mac],
        ip_mtu: 1500,
        vlan: None,
        traffic_class: 0,
        hop_limit: 64,
        resolver,
        neighbours: 2,
        pending: 4,
    }
}

#[test]
fn the_port_and_the_sink_are_called_without_locks_and_may_reenter() {
    for resolver in [Resolver::Arp, Resolver::Os] {
        let echo = Arc::new(Echo::default());
        let b = Arc::new(
            FrameCarrier::new(
                config([10, 0, 0, 2], 2, resolver),
                CheckingPort::default(),
                echo.clone(),
            )
            .unwrap(),
        );
        echo.carrier.set(b.clone()).ok().unwrap();
        let a = FrameCarrier::new(
            config([10, 0, 0, 1], 1, resolver),
            CheckingPort::default(),
            Arc::new(Echo::default()),
        )
        .unwrap();
        // A resolves (port called), holds, learns B, flushes, sends.
        let to_b = SocketAddr::new([10, 0, 0, 2].into(), 4791);
        assert_eq!(a.send(to_b, &[7; 20]), Ok(()));
        a.neighbour_resolved(to_b.ip(), [2, 0, 0, 0, 0, 2]);
        assert_eq!(a.stats().tx_queue_sent, 1, "flushed through the port");
        assert_eq!(a.send(to_b, &[7; 20]), Ok(()));
        let frame = a.port().frames.lock().unwrap().pop().unwrap();
        // B's sink sends from inside on_datagram: resolution asked, the
        // answer held, no deadlock.
        assert_eq!(b.on_frame(&frame), FrameVerdict::Consumed);
        assert_eq!(*echo.answered.lock().unwrap(), [Ok(())]);
        assert_eq!(b.stats().tx_queued, 1);
        assert!(b.port().calls.load(Ordering::SeqCst) >= 1);
        // The answer flushes the held echo through the port, lock-free.
        let before = b.port().frames.lock().unwrap().len();
        b.neighbour_resolved([10, 0, 0, 1].into(), [2, 0, 0, 0, 0, 1]);
        assert_eq!(b.port().frames.lock().unwrap().len(), before + 1);
        assert_eq!(b.stats().tx_queue_sent, 1);
        assert_eq!(b.on_frame(&frame), FrameVerdict::Consumed);
        assert_eq!(echo.answered.lock().unwrap()[1], Ok(()));
    }
}

/// A port that, on the first datagram frame it is given, sends one more
/// datagram through its own carrier (as another CPU's send could, mid-flush).
#[derive(Default)]
struct SendingPort {
    carrier: OnceLock<Weak<FrameCarrier<SendingPort>>>,
    frames: Mutex<Vec<Vec<u8>>>,
    reentered: Mutex<Option<Result<(), SendError>>>,
}

impl LinkPort for SendingPort {
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        assert_eq!(provider_locks_held(), 0, "lock held across send_frame");
        let mut buf = vec![0; len];
        fill(&mut buf);
        self.frames.lock().unwrap().push(buf);
        let first = self.reentered.lock().unwrap().is_none();
        if first {
            let c = self.carrier.get().and_then(Weak::upgrade).expect("set");
            let r = c.send(SocketAddr::new([10, 0, 0, 2].into(), 4791), &[0xEE; 20]);
            *self.reentered.lock().unwrap() = Some(r);
        }
        Ok(())
    }
    fn request_resolution(&self, _: IpAddr) {
        assert_eq!(provider_locks_held(), 0);
    }
    fn now(&self) -> Instant {
        Instant::from_nanos(1)
    }
}

#[test]
fn a_send_during_a_flush_waits_behind_the_held_datagrams() {
    let a = Arc::new(
        FrameCarrier::new(
            config([10, 0, 0, 1], 1, Resolver::Os),
            SendingPort::default(),
            Arc::new(Echo::default()),
        )
        .unwrap(),
    );
    a.port().carrier.set(Arc::downgrade(&a)).ok().unwrap();
    let to_b = SocketAddr::new([10, 0, 0, 2].into(), 4791);
    for tag in [1u8, 2] {
        assert_eq!(a.send(to_b, &[tag; 20]), Ok(()));
    }
    a.neighbour_resolved(to_b.ip(), [2, 0, 0, 0, 0, 2]);
    // The send made while the first held datagram was on its way was
    // accepted (held behind the second) and went out last.
    assert_eq!(*a.port().reentered.lock().unwrap(), Some(Ok(())));
    let tags: Vec<u8> = a
        .port()
        .frames
        .lock()
        .unwrap()
        .iter()
        .map(|f| f[42])
        .collect();
    assert_eq!(tags, [1, 2, 0xEE]);
    let s = a.stats();
    assert_eq!((s.tx_queued, s.tx_queue_sent, s.tx_frames), (3, 3, 3));
}
