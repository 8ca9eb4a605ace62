//! The CM REP (ConnectReply, attribute 0x0013): [`CmRepPacket`] view over the
//! 232 MAD data bytes and [`CmRepRepr`] (ROCE-FACTS §3.4, VendorID split over
//! bytes 15, 19 and 23). Owns the REP layout; must not interpret private data.

use core::fmt;

use super::{private_slice, private_slice_mut, HexId};
use crate::wire::be::{self, wire_view, Bits};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in a REP.
pub const REP_PRIVATE_LEN: usize = 196;

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const REMOTE_COMM_ID: Field = 4..8;
    pub const LOCAL_QKEY: Field = 8..12;
    pub const LOCAL_QPN: Field = 12..15;
    pub const VENDOR_ID_HI: Field = 15..16;
    pub const LOCAL_EECN: Field = 16..19;
    pub const VENDOR_ID_MID: Field = 19..20;
    pub const STARTING_PSN: Field = 20..23;
    pub const VENDOR_ID_LO: Field = 23..24;
    pub const RESPONDER_RESOURCES: Field = 24..25;
    pub const INITIATOR_DEPTH: Field = 25..26;
    pub const TARGET_ACK_DELAY: Bits = Bits::at(26, 7, 3);
    pub const FAILOVER_ACCEPTED: Bits = Bits::at(26, 2, 1);
    pub const E2E_FLOW_CONTROL: Bits = Bits::at(26, 0, 0);
    pub const RNR_RETRY_COUNT: Bits = Bits::at(27, 7, 5);
    pub const SRQ: Bits = Bits::at(27, 4, 4);
    pub const RESV27: Bits = Bits::at(27, 3, 0);
    pub const LOCAL_CA_GUID: Field = 28..36;
    pub const PRIVATE_DATA: Field = 36..232;
}

wire_view! {
    /// A view of the 232 data bytes of a REP MAD.
    CmRepPacket, CmRepRepr, MAD_DATA_LEN, "REP";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    remote_comm_id, set_remote_comm_id: u32 = be(field::REMOTE_COMM_ID);
    local_qkey, set_local_qkey: u32 = be(field::LOCAL_QKEY);
    local_qpn, set_local_qpn: u32 = be(field::LOCAL_QPN);
    vendor_id_hi, set_vendor_id_hi: u8 = be(field::VENDOR_ID_HI);
    local_eecn, set_local_eecn: u32 = be(field::LOCAL_EECN);
    vendor_id_mid, set_vendor_id_mid: u8 = be(field::VENDOR_ID_MID);
    starting_psn, set_starting_psn: u32 = be(field::STARTING_PSN);
    vendor_id_lo, set_vendor_id_lo: u8 = be(field::VENDOR_ID_LO);
    responder_resources, set_responder_resources: u8 = be(field::RESPONDER_RESOURCES);
    initiator_depth, set_initiator_depth: u8 = be(field::INITIATOR_DEPTH);
    target_ack_delay, set_target_ack_delay: u8 = bits(field::TARGET_ACK_DELAY);
    failover_accepted, set_failover_accepted: u8 = bits(field::FAILOVER_ACCEPTED);
    e2e_flow_control, set_e2e_flow_control: bool = flag(field::E2E_FLOW_CONTROL);
    rnr_retry_count, set_rnr_retry_count: u8 = bits(field::RNR_RETRY_COUNT);
    srq, set_srq: bool = flag(field::SRQ);
    resv27, set_resv27: u8 = bits(field::RESV27);
    local_ca_guid, set_local_ca_guid: u64 = be(field::LOCAL_CA_GUID);
}

impl<T: AsRef<[u8]>> CmRepPacket<T> {
    /// The 24-bit VendorID assembled from its three bytes.
    pub fn vendor_id(&self) -> u32 {
        (u32::from(self.vendor_id_hi()) << 16)
            | (u32::from(self.vendor_id_mid()) << 8)
            | u32::from(self.vendor_id_lo())
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmRepPacket<&'a T> {
    /// The 196 bytes of private data.
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmRepPacket<T> {
    /// Writes the 24-bit VendorID into its three bytes.
    pub fn set_vendor_id(&mut self, vendor_id: u32) {
        self.set_vendor_id_hi((vendor_id >> 16) as u8);
        self.set_vendor_id_mid((vendor_id >> 8) as u8);
        self.set_vendor_id_lo(vendor_id as u8);
    }
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

/// A parsed REP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmRepRepr {
    pub local_comm_id: u32,
    /// The REQ's Local Comm ID.
    pub remote_comm_id: u32,
    pub local_qkey: u32,
    /// 24 bits.
    pub local_qpn: u32,
    /// 24 bits (ECE), split over three bytes on the wire.
    pub vendor_id: u32,
    /// 24 bits.
    pub local_eecn: u32,
    /// 24 bits. The PSN the REP's sender (passive side) expects to receive
    /// first, i.e. the PSN the active side sends from (see the REQ's).
    pub starting_psn: u32,
    pub responder_resources: u8,
    pub initiator_depth: u8,
    /// 5 bits.
    pub target_ack_delay: u8,
    /// 2 bits.
    pub failover_accepted: u8,
    pub e2e_flow_control: bool,
    /// 3 bits.
    pub rnr_retry_count: u8,
    pub srq: bool,
    /// The 4 reserved bits of byte 27.
    pub resv27: u8,
    pub local_ca_guid: u64,
    pub private_data: [u8; REP_PRIVATE_LEN],
}

impl CmRepRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmRepPacket<&T>) -> Result<CmRepRepr> {
        p.check_len()?;
        Ok(CmRepRepr {
            local_comm_id: p.local_comm_id(),
            remote_comm_id: p.remote_comm_id(),
            local_qkey: p.local_qkey(),
            local_qpn: p.local_qpn(),
            vendor_id: p.vendor_id(),
            local_eecn: p.local_eecn(),
            starting_psn: p.starting_psn(),
            responder_resources: p.responder_resources(),
            initiator_depth: p.initiator_depth(),
            target_ack_delay: p.target_ack_delay(),
            failover_accepted: p.failover_accepted(),
            e2e_flow_control: p.e2e_flow_control(),
            rnr_retry_count: p.rnr_retry_count(),
            srq: p.srq(),
            resv27: p.resv27(),
            local_ca_guid: p.local_ca_guid(),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmRepPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_remote_comm_id(self.remote_comm_id);
        p.set_local_qkey(self.local_qkey);
        p.set_local_qpn(self.local_qpn);
        p.set_vendor_id(self.vendor_id);
        p.set_local_eecn(self.local_eecn);
        p.set_starting_psn(self.starting_psn);
        p.set_responder_resources(self.responder_resources);
        p.set_initiator_depth(self.initiator_depth);
        p.set_target_ack_delay(self.target_ack_delay);
        p.set_failover_accepted(self.failover_accepted);
        p.set_e2e_flow_control(self.e2e_flow_control);
        p.set_rnr_retry_count(self.rnr_retry_count);
        p.set_srq(self.srq);
        p.set_resv27(self.resv27);
        p.set_local_ca_guid(self.local_ca_guid);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmRepRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "REP lcid={} rcid={} qpn=0x{:06x} psn=0x{:06x} rr={} id={} ackdelay={} rnr={} srq={} guid=0x{:016x}",
            HexId(self.local_comm_id),
            HexId(self.remote_comm_id),
            self.local_qpn,
            self.starting_psn,
            self.responder_resources,
            self.initiator_depth,
            self.target_ack_delay,
            self.rnr_retry_count,
            u8::from(self.srq),
            self.local_ca_guid,
        )
    }
}
