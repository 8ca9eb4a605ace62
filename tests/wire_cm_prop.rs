//! Property tests of the CM wire code: emit-then-parse is the identity for
//! generated reprs of every CM message, the MAD header and the CMA header
//! (fields generated within their widths), parse-then-emit keeps every bit,
//! and parsing arbitrary bytes of any length never panics.

use std::net::IpAddr;

use proptest::prelude::*;
use softroce::wire::cm::*;
use softroce::wire::cma::{CmaHdrPacket, CmaHdrRepr, CMA_HDR_LEN};
use softroce::wire::mad::{MadPacket, MadRepr, MAD_DATA_LEN, MAD_LEN};

fn bytes<const N: usize>() -> impl Strategy<Value = [u8; N]> {
    prop::collection::vec(any::<u8>(), N).prop_map(|v| v.try_into().unwrap())
}
fn bits(width: u32) -> impl Strategy<Value = u8> {
    0..=((1u16 << width) - 1) as u8
}
fn u24() -> impl Strategy<Value = u32> {
    0..=0xFF_FFFFu32
}
fn msg_ref() -> impl Strategy<Value = CmMsgRef> {
    bits(2).prop_map(CmMsgRef::from_bits)
}

prop_compose! {
    fn path()(
        (local_lid, remote_lid, local_gid, remote_gid) in (any::<u16>(), any::<u16>(), bytes::<16>(), bytes::<16>()),
        (flow_label, resv_rate, packet_rate, traffic_class, hop_limit) in (0..=0xF_FFFFu32, bits(6), bits(6), any::<u8>(), any::<u8>()),
        (sl, subnet_local, resv_sl, local_ack_timeout, resv_ack) in (bits(4), any::<bool>(), bits(3), bits(5), bits(3)),
    ) -> CmPath {
        CmPath { local_lid, remote_lid, local_gid, remote_gid, flow_label, resv_rate, packet_rate,
            traffic_class, hop_limit, sl, subnet_local, resv_sl, local_ack_timeout, resv_ack }
    }
}

prop_compose! {
    fn req()(
        (local_comm_id, resv4, vendor_id, service_id, local_ca_guid, resv24, local_qkey) in
            (any::<u32>(), any::<u8>(), u24(), any::<u64>(), any::<u64>(), any::<u32>(), any::<u32>()),
        (local_qpn, responder_resources, local_eecn, initiator_depth, remote_eecn) in
            (u24(), any::<u8>(), u24(), any::<u8>(), u24()),
        (remote_cm_response_timeout, transport_service_type, e2e_flow_control, starting_psn,
            local_cm_response_timeout, retry_count) in
            (bits(5), bits(2), any::<bool>(), u24(), bits(5), bits(3)),
        (pkey, path_mtu, rdc_exists, rnr_retry_count, max_cm_retries, srq, ext_transport_type) in
            (any::<u16>(), bits(4), any::<bool>(), bits(3), bits(4), any::<bool>(), bits(3)),
        (primary_path, alternate_path, private_data) in (path(), path(), bytes::<REQ_PRIVATE_LEN>()),
    ) -> CmReqRepr {
        CmReqRepr { local_comm_id, resv4, vendor_id, service_id, local_ca_guid, resv24, local_qkey,
            local_qpn, responder_resources, local_eecn, initiator_depth, remote_eecn,
            remote_cm_response_timeout, transport_service_type, e2e_flow_control, starting_psn,
            local_cm_response_timeout, retry_count, pkey, path_mtu, rdc_exists, rnr_retry_count,
            max_cm_retries, srq, ext_transport_type, primary_path, alternate_path, private_data }
    }
}

prop_compose! {
    fn rep()(
        (local_comm_id, remote_comm_id, local_qkey, local_qpn, vendor_id, local_eecn, starting_psn) in
            (any::<u32>(), any::<u32>(), any::<u32>(), u24(), u24(), u24(), u24()),
        (responder_resources, initiator_depth, target_ack_delay, failover_accepted, e2e_flow_control) in
            (any::<u8>(), any::<u8>(), bits(5), bits(2), any::<bool>()),
        (rnr_retry_count, srq, resv27, local_ca_guid, private_data) in
            (bits(3), any::<bool>(), bits(4), any::<u64>(), bytes::<REP_PRIVATE_LEN>()),
    ) -> CmRepRepr {
        CmRepRepr { local_comm_id, remote_comm_id, local_qkey, local_qpn, vendor_id, local_eecn,
            starting_psn, responder_resources, initiator_depth, target_ack_delay, failover_accepted,
            e2e_flow_control, rnr_retry_count, srq, resv27, local_ca_guid, private_data }
    }
}

prop_compose! {
    fn rej()(
        (local_comm_id, remote_comm_id, message_rejected, resv8, ari_length, resv9, code) in
            (any::<u32>(), any::<u32>(), msg_ref(), bits(6), bits(7), bits(1), any::<u16>()),
        (ari, private_data) in (bytes::<REJ_ARI_LEN>(), bytes::<REJ_PRIVATE_LEN>()),
    ) -> CmRejRepr {
        CmRejRepr { local_comm_id, remote_comm_id, message_rejected, resv8, ari_length, resv9,
            reason: RejReason::from_code(code), ari, private_data }
    }
}

prop_compose! {
    fn mra()(
        (local_comm_id, remote_comm_id, message_mraed, resv8, service_timeout, resv9) in
            (any::<u32>(), any::<u32>(), msg_ref(), bits(6), bits(5), bits(3)),
        private_data in bytes::<MRA_PRIVATE_LEN>(),
    ) -> CmMraRepr {
        CmMraRepr { local_comm_id, remote_comm_id, message_mraed, resv8, service_timeout, resv9, private_data }
    }
}

prop_compose! {
    fn rtu()(local_comm_id in any::<u32>(), remote_comm_id in any::<u32>(),
             private_data in bytes::<RTU_PRIVATE_LEN>()) -> CmRtuRepr {
        CmRtuRepr { local_comm_id, remote_comm_id, private_data }
    }
}

prop_compose! {
    fn dreq()(local_comm_id in any::<u32>(), remote_comm_id in any::<u32>(), remote_qpn in u24(),
              resv11 in any::<u8>(), private_data in bytes::<DREQ_PRIVATE_LEN>()) -> CmDreqRepr {
        CmDreqRepr { local_comm_id, remote_comm_id, remote_qpn, resv11, private_data }
    }
}

prop_compose! {
    fn sidr_req()(request_id in any::<u32>(), pkey in any::<u16>(), resv6 in any::<u16>(),
                  service_id in any::<u64>(), private_data in bytes::<SIDR_REQ_PRIVATE_LEN>()) -> CmSidrReqRepr {
        CmSidrReqRepr { request_id, pkey, resv6, service_id, private_data }
    }
}

prop_compose! {
    fn sidr_rep()(
        (request_id, status, addl_info_len, resv6, qpn, resv11, service_id, qkey) in
            (any::<u32>(), any::<u8>(), any::<u8>(), any::<u16>(), u24(), any::<u8>(), any::<u64>(), any::<u32>()),
        (addl_info, private_data) in (bytes::<SIDR_REP_INFO_LEN>(), bytes::<SIDR_REP_PRIVATE_LEN>()),
    ) -> CmSidrRepRepr {
        CmSidrRepRepr { request_id, status, addl_info_len, resv6, qpn, resv11, service_id, qkey,
            addl_info, private_data }
    }
}

fn message() -> impl Strategy<Value = CmMessage> {
    prop_oneof![
        req().prop_map(CmMessage::Req),
        mra().prop_map(CmMessage::Mra),
        rej().prop_map(CmMessage::Rej),
        rep().prop_map(CmMessage::Rep),
        rtu().prop_map(CmMessage::Rtu),
        dreq().prop_map(CmMessage::Dreq),
        rtu().prop_map(CmMessage::Drep),
        sidr_req().prop_map(CmMessage::SidrReq),
        sidr_rep().prop_map(CmMessage::SidrRep),
    ]
}

prop_compose! {
    fn mad_header()(
        (response, method, status, class_specific, transaction_id, reserved, attribute_modifier) in
            (any::<bool>(), bits(7), any::<u16>(), any::<u16>(), any::<u64>(), any::<u16>(), any::<u32>()),
    ) -> MadRepr {
        MadRepr { response, method, status, class_specific, reserved, attribute_modifier,
            ..MadRepr::cm(transaction_id, 0) }
    }
}

fn cma() -> impl Strategy<Value = CmaHdrRepr> {
    let v4 =
        (any::<[u8; 4]>(), any::<[u8; 4]>()).prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b)));
    let v6 = (bytes::<16>(), bytes::<16>()).prop_map(|(a, b)| (IpAddr::from(a), IpAddr::from(b)));
    (any::<u8>(), any::<u16>(), prop_oneof![v4, v6]).prop_map(
        |(version, src_port, (src_addr, dst_addr))| CmaHdrRepr {
            version,
            src_port,
            src_addr,
            dst_addr,
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn cm_mad_emit_then_parse(header in mad_header(), message in message()) {
        let mad = CmMad { header: MadRepr { attribute_id: message.attribute_id(), ..header }, message };
        let mut buf = [0u8; MAD_LEN];
        mad.emit(&mut buf).unwrap();
        prop_assert_eq!(CmMad::parse_bytes(&buf), Ok(mad));
        // Parsing the data alone gives the message back too.
        prop_assert_eq!(CmMessage::parse(message.attribute_id(), &buf[24..]), Ok(message));
    }

    #[test]
    fn cm_data_parse_then_emit_keeps_every_bit(attr in 0x10u16..=0x18, data in bytes::<MAD_DATA_LEN>()) {
        let m = CmMessage::parse(attr, &data).unwrap();
        let mut out = [0u8; MAD_DATA_LEN];
        m.emit(&mut out).unwrap();
        prop_assert_eq!(&out[..], &data[..]);
    }

    #[test]
    fn cma_emit_then_parse(h in cma(), tail in bytes::<56>()) {
        let mut buf = [0u8; CMA_HDR_LEN + 56];
        buf[CMA_HDR_LEN..].copy_from_slice(&tail);
        h.emit(&mut CmaHdrPacket::new_unchecked(&mut buf[..])).unwrap();
        let p = CmaHdrPacket::new_checked(&buf[..]).unwrap();
        prop_assert_eq!(CmaHdrRepr::parse(&p), Ok(h));
        prop_assert_eq!(p.user_data(), &tail[..]);
    }

    #[test]
    fn parse_never_panics(data in prop::collection::vec(any::<u8>(), 0..300), attr in any::<u16>()) {
        let _ = CmMad::parse_bytes(&data);
        let _ = CmMessage::parse(attr, &data);
        if let Ok(p) = MadPacket::new_checked(&data[..]) {
            let _ = MadRepr::parse(&p);
        }
        if let Ok(p) = CmaHdrPacket::new_checked(&data[..]) {
            let _ = CmaHdrRepr::parse(&p).map(|h| h.to_string());
        }
        if let Ok(cm) = CmMad::parse_bytes(&data) {
            let _ = cm.to_string();
            if let CmMessage::Req(r) = cm.message {
                let _ = r.cma_header();
            }
        }
    }

    #[test]
    fn parse_never_panics_on_full_mads(mut data in bytes::<MAD_LEN>(), attr in 0x10u16..=0x1A) {
        // Make the header a CM one so the message parsers are reached.
        data[..4].copy_from_slice(&[1, 7, 2, 3]);
        data[16..18].copy_from_slice(&attr.to_be_bytes());
        match CmMad::parse_bytes(&data) {
            Ok(cm) => {
                let mut out = [0u8; MAD_LEN];
                cm.emit(&mut out).unwrap();
                prop_assert_eq!(&out[..], &data[..]);
                let _ = cm.to_string();
            }
            Err(e) => prop_assert!(attr >= 0x19, "{e}"),
        }
    }
}

#[test]
fn short_buffers_are_refused() {
    let m = CmMessage::Rtu(CmRtuRepr {
        local_comm_id: 1,
        remote_comm_id: 2,
        private_data: [0; RTU_PRIVATE_LEN],
    });
    assert!(m.emit(&mut [0u8; MAD_DATA_LEN - 1]).is_err());
    assert!(CmMad::new(0, m).emit(&mut [0u8; MAD_LEN - 1]).is_err());
    assert!(CmMessage::parse(0x14, &[0u8; MAD_DATA_LEN - 1]).is_err());
    assert!(CmaHdrPacket::new_checked(&[0u8; CMA_HDR_LEN - 1][..]).is_err());
}
