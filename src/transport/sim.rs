//! A deterministic simulated network for tests and benchmarks: a seeded RNG,
//! a lossy [`Link`] (drop, duplicate, reorder, delay, corrupt) carrying whole
//! RoCEv2 UDP payloads sealed with a real ICRC (`wire::icrc` over fixed
//! IPv4/UDP headers, so corruption is caught exactly as a receiver would), and
//! [`SimPair`], two [`RcQp`]s with their memories joined by two links under a
//! virtual clock. Only `alloc`; no std, no clock, no threads. Must not be used
//! by the engine itself.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

use super::memory::SimMemory;
use super::qp::RcQp;
use super::time::Instant;
use crate::wire::{icrc, PacketRepr};

/// splitmix64: small, fast and good enough for fault injection.
#[derive(Debug, Clone)]
pub struct SimRng(u64);

impl SimRng {
    pub fn new(seed: u64) -> SimRng {
        SimRng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 {
            0
        } else {
            self.next_u64() % n
        }
    }

    /// True with probability `ppm` / 1,000,000.
    pub fn chance(&mut self, ppm: u32) -> bool {
        self.below(1_000_000) < u64::from(ppm)
    }
}

/// Fault and delay settings of one direction of a link (rates in parts per million).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkConfig {
    pub loss_ppm: u32,
    pub reorder_ppm: u32,
    pub duplicate_ppm: u32,
    pub corrupt_ppm: u32,
    /// One-way delay of every frame.
    pub delay_ns: u64,
    /// Uniform extra delay in `0..jitter_ns` (keeps order unless reordered).
    pub jitter_ns: u64,
    /// Extra delay of a reordered frame (it arrives after later ones).
    pub reorder_delay_ns: u64,
    /// Line rate in bytes per microsecond (1250 = 10 Gb/s); 0 = unlimited.
    /// A paced link only pulls the next packet from its QP once the previous
    /// one is serialized, like a NIC with a small transmit ring.
    pub bytes_per_us: u64,
}

impl LinkConfig {
    /// A perfect link with `delay_ns` one-way delay.
    pub fn clean(delay_ns: u64) -> LinkConfig {
        LinkConfig {
            delay_ns,
            ..LinkConfig::default()
        }
    }

    /// The soak profile: 5% loss, 5% reordering, 1% duplication, 1% corruption.
    pub fn hostile(delay_ns: u64) -> LinkConfig {
        LinkConfig {
            loss_ppm: 50_000,
            reorder_ppm: 50_000,
            duplicate_ppm: 10_000,
            corrupt_ppm: 10_000,
            delay_ns,
            jitter_ns: delay_ns / 4,
            reorder_delay_ns: delay_ns * 3,
            bytes_per_us: 1250,
        }
    }
}

/// What a link did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LinkStats {
    pub sent: u64,
    pub delivered: u64,
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    /// Frames the receiver dropped because the ICRC did not verify.
    pub icrc_drops: u64,
    /// Corrupted frames whose flipped bit is in BTH byte 4 (FECN/BECN/resv6),
    /// which the ICRC masks by design: delivered, and ignored by the engine.
    pub corrupted_masked: u64,
}

/// A frame in flight, ordered by arrival time then send order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Frame {
    at: Instant,
    seq: u64,
    data: Vec<u8>,
}

/// IPv4 (IHL 5) and UDP headers the ICRC is computed over; `len` is the UDP payload length.
fn headers(len: usize) -> ([u8; 20], [u8; 8]) {
    let udp_len = u16::try_from(len + 8).unwrap_or(u16::MAX);
    let ip_len = udp_len.saturating_add(20);
    let mut ip = [
        0x45, 0x00, 0, 0, 0x12, 0x34, 0x40, 0x00, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    ip[2..4].copy_from_slice(&ip_len.to_be_bytes());
    let mut udp = [0xC0, 0x00, 0x12, 0xB7, 0, 0, 0, 0];
    udp[4..6].copy_from_slice(&udp_len.to_be_bytes());
    (ip, udp)
}

/// Fills the ICRC trailer of a UDP payload as the carrier would.
pub fn seal(udp_payload: &mut [u8]) {
    let (ip, udp) = headers(udp_payload.len());
    let _ = icrc::fill_parts(&ip, &udp, udp_payload);
}

/// Verifies the ICRC trailer of a UDP payload as the receiving carrier would.
pub fn verify(udp_payload: &[u8]) -> bool {
    let (ip, udp) = headers(udp_payload.len());
    icrc::verify_parts(&ip, &udp, udp_payload).is_ok()
}

/// One direction of a faulty link.
#[derive(Debug, Clone)]
pub struct Link {
    cfg: LinkConfig,
    rng: SimRng,
    inflight: BinaryHeap<Reverse<Frame>>,
    seq: u64,
    busy_until: Instant,
    pub stats: LinkStats,
}

impl Link {
    pub fn new(cfg: LinkConfig, seed: u64) -> Link {
        Link {
            cfg,
            rng: SimRng::new(seed),
            inflight: BinaryHeap::new(),
            seq: 0,
            busy_until: Instant(0),
            stats: LinkStats::default(),
        }
    }

    /// Seals (ICRC) and sends one UDP payload at `now`, applying the faults.
    pub fn send(&mut self, now: Instant, udp_payload: &[u8]) {
        self.stats.sent += 1;
        let depart = now.max(self.busy_until);
        if self.cfg.bytes_per_us > 0 {
            let ser = (udp_payload.len() as u64 * 1000).div_ceil(self.cfg.bytes_per_us);
            self.busy_until = Instant(depart.0.saturating_add(ser));
        }
        let now = self.busy_until.max(depart);
        if self.rng.chance(self.cfg.loss_ppm) {
            self.stats.lost += 1;
            return;
        }
        let copies = if self.rng.chance(self.cfg.duplicate_ppm) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        for _ in 0..copies {
            let mut data = udp_payload.to_vec();
            seal(&mut data);
            if self.rng.chance(self.cfg.corrupt_ppm) && !data.is_empty() {
                self.stats.corrupted += 1;
                let i = self.rng.below(data.len() as u64) as usize;
                let bit = 1u8 << self.rng.below(8);
                if let Some(b) = data.get_mut(i) {
                    *b ^= bit;
                }
                if i == crate::wire::bth::ICRC_MASKED_BYTE {
                    self.stats.corrupted_masked += 1;
                }
            }
            let mut delay = self.cfg.delay_ns + self.rng.below(self.cfg.jitter_ns);
            if self.rng.chance(self.cfg.reorder_ppm) {
                self.stats.reordered += 1;
                delay += self.cfg.reorder_delay_ns;
            }
            self.seq += 1;
            self.inflight.push(Reverse(Frame {
                at: Instant(now.0.saturating_add(delay)),
                seq: self.seq,
                data,
            }));
        }
    }

    /// Whether the link can take another frame at `now` (always, if unpaced).
    pub fn ready(&self, now: Instant) -> bool {
        self.busy_until <= now
    }

    /// When the link finishes serializing what it was given.
    pub fn busy_until(&self) -> Instant {
        self.busy_until
    }

    /// When the next frame arrives.
    pub fn next_delivery(&self) -> Option<Instant> {
        self.inflight.peek().map(|f| f.0.at)
    }

    /// The next frame due at `now` whose ICRC verifies (corrupted ones are
    /// dropped and counted), earliest first.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        loop {
            if self.inflight.peek()?.0.at > now {
                return None;
            }
            let f = self.inflight.pop()?.0;
            if verify(&f.data) {
                self.stats.delivered += 1;
                return Some(f.data);
            }
            self.stats.icrc_drops += 1;
        }
    }

    /// Frames still in flight.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }
}

/// A direction on a [`SimPair`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    AtoB,
    BtoA,
}

/// One side of a [`SimPair`].
#[derive(Debug, Clone)]
pub struct Peer {
    pub qp: RcQp,
    pub mem: SimMemory,
}

/// Two RC QPs joined by two faulty links under a virtual clock.
#[derive(Debug, Clone)]
pub struct SimPair {
    pub a: Peer,
    pub b: Peer,
    pub ab: Link,
    pub ba: Link,
    pub now: Instant,
    buf: Vec<u8>,
}

impl SimPair {
    pub fn new(a: Peer, b: Peer, ab: Link, ba: Link) -> SimPair {
        let n = a.qp.max_packet_len().max(b.qp.max_packet_len());
        let buf = alloc::vec![0; n];
        SimPair {
            a,
            b,
            ab,
            ba,
            now: Instant(0),
            buf,
        }
    }

    /// Sends everything both QPs have ready now, passing each packet through
    /// `keep` (false drops it before the link).
    fn transmit(&mut self, keep: &mut dyn FnMut(Dir, &PacketRepr<'_>) -> bool) {
        for dir in [Dir::AtoB, Dir::BtoA] {
            let (peer, link) = match dir {
                Dir::AtoB => (&mut self.a, &mut self.ab),
                Dir::BtoA => (&mut self.b, &mut self.ba),
            };
            while link.ready(self.now) {
                let Some(n) = peer
                    .qp
                    .poll_transmit(self.now, &mut peer.mem, &mut self.buf)
                else {
                    break;
                };
                let Some(bytes) = self.buf.get(..n) else {
                    break;
                };
                let pass = match PacketRepr::parse(bytes) {
                    Ok(p) => keep(dir, &p),
                    Err(_) => false,
                };
                if pass {
                    link.send(self.now, bytes);
                }
            }
        }
    }

    /// Delivers every frame due now and runs due timers.
    fn deliver(&mut self) {
        let now = self.now;
        while let Some(f) = self.ab.pop_due(now) {
            if let Ok(p) = PacketRepr::parse(&f) {
                self.b.qp.handle_packet(now, &p, &mut self.b.mem);
            }
        }
        while let Some(f) = self.ba.pop_due(now) {
            if let Ok(p) = PacketRepr::parse(&f) {
                self.a.qp.handle_packet(now, &p, &mut self.a.mem);
            }
        }
        for qp in [&mut self.a.qp, &mut self.b.qp] {
            if qp.poll_timeout().is_some_and(|t| t <= now) {
                qp.handle_timeout(now);
            }
        }
    }

    /// The next event time: a frame arrival or a QP deadline.
    pub fn next_event(&self) -> Option<Instant> {
        [
            self.ab.next_delivery(),
            self.ba.next_delivery(),
            self.a.qp.poll_timeout(),
            self.b.qp.poll_timeout(),
            Some(self.ab.busy_until()).filter(|&t| t > self.now),
            Some(self.ba.busy_until()).filter(|&t| t > self.now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// One round: transmit, jump the clock to the next event, deliver.
    /// Returns false when nothing is left to happen (quiescent).
    pub fn step_with(&mut self, keep: &mut dyn FnMut(Dir, &PacketRepr<'_>) -> bool) -> bool {
        self.transmit(keep);
        let Some(t) = self.next_event() else {
            return false;
        };
        if t > self.now {
            self.now = t;
        }
        self.deliver();
        true
    }

    /// [`step_with`](Self::step_with) keeping every packet.
    pub fn step(&mut self) -> bool {
        self.step_with(&mut |_, _| true)
    }

    /// Steps until quiescent or `max_steps`; returns the steps taken.
    pub fn run(&mut self, max_steps: usize) -> usize {
        let mut n = 0;
        while n < max_steps && self.step() {
            n += 1;
        }
        n
    }
}
