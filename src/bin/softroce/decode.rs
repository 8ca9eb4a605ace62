//! `softroce decode`: turns one captured frame into a [`Record`] of its
//! RoCEv2 fields (BTH, extended headers, QP1 MADs and IB CM messages, ICRC
//! check). Owns the choice of fields; the layouts are `softroce::wire`'s and
//! the output formats `record.rs`'s. Must not panic on any input.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use softroce::wire::cm::{CmMad, CmMessage};
use softroce::wire::cma::{gid_ip, parse_service_id};
use softroce::wire::frame::{self, LinkType};
use softroce::wire::mad::{cm_attribute_name, MadPacket, MadRepr, MAD_LEN, MGMT_CLASS_CM};
use softroce::wire::{icrc, ip, BthPacket, Error, PacketRepr, ROCE_V2_UDP_PORT};

use crate::record::Record;

/// What a frame turned out to be.
#[derive(Debug)]
pub enum Outcome {
    /// Not UDP to port 4791 (or not IP at all): not shown.
    NotRoce,
    /// A RoCEv2 packet that decoded and whose ICRC matches.
    Good(Record),
    /// A RoCEv2 packet that is malformed or has a bad ICRC (the record says which).
    Bad(Record),
}

/// The IP addresses and UDP ports of a frame, read leniently (no checksum or
/// length checks) to decide whether it is RoCE at all.
fn locate(ip_packet: &[u8]) -> Option<(IpAddr, IpAddr, u16, u16)> {
    let b = |r: std::ops::Range<usize>| ip_packet.get(r);
    let (src, dst, udp_at) = match ip_packet.first()? >> 4 {
        4 if *ip_packet.get(9)? == ip::UDP_PROTOCOL => {
            let s: [u8; 4] = b(12..16)?.try_into().ok()?;
            let d: [u8; 4] = b(16..20)?.try_into().ok()?;
            let ihl = usize::from(ip_packet.first()? & 0x0F) * 4;
            (
                IpAddr::V4(Ipv4Addr::from(s)),
                IpAddr::V4(Ipv4Addr::from(d)),
                ihl,
            )
        }
        6 if *ip_packet.get(6)? == ip::UDP_PROTOCOL => {
            let s: [u8; 16] = b(8..24)?.try_into().ok()?;
            let d: [u8; 16] = b(24..40)?.try_into().ok()?;
            (
                IpAddr::V6(Ipv6Addr::from(s)),
                IpAddr::V6(Ipv6Addr::from(d)),
                40,
            )
        }
        _ => return None,
    };
    let port = |at: usize| -> Option<u16> {
        let p: [u8; 2] = b(udp_at.checked_add(at)?..udp_at.checked_add(at + 2)?)?
            .try_into()
            .ok()?;
        Some(u16::from_be_bytes(p))
    };
    Some((src, dst, port(0)?, port(2)?))
}

/// Decodes frame number `number` of a capture with link type `link`.
pub fn decode_frame(number: u64, link: LinkType, data: &[u8]) -> Outcome {
    let Ok(ip_packet) = frame::ip_packet(link, data) else {
        return Outcome::NotRoce;
    };
    let Some((src, dst, sport, dport)) = locate(ip_packet) else {
        return Outcome::NotRoce;
    };
    if dport != ROCE_V2_UDP_PORT {
        return Outcome::NotRoce;
    }
    let mut rec = Record::default();
    rec.num("frame", number);
    rec.text("src", src);
    rec.num("sport", sport);
    rec.text("dst", dst);
    rec.num("dport", dport);
    match decode_roce(&mut rec, ip_packet) {
        Ok(true) => Outcome::Good(rec),
        Ok(false) => Outcome::Bad(rec),
        Err(e) => {
            rec.text("error", e);
            Outcome::Bad(rec)
        }
    }
}

/// Fills the transport fields; `Ok(false)` if only the ICRC is bad.
fn decode_roce(rec: &mut Record, ip_packet: &[u8]) -> Result<bool, String> {
    let (ip_header, udp_header, roce) = ip::split(ip_packet).map_err(|e| format!("IP/UDP: {e}"))?;
    let bth = BthPacket::new_checked(roce).map_err(|e| format!("BTH: {e}"))?;
    rec.text("op", bth.opcode());
    let packet = match PacketRepr::parse(roce) {
        Ok(p) => p,
        Err(e) => {
            rec.hex("opcode", bth.opcode().0, 2);
            rec.hex("dqpn", bth.dest_qp(), 6);
            rec.num("psn", bth.psn());
            return Err(e.to_string());
        }
    };
    bth_fields(rec, &packet);
    ext_fields(rec, &packet);
    if packet.bth.dest_qp == 1 && packet.deth.is_some() {
        mad_fields(rec, packet.payload)?;
    }
    rec.num("len", packet.payload.len() as u64);
    let good = match icrc::verify_parts(ip_header, udp_header, roce) {
        Ok(()) => true,
        Err(Error::BadIcrc) => false,
        Err(e) => return Err(format!("ICRC: {e}")),
    };
    rec.text("icrc", if good { "ok" } else { "BAD" });
    Ok(good)
}

fn bth_fields(rec: &mut Record, p: &PacketRepr<'_>) {
    let b = &p.bth;
    rec.hex("opcode", b.opcode.0, 2);
    rec.flag("se", b.solicited);
    rec.flag("m", b.mig_req);
    rec.num("pad", b.pad_count);
    rec.num("tver", b.tver);
    rec.hex("pkey", b.pkey, 4);
    rec.flag("fecn", b.fecn);
    rec.flag("becn", b.becn);
    rec.hex("dqpn", b.dest_qp, 6);
    rec.flag("ack", b.ack_req);
    rec.num("psn", b.psn);
}

fn ext_fields(rec: &mut Record, p: &PacketRepr<'_>) {
    if let Some(d) = &p.deth {
        rec.hex("qkey", d.qkey, 8);
        rec.hex("srcqp", d.src_qp, 6);
    }
    if let Some(r) = &p.reth {
        rec.hex("va", r.va, 16);
        rec.hex("rkey", r.rkey, 8);
        rec.num("dlen", r.dma_len);
    }
    if let Some(a) = &p.atomic_eth {
        rec.hex("va", a.va, 16);
        rec.hex("rkey", a.rkey, 8);
        rec.hex("swap", a.swap_add, 16);
        rec.hex("cmp", a.compare, 16);
    }
    if let Some(a) = &p.aeth {
        rec.hex("syndrome", a.syndrome.to_byte(), 2);
        rec.text("aeth", a.syndrome);
        rec.num("msn", a.msn);
    }
    if let Some(a) = &p.atomic_ack_eth {
        rec.hex("orig", a.orig_data, 16);
    }
    if let Some(i) = p.imm {
        rec.hex("imm", i, 8);
    }
    if let Some(i) = p.ieth {
        rec.hex("ieth", i, 8);
    }
}

/// A MAD on QP1: the common header, and the CM message if it is one.
fn mad_fields(rec: &mut Record, payload: &[u8]) -> Result<(), String> {
    let view = MadPacket::new_checked(payload)
        .map_err(|_| format!("MAD: {} bytes, a MAD has {MAD_LEN}", payload.len()))?;
    let h = MadRepr::parse(&view).map_err(|e| format!("MAD: {e}"))?;
    rec.hex("mad_class", h.mgmt_class, 2);
    rec.hex("mad_method", (u8::from(h.response) << 7) | h.method, 2);
    rec.hex("mad_attr", h.attribute_id, 4);
    rec.hex("mad_tid", h.transaction_id, 16);
    if h.mgmt_class != MGMT_CLASS_CM {
        return Ok(());
    }
    match CmMad::parse(&view) {
        Ok(cm) => cm_fields(rec, &cm.message),
        Err(Error::Unsupported) => {
            // A CM attribute softroce does not decode (LAP, APR, ...), or an
            // unexpected base/class version: named, not an error.
            rec.text(
                "cm",
                cm_attribute_name(h.attribute_id).unwrap_or("unsupported"),
            );
        }
        Err(e) => return Err(format!("CM: {e}")),
    }
    Ok(())
}

fn cm_fields(rec: &mut Record, m: &CmMessage) {
    rec.text("cm", m.name());
    match m {
        CmMessage::Req(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("sid", r.service_id, 16);
            if let Some((ps, port)) = parse_service_id(r.service_id) {
                rec.hex("ps", ps, 4);
                rec.num("port", port);
            }
            rec.hex("lqpn", r.local_qpn, 6);
            rec.num("spsn", r.starting_psn);
            rec.num("mtu", r.path_mtu);
            rec.num("resp_res", r.responder_resources);
            rec.num("init_depth", r.initiator_depth);
            rec.num("retry", r.retry_count);
            rec.num("rnr_retry", r.rnr_retry_count);
            rec.num("tst", r.transport_service_type);
            rec.text("sgid", gid_ip(&r.primary_path.local_gid));
            rec.text("dgid", gid_ip(&r.primary_path.remote_gid));
            rec.hex("flow_label", r.primary_path.flow_label, 5);
            rec.num("hop_limit", r.primary_path.hop_limit);
            if r.alternate_path.is_present() {
                rec.flag("alt_path", true);
            }
            if parse_service_id(r.service_id).is_some() {
                match r.cma_header() {
                    Ok(c) => {
                        rec.text("cma_src", c.src_addr);
                        rec.num("cma_sport", c.src_port);
                        rec.text("cma_dst", c.dst_addr);
                    }
                    Err(e) => rec.text("cma_error", e),
                }
            }
        }
        CmMessage::Rep(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("rcid", r.remote_comm_id, 8);
            rec.hex("lqpn", r.local_qpn, 6);
            rec.num("spsn", r.starting_psn);
            rec.num("resp_res", r.responder_resources);
            rec.num("init_depth", r.initiator_depth);
            rec.num("rnr_retry", r.rnr_retry_count);
            rec.flag("srq", r.srq);
            rec.hex("guid", r.local_ca_guid, 16);
        }
        CmMessage::Rtu(r) | CmMessage::Drep(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("rcid", r.remote_comm_id, 8);
        }
        CmMessage::Dreq(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("rcid", r.remote_comm_id, 8);
            rec.hex("rqpn", r.remote_qpn, 6);
        }
        CmMessage::Rej(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("rcid", r.remote_comm_id, 8);
            rec.num("reason", r.reason.code());
            if let Some(n) = r.reason.name() {
                rec.text("reason_name", n);
            }
            rec.text("rejected", format!("{:?}", r.message_rejected));
        }
        CmMessage::Mra(r) => {
            rec.hex("lcid", r.local_comm_id, 8);
            rec.hex("rcid", r.remote_comm_id, 8);
            rec.text("mraed", format!("{:?}", r.message_mraed));
            rec.num("timeout", r.service_timeout);
        }
        CmMessage::SidrReq(r) => {
            rec.hex("rid", r.request_id, 8);
            rec.hex("sid", r.service_id, 16);
        }
        CmMessage::SidrRep(r) => {
            rec.hex("rid", r.request_id, 8);
            rec.num("status", r.status);
            rec.hex("sidr_qpn", r.qpn, 6);
            rec.hex("sidr_qkey", r.qkey, 8);
            rec.hex("sid", r.service_id, 16);
        }
    }
}
