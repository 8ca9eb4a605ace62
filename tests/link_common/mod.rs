//! Shared helpers of the `link_*` tests: a [`LinkPort`] that queues the
//! frames it is given (an in-memory wire) on a shared virtual clock, a sink
//! that keeps what it receives, and a pair of carriers joined by the wire.
#![allow(dead_code)]

use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use softroce::link::{FrameCarrier, FrameConfig, FrameVerdict, LinkPort, MacAddr, Resolver};
use softroce::os::{DatagramSink, Instant, Received, RxIp, SendError};

/// A virtual clock shared by the ports of a test.
#[derive(Default, Clone)]
pub struct Clock(Arc<AtomicU64>);

impl Clock {
    pub fn advance(&self, d: Duration) {
        self.0.fetch_add(d.as_nanos() as u64, Ordering::SeqCst);
    }
    pub fn now(&self) -> Instant {
        Instant::from_nanos(self.0.load(Ordering::SeqCst))
    }
}

/// A port that keeps every frame sent and every resolution asked.
#[derive(Default)]
pub struct WirePort {
    pub clock: Clock,
    pub frames: Mutex<Vec<Vec<u8>>>,
    pub resolutions: Mutex<Vec<IpAddr>>,
    /// Error every send returns, if set.
    pub fail: Mutex<Option<SendError>>,
}

impl WirePort {
    pub fn new(clock: Clock) -> Self {
        WirePort {
            clock,
            ..WirePort::default()
        }
    }
    /// The frames sent so far (emptied).
    pub fn take(&self) -> Vec<Vec<u8>> {
        std::mem::take(&mut *self.frames.lock().unwrap())
    }
    pub fn resolutions(&self) -> Vec<IpAddr> {
        self.resolutions.lock().unwrap().clone()
    }
}

impl LinkPort for WirePort {
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        if let Some(e) = *self.fail.lock().unwrap() {
            return Err(e);
        }
        // Junk first, so a fill that skips bytes shows.
        let mut buf = vec![0xA5; len];
        fill(&mut buf);
        self.frames.lock().unwrap().push(buf);
        Ok(())
    }
    fn request_resolution(&self, dst: IpAddr) {
        self.resolutions.lock().unwrap().push(dst);
    }
    fn now(&self) -> Instant {
        self.clock.now()
    }
}

/// An owned copy of a received datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Got {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub ip: RxIp,
    pub payload: Vec<u8>,
}

/// A sink that keeps copies.
#[derive(Default)]
pub struct Keep(pub Mutex<Vec<Got>>);

impl Keep {
    pub fn take(&self) -> Vec<Got> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl DatagramSink for Keep {
    fn on_datagram(&self, d: &Received<'_>) {
        self.0.lock().unwrap().push(Got {
            src: d.src,
            dst: d.dst,
            ip: d.ip,
            payload: d.payload.to_vec(),
        });
    }
}

pub fn mac(n: u8) -> MacAddr {
    [0x02, 0, 0, 0, 0, n]
}

pub fn v4(n: u8) -> IpAddr {
    IpAddr::from([10, 0, 0, n])
}

pub fn v6(n: u16) -> IpAddr {
    IpAddr::from([0xfd00, 0, 0, 0, 0, 0, 0, n])
}

pub fn roce(ip: IpAddr) -> SocketAddr {
    SocketAddr::new(ip, 4791)
}

pub fn config(ip: IpAddr, n: u8, resolver: Resolver) -> FrameConfig {
    FrameConfig {
        local: roce(ip),
        mac: mac(n),
        ip_mtu: 1500,
        vlan: None,
        traffic_class: 0,
        hop_limit: 64,
        resolver,
        neighbours: 8,
        pending: softroce::link::DEFAULT_PENDING,
    }
}

/// One end of a test link.
pub struct End {
    pub carrier: FrameCarrier<WirePort>,
    pub sink: Arc<Keep>,
}

impl End {
    pub fn new(config: FrameConfig, clock: &Clock) -> End {
        let sink = Arc::new(Keep::default());
        let carrier = FrameCarrier::new(config, WirePort::new(clock.clone()), sink.clone())
            .expect("valid config");
        End { carrier, sink }
    }
    pub fn port(&self) -> &WirePort {
        self.carrier.port()
    }
    /// Feeds every frame this end sent to `to`; returns the verdicts.
    pub fn deliver_to(&self, to: &End) -> Vec<FrameVerdict> {
        self.port()
            .take()
            .iter()
            .map(|f| to.carrier.on_frame(f))
            .collect()
    }
}

/// The ARP reply the OS at `from` sends to `to`'s request.
pub fn arp_reply(from: (IpAddr, MacAddr), to: (IpAddr, MacAddr)) -> Vec<u8> {
    let (IpAddr::V4(fi), IpAddr::V4(ti)) = (from.0, to.0) else {
        panic!("ARP is IPv4")
    };
    let mut f = Vec::new();
    f.extend_from_slice(&to.1);
    f.extend_from_slice(&from.1);
    f.extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 2]);
    f.extend_from_slice(&from.1);
    f.extend_from_slice(&fi.octets());
    f.extend_from_slice(&to.1);
    f.extend_from_slice(&ti.octets());
    f.resize(60, 0);
    f
}

/// A plausible RoCE payload of `len` bytes (BTH-like start, ICRC slot last).
pub fn datagram(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 + 3) as u8).collect()
}
