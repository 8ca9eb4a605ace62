//! IB CM messages carried in MADs on QP1 (ROCE-FACTS §3): one file per
//! message layout, the [`CmMessage`] enum chosen by attribute ID, and
//! [`CmMad`] (MAD header + message) that parses from and emits to a 256-byte
//! MAD. Owns the CM layouts; must not keep connection state (that is the
//! sans-IO `crate::cm` engine) nor know the BTH/DETH around the MAD.

use core::fmt;
use core::ops::Range;

use super::mad::{
    attr, MadPacket, MadRepr, BASE_VERSION, CM_CLASS_VERSION, MAD_DATA_LEN, MAD_LEN, MGMT_CLASS_CM,
};
use super::{Error, Result};

pub mod dreq;
pub mod mra;
pub mod path;
pub mod rej;
pub mod rep;
pub mod req;
pub mod rtu;
pub mod sidr;

pub use dreq::{CmDreqPacket, CmDreqRepr, DREQ_PRIVATE_LEN};
pub use mra::{CmMraPacket, CmMraRepr, MRA_PRIVATE_LEN};
pub use path::{CmPath, CmPathPacket, CM_PATH_LEN};
pub use rej::{CmRejPacket, CmRejRepr, RejReason, REJ_ARI_LEN, REJ_PRIVATE_LEN};
pub use rep::{CmRepPacket, CmRepRepr, REP_PRIVATE_LEN};
pub use req::{tst, CmReqPacket, CmReqRepr, REQ_PRIVATE_LEN};
pub use rtu::{CmDrepRepr, CmRtuPacket, CmRtuRepr, RTU_PRIVATE_LEN};
pub use sidr::{
    CmSidrRepPacket, CmSidrRepRepr, CmSidrReqPacket, CmSidrReqRepr, SIDR_REP_INFO_LEN,
    SIDR_REP_PRIVATE_LEN, SIDR_REQ_PRIVATE_LEN,
};

/// The sub-slice `range` of `data`, or an empty slice if out of range.
pub(crate) fn private_slice(data: &[u8], range: Range<usize>) -> &[u8] {
    data.get(range).unwrap_or(&[])
}

/// The sub-slice `range` of `data`, or an empty slice if out of range.
pub(crate) fn private_slice_mut(data: &mut [u8], range: Range<usize>) -> &mut [u8] {
    data.get_mut(range).unwrap_or(&mut [])
}

/// Displays a 32-bit comm ID as `0x%08x`.
pub(crate) struct HexId(pub u32);

impl fmt::Display for HexId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08x}", self.0)
    }
}

/// The 2-bit "message MRAed" / "message rejected" field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmMsgRef {
    Req,
    Rep,
    /// LAP in an MRA, "other" in a REJ.
    Other,
    /// Value 3.
    Reserved,
}

impl CmMsgRef {
    pub const fn from_bits(bits: u8) -> CmMsgRef {
        match bits & 3 {
            0 => CmMsgRef::Req,
            1 => CmMsgRef::Rep,
            2 => CmMsgRef::Other,
            _ => CmMsgRef::Reserved,
        }
    }

    pub const fn bits(self) -> u8 {
        match self {
            CmMsgRef::Req => 0,
            CmMsgRef::Rep => 1,
            CmMsgRef::Other => 2,
            CmMsgRef::Reserved => 3,
        }
    }
}

/// One CM message (the 232 MAD data bytes), by attribute ID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CmMessage {
    Req(CmReqRepr),
    Mra(CmMraRepr),
    Rej(CmRejRepr),
    Rep(CmRepRepr),
    Rtu(CmRtuRepr),
    Dreq(CmDreqRepr),
    Drep(CmDrepRepr),
    SidrReq(CmSidrReqRepr),
    SidrRep(CmSidrRepRepr),
}

impl CmMessage {
    /// The MAD attribute ID of the message.
    pub const fn attribute_id(&self) -> u16 {
        match self {
            CmMessage::Req(_) => attr::REQ,
            CmMessage::Mra(_) => attr::MRA,
            CmMessage::Rej(_) => attr::REJ,
            CmMessage::Rep(_) => attr::REP,
            CmMessage::Rtu(_) => attr::RTU,
            CmMessage::Dreq(_) => attr::DREQ,
            CmMessage::Drep(_) => attr::DREP,
            CmMessage::SidrReq(_) => attr::SIDR_REQ,
            CmMessage::SidrRep(_) => attr::SIDR_REP,
        }
    }

    /// Short name: "REQ", "REP", ...
    pub const fn name(&self) -> &'static str {
        match self {
            CmMessage::Req(_) => "REQ",
            CmMessage::Mra(_) => "MRA",
            CmMessage::Rej(_) => "REJ",
            CmMessage::Rep(_) => "REP",
            CmMessage::Rtu(_) => "RTU",
            CmMessage::Dreq(_) => "DREQ",
            CmMessage::Drep(_) => "DREP",
            CmMessage::SidrReq(_) => "SIDR_REQ",
            CmMessage::SidrRep(_) => "SIDR_REP",
        }
    }

    /// The sender's comm ID (the request ID for SIDR).
    pub const fn local_comm_id(&self) -> u32 {
        match self {
            CmMessage::Req(m) => m.local_comm_id,
            CmMessage::Mra(m) => m.local_comm_id,
            CmMessage::Rej(m) => m.local_comm_id,
            CmMessage::Rep(m) => m.local_comm_id,
            CmMessage::Rtu(m) | CmMessage::Drep(m) => m.local_comm_id,
            CmMessage::Dreq(m) => m.local_comm_id,
            CmMessage::SidrReq(m) => m.request_id,
            CmMessage::SidrRep(m) => m.request_id,
        }
    }

    /// The receiver's comm ID, for messages that carry one.
    pub const fn remote_comm_id(&self) -> Option<u32> {
        match self {
            CmMessage::Mra(m) => Some(m.remote_comm_id),
            CmMessage::Rej(m) => Some(m.remote_comm_id),
            CmMessage::Rep(m) => Some(m.remote_comm_id),
            CmMessage::Rtu(m) | CmMessage::Drep(m) => Some(m.remote_comm_id),
            CmMessage::Dreq(m) => Some(m.remote_comm_id),
            CmMessage::Req(_) | CmMessage::SidrReq(_) | CmMessage::SidrRep(_) => None,
        }
    }

    /// Parses the MAD data (at least 232 bytes) of attribute `attribute_id`.
    /// `Unsupported` for attributes other than the nine CM messages here
    /// (ClassPortInfo, LAP, APR, unknown); `Truncated` if data is short.
    pub fn parse(attribute_id: u16, data: &[u8]) -> Result<CmMessage> {
        if data.len() < MAD_DATA_LEN {
            return Err(Error::Truncated);
        }
        Ok(match attribute_id {
            attr::REQ => CmMessage::Req(CmReqRepr::parse(&CmReqPacket::new_checked(data)?)?),
            attr::MRA => CmMessage::Mra(CmMraRepr::parse(&CmMraPacket::new_checked(data)?)?),
            attr::REJ => CmMessage::Rej(CmRejRepr::parse(&CmRejPacket::new_checked(data)?)?),
            attr::REP => CmMessage::Rep(CmRepRepr::parse(&CmRepPacket::new_checked(data)?)?),
            attr::RTU => CmMessage::Rtu(CmRtuRepr::parse(&CmRtuPacket::new_checked(data)?)?),
            attr::DREQ => CmMessage::Dreq(CmDreqRepr::parse(&CmDreqPacket::new_checked(data)?)?),
            attr::DREP => CmMessage::Drep(CmRtuRepr::parse(&CmRtuPacket::new_checked(data)?)?),
            attr::SIDR_REQ => {
                CmMessage::SidrReq(CmSidrReqRepr::parse(&CmSidrReqPacket::new_checked(data)?)?)
            }
            attr::SIDR_REP => {
                CmMessage::SidrRep(CmSidrRepRepr::parse(&CmSidrRepPacket::new_checked(data)?)?)
            }
            _ => return Err(Error::Unsupported),
        })
    }

    /// Writes the 232 data bytes into `data`. `Truncated` if it is shorter.
    pub fn emit(&self, data: &mut [u8]) -> Result<()> {
        if data.len() < MAD_DATA_LEN {
            return Err(Error::Truncated);
        }
        match self {
            CmMessage::Req(m) => m.emit(&mut CmReqPacket::new_unchecked(data)),
            CmMessage::Mra(m) => m.emit(&mut CmMraPacket::new_unchecked(data)),
            CmMessage::Rej(m) => m.emit(&mut CmRejPacket::new_unchecked(data)),
            CmMessage::Rep(m) => m.emit(&mut CmRepPacket::new_unchecked(data)),
            CmMessage::Rtu(m) | CmMessage::Drep(m) => m.emit(&mut CmRtuPacket::new_unchecked(data)),
            CmMessage::Dreq(m) => m.emit(&mut CmDreqPacket::new_unchecked(data)),
            CmMessage::SidrReq(m) => m.emit(&mut CmSidrReqPacket::new_unchecked(data)),
            CmMessage::SidrRep(m) => m.emit(&mut CmSidrRepPacket::new_unchecked(data)),
        }
        Ok(())
    }
}

impl fmt::Display for CmMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CmMessage::Req(m) => write!(f, "{m}"),
            CmMessage::Mra(m) => write!(f, "{m}"),
            CmMessage::Rej(m) => write!(f, "{m}"),
            CmMessage::Rep(m) => write!(f, "{m}"),
            CmMessage::Rtu(m) => write!(f, "RTU {m}"),
            CmMessage::Dreq(m) => write!(f, "{m}"),
            CmMessage::Drep(m) => write!(f, "DREP {m}"),
            CmMessage::SidrReq(m) => write!(f, "{m}"),
            CmMessage::SidrRep(m) => write!(f, "{m}"),
        }
    }
}

/// A CM MAD: the common header and the message it carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmMad {
    pub header: MadRepr,
    pub message: CmMessage,
}

impl CmMad {
    /// A CM MAD with the header Linux uses ([`MadRepr::cm`]).
    pub const fn new(transaction_id: u64, message: CmMessage) -> CmMad {
        CmMad {
            header: MadRepr::cm(transaction_id, message.attribute_id()),
            message,
        }
    }

    /// Parses a 256-byte MAD. `Unsupported` unless base version 1, class CM,
    /// class version 2 and one of the nine message attributes; method, status
    /// and the other header fields are kept as they are.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &MadPacket<&T>) -> Result<CmMad> {
        let header = MadRepr::parse(packet)?;
        if header.base_version != BASE_VERSION
            || header.mgmt_class != MGMT_CLASS_CM
            || header.class_version != CM_CLASS_VERSION
        {
            return Err(Error::Unsupported);
        }
        let message = CmMessage::parse(header.attribute_id, packet.data())?;
        Ok(CmMad { header, message })
    }

    /// Parses a MAD from bytes (at least 256).
    pub fn parse_bytes(bytes: &[u8]) -> Result<CmMad> {
        CmMad::parse(&MadPacket::new_checked(bytes)?)
    }

    /// Writes the 256-byte MAD into `buf` (`Truncated` if shorter). The
    /// attribute ID written is the message's, whatever `header` says.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if buf.len() < MAD_LEN {
            return Err(Error::Truncated);
        }
        let mut packet = MadPacket::new_unchecked(buf);
        let mut header = self.header;
        header.attribute_id = self.message.attribute_id();
        header.emit(&mut packet);
        self.message.emit(packet.data_mut())
    }
}

impl fmt::Display for CmMad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CM {} tid=0x{:016x}",
            self.message, self.header.transaction_id
        )
    }
}
