//! The SMB Direct Data Transfer message (§2.2.3): a 20-byte header, padding
//! up to DataOffset, then DataLength bytes of upper-layer data. View, repr,
//! and the receiver checks of §3.1.5.8 ([`check_data_transfer`]).
//! Owns this layout; must not keep credits or reassembly state.

use core::fmt;

use super::le::{put, set_u16, set_u32, u16_at, u32_at};
use super::negotiate::check_out;
use super::{check_len, Error, Result, DATA_HEADER_LEN, DATA_OFFSET, FLAG_RESPONSE_REQUESTED};

crate::wire::view_skeleton!(
    /// A view of a Data Transfer message (header, padding and data).
    DataTransferPacket,
    super::Error
);

impl<T: AsRef<[u8]>> DataTransferPacket<T> {
    /// `Err(Truncated)` unless the buffer holds the 20-byte header.
    pub fn check_len(&self) -> Result<()> {
        check_len(self.buffer.as_ref(), DATA_HEADER_LEN)
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn credits_requested(&self) -> u16 {
        u16_at(self.b(), 0)
    }
    pub fn credits_granted(&self) -> u16 {
        u16_at(self.b(), 2)
    }
    pub fn flags(&self) -> u16 {
        u16_at(self.b(), 4)
    }
    pub fn remaining_data_length(&self) -> u32 {
        u32_at(self.b(), 8)
    }
    pub fn data_offset(&self) -> u32 {
        u32_at(self.b(), 12)
    }
    pub fn data_length(&self) -> u32 {
        u32_at(self.b(), 16)
    }
    /// The data DataOffset/DataLength name, or `None` if they lie outside
    /// the buffer.
    pub fn data(&self) -> Option<&[u8]> {
        let off = usize::try_from(self.data_offset()).ok()?;
        let len = usize::try_from(self.data_length()).ok()?;
        if len == 0 {
            return Some(&[]);
        }
        self.b().get(off..off.checked_add(len)?)
    }
}

/// A Data Transfer header's fields (Reserved and padding are emitted as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataTransferRepr {
    /// Total send credits wanted from the receiver, including those granted.
    pub credits_requested: u16,
    /// Send credits granted to the receiver by this message (incremental).
    pub credits_granted: u16,
    pub flags: u16,
    /// Bytes of the upper-layer message still to come after this fragment.
    pub remaining_data_length: u32,
    pub data_offset: u32,
    pub data_length: u32,
}

impl DataTransferRepr {
    /// A header for `data_length` bytes of data at [`DATA_OFFSET`] (offset 0
    /// and no padding when there is no data).
    pub fn new(
        credits_requested: u16,
        credits_granted: u16,
        flags: u16,
        remaining_data_length: u32,
        data_length: u32,
    ) -> Self {
        Self {
            credits_requested,
            credits_granted,
            flags,
            remaining_data_length,
            data_offset: if data_length == 0 {
                0
            } else {
                DATA_OFFSET as u32
            },
            data_length,
        }
    }

    /// The fields of a checked view (no semantic checks: see
    /// [`check_data_transfer`]).
    pub fn parse<T: AsRef<[u8]>>(p: &DataTransferPacket<T>) -> Result<Self> {
        check_len(p.b(), DATA_HEADER_LEN)?;
        Ok(Self {
            credits_requested: p.credits_requested(),
            credits_granted: p.credits_granted(),
            flags: p.flags(),
            remaining_data_length: p.remaining_data_length(),
            data_offset: p.data_offset(),
            data_length: p.data_length(),
        })
    }

    /// Whether the sender asked for a prompt message back.
    pub fn response_requested(&self) -> bool {
        self.flags & FLAG_RESPONSE_REQUESTED != 0
    }

    /// Length of the whole message: the header alone without data, else
    /// DataOffset + DataLength (`None` on overflow).
    pub fn message_len(&self) -> Option<usize> {
        if self.data_length == 0 {
            return Some(DATA_HEADER_LEN);
        }
        usize::try_from(self.data_offset)
            .ok()?
            .checked_add(usize::try_from(self.data_length).ok()?)
    }

    /// Writes header, zero padding and `data` (which must be DataLength
    /// bytes) into `out`; returns the message length.
    pub fn emit(&self, out: &mut [u8], data: &[u8]) -> Result<usize> {
        let bad_offset = self.data_length != 0
            && ((self.data_offset as usize) < DATA_HEADER_LEN
                || !self.data_offset.is_multiple_of(8));
        if data.len() != self.data_length as usize || bad_offset {
            return Err(Error::BadDataOffset(self.data_offset));
        }
        let len = self
            .message_len()
            .ok_or(Error::BadDataOffset(self.data_offset))?;
        check_out(out, len)?;
        set_u16(out, 0, self.credits_requested);
        set_u16(out, 2, self.credits_granted);
        set_u16(out, 4, self.flags);
        set_u16(out, 6, 0);
        set_u32(out, 8, self.remaining_data_length);
        set_u32(out, 12, self.data_offset);
        set_u32(out, 16, self.data_length);
        if let Some(pad) =
            out.get_mut(DATA_HEADER_LEN..(self.data_offset as usize).max(DATA_HEADER_LEN))
        {
            pad.fill(0);
        }
        put(out, self.data_offset as usize, data);
        Ok(len)
    }
}

impl fmt::Display for DataTransferRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SMBD DataTransfer credits_requested {} credits_granted {} flags {:#06x} remaining {} offset {} length {}",
            self.credits_requested,
            self.credits_granted,
            self.flags,
            self.remaining_data_length,
            self.data_offset,
            self.data_length
        )
    }
}

/// The receiver's checks of a Data Transfer message (§3.1.5.8) given our
/// max fragmented receive size; returns the header and its data. Every
/// error means: terminate the connection.
pub fn check_data_transfer(
    message: &[u8],
    max_fragmented: u32,
) -> Result<(DataTransferRepr, &[u8])> {
    let p = DataTransferPacket::new_checked(message)?;
    let r = DataTransferRepr::parse(&p)?;
    if r.credits_requested == 0 {
        return Err(Error::NoCreditsRequested);
    }
    if r.data_length != 0 {
        if !r.data_offset.is_multiple_of(8) || (r.data_offset as usize) < DATA_HEADER_LEN {
            return Err(Error::BadDataOffset(r.data_offset));
        }
        let beyond = Error::DataBeyondMessage {
            offset: r.data_offset,
            length: r.data_length,
            message: message.len(),
        };
        if r.message_len().is_none_or(|end| end > message.len()) {
            return Err(beyond);
        }
    }
    let total = u64::from(r.data_length) + u64::from(r.remaining_data_length);
    if total > u64::from(max_fragmented) {
        return Err(Error::TooLong {
            total,
            max: max_fragmented,
        });
    }
    let data = if r.data_length == 0 {
        &[][..]
    } else {
        r.message_len()
            .and_then(|end| message.get(r.data_offset as usize..end))
            .ok_or(Error::DataBeyondMessage {
                offset: r.data_offset,
                length: r.data_length,
                message: message.len(),
            })?
    };
    Ok((r, data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_with_data_and_padding() {
        let r = DataTransferRepr::new(255, 3, FLAG_RESPONSE_REQUESTED, 0, 5);
        let mut out = [0xEEu8; 40];
        assert_eq!(r.emit(&mut out, b"hello"), Ok(29));
        assert_eq!(
            &out[..29],
            &[
                255, 0, 3, 0, 1, 0, 0, 0, // credits, flags, reserved
                0, 0, 0, 0, 24, 0, 0, 0, 5, 0, 0, 0, // remaining, offset, length
                0, 0, 0, 0, // padding to 0x18
                b'h', b'e', b'l', b'l', b'o'
            ]
        );
        let (back, data) = check_data_transfer(&out[..29], 1 << 20).unwrap();
        assert_eq!((back, data), (r, &b"hello"[..]));
        assert!(back.response_requested());
    }

    #[test]
    fn header_only_message_is_20_bytes() {
        let r = DataTransferRepr::new(10, 1, 0, 0, 0);
        let mut out = [0xEEu8; 24];
        assert_eq!(r.emit(&mut out, &[]), Ok(20));
        assert_eq!(&out[12..20], &[0; 8], "offset and length 0");
        assert_eq!(
            check_data_transfer(&out[..20], 131_072).unwrap().1,
            &[] as &[u8]
        );
    }

    #[test]
    fn receiver_checks() {
        let mut m = [0u8; 40];
        DataTransferRepr::new(1, 0, 0, 0, 16)
            .emit(&mut m, &[7; 16])
            .unwrap();
        assert!(check_data_transfer(&m, 131_072).is_ok());
        assert_eq!(
            check_data_transfer(&m[..19], 131_072),
            Err(Error::Truncated { need: 20, have: 19 })
        );
        assert!(matches!(
            check_data_transfer(&m[..39], 131_072),
            Err(Error::DataBeyondMessage {
                offset: 24,
                length: 16,
                message: 39
            })
        ));
        let mut bad = m;
        bad[0] = 0; // CreditsRequested 0
        assert_eq!(
            check_data_transfer(&bad, 131_072),
            Err(Error::NoCreditsRequested)
        );
        let mut bad = m;
        bad[12] = 28; // DataOffset not 8-aligned
        assert_eq!(
            check_data_transfer(&bad, 131_072),
            Err(Error::BadDataOffset(28))
        );
        let mut bad = m;
        bad[12] = 16; // inside the header
        assert_eq!(
            check_data_transfer(&bad, 131_072),
            Err(Error::BadDataOffset(16))
        );
        let mut bad = m;
        bad[8..12].copy_from_slice(&131_057u32.to_le_bytes()); // 16 + 131057 > max
        assert_eq!(
            check_data_transfer(&bad, 131_072),
            Err(Error::TooLong {
                total: 131_073,
                max: 131_072
            })
        );
        bad[8..12].copy_from_slice(&131_056u32.to_le_bytes());
        assert!(
            check_data_transfer(&bad, 131_072).is_ok(),
            "exactly the max"
        );
        let mut bad = m;
        bad[12..16].copy_from_slice(&0xFFFF_FFF8u32.to_le_bytes()); // offset + length overflows u32
        assert!(matches!(
            check_data_transfer(&bad, 131_072),
            Err(Error::DataBeyondMessage { .. })
        ));
    }

    #[test]
    fn emit_checks_its_inputs() {
        let r = DataTransferRepr::new(1, 0, 0, 0, 4);
        assert!(r.emit(&mut [0u8; 64], b"abc").is_err(), "length mismatch");
        assert_eq!(
            r.emit(&mut [0u8; 27], b"abcd"),
            Err(Error::BufferTooSmall { need: 28, have: 27 })
        );
    }
}
