//! `softroce rping`: an rping-compatible client and server (librdmacm's rping
//! protocol as ROCE-FACTS §4 describes it, written here from those facts),
//! over a hosted adapter driven through the NDK dispatch tables (`consumer`).
//!
//! Per ping: the client fills its start buffer with "rdma-ping-%d: " and an
//! ASCII run, SENDs the 16-byte advertisement `{be64 addr, be32 rkey, be32
//! size}` of it; the server RDMA READs it, SENDs a 16-byte go-ahead; the
//! client SENDs the advertisement of its rdma (sink) buffer; the server RDMA
//! WRITEs the string (strlen + 1 bytes) there and SENDs a go-ahead; the
//! client compares (-V). Owns this protocol; must not touch provider internals.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use softroce::abi::*;

use crate::consumer::{retry_connect, route_source, Dev, Ev, Region, STEP};

/// Request contexts (CQ) and callback tags.
const RECV: usize = 1;
const SEND: usize = 2;
const READ: usize = 3;
const WRITE: usize = 4;
const CONNECT: usize = 10;
const COMPLETE: usize = 11;
const ACCEPT: usize = 12;
const DISCONNECT: usize = 13;

/// rping's largest buffer (its 64 KiB buffer minus one byte).
pub const MAX_SIZE: usize = 65535;
/// rping's smallest buffer: the longest "rdma-ping-%d: " plus its NUL.
pub const MIN_SIZE: usize = 26;

pub struct Opts {
    pub server: bool,
    /// Server: the address to listen on; client: the server's address.
    pub addr: IpAddr,
    /// Client: the local address to use (default: the route's source).
    pub bind: Option<IpAddr>,
    pub port: u16,
    /// The adapter's RoCE path MTU in bytes (`--mtu`).
    pub mtu: u32,
    pub size: usize,
    /// 0: forever (client), any number of pings (server).
    pub count: u32,
    pub verbose: bool,
    pub validate: bool,
    /// How long the server waits for a connection / the client keeps
    /// retrying to connect.
    pub wait: Duration,
}

/// The start buffer of ping `n` of `size` bytes, as rping fills it.
pub fn pattern(n: u32, size: usize) -> Vec<u8> {
    let mut b = format!("rdma-ping-{n}: ").into_bytes();
    b.truncate(size.saturating_sub(1));
    // The run starts at 'A' + n (mod 58) and cycles through 'A'..='z'.
    let mut c = b'A' + (n % 58) as u8;
    while b.len() < size {
        b.push(c);
        c = if c >= b'z' { b'A' } else { c + 1 };
    }
    if let Some(last) = b.last_mut() {
        *last = 0;
    }
    b
}

/// The 16-byte advertisement of `len` bytes of `r`.
fn advert(r: &Region, len: usize) -> [u8; 16] {
    let mut m = [0u8; 16];
    m[..8].copy_from_slice(&r.addr().to_be_bytes());
    m[8..12].copy_from_slice(&r.rkey.to_be_bytes());
    m[12..].copy_from_slice(&(len as u32).to_be_bytes());
    m
}

fn parse_advert(b: &[u8]) -> Option<(u64, u32, u32)> {
    let a = u64::from_be_bytes(b.get(..8)?.try_into().ok()?);
    let k = u32::from_be_bytes(b.get(8..12)?.try_into().ok()?);
    let n = u32::from_be_bytes(b.get(12..16)?.try_into().ok()?);
    Some((a, k, n))
}

fn text(b: &[u8]) -> String {
    let end = b.iter().position(|&c| c == 0).unwrap_or(b.len());
    String::from_utf8_lossy(&b[..end]).into_owned()
}

fn op_name(ctx: usize) -> &'static str {
    match ctx {
        RECV => "receive",
        SEND => "send",
        READ => "read",
        WRITE => "write",
        _ => "request",
    }
}

/// Waits for the next completion (polling the CQ); Err on a failed
/// completion, on a disconnect (when `stop_on_disconnect`) or after STEP.
fn next(dev: &Dev, stop_on_disconnect: bool) -> Result<Option<(usize, u32)>, String> {
    let end = Instant::now() + STEP;
    loop {
        if let Some(r) = dev.poll_one() {
            let ctx = r.RequestContext as usize;
            if r.Status != STATUS_SUCCESS {
                if dev.disconnected() {
                    return Ok(None);
                }
                return Err(format!("{} completion failed: {}", op_name(ctx), r.Status));
            }
            return Ok(Some((ctx, r.BytesTransferred)));
        }
        if stop_on_disconnect && dev.disconnected() {
            return Ok(None);
        }
        if Instant::now() > end {
            return Err("timed out waiting for a completion".into());
        }
        std::thread::sleep(Duration::from_micros(50));
    }
}

pub fn run(o: &Opts) -> Result<(), String> {
    if !(MIN_SIZE..=MAX_SIZE).contains(&o.size) {
        return Err(format!("size {} not in {MIN_SIZE}..={MAX_SIZE}", o.size));
    }
    if o.server {
        return server(o);
    }
    // Connection failures (no listener yet: REJ, or no answer) are retried
    // for `o.wait`; a failure after the connection is never retried.
    retry_connect("rping client", o.wait, || client(o))
}

fn server(o: &Opts) -> Result<(), String> {
    let mut dev = Dev::open(o.addr, o.mtu, 64, 4, 16)?;
    let mut recv = dev.region(16, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let send = dev.region(16, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let mut rdma = dev.region(MAX_SIZE.max(o.size), NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let _l = dev.listen(SocketAddr::new(o.addr, o.port))?;
    eprintln!("rping server: listening on {}:{}", o.addr, o.port);
    let c = match dev.event(o.wait) {
        Some(Ev::ConnectRequest(c)) => c as *mut NDK_CONNECTOR,
        other => return Err(format!("no connect request ({other:?})")),
    };
    dev.post_recv(RECV, recv.sge(0, 16))?;
    let (ird, ord, _) = dev.connection_data(c)?;
    dev.accept(c, ird, ord, &[], ACCEPT)?;
    dev.expect_done(ACCEPT, "accept")?;
    eprintln!("rping server: connected (ird {ird}, ord {ord})");

    #[derive(PartialEq, Debug)]
    enum St {
        ReadAdv,
        Reading(u32),
        WriteAdv,
        Writing,
    }
    let mut st = St::ReadAdv;
    let mut pings = 0u32;
    let t0 = Instant::now();
    while let Some((ctx, bytes)) = next(&dev, st == St::ReadAdv)? {
        match (ctx, &st) {
            (RECV, St::ReadAdv | St::WriteAdv) => {
                if bytes != 16 {
                    return Err(format!("received bogus data, size {bytes}"));
                }
                let (addr, rkey, len) =
                    parse_advert(&recv.buf[..16]).ok_or("short advertisement")?;
                recv.buf.fill(0);
                dev.post_recv(RECV, recv.sge(0, 16))?;
                let len = len as usize;
                if st == St::ReadAdv {
                    if len == 0 || len > rdma.buf.len() {
                        return Err(format!("advertised size {len} out of range"));
                    }
                    rdma.buf[..len].fill(0);
                    dev.post_rdma(true, READ, rdma.sge(0, len), addr, rkey)?;
                    st = St::Reading(len as u32);
                } else {
                    let n = rdma.buf.iter().position(|&b| b == 0).map_or(len, |p| p + 1);
                    if n > len {
                        return Err(format!("sink of {len} bytes too small for {n}"));
                    }
                    dev.post_rdma(false, WRITE, rdma.sge(0, n), addr, rkey)?;
                    st = St::Writing;
                }
            }
            (READ, St::Reading(len)) => {
                let got = &rdma.buf[..*len as usize];
                if o.validate && got != pattern(pings, *len as usize).as_slice() {
                    return Err(format!("ping {pings}: data read differs from the pattern"));
                }
                if o.verbose {
                    println!("server ping data: {}", text(got));
                }
                // rping's go-ahead: its 16-byte send buffer, contents unused.
                dev.post_send(SEND, send.sge(0, 16))?;
                st = St::WriteAdv;
            }
            (WRITE, St::Writing) => {
                dev.post_send(SEND, send.sge(0, 16))?;
                pings += 1;
                st = St::ReadAdv;
            }
            (SEND, _) => {}
            (ctx, st) => return Err(format!("unexpected {} in state {st:?}", op_name(ctx))),
        }
    }
    let secs = t0.elapsed().as_secs_f64();
    if st != St::ReadAdv {
        return Err(format!(
            "peer went away in state {st:?} after {pings} pings"
        ));
    }
    dev.close_object(c);
    println!(
        "rping server: {pings} pings of {} bytes{} in {secs:.2} s",
        o.size,
        if o.validate { " verified" } else { "" }
    );
    if o.count != 0 && pings < o.count {
        return Err(format!("only {pings} of {} pings", o.count));
    }
    Ok(())
}

/// Err((true, _)): the connection was not made.
fn client(o: &Opts) -> Result<(), (bool, String)> {
    let local = match o.bind {
        Some(a) => a,
        None => route_source(o.addr).map_err(|e| (false, e))?,
    };
    let (mut dev, recv, send, start, sink, c) = connect(o, local).map_err(|e| (true, e))?;
    run_pings(o, &mut dev, recv, send, start, sink, c).map_err(|e| (false, e))
}

type Connected = (Dev, Region, Region, Region, Region, *mut NDK_CONNECTOR);

fn connect(o: &Opts, local: IpAddr) -> Result<Connected, String> {
    let mut dev = Dev::open(local, o.mtu, 64, 4, 16)?;
    let recv = dev.region(16, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let send = dev.region(16, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let start = dev.region(
        o.size,
        NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_READ,
    )?;
    let sink = dev.region(
        o.size,
        NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_WRITE,
    )?;
    dev.post_recv(RECV, recv.sge(0, 16))?;
    let c = dev.connector()?;
    // rping's conn_param: responder_resources 1, initiator_depth 1.
    dev.connect_complete(
        c,
        SocketAddr::new(o.addr, o.port),
        (1, 1),
        (CONNECT, COMPLETE),
    )?;
    eprintln!("rping client: connected {local} -> {}:{}", o.addr, o.port);
    Ok((dev, recv, send, start, sink, c))
}

fn run_pings(
    o: &Opts,
    dev: &mut Dev,
    mut recv: Region,
    mut send: Region,
    mut start: Region,
    mut sink: Region,
    c: *mut NDK_CONNECTOR,
) -> Result<(), String> {
    let t0 = Instant::now();
    let mut ping = 0u32;
    let mut result = Ok(());
    'pings: while o.count == 0 || ping < o.count {
        let p = pattern(ping, o.size);
        start.buf.copy_from_slice(&p);
        sink.buf.fill(0);
        for r in [&start, &sink] {
            send.buf.copy_from_slice(&advert(r, o.size));
            if let Err(e) = dev.post_send(SEND, send.sge(0, 16)) {
                result = Err(e);
                break 'pings;
            }
            // Wait for our SEND to complete and the server's go-ahead.
            let (mut sent, mut go) = (false, false);
            while !(sent && go) {
                match next(dev, true) {
                    Ok(Some((SEND, _))) => sent = true,
                    Ok(Some((RECV, 16))) => {
                        go = true;
                        recv.buf.fill(0);
                        if let Err(e) = dev.post_recv(RECV, recv.sge(0, 16)) {
                            result = Err(e);
                            break 'pings;
                        }
                    }
                    Ok(Some((RECV, n))) => {
                        result = Err(format!("received bogus data, size {n}"));
                        break 'pings;
                    }
                    Ok(Some((ctx, _))) => {
                        result = Err(format!("unexpected {} completion", op_name(ctx)));
                        break 'pings;
                    }
                    Ok(None) => {
                        result = Err(format!("server disconnected at ping {ping}"));
                        break 'pings;
                    }
                    Err(e) => {
                        result = Err(e);
                        break 'pings;
                    }
                }
            }
        }
        if o.validate && sink.buf != p {
            result = Err(format!("ping {ping}: data mismatch"));
            break;
        }
        if o.verbose {
            println!("ping data: {}", text(&sink.buf));
        }
        ping += 1;
    }
    let secs = t0.elapsed().as_secs_f64();
    if dev.disconnect(c, DISCONNECT)? {
        let _ = dev.wait_done(DISCONNECT, Duration::from_secs(10));
    }
    dev.close_object(c);
    result?;
    println!(
        "rping client: {ping} pings of {} bytes{} in {secs:.2} s",
        o.size,
        if o.validate { " verified" } else { "" }
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_is_rpings() {
        let p = pattern(0, 30);
        assert_eq!(&p[..], b"rdma-ping-0: ABCDEFGHIJKLMNOP\0");
        let p = pattern(3, 32);
        assert_eq!(&p[..16], b"rdma-ping-3: DEF");
        // The run wraps from 'z' back to 'A'.
        let p = pattern(57, 40);
        assert_eq!(&p[14..18], b"zABC");
    }
}
