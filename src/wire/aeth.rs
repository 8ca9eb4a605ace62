//! The ACK Extended Transport Header (4 bytes): [`AethPacket`] view,
//! [`AethRepr`], the syndrome encoding ([`Syndrome`], [`NakCode`]) and the RNR
//! timer table. Owns the AETH layout; must not decide when to ACK or NAK.

use core::fmt;

use super::bth::MAX_24;
use super::bytes::{get_u24, get_u8, set_u24, set_u8};
use super::Result;

mod field {
    use crate::wire::field::Field;

    pub const SYNDROME: usize = 0;
    pub const MSN: Field = 1..4;
}

/// Length of the AETH.
pub const HEADER_LEN: usize = 4;

fixed_view!(
    /// A read/write view of an AETH at the start of a buffer.
    AethPacket,
    AethRepr,
    HEADER_LEN,
    "AETH"
);

impl<T: AsRef<[u8]>> AethPacket<T> {
    /// The raw syndrome byte.
    pub fn syndrome(&self) -> u8 {
        get_u8(self.buffer.as_ref(), field::SYNDROME)
    }
    pub fn msn(&self) -> u32 {
        get_u24(self.buffer.as_ref(), field::MSN)
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> AethPacket<T> {
    pub fn set_syndrome(&mut self, value: u8) {
        set_u8(self.buffer.as_mut(), field::SYNDROME, value);
    }
    /// Only the low 24 bits are used.
    pub fn set_msn(&mut self, value: u32) {
        set_u24(self.buffer.as_mut(), field::MSN, value);
    }
}

/// The NAK codes of an AETH syndrome of type `011`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NakCode {
    PsnSequenceError,
    InvalidRequest,
    RemoteAccessError,
    RemoteOperationalError,
    InvalidRdRequest,
    /// A reserved code (the low five bits; kept for exact emit).
    Reserved(u8),
}

impl NakCode {
    /// Decodes the low five bits of a NAK syndrome.
    pub const fn from_value(value: u8) -> NakCode {
        match value & VALUE_MASK {
            0 => NakCode::PsnSequenceError,
            1 => NakCode::InvalidRequest,
            2 => NakCode::RemoteAccessError,
            3 => NakCode::RemoteOperationalError,
            4 => NakCode::InvalidRdRequest,
            v => NakCode::Reserved(v),
        }
    }

    /// The low five bits of the syndrome.
    pub const fn value(self) -> u8 {
        match self {
            NakCode::PsnSequenceError => 0,
            NakCode::InvalidRequest => 1,
            NakCode::RemoteAccessError => 2,
            NakCode::RemoteOperationalError => 3,
            NakCode::InvalidRdRequest => 4,
            NakCode::Reserved(v) => v & VALUE_MASK,
        }
    }
}

const TYPE_SHIFT: u32 = 5;
const VALUE_MASK: u8 = 0x1F;
const TYPE_ACK: u8 = 0b000;
const TYPE_RNR_NAK: u8 = 0b001;
const TYPE_NAK: u8 = 0b011;

/// The AETH syndrome byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Syndrome {
    /// ACK with a 5-bit credit count (0x1F = unlimited / invalid).
    Ack { credits: u8 },
    /// RNR NAK with the 5-bit encoded timer (see [`rnr_timer_micros`]).
    RnrNak { timer: u8 },
    /// NAK with a code.
    Nak(NakCode),
    /// A reserved type (`010` or bit 7 set): the raw byte.
    Reserved(u8),
}

impl Syndrome {
    /// The ACK rxe always sends: credits 0x1F ("unlimited / invalid").
    pub const ACK_UNLIMITED: Syndrome = Syndrome::Ack { credits: 0x1F };

    /// Decodes a syndrome byte; every byte decodes.
    pub const fn from_byte(byte: u8) -> Syndrome {
        let value = byte & VALUE_MASK;
        match byte >> TYPE_SHIFT {
            TYPE_ACK => Syndrome::Ack { credits: value },
            TYPE_RNR_NAK => Syndrome::RnrNak { timer: value },
            TYPE_NAK => Syndrome::Nak(NakCode::from_value(value)),
            _ => Syndrome::Reserved(byte),
        }
    }

    /// Encodes the syndrome byte (out-of-range values are masked to 5 bits).
    pub const fn to_byte(self) -> u8 {
        match self {
            Syndrome::Ack { credits } => (TYPE_ACK << TYPE_SHIFT) | (credits & VALUE_MASK),
            Syndrome::RnrNak { timer } => (TYPE_RNR_NAK << TYPE_SHIFT) | (timer & VALUE_MASK),
            Syndrome::Nak(code) => (TYPE_NAK << TYPE_SHIFT) | code.value(),
            Syndrome::Reserved(byte) => byte,
        }
    }

    /// Whether [`to_byte`](Self::to_byte) then [`from_byte`](Self::from_byte)
    /// gives back `self` (values fit, and `Reserved` holds a reserved type).
    pub fn is_canonical(self) -> bool {
        Syndrome::from_byte(self.to_byte()) == self
    }

    /// True for ACKs (type `000`).
    pub const fn is_ack(self) -> bool {
        matches!(self, Syndrome::Ack { .. })
    }
}

impl fmt::Display for Syndrome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Syndrome::Ack { credits } => write!(f, "ACK credits={credits}"),
            Syndrome::RnrNak { timer } => {
                write!(f, "RNR-NAK timer={timer} ({} us)", rnr_timer_micros(*timer))
            }
            Syndrome::Nak(code) => write!(f, "NAK {code:?}"),
            Syndrome::Reserved(byte) => write!(f, "reserved syndrome 0x{byte:02x}"),
        }
    }
}

/// The RNR NAK timer encoding in microseconds, index = 5-bit code. rxe's own
/// table has 61410 for code 25, a typo for 61440.
const RNR_TIMER_MICROS: [u32; 32] = [
    655_360, 10, 20, 30, 40, 60, 80, 120, 160, 240, 320, 480, 640, 960, 1_280, 1_920, 2_560, 3_840,
    5_120, 7_680, 10_240, 15_360, 20_480, 30_720, 40_960, 61_440, 81_920, 122_880, 163_840,
    245_760, 327_680, 491_520,
];

/// The RNR wait time in µs for a 5-bit timer code (the high bits are ignored).
pub fn rnr_timer_micros(timer: u8) -> u32 {
    RNR_TIMER_MICROS
        .get(usize::from(timer & VALUE_MASK))
        .copied()
        .unwrap_or(0)
}

/// The smallest timer code whose wait is at least `micros`; code 0
/// (655.36 ms, the longest) when `micros` exceeds every other code.
pub fn rnr_timer_for_micros(micros: u32) -> u8 {
    let mut best = 0u8;
    let mut best_us = u32::MAX;
    for (code, &us) in (0u8..).zip(RNR_TIMER_MICROS.iter()) {
        if us >= micros && us < best_us {
            best = code;
            best_us = us;
        }
    }
    best
}

/// ACK ETH (4 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AethRepr {
    pub syndrome: Syndrome,
    /// Message sequence number (24 bits).
    pub msn: u32,
}

impl AethRepr {
    /// The header length.
    pub const LEN: usize = HEADER_LEN;

    pub fn parse<T: AsRef<[u8]> + ?Sized>(packet: &AethPacket<&T>) -> Result<AethRepr> {
        packet.check_len()?;
        Ok(AethRepr {
            syndrome: Syndrome::from_byte(packet.syndrome()),
            msn: packet.msn(),
        })
    }

    pub const fn header_len(&self) -> usize {
        HEADER_LEN
    }

    /// Whether emit then parse gives back `self`.
    pub fn fits(&self) -> bool {
        self.syndrome.is_canonical() && self.msn <= MAX_24
    }

    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(&self, packet: &mut AethPacket<&mut T>) {
        packet.set_syndrome(self.syndrome.to_byte());
        packet.set_msn(self.msn);
    }
}

impl fmt::Display for AethRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AETH {} msn={}", self.syndrome, self.msn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syndrome_bytes_match_the_facts() {
        assert_eq!(Syndrome::ACK_UNLIMITED.to_byte(), 0x1F);
        assert_eq!(
            Syndrome::from_byte(0x60),
            Syndrome::Nak(NakCode::PsnSequenceError)
        );
        assert_eq!(
            Syndrome::from_byte(0x61),
            Syndrome::Nak(NakCode::InvalidRequest)
        );
        assert_eq!(
            Syndrome::from_byte(0x62),
            Syndrome::Nak(NakCode::RemoteAccessError)
        );
        assert_eq!(
            Syndrome::from_byte(0x63),
            Syndrome::Nak(NakCode::RemoteOperationalError)
        );
        assert_eq!(
            Syndrome::from_byte(0x64),
            Syndrome::Nak(NakCode::InvalidRdRequest)
        );
        assert_eq!(Syndrome::from_byte(0x2E), Syndrome::RnrNak { timer: 14 });
        assert_eq!(Syndrome::from_byte(0x40), Syndrome::Reserved(0x40));
        assert_eq!(Syndrome::from_byte(0xA0), Syndrome::Reserved(0xA0));
        for b in 0..=255u8 {
            assert_eq!(Syndrome::from_byte(b).to_byte(), b);
            assert!(Syndrome::from_byte(b).is_canonical());
        }
        assert!(!Syndrome::Reserved(0x00).is_canonical());
        assert!(!Syndrome::Ack { credits: 0x20 }.is_canonical());
    }

    #[test]
    fn rnr_timer_table() {
        assert_eq!(rnr_timer_micros(0), 655_360);
        assert_eq!(rnr_timer_micros(1), 10);
        assert_eq!(rnr_timer_micros(12), 640);
        assert_eq!(rnr_timer_micros(25), 61_440);
        assert_eq!(rnr_timer_micros(31), 491_520);
        assert_eq!(rnr_timer_micros(32 + 25), 61_440);
        assert!(RNR_TIMER_MICROS[1..].windows(2).all(|w| w[0] < w[1]));
        assert_eq!(rnr_timer_for_micros(0), 1);
        assert_eq!(rnr_timer_for_micros(61_000), 25);
        assert_eq!(rnr_timer_for_micros(61_440), 25);
        assert_eq!(rnr_timer_for_micros(500_000), 0);
        assert_eq!(rnr_timer_for_micros(700_000), 0);
    }

    #[test]
    fn layout() {
        let bytes = [0x1F, 0x00, 0x01, 0x02];
        let repr = AethRepr::parse(&AethPacket::new_checked(&bytes[..]).unwrap()).unwrap();
        assert_eq!(repr.syndrome, Syndrome::ACK_UNLIMITED);
        assert_eq!(repr.msn, 0x102);
        let mut out = [0u8; 4];
        repr.emit(&mut AethPacket::new_unchecked(&mut out[..]));
        assert_eq!(out, bytes);
    }
}
