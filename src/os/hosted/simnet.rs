//! The simulated network for hosted adapters in tests: carriers attach by
//! address; datagrams travel through the platform's DPC/timer engine (so on
//! a virtual-clock platform they move only when the test advances time),
//! with seeded drop/duplicate/reorder/delay/corrupt knobs and per-direction
//! "drop the Nth packet matching a predicate" filters. Deterministic for a
//! given seed and sequence of sends. Owns no sockets and no protocol logic.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::engine::{Delivery, Engine};
use super::gate::GatedSink;
use super::random::SeededRng;
use crate::os::{
    irql, Carrier, CarrierError, DatagramSink, Ipv4RxFields, Irql, RxIp, SendError, TxIpv4,
};

/// Fault knobs; probabilities are in parts per million.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimKnobs {
    pub drop_ppm: u32,
    pub duplicate_ppm: u32,
    /// Chance that a packet is held back by `reorder_delay` (later ones overtake it).
    pub reorder_ppm: u32,
    pub corrupt_ppm: u32,
    /// One-way delay of every packet.
    pub delay: Duration,
    /// Extra delay, uniform in `0..=jitter`.
    pub jitter: Duration,
    pub reorder_delay: Duration,
}

/// Counters of what the network did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SimStats {
    pub sent: u64,
    /// Scheduled for delivery (duplicates included).
    pub delivered: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub corrupted: u64,
    /// Dropped by a filter.
    pub filtered: u64,
    /// No carrier attached at the destination.
    pub unroutable: u64,
}

/// The predicate of a filter: sees (src, dst, payload).
pub type SimPredicate = Box<dyn Fn(SocketAddr, SocketAddr, &[u8]) -> bool + Send + Sync>;

struct Filter {
    from: Option<IpAddr>,
    to: Option<IpAddr>,
    nth: u64,
    seen: u64,
    pred: SimPredicate,
}

/// Identifies a filter for [`SimNet::filter_hit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterId(usize);

struct State {
    knobs: SimKnobs,
    ports: HashMap<SocketAddr, Arc<GatedSink>>,
    filters: Vec<Filter>,
    stats: SimStats,
    ip_mtu: Option<usize>,
}

struct Inner {
    engine: Arc<Engine>,
    rng: SeededRng,
    state: Mutex<State>,
}

/// A simulated network. Cheap to clone (shared).
#[derive(Clone)]
pub struct SimNet {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SimNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimNet")
            .field("stats", &self.stats())
            .finish()
    }
}

impl SimNet {
    pub(crate) fn new(engine: Arc<Engine>, seed: u64) -> SimNet {
        SimNet {
            inner: Arc::new(Inner {
                engine,
                rng: SeededRng::new(seed),
                state: Mutex::new(State {
                    knobs: SimKnobs::default(),
                    ports: HashMap::new(),
                    filters: Vec::new(),
                    stats: SimStats::default(),
                    ip_mtu: None,
                }),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the fault knobs.
    pub fn set_knobs(&self, knobs: SimKnobs) {
        self.lock().knobs = knobs;
    }

    /// The IP MTU the carriers attached from now on report
    /// (`Carrier::ip_mtu`; `None`, the default: unknown). Only reported:
    /// the network itself carries any size.
    pub fn set_ip_mtu(&self, ip_mtu: Option<usize>) {
        self.lock().ip_mtu = ip_mtu;
    }

    /// What happened so far.
    pub fn stats(&self) -> SimStats {
        self.lock().stats
    }

    /// Drops the `nth` (1-based) packet going `from` -> `to` (`None`: any
    /// address) for which `pred(src, dst, payload)` holds. Later matches pass.
    pub fn drop_nth(
        &self,
        from: Option<IpAddr>,
        to: Option<IpAddr>,
        nth: u64,
        pred: SimPredicate,
    ) -> FilterId {
        let mut s = self.lock();
        s.filters.push(Filter {
            from,
            to,
            nth,
            seen: 0,
            pred,
        });
        FilterId(s.filters.len() - 1)
    }

    /// How many packets matched the filter so far (it dropped one if >= nth).
    pub fn filter_hit(&self, id: FilterId) -> u64 {
        self.lock().filters.get(id.0).map_or(0, |f| f.seen)
    }

    /// Sends `datagram` from `src` to `dst` as if a carrier at `src` had:
    /// tests inject packets no adapter would build (knobs and filters apply).
    pub fn inject(&self, src: SocketAddr, dst: SocketAddr, datagram: &[u8]) {
        self.transmit(src, dst, datagram);
    }

    /// Attaches a carrier at `local`; datagrams to it go to `sink`.
    pub(crate) fn attach(
        &self,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<SimCarrier, CarrierError> {
        let mut s = self.lock();
        if s.ports.contains_key(&local) {
            return Err(CarrierError::AddressInUse);
        }
        if local.port() == 0 || local.ip().is_unspecified() {
            return Err(CarrierError::AddressNotAvailable);
        }
        let gate = GatedSink::new(sink);
        s.ports.insert(local, gate.clone());
        Ok(SimCarrier {
            net: self.clone(),
            ip_mtu: s.ip_mtu,
            local,
            gate,
        })
    }

    fn transmit(&self, src: SocketAddr, dst: SocketAddr, datagram: &[u8]) {
        let rng = &self.inner.rng;
        let mut s = self.lock();
        s.stats.sent += 1;
        let Some(sink) = s.ports.get(&dst).cloned() else {
            s.stats.unroutable += 1;
            return;
        };
        let mut filtered = false;
        for f in s.filters.iter_mut() {
            let dir = f.from.is_none_or(|a| a == src.ip()) && f.to.is_none_or(|a| a == dst.ip());
            if dir && f.seen < f.nth && (f.pred)(src, dst, datagram) {
                f.seen += 1;
                filtered |= f.seen == f.nth;
            }
        }
        if filtered {
            s.stats.filtered += 1;
            return;
        }
        let k = s.knobs;
        if rng.chance(k.drop_ppm) {
            s.stats.dropped += 1;
            return;
        }
        let mut payload = datagram.to_vec();
        if rng.chance(k.corrupt_ppm) && !payload.is_empty() {
            let bit = rng.below(payload.len() as u64 * 8);
            if let Some(b) = payload.get_mut((bit / 8) as usize) {
                *b ^= 1 << (bit % 8);
            }
            s.stats.corrupted += 1;
        }
        let jitter = |rng: &SeededRng| {
            let j = u64::try_from(k.jitter.as_nanos()).unwrap_or(u64::MAX);
            Duration::from_nanos(rng.below(j.saturating_add(1)))
        };
        let mut delay = k.delay + jitter(rng);
        if rng.chance(k.reorder_ppm) {
            delay += k.reorder_delay;
            s.stats.reordered += 1;
        }
        let copies = if rng.chance(k.duplicate_ppm) {
            s.stats.duplicated += 1;
            2
        } else {
            1
        };
        s.stats.delivered += copies;
        drop(s);
        let ip = match dst {
            SocketAddr::V4(_) => RxIp::V4(Ipv4RxFields {
                ihl: 5,
                total_length: u16::try_from(payload.len() + 28).unwrap_or(u16::MAX),
                identification: TxIpv4::ZERO_ID_DF.identification,
                flags_fragment: TxIpv4::ZERO_ID_DF.flags_fragment,
            }),
            SocketAddr::V6(_) => RxIp::V6 {
                payload_length: u16::try_from(payload.len() + 8).unwrap_or(u16::MAX),
            },
        };
        let now = self.inner.engine.now();
        for copy in 0..copies {
            // The duplicate trails the original by at least 1 ns.
            let extra = if copy == 0 {
                Duration::ZERO
            } else {
                jitter(rng) + Duration::from_nanos(1)
            };
            self.inner.engine.deliver_at(
                now.saturating_add(delay + extra),
                Delivery {
                    sink: sink.clone(),
                    src,
                    dst,
                    ip,
                    payload: payload.clone(),
                },
            );
        }
    }
}

/// A carrier attached to a [`SimNet`].
pub(crate) struct SimCarrier {
    net: SimNet,
    ip_mtu: Option<usize>,
    local: SocketAddr,
    gate: Arc<GatedSink>,
}

impl Carrier for SimCarrier {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        irql::assert_at_most(Irql::Dispatch, "Carrier::send");
        if dst.is_ipv4() != self.local.is_ipv4() {
            return Err(SendError::Unreachable);
        }
        if datagram.len() > 65507 {
            return Err(SendError::TooBig);
        }
        self.net.transmit(self.local, dst, datagram);
        Ok(())
    }

    fn tx_ipv4(&self) -> Option<TxIpv4> {
        self.local.is_ipv4().then_some(TxIpv4::ZERO_ID_DF)
    }

    fn rx_icrc_verifiable(&self) -> bool {
        true
    }

    fn ip_mtu(&self) -> Option<usize> {
        self.ip_mtu
    }
}

impl Drop for SimCarrier {
    fn drop(&mut self) {
        self.net.lock().ports.remove(&self.local);
        self.gate.close();
    }
}
