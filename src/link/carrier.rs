//! [`FrameCarrier`]: an [`os::Carrier`](crate::os::Carrier) over a
//! [`LinkPort`]. On send it builds Ethernet (+ optional 802.1Q tag), IPv4
//! (IHL 5, ID 0, DF, header checksum) or IPv6 (flow label 0) and UDP
//! (checksum 0 on IPv4, computed on IPv6) around the datagram, after a
//! neighbour lookup; on receive it classifies the frame and delivers RoCEv2
//! datagrams for us to the sink. Owns the framing policy, the neighbour
//! cache lock and the counters; must not parse RoCE headers nor call OS
//! APIs other than through the [`LinkPort`].
//!
//! While a next hop resolves, its datagrams wait in a preallocated pending
//! queue (`pending.rs`) under the neighbour lock and are sent, in order,
//! when it resolves (`docs/CARRIER.md`, "The pending queue").
//!
//! Lock order: the neighbour lock (the cache and the pending queue) is a
//! leaf. It is never held across [`LinkPort::send_frame`],
//! [`LinkPort::request_resolution`] or the sink: a flush takes one held
//! datagram out of the queue under the lock, sends it outside, and gives the
//! slot back under the lock.

use alloc::sync::Arc;
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::os::{Carrier, DatagramSink, Ipv4RxFields, SendError, SpinLock, TxIpv4};
use crate::wire::arp::{ArpOp, ArpRepr};
use crate::wire::ethernet::{
    is_group_mac, EthernetRepr, BROADCAST, ETHERTYPE_ARP, ETHERTYPE_IPV4, ETHERTYPE_IPV6,
    MIN_FRAME_LEN,
};
use crate::wire::ip::{emit_headers, IpRepr, UDP_PROTOCOL};
use crate::wire::{ipv4, ipv6, udp, Ipv4Repr, Ipv6Repr, UdpRepr};

use super::classify::{classify, Classified, DropReason};
use super::neighbour::{Lookup, NeighbourCache};
use super::pending::{Held, PendingPool, Taken};
use super::port::{LinkPort, MacAddr, VlanTag};

/// Pending-queue slots a configuration should use unless it has a reason
/// not to ([`FrameConfig::pending`]).
pub const DEFAULT_PENDING: usize = 16;

/// How next-hop MACs are found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolver {
    /// The carrier sends ARP requests itself and learns from ARP replies
    /// (and requests) it sees in [`FrameCarrier::on_frame`]. IPv4, on-link
    /// destinations only. Hosted.
    Arp,
    /// The OS resolves ([`LinkPort::request_resolution`]) and answers with
    /// [`FrameCarrier::neighbour_resolved`] / [`FrameCarrier::neighbour_failed`].
    /// ARP frames are not consumed. Windows.
    Os,
}

/// A frame carrier's fixed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameConfig {
    /// Our address and UDP port (4791): source of every packet, and the only
    /// destination we accept.
    pub local: SocketAddr,
    /// Our MAC: source of every frame.
    pub mac: MacAddr,
    /// The link's IP MTU (largest IP packet, 1500 on plain Ethernet).
    pub ip_mtu: usize,
    /// 802.1Q tag for every sent frame, if any.
    pub vlan: Option<VlanTag>,
    /// IPv4 TOS / IPv6 traffic class of every packet (DSCP << 2 | ECN).
    pub traffic_class: u8,
    /// IPv4 TTL / IPv6 hop limit.
    pub hop_limit: u8,
    /// How next hops are resolved.
    pub resolver: Resolver,
    /// Neighbour cache entries (preallocated at [`FrameCarrier::new`]).
    pub neighbours: usize,
    /// Pending-queue slots: datagrams held while their next hop resolves,
    /// each slot preallocated at [`FrameCarrier::new`] with room for the
    /// largest datagram `ip_mtu` allows ([`DEFAULT_PENDING`], 16, unless
    /// there is a reason; 0: no queue, a send to an unresolved next hop is
    /// refused with `WouldBlock`). At most
    /// [`PER_NEIGHBOUR`](super::pending::PER_NEIGHBOUR) per next hop, for at
    /// most [`MAX_AGE`](super::pending::MAX_AGE).
    pub pending: usize,
}

/// What the OS glue does with a received frame after
/// [`FrameCarrier::on_frame`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameVerdict {
    /// A RoCEv2 datagram for us, handed to the sink: do not pass it up.
    Consumed,
    /// RoCEv2-for-us shaped but unusable (reason counted): do not pass it up.
    Dropped(DropReason),
    /// Not ours (other traffic, every ARP frame under either resolver, ...):
    /// pass it up to the OS stack unchanged.
    NotOurs,
}

/// Declares [`LinkStats`] and its atomic twin `Counters` with the same fields.
macro_rules! link_counters {
    ($($(#[$doc:meta])* $name:ident,)*) => {
        /// Counters of a frame carrier. Every received frame is counted in
        /// `rx_frames` and in exactly one of `rx_delivered`, `rx_dropped`,
        /// `rx_not_ours` and `rx_arp`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
        pub struct LinkStats {
            $($(#[$doc])* pub $name: u64,)*
        }

        #[derive(Debug, Default)]
        struct Counters {
            $($name: AtomicU64,)*
        }

        impl Counters {
            fn snapshot(&self) -> LinkStats {
                LinkStats {
                    $($name: self.$name.load(Ordering::Relaxed),)*
                }
            }
        }
    };
}

link_counters! {
    /// Frames given to [`FrameCarrier::on_frame`].
    rx_frames,
    /// RoCEv2 datagrams handed to the sink.
    rx_delivered,
    /// Frames for our endpoint that were dropped (see [`DropReason`]).
    rx_dropped,
    /// Frames left to the OS (ARP aside).
    rx_not_ours,
    /// Datagrams sent as frames.
    tx_frames,
    /// Sends refused with `WouldBlock` because the next hop is not resolved
    /// yet and the datagram could not be held (no pending slot free, or no
    /// neighbour entry to resolve it).
    tx_no_neighbour,
    /// Datagrams held in the pending queue while their next hop resolves
    /// (the send returned `Ok`). Each ends in exactly one of `tx_queue_sent`,
    /// `tx_queue_replaced`, `tx_queue_expired`, `tx_queue_failed`,
    /// `tx_queue_errors`, or is still held.
    tx_queued,
    /// Held datagrams sent once their next hop resolved (also in `tx_frames`).
    tx_queue_sent,
    /// Held datagrams dropped for a newer one to the same next hop (the
    /// per-neighbour cap).
    tx_queue_replaced,
    /// Held datagrams dropped because their next hop did not resolve within
    /// the age limit.
    tx_queue_expired,
    /// Held datagrams dropped because their next hop failed.
    tx_queue_failed,
    /// Held datagrams the port refused when they were flushed.
    tx_queue_errors,
    /// Sends refused otherwise (unreachable, too big, the port's errors).
    tx_errors,
    /// ARP requests sent ([`Resolver::Arp`]).
    arp_requests_sent,
    /// Neighbour entries made or updated from answers and ARP.
    neighbours_learned,
    /// [`LinkPort::request_resolution`] calls ([`Resolver::Os`]).
    resolutions_requested,
    /// ARP frames seen (left to the OS; learned from under [`Resolver::Arp`]).
    rx_arp,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn add(c: &AtomicU64, n: u64) {
    if n != 0 {
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// Ethernet (tagged) + IPv6 + UDP: the longest header we build.
const MAX_HEADER_LEN: usize = 18 + ipv6::HEADER_LEN + udp::HEADER_LEN;

const fn is_unicast_v4(a: Ipv4Addr) -> bool {
    !(a.is_unspecified() || a.is_broadcast() || a.is_multicast() || a.is_loopback())
}

const fn is_unicast_v6(a: Ipv6Addr) -> bool {
    !(a.is_unspecified() || a.is_multicast() || a.is_loopback())
}

/// Writes `header`, then `body`, then zeros (padding) into `buf`.
fn fill_frame(buf: &mut [u8], header: &[u8], body: &[u8]) {
    let mut rest = buf;
    for part in [header, body] {
        let n = part.len().min(rest.len());
        let (head, tail) = core::mem::take(&mut rest).split_at_mut(n);
        head.copy_from_slice(part.get(..n).unwrap_or(&[]));
        rest = tail;
    }
    rest.fill(0);
}

/// Error from [`FrameCarrier::new`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameConfigError {
    /// Inconsistent configuration (e.g. IPv6 local address with ARP).
    Invalid,
    /// The neighbour table or the pending queue could not be allocated.
    NoMemory,
}

impl FrameConfig {
    /// Whether the configuration is usable: a unicast local address and a
    /// non-zero port, a unicast MAC, an IP MTU of at least 576 (IPv4) / 1280
    /// (IPv6) and at most 65535, a tag whose values fit, at least one
    /// neighbour entry, and an IPv4 address if ARP resolves.
    ///
    /// IRQL: any.
    pub fn is_valid(&self) -> bool {
        let (ip_ok, min_mtu) = match self.local.ip() {
            IpAddr::V4(a) => (is_unicast_v4(a), 576),
            IpAddr::V6(a) => (is_unicast_v6(a), 1280),
        };
        ip_ok
            && self.local.port() != 0
            && !is_group_mac(&self.mac)
            && self.mac != [0; 6]
            && (min_mtu..=usize::from(u16::MAX)).contains(&self.ip_mtu)
            && self.vlan.is_none_or(|t| t.tci().is_ok())
            && self.neighbours > 0
            && !(self.resolver == Resolver::Arp && self.local.is_ipv6())
    }

    /// The largest datagram (UDP payload) `ip_mtu` allows: the size of a
    /// pending slot.
    ///
    /// IRQL: any.
    pub fn max_datagram(&self) -> usize {
        let ip_header = match self.local.ip() {
            IpAddr::V4(_) => ipv4::HEADER_LEN,
            IpAddr::V6(_) => ipv6::HEADER_LEN,
        };
        self.ip_mtu.saturating_sub(ip_header + udp::HEADER_LEN)
    }
}

/// What the neighbour lock protects: the cache and the datagrams waiting
/// for its answers.
#[derive(Debug)]
struct Neighbours {
    cache: NeighbourCache,
    pending: PendingPool,
}

/// What a send does once the neighbour lock is released.
#[derive(Debug, Clone, Copy)]
enum Plan {
    /// Frame it to this MAC (and ask for a refresh if `.1`).
    Send(MacAddr, bool),
    /// Flush the next hop's held datagrams first, then as `Send`.
    FlushThenSend(MacAddr, bool),
    /// Held (or not, `held.held == false`); ask for resolution if `.1`.
    Held(Held, bool),
    /// The next hop failed; this many held datagrams were dropped.
    Unreachable(u64),
}

/// How a send ended when it did not fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sent {
    Framed,
    Held,
}

/// The frame carrier.
pub struct FrameCarrier<P: LinkPort> {
    config: FrameConfig,
    port: P,
    sink: Arc<dyn DatagramSink>,
    neighbours: SpinLock<Neighbours>,
    counters: Counters,
}

impl<P: LinkPort> core::fmt::Debug for FrameCarrier<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FrameCarrier")
            .field("config", &self.config)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

impl<P: LinkPort> FrameCarrier<P> {
    /// A carrier sending on `port`, delivering to `sink`; preallocates
    /// everything it uses on the data path (the neighbour table and the
    /// pending slots). `Invalid` unless [`FrameConfig::is_valid`];
    /// `NoMemory` if either cannot be reserved.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub fn new(
        config: FrameConfig,
        port: P,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<Self, FrameConfigError> {
        if !config.is_valid() {
            return Err(FrameConfigError::Invalid);
        }
        let cache =
            NeighbourCache::new(config.neighbours).map_err(|_| FrameConfigError::NoMemory)?;
        let pending = PendingPool::new(config.pending, config.max_datagram())
            .map_err(|_| FrameConfigError::NoMemory)?;
        Ok(FrameCarrier {
            config,
            port,
            sink,
            neighbours: SpinLock::new(Neighbours { cache, pending }),
            counters: Counters::default(),
        })
    }

    /// One received Ethernet frame (link header first, FCS stripped).
    /// Delivers a RoCEv2 datagram for us to the sink (before returning),
    /// learns from ARP under [`Resolver::Arp`] (and then sends the datagrams
    /// held for the neighbour it learned, in order, before returning), and
    /// says what the OS glue should do with the frame.
    ///
    /// IRQL: DISPATCH_LEVEL.
    pub fn on_frame(&self, frame: &[u8]) -> FrameVerdict {
        let c = &self.counters;
        bump(&c.rx_frames);
        match classify(frame, self.config.local) {
            Classified::Roce(datagram) => {
                self.sink.on_datagram(&datagram);
                bump(&c.rx_delivered);
                FrameVerdict::Consumed
            }
            Classified::Dropped(reason) => {
                bump(&c.rx_dropped);
                FrameVerdict::Dropped(reason)
            }
            Classified::Arp(arp) => {
                bump(&c.rx_arp);
                if self.config.resolver == Resolver::Arp {
                    self.learn_arp(&arp);
                }
                // The OS stack still answers ARP (and learns for itself).
                FrameVerdict::NotOurs
            }
            Classified::NotOurs => {
                bump(&c.rx_not_ours);
                FrameVerdict::NotOurs
            }
        }
    }

    /// Learns an ARP sender: inserted when the packet is addressed to us (a
    /// reply to our IP and MAC, or a request for our IP), otherwise only an
    /// existing entry is updated (RFC 826 merge). Probes (sender 0.0.0.0),
    /// group or zero sender MACs and our own packets teach nothing.
    fn learn_arp(&self, arp: &ArpRepr) {
        let IpAddr::V4(me) = self.config.local.ip() else {
            return;
        };
        let sender = Ipv4Addr::from(arp.sender_ip);
        let bogus = !is_unicast_v4(sender)
            || sender == me
            || is_group_mac(&arp.sender_mac)
            || arp.sender_mac == [0; 6]
            || arp.sender_mac == self.config.mac;
        if bogus {
            return;
        }
        let to_us = arp.target_ip == me.octets()
            && match arp.op {
                ArpOp::Request => true,
                ArpOp::Reply => arp.target_mac == self.config.mac,
            };
        let now = self.port.now();
        let changed = {
            let mut n = self.neighbours.lock();
            if to_us {
                n.cache.resolved(sender.into(), arp.sender_mac, now)
            } else {
                n.cache.learn(sender.into(), arp.sender_mac, now)
            }
        };
        if changed {
            bump(&self.counters.neighbours_learned);
            self.flush(sender.into(), arp.sender_mac);
        }
    }

    /// The OS resolved `ip`'s next hop to `mac`: the datagrams held for
    /// `ip` are sent, in order, before this returns (through
    /// [`LinkPort::send_frame`], without the neighbour lock).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn neighbour_resolved(&self, ip: IpAddr, mac: MacAddr) {
        if is_group_mac(&mac) || mac == [0; 6] {
            return;
        }
        let now = self.port.now();
        let changed = self.neighbours.lock().cache.resolved(ip, mac, now);
        if changed {
            bump(&self.counters.neighbours_learned);
        }
        // Even if the table had no room for the answer, it is the OS's
        // answer: what waits for it goes.
        self.flush(ip, mac);
    }

    /// The OS could not resolve `ip` (no route, no answer): the entry
    /// fails, and the datagrams held for `ip` are dropped.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn neighbour_failed(&self, ip: IpAddr) {
        let now = self.port.now();
        let dropped = {
            let mut n = self.neighbours.lock();
            n.cache.failed(ip, now);
            n.pending.drop_for(ip)
        };
        add(&self.counters.tx_queue_failed, dropped);
    }

    /// Sends the datagrams held for `ip` to `mac`, oldest first, one at a
    /// time: each is taken out of the queue under the lock, sent without
    /// it, and its slot given back under the lock. Datagrams held meanwhile
    /// (by sends that saw this flush under way) are sent too. If another
    /// flush of `ip` is under way, that one sends them and this returns.
    fn flush(&self, ip: IpAddr, mac: MacAddr) {
        let c = &self.counters;
        let mut sent: Option<Taken> = None;
        loop {
            let now = self.port.now();
            let next = {
                let mut n = self.neighbours.lock();
                match sent.take() {
                    Some(t) => n.pending.give_back(t),
                    None if n.pending.flushing(ip) => return,
                    None => {}
                }
                n.pending.take_next(ip, now)
            };
            add(&c.tx_queue_expired, next.expired);
            let Some(taken) = next.taken else {
                return;
            };
            match self.send_frame_to(mac, taken.dst, taken.datagram()) {
                Ok(()) => {
                    bump(&c.tx_queue_sent);
                    bump(&c.tx_frames);
                }
                Err(_) => bump(&c.tx_queue_errors),
            }
            sent = Some(taken);
        }
    }

    /// The configuration.
    ///
    /// IRQL: any.
    pub fn config(&self) -> &FrameConfig {
        &self.config
    }

    /// The port.
    ///
    /// IRQL: any.
    pub fn port(&self) -> &P {
        &self.port
    }

    /// A snapshot of the counters.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn stats(&self) -> LinkStats {
        self.counters.snapshot()
    }

    /// Asks for `ip`'s next hop: an ARP request (broadcast, or unicast to
    /// `known` when refreshing) or the OS.
    fn resolve(&self, ip: IpAddr, known: Option<MacAddr>) {
        match (self.config.resolver, ip) {
            (Resolver::Arp, IpAddr::V4(target)) => {
                self.send_arp_request(target, known.unwrap_or(BROADCAST))
            }
            (Resolver::Arp, IpAddr::V6(_)) => {}
            (Resolver::Os, _) => {
                self.port.request_resolution(ip);
                bump(&self.counters.resolutions_requested);
            }
        }
    }

    /// Sends "who has `target`? tell <our IP>" to `dst_mac`. Errors are
    /// not reported (the next send or the retry interval asks again).
    fn send_arp_request(&self, target: Ipv4Addr, dst_mac: MacAddr) {
        let IpAddr::V4(me) = self.config.local.ip() else {
            return;
        };
        let eth = EthernetRepr {
            dst: dst_mac,
            src: self.config.mac,
            vlan: self.config.vlan,
            ethertype: ETHERTYPE_ARP,
        };
        let arp = ArpRepr {
            op: ArpOp::Request,
            sender_mac: self.config.mac,
            sender_ip: me.octets(),
            target_mac: [0; 6],
            target_ip: target.octets(),
        };
        let mut header = [0u8; MAX_HEADER_LEN];
        let eh = eth.header_len();
        let n = eh + arp.buffer_len();
        let built = eth
            .emit(&mut header)
            .and_then(|()| arp.emit(header.get_mut(eh..).unwrap_or(&mut [])));
        let Some(bytes) = header.get(..n).filter(|_| built.is_ok()) else {
            return;
        };
        let len = n.max(MIN_FRAME_LEN);
        if self
            .port
            .send_frame(len, &mut |buf| fill_frame(buf, bytes, &[]))
            .is_ok()
        {
            bump(&self.counters.arp_requests_sent);
        }
    }

    /// Builds the headers for `datagram` to `dst` via `mac` and sends the
    /// frame (padded to the Ethernet minimum).
    fn send_frame_to(
        &self,
        mac: MacAddr,
        dst: SocketAddr,
        datagram: &[u8],
    ) -> Result<(), SendError> {
        let c = &self.config;
        let udp_repr = UdpRepr {
            src_port: c.local.port(),
            dst_port: dst.port(),
            checksum: 0,
            payload_len: datagram.len(),
        };
        let (ip, ethertype) = match (c.local.ip(), dst.ip()) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => (
                IpRepr::V4(Ipv4Repr {
                    src_addr: src.octets(),
                    dst_addr: dst.octets(),
                    tos: c.traffic_class,
                    ident: TxIpv4::ZERO_ID_DF.identification,
                    dont_frag: TxIpv4::ZERO_ID_DF.flags_fragment & Ipv4RxFields::DONT_FRAGMENT != 0,
                    ttl: c.hop_limit,
                    protocol: UDP_PROTOCOL,
                    payload_len: udp_repr.buffer_len(),
                }),
                ETHERTYPE_IPV4,
            ),
            (IpAddr::V6(src), IpAddr::V6(dst)) => (
                IpRepr::V6(Ipv6Repr {
                    src_addr: src.octets(),
                    dst_addr: dst.octets(),
                    traffic_class: c.traffic_class,
                    flow_label: 0,
                    next_header: UDP_PROTOCOL,
                    hop_limit: c.hop_limit,
                    payload_len: udp_repr.buffer_len(),
                }),
                ETHERTYPE_IPV6,
            ),
            _ => return Err(SendError::Unreachable),
        };
        let eth = EthernetRepr {
            dst: mac,
            src: c.mac,
            vlan: c.vlan,
            ethertype,
        };
        let mut header = [0u8; MAX_HEADER_LEN];
        let eh = eth.header_len();
        eth.emit(&mut header).map_err(|_| SendError::TooBig)?;
        let ip_udp = header.get_mut(eh..).ok_or(SendError::TooBig)?;
        let n = emit_headers(&ip, &udp_repr, ip_udp).map_err(|_| SendError::TooBig)?;
        if let IpRepr::V6(v6) = ip {
            let udp_header = ip_udp
                .get_mut(ipv6::HEADER_LEN..ipv6::HEADER_LEN + udp::HEADER_LEN)
                .ok_or(SendError::TooBig)?;
            let sum = udp::ipv6_checksum(&v6.src_addr, &v6.dst_addr, udp_header, datagram);
            UdpRepr {
                checksum: sum,
                ..udp_repr
            }
            .emit(udp_header)
            .map_err(|_| SendError::TooBig)?;
        }
        let hlen = eh + n;
        let bytes = header.get(..hlen).ok_or(SendError::TooBig)?;
        let len = hlen
            .checked_add(datagram.len())
            .ok_or(SendError::TooBig)?
            .max(MIN_FRAME_LEN);
        self.port
            .send_frame(len, &mut |buf| fill_frame(buf, bytes, datagram))
    }
}

impl<P: LinkPort> FrameCarrier<P> {
    fn send_inner(&self, dst: SocketAddr, datagram: &[u8]) -> Result<Sent, SendError> {
        let ip_header_len = match (self.config.local.ip(), dst.ip()) {
            (IpAddr::V4(_), IpAddr::V4(a)) if is_unicast_v4(a) => ipv4::HEADER_LEN,
            (IpAddr::V6(_), IpAddr::V6(a)) if is_unicast_v6(a) => ipv6::HEADER_LEN,
            _ => return Err(SendError::Unreachable),
        };
        let ip_len = datagram
            .len()
            .checked_add(ip_header_len + udp::HEADER_LEN)
            .ok_or(SendError::TooBig)?;
        if ip_len > self.config.ip_mtu {
            return Err(SendError::TooBig);
        }
        let ip = dst.ip();
        let now = self.port.now();
        let plan = {
            let mut n = self.neighbours.lock();
            match n.cache.lookup(ip, now) {
                // A flush of this next hop is under way: join its queue, so
                // this datagram does not overtake the held ones.
                Lookup::Mac(..) if n.pending.flushing(ip) => {
                    Plan::Held(n.pending.hold(dst, datagram, now), false)
                }
                // Held datagrams and nobody flushing them (the answer came
                // while the table had no room, or an ARP merge): this send
                // flushes them first.
                Lookup::Mac(mac, refresh) if n.pending.queued(ip) > 0 => {
                    Plan::FlushThenSend(mac, refresh)
                }
                Lookup::Mac(mac, refresh) => Plan::Send(mac, refresh),
                Lookup::Resolve => Plan::Held(n.pending.hold(dst, datagram, now), true),
                // No entry (the table is full of live resolutions): nothing
                // will resolve it, so it is not held.
                Lookup::Pending if !n.cache.contains(ip) => Plan::Held(Held::default(), false),
                Lookup::Pending => Plan::Held(n.pending.hold(dst, datagram, now), false),
                Lookup::Failed => Plan::Unreachable(n.pending.drop_for(ip)),
            }
        };
        let c = &self.counters;
        match plan {
            Plan::Send(mac, refresh) | Plan::FlushThenSend(mac, refresh) => {
                if matches!(plan, Plan::FlushThenSend(..)) {
                    self.flush(ip, mac);
                }
                let sent = self.send_frame_to(mac, dst, datagram);
                if sent == Err(SendError::WouldBlock) {
                    bump(&c.tx_errors);
                }
                if refresh {
                    self.resolve(ip, Some(mac));
                }
                sent.map(|()| Sent::Framed)
            }
            Plan::Held(held, ask) => {
                add(&c.tx_queue_expired, held.expired);
                if held.replaced {
                    bump(&c.tx_queue_replaced);
                }
                if ask {
                    self.resolve(ip, None);
                }
                if held.held {
                    bump(&c.tx_queued);
                    Ok(Sent::Held)
                } else {
                    bump(&c.tx_no_neighbour);
                    Err(SendError::WouldBlock)
                }
            }
            Plan::Unreachable(dropped) => {
                add(&c.tx_queue_failed, dropped);
                Err(SendError::Unreachable)
            }
        }
    }
}

impl<P: LinkPort> Carrier for FrameCarrier<P> {
    fn local_addr(&self) -> SocketAddr {
        self.config.local
    }

    /// Frames and sends `datagram` if `dst`'s next hop is known; otherwise
    /// starts resolving it (if not asked already) and holds a copy in a
    /// pending slot (`Ok`: sent when the next hop resolves, dropped if it
    /// fails or takes too long), or, with no slot free, returns
    /// `WouldBlock` (see `docs/CARRIER.md`, "The pending queue").
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        let c = &self.counters;
        match self.send_inner(dst, datagram) {
            Ok(Sent::Framed) => {
                bump(&c.tx_frames);
                Ok(())
            }
            Ok(Sent::Held) => Ok(()),
            Err(SendError::WouldBlock) => Err(SendError::WouldBlock),
            Err(e) => {
                bump(&c.tx_errors);
                Err(e)
            }
        }
    }

    fn tx_ipv4(&self) -> Option<TxIpv4> {
        match self.config.local.ip() {
            IpAddr::V4(_) => Some(TxIpv4::ZERO_ID_DF),
            IpAddr::V6(_) => None,
        }
    }

    fn rx_icrc_verifiable(&self) -> bool {
        true
    }

    /// The configured IP MTU of the link (the NIC's MTU). IRQL: any.
    fn ip_mtu(&self) -> Option<usize> {
        Some(self.config.ip_mtu)
    }
}
