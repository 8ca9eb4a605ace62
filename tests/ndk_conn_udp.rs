//! A connection over real UDP loopback: two hosted adapters on a real-time
//! platform, 127.0.0.1 and 127.0.0.2 (both :4791), and fd00::1 / fd00::2
//! added to lo, in a private network namespace, with the carrier's raw IPv4
//! receive path so the ICRC is checked over the IP header each packet
//! really had (IPv6: payload length and PKTINFO destination). Needs root (network
//! namespace, raw socket): without it the test says so and passes without
//! running (CI runs as root). Waits are bounded polls, not protocol timing.

mod ndk_common;
mod ndk_conn_common;

use std::time::{Duration, Instant};

use ndk_common::*;
use ndk_conn_common::*;

/// Polls `done` (running the platform's DPCs) for at most 5 s.
fn wait(platform: *mut std::ffi::c_void, what: &str, done: impl Fn() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        unsafe { softroce_platform_run_pending(platform) };
        if done() {
            return;
        }
        assert!(Instant::now() < end, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn connect_and_disconnect_over_udp_loopback_ipv4() {
    if let Err(e) = softroce::os::hosted::netns::isolate_current_thread() {
        eprintln!("skipped: needs root for a network namespace ({e})");
        return;
    }
    exchange("127.0.0.1", "127.0.0.2");
}

#[test]
fn connect_and_disconnect_over_udp_loopback_ipv6() {
    if let Err(e) = softroce::os::hosted::netns::isolate_current_thread() {
        eprintln!("skipped: needs root for a network namespace ({e})");
        return;
    }
    // Two IPv6 addresses on the namespace's lo (`ip` runs in this thread's
    // namespace: a child inherits it).
    for a in ["fd00::1/128", "fd00::2/128"] {
        let ok = std::process::Command::new("ip")
            .args(["-6", "addr", "add", a, "dev", "lo", "nodad"])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            eprintln!("skipped: could not add {a} to lo (no iproute2?)");
            return;
        }
    }
    exchange("fd00::1", "fd00::2");
}

/// Connect, exchange private data and read limits, disconnect, close.
fn exchange(a_ip: &str, b_ip: &str) {
    let platform = unsafe { softroce_platform_real() };
    let a = Side::open_on(platform, a_ip);
    let b = Side::open_on(platform, b_ip);
    assert!(
        a.stats().online && b.stats().online,
        "carriers open on 4791"
    );
    let (l, at) = b.listen(1, 0);
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"over udp", 10), STATUS_PENDING);
    wait(platform, "the ConnectEvent", || b.delivered(1).len() == 1);
    let p = b.delivered(1)[0];
    let (s, _, _, _, data) = b.connection_data(p, 56);
    assert_eq!(s, STATUS_SUCCESS);
    assert_eq!(&data[..8], b"over udp");
    assert_eq!(b.accept_on(p, b.qp, 2, 2, b"welcome", 20), STATUS_PENDING);
    wait(platform, "the connect completion", || {
        !a.completions(10).is_empty()
    });
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    let (s, ird, ord, len, data) = a.connection_data(c, 196);
    assert_eq!((s, len, ird, ord), (STATUS_SUCCESS, 196, 2, 2));
    assert_eq!(&data[..7], b"welcome");
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    wait(platform, "the accept completion", || {
        !b.completions(20).is_empty()
    });
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    let (al, ar) = a.addresses(c);
    let (bl, br) = b.addresses(p);
    assert_eq!((ar, br), (bl, al));
    assert_eq!(a.disconnect(c, 40), STATUS_PENDING);
    wait(platform, "the disconnect", || {
        !a.completions(40).is_empty() && !b.calls(21).is_empty()
    });
    assert_eq!(a.completions(40), vec![STATUS_SUCCESS]);
    assert_eq!(b.calls(21).len(), 1);
    for s in [&a, &b] {
        let st = s.stats();
        assert_eq!(
            (st.rx_bad_icrc, st.rx_unverifiable, st.rx_malformed),
            (0, 0, 0),
            "{st:?}"
        );
        assert!(st.rx_mads >= 2);
    }
    for o in [c.cast::<NDK_PD>(), p.cast(), l.cast()] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    for s in [&a, &b] {
        s.close_objects();
        unsafe { softroce_close_adapter(s.adapter) };
    }
    assert_eq!(
        unsafe { softroce_platform_pool_objects(platform) },
        0,
        "nothing leaked"
    );
    assert_eq!(unsafe { softroce_platform_pool_bytes(platform) }, 0);
    unsafe { softroce_platform_release(platform) };
    softroce::os::hosted::irql_books().assert_clean();
}
