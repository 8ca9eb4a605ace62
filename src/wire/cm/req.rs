//! The CM REQ (ConnectRequest, attribute 0x0010): [`CmReqPacket`] view over
//! the 232 MAD data bytes and [`CmReqRepr`], every field at its bit offset
//! (ROCE-FACTS §3.4). Owns the REQ layout; must not interpret the private
//! data beyond offering the CMA header (`cma.rs` owns that layout).

use core::fmt;

use super::path::{CmPath, CmPathPacket, CM_PATH_LEN};
use super::{private_slice, private_slice_mut, HexId};
use crate::wire::be::{self, wire_view, Bits};
use crate::wire::cma::{parse_service_id, CmaHdrPacket, CmaHdrRepr};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in a REQ.
pub const REQ_PRIVATE_LEN: usize = 92;

/// Transport service types of the REQ.
pub mod tst {
    pub const RC: u8 = 0;
    pub const UC: u8 = 1;
    pub const RD: u8 = 2;
    pub const XRC: u8 = 3;
}

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const RESV4: Field = 4..5;
    pub const VENDOR_ID: Field = 5..8;
    pub const SERVICE_ID: Field = 8..16;
    pub const LOCAL_CA_GUID: Field = 16..24;
    pub const RESV24: Field = 24..28;
    pub const LOCAL_QKEY: Field = 28..32;
    pub const LOCAL_QPN: Field = 32..35;
    pub const RESPONDER_RESOURCES: Field = 35..36;
    pub const LOCAL_EECN: Field = 36..39;
    pub const INITIATOR_DEPTH: Field = 39..40;
    pub const REMOTE_EECN: Field = 40..43;
    pub const REMOTE_CM_RESPONSE_TIMEOUT: Bits = Bits::at(43, 7, 3);
    pub const TRANSPORT_SERVICE_TYPE: Bits = Bits::at(43, 2, 1);
    pub const E2E_FLOW_CONTROL: Bits = Bits::at(43, 0, 0);
    pub const STARTING_PSN: Field = 44..47;
    pub const LOCAL_CM_RESPONSE_TIMEOUT: Bits = Bits::at(47, 7, 3);
    pub const RETRY_COUNT: Bits = Bits::at(47, 2, 0);
    pub const PKEY: Field = 48..50;
    pub const PATH_MTU: Bits = Bits::at(50, 7, 4);
    pub const RDC_EXISTS: Bits = Bits::at(50, 3, 3);
    pub const RNR_RETRY_COUNT: Bits = Bits::at(50, 2, 0);
    pub const MAX_CM_RETRIES: Bits = Bits::at(51, 7, 4);
    pub const SRQ: Bits = Bits::at(51, 3, 3);
    pub const EXT_TRANSPORT_TYPE: Bits = Bits::at(51, 2, 0);
    pub const PRIMARY_PATH: usize = 52;
    pub const ALTERNATE_PATH: usize = 96;
    pub const PRIVATE_DATA: Field = 140..232;
}

wire_view! {
    /// A view of the 232 data bytes of a REQ MAD.
    CmReqPacket, CmReqRepr, MAD_DATA_LEN, "REQ";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    resv4, set_resv4: u8 = be(field::RESV4);
    /// 24-bit ECE vendor ID (0 unless ECE is used).
    vendor_id, set_vendor_id: u32 = be(field::VENDOR_ID);
    service_id, set_service_id: u64 = be(field::SERVICE_ID);
    local_ca_guid, set_local_ca_guid: u64 = be(field::LOCAL_CA_GUID);
    resv24, set_resv24: u32 = be(field::RESV24);
    local_qkey, set_local_qkey: u32 = be(field::LOCAL_QKEY);
    local_qpn, set_local_qpn: u32 = be(field::LOCAL_QPN);
    responder_resources, set_responder_resources: u8 = be(field::RESPONDER_RESOURCES);
    local_eecn, set_local_eecn: u32 = be(field::LOCAL_EECN);
    initiator_depth, set_initiator_depth: u8 = be(field::INITIATOR_DEPTH);
    remote_eecn, set_remote_eecn: u32 = be(field::REMOTE_EECN);
    remote_cm_response_timeout, set_remote_cm_response_timeout: u8 = bits(field::REMOTE_CM_RESPONSE_TIMEOUT);
    transport_service_type, set_transport_service_type: u8 = bits(field::TRANSPORT_SERVICE_TYPE);
    e2e_flow_control, set_e2e_flow_control: bool = flag(field::E2E_FLOW_CONTROL);
    starting_psn, set_starting_psn: u32 = be(field::STARTING_PSN);
    local_cm_response_timeout, set_local_cm_response_timeout: u8 = bits(field::LOCAL_CM_RESPONSE_TIMEOUT);
    retry_count, set_retry_count: u8 = bits(field::RETRY_COUNT);
    pkey, set_pkey: u16 = be(field::PKEY);
    /// IB MTU enum (1=256 .. 5=4096).
    path_mtu, set_path_mtu: u8 = bits(field::PATH_MTU);
    rdc_exists, set_rdc_exists: bool = flag(field::RDC_EXISTS);
    rnr_retry_count, set_rnr_retry_count: u8 = bits(field::RNR_RETRY_COUNT);
    max_cm_retries, set_max_cm_retries: u8 = bits(field::MAX_CM_RETRIES);
    srq, set_srq: bool = flag(field::SRQ);
    ext_transport_type, set_ext_transport_type: u8 = bits(field::EXT_TRANSPORT_TYPE);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmReqPacket<&'a T> {
    /// The primary path (44 bytes at 52).
    pub fn primary_path(&self) -> CmPathPacket<&'a [u8]> {
        CmPathPacket::new_unchecked(private_slice(
            self.buffer.as_ref(),
            path_range(field::PRIMARY_PATH),
        ))
    }
    /// The alternate path (44 bytes at 96).
    pub fn alternate_path(&self) -> CmPathPacket<&'a [u8]> {
        CmPathPacket::new_unchecked(private_slice(
            self.buffer.as_ref(),
            path_range(field::ALTERNATE_PATH),
        ))
    }
    /// The 92 bytes of private data.
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmReqPacket<T> {
    pub fn primary_path_mut(&mut self) -> CmPathPacket<&mut [u8]> {
        CmPathPacket::new_unchecked(private_slice_mut(
            self.buffer.as_mut(),
            path_range(field::PRIMARY_PATH),
        ))
    }
    pub fn alternate_path_mut(&mut self) -> CmPathPacket<&mut [u8]> {
        CmPathPacket::new_unchecked(private_slice_mut(
            self.buffer.as_mut(),
            path_range(field::ALTERNATE_PATH),
        ))
    }
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

const fn path_range(start: usize) -> core::ops::Range<usize> {
    start..start + CM_PATH_LEN
}

/// A parsed REQ. Reserved fields are kept so parse-then-emit is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmReqRepr {
    pub local_comm_id: u32,
    pub resv4: u8,
    /// 24 bits.
    pub vendor_id: u32,
    pub service_id: u64,
    pub local_ca_guid: u64,
    pub resv24: u32,
    pub local_qkey: u32,
    /// 24 bits.
    pub local_qpn: u32,
    pub responder_resources: u8,
    /// 24 bits.
    pub local_eecn: u32,
    pub initiator_depth: u8,
    /// 24 bits.
    pub remote_eecn: u32,
    /// 5 bits (4.096 µs × 2^n).
    pub remote_cm_response_timeout: u8,
    /// 2 bits, see [`tst`].
    pub transport_service_type: u8,
    pub e2e_flow_control: bool,
    /// 24 bits. The PSN the REQ's sender expects to receive first, i.e. the
    /// PSN the passive side sends from (Linux; proven by both rxe captures,
    /// `tests/wire_cm.rs`). The active side sends from the REP's.
    pub starting_psn: u32,
    /// 5 bits.
    pub local_cm_response_timeout: u8,
    /// 3 bits.
    pub retry_count: u8,
    pub pkey: u16,
    /// 4 bits, IB MTU enum.
    pub path_mtu: u8,
    pub rdc_exists: bool,
    /// 3 bits.
    pub rnr_retry_count: u8,
    /// 4 bits.
    pub max_cm_retries: u8,
    pub srq: bool,
    /// 3 bits.
    pub ext_transport_type: u8,
    pub primary_path: CmPath,
    /// All zero when there is no alternate path (bit 2 of `resv_ack` is SAP Supported).
    pub alternate_path: CmPath,
    pub private_data: [u8; REQ_PRIVATE_LEN],
}

impl CmReqRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmReqPacket<&T>) -> Result<CmReqRepr> {
        p.check_len()?;
        Ok(CmReqRepr {
            local_comm_id: p.local_comm_id(),
            resv4: p.resv4(),
            vendor_id: p.vendor_id(),
            service_id: p.service_id(),
            local_ca_guid: p.local_ca_guid(),
            resv24: p.resv24(),
            local_qkey: p.local_qkey(),
            local_qpn: p.local_qpn(),
            responder_resources: p.responder_resources(),
            local_eecn: p.local_eecn(),
            initiator_depth: p.initiator_depth(),
            remote_eecn: p.remote_eecn(),
            remote_cm_response_timeout: p.remote_cm_response_timeout(),
            transport_service_type: p.transport_service_type(),
            e2e_flow_control: p.e2e_flow_control(),
            starting_psn: p.starting_psn(),
            local_cm_response_timeout: p.local_cm_response_timeout(),
            retry_count: p.retry_count(),
            pkey: p.pkey(),
            path_mtu: p.path_mtu(),
            rdc_exists: p.rdc_exists(),
            rnr_retry_count: p.rnr_retry_count(),
            max_cm_retries: p.max_cm_retries(),
            srq: p.srq(),
            ext_transport_type: p.ext_transport_type(),
            primary_path: CmPath::parse(&p.primary_path())?,
            alternate_path: CmPath::parse(&p.alternate_path())?,
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmReqPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_resv4(self.resv4);
        p.set_vendor_id(self.vendor_id);
        p.set_service_id(self.service_id);
        p.set_local_ca_guid(self.local_ca_guid);
        p.set_resv24(self.resv24);
        p.set_local_qkey(self.local_qkey);
        p.set_local_qpn(self.local_qpn);
        p.set_responder_resources(self.responder_resources);
        p.set_local_eecn(self.local_eecn);
        p.set_initiator_depth(self.initiator_depth);
        p.set_remote_eecn(self.remote_eecn);
        p.set_remote_cm_response_timeout(self.remote_cm_response_timeout);
        p.set_transport_service_type(self.transport_service_type);
        p.set_e2e_flow_control(self.e2e_flow_control);
        p.set_starting_psn(self.starting_psn);
        p.set_local_cm_response_timeout(self.local_cm_response_timeout);
        p.set_retry_count(self.retry_count);
        p.set_pkey(self.pkey);
        p.set_path_mtu(self.path_mtu);
        p.set_rdc_exists(self.rdc_exists);
        p.set_rnr_retry_count(self.rnr_retry_count);
        p.set_max_cm_retries(self.max_cm_retries);
        p.set_srq(self.srq);
        p.set_ext_transport_type(self.ext_transport_type);
        self.primary_path.emit(&mut p.primary_path_mut());
        self.alternate_path.emit(&mut p.alternate_path_mut());
        be::put(p.private_data_mut(), 0, &self.private_data);
    }

    /// SAP Supported (bit 2 of data byte 139, inside the alternate path).
    pub fn sap_supported(&self) -> bool {
        self.alternate_path.resv_ack & 0b100 != 0
    }

    /// The CMA header at the start of the private data (present when the
    /// service ID is an RDMA IP CM one in the TCP, UDP or IPoIB port space).
    pub fn cma_header(&self) -> Result<CmaHdrRepr> {
        CmaHdrRepr::parse(&CmaHdrPacket::new_checked(self.private_data.as_slice())?)
    }

    /// The consumer's private data after the CMA header (56 bytes).
    pub fn cma_user_data(&self) -> &[u8] {
        CmaHdrPacket::new_unchecked(self.private_data.as_slice()).user_data()
    }
}

impl fmt::Display for CmReqRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "REQ lcid={} sid=0x{:016x}",
            HexId(self.local_comm_id),
            self.service_id
        )?;
        if let Some((ps, port)) = parse_service_id(self.service_id) {
            write!(f, "(ps=0x{ps:04x} port={port})")?;
        }
        write!(
            f,
            " qpn=0x{:06x} psn=0x{:06x} tst={} mtu={} rr={} id={} retry={} rnr={} pkey=0x{:04x} path[{}]",
            self.local_qpn,
            self.starting_psn,
            self.transport_service_type,
            self.path_mtu,
            self.responder_resources,
            self.initiator_depth,
            self.retry_count,
            self.rnr_retry_count,
            self.pkey,
            self.primary_path,
        )?;
        if self.alternate_path.is_present() {
            write!(f, " alt[{}]", self.alternate_path)?;
        }
        if let Ok(cma) = self.cma_header() {
            write!(f, " {cma}")?;
        }
        Ok(())
    }
}
