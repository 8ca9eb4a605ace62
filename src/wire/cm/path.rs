//! The 44-byte path description inside a CM REQ (primary at data offset 52,
//! alternate at 96): [`CmPathPacket`] view and [`CmPath`].
//! Owns the path layout only; must not know where the REQ puts it.

use core::fmt;

use crate::wire::be::{self, wire_view, Bits};
use crate::wire::cma::GidDisplay;
use crate::wire::Result;

/// Length of one path description.
pub const CM_PATH_LEN: usize = 44;

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const LOCAL_LID: Field = 0..2;
    pub const REMOTE_LID: Field = 2..4;
    pub const LOCAL_GID: usize = 4;
    pub const REMOTE_GID: usize = 20;
    /// Flow label `[31:12]`, reserved `[11:6]`, packet rate `[5:0]`.
    pub const FLOW_WORD: Field = 36..40;
    pub const TRAFFIC_CLASS: Field = 40..41;
    pub const HOP_LIMIT: Field = 41..42;
    pub const SL: Bits = Bits::at(42, 7, 4);
    pub const SUBNET_LOCAL: Bits = Bits::at(42, 3, 3);
    pub const RESV_SL: Bits = Bits::at(42, 2, 0);
    pub const LOCAL_ACK_TIMEOUT: Bits = Bits::at(43, 7, 3);
    /// In the alternate path, bit 2 of this field is the REQ's SAP Supported.
    pub const RESV_ACK: Bits = Bits::at(43, 2, 0);
}

wire_view! {
    /// A view of one 44-byte REQ path.
    CmPathPacket, CmPath, CM_PATH_LEN, "CM path";
    local_lid, set_local_lid: u16 = be(field::LOCAL_LID);
    remote_lid, set_remote_lid: u16 = be(field::REMOTE_LID);
    flow_word, set_flow_word: u32 = be(field::FLOW_WORD);
    traffic_class, set_traffic_class: u8 = be(field::TRAFFIC_CLASS);
    hop_limit, set_hop_limit: u8 = be(field::HOP_LIMIT);
    sl, set_sl: u8 = bits(field::SL);
    subnet_local, set_subnet_local: bool = flag(field::SUBNET_LOCAL);
    resv_sl, set_resv_sl: u8 = bits(field::RESV_SL);
    local_ack_timeout, set_local_ack_timeout: u8 = bits(field::LOCAL_ACK_TIMEOUT);
    resv_ack, set_resv_ack: u8 = bits(field::RESV_ACK);
}

impl<T: AsRef<[u8]>> CmPathPacket<T> {
    pub fn local_gid(&self) -> [u8; 16] {
        be::array(self.buffer.as_ref(), field::LOCAL_GID)
    }
    pub fn remote_gid(&self) -> [u8; 16] {
        be::array(self.buffer.as_ref(), field::REMOTE_GID)
    }
    /// The 20-bit flow label.
    pub fn flow_label(&self) -> u32 {
        self.flow_word() >> 12
    }
    /// The six reserved bits between flow label and packet rate.
    pub fn resv_rate(&self) -> u8 {
        ((self.flow_word() >> 6) & 0x3F) as u8
    }
    /// The 6-bit packet rate enum.
    pub fn packet_rate(&self) -> u8 {
        (self.flow_word() & 0x3F) as u8
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmPathPacket<T> {
    pub fn set_local_gid(&mut self, gid: &[u8; 16]) {
        be::put(self.buffer.as_mut(), field::LOCAL_GID, gid);
    }
    pub fn set_remote_gid(&mut self, gid: &[u8; 16]) {
        be::put(self.buffer.as_mut(), field::REMOTE_GID, gid);
    }
    /// Writes flow label, reserved bits and packet rate (each masked to its width).
    pub fn set_flow(&mut self, flow_label: u32, resv_rate: u8, packet_rate: u8) {
        let word = ((flow_label & 0xF_FFFF) << 12)
            | (u32::from(resv_rate & 0x3F) << 6)
            | u32::from(packet_rate & 0x3F);
        self.set_flow_word(word);
    }
}

/// One REQ path. Reserved bits are kept so emit is exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct CmPath {
    /// 0xFFFF (permissive) for routed RoCE paths.
    pub local_lid: u16,
    pub remote_lid: u16,
    /// Sender's GID (IPv4-mapped `::ffff:a.b.c.d` for IPv4 RoCEv2).
    pub local_gid: [u8; 16],
    pub remote_gid: [u8; 16],
    /// 20 bits.
    pub flow_label: u32,
    /// 6 reserved bits after the flow label.
    pub resv_rate: u8,
    /// 6-bit rate enum.
    pub packet_rate: u8,
    pub traffic_class: u8,
    pub hop_limit: u8,
    /// 4 bits.
    pub sl: u8,
    pub subnet_local: bool,
    /// 3 reserved bits after SubnetLocal.
    pub resv_sl: u8,
    /// 5 bits.
    pub local_ack_timeout: u8,
    /// 3 bits after the ACK timeout (bit 2 is SAP Supported in the alternate path).
    pub resv_ack: u8,
}

impl CmPath {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmPathPacket<&T>) -> Result<CmPath> {
        p.check_len()?;
        Ok(CmPath {
            local_lid: p.local_lid(),
            remote_lid: p.remote_lid(),
            local_gid: p.local_gid(),
            remote_gid: p.remote_gid(),
            flow_label: p.flow_label(),
            resv_rate: p.resv_rate(),
            packet_rate: p.packet_rate(),
            traffic_class: p.traffic_class(),
            hop_limit: p.hop_limit(),
            sl: p.sl(),
            subnet_local: p.subnet_local(),
            resv_sl: p.resv_sl(),
            local_ack_timeout: p.local_ack_timeout(),
            resv_ack: p.resv_ack(),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmPathPacket<T>) {
        p.set_local_lid(self.local_lid);
        p.set_remote_lid(self.remote_lid);
        p.set_local_gid(&self.local_gid);
        p.set_remote_gid(&self.remote_gid);
        p.set_flow(self.flow_label, self.resv_rate, self.packet_rate);
        p.set_traffic_class(self.traffic_class);
        p.set_hop_limit(self.hop_limit);
        p.set_sl(self.sl);
        p.set_subnet_local(self.subnet_local);
        p.set_resv_sl(self.resv_sl);
        p.set_local_ack_timeout(self.local_ack_timeout);
        p.set_resv_ack(self.resv_ack);
    }

    /// True when the path names an endpoint (a nonzero LID or GID); an all-zero
    /// alternate path means "no alternate path".
    pub fn is_present(&self) -> bool {
        self.local_lid != 0
            || self.remote_lid != 0
            || self.local_gid != [0; 16]
            || self.remote_gid != [0; 16]
    }
}

impl fmt::Display for CmPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lid {:#06x}->{:#06x} gid {}->{} fl=0x{:05x} rate={} tc={} hl={} sl={} ackto={}",
            self.local_lid,
            self.remote_lid,
            GidDisplay(&self.local_gid),
            GidDisplay(&self.remote_gid),
            self.flow_label,
            self.packet_rate,
            self.traffic_class,
            self.hop_limit,
            self.sl,
            self.local_ack_timeout,
        )
    }
}
