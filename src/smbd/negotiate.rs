//! The SMB Direct Negotiate Request (§2.2.1, 20 bytes) and Negotiate Response
//! (§2.2.2, 32 bytes): views, reprs, and the receiver checks of §3.1.5.6
//! ([`check_request`]) and §3.1.5.7 ([`check_response`]).
//! Owns these two layouts; must not keep connection state (that is
//! `initiator`).

use core::fmt;

use super::le::{set_u16, set_u32, u16_at, u32_at};
use super::{
    check_len, Error, Result, MIN_FRAGMENTED_SIZE, MIN_RECEIVE_SIZE, NEGOTIATE_REQUEST_LEN,
    NEGOTIATE_RESPONSE_LEN, SMBD_VERSION,
};

crate::wire::view_skeleton!(
    /// A view of a Negotiate Request.
    NegotiateRequestPacket,
    super::Error
);

impl<T: AsRef<[u8]>> NegotiateRequestPacket<T> {
    /// `Err(Truncated)` unless the buffer holds the 20 bytes.
    pub fn check_len(&self) -> Result<()> {
        check_len(self.buffer.as_ref(), NEGOTIATE_REQUEST_LEN)
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn min_version(&self) -> u16 {
        u16_at(self.b(), 0)
    }
    pub fn max_version(&self) -> u16 {
        u16_at(self.b(), 2)
    }
    pub fn reserved(&self) -> u16 {
        u16_at(self.b(), 4)
    }
    pub fn credits_requested(&self) -> u16 {
        u16_at(self.b(), 6)
    }
    pub fn preferred_send_size(&self) -> u32 {
        u32_at(self.b(), 8)
    }
    pub fn max_receive_size(&self) -> u32 {
        u32_at(self.b(), 12)
    }
    pub fn max_fragmented_size(&self) -> u32 {
        u32_at(self.b(), 16)
    }
}

/// A Negotiate Request's fields (Reserved is emitted as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NegotiateRequestRepr {
    pub min_version: u16,
    pub max_version: u16,
    pub credits_requested: u16,
    pub preferred_send_size: u32,
    pub max_receive_size: u32,
    pub max_fragmented_size: u32,
}

impl NegotiateRequestRepr {
    /// The fields of a checked view (no semantic checks: see [`check_request`]).
    pub fn parse<T: AsRef<[u8]>>(p: &NegotiateRequestPacket<T>) -> Result<Self> {
        check_len(p.b(), NEGOTIATE_REQUEST_LEN)?;
        Ok(Self {
            min_version: p.min_version(),
            max_version: p.max_version(),
            credits_requested: p.credits_requested(),
            preferred_send_size: p.preferred_send_size(),
            max_receive_size: p.max_receive_size(),
            max_fragmented_size: p.max_fragmented_size(),
        })
    }

    /// Writes the 20 bytes at the start of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        check_out(out, NEGOTIATE_REQUEST_LEN)?;
        set_u16(out, 0, self.min_version);
        set_u16(out, 2, self.max_version);
        set_u16(out, 4, 0);
        set_u16(out, 6, self.credits_requested);
        set_u32(out, 8, self.preferred_send_size);
        set_u32(out, 12, self.max_receive_size);
        set_u32(out, 16, self.max_fragmented_size);
        Ok(())
    }
}

impl fmt::Display for NegotiateRequestRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SMBD NegotiateRequest versions {:#06x}..{:#06x} credits_requested {} preferred_send {} max_receive {} max_fragmented {}",
            self.min_version,
            self.max_version,
            self.credits_requested,
            self.preferred_send_size,
            self.max_receive_size,
            self.max_fragmented_size
        )
    }
}

crate::wire::view_skeleton!(
    /// A view of a Negotiate Response.
    NegotiateResponsePacket,
    super::Error
);

impl<T: AsRef<[u8]>> NegotiateResponsePacket<T> {
    /// `Err(Truncated)` unless the buffer holds the 32 bytes.
    pub fn check_len(&self) -> Result<()> {
        check_len(self.buffer.as_ref(), NEGOTIATE_RESPONSE_LEN)
    }
    fn b(&self) -> &[u8] {
        self.buffer.as_ref()
    }
    pub fn min_version(&self) -> u16 {
        u16_at(self.b(), 0)
    }
    pub fn max_version(&self) -> u16 {
        u16_at(self.b(), 2)
    }
    pub fn negotiated_version(&self) -> u16 {
        u16_at(self.b(), 4)
    }
    pub fn credits_requested(&self) -> u16 {
        u16_at(self.b(), 8)
    }
    pub fn credits_granted(&self) -> u16 {
        u16_at(self.b(), 10)
    }
    pub fn status(&self) -> u32 {
        u32_at(self.b(), 12)
    }
    pub fn max_read_write_size(&self) -> u32 {
        u32_at(self.b(), 16)
    }
    pub fn preferred_send_size(&self) -> u32 {
        u32_at(self.b(), 20)
    }
    pub fn max_receive_size(&self) -> u32 {
        u32_at(self.b(), 24)
    }
    pub fn max_fragmented_size(&self) -> u32 {
        u32_at(self.b(), 28)
    }
}

/// A Negotiate Response's fields (Reserved is emitted as 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct NegotiateResponseRepr {
    pub min_version: u16,
    pub max_version: u16,
    pub negotiated_version: u16,
    pub credits_requested: u16,
    pub credits_granted: u16,
    pub status: u32,
    pub max_read_write_size: u32,
    pub preferred_send_size: u32,
    pub max_receive_size: u32,
    pub max_fragmented_size: u32,
}

impl NegotiateResponseRepr {
    /// The fields of a checked view (no semantic checks: see [`check_response`]).
    pub fn parse<T: AsRef<[u8]>>(p: &NegotiateResponsePacket<T>) -> Result<Self> {
        check_len(p.b(), NEGOTIATE_RESPONSE_LEN)?;
        Ok(Self {
            min_version: p.min_version(),
            max_version: p.max_version(),
            negotiated_version: p.negotiated_version(),
            credits_requested: p.credits_requested(),
            credits_granted: p.credits_granted(),
            status: p.status(),
            max_read_write_size: p.max_read_write_size(),
            preferred_send_size: p.preferred_send_size(),
            max_receive_size: p.max_receive_size(),
            max_fragmented_size: p.max_fragmented_size(),
        })
    }

    /// A failure response (§3.1.5.3): versions 0x0100, `status`, every other
    /// field 0.
    pub fn failure(status: u32) -> Self {
        Self {
            min_version: SMBD_VERSION,
            max_version: SMBD_VERSION,
            negotiated_version: 0,
            credits_requested: 0,
            credits_granted: 0,
            status,
            max_read_write_size: 0,
            preferred_send_size: 0,
            max_receive_size: 0,
            max_fragmented_size: 0,
        }
    }

    /// Writes the 32 bytes at the start of `out`.
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        check_out(out, NEGOTIATE_RESPONSE_LEN)?;
        set_u16(out, 0, self.min_version);
        set_u16(out, 2, self.max_version);
        set_u16(out, 4, self.negotiated_version);
        set_u16(out, 6, 0);
        set_u16(out, 8, self.credits_requested);
        set_u16(out, 10, self.credits_granted);
        set_u32(out, 12, self.status);
        set_u32(out, 16, self.max_read_write_size);
        set_u32(out, 20, self.preferred_send_size);
        set_u32(out, 24, self.max_receive_size);
        set_u32(out, 28, self.max_fragmented_size);
        Ok(())
    }
}

impl fmt::Display for NegotiateResponseRepr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "SMBD NegotiateResponse version {:#06x} status {:#010x} credits_requested {} credits_granted {} max_read_write {} preferred_send {} max_receive {} max_fragmented {}",
            self.negotiated_version,
            self.status,
            self.credits_requested,
            self.credits_granted,
            self.max_read_write_size,
            self.preferred_send_size,
            self.max_receive_size,
            self.max_fragmented_size
        )
    }
}

pub(crate) fn check_out(out: &[u8], need: usize) -> Result<()> {
    if out.len() < need {
        Err(Error::BufferTooSmall {
            need,
            have: out.len(),
        })
    } else {
        Ok(())
    }
}

/// The listener's checks of a received Negotiate Request (§3.1.5.6), in the
/// spec's order. `Err(Error::Version{..})` means: answer with a failure
/// response of STATUS_NOT_SUPPORTED; any other error: terminate.
pub fn check_request(message: &[u8]) -> Result<NegotiateRequestRepr> {
    let r = NegotiateRequestRepr::parse(&NegotiateRequestPacket::new_checked(message)?)?;
    if !(r.min_version <= SMBD_VERSION && SMBD_VERSION <= r.max_version) {
        return Err(Error::Version {
            min: r.min_version,
            max: r.max_version,
            negotiated: 0,
        });
    }
    if r.credits_requested == 0 {
        return Err(Error::NoCreditsRequested);
    }
    if r.max_receive_size < MIN_RECEIVE_SIZE {
        return Err(Error::ReceiveSizeTooSmall(r.max_receive_size));
    }
    if r.max_fragmented_size < MIN_FRAGMENTED_SIZE {
        return Err(Error::FragmentedSizeTooSmall(r.max_fragmented_size));
    }
    Ok(r)
}

/// The initiator's checks of a received Negotiate Response (§3.1.5.7), given
/// our own MaxReceiveSize. Every error means: terminate the connection.
pub fn check_response(message: &[u8], own_max_receive: u32) -> Result<NegotiateResponseRepr> {
    let r = NegotiateResponseRepr::parse(&NegotiateResponsePacket::new_checked(message)?)?;
    // A failure response carries a status and zeros: report the status.
    if r.status != 0 {
        return Err(Error::Status(r.status));
    }
    if r.negotiated_version != SMBD_VERSION {
        return Err(Error::Version {
            min: r.min_version,
            max: r.max_version,
            negotiated: r.negotiated_version,
        });
    }
    if r.max_receive_size < MIN_RECEIVE_SIZE {
        return Err(Error::ReceiveSizeTooSmall(r.max_receive_size));
    }
    if r.max_fragmented_size < MIN_FRAGMENTED_SIZE {
        return Err(Error::FragmentedSizeTooSmall(r.max_fragmented_size));
    }
    if r.credits_granted == 0 {
        return Err(Error::NoCreditsGranted);
    }
    if r.credits_requested == 0 {
        return Err(Error::NoCreditsRequested);
    }
    if r.preferred_send_size > own_max_receive {
        return Err(Error::PreferredSendSizeTooLarge {
            preferred: r.preferred_send_size,
            max_receive: own_max_receive,
        });
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// MS-SMBD §4.1's example request, byte for byte.
    const SPEC_REQ: [u8; 20] = [
        0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0A, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x02, 0x00,
    ];

    fn good_response() -> NegotiateResponseRepr {
        NegotiateResponseRepr {
            min_version: 0x0100,
            max_version: 0x0100,
            negotiated_version: 0x0100,
            credits_requested: 10,
            credits_granted: 10,
            status: 0,
            max_read_write_size: 1 << 20,
            preferred_send_size: 1024,
            max_receive_size: 1024,
            max_fragmented_size: 128 * 1024,
        }
    }

    fn bytes(r: &NegotiateResponseRepr) -> [u8; 32] {
        let mut b = [0xAAu8; 32];
        r.emit(&mut b).unwrap();
        b
    }

    #[test]
    fn spec_example_request_parses_and_reemits() {
        let r = check_request(&SPEC_REQ).unwrap();
        assert_eq!(r.credits_requested, 10);
        assert_eq!(r.preferred_send_size, 1024);
        assert_eq!(r.max_receive_size, 1024);
        assert_eq!(r.max_fragmented_size, 0x20000);
        let mut out = [0xFFu8; 20];
        r.emit(&mut out).unwrap();
        assert_eq!(out, SPEC_REQ);
    }

    #[test]
    fn request_checks_in_spec_order() {
        assert_eq!(
            check_request(&SPEC_REQ[..19]),
            Err(Error::Truncated { need: 20, have: 19 })
        );
        let base = check_request(&SPEC_REQ).unwrap();
        let with = |f: &dyn Fn(&mut NegotiateRequestRepr)| {
            let mut r = base;
            f(&mut r);
            let mut b = [0u8; 20];
            r.emit(&mut b).unwrap();
            check_request(&b)
        };
        assert!(matches!(
            with(&|r| r.min_version = 0x0101),
            Err(Error::Version { .. })
        ));
        assert!(matches!(
            with(&|r| r.max_version = 0x00FF),
            Err(Error::Version { .. })
        ));
        assert!(
            with(&|r| r.max_version = 0x0200).is_ok(),
            "1.0 within a wider range"
        );
        assert_eq!(
            with(&|r| r.credits_requested = 0),
            Err(Error::NoCreditsRequested)
        );
        assert_eq!(
            with(&|r| r.max_receive_size = 127),
            Err(Error::ReceiveSizeTooSmall(127))
        );
        assert!(with(&|r| r.max_receive_size = 128).is_ok());
        assert_eq!(
            with(&|r| r.max_fragmented_size = 131_071),
            Err(Error::FragmentedSizeTooSmall(131_071))
        );
    }

    #[test]
    fn response_layout_and_checks() {
        let r = good_response();
        let b = bytes(&r);
        assert_eq!(
            &b[4..8],
            &[0x00, 0x01, 0, 0],
            "negotiated version, reserved 0"
        );
        assert_eq!(&b[10..12], &[10, 0]);
        assert_eq!(&b[16..20], &[0, 0, 0x10, 0]);
        assert_eq!(check_response(&b, 1024), Ok(r));
        assert_eq!(
            check_response(&b[..31], 1024),
            Err(Error::Truncated { need: 32, have: 31 })
        );
        let with = |f: &dyn Fn(&mut NegotiateResponseRepr), own: u32| {
            let mut x = good_response();
            f(&mut x);
            check_response(&bytes(&x), own)
        };
        assert_eq!(
            with(&|r| r.preferred_send_size = 1025, 1024),
            Err(Error::PreferredSendSizeTooLarge {
                preferred: 1025,
                max_receive: 1024
            })
        );
        assert_eq!(
            with(&|r| r.credits_granted = 0, 1024),
            Err(Error::NoCreditsGranted)
        );
        assert_eq!(
            with(&|r| r.credits_requested = 0, 1024),
            Err(Error::NoCreditsRequested)
        );
        assert!(matches!(
            with(&|r| r.negotiated_version = 0x0200, 1024),
            Err(Error::Version {
                negotiated: 0x0200,
                ..
            })
        ));
        assert_eq!(
            with(&|r| r.max_receive_size = 100, 1024),
            Err(Error::ReceiveSizeTooSmall(100))
        );
        assert_eq!(
            with(&|r| r.max_fragmented_size = 4096, 1024),
            Err(Error::FragmentedSizeTooSmall(4096))
        );
        let fail = bytes(&NegotiateResponseRepr::failure(
            super::super::STATUS_NOT_SUPPORTED,
        ));
        assert_eq!(check_response(&fail, 1024), Err(Error::Status(0xC000_00BB)));
        assert!(fail[4..12].iter().all(|&x| x == 0) && fail[16..].iter().all(|&x| x == 0));
    }

    #[test]
    fn emit_refuses_short_buffers() {
        let mut b = [0u8; 31];
        assert_eq!(
            good_response().emit(&mut b),
            Err(Error::BufferTooSmall { need: 32, have: 31 })
        );
    }
}
