//! A minimal UDP header: [`UdpPacket`] view and [`UdpRepr`]. Owns the UDP
//! layout and computes the IPv6 checksum ([`ipv6_checksum`]); must not choose
//! source ports (the transport's per-QP entropy) and does not verify
//! checksums (rxe sends 0 on IPv4; the ICRC protects RoCE payloads).

use core::fmt;

use super::bytes::{check_len, get_u16, set_u16};
use super::{Error, Result};

mod field {
    use crate::wire::field::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
}

/// Length of the UDP header.
pub const HEADER_LEN: usize = 8;
/// Offset of the checksum (masked by the ICRC).
pub const CHECKSUM_OFFSET: usize = field::CHECKSUM.start;

/// The UDP checksum of a datagram over IPv6 (RFC 8200 §8.1): the pseudo
/// header (addresses, upper-layer length, next header 17), `header` (its
/// first 8 bytes, the checksum field read as zero) and `payload`. A computed 0 is
/// sent as 0xFFFF.
pub fn ipv6_checksum(src: &[u8; 16], dst: &[u8; 16], header: &[u8], payload: &[u8]) -> u16 {
    use super::ipv4::{fold_sum, ones_sum};
    let len = (HEADER_LEN as u64).wrapping_add(payload.len() as u64);
    let mut sum = ones_sum(0, src);
    sum = ones_sum(sum, dst);
    sum = sum
        .wrapping_add(len >> 16)
        .wrapping_add(len & 0xFFFF)
        .wrapping_add(17);
    let mut h = [0u8; HEADER_LEN];
    if let Some(src) = header.get(..HEADER_LEN) {
        h.copy_from_slice(src);
    }
    h[CHECKSUM_OFFSET] = 0;
    h[CHECKSUM_OFFSET + 1] = 0;
    sum = ones_sum(sum, &h);
    sum = ones_sum(sum, payload);
    match !fold_sum(sum) {
        0 => 0xFFFF,
        c => c,
    }
}

view_skeleton!(
    /// A read/write view of a UDP datagram.
    UdpPacket
);

impl<T: AsRef<[u8]>> UdpPacket<T> {
    /// Checks that the header fits and the length field is at least 8
    /// (`Malformed`) and within the buffer (`Truncated`).
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(data, HEADER_LEN)?;
        let len = usize::from(self.len());
        if len < HEADER_LEN {
            return Err(Error::Malformed);
        }
        check_len(data, len)
    }

    pub fn src_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::SRC_PORT)
    }
    pub fn dst_port(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::DST_PORT)
    }
    /// The length field (header plus payload).
    pub fn len(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::LENGTH)
    }
    pub fn is_empty(&self) -> bool {
        usize::from(self.len()) <= HEADER_LEN
    }
    pub fn checksum(&self) -> u16 {
        get_u16(self.buffer.as_ref(), field::CHECKSUM)
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> UdpPacket<&'a T> {
    /// The payload, bounded by the length field.
    pub fn payload(&self) -> &'a [u8] {
        let end = usize::from(self.len());
        T::as_ref(self.buffer).get(HEADER_LEN..end).unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> UdpPacket<T> {
    pub fn set_src_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::SRC_PORT, value);
    }
    pub fn set_dst_port(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::DST_PORT, value);
    }
    pub fn set_len(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::LENGTH, value);
    }
    pub fn set_checksum(&mut self, value: u16) {
        set_u16(self.buffer.as_mut(), field::CHECKSUM, value);
    }
}

/// A UDP header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UdpRepr {
    pub src_port: u16,
    pub dst_port: u16,
    /// The checksum as carried (not verified); rxe sends 0, so should we.
    pub checksum: u16,
    /// Bytes after the header.
    pub payload_len: usize,
}

impl UdpRepr {
    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &UdpPacket<&T>) -> Result<UdpRepr> {
        packet.check_len()?;
        Ok(UdpRepr {
            src_port: packet.src_port(),
            dst_port: packet.dst_port(),
            checksum: packet.checksum(),
            payload_len: packet.payload().len(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    pub fn buffer_len(&self) -> usize {
        HEADER_LEN.saturating_add(self.payload_len)
    }

    /// Writes the 8-byte header into the start of `buf`.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        let len = u16::try_from(self.buffer_len()).map_err(|_| Error::Malformed)?;
        let header = buf.get_mut(..HEADER_LEN).ok_or(Error::Truncated)?;
        let mut p = UdpPacket::new_unchecked(header);
        p.set_src_port(self.src_port);
        p.set_dst_port(self.dst_port);
        p.set_len(len);
        p.set_checksum(self.checksum);
        Ok(())
    }
}

impl fmt::Display for UdpRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UDP {} > {} len={} csum=0x{:04x}",
            self.src_port, self.dst_port, self.payload_len, self.checksum
        )
    }
}

repr_display!(UdpPacket, UdpRepr, "UDP");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_checksum_verifies_to_zero() {
        let (src, dst) = ([0xfe; 16], [0x20; 16]);
        let payload = [1u8, 2, 3, 4, 5];
        let mut h = [0u8; 8];
        UdpRepr {
            src_port: 0xC000,
            dst_port: 4791,
            checksum: 0,
            payload_len: payload.len(),
        }
        .emit(&mut h)
        .unwrap();
        let c = ipv6_checksum(&src, &dst, &h, &payload);
        assert_ne!(c, 0);
        h[6..8].copy_from_slice(&c.to_be_bytes());
        // The receiver's sum over pseudo header + datagram (checksum
        // included) is all ones.
        let mut pseudo = vec![];
        pseudo.extend_from_slice(&src);
        pseudo.extend_from_slice(&dst);
        pseudo.extend_from_slice(&[0, 0, 0, 13, 0, 0, 0, 17]);
        pseudo.extend_from_slice(&h);
        pseudo.extend_from_slice(&payload);
        assert_eq!(crate::wire::ipv4::internet_checksum(&pseudo), 0);
    }

    #[test]
    fn layout_and_checks() {
        let repr = UdpRepr {
            src_port: 0xC000,
            dst_port: 4791,
            checksum: 0,
            payload_len: 4,
        };
        let mut buf = [0xEEu8; 12];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf[..8], [0xC0, 0, 0x12, 0xB7, 0, 12, 0, 0]);
        let back = UdpRepr::parse(&UdpPacket::new_checked(&buf[..]).unwrap());
        assert_eq!(back, Ok(repr));
        assert_eq!(
            UdpPacket::new_checked(&buf[..11]).unwrap_err(),
            Error::Truncated
        );
        buf[5] = 7;
        assert_eq!(
            UdpPacket::new_checked(&buf[..]).unwrap_err(),
            Error::Malformed
        );
    }
}
