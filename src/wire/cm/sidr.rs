//! The CM SIDR_REQ (0x0017) and SIDR_REP (0x0018), service ID resolution for
//! UD: [`CmSidrReqPacket`]/[`CmSidrReqRepr`] and
//! [`CmSidrRepPacket`]/[`CmSidrRepRepr`]. Owns those layouts only.

use core::fmt;

use super::{private_slice, private_slice_mut, HexId};
use crate::wire::be::{self, wire_view};
use crate::wire::mad::MAD_DATA_LEN;
use crate::wire::Result;

/// Bytes of private data in a SIDR_REQ.
pub const SIDR_REQ_PRIVATE_LEN: usize = 216;
/// Bytes of private data in a SIDR_REP.
pub const SIDR_REP_PRIVATE_LEN: usize = 136;
/// Bytes of additional information in a SIDR_REP.
pub const SIDR_REP_INFO_LEN: usize = 72;

mod req_field {
    use crate::wire::field::Field;

    pub const REQUEST_ID: Field = 0..4;
    pub const PKEY: Field = 4..6;
    pub const RESV6: Field = 6..8;
    pub const SERVICE_ID: Field = 8..16;
    pub const PRIVATE_DATA: Field = 16..232;
}

mod rep_field {
    use crate::wire::field::Field;

    pub const REQUEST_ID: Field = 0..4;
    pub const STATUS: Field = 4..5;
    pub const ADDL_INFO_LEN: Field = 5..6;
    pub const RESV6: Field = 6..8;
    pub const QPN: Field = 8..11;
    pub const RESV11: Field = 11..12;
    pub const SERVICE_ID: Field = 12..20;
    pub const QKEY: Field = 20..24;
    pub const ADDL_INFO: Field = 24..96;
    pub const PRIVATE_DATA: Field = 96..232;
}

wire_view! {
    /// A view of the 232 data bytes of a SIDR_REQ MAD.
    CmSidrReqPacket, CmSidrReqRepr, MAD_DATA_LEN, "SIDR_REQ";
    request_id, set_request_id: u32 = be(req_field::REQUEST_ID);
    pkey, set_pkey: u16 = be(req_field::PKEY);
    resv6, set_resv6: u16 = be(req_field::RESV6);
    service_id, set_service_id: u64 = be(req_field::SERVICE_ID);
}

wire_view! {
    /// A view of the 232 data bytes of a SIDR_REP MAD.
    CmSidrRepPacket, CmSidrRepRepr, MAD_DATA_LEN, "SIDR_REP";
    request_id, set_request_id: u32 = be(rep_field::REQUEST_ID);
    status, set_status: u8 = be(rep_field::STATUS);
    addl_info_len, set_addl_info_len: u8 = be(rep_field::ADDL_INFO_LEN);
    resv6, set_resv6: u16 = be(rep_field::RESV6);
    /// 24 bits.
    qpn, set_qpn: u32 = be(rep_field::QPN);
    resv11, set_resv11: u8 = be(rep_field::RESV11);
    service_id, set_service_id: u64 = be(rep_field::SERVICE_ID);
    qkey, set_qkey: u32 = be(rep_field::QKEY);
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmSidrReqPacket<&'a T> {
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), req_field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmSidrReqPacket<T> {
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), req_field::PRIVATE_DATA)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> CmSidrRepPacket<&'a T> {
    pub fn addl_info(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), rep_field::ADDL_INFO)
    }
    pub fn private_data(&self) -> &'a [u8] {
        private_slice(self.buffer.as_ref(), rep_field::PRIVATE_DATA)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> CmSidrRepPacket<T> {
    pub fn addl_info_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), rep_field::ADDL_INFO)
    }
    pub fn private_data_mut(&mut self) -> &mut [u8] {
        private_slice_mut(self.buffer.as_mut(), rep_field::PRIVATE_DATA)
    }
}

/// A parsed SIDR_REQ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmSidrReqRepr {
    pub request_id: u32,
    pub pkey: u16,
    pub resv6: u16,
    pub service_id: u64,
    /// Starts with a CMA header for RDMA IP CM service IDs.
    pub private_data: [u8; SIDR_REQ_PRIVATE_LEN],
}

impl CmSidrReqRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmSidrReqPacket<&T>) -> Result<CmSidrReqRepr> {
        p.check_len()?;
        Ok(CmSidrReqRepr {
            request_id: p.request_id(),
            pkey: p.pkey(),
            resv6: p.resv6(),
            service_id: p.service_id(),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmSidrReqPacket<T>) {
        p.set_request_id(self.request_id);
        p.set_pkey(self.pkey);
        p.set_resv6(self.resv6);
        p.set_service_id(self.service_id);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmSidrReqRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SIDR_REQ rid={} pkey=0x{:04x} sid=0x{:016x}",
            HexId(self.request_id),
            self.pkey,
            self.service_id
        )
    }
}

/// A parsed SIDR_REP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CmSidrRepRepr {
    pub request_id: u32,
    /// 0 = QP valid.
    pub status: u8,
    pub addl_info_len: u8,
    pub resv6: u16,
    /// 24 bits.
    pub qpn: u32,
    pub resv11: u8,
    pub service_id: u64,
    pub qkey: u32,
    pub addl_info: [u8; SIDR_REP_INFO_LEN],
    pub private_data: [u8; SIDR_REP_PRIVATE_LEN],
}

impl CmSidrRepRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(p: &CmSidrRepPacket<&T>) -> Result<CmSidrRepRepr> {
        p.check_len()?;
        Ok(CmSidrRepRepr {
            request_id: p.request_id(),
            status: p.status(),
            addl_info_len: p.addl_info_len(),
            resv6: p.resv6(),
            qpn: p.qpn(),
            resv11: p.resv11(),
            service_id: p.service_id(),
            qkey: p.qkey(),
            addl_info: be::array(p.addl_info(), 0),
            private_data: be::array(p.private_data(), 0),
        })
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]>>(&self, p: &mut CmSidrRepPacket<T>) {
        p.set_request_id(self.request_id);
        p.set_status(self.status);
        p.set_addl_info_len(self.addl_info_len);
        p.set_resv6(self.resv6);
        p.set_qpn(self.qpn);
        p.set_resv11(self.resv11);
        p.set_service_id(self.service_id);
        p.set_qkey(self.qkey);
        be::put(p.addl_info_mut(), 0, &self.addl_info);
        be::put(p.private_data_mut(), 0, &self.private_data);
    }
}

impl fmt::Display for CmSidrRepRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SIDR_REP rid={} status={} qpn=0x{:06x} qkey=0x{:08x} sid=0x{:016x}",
            HexId(self.request_id),
            self.status,
            self.qpn,
            self.qkey,
            self.service_id
        )
    }
}
