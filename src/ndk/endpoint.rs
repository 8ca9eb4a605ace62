//! What listeners, connectors and shared endpoints share: reading and
//! writing AF_INET / AF_INET6 SOCKADDRs (with the GetLocalAddress size
//! protocol) and the adapter's ND port bookkeeping for bound endpoints.
//! Must not hold connection state (the connection manager's).

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::abi::{
    NtStatus, AF_INET, AF_INET6, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, STATUS_BUFFER_TOO_SMALL,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_PARAMETER, STATUS_SHARING_VIOLATION, STATUS_SUCCESS,
    STATUS_TOO_MANY_ADDRESSES,
};

use super::core::AdapterCore;

/// The first ND port of the ephemeral range.
const EPHEMERAL_FIRST: u16 = 49152;

/// Reads an AF_INET / AF_INET6 SOCKADDR of `len` bytes.
///
/// # Safety
/// `sa` is NULL or has `len` readable bytes.
pub(crate) unsafe fn read_sockaddr(
    sa: *const SOCKADDR,
    len: u32,
) -> Result<(IpAddr, u16), NtStatus> {
    if sa.is_null() || (len as usize) < core::mem::size_of::<SOCKADDR>() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: at least a SOCKADDR is readable.
    let family = unsafe { core::ptr::addr_of!((*sa).sa_family).read_unaligned() };
    match family {
        AF_INET if len as usize >= core::mem::size_of::<SOCKADDR_IN>() => {
            // SAFETY: `len` covers a SOCKADDR_IN.
            let v4 = unsafe { sa.cast::<SOCKADDR_IN>().read_unaligned() };
            Ok((
                IpAddr::V4(Ipv4Addr::from(v4.sin_addr.octets())),
                u16::from_be(v4.sin_port),
            ))
        }
        AF_INET6 if len as usize >= core::mem::size_of::<SOCKADDR_IN6>() => {
            // SAFETY: `len` covers a SOCKADDR_IN6.
            let v6 = unsafe { sa.cast::<SOCKADDR_IN6>().read_unaligned() };
            Ok((
                IpAddr::V6(Ipv6Addr::from(v6.sin6_addr.Byte)),
                u16::from_be(v6.sin6_port),
            ))
        }
        AF_INET | AF_INET6 => Err(STATUS_INVALID_PARAMETER),
        _ => Err(STATUS_INVALID_ADDRESS),
    }
}

/// The GetLocalAddress size protocol: NULL length -> INVALID_PARAMETER;
/// NULL buffer or too small -> required length, BUFFER_TOO_SMALL; else the
/// address and its length.
///
/// # Safety
/// `out` is NULL or has `*len` writable bytes; `len` is NULL or writable.
pub(crate) unsafe fn write_sockaddr(
    address: (IpAddr, u16),
    out: *mut SOCKADDR,
    len: *mut u32,
) -> NtStatus {
    if len.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    let need = match address.0 {
        IpAddr::V4(_) => core::mem::size_of::<SOCKADDR_IN>(),
        IpAddr::V6(_) => core::mem::size_of::<SOCKADDR_IN6>(),
    } as u32;
    // SAFETY: non-null, readable and writable by contract.
    let have = unsafe { len.read_unaligned() };
    // SAFETY: as above.
    unsafe { len.write_unaligned(need) };
    if out.is_null() || have < need {
        return STATUS_BUFFER_TOO_SMALL;
    }
    match address.0 {
        IpAddr::V4(ip) => {
            let sa = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: address.1.to_be(),
                sin_addr: crate::abi::IN_ADDR::from_octets(ip.octets()),
                sin_zero: [0; 8],
            };
            // SAFETY: `need` writable bytes.
            unsafe { out.cast::<SOCKADDR_IN>().write_unaligned(sa) };
        }
        IpAddr::V6(ip) => {
            // SAFETY: `need` writable bytes; zero first (no padding leaks).
            unsafe {
                out.cast::<u8>().write_bytes(0, need as usize);
                let p = out.cast::<SOCKADDR_IN6>();
                core::ptr::addr_of_mut!((*p).sin6_family).write_unaligned(AF_INET6);
                core::ptr::addr_of_mut!((*p).sin6_port).write_unaligned(address.1.to_be());
                core::ptr::addr_of_mut!((*p).sin6_addr)
                    .write_unaligned(crate::abi::IN6_ADDR { Byte: ip.octets() });
            }
        }
    }
    STATUS_SUCCESS
}

/// Binds `(ip, port)` on the adapter for a shared endpoint: the IP must be
/// the adapter's (or unspecified: the adapter's), port 0 picks a free
/// ephemeral port.
pub(crate) fn bind_port(
    core: &AdapterCore,
    ip: IpAddr,
    port: u16,
) -> Result<(IpAddr, u16), NtStatus> {
    let ip = ip.to_canonical();
    let same_family = ip.is_ipv4() == core.address.is_ipv4();
    if !same_family || (!ip.is_unspecified() && ip != core.address) {
        return Err(STATUS_INVALID_ADDRESS);
    }
    let mut ports = core.ports.lock();
    let port = if port == 0 {
        (EPHEMERAL_FIRST..=u16::MAX)
            .find(|p| !ports.contains(p))
            .ok_or(STATUS_TOO_MANY_ADDRESSES)?
    } else if ports.contains(&port) {
        return Err(STATUS_SHARING_VIOLATION);
    } else {
        port
    };
    if ports.try_reserve(1).is_err() {
        return Err(crate::abi::STATUS_INSUFFICIENT_RESOURCES);
    }
    ports.push(port);
    Ok((core.address, port))
}
