//! The CM MRA (MessageReceiptAcknowledgement, 0x0011): [`CmMraPacket`] view
//! and [`CmMraRepr`]: comm IDs, the message MRAed, the service timeout and
//! 222 bytes of private data. Owns that layout only.

use core::fmt;

use super::{private_slice, private_slice_mut, CmMsgRef, HexId};
use crate::wire::be::{self, wire_view, Bits};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in an MRA.
pub const MRA_PRIVATE_LEN: usize = 222;

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const REMOTE_COMM_ID: Field = 4..8;
    pub const MESSAGE_MRAED: Bits = Bits::at(8, 7, 6);
    pub const RESV8: Bits = Bits::at(8, 5, 0);
    pub const SERVICE_TIMEOUT: Bits = Bits::at(9, 7, 3);
    pub const RESV9: Bits = Bits::at(9, 2, 0);
    pub const PRIVATE_DATA: Field = 10..232;
}

wire_view! {
    /// A view of the 232 data bytes of an MRA MAD.
    CmMraPacket, CmMraRepr, MAD_DATA_LEN, "MRA";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    remote_comm_id, set_remote_comm_id: u32 = be(field::REMOTE_COMM_ID);
    /// 0 REQ, 1 REP, 2 LAP.
    message_mraed, set_message_mraed: u8 = bits(field::MESSAGE_MRAED);
    resv8, set_resv8: u8 = bits(field::RESV8);
    service_timeout, set_service_timeout: u8 = bits(field::SERVICE_TIMEOUT);
    resv9, set_resv9: u8 = bits(field::RESV9);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmMraPacket<&'a T> {
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmMraPacket<T> {
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

/// A parsed MRA.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmMraRepr {
    pub local_comm_id: u32,
    pub remote_comm_id: u32,
    pub message_mraed: CmMsgRef,
    /// 6 reserved bits.
    pub resv8: u8,
    /// 5 bits.
    pub service_timeout: u8,
    /// 3 reserved bits.
    pub resv9: u8,
    pub private_data: [u8; MRA_PRIVATE_LEN],
}

impl CmMraRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmMraPacket<&T>) -> Result<CmMraRepr> {
        p.check_len()?;
        Ok(CmMraRepr {
            local_comm_id: p.local_comm_id(),
            remote_comm_id: p.remote_comm_id(),
            message_mraed: CmMsgRef::from_bits(p.message_mraed()),
            resv8: p.resv8(),
            service_timeout: p.service_timeout(),
            resv9: p.resv9(),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmMraPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_remote_comm_id(self.remote_comm_id);
        p.set_message_mraed(self.message_mraed.bits());
        p.set_resv8(self.resv8);
        p.set_service_timeout(self.service_timeout);
        p.set_resv9(self.resv9);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmMraRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MRA lcid={} rcid={} msg={:?} timeout={}",
            HexId(self.local_comm_id),
            HexId(self.remote_comm_id),
            self.message_mraed,
            self.service_timeout
        )
    }
}
