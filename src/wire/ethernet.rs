//! Ethernet II framing: the [`EthernetFrame`] view (destination, source, up
//! to two 802.1Q / 802.1ad tags, EtherType, payload), the [`VlanTag`] value
//! and [`EthernetRepr`] (untagged or one 802.1Q tag) with `parse`/`emit`.
//! Owns the Ethernet header layout and the EtherType constants; must not
//! parse what the frame carries (IP, ARP) nor pad frames (the sender's job).
//! Frames are seen without their FCS.

use core::fmt;

use super::bytes::{check_len, get_bytes, get_u16, set_bytes, set_u16};
use super::{Error, Result};

mod field {
    use crate::wire::field::Field;

    pub const DST: Field = 0..6;
    pub const SRC: Field = 6..12;
    /// The first EtherType (or tag protocol identifier).
    pub const TYPE: Field = 12..14;
}

/// EtherType of IPv4.
pub const ETHERTYPE_IPV4: u16 = 0x0800;
/// EtherType of ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType of IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86DD;
/// EtherType (tag protocol identifier) of an 802.1Q VLAN tag.
pub const ETHERTYPE_VLAN: u16 = 0x8100;
/// EtherType (tag protocol identifier) of an 802.1ad (QinQ) service tag.
pub const ETHERTYPE_QINQ: u16 = 0x88A8;

/// Length of the untagged Ethernet header (two MACs and the EtherType).
pub const HEADER_LEN: usize = 14;
/// Length of one VLAN tag (TPID and TCI).
pub const VLAN_TAG_LEN: usize = 4;
/// At most this many VLAN tags are read; a frame with more is `Unsupported`.
pub const MAX_VLAN_TAGS: usize = 2;
/// The broadcast MAC address.
pub const BROADCAST: [u8; 6] = [0xFF; 6];
/// The smallest Ethernet frame without its FCS (802.3: 64 bytes with it).
pub const MIN_FRAME_LEN: usize = 60;

/// An IEEE 802.1Q tag's priority and VLAN id (the DEI bit is sent as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VlanTag {
    /// Priority code point, 0..=7 (PFC class).
    pub pcp: u8,
    /// VLAN id, 0..=4094 (0: priority tag only).
    pub vid: u16,
}

impl VlanTag {
    /// The tag from a tag control information word (DEI dropped).
    pub const fn from_tci(tci: u16) -> VlanTag {
        VlanTag {
            pcp: (tci >> 13) as u8,
            vid: tci & 0x0FFF,
        }
    }

    /// The tag control information word (DEI 0). `Malformed` if the PCP
    /// does not fit 3 bits or the VID is 4095 or more (4095 is reserved).
    pub fn tci(&self) -> Result<u16> {
        if self.pcp > 7 || self.vid >= 0x0FFF {
            return Err(Error::Malformed);
        }
        Ok((u16::from(self.pcp) << 13) | self.vid)
    }
}

/// Whether a MAC is a group (multicast or broadcast) address.
pub const fn is_group_mac(mac: &[u8; 6]) -> bool {
    mac[0] & 1 != 0
}

view_skeleton!(
    /// A read/write view of an Ethernet II frame.
    EthernetFrame
);

impl<T: AsRef<[u8]>> EthernetFrame<T> {
    /// Checks that the header and its tags fit (`Truncated`) and that there
    /// are at most [`MAX_VLAN_TAGS`] tags (`Unsupported`).
    pub fn check_len(&self) -> Result<()> {
        let data = self.buffer.as_ref();
        check_len(data, HEADER_LEN)?;
        let (tags, _) = self.walk();
        if tags > MAX_VLAN_TAGS {
            return Err(Error::Unsupported);
        }
        check_len(data, HEADER_LEN + tags * VLAN_TAG_LEN)
    }

    /// (number of tags, offset of the final EtherType). Counts one tag past
    /// [`MAX_VLAN_TAGS`] at most; a tag cut short still counts.
    fn walk(&self) -> (usize, usize) {
        let data = self.buffer.as_ref();
        let mut at = field::TYPE.start;
        let mut tags = 0;
        while tags <= MAX_VLAN_TAGS
            && matches!(get_u16(data, at..at + 2), ETHERTYPE_VLAN | ETHERTYPE_QINQ)
        {
            at += VLAN_TAG_LEN;
            tags += 1;
        }
        (tags, at)
    }

    pub fn dst_addr(&self) -> [u8; 6] {
        get_bytes(self.buffer.as_ref(), field::DST)
    }
    pub fn src_addr(&self) -> [u8; 6] {
        get_bytes(self.buffer.as_ref(), field::SRC)
    }
    /// How many VLAN tags precede the EtherType.
    pub fn tag_count(&self) -> usize {
        self.walk().0.min(MAX_VLAN_TAGS)
    }
    /// The tag protocol identifier of tag `i` (0 = outermost).
    pub fn tag_tpid(&self, i: usize) -> Option<u16> {
        let at = field::TYPE.start + i.checked_mul(VLAN_TAG_LEN)?;
        (i < self.tag_count()).then(|| get_u16(self.buffer.as_ref(), at..at + 2))
    }
    /// Tag `i` (0 = outermost).
    pub fn tag(&self, i: usize) -> Option<VlanTag> {
        let at = field::TYPE.start + 2 + i.checked_mul(VLAN_TAG_LEN)?;
        (i < self.tag_count()).then(|| VlanTag::from_tci(get_u16(self.buffer.as_ref(), at..at + 2)))
    }
    /// The drop eligible indicator of tag `i`.
    pub fn tag_dei(&self, i: usize) -> Option<bool> {
        let at = field::TYPE.start + 2 + i.checked_mul(VLAN_TAG_LEN)?;
        (i < self.tag_count()).then(|| get_u16(self.buffer.as_ref(), at..at + 2) & 0x1000 != 0)
    }
    /// The EtherType after the tags.
    pub fn ethertype(&self) -> u16 {
        let at = self.header_len() - 2;
        get_u16(self.buffer.as_ref(), at..at + 2)
    }
    /// Header length, tags included (14, 18 or 22).
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.tag_count() * VLAN_TAG_LEN
    }
}

impl<'a, T: AsRef<[u8]> + ?Sized> EthernetFrame<&'a T> {
    /// Everything after the header (link-layer padding included).
    pub fn payload(&self) -> &'a [u8] {
        T::as_ref(self.buffer)
            .get(self.header_len()..)
            .unwrap_or(&[])
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> EthernetFrame<T> {
    pub fn set_dst_addr(&mut self, value: [u8; 6]) {
        set_bytes(self.buffer.as_mut(), field::DST, &value);
    }
    pub fn set_src_addr(&mut self, value: [u8; 6]) {
        set_bytes(self.buffer.as_mut(), field::SRC, &value);
    }
}

/// An Ethernet II header, untagged or with one 802.1Q tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EthernetRepr {
    pub dst: [u8; 6],
    pub src: [u8; 6],
    /// The 802.1Q tag, if any.
    pub vlan: Option<VlanTag>,
    /// The EtherType of the payload.
    pub ethertype: u16,
}

impl EthernetRepr {
    /// Parses an untagged or single-802.1Q-tagged header; an 802.1ad tag or
    /// two tags are `Unsupported` here (the view still reads them).
    pub fn parse<T: AsRef<[u8]> + ?Sized>(frame: &EthernetFrame<&T>) -> Result<EthernetRepr> {
        frame.check_len()?;
        let vlan = match frame.tag_count() {
            0 => None,
            1 if frame.tag_tpid(0) == Some(ETHERTYPE_VLAN) => frame.tag(0),
            _ => return Err(Error::Unsupported),
        };
        Ok(EthernetRepr {
            dst: frame.dst_addr(),
            src: frame.src_addr(),
            vlan,
            ethertype: frame.ethertype(),
        })
    }

    /// 14, or 18 with a tag.
    pub const fn header_len(&self) -> usize {
        match self.vlan {
            Some(_) => HEADER_LEN + VLAN_TAG_LEN,
            None => HEADER_LEN,
        }
    }

    /// Writes the header into the start of `buf`. `Truncated` if `buf` is
    /// shorter than [`EthernetRepr::header_len`], `Malformed` for a tag whose
    /// values do not fit or an EtherType that is itself a tag identifier.
    pub fn emit(&self, buf: &mut [u8]) -> Result<()> {
        if matches!(self.ethertype, ETHERTYPE_VLAN | ETHERTYPE_QINQ) {
            return Err(Error::Malformed);
        }
        let tci = self.vlan.map(|t| t.tci()).transpose()?;
        let header = buf.get_mut(..self.header_len()).ok_or(Error::Truncated)?;
        set_bytes(header, field::DST, &self.dst);
        set_bytes(header, field::SRC, &self.src);
        let mut at = field::TYPE.start;
        if let Some(tci) = tci {
            set_u16(header, at..at + 2, ETHERTYPE_VLAN);
            set_u16(header, at + 2..at + 4, tci);
            at += VLAN_TAG_LEN;
        }
        set_u16(header, at..at + 2, self.ethertype);
        Ok(())
    }
}

impl fmt::Display for EthernetRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Ethernet ")?;
        write_mac(f, &self.src)?;
        f.write_str(" > ")?;
        write_mac(f, &self.dst)?;
        if let Some(t) = self.vlan {
            write!(f, " vlan={} pcp={}", t.vid, t.pcp)?;
        }
        write!(f, " type=0x{:04x}", self.ethertype)
    }
}

/// Writes a MAC as six colon-separated hex bytes.
pub(crate) fn write_mac(f: &mut fmt::Formatter<'_>, mac: &[u8; 6]) -> fmt::Result {
    for (i, b) in mac.iter().enumerate() {
        if i != 0 {
            f.write_str(":")?;
        }
        write!(f, "{b:02x}")?;
    }
    Ok(())
}

repr_display!(EthernetFrame, EthernetRepr, "Ethernet");

#[cfg(test)]
mod tests {
    use super::*;

    const DST: [u8; 6] = [2, 0, 0, 0, 0, 0x12];
    const SRC: [u8; 6] = [2, 0, 0, 0, 0, 0x11];

    #[test]
    fn untagged_round_trip() {
        let repr = EthernetRepr {
            dst: DST,
            src: SRC,
            vlan: None,
            ethertype: ETHERTYPE_IPV4,
        };
        let mut buf = [0xEE; 16];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf[..14], [2, 0, 0, 0, 0, 0x12, 2, 0, 0, 0, 0, 0x11, 8, 0]);
        let f = EthernetFrame::new_checked(&buf[..]).unwrap();
        assert_eq!(f.payload(), &[0xEE, 0xEE]);
        assert_eq!(EthernetRepr::parse(&f), Ok(repr));
        assert_eq!(
            f.to_string(),
            "Ethernet 02:00:00:00:00:11 > 02:00:00:00:00:12 type=0x0800"
        );
        assert_eq!(repr.emit(&mut buf[..13]), Err(Error::Truncated));
    }

    #[test]
    fn tagged_round_trip_and_bit_positions() {
        let repr = EthernetRepr {
            dst: DST,
            src: SRC,
            vlan: Some(VlanTag { pcp: 5, vid: 0x123 }),
            ethertype: ETHERTYPE_IPV6,
        };
        let mut buf = [0u8; 18];
        repr.emit(&mut buf).unwrap();
        assert_eq!(buf[12..], [0x81, 0x00, 0xA1, 0x23, 0x86, 0xDD]);
        let f = EthernetFrame::new_checked(&buf[..]).unwrap();
        assert_eq!((f.tag_count(), f.header_len()), (1, 18));
        assert_eq!(f.tag_dei(0), Some(false));
        assert_eq!(EthernetRepr::parse(&f), Ok(repr));
        let bad = EthernetRepr {
            vlan: Some(VlanTag { pcp: 8, vid: 1 }),
            ..repr
        };
        assert_eq!(bad.emit(&mut buf), Err(Error::Malformed));
        let bad = EthernetRepr {
            vlan: Some(VlanTag { pcp: 0, vid: 4095 }),
            ..repr
        };
        assert_eq!(bad.emit(&mut buf), Err(Error::Malformed));
    }

    #[test]
    fn two_tags_are_read_three_are_not() {
        let mut f = vec![0xAA; 12];
        f.extend_from_slice(&[
            0x88, 0xA8, 0x30, 0x01, 0x81, 0x00, 0x10, 0x02, 0x08, 0x00, 9,
        ]);
        let v = EthernetFrame::new_checked(&f[..]).unwrap();
        assert_eq!(v.tag_count(), 2);
        assert_eq!(v.tag_tpid(0), Some(ETHERTYPE_QINQ));
        assert_eq!(v.tag(0), Some(VlanTag { pcp: 1, vid: 1 }));
        assert_eq!(v.tag_dei(0), Some(true));
        assert_eq!(v.tag(1), Some(VlanTag { pcp: 0, vid: 2 }));
        assert_eq!(v.tag(2), None);
        assert_eq!((v.ethertype(), v.payload()), (ETHERTYPE_IPV4, &[9u8][..]));
        assert_eq!(EthernetRepr::parse(&v), Err(Error::Unsupported));
        let mut three = f[..12].to_vec();
        three.extend_from_slice(&[0x81, 0, 0, 1, 0x81, 0, 0, 2, 0x81, 0, 0, 3, 8, 0]);
        assert_eq!(
            EthernetFrame::new_checked(&three[..]).unwrap_err(),
            Error::Unsupported
        );
        assert_eq!(
            EthernetFrame::new_checked(&f[..19]).unwrap_err(),
            Error::Truncated
        );
    }
}
