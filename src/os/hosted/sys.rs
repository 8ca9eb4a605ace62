//! Thin, checked wrappers over the Linux socket calls the hosted carrier
//! needs (libc): UDP sockets with the ICRC-relevant options, the raw IPv4
//! receive socket, sendto/recvfrom/recvmsg with IPV6_PKTINFO, poll, the MTU
//! of the interface holding an address (getifaddrs + SIOCGIFMTU), and for
//! the frame link the `AF_PACKET` socket, classic BPF and interface ioctls.
//! Every `unsafe` block of the hosted carrier lives here. Owns no policy.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

fn cvt(r: libc::c_int) -> io::Result<libc::c_int> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

/// A byte count from a syscall, or errno.
fn cvt_size(n: libc::ssize_t) -> io::Result<usize> {
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

fn to_sockaddr(addr: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: sockaddr_storage is plain old data; all-zero is a valid value.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let len = match addr {
        SocketAddr::V4(a) => {
            // SAFETY: sockaddr_storage is large and aligned enough for
            // sockaddr_in (that is its purpose); we write through a correctly
            // typed pointer into our own local.
            let sin = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in>()
            };
            sin.sin_family = libc::AF_INET as libc::sa_family_t;
            sin.sin_port = a.port().to_be();
            sin.sin_addr = libc::in_addr {
                s_addr: u32::from_ne_bytes(a.ip().octets()),
            };
            size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let sin6 = unsafe {
                &mut *(&mut ss as *mut libc::sockaddr_storage).cast::<libc::sockaddr_in6>()
            };
            sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sin6.sin6_port = a.port().to_be();
            sin6.sin6_addr = libc::in6_addr {
                s6_addr: a.ip().octets(),
            };
            sin6.sin6_flowinfo = a.flowinfo();
            sin6.sin6_scope_id = a.scope_id();
            size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

fn from_sockaddr(ss: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match i32::from(ss.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let sin =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in>() };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(sin.sin_addr.s_addr.to_ne_bytes()),
                u16::from_be(sin.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let sin6 =
                unsafe { &*(ss as *const libc::sockaddr_storage).cast::<libc::sockaddr_in6>() };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(sin6.sin6_addr.s6_addr),
                u16::from_be(sin6.sin6_port),
                sin6.sin6_flowinfo,
                sin6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

fn setsockopt_int(
    fd: &OwnedFd,
    level: libc::c_int,
    name: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a live c_int and we pass its exact size.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (&value as *const libc::c_int).cast(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    })
    .map(drop)
}

fn socket(family: libc::c_int, ty: libc::c_int, proto: libc::c_int) -> io::Result<OwnedFd> {
    // SAFETY: plain syscall; on success we own the returned descriptor.
    let fd =
        cvt(unsafe { libc::socket(family, ty | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK, proto) })?;
    // SAFETY: `fd` is a fresh descriptor nobody else owns.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

fn bind(fd: &OwnedFd, addr: SocketAddr) -> io::Result<()> {
    let (ss, len) = to_sockaddr(addr);
    // SAFETY: `ss` holds a valid sockaddr of `len` bytes.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    })
    .map(drop)
}

/// `UDP_NO_CHECK6_RX` (linux/udp.h; not in the libc crate for glibc):
/// accept IPv6 UDP datagrams whose checksum is 0.
pub const UDP_NO_CHECK6_RX: libc::c_int = 102;

/// A non-blocking UDP socket bound to `local`, set up for RoCEv2:
/// IPv4: `IP_MTU_DISCOVER = IP_PMTUDISC_DO` (DF, and Linux then sends ID 0
/// on unconnected sockets); IPv6: v6-only, no fragmentation, `IPV6_RECVPKTINFO`,
/// zero UDP checksums accepted (`UDP_NO_CHECK6_RX`: rxe sends 0), flow label 0
/// (no `IPV6_AUTOFLOWLABEL`).
pub fn udp_socket(local: SocketAddr) -> io::Result<OwnedFd> {
    let family = if local.is_ipv4() {
        libc::AF_INET
    } else {
        libc::AF_INET6
    };
    let fd = socket(family, libc::SOCK_DGRAM, 0)?;
    if local.is_ipv4() {
        setsockopt_int(
            &fd,
            libc::IPPROTO_IP,
            libc::IP_MTU_DISCOVER,
            libc::IP_PMTUDISC_DO,
        )?;
    } else {
        setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_V6ONLY, 1)?;
        setsockopt_int(
            &fd,
            libc::IPPROTO_IPV6,
            libc::IPV6_MTU_DISCOVER,
            libc::IPV6_PMTUDISC_DO,
        )?;
        setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO, 1)?;
        // rxe sends IPv6 UDP with checksum 0 (the ICRC protects the
        // payload; RFC 6936 tunnels); without this the kernel drops every
        // one of them (`Udp6 InCsumErrors`) before the socket sees it.
        setsockopt_int(&fd, libc::SOL_UDP, UDP_NO_CHECK6_RX, 1)?;
        // Flow label 0, as rxe sends (ROCE-FACTS §1.1), as the frame carrier
        // sends and as our CM REQs advertise for the path; Linux would
        // otherwise stamp a per-flow hash (`net.ipv6.auto_flowlabels`).
        setsockopt_int(&fd, libc::IPPROTO_IPV6, libc::IPV6_AUTOFLOWLABEL, 0)?;
    }
    bind(&fd, local)?;
    Ok(fd)
}

/// The name of the interface that holds `ip` (getifaddrs), if any.
fn interface_of(ip: std::net::IpAddr) -> Option<[libc::c_char; libc::IFNAMSIZ]> {
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: a valid out-pointer; the list is freed below.
    if unsafe { libc::getifaddrs(&mut list) } != 0 {
        return None;
    }
    let mut found = None;
    let mut cur = list;
    while !cur.is_null() && found.is_none() {
        // SAFETY: a node of the list getifaddrs returned, alive until the
        // freeifaddrs below.
        let entry = unsafe { &*cur };
        cur = entry.ifa_next;
        if entry.ifa_addr.is_null() || entry.ifa_name.is_null() {
            continue;
        }
        // SAFETY: non-null; ifa_addr points to a sockaddr of its family's
        // size (sockaddr_in / sockaddr_in6 for AF_INET / AF_INET6, the only
        // ones read).
        let holds = unsafe {
            match i32::from((*entry.ifa_addr).sa_family) {
                libc::AF_INET => {
                    let sin = &*entry.ifa_addr.cast::<libc::sockaddr_in>();
                    ip == std::net::IpAddr::from(sin.sin_addr.s_addr.to_ne_bytes())
                }
                libc::AF_INET6 => {
                    let sin6 = &*entry.ifa_addr.cast::<libc::sockaddr_in6>();
                    ip == std::net::IpAddr::from(sin6.sin6_addr.s6_addr)
                }
                _ => false,
            }
        };
        if holds {
            // SAFETY: ifa_name is a NUL-terminated string owned by the list.
            let name = unsafe { std::ffi::CStr::from_ptr(entry.ifa_name) }.to_bytes();
            let mut out = [0 as libc::c_char; libc::IFNAMSIZ];
            if name.len() < out.len() {
                for (o, &b) in out.iter_mut().zip(name) {
                    *o = b as libc::c_char;
                }
                found = Some(out);
            }
        }
    }
    // SAFETY: the list from getifaddrs above, freed once.
    unsafe { libc::freeifaddrs(list) };
    found
}

/// The MTU of the interface that holds `ip` (SIOCGIFMTU through `fd`, a
/// socket of this network namespace), or `None` when no interface holds it
/// or the kernel does not say.
pub fn interface_mtu(fd: &OwnedFd, ip: std::net::IpAddr) -> Option<usize> {
    let name = interface_of(ip)?;
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { zeroed() };
    req.ifr_name = name;
    // SAFETY: a valid socket and a valid ifreq naming an interface; the
    // kernel writes the MTU into the union's int member.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU as _, &mut req) };
    if r < 0 {
        return None;
    }
    // SAFETY: SIOCGIFMTU succeeded, so the union holds ifru_mtu.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    usize::try_from(mtu).ok().filter(|&m| m > 0)
}

/// A raw IPv4 socket that receives every UDP packet addressed to `local`
/// (header included). Needs CAP_NET_RAW.
pub fn raw_udp4(local: Ipv4Addr) -> io::Result<OwnedFd> {
    let fd = socket(libc::AF_INET, libc::SOCK_RAW, libc::IPPROTO_UDP)?;
    bind(&fd, SocketAddr::V4(SocketAddrV4::new(local, 0)))?;
    Ok(fd)
}

/// Attaches a classic BPF filter to a raw IPv4 socket so the kernel only
/// queues UDP packets for destination port `port` (the socket would
/// otherwise get a copy of every UDP packet to the address: DNS, ...).
pub fn filter_udp_dport(fd: &OwnedFd, port: u16) -> io::Result<()> {
    let mut prog = [
        // X = 4 * IHL (the IPv4 header length).
        bpf(libc::BPF_LDX | libc::BPF_B | libc::BPF_MSH, 0, 0, 0),
        // A = the 16-bit word at X + 2: the UDP destination port.
        bpf(libc::BPF_LD | libc::BPF_H | libc::BPF_IND, 0, 0, 2),
        bpf(
            libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K,
            0,
            1,
            u32::from(port),
        ),
        bpf(libc::BPF_RET | libc::BPF_K, 0, 0, 0xffff),
        bpf(libc::BPF_RET | libc::BPF_K, 0, 0, 0),
    ];
    attach_filter(fd, &mut prog)
}

/// One classic BPF instruction.
pub fn bpf(code: u32, jt: u8, jf: u8, k: u32) -> libc::sock_filter {
    libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    }
}

/// Attaches the classic BPF program `prog` to a socket (`SO_ATTACH_FILTER`).
pub fn attach_filter(fd: &OwnedFd, prog: &mut [libc::sock_filter]) -> io::Result<()> {
    let fprog = libc::sock_fprog {
        len: u16::try_from(prog.len()).map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))?,
        filter: prog.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `prog`, both alive for the call; the kernel
    // copies the program.
    cvt(unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    })
    .map(drop)
}

/// `PACKET_IGNORE_OUTGOING` (linux/if_packet.h, Linux 4.20+; not in libc).
const PACKET_IGNORE_OUTGOING: libc::c_int = 23;
/// `sll_pkttype` of a frame this host sent (linux/if_packet.h).
pub const PACKET_OUTGOING: u8 = 4;

/// An Ethernet interface: index, MAC and MTU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interface {
    pub index: u32,
    pub mac: [u8; 6],
    pub mtu: u32,
}

/// Index, MAC (`SIOCGIFHWADDR`) and MTU (`SIOCGIFMTU`) of interface `name`.
/// Not an Ethernet interface -> `Unsupported`; no such interface -> ENODEV.
pub fn interface(name: &str) -> io::Result<Interface> {
    // SAFETY: ifreq is plain old data; all-zero is valid.
    let mut req: libc::ifreq = unsafe { zeroed() };
    if name.is_empty() || name.len() >= req.ifr_name.len() || name.as_bytes().contains(&0) {
        return Err(io::Error::from_raw_os_error(libc::ENODEV));
    }
    for (d, s) in req.ifr_name.iter_mut().zip(name.as_bytes()) {
        *d = *s as libc::c_char;
    }
    let fd = socket(libc::AF_INET, libc::SOCK_DGRAM, 0)?;
    // SAFETY: SIOCGIFINDEX reads the name and writes the index into `req`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFINDEX, &mut req) })?;
    // SAFETY: the kernel just wrote the index member of the union.
    let index = unsafe { req.ifr_ifru.ifru_ifindex };
    // SAFETY: SIOCGIFMTU reads the name and writes the MTU into `req`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFMTU, &mut req) })?;
    // SAFETY: the kernel just wrote the MTU member of the union.
    let mtu = unsafe { req.ifr_ifru.ifru_mtu };
    // SAFETY: SIOCGIFHWADDR reads the name and writes a sockaddr into `req`.
    cvt(unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFHWADDR, &mut req) })?;
    // SAFETY: the kernel just wrote the hardware-address member of the union.
    let hw = unsafe { req.ifr_ifru.ifru_hwaddr };
    if hw.sa_family != libc::ARPHRD_ETHER {
        return Err(io::Error::from(io::ErrorKind::Unsupported));
    }
    let mut mac = [0u8; 6];
    for (d, s) in mac.iter_mut().zip(hw.sa_data) {
        *d = s as u8;
    }
    Ok(Interface {
        index: u32::try_from(index).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?,
        mac,
        mtu: u32::try_from(mtu).map_err(|_| io::Error::from(io::ErrorKind::InvalidData))?,
    })
}

/// A non-blocking `AF_PACKET`/`SOCK_RAW` socket on interface `index` with
/// `prog` attached before it is bound (so no unfiltered frame is ever
/// queued), our own sent frames ignored where the kernel can
/// (`PACKET_IGNORE_OUTGOING`; the caller still checks `sll_pkttype`).
/// Needs CAP_NET_RAW (EPERM otherwise).
pub fn packet_socket(index: u32, prog: &mut [libc::sock_filter]) -> io::Result<OwnedFd> {
    // Protocol 0: receives nothing until bound with a protocol below.
    let fd = socket(libc::AF_PACKET, libc::SOCK_RAW, 0)?;
    attach_filter(&fd, prog)?;
    let _ = setsockopt_int(&fd, libc::SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    sll.sll_family = libc::AF_PACKET as libc::c_ushort;
    sll.sll_protocol = (libc::ETH_P_ALL as u16).to_be();
    sll.sll_ifindex =
        libc::c_int::try_from(index).map_err(|_| io::Error::from_raw_os_error(libc::ENODEV))?;
    // SAFETY: `sll` is a valid sockaddr_ll of the size we pass.
    cvt(unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&sll as *const libc::sockaddr_ll).cast(),
            size_of::<libc::sockaddr_ll>() as libc::socklen_t,
        )
    })?;
    Ok(fd)
}

/// One non-blocking `send` on a bound socket (a packet socket: one whole frame).
pub fn send(fd: &OwnedFd, buf: &[u8]) -> io::Result<usize> {
    // SAFETY: `buf` is readable for its length.
    let n = unsafe {
        libc::send(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    cvt_size(n)
}

/// One non-blocking `recvfrom` on a packet socket: the frame length and its
/// `sll_pkttype` (`PACKET_HOST`, `PACKET_BROADCAST`, [`PACKET_OUTGOING`], ...).
/// Truncated frames are reported as `InvalidData`.
pub fn recv_frame(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, u8)> {
    // SAFETY: sockaddr_ll is plain old data; all-zero is valid.
    let mut sll: libc::sockaddr_ll = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: `buf` is writable for its length, `sll`/`len` for `len` bytes.
    let n = unsafe {
        libc::recvfrom(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT | libc::MSG_TRUNC,
            (&mut sll as *mut libc::sockaddr_ll).cast(),
            &mut len,
        )
    };
    let n = cvt_size(n)?;
    if n > buf.len() {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    Ok((n, sll.sll_pkttype))
}

/// Asks for a receive buffer of `bytes` (best effort: the kernel caps it
/// at `net.core.rmem_max` unless we may force it).
pub fn set_recv_buffer(fd: &OwnedFd, bytes: i32) {
    if setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, bytes).is_err() {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, bytes);
    }
}

/// Asks for a send buffer of `bytes` (best effort, as [`set_recv_buffer`]).
pub fn set_send_buffer(fd: &OwnedFd, bytes: i32) {
    if setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, bytes).is_err() {
        let _ = setsockopt_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, bytes);
    }
}

/// The address a socket is bound to.
pub fn local_addr(fd: &OwnedFd) -> io::Result<SocketAddr> {
    // SAFETY: zeroed sockaddr_storage is valid; getsockname writes at most `len`.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut len = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    // SAFETY: `ss`/`len` are valid for writes of `len` bytes.
    cvt(unsafe {
        libc::getsockname(
            fd.as_raw_fd(),
            (&mut ss as *mut libc::sockaddr_storage).cast(),
            &mut len,
        )
    })?;
    from_sockaddr(&ss).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))
}

/// One non-blocking `sendto`.
pub fn send_to(fd: &OwnedFd, buf: &[u8], dst: SocketAddr) -> io::Result<usize> {
    let (ss, len) = to_sockaddr(dst);
    // SAFETY: `buf` is readable for its length; `ss` holds `len` bytes of sockaddr.
    let n = unsafe {
        libc::sendto(
            fd.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
            (&ss as *const libc::sockaddr_storage).cast(),
            len,
        )
    };
    cvt_size(n)
}

/// One non-blocking `recv` (raw socket: the whole IP packet).
pub fn recv(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<usize> {
    // SAFETY: `buf` is writable for its length.
    let n = unsafe {
        libc::recv(
            fd.as_raw_fd(),
            buf.as_mut_ptr().cast(),
            buf.len(),
            libc::MSG_DONTWAIT,
        )
    };
    cvt_size(n)
}

/// One non-blocking `recvmsg`: length, source, and (IPv6 with
/// `IPV6_RECVPKTINFO`) the destination address. Truncated datagrams
/// (MSG_TRUNC) are reported as `InvalidData`.
pub fn recv_msg(fd: &OwnedFd, buf: &mut [u8]) -> io::Result<(usize, SocketAddr, Option<Ipv6Addr>)> {
    // SAFETY: all-zero is valid for these plain C structs.
    let mut ss: libc::sockaddr_storage = unsafe { zeroed() };
    let mut cmsg_buf = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: as above.
    let mut msg: libc::msghdr = unsafe { zeroed() };
    msg.msg_name = (&mut ss as *mut libc::sockaddr_storage).cast();
    msg.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    msg.msg_control = cmsg_buf.as_mut_ptr().cast();
    msg.msg_controllen = size_of::<[u64; 16]>() as _;
    // SAFETY: every pointer in `msg` refers to a live local buffer of the stated size.
    let n = unsafe { libc::recvmsg(fd.as_raw_fd(), &mut msg, libc::MSG_DONTWAIT) };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    if msg.msg_flags & libc::MSG_TRUNC != 0 {
        return Err(io::Error::from(io::ErrorKind::InvalidData));
    }
    let src = from_sockaddr(&ss).ok_or_else(|| io::Error::from(io::ErrorKind::InvalidData))?;
    let mut dst = None;
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled,
    // bounded by msg_controllen; IPV6_PKTINFO data is an in6_pktinfo.
    unsafe {
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::IPPROTO_IPV6 && (*c).cmsg_type == libc::IPV6_PKTINFO {
                let info = libc::CMSG_DATA(c)
                    .cast::<libc::in6_pktinfo>()
                    .read_unaligned();
                dst = Some(Ipv6Addr::from(info.ipi6_addr.s6_addr));
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
    }
    Ok((n as usize, src, dst))
}

/// Waits up to `timeout_ms` for any of `fds` to become readable; returns
/// which are.
pub fn poll_readable<const N: usize>(fds: [&OwnedFd; N], timeout_ms: i32) -> io::Result<[bool; N]> {
    let mut p = fds.map(|fd| libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    });
    // SAFETY: `p` is an array of N valid pollfd structs.
    let r = unsafe { libc::poll(p.as_mut_ptr(), N as libc::nfds_t, timeout_ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok([false; N]);
        }
        return Err(e);
    }
    Ok(p.map(|x| x.revents & (libc::POLLIN | libc::POLLERR) != 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interface_mtu_is_the_one_the_kernel_reports() {
        let fd = udp_socket(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).unwrap();
        // An independent source: sysfs (skipped where it is not ours).
        let Some(want) = std::fs::read_to_string("/sys/class/net/lo/mtu")
            .ok()
            .and_then(|t| t.trim().parse::<usize>().ok())
        else {
            return;
        };
        let lo = std::net::IpAddr::V4(Ipv4Addr::LOCALHOST);
        assert_eq!(interface_mtu(&fd, lo), Some(want));
        // TEST-NET-1: no interface holds it.
        let nowhere = std::net::IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77));
        assert_eq!(interface_mtu(&fd, nowhere), None);
    }
}
