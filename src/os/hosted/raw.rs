//! Hosted verbs-compatibility extension (not part of NDKPI): connect a QP
//! without the connection manager, as `ibv_modify_qp` to RTR/RTS does for
//! tools that exchange QPN/PSN out of band (ibv_rc_pingpong's TCP side
//! channel). It records the same `QpConnection` the CM records and moves the
//! QP to Connected through the same `Qp::set_connection` / `set_link_state`
//! path, so the data path runs over the adapter's carrier exactly as after a
//! CM connection. Owns this hook; must not be used by the core.

use core::net::{IpAddr, SocketAddr};
use std::ffi::{c_char, CStr};

use crate::abi::{
    NtStatus, NDK_QP, STATUS_CONNECTION_ACTIVE, STATUS_INVALID_ADDRESS, STATUS_INVALID_PARAMETER,
    STATUS_SUCCESS,
};
use crate::ndk::object::{recover, Object};
use crate::ndk::qp::{Qp, QpConnection, QpLinkState};
use crate::transport::Mtu;

/// The UDP port RoCEv2 uses on both ends.
const ROCE_PORT: u16 = 4791;

/// What ibv_rc_pingpong's RTR/RTS attributes carry (`softroce_raw_connect`
/// in the C header).
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct RawConnect {
    pub remote_qpn: u32,
    /// The first PSN we send (the peer's receive PSN).
    pub send_psn: u32,
    /// The first PSN we expect (our receive PSN, which the peer sends from).
    pub recv_psn: u32,
    /// Path MTU in bytes (256..4096; 0: 1024).
    pub path_mtu: u32,
    /// Incoming and outgoing RDMA READs at once (1..16; 0: 1).
    pub read_limit: u32,
    /// Local ACK timeout exponent (0: 14, ~67 ms as ibv_rc_pingpong).
    pub local_ack_timeout: u8,
    /// Retry and RNR retry counts (0: 7).
    pub retry_count: u8,
    pub rnr_retry: u8,
}

/// The QP number of a softroce QP (0 for NULL or a foreign object).
///
/// # Safety
/// `qp` is NULL or an NDK object.
pub unsafe fn qp_number(qp: *mut NDK_QP) -> u32 {
    // SAFETY: forwarded contract.
    unsafe { recover::<Qp>(qp.cast()) }.map_or(0, |q| q.qpn())
}

/// Connects `qp` to `remote_ip` (an IPv4/IPv6 literal) with `p`.
/// NULL or foreign QP -> STATUS_INVALID_PARAMETER / _HANDLE; bad address ->
/// STATUS_INVALID_ADDRESS; bad MTU, read limit or PSN -> STATUS_INVALID_PARAMETER;
/// a QP connected before (by the CM or this call) -> STATUS_CONNECTION_ACTIVE.
///
/// # Safety
/// `qp` is NULL or an NDK object; `remote_ip` NULL or NUL-terminated; `p`
/// NULL or readable.
///
/// IRQL: PASSIVE_LEVEL.
pub unsafe fn connect_raw(
    qp: *mut NDK_QP,
    remote_ip: *const c_char,
    p: *const RawConnect,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let q = match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    if remote_ip.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: NUL-terminated by contract.
    let Some(ip) = unsafe { CStr::from_ptr(remote_ip) }
        .to_str()
        .ok()
        .and_then(|s| s.parse::<IpAddr>().ok())
    else {
        return STATUS_INVALID_ADDRESS;
    };
    // SAFETY: NULL or readable by contract.
    let Some(p) = (unsafe { p.as_ref() }).copied() else {
        return STATUS_INVALID_PARAMETER;
    };
    let Some(mtu) = Mtu::from_bytes(if p.path_mtu == 0 { 1024 } else { p.path_mtu }) else {
        return STATUS_INVALID_PARAMETER;
    };
    let read_limit = match p.read_limit {
        0 => 1,
        n @ 1..=16 => n as u8,
        _ => return STATUS_INVALID_PARAMETER,
    };
    if p.remote_qpn > 0xFF_FFFF || p.send_psn > 0xFF_FFFF || p.recv_psn > 0xFF_FFFF {
        return STATUS_INVALID_PARAMETER;
    }
    if q.connection().is_some() {
        return STATUS_CONNECTION_ACTIVE;
    }
    let or = |v: u8, d: u8| if v == 0 { d } else { v };
    let local = q.base().core.address;
    q.set_connection(Some(QpConnection {
        state: QpLinkState::Connecting,
        local: SocketAddr::new(local, ROCE_PORT),
        remote: SocketAddr::new(ip, ROCE_PORT),
        remote_qpn: p.remote_qpn,
        send_psn: p.send_psn,
        recv_psn: p.recv_psn,
        path_mtu: mtu.ib_enum(),
        inbound_read_limit: read_limit,
        outbound_read_limit: read_limit,
        retry_count: or(p.retry_count, 7).min(7),
        rnr_retry_count: or(p.rnr_retry, 7).min(7),
        local_ack_timeout: or(p.local_ack_timeout, 14).min(31),
    }));
    q.set_link_state(QpLinkState::Connected);
    if q.datapath.is_connected() {
        STATUS_SUCCESS
    } else {
        STATUS_INVALID_PARAMETER
    }
}
