//! The CM RTU (ReadyToUse, 0x0014) and DREP (DisconnectReply, 0x0016), which
//! share one layout: Local Comm ID, Remote Comm ID, 224 bytes of private data.
//! [`CmRtuPacket`] view and [`CmRtuRepr`] (alias [`CmDrepRepr`]).
//! Owns that layout; must not interpret private data.

use core::fmt;

use super::{private_slice, private_slice_mut, HexId};
use crate::wire::be::{self, wire_view};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in an RTU or a DREP.
pub const RTU_PRIVATE_LEN: usize = 224;

mod field {
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const REMOTE_COMM_ID: Field = 4..8;
    pub const PRIVATE_DATA: Field = 8..232;
}

wire_view! {
    /// A view of the 232 data bytes of an RTU or DREP MAD.
    CmRtuPacket, CmRtuRepr, MAD_DATA_LEN, "RTU/DREP";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    remote_comm_id, set_remote_comm_id: u32 = be(field::REMOTE_COMM_ID);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmRtuPacket<&'a T> {
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmRtuPacket<T> {
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

/// A parsed RTU or DREP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmRtuRepr {
    pub local_comm_id: u32,
    pub remote_comm_id: u32,
    pub private_data: [u8; RTU_PRIVATE_LEN],
}

/// The DREP has the RTU's layout.
pub type CmDrepRepr = CmRtuRepr;

impl CmRtuRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmRtuPacket<&T>) -> Result<CmRtuRepr> {
        p.check_len()?;
        Ok(CmRtuRepr {
            local_comm_id: p.local_comm_id(),
            remote_comm_id: p.remote_comm_id(),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmRtuPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_remote_comm_id(self.remote_comm_id);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmRtuRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lcid={} rcid={}",
            HexId(self.local_comm_id),
            HexId(self.remote_comm_id)
        )
    }
}
