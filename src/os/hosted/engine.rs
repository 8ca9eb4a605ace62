//! The hosted DPC/timer engine: one FIFO of queued DPCs and datagram
//! deliveries, and one deadline-ordered table of armed timers and delayed
//! deliveries. In real mode a worker thread runs them against the wall
//! clock; in virtual mode nothing runs until the test calls `run_pending` /
//! `advance` / `run_until_idle`, and time moves only then. Everything runs at
//! DISPATCH_LEVEL in the IRQL books. Owns scheduling only, not sockets.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::JoinHandle;
use std::time::Duration;

use super::irql::run_at_dispatch;
use crate::os::{DatagramSink, DeferredRoutine, Dpc, Instant, Received, RxIp, Timer};

/// A received datagram waiting for its DISPATCH_LEVEL delivery.
pub(crate) struct Delivery {
    pub sink: Arc<dyn DatagramSink>,
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ip: RxIp,
    pub payload: Vec<u8>,
}

impl Delivery {
    fn deliver(self) {
        self.sink.on_datagram(&Received {
            src: self.src,
            dst: self.dst,
            ip: self.ip,
            payload: &self.payload,
        });
    }
}

/// Takes whole received Ethernet frames at DISPATCH_LEVEL (the hosted
/// frame link's `FrameCarrier::on_frame`).
pub(crate) trait FrameSink: Send + Sync {
    /// One frame, link header first. Must not block.
    fn on_frame(&self, frame: &[u8]);
}

/// A received Ethernet frame waiting for its DISPATCH_LEVEL delivery.
pub(crate) struct FrameDelivery {
    pub sink: Arc<dyn FrameSink>,
    pub frame: Vec<u8>,
}

enum Work {
    Dpc(Arc<DpcShared>),
    Timer(Arc<dyn DeferredRoutine>),
    Deliver(Delivery),
    Frame(FrameDelivery),
}

enum Scheduled {
    Timer(u64),
    Deliver(Delivery),
}

struct DpcShared {
    routine: Arc<dyn DeferredRoutine>,
    queued: AtomicBool,
}

#[derive(Default)]
struct State {
    fifo: VecDeque<Work>,
    /// (deadline ns, sequence) -> what fires.
    table: BTreeMap<(u64, u64), Scheduled>,
    /// timer id -> its key in `table` while armed.
    armed: HashMap<u64, (u64, u64)>,
    routines: HashMap<u64, Arc<dyn DeferredRoutine>>,
    seq: u64,
    /// Work taken out of the queues and still running.
    running: usize,
    stop: bool,
}

enum Clock {
    Real(std::time::Instant),
    Virtual(AtomicU64),
}

pub(crate) struct Engine {
    state: Mutex<State>,
    cv: Condvar,
    clock: Clock,
    worker: Mutex<Option<JoinHandle<()>>>,
}

/// Most items one `run_pending` call runs before it declares a livelock.
const RUN_LIMIT: usize = 1_000_000;

/// Where virtual time starts: not zero, so code that treats 0 as "unset" shows up.
pub const VIRTUAL_EPOCH: Instant = Instant::from_nanos(1_000_000_000);

impl Engine {
    /// A real-time engine with its worker thread.
    pub(crate) fn real(name: &str) -> Arc<Engine> {
        let e = Arc::new(Engine {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            clock: Clock::Real(std::time::Instant::now()),
            worker: Mutex::new(None),
        });
        let weak = Arc::downgrade(&e);
        let handle = std::thread::Builder::new()
            .name(format!("{name}-dpc"))
            .spawn(move || worker(weak))
            .ok();
        *e.worker.lock().unwrap_or_else(|p| p.into_inner()) = handle;
        e
    }

    /// A virtual-clock engine: the caller drives it.
    pub(crate) fn virtual_clock() -> Arc<Engine> {
        Arc::new(Engine {
            state: Mutex::new(State::default()),
            cv: Condvar::new(),
            clock: Clock::Virtual(AtomicU64::new(VIRTUAL_EPOCH.as_nanos())),
            worker: Mutex::new(None),
        })
    }

    pub(crate) fn is_virtual(&self) -> bool {
        matches!(self.clock, Clock::Virtual(_))
    }

    pub(crate) fn now(&self) -> Instant {
        match &self.clock {
            Clock::Real(origin) => {
                Instant::from_nanos(u64::try_from(origin.elapsed().as_nanos()).unwrap_or(u64::MAX))
            }
            Clock::Virtual(ns) => Instant::from_nanos(ns.load(Ordering::Acquire)),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn push(&self, w: Work) {
        let mut s = self.lock();
        if s.stop {
            return;
        }
        s.fifo.push_back(w);
        drop(s);
        self.cv.notify_all();
    }

    /// Queues a datagram for delivery at DISPATCH_LEVEL, as soon as possible.
    pub(crate) fn deliver_now(&self, d: Delivery) {
        self.push(Work::Deliver(d));
    }

    /// Queues a received frame for delivery at DISPATCH_LEVEL, as soon as possible.
    pub(crate) fn deliver_frame_now(&self, f: FrameDelivery) {
        self.push(Work::Frame(f));
    }

    /// Queues a datagram for delivery at `at`.
    pub(crate) fn deliver_at(&self, at: Instant, d: Delivery) {
        let mut s = self.lock();
        if s.stop {
            return;
        }
        s.seq += 1;
        let key = (at.as_nanos(), s.seq);
        s.table.insert(key, Scheduled::Deliver(d));
        drop(s);
        self.cv.notify_all();
    }

    pub(crate) fn new_dpc(self: &Arc<Self>, routine: Arc<dyn DeferredRoutine>) -> Box<dyn Dpc> {
        Box::new(HostedDpc {
            engine: Arc::downgrade(self),
            shared: Arc::new(DpcShared {
                routine,
                queued: AtomicBool::new(false),
            }),
        })
    }

    pub(crate) fn new_timer(self: &Arc<Self>, routine: Arc<dyn DeferredRoutine>) -> Box<dyn Timer> {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        self.lock().routines.insert(id, routine);
        Box::new(HostedTimer {
            engine: Arc::downgrade(self),
            id,
        })
    }

    /// Takes the next runnable item: the FIFO first, then the earliest
    /// scheduled item due at `now`.
    fn take(&self, s: &mut State, now: u64) -> Option<Work> {
        if let Some(w) = s.fifo.pop_front() {
            return Some(w);
        }
        let (&key, _) = s.table.iter().next()?;
        if key.0 > now {
            return None;
        }
        match s.table.remove(&key)? {
            Scheduled::Deliver(d) => Some(Work::Deliver(d)),
            Scheduled::Timer(id) => {
                s.armed.remove(&id);
                s.routines.get(&id).cloned().map(Work::Timer)
            }
        }
    }

    fn run(&self, w: Work) {
        let now = self.now();
        match w {
            Work::Dpc(d) => {
                d.queued.store(false, Ordering::Release);
                run_at_dispatch("DPC routine", || d.routine.run(now));
            }
            Work::Timer(r) => run_at_dispatch("timer routine", || r.run(now)),
            Work::Deliver(d) => run_at_dispatch("DatagramSink::on_datagram", || d.deliver()),
            Work::Frame(f) => {
                run_at_dispatch("FrameCarrier::on_frame", || f.sink.on_frame(&f.frame))
            }
        }
        let mut s = self.lock();
        s.running -= 1;
        drop(s);
        self.cv.notify_all();
    }

    /// Runs one item due at the current time on this thread. Returns whether
    /// there was one.
    fn run_one_due(&self) -> bool {
        let now = self.now().as_nanos();
        let mut s = self.lock();
        let Some(w) = self.take(&mut s, now) else {
            return false;
        };
        s.running += 1;
        drop(s);
        self.run(w);
        true
    }

    /// Virtual mode: runs queued and due work without moving time. Returns the
    /// number of items run.
    pub(crate) fn run_pending(&self) -> usize {
        let mut n = 0;
        while self.run_one_due() {
            n += 1;
            assert!(
                n <= RUN_LIMIT,
                "run_pending: more than {RUN_LIMIT} items without time passing (a DPC re-queues itself forever?)"
            );
        }
        n
    }

    fn set_virtual_now(&self, t: u64) {
        if let Clock::Virtual(ns) = &self.clock {
            ns.fetch_max(t, Ordering::AcqRel);
        }
    }

    fn next_deadline(&self) -> Option<u64> {
        self.lock().table.keys().next().map(|k| k.0)
    }

    /// Virtual mode: moves time forward by `d`, stopping at each deadline on
    /// the way to run what is due then (so a routine sees `now` = its deadline).
    pub(crate) fn advance(&self, d: Duration) -> usize {
        let target = self.now().saturating_add(d).as_nanos();
        let mut n = self.run_pending();
        while let Some(next) = self.next_deadline().filter(|&t| t <= target) {
            self.set_virtual_now(next);
            n += self.run_pending();
        }
        self.set_virtual_now(target);
        n + self.run_pending()
    }

    /// Virtual mode: runs everything, jumping time to each next deadline,
    /// until nothing is queued or armed. Panics after `limit` items (a timer
    /// that re-arms itself forever).
    pub(crate) fn run_until_idle(&self, limit: usize) -> usize {
        let mut n = self.run_pending();
        while let Some(next) = self.next_deadline() {
            self.set_virtual_now(next);
            n += self.run_pending();
            assert!(n <= limit, "run_until_idle: more than {limit} items ran");
        }
        n
    }

    /// Waits (real mode) or runs (virtual mode) until everything queued
    /// before the call has run.
    pub(crate) fn flush(&self) {
        if self.is_virtual() {
            self.run_pending();
            return;
        }
        let mut s = self.lock();
        let now = self.now().as_nanos();
        while !s.stop
            && (!s.fifo.is_empty()
                || s.running > 0
                || s.table.keys().next().is_some_and(|k| k.0 <= now))
        {
            s = self
                .cv
                .wait_timeout(s, Duration::from_millis(10))
                .map(|(g, _)| g)
                .unwrap_or_else(|p| p.into_inner().0);
        }
    }

    /// Stops the worker (real mode) and drops everything still queued.
    pub(crate) fn shutdown(&self) {
        let mut s = self.lock();
        s.stop = true;
        s.fifo.clear();
        s.table.clear();
        s.armed.clear();
        drop(s);
        self.cv.notify_all();
        let handle = self.worker.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(h) = handle {
            if h.thread().id() != std::thread::current().id() {
                let _ = h.join();
            }
        }
    }
}

fn worker(engine: Weak<Engine>) {
    loop {
        let Some(e) = engine.upgrade() else { return };
        let mut s = e.lock();
        if s.stop {
            return;
        }
        let now = e.now().as_nanos();
        if let Some(w) = e.take(&mut s, now) {
            s.running += 1;
            drop(s);
            e.run(w);
            continue;
        }
        // Sleep until the next deadline or new work (bounded, so a dropped
        // platform lets the thread go).
        let wait = s
            .table
            .keys()
            .next()
            .map(|k| Duration::from_nanos(k.0.saturating_sub(now)))
            .unwrap_or(Duration::from_millis(100))
            .min(Duration::from_millis(100));
        let _unused = e.cv.wait_timeout(s, wait);
    }
}

struct HostedDpc {
    engine: Weak<Engine>,
    shared: Arc<DpcShared>,
}

impl Dpc for HostedDpc {
    fn queue(&self) -> bool {
        crate::os::irql::assert_at_most(crate::os::Irql::Dispatch, "Dpc::queue");
        let Some(e) = self.engine.upgrade() else {
            return false;
        };
        let mut s = e.lock();
        if s.stop || self.shared.queued.swap(true, Ordering::AcqRel) {
            return false;
        }
        s.fifo.push_back(Work::Dpc(self.shared.clone()));
        drop(s);
        e.cv.notify_all();
        true
    }
}

impl Drop for HostedDpc {
    fn drop(&mut self) {
        if let Some(e) = self.engine.upgrade() {
            let mut s = e.lock();
            s.fifo
                .retain(|w| !matches!(w, Work::Dpc(d) if Arc::ptr_eq(d, &self.shared)));
        }
    }
}

struct HostedTimer {
    engine: Weak<Engine>,
    id: u64,
}

impl Timer for HostedTimer {
    fn set(&self, deadline: Instant) -> bool {
        crate::os::irql::assert_at_most(crate::os::Irql::Dispatch, "Timer::set");
        let Some(e) = self.engine.upgrade() else {
            return false;
        };
        let mut s = e.lock();
        let was = s.armed.remove(&self.id);
        if let Some(k) = was {
            s.table.remove(&k);
        }
        if !s.stop {
            s.seq += 1;
            let key = (deadline.as_nanos(), s.seq);
            s.table.insert(key, Scheduled::Timer(self.id));
            s.armed.insert(self.id, key);
        }
        drop(s);
        e.cv.notify_all();
        was.is_some()
    }

    fn cancel(&self) -> bool {
        crate::os::irql::assert_at_most(crate::os::Irql::Dispatch, "Timer::cancel");
        let Some(e) = self.engine.upgrade() else {
            return false;
        };
        let mut s = e.lock();
        match s.armed.remove(&self.id) {
            Some(k) => {
                s.table.remove(&k);
                true
            }
            None => false,
        }
    }
}

impl Drop for HostedTimer {
    fn drop(&mut self) {
        if let Some(e) = self.engine.upgrade() {
            let mut s = e.lock();
            if let Some(k) = s.armed.remove(&self.id) {
                s.table.remove(&k);
            }
            s.routines.remove(&self.id);
        }
    }
}
