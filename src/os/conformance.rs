//! The platform conformance suite: checks written once against
//! `&dyn Platform` through a small [`Harness`], run by `tests/os_suite.rs`
//! on the hosted real-time and virtual-clock platforms, and meant to run
//! unchanged on the kernel platform from a test driver (it is `no_std` and
//! returns [`Failure`] instead of panicking). Owns only the checks.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::net::SocketAddr;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use core::time::Duration;

use super::{
    current_irql, Carrier, DatagramSink, DeferredRoutine, Instant, Irql, Platform, PoolTag,
    Received, RxIp, SpinLock,
};

/// A failed check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Failure {
    pub check: &'static str,
    pub what: &'static str,
}

/// What the suite needs from whoever runs it besides the platform.
pub trait Harness {
    /// The platform under test.
    fn platform(&self) -> &dyn Platform;
    /// Lets deferred work run until `done()` holds, within a generous bound
    /// (virtual clock: run pending work and advance; real: wait). Returns
    /// whether `done()` became true.
    fn wait_until(&self, done: &dyn Fn() -> bool) -> bool;
    /// Lets `d` of platform time pass, running what falls due.
    fn pass_time(&self, d: Duration);
    /// Whether work runs only when the harness lets it (virtual clock), so
    /// races are impossible and exact coalescing can be checked.
    fn deterministic(&self) -> bool;
    /// Two local addresses for a carrier to talk between, if the platform
    /// can carry datagrams here.
    fn carrier_pair(&self) -> Option<(SocketAddr, SocketAddr)>;
}

macro_rules! ensure {
    ($check:expr, $cond:expr, $what:expr) => {
        if !$cond {
            return Err(Failure {
                check: $check,
                what: $what,
            });
        }
    };
}

/// One check of the suite.
pub type Check = fn(&dyn Harness) -> Result<(), Failure>;

/// Every check, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("clock_monotonic", clock_monotonic),
    ("random_differs", random_differs),
    ("dpc_runs_at_dispatch", dpc_runs_at_dispatch),
    (
        "timers_fire_in_deadline_order",
        timers_fire_in_deadline_order,
    ),
    ("timer_cancel_and_reset", timer_cancel_and_reset),
    ("lock_exclusion", lock_exclusion),
    ("pool_balances", pool_balances),
    ("carrier_both_ways", carrier_both_ways),
];

/// Runs every check; the first failure ends the run.
pub fn run_all(h: &dyn Harness) -> Result<(), Failure> {
    CHECKS.iter().try_for_each(|(_, check)| check(h))
}

/// Readings of the clock never go back, and time passes.
pub fn clock_monotonic(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "clock_monotonic";
    let p = h.platform();
    let start = p.now();
    let mut last = start;
    for _ in 0..10_000 {
        let t = p.now();
        ensure!(C, t >= last, "the clock went backwards");
        last = t;
    }
    h.pass_time(Duration::from_millis(2));
    let after = p.now();
    ensure!(
        C,
        after.saturating_duration_since(start) >= Duration::from_millis(2),
        "2 ms passed but the clock moved less"
    );
    Ok(())
}

/// Two draws differ and are not all zero.
pub fn random_differs(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "random_differs";
    let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
    h.platform().fill_random(&mut a);
    h.platform().fill_random(&mut b);
    ensure!(C, a != [0; 32] && b != [0; 32], "all-zero random bytes");
    ensure!(C, a != b, "two draws were equal");
    Ok(())
}

struct Recorder {
    runs: AtomicU32,
    worst_irql: AtomicU32,
    best_irql: AtomicU32,
    last_now: AtomicU64,
    order: SpinLock<Vec<u32>>,
    id: u32,
}

impl Recorder {
    fn new(id: u32) -> Arc<Recorder> {
        Arc::new(Recorder {
            runs: AtomicU32::new(0),
            worst_irql: AtomicU32::new(0),
            best_irql: AtomicU32::new(u32::MAX),
            last_now: AtomicU64::new(0),
            order: SpinLock::new(Vec::new()),
            id,
        })
    }
    fn ran_at_dispatch_only(&self) -> bool {
        let d = Irql::Dispatch as u32;
        self.worst_irql.load(Ordering::SeqCst) == d && self.best_irql.load(Ordering::SeqCst) == d
    }
}

/// A routine that records its runs (and appends its id to a shared log).
struct Probe {
    rec: Arc<Recorder>,
    log: Option<Arc<Recorder>>,
}

impl DeferredRoutine for Probe {
    fn run(&self, now: Instant) {
        let irql = current_irql() as u32;
        self.rec.worst_irql.fetch_max(irql, Ordering::SeqCst);
        self.rec.best_irql.fetch_min(irql, Ordering::SeqCst);
        self.rec.last_now.store(now.as_nanos(), Ordering::SeqCst);
        if let Some(log) = &self.log {
            log.order.lock().push(self.rec.id);
        }
        self.rec.runs.fetch_add(1, Ordering::SeqCst);
    }
}

fn probe(rec: &Arc<Recorder>, log: Option<&Arc<Recorder>>) -> Arc<dyn DeferredRoutine> {
    Arc::new(Probe {
        rec: rec.clone(),
        log: log.cloned(),
    })
}

/// A queued DPC runs once, at DISPATCH_LEVEL; queueing twice before it runs
/// coalesces (checked where the harness is deterministic).
pub fn dpc_runs_at_dispatch(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "dpc_runs_at_dispatch";
    let p = h.platform();
    let rec = Recorder::new(0);
    let dpc = p.new_dpc(probe(&rec, None)).map_err(|_| Failure {
        check: C,
        what: "new_dpc failed",
    })?;
    ensure!(C, dpc.queue(), "first queue reported already queued");
    if h.deterministic() {
        ensure!(
            C,
            !dpc.queue(),
            "second queue before the run did not coalesce"
        );
    }
    ensure!(
        C,
        h.wait_until(&|| rec.runs.load(Ordering::SeqCst) >= 1),
        "DPC never ran"
    );
    h.platform().flush_deferred();
    if h.deterministic() {
        ensure!(
            C,
            rec.runs.load(Ordering::SeqCst) == 1,
            "coalesced DPC ran twice"
        );
    }
    ensure!(
        C,
        rec.ran_at_dispatch_only(),
        "DPC routine not at DISPATCH_LEVEL"
    );
    ensure!(C, current_irql() == Irql::Passive, "caller's IRQL changed");
    let before = rec.runs.load(Ordering::SeqCst);
    ensure!(
        C,
        dpc.queue(),
        "queue after the run reported already queued"
    );
    ensure!(
        C,
        h.wait_until(&|| rec.runs.load(Ordering::SeqCst) > before),
        "re-queued DPC never ran"
    );
    Ok(())
}

/// Timers set out of order fire in deadline order, at or after their deadline.
pub fn timers_fire_in_deadline_order(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "timers_fire_in_deadline_order";
    let p = h.platform();
    let log = Recorder::new(99);
    let recs: Vec<Arc<Recorder>> = (0..3).map(Recorder::new).collect();
    let mut timers = Vec::new();
    for r in &recs {
        timers.push(p.new_timer(probe(r, Some(&log))).map_err(|_| Failure {
            check: C,
            what: "new_timer failed",
        })?);
    }
    let base = p.now();
    // Deadlines: timer 0 at +60 ms, timer 1 at +20 ms, timer 2 at +40 ms.
    let offsets = [60u64, 20, 40];
    for (t, ms) in timers.iter().zip(offsets) {
        ensure!(
            C,
            !t.set(base.saturating_add(Duration::from_millis(ms))),
            "fresh timer reported armed"
        );
    }
    ensure!(
        C,
        h.wait_until(&|| log.order.lock().len() == 3),
        "timers did not all fire"
    );
    ensure!(
        C,
        *log.order.lock() == [1, 2, 0],
        "timers fired out of deadline order"
    );
    for (r, ms) in recs.iter().zip(offsets) {
        let due = base.saturating_add(Duration::from_millis(ms)).as_nanos();
        ensure!(
            C,
            r.last_now.load(Ordering::SeqCst) >= due,
            "a timer fired before its deadline"
        );
        ensure!(
            C,
            r.ran_at_dispatch_only(),
            "timer routine not at DISPATCH_LEVEL"
        );
        ensure!(
            C,
            r.runs.load(Ordering::SeqCst) == 1,
            "a one-shot timer fired twice"
        );
    }
    Ok(())
}

/// A cancelled timer never fires; re-setting an armed timer moves it (it
/// fires once). Judged against a sentinel timer with a later deadline, not
/// against the wall clock.
pub fn timer_cancel_and_reset(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "timer_cancel_and_reset";
    let p = h.platform();
    let log = Recorder::new(99);
    let (cancelled, moved, sentinel) = (Recorder::new(0), Recorder::new(1), Recorder::new(2));
    let fail = |_| Failure {
        check: C,
        what: "new_timer failed",
    };
    let t_cancel = p.new_timer(probe(&cancelled, Some(&log))).map_err(fail)?;
    let t_move = p.new_timer(probe(&moved, Some(&log))).map_err(fail)?;
    let t_sentinel = p.new_timer(probe(&sentinel, Some(&log))).map_err(fail)?;
    let base = p.now();
    let at = |ms| base.saturating_add(Duration::from_millis(ms));
    t_cancel.set(at(20));
    t_move.set(at(10));
    t_sentinel.set(at(60));
    ensure!(
        C,
        t_cancel.cancel(),
        "cancel of an armed timer returned false"
    );
    ensure!(C, !t_cancel.cancel(), "second cancel returned true");
    ensure!(
        C,
        t_move.set(at(40)),
        "re-set of an armed timer returned false"
    );
    ensure!(
        C,
        h.wait_until(&|| sentinel.runs.load(Ordering::SeqCst) == 1),
        "sentinel never fired"
    );
    ensure!(
        C,
        cancelled.runs.load(Ordering::SeqCst) == 0,
        "a cancelled timer fired"
    );
    ensure!(
        C,
        moved.runs.load(Ordering::SeqCst) == 1,
        "a moved timer fired other than once"
    );
    ensure!(
        C,
        *log.order.lock() == [1, 2],
        "moved timer did not fire at its new deadline"
    );
    ensure!(C, !t_move.cancel(), "cancel after firing returned true");
    drop((t_cancel, t_move, t_sentinel));
    Ok(())
}

struct Counter {
    lock: SpinLock<u64>,
    done: AtomicU32,
    rounds: u64,
    irql_inside_ok: AtomicU32,
}

fn bump(c: &Counter) {
    for _ in 0..c.rounds {
        let mut g = c.lock.lock();
        if current_irql() != Irql::Dispatch {
            c.irql_inside_ok.store(0, Ordering::SeqCst);
        }
        // A read-yield-write that loses updates unless the lock excludes.
        let v = *g;
        core::hint::spin_loop();
        *g = v + 1;
    }
}

impl DeferredRoutine for Counter {
    fn run(&self, _now: Instant) {
        bump(self);
        self.done.fetch_add(1, Ordering::SeqCst);
    }
}

/// The spin lock excludes (a DPC and the caller both count under it), runs
/// its holder at DISPATCH_LEVEL, and restores the caller's IRQL.
pub fn lock_exclusion(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "lock_exclusion";
    let p = h.platform();
    let c = Arc::new(Counter {
        lock: SpinLock::new(0),
        done: AtomicU32::new(0),
        rounds: 20_000,
        irql_inside_ok: AtomicU32::new(1),
    });
    let dpc = p.new_dpc(c.clone()).map_err(|_| Failure {
        check: C,
        what: "new_dpc failed",
    })?;
    dpc.queue();
    bump(&c);
    ensure!(
        C,
        current_irql() == Irql::Passive,
        "IRQL not restored after release"
    );
    ensure!(
        C,
        h.wait_until(&|| c.done.load(Ordering::SeqCst) == 1),
        "DPC never ran"
    );
    ensure!(
        C,
        *c.lock.lock() == 2 * c.rounds,
        "lost updates: the lock did not exclude"
    );
    ensure!(
        C,
        c.irql_inside_ok.load(Ordering::SeqCst) == 1,
        "holder not at DISPATCH_LEVEL"
    );
    Ok(())
}

/// Charges and releases balance per tag; a limit refuses charges.
pub fn pool_balances(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "pool_balances";
    let books = h.platform().pool();
    let (a, b) = (PoolTag::new(*b"Tst1"), PoolTag::new(*b"Tst2"));
    let before = books.total_bytes();
    ensure!(
        C,
        books.charge(a, 100).is_ok() && books.charge(a, 50).is_ok(),
        "charge failed"
    );
    ensure!(C, books.charge(b, 7).is_ok(), "charge failed");
    let u = books.outstanding(a);
    ensure!(C, u.bytes == 150 && u.objects == 2, "per-tag usage wrong");
    ensure!(C, books.total_bytes() == before + 157, "total wrong");
    ensure!(
        C,
        books.release(a, 100) && books.release(a, 50) && books.release(b, 7),
        "release failed"
    );
    ensure!(C, !books.release(b, 1), "over-release was accepted");
    ensure!(
        C,
        books.outstanding(a).bytes == 0 && books.outstanding(b).objects == 0,
        "not balanced"
    );
    ensure!(
        C,
        books.total_bytes() == before,
        "total not back to its start"
    );
    books.set_limit(before + 10);
    let refused = books.charge(a, 11).is_err();
    books.set_limit(usize::MAX);
    ensure!(C, refused, "the limit did not refuse a charge");
    ensure!(
        C,
        books.total_bytes() == before,
        "a refused charge was counted"
    );
    Ok(())
}

struct Got {
    src: SocketAddr,
    dst: SocketAddr,
    ip: RxIp,
    payload: Vec<u8>,
    irql: Irql,
}

#[derive(Default)]
struct Inbox {
    got: SpinLock<Vec<Got>>,
    count: AtomicU32,
}

impl DatagramSink for Inbox {
    fn on_datagram(&self, d: &Received<'_>) {
        self.got.lock().push(Got {
            src: d.src,
            dst: d.dst,
            ip: d.ip,
            payload: d.payload.to_vec(),
            irql: current_irql(),
        });
        self.count.fetch_add(1, Ordering::SeqCst);
    }
}

fn check_arrival(
    from: &dyn Carrier,
    to: &dyn Carrier,
    inbox: &Inbox,
    sent: &[u8],
) -> Result<(), &'static str> {
    let got = inbox.got.lock();
    let g = got.first().ok_or("nothing arrived")?;
    if got.len() != 1 {
        return Err("more than one datagram arrived");
    }
    if g.payload != sent {
        return Err("payload differs");
    }
    if g.src.ip() != from.local_addr().ip() || g.dst != to.local_addr() {
        return Err("src or dst address wrong");
    }
    if g.irql != Irql::Dispatch {
        return Err("sink not called at DISPATCH_LEVEL");
    }
    match g.ip {
        RxIp::V4(f) => {
            let tx = from
                .tx_ipv4()
                .ok_or("IPv4 sender does not say what ID it sends")?;
            if f.identification != tx.identification || f.flags_fragment != tx.flags_fragment {
                return Err("received IPv4 ID/flags differ from the sender's promise");
            }
            if f.ihl != 5 || usize::from(f.total_length) != sent.len() + 28 {
                return Err("IPv4 header length or total length wrong");
            }
        }
        RxIp::V6 { payload_length } => {
            if usize::from(payload_length) != sent.len() + 8 {
                return Err("IPv6 payload length wrong");
            }
        }
        RxIp::V4Unverifiable => {
            if to.rx_icrc_verifiable() {
                return Err("carrier claims verifiable but delivered V4Unverifiable");
            }
        }
    }
    Ok(())
}

/// Two carriers exchange a datagram each way with the right addresses, IP
/// fields and payload, delivered at DISPATCH_LEVEL.
pub fn carrier_both_ways(h: &dyn Harness) -> Result<(), Failure> {
    const C: &str = "carrier_both_ways";
    let Some((a_addr, b_addr)) = h.carrier_pair() else {
        return Ok(());
    };
    let p = h.platform();
    let (ia, ib) = (Arc::new(Inbox::default()), Arc::new(Inbox::default()));
    let open = |addr, inbox: &Arc<Inbox>| -> Result<Box<dyn Carrier>, Failure> {
        p.open_carrier(addr, inbox.clone()).map_err(|_| Failure {
            check: C,
            what: "open_carrier failed",
        })
    };
    let a = open(a_addr, &ia)?;
    let b = open(b_addr, &ib)?;
    let to_b: Vec<u8> = (0..100u8).collect();
    let to_a: Vec<u8> = (0..33u8).map(|x| x ^ 0x5a).collect();
    ensure!(C, a.send(b.local_addr(), &to_b).is_ok(), "send a->b failed");
    ensure!(C, b.send(a.local_addr(), &to_a).is_ok(), "send b->a failed");
    let arrived = h.wait_until(&|| {
        ia.count.load(Ordering::SeqCst) >= 1 && ib.count.load(Ordering::SeqCst) >= 1
    });
    ensure!(C, arrived, "datagrams did not arrive both ways");
    check_arrival(&*a, &*b, &ib, &to_b).map_err(|what| Failure { check: C, what })?;
    check_arrival(&*b, &*a, &ia, &to_a).map_err(|what| Failure { check: C, what })?;
    Ok(())
}
