//! The CM REJ (ConnectReject, 0x0012): [`CmRejPacket`] view, [`CmRejRepr`] and
//! the reject reasons ([`RejReason`], ROCE-FACTS §3.5). 72 bytes of ARI and
//! 148 bytes of private data. Owns that layout only.

use core::fmt;

use super::{private_slice, private_slice_mut, CmMsgRef, HexId};
use crate::wire::be::{self, wire_view, Bits};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of Additional Rejection Information.
pub const REJ_ARI_LEN: usize = 72;
/// Bytes of private data in a REJ.
pub const REJ_PRIVATE_LEN: usize = 148;

mod field {
    use super::Bits;
    use crate::wire::field::Field;

    pub const LOCAL_COMM_ID: Field = 0..4;
    pub const REMOTE_COMM_ID: Field = 4..8;
    pub const MESSAGE_REJECTED: Bits = Bits::at(8, 7, 6);
    pub const RESV8: Bits = Bits::at(8, 5, 0);
    pub const ARI_LENGTH: Bits = Bits::at(9, 7, 1);
    pub const RESV9: Bits = Bits::at(9, 0, 0);
    pub const REASON: Field = 10..12;
    pub const ARI: Field = 12..84;
    pub const PRIVATE_DATA: Field = 84..232;
}

macro_rules! reasons {
    ($( $name:ident = $val:expr, $text:expr; )*) => {
        /// A REJ reason code. Any value is representable.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum RejReason {
            $( $name, )*
            /// A code softroce has no name for.
            Other(u16),
        }

        impl RejReason {
            pub const fn from_code(code: u16) -> RejReason {
                match code {
                    $( $val => RejReason::$name, )*
                    other => RejReason::Other(other),
                }
            }

            pub const fn code(self) -> u16 {
                match self {
                    $( RejReason::$name => $val, )*
                    RejReason::Other(c) => c,
                }
            }

            /// The IBA/Linux name of the reason, if known.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $( RejReason::$name => Some($text), )*
                    RejReason::Other(_) => None,
                }
            }
        }
    };
}

reasons! {
    NoQp = 1, "NO_QP";
    NoEec = 2, "NO_EEC";
    NoResources = 3, "NO_RESOURCES";
    Timeout = 4, "TIMEOUT";
    Unsupported = 5, "UNSUPPORTED";
    InvalidCommId = 6, "INVALID_COMM_ID";
    InvalidCommInstance = 7, "INVALID_COMM_INSTANCE";
    InvalidServiceId = 8, "INVALID_SERVICE_ID";
    InvalidTransportType = 9, "INVALID_TRANSPORT_TYPE";
    StaleConn = 10, "STALE_CONN";
    RdcNotExist = 11, "RDC_NOT_EXIST";
    InvalidGid = 12, "INVALID_GID";
    InvalidLid = 13, "INVALID_LID";
    InvalidSl = 14, "INVALID_SL";
    InvalidTrafficClass = 15, "INVALID_TRAFFIC_CLASS";
    InvalidHopLimit = 16, "INVALID_HOP_LIMIT";
    InvalidPacketRate = 17, "INVALID_PACKET_RATE";
    InvalidAltGid = 18, "INVALID_ALT_GID";
    InvalidAltLid = 19, "INVALID_ALT_LID";
    InvalidAltSl = 20, "INVALID_ALT_SL";
    InvalidAltTrafficClass = 21, "INVALID_ALT_TRAFFIC_CLASS";
    InvalidAltHopLimit = 22, "INVALID_ALT_HOP_LIMIT";
    InvalidAltPacketRate = 23, "INVALID_ALT_PACKET_RATE";
    PortCmRedirect = 24, "PORT_CM_REDIRECT";
    PortRedirect = 25, "PORT_REDIRECT";
    InvalidMtu = 26, "INVALID_MTU";
    InsufficientRespResources = 27, "INSUFFICIENT_RESP_RESOURCES";
    ConsumerDefined = 28, "CONSUMER_DEFINED";
    InvalidRnrRetry = 29, "INVALID_RNR_RETRY";
    DuplicateLocalCommId = 30, "DUPLICATE_LOCAL_COMM_ID";
    InvalidClassVersion = 31, "INVALID_CLASS_VERSION";
    InvalidFlowLabel = 32, "INVALID_FLOW_LABEL";
    InvalidAltFlowLabel = 33, "INVALID_ALT_FLOW_LABEL";
    VendorOptionNotSupported = 35, "VENDOR_OPTION_NOT_SUPPORTED";
}

impl fmt::Display for RejReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => write!(f, "{}({})", n, self.code()),
            None => write!(f, "{}", self.code()),
        }
    }
}

wire_view! {
    /// A view of the 232 data bytes of a REJ MAD.
    CmRejPacket, CmRejRepr, MAD_DATA_LEN, "REJ";
    local_comm_id, set_local_comm_id: u32 = be(field::LOCAL_COMM_ID);
    remote_comm_id, set_remote_comm_id: u32 = be(field::REMOTE_COMM_ID);
    /// 0 REQ, 1 REP, 2 other.
    message_rejected, set_message_rejected: u8 = bits(field::MESSAGE_REJECTED);
    resv8, set_resv8: u8 = bits(field::RESV8);
    /// 7 bits: how many ARI bytes are meaningful.
    ari_length, set_ari_length: u8 = bits(field::ARI_LENGTH);
    resv9, set_resv9: u8 = bits(field::RESV9);
    reason, set_reason: u16 = be(field::REASON);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmRejPacket<&'a T> {
    /// The 72 bytes of ARI.
    pub fn ari(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::ARI)
    }
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmRejPacket<T> {
    pub fn ari_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::ARI)
    }
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), field::PRIVATE_DATA)
    }
}

/// A parsed REJ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmRejRepr {
    pub local_comm_id: u32,
    pub remote_comm_id: u32,
    pub message_rejected: CmMsgRef,
    /// 6 reserved bits.
    pub resv8: u8,
    /// 7 bits; may exceed 72 on the wire, [`CmRejRepr::ari_bytes`] clamps it.
    pub ari_length: u8,
    /// 1 reserved bit.
    pub resv9: u8,
    pub reason: RejReason,
    pub ari: [u8; REJ_ARI_LEN],
    pub private_data: [u8; REJ_PRIVATE_LEN],
}

impl CmRejRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmRejPacket<&T>) -> Result<CmRejRepr> {
        p.check_len()?;
        Ok(CmRejRepr {
            local_comm_id: p.local_comm_id(),
            remote_comm_id: p.remote_comm_id(),
            message_rejected: CmMsgRef::from_bits(p.message_rejected()),
            resv8: p.resv8(),
            ari_length: p.ari_length(),
            resv9: p.resv9(),
            reason: RejReason::from_code(p.reason()),
            ari: be::array(p.ari(), 0),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmRejPacket<T>) {
        p.set_local_comm_id(self.local_comm_id);
        p.set_remote_comm_id(self.remote_comm_id);
        p.set_message_rejected(self.message_rejected.bits());
        p.set_resv8(self.resv8);
        p.set_ari_length(self.ari_length);
        p.set_resv9(self.resv9);
        p.set_reason(self.reason.code());
        be::put(p.ari_mut(), 0, &self.ari);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }

    /// The meaningful ARI bytes (`ari_length`, at most 72).
    pub fn ari_bytes(&self) -> &[u8] {
        let n = usize::from(self.ari_length).min(REJ_ARI_LEN);
        self.ari.get(..n).unwrap_or(&[])
    }
}

impl fmt::Display for CmRejRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "REJ lcid={} rcid={} msg={:?} reason={} ari_len={}",
            HexId(self.local_comm_id),
            HexId(self.remote_comm_id),
            self.message_rejected,
            self.reason,
            self.ari_length
        )
    }
}
