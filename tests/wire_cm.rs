//! Golden-vector tests of the MAD, IB CM and RDMA-CM wire code against the
//! real rxe captures in `tests/data/`: every QP1 MAD parses, re-emits to the
//! same 256 bytes, and the fields agree with the IP/BTH layers around them.

mod wire_support;

use std::net::{IpAddr, Ipv4Addr};

use softroce::wire::cm::{tst, CmMad, CmMessage, CmRepRepr, CmReqRepr};
use softroce::wire::cma::{
    flow_label_udp_sport, gid_ipv4, ipv4_mapped_gid, parse_service_id, service_id, RDMA_PS_TCP,
};
use softroce::wire::frame;
use softroce::wire::ip::RoceDatagram;
use softroce::wire::mad::{attr, MadPacket, MadRepr, MAD_LEN};
use softroce::wire::{Error, IpRepr};

/// One RoCEv2 UDP payload and where it came from.
struct Roce {
    frame: usize,
    sport: u16,
    src: IpAddr,
    dst: IpAddr,
    payload: Vec<u8>,
}

fn ip_addrs(ip: &IpRepr) -> (IpAddr, IpAddr) {
    match ip {
        IpRepr::V4(r) => (IpAddr::from(r.src_addr), IpAddr::from(r.dst_addr)),
        IpRepr::V6(r) => (IpAddr::from(r.src_addr), IpAddr::from(r.dst_addr)),
    }
}

/// Every RoCEv2 datagram of a capture (through `wire::frame` and `wire::ip`).
fn read_capture(name: &str) -> Vec<Roce> {
    let frames = wire_support::read_capture(name);
    assert!(!frames.is_empty(), "{name} has no frames");
    frames
        .iter()
        .enumerate()
        .filter_map(|(i, f)| {
            let ip = frame::ip_packet(f.link, &f.data).ok()?;
            let d = RoceDatagram::parse(ip).ok()?;
            let (src, dst) = ip_addrs(&d.ip);
            Some(Roce {
                frame: i + 1,
                sport: d.udp.src_port,
                src,
                dst,
                payload: d.roce.to_vec(),
            })
        })
        .collect()
}

/// A QP1 MAD: UD SEND_ONLY (0x64) to DestQP 1; the MAD is at +20 (BTH + DETH).
struct Mad {
    frame: usize,
    src: IpAddr,
    dst: IpAddr,
    deth_qkey: u32,
    deth_src_qp: u32,
    bytes: [u8; MAD_LEN],
}

fn qp1_mads(caps: &[Roce]) -> Vec<Mad> {
    caps.iter()
        .filter(|r| r.payload.first() == Some(&0x64) && r.payload.get(5..8) == Some(&[0, 0, 1]))
        .map(|r| {
            let p = &r.payload;
            assert_eq!(
                p.len(),
                12 + 8 + MAD_LEN + 4,
                "frame {}: MAD length",
                r.frame
            );
            Mad {
                frame: r.frame,
                src: r.src,
                dst: r.dst,
                deth_qkey: u32::from_be_bytes(p[12..16].try_into().unwrap()),
                deth_src_qp: u32::from_be_bytes(p[16..20].try_into().unwrap()) & 0xFF_FFFF,
                bytes: p[20..20 + MAD_LEN].try_into().unwrap(),
            }
        })
        .collect()
}

/// Parses, checks the Linux CM header conventions, re-emits byte for byte.
fn parse_and_reemit(m: &Mad) -> CmMad {
    assert_eq!(m.deth_qkey, 0x8001_0000, "frame {}", m.frame);
    assert_eq!(m.deth_src_qp, 1, "frame {}", m.frame);
    let cm = CmMad::parse_bytes(&m.bytes).unwrap_or_else(|e| panic!("frame {}: {e}", m.frame));
    let h = cm.header;
    assert_eq!(
        (
            h.base_version,
            h.mgmt_class,
            h.class_version,
            h.method,
            h.response,
            h.status
        ),
        (1, 0x07, 2, 0x03, false, 0),
        "frame {}",
        m.frame
    );
    let mut out = [0xA5u8; MAD_LEN];
    cm.emit(&mut out).unwrap();
    assert_eq!(out[..], m.bytes[..], "frame {}: re-emit differs", m.frame);
    cm
}

fn v4(s: IpAddr) -> Ipv4Addr {
    match s {
        IpAddr::V4(a) => a,
        IpAddr::V6(_) => panic!("capture is IPv4"),
    }
}

/// The REQ checks every rdma_cm REQ over IPv4 RoCEv2 must pass.
fn check_rdma_cm_req(m: &Mad, req: &CmReqRepr) {
    assert_eq!(req.primary_path.local_gid, ipv4_mapped_gid(v4(m.src)));
    assert_eq!(req.primary_path.remote_gid, ipv4_mapped_gid(v4(m.dst)));
    assert_eq!(gid_ipv4(&req.primary_path.local_gid), Some(v4(m.src)));
    assert_eq!(req.pkey, 0xFFFF);
    assert_eq!(req.transport_service_type, tst::RC);
    assert!(!req.alternate_path.is_present());
    assert_eq!(req.alternate_path, Default::default());
    assert!(!req.sap_supported());
    // Routed RoCE path (hop limit > 1): permissive LIDs.
    assert!(req.primary_path.hop_limit > 1);
    assert_eq!(
        (req.primary_path.local_lid, req.primary_path.remote_lid),
        (0xFFFF, 0xFFFF)
    );
    let (ps, port) = parse_service_id(req.service_id).expect("IP CM service id");
    assert_eq!(service_id(ps, port), req.service_id);
    let cma = req.cma_header().expect("CMA header");
    assert_eq!(cma.version, 0);
    assert_eq!((cma.src_addr, cma.dst_addr), (m.src, m.dst));
    assert_ne!(cma.src_port, 0);
}

/// (opcode, dest QP, PSN) of a BTH.
fn bth(r: &Roce) -> (u8, u32, u32) {
    let p = &r.payload;
    (
        p[0],
        u32::from_be_bytes([0, p[5], p[6], p[7]]),
        u32::from_be_bytes([0, p[9], p[10], p[11]]),
    )
}

/// Linux semantics, proven by the captures: the REQ's Starting PSN is the
/// PSN the *passive* side sends from (the active side's receive PSN), and the
/// REP's is the PSN the *active* side sends from. The first RC request
/// (SEND/WRITE/READ) each side sends to the other's QP carries it.
fn check_starting_psns(caps: &[Roce], active: (IpAddr, &CmReqRepr), passive: (IpAddr, &CmRepRepr)) {
    let first_request = |from: IpAddr, to_qp: u32| {
        caps.iter()
            .filter(|r| r.src == from && r.payload[0] <= 0x0C)
            .find(|r| bth(r).1 == to_qp)
            .map(|r| bth(r).2)
    };
    assert_eq!(
        first_request(passive.0, active.1.local_qpn),
        Some(active.1.starting_psn)
    );
    assert_eq!(
        first_request(active.0, passive.1.local_qpn),
        Some(passive.1.starting_psn)
    );
}

#[test]
fn rping_cm_exchange() {
    let caps = read_capture("rxe-rping.pcap");
    let mads = qp1_mads(&caps);
    let msgs: Vec<CmMad> = mads.iter().map(parse_and_reemit).collect();
    let names: Vec<&str> = msgs.iter().map(|c| c.message.name()).collect();
    assert_eq!(names, ["REQ", "REP", "RTU", "DREQ", "DREP"]);
    let frames: Vec<usize> = mads.iter().map(|m| m.frame).collect();
    assert_eq!(frames, [1, 2, 3, 64, 65]);

    let (CmMessage::Req(req), CmMessage::Rep(rep), CmMessage::Rtu(rtu)) =
        (msgs[0].message, msgs[1].message, msgs[2].message)
    else {
        panic!("order")
    };
    let (CmMessage::Dreq(dreq), CmMessage::Drep(drep)) = (msgs[3].message, msgs[4].message) else {
        panic!("order")
    };

    // REQ: client 10.99.0.12 -> server 10.99.0.11, rping defaults.
    let client = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 12));
    let server = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 11));
    assert_eq!((mads[0].src, mads[0].dst), (client, server));
    check_rdma_cm_req(&mads[0], &req);
    assert_eq!(req.service_id, 0x0000_0000_0106_1C06);
    assert_eq!(parse_service_id(req.service_id), Some((RDMA_PS_TCP, 7174)));
    assert_eq!(req.path_mtu, 3, "1500-byte netdev gives IB MTU 1024");
    assert_eq!((req.responder_resources, req.initiator_depth), (1, 1));
    assert_eq!((req.retry_count, req.rnr_retry_count), (7, 7));
    assert_eq!(
        (
            req.remote_cm_response_timeout,
            req.local_cm_response_timeout,
            req.max_cm_retries
        ),
        (20, 20, 15)
    );
    assert_eq!(req.local_qkey, 0);
    assert_eq!(
        req.cma_header().unwrap().src_port,
        0xC716,
        "as tshark shows"
    );
    assert!(req.cma_user_data().iter().all(|&b| b == 0));
    assert_eq!(req.cma_user_data().len(), 56);

    // REP/RTU/DREQ/DREP tie back to the REQ.
    assert_eq!(rep.remote_comm_id, req.local_comm_id);
    assert_ne!(rep.local_comm_id, req.local_comm_id);
    assert_eq!(rep.vendor_id, 0);
    assert_eq!(
        (rtu.local_comm_id, rtu.remote_comm_id),
        (req.local_comm_id, rep.local_comm_id)
    );
    assert_eq!(
        (dreq.local_comm_id, dreq.remote_comm_id),
        (req.local_comm_id, rep.local_comm_id)
    );
    assert_eq!(
        dreq.remote_qpn, rep.local_qpn,
        "DREQ names the receiver's QP"
    );
    assert_eq!(
        (drep.local_comm_id, drep.remote_comm_id),
        (rep.local_comm_id, req.local_comm_id)
    );
    for m in &msgs[1..3] {
        assert_eq!(m.header.transaction_id, msgs[0].header.transaction_id);
    }
    assert_eq!(msgs[4].header.transaction_id, msgs[3].header.transaction_id);

    let rc: Vec<&Roce> = caps.iter().filter(|r| r.payload[0] < 0x20).collect();
    assert_eq!(rc.len(), 65 - 5);
    for r in &rc {
        let want = if r.dst == server {
            rep.local_qpn
        } else {
            req.local_qpn
        };
        assert_eq!(bth(r).1, want, "frame {}", r.frame);
    }
    check_starting_psns(&caps, (client, &req), (server, &rep));
    // Both sides' RC packets leave from the port the REQ's flow label gives.
    assert_eq!(req.primary_path.flow_label, 0x837B0);
    assert_eq!(req.primary_path.packet_rate, 0);
    let sport = flow_label_udp_sport(req.primary_path.flow_label);
    assert!(rc.iter().all(|r| r.sport == sport));

    let shown = msgs[0].to_string();
    assert!(
        shown.contains("sid=0x0000000001061c06(ps=0x0106 port=7174)"),
        "{shown}"
    );
    assert!(shown.contains("10.99.0.12:50966 -> 10.99.0.11"), "{shown}");
}

#[test]
fn verbs_capture_cm_exchanges() {
    let caps = read_capture("rxe-verbs.pcap");
    let mads = qp1_mads(&caps);
    assert_eq!(mads.len(), 10);
    let msgs: Vec<CmMad> = mads.iter().map(parse_and_reemit).collect();
    let names: Vec<&str> = msgs.iter().map(|c| c.message.name()).collect();
    assert_eq!(
        names,
        ["REQ", "REP", "RTU", "DREQ", "DREP", "REQ", "REP", "RTU", "DREQ", "DREP"]
    );
    // Every REQ is a well-formed rdma_cm REQ; every answer names a comm ID
    // that an earlier message of the other side introduced.
    let mut seen = Vec::new();
    for (m, c) in mads.iter().zip(&msgs) {
        if let CmMessage::Req(req) = &c.message {
            check_rdma_cm_req(m, req);
        }
        if let Some(rcid) = c.message.remote_comm_id() {
            assert!(
                seen.contains(&rcid),
                "frame {}: unknown comm id {rcid:#x}",
                m.frame
            );
        }
        seen.push(c.message.local_comm_id());
    }
    for pair in [0, 5] {
        let (CmMessage::Req(req), CmMessage::Rep(rep)) =
            (msgs[pair].message, msgs[pair + 1].message)
        else {
            panic!("REQ then REP")
        };
        assert_eq!(rep.remote_comm_id, req.local_comm_id);
        check_starting_psns(&caps, (mads[pair].src, &req), (mads[pair + 1].src, &rep));
    }
}

#[test]
fn every_bit_of_captured_mads_round_trips() {
    // Flip each bit of each captured MAD: either the header is refused, or
    // parse-then-emit gives the flipped bytes back (no bit is dropped).
    let caps = read_capture("rxe-rping.pcap");
    for m in qp1_mads(&caps) {
        for bit in 0..MAD_LEN * 8 {
            let mut b = m.bytes;
            b[bit / 8] ^= 0x80 >> (bit % 8);
            match CmMad::parse_bytes(&b) {
                Ok(cm) => {
                    let mut out = [0u8; MAD_LEN];
                    cm.emit(&mut out).unwrap();
                    assert_eq!(out[..], b[..], "frame {} bit {bit}", m.frame);
                }
                Err(e) => assert!(bit < 24 * 8, "frame {} bit {bit}: {e}", m.frame),
            }
        }
    }
}

#[test]
fn refusals() {
    let caps = read_capture("rxe-rping.pcap");
    let mad = qp1_mads(&caps).remove(0).bytes;
    assert_eq!(
        CmMad::parse_bytes(&mad[..MAD_LEN - 1]),
        Err(Error::Truncated)
    );
    let with = |i: usize, v: u8| {
        let mut b = mad;
        b[i] = v;
        CmMad::parse_bytes(&b)
    };
    assert_eq!(with(0, 2).unwrap_err(), Error::Unsupported, "base version");
    assert_eq!(with(1, 0x04).unwrap_err(), Error::Unsupported, "class");
    assert_eq!(with(2, 1).unwrap_err(), Error::Unsupported, "class version");
    assert_eq!(with(17, 0x19).unwrap_err(), Error::Unsupported, "LAP");
    assert_eq!(
        with(17, 0x01).unwrap_err(),
        Error::Unsupported,
        "ClassPortInfo"
    );
    // The same data read as other attributes still parses (layouts are views).
    assert!(matches!(
        with(17, attr::REJ as u8).unwrap().message,
        CmMessage::Rej(_)
    ));
    // A generic MAD header reads any class.
    let h =
        MadRepr::parse(&MadPacket::new_checked(&with_bytes(&mad, 1, 0x81)[..]).unwrap()).unwrap();
    assert_eq!(h.mgmt_class, 0x81);
}

fn with_bytes(b: &[u8; MAD_LEN], i: usize, v: u8) -> [u8; MAD_LEN] {
    let mut c = *b;
    c[i] = v;
    c
}
