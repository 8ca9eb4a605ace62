//! Windows socket addresses as NDK passes them (ws2def.h / ws2ipdef.h):
//! SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, SOCKADDR_INET and the Windows address
//! family numbers. Owns layouts only; must not parse or validate addresses.

use core::fmt;
use core::mem::{offset_of, size_of};

use static_assertions::const_assert_eq;

use super::types::{ULONG, USHORT};

pub type ADDRESS_FAMILY = USHORT;

/// IPv4. Windows and Linux agree.
pub const AF_INET: ADDRESS_FAMILY = 2;
/// IPv6 **on Windows** (23). Linux uses 10; the NDK ABI, hosted or not,
/// always carries the Windows value.
pub const AF_INET6: ADDRESS_FAMILY = 23;

/// The generic socket address header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct SOCKADDR {
    pub sa_family: ADDRESS_FAMILY,
    pub sa_data: [u8; 14],
}
const_assert_eq!(size_of::<SOCKADDR>(), 16);
const_assert_eq!(offset_of!(SOCKADDR, sa_data), 2);

/// An IPv4 address in network byte order (the C type is a union whose
/// `S_addr` member is a `ULONG`, hence the 4-byte alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct IN_ADDR {
    pub S_addr: ULONG,
}

impl IN_ADDR {
    pub const fn from_octets(octets: [u8; 4]) -> Self {
        Self {
            S_addr: u32::from_ne_bytes(octets),
        }
    }
    pub const fn octets(self) -> [u8; 4] {
        self.S_addr.to_ne_bytes()
    }
}
const_assert_eq!(size_of::<IN_ADDR>(), 4);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct SOCKADDR_IN {
    pub sin_family: ADDRESS_FAMILY,
    /// Network byte order.
    pub sin_port: USHORT,
    pub sin_addr: IN_ADDR,
    pub sin_zero: [u8; 8],
}
const_assert_eq!(size_of::<SOCKADDR_IN>(), 16);
const_assert_eq!(offset_of!(SOCKADDR_IN, sin_family), 0);
const_assert_eq!(offset_of!(SOCKADDR_IN, sin_port), 2);
const_assert_eq!(offset_of!(SOCKADDR_IN, sin_addr), 4);
const_assert_eq!(offset_of!(SOCKADDR_IN, sin_zero), 8);

/// An IPv6 address (the C union also has a `USHORT Word[8]` view, hence
/// the 2-byte alignment).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C, align(2))]
pub struct IN6_ADDR {
    pub Byte: [u8; 16],
}
const_assert_eq!(size_of::<IN6_ADDR>(), 16);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct SOCKADDR_IN6 {
    pub sin6_family: ADDRESS_FAMILY,
    /// Network byte order.
    pub sin6_port: USHORT,
    pub sin6_flowinfo: ULONG,
    pub sin6_addr: IN6_ADDR,
    /// The C field is a union of `sin6_scope_id` and the SCOPE_ID bit
    /// fields (Zone:28, Level:4); both are one `ULONG`.
    pub sin6_scope_id: ULONG,
}
const_assert_eq!(size_of::<SOCKADDR_IN6>(), 28);
const_assert_eq!(offset_of!(SOCKADDR_IN6, sin6_family), 0);
const_assert_eq!(offset_of!(SOCKADDR_IN6, sin6_port), 2);
const_assert_eq!(offset_of!(SOCKADDR_IN6, sin6_flowinfo), 4);
const_assert_eq!(offset_of!(SOCKADDR_IN6, sin6_addr), 8);
const_assert_eq!(offset_of!(SOCKADDR_IN6, sin6_scope_id), 24);

/// SOCKADDR_INET: an IPv4 or IPv6 socket address, told apart by `si_family`.
#[derive(Clone, Copy)]
#[repr(C)]
pub union SOCKADDR_INET {
    pub Ipv4: SOCKADDR_IN,
    pub Ipv6: SOCKADDR_IN6,
    pub si_family: ADDRESS_FAMILY,
}

/// Opaque: the live member depends on `si_family`, which reading needs `unsafe`.
impl fmt::Debug for SOCKADDR_INET {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SOCKADDR_INET(..)")
    }
}
const_assert_eq!(size_of::<SOCKADDR_INET>(), 28);
const_assert_eq!(core::mem::align_of::<SOCKADDR_INET>(), 4);
const_assert_eq!(offset_of!(SOCKADDR_INET, Ipv4), 0);
const_assert_eq!(offset_of!(SOCKADDR_INET, Ipv6), 0);
const_assert_eq!(offset_of!(SOCKADDR_INET, si_family), 0);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_addr_keeps_network_order_in_memory() {
        let a = IN_ADDR::from_octets([127, 0, 0, 1]);
        assert_eq!(a.octets(), [127, 0, 0, 1]);
        assert_eq!(a.S_addr.to_ne_bytes()[0], 127);
    }
}
