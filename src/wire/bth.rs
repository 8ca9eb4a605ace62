//! The Base Transport Header (12 bytes): [`BthPacket`] view and [`BthRepr`].
//! Owns the BTH layout; must not interpret extended headers or judge values
//! that belong to the transport (P_Key, QPN, PSN windows).

use core::fmt;

use super::bytes::{get_u16, get_u24, get_u8, set_u16, set_u24, set_u8};
use super::opcode::Opcode;
use super::Result;

mod field {
    #![allow(non_snake_case)]
    use crate::wire::field::Field;

    pub const OPCODE: usize = 0;
    /// SE, M, PadCnt, TVer.
    pub const FLAGS: usize = 1;
    pub const PKEY: Field = 2..4;
    /// FECN, BECN, resv6 (the byte the ICRC masks).
    pub const BYTE4: usize = 4;
    pub const DEST_QP: Field = 5..8;
    /// AckReq, resv7.
    pub const BYTE8: usize = 8;
    pub const PSN: Field = 9..12;
}

/// Length of the BTH.
pub const HEADER_LEN: usize = 12;
/// Offset of the BTH byte the ICRC masks (FECN, BECN, resv6).
pub const ICRC_MASKED_BYTE: usize = field::BYTE4;

const SE: u8 = 0x80;
const MIG_REQ: u8 = 0x40;
const PAD_MASK: u8 = 0x30;
const PAD_SHIFT: u32 = 4;
const TVER_MASK: u8 = 0x0F;
const FECN: u8 = 0x80;
const BECN: u8 = 0x40;
const RESV6_MASK: u8 = 0x3F;
const ACK_REQ: u8 = 0x80;
const RESV7_MASK: u8 = 0x7F;
/// Largest 24-bit value (QPN, PSN, MSN).
pub const MAX_24: u32 = 0x00FF_FFFF;

fixed_view!(
    /// A read/write view of a BTH at the start of a buffer.
    BthPacket,
    BthRepr,
    HEADER_LEN,
    "BTH"
);

impl<T: AsRef<[u8]>> BthPacket<T> {
    fn byte(&self, offset: usize) -> u8 {
        get_u8(self.buffer.as_ref(), offset)
    }

    pub fn opcode(&self) -> Opcode {
        Opcode(self.byte(field::OPCODE))
    }
    pub fn solicited(&self) -> bool {
        self.byte(field::FLAGS) & SE != 0
    }
    pub fn mig_req(&self) -> bool {
        self.byte(field::FLAGS) & MIG_REQ != 0
    }
    pub fn pad_count(&self) -> u8 {
        (self.byte(field::FLAGS) & PAD_MASK) >> PAD_SHIFT
    }
    pub fn tver(&self) -> u8 {
        self.byte(field::FLAGS) & TVER_MASK
    }
    pub fn pkey(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::PKEY)
    }
    pub fn fecn(&self) -> bool {
        self.byte(field::BYTE4) & FECN != 0
    }
    pub fn becn(&self) -> bool {
        self.byte(field::BYTE4) & BECN != 0
    }
    pub fn resv6(&self) -> u8 {
        self.byte(field::BYTE4) & RESV6_MASK
    }
    pub fn dest_qp(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::DEST_QP)
    }
    pub fn ack_req(&self) -> bool {
        self.byte(field::BYTE8) & ACK_REQ != 0
    }
    pub fn resv7(&self) -> u8 {
        self.byte(field::BYTE8) & RESV7_MASK
    }
    pub fn psn(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::PSN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> BthPacket<T> {
    fn update(&mut self, offset: usize, mask: u8, bits: u8) {
        let old = get_u8(self.buffer.as_ref(), offset);
        set_u8(self.buffer.as_mut(), offset, (old & !mask) | (bits & mask));
    }

    pub fn set_opcode(&mut self, value: Opcode) {
        set_u8(self.buffer.as_mut(), field::OPCODE, value.0);
    }
    pub fn set_solicited(&mut self, value: bool) {
        self.update(field::FLAGS, SE, if value { SE } else { 0 });
    }
    pub fn set_mig_req(&mut self, value: bool) {
        self.update(field::FLAGS, MIG_REQ, if value { MIG_REQ } else { 0 });
    }
    /// Only the low two bits are used.
    pub fn set_pad_count(&mut self, value: u8) {
        self.update(field::FLAGS, PAD_MASK, value << PAD_SHIFT);
    }
    /// Only the low four bits are used.
    pub fn set_tver(&mut self, value: u8) {
        self.update(field::FLAGS, TVER_MASK, value);
    }
    pub fn set_pkey(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::PKEY, value);
    }
    pub fn set_fecn(&mut self, value: bool) {
        self.update(field::BYTE4, FECN, if value { FECN } else { 0 });
    }
    pub fn set_becn(&mut self, value: bool) {
        self.update(field::BYTE4, BECN, if value { BECN } else { 0 });
    }
    /// Only the low six bits are used.
    pub fn set_resv6(&mut self, value: u8) {
        self.update(field::BYTE4, RESV6_MASK, value);
    }
    /// Only the low 24 bits are used.
    pub fn set_dest_qp(&mut self, value: u32) {
        set_u24(self.buffer.as_mut(), field::DEST_QP, value);
    }
    pub fn set_ack_req(&mut self, value: bool) {
        self.update(field::BYTE8, ACK_REQ, if value { ACK_REQ } else { 0 });
    }
    /// Only the low seven bits are used.
    pub fn set_resv7(&mut self, value: u8) {
        self.update(field::BYTE8, RESV7_MASK, value);
    }
    /// Only the low 24 bits are used.
    pub fn set_psn(&mut self, value: u32) {
        set_u24(self.buffer.as_mut(), field::PSN, value);
    }
}

impl BthRepr {
    /// Reads every BTH field. Checks only the length: TVer, opcode and P_Key
    /// are judged by [`super::packet::PacketRepr::parse`] and the transport.
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &BthPacket<&T>) -> Result<BthRepr> {
        packet.check_len()?;
        Ok(BthRepr {
            opcode: packet.opcode(),
            solicited: packet.solicited(),
            mig_req: packet.mig_req(),
            pad_count: packet.pad_count(),
            tver: packet.tver(),
            pkey: packet.pkey(),
            fecn: packet.fecn(),
            becn: packet.becn(),
            resv6: packet.resv6(),
            dest_qp: packet.dest_qp(),
            ack_req: packet.ack_req(),
            resv7: packet.resv7(),
            psn: packet.psn(),
        })
    }

    /// The BTH length (12).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Whether every field fits its bit width (so that emit loses nothing).
    pub const fn fits(&self) -> bool {
        self.pad_count <= 3
            && self.tver <= TVER_MASK
            && self.resv6 <= RESV6_MASK
            && self.resv7 <= RESV7_MASK
            && self.dest_qp <= MAX_24
            && self.psn <= MAX_24
    }

    /// Writes every field; values wider than their field are truncated
    /// (see [`fits`](Self::fits)).
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut BthPacket<&mut T>) {
        packet.set_opcode(self.opcode);
        packet.set_solicited(self.solicited);
        packet.set_mig_req(self.mig_req);
        packet.set_pad_count(self.pad_count);
        packet.set_tver(self.tver);
        packet.set_pkey(self.pkey);
        packet.set_fecn(self.fecn);
        packet.set_becn(self.becn);
        packet.set_resv6(self.resv6);
        packet.set_dest_qp(self.dest_qp);
        packet.set_ack_req(self.ack_req);
        packet.set_resv7(self.resv7);
        packet.set_psn(self.psn);
    }
}

impl fmt::Display for BthRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "BTH {} pkey=0x{:04x} dqp=0x{:06x} psn={}",
            self.opcode, self.pkey, self.dest_qp, self.psn
        )?;
        for (set, name) in [
            (self.solicited, " SE"),
            (self.mig_req, " M"),
            (self.fecn, " FECN"),
            (self.becn, " BECN"),
            (self.ack_req, " A"),
        ] {
            if set {
                f.write_str(name)?;
            }
        }
        if self.pad_count != 0 {
            write!(f, " pad={}", self.pad_count)?;
        }
        if self.tver != 0 || self.resv6 != 0 || self.resv7 != 0 {
            write!(
                f,
                " tver={} resv6=0x{:02x} resv7=0x{:02x}",
                self.tver, self.resv6, self.resv7
            )?;
        }
        Ok(())
    }
}

/// A parsed BTH. Reserved bits are kept so that parse-then-emit is byte exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BthRepr {
    pub opcode: Opcode,
    /// SE: solicited event.
    pub solicited: bool,
    /// M: migration request (rxe sends 0).
    pub mig_req: bool,
    /// Number of pad bytes after the payload (0..=3).
    pub pad_count: u8,
    /// Transport header version; must be 0.
    pub tver: u8,
    pub pkey: u16,
    pub fecn: bool,
    pub becn: bool,
    /// The six reserved bits of byte 4 (masked by the ICRC).
    pub resv6: u8,
    /// Destination QP number (24 bits).
    pub dest_qp: u32,
    /// A: acknowledge request.
    pub ack_req: bool,
    /// The seven reserved bits of byte 8.
    pub resv7: u8,
    /// Packet sequence number (24 bits).
    pub psn: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BTH of ROCE-FACTS §2 vector B (UC SEND_ONLY, M set, PadCnt 2).
    const UC_BTH: [u8; 12] = [
        0x24, 0x60, 0xff, 0xff, 0x00, 0x00, 0x00, 0xd3, 0x00, 0xcf, 0x17, 0x10,
    ];

    #[test]
    fn parses_vector_b_bth() {
        let repr = BthRepr::parse(&BthPacket::new_checked(&UC_BTH[..]).unwrap()).unwrap();
        assert_eq!(repr.opcode, Opcode::UC_SEND_ONLY);
        assert!(repr.mig_req && !repr.solicited);
        assert_eq!(repr.pad_count, 2);
        assert_eq!(repr.pkey, 0xFFFF);
        assert_eq!(repr.dest_qp, 0xd3);
        assert_eq!(repr.psn, 0xcf1710);
        let mut out = [0xAAu8; 12];
        repr.emit(&mut BthPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, UC_BTH);
    }

    #[test]
    fn every_bit_lands_in_its_field() {
        let mut b = [0u8; 12];
        let mut p = BthPacket::new_unchecked(&mut b[..]);
        p.set_becn(true);
        p.set_resv7(0x7F);
        p.set_psn(0x01_0203);
        assert_eq!(b, [0, 0, 0, 0, 0x40, 0, 0, 0, 0x7F, 1, 2, 3]);
    }

    #[test]
    fn short_buffer_is_truncated() {
        assert_eq!(
            BthPacket::new_checked(&UC_BTH[..11]).unwrap_err(),
            crate::wire::Error::Truncated
        );
    }
}
