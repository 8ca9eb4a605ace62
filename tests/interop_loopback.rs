//! The interop tools against themselves, over real UDP in a private network
//! namespace (`unshare -n`, loopback 127.0.0.1 <-> 127.0.0.2, the real
//! carrier with its raw receive path): `softroce rping -s`/`-c` at the
//! smallest useful, MTU-crossing and largest rping sizes with validation on
//! both sides, `softroce rdma-server`/`rdma-client`, and a client that must
//! fail (no listener); then rping, the rdma_cm example peers and rc-pingpong
//! over IPv6 (fd00::1 <-> fd00::2 on lo; rc-pingpong's GIDs are then the
//! IPv6 addresses). The same binaries then run against Linux rxe in
//! `tests/interop.rs`. Needs root (namespace, raw socket): otherwise it says
//! so and passes without running (CI runs as root).

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_softroce");

/// Runs `script` (sh) in a fresh network namespace with lo up; None if
/// namespaces are unavailable (not root).
fn in_netns(script: &str) -> Option<(i32, String)> {
    let probe = Command::new("unshare").args(["-n", "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        eprintln!("skipped: needs root for a network namespace (unshare -n)");
        return None;
    }
    let out = Command::new("timeout")
        .args(["120", "unshare", "-n", "sh", "-c"])
        .arg(format!("ip link set lo up || exit 97\n{script}"))
        .env("B", BIN)
        .output()
        .expect("unshare runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    Some((out.status.code().unwrap_or(-1), text))
}

/// Server and client (the server started first), both must exit 0.
fn pair(server: &str, client: &str) -> Option<String> {
    pair_after("", server, client)
}

/// `pair` after the shell commands `setup` (addresses, sysctls).
fn pair_after(setup: &str, server: &str, client: &str) -> Option<String> {
    let script = format!(
        "{setup}\n$B {server} & s=$!\nsleep 0.3\n$B {client}; c=$?\nwait $s; echo \"rc client=$c server=$?\"\n"
    );
    let (rc, text) = in_netns(&script)?;
    assert_eq!(rc, 0, "{text}");
    assert!(text.contains("rc client=0 server=0"), "{text}");
    Some(text)
}

#[test]
fn rping_softroce_to_softroce_verified_at_several_sizes() {
    for size in [26usize, 1024, 3000, 65535] {
        let Some(text) = pair(
            &format!("rping -s -a 127.0.0.1 -S {size} -C 30 -V --wait 20"),
            &format!("rping -c -a 127.0.0.1 -I 127.0.0.2 -S {size} -C 30 -V --wait 10"),
        ) else {
            return;
        };
        let want = format!("30 pings of {size} bytes verified");
        assert!(
            text.contains(&format!("rping server: {want}")),
            "server: {text}"
        );
        assert!(
            text.contains(&format!("rping client: {want}")),
            "client: {text}"
        );
    }
}

#[test]
fn rping_verbose_prints_rpings_pattern() {
    let Some(text) = pair(
        "rping -s -a 127.0.0.1 -S 40 -C 3 -v -V --wait 20 -p 7300",
        "rping -c -a 127.0.0.1 -I 127.0.0.2 -S 40 -C 3 -v -V --wait 10 -p 7300",
    ) else {
        return;
    };
    // rping's format: "rdma-ping-%d: " then an ASCII run starting at 'A' + n.
    for line in [
        "ping data: rdma-ping-0: ABCDEFGHIJKLMNOPQRSTUVWXY",
        "ping data: rdma-ping-2: CDEFGHIJKLMNOPQRSTUVWXYZ[",
        "server ping data: rdma-ping-1: BCDEFGHIJKLMNOPQRSTUVWXYZ",
    ] {
        assert!(text.contains(line), "missing {line:?} in {text}");
    }
}

#[test]
fn rdma_server_and_client_exchange_16_bytes() {
    let Some(text) = pair(
        "rdma-server -a 127.0.0.1 --wait 20",
        "rdma-client -s 127.0.0.1 -I 127.0.0.2 --wait 10",
    ) else {
        return;
    };
    assert!(text.contains("rdma-server: received 16 bytes: 736f6674726f63652d636c69656e7400"));
    assert!(text.contains(
        "rdma-client: sent 16 bytes, received 16 bytes: 736f6674726f63652d73657276657200"
    ));
}

#[test]
fn clients_fail_when_nothing_listens_on_their_port() {
    // An adapter answers on 127.0.0.1 (a server on another port), so the
    // REQ is rejected at once: the clients must report failure, not hang.
    for client in [
        "rping -c -a 127.0.0.1 -I 127.0.0.2 -S 64 -C 1",
        "rdma-client -s 127.0.0.1 -I 127.0.0.2",
    ] {
        let script = format!(
            "$B rping -s -a 127.0.0.1 -p 7999 --wait 5 >/dev/null 2>&1 &\nsleep 0.3\n$B {client}"
        );
        let Some((rc, text)) = in_netns(&script) else {
            return;
        };
        assert_eq!(rc, 1, "{text}");
        assert!(text.contains("FAILED"), "{text}");
    }
}

#[test]
fn rc_pingpong_softroce_to_softroce() {
    let Some(text) = pair(
        "rc-pingpong -I 127.0.0.1 -s 4096 -n 200 -p 18600",
        "rc-pingpong 127.0.0.1 -I 127.0.0.2 -s 4096 -n 200 -p 18600 --wait 10",
    ) else {
        return;
    };
    assert_eq!(
        text.matches("200 iters in ").count(),
        2,
        "both sides finished: {text}"
    );
}

/// Two IPv6 addresses on lo (no DAD: usable at once).
const V6: &str =
    "sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.lo.disable_ipv6=0 || exit 96
ip -6 addr add fd00::1/128 dev lo nodad && ip -6 addr add fd00::2/128 dev lo nodad || exit 95";

/// The tools over RoCEv2 over IPv6: rping (validated both sides, a size
/// crossing the MTU), rdma-server/rdma-client, and rc-pingpong, whose side
/// channel then carries IPv6 GIDs (the addresses) and whose QP is connected
/// to the address in the peer's GID.
#[test]
fn the_tools_work_over_ipv6() {
    let Some(text) = pair_after(
        V6,
        "rping -s -a fd00::1 -S 3000 -C 20 -V --wait 20 -p 7310",
        "rping -c -a fd00::1 -I fd00::2 -S 3000 -C 20 -V --wait 10 -p 7310",
    ) else {
        return;
    };
    assert!(
        text.contains("rping client: 20 pings of 3000 bytes verified"),
        "{text}"
    );
    assert!(
        text.contains("rping server: 20 pings of 3000 bytes verified"),
        "{text}"
    );
    let Some(text) = pair_after(
        V6,
        "rdma-server -a fd00::1 --wait 20 -p 7311",
        "rdma-client -s fd00::1 -I fd00::2 --wait 10 -p 7311",
    ) else {
        return;
    };
    assert!(
        text.contains("rdma-client: sent 16 bytes, received 16 bytes"),
        "{text}"
    );
    let Some(text) = pair_after(
        V6,
        "rc-pingpong -I fd00::1 -s 2048 -n 100 -p 18610",
        "rc-pingpong fd00::1 -I fd00::2 -s 2048 -n 100 -p 18610 --wait 10",
    ) else {
        return;
    };
    assert_eq!(text.matches("100 iters in ").count(), 2, "{text}");
    assert!(text.contains("GID fd00::2"), "{text}");
    assert!(text.contains("GID fd00::1"), "{text}");
}
