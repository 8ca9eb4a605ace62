//! Test isolation: moves the calling thread into a fresh network namespace
//! with only `lo` (up), so loopback carrier tests can bind 127.0.0.x:4791 and
//! [::1]:4791 without colliding with anything else on the machine. Needs
//! root (CAP_SYS_ADMIN). Threads the caller spawns afterwards inherit it.

use std::io;
use std::mem::zeroed;
use std::os::fd::AsRawFd;

use super::sys;

/// Unshares the calling thread's network namespace and brings `lo` up.
pub fn isolate_current_thread() -> io::Result<()> {
    // SAFETY: plain syscall affecting only the calling thread's namespaces.
    if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
        return Err(io::Error::last_os_error());
    }
    let fd = sys::udp_socket(
        "127.0.0.1:0"
            .parse()
            .map_err(|_| io::ErrorKind::InvalidInput)?,
    )
    .or_else(|_| {
        // `lo` is down, so 127.0.0.1 is not bindable yet: use an unbound socket.
        // SAFETY: plain syscall; the descriptor is wrapped right away.
        let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor nobody else owns.
        Ok(unsafe { <std::os::fd::OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) })
    })?;
    // SAFETY: ifreq is plain old data; all-zero is valid.
    let mut req: libc::ifreq = unsafe { zeroed() };
    for (d, s) in req.ifr_name.iter_mut().zip(b"lo\0") {
        *d = *s as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name and writes the flags into `req`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCGIFFLAGS, &mut req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the flags member of the union was just written by the kernel.
    unsafe { req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short };
    // SAFETY: SIOCSIFFLAGS reads the name and flags from `req`.
    if unsafe { libc::ioctl(fd.as_raw_fd(), libc::SIOCSIFFLAGS, &req) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
