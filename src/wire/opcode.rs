//! The RoCEv2 BTH opcode table: every RC and UD opcode (and UC, CNP for
//! decoding), its name, and which extended headers follow the BTH.
//! Owns the opcode facts only; must not parse or emit bytes.

use core::fmt;

bitflags::bitflags! {
    /// The extended transport headers an opcode carries after the BTH. Wire order
    /// is the order of the flags below (DETH, RETH, AtomicETH, AETH, AtomicAckETH,
    /// ImmDt, IETH, CNP reserved), which `packet.rs` follows; no opcode carries
    /// both AtomicETH and AETH, and ATOMIC_ACKNOWLEDGE is AETH then AtomicAckETH.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
    pub struct Headers: u16 {
        const DETH = 1 << 0;
        const RETH = 1 << 1;
        const ATOMIC_ETH = 1 << 2;
        const AETH = 1 << 3;
        const ATOMIC_ACK_ETH = 1 << 4;
        const IMM_DT = 1 << 5;
        const IETH = 1 << 6;
        /// The 16 reserved bytes of a RoCEv2 CNP.
        const CNP_RESERVED = 1 << 7;
        /// The opcode may carry a payload.
        const PAYLOAD = 1 << 8;
    }
}

/// The transport service encoded in the top three bits of the opcode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Service {
    Rc,
    Uc,
    Rd,
    Ud,
    Cnp,
    Xrc,
    Other,
}

/// The position of a packet inside its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Position {
    First,
    Middle,
    Last,
    Only,
}

/// A BTH opcode. Any byte is representable; [`Opcode::is_known`] tells whether
/// softroce understands it.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Opcode(pub u8);

macro_rules! opcodes {
    ($( $name:ident = $val:expr, $text:expr, $hdrs:expr; )*) => {
        impl Opcode {
            $( pub const $name: Opcode = Opcode($val); )*

            /// The IBA name of the opcode, or `None` if unknown.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $( $val => Some($text), )*
                    _ => None,
                }
            }

            /// The extended headers following the BTH, or `None` if unknown.
            pub const fn headers(self) -> Option<Headers> {
                match self.0 {
                    $( $val => Some($hdrs), )*
                    _ => None,
                }
            }
        }
    };
}

const P: Headers = Headers::PAYLOAD;
const fn h(a: Headers, b: Headers) -> Headers {
    Headers::from_bits_truncate(a.bits() | b.bits())
}
const fn h3(a: Headers, b: Headers, c: Headers) -> Headers {
    h(h(a, b), c)
}
use Headers as H;

opcodes! {
    RC_SEND_FIRST = 0x00, "RC_SEND_FIRST", P;
    RC_SEND_MIDDLE = 0x01, "RC_SEND_MIDDLE", P;
    RC_SEND_LAST = 0x02, "RC_SEND_LAST", P;
    RC_SEND_LAST_WITH_IMMEDIATE = 0x03, "RC_SEND_LAST_WITH_IMMEDIATE", h(H::IMM_DT, P);
    RC_SEND_ONLY = 0x04, "RC_SEND_ONLY", P;
    RC_SEND_ONLY_WITH_IMMEDIATE = 0x05, "RC_SEND_ONLY_WITH_IMMEDIATE", h(H::IMM_DT, P);
    RC_RDMA_WRITE_FIRST = 0x06, "RC_RDMA_WRITE_FIRST", h(H::RETH, P);
    RC_RDMA_WRITE_MIDDLE = 0x07, "RC_RDMA_WRITE_MIDDLE", P;
    RC_RDMA_WRITE_LAST = 0x08, "RC_RDMA_WRITE_LAST", P;
    RC_RDMA_WRITE_LAST_WITH_IMMEDIATE = 0x09, "RC_RDMA_WRITE_LAST_WITH_IMMEDIATE", h(H::IMM_DT, P);
    RC_RDMA_WRITE_ONLY = 0x0A, "RC_RDMA_WRITE_ONLY", h(H::RETH, P);
    RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE = 0x0B, "RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE", h3(H::RETH, H::IMM_DT, P);
    RC_RDMA_READ_REQUEST = 0x0C, "RC_RDMA_READ_REQUEST", H::RETH;
    RC_RDMA_READ_RESPONSE_FIRST = 0x0D, "RC_RDMA_READ_RESPONSE_FIRST", h(H::AETH, P);
    RC_RDMA_READ_RESPONSE_MIDDLE = 0x0E, "RC_RDMA_READ_RESPONSE_MIDDLE", P;
    RC_RDMA_READ_RESPONSE_LAST = 0x0F, "RC_RDMA_READ_RESPONSE_LAST", h(H::AETH, P);
    RC_RDMA_READ_RESPONSE_ONLY = 0x10, "RC_RDMA_READ_RESPONSE_ONLY", h(H::AETH, P);
    RC_ACKNOWLEDGE = 0x11, "RC_ACKNOWLEDGE", H::AETH;
    RC_ATOMIC_ACKNOWLEDGE = 0x12, "RC_ATOMIC_ACKNOWLEDGE", h(H::AETH, H::ATOMIC_ACK_ETH);
    RC_COMPARE_SWAP = 0x13, "RC_COMPARE_SWAP", H::ATOMIC_ETH;
    RC_FETCH_ADD = 0x14, "RC_FETCH_ADD", H::ATOMIC_ETH;
    RC_SEND_LAST_WITH_INVALIDATE = 0x16, "RC_SEND_LAST_WITH_INVALIDATE", h(H::IETH, P);
    RC_SEND_ONLY_WITH_INVALIDATE = 0x17, "RC_SEND_ONLY_WITH_INVALIDATE", h(H::IETH, P);
    UC_SEND_FIRST = 0x20, "UC_SEND_FIRST", P;
    UC_SEND_MIDDLE = 0x21, "UC_SEND_MIDDLE", P;
    UC_SEND_LAST = 0x22, "UC_SEND_LAST", P;
    UC_SEND_LAST_WITH_IMMEDIATE = 0x23, "UC_SEND_LAST_WITH_IMMEDIATE", h(H::IMM_DT, P);
    UC_SEND_ONLY = 0x24, "UC_SEND_ONLY", P;
    UC_SEND_ONLY_WITH_IMMEDIATE = 0x25, "UC_SEND_ONLY_WITH_IMMEDIATE", h(H::IMM_DT, P);
    UC_RDMA_WRITE_FIRST = 0x26, "UC_RDMA_WRITE_FIRST", h(H::RETH, P);
    UC_RDMA_WRITE_MIDDLE = 0x27, "UC_RDMA_WRITE_MIDDLE", P;
    UC_RDMA_WRITE_LAST = 0x28, "UC_RDMA_WRITE_LAST", P;
    UC_RDMA_WRITE_LAST_WITH_IMMEDIATE = 0x29, "UC_RDMA_WRITE_LAST_WITH_IMMEDIATE", h(H::IMM_DT, P);
    UC_RDMA_WRITE_ONLY = 0x2A, "UC_RDMA_WRITE_ONLY", h(H::RETH, P);
    UC_RDMA_WRITE_ONLY_WITH_IMMEDIATE = 0x2B, "UC_RDMA_WRITE_ONLY_WITH_IMMEDIATE", h3(H::RETH, H::IMM_DT, P);
    UD_SEND_ONLY = 0x64, "UD_SEND_ONLY", h(H::DETH, P);
    UD_SEND_ONLY_WITH_IMMEDIATE = 0x65, "UD_SEND_ONLY_WITH_IMMEDIATE", h3(H::DETH, H::IMM_DT, P);
    CNP = 0x81, "CNP", H::CNP_RESERVED;
}

impl Opcode {
    /// The transport service (top three bits).
    pub const fn service(self) -> Service {
        match self.0 >> 5 {
            0 => Service::Rc,
            1 => Service::Uc,
            2 => Service::Rd,
            3 => Service::Ud,
            4 => Service::Cnp,
            5 => Service::Xrc,
            _ => Service::Other,
        }
    }

    /// Whether softroce knows this opcode's layout.
    pub const fn is_known(self) -> bool {
        self.headers().is_some()
    }

    /// Total length of the extended headers after the BTH (0 for unknown opcodes).
    pub const fn ext_headers_len(self) -> usize {
        match self.headers() {
            Some(h) => headers_len(h),
            None => 0,
        }
    }

    /// Whether the opcode may carry payload bytes.
    pub const fn has_payload(self) -> bool {
        match self.headers() {
            Some(h) => h.contains(Headers::PAYLOAD),
            None => false,
        }
    }

    /// The operation (low five bits) of a known RC, UC or UD opcode; `None`
    /// for unknown opcodes and the CNP, whose low bits are not an operation.
    const fn operation(self) -> Option<u8> {
        match (self.is_known(), self.service()) {
            (true, Service::Rc | Service::Uc | Service::Ud) => Some(self.0 & 0x1f),
            _ => None,
        }
    }

    /// The packet's position inside its message, for SEND, WRITE and READ
    /// responses; `None` for opcodes that are not part of a multi-packet
    /// message (and for unknown opcodes and the CNP).
    pub const fn position(self) -> Option<Position> {
        let Some(op) = self.operation() else {
            return None;
        };
        match op {
            0x00 | 0x06 | 0x0D => Some(Position::First),
            0x01 | 0x07 | 0x0E => Some(Position::Middle),
            0x02 | 0x03 | 0x08 | 0x09 | 0x0F | 0x16 => Some(Position::Last),
            0x04 | 0x05 | 0x0A | 0x0B | 0x10 | 0x17 => Some(Position::Only),
            _ => None,
        }
    }

    /// True for the SEND family (consumes a receive at the responder).
    pub const fn is_send(self) -> bool {
        matches!(self.operation(), Some(0x00..=0x05 | 0x16 | 0x17))
    }

    /// True for the RDMA WRITE family.
    pub const fn is_write(self) -> bool {
        matches!(self.operation(), Some(0x06..=0x0B))
    }

    /// True for RDMA READ responses.
    pub const fn is_read_response(self) -> bool {
        matches!(self.operation(), Some(0x0D..=0x10))
    }

    /// True for COMPARE_SWAP and FETCH_ADD.
    pub const fn is_atomic(self) -> bool {
        matches!(self.operation(), Some(0x13 | 0x14))
    }
}

/// Byte length of a set of extended headers.
pub const fn headers_len(h: Headers) -> usize {
    let mut n = 0;
    if h.contains(Headers::DETH) {
        n += 8;
    }
    if h.contains(Headers::RETH) {
        n += 16;
    }
    if h.contains(Headers::ATOMIC_ETH) {
        n += 28;
    }
    if h.contains(Headers::AETH) {
        n += 4;
    }
    if h.contains(Headers::ATOMIC_ACK_ETH) {
        n += 8;
    }
    if h.contains(Headers::IMM_DT) {
        n += 4;
    }
    if h.contains(Headers::IETH) {
        n += 4;
    }
    if h.contains(Headers::CNP_RESERVED) {
        n += 16;
    }
    n
}

impl fmt::Debug for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for Opcode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.pad(n),
            None => write!(f, "UNKNOWN_0x{:02x}", self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_lengths_match_the_facts() {
        assert_eq!(
            Opcode::RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE.ext_headers_len(),
            20
        );
        assert_eq!(Opcode::RC_ATOMIC_ACKNOWLEDGE.ext_headers_len(), 12);
        assert_eq!(Opcode::UD_SEND_ONLY.ext_headers_len(), 8);
        assert_eq!(Opcode::UD_SEND_ONLY_WITH_IMMEDIATE.ext_headers_len(), 12);
        assert_eq!(Opcode::RC_RDMA_READ_RESPONSE_MIDDLE.ext_headers_len(), 0);
        assert_eq!(Opcode::RC_RDMA_READ_RESPONSE_FIRST.ext_headers_len(), 4);
        assert_eq!(Opcode::RC_COMPARE_SWAP.ext_headers_len(), 28);
        assert_eq!(Opcode::CNP.ext_headers_len(), 16);
        assert!(!Opcode(0x15).is_known());
        assert_eq!(Opcode(0x15).to_string(), "UNKNOWN_0x15");
    }

    #[test]
    fn classification_ignores_cnp_and_unknown_opcodes() {
        // 0x81 & 0x1f == 0x01 (SEND_MIDDLE) and 0x2D & 0x1f == 0x0D: neither is one.
        assert_eq!(Opcode::CNP.position(), None);
        assert!(!Opcode::CNP.is_send());
        assert_eq!(Opcode(0x2D).position(), None);
        assert!(!Opcode(0x2D).is_read_response());
        assert!(!Opcode(0x33).is_atomic());
        assert_eq!(Opcode::UD_SEND_ONLY.position(), Some(Position::Only));
        assert!(Opcode::UD_SEND_ONLY_WITH_IMMEDIATE.is_send());
        assert!(Opcode::UC_RDMA_WRITE_MIDDLE.is_write());
        assert_eq!(
            Opcode::RC_RDMA_READ_RESPONSE_LAST.position(),
            Some(Position::Last)
        );
        assert!(Opcode::RC_FETCH_ADD.is_atomic());
        assert_eq!(Opcode::RC_ACKNOWLEDGE.position(), None);
        assert_eq!(Opcode::CNP.service(), Service::Cnp);
    }

    #[test]
    fn table_matches_the_facts() {
        // Every known opcode is transport base + an IBA operation valid for it.
        let mut known = 0;
        for b in 0..=255u8 {
            let op = Opcode(b);
            if !op.is_known() {
                continue;
            }
            known += 1;
            let low = b & 0x1f;
            match op.service() {
                Service::Rc => assert!(low <= 0x14 || low == 0x16 || low == 0x17, "{op}"),
                Service::Uc => assert!(low <= 0x0B, "{op}"),
                Service::Ud => assert!(low == 0x04 || low == 0x05, "{op}"),
                Service::Cnp => assert_eq!(b, 0x81),
                other => panic!("{op} has service {other:?}"),
            }
            let name = op.name().unwrap();
            let prefix = match op.service() {
                Service::Rc => "RC_",
                Service::Uc => "UC_",
                Service::Ud => "UD_",
                _ => "CNP",
            };
            assert!(name.starts_with(prefix), "{name}");
        }
        assert_eq!(known, 23 + 12 + 2 + 1);
    }
}
