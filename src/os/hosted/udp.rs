//! The hosted UDP carrier: a socket bound to the adapter's address and port
//! (4791), non-blocking sends with IPv4 ID 0 + DF (`IP_PMTUDISC_DO`), and a
//! receive thread that hands datagrams to the DPC engine. For IPv4 it reads
//! whole packets from a raw socket so the ICRC's IP fields are known; without
//! CAP_NET_RAW it falls back to the UDP socket and reports
//! `RxIp::V4Unverifiable`. IPv6 uses the UDP socket with `IPV6_RECVPKTINFO`.
//! Owns the sockets and the thread; not the ICRC.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::engine::{Delivery, Engine};
use super::gate::{GatedSink, ReceiveThread};
use super::sys;
use crate::os::{
    irql, Carrier, CarrierError, DatagramSink, Ipv4RxFields, Irql, RxIp, SendError, TxIpv4,
};

/// Whether the carrier may use a raw socket to see IPv4 headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawReceive {
    /// Try the raw socket; fall back to the UDP socket if not permitted.
    Auto,
    /// Never: always the UDP socket (ICRC of IPv4 peers unverifiable).
    Off,
}

pub(crate) struct UdpCarrier {
    udp: Arc<OwnedFd>,
    local: SocketAddr,
    raw: bool,
    /// The MTU of the interface holding `local` when it opened.
    ip_mtu: Option<usize>,
    _rx: ReceiveThread,
}

/// An open-time errno as a [`CarrierError`].
pub(crate) fn map_open_err(e: io::Error) -> CarrierError {
    match e.raw_os_error() {
        Some(libc::EADDRINUSE) => CarrierError::AddressInUse,
        Some(libc::EADDRNOTAVAIL) => CarrierError::AddressNotAvailable,
        Some(n) => CarrierError::Os(n),
        None => CarrierError::Os(-1),
    }
}

impl UdpCarrier {
    pub(crate) fn open(
        engine: &Arc<Engine>,
        local: SocketAddr,
        sink: Arc<dyn DatagramSink>,
        raw_policy: RawReceive,
    ) -> Result<UdpCarrier, CarrierError> {
        let udp = Arc::new(sys::udp_socket(local).map_err(map_open_err)?);
        let local = sys::local_addr(&udp).map_err(map_open_err)?;
        let ip_mtu = sys::interface_mtu(&udp, local.ip());
        let raw = match (local.ip(), raw_policy) {
            (IpAddr::V4(ip), RawReceive::Auto) => sys::raw_udp4(ip)
                .and_then(|raw| sys::filter_udp_dport(&raw, local.port()).map(|()| raw))
                .ok(),
            _ => None,
        };
        sys::set_recv_buffer(&udp, RECV_BUFFER);
        if let Some(raw) = &raw {
            sys::set_recv_buffer(raw, RECV_BUFFER);
        }
        let gate = GatedSink::new(sink);
        let stop = Arc::new(AtomicBool::new(false));
        let rx = Receiver {
            engine: engine.clone(),
            udp: udp.clone(),
            raw,
            local,
            sink: gate.clone(),
            stop: stop.clone(),
        };
        let has_raw = rx.raw.is_some();
        let rx = ReceiveThread::spawn(format!("carrier-{local}"), stop, gate, move || rx.run())
            .map_err(map_open_err)?;
        Ok(UdpCarrier {
            udp,
            local,
            raw: has_raw,
            ip_mtu,
            _rx: rx,
        })
    }
}

impl Carrier for UdpCarrier {
    fn local_addr(&self) -> SocketAddr {
        self.local
    }

    fn send(&self, dst: SocketAddr, datagram: &[u8]) -> Result<(), SendError> {
        irql::assert_at_most(Irql::Dispatch, "Carrier::send");
        if dst.is_ipv4() != self.local.is_ipv4() {
            return Err(SendError::Unreachable);
        }
        match sys::send_to(&self.udp, datagram, dst) {
            Ok(_) => Ok(()),
            Err(e) => Err(match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => SendError::WouldBlock,
                Some(libc::EMSGSIZE) => SendError::TooBig,
                Some(libc::EBADF) => SendError::Closed,
                _ => SendError::Unreachable,
            }),
        }
    }

    fn tx_ipv4(&self) -> Option<TxIpv4> {
        self.local.is_ipv4().then_some(TxIpv4::ZERO_ID_DF)
    }

    fn rx_icrc_verifiable(&self) -> bool {
        self.local.is_ipv6() || self.raw
    }

    /// The MTU of the interface holding the local address, read when the
    /// carrier opened (a later change is not seen).
    fn ip_mtu(&self) -> Option<usize> {
        self.ip_mtu
    }
}

struct Receiver {
    engine: Arc<Engine>,
    udp: Arc<OwnedFd>,
    raw: Option<OwnedFd>,
    local: SocketAddr,
    sink: Arc<GatedSink>,
    stop: Arc<AtomicBool>,
}

const MAX_PACKET: usize = 65536;
/// Socket receive buffers: room for bursts while the receive thread is descheduled.
const RECV_BUFFER: i32 = 4 << 20;

impl Receiver {
    fn run(self) {
        let mut buf = vec![0u8; MAX_PACKET];
        while !self.stop.load(Ordering::SeqCst) {
            let ready = match &self.raw {
                Some(raw) => sys::poll_readable([&*self.udp, raw], 50),
                None => sys::poll_readable([&*self.udp], 50).map(|[u]| [u, false]),
            };
            let Ok([udp_ready, raw_ready]) = ready else {
                return;
            };
            if udp_ready {
                self.drain_udp(&mut buf);
            }
            if raw_ready {
                self.drain_raw(&mut buf);
            }
        }
    }

    fn deliver(&self, src: SocketAddr, dst: SocketAddr, ip: RxIp, payload: &[u8]) {
        self.engine.deliver_now(Delivery {
            sink: self.sink.clone(),
            src,
            dst,
            ip,
            payload: payload.to_vec(),
        });
    }

    fn drain_udp(&self, buf: &mut [u8]) {
        while let Ok((n, src, pktinfo)) = sys::recv_msg(&self.udp, buf) {
            // With the raw socket active it delivers IPv4; this copy is dropped.
            if self.raw.is_some() {
                continue;
            }
            let payload = buf.get(..n).unwrap_or(&[]);
            let (dst, ip) = match self.local {
                SocketAddr::V4(_) => (self.local, RxIp::V4Unverifiable),
                SocketAddr::V6(_) => {
                    let dst = pktinfo
                        .map(|a| SocketAddr::new(IpAddr::V6(a), self.local.port()))
                        .unwrap_or(self.local);
                    let Ok(payload_length) = u16::try_from(n + 8) else {
                        continue;
                    };
                    (dst, RxIp::V6 { payload_length })
                }
            };
            self.deliver(src, dst, ip, payload);
        }
    }

    fn drain_raw(&self, buf: &mut [u8]) {
        let Some(raw) = &self.raw else { return };
        while let Ok(n) = sys::recv(raw, buf) {
            if let Some((src, dst, fields, range)) = parse_ipv4_udp(buf.get(..n).unwrap_or(&[])) {
                let ours = dst.port() == self.local.port()
                    && (self.local.ip().is_unspecified() || dst.ip() == self.local.ip());
                if ours {
                    let payload = buf.get(range).unwrap_or(&[]);
                    self.deliver(src, dst, RxIp::V4(fields), payload);
                }
            }
        }
    }
}

fn be16(p: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*p.get(at)?, *p.get(at + 1)?]))
}

/// Parses an IPv4 packet carrying UDP: (src, dst, IP fields, payload range).
fn parse_ipv4_udp(
    p: &[u8],
) -> Option<(SocketAddr, SocketAddr, Ipv4RxFields, std::ops::Range<usize>)> {
    let b0 = *p.first()?;
    if b0 >> 4 != 4 || *p.get(9)? != 17 {
        return None;
    }
    let ihl = b0 & 0x0f;
    let hl = usize::from(ihl) * 4;
    if hl < 20 {
        return None;
    }
    let fields = Ipv4RxFields {
        ihl,
        total_length: be16(p, 2)?,
        identification: be16(p, 4)?,
        flags_fragment: be16(p, 6)?,
    };
    let src_ip = Ipv4Addr::new(*p.get(12)?, *p.get(13)?, *p.get(14)?, *p.get(15)?);
    let dst_ip = Ipv4Addr::new(*p.get(16)?, *p.get(17)?, *p.get(18)?, *p.get(19)?);
    let sport = be16(p, hl)?;
    let dport = be16(p, hl + 2)?;
    let ulen = usize::from(be16(p, hl + 4)?);
    if ulen < 8 || hl + ulen > p.len() {
        return None;
    }
    Some((
        SocketAddr::new(IpAddr::V4(src_ip), sport),
        SocketAddr::new(IpAddr::V4(dst_ip), dport),
        fields,
        hl + 8..hl + ulen,
    ))
}
