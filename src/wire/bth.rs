//! The Base Transport Header (12 bytes): `BthPacket<T>` view and [`BthRepr`].
//! Owns the BTH layout; must not interpret extended headers.

use super::opcode::Opcode;

/// A parsed BTH. Reserved bits are kept so that parse-then-emit is byte exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BthRepr {
    pub opcode: Opcode,
    /// SE: solicited event.
    pub solicited: bool,
    /// M: migration request (rxe sends 0).
    pub mig_req: bool,
    /// Number of pad bytes after the payload (0..=3).
    pub pad_count: u8,
    /// Transport header version; must be 0.
    pub tver: u8,
    pub pkey: u16,
    pub fecn: bool,
    pub becn: bool,
    /// The six reserved bits of byte 4 (masked by the ICRC).
    pub resv6: u8,
    /// Destination QP number (24 bits).
    pub dest_qp: u32,
    /// A: acknowledge request.
    pub ack_req: bool,
    /// The seven reserved bits of byte 8.
    pub resv7: u8,
    /// Packet sequence number (24 bits).
    pub psn: u32,
}
