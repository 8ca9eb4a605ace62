//! Pure OID logic of the miniport, shared with the host tests
//! (`tests/windows_helpers.rs` includes it by path): the answer to each
//! general query OID the virtual adapter must handle, the byte images of
//! NDIS_STATISTICS_INFO, NDIS_NDK_STATISTICS_INFO, NDIS_NDK_CONNECTIONS and
//! NDIS_NDK_LOCAL_ENDPOINTS (variable length, Header.Size capped at
//! MAXUSHORT), and the checks of set OIDs. Layouts come from `crate::abi`
//! and `os::windows::ndis` (asserted there); bytes are written field by
//! field, little-endian, at those offsets.
//!
//! Owns: answers and encodings. Must not touch an NDIS_OID_REQUEST.

use core::mem::{offset_of, size_of};
use core::net::SocketAddr;

use crate::abi::{
    NDIS_NDK_CONNECTIONS, NDIS_NDK_CONNECTION_ENTRY, NDIS_NDK_LOCAL_ENDPOINTS,
    NDIS_NDK_LOCAL_ENDPOINT_ENTRY, NDIS_NDK_PERFORMANCE_COUNTERS, NDIS_NDK_STATISTICS_INFO,
    NDIS_OID, OID_NDK_CONNECTIONS, OID_NDK_LOCAL_ENDPOINTS, OID_NDK_SET_STATE, OID_NDK_STATISTICS,
};
use crate::os::windows::ndis::*;
use crate::os::windows::wsk::sockaddr;

/// NDIS_OBJECT_TYPE_DEFAULT and revision 1, the header of every payload here.
const TYPE_DEFAULT: u8 = 0x80;
/// `NdisInterruptModerationNotSupported`.
const INTERRUPT_MODERATION_NOT_SUPPORTED: u32 = 1;
/// Multicast addresses the adapter accepts (it never filters: nothing is
/// ever received on the Ethernet side).
pub const MAX_MULTICAST: u32 = 32;
/// The adapter's description (OID_GEN_VENDOR_DESCRIPTION), NUL-terminated.
pub const VENDOR_DESCRIPTION: &[u8] = b"softroce RoCEv2 RDMA Adapter\0";
/// OID_GEN_VENDOR_ID: no registered OUI (the NDK VendorId rxe reports).
pub const VENDOR_ID: u32 = 0x00FF_FFFF;
/// OID_GEN_VENDOR_DRIVER_VERSION: major in the high 16 bits (0.1).
pub const VENDOR_DRIVER_VERSION: u32 = 0x0000_0001;
/// OID_GEN_DRIVER_VERSION: the NDIS version as a USHORT (6.30).
pub const DRIVER_VERSION: u16 =
    ((NDIS_MINIPORT_MAJOR_VERSION as u16) << 8) | NDIS_MINIPORT_MINOR_VERSION as u16;
/// The Ethernet header the block sizes add to the MTU.
const ETH_HEADER: u32 = 14;

/// What the general OIDs report, gathered by the adapter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GeneralInfo {
    pub permanent_mac: [u8; 6],
    pub current_mac: [u8; 6],
    pub mtu: u32,
    pub link_speed_bps: u64,
    pub connected: bool,
    pub packet_filter: u32,
    pub lookahead: u32,
    /// Frames the stack sent that the adapter dropped (see `datapath`).
    pub xmit_discards: u64,
}

/// An answer to a query OID.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    U16(u16),
    U32(u32),
    /// A counter: 8 bytes, or 4 (truncated) when the buffer has only 4.
    Counter(u64),
    Mac([u8; 6]),
    Static(&'static [u8]),
    Stats([u8; size_of::<NDIS_STATISTICS_INFO>()]),
    InterruptModeration([u8; 12]),
}

impl Answer {
    /// Writes the answer into `out`: `Ok(bytes written)` or `Err(bytes
    /// needed)` (NDIS_STATUS_BUFFER_TOO_SHORT with BytesNeeded).
    ///
    /// IRQL: any (pure).
    pub fn write(&self, out: &mut [u8]) -> Result<usize, usize> {
        let (bytes, len): ([u8; 256], usize) = {
            let mut b = [0u8; 256];
            let n = match self {
                Answer::U16(v) => put(&mut b, &v.to_le_bytes()),
                Answer::U32(v) => put(&mut b, &v.to_le_bytes()),
                Answer::Counter(v) => {
                    if out.len() >= 4 && out.len() < 8 {
                        put(&mut b, &(*v as u32).to_le_bytes())
                    } else {
                        put(&mut b, &v.to_le_bytes())
                    }
                }
                Answer::Mac(m) => put(&mut b, m),
                Answer::Static(s) => put(&mut b, s),
                Answer::Stats(s) => put(&mut b, s),
                Answer::InterruptModeration(s) => put(&mut b, s),
            };
            (b, n)
        };
        let dst = out.get_mut(..len).ok_or(len)?;
        dst.copy_from_slice(&bytes[..len]);
        Ok(len)
    }
}

/// IRQL: any.
fn put(b: &mut [u8; 256], src: &[u8]) -> usize {
    let n = src.len().min(b.len());
    b[..n].copy_from_slice(&src[..n]);
    n
}

/// The NDIS_STATISTICS_INFO image for `info`.
///
/// IRQL: any (pure).
pub fn statistics_info(info: &GeneralInfo) -> [u8; size_of::<NDIS_STATISTICS_INFO>()] {
    let mut b = [0u8; size_of::<NDIS_STATISTICS_INFO>()];
    header(
        &mut b,
        NDIS_STATISTICS_INFO_REVISION_1,
        size_of::<NDIS_STATISTICS_INFO>(),
    );
    b[4..8].copy_from_slice(&SOFTROCE_SUPPORTED_STATISTICS.to_le_bytes());
    let at = offset_of!(NDIS_STATISTICS_INFO, ifOutDiscards);
    b[at..at + 8].copy_from_slice(&info.xmit_discards.to_le_bytes());
    b
}

/// IRQL: any.
fn header(b: &mut [u8], revision: u8, size: usize) {
    b[0] = TYPE_DEFAULT;
    b[1] = revision;
    let size = u16::try_from(size).unwrap_or(u16::MAX);
    b[2..4].copy_from_slice(&size.to_le_bytes());
}

/// The answer to a general (non-NDK) query OID, or `None` if the adapter
/// does not support it (NDIS_STATUS_NOT_SUPPORTED).
///
/// IRQL: any (pure).
pub fn general_query(oid: NDIS_OID, info: &GeneralInfo) -> Option<Answer> {
    let total = info.mtu.saturating_add(ETH_HEADER);
    Some(match oid {
        OID_GEN_HARDWARE_STATUS => Answer::U32(0), // NdisHardwareStatusReady
        OID_GEN_MEDIA_SUPPORTED | OID_GEN_MEDIA_IN_USE => Answer::U32(NDIS_MEDIUM_802_3),
        OID_GEN_PHYSICAL_MEDIUM => Answer::U32(NDIS_PHYSICAL_MEDIUM_802_3),
        OID_GEN_MAXIMUM_LOOKAHEAD | OID_GEN_MAXIMUM_FRAME_SIZE => Answer::U32(info.mtu),
        OID_GEN_CURRENT_LOOKAHEAD => Answer::U32(info.lookahead),
        OID_GEN_MAXIMUM_TOTAL_SIZE | OID_GEN_TRANSMIT_BLOCK_SIZE | OID_GEN_RECEIVE_BLOCK_SIZE => {
            Answer::U32(total)
        }
        OID_GEN_TRANSMIT_BUFFER_SPACE | OID_GEN_RECEIVE_BUFFER_SPACE => {
            Answer::U32(total.saturating_mul(64))
        }
        // OID_GEN_LINK_SPEED is in units of 100 bps.
        OID_GEN_LINK_SPEED => {
            Answer::U32(u32::try_from(info.link_speed_bps / 100).unwrap_or(u32::MAX))
        }
        OID_GEN_VENDOR_ID => Answer::U32(VENDOR_ID),
        OID_GEN_VENDOR_DESCRIPTION => Answer::Static(VENDOR_DESCRIPTION),
        OID_GEN_VENDOR_DRIVER_VERSION => Answer::U32(VENDOR_DRIVER_VERSION),
        OID_GEN_DRIVER_VERSION => Answer::U16(DRIVER_VERSION),
        OID_GEN_CURRENT_PACKET_FILTER => Answer::U32(info.packet_filter),
        OID_GEN_MAC_OPTIONS => Answer::U32(SOFTROCE_MAC_OPTIONS),
        OID_GEN_MEDIA_CONNECT_STATUS => Answer::U32(if info.connected { 0 } else { 1 }),
        OID_GEN_MAXIMUM_SEND_PACKETS => Answer::U32(1),
        OID_GEN_XMIT_OK
        | OID_GEN_RCV_OK
        | OID_GEN_XMIT_ERROR
        | OID_GEN_RCV_ERROR
        | OID_GEN_RCV_NO_BUFFER => Answer::Counter(0),
        OID_GEN_STATISTICS => Answer::Stats(statistics_info(info)),
        OID_GEN_INTERRUPT_MODERATION => {
            let mut b = [0u8; 12];
            header(&mut b, 1, 12);
            b[8..12].copy_from_slice(&INTERRUPT_MODERATION_NOT_SUPPORTED.to_le_bytes());
            Answer::InterruptModeration(b)
        }
        OID_802_3_PERMANENT_ADDRESS => Answer::Mac(info.permanent_mac),
        OID_802_3_CURRENT_ADDRESS => Answer::Mac(info.current_mac),
        OID_802_3_MAXIMUM_LIST_SIZE => Answer::U32(MAX_MULTICAST),
        OID_802_3_RCV_ERROR_ALIGNMENT
        | OID_802_3_XMIT_ONE_COLLISION
        | OID_802_3_XMIT_MORE_COLLISIONS => Answer::Counter(0),
        _ => return None,
    })
}

/// Whether `oid` is one of the NDK OIDs (handled by the NDK side).
///
/// IRQL: any (pure).
pub fn is_ndk_oid(oid: NDIS_OID) -> bool {
    matches!(
        oid,
        OID_NDK_SET_STATE | OID_NDK_STATISTICS | OID_NDK_CONNECTIONS | OID_NDK_LOCAL_ENDPOINTS
    )
}

/// What a set OID asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SetRequest {
    PacketFilter(u32),
    Lookahead(u32),
    /// The multicast list has this many addresses (not kept: nothing is
    /// received on the Ethernet side).
    MulticastList(u32),
    /// OID_NDK_SET_STATE.
    NdkState(bool),
    /// Accepted and ignored (link parameters, network layer addresses,
    /// power): the virtual adapter has nothing to change.
    Accept,
}

/// Why a set OID is refused: an NDIS status and the bytes needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetRefused {
    pub status: u32,
    pub bytes_needed: u32,
}

/// IRQL: any.
fn need(status: u32, bytes_needed: u32) -> SetRefused {
    SetRefused {
        status,
        bytes_needed,
    }
}

/// Checks a set OID's buffer and says what it asks for.
///
/// IRQL: any (pure).
pub fn parse_set(oid: NDIS_OID, buf: &[u8], mtu: u32) -> Result<SetRequest, SetRefused> {
    let u32_at = |b: &[u8]| -> Result<u32, SetRefused> {
        let v: [u8; 4] = b
            .get(..4)
            .and_then(|s| s.try_into().ok())
            .ok_or(need(NDIS_STATUS_INVALID_LENGTH, 4))?;
        Ok(u32::from_le_bytes(v))
    };
    match oid {
        OID_GEN_CURRENT_PACKET_FILTER => {
            let f = u32_at(buf)?;
            if f & !SOFTROCE_PACKET_FILTERS != 0 {
                return Err(need(crate::abi::NDIS_STATUS_NOT_SUPPORTED.to_bits(), 0));
            }
            Ok(SetRequest::PacketFilter(f))
        }
        OID_GEN_CURRENT_LOOKAHEAD => {
            let l = u32_at(buf)?;
            if l > mtu {
                return Err(need(NDIS_STATUS_INVALID_DATA, 0));
            }
            Ok(SetRequest::Lookahead(l))
        }
        OID_802_3_MULTICAST_LIST => {
            if !buf.len().is_multiple_of(6) {
                return Err(need(NDIS_STATUS_INVALID_LENGTH, 0));
            }
            let n = (buf.len() / 6) as u32;
            if n > MAX_MULTICAST {
                return Err(need(NDIS_STATUS_MULTICAST_FULL, 0));
            }
            Ok(SetRequest::MulticastList(n))
        }
        OID_NDK_SET_STATE => {
            let b = buf.first().ok_or(need(NDIS_STATUS_INVALID_LENGTH, 1))?;
            Ok(SetRequest::NdkState(*b != 0))
        }
        OID_GEN_LINK_PARAMETERS
        | OID_GEN_NETWORK_LAYER_ADDRESSES
        | OID_PNP_SET_POWER
        | OID_PNP_QUERY_POWER
        | OID_GEN_INTERRUPT_MODERATION => Ok(SetRequest::Accept),
        _ => Err(need(crate::abi::NDIS_STATUS_NOT_SUPPORTED.to_bits(), 0)),
    }
}

/// The NDIS_NDK_STATISTICS_INFO image for `counters`.
///
/// IRQL: any (pure).
pub fn ndk_statistics(
    counters: &NDIS_NDK_PERFORMANCE_COUNTERS,
) -> [u8; size_of::<NDIS_NDK_STATISTICS_INFO>()] {
    let mut b = [0u8; size_of::<NDIS_NDK_STATISTICS_INFO>()];
    header(
        &mut b,
        crate::abi::NDIS_NDK_STATISTICS_INFO_REVISION_1,
        size_of::<NDIS_NDK_STATISTICS_INFO>(),
    );
    let values = [
        counters.Connect,
        counters.Accept,
        counters.ConnectFailure,
        counters.ConnectionError,
        counters.ActiveConnection,
    ];
    let base = offset_of!(NDIS_NDK_STATISTICS_INFO, CounterSet);
    for (i, v) in values.iter().enumerate() {
        let at = base + 8 * i;
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    let tail = [
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, CQError),
            counters.CQError,
        ),
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAInOctets),
            counters.RDMAInOctets,
        ),
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAOutOctets),
            counters.RDMAOutOctets,
        ),
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAInFrames),
            counters.RDMAInFrames,
        ),
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAOutFrames),
            counters.RDMAOutFrames,
        ),
    ];
    for (off, v) in tail {
        let at = base + off;
        b[at..at + 8].copy_from_slice(&v.to_le_bytes());
    }
    b
}

/// IRQL: any.
fn put_sockaddr(out: &mut [u8], at: usize, addr: SocketAddr) {
    let (bytes, len) = sockaddr::encode(addr);
    out[at..at + len].copy_from_slice(&bytes[..len]);
}

/// IRQL: any.
fn list_header(out: &mut [u8], total: usize, count: usize) {
    header(out, 1, total.min(usize::from(u16::MAX)));
    // Flags (4..8) stay 0; Count at 8; the TCP-mapping BOOLEAN at 12 is
    // FALSE (RoCE connections are not TCP connections).
    out[8..12].copy_from_slice(&(count as u32).to_le_bytes());
}

/// Visits every `(local, remote)` connection (called twice: count, write).
pub type ConnectionVisitor<'a> = &'a dyn Fn(&mut dyn FnMut(SocketAddr, SocketAddr));
/// Visits every `(address, is_listener)` local endpoint.
pub type EndpointVisitor<'a> = &'a dyn Fn(&mut dyn FnMut(SocketAddr, bool));

/// Writes NDIS_NDK_CONNECTIONS with one entry per visited `(local, remote)`
/// pair (kernel-mode owners: UserModeOwner FALSE, OwnerPid 0). No
/// allocation (the visitor runs twice, so it may be called at DISPATCH).
/// `Ok(bytes)` or `Err(bytes needed)`.
///
/// IRQL: any (pure).
pub fn ndk_connections(visit: ConnectionVisitor<'_>, out: &mut [u8]) -> Result<usize, usize> {
    let mut count = 0usize;
    visit(&mut |_, _| count += 1);
    let total = u32::try_from(count)
        .ok()
        .and_then(crate::abi::ndis_sizeof_ndk_connections)
        .ok_or(usize::MAX)?;
    // Zero entries still need the fixed part the C struct declares.
    let need = total.max(size_of::<NDIS_NDK_CONNECTIONS>());
    let out = out.get_mut(..need).ok_or(need)?;
    out.fill(0);
    let base = offset_of!(NDIS_NDK_CONNECTIONS, Connections);
    let mut i = 0usize;
    visit(&mut |local, remote| {
        if i < count {
            let at = base + i * size_of::<NDIS_NDK_CONNECTION_ENTRY>();
            put_sockaddr(
                out,
                at + offset_of!(NDIS_NDK_CONNECTION_ENTRY, Local),
                local,
            );
            put_sockaddr(
                out,
                at + offset_of!(NDIS_NDK_CONNECTION_ENTRY, Remote),
                remote,
            );
            i += 1;
        }
    });
    let total = crate::abi::ndis_sizeof_ndk_connections(i as u32).unwrap_or(need);
    list_header(out, total, i);
    Ok(need)
}

/// Writes NDIS_NDK_LOCAL_ENDPOINTS with one entry per visited `(address,
/// is_listener)` (shared endpoints are not listeners). `Ok(bytes)` or
/// `Err(bytes needed)`.
///
/// IRQL: any (pure).
pub fn ndk_local_endpoints(visit: EndpointVisitor<'_>, out: &mut [u8]) -> Result<usize, usize> {
    let mut count = 0usize;
    visit(&mut |_, _| count += 1);
    let total = u32::try_from(count)
        .ok()
        .and_then(crate::abi::ndis_sizeof_ndk_local_endpoints)
        .ok_or(usize::MAX)?;
    let need = total.max(size_of::<NDIS_NDK_LOCAL_ENDPOINTS>());
    let out = out.get_mut(..need).ok_or(need)?;
    out.fill(0);
    let base = offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, LocalEndpoints);
    let mut i = 0usize;
    visit(&mut |addr, listener| {
        if i < count {
            let at = base + i * size_of::<NDIS_NDK_LOCAL_ENDPOINT_ENTRY>();
            put_sockaddr(
                out,
                at + offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Local),
                addr,
            );
            out[at + offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Listener)] = u8::from(listener);
            i += 1;
        }
    });
    let total = crate::abi::ndis_sizeof_ndk_local_endpoints(i as u32).unwrap_or(need);
    list_header(out, total, i);
    Ok(need)
}
