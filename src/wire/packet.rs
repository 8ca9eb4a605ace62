//! The whole RoCEv2 transport packet, i.e. the UDP payload: BTH, the extended
//! headers its opcode calls for, payload, pad and the 4-byte ICRC trailer.
//! [`RocePacket`] is the view, [`PacketRepr`] the parsed form.
//!
//! Owns the packet's framing and format checks. Must not compute the ICRC
//! (that is `icrc.rs`, which needs the IP and UDP headers too) and must not
//! judge transport semantics (P_Key, QPN, PSN, Q_Key belong to the transport).
//!
//! Format checks, in order: at least a BTH (`Truncated`); a known opcode
//! (`Unsupported`); room for the extended headers and the ICRC (`Truncated`);
//! a length that is a multiple of 4, PadCnt not larger than the bytes between
//! headers and ICRC, and no payload or pad on opcodes that carry none
//! (`Malformed`); TVer 0 (`Unsupported`, checked by [`PacketRepr::parse`]).
//! Pad bytes are not required to be zero on receive (rxe does not look at
//! them; the ICRC covers them); emit always writes zeros.

use core::fmt;

use super::bth::{self, BthPacket, BthRepr};
use super::bytes::check_len;
use super::ext::{
    self, AethPacket, AethRepr, AtomicAckEthPacket, AtomicAckEthRepr, AtomicEthPacket,
    AtomicEthRepr, DethPacket, DethRepr, RethPacket, RethRepr,
};
use super::opcode::{Headers, Opcode};
use super::{Error, Result, ICRC_LEN};

/// The pad a payload of `len` bytes needs: `(-len) & 3`.
pub const fn pad_len(len: usize) -> usize {
    len.wrapping_neg() & 3
}

view_skeleton!(
    /// A view of a RoCEv2 UDP payload (BTH through ICRC).
    RocePacket
);

impl<T: AsRef<[u8]>> RocePacket<T> {
    /// Checks the framing (see the module doc): after success, `header_len()`,
    /// `payload()`, `pad()` and `icrc()` describe disjoint in-bounds ranges.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(data, bth::HEADER_LEN)?;
        let opcode = self.opcode();
        if !opcode.is_known() {
            return Err(Error::Unsupported);
        }
        let min = self.header_len().saturating_add(ICRC_LEN);
        check_len(data, min)?;
        if data.len() % 4 != 0 {
            return Err(Error::Malformed);
        }
        let between = data.len().saturating_sub(min);
        let pad = usize::from(self.bth().pad_count());
        if pad > between || (!opcode.has_payload() && between != 0) {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// A view of the BTH.
    pub fn bth(&self) -> BthPacket<&[u8]> {
        BthPacket::new_unchecked(self.buffer.as_ref())
    }

    /// The BTH opcode.
    pub fn opcode(&self) -> Opcode {
        self.bth().opcode()
    }

    /// BTH plus extended headers (the BTH alone for unknown opcodes).
    pub fn header_len(&self) -> usize {
        bth::HEADER_LEN + self.opcode().ext_headers_len()
    }

    fn icrc_start(&self) -> usize {
        self.buffer.as_ref().len().saturating_sub(ICRC_LEN)
    }

    fn payload_range(&self) -> core::ops::Range<usize> {
        let pad = usize::from(self.bth().pad_count());
        let end = self.icrc_start().saturating_sub(pad);
        self.header_len()..end
    }

    /// The ICRC value as carried (least-significant byte first on the wire).
    pub fn icrc(&self) -> u32 {
        let data = self.buffer.as_ref();
        data.get(self.icrc_start()..)
            .and_then(|s| <[u8; 4]>::try_from(s).ok())
            .map(u32::from_le_bytes)
            .unwrap_or(0)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> RocePacket<&'a T> {
    fn bytes(&self) -> &'a [u8] {
        T::as_ref(self.buffer)
    }

    /// The extended headers (between the BTH and the payload).
    pub fn ext_headers(&self) -> &'a [u8] {
        self.bytes()
            .get(bth::HEADER_LEN..self.header_len())
            .unwrap_or(&[])
    }

    /// The payload (without pad).
    pub fn payload(&self) -> &'a [u8] {
        self.bytes().get(self.payload_range()).unwrap_or(&[])
    }

    /// The pad bytes (0..=3).
    pub fn pad(&self) -> &'a [u8] {
        let start = self.payload_range().end;
        self.bytes().get(start..self.icrc_start()).unwrap_or(&[])
    }

    /// Everything the ICRC covers after the IP/UDP headers: BTH through pad.
    pub fn covered(&self) -> &'a [u8] {
        self.bytes().get(..self.icrc_start()).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> RocePacket<T> {
    /// The payload, writable.
    pub fn payload_mut(&mut self) -> &mut [u8] {
        let range = self.payload_range();
        self.buffer.as_mut().get_mut(range).unwrap_or(&mut [])
    }

    /// Stores an ICRC value in the trailer (least-significant byte first).
    pub fn set_icrc(&mut self, value: u32) {
        let start = self.icrc_start();
        if let Some(dst) = self.buffer.as_mut().get_mut(start..) {
            if dst.len() == ICRC_LEN {
                dst.copy_from_slice(&value.to_le_bytes());
            }
        }
    }
}

/// A parsed RoCEv2 transport packet. Exactly the headers the opcode calls for
/// are `Some`. `bth.pad_count` is the wire value on parse and is recomputed
/// from the payload on emit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketRepr<'a> {
    pub bth: BthRepr,
    pub deth: Option<DethRepr>,
    pub reth: Option<RethRepr>,
    pub atomic_eth: Option<AtomicEthRepr>,
    pub aeth: Option<AethRepr>,
    pub atomic_ack_eth: Option<AtomicAckEthRepr>,
    /// ImmDt, carried verbatim.
    pub imm: Option<u32>,
    /// IETH: the R_Key to invalidate.
    pub ieth: Option<u32>,
    /// The 16 reserved bytes of a CNP (kept for exact emit; zero in practice).
    pub cnp_reserved: Option<[u8; ext::CNP_RESERVED_LEN]>,
    pub payload: &'a [u8],
}

/// Walks a buffer header by header.
struct Cursor<'b> {
    rest: &'b [u8],
}

impl<'b> Cursor<'b> {
    fn take(&mut self, len: usize) -> Result<&'b [u8]> {
        if self.rest.len() < len {
            return Err(Error::Truncated);
        }
        let (head, tail) = self.rest.split_at(len);
        self.rest = tail;
        Ok(head)
    }
}

/// Walks a writable buffer header by header.
struct CursorMut<'b> {
    rest: &'b mut [u8],
}

impl<'b> CursorMut<'b> {
    fn take(&mut self, len: usize) -> Result<&'b mut [u8]> {
        if self.rest.len() < len {
            return Err(Error::Truncated);
        }
        let (head, tail) = core::mem::take(&mut self.rest).split_at_mut(len);
        self.rest = tail;
        Ok(head)
    }
}

impl<'a> PacketRepr<'a> {
    /// Parses a UDP payload (BTH through ICRC). Does not verify the ICRC.
    pub fn parse(udp_payload: &'a [u8]) -> Result<PacketRepr<'a>> {
        let packet = RocePacket::new_checked(udp_payload)?;
        let bth = BthRepr::parse(&packet.bth())?;
        if bth.tver != 0 {
            return Err(Error::Unsupported);
        }
        let headers = bth.opcode.headers().ok_or(Error::Unsupported)?;
        let mut cur = Cursor {
            rest: packet.ext_headers(),
        };
        let mut repr = PacketRepr::new(bth, packet.payload());
        if headers.contains(Headers::DETH) {
            let view = DethPacket::new_checked(cur.take(ext::DethRepr::LEN)?)?;
            repr.deth = Some(DethRepr::parse(&view)?);
        }
        if headers.contains(Headers::RETH) {
            let view = RethPacket::new_checked(cur.take(RethRepr::LEN)?)?;
            repr.reth = Some(RethRepr::parse(&view)?);
        }
        if headers.contains(Headers::ATOMIC_ETH) {
            let view = AtomicEthPacket::new_checked(cur.take(AtomicEthRepr::LEN)?)?;
            repr.atomic_eth = Some(AtomicEthRepr::parse(&view)?);
        }
        if headers.contains(Headers::AETH) {
            let view = AethPacket::new_checked(cur.take(AethRepr::LEN)?)?;
            repr.aeth = Some(AethRepr::parse(&view)?);
        }
        if headers.contains(Headers::ATOMIC_ACK_ETH) {
            let view = AtomicAckEthPacket::new_checked(cur.take(AtomicAckEthRepr::LEN)?)?;
            repr.atomic_ack_eth = Some(AtomicAckEthRepr::parse(&view)?);
        }
        if headers.contains(Headers::IMM_DT) {
            repr.imm = Some(ext::parse_word(cur.take(ext::IMM_DT_LEN)?)?);
        }
        if headers.contains(Headers::IETH) {
            repr.ieth = Some(ext::parse_word(cur.take(ext::IETH_LEN)?)?);
        }
        if headers.contains(Headers::CNP_RESERVED) {
            let bytes = cur.take(ext::CNP_RESERVED_LEN)?;
            repr.cnp_reserved = Some(<[u8; 16]>::try_from(bytes).map_err(|_| Error::Truncated)?);
        }
        Ok(repr)
    }

    /// A packet with only a BTH and a payload; add the extended headers the
    /// opcode needs before emitting.
    pub const fn new(bth: BthRepr, payload: &'a [u8]) -> PacketRepr<'a> {
        PacketRepr {
            bth,
            deth: None,
            reth: None,
            atomic_eth: None,
            aeth: None,
            atomic_ack_eth: None,
            imm: None,
            ieth: None,
            cnp_reserved: None,
            payload,
        }
    }

    /// The extended headers present in this repr.
    pub fn present_headers(&self) -> Headers {
        let mut h = Headers::empty();
        h.set(Headers::DETH, self.deth.is_some());
        h.set(Headers::RETH, self.reth.is_some());
        h.set(Headers::ATOMIC_ETH, self.atomic_eth.is_some());
        h.set(Headers::AETH, self.aeth.is_some());
        h.set(Headers::ATOMIC_ACK_ETH, self.atomic_ack_eth.is_some());
        h.set(Headers::IMM_DT, self.imm.is_some());
        h.set(Headers::IETH, self.ieth.is_some());
        h.set(Headers::CNP_RESERVED, self.cnp_reserved.is_some());
        h
    }

    /// BTH plus the extended headers present.
    pub fn header_len(&self) -> usize {
        bth::HEADER_LEN + super::opcode::headers_len(self.present_headers())
    }

    /// The pad this payload needs.
    pub fn pad_len(&self) -> usize {
        pad_len(self.payload.len())
    }

    /// Headers + payload + pad + ICRC: the UDP payload length.
    pub fn buffer_len(&self) -> usize {
        self.header_len()
            .saturating_add(self.payload.len())
            .saturating_add(self.pad_len())
            .saturating_add(ICRC_LEN)
    }

    /// Checks that the repr can be emitted and parsed back unchanged: known
    /// opcode and TVer 0 (`Unsupported`); exactly the opcode's headers, no
    /// payload on opcodes without one, every field within its width
    /// (`Malformed`). `bth.pad_count` is not checked (emit computes it).
    pub fn check(&self) -> Result<()> {
        self.check_for(self.payload.len())
    }

    fn check_for(&self, payload_len: usize) -> Result<()> {
        let headers = self.bth.opcode.headers().ok_or(Error::Unsupported)?;
        if self.bth.tver != 0 {
            return Err(Error::Unsupported);
        }
        let bth_fits = BthRepr {
            pad_count: 0,
            ..self.bth
        }
        .fits();
        let fits =
            bth_fits && self.deth.is_none_or(|d| d.fits()) && self.aeth.is_none_or(|a| a.fits());
        let ext = headers.difference(Headers::PAYLOAD);
        if !fits
            || self.present_headers() != ext
            || (!headers.contains(Headers::PAYLOAD) && payload_len != 0)
        {
            return Err(Error::Malformed);
        }
        Ok(())
    }

    /// Writes headers, payload and zero pad into `buf`, with PadCnt computed
    /// from the payload, and zeroes the 4 ICRC bytes (for `icrc::fill`).
    /// Returns [`buffer_len`](Self::buffer_len). Bytes past it are untouched.
    pub fn emit(&self, buf: &mut [u8]) -> Result<usize> {
        let len = self.emit_around(self.payload.len(), buf)?;
        let start = self.header_len();
        let end = start.saturating_add(self.payload.len());
        buf.get_mut(start..end)
            .ok_or(Error::Truncated)?
            .copy_from_slice(self.payload);
        Ok(len)
    }

    /// Like [`emit`](Self::emit) for a payload of `payload_len` bytes that the
    /// caller writes itself (e.g. gathered from memory regions) into
    /// `buf[header_len()..header_len() + payload_len]`, which is left untouched;
    /// `self.payload` is ignored. Writes headers, zero pad and zero ICRC bytes
    /// and returns the packet length.
    pub fn emit_around(&self, payload_len: usize, buf: &mut [u8]) -> Result<usize> {
        self.check_for(payload_len)?;
        let pad = pad_len(payload_len);
        let len = self
            .header_len()
            .checked_add(payload_len)
            .and_then(|n| n.checked_add(pad + ICRC_LEN))
            .ok_or(Error::Malformed)?;
        let out = buf.get_mut(..len).ok_or(Error::Truncated)?;
        let mut cur = CursorMut { rest: out };
        let bth = BthRepr {
            pad_count: pad as u8,
            ..self.bth
        };
        bth.emit(&mut BthPacket::new_unchecked(cur.take(bth::HEADER_LEN)?));
        if let Some(h) = &self.deth {
            h.emit(&mut DethPacket::new_unchecked(cur.take(DethRepr::LEN)?));
        }
        if let Some(h) = &self.reth {
            h.emit(&mut RethPacket::new_unchecked(cur.take(RethRepr::LEN)?));
        }
        if let Some(h) = &self.atomic_eth {
            h.emit(&mut AtomicEthPacket::new_unchecked(
                cur.take(AtomicEthRepr::LEN)?,
            ));
        }
        if let Some(h) = &self.aeth {
            h.emit(&mut AethPacket::new_unchecked(cur.take(AethRepr::LEN)?));
        }
        if let Some(h) = &self.atomic_ack_eth {
            h.emit(&mut AtomicAckEthPacket::new_unchecked(
                cur.take(AtomicAckEthRepr::LEN)?,
            ));
        }
        if let Some(w) = self.imm {
            ext::emit_word(w, cur.take(ext::IMM_DT_LEN)?)?;
        }
        if let Some(w) = self.ieth {
            ext::emit_word(w, cur.take(ext::IETH_LEN)?)?;
        }
        if let Some(r) = &self.cnp_reserved {
            cur.take(ext::CNP_RESERVED_LEN)?.copy_from_slice(r);
        }
        cur.take(payload_len)?;
        cur.take(pad)?.fill(0);
        cur.take(ICRC_LEN)?.fill(0);
        Ok(len)
    }
}

impl fmt::Display for PacketRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.bth)?;
        if let Some(h) = &self.deth {
            write!(f, " | {h}")?;
        }
        if let Some(h) = &self.reth {
            write!(f, " | {h}")?;
        }
        if let Some(h) = &self.atomic_eth {
            write!(f, " | {h}")?;
        }
        if let Some(h) = &self.aeth {
            write!(f, " | {h}")?;
        }
        if let Some(h) = &self.atomic_ack_eth {
            write!(f, " | {h}")?;
        }
        if let Some(w) = self.imm {
            write!(f, " | ImmDt 0x{w:08x}")?;
        }
        if let Some(w) = self.ieth {
            write!(f, " | IETH rkey=0x{w:08x}")?;
        }
        if let Some(r) = &self.cnp_reserved {
            if r.iter().any(|&b| b != 0) {
                f.write_str(" | CNP reserved (non-zero)")?;
            }
        }
        if !self.payload.is_empty() {
            write!(f, " | payload {} B", self.payload.len())?;
        }
        Ok(())
    }
}

impl<T: AsRef<[u8]>> fmt::Display for RocePacket<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match PacketRepr::parse(self.buffer.as_ref()) {
            Ok(repr) => write!(f, "{repr} | ICRC 0x{:08x}", self.icrc()),
            Err(err) => write!(f, "RoCE ({err})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{NakCode, Syndrome};

    /// The RoCE part (UDP payload) of ROCE-FACTS §2 vector B.
    const UC_SEND_ONLY: [u8; 36] = [
        0x24, 0x60, 0xff, 0xff, 0x00, 0x00, 0x00, 0xd3, 0x00, 0xcf, 0x17, 0x10, 0x46, 0x30, 0x81,
        0x8b, 0xe2, 0x89, 0x35, 0xd9, 0x0e, 0x9a, 0x95, 0x50, 0x54, 0x01, 0xbe, 0x88, 0x5e, 0x50,
        0x00, 0x00, 0x78, 0xf3, 0x53, 0xf3,
    ];

    /// The RoCE part of vector A (a hardware CNP).
    const CNP: [u8; 32] = [
        0x81, 0x00, 0xff, 0xff, 0x40, 0x00, 0x01, 0x18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0x82, 0xfd, 0x00, 0x2a,
    ];

    fn round_trip(bytes: &[u8]) -> PacketRepr<'_> {
        let repr = PacketRepr::parse(bytes).unwrap();
        assert_eq!(repr.buffer_len(), bytes.len());
        let mut out = vec![0xAA; bytes.len() + 3];
        assert_eq!(repr.emit(&mut out), Ok(bytes.len()));
        assert_eq!(out[..bytes.len() - 4], bytes[..bytes.len() - 4]);
        assert_eq!(out[bytes.len() - 4..bytes.len()], [0; 4]);
        assert_eq!(out[bytes.len()..], [0xAA; 3]);
        repr
    }

    #[test]
    fn uc_send_only_with_pad() {
        let repr = round_trip(&UC_SEND_ONLY);
        assert_eq!(repr.bth.pad_count, 2);
        assert_eq!(repr.payload.len(), 18);
        let view = RocePacket::new_checked(&UC_SEND_ONLY[..]).unwrap();
        assert_eq!(view.pad(), &[0, 0]);
        assert_eq!(view.icrc(), 0xf353_f378);
    }

    #[test]
    fn hardware_cnp() {
        let repr = round_trip(&CNP);
        assert!(repr.bth.becn);
        assert_eq!(repr.bth.dest_qp, 0x118);
        assert_eq!(repr.cnp_reserved, Some([0; 16]));
        assert!(repr.payload.is_empty());
    }

    #[test]
    fn format_errors() {
        assert_eq!(PacketRepr::parse(&CNP[..11]), Err(Error::Truncated));
        // Unknown opcode 0x15.
        let mut b = CNP;
        b[0] = 0x15;
        assert_eq!(PacketRepr::parse(&b), Err(Error::Unsupported));
        // TVer 1.
        let mut b = UC_SEND_ONLY;
        b[1] |= 1;
        assert_eq!(PacketRepr::parse(&b), Err(Error::Unsupported));
        // Length not a multiple of 4.
        assert_eq!(
            PacketRepr::parse(&UC_SEND_ONLY[..35]),
            Err(Error::Malformed)
        );
        // Pad on a CNP (no payload).
        let mut b = CNP;
        b[1] = 0x10;
        assert_eq!(PacketRepr::parse(&b), Err(Error::Malformed));
        // Extra bytes on an opcode without payload.
        let mut long = [0u8; 36];
        long[..32].copy_from_slice(&CNP);
        assert_eq!(PacketRepr::parse(&long), Err(Error::Malformed));
        // Pad larger than what lies between headers and ICRC.
        let mut ack = [0u8; 20];
        ack[0] = Opcode::RC_RDMA_READ_RESPONSE_ONLY.0;
        ack[1] = 0x30;
        assert_eq!(PacketRepr::parse(&ack), Err(Error::Malformed));
        ack[1] = 0;
        assert!(PacketRepr::parse(&ack).is_ok());
        // Too short for the AETH + ICRC.
        assert_eq!(PacketRepr::parse(&ack[..16]), Err(Error::Truncated));
    }

    #[test]
    fn emit_checks_the_repr() {
        let base = PacketRepr::parse(&UC_SEND_ONLY).unwrap();
        let mut buf = [0u8; 64];
        let mut r = base;
        r.imm = Some(1);
        assert_eq!(r.emit(&mut buf), Err(Error::Malformed));
        let mut r = base;
        r.bth.psn = 1 << 24;
        assert_eq!(r.emit(&mut buf), Err(Error::Malformed));
        let mut r = base;
        r.bth.opcode = Opcode(0x15);
        assert_eq!(r.emit(&mut buf), Err(Error::Unsupported));
        let mut r = base;
        r.bth.opcode = Opcode::RC_ACKNOWLEDGE;
        r.aeth = Some(AethRepr {
            syndrome: Syndrome::Nak(NakCode::InvalidRequest),
            msn: 5,
        });
        assert_eq!(r.emit(&mut buf), Err(Error::Malformed), "payload on an ACK");
        r.payload = &[];
        assert_eq!(r.emit(&mut buf), Ok(20));
        assert_eq!(buf[1] & 0x30, 0, "PadCnt recomputed");
        assert_eq!(buf[12], 0x61);
        assert_eq!(base.emit(&mut buf[..35]), Err(Error::Truncated));
        // PadCnt is computed from the payload whatever the repr says.
        let mut r = base;
        r.bth.pad_count = 0;
        r.payload = &UC_SEND_ONLY[12..29];
        assert_eq!(r.emit(&mut buf), Ok(12 + 17 + 3 + 4));
        assert_eq!(buf[1] & 0x30, 0x30);
    }

    #[test]
    fn emit_around_leaves_the_payload_to_the_caller() {
        let repr = PacketRepr::parse(&UC_SEND_ONLY).unwrap();
        let mut buf = [0xCCu8; 40];
        assert_eq!(repr.emit_around(18, &mut buf), Ok(36));
        assert!(buf[12..30].iter().all(|&b| b == 0xCC), "payload untouched");
        buf[12..30].copy_from_slice(repr.payload);
        assert_eq!(buf[..32], UC_SEND_ONLY[..32]);
        assert_eq!(buf[32..36], [0; 4]);
        assert_eq!(buf[36..], [0xCC; 4]);
        let ack = PacketRepr::parse(&CNP).unwrap();
        assert_eq!(ack.emit_around(1, &mut buf), Err(Error::Malformed));
        assert_eq!(
            repr.emit_around(usize::MAX, &mut buf),
            Err(Error::Malformed)
        );
    }
}
