//! The RoCEv2 extended transport headers, gathered: DETH, RETH, AETH,
//! AtomicETH, AtomicAckETH (each in its own file), and the two plain 32-bit
//! words ImmDt and IETH, which live here. Must not know which opcode carries
//! which header (that is `opcode.rs`).

pub use super::aeth::{
    rnr_timer_for_micros, rnr_timer_micros, AethPacket, AethRepr, NakCode, Syndrome,
};
pub use super::atomic::{AtomicAckEthPacket, AtomicAckEthRepr, AtomicEthPacket, AtomicEthRepr};
pub use super::deth::{DethPacket, DethRepr};
pub use super::reth::{RethPacket, RethRepr};

use super::bytes::{check_len, get_u32, set_u32};
use super::Result;

/// Length of the ImmDt header (opaque, carried verbatim).
pub const IMM_DT_LEN: usize = 4;
/// Length of the IETH header (the R_Key to invalidate).
pub const IETH_LEN: usize = 4;
/// Length of the reserved block after the BTH of a RoCEv2 CNP.
pub const CNP_RESERVED_LEN: usize = 16;

/// Reads a 32-bit big-endian header word (ImmDt or IETH) at the start of `buf`.
pub fn parse_word(buf: &[u8]) -> Result<u32> {
    check_len(buf, 4)?;
    Ok(get_u32(buf, 0..4))
}

/// Writes a 32-bit big-endian header word (ImmDt or IETH) at the start of `buf`.
pub fn emit_word(value: u32, buf: &mut [u8]) -> Result<()> {
    check_len(buf, 4)?;
    set_u32(buf, 0..4, value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_big_endian() {
        let mut b = [0u8; 5];
        emit_word(0x0102_0304, &mut b).unwrap();
        assert_eq!(b, [1, 2, 3, 4, 0]);
        assert_eq!(parse_word(&b[1..]), Ok(0x0203_0400));
        assert_eq!(parse_word(&b[2..]), Err(crate::wire::Error::Truncated));
        assert_eq!(
            emit_word(0, &mut b[3..]),
            Err(crate::wire::Error::Truncated)
        );
    }
}
