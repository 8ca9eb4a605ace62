//! The few SMB2 messages the SMB Direct probe needs ([MS-SMB2]): the 64-byte
//! sync header (§2.2.1.2), the NEGOTIATE request (§2.2.3, with the
//! SMB2_PREAUTH_INTEGRITY_CAPABILITIES context of §2.2.3.1.1 when 3.1.1 is
//! offered) and the NEGOTIATE response (§2.2.4). Builders write into a `Vec`;
//! parsers borrow and never panic on any bytes.
//! Owns these layouts only; must not know SMB Direct framing, sessions or
//! security tokens (the SecurityBuffer is returned as opaque bytes).

use alloc::vec::Vec;
use core::fmt;

use super::le::{set_u16, set_u32, set_u64, u16_at, u32_at, u64_at};

/// ProtocolId of an SMB2 message: 0xFE 'S' 'M' 'B'.
pub const PROTOCOL_ID: [u8; 4] = [0xFE, b'S', b'M', b'B'];
/// Length of the SMB2 header.
pub const HEADER_LEN: usize = 64;
/// Command code of NEGOTIATE.
pub const NEGOTIATE: u16 = 0x0000;
/// Header flag: the message is a response.
pub const FLAGS_SERVER_TO_REDIR: u32 = 0x0000_0001;
/// SecurityMode bit: signing enabled.
pub const SIGNING_ENABLED: u16 = 0x0001;
/// SecurityMode bit: signing required.
pub const SIGNING_REQUIRED: u16 = 0x0002;
/// The dialects: 2.0.2, 2.1, 3.0, 3.0.2, 3.1.1.
pub const DIALECT_202: u16 = 0x0202;
pub const DIALECT_210: u16 = 0x0210;
pub const DIALECT_300: u16 = 0x0300;
pub const DIALECT_302: u16 = 0x0302;
pub const DIALECT_311: u16 = 0x0311;
/// SMB2_PREAUTH_INTEGRITY_CAPABILITIES context type, and its SHA-512 hash id.
pub const PREAUTH_INTEGRITY_CAPABILITIES: u16 = 0x0001;
pub const HASH_SHA512: u16 = 0x0001;
/// Offset of the NEGOTIATE request's Dialects array from the header start.
const REQ_DIALECTS: usize = HEADER_LEN + 36;
/// Offset of the NEGOTIATE response's Buffer from the header start.
const RSP_BUFFER: usize = HEADER_LEN + 64;

/// Global capability bits (§2.2.4), for display.
pub const CAPABILITIES: [(u32, &str); 7] = [
    (0x01, "DFS"),
    (0x02, "LEASING"),
    (0x04, "LARGE_MTU"),
    (0x08, "MULTI_CHANNEL"),
    (0x10, "PERSISTENT_HANDLES"),
    (0x20, "DIRECTORY_LEASING"),
    (0x40, "ENCRYPTION"),
];

/// Why an SMB2 message was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Error {
    /// Shorter than its fixed part.
    Truncated { need: usize, have: usize },
    /// No 0xFE 'S' 'M' 'B' ProtocolId or a header StructureSize other than 64.
    NotSmb2,
    /// Not the command (or direction) expected: command, flags.
    Unexpected { command: u16, flags: u32 },
    /// The response's Status is not STATUS_SUCCESS.
    Status(u32),
    /// A body StructureSize other than the command's.
    StructureSize(u16),
    /// The SecurityBuffer or negotiate contexts lie outside the message.
    BufferOutside,
    /// A dialect list that is empty or a DialectRevision we did not offer.
    Dialect(u16),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { need, have } => {
                write!(f, "SMB2 message of {have} bytes, need {need}")
            }
            Error::NotSmb2 => f.write_str("not an SMB2 message"),
            Error::Unexpected { command, flags } => {
                write!(
                    f,
                    "unexpected SMB2 command {command:#06x} flags {flags:#010x}"
                )
            }
            Error::Status(s) => write!(f, "SMB2 status {s:#010x}"),
            Error::StructureSize(s) => write!(f, "SMB2 StructureSize {s}"),
            Error::BufferOutside => f.write_str("SMB2 buffer offset/length outside the message"),
            Error::Dialect(d) => write!(f, "SMB2 dialect {d:#06x} not offered"),
        }
    }
}

/// The fields of an SMB2 sync header the probe looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    pub credit_charge: u16,
    /// Status (responses); ChannelSequence/Reserved in requests.
    pub status: u32,
    pub command: u16,
    /// CreditRequest (requests) / CreditResponse (responses).
    pub credits: u16,
    pub flags: u32,
    pub message_id: u64,
}

impl Header {
    /// Parses and checks ProtocolId and StructureSize.
    pub fn parse(m: &[u8]) -> Result<Header, Error> {
        if m.len() < HEADER_LEN {
            return Err(Error::Truncated {
                need: HEADER_LEN,
                have: m.len(),
            });
        }
        if m.get(..4) != Some(&PROTOCOL_ID[..]) || u16_at(m, 4) != 64 {
            return Err(Error::NotSmb2);
        }
        Ok(Header {
            credit_charge: u16_at(m, 6),
            status: u32_at(m, 8),
            command: u16_at(m, 12),
            credits: u16_at(m, 14),
            flags: u32_at(m, 16),
            message_id: u64_at(m, 24),
        })
    }

    /// Appends the 64-byte header (NextCommand, ids and signature 0).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.resize(at + HEADER_LEN, 0);
        let h = &mut out[at..];
        h[..4].copy_from_slice(&PROTOCOL_ID);
        set_u16(h, 4, 64);
        set_u16(h, 6, self.credit_charge);
        set_u32(h, 8, self.status);
        set_u16(h, 12, self.command);
        set_u16(h, 14, self.credits);
        set_u32(h, 16, self.flags);
        set_u64(h, 24, self.message_id);
    }
}

fn pad8(out: &mut Vec<u8>) {
    while !out.len().is_multiple_of(8) {
        out.push(0);
    }
}

/// An SMB2 NEGOTIATE request (§2.2.3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NegotiateRequest {
    pub message_id: u64,
    pub security_mode: u16,
    pub capabilities: u32,
    pub client_guid: [u8; 16],
    pub dialects: Vec<u16>,
    /// The 32-byte preauth salt (used only when 3.1.1 is offered).
    pub salt: [u8; 32],
}

impl NegotiateRequest {
    /// Appends header and request. With 0x0311 among the dialects, the
    /// request carries one negotiate context: preauth integrity, SHA-512,
    /// the salt (the context every 3.1.1 NEGOTIATE must have).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        Header {
            credit_charge: 0,
            status: 0,
            command: NEGOTIATE,
            credits: 1,
            flags: 0,
            message_id: self.message_id,
        }
        .emit(out);
        let body = out.len();
        out.resize(body + 36, 0);
        let b = &mut out[body..];
        set_u16(b, 0, 36);
        set_u16(b, 2, self.dialects.len() as u16);
        set_u16(b, 4, self.security_mode);
        set_u32(b, 8, self.capabilities);
        b[12..28].copy_from_slice(&self.client_guid);
        for d in &self.dialects {
            out.extend_from_slice(&d.to_le_bytes());
        }
        if self.dialects.contains(&DIALECT_311) {
            // Contexts start 8-byte aligned from the header's start.
            while !(out.len() - start).is_multiple_of(8) {
                out.push(0);
            }
            let ctx = out.len() - start;
            set_u32(&mut out[body..], 28, ctx as u32);
            set_u16(&mut out[body..], 32, 1);
            out.extend_from_slice(&PREAUTH_INTEGRITY_CAPABILITIES.to_le_bytes());
            // DataLength: count, salt length, one hash id, the salt.
            out.extend_from_slice(&(2u16 + 2 + 2 + 32).to_le_bytes());
            out.extend_from_slice(&[0; 4]);
            out.extend_from_slice(&1u16.to_le_bytes());
            out.extend_from_slice(&32u16.to_le_bytes());
            out.extend_from_slice(&HASH_SHA512.to_le_bytes());
            out.extend_from_slice(&self.salt);
        }
    }

    /// Parses a NEGOTIATE request (for a test responder): header message id
    /// and dialects. Contexts are not interpreted.
    pub fn parse(m: &[u8]) -> Result<(Header, Vec<u16>), Error> {
        let h = Header::parse(m)?;
        if h.command != NEGOTIATE || h.flags & FLAGS_SERVER_TO_REDIR != 0 {
            return Err(Error::Unexpected {
                command: h.command,
                flags: h.flags,
            });
        }
        let s = u16_at(m, HEADER_LEN);
        if s != 36 {
            return Err(Error::StructureSize(s));
        }
        let n = usize::from(u16_at(m, HEADER_LEN + 2));
        let end = REQ_DIALECTS + 2 * n;
        if n == 0 {
            return Err(Error::Dialect(0));
        }
        let list = m.get(REQ_DIALECTS..end).ok_or(Error::Truncated {
            need: end,
            have: m.len(),
        })?;
        Ok((h, list.chunks_exact(2).map(|c| u16_at(c, 0)).collect()))
    }
}

/// An SMB2 NEGOTIATE response (§2.2.4), borrowing the security buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegotiateResponse<'a> {
    pub header: Header,
    pub security_mode: u16,
    pub dialect: u16,
    pub server_guid: [u8; 16],
    pub capabilities: u32,
    pub max_transact_size: u32,
    pub max_read_size: u32,
    pub max_write_size: u32,
    pub system_time: u64,
    pub security_buffer: &'a [u8],
    /// NegotiateContextCount (3.1.1 only; 0 otherwise).
    pub negotiate_contexts: u16,
}

impl<'a> NegotiateResponse<'a> {
    /// Parses and checks a NEGOTIATE response: a response to NEGOTIATE,
    /// Status 0, StructureSize 65, SecurityBuffer and (3.1.1) the context
    /// list inside the message.
    pub fn parse(m: &'a [u8]) -> Result<Self, Error> {
        let header = Header::parse(m)?;
        if header.command != NEGOTIATE || header.flags & FLAGS_SERVER_TO_REDIR == 0 {
            return Err(Error::Unexpected {
                command: header.command,
                flags: header.flags,
            });
        }
        if header.status != 0 {
            return Err(Error::Status(header.status));
        }
        if m.len() < RSP_BUFFER {
            return Err(Error::Truncated {
                need: RSP_BUFFER,
                have: m.len(),
            });
        }
        let b = m.get(HEADER_LEN..).ok_or(Error::NotSmb2)?;
        if u16_at(b, 0) != 65 {
            return Err(Error::StructureSize(u16_at(b, 0)));
        }
        let dialect = u16_at(b, 4);
        let sec_off = usize::from(u16_at(b, 56));
        let sec_len = usize::from(u16_at(b, 58));
        let security_buffer = if sec_len == 0 {
            &[][..]
        } else {
            m.get(sec_off..sec_off + sec_len)
                .ok_or(Error::BufferOutside)?
        };
        let negotiate_contexts = if dialect == DIALECT_311 {
            u16_at(b, 6)
        } else {
            0
        };
        if negotiate_contexts != 0 {
            let off = u32_at(b, 60) as usize;
            if !off.is_multiple_of(8) || off < RSP_BUFFER || off >= m.len() {
                return Err(Error::BufferOutside);
            }
        }
        let server_guid = b
            .get(8..24)
            .and_then(|g| <[u8; 16]>::try_from(g).ok())
            .unwrap_or([0; 16]);
        Ok(NegotiateResponse {
            header,
            security_mode: u16_at(b, 2),
            dialect,
            server_guid,
            capabilities: u32_at(b, 24),
            max_transact_size: u32_at(b, 28),
            max_read_size: u32_at(b, 32),
            max_write_size: u32_at(b, 36),
            system_time: u64_at(b, 40),
            security_buffer,
            negotiate_contexts,
        })
    }

    /// Appends this response (for a test responder; 2.x/3.0.x layout, no
    /// negotiate contexts).
    pub fn emit(&self, out: &mut Vec<u8>) {
        let start = out.len();
        self.header.emit(out);
        let body = out.len();
        out.resize(body + 64, 0);
        let sec_off = (out.len() - start) as u16;
        let b = &mut out[body..];
        set_u16(b, 0, 65);
        set_u16(b, 2, self.security_mode);
        set_u16(b, 4, self.dialect);
        b[8..24].copy_from_slice(&self.server_guid);
        set_u32(b, 24, self.capabilities);
        set_u32(b, 28, self.max_transact_size);
        set_u32(b, 32, self.max_read_size);
        set_u32(b, 36, self.max_write_size);
        set_u64(b, 40, self.system_time);
        set_u16(b, 56, sec_off);
        set_u16(b, 58, self.security_buffer.len() as u16);
        out.extend_from_slice(self.security_buffer);
        pad8(out);
    }
}

/// The names of the set capability bits, `|`-joined (unknown bits in hex).
#[derive(Debug, Clone, Copy)]
pub struct CapabilityNames(pub u32);

impl fmt::Display for CapabilityNames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        let mut first = true;
        for (bit, name) in CAPABILITIES {
            if rest & bit != 0 {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
                rest &= !bit;
            }
        }
        if rest != 0 || first {
            if !first {
                f.write_str("|")?;
            }
            write!(f, "{rest:#x}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn request(dialects: &[u16]) -> Vec<u8> {
        let mut out = Vec::new();
        NegotiateRequest {
            message_id: 0,
            security_mode: SIGNING_ENABLED,
            capabilities: 0x7,
            client_guid: [0x11; 16],
            dialects: dialects.to_vec(),
            salt: [0x22; 32],
        }
        .emit(&mut out);
        out
    }

    #[test]
    fn negotiate_request_layout() {
        let m = request(&[0x0202, 0x0210, 0x0300, 0x0302]);
        assert_eq!(m.len(), 64 + 36 + 8);
        assert_eq!(&m[..8], &[0xFE, b'S', b'M', b'B', 64, 0, 0, 0]);
        assert_eq!(&m[12..14], &[0, 0], "command NEGOTIATE");
        assert_eq!(
            &m[64..70],
            &[36, 0, 4, 0, 1, 0],
            "size, count, signing enabled"
        );
        assert_eq!(
            &m[100..108],
            &[0x02, 0x02, 0x10, 0x02, 0x00, 0x03, 0x02, 0x03]
        );
        let (h, d) = NegotiateRequest::parse(&m).unwrap();
        assert_eq!(
            (h.command, d),
            (NEGOTIATE, vec![0x0202, 0x0210, 0x0300, 0x0302])
        );
    }

    #[test]
    fn smb311_request_has_an_aligned_preauth_context() {
        let m = request(&[0x0300, 0x0302, 0x0311]);
        // 64 + 36 + 6 = 106 -> context at 112.
        assert_eq!(u32_at(&m, 64 + 28), 112);
        assert_eq!(u16_at(&m, 64 + 32), 1);
        assert_eq!(&m[112..120], &[1, 0, 38, 0, 0, 0, 0, 0]);
        assert_eq!(&m[120..126], &[1, 0, 32, 0, 1, 0]);
        assert_eq!(m.len(), 126 + 32);
    }

    fn response(dialect: u16, sec: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        NegotiateResponse {
            header: Header {
                credit_charge: 0,
                status: 0,
                command: NEGOTIATE,
                credits: 1,
                flags: FLAGS_SERVER_TO_REDIR,
                message_id: 0,
            },
            security_mode: SIGNING_ENABLED,
            dialect,
            server_guid: [9; 16],
            capabilities: 0x2F,
            max_transact_size: 8 << 20,
            max_read_size: 8 << 20,
            max_write_size: 4 << 20,
            system_time: 1,
            security_buffer: sec,
            negotiate_contexts: 0,
        }
        .emit(&mut out);
        out
    }

    #[test]
    fn negotiate_response_roundtrip_and_checks() {
        let m = response(0x0302, b"spnego-token");
        let r = NegotiateResponse::parse(&m).unwrap();
        assert_eq!(r.dialect, 0x0302);
        assert_eq!((r.max_read_size, r.max_write_size), (8 << 20, 4 << 20));
        assert_eq!(r.security_buffer, b"spnego-token");
        assert_eq!(u16_at(&m, 64 + 56), 128, "buffer right after the body");
        let mut bad = m.clone();
        bad[8] = 0x22; // Status
        assert!(matches!(
            NegotiateResponse::parse(&bad),
            Err(Error::Status(0x22))
        ));
        let mut bad = m.clone();
        bad[64 + 58] = 0xFF; // SecurityBufferLength past the end
        assert_eq!(NegotiateResponse::parse(&bad), Err(Error::BufferOutside));
        let mut bad = m.clone();
        bad[16] = 0; // not a response
        assert!(matches!(
            NegotiateResponse::parse(&bad),
            Err(Error::Unexpected { .. })
        ));
        let mut bad = m.clone();
        bad[0] = 0xFF;
        assert_eq!(NegotiateResponse::parse(&bad), Err(Error::NotSmb2));
        assert!(matches!(
            NegotiateResponse::parse(&m[..127]),
            Err(Error::Truncated { .. })
        ));
    }

    #[test]
    fn capability_names() {
        assert_eq!(
            CapabilityNames(0x2F).to_string(),
            "DFS|LEASING|LARGE_MTU|MULTI_CHANNEL|DIRECTORY_LEASING"
        );
        assert_eq!(CapabilityNames(0).to_string(), "0x0");
        assert_eq!(CapabilityNames(0x104).to_string(), "LARGE_MTU|0x100");
    }
}
