//! Runs the platform conformance suite (`softroce::os::conformance`) on the
//! hosted platforms: the real-time one (DPC worker thread, UDP carrier on
//! loopback inside a private network namespace, with and without the raw
//! IPv4 receive path) and the virtual-clock one (SimNet carrier). The kernel
//! platform runs the same checks from a test driver later.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use softroce::os::conformance::{self, Harness};
use softroce::os::hosted::{irql_books, netns, HostedPlatform, RawReceive, VirtualPlatform};
use softroce::os::Platform;

struct Real {
    p: Arc<HostedPlatform>,
    pair: Option<(SocketAddr, SocketAddr)>,
}

impl Harness for Real {
    fn platform(&self) -> &dyn Platform {
        &*self.p
    }
    fn wait_until(&self, done: &dyn Fn() -> bool) -> bool {
        // Generous bound: the machine is shared and slow builds run beside us.
        for _ in 0..20_000 {
            if done() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        done()
    }
    fn pass_time(&self, d: Duration) {
        std::thread::sleep(d);
    }
    fn deterministic(&self) -> bool {
        false
    }
    fn carrier_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.pair
    }
}

struct Virtual {
    p: Arc<VirtualPlatform>,
    pair: Option<(SocketAddr, SocketAddr)>,
}

impl Harness for Virtual {
    fn platform(&self) -> &dyn Platform {
        &*self.p
    }
    fn wait_until(&self, done: &dyn Fn() -> bool) -> bool {
        for _ in 0..100_000 {
            self.p.run_pending();
            if done() {
                return true;
            }
            self.p.advance(Duration::from_millis(1));
        }
        done()
    }
    fn pass_time(&self, d: Duration) {
        self.p.advance(d);
    }
    fn deterministic(&self) -> bool {
        true
    }
    fn carrier_pair(&self) -> Option<(SocketAddr, SocketAddr)> {
        self.pair
    }
}

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn run(h: &dyn Harness, name: &str) {
    let (_, check) = conformance::CHECKS
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("no check {name}"));
    if let Err(f) = check(h) {
        panic!("{}: {}", f.check, f.what);
    }
    irql_books().assert_clean();
}

fn real(pair: Option<(&str, &str)>, raw: RawReceive) -> Real {
    if pair.is_some() {
        netns::isolate_current_thread().expect("a private network namespace (run as root)");
    }
    let p = HostedPlatform::new("suite");
    p.set_raw_receive(raw);
    Real {
        p,
        pair: pair.map(|(a, b)| (addr(a), addr(b))),
    }
}

fn virt(pair: Option<(&str, &str)>) -> Virtual {
    let p = VirtualPlatform::new(7);
    p.use_simnet(11);
    Virtual {
        p,
        pair: pair.map(|(a, b)| (addr(a), addr(b))),
    }
}

macro_rules! suite {
    ($($check:ident),*) => {
        mod real_thread {
            $(#[test] fn $check() {
                super::run(&super::real(None, softroce::os::hosted::RawReceive::Auto), stringify!($check));
            })*
        }
        mod virtual_clock {
            $(#[test] fn $check() {
                super::run(&super::virt(Some(("10.0.0.1:4791", "10.0.0.2:4791"))), stringify!($check));
            })*
        }
    };
}

suite!(
    clock_monotonic,
    random_differs,
    dpc_runs_at_dispatch,
    timers_fire_in_deadline_order,
    timer_cancel_and_reset,
    lock_exclusion,
    pool_balances
);

#[test]
fn suite_names_every_check() {
    // The macro above lists the checks by hand; this catches a new check
    // that was added to the suite but not to the list.
    let listed = [
        "clock_monotonic",
        "random_differs",
        "dpc_runs_at_dispatch",
        "timers_fire_in_deadline_order",
        "timer_cancel_and_reset",
        "lock_exclusion",
        "pool_balances",
        "carrier_both_ways",
    ];
    let all: Vec<&str> = conformance::CHECKS.iter().map(|(n, _)| *n).collect();
    assert_eq!(all, listed);
}

#[test]
fn carrier_virtual_simnet_v4() {
    run(
        &virt(Some(("10.0.0.1:4791", "10.0.0.2:4791"))),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_virtual_simnet_v6() {
    run(
        &virt(Some(("[fd00::1]:4791", "[fd00::2]:4791"))),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_udp_loopback_v4_same_address() {
    run(
        &real(Some(("127.0.0.1:4791", "127.0.0.1:4792")), RawReceive::Auto),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_udp_loopback_v4_two_addresses_both_on_4791() {
    run(
        &real(Some(("127.0.0.1:4791", "127.0.0.2:4791")), RawReceive::Auto),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_udp_loopback_v4_without_raw_socket() {
    run(
        &real(Some(("127.0.0.1:4791", "127.0.0.2:4791")), RawReceive::Off),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_udp_loopback_v6() {
    run(
        &real(Some(("[::1]:4791", "[::1]:4792")), RawReceive::Auto),
        "carrier_both_ways",
    );
}

#[test]
fn carrier_whole_suite_on_one_real_platform() {
    let h = real(Some(("127.0.0.1:4791", "127.0.0.2:4791")), RawReceive::Auto);
    if let Err(f) = conformance::run_all(&h) {
        panic!("{}: {}", f.check, f.what);
    }
    irql_books().assert_clean();
}
