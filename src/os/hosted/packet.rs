//! The hosted Ethernet frame link: the portable [`FrameCarrier`] (the code
//! the Windows driver runs over its NDIS lower edge) over an `AF_PACKET`
//! socket on a named Linux interface, so the frame path is proven live
//! against Linux rxe. [`PacketPort`] sends whole frames the carrier built
//! (non-blocking `send`); a receive thread reads the frames a classic BPF
//! filter keeps (ARP, and IPv4 UDP to our address and port) and posts each
//! to the platform's DPC engine, which calls `FrameCarrier::on_frame` at
//! DISPATCH_LEVEL. Neighbours are resolved by the carrier itself
//! ([`Resolver::Arp`]); Linux, which owns the address, answers ARP for it.
//! A plain UDP socket bound to the local address and port is drained and
//! discarded so the kernel, which gets its own copy of every frame, sends no
//! ICMP port-unreachable. IPv4 only (ARP), untagged frames only. Needs
//! CAP_NET_RAW. Owns the sockets and the thread; not the framing (that is
//! `crate::link`).

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::engine::{Engine, FrameDelivery, FrameSink};
use super::gate::{GatedSink, ReceiveThread};
use super::sys;
use super::udp::map_open_err;
use crate::link::{FrameCarrier, FrameConfig, LinkPort, LinkStats, Resolver};
use crate::os::{
    irql, Carrier, CarrierError, CarrierOwner, DatagramSink, Instant, Irql, SendError,
};

/// The largest IP MTU the hosted link uses (jumbo frames); a larger
/// interface MTU is capped to it.
pub const MAX_IP_MTU: usize = 9216;
/// Ethernet header + one 802.1Q tag.
const LINK_HEADER_MAX: usize = 18;
/// The send buffer: the largest frame [`PacketPort`] sends.
const MAX_FRAME: usize = MAX_IP_MTU + LINK_HEADER_MAX;
/// Receive buffer of the thread (frames larger are truncated and skipped).
const MAX_RX_FRAME: usize = 65536;
/// Neighbour cache entries of a hosted link.
const NEIGHBOURS: usize = 64;
/// IPv4 TTL of every packet (Linux's default).
const HOP_LIMIT: u8 = 64;
/// Socket buffers: room for bursts while the receive thread is descheduled
/// or the peer is slow to take frames.
const SOCKET_BUFFER: i32 = 4 << 20;

const ETH_P_IPV4: u32 = 0x0800;
const ETH_P_ARP: u32 = 0x0806;
const IPPROTO_UDP: u32 = 17;

/// The classic BPF program of the packet socket: keeps ARP frames, and
/// untagged IPv4 UDP frames to `local` (address and destination port) plus
/// IPv4 non-first fragments to the address (so the carrier can count them);
/// drops everything else in the kernel, so the receive thread only wakes
/// for frames the carrier wants. A frame whose 802.1Q tag the NIC stripped
/// (tag in the skb, not in the data) belongs to another VLAN: dropped.
pub(crate) fn frame_filter(local: SocketAddrV4Parts) -> [libc::sock_filter; 16] {
    use libc::{BPF_ABS, BPF_B, BPF_H, BPF_IND, BPF_JEQ, BPF_JMP, BPF_JSET, BPF_K};
    use libc::{BPF_LD, BPF_LDX, BPF_MSH, BPF_RET, BPF_W};
    const ACCEPT: u32 = 0x4_0000;
    // The ancillary "VLAN tag present" load (linux/filter.h).
    const VLAN_TAG_PRESENT: u32 = (libc::SKF_AD_OFF + libc::SKF_AD_VLAN_TAG_PRESENT) as u32;
    let b = sys::bpf;
    [
        /* 0 */ b(BPF_LD | BPF_B | BPF_ABS, 0, 0, VLAN_TAG_PRESENT),
        /* 1 */ b(BPF_JMP | BPF_JEQ | BPF_K, 0, 13, 0), // tagged -> 15
        /* 2 */ b(BPF_LD | BPF_H | BPF_ABS, 0, 0, 12), // ethertype
        /* 3 */ b(BPF_JMP | BPF_JEQ | BPF_K, 10, 0, ETH_P_ARP), // -> 14
        /* 4 */ b(BPF_JMP | BPF_JEQ | BPF_K, 0, 10, ETH_P_IPV4), // else -> 15
        /* 5 */ b(BPF_LD | BPF_W | BPF_ABS, 0, 0, 30), // IPv4 destination
        /* 6 */ b(BPF_JMP | BPF_JEQ | BPF_K, 0, 8, local.ip), // else -> 15
        /* 7 */ b(BPF_LD | BPF_B | BPF_ABS, 0, 0, 23), // protocol
        /* 8 */ b(BPF_JMP | BPF_JEQ | BPF_K, 0, 6, IPPROTO_UDP), // else -> 15
        /* 9 */ b(BPF_LD | BPF_H | BPF_ABS, 0, 0, 20), // flags + fragment offset
        /* 10 */ b(BPF_JMP | BPF_JSET | BPF_K, 3, 0, 0x1fff), // offset != 0 -> 14
        /* 11 */ b(BPF_LDX | BPF_B | BPF_MSH, 0, 0, 14), // X = IPv4 header length
        /* 12 */ b(BPF_LD | BPF_H | BPF_IND, 0, 0, 14 + 2), // UDP destination port
        /* 13 */
        b(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, u32::from(local.port)), // else -> 15
        /* 14 */ b(BPF_RET | BPF_K, 0, 0, ACCEPT),
        /* 15 */ b(BPF_RET | BPF_K, 0, 0, 0),
    ]
}

/// The local address as the filter compares it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SocketAddrV4Parts {
    /// The IPv4 address as a big-endian word (what `ld [30]` loads).
    pub ip: u32,
    pub port: u16,
}

impl SocketAddrV4Parts {
    fn new(ip: Ipv4Addr, port: u16) -> Self {
        SocketAddrV4Parts {
            ip: u32::from_be_bytes(ip.octets()),
            port,
        }
    }
}

/// The hosted [`LinkPort`]: one `AF_PACKET` socket bound to the interface.
pub struct PacketPort {
    fd: Arc<OwnedFd>,
    engine: Arc<Engine>,
    max_frame: usize,
}

impl std::fmt::Debug for PacketPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketPort")
            .field("max_frame", &self.max_frame)
            .finish_non_exhaustive()
    }
}

fn map_send_err(e: &io::Error) -> SendError {
    match e.raw_os_error() {
        Some(libc::EAGAIN) | Some(libc::ENOBUFS) | Some(libc::EINTR) => SendError::WouldBlock,
        Some(libc::EMSGSIZE) => SendError::TooBig,
        Some(libc::EBADF) | Some(libc::ENETDOWN) | Some(libc::ENXIO) | Some(libc::ENODEV) => {
            SendError::Closed
        }
        _ => SendError::Unreachable,
    }
}

impl LinkPort for PacketPort {
    /// Fills a stack buffer and sends it as one frame, without blocking.
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn send_frame(&self, len: usize, fill: &mut dyn FnMut(&mut [u8])) -> Result<(), SendError> {
        irql::assert_at_most(Irql::Dispatch, "LinkPort::send_frame");
        if len > self.max_frame {
            return Err(SendError::TooBig);
        }
        let mut buf = [0u8; MAX_FRAME];
        let frame = buf.get_mut(..len).ok_or(SendError::TooBig)?;
        fill(frame);
        match sys::send(&self.fd, frame) {
            Ok(n) if n == len => Ok(()),
            Ok(_) => Err(SendError::WouldBlock),
            Err(e) => Err(map_send_err(&e)),
        }
    }

    /// Not used: the hosted link resolves with [`Resolver::Arp`].
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    fn request_resolution(&self, _dst: IpAddr) {}

    /// The platform engine's clock.
    ///
    /// IRQL: any.
    fn now(&self) -> Instant {
        self.engine.now()
    }
}

impl<P: LinkPort> FrameSink for FrameCarrier<P> {
    /// IRQL: DISPATCH_LEVEL (the engine's delivery).
    fn on_frame(&self, frame: &[u8]) {
        // The kernel got its own copy of the frame: nothing to pass up.
        let _verdict = FrameCarrier::on_frame(self, frame);
    }
}

/// An open hosted frame link: a [`FrameCarrier`] over a [`PacketPort`] and
/// its receive thread. Dropping it stops the thread; after the drop returns
/// the sink is not called again.
pub struct FrameLink {
    carrier: Arc<FrameCarrier<PacketPort>>,
    interface: String,
    _rx: ReceiveThread,
}

impl std::fmt::Debug for FrameLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FrameLink")
            .field("interface", &self.interface)
            .field("config", self.carrier.config())
            .finish_non_exhaustive()
    }
}

impl FrameLink {
    /// Opens the link on interface `ifname` for `local` (an IPv4 address of
    /// this host on that interface, port 4791). Errors: IPv6 `local` ->
    /// `Os(EAFNOSUPPORT)`; no such interface -> `Os(ENODEV)`; not Ethernet
    /// -> `Os(EOPNOTSUPP)`; no CAP_NET_RAW -> `Os(EPERM)`; the address is not
    /// this host's -> `AddressNotAvailable`; the port is taken ->
    /// `AddressInUse`.
    ///
    /// IRQL: PASSIVE_LEVEL.
    pub(crate) fn open(
        engine: &Arc<Engine>,
        ifname: &str,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
    ) -> Result<FrameLink, CarrierError> {
        irql::assert_passive("FrameLink::open");
        let IpAddr::V4(ip) = local.ip() else {
            return Err(CarrierError::Os(libc::EAFNOSUPPORT));
        };
        let ifc = sys::interface(ifname).map_err(|e| match e.kind() {
            io::ErrorKind::Unsupported => CarrierError::Os(libc::EOPNOTSUPP),
            _ => map_open_err(e),
        })?;
        // The UDP socket first: it checks the address is ours and the port
        // free, and it keeps the kernel from answering port-unreachable.
        let udp = sys::udp_socket(local).map_err(map_open_err)?;
        let local = sys::local_addr(&udp).map_err(map_open_err)?;
        // Its copies are only drained; a full buffer would just count
        // RcvbufErrors, but keep the books clean under bursts.
        sys::set_recv_buffer(&udp, SOCKET_BUFFER);
        let mut prog = frame_filter(SocketAddrV4Parts::new(ip, local.port()));
        let fd = sys::packet_socket(ifc.index, &mut prog).map_err(map_open_err)?;
        sys::set_recv_buffer(&fd, SOCKET_BUFFER);
        // Frames queued behind a slow peer (a TCG guest's tap) stay charged
        // to the socket, and EAGAIN is a lost packet to the transport: room
        // for a few 64 KiB message bursts instead of the default 208 KiB.
        sys::set_send_buffer(&fd, SOCKET_BUFFER);
        let fd = Arc::new(fd);
        let ip_mtu = usize::try_from(ifc.mtu)
            .unwrap_or(MAX_IP_MTU)
            .min(MAX_IP_MTU);
        let config = FrameConfig {
            local,
            mac: ifc.mac,
            ip_mtu,
            vlan: None,
            traffic_class: 0,
            hop_limit: HOP_LIMIT,
            resolver: Resolver::Arp,
            neighbours: NEIGHBOURS,
            pending: crate::link::DEFAULT_PENDING,
        };
        let port = PacketPort {
            fd: fd.clone(),
            engine: engine.clone(),
            max_frame: ip_mtu + LINK_HEADER_MAX,
        };
        let gate = GatedSink::new(sink);
        let carrier = FrameCarrier::new(config, port, gate.clone()).map_err(|e| match e {
            crate::link::carrier::FrameConfigError::Invalid => CarrierError::Os(libc::EINVAL),
            crate::link::carrier::FrameConfigError::NoMemory => CarrierError::Os(libc::ENOMEM),
        })?;
        let carrier = Arc::new(carrier);
        let stop = Arc::new(AtomicBool::new(false));
        let rx = Receiver {
            engine: engine.clone(),
            packet: fd,
            udp,
            carrier: carrier.clone(),
            stop: stop.clone(),
        };
        let rx = ReceiveThread::spawn(format!("link-{ifname}"), stop, gate, move || rx.run())
            .map_err(map_open_err)?;
        Ok(FrameLink {
            carrier,
            interface: ifname.to_string(),
            _rx: rx,
        })
    }

    /// The carrier's counters (frames, ARP, drops).
    ///
    /// IRQL: <= DISPATCH_LEVEL.
    pub fn stats(&self) -> LinkStats {
        self.carrier.stats()
    }

    /// The configuration the link was opened with (interface MAC and MTU).
    ///
    /// IRQL: any.
    pub fn config(&self) -> FrameConfig {
        *self.carrier.config()
    }

    /// The interface name.
    ///
    /// IRQL: any.
    pub fn interface(&self) -> &str {
        &self.interface
    }
}

impl CarrierOwner for FrameLink {
    fn carrier(&self) -> &dyn Carrier {
        &*self.carrier
    }
}

struct Receiver {
    engine: Arc<Engine>,
    packet: Arc<OwnedFd>,
    udp: OwnedFd,
    carrier: Arc<FrameCarrier<PacketPort>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    fn run(self) {
        let mut buf = vec![0u8; MAX_RX_FRAME];
        while !self.stop.load(Ordering::SeqCst) {
            let Ok([frames, udp]) = sys::poll_readable([&*self.packet, &self.udp], 50) else {
                return;
            };
            if frames {
                self.drain_frames(&mut buf);
            }
            if udp {
                // The kernel's copies of the datagrams the carrier delivers.
                while sys::recv(&self.udp, &mut buf).is_ok() {}
            }
        }
    }

    fn drain_frames(&self, buf: &mut [u8]) {
        loop {
            match sys::recv_frame(&self.packet, buf) {
                Ok((_, sys::PACKET_OUTGOING)) => {}
                Ok((n, _)) => self.engine.deliver_frame_now(FrameDelivery {
                    sink: self.carrier.clone(),
                    frame: buf.get(..n).unwrap_or(&[]).to_vec(),
                }),
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(_) => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! The BPF program, run by a small interpreter of the instructions it
    //! uses, against frames built here.
    use super::*;

    fn run_tagged(prog: &[libc::sock_filter], pkt: &[u8], vlan_tag_present: bool) -> u32 {
        let (mut a, mut x, mut pc) = (0u32, 0u32, 0usize);
        let byte = |at: usize| u32::from(*pkt.get(at).unwrap_or(&0));
        let half = |at: usize| byte(at) << 8 | byte(at + 1);
        loop {
            let i = prog[pc];
            let code = u32::from(i.code);
            pc += 1;
            use libc::*;
            match code {
                c if c == BPF_LD | BPF_H | BPF_ABS => {
                    if i.k as usize + 2 > pkt.len() {
                        return 0;
                    }
                    a = half(i.k as usize)
                }
                c if c == BPF_LD | BPF_B | BPF_ABS && i.k >= SKF_AD_OFF as u32 => {
                    assert_eq!(i.k, (SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT) as u32);
                    a = u32::from(vlan_tag_present)
                }
                c if c == BPF_LD | BPF_B | BPF_ABS => {
                    if i.k as usize >= pkt.len() {
                        return 0;
                    }
                    a = byte(i.k as usize)
                }
                c if c == BPF_LD | BPF_W | BPF_ABS => {
                    if i.k as usize + 4 > pkt.len() {
                        return 0;
                    }
                    a = half(i.k as usize) << 16 | half(i.k as usize + 2)
                }
                c if c == BPF_LDX | BPF_B | BPF_MSH => x = (byte(i.k as usize) & 0xf) * 4,
                c if c == BPF_LD | BPF_H | BPF_IND => {
                    let at = (x + i.k) as usize;
                    if at + 2 > pkt.len() {
                        return 0;
                    }
                    a = half(at)
                }
                c if c == BPF_JMP | BPF_JEQ | BPF_K => {
                    pc += usize::from(if a == i.k { i.jt } else { i.jf })
                }
                c if c == BPF_JMP | BPF_JSET | BPF_K => {
                    pc += usize::from(if a & i.k != 0 { i.jt } else { i.jf })
                }
                c if c == BPF_RET | BPF_K => return i.k,
                other => panic!("opcode {other:#x} not interpreted"),
            }
        }
    }

    fn run(prog: &[libc::sock_filter], pkt: &[u8]) -> u32 {
        run_tagged(prog, pkt, false)
    }

    fn ipv4_udp(dst: [u8; 4], proto: u8, frag: u16, dport: u16) -> Vec<u8> {
        let mut f = vec![0u8; 14];
        f[12..14].copy_from_slice(&0x0800u16.to_be_bytes());
        let mut ip = vec![0x45, 0, 0, 28, 0, 0, 0, 0, 64, proto, 0, 0, 10, 0, 0, 2];
        ip[6..8].copy_from_slice(&frag.to_be_bytes());
        ip.extend_from_slice(&dst);
        f.extend_from_slice(&ip);
        f.extend_from_slice(&1000u16.to_be_bytes());
        f.extend_from_slice(&dport.to_be_bytes());
        f.extend_from_slice(&[0, 8, 0, 0]);
        f
    }

    #[test]
    fn the_filter_keeps_arp_and_roce_to_us_and_nothing_else() {
        let prog = frame_filter(SocketAddrV4Parts::new(Ipv4Addr::new(10, 0, 0, 1), 4791));
        let us = [10, 0, 0, 1];
        assert_ne!(run(&prog, &ipv4_udp(us, 17, 0x4000, 4791)), 0);
        assert_eq!(run(&prog, &ipv4_udp(us, 17, 0x4000, 53)), 0, "other port");
        assert_eq!(
            run(&prog, &ipv4_udp([10, 0, 0, 3], 17, 0x4000, 4791)),
            0,
            "other host"
        );
        assert_eq!(run(&prog, &ipv4_udp(us, 6, 0x4000, 4791)), 0, "TCP");
        assert_ne!(
            run(&prog, &ipv4_udp(us, 17, 0x0010, 1)),
            0,
            "a non-first fragment reaches the carrier, which counts it"
        );
        let mut arp = vec![0u8; 42];
        arp[12..14].copy_from_slice(&0x0806u16.to_be_bytes());
        assert_ne!(run(&prog, &arp), 0);
        let mut v6 = ipv4_udp(us, 17, 0x4000, 4791);
        v6[12..14].copy_from_slice(&0x86ddu16.to_be_bytes());
        assert_eq!(run(&prog, &v6), 0, "IPv6");
        let mut tagged = ipv4_udp(us, 17, 0x4000, 4791);
        tagged[12..14].copy_from_slice(&0x8100u16.to_be_bytes());
        assert_eq!(run(&prog, &tagged), 0, "802.1Q in the frame");
        let roce = ipv4_udp(us, 17, 0x4000, 4791);
        assert_eq!(
            run_tagged(&prog, &roce, true),
            0,
            "802.1Q tag stripped by the NIC (another VLAN)"
        );
        // An IHL of 6 (options) moves the UDP header.
        let mut opts = ipv4_udp(us, 17, 0x4000, 9);
        opts[14] = 0x46;
        opts.splice(34..34, [0u8; 4]);
        assert_eq!(&opts[40..42], &9u16.to_be_bytes());
        assert_eq!(run(&prog, &opts), 0, "options, other port");
        opts[40..42].copy_from_slice(&4791u16.to_be_bytes());
        assert_ne!(run(&prog, &opts), 0, "options");
        assert_eq!(run(&prog, &opts[..30]), 0, "truncated");
    }
}
