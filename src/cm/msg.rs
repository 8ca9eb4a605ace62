//! Building the CM messages we send, with RDMA-CM's conventions (ROCE-FACTS
//! §3-4): field values for REQ, REP, RTU, REJ, MRA, DREQ and DREP as
//! `crate::wire::cm` reprs, and their encoding into a 256-byte MAD.
//!
//! Owns the choice of field values; must not lay out bytes (that is
//! `crate::wire`) nor change connection state.

use core::net::IpAddr;

use crate::wire::cm::{
    tst, CmDreqRepr, CmMad, CmMessage, CmMraRepr, CmMsgRef, CmPath, CmRejRepr, CmRepRepr,
    CmReqRepr, CmRtuRepr, RejReason, DREQ_PRIVATE_LEN, MRA_PRIVATE_LEN, REJ_ARI_LEN,
    REJ_PRIVATE_LEN, REP_PRIVATE_LEN, REQ_PRIVATE_LEN, RTU_PRIVATE_LEN,
};
use crate::wire::cma::{
    ipv4_mapped_gid, service_id, CmaHdrPacket, CmaHdrRepr, CMA_HDR_LEN, CMA_VERSION, RDMA_PS_TCP,
};
use crate::wire::mad::MAD_LEN;
use crate::wire::DEFAULT_PKEY;

use super::api::CmConfig;
use super::conn::Conn;

/// The permissive LID, used for routed (hop limit > 1) RoCE paths.
pub const PERMISSIVE_LID: u16 = 0xFFFF;

/// The RoCEv2 GID of an IP address: IPv4-mapped for IPv4, the address for IPv6.
pub fn gid_of(addr: IpAddr) -> [u8; 16] {
    match addr {
        IpAddr::V4(a) => ipv4_mapped_gid(a),
        IpAddr::V6(a) => a.octets(),
    }
}

/// `src` copied into a zeroed `[u8; N]` (callers check lengths first; any
/// excess is cut, never a panic).
fn padded<const N: usize>(src: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = src.len().min(N);
    if let (Some(d), Some(s)) = (out.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    out
}

/// The fields of a REQ that come from NdkConnect.
#[derive(Debug, Clone, Copy)]
pub struct ReqFields<'a> {
    pub starting_psn: u32,
    pub retry_count: u8,
    pub rnr_retry_count: u8,
    pub srq: bool,
    pub user_data: &'a [u8],
}

/// Our REQ for `conn` (active side): RC, P_Key 0xFFFF, permissive LIDs,
/// GIDs from the addresses, no alternate path, the CMA header then the
/// consumer's private data.
pub fn req(cfg: &CmConfig, conn: &Conn, f: &ReqFields<'_>) -> CmMessage {
    let mut private_data = [0u8; REQ_PRIVATE_LEN];
    let cma = CmaHdrRepr {
        version: CMA_VERSION,
        src_port: conn.local.port(),
        src_addr: conn.local.ip(),
        dst_addr: conn.remote.ip(),
    };
    // Same-family addresses are checked by `connect`; on a mismatch the
    // header stays zero and the peer rejects.
    let _ = cma.emit(&mut CmaHdrPacket::new_unchecked(&mut private_data[..]));
    if let Some(user) = private_data.get_mut(CMA_HDR_LEN..) {
        let n = f.user_data.len().min(user.len());
        if let (Some(d), Some(s)) = (user.get_mut(..n), f.user_data.get(..n)) {
            d.copy_from_slice(s);
        }
    }
    let routed = cfg.hop_limit > 1;
    let lid = if routed { PERMISSIVE_LID } else { 0 };
    CmMessage::Req(CmReqRepr {
        local_comm_id: conn.local_comm_id,
        resv4: 0,
        vendor_id: 0,
        service_id: service_id(RDMA_PS_TCP, conn.remote.port()),
        local_ca_guid: cfg.ca_guid,
        resv24: 0,
        local_qkey: 0,
        local_qpn: conn.local_qpn & 0xFF_FFFF,
        responder_resources: conn.inbound_read_limit,
        local_eecn: 0,
        initiator_depth: conn.outbound_read_limit,
        remote_eecn: 0,
        remote_cm_response_timeout: cfg.response_timeout.min(31),
        transport_service_type: tst::RC,
        e2e_flow_control: false,
        starting_psn: f.starting_psn & 0xFF_FFFF,
        local_cm_response_timeout: cfg.response_timeout.min(31),
        retry_count: f.retry_count.min(7),
        pkey: DEFAULT_PKEY,
        path_mtu: conn.path_mtu,
        rdc_exists: false,
        rnr_retry_count: f.rnr_retry_count.min(7),
        max_cm_retries: cfg.max_cm_retries.min(15),
        srq: f.srq,
        ext_transport_type: 0,
        primary_path: CmPath {
            local_lid: lid,
            remote_lid: lid,
            local_gid: gid_of(conn.local.ip()),
            remote_gid: gid_of(conn.remote.ip()),
            flow_label: 0,
            resv_rate: 0,
            packet_rate: cfg.packet_rate & 0x3F,
            traffic_class: cfg.traffic_class,
            hop_limit: cfg.hop_limit,
            sl: 0,
            subnet_local: !routed,
            resv_sl: 0,
            local_ack_timeout: cfg.local_ack_timeout.min(31),
            resv_ack: 0,
        },
        alternate_path: CmPath::default(),
        private_data,
    })
}

/// The fields of a REP that come from NdkAccept.
#[derive(Debug, Clone, Copy)]
pub struct RepFields<'a> {
    pub starting_psn: u32,
    pub rnr_retry_count: u8,
    pub srq: bool,
    pub private_data: &'a [u8],
}

/// Our REP for `conn` (passive side), with the effective read limits.
pub fn rep(cfg: &CmConfig, conn: &Conn, f: &RepFields<'_>) -> CmMessage {
    CmMessage::Rep(CmRepRepr {
        local_comm_id: conn.local_comm_id,
        remote_comm_id: conn.remote_comm_id,
        local_qkey: 0,
        local_qpn: conn.local_qpn & 0xFF_FFFF,
        vendor_id: 0,
        local_eecn: 0,
        starting_psn: f.starting_psn & 0xFF_FFFF,
        responder_resources: conn.inbound_read_limit,
        initiator_depth: conn.outbound_read_limit,
        target_ack_delay: cfg.target_ack_delay.min(31),
        failover_accepted: 0,
        e2e_flow_control: false,
        rnr_retry_count: f.rnr_retry_count.min(7),
        srq: f.srq,
        resv27: 0,
        local_ca_guid: cfg.ca_guid,
        private_data: padded::<REP_PRIVATE_LEN>(f.private_data),
    })
}

/// Our RTU for `conn`.
pub fn rtu(conn: &Conn) -> CmMessage {
    CmMessage::Rtu(CmRtuRepr {
        local_comm_id: conn.local_comm_id,
        remote_comm_id: conn.remote_comm_id,
        private_data: [0; RTU_PRIVATE_LEN],
    })
}

/// A REJ. `ari` is cut to 72 bytes and `private_data` to 148.
pub fn rej(
    local_comm_id: u32,
    remote_comm_id: u32,
    rejected: CmMsgRef,
    reason: RejReason,
    ari: &[u8],
    private_data: &[u8],
) -> CmMessage {
    CmMessage::Rej(CmRejRepr {
        local_comm_id,
        remote_comm_id,
        message_rejected: rejected,
        resv8: 0,
        ari_length: ari.len().min(REJ_ARI_LEN) as u8,
        resv9: 0,
        reason,
        ari: padded::<REJ_ARI_LEN>(ari),
        private_data: padded::<REJ_PRIVATE_LEN>(private_data),
    })
}

/// An MRA of the peer's REQ for `conn`.
pub fn mra_req(cfg: &CmConfig, conn: &Conn) -> CmMessage {
    CmMessage::Mra(CmMraRepr {
        local_comm_id: conn.local_comm_id,
        remote_comm_id: conn.remote_comm_id,
        message_mraed: CmMsgRef::Req,
        resv8: 0,
        service_timeout: cfg.mra_service_timeout.min(31),
        resv9: 0,
        private_data: [0; MRA_PRIVATE_LEN],
    })
}

/// Our DREQ for `conn`.
pub fn dreq(conn: &Conn) -> CmMessage {
    CmMessage::Dreq(CmDreqRepr {
        local_comm_id: conn.local_comm_id,
        remote_comm_id: conn.remote_comm_id,
        remote_qpn: conn.remote_qpn & 0xFF_FFFF,
        resv11: 0,
        private_data: [0; DREQ_PRIVATE_LEN],
    })
}

/// A DREP from `local_comm_id` to `remote_comm_id`.
pub fn drep(local_comm_id: u32, remote_comm_id: u32) -> CmMessage {
    CmMessage::Drep(CmRtuRepr {
        local_comm_id,
        remote_comm_id,
        private_data: [0; RTU_PRIVATE_LEN],
    })
}

/// The 256-byte MAD carrying `message` with transaction ID `tid`.
pub fn encode(tid: u64, message: CmMessage) -> [u8; MAD_LEN] {
    let mut mad = [0u8; MAD_LEN];
    // Cannot fail: the buffer is exactly MAD_LEN long.
    let _ = CmMad::new(tid, message).emit(&mut mad);
    mad
}
