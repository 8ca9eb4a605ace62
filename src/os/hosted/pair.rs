//! Test-only: joins two QPs (of hosted adapters) without the connection
//! manager, for data-path tests. [`pair_qps`] gives both QPs matching
//! connection parameters and, as each one's `PacketSink`, one direction of
//! a seeded lossy link (`transport::sim::Link`: drop, duplicate, reorder,
//! delay, corrupt). Each packet is sealed with a real ICRC over a synthetic
//! IPv4/UDP header, verified on arrival (corrupted frames are dropped),
//! parsed with `wire` and handed to the peer QP's `deliver` from a timer
//! routine on the peer's platform (DISPATCH_LEVEL, virtual time). Not part of
//! the provider: it allocates per packet. Must not be used by the core.

use std::sync::{Arc, Mutex, Weak};

use crate::abi::{
    NtStatus, NDK_QP, STATUS_CONNECTION_ACTIVE, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::ndk::datapath::{ConnectError, ConnectParams, Datapath, PacketSink};
use crate::ndk::object::{recover, Object};
use crate::ndk::qp::Qp;
use crate::os::{DeferredRoutine, Instant, Platform, SendError, Timer};
use crate::transport::sim::{Link, LinkConfig, LinkStats, SimRng};
use crate::transport::{self as t, Mtu};
use crate::wire::PacketRepr;

/// The knobs of [`pair_qps`] (the C `softroce_pair_options`).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct PairOptions {
    /// Seeds the link faults and the starting PSNs.
    pub seed: u64,
    pub loss_ppm: u32,
    pub reorder_ppm: u32,
    pub duplicate_ppm: u32,
    pub corrupt_ppm: u32,
    /// One-way delay (0: 1 us).
    pub delay_ns: u64,
    /// 256, 512, 1024, 2048 or 4096 (0: 1024).
    pub path_mtu: u32,
    /// Local ACK timeout exponent (0: 10, ~4 ms).
    pub local_ack_timeout: u8,
    /// Retries on timeout (0: 7 = infinite; use 1..=6 for a finite count).
    pub retry_count: u8,
    /// RNR retries (0: 7 = infinite).
    pub rnr_retry: u8,
    /// Our RNR timer encoding (0: 1 = 10 us).
    pub min_rnr_timer: u8,
    /// IRD = ORD of both QPs (0: 16).
    pub read_limit: u32,
}

/// One direction: the link and the QP it delivers to.
struct Direction {
    link: Mutex<Link>,
    to: Weak<Datapath>,
    platform: Arc<dyn Platform>,
    timer: Option<Box<dyn Timer>>,
}

/// The arrival routine of one direction.
struct Arrive(Weak<Direction>);

impl PacketSink for Direction {
    /// IRQL: <= DISPATCH_LEVEL.
    fn send(&self, _dst: core::net::IpAddr, udp_payload: &mut [u8]) -> Result<(), SendError> {
        let now = t::Instant(self.platform.now().as_nanos());
        let next = {
            let mut link = self.link.lock().map_err(|_| SendError::Closed)?;
            link.send(now, udp_payload);
            link.next_delivery()
        };
        if let (Some(at), Some(timer)) = (next, self.timer.as_ref()) {
            timer.set(Instant::from_nanos(at.nanos()));
        }
        Ok(())
    }
}

impl DeferredRoutine for Arrive {
    /// IRQL: DISPATCH_LEVEL.
    fn run(&self, now: Instant) {
        let Some(d) = self.0.upgrade() else { return };
        let tnow = t::Instant(now.as_nanos());
        loop {
            let frame = match d.link.lock() {
                Ok(mut l) => l.pop_due(tnow),
                Err(_) => return,
            };
            let Some(data) = frame else { break };
            if let (Ok(pkt), Some(dp)) = (PacketRepr::parse(&data), d.to.upgrade()) {
                dp.deliver(now, &pkt);
            }
        }
        let next = d.link.lock().ok().and_then(|l| l.next_delivery());
        if let (Some(at), Some(timer)) = (next, d.timer.as_ref()) {
            timer.set(Instant::from_nanos(at.nanos()));
        }
    }
}

fn direction(cfg: LinkConfig, seed: u64, to: &Qp) -> Option<Arc<Direction>> {
    let platform = to.base().core.platform.clone();
    let d = Arc::new_cyclic(|weak: &Weak<Direction>| Direction {
        link: Mutex::new(Link::new(cfg, seed)),
        to: Arc::downgrade(&to.datapath),
        platform: platform.clone(),
        timer: platform.new_timer(Arc::new(Arrive(weak.clone()))).ok(),
    });
    d.timer.as_ref()?;
    Some(d)
}

type Pairs = Vec<(usize, Weak<Direction>, Weak<Direction>)>;

/// Live pairs: (QP a's address, a -> b, b -> a), for their statistics.
static PAIRS: Mutex<Pairs> = Mutex::new(Vec::new());

/// The link counters (a -> b, b -> a) of the pair made with `a` as its
/// first QP; zeros if there is none.
pub fn pair_stats(a: *const NDK_QP) -> (LinkStats, LinkStats) {
    let get = |w: &Weak<Direction>| {
        w.upgrade()
            .and_then(|d| d.link.lock().ok().map(|l| l.stats))
            .unwrap_or_default()
    };
    let pairs = match PAIRS.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    pairs
        .iter()
        .rev()
        .find(|(q, ..)| *q == a as usize)
        .map(|(_, ab, ba)| (get(ab), get(ba)))
        .unwrap_or_default()
}

/// Next QP number handed out (24 bits, never 0/1).
static NEXT_QPN: Mutex<u32> = Mutex::new(0x100);

fn qpn() -> u32 {
    let mut g = match NEXT_QPN.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let q = *g;
    *g = if q >= 0x00FF_FFFF { 0x100 } else { q + 1 };
    q
}

/// Connects `a` and `b` (see the module doc). NULL or foreign QP, the same
/// QP twice, or bad options -> STATUS_INVALID_PARAMETER / _HANDLE; a QP
/// already connected -> STATUS_CONNECTION_ACTIVE.
///
/// # Safety
/// `a`, `b` are NULL or NDK objects; `options` is NULL or readable.
///
/// IRQL: PASSIVE_LEVEL (test harness).
pub unsafe fn pair_qps(a: *mut NDK_QP, b: *mut NDK_QP, options: *const PairOptions) -> NtStatus {
    // SAFETY: forwarded contract.
    let (qa, qb) = match unsafe { (recover::<Qp>(a.cast()), recover::<Qp>(b.cast())) } {
        (Ok(x), Ok(y)) => (x, y),
        (Err(e), _) | (_, Err(e)) => return e,
    };
    if core::ptr::eq(qa, qb) {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NULL or readable by contract.
    let o = unsafe { options.as_ref() }.copied().unwrap_or_default();
    let Some(mtu) = Mtu::from_bytes(if o.path_mtu == 0 { 1024 } else { o.path_mtu }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let or = |v: u8, d: u8| if v == 0 { d } else { v };
    let read_limit = match o.read_limit {
        0 => 16,
        n @ 1..=16 => n as u8,
        _ => return STATUS_INVALID_PARAMETER,
    };
    let cfg = LinkConfig {
        loss_ppm: o.loss_ppm,
        reorder_ppm: o.reorder_ppm,
        duplicate_ppm: o.duplicate_ppm,
        corrupt_ppm: o.corrupt_ppm,
        delay_ns: if o.delay_ns == 0 { 1000 } else { o.delay_ns },
        jitter_ns: 0,
        reorder_delay_ns: if o.delay_ns == 0 {
            3000
        } else {
            o.delay_ns * 3
        },
        bytes_per_us: 0,
    };
    let mut rng = SimRng::new(o.seed);
    let (qpn_a, qpn_b) = (qpn(), qpn());
    let (psn_a, psn_b) = (
        (rng.next_u64() & 0xFF_FFFF) as u32,
        (rng.next_u64() & 0xFF_FFFF) as u32,
    );
    let params = |local, remote_qpn, send_psn, recv_psn, remote| ConnectParams {
        local_qpn: local,
        remote,
        remote_qpn,
        send_psn,
        recv_psn,
        path_mtu: mtu,
        inbound_read_limit: read_limit,
        outbound_read_limit: read_limit,
        local_ack_timeout: or(o.local_ack_timeout, 10),
        retry_count: or(o.retry_count, 7),
        rnr_retry: or(o.rnr_retry, 7),
        min_rnr_timer: or(o.min_rnr_timer, 1),
    };
    let pa = params(qpn_a, qpn_b, psn_a, psn_b, qb.base().core.address);
    let pb = params(qpn_b, qpn_a, psn_b, psn_a, qa.base().core.address);
    let (Some(ab), Some(ba)) = (
        direction(cfg, rng.next_u64(), qb),
        direction(cfg, rng.next_u64(), qa),
    ) else {
        return STATUS_INSUFFICIENT_RESOURCES;
    };
    if qa.datapath.is_connected() || qb.datapath.is_connected() {
        return STATUS_CONNECTION_ACTIVE;
    }
    let status = |r: Result<(), ConnectError>| match r {
        Ok(()) => STATUS_SUCCESS,
        Err(ConnectError::AlreadyConnected) => STATUS_CONNECTION_ACTIVE,
        Err(_) => STATUS_INVALID_PARAMETER,
    };
    let s = status(qa.connect_datapath(&pa, ab.clone()));
    if s != STATUS_SUCCESS {
        return s;
    }
    let s = status(qb.connect_datapath(&pb, ba.clone()));
    if let Ok(mut g) = PAIRS.lock() {
        g.retain(|(_, ab, _)| ab.strong_count() > 0);
        g.push((a as usize, Arc::downgrade(&ab), Arc::downgrade(&ba)));
    }
    s
}
