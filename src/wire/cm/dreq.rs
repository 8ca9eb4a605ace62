//! The CM DREQ (DisconnectRequest, 0x0015): [`CmDreqPacket`] view and
//! [`CmDreqRepr`]: comm IDs, the 24-bit Remote QPN/EECN, 220 bytes of private
//! data. Owns that layout; must not interpret private data.

use core::fmt;

use super::{private_slice, private_slice_mut, HexId};
use crate::wire::be::{self, wire_view};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in a DREQ.
pub const DREQ_PRIVATE_LEN: usize = 220;

mod field {
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const REMOTE_COMM_ID: Field = 4..8;
    pub const REMOTE_QPN: Field = 8..11;
    pub const RESV11: Field = 11..12;
    pub const PRIVATE_DATA: Field = 12..232;
}

wire_view! {
    /// A view of the 232 data bytes of a DREQ MAD.
    CmDreqPacket, CmDreqRepr, MAD_DATA_LEN, "DREQ";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    remote_comm_id, set_remote_comm_id: u32 = be(field::REMOTE_COMM_ID);
    /// The QPN (or EECN) of the receiver of the DREQ, 24 bits.
    remote_qpn, set_remote_qpn: u32 = be(field::REMOTE_QPN);
    resv11, set_resv11: u8 = be(field::RESV11);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmDreqPacket<&'a T> {
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmDreqPacket<T> {
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

/// A parsed DREQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmDreqRepr {
    pub local_comm_id: u32,
    pub remote_comm_id: u32,
    /// 24 bits.
    pub remote_qpn: u32,
    pub resv11: u8,
    pub private_data: [u8; DREQ_PRIVATE_LEN],
}

impl CmDreqRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmDreqPacket<&T>) -> Result<CmDreqRepr> {
        p.check_len()?;
        Ok(CmDreqRepr {
            local_comm_id: p.local_comm_id(),
            remote_comm_id: p.remote_comm_id(),
            remote_qpn: p.remote_qpn(),
            resv11: p.resv11(),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmDreqPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_remote_comm_id(self.remote_comm_id);
        p.set_remote_qpn(self.remote_qpn);
        p.set_resv11(self.resv11);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmDreqRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "DREQ lcid={} rcid={} rqpn=0x{:06x}",
            HexId(self.local_comm_id),
            HexId(self.remote_comm_id),
            self.remote_qpn
        )
    }
}
