//! RoCEv2 framing of the adapter's datagrams, receive and send, over `wire`:
//! [`classify`] checks a received UDP payload (format, ICRC over the IP
//! fields the carrier reports, P_Key 0xFFFF, TVer 0) and says where it goes
//! (a MAD for QP1, a packet for another QPN, or why it is dropped);
//! [`frame_mad`] builds the UD SEND_ONLY that carries one CM MAD to the
//! peer's QP1 (DETH Q_Key 0x80010000, SrcQP 1, AckReq 1 as rxe sends, zero
//! pad, ICRC over the IPv4 header the carrier will send (ID/flags from
//! `Carrier::tx_ipv4`) or the IPv6 header).
//!
//! A small QP1 of our own, to be reconciled with the transport branch's
//! `transport::UdQp` at the merge (`docs/CM.md`, integration). Owns no
//! state; must not know CM messages (the MAD is opaque bytes here).
#![deny(unsafe_code)]

use core::net::{IpAddr, SocketAddr};

use crate::os::{Received, RxIp, TxIpv4};
use crate::wire::ip::UDP_PROTOCOL;
use crate::wire::mad::MAD_LEN;
use crate::wire::{
    icrc, BthRepr, DethRepr, Ipv4Repr, Ipv6Repr, Opcode, PacketRepr, UdpRepr, DEFAULT_PKEY,
    GSI_QKEY, ROCE_V2_UDP_PORT,
};

/// The QP number of the General Services Interface (CM MADs).
pub(crate) const GSI_QPN: u32 = 1;

/// Bytes of a UD SEND_ONLY carrying one MAD: BTH 12 + DETH 8 + 256 + ICRC 4.
pub(crate) const MAD_PACKET_LEN: usize = 12 + 8 + MAD_LEN + 4;

/// Why a received datagram was dropped (each one is counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// Not a well-formed RoCEv2 packet (or TVer != 0).
    Malformed,
    /// The ICRC does not match the packet and the IP fields it arrived with.
    BadIcrc,
    /// IPv4 without its header fields (a carrier without the raw path): the
    /// ICRC cannot be checked, so the packet is not trusted (policy).
    Unverifiable,
    /// P_Key other than the default 0xFFFF.
    PKey,
    /// Addressed to QP1 but not a UD SEND_ONLY with the GSI Q_Key from QP1.
    NotGsi,
}

/// Where a received datagram goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Rx<'a> {
    /// A MAD for the CM (QP1), from the peer's IP.
    Mad(IpAddr, &'a [u8]),
    /// A packet for another QP (the data path), already parsed and checked.
    Qp(PacketRepr<'a>),
    /// Dropped, and why.
    Drop(Dropped),
}

/// Writes into `out` the IP header the ICRC covers (its masked fields 0)
/// of a UDP datagram between `src` and `dst` with `payload_len` bytes after
/// the IP header; IPv4 with identification and DF `v4`. Returns its length.
fn ip_header(
    src: IpAddr,
    dst: IpAddr,
    v4: TxIpv4,
    payload_len: usize,
    out: &mut [u8; 40],
) -> Option<usize> {
    let ip = match (src, dst) {
        (IpAddr::V4(src), IpAddr::V4(dst)) => crate::wire::IpRepr::V4(Ipv4Repr {
            src_addr: src.octets(),
            dst_addr: dst.octets(),
            tos: 0,
            ident: v4.identification,
            dont_frag: v4.flags_fragment != 0,
            ttl: 0,
            protocol: UDP_PROTOCOL,
            payload_len,
        }),
        (IpAddr::V6(src), IpAddr::V6(dst)) => crate::wire::IpRepr::V6(Ipv6Repr {
            src_addr: src.octets(),
            dst_addr: dst.octets(),
            traffic_class: 0,
            flow_label: 0,
            next_header: UDP_PROTOCOL,
            hop_limit: 0,
            payload_len,
        }),
        _ => return None,
    };
    let hl = ip.header_len();
    ip.emit(out.get_mut(..hl)?).ok()?;
    Some(hl)
}

/// The IP header the ICRC covers, rebuilt from what the carrier reports.
fn rx_ip_header(d: &Received<'_>, out: &mut [u8; 40]) -> Result<usize, Dropped> {
    let (v4, payload_len) = match d.ip {
        RxIp::V4(f) => {
            // Fragments and options never carry RoCE we can check.
            if f.ihl != 5 || f.flags_fragment & !TxIpv4::ZERO_ID_DF.flags_fragment != 0 {
                return Err(Dropped::BadIcrc);
            }
            let v4 = TxIpv4 {
                identification: f.identification,
                flags_fragment: f.flags_fragment,
            };
            (v4, usize::from(f.total_length).saturating_sub(20))
        }
        RxIp::V6 { payload_length } => (TxIpv4::ZERO_ID_DF, usize::from(payload_length)),
        RxIp::V4Unverifiable => return Err(Dropped::Unverifiable),
    };
    let (src, dst) = (d.src.ip(), d.dst.ip());
    let family_ok = matches!(
        (d.ip, src),
        (RxIp::V4(_), IpAddr::V4(_)) | (RxIp::V6 { .. }, IpAddr::V6(_))
    );
    if !family_ok {
        return Err(Dropped::Malformed);
    }
    ip_header(src, dst, v4, payload_len, out).ok_or(Dropped::Malformed)
}

/// The UDP header of a datagram, as the ICRC covers it (checksum masked).
fn udp_header(src_port: u16, dst_port: u16, payload_len: usize) -> Result<[u8; 8], Dropped> {
    let mut out = [0u8; 8];
    UdpRepr {
        src_port,
        dst_port,
        checksum: 0,
        payload_len,
    }
    .emit(&mut out[..])
    .map_err(|_| Dropped::Malformed)?;
    Ok(out)
}

/// Checks a received datagram and says where it goes (see the module doc).
///
/// IRQL: <= DISPATCH_LEVEL (no allocation).
pub(crate) fn classify<'a>(d: &Received<'a>) -> Rx<'a> {
    let repr = match PacketRepr::parse(d.payload) {
        Ok(r) => r,
        Err(_) => return Rx::Drop(Dropped::Malformed),
    };
    let mut ip = [0u8; 40];
    let hl = match rx_ip_header(d, &mut ip) {
        Ok(hl) => hl,
        Err(e) => return Rx::Drop(e),
    };
    let udp = match udp_header(d.src.port(), d.dst.port(), d.payload.len()) {
        Ok(u) => u,
        Err(e) => return Rx::Drop(e),
    };
    let ip = ip.get(..hl).unwrap_or(&[]);
    if icrc::verify_parts(ip, &udp, d.payload).is_err() {
        return Rx::Drop(Dropped::BadIcrc);
    }
    if repr.bth.pkey != DEFAULT_PKEY {
        return Rx::Drop(Dropped::PKey);
    }
    if repr.bth.dest_qp != GSI_QPN {
        return Rx::Qp(repr);
    }
    match repr.deth {
        Some(deth)
            if repr.bth.opcode == Opcode::UD_SEND_ONLY
                && deth.qkey == GSI_QKEY
                && deth.src_qp == GSI_QPN =>
        {
            Rx::Mad(d.src.ip(), repr.payload)
        }
        _ => Rx::Drop(Dropped::NotGsi),
    }
}

/// The BTH and DETH of a MAD from our QP1 to the peer's (rxe's values).
fn mad_repr(psn: u32, mad: &[u8; MAD_LEN]) -> PacketRepr<'_> {
    let bth = BthRepr {
        opcode: Opcode::UD_SEND_ONLY,
        solicited: false,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: DEFAULT_PKEY,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp: GSI_QPN,
        ack_req: true,
        resv7: 0,
        psn: psn & 0xFF_FFFF,
    };
    let mut repr = PacketRepr::new(bth, mad);
    repr.deth = Some(DethRepr {
        qkey: GSI_QKEY,
        src_qp: GSI_QPN,
        resv8: 0,
    });
    repr
}

/// Builds into `buf` the UD SEND_ONLY carrying `mad` from our QP1 at
/// `local` (address; UDP source port = `local.port()`) to the peer's QP1
/// at `peer`, with `psn`, ICRC included. `tx_ipv4` is what the carrier
/// stamps into IPv4 headers (`None`: IPv6, or unknown, then ID 0 + DF is
/// assumed). Returns the UDP payload length ([`MAD_PACKET_LEN`]).
///
/// IRQL: <= DISPATCH_LEVEL (no allocation).
pub(crate) fn frame_mad(
    buf: &mut [u8; MAD_PACKET_LEN],
    local: SocketAddr,
    peer: IpAddr,
    psn: u32,
    mad: &[u8; MAD_LEN],
    tx_ipv4: Option<TxIpv4>,
) -> Option<usize> {
    frame(&mut buf[..], local, peer, &mad_repr(psn, mad), tx_ipv4)
}

/// Emits `repr` into `buf` and fills its ICRC over the IP and UDP headers
/// the carrier will send from `local` to `peer`:4791. Returns the length.
///
/// IRQL: <= DISPATCH_LEVEL (no allocation).
pub(crate) fn frame(
    buf: &mut [u8],
    local: SocketAddr,
    peer: IpAddr,
    repr: &PacketRepr<'_>,
    tx_ipv4: Option<TxIpv4>,
) -> Option<usize> {
    let len = repr.emit(buf).ok()?;
    seal(buf.get_mut(..len)?, local, peer, tx_ipv4)?;
    Some(len)
}

/// Fills the ICRC of an emitted UDP payload (BTH through the 4 ICRC
/// bytes) over the IP and UDP headers the carrier will send from `local`
/// to `peer`:4791 (IPv4: identification and DF as `tx_ipv4` says, else
/// ID 0 + DF). Used for MADs and for the data path's RC packets alike.
///
/// IRQL: <= DISPATCH_LEVEL (no allocation).
pub(crate) fn seal(
    udp_payload: &mut [u8],
    local: SocketAddr,
    peer: IpAddr,
    tx_ipv4: Option<TxIpv4>,
) -> Option<()> {
    let len = udp_payload.len();
    let mut hdr = [0u8; 40];
    let v4 = tx_ipv4.unwrap_or(TxIpv4::ZERO_ID_DF);
    let hl = ip_header(local.ip(), peer, v4, len.checked_add(8)?, &mut hdr)?;
    let udp = udp_header(local.port(), ROCE_V2_UDP_PORT, len).ok()?;
    icrc::fill_parts(hdr.get(..hl)?, &udp, udp_payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::os::Ipv4RxFields;
    use core::net::Ipv4Addr;

    fn addr(last: u8) -> SocketAddr {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, last)), ROCE_V2_UDP_PORT)
    }

    fn received(buf: &[u8], ip: RxIp) -> Received<'_> {
        Received {
            src: addr(1),
            dst: addr(2),
            ip,
            payload: buf,
        }
    }

    const V4: RxIp = RxIp::V4(Ipv4RxFields {
        ihl: 5,
        total_length: (MAD_PACKET_LEN + 28) as u16,
        identification: 0,
        flags_fragment: 0x4000,
    });

    #[test]
    fn p_key_qpn_and_gsi_rules() {
        let mad = [0u8; MAD_LEN];
        let mut buf = [0u8; MAD_PACKET_LEN];
        let (from, to) = (addr(1), addr(2).ip());
        let mut r = mad_repr(1, &mad);
        r.bth.pkey = 0x7FFF;
        frame(&mut buf, from, to, &r, None).unwrap();
        assert_eq!(classify(&received(&buf, V4)), Rx::Drop(Dropped::PKey));
        let mut r = mad_repr(1, &mad);
        r.bth.dest_qp = 0x11;
        frame(&mut buf, from, to, &r, None).unwrap();
        assert!(matches!(classify(&received(&buf, V4)), Rx::Qp(p) if p.bth.dest_qp == 0x11));
        let mut r = mad_repr(1, &mad);
        r.deth = Some(DethRepr {
            qkey: 0x1234,
            src_qp: GSI_QPN,
            resv8: 0,
        });
        frame(&mut buf, from, to, &r, None).unwrap();
        assert_eq!(classify(&received(&buf, V4)), Rx::Drop(Dropped::NotGsi));
        let mut r = mad_repr(1, &mad);
        r.deth = Some(DethRepr {
            qkey: GSI_QKEY,
            src_qp: 7,
            resv8: 0,
        });
        frame(&mut buf, from, to, &r, None).unwrap();
        assert_eq!(classify(&received(&buf, V4)), Rx::Drop(Dropped::NotGsi));
    }

    #[test]
    fn a_framed_mad_classifies_as_a_mad_and_each_fault_drops_it() {
        let mut mad = [0u8; MAD_LEN];
        mad[0] = 1;
        mad[255] = 0xEE;
        let mut buf = [0u8; MAD_PACKET_LEN];
        let len = frame_mad(&mut buf, addr(1), addr(2).ip(), 7, &mad, None).unwrap();
        assert_eq!(len, MAD_PACKET_LEN);
        assert_eq!(
            classify(&received(&buf, V4)),
            Rx::Mad(addr(1).ip(), &mad[..])
        );
        // Another identification than the one the ICRC was computed over.
        let other = RxIp::V4(Ipv4RxFields {
            identification: 1,
            ..match V4 {
                RxIp::V4(f) => f,
                _ => unreachable!(),
            }
        });
        assert_eq!(classify(&received(&buf, other)), Rx::Drop(Dropped::BadIcrc));
        assert_eq!(
            classify(&received(&buf, RxIp::V4Unverifiable)),
            Rx::Drop(Dropped::Unverifiable)
        );
        let mut flipped = buf;
        flipped[40] ^= 1;
        assert_eq!(
            classify(&received(&flipped, V4)),
            Rx::Drop(Dropped::BadIcrc)
        );
        assert_eq!(
            classify(&received(&buf[..30], V4)),
            Rx::Drop(Dropped::Malformed)
        );
    }
}
