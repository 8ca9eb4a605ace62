//! The RoCEv2 invariant CRC: CRC-32 over 8 bytes of 0xFF, the IP header with
//! its variant fields masked to ones (IPv4: TOS, TTL, checksum; IPv6: traffic
//! class, flow label, hop limit), the UDP header with its checksum masked, the
//! BTH with byte 4 (FECN, BECN, resv6) masked, and the rest of the packet up
//! to (not including) the ICRC, which is stored least-significant byte first.
//!
//! Owns the ICRC coverage and masks. Must not parse transport headers beyond
//! what the masks need. The header pieces come in as separate slices (the
//! carrier may not hold them contiguously); masked copies live on the stack.

use super::bth;
use super::crc32::Crc32;
use super::ipv4;
use super::ipv6;
use super::udp;
use super::{Error, Result, ICRC_LEN};

/// Feeds the IP header with its variant fields masked.
fn feed_ip(crc: &mut Crc32, ip_header: &[u8]) -> Result<()> {
    let version = ip_header.first().map(|b| b >> 4).ok_or(Error::Truncated)?;
    let mut masked = [0u8; ipv6::HEADER_LEN];
    match version {
        4 => {
            let ihl_bytes = ip_header.first().map(|b| usize::from(b & 0x0F) * 4);
            if ihl_bytes != Some(ipv4::HEADER_LEN) {
                // rxe only ever covers a 20-byte header.
                return Err(Error::Unsupported);
            }
            let m = masked.get_mut(..ipv4::HEADER_LEN).ok_or(Error::Truncated)?;
            m.copy_from_slice(ip_header.get(..ipv4::HEADER_LEN).ok_or(Error::Truncated)?);
            if ip_header.len() != ipv4::HEADER_LEN {
                return Err(Error::Malformed);
            }
            for off in [
                ipv4::TOS_OFFSET,
                ipv4::TTL_OFFSET,
                ipv4::CHECKSUM_OFFSET,
                ipv4::CHECKSUM_OFFSET + 1,
            ] {
                if let Some(b) = m.get_mut(off) {
                    *b = 0xFF;
                }
            }
            crc.update(m);
        }
        6 => {
            if ip_header.len() != ipv6::HEADER_LEN {
                return Err(if ip_header.len() < ipv6::HEADER_LEN {
                    Error::Truncated
                } else {
                    Error::Malformed
                });
            }
            masked.copy_from_slice(ip_header);
            // Byte 0 low nibble and byte 1 hold the traffic class and the top
            // of the flow label; bytes 2-3 the rest of the flow label.
            if let Some(b) = masked.first_mut() {
                *b |= 0x0F;
            }
            for off in [1, 2, 3, ipv6::HOP_LIMIT_OFFSET] {
                if let Some(b) = masked.get_mut(off) {
                    *b = 0xFF;
                }
            }
            crc.update(&masked);
        }
        _ => return Err(Error::Malformed),
    }
    Ok(())
}

/// Computes the ICRC value. `ip_header` is exactly the 20-byte IPv4 (IHL 5)
/// or 40-byte IPv6 header, `udp_header` exactly 8 bytes, and `covered` the
/// UDP payload without its ICRC trailer (BTH through pad).
pub fn compute(ip_header: &[u8], udp_header: &[u8], covered: &[u8]) -> Result<u32> {
    if udp_header.len() != udp::HEADER_LEN {
        return Err(Error::Malformed);
    }
    let bth_bytes = covered.get(..bth::HEADER_LEN).ok_or(Error::Truncated)?;
    let rest = covered.get(bth::HEADER_LEN..).unwrap_or(&[]);

    let mut crc = Crc32::new();
    crc.update_repeat(0xFF, 8);
    feed_ip(&mut crc, ip_header)?;

    let mut u = [0u8; udp::HEADER_LEN];
    u.copy_from_slice(udp_header);
    for off in [udp::CHECKSUM_OFFSET, udp::CHECKSUM_OFFSET + 1] {
        if let Some(b) = u.get_mut(off) {
            *b = 0xFF;
        }
    }
    crc.update(&u);

    let mut b = [0u8; bth::HEADER_LEN];
    b.copy_from_slice(bth_bytes);
    if let Some(x) = b.get_mut(bth::ICRC_MASKED_BYTE) {
        *x = 0xFF;
    }
    crc.update(&b);
    crc.update(rest);
    Ok(crc.finish())
}

/// Splits a UDP payload into the covered part and the 4-byte trailer.
fn trailer_split(udp_payload_len: usize) -> Result<usize> {
    if udp_payload_len < bth::HEADER_LEN + ICRC_LEN {
        return Err(Error::Truncated);
    }
    Ok(udp_payload_len - ICRC_LEN)
}

/// Checks the ICRC trailer of `udp_payload` (BTH through ICRC).
pub fn verify_parts(ip_header: &[u8], udp_header: &[u8], udp_payload: &[u8]) -> Result<()> {
    let at = trailer_split(udp_payload.len())?;
    let (covered, trailer) = udp_payload.split_at(at);
    let expected = compute(ip_header, udp_header, covered)?;
    if trailer == expected.to_le_bytes() {
        Ok(())
    } else {
        Err(Error::BadIcrc)
    }
}

/// Computes and stores the ICRC trailer of `udp_payload` (BTH through ICRC).
pub fn fill_parts(ip_header: &[u8], udp_header: &[u8], udp_payload: &mut [u8]) -> Result<()> {
    let at = trailer_split(udp_payload.len())?;
    let (covered, trailer) = udp_payload.split_at_mut(at);
    let value = compute(ip_header, udp_header, covered)?;
    trailer.copy_from_slice(&value.to_le_bytes());
    Ok(())
}

/// Checks the ICRC of a whole IP packet (IPv4 or IPv6, UDP, RoCE).
/// Bytes past the IP length (link-layer padding) are ignored.
pub fn verify(ip_packet: &[u8]) -> Result<()> {
    let (ip, udp, payload) = super::ip::split(ip_packet)?;
    verify_parts(ip, udp, payload)
}

/// Computes and stores the ICRC of a whole IP packet whose IP and UDP
/// lengths are already set.
pub fn fill(ip_packet: &mut [u8]) -> Result<()> {
    let (ip, udp, payload) = super::ip::split_mut(ip_packet)?;
    fill_parts(ip, udp, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        let s: String = s.split_whitespace().collect();
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// ROCE-FACTS §2 vector A: a CNP captured from a ConnectX-4 Lx (IP onward).
    fn vector_a() -> Vec<u8> {
        hex("45c2003c718c400040119161 0a001101 0a001201 000012b700280000
             8100ffff 40000118 00000000 00000000000000000000000000000000 82fd002a")
    }

    /// ROCE-FACTS §2 vector B: scapy's UC SEND_ONLY (IP onward).
    fn vector_b() -> Vec<u8> {
        hex("45010040047840004011b4d5c0a80007c0a80007 c00012b7002caca2
             2460ffff000000d300cf1710 4630818be28935d90e9a95505401be885e500000 78f353f3")
    }

    #[test]
    fn vector_a_hardware_cnp() {
        let v = vector_a();
        assert_eq!(verify(&v), Ok(()));
        let (ip, udp, payload) = super::super::ip::split(&v).unwrap();
        let covered = &payload[..payload.len() - 4];
        assert_eq!(compute(ip, udp, covered), Ok(0x2a00_fd82));
        let mut w = v.clone();
        let n = w.len();
        w[n - 4..].fill(0);
        fill(&mut w).unwrap();
        assert_eq!(w, v);
    }

    #[test]
    fn vector_b_uc_send_only() {
        let v = vector_b();
        assert_eq!(verify(&v), Ok(()));
        let mut w = v.clone();
        let n = w.len();
        w[n - 4..].fill(0);
        assert_eq!(verify(&w), Err(Error::BadIcrc));
        fill(&mut w).unwrap();
        assert_eq!(w[w.len() - 4..], [0x78, 0xf3, 0x53, 0xf3]);
    }

    #[test]
    fn masked_fields_do_not_change_the_icrc_but_others_do() {
        let v = vector_a();
        // TOS, TTL, IP checksum, UDP checksum, BTH byte 4: masked.
        for off in [1, 8, 10, 11, 26, 27, 32] {
            let mut w = v.clone();
            w[off] ^= 0x5A;
            assert_eq!(verify(&w), Ok(()), "offset {off}");
        }
        // IP ID, addresses, UDP source port, BTH opcode flags, PSN: covered.
        for off in [4, 12, 19, 20, 29, 33, 39] {
            let mut w = v.clone();
            w[off] ^= 0x01;
            assert_eq!(verify(&w), Err(Error::BadIcrc), "offset {off}");
        }
    }

    #[test]
    fn ipv6_masks() {
        // Build an IPv6 version of vector B by hand; the masked fields must not matter.
        let b = vector_b();
        let roce = &b[28..];
        let mut p = vec![0u8; 48 + roce.len()];
        p[0] = 0x60;
        p[4..6].copy_from_slice(&((8 + roce.len()) as u16).to_be_bytes());
        p[6] = 17;
        p[7] = 64;
        p[8..24].copy_from_slice(&[0xfe; 16]);
        p[24..40].copy_from_slice(&[0x20; 16]);
        p[40..48].copy_from_slice(&b[20..28]);
        p[48..].copy_from_slice(roce);
        fill(&mut p).unwrap();
        for (off, x) in [
            (0, 0x0F),
            (1, 0xFF),
            (2, 0x12),
            (3, 0x34),
            (7, 0x01),
            (46, 0x77),
        ] {
            let mut w = p.clone();
            w[off] ^= x;
            assert_eq!(verify(&w), Ok(()), "offset {off}");
        }
        for off in [0, 4, 8, 39, 40, 48] {
            let mut w = p.clone();
            w[off] ^= 0x10;
            assert_ne!(verify(&w), Ok(()), "offset {off}");
        }
    }

    #[test]
    fn rejects_shapes_it_cannot_cover() {
        let v = vector_a();
        assert_eq!(
            compute(&v[..20], &v[20..27], &v[28..40]),
            Err(Error::Malformed)
        );
        assert_eq!(
            compute(&v[..20], &v[20..28], &v[28..39]),
            Err(Error::Truncated)
        );
        let mut opt = v[..24].to_vec();
        opt[0] = 0x46;
        assert_eq!(
            compute(&opt, &v[20..28], &v[28..40]),
            Err(Error::Unsupported)
        );
        assert_eq!(verify(&[]), Err(Error::Truncated));
    }
}
