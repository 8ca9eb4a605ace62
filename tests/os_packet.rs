//! The hosted Ethernet frame link (`os::hosted::packet`: the portable
//! `FrameCarrier` over an `AF_PACKET` socket) on a real veth pair between two
//! private network namespaces: ARP resolution happens for real (the first
//! datagrams are held until it does and then arrive first, in order), datagrams
//! cross both ways with their IPv4 header fields (ID 0 + DF from softroce on
//! the wire), an ICRC computed over ID 0 + DF verifies at the receiver, the
//! kernel owning the address sends no ICMP port-unreachable, opening errors
//! are the documented ones, and the `softroce rping` tool runs over
//! `--link` against a UDP-carrier peer.
//!
//! Needs root (CAP_SYS_ADMIN for the namespaces, CAP_NET_RAW for the link)
//! and `ip` (iproute2). Where unsharing a network namespace is not
//! permitted, each test says SKIPPED on stderr and passes; any other
//! failure fails.

use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::{Child, Command};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use softroce::os::hosted::{netns, HostedPlatform};
use softroce::os::{Carrier, CarrierError, DatagramSink, Platform, Received, RxIp};
use softroce::wire::icrc;

// ---------------------------------------------------------------- namespaces

type Job = Box<dyn FnOnce() + Send>;

/// A thread living in its own network namespace, running jobs there
/// (sockets and child processes made by a job belong to that namespace).
struct Ns {
    jobs: mpsc::Sender<Job>,
    /// The thread's id (for `ip link ... netns <tid>`).
    tid: String,
}

impl Ns {
    fn new() -> Ns {
        let (tx, rx) = mpsc::channel::<Job>();
        let (tid_tx, tid_rx) = mpsc::channel();
        std::thread::spawn(move || {
            netns::isolate_current_thread().expect("a second private network namespace");
            let _ = tid_tx.send(thread_id());
            while let Ok(job) = rx.recv() {
                job();
            }
        });
        Ns {
            jobs: tx,
            tid: tid_rx.recv().expect("namespace thread started"),
        }
    }

    fn run<R: Send + 'static>(&self, f: impl FnOnce() -> R + Send + 'static) -> R {
        let (tx, rx) = mpsc::channel();
        self.jobs
            .send(Box::new(move || {
                let _ = tx.send(f());
            }))
            .expect("namespace thread alive");
        rx.recv().expect("namespace job finished")
    }
}

/// The calling thread's id, from /proc (no unsafe needed).
fn thread_id() -> String {
    let p = std::fs::read_link("/proc/thread-self").expect("/proc/thread-self");
    p.file_name().unwrap().to_string_lossy().into_owned()
}

/// Moves the test thread into a private namespace, or says SKIPPED (loudly)
/// when that is not permitted here.
fn isolated(test: &str) -> bool {
    match netns::isolate_current_thread() {
        Ok(()) => true,
        Err(e) if e.raw_os_error() == Some(1) => {
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED {test}: unsharing a network namespace is not permitted ({e}); \
                 run as root for the frame-link tests"
            );
            false
        }
        Err(e) => panic!("private network namespace: {e}"),
    }
}

/// Held while a child process is being started: until its `exec` the child
/// holds copies of every descriptor of this process (close-on-exec or not),
/// so a test that closes a socket and binds its port again takes this lock
/// around both, or a sibling test's child may keep the port bound. Every
/// child of this file is spawned under it.
static SPAWNING: Mutex<()> = Mutex::new(());

fn spawn_turn() -> std::sync::MutexGuard<'static, ()> {
    SPAWNING.lock().unwrap_or_else(|p| p.into_inner())
}

fn ip(args: &str) {
    let child = {
        let _turn = spawn_turn();
        Command::new("ip")
            .args(args.split_whitespace())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
    };
    let out = child
        .and_then(|c| c.wait_with_output())
        .expect("`ip` (iproute2) runs");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const A: &str = "10.77.0.1";
const B: &str = "10.77.0.2";

/// veth `va` (10.77.0.1/24) in the test thread's namespace, its peer `vb`
/// (10.77.0.2/24) in the returned one.
fn veth_pair() -> Ns {
    let peer = Ns::new();
    ip(&format!(
        "link add va type veth peer name vb netns {}",
        peer.tid
    ));
    ip(&format!("addr add {A}/24 dev va"));
    ip("link set va up");
    peer.run(|| {
        ip(&format!("addr add {B}/24 dev vb"));
        ip("link set vb up");
    });
    peer
}

/// `(Icmp OutDestUnreachs, Udp NoPorts)` of the calling thread's namespace.
fn unreachables() -> (u64, u64) {
    let snmp = std::fs::read_to_string("/proc/thread-self/net/snmp").expect("snmp");
    let field = |proto: &str, name: &str| -> u64 {
        let mut lines = snmp.lines().filter(|l| l.starts_with(proto));
        let names: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        let values: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
        let at = names.iter().position(|n| *n == name).unwrap();
        values[at].parse().unwrap()
    };
    (field("Icmp:", "OutDestUnreachs"), field("Udp:", "NoPorts"))
}

// ---------------------------------------------------------------- datagrams

#[derive(Debug, Clone)]
struct Arrival {
    src: SocketAddr,
    dst: SocketAddr,
    ip: RxIp,
    payload: Vec<u8>,
}

#[derive(Default)]
struct Inbox(Mutex<Vec<Arrival>>);

impl DatagramSink for Inbox {
    fn on_datagram(&self, d: &Received<'_>) {
        assert_eq!(softroce::os::current_irql(), softroce::os::Irql::Dispatch);
        self.0.lock().unwrap().push(Arrival {
            src: d.src,
            dst: d.dst,
            ip: d.ip,
            payload: d.payload.to_vec(),
        });
    }
}

impl Inbox {
    fn wait(&self, n: usize) -> Vec<Arrival> {
        let end = Instant::now() + Duration::from_secs(10);
        while self.0.lock().unwrap().len() < n && Instant::now() < end {
            std::thread::sleep(Duration::from_millis(2));
        }
        self.0.lock().unwrap().clone()
    }
}

fn v4(a: &str) -> Ipv4Addr {
    a.parse().unwrap()
}

fn roce(a: &str) -> SocketAddr {
    SocketAddr::new(IpAddr::V4(v4(a)), 4791)
}

/// The 20-byte IPv4 header the ICRC covers (checksum, TOS, TTL are masked).
fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, id: u16, flags: u16, total: u16) -> [u8; 20] {
    let mut h = [0u8; 20];
    h[0] = 0x45;
    h[2..4].copy_from_slice(&total.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&flags.to_be_bytes());
    h[8] = 64;
    h[9] = 17;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    h
}

fn udp_header(sport: u16, dport: u16, payload: usize) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&u16::try_from(payload + 8).unwrap().to_be_bytes());
    h
}

/// A RoCE-shaped UDP payload (BTH, data, ICRC) whose ICRC is computed by
/// `wire::icrc` over the header the sender's carrier promises.
fn sealed(from: &dyn Carrier, to: SocketAddr, tag: u8) -> Vec<u8> {
    let mut p = vec![tag; 12 + 40 + 4];
    p[0] = 0x04; // RC SEND Only, the rest of the BTH is filler
    let tx = from
        .tx_ipv4()
        .expect("the sender promises its IPv4 ID/flags");
    let (IpAddr::V4(s), IpAddr::V4(d)) = (from.local_addr().ip(), to.ip()) else {
        unreachable!()
    };
    let total = u16::try_from(20 + 8 + p.len()).unwrap();
    let iph = ipv4_header(s, d, tx.identification, tx.flags_fragment, total);
    let udph = udp_header(from.local_addr().port(), to.port(), p.len());
    icrc::fill_parts(&iph, &udph, &mut p).unwrap();
    p
}

/// Checks an arrival: IPv4 fields ID 0 + DF as on the wire, lengths, and the
/// ICRC recomputed from the reported fields.
fn check(a: &Arrival, sent: &[u8]) {
    assert_eq!(a.payload, sent);
    let RxIp::V4(f) = a.ip else {
        panic!("not RxIp::V4: {:?}", a.ip)
    };
    assert_eq!(
        (f.ihl, f.identification, f.flags_fragment),
        (5, 0, 0x4000),
        "ID 0 + DF on the wire"
    );
    assert_eq!(usize::from(f.total_length), 28 + sent.len());
    let (IpAddr::V4(s), IpAddr::V4(d)) = (a.src.ip(), a.dst.ip()) else {
        panic!("not IPv4 addresses")
    };
    let iph = ipv4_header(s, d, f.identification, f.flags_fragment, f.total_length);
    let udph = udp_header(a.src.port(), a.dst.port(), a.payload.len());
    assert_eq!(icrc::verify_parts(&iph, &udph, &a.payload), Ok(()));
}

// ---------------------------------------------------------------- tests

#[test]
fn frame_link_resolves_by_arp_and_carries_datagrams_both_ways_with_id_zero_and_df() {
    if !isolated("frame_link_resolves_by_arp...") {
        return;
    }
    let peer = veth_pair();
    let pa = HostedPlatform::new("link-a");
    let inbox_a = Arc::new(Inbox::default());
    let link = pa
        .open_frame_link("va", roce(A), inbox_a.clone())
        .expect("frame link on va (root)");
    assert!(link.rx_icrc_verifiable());
    assert_eq!(link.tx_ipv4(), Some(softroce::os::TxIpv4::ZERO_ID_DF));
    let cfg = link.config();
    assert_eq!(cfg.ip_mtu, 1500, "the interface MTU");
    let child = {
        let _turn = spawn_turn();
        Command::new("ip")
            .args(["-o", "link", "show", "va"])
            .stdout(std::process::Stdio::piped())
            .spawn()
    };
    let shown = child.and_then(|c| c.wait_with_output()).unwrap().stdout;
    let mac = cfg.mac.map(|b| format!("{b:02x}")).join(":");
    assert!(
        String::from_utf8_lossy(&shown).contains(&format!("link/ether {mac}")),
        "the interface MAC {mac}: {}",
        String::from_utf8_lossy(&shown)
    );
    let (inbox_b, udp_b) = peer.run(|| {
        let pb = HostedPlatform::new("udp-b");
        let inbox = Arc::new(Inbox::default());
        let c = pb.open_carrier(roce(B), inbox.clone()).unwrap();
        assert!(c.rx_icrc_verifiable(), "raw receive path active (root)");
        (inbox, (pb, c))
    });
    let (_pb, udp_b) = udp_b;
    let before = unreachables();

    // A -> B: the neighbour is unknown, so the first send asks ARP and the
    // datagrams are held (accepted); Linux in B answers; the held ones go
    // out first, in order, then the later ones.
    let to_b: Vec<Vec<u8>> = (0..5u8).map(|i| sealed(&link, roce(B), 0xA1 + i)).collect();
    for p in &to_b[..3] {
        assert_eq!(link.send(roce(B), p), Ok(()), "held while ARP is asked");
    }
    let got = inbox_b.wait(3);
    assert_eq!(got.len(), 3, "the held datagrams arrive after resolution");
    for p in &to_b[3..] {
        link.send(roce(B), p).unwrap();
    }
    let got = inbox_b.wait(5);
    assert_eq!(got.len(), 5, "A -> B datagrams over the frame link");
    for (a, p) in got.iter().zip(&to_b) {
        assert_eq!((a.src, a.dst), (roce(A), roce(B)));
        check(a, p);
    }
    let s = link.stats();
    assert!(s.arp_requests_sent >= 1, "{s:?}");
    assert!(s.neighbours_learned >= 1, "{s:?}");
    // At least the first was held (the ARP answer could, in theory, come
    // back between two of the three sends); every held one was sent.
    assert!(s.tx_queued >= 1, "{s:?}");
    assert_eq!(
        (s.tx_queue_sent, s.tx_no_neighbour),
        (s.tx_queued, 0),
        "{s:?}"
    );
    assert_eq!(s.tx_frames, 5, "datagrams sent as frames: {s:?}");

    // B -> A: the Linux stack in B resolves A (Linux in A answers), the
    // frame link delivers with the header fields it parsed itself.
    let from_b: Vec<Vec<u8>> = (0..3u8).map(|i| sealed(&*udp_b, roce(A), i)).collect();
    for p in &from_b {
        udp_b.send(roce(A), p).unwrap();
    }
    let got = inbox_a.wait(3);
    assert_eq!(got.len(), 3, "B -> A datagrams over the frame link");
    for (a, p) in got.iter().zip(&from_b) {
        assert_eq!((a.src, a.dst), (roce(B), roce(A)));
        check(a, p);
    }
    assert!(link.stats().rx_delivered >= 3);
    // The kernel in A got its copies too, and the drained UDP socket kept
    // it from answering port-unreachable.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(
        unreachables(),
        before,
        "(ICMP dest unreachable sent, UDP NoPorts) in A"
    );

    // Closed: nothing is delivered any more (and no child of a sibling
    // test may hold the closed socket meanwhile: see SPAWNING).
    let turn = spawn_turn();
    drop(link);
    udp_b.send(roce(A), &from_b[0]).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(inbox_a.0.lock().unwrap().len(), 3);
    // ... and with no socket on the port the kernel now does answer
    // port-unreachable: the counters above can move.
    let after = unreachables();
    assert!(
        after.0 > before.0 && after.1 > before.1,
        "{before:?} -> {after:?}"
    );
    drop(turn);
    drop(udp_b);
}

#[test]
fn frame_link_open_errors_are_the_documented_ones() {
    if !isolated("frame_link_open_errors...") {
        return;
    }
    let _peer = veth_pair();
    let p = HostedPlatform::new("link-err");
    let open = |ifname: &str, local: SocketAddr| {
        p.open_frame_link(ifname, local, Arc::new(Inbox::default()))
            .map(drop)
    };
    assert_eq!(
        open("nosuch0", roce(A)),
        Err(CarrierError::Os(19)),
        "ENODEV"
    );
    assert_eq!(
        open("lo", roce("127.0.0.1")),
        Err(CarrierError::Os(95)),
        "EOPNOTSUPP: not Ethernet"
    );
    assert_eq!(
        open("va", "[fe80::1]:4791".parse().unwrap()),
        Err(CarrierError::Os(97)),
        "EAFNOSUPPORT: IPv6 (ARP resolution is IPv4 only)"
    );
    assert_eq!(
        open("va", roce("10.77.0.9")),
        Err(CarrierError::AddressNotAvailable)
    );
    // The platform knob: open_carrier builds the same link.
    p.use_frame_link(Some("nosuch0"));
    assert_eq!(
        p.open_carrier(roce(A), Arc::new(Inbox::default()))
            .map(drop),
        Err(CarrierError::Os(19))
    );
    // No child may start while the port is bound and closed again.
    let turn = spawn_turn();
    p.use_frame_link(Some("va"));
    let first = p.open_carrier(roce(A), Arc::new(Inbox::default())).unwrap();
    assert_eq!(
        open("va", roce(A)),
        Err(CarrierError::AddressInUse),
        "the UDP socket owns the port"
    );
    drop(first);
    p.use_frame_link(None);
    let udp = p.open_carrier(roce(A), Arc::new(Inbox::default())).unwrap();
    drop(turn);
    assert!(udp.rx_icrc_verifiable(), "back to the UDP carrier");
}

/// Starts `softroce` with `args` (and `env`) in the calling thread's namespace.
fn softroce(args: &str, env: &[(&str, &str)]) -> Child {
    let _turn = spawn_turn();
    Command::new(env!("CARGO_BIN_EXE_softroce"))
        .args(args.split_whitespace())
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("softroce runs")
}

fn finish(c: Child, what: &str) {
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{what}: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `softroce rping` with `--link va` in one namespace, the UDP carrier in
/// the other: server on the link, then client on the link. One multi-packet
/// size (RoCE MTU 1024): each run costs a CM retransmission (the first
/// datagram to an unresolved neighbour is lost).
#[test]
fn rping_runs_over_the_frame_link_against_a_udp_carrier_peer() {
    if !isolated("rping_runs_over_the_frame_link...") {
        return;
    }
    let peer = veth_pair();
    // Server on the frame link (A, --link), client on UDP (B).
    let server = softroce(
        &format!("rping --link va -s -a {A} -p 7300 -S 4000 -C 20 -V --wait 30"),
        &[],
    );
    let client = peer.run(|| {
        softroce(
            &format!("rping -c -a {A} -I {B} -p 7300 -S 4000 -C 20 -V --wait 20"),
            &[],
        )
    });
    finish(client, "rping client (UDP) vs server on the frame link");
    finish(server, "rping server on the frame link");
    // Server on UDP (B), client on the frame link (A, SOFTROCE_LINK).
    let server = peer.run(|| {
        softroce(
            &format!("rping -s -a {B} -p 7301 -S 4000 -C 20 -V --wait 30"),
            &[],
        )
    });
    let client = softroce(
        &format!("rping -c -a {B} -I {A} -p 7301 -S 4000 -C 20 -V --wait 20"),
        &[("SOFTROCE_LINK", "va")],
    );
    finish(client, "rping client on the frame link (SOFTROCE_LINK)");
    finish(server, "rping server (UDP) vs client on the frame link");
}

#[test]
fn the_tool_says_why_the_link_cannot_open() {
    if !isolated("the_tool_says_why...") {
        return;
    }
    let child = {
        let _turn = spawn_turn();
        Command::new(env!("CARGO_BIN_EXE_softroce"))
            .args([
                "rping",
                "--link",
                "nosuch0",
                "-s",
                "-a",
                "127.0.0.1",
                "--wait",
                "1",
            ])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
    };
    let out = child.and_then(|c| c.wait_with_output()).unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("frame link on nosuch0: no such interface"),
        "{err}"
    );
}
