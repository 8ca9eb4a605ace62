//! `softroce smbd-probe SERVER [--port 445]`: proves the NDK path speaks SMB
//! Direct with a real server (Linux ksmbd over rxe, or Windows). Over a hosted
//! adapter driven through the NDK dispatch tables (`consumer`): posts its
//! receives, connects (RDMA-CM compatible CM, port 445), runs the sans-IO
//! `softroce::smbd::Probe` (SMBD negotiation, then an SMB2 NEGOTIATE inside
//! Data Transfer messages), prints what the server negotiated, disconnects.
//! Owns the glue between NDK completions and the probe; must not interpret
//! SMB Direct or SMB2 bytes itself (that is `softroce::smbd`).

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use softroce::abi::*;
use softroce::smbd::{smb2, Config, Probe, Step};

use crate::consumer::{retry_connect, route_source, Dev, Region, STEP};

/// Receives kept posted (each of the SMBD receive size).
const RECEIVES: usize = 16;
/// Request tags: receive i is `RECV + i`.
const RECV: usize = 100;
const SEND: usize = 1;
const CONNECT: usize = 10;
const COMPLETE: usize = 11;
const DISCONNECT: usize = 13;

/// Options of `smbd-probe`.
pub struct Opts {
    pub server: IpAddr,
    pub bind: Option<IpAddr>,
    pub port: u16,
    /// The adapter's RoCE path MTU in bytes (`--mtu`).
    pub mtu: u32,
    /// Offer SMB 3.1.1 too (with its preauth integrity context).
    pub smb311: bool,
    /// Seconds to keep retrying the connection.
    pub wait: Duration,
    /// Seconds one protocol step may take.
    pub timeout: Duration,
}

pub fn run(o: &Opts) -> Result<(), String> {
    let local = match o.bind {
        Some(a) => a,
        None => route_source(o.server)?,
    };
    retry_connect("smbd-probe", o.wait, || attempt(o, local))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The next completion, or an error after `t`.
fn completion(dev: &Dev, t: Duration, what: &str) -> Result<NDK_RESULT_EX, String> {
    let end = Instant::now() + t;
    loop {
        if let Some(r) = dev.poll_one() {
            return Ok(r);
        }
        if dev.disconnected() {
            return Err(format!("the server disconnected while waiting for {what}"));
        }
        if Instant::now() > end {
            return Err(format!("timed out after {t:?} waiting for {what}"));
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

struct Conn<'a> {
    dev: &'a Dev,
    recv: &'a Region,
    send: &'a mut Region,
    size: usize,
    timeout: Duration,
}

impl Conn<'_> {
    fn post_recv(&self, i: usize) -> Result<(), String> {
        self.dev
            .post_recv(RECV + i, self.recv.sge(i * self.size, self.size))
    }

    /// Sends the first `n` bytes of the send buffer and waits for the send's
    /// completion; receives completing meanwhile are returned for later.
    fn send(&mut self, n: usize, early: &mut Vec<NDK_RESULT_EX>) -> Result<(), String> {
        self.dev.post_send(SEND, self.send.sge(0, n))?;
        loop {
            let r = completion(self.dev, self.timeout, "a send completion")?;
            if r.RequestContext as usize == SEND {
                if r.Status != STATUS_SUCCESS {
                    return Err(format!("send failed: {}", r.Status));
                }
                return Ok(());
            }
            early.push(r);
        }
    }

    /// The next receive completion (from `early` first): its index and bytes.
    fn receive(&self, early: &mut Vec<NDK_RESULT_EX>) -> Result<(usize, usize), String> {
        let r = if early.is_empty() {
            completion(self.dev, self.timeout, "a message from the server")?
        } else {
            early.remove(0)
        };
        let tag = r.RequestContext as usize;
        if r.Status != STATUS_SUCCESS {
            return Err(format!("completion {tag} failed: {}", r.Status));
        }
        let i = tag
            .checked_sub(RECV)
            .filter(|i| *i < RECEIVES)
            .ok_or(format!("unexpected completion {tag}"))?;
        Ok((i, r.BytesTransferred as usize))
    }
}

/// Err((true, _)): the connection was not made (retry).
fn attempt(o: &Opts, local: IpAddr) -> Result<(), (bool, String)> {
    let pre = |e| (true, e);
    let post = |e| (false, e);
    let cfg = Config::default();
    let size = cfg.max_receive_size as usize;
    let mut dialects = vec![
        smb2::DIALECT_202,
        smb2::DIALECT_210,
        smb2::DIALECT_300,
        smb2::DIALECT_302,
    ];
    if o.smb311 {
        dialects.push(smb2::DIALECT_311);
    }
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_le_bytes();
    let mut guid = [0u8; 16];
    guid.copy_from_slice(&seed);
    let salt = [seed, seed].concat();
    let mut salt32 = [0u8; 32];
    salt32.copy_from_slice(&salt);
    let mut probe = Probe::new(cfg, &dialects, guid, salt32);

    let mut dev = Dev::open(local, o.mtu, 4 * RECEIVES as u32, RECEIVES as u32, 4).map_err(pre)?;
    let recv = dev
        .region(size * RECEIVES, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)
        .map_err(pre)?;
    let mut send = dev
        .region(cfg.max_send_size as usize, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)
        .map_err(pre)?;
    let conn = Conn {
        dev: &dev,
        recv: &recv,
        send: &mut send,
        size,
        timeout: o.timeout,
    };
    // SMB Direct: receives before the connection (the server may send as
    // soon as it is up).
    for i in 0..RECEIVES {
        conn.post_recv(i).map_err(pre)?;
        probe.receive_posted();
    }
    let c = dev.connector().map_err(pre)?;
    let dst = SocketAddr::new(o.server, o.port);
    dev.connect_complete(c, dst, (8, 8), (CONNECT, COMPLETE))
        .map_err(|e| {
            let why = if e.contains("CONNECTION_REFUSED") {
                " (REJ: nothing listens on that RDMA-CM port; is ksmbd's RDMA transport up?)"
            } else if e.contains("IO_TIMEOUT") {
                " (no answer to the CM REQ)"
            } else {
                ""
            };
            (true, format!("connect to {dst}: {e}{why}"))
        })?;
    println!("smbd-probe: connected {local} -> {dst}");
    let r = negotiate(&mut probe, &dev, &recv, &mut send, size, o.timeout);
    // Disconnect whatever the outcome.
    match dev.disconnect(c, DISCONNECT) {
        Ok(true) => {
            if let Ok(s) = dev.wait_done(DISCONNECT, STEP) {
                if s != STATUS_SUCCESS {
                    eprintln!("smbd-probe: disconnect: {s}");
                }
            }
        }
        Ok(false) => {}
        Err(e) => eprintln!("smbd-probe: disconnect: {e}"),
    }
    dev.close_object(c);
    r.map_err(post)?;
    println!("smbd-probe: disconnected; PASS");
    Ok(())
}

fn negotiate(
    probe: &mut Probe,
    dev: &Dev,
    recv: &Region,
    send: &mut Region,
    size: usize,
    timeout: Duration,
) -> Result<(), String> {
    let mut conn = Conn {
        dev,
        recv,
        send,
        size,
        timeout,
    };
    let mut early = Vec::new();
    let n = probe.start(&mut conn.send.buf).map_err(|e| e.to_string())?;
    conn.send(n, &mut early)?;
    println!(
        "smbd-probe: sent SMBD Negotiate Request ({n} bytes): {}",
        hex(&conn.send.buf[..n])
    );
    let t0 = Instant::now();
    loop {
        let (i, len) = conn.receive(&mut early)?;
        let msg = recv
            .buf
            .get(i * size..i * size + len.min(size))
            .ok_or("receive beyond its buffer")?;
        let step = probe.on_receive(msg).map_err(|e| {
            format!(
                "bad message from the server ({len} bytes: {}): {e}",
                hex(&msg[..msg.len().min(64)])
            )
        })?;
        conn.post_recv(i)?;
        probe.receive_posted();
        match step {
            Step::Negotiated(ng) => {
                println!("smbd-probe: SMBD response: {}", ng.response);
                println!(
                    "smbd-probe: SMBD negotiated: version 0x0100 max_send_size {} max_receive_size {} max_fragmented_send_size {} max_read_write_size {} send_credits {} receive_credit_target {}",
                    ng.max_send_size,
                    ng.max_receive_size,
                    ng.max_fragmented_send_size,
                    ng.max_read_write_size,
                    ng.send_credits,
                    ng.receive_credit_target
                );
            }
            Step::Continue => {}
            Step::Done(r) => {
                println!(
                    "smbd-probe: SMB2 NEGOTIATE response: dialect {:#06x} security_mode {:#06x} capabilities {:#010x} ({}) max_transact {} max_read {} max_write {} security_buffer {} bytes negotiate_contexts {} credits {} server_guid {} ({:.1} ms after the SMBD negotiate)",
                    r.dialect,
                    r.security_mode,
                    r.capabilities,
                    smb2::CapabilityNames(r.capabilities),
                    r.max_transact_size,
                    r.max_read_size,
                    r.max_write_size,
                    r.security_buffer_len,
                    r.negotiate_contexts,
                    r.credits,
                    hex(&r.server_guid),
                    t0.elapsed().as_secs_f64() * 1e3
                );
                let s = probe.smbd();
                println!(
                    "smbd-probe: SMBD credits at the end: send {} receive (granted to the server) {} posted {}",
                    s.send_credits(),
                    s.receive_credits(),
                    s.posted_receives()
                );
                return Ok(());
            }
        }
        while let Some(n) = probe
            .next_send(&mut conn.send.buf)
            .map_err(|e| e.to_string())?
        {
            conn.send(n, &mut early)?;
            let s = probe.smbd();
            println!(
                "smbd-probe: sent SMBD Data Transfer ({n} bytes; credits now send {} receive {})",
                s.send_credits(),
                s.receive_credits()
            );
        }
    }
}
