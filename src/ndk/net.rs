//! The network runtime of one adapter address, shared by every NDK instance
//! attached to it (`network.rs` owns the handle and its lifetime): the
//! [`CmEngine`] (seeded from
//! the platform, addresses = the adapter's), the carrier on UDP 4791 at the
//! adapter's address, its receive sink (DISPATCH_LEVEL: [`qp1::classify`],
//! then QP1 MADs to the CM and other QPNs to the QP table), the one CM
//! timer, and the pump that runs after every input (MAD, timer, consumer
//! request): drain `poll_transmit` (framed by `qp1::frame_mad`, sent on the
//! carrier), drain `poll_event` (each becomes a callback queued to the
//! object's own DPC: never a consumer call here), re-arm the timer.
//!
//! Its parts: `net/events.rs` (CM events -> queued callbacks),
//! `net/tables.rs` (connector slots [`ConnEntry`], listener slots
//! [`ListenerEntry`], QPs by QPN: the receive demux where the data path
//! plugs in) and `net/stats.rs` (the NDK performance counters' connection
//! accounting and the connection / local endpoint enumerations).
//!
//! RDMA frames and octets (`NdkCounters::rdma_*`) are counted here, at the
//! carrier, the single way in and out: out = every datagram the carrier
//! accepted (data path and QP1 MADs), in = every received datagram that
//! classified as RoCEv2 for us (well-formed BTH, good ICRC, our P_Key,
//! QP1 or any other QPN); octets are UDP payload bytes (BTH through ICRC).
//!
//! Table entries name the instance that owns them (a listener's core, a
//! connector's and a QP's owner id) so an instance's close can cut off
//! what it leaked (`tables.rs`, `Net::detach`) without touching the others.
//!
//! Owns that state and its single lock (`state`; order: state -> carrier /
//! timer -> object event queues -> QP/CQ locks). Must not call the consumer
//! and must not parse packets itself (`qp1`, `wire`).
#![deny(unsafe_code)]

use alloc::boxed::Box;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::net::{IpAddr, SocketAddr};
use core::sync::atomic::{AtomicU64, AtomicU8, Ordering};

use crate::abi::*;
use crate::cm::{CmConfig, CmEngine, CmError, PortError};
use crate::os::{
    Carrier, DatagramSink, DeferredRoutine, Instant, NdkCounters, Platform, Received, SendError,
    SpinLock, SpinLockGuard, Timer,
};
use crate::transport::Mtu;
use crate::wire::ROCE_V2_UDP_PORT;

use super::datapath::PacketSink;
use super::qp1::{self, Dropped, Rx, MAD_PACKET_LEN};

mod events;
mod stats;
mod tables;

use tables::QpEntry;
pub(crate) use tables::{ConnEntry, ListenerEntry, Pending};

/// Connector slots per network (connected or not), over all its instances.
pub const MAX_CONNECTORS: usize = 512;
/// Listener slots per network.
pub const MAX_LISTENERS: usize = 32;
/// QPs per network (QPNs `FIRST_QPN..`, unique over its instances).
pub const MAX_QPS: usize = 1024;
/// The first QPN handed out (0 and 1 are special; rxe starts at 0x11 too).
pub const FIRST_QPN: u32 = 0x11;
/// Unanswered connection requests per listener (NdkListen has no backlog
/// argument). At most this many ConnectEvents wait in the listener's queue,
/// which is why it is below the object framework's queue size.
pub const LISTEN_BACKLOG: u32 = 4;
/// The adapter's RoCE path MTU until it is set ([`Net::set_roce_mtu`]):
/// 1024 bytes, what rxe uses on a 1500-byte Ethernet.
pub const DEFAULT_ROCE_MTU: Mtu = Mtu::Mtu1024;
/// Transport and RNR retry counts we ask the peer to use (rdma_cm's 7).
pub const RETRY_COUNT: u8 = 7;

/// Everything under the runtime's lock.
pub(crate) struct NetState {
    pub cm: CmEngine,
    pub conns: Vec<Option<ConnEntry>>,
    pub listeners: Vec<Option<ListenerEntry>>,
    qps: Vec<Option<QpEntry>>,
    tx_psn: u32,
    tx_buf: [u8; MAD_PACKET_LEN],
}

/// Counters of the receive and send paths.
#[derive(Debug, Default)]
pub struct NetCounters {
    pub rx_mads: AtomicU64,
    pub rx_malformed: AtomicU64,
    pub rx_bad_icrc: AtomicU64,
    pub rx_unverifiable: AtomicU64,
    pub rx_bad_pkey: AtomicU64,
    pub rx_not_gsi: AtomicU64,
    /// Packets for a QP of ours (the data path takes them from here later).
    pub rx_for_qp: AtomicU64,
    /// Packets for a QPN we do not have.
    pub rx_no_qp: AtomicU64,
    /// Packets for a connected QP of ours from an address that is not its peer.
    pub rx_wrong_peer: AtomicU64,
    /// Data-path packets sent.
    pub tx_packets: AtomicU64,
    pub tx_mads: AtomicU64,
    pub tx_errors: AtomicU64,
}

/// A snapshot of [`NetCounters`] (tests, diagnostics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct NetStats {
    pub rx_mads: u64,
    pub rx_malformed: u64,
    pub rx_bad_icrc: u64,
    pub rx_unverifiable: u64,
    pub rx_bad_pkey: u64,
    pub rx_not_gsi: u64,
    pub rx_for_qp: u64,
    pub rx_no_qp: u64,
    pub rx_wrong_peer: u64,
    pub tx_packets: u64,
    pub tx_mads: u64,
    pub tx_errors: u64,
    /// CM table occupancy: connections (incl. timewait), listeners, endpoints.
    pub cm_connections: usize,
    pub cm_listeners: usize,
    pub cm_endpoints: usize,
    pub cm_dropped_events: u64,
    /// Whether a carrier is open.
    pub online: bool,
    /// Whether the CM timer is armed.
    pub timer_armed: bool,
}

/// The runtime of one adapter.
pub struct Net {
    platform: Arc<dyn Platform>,
    address: IpAddr,
    state: SpinLock<NetState>,
    carrier: SpinLock<Option<Box<dyn Carrier>>>,
    timer: SpinLock<Option<Box<dyn Timer>>>,
    armed: SpinLock<bool>,
    counters: NetCounters,
    /// The adapter's RoCE MTU setting (IB enum; [`Net::set_roce_mtu`]).
    roce_mtu: AtomicU8,
    /// The largest MTU the carrier's link carries (IB enum; 5 when the
    /// carrier does not know its IP MTU or there is no carrier).
    link_mtu: AtomicU8,
    /// The NDK performance counters this runtime feeds (shared with the
    /// other NDK instances of a Windows miniport adapter).
    ndk: Arc<NdkCounters>,
}

impl core::fmt::Debug for Net {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

/// Bytes the runtime's tables take (charged under `SRnt` with the adapter).
pub fn net_bytes() -> usize {
    core::mem::size_of::<Net>()
        + MAX_CONNECTORS * core::mem::size_of::<Option<ConnEntry>>()
        + MAX_LISTENERS * core::mem::size_of::<Option<ListenerEntry>>()
        + MAX_QPS * core::mem::size_of::<Option<QpEntry>>()
        + 256 * 1024
}

/// The CA GUID of an adapter: derived from its address (stable per address,
/// like a NIC's EUI-64; the locally administered bit set).
fn ca_guid(address: IpAddr) -> u64 {
    let fold = match address {
        IpAddr::V4(a) => u64::from(u32::from(a)),
        IpAddr::V6(a) => {
            let v = u128::from(a);
            (v as u64) ^ ((v >> 64) as u64)
        }
    };
    0x0200_0000_0000_0000 | (fold & 0x00FF_FFFF_FFFF_FFFF)
}

/// The NTSTATUS of a refused CM request (`docs/CM.md`). IRQL: any.
pub(crate) fn cm_status(e: CmError) -> NtStatus {
    match e {
        CmError::Port(PortError::SharingViolation) => STATUS_SHARING_VIOLATION,
        CmError::Port(PortError::InvalidAddress) => STATUS_INVALID_ADDRESS,
        CmError::Port(PortError::NoEphemeralPort) => STATUS_TOO_MANY_ADDRESSES,
        CmError::Port(PortError::AddressAlreadyExists) => STATUS_ADDRESS_ALREADY_EXISTS,
        CmError::Port(PortError::TableFull) | CmError::NoResources => STATUS_INSUFFICIENT_RESOURCES,
        CmError::InvalidHandle => STATUS_INVALID_HANDLE,
        CmError::InvalidState => STATUS_CONNECTION_INVALID,
        CmError::Aborted => STATUS_CONNECTION_ABORTED,
        CmError::InvalidParameter => STATUS_INVALID_PARAMETER,
    }
}

struct Sink(Weak<Net>);

impl DatagramSink for Sink {
    /// IRQL: DISPATCH_LEVEL.
    fn on_datagram(&self, d: &Received<'_>) {
        if let Some(net) = self.0.upgrade() {
            net.on_datagram(d);
        }
    }
}

struct CmTimer(Weak<Net>);

impl DeferredRoutine for CmTimer {
    /// IRQL: DISPATCH_LEVEL.
    fn run(&self, now: Instant) {
        if let Some(net) = self.0.upgrade() {
            net.on_timer(now);
        }
    }
}

fn empty_slots<T>(n: usize) -> Vec<Option<T>> {
    let mut v = Vec::with_capacity(n);
    v.resize_with(n, || None);
    v
}

impl Net {
    /// The runtime of an adapter at `address`: a CM engine seeded from the
    /// platform, empty tables, feeding `ndk`. Nothing is open yet
    /// ([`Net::start`]).
    ///
    /// IRQL: PASSIVE_LEVEL (allocates).
    pub fn new(platform: Arc<dyn Platform>, address: IpAddr, ndk: Arc<NdkCounters>) -> Self {
        let mut seed = [0u8; 32];
        platform.fill_random(&mut seed);
        let mut cfg = CmConfig::new(ca_guid(address), &[address], seed);
        cfg.max_path_mtu = DEFAULT_ROCE_MTU.ib_enum();
        Self {
            platform,
            address,
            state: SpinLock::new(NetState {
                cm: CmEngine::new(cfg),
                conns: empty_slots(MAX_CONNECTORS),
                listeners: empty_slots(MAX_LISTENERS),
                qps: empty_slots(MAX_QPS),
                tx_psn: 0,
                tx_buf: [0; MAD_PACKET_LEN],
            }),
            carrier: SpinLock::new(None),
            timer: SpinLock::new(None),
            armed: SpinLock::new(false),
            counters: NetCounters::default(),
            roce_mtu: AtomicU8::new(DEFAULT_ROCE_MTU.ib_enum()),
            link_mtu: AtomicU8::new(Mtu::Mtu4096.ib_enum()),
            ndk,
        }
    }

    /// Opens the carrier on `address:4791` and makes the CM timer. If the
    /// carrier cannot be opened (address not on this host, port taken) the
    /// adapter stays up without a network: NdkConnect then fails with
    /// STATUS_NETWORK_UNREACHABLE and listeners hear nothing (hosted policy,
    /// `docs/CM.md`).
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn start(self: &Arc<Self>) {
        let local = SocketAddr::new(self.address, ROCE_V2_UDP_PORT);
        let sink: Arc<dyn DatagramSink> = Arc::new(Sink(Arc::downgrade(self)));
        let carrier = self.platform.open_carrier(local, sink).ok();
        let timer = self
            .platform
            .new_timer(Arc::new(CmTimer(Arc::downgrade(self))))
            .ok();
        let link = carrier
            .as_ref()
            .and_then(|c| c.ip_mtu())
            .map_or(Mtu::Mtu4096, |ip_mtu| {
                Mtu::fitting(ip_mtu, self.address.is_ipv6()).unwrap_or(Mtu::Mtu256)
            });
        self.link_mtu.store(link.ib_enum(), Ordering::Relaxed);
        {
            let mut st = self.state.lock();
            st.tx_psn = st.cm.random_psn();
            self.apply_roce_mtu(&mut st);
        }
        *self.carrier.lock() = carrier;
        *self.timer.lock() = timer;
    }

    /// Closes the carrier and the timer (adapter close). After it returns
    /// the sink and the timer routine do nothing more.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn stop(&self) {
        let carrier = self.carrier.lock().take();
        drop(carrier);
        let timer = self.timer.lock().take();
        if let Some(t) = timer.as_ref() {
            t.cancel();
        }
        drop(timer);
    }

    /// Whether a carrier is open. IRQL: <= DISPATCH_LEVEL.
    pub fn online(&self) -> bool {
        self.carrier.lock().is_some()
    }

    /// A snapshot of the counters and CM occupancy. IRQL: <= DISPATCH_LEVEL.
    pub fn stats(&self) -> NetStats {
        let c = &self.counters;
        let ld = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let cm = self.state.lock().cm.stats();
        NetStats {
            rx_mads: ld(&c.rx_mads),
            rx_malformed: ld(&c.rx_malformed),
            rx_bad_icrc: ld(&c.rx_bad_icrc),
            rx_unverifiable: ld(&c.rx_unverifiable),
            rx_bad_pkey: ld(&c.rx_bad_pkey),
            rx_not_gsi: ld(&c.rx_not_gsi),
            rx_for_qp: ld(&c.rx_for_qp),
            rx_no_qp: ld(&c.rx_no_qp),
            rx_wrong_peer: ld(&c.rx_wrong_peer),
            tx_packets: ld(&c.tx_packets),
            tx_mads: ld(&c.tx_mads),
            tx_errors: ld(&c.tx_errors),
            cm_connections: cm.connections,
            cm_listeners: cm.listeners,
            cm_endpoints: cm.endpoints,
            cm_dropped_events: cm.dropped_events,
            online: self.online(),
            timer_armed: *self.armed.lock(),
        }
    }

    /// The NDK performance counters it feeds. IRQL: any.
    pub fn counters(&self) -> &Arc<NdkCounters> {
        &self.ndk
    }

    /// One datagram the carrier accepted (RDMAOutFrames / RDMAOutOctets).
    /// IRQL: any.
    fn count_out(&self, len: usize) {
        NdkCounters::add(&self.ndk.rdma_out_frames, 1);
        NdkCounters::add(&self.ndk.rdma_out_octets, len as u64);
    }

    /// The adapter's RoCE path MTU in effect: its setting, capped by what
    /// the carrier's link carries (`docs/CM.md`, "Path MTU"). Active
    /// connections ask for it; passive ones run at min(REQ, it).
    /// IRQL: any.
    pub fn roce_mtu(&self) -> Mtu {
        let setting = Mtu::from_ib_enum(self.roce_mtu.load(Ordering::Relaxed));
        let link = Mtu::from_ib_enum(self.link_mtu.load(Ordering::Relaxed));
        setting
            .unwrap_or(DEFAULT_ROCE_MTU)
            .min(link.unwrap_or(Mtu::Mtu4096))
    }

    /// Sets the adapter's RoCE MTU ([`Net::roce_mtu`] caps it by the link);
    /// connections set up from now on use it, established ones keep
    /// theirs. Returns the MTU in effect. IRQL: <= DISPATCH_LEVEL.
    pub fn set_roce_mtu(&self, mtu: Mtu) -> Mtu {
        self.roce_mtu.store(mtu.ib_enum(), Ordering::Relaxed);
        let mut st = self.state.lock();
        self.apply_roce_mtu(&mut st)
    }

    /// Hands the MTU in effect to the CM (it puts it in REQs and clamps
    /// incoming ones to it). IRQL: <= DISPATCH_LEVEL (state lock held).
    fn apply_roce_mtu(&self, st: &mut NetState) -> Mtu {
        let mtu = self.roce_mtu();
        // Cannot fail: an Mtu's enum is in 1..=5.
        let _ = st.cm.set_max_path_mtu(mtu.ib_enum());
        mtu
    }

    /// The adapter's address. IRQL: any.
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// The platform clock. IRQL: any.
    pub(crate) fn now(&self) -> Instant {
        self.platform.now()
    }

    /// Takes the runtime's lock. Callers finish with [`Net::pump`].
    /// IRQL: <= DISPATCH_LEVEL.
    pub(crate) fn lock(&self) -> SpinLockGuard<'_, NetState> {
        self.state.lock()
    }

    // ----- inputs ------------------------------------------------------

    /// The carrier's receive sink: classify, then CM or QP demux.
    /// IRQL: DISPATCH_LEVEL.
    fn on_datagram(&self, d: &Received<'_>) {
        let c = &self.counters;
        let bump = |a: &AtomicU64| {
            a.fetch_add(1, Ordering::Relaxed);
        };
        let rx = qp1::classify(d);
        if matches!(rx, Rx::Mad(..) | Rx::Qp(_)) {
            NdkCounters::add(&self.ndk.rdma_in_frames, 1);
            NdkCounters::add(&self.ndk.rdma_in_octets, d.payload.len() as u64);
        }
        match rx {
            Rx::Mad(peer, mad) => {
                bump(&c.rx_mads);
                let now = self.now();
                let mut st = self.state.lock();
                st.cm.handle_mad(now, peer, mad);
                self.pump(&mut st);
            }
            Rx::Qp(pkt) => {
                // Demux by destination QPN. Only the QP's peer may talk to
                // it (as rxe checks the AV). A valid packet also tells the
                // CM that the peer is established (a lost RTU), which
                // connects the data path before the packet is delivered.
                let qpn = pkt.bth.dest_qp;
                let from = d.src.ip();
                let datapath = {
                    let mut st = self.state.lock();
                    let peer = st.qp(qpn).map(|qp| qp.connection().map(|c| c.remote.ip()));
                    match peer {
                        None => {
                            bump(&c.rx_no_qp);
                            None
                        }
                        Some(Some(peer)) if peer != from => {
                            bump(&c.rx_wrong_peer);
                            None
                        }
                        Some(_) => {
                            bump(&c.rx_for_qp);
                            self.notify_traffic(&mut st, qpn, from);
                            st.qp(qpn).map(|qp| Arc::clone(&qp.datapath))
                        }
                    }
                };
                // Delivered with the runtime's lock released: the data path
                // takes its own locks and may send through `self`.
                if let Some(dp) = datapath {
                    dp.deliver(self.now(), &pkt);
                }
            }
            Rx::Drop(Dropped::Malformed) => bump(&c.rx_malformed),
            Rx::Drop(Dropped::BadIcrc) => bump(&c.rx_bad_icrc),
            Rx::Drop(Dropped::Unverifiable) => bump(&c.rx_unverifiable),
            Rx::Drop(Dropped::PKey) => bump(&c.rx_bad_pkey),
            Rx::Drop(Dropped::NotGsi) => bump(&c.rx_not_gsi),
        }
    }

    /// IB CM "communication established": a valid packet from the peer
    /// reached QP `qpn` while our REP is outstanding (the RTU was lost or is
    /// late): the connection is established as if the RTU had come, and
    /// the pending NdkAccept completes. The data path calls this too.
    /// IRQL: <= DISPATCH_LEVEL (state lock held).
    pub(crate) fn notify_traffic(&self, st: &mut NetState, qpn: u32, from: IpAddr) {
        let conn = st.conns.iter().flatten().find_map(|e| {
            let bound = e.qp.as_ref().is_some_and(|q| q.0 == qpn);
            (bound && e.passive && e.accept.is_some())
                .then_some(e.conn)
                .flatten()
        });
        let Some(conn) = conn else {
            return;
        };
        let from_peer = st.cm.conn_addrs(conn).is_some_and(|(_, r)| r.ip() == from);
        if from_peer && st.cm.notify_traffic(conn) {
            self.pump(st);
        }
    }

    /// The CM timer fired. IRQL: DISPATCH_LEVEL.
    fn on_timer(&self, now: Instant) {
        *self.armed.lock() = false;
        let mut st = self.state.lock();
        st.cm.handle_timeout(now);
        self.pump(&mut st);
    }

    // ----- outputs -----------------------------------------------------

    /// After every input: sends what the CM queued, turns its events into
    /// queued callbacks, re-arms the timer. Never calls the consumer.
    /// IRQL: <= DISPATCH_LEVEL (with the state lock held).
    pub(crate) fn pump(&self, st: &mut NetState) {
        loop {
            let mut did = false;
            while let Some((peer, mad)) = st.cm.poll_transmit() {
                did = true;
                self.send_mad(st, peer, &mad);
            }
            while let Some(ev) = st.cm.poll_event() {
                did = true;
                self.dispatch(st, ev);
            }
            if !did {
                break;
            }
        }
        let next = st.cm.poll_timeout();
        let timer = self.timer.lock();
        if let Some(t) = timer.as_ref() {
            let mut armed = self.armed.lock();
            match next {
                Some(deadline) => {
                    t.set(deadline);
                    *armed = true;
                }
                None => {
                    t.cancel();
                    *armed = false;
                }
            }
        }
    }

    fn send_mad(&self, st: &mut NetState, peer: IpAddr, mad: &[u8; crate::wire::mad::MAD_LEN]) {
        let carrier = self.carrier.lock();
        let Some(carrier) = carrier.as_ref() else {
            self.counters.tx_errors.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let local = SocketAddr::new(self.address, ROCE_V2_UDP_PORT);
        let psn = st.tx_psn;
        st.tx_psn = psn.wrapping_add(1) & 0xFF_FFFF;
        let tx = carrier.tx_ipv4();
        let sent = qp1::frame_mad(&mut st.tx_buf, local, peer, psn, mad, tx).and_then(|len| {
            let bytes = st.tx_buf.get(..len)?;
            carrier
                .send(SocketAddr::new(peer, ROCE_V2_UDP_PORT), bytes)
                .ok()
                .map(|()| len)
        });
        let counter = match sent {
            Some(len) => {
                self.count_out(len);
                &self.counters.tx_mads
            }
            // Lost like any packet: the CM's retries cover it.
            None => &self.counters.tx_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

/// The data path's packets go out through the adapter's carrier: the ICRC
/// is sealed in place over the IP and UDP headers the carrier will send
/// (the same framing as the MADs, `qp1::seal`). `Arc<Net>` coerces to the
/// QP's `Arc<dyn PacketSink>` without an allocation.
impl PacketSink for Net {
    /// IRQL: <= DISPATCH_LEVEL (the carrier's send never blocks).
    fn send(&self, dst: IpAddr, udp_payload: &mut [u8]) -> Result<(), SendError> {
        let carrier = self.carrier.lock();
        let result = match carrier.as_ref() {
            None => Err(SendError::Closed),
            Some(carrier) => {
                let local = SocketAddr::new(self.address, ROCE_V2_UDP_PORT);
                match qp1::seal(udp_payload, local, dst, carrier.tx_ipv4()) {
                    None => Err(SendError::TooBig),
                    Some(()) => carrier.send(SocketAddr::new(dst, ROCE_V2_UDP_PORT), udp_payload),
                }
            }
        };
        let counter = match result {
            Ok(()) => {
                self.count_out(udp_payload.len());
                &self.counters.tx_packets
            }
            Err(_) => &self.counters.tx_errors,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::abi::NDK_VERSION;
    use crate::ndk::core::AdapterCore;
    use crate::os::hosted::VirtualPlatform;
    use crate::wire::mad::MAD_LEN;
    use crate::wire::PacketRepr;
    use core::net::Ipv4Addr;

    struct Ignore;
    impl DatagramSink for Ignore {
        fn on_datagram(&self, _: &Received<'_>) {}
    }

    fn at(last: u8) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), ROCE_V2_UDP_PORT)
    }

    #[test]
    fn receive_demux_counts_each_kind_and_feeds_only_mads_to_the_cm() {
        let p = VirtualPlatform::new(3);
        let sim = p.use_simnet(3);
        let v = NDK_VERSION { Major: 2, Minor: 1 };
        let core = Arc::new(AdapterCore::new(p.clone(), at(2).ip(), v));
        core.net.start();
        let inj = sim.attach(at(1), Arc::new(Ignore)).unwrap();
        let mad = [0u8; MAD_LEN]; // not a CM Send: the CM drops it as malformed
        let mut buf = [0u8; MAD_PACKET_LEN];
        let mut send = |edit: &dyn Fn(&mut PacketRepr<'_>), corrupt: bool| {
            let mut good = [0u8; MAD_PACKET_LEN];
            qp1::frame_mad(&mut good, at(1), at(2).ip(), 5, &mad, None).unwrap();
            let mut r = PacketRepr::parse(&good).unwrap();
            edit(&mut r);
            let len = qp1::frame(&mut buf, at(1), at(2).ip(), &r, None).unwrap();
            if corrupt {
                buf[30] ^= 0x10;
            }
            crate::os::Carrier::send(&inj, at(2), &buf[..len]).unwrap();
            p.run_pending();
        };
        send(&|_| {}, false);
        send(&|r| r.bth.pkey = 0x8001, false);
        send(&|r| r.bth.dest_qp = FIRST_QPN, false);
        send(&|r| r.bth.dest_qp = 0x77, false);
        send(&|_| {}, true);
        let s = core.net.stats();
        assert_eq!(
            (
                s.rx_mads,
                s.rx_bad_pkey,
                s.rx_no_qp,
                s.rx_bad_icrc,
                s.rx_for_qp
            ),
            (1, 1, 2, 1, 0)
        );
        // RDMAInFrames: the MAD and the two packets for QPNs (ours or not);
        // not the bad P_Key nor the bad ICRC.
        let n = core.counters().snapshot();
        assert_eq!(n.RDMAInFrames, 3);
        assert_eq!(n.RDMAInOctets, 3 * MAD_PACKET_LEN as u64);
        assert_eq!(core.net.lock().cm.stats().dropped_malformed, 1);
        core.net.stop();
    }
}
