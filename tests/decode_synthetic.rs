//! `softroce decode` on a synthetic capture holding what the rxe captures do
//! not: atomics and their ACK, ImmDt, IETH, RNR and sequence NAKs, a CNP, IPv6,
//! and the CM messages REJ, MRA, SIDR_REQ and an IPv6 REQ. The packets are
//! built with the wire reprs (ICRC filled), so the expected field values come
//! from the reprs, not from the decoder; tshark (when installed) cross-checks.

mod decode_support;
mod wire_support;

use std::net::Ipv6Addr;

use decode_support::{compare_with_tshark, decode, decode_json, n, s, write_raw_ip_pcap};
use softroce::wire::cm::{
    CmMad, CmMessage, CmMraRepr, CmMsgRef, CmPath, CmRejRepr, CmReqRepr, CmSidrReqRepr, RejReason,
    MRA_PRIVATE_LEN, REJ_ARI_LEN, REJ_PRIVATE_LEN, REQ_PRIVATE_LEN, SIDR_REQ_PRIVATE_LEN,
};
use softroce::wire::cma::{service_id, CmaHdrPacket, CmaHdrRepr, RDMA_PS_TCP, RDMA_PS_UDP};
use softroce::wire::mad::MAD_LEN;
use softroce::wire::{
    AethRepr, AtomicAckEthRepr, AtomicEthRepr, BthRepr, DethRepr, IpRepr, Ipv4Repr, Ipv6Repr,
    NakCode, Opcode, PacketRepr, RethRepr, Syndrome, GSI_QKEY,
};
use wire_support::build_ip_packet;

fn v4() -> IpRepr {
    IpRepr::V4(Ipv4Repr {
        src_addr: [10, 0, 0, 1],
        dst_addr: [10, 0, 0, 2],
        tos: 0,
        ident: 7,
        dont_frag: true,
        ttl: 64,
        protocol: 17,
        payload_len: 0,
    })
}

const A6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const B6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

fn v6() -> IpRepr {
    IpRepr::V6(Ipv6Repr {
        src_addr: A6.octets(),
        dst_addr: B6.octets(),
        traffic_class: 0,
        flow_label: 0,
        next_header: 17,
        hop_limit: 64,
        payload_len: 0,
    })
}

fn bth(op: Opcode, dest_qp: u32, psn: u32, ack_req: bool) -> BthRepr {
    BthRepr {
        opcode: op,
        solicited: false,
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: 0xFFFF,
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp,
        ack_req,
        resv7: 0,
        psn,
    }
}

/// A UD SEND_ONLY to QP1 carrying `msg` (as Linux's CM sends it).
fn mad_packet(ip: IpRepr, msg: CmMessage, buf: &mut Vec<u8>) -> Vec<u8> {
    buf.resize(MAD_LEN, 0);
    CmMad::new(0x0000_0002_1234_5678, msg).emit(buf).unwrap();
    let mut p = PacketRepr::new(bth(Opcode::UD_SEND_ONLY, 1, 9, false), buf);
    p.deth = Some(DethRepr {
        qkey: GSI_QKEY,
        src_qp: 1,
        resv8: 0,
    });
    build_ip_packet(&ip, 0xD872, &p)
}

fn req_v6() -> CmReqRepr {
    let mut private = [0u8; REQ_PRIVATE_LEN];
    let cma = CmaHdrRepr {
        version: 0,
        src_port: 40000,
        src_addr: A6.into(),
        dst_addr: B6.into(),
    };
    cma.emit(&mut CmaHdrPacket::new_unchecked(&mut private[..]))
        .unwrap();
    CmReqRepr {
        local_comm_id: 0x1111_2222,
        resv4: 0,
        vendor_id: 0,
        service_id: service_id(RDMA_PS_TCP, 18515),
        local_ca_guid: 0x0202_03ff_fe04_0506,
        resv24: 0,
        local_qkey: 0,
        local_qpn: 0x33,
        responder_resources: 4,
        local_eecn: 0,
        initiator_depth: 2,
        remote_eecn: 0,
        remote_cm_response_timeout: 20,
        transport_service_type: 0,
        e2e_flow_control: false,
        starting_psn: 0xABCDEF,
        local_cm_response_timeout: 20,
        retry_count: 6,
        pkey: 0xFFFF,
        path_mtu: 5,
        rdc_exists: false,
        rnr_retry_count: 5,
        max_cm_retries: 15,
        srq: false,
        ext_transport_type: 0,
        primary_path: CmPath {
            local_lid: 0xFFFF,
            remote_lid: 0xFFFF,
            local_gid: A6.octets(),
            remote_gid: B6.octets(),
            hop_limit: 64,
            local_ack_timeout: 18,
            ..CmPath::default()
        },
        alternate_path: CmPath::default(),
        private_data: private,
    }
}

struct Case {
    ip: Vec<u8>,
    check: fn(&decode_support::Obj),
}

fn cases() -> Vec<Case> {
    let mut mad = Vec::new();
    let mut out = Vec::new();
    let atomic = AtomicEthRepr {
        va: 0x1122_3344_5566_7788,
        rkey: 0xABCD_EF01,
        swap_add: 5,
        compare: 7,
    };

    let mut p = PacketRepr::new(bth(Opcode::RC_COMPARE_SWAP, 0x12, 100, true), &[]);
    p.atomic_eth = Some(atomic);
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC001, &p),
        check: |o| {
            assert_eq!(s(o, "op"), "RC_COMPARE_SWAP");
            assert_eq!(
                (n(o, "va"), n(o, "rkey")),
                (0x1122_3344_5566_7788, 0xABCD_EF01)
            );
            assert_eq!((n(o, "swap"), n(o, "cmp")), (5, 7));
        },
    });

    let mut p = PacketRepr::new(bth(Opcode::RC_FETCH_ADD, 0x12, 101, true), &[]);
    p.atomic_eth = Some(AtomicEthRepr {
        swap_add: 9,
        compare: 0,
        ..atomic
    });
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC001, &p),
        check: |o| {
            assert_eq!(
                (s(o, "op"), n(o, "swap"), n(o, "cmp")),
                ("RC_FETCH_ADD", 9, 0)
            )
        },
    });

    let mut p = PacketRepr::new(bth(Opcode::RC_ATOMIC_ACKNOWLEDGE, 0x13, 101, false), &[]);
    p.aeth = Some(AethRepr {
        syndrome: Syndrome::ACK_UNLIMITED,
        msn: 3,
    });
    p.atomic_ack_eth = Some(AtomicAckEthRepr {
        orig_data: 0xDEAD_BEEF_CAFE_F00D,
    });
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC002, &p),
        check: |o| {
            assert_eq!(
                (n(o, "orig"), n(o, "msn"), s(o, "aeth")),
                (0xDEAD_BEEF_CAFE_F00D, 3, "ACK credits=31")
            );
        },
    });

    let mut p = PacketRepr::new(
        bth(Opcode::RC_SEND_ONLY_WITH_IMMEDIATE, 0x12, 102, true),
        b"hello",
    );
    p.imm = Some(0x0102_0304);
    out.push(Case {
        ip: build_ip_packet(&v6(), 0xC001, &p),
        check: |o| {
            assert_eq!((s(o, "src"), s(o, "dst")), ("fd00::1", "fd00::2"));
            assert_eq!((n(o, "imm"), n(o, "len"), n(o, "pad")), (0x0102_0304, 5, 3));
        },
    });

    let mut p = PacketRepr::new(
        bth(Opcode::RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE, 0x12, 103, true),
        &[1; 8],
    );
    p.reth = Some(RethRepr {
        va: 0x1000,
        rkey: 0x77,
        dma_len: 8,
    });
    p.imm = Some(0xFFFF_FFFF);
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC001, &p),
        check: |o| {
            assert_eq!(
                (n(o, "va"), n(o, "rkey"), n(o, "dlen"), n(o, "imm")),
                (0x1000, 0x77, 8, 0xFFFF_FFFF)
            )
        },
    });

    let mut p = PacketRepr::new(
        bth(Opcode::RC_SEND_ONLY_WITH_INVALIDATE, 0x12, 104, true),
        &[9],
    );
    p.ieth = Some(0x0000_1234);
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC001, &p),
        check: |o| assert_eq!((n(o, "ieth"), n(o, "len")), (0x1234, 1)),
    });

    let mut p = PacketRepr::new(bth(Opcode::RC_ACKNOWLEDGE, 0x13, 105, false), &[]);
    p.aeth = Some(AethRepr {
        syndrome: Syndrome::RnrNak { timer: 14 },
        msn: 2,
    });
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC002, &p),
        check: |o| {
            assert_eq!(
                (n(o, "syndrome"), s(o, "aeth")),
                (0x2E, "RNR-NAK timer=14 (1280 us)")
            );
        },
    });

    let mut p = PacketRepr::new(bth(Opcode::RC_ACKNOWLEDGE, 0x13, 106, false), &[]);
    p.aeth = Some(AethRepr {
        syndrome: Syndrome::Nak(NakCode::PsnSequenceError),
        msn: 2,
    });
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC002, &p),
        check: |o| {
            assert_eq!(
                (n(o, "syndrome"), s(o, "aeth")),
                (0x60, "NAK PsnSequenceError")
            )
        },
    });

    let mut p = PacketRepr::new(
        BthRepr {
            becn: true,
            ..bth(Opcode::CNP, 0x118, 0, false)
        },
        &[],
    );
    p.cnp_reserved = Some([0; 16]);
    out.push(Case {
        ip: build_ip_packet(&v4(), 0, &p),
        check: |o| {
            assert_eq!(
                (s(o, "op"), o["becn"].as_bool(), n(o, "dqpn")),
                ("CNP", Some(true), 0x118)
            );
        },
    });

    let rej = CmRejRepr {
        local_comm_id: 0xAAAA_0001,
        remote_comm_id: 0xBBBB_0002,
        message_rejected: CmMsgRef::Req,
        resv8: 0,
        ari_length: 0,
        resv9: 0,
        reason: RejReason::ConsumerDefined,
        ari: [0; REJ_ARI_LEN],
        private_data: [0; REJ_PRIVATE_LEN],
    };
    out.push(Case {
        ip: mad_packet(v4(), CmMessage::Rej(rej), &mut mad),
        check: |o| {
            assert_eq!(
                (s(o, "cm"), n(o, "reason"), s(o, "reason_name")),
                ("REJ", 28, "CONSUMER_DEFINED")
            );
            assert_eq!(
                (n(o, "lcid"), n(o, "rcid"), s(o, "rejected")),
                (0xAAAA_0001, 0xBBBB_0002, "Req")
            );
        },
    });

    let mra = CmMraRepr {
        local_comm_id: 5,
        remote_comm_id: 6,
        message_mraed: CmMsgRef::Rep,
        resv8: 0,
        service_timeout: 21,
        resv9: 0,
        private_data: [0; MRA_PRIVATE_LEN],
    };
    out.push(Case {
        ip: mad_packet(v4(), CmMessage::Mra(mra), &mut mad),
        check: |o| {
            assert_eq!(
                (s(o, "cm"), s(o, "mraed"), n(o, "timeout")),
                ("MRA", "Rep", 21)
            )
        },
    });

    out.push(Case {
        ip: mad_packet(v6(), CmMessage::Req(req_v6()), &mut mad),
        check: |o| {
            assert_eq!(
                (s(o, "cm"), n(o, "port"), n(o, "ps")),
                ("REQ", 18515, 0x0106)
            );
            assert_eq!((s(o, "sgid"), s(o, "dgid")), ("fd00::1", "fd00::2"));
            assert_eq!(
                (s(o, "cma_src"), n(o, "cma_sport"), s(o, "cma_dst")),
                ("fd00::1", 40000, "fd00::2")
            );
            assert_eq!(
                (n(o, "lqpn"), n(o, "spsn"), n(o, "mtu")),
                (0x33, 0xABCDEF, 5)
            );
            assert_eq!((n(o, "resp_res"), n(o, "init_depth")), (4, 2));
        },
    });

    let sidr = CmSidrReqRepr {
        request_id: 0x99,
        pkey: 0xFFFF,
        resv6: 0,
        service_id: service_id(RDMA_PS_UDP, 7471),
        private_data: [0; SIDR_REQ_PRIVATE_LEN],
    };
    out.push(Case {
        ip: mad_packet(v4(), CmMessage::SidrReq(sidr), &mut mad),
        check: |o| {
            assert_eq!((s(o, "cm"), n(o, "rid")), ("SIDR_REQ", 0x99));
            assert_eq!(n(o, "sid"), 0x0000_0000_0111_1D2F);
        },
    });

    let mut p = PacketRepr::new(
        bth(Opcode::UD_SEND_ONLY_WITH_IMMEDIATE, 0x20, 7, false),
        b"ud!",
    );
    p.deth = Some(DethRepr {
        qkey: 0x1111_1111,
        src_qp: 0x21,
        resv8: 0,
    });
    p.imm = Some(42);
    out.push(Case {
        ip: build_ip_packet(&v4(), 0xC003, &p),
        check: |o| {
            assert_eq!(
                (n(o, "qkey"), n(o, "srcqp"), n(o, "imm"), n(o, "len")),
                (0x1111_1111, 0x21, 42, 3)
            );
            assert!(
                !o.contains_key("cm") && !o.contains_key("mad_class"),
                "not QP1"
            );
        },
    });
    out
}

#[test]
fn synthetic_packets_decode_to_their_reprs() {
    let cases = cases();
    let path = write_raw_ip_pcap(
        &cases.iter().map(|c| c.ip.clone()).collect::<Vec<_>>(),
        "synthetic",
    );
    let (code, objs) = decode_json(&path);
    let (tcode, text) = decode(&path, false);
    let compared = compare_with_tshark(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!((code, tcode), (0, 0));
    assert_eq!(objs.len(), cases.len());
    assert_eq!(text.len(), cases.len());
    for (case, o) in cases.iter().zip(&objs) {
        assert_eq!(s(o, "icrc"), "ok", "{o:?}");
        (case.check)(o);
    }
    if let Some(c) = compared {
        assert!(c > cases.len() * 8, "only {c} values compared with tshark");
    }
}
