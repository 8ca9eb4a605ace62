//! The IP Helper (netioapi.h, kernel mode: netio.sys) structures the lower
//! edge uses to resolve next hops and to find the softroce interface's own
//! address: NET_LUID, SOCKADDR_INET, IP_ADDRESS_PREFIX, MIB_IPFORWARD_ROW2
//! (GetBestRoute2), MIB_IPNET_ROW2 (ResolveIpNetEntry2) and
//! MIB_UNICASTIPADDRESS_ROW/TABLE (GetUnicastIpAddressTable), plus the
//! conversions between `SOCKADDR_INET` and `core::net` addresses (pure, so
//! the host tests include this file by path).
//!
//! Layout sources (x64): netioapi.h / ws2ipdef.h / ifdef.h field lists on
//! learn.microsoft.com with natural alignment (SOCKADDR_INET is the 28-byte
//! union of SOCKADDR_IN and SOCKADDR_IN6, 4-byte aligned); the sizes
//! asserted below are the documented `sizeof` values (MIB_IPFORWARD_ROW2
//! 104, MIB_IPNET_ROW2 88, MIB_UNICASTIPADDRESS_ROW 80).
//!
//! Owns: layouts, numbers and the address conversions. Must not call netio.

#![allow(
    missing_debug_implementations,
    non_camel_case_types,
    non_snake_case,
    dead_code
)]

use core::mem::{offset_of, size_of};
use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `NET_LUID` (a 64-bit union).
pub type NET_LUID = u64;

pub const AF_UNSPEC: u16 = 0;
pub const AF_INET: u16 = 2;
pub const AF_INET6: u16 = 23;

/// `NL_DAD_STATE::IpDadStatePreferred`.
pub const IP_DAD_STATE_PREFERRED: u32 = 4;
/// `NL_NEIGHBOR_STATE` values at or above which the MAC is usable
/// (Stale 4, Reachable 5, Permanent 6; Delay 3 and Probe 2 also carry the
/// last known MAC, which is what ARP/ND would use too).
pub const NL_NEIGHBOR_STATE_PROBE: u32 = 2;
pub const NL_NEIGHBOR_STATE_PERMANENT: u32 = 6;

/// `SOCKADDR_INET`: 28 bytes, `si_family` first. Kept as bytes with an
/// explicit 4-byte alignment (the union's `sin6_flowinfo`/`sin6_scope_id`).
#[repr(C, align(4))]
#[derive(Clone, Copy)]
pub struct SOCKADDR_INET {
    pub bytes: [u8; 28],
}

impl SOCKADDR_INET {
    /// All zero (family AF_UNSPEC).
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        SOCKADDR_INET { bytes: [0; 28] }
    }

    /// The address family (`si_family`).
    ///
    /// IRQL: any.
    pub fn family(&self) -> u16 {
        u16::from_le_bytes([self.bytes[0], self.bytes[1]])
    }

    /// A `SOCKADDR_IN` / `SOCKADDR_IN6` for `ip`, port 0 (`scope_id` for an
    /// IPv6 link-local address is left 0: the interface LUID given with it
    /// scopes it).
    ///
    /// IRQL: any.
    pub fn from_ip(ip: IpAddr) -> Self {
        let mut s = Self::zeroed();
        match ip {
            IpAddr::V4(v4) => {
                s.bytes[..2].copy_from_slice(&AF_INET.to_le_bytes());
                s.bytes[4..8].copy_from_slice(&v4.octets());
            }
            IpAddr::V6(v6) => {
                s.bytes[..2].copy_from_slice(&AF_INET6.to_le_bytes());
                s.bytes[8..24].copy_from_slice(&v6.octets());
            }
        }
        s
    }

    /// The IP address, if the family is AF_INET or AF_INET6.
    ///
    /// IRQL: any.
    pub fn ip(&self) -> Option<IpAddr> {
        match self.family() {
            AF_INET => {
                let o: [u8; 4] = self.bytes.get(4..8)?.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(o)))
            }
            AF_INET6 => {
                let o: [u8; 16] = self.bytes.get(8..24)?.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(o)))
            }
            _ => None,
        }
    }
}

/// `IP_ADDRESS_PREFIX` (0x20).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct IP_ADDRESS_PREFIX {
    pub Prefix: SOCKADDR_INET,
    pub PrefixLength: u8,
}

/// `MIB_IPFORWARD_ROW2` (0x68), the route GetBestRoute2 returns.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MIB_IPFORWARD_ROW2 {
    pub InterfaceLuid: NET_LUID,
    pub InterfaceIndex: u32,
    pub DestinationPrefix: IP_ADDRESS_PREFIX,
    /// The next hop; unspecified (all zero address) for an on-link
    /// destination.
    pub NextHop: SOCKADDR_INET,
    pub SitePrefixLength: u8,
    pub ValidLifetime: u32,
    pub PreferredLifetime: u32,
    pub Metric: u32,
    pub Protocol: u32,
    pub Loopback: u8,
    pub AutoconfigureAddress: u8,
    pub Publish: u8,
    pub Immortal: u8,
    pub Age: u32,
    pub Origin: u32,
}

impl MIB_IPFORWARD_ROW2 {
    /// All zero.
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        MIB_IPFORWARD_ROW2 {
            InterfaceLuid: 0,
            InterfaceIndex: 0,
            DestinationPrefix: IP_ADDRESS_PREFIX {
                Prefix: SOCKADDR_INET::zeroed(),
                PrefixLength: 0,
            },
            NextHop: SOCKADDR_INET::zeroed(),
            SitePrefixLength: 0,
            ValidLifetime: 0,
            PreferredLifetime: 0,
            Metric: 0,
            Protocol: 0,
            Loopback: 0,
            AutoconfigureAddress: 0,
            Publish: 0,
            Immortal: 0,
            Age: 0,
            Origin: 0,
        }
    }
}

/// `MIB_IPNET_ROW2` (0x58), the neighbour entry ResolveIpNetEntry2 fills.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MIB_IPNET_ROW2 {
    pub Address: SOCKADDR_INET,
    pub InterfaceIndex: u32,
    pub InterfaceLuid: NET_LUID,
    pub PhysicalAddress: [u8; 32],
    pub PhysicalAddressLength: u32,
    /// `NL_NEIGHBOR_STATE`.
    pub State: u32,
    /// IsRouter (bit 0), IsUnreachable (bit 1).
    pub Flags: u8,
    pub ReachabilityTime: u32,
}

impl MIB_IPNET_ROW2 {
    /// All zero.
    ///
    /// IRQL: any.
    pub const fn zeroed() -> Self {
        MIB_IPNET_ROW2 {
            Address: SOCKADDR_INET::zeroed(),
            InterfaceIndex: 0,
            InterfaceLuid: 0,
            PhysicalAddress: [0; 32],
            PhysicalAddressLength: 0,
            State: 0,
            Flags: 0,
            ReachabilityTime: 0,
        }
    }

    /// The resolved Ethernet MAC, when the entry holds one (6 bytes, a
    /// state from Probe to Permanent, not flagged unreachable).
    ///
    /// IRQL: any.
    pub fn mac(&self) -> Option<[u8; 6]> {
        let usable = (NL_NEIGHBOR_STATE_PROBE..=NL_NEIGHBOR_STATE_PERMANENT).contains(&self.State);
        if self.PhysicalAddressLength != 6 || !usable || self.Flags & 0x2 != 0 {
            return None;
        }
        self.PhysicalAddress.get(..6)?.try_into().ok()
    }
}

/// `MIB_UNICASTIPADDRESS_ROW` (0x50).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct MIB_UNICASTIPADDRESS_ROW {
    pub Address: SOCKADDR_INET,
    pub InterfaceLuid: NET_LUID,
    pub InterfaceIndex: u32,
    pub PrefixOrigin: u32,
    pub SuffixOrigin: u32,
    pub ValidLifetime: u32,
    pub PreferredLifetime: u32,
    pub OnLinkPrefixLength: u8,
    pub SkipAsSource: u8,
    /// `NL_DAD_STATE`.
    pub DadState: u32,
    pub ScopeId: u32,
    pub CreationTimeStamp: i64,
}

/// `MIB_UNICASTIPADDRESS_TABLE`: `NumEntries`, then the rows (ANY_SIZE) at 8.
#[repr(C)]
pub struct MIB_UNICASTIPADDRESS_TABLE {
    pub NumEntries: u32,
    pub Table: [MIB_UNICASTIPADDRESS_ROW; 0],
}

/// Picks the NDK address of an interface from its unicast rows: a preferred
/// (DAD state Preferred) IPv4 address first, else a preferred global IPv6
/// address (not link-local, not unique-local-only preference: any non
/// link-local unicast); rows of other interfaces (by LUID) are skipped.
///
/// IRQL: any (pure).
pub fn pick_interface_address(rows: &[MIB_UNICASTIPADDRESS_ROW], luid: NET_LUID) -> Option<IpAddr> {
    let ours = || {
        rows.iter()
            .filter(move |r| r.InterfaceLuid == luid && r.DadState == IP_DAD_STATE_PREFERRED)
            .filter_map(|r| r.Address.ip())
    };
    ours().find(IpAddr::is_ipv4).or_else(|| {
        ours().find(|ip| match ip {
            IpAddr::V6(v6) => {
                !v6.is_loopback() && !v6.is_unspecified() && (v6.segments()[0] & 0xffc0) != 0xfe80
            }
            IpAddr::V4(_) => false,
        })
    })
}

const _: () = {
    assert!(size_of::<SOCKADDR_INET>() == 28);
    assert!(size_of::<IP_ADDRESS_PREFIX>() == 0x20);

    type F = MIB_IPFORWARD_ROW2;
    assert!(offset_of!(F, InterfaceIndex) == 0x08);
    assert!(offset_of!(F, DestinationPrefix) == 0x0C);
    assert!(offset_of!(F, NextHop) == 0x2C);
    assert!(offset_of!(F, SitePrefixLength) == 0x48);
    assert!(offset_of!(F, ValidLifetime) == 0x4C);
    assert!(offset_of!(F, Metric) == 0x54);
    assert!(offset_of!(F, Protocol) == 0x58);
    assert!(offset_of!(F, Loopback) == 0x5C);
    assert!(offset_of!(F, Age) == 0x60);
    assert!(offset_of!(F, Origin) == 0x64);
    assert!(size_of::<F>() == 0x68);

    type N = MIB_IPNET_ROW2;
    assert!(offset_of!(N, InterfaceIndex) == 0x1C);
    assert!(offset_of!(N, InterfaceLuid) == 0x20);
    assert!(offset_of!(N, PhysicalAddress) == 0x28);
    assert!(offset_of!(N, PhysicalAddressLength) == 0x48);
    assert!(offset_of!(N, State) == 0x4C);
    assert!(offset_of!(N, Flags) == 0x50);
    assert!(offset_of!(N, ReachabilityTime) == 0x54);
    assert!(size_of::<N>() == 0x58);

    type U = MIB_UNICASTIPADDRESS_ROW;
    assert!(offset_of!(U, InterfaceLuid) == 0x20);
    assert!(offset_of!(U, InterfaceIndex) == 0x28);
    assert!(offset_of!(U, PrefixOrigin) == 0x2C);
    assert!(offset_of!(U, OnLinkPrefixLength) == 0x3C);
    assert!(offset_of!(U, SkipAsSource) == 0x3D);
    assert!(offset_of!(U, DadState) == 0x40);
    assert!(offset_of!(U, ScopeId) == 0x44);
    assert!(offset_of!(U, CreationTimeStamp) == 0x48);
    assert!(size_of::<U>() == 0x50);

    assert!(offset_of!(MIB_UNICASTIPADDRESS_TABLE, Table) == 8);
};
