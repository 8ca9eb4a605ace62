//! `softroce rdma-server` / `softroce rdma-client`: peers of librdmacm's
//! `rdma_server` / `rdma_client` examples (port 7471, RDMA_PS_TCP, no private
//! data). Their exchange: the server posts a 16-byte receive and accepts; the
//! client posts a 16-byte receive, connects and SENDs 16 bytes; the server,
//! on that receive, SENDs 16 bytes back; each side then disconnects. Over a
//! hosted adapter driven through the NDK dispatch tables (`consumer`).
//! Owns this exchange; must not touch provider internals.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use softroce::abi::*;

use crate::consumer::{retry_connect, route_source, Dev, Ev, STEP};

const MSG: usize = 16;
const RECV: usize = 1;
const SEND: usize = 2;
const CONNECT: usize = 10;
const COMPLETE: usize = 11;
const ACCEPT: usize = 12;
const DISCONNECT: usize = 13;

/// What our side sends (the examples send 16 bytes whose content nobody checks).
const SERVER_MSG: &[u8; MSG] = b"softroce-server\0";
const CLIENT_MSG: &[u8; MSG] = b"softroce-client\0";

/// Waits for one successful completion with context `want`; returns its bytes.
fn completion(dev: &Dev, want: usize) -> Result<u32, String> {
    let end = Instant::now() + STEP;
    loop {
        if let Some(r) = dev.poll_one() {
            if r.Status != STATUS_SUCCESS {
                return Err(format!(
                    "completion {} failed: {}",
                    r.RequestContext as usize, r.Status
                ));
            }
            if r.RequestContext as usize == want {
                return Ok(r.BytesTransferred);
            }
            return Err(format!(
                "unexpected completion {}",
                r.RequestContext as usize
            ));
        }
        if Instant::now() > end {
            return Err(format!("timed out waiting for completion {want}"));
        }
        std::thread::sleep(Duration::from_micros(100));
    }
}

fn shown(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

pub fn server(addr: IpAddr, port: u16, mtu: u32, wait: Duration) -> Result<(), String> {
    let mut dev = Dev::open(addr, mtu, 16, 1, 1)?;
    let recv = dev.region(MSG, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    let mut send = dev.region(MSG, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)?;
    send.buf.copy_from_slice(SERVER_MSG);
    let _l = dev.listen(SocketAddr::new(addr, port))?;
    eprintln!("rdma-server: listening on {addr}:{port}");
    let c = match dev.event(wait) {
        Some(Ev::ConnectRequest(c)) => c as *mut NDK_CONNECTOR,
        other => return Err(format!("no connect request ({other:?})")),
    };
    dev.post_recv(RECV, recv.sge(0, MSG))?;
    let (ird, ord, _) = dev.connection_data(c)?;
    dev.accept(c, ird, ord, &[], ACCEPT)?;
    dev.expect_done(ACCEPT, "accept")?;
    let n = completion(&dev, RECV)?;
    if n as usize != MSG {
        return Err(format!("received {n} bytes, expected {MSG}"));
    }
    println!("rdma-server: received {n} bytes: {}", shown(&recv.buf));
    dev.post_send(SEND, send.sge(0, MSG))?;
    completion(&dev, SEND)?;
    println!("rdma-server: sent {MSG} bytes");
    if dev.disconnect(c, DISCONNECT)? {
        let _ = dev.wait_done(DISCONNECT, Duration::from_secs(10));
    }
    dev.close_object(c);
    Ok(())
}

pub fn client(
    server: IpAddr,
    bind: Option<IpAddr>,
    port: u16,
    mtu: u32,
    wait: Duration,
) -> Result<(), String> {
    let local = match bind {
        Some(a) => a,
        None => route_source(server)?,
    };
    retry_connect("rdma-client", wait, || attempt(local, server, port, mtu))
}

/// Err((true, _)): not connected.
fn attempt(local: IpAddr, server: IpAddr, port: u16, mtu: u32) -> Result<(), (bool, String)> {
    let pre = |e| (true, e);
    let mut dev = Dev::open(local, mtu, 16, 1, 1).map_err(pre)?;
    let recv = dev
        .region(MSG, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)
        .map_err(pre)?;
    let mut send = dev
        .region(MSG, NDK_MR_FLAG_ALLOW_LOCAL_WRITE)
        .map_err(pre)?;
    send.buf.copy_from_slice(CLIENT_MSG);
    dev.post_recv(RECV, recv.sge(0, MSG)).map_err(pre)?;
    let c = dev.connector().map_err(pre)?;
    dev.connect_complete(
        c,
        SocketAddr::new(server, port),
        (1, 1),
        (CONNECT, COMPLETE),
    )
    .map_err(pre)?;
    let post = |e| (false, e);
    dev.post_send(SEND, send.sge(0, MSG)).map_err(post)?;
    completion(&dev, SEND).map_err(post)?;
    let n = completion(&dev, RECV).map_err(post)?;
    if n as usize != MSG {
        return Err((false, format!("received {n} bytes, expected {MSG}")));
    }
    println!(
        "rdma-client: sent {MSG} bytes, received {n} bytes: {}",
        shown(&recv.buf)
    );
    if dev.disconnect(c, DISCONNECT).map_err(post)? {
        let _ = dev.wait_done(DISCONNECT, Duration::from_secs(10));
    }
    dev.close_object(c);
    Ok(())
}
