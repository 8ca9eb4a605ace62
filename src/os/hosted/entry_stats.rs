//! The hosted twin of OID_NDK_STATISTICS, OID_NDK_CONNECTIONS and
//! OID_NDK_LOCAL_ENDPOINTS: `extern "C"` entry points (declared in
//! `softroce.h`, `docs/HOSTED-API.md`) that report an adapter instance's
//! NDK performance counters and fill arrays of the same entries the
//! Windows miniport writes (NDIS_NDK_CONNECTION_ENTRY,
//! NDIS_NDK_LOCAL_ENDPOINT_ENTRY; kernel owner: UserModeOwner FALSE,
//! OwnerPid 0). Owns the marshalling; the numbers and tables are the
//! `ndk` layer's (`ndk/net/stats.rs`).

use core::net::SocketAddr;

use crate::abi::{
    NtStatus, AF_INET, AF_INET6, IN6_ADDR, IN_ADDR, NDIS_NDK_CONNECTION_ENTRY,
    NDIS_NDK_LOCAL_ENDPOINT_ENTRY, NDIS_NDK_PERFORMANCE_COUNTERS, NDK_ADAPTER, SOCKADDR_IN,
    SOCKADDR_IN6, SOCKADDR_INET, STATUS_BUFFER_TOO_SMALL, STATUS_INVALID_HANDLE,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::ndk::Adapter;

/// `a` as a SOCKADDR_INET (all 28 bytes initialised, port in network order).
///
/// IRQL: any.
pub fn sockaddr_inet(a: SocketAddr) -> SOCKADDR_INET {
    let mut s = SOCKADDR_INET {
        Ipv6: SOCKADDR_IN6::default(),
    };
    match a {
        SocketAddr::V4(v4) => {
            s.Ipv4 = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: v4.port().to_be(),
                sin_addr: IN_ADDR::from_octets(v4.ip().octets()),
                sin_zero: [0; 8],
            }
        }
        SocketAddr::V6(v6) => {
            s.Ipv6 = SOCKADDR_IN6 {
                sin6_family: AF_INET6,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: IN6_ADDR {
                    Byte: v6.ip().octets(),
                },
                sin6_scope_id: 0,
            }
        }
    }
    s
}

/// The adapter behind a consumer pointer.
///
/// # Safety
/// `adapter` is NULL or an open adapter.
unsafe fn adapter_of<'a>(adapter: *mut NDK_ADAPTER) -> Result<&'a Adapter, NtStatus> {
    if adapter.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: non-null, an adapter header by contract.
    unsafe { Adapter::from_ndk(adapter) }.ok_or(STATUS_INVALID_HANDLE)
}

/// Copies the adapter's NDK performance counters (the OID_NDK_STATISTICS
/// CounterSet) into `*out`. NULL -> STATUS_INVALID_PARAMETER; foreign
/// adapter -> STATUS_INVALID_HANDLE.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an open adapter; `out` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn softroce_adapter_statistics(
    adapter: *mut NDK_ADAPTER,
    out: *mut NDIS_NDK_PERFORMANCE_COUNTERS,
) -> NtStatus {
    if out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: forwarded contract.
    match unsafe { adapter_of(adapter) } {
        Ok(a) => {
            // SAFETY: non-null and writable by contract.
            unsafe { out.write_unaligned(a.statistics()) };
            STATUS_SUCCESS
        }
        Err(e) => e,
    }
}

/// The shared size protocol over the entries `visit` produces for the
/// adapter: `*count` = entries that exist; up to `capacity` written; more
/// than `capacity` -> STATUS_BUFFER_TOO_SMALL.
///
/// # Safety
/// `adapter` is NULL or an open adapter; `out` is NULL or has `capacity`
/// writable entries; `count` is NULL or writable.
unsafe fn fill<T>(
    adapter: *mut NDK_ADAPTER,
    out: *mut T,
    capacity: u32,
    count: *mut u32,
    visit: impl FnOnce(&Adapter, &mut dyn FnMut(T)),
) -> NtStatus {
    // SAFETY: forwarded contract.
    let a = match unsafe { adapter_of(adapter) } {
        Ok(a) => a,
        Err(e) => return e,
    };
    if count.is_null() || (out.is_null() && capacity != 0) {
        return STATUS_INVALID_PARAMETER;
    }
    let mut n = 0u32;
    visit(a, &mut |entry| {
        if n < capacity {
            // SAFETY: `n < capacity` entries are writable by contract.
            unsafe { out.add(n as usize).write_unaligned(entry) };
        }
        n = n.saturating_add(1);
    });
    // SAFETY: non-null and writable by contract.
    unsafe { count.write_unaligned(n) };
    if n > capacity {
        STATUS_BUFFER_TOO_SMALL
    } else {
        STATUS_SUCCESS
    }
}

/// The adapter's connections being set up or established, one
/// NDIS_NDK_CONNECTION_ENTRY each: `*count` = how many there are, up to
/// `capacity` written to `out`; more than `capacity` ->
/// STATUS_BUFFER_TOO_SMALL; NULL `count` (or NULL `out` with a capacity) ->
/// STATUS_INVALID_PARAMETER; foreign adapter -> STATUS_INVALID_HANDLE.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// `adapter` is NULL or an open adapter; `out` is NULL or has `capacity`
/// writable entries; `count` is NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn softroce_adapter_connections(
    adapter: *mut NDK_ADAPTER,
    out: *mut NDIS_NDK_CONNECTION_ENTRY,
    capacity: u32,
    count: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe {
        fill(adapter, out, capacity, count, |a, put| {
            a.core().for_each_connection(|local, remote| {
                put(NDIS_NDK_CONNECTION_ENTRY {
                    Local: sockaddr_inet(local),
                    Remote: sockaddr_inet(remote),
                    UserModeOwner: 0,
                    OwnerPid: 0,
                })
            })
        })
    }
}

/// The adapter's listeners and shared endpoints, one
/// NDIS_NDK_LOCAL_ENDPOINT_ENTRY each (Listener TRUE for a listener); the
/// size protocol and statuses of [`softroce_adapter_connections`].
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// As [`softroce_adapter_connections`].
#[no_mangle]
pub unsafe extern "C" fn softroce_adapter_local_endpoints(
    adapter: *mut NDK_ADAPTER,
    out: *mut NDIS_NDK_LOCAL_ENDPOINT_ENTRY,
    capacity: u32,
    count: *mut u32,
) -> NtStatus {
    // SAFETY: forwarded contract.
    unsafe {
        fill(adapter, out, capacity, count, |a, put| {
            a.core().for_each_local_endpoint(|local, listener| {
                put(NDIS_NDK_LOCAL_ENDPOINT_ENTRY {
                    Local: sockaddr_inet(local),
                    UserModeOwner: 0,
                    Listener: u8::from(listener),
                    OwnerPid: 0,
                })
            })
        })
    }
}
