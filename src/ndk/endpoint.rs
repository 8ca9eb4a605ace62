//! What listeners, connectors and shared endpoints share: reading and
//! writing AF_INET / AF_INET6 SOCKADDRs (with the GetLocalAddress size
//! protocol) and the check of a local address against the adapter's. The
//! port space itself is the CM engine's (`cm::ports`). Must not hold
//! connection state.

use core::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::abi::{
    NtStatus, AF_INET, AF_INET6, SOCKADDR, SOCKADDR_IN, SOCKADDR_IN6, STATUS_BUFFER_TOO_SMALL,
    STATUS_INVALID_ADDRESS, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};

use super::core::AdapterCore;

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

/// The local IP of a listen or bind: the adapter's address, or (with
/// `wildcard`) the unspecified address of its family; the unspecified
/// address otherwise means the adapter's. Another address or family ->
/// STATUS_INVALID_ADDRESS.
///
/// IRQL: any.
pub(crate) fn local_ip(core: &AdapterCore, ip: IpAddr, wildcard: bool) -> Result<IpAddr, NtStatus> {
    let ip = ip.to_canonical();
    if ip.is_ipv4() != core.address.is_ipv4() {
        return Err(STATUS_INVALID_ADDRESS);
    }
    if ip.is_unspecified() {
        return Ok(if wildcard { ip } else { core.address });
    }
    if ip != core.address {
        return Err(STATUS_INVALID_ADDRESS);
    }
    Ok(ip)
}
