//! Pure configuration logic of the miniport, shared with the host tests
//! (`tests/windows_helpers.rs` includes this file by path): the keyword
//! names as UTF-16, parsing `CarrierIpAddress` from the registry's UTF-16
//! string, the `*NetworkDirectRoCEFrameSize` rule, the Ethernet MTU the
//! virtual adapter reports, the locally administered MAC address and
//! `LowerMacAddress` (the MAC of the physical NIC the lower edge binds to).
//!
//! Owns: these functions and the configuration record. Must not call NDIS.

use core::net::IpAddr;

/// UTF-16 of an ASCII keyword, NUL-free, for an NDIS_STRING.
///
/// IRQL: any (pure).
pub const fn utf16<const N: usize>(s: &str) -> [u16; N] {
    let b = s.as_bytes();
    let mut out = [0u16; N];
    let mut i = 0;
    while i < N && i < b.len() {
        out[i] = b[i] as u16;
        i += 1;
    }
    out
}

/// `*NetworkDirect`.
pub const KW_NETWORK_DIRECT: [u16; 14] = utf16("*NetworkDirect");
/// `*NetworkDirectRoCEFrameSize`.
pub const KW_ROCE_FRAME_SIZE: [u16; 27] = utf16("*NetworkDirectRoCEFrameSize");
/// `CarrierIpAddress`.
pub const KW_CARRIER_IP: [u16; 16] = utf16("CarrierIpAddress");
/// `LowerMacAddress`: the current MAC of the Ethernet NIC whose protocol
/// binding carries this adapter (`os::windows::lower`).
pub const KW_LOWER_MAC: [u16; 15] = utf16("LowerMacAddress");
/// `SelfTest` (hidden, not in the INF): 1 runs the platform conformance
/// suite from MiniportInitializeEx (`docs/WINDOWS.md`).
pub const KW_SELF_TEST: [u16; 8] = utf16("SelfTest");

/// The RoCE frame sizes the INF offers.
pub const FRAME_SIZES: [u32; 5] = [256, 512, 1024, 2048, 4096];
/// The INF default.
pub const DEFAULT_FRAME_SIZE: u32 = 1024;
/// Standard Ethernet payload.
pub const ETHERNET_MTU: u32 = 1500;
/// Bytes around a RoCE payload of `frame` bytes inside the Ethernet payload:
/// IPv6 40 + UDP 8 + BTH 12 + RETH 16 + ICRC 4 = 80; rounded up to 128 so
/// the largest header combination (AtomicETH, ImmDt) fits too.
pub const ROCE_OVERHEAD: u32 = 128;

/// What the miniport reads from its registry key at initialisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdapterConfig {
    /// `*NetworkDirect` != 0.
    pub network_direct: bool,
    /// `*NetworkDirectRoCEFrameSize`, validated: the RoCE path MTU of the
    /// adapter's network (`ndk::Network::with_roce_mtu`: what its REQs ask
    /// for and what larger REQs are clamped to) and, through
    /// [`mtu_for_frame`], the Ethernet MTU it reports.
    pub frame_size: u32,
    /// `CarrierIpAddress`, if set and valid.
    pub carrier_ip: Option<IpAddr>,
    /// `NetworkAddress` (NdisReadNetworkAddress), if a valid unicast MAC.
    pub mac_override: Option<[u8; 6]>,
    /// `SelfTest` != 0.
    pub self_test: bool,
    /// `LowerMacAddress`, if set and a valid unicast MAC: the NIC the lower
    /// edge pairs with this adapter.
    pub lower_mac: Option<[u8; 6]>,
}

impl Default for AdapterConfig {
    /// IRQL: any.
    fn default() -> Self {
        AdapterConfig {
            network_direct: true,
            frame_size: DEFAULT_FRAME_SIZE,
            carrier_ip: None,
            mac_override: None,
            self_test: false,
            lower_mac: None,
        }
    }
}

/// A registry frame size, or the default when it is not one the INF offers.
///
/// IRQL: any (pure).
pub fn frame_size(value: Option<u32>) -> u32 {
    match value {
        Some(v) if FRAME_SIZES.contains(&v) => v,
        _ => DEFAULT_FRAME_SIZE,
    }
}

/// The Ethernet MTU the virtual adapter reports: 1500, or more when the
/// RoCE frame plus its headers needs it (4096 -> 4224, a jumbo MTU).
///
/// IRQL: any (pure).
pub fn mtu_for_frame(frame: u32) -> u32 {
    ETHERNET_MTU.max(frame.saturating_add(ROCE_OVERHEAD))
}

/// Parses `CarrierIpAddress` from the registry's UTF-16 (no NUL; a trailing
/// NUL and surrounding spaces are ignored). Only unicast, specified
/// addresses are accepted (the rule of `ndk::open::adapter_address`).
///
/// IRQL: any (pure).
pub fn parse_carrier_ip(utf16: &[u16]) -> Option<IpAddr> {
    let mut buf = [0u8; 64];
    let mut n = 0;
    for &c in utf16 {
        if c == 0 {
            break;
        }
        let b = u8::try_from(c).ok().filter(u8::is_ascii)?;
        *buf.get_mut(n)? = b;
        n += 1;
    }
    let text = core::str::from_utf8(buf.get(..n)?).ok()?.trim();
    let ip: IpAddr = text.parse().ok()?;
    let ip = ip.to_canonical();
    let unusable = ip.is_unspecified()
        || ip.is_multicast()
        || matches!(ip, IpAddr::V4(v4) if v4.is_broadcast());
    (!unusable).then_some(ip)
}

/// A MAC from `NetworkAddress`: 6 bytes, unicast (I/G bit clear), not zero.
///
/// IRQL: any (pure).
pub fn valid_mac(bytes: &[u8]) -> Option<[u8; 6]> {
    let mac: [u8; 6] = bytes.try_into().ok()?;
    (mac[0] & 1 == 0 && mac != [0; 6]).then_some(mac)
}

/// The adapter's MAC when the registry has none: locally administered
/// (02:xx) unicast, stable for a given carrier address (so reboots keep the
/// interface's identity): 02:53:52 ("SR") followed by three bytes of an
/// FNV-1a hash of the address. Without a carrier address, from `random`.
///
/// IRQL: any (pure).
pub fn generated_mac(carrier: Option<IpAddr>, random: [u8; 3]) -> [u8; 6] {
    let tail = match carrier {
        Some(ip) => {
            let mut bytes = [0u8; 16];
            let len = match ip {
                IpAddr::V4(v4) => {
                    bytes[..4].copy_from_slice(&v4.octets());
                    4
                }
                IpAddr::V6(v6) => {
                    bytes.copy_from_slice(&v6.octets());
                    16
                }
            };
            let mut h: u32 = 0x811C_9DC5;
            for b in &bytes[..len] {
                h ^= u32::from(*b);
                h = h.wrapping_mul(0x0100_0193);
            }
            let b = h.to_le_bytes();
            [b[0], b[1], b[2]]
        }
        None => random,
    };
    [0x02, 0x53, 0x52, tail[0], tail[1], tail[2]]
}

/// Parses `LowerMacAddress` from the registry's UTF-16 (no NUL; a trailing
/// NUL and surrounding spaces are ignored): exactly 12 hex digits, which may
/// be grouped by `-` or `:` separators (`00155D010203`, `00-15-5D-01-02-03`,
/// `00:15:5d:01:02:03`); the result must be a valid unicast MAC
/// ([`valid_mac`]).
///
/// IRQL: any (pure).
pub fn parse_lower_mac(utf16: &[u16]) -> Option<[u8; 6]> {
    let mut nibbles = [0u8; 12];
    let mut n = 0usize;
    let mut text = [0u8; 64];
    let mut len = 0usize;
    for &c in utf16 {
        if c == 0 {
            break;
        }
        let b = u8::try_from(c).ok().filter(u8::is_ascii)?;
        *text.get_mut(len)? = b;
        len += 1;
    }
    let trimmed = core::str::from_utf8(text.get(..len)?).ok()?.trim();
    let mut last_sep = true;
    for b in trimmed.bytes() {
        match b {
            b'-' | b':' => {
                // No leading, doubled or trailing separator.
                if last_sep {
                    return None;
                }
                last_sep = true;
            }
            _ => {
                let v = (b as char).to_digit(16)?;
                *nibbles.get_mut(n)? = v as u8;
                n += 1;
                last_sep = false;
            }
        }
    }
    if n != 12 || (last_sep && !trimmed.is_empty()) {
        return None;
    }
    let mut mac = [0u8; 6];
    for (i, m) in mac.iter_mut().enumerate() {
        *m = (nibbles[2 * i] << 4) | nibbles[2 * i + 1];
    }
    valid_mac(&mac)
}
