//! `softroce rc-pingpong`: a peer of rdma-core's `ibv_rc_pingpong` (written
//! from its protocol facts). A TCP side channel (port 18515) exchanges
//! "LID:QPN:PSN:GID" as `%04x:%06x:%06x:%s` (GID as 32 hex digits, the 16
//! bytes in order; IPv4-mapped for RoCEv2 over IPv4, the address itself for
//! RoCEv2 over IPv6, as rxe's GID table holds them) in a 52-byte message
//! with its NUL: the client writes first, the server connects its QP, answers,
//! and waits for the client's "done\0". Each side sends from its own PSN and
//! expects the peer's. Then `-n` RC SEND/RECV ping-pongs of `-s` bytes (the
//! client sends first; each side sends again once its send completed and a
//! message arrived). Every message carries bytes 0x7b (ibv_rc_pingpong's
//! buffer fill), checked on arrival. The QP is connected without the CM by
//! the hosted verbs-compatibility extension `softroce_qp_connect_raw`.
//! Owns this tool; must not touch provider internals.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use softroce::abi::*;
use softroce::os::hosted::entry::{softroce_qp_connect_raw, softroce_qp_number};
use softroce::os::hosted::raw::RawConnect;

use crate::consumer::{route_source, Dev};

const RECV: usize = 1;
const SEND: usize = 2;
/// ibv_rc_pingpong's buffer fill.
const FILL: u8 = 0x7b;
/// "0000:000000:000000:" + 32 hex digits + NUL.
const MSG_LEN: usize = 52;
const STEP: Duration = Duration::from_secs(30);

pub struct Opts {
    /// Client: the server to connect to; None: be the server.
    pub server: Option<IpAddr>,
    /// Our address (default: the route's source; server: required).
    pub bind: Option<IpAddr>,
    pub port: u16,
    pub size: usize,
    pub mtu: u32,
    pub rx_depth: u32,
    pub iters: u32,
    /// Seconds the client keeps retrying the TCP connection / the server waits.
    pub wait: Duration,
}

/// The RoCEv2 GID of an address: IPv4-mapped for IPv4, the address for IPv6.
fn gid_of(ip: IpAddr) -> Ipv6Addr {
    match ip {
        IpAddr::V4(v4) => v4.to_ipv6_mapped(),
        IpAddr::V6(v6) => v6,
    }
}

/// Our side's "LID:QPN:PSN:GID" line (NUL-padded to 52 bytes).
pub fn dest_message(qpn: u32, psn: u32, ip: IpAddr) -> [u8; MSG_LEN] {
    let gid = gid_of(ip).octets();
    let hex: String = gid.iter().map(|b| format!("{b:02x}")).collect();
    let s = format!("{:04x}:{:06x}:{:06x}:{hex}", 0, qpn, psn);
    let mut m = [0u8; MSG_LEN];
    m[..s.len()].copy_from_slice(s.as_bytes());
    m
}

/// (qpn, psn, peer address) from a peer's line: an IPv4-mapped GID names an
/// IPv4 peer, any other global GID an IPv6 peer (RoCEv2 GIDs are the
/// addresses). A link-local GID (rxe's index 0, fe80::/10, from the MAC) is
/// refused: it names no routable address without an interface, and
/// ibv_rc_pingpong should be given the index of the address's GID (`-g`).
pub fn parse_dest(m: &[u8]) -> Result<(u32, u32, IpAddr), String> {
    let end = m.iter().position(|&b| b == 0).unwrap_or(m.len());
    let s = std::str::from_utf8(&m[..end]).map_err(|e| e.to_string())?;
    let f: Vec<&str> = s.split(':').collect();
    let [_lid, qpn, psn, gid] = f[..] else {
        return Err(format!("bad destination {s:?}"));
    };
    let hex = |x: &str| u32::from_str_radix(x, 16).map_err(|e| format!("{s:?}: {e}"));
    if gid.len() != 32 {
        return Err(format!("bad GID in {s:?}"));
    }
    let mut g = [0u8; 16];
    for (i, b) in g.iter_mut().enumerate() {
        *b = u8::from_str_radix(&gid[2 * i..2 * i + 2], 16).map_err(|e| format!("{s:?}: {e}"))?;
    }
    let g = Ipv6Addr::from(g);
    let ip = match g.to_ipv4_mapped() {
        Some(v4) => IpAddr::V4(v4),
        None if g.segments()[0] & 0xffc0 == 0xfe80 => {
            return Err(format!(
                "GID {g} is link-local: give ibv_rc_pingpong -g the index of a GID that \
                 is an IPv4-mapped or global IPv6 address"
            ))
        }
        None if g.is_unspecified() || g.is_multicast() => {
            return Err(format!("GID {g} names no peer"))
        }
        None => IpAddr::V6(g),
    };
    Ok((hex(qpn)?, hex(psn)?, ip))
}

fn read_exact_timeout(s: &mut TcpStream, buf: &mut [u8]) -> Result<(), String> {
    s.set_read_timeout(Some(STEP)).map_err(|e| e.to_string())?;
    s.read_exact(buf).map_err(|e| format!("side channel: {e}"))
}

fn psn() -> u32 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(1);
    ((t ^ (t >> 24) ^ u64::from(std::process::id())) & 0xFF_FFFF) as u32
}

pub fn run(o: &Opts) -> Result<(), String> {
    let local = match (o.bind, o.server) {
        (Some(a), _) => a,
        (None, Some(s)) => route_source(s)?,
        (None, None) => return Err("the server needs -I <local address>".into()),
    };
    if o.size == 0 || o.rx_depth == 0 || o.iters == 0 {
        return Err("size, rx depth and iterations must be > 0".into());
    }
    let mut dev = Dev::open(local, o.mtu, o.rx_depth + 16, o.rx_depth, 16)?;
    let recv = dev.region(o.size, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let mut send = dev.region(o.size, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    send.buf.fill(FILL);
    for _ in 0..o.rx_depth {
        dev.post_recv(RECV, recv.sge(0, o.size))?;
    }
    // SAFETY: our open QP.
    let qpn = unsafe { softroce_qp_number(dev.qp) };
    let my_psn = psn();
    let mine = dest_message(qpn, my_psn, local);
    let connect = |dev: &Dev, peer: &[u8]| -> Result<(), String> {
        let (rqpn, rpsn, rip) = parse_dest(peer)?;
        eprintln!(
            "  local address:  LID 0x0000, QPN 0x{qpn:06x}, PSN 0x{my_psn:06x}, GID {}",
            gid_of(local)
        );
        eprintln!(
            "  remote address: LID 0x0000, QPN 0x{rqpn:06x}, PSN 0x{rpsn:06x}, GID {}",
            gid_of(rip)
        );
        if rip.is_ipv4() != local.is_ipv4() {
            return Err(format!(
                "the peer's GID {} is not of our address family ({local})",
                gid_of(rip)
            ));
        }
        let p = RawConnect {
            remote_qpn: rqpn,
            send_psn: my_psn,
            recv_psn: rpsn,
            path_mtu: o.mtu,
            read_limit: 1,
            ..Default::default()
        };
        let ip = std::ffi::CString::new(rip.to_string()).map_err(|e| e.to_string())?;
        // SAFETY: our QP, a NUL-terminated address, readable params.
        let s = unsafe { softroce_qp_connect_raw(dev.qp, ip.as_ptr(), &p) };
        if s == STATUS_SUCCESS {
            Ok(())
        } else {
            Err(format!("softroce_qp_connect_raw: {s}"))
        }
    };
    let mut peer = [0u8; MSG_LEN];
    let _side: TcpStream = match o.server {
        None => {
            // The side channel listens on the family of our address (IPv6:
            // `::`, which takes IPv4 clients too unless the host is v6-only).
            let any = match local {
                IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
            };
            let l = TcpListener::bind(SocketAddr::new(any, o.port))
                .map_err(|e| format!("listen on {}: {e}", o.port))?;
            eprintln!("rc-pingpong server: waiting on TCP port {}", o.port);
            let (mut s, from) = l.accept().map_err(|e| e.to_string())?;
            eprintln!("rc-pingpong server: side channel from {from}");
            read_exact_timeout(&mut s, &mut peer)?;
            connect(&dev, &peer)?;
            s.write_all(&mine).map_err(|e| e.to_string())?;
            let mut done = [0u8; 5];
            read_exact_timeout(&mut s, &mut done)?;
            if &done != b"done\0" {
                return Err(format!("expected \"done\", got {done:?}"));
            }
            s
        }
        Some(server) => {
            let end = Instant::now() + o.wait;
            let mut s = loop {
                match TcpStream::connect_timeout(&SocketAddr::new(server, o.port), STEP) {
                    Ok(s) => break s,
                    Err(e) if Instant::now() < end => {
                        eprintln!("rc-pingpong client: {e}; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                    }
                    Err(e) => return Err(format!("couldn't connect to {server}:{}: {e}", o.port)),
                }
            };
            s.write_all(&mine).map_err(|e| e.to_string())?;
            read_exact_timeout(&mut s, &mut peer)?;
            s.write_all(b"done\0").map_err(|e| e.to_string())?;
            connect(&dev, &peer)?;
            s
        }
    };

    // The ping-pong, as ibv_rc_pingpong runs it.
    let t0 = Instant::now();
    let (mut scnt, mut rcnt) = (0u32, 0u32);
    let mut routs = o.rx_depth;
    let mut pending_recv = true;
    let mut pending_send = false;
    if o.server.is_some() {
        dev.post_send(SEND, send.sge(0, o.size))?;
        pending_send = true;
    }
    let mut idle = Instant::now();
    while rcnt < o.iters || scnt < o.iters {
        let Some(r) = dev.poll_one() else {
            if idle.elapsed() > STEP {
                return Err(format!("stalled after {scnt} sends, {rcnt} receives"));
            }
            std::thread::sleep(Duration::from_micros(20));
            continue;
        };
        idle = Instant::now();
        if r.Status != STATUS_SUCCESS {
            return Err(format!(
                "completion {} failed: {} after {scnt} sends, {rcnt} receives",
                r.RequestContext as usize, r.Status
            ));
        }
        match r.RequestContext as usize {
            SEND => {
                scnt += 1;
                pending_send = false;
            }
            RECV => {
                if r.BytesTransferred as usize != o.size {
                    return Err(format!(
                        "received {} bytes, expected {}",
                        r.BytesTransferred, o.size
                    ));
                }
                if recv.buf.iter().any(|&b| b != FILL) {
                    return Err(format!("message {rcnt}: payload differs from 0x7b bytes"));
                }
                routs -= 1;
                if routs <= 1 {
                    while routs < o.rx_depth {
                        dev.post_recv(RECV, recv.sge(0, o.size))?;
                        routs += 1;
                    }
                }
                rcnt += 1;
                pending_recv = false;
            }
            other => return Err(format!("completion for unknown request {other}")),
        }
        if scnt < o.iters && !pending_recv && !pending_send {
            dev.post_send(SEND, send.sge(0, o.size))?;
            pending_recv = true;
            pending_send = true;
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    let bytes = o.size as u64 * u64::from(o.iters) * 2;
    println!(
        "{bytes} bytes in {secs:.2} seconds = {:.2} Mbit/sec",
        bytes as f64 * 8.0 / secs / 1e6
    );
    println!(
        "{} iters in {secs:.2} seconds = {:.2} usec/iter (payload verified)",
        o.iters,
        secs * 1e6 / f64::from(o.iters)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_line_is_ibv_rc_pingpongs_format() {
        let v4 = IpAddr::V4(Ipv4Addr::new(10, 99, 0, 1));
        let m = dest_message(0x11, 0xabcdef, v4);
        let s = std::str::from_utf8(&m[..51]).unwrap();
        assert_eq!(s, "0000:000011:abcdef:00000000000000000000ffff0a630001");
        assert_eq!(m[51], 0);
        assert_eq!(parse_dest(&m).unwrap(), (0x11, 0xabcdef, v4));
        assert!(parse_dest(b"0000:000011:abcdef:fe800000000000000000000000000001").is_err());
        assert!(parse_dest(b"0000:000011:abcdef:00000000000000000000000000000000").is_err());
    }

    /// RoCEv2 over IPv6: the GID is the address (what ibv_rc_pingpong
    /// prints for rxe's GID of fd99::11 with `-g <its index>`).
    #[test]
    fn destination_line_over_ipv6_carries_the_address_as_gid() {
        let v6: IpAddr = "fd99::1".parse().unwrap();
        let m = dest_message(0x12, 0x000102, v6);
        let s = std::str::from_utf8(&m[..51]).unwrap();
        assert_eq!(s, "0000:000012:000102:fd990000000000000000000000000001");
        assert_eq!(parse_dest(&m).unwrap(), (0x12, 0x102, v6));
        let rxe = b"0000:000011:3c4f1a:fd990000000000000000000000000011\0";
        assert_eq!(
            parse_dest(rxe).unwrap(),
            (0x11, 0x3c4f1a, "fd99::11".parse().unwrap())
        );
    }
}
