//! The platform conformance suite (`os::conformance`) run inside the
//! kernel: a [`Harness`] over the adapter's `WindowsPlatform`, run from
//! MiniportInitializeEx when the adapter's registry value `SelfTest` is 1
//! (PASSIVE_LEVEL; no IOCTL, no test driver). Each check's verdict goes to
//! the debugger (`DbgPrintEx`, IHVNETWORK): "softroce selftest: <check>
//! PASS" or "FAIL: <what>". The carrier check uses IPv6 loopback
//! ([::1]:4791 <-> [::1]:4792). See `docs/WINDOWS.md` for how to run it.
//!
//! Owns: the kernel harness. Must not change the checks.

use core::net::{IpAddr, Ipv6Addr, SocketAddr};
use core::time::Duration;

use crate::os::conformance::{Harness, CHECKS};
use crate::os::{irql, Platform};

use super::ffi::{DPFLTR_ERROR_LEVEL, DPFLTR_IHVNETWORK_ID};
use super::imports::{DbgPrintEx, KeInitializeEvent, KeWaitForSingleObject};
use super::nt::{EXECUTIVE, FALSE, KERNEL_MODE, KEVENT, NOTIFICATION_EVENT};
use super::platform::WindowsPlatform;

/// The longest `wait_until` waits.
const WAIT_LIMIT: Duration = Duration::from_secs(5);

/// Sleeps at PASSIVE_LEVEL (a wait on an event nobody signals).
///
/// IRQL: PASSIVE_LEVEL.
fn sleep(d: Duration) {
    let mut ev = KEVENT::zeroed();
    let units = (d.as_nanos() / 100).clamp(1, i64::MAX as u128) as i64;
    let mut due: i64 = -units;
    // SAFETY: a local event, initialised then waited on with a relative
    // timeout at PASSIVE_LEVEL; nothing else refers to it.
    unsafe {
        KeInitializeEvent(&mut ev, NOTIFICATION_EVENT, FALSE);
        KeWaitForSingleObject(
            core::ptr::addr_of_mut!(ev).cast(),
            EXECUTIVE,
            KERNEL_MODE,
            FALSE,
            &mut due,
        );
    }
}

struct KernelHarness<'a> {
    platform: &'a WindowsPlatform,
}

impl Harness for KernelHarness<'_> {
    /// IRQL: any.
    fn platform(&self) -> &dyn Platform {
        self.platform
    }

    /// IRQL: PASSIVE_LEVEL.
    fn wait_until(&self, done: &dyn Fn() -> bool) -> bool {
        let start = self.platform.now();
        loop {
            if done() {
                return true;
            }
            if self.platform.now().saturating_duration_since(start) > WAIT_LIMIT {
                return false;
            }
            sleep(Duration::from_millis(1));
        }
    }

    /// IRQL: PASSIVE_LEVEL.
    fn pass_time(&self, d: Duration) {
        // The interrupt clock ticks every ~15.6 ms by default: sleep past it.
        sleep(d + Duration::from_millis(16));
    }

    /// IRQL: any.
    fn deterministic(&self) -> bool {
        false
    }

    /// IRQL: any.
    fn carrier_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        let lo = IpAddr::V6(Ipv6Addr::LOCALHOST);
        Some((SocketAddr::new(lo, 4791), SocketAddr::new(lo, 4792)))
    }
}

/// IRQL: <= DIRQL.
fn report(name: &str, what: Option<&str>) {
    let (n, w) = (name.as_bytes(), what.unwrap_or("PASS").as_bytes());
    // SAFETY: NUL-terminated format; each `%.*s` reads exactly the given
    // number of bytes of a live &str.
    unsafe {
        DbgPrintEx(
            DPFLTR_IHVNETWORK_ID,
            DPFLTR_ERROR_LEVEL,
            c"softroce selftest: %.*s %s%.*s\n".as_ptr().cast(),
            n.len() as i32,
            n.as_ptr(),
            if what.is_some() {
                c"FAIL: ".as_ptr()
            } else {
                c"".as_ptr()
            },
            w.len() as i32,
            w.as_ptr(),
        )
    };
}

/// Runs every check once and reports each verdict; returns how many failed.
///
/// IRQL: PASSIVE_LEVEL.
pub fn run(platform: &WindowsPlatform, _carrier: Option<IpAddr>) -> usize {
    irql::assert_passive("selftest::run");
    let h = KernelHarness { platform };
    let mut failed = 0;
    for (name, check) in CHECKS {
        match check(&h) {
            Ok(()) => report(name, None),
            Err(f) => {
                failed += 1;
                report(name, Some(f.what));
            }
        }
    }
    platform.flush_deferred();
    failed
}
