//! A deterministic link between two CM engines with a virtual clock, for the
//! `cm_*` integration tests: MADs are moved between the engines (or dropped
//! by rule), events are collected, and time jumps to the next deadline.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use softroce::cm::{
    AcceptParams, CmConfig, CmEngine, CmEvent, ConnId, ConnectParams, Instant, LocalEndpoint,
};
use softroce::wire::cm::{CmMad, CmMessage};

pub const A4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12));
pub const B4: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11));
pub const A6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 12));
/// The port the tests listen on (rping's default).
pub const PORT: u16 = 7174;
pub const B6: IpAddr = IpAddr::V6(Ipv6Addr::new(0xfd00, 0x99, 0, 0, 0, 0, 0, 11));

/// Which engine sent a MAD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    A,
    B,
}

/// Drop the next `count` MADs with attribute `attr` sent by `from`.
#[derive(Debug, Clone, Copy)]
pub struct DropRule {
    pub from: Peer,
    pub attr: u16,
    pub count: u32,
}

pub struct Link {
    pub a: CmEngine,
    pub b: CmEngine,
    pub now: Instant,
    pub rules: Vec<DropRule>,
    /// Drop everything (a dead peer).
    pub blackhole: bool,
    /// Every MAD sent, as (sender, attribute, dropped).
    pub log: Vec<(Peer, u16, bool)>,
    pub events_a: VecDeque<CmEvent>,
    pub events_b: VecDeque<CmEvent>,
}

pub fn config(guid: u64, addrs: &[IpAddr], seed: u8) -> CmConfig {
    let mut c = CmConfig::new(guid, addrs, [seed; 32]);
    c.max_connections = 64;
    c
}

impl Link {
    pub fn new() -> Self {
        Self::with(
            config(0x5054_00ff_fe99_0012, &[A4, A6], 1),
            config(0x5054_00ff_fe99_0011, &[B4, B6], 2),
        )
    }

    pub fn with(a: CmConfig, b: CmConfig) -> Self {
        Self {
            a: CmEngine::new(a),
            b: CmEngine::new(b),
            now: Instant::from_nanos(1_000_000_000),
            rules: Vec::new(),
            blackhole: false,
            log: Vec::new(),
            events_a: VecDeque::new(),
            events_b: VecDeque::new(),
        }
    }

    pub fn drop_next(&mut self, from: Peer, attr: u16, count: u32) {
        self.rules.push(DropRule { from, attr, count });
    }

    fn owner(&self, ip: IpAddr) -> Option<Peer> {
        if self.a.config().local_addrs.contains(&ip) {
            Some(Peer::A)
        } else if self.b.config().local_addrs.contains(&ip) {
            Some(Peer::B)
        } else {
            None
        }
    }

    fn should_drop(&mut self, from: Peer, attr: u16) -> bool {
        if self.blackhole {
            return true;
        }
        for r in &mut self.rules {
            if r.from == from && r.attr == attr && r.count > 0 {
                r.count -= 1;
                return true;
            }
        }
        false
    }

    /// Moves MADs until both engines are quiet; collects events.
    pub fn pump(&mut self) {
        for _ in 0..10_000 {
            let mut moved = false;
            for from in [Peer::A, Peer::B] {
                let out = match from {
                    Peer::A => self.a.poll_transmit(),
                    Peer::B => self.b.poll_transmit(),
                };
                let Some((dst, mad)) = out else { continue };
                moved = true;
                let attr = CmMad::parse_bytes(&mad)
                    .map(|m| m.message.attribute_id())
                    .expect("engines emit parseable MADs");
                let dropped = self.should_drop(from, attr);
                self.log.push((from, attr, dropped));
                if dropped {
                    continue;
                }
                // The source IP: the sender's address of the destination's family.
                let src_engine = match from {
                    Peer::A => &self.a,
                    Peer::B => &self.b,
                };
                let src = *src_engine
                    .config()
                    .local_addrs
                    .iter()
                    .find(|x| x.is_ipv4() == dst.is_ipv4())
                    .expect("sender has an address of that family");
                match self.owner(dst) {
                    Some(Peer::A) => self.a.handle_mad(self.now, src, &mad),
                    Some(Peer::B) => self.b.handle_mad(self.now, src, &mad),
                    None => {}
                }
            }
            while let Some(e) = self.a.poll_event() {
                self.events_a.push_back(e);
                moved = true;
            }
            while let Some(e) = self.b.poll_event() {
                self.events_b.push_back(e);
                moved = true;
            }
            if !moved {
                return;
            }
        }
        panic!("link did not settle");
    }

    /// The earliest deadline of either engine.
    pub fn next_deadline(&self) -> Option<Instant> {
        match (self.a.poll_timeout(), self.b.poll_timeout()) {
            (Some(x), Some(y)) => Some(x.min(y)),
            (x, y) => x.or(y),
        }
    }

    /// Jumps to the next deadline (if any, and not after `limit`), runs the
    /// timers and pumps. Returns false when nothing was due.
    pub fn step_timer(&mut self, limit: Instant) -> bool {
        let Some(t) = self.next_deadline() else {
            return false;
        };
        if t > limit {
            return false;
        }
        assert!(t >= self.now, "deadline in the past");
        self.now = t;
        self.a.handle_timeout(self.now);
        self.b.handle_timeout(self.now);
        self.pump();
        true
    }

    /// Runs timers for `d` of virtual time.
    pub fn run_for(&mut self, d: Duration) {
        let end = self.now.saturating_add(d);
        while self.step_timer(end) {}
        self.now = end;
    }

    /// A connects from A4 (ephemeral port) to B4:PORT with no private data.
    pub fn dial(&mut self) -> ConnId {
        let p = params(SocketAddr::new(A4, 0), SocketAddr::new(B4, PORT), b"");
        self.a.connect(self.now, &p).expect("connect")
    }

    /// Messages with this attribute sent by `from` (dropped or not).
    pub fn sent(&self, from: Peer, attr: u16) -> usize {
        self.log
            .iter()
            .filter(|(f, a, _)| *f == from && *a == attr)
            .count()
    }

    pub fn take_a(&mut self) -> Option<CmEvent> {
        self.events_a.pop_front()
    }

    pub fn take_b(&mut self) -> Option<CmEvent> {
        self.events_b.pop_front()
    }
}

/// Connect parameters from `local` (port 0: ephemeral) to `remote`.
pub fn params<'a>(local: SocketAddr, remote: SocketAddr, data: &'a [u8]) -> ConnectParams<'a> {
    ConnectParams {
        local: LocalEndpoint::Bind(local),
        remote,
        local_qpn: 0x11,
        recv_psn: 0xdb_b97a,
        inbound_read_limit: 1,
        outbound_read_limit: 1,
        path_mtu: 3,
        private_data: data,
        retry_count: 7,
        rnr_retry_count: 7,
        srq: false,
    }
}

/// The parsed message in a MAD (for assertions).
pub fn parse(mad: &[u8]) -> CmMessage {
    CmMad::parse_bytes(mad).expect("parse").message
}

/// Accept parameters: QPN 0x22, PSN 0x7b2b28, read limits 8/8, RNR retry 7.
pub fn accept_params(data: &[u8]) -> AcceptParams<'_> {
    AcceptParams {
        local_qpn: 0x22,
        recv_psn: 0x7b_2b28,
        inbound_read_limit: 8,
        outbound_read_limit: 8,
        private_data: data,
        rnr_retry_count: 7,
        srq: false,
    }
}
