//! Tests of the hosted platform beyond the shared conformance suite: the IRQL
//! books catch each rule break and stay clean on correct use; the virtual
//! clock is deterministic; the SimNet knobs and filters do what they say for
//! a seed; the UDP carrier's IPv4 ID/DF promise and raw receive path, its
//! fallback, and its errors (real sockets inside a private network namespace).

use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use softroce::os::hosted::{
    irql_books, lower_irql, netns, raise_irql, HostedPlatform, RawReceive, SimKnobs, SimNet,
    VirtualPlatform, VIRTUAL_EPOCH,
};
use softroce::os::{
    consumer_call, current_irql, irql, Carrier, CarrierError, DatagramSink, DeferredRoutine,
    Instant, Irql, Platform, Received, Rule, RxIp, SpinLock, TxIpv4,
};

// ---------------------------------------------------------------- helpers

/// The IRQL books are process-wide: tests that read them take turns.
fn books_turn() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    let g = TURN.lock().unwrap_or_else(|p| p.into_inner());
    irql_books().clear();
    g
}

fn rules_for(what: &str) -> Vec<(Rule, Irql, u32)> {
    irql_books()
        .violations()
        .into_iter()
        .filter(|l| l.violation.what == what)
        .map(|l| (l.violation.rule, l.violation.irql, l.violation.locks_held))
        .collect()
}

struct FnRoutine<F: Fn(Instant) + Send + Sync>(F);
impl<F: Fn(Instant) + Send + Sync> DeferredRoutine for FnRoutine<F> {
    fn run(&self, now: Instant) {
        (self.0)(now)
    }
}
fn routine(f: impl Fn(Instant) + Send + Sync + 'static) -> Arc<dyn DeferredRoutine> {
    Arc::new(FnRoutine(f))
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Arrival {
    at: u64,
    src: SocketAddr,
    dst: SocketAddr,
    ip: RxIp,
    payload: Vec<u8>,
}

/// A sink that records arrivals (with the platform time).
struct Inbox {
    clock: Arc<dyn Platform>,
    got: Mutex<Vec<Arrival>>,
}
impl Inbox {
    fn new(clock: Arc<dyn Platform>) -> Arc<Inbox> {
        Arc::new(Inbox {
            clock,
            got: Mutex::new(Vec::new()),
        })
    }
    fn take(&self) -> Vec<Arrival> {
        std::mem::take(&mut *self.got.lock().unwrap())
    }
    fn len(&self) -> usize {
        self.got.lock().unwrap().len()
    }
}
impl DatagramSink for Inbox {
    fn on_datagram(&self, d: &Received<'_>) {
        assert_eq!(current_irql(), Irql::Dispatch);
        self.got.lock().unwrap().push(Arrival {
            at: self.clock.now().as_nanos(),
            src: d.src,
            dst: d.dst,
            ip: d.ip,
            payload: d.payload.to_vec(),
        });
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

/// Waits (real sockets) until `done`, with a generous bound.
fn wait_for(done: impl Fn() -> bool) -> bool {
    for _ in 0..10_000 {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    done()
}

// ---------------------------------------------------------------- IRQL books

#[test]
fn books_record_a_consumer_callback_made_while_holding_a_spin_lock() {
    let _t = books_turn();
    let lock = SpinLock::new(0u32);
    {
        let mut g = lock.lock();
        *g += 1;
        consumer_call("test: callback under lock", || ());
    }
    consumer_call("test: callback after release", || ());
    assert_eq!(
        rules_for("test: callback under lock"),
        vec![(Rule::CallbackWithLockHeld, Irql::Dispatch, 1)]
    );
    let logged = irql_books().violations();
    let at = logged
        .iter()
        .find(|l| l.violation.what == "test: callback under lock")
        .map(|l| l.violation.location)
        .unwrap();
    assert_eq!(at.file(), file!(), "the violation names the caller's file");
    assert!(rules_for("test: callback after release").is_empty());
    assert_eq!(current_irql(), Irql::Passive);
}

#[test]
fn books_record_a_passive_only_function_called_from_a_dpc() {
    let _t = books_turn();
    let p = VirtualPlatform::new(1);
    let dpc = p
        .new_dpc(routine(|_| {
            irql::assert_passive("test: passive-only in DPC")
        }))
        .unwrap();
    dpc.queue();
    assert!(
        rules_for("test: passive-only in DPC").is_empty(),
        "ran before run_pending"
    );
    assert_eq!(p.run_pending(), 1);
    assert_eq!(
        rules_for("test: passive-only in DPC"),
        vec![(Rule::NotPassive, Irql::Dispatch, 0)]
    );
}

#[test]
fn books_record_irql_too_high_callbacks_above_dispatch_and_locks_above_dispatch() {
    let _t = books_turn();
    let lock = SpinLock::new(());
    {
        let _g = lock.lock();
        irql::assert_at_most(Irql::Passive, "test: passive max under lock");
        irql::assert_at_most(Irql::Dispatch, "test: dispatch max under lock");
    }
    let old = raise_irql(Irql::High);
    consumer_call("test: callback at HIGH", || ());
    drop(lock.lock());
    lower_irql(old);
    assert_eq!(
        rules_for("test: passive max under lock"),
        vec![(Rule::IrqlTooHigh { max: Irql::Passive }, Irql::Dispatch, 1)]
    );
    assert!(rules_for("test: dispatch max under lock").is_empty());
    assert_eq!(
        rules_for("test: callback at HIGH"),
        vec![(Rule::CallbackAboveDispatch, Irql::High, 0)]
    );
    assert_eq!(
        rules_for("SpinLock::lock"),
        vec![(Rule::LockAboveDispatch, Irql::High, 0)]
    );
}

#[test]
fn books_record_a_dpc_that_returns_holding_a_lock() {
    let _t = books_turn();
    let p = VirtualPlatform::new(1);
    let lock: &'static SpinLock<()> = Box::leak(Box::new(SpinLock::new(())));
    let dpc = p
        .new_dpc(routine(move |_| std::mem::forget(lock.lock())))
        .unwrap();
    dpc.queue();
    p.run_pending();
    assert_eq!(
        rules_for("DPC routine"),
        vec![(Rule::UnbalancedDeferred, Irql::Dispatch, 1)]
    );
}

#[test]
fn books_stay_clean_on_correct_use() {
    let _t = books_turn();
    let p = VirtualPlatform::new(1);
    let lock = Arc::new(SpinLock::new(0u64));
    let l2 = lock.clone();
    let dpc = p
        .new_dpc(routine(move |_| {
            irql::assert_at_most(Irql::Dispatch, "test: clean DPC");
            let v = {
                let mut g = l2.lock();
                *g += 1;
                *g
            };
            consumer_call("test: clean callback from DPC", || v);
        }))
        .unwrap();
    irql::assert_passive("test: clean passive");
    dpc.queue();
    p.run_pending();
    {
        let _g = lock.lock();
        irql::assert_at_most(Irql::Dispatch, "test: clean under lock");
    }
    consumer_call("test: clean callback", || ());
    assert_eq!(*lock.lock(), 1);
    irql_books().assert_clean();
}

#[test]
fn assert_clean_fails_on_a_dirty_book() {
    let _t = books_turn();
    consumer_call("test: dirty", || {
        let lock = SpinLock::new(());
        let _g = lock.lock();
        consumer_call("test: nested under lock", || ());
    });
    let r = std::panic::catch_unwind(|| irql_books().assert_clean());
    irql_books().clear();
    let msg = *r
        .expect_err("assert_clean passed a dirty book")
        .downcast::<String>()
        .unwrap();
    assert!(
        msg.contains("CallbackWithLockHeld") && msg.contains("test: nested under lock"),
        "{msg}"
    );
}

#[test]
fn real_platform_runs_dpcs_on_its_worker_thread_at_dispatch() {
    let p = HostedPlatform::new("books");
    let seen = Arc::new(Mutex::new(None));
    let s2 = seen.clone();
    let dpc = p
        .new_dpc(routine(move |_| {
            let name = std::thread::current().name().map(str::to_owned);
            *s2.lock().unwrap() = Some((name, current_irql()));
        }))
        .unwrap();
    dpc.queue();
    assert!(wait_for(|| seen.lock().unwrap().is_some()));
    let (name, irql) = seen.lock().unwrap().clone().unwrap();
    assert_eq!(name.as_deref(), Some("books-dpc"));
    assert_eq!(irql, Irql::Dispatch);
}

// ---------------------------------------------------------------- virtual clock

#[test]
fn virtual_time_moves_only_when_told() {
    let p = VirtualPlatform::new(3);
    let t0 = p.now();
    assert_eq!(t0, VIRTUAL_EPOCH);
    let fired = Arc::new(Mutex::new(Vec::new()));
    let f2 = fired.clone();
    let timer = p
        .new_timer(routine(move |now| f2.lock().unwrap().push(now)))
        .unwrap();
    let deadline = t0.saturating_add(Duration::from_millis(10));
    timer.set(deadline);
    assert_eq!(p.run_pending(), 0);
    assert_eq!(p.now(), t0, "time moved without advance");
    p.advance(Duration::from_millis(9));
    assert!(fired.lock().unwrap().is_empty(), "fired 1 ms early");
    p.advance(Duration::from_millis(5));
    assert_eq!(
        *fired.lock().unwrap(),
        vec![deadline],
        "fired late or not at its deadline"
    );
    assert_eq!(p.now(), t0.saturating_add(Duration::from_millis(14)));
}

#[test]
fn virtual_dpcs_run_fifo_and_timers_at_equal_deadlines_in_set_order() {
    let p = VirtualPlatform::new(3);
    let log = Arc::new(Mutex::new(Vec::new()));
    let mk = |tag: &'static str| {
        let l = log.clone();
        routine(move |_| l.lock().unwrap().push(tag))
    };
    let d: Vec<_> = ["d1", "d2", "d3"]
        .iter()
        .map(|t| p.new_dpc(mk(t)).unwrap())
        .collect();
    let t: Vec<_> = ["t1", "t2"]
        .iter()
        .map(|n| p.new_timer(mk(n)).unwrap())
        .collect();
    let at = p.now().saturating_add(Duration::from_millis(1));
    t[1].set(at);
    t[0].set(at);
    d[2].queue();
    d[0].queue();
    d[1].queue();
    p.run_until_idle();
    assert_eq!(*log.lock().unwrap(), ["d3", "d1", "d2", "t2", "t1"]);
}

#[test]
fn run_until_idle_jumps_to_the_last_deadline_and_follows_rearming() {
    let p = VirtualPlatform::new(3);
    let count = Arc::new(AtomicUsize::new(0));
    let slot: Arc<Mutex<Option<Box<dyn softroce::os::Timer>>>> = Arc::new(Mutex::new(None));
    let (c2, s2) = (count.clone(), slot.clone());
    let timer = p
        .new_timer(routine(move |now| {
            // Re-arm itself 4 more times, 1 s apart (like a retransmit timer).
            if c2.fetch_add(1, Ordering::SeqCst) < 4 {
                if let Some(t) = s2.lock().unwrap().as_ref() {
                    t.set(now.saturating_add(Duration::from_secs(1)));
                }
            }
        }))
        .unwrap();
    let start = p.now();
    timer.set(start.saturating_add(Duration::from_secs(1)));
    *slot.lock().unwrap() = Some(timer);
    p.run_until_idle();
    assert_eq!(count.load(Ordering::SeqCst), 5);
    assert_eq!(p.now(), start.saturating_add(Duration::from_secs(5)));
}

#[test]
fn dropping_a_timer_cancels_it_and_dropping_a_dpc_dequeues_it() {
    let p = VirtualPlatform::new(3);
    let ran = Arc::new(AtomicUsize::new(0));
    let (r1, r2) = (ran.clone(), ran.clone());
    let timer = p
        .new_timer(routine(move |_| {
            r1.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap();
    let dpc = p
        .new_dpc(routine(move |_| {
            r2.fetch_add(1, Ordering::SeqCst);
        }))
        .unwrap();
    timer.set(p.now().saturating_add(Duration::from_millis(1)));
    assert!(dpc.queue());
    drop((timer, dpc));
    assert_eq!(p.run_until_idle(), 0);
    assert_eq!(ran.load(Ordering::SeqCst), 0);
}

#[test]
fn a_timer_set_in_the_past_fires_at_the_next_run_without_moving_time() {
    let p = VirtualPlatform::new(3);
    let seen = Arc::new(Mutex::new(None));
    let s2 = seen.clone();
    let timer = p
        .new_timer(routine(move |now| *s2.lock().unwrap() = Some(now)))
        .unwrap();
    let now = p.now();
    timer.set(Instant::from_nanos(now.as_nanos() - 5));
    assert_eq!(p.run_pending(), 1);
    assert_eq!(*seen.lock().unwrap(), Some(now));
    assert_eq!(p.now(), now);
}

#[test]
fn virtual_randomness_follows_the_seed() {
    let draw = |seed| {
        let p = VirtualPlatform::new(seed);
        let mut b = [0u8; 24];
        p.fill_random(&mut b);
        b
    };
    assert_eq!(draw(5), draw(5));
    assert_ne!(draw(5), draw(6));
}

// ---------------------------------------------------------------- SimNet

/// Two adapters on one virtual platform and a SimNet with `knobs`; sends
/// `n` numbered packets a->b (and one b->a per 10) and returns what arrived
/// at each side plus the stats.
fn sim_run(
    seed: u64,
    knobs: SimKnobs,
    n: u16,
) -> (Vec<Arrival>, Vec<Arrival>, softroce::os::hosted::SimStats) {
    let p = VirtualPlatform::new(seed);
    let net = p.use_simnet(seed);
    net.set_knobs(knobs);
    let (ia, ib) = (Inbox::new(p.clone()), Inbox::new(p.clone()));
    let a = p.open_carrier(addr("10.0.0.1:4791"), ia.clone()).unwrap();
    let b = p.open_carrier(addr("10.0.0.2:4791"), ib.clone()).unwrap();
    for i in 0..n {
        a.send(b.local_addr(), &i.to_be_bytes()).unwrap();
        if i % 10 == 0 {
            b.send(a.local_addr(), &i.to_be_bytes()).unwrap();
        }
        p.advance(Duration::from_micros(100));
    }
    p.run_until_idle();
    (ia.take(), ib.take(), net.stats())
}

fn seqs(v: &[Arrival]) -> Vec<u16> {
    v.iter()
        .map(|a| u16::from_be_bytes([a.payload[0], a.payload[1]]))
        .collect()
}

#[test]
fn simnet_is_deterministic_for_a_seed() {
    let knobs = SimKnobs {
        drop_ppm: 100_000,
        duplicate_ppm: 100_000,
        reorder_ppm: 100_000,
        corrupt_ppm: 100_000,
        delay: Duration::from_micros(300),
        jitter: Duration::from_micros(200),
        reorder_delay: Duration::from_millis(2),
    };
    let one = sim_run(42, knobs, 300);
    assert_eq!(one, sim_run(42, knobs, 300), "same seed, different run");
    assert_ne!(
        one.1,
        sim_run(43, knobs, 300).1,
        "different seeds, same run"
    );
    let s = one.2;
    assert!(
        s.dropped > 0 && s.duplicated > 0 && s.reordered > 0 && s.corrupted > 0,
        "{s:?}"
    );
    assert_eq!(s.sent, 330);
    assert_eq!(s.delivered, (one.0.len() + one.1.len()) as u64);
}

#[test]
fn simnet_drop_all_delivers_nothing() {
    let (a, b, s) = sim_run(
        1,
        SimKnobs {
            drop_ppm: 1_000_000,
            ..SimKnobs::default()
        },
        50,
    );
    assert!(a.is_empty() && b.is_empty());
    assert_eq!(s.dropped, 55);
}

#[test]
fn simnet_clean_network_delivers_in_order_once_with_ip_fields() {
    let (a, b, s) = sim_run(1, SimKnobs::default(), 50);
    assert_eq!(seqs(&b), (0..50).collect::<Vec<_>>());
    assert_eq!(seqs(&a), (0..50).step_by(10).collect::<Vec<_>>());
    assert_eq!(s.delivered, 55);
    let first = &b[0];
    assert_eq!(
        (first.src, first.dst),
        (addr("10.0.0.1:4791"), addr("10.0.0.2:4791"))
    );
    match first.ip {
        RxIp::V4(f) => {
            assert_eq!((f.identification, f.flags_fragment), (0, 0x4000));
            assert_eq!(f.total_length, 28 + 2);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn simnet_duplicates_every_packet_when_asked() {
    let (_, b, s) = sim_run(
        9,
        SimKnobs {
            duplicate_ppm: 1_000_000,
            ..SimKnobs::default()
        },
        20,
    );
    let mut got = seqs(&b);
    got.sort();
    let want: Vec<u16> = (0..20).flat_map(|i| [i, i]).collect();
    assert_eq!(got, want);
    assert_eq!(s.duplicated, 22);
}

#[test]
fn simnet_reorders_held_back_packets() {
    let knobs = SimKnobs {
        reorder_ppm: 300_000,
        reorder_delay: Duration::from_millis(1),
        ..SimKnobs::default()
    };
    let (_, b, s) = sim_run(4, knobs, 100);
    let got = seqs(&b);
    let mut sorted = got.clone();
    sorted.sort();
    assert_eq!(sorted, (0..100).collect::<Vec<_>>(), "lost or duplicated");
    assert_ne!(got, sorted, "nothing was reordered");
    assert!(s.reordered > 0);
}

#[test]
fn simnet_corrupts_exactly_one_bit() {
    let (_, b, s) = sim_run(
        8,
        SimKnobs {
            corrupt_ppm: 1_000_000,
            ..SimKnobs::default()
        },
        40,
    );
    assert_eq!(b.len(), 40);
    for (i, a) in b.iter().enumerate() {
        let sent = (i as u16).to_be_bytes();
        let flipped: u32 = a
            .payload
            .iter()
            .zip(sent)
            .map(|(x, y)| (x ^ y).count_ones())
            .sum();
        assert_eq!(flipped, 1, "packet {i}: {:?}", a.payload);
    }
    assert_eq!(s.corrupted, 44);
}

#[test]
fn simnet_delay_holds_packets_until_virtual_time_passes() {
    let p = VirtualPlatform::new(1);
    let net = p.use_simnet(1);
    net.set_knobs(SimKnobs {
        delay: Duration::from_millis(3),
        ..SimKnobs::default()
    });
    let ib = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("10.0.0.1:4791"), Inbox::new(p.clone()))
        .unwrap();
    let _b = p.open_carrier(addr("10.0.0.2:4791"), ib.clone()).unwrap();
    let sent_at = p.now();
    a.send(addr("10.0.0.2:4791"), b"x").unwrap();
    p.advance(Duration::from_millis(2));
    assert_eq!(ib.len(), 0, "arrived before its delay");
    p.advance(Duration::from_millis(2));
    let got = ib.take();
    assert_eq!(got.len(), 1);
    assert_eq!(
        got[0].at,
        sent_at.saturating_add(Duration::from_millis(3)).as_nanos()
    );
}

#[test]
fn simnet_filter_drops_the_nth_matching_packet_in_one_direction_only() {
    let p = VirtualPlatform::new(1);
    let net: SimNet = p.use_simnet(1);
    let (a_ip, b_ip): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    // Drop the 2nd packet a->b whose first byte is 0x42 (say, the 2nd REQ).
    let f = net.drop_nth(
        Some(a_ip),
        Some(b_ip),
        2,
        Box::new(|_, _, d| d.first() == Some(&0x42)),
    );
    let (ia, ib) = (Inbox::new(p.clone()), Inbox::new(p.clone()));
    let a = p.open_carrier(addr("10.0.0.1:4791"), ia.clone()).unwrap();
    let b = p.open_carrier(addr("10.0.0.2:4791"), ib.clone()).unwrap();
    for i in 0..4u8 {
        a.send(b.local_addr(), &[0x42, i]).unwrap();
        a.send(b.local_addr(), &[0x10, i]).unwrap();
        b.send(a.local_addr(), &[0x42, i]).unwrap();
    }
    p.run_until_idle();
    let to_b: Vec<Vec<u8>> = ib.take().into_iter().map(|a| a.payload).collect();
    assert_eq!(to_b.len(), 7);
    assert!(!to_b.contains(&vec![0x42, 1]), "the 2nd match got through");
    assert!(
        to_b.contains(&vec![0x42, 0])
            && to_b.contains(&vec![0x42, 2])
            && to_b.contains(&vec![0x42, 3])
    );
    assert_eq!(ia.len(), 4, "the other direction was filtered");
    assert_eq!(net.filter_hit(f), 2);
    assert_eq!(net.stats().filtered, 1);
}

#[test]
fn simnet_rejects_a_taken_address_and_frees_it_on_drop() {
    let p = VirtualPlatform::new(1);
    p.use_simnet(1);
    let inbox = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("10.0.0.1:4791"), inbox.clone())
        .unwrap();
    assert_eq!(
        p.open_carrier(addr("10.0.0.1:4791"), inbox.clone()).err(),
        Some(CarrierError::AddressInUse)
    );
    drop(a);
    assert!(p.open_carrier(addr("10.0.0.1:4791"), inbox).is_ok());
}

#[test]
fn simnet_carrier_dropped_with_deliveries_in_flight_never_calls_its_sink() {
    let p = VirtualPlatform::new(1);
    let net = p.use_simnet(1);
    net.set_knobs(SimKnobs {
        delay: Duration::from_millis(1),
        ..SimKnobs::default()
    });
    let ib = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("10.0.0.1:4791"), Inbox::new(p.clone()))
        .unwrap();
    let b = p.open_carrier(addr("10.0.0.2:4791"), ib.clone()).unwrap();
    a.send(b.local_addr(), b"late").unwrap();
    drop(b);
    p.run_until_idle();
    assert_eq!(ib.len(), 0);
}

// ---------------------------------------------------------------- UDP carrier

fn isolated() {
    netns::isolate_current_thread().expect("a private network namespace (run as root)");
}

#[test]
fn udp_ipv4_sends_id_zero_with_df_and_the_raw_path_sees_the_header() {
    isolated();
    let p = HostedPlatform::new("udp4");
    let ib = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("127.0.0.1:4791"), Inbox::new(p.clone()))
        .unwrap();
    let b = p.open_carrier(addr("127.0.0.2:4791"), ib.clone()).unwrap();
    assert!(
        b.rx_icrc_verifiable(),
        "raw receive not active although we run as root"
    );
    assert_eq!(a.tx_ipv4(), Some(TxIpv4::ZERO_ID_DF));
    for i in 0..3u8 {
        a.send(b.local_addr(), &[i; 40]).unwrap();
    }
    assert!(wait_for(|| ib.len() == 3));
    for got in ib.take() {
        assert_eq!(got.src, addr("127.0.0.1:4791"));
        assert_eq!(got.dst, addr("127.0.0.2:4791"));
        assert_eq!(
            got.ip,
            RxIp::V4(softroce::os::Ipv4RxFields {
                ihl: 5,
                total_length: 68,
                identification: 0,
                flags_fragment: 0x4000
            })
        );
    }
}

#[test]
fn udp_raw_path_reports_the_non_zero_ids_of_an_ordinary_socket() {
    // What rxe's packets look like: a sender that does not set PMTUDISC_DO
    // gets kernel-chosen non-zero IDs; the raw path must report them as is
    // (so the ID-0 result above is measured, not assumed).
    isolated();
    let p = HostedPlatform::new("udp4raw");
    let ib = Inbox::new(p.clone());
    let b = p.open_carrier(addr("127.0.0.2:4791"), ib.clone()).unwrap();
    assert!(b.rx_icrc_verifiable());
    let plain = UdpSocket::bind("127.0.0.1:0").unwrap();
    for _ in 0..3 {
        plain.send_to(b"rxe-like", "127.0.0.2:4791").unwrap();
    }
    assert!(wait_for(|| ib.len() == 3));
    let ids: Vec<u16> = ib
        .take()
        .into_iter()
        .map(|a| match a.ip {
            RxIp::V4(f) => f.identification,
            other => panic!("{other:?}"),
        })
        .collect();
    assert!(ids.iter().any(|&id| id != 0), "ids {ids:?}");
}

#[test]
fn udp_ipv4_without_raw_socket_reports_unverifiable() {
    isolated();
    let p = HostedPlatform::new("udp4plain");
    p.set_raw_receive(RawReceive::Off);
    let ib = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("127.0.0.1:4791"), Inbox::new(p.clone()))
        .unwrap();
    let b = p.open_carrier(addr("127.0.0.2:4791"), ib.clone()).unwrap();
    assert!(!b.rx_icrc_verifiable());
    a.send(b.local_addr(), b"hello").unwrap();
    assert!(wait_for(|| ib.len() == 1));
    let got = ib.take().remove(0);
    assert_eq!(
        (got.ip, got.payload),
        (RxIp::V4Unverifiable, b"hello".to_vec())
    );
}

#[test]
fn udp_ipv6_reports_payload_length_and_destination() {
    isolated();
    let p = HostedPlatform::new("udp6");
    let ib = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("[::1]:4792"), Inbox::new(p.clone()))
        .unwrap();
    // Bound to the wildcard: the destination comes from IPV6_PKTINFO.
    let b = p.open_carrier(addr("[::]:4791"), ib.clone()).unwrap();
    assert_eq!(a.tx_ipv4(), None);
    a.send(addr("[::1]:4791"), &[7; 21]).unwrap();
    assert!(wait_for(|| ib.len() == 1));
    let got = ib.take().remove(0);
    assert_eq!(got.ip, RxIp::V6 { payload_length: 29 });
    assert_eq!(got.dst, addr("[::1]:4791"));
    assert_eq!(got.src, addr("[::1]:4792"));
    drop(b);
}

/// rxe sends RoCEv2 over IPv6 with UDP checksum 0 (ROCE-FACTS §1.1); a
/// plain IPv6 UDP socket has the kernel drop those (RFC 8200 requires a
/// checksum unless the socket opts in with `UDP_NO_CHECK6_RX`). Here a
/// sender with `UDP_NO_CHECK6_TX` puts a zero checksum on the wire and the
/// carrier must still deliver it. (Found live: no rxe packet ever arrived.)
#[test]
fn udp_ipv6_accepts_zero_checksum_datagrams_as_rxe_sends_them() {
    isolated();
    let p = HostedPlatform::new("udp6zero");
    let ib = Inbox::new(p.clone());
    let _c = p.open_carrier(addr("[::1]:4791"), ib.clone()).unwrap();
    let tx = UdpSocket::bind("[::1]:4800").unwrap();
    // SAFETY: a live socket, an int option of its size.
    let r = unsafe {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        libc::setsockopt(
            tx.as_raw_fd(),
            libc::SOL_UDP,
            101, // UDP_NO_CHECK6_TX
            (&one as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(
        r,
        0,
        "UDP_NO_CHECK6_TX: {}",
        std::io::Error::last_os_error()
    );
    let snmp = || udp6_csum_errors();
    let before = snmp();
    tx.send_to(&[9; 33], "[::1]:4791").unwrap();
    assert!(
        wait_for(|| ib.len() == 1),
        "zero-checksum IPv6 datagram not delivered (Udp6InCsumErrors {} -> {})",
        before,
        snmp()
    );
    let got = ib.take().remove(0);
    assert_eq!(got.ip, RxIp::V6 { payload_length: 41 });
    assert_eq!(got.payload, vec![9; 33]);
    assert_eq!(snmp(), before, "the kernel counted a checksum error");
}

/// The carrier's IPv6 packets carry flow label 0 (as rxe's, as the frame
/// carrier's, as our REQs advertise), not Linux's automatic per-flow label.
/// Seen on the wire of `lo` through a packet socket.
#[test]
fn udp_ipv6_sends_flow_label_zero() {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    isolated();
    // SAFETY: plain syscalls on descriptors we own.
    let tap = unsafe {
        let fd = libc::socket(
            libc::AF_PACKET,
            libc::SOCK_DGRAM,
            i32::from((libc::ETH_P_IPV6 as u16).to_be()),
        );
        assert!(
            fd >= 0,
            "packet socket: {}",
            std::io::Error::last_os_error()
        );
        let tv = libc::timeval {
            tv_sec: 2,
            tv_usec: 0,
        };
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_RCVTIMEO,
            (&tv as *const libc::timeval).cast(),
            std::mem::size_of::<libc::timeval>() as libc::socklen_t,
        );
        OwnedFd::from_raw_fd(fd)
    };
    let p = HostedPlatform::new("udp6fl");
    let a = p
        .open_carrier(addr("[::1]:4792"), Inbox::new(p.clone()))
        .unwrap();
    let ib = Inbox::new(p.clone());
    let _b = p.open_carrier(addr("[::1]:4791"), ib.clone()).unwrap();
    a.send(addr("[::1]:4791"), &[5; 40]).unwrap();
    assert!(wait_for(|| ib.len() == 1));
    let mut buf = [0u8; 2048];
    loop {
        // SAFETY: a buffer of its length.
        let n = unsafe { libc::recv(tap.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
        assert!(n > 0, "no IPv6 packet seen on lo");
        let h = &buf[..n as usize];
        // Ours: UDP (next header 17) from port 4792 to 4791.
        if h.len() >= 48 && h[6] == 17 && h[40..44] == [0x12, 0xb8, 0x12, 0xb7] {
            let flow = u32::from_be_bytes([0, h[1] & 0x0f, h[2], h[3]]);
            assert_eq!(flow, 0, "flow label 0x{flow:05x}");
            break;
        }
    }
}

/// `Udp6InCsumErrors` of this thread's namespace.
fn udp6_csum_errors() -> u64 {
    std::fs::read_to_string("/proc/thread-self/net/snmp6")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("Udp6InCsumErrors"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn udp_two_platform_instances_on_4791_echo_from_dispatch() {
    isolated();
    let (p1, p2) = (HostedPlatform::new("one"), HostedPlatform::new("two"));
    let i1 = Inbox::new(p1.clone());
    let c1 = p1.open_carrier(addr("127.0.0.1:4791"), i1.clone()).unwrap();
    // p2's sink echoes every datagram from DISPATCH_LEVEL through its own carrier.
    struct Echo(Mutex<Option<Arc<dyn Carrier>>>);
    impl DatagramSink for Echo {
        fn on_datagram(&self, d: &Received<'_>) {
            if let Some(c) = self.0.lock().unwrap().as_ref() {
                c.send(d.src, d.payload).unwrap();
            }
        }
    }
    let echo = Arc::new(Echo(Mutex::new(None)));
    let c2: Arc<dyn Carrier> = Arc::from(
        p2.open_carrier(addr("127.0.0.2:4791"), echo.clone())
            .unwrap(),
    );
    *echo.0.lock().unwrap() = Some(c2.clone());
    c1.send(c2.local_addr(), b"ping").unwrap();
    assert!(wait_for(|| i1.len() == 1));
    let got = i1.take().remove(0);
    assert_eq!(
        (got.src, got.payload),
        (addr("127.0.0.2:4791"), b"ping".to_vec())
    );
    *echo.0.lock().unwrap() = None;
    irql_books_clean_for("Carrier::send");
}

fn irql_books_clean_for(what: &str) {
    assert!(rules_for(what).is_empty(), "{:?}", rules_for(what));
}

#[test]
fn udp_open_errors_map_to_carrier_errors_and_close_frees_the_port() {
    isolated();
    let p = HostedPlatform::new("udperr");
    let inbox = Inbox::new(p.clone());
    let a = p
        .open_carrier(addr("127.0.0.1:4791"), inbox.clone())
        .unwrap();
    assert_eq!(
        p.open_carrier(addr("127.0.0.1:4791"), inbox.clone()).err(),
        Some(CarrierError::AddressInUse)
    );
    assert_eq!(
        p.open_carrier(addr("192.0.2.1:4791"), inbox.clone()).err(),
        Some(CarrierError::AddressNotAvailable)
    );
    assert_eq!(
        a.send(addr("[::1]:4791"), b"x"),
        Err(softroce::os::SendError::Unreachable)
    );
    drop(a);
    let again = p.open_carrier(addr("127.0.0.1:4791"), inbox);
    assert!(again.is_ok(), "port not freed on drop: {:?}", again.err());
}
