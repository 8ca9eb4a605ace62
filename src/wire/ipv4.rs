//! A minimal IPv4 header: [`Ipv4Packet`] view and [`Ipv4Repr`], enough to
//! carry RoCEv2 (IHL 5 on emit; any IHL parsed safely). Owns the IPv4 layout
//! and its header checksum; must not choose the identification or TTL policy
//! (those are inputs from the carrier).

use core::fmt;

use super::bytes::{check_len, get_bytes, get_u16, get_u8, set_bytes, set_u16, set_u8};
use super::{Error, Result};

mod field {
    use crate::wire::field::Field;

    pub const VER_IHL: usize = 0;
    pub const TOS: usize = 1;
    pub const TOTAL_LEN: Field = 2..4;
    pub const IDENT: Field = 4..6;
    pub const FLAGS_FRAG: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
}

/// Length of an IPv4 header without options (all RoCEv2 senders use it).
pub const HEADER_LEN: usize = 20;
/// Offset of the TOS byte (masked by the ICRC).
pub const TOS_OFFSET: usize = field::TOS;
/// Offset of the TTL byte (masked by the ICRC).
pub const TTL_OFFSET: usize = field::TTL;
/// Offset of the header checksum (masked by the ICRC).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

const FLAG_RESERVED: u16 = 0x8000;
const FLAG_DF: u16 = 0x4000;
const FLAG_MF: u16 = 0x2000;
const FRAG_OFFSET_MASK: u16 = 0x1FFF;

/// The Internet checksum (RFC 1071) of `data`.
pub fn internet_checksum(data: &[u8]) -> u16 {
    !fold_sum(ones_sum(0, data))
}

/// Adds `data` (big-endian 16-bit words, an odd last byte padded with
/// zero) to a running one's-complement sum. Chunks must have even lengths
/// except the last.
pub(crate) fn ones_sum(mut sum: u64, data: &[u8]) -> u64 {
    let mut chunks = data.chunks_exact(2);
    for c in &mut chunks {
        sum = sum.wrapping_add(u64::from(get_u16(c, 0..2)));
    }
    if let [last] = chunks.remainder() {
        sum = sum.wrapping_add(u64::from(*last) << 8);
    }
    sum
}

/// Folds a running sum to 16 bits (not complemented).
pub(crate) fn fold_sum(mut sum: u64) -> u16 {
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    sum as u16
}

view_skeleton!(
    /// A read/write view of an IPv4 packet.
    Ipv4Packet
);

impl<T: AsRef<[u8]>> Ipv4Packet<T> {
    /// Checks that the version is 4 (`Malformed`), that the header and the
    /// total length fit the buffer (`Truncated`), and that IHL >= 5 and the
    /// total length covers the header (`Malformed`). Bytes past the total
    /// length (link-layer padding) are allowed.
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(data, HEADER_LEN)?;
        if self.version() != 4 {
            return Err(Error::Malformed);
        }
        let hl = self.header_len();
        let total = usize::from(self.total_len());
        if hl < HEADER_LEN || total < hl {
            return Err(Error::Malformed);
        }
        check_len(data, total)
    }

    fn data(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn version(&self) -> u8 {
        get_u8(self.data(), field::VER_IHL) >> 4
    }
    /// Header length in bytes (IHL × 4).
    pub fn header_len(&self) -> usize {
        usize::from(get_u8(self.data(), field::VER_IHL) & 0x0F) * 4
    }
    /// DSCP and ECN.
    pub fn tos(&self) -> u8 {
        get_u8(self.data(), field::TOS)
    }
    pub fn total_len(&self) -> u16 {
        get_u16(self.data(), field::TOTAL_LEN)
    }
    pub fn ident(&self) -> u16 {
        get_u16(self.data(), field::IDENT)
    }
    pub fn reserved_flag(&self) -> bool {
        get_u16(self.data(), field::FLAGS_FRAG) & FLAG_RESERVED != 0
    }
    pub fn dont_frag(&self) -> bool {
        get_u16(self.data(), field::FLAGS_FRAG) & FLAG_DF != 0
    }
    pub fn more_frags(&self) -> bool {
        get_u16(self.data(), field::FLAGS_FRAG) & FLAG_MF != 0
    }
    /// The flags and fragment offset word (DF 0x4000, MF 0x2000).
    pub fn flags_frag(&self) -> u16 {
        get_u16(self.data(), field::FLAGS_FRAG)
    }
    /// Fragment offset in 8-byte units.
    pub fn frag_offset(&self) -> u16 {
        get_u16(self.data(), field::FLAGS_FRAG) & FRAG_OFFSET_MASK
    }
    pub fn ttl(&self) -> u8 {
        get_u8(self.data(), field::TTL)
    }
    pub fn protocol(&self) -> u8 {
        get_u8(self.data(), field::PROTOCOL)
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.data(), field::CHECKSUM)
    }
    pub fn src_addr(&self) -> [u8; 4] {
        get_bytes(self.data(), field::SRC_ADDR)
    }
    pub fn dst_addr(&self) -> [u8; 4] {
        get_bytes(self.data(), field::DST_ADDR)
    }

    /// The header bytes (IHL × 4, options included).
    pub fn header(&self) -> &[u8] {
        self.data().get(..self.header_len()).unwrap_or(&[])
    }

    /// Whether the header checksum is right.
    pub fn verify_checksum(&self) -> bool {
        let h = self.header();
        !h.is_empty() && internet_checksum(h) == 0
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> Ipv4Packet<&'a T> {
    /// The payload: from the end of the header to the total length.
    pub fn payload(&self) -> &'a [u8] {
        let data = T::as_ref(self.buffer);
        let hl = self.header_len();
        let total = usize::from(self.total_len());
        data.get(hl..total).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> Ipv4Packet<T> {
    fn data_mut(&mut self) -> &mut [u8] {
        self.buffer.as_mut()
    }

    /// Sets version 4 and the header length (a multiple of 4, 20..=60).
    pub fn set_version_and_header_len(&mut self, header_len: usize) {
        let ihl = ((header_len / 4) & 0x0F) as u8;
        set_u8(self.data_mut(), field::VER_IHL, 0x40 | ihl);
    }
    pub fn set_tos(&mut self, value: u8) {
        set_u8(self.data_mut(), field::TOS, value);
    }
    pub fn set_total_len(&mut self, value: u16) {
        set_u16(self.data_mut(), field::TOTAL_LEN, value);
    }
    pub fn set_ident(&mut self, value: u16) {
        set_u16(self.data_mut(), field::IDENT, value);
    }
    /// Sets DF and clears the other flags and the fragment offset.
    pub fn set_flags_unfragmented(&mut self, dont_frag: bool) {
        let v = if dont_frag { FLAG_DF } else { 0 };
        set_u16(self.data_mut(), field::FLAGS_FRAG, v);
    }
    pub fn set_ttl(&mut self, value: u8) {
        set_u8(self.data_mut(), field::TTL, value);
    }
    pub fn set_protocol(&mut self, value: u8) {
        set_u8(self.data_mut(), field::PROTOCOL, value);
    }
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.data_mut(), field::CHECKSUM, value);
    }
    pub fn set_src_addr(&mut self, value: [u8; 4]) {
        set_bytes(self.data_mut(), field::SRC_ADDR, &value);
    }
    pub fn set_dst_addr(&mut self, value: [u8; 4]) {
        set_bytes(self.data_mut(), field::DST_ADDR, &value);
    }

    /// Computes and stores the header checksum.
    pub fn fill_checksum(&mut self) {
        self.set_checksum(0);
        let sum = internet_checksum(self.header());
        self.set_checksum(sum);
    }
}

/// An unfragmented IPv4 header without options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Repr {
    pub src_addr: [u8; 4],
    pub dst_addr: [u8; 4],
    /// DSCP and ECN (rxe: the AV traffic class).
    pub tos: u8,
    /// Identification: an input (the carrier decides it).
    pub ident: u16,
    pub dont_frag: bool,
    /// rxe: the AV hop limit.
    pub ttl: u8,
    pub protocol: u8,
    /// Bytes after the header.
    pub payload_len: usize,
}

impl Ipv4Repr {
    /// Parses a header, checking the checksum (`Malformed`), the reserved
    /// flag (`Malformed`) and that the packet is not a fragment (`Unsupported`).
    /// Options are skipped (not kept).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &Ipv4Packet<&T>) -> Result<Ipv4Repr> {
        packet.check_len()?;
        if !packet.verify_checksum() || packet.reserved_flag() {
            return Err(Error::Malformed);
        }
        if packet.more_frags() || packet.frag_offset() != 0 {
            return Err(Error::Unsupported);
        }
        Ok(Ipv4Repr {
            src_addr: packet.src_addr(),
            dst_addr: packet.dst_addr(),
            tos: packet.tos(),
            ident: packet.ident(),
            dont_frag: packet.dont_frag(),
            ttl: packet.ttl(),
            protocol: packet.protocol(),
            payload_len: packet.payload().len(),
        })
    }

    /// Always 20 (no options).
    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Header plus payload.
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Writes the 20-byte header with its checksum into the start of `buf`.
    /// `Malformed` if the total length would exceed 65535, `Truncated` if
    /// `buf` is shorter than 20 bytes.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let total = u16::try_from(self.buffer_len()).map_err(|_| Error::Malformed)?;
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::Truncated)?;
        let mut p = Ipv4Packet::new_unchecked(header);
        p.set_version_and_header_len(HEADER_LEN);
        p.set_tos(self.tos);
        p.set_total_len(total);
        p.set_ident(self.ident);
        p.set_flags_unfragmented(self.dont_frag);
        p.set_ttl(self.ttl);
        p.set_protocol(self.protocol);
        p.set_src_addr(self.src_addr);
        p.set_dst_addr(self.dst_addr);
        p.fill_checksum();
        Ok(())
    }
}

impl fmt::Display for Ipv4Repr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d] = self.src_addr;
        let [e, g, h, i] = self.dst_addr;
        write!(
            f,
            "IPv4 {a}.{b}.{c}.{d} > {e}.{g}.{h}.{i} tos=0x{:02x} id={} ttl={} proto={} len={}",
            self.tos, self.ident, self.ttl, self.protocol, self.payload_len
        )
    }
}

repr_display!(Ipv4Packet, Ipv4Repr, "IPv4");

#[cfg(test)]
mod tests {
    use super::*;

    /// The IPv4 header of ROCE-FACTS §2 vector A (ConnectX-4 Lx CNP).
    const CNP_IP: [u8; 20] = [
        0x45, 0xc2, 0x00, 0x3c, 0x71, 0x8c, 0x40, 0x00, 0x40, 0x11, 0x91, 0x61, 0x0a, 0x00, 0x11,
        0x01, 0x0a, 0x00, 0x12, 0x01,
    ];

    #[test]
    fn parses_and_re_emits_a_real_header() {
        let mut pkt = [0u8; 60];
        pkt[..20].copy_from_slice(&CNP_IP);
        let repr = Ipv4Repr::parse(&Ipv4Packet::new_checked(&pkt[..]).unwrap()).unwrap();
        assert_eq!(repr.tos, 0xc2);
        assert_eq!(repr.ident, 0x718c);
        assert!(repr.dont_frag);
        assert_eq!(repr.protocol, 17);
        assert_eq!(repr.payload_len, 40);
        let mut out = [0u8; 20];
        repr.emit(&mut out).unwrap();
        assert_eq!(out, CNP_IP);
    }

    #[test]
    fn rejects_bad_checksum_fragments_and_short_buffers() {
        let mut pkt = [0u8; 60];
        pkt[..20].copy_from_slice(&CNP_IP);
        pkt[11] ^= 1;
        let p = Ipv4Packet::new_checked(&pkt[..]).unwrap();
        assert_eq!(Ipv4Repr::parse(&p), Err(Error::Malformed));
        pkt[11] ^= 1;
        pkt[6] |= 0x20; // MF
        let mut p = Ipv4Packet::new_unchecked(&mut pkt[..]);
        p.fill_checksum();
        assert_eq!(
            Ipv4Repr::parse(&Ipv4Packet::new_unchecked(&pkt[..])),
            Err(Error::Unsupported)
        );
        assert_eq!(
            Ipv4Packet::new_checked(&pkt[..59]).unwrap_err(),
            Error::Truncated
        );
    }
}
