//! Connection tests' harness: two (or more) hosted adapters on one
//! virtual-clock platform whose carriers attach to a `SimNet`, driven only
//! through the C entry points and the NDK dispatch tables; per-side PD, CQ
//! and QP; connector/listener callbacks recorded in the suite's `Log`
//! (each checks DISPATCH_LEVEL and no provider lock held); SOCKADDR helpers.
#![allow(dead_code)]

use std::ffi::{c_void, CString};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::Duration;

use softroce::os::hosted::entry::SoftrocePlatform;
use softroce::os::hosted::SimNet;

use super::ndk_common::*;

extern "C" {
    pub fn softroce_platform_advance_ns(p: *const c_void, ns: u64) -> usize;
}

/// CM attribute IDs (byte 16 of the MAD, after BTH 12 + DETH 8).
pub mod attr {
    pub const REQ: u16 = 0x0010;
    pub const MRA: u16 = 0x0011;
    pub const REJ: u16 = 0x0012;
    pub const REP: u16 = 0x0013;
    pub const RTU: u16 = 0x0014;
    pub const DREQ: u16 = 0x0015;
    pub const DREP: u16 = 0x0016;
}

/// The CM attribute of a RoCE UD datagram to QP1 (None for anything else).
pub fn cm_attr(payload: &[u8]) -> Option<u16> {
    if payload.first() != Some(&0x64) || payload.get(5..8) != Some(&[0, 0, 1][..]) {
        return None;
    }
    let b = payload.get(20 + 16..20 + 18)?;
    Some(u16::from_be_bytes([b[0], b[1]]))
}

/// The UDP payload of `repr` sent from `src` to `dst` (IPv4, ID 0 + DF,
/// UDP 4791 -> 4791), ICRC filled: what a peer would put on the wire.
pub fn roce_v4(src: [u8; 4], dst: [u8; 4], repr: &softroce::wire::PacketRepr<'_>) -> Vec<u8> {
    use softroce::wire::{IpRepr, Ipv4Repr};
    let mut pkt = vec![0u8; repr.buffer_len()];
    repr.emit(&mut pkt).unwrap();
    let ip = IpRepr::V4(Ipv4Repr {
        src_addr: src,
        dst_addr: dst,
        tos: 0,
        ident: 0,
        dont_frag: true,
        ttl: 64,
        protocol: 17,
        payload_len: 0,
    });
    let mut hdr = [0u8; 28];
    softroce::wire::ip::emit_roce_headers(&ip, 4791, pkt.len(), &mut hdr).unwrap();
    softroce::wire::icrc::fill_parts(&hdr[..20], &hdr[20..], &mut pkt).unwrap();
    pkt
}

/// One recorded callback of the connection tests.
pub fn rec(p: *mut c_void, what: &'static str, status: i32, object: usize) {
    let c = unsafe { &*(p as *const Ctx) };
    let log = unsafe { &*c.log };
    log.enter();
    log.record(Call {
        what,
        tag: c.tag,
        status,
        object,
    });
    if let Some(h) = c.hook.lock().unwrap().as_mut() {
        h(status);
    }
    log.leave();
}

pub unsafe extern "system" fn on_connect_event(p: *mut c_void, c: *mut NDK_CONNECTOR) {
    rec(p, "connect_event", 0, c as usize);
}
pub unsafe extern "system" fn on_disconnect(p: *mut c_void) {
    rec(p, "disconnect", 0, 0);
}
pub unsafe extern "system" fn on_disconnect_ex(p: *mut c_void, reason: u32) {
    rec(p, "disconnect_ex", reason as i32, 0);
}

pub fn sockaddr(a: SocketAddr) -> (Vec<u8>, u32) {
    match a {
        SocketAddr::V4(v4) => {
            let sa = SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: v4.port().to_be(),
                sin_addr: IN_ADDR::from_octets(v4.ip().octets()),
                sin_zero: [0; 8],
            };
            let b = unsafe {
                std::slice::from_raw_parts(
                    &sa as *const SOCKADDR_IN as *const u8,
                    std::mem::size_of::<SOCKADDR_IN>(),
                )
            };
            (b.to_vec(), b.len() as u32)
        }
        SocketAddr::V6(v6) => {
            let mut b = vec![0u8; std::mem::size_of::<SOCKADDR_IN6>()];
            let p = b.as_mut_ptr() as *mut SOCKADDR_IN6;
            unsafe {
                std::ptr::addr_of_mut!((*p).sin6_family).write_unaligned(AF_INET6);
                std::ptr::addr_of_mut!((*p).sin6_port).write_unaligned(v6.port().to_be());
                std::ptr::addr_of_mut!((*p).sin6_addr).write_unaligned(IN6_ADDR {
                    Byte: v6.ip().octets(),
                });
            }
            let n = b.len() as u32;
            (b, n)
        }
    }
}

/// Reads back a SOCKADDR written by the provider.
pub fn parse_sockaddr(b: &[u8]) -> SocketAddr {
    let family = u16::from_ne_bytes([b[0], b[1]]);
    let port = u16::from_be_bytes([b[2], b[3]]);
    if family == AF_INET {
        SocketAddr::new(IpAddr::from([b[4], b[5], b[6], b[7]]), port)
    } else {
        let mut ip = [0u8; 16];
        ip.copy_from_slice(&b[8..24]);
        SocketAddr::new(IpAddr::from(ip), port)
    }
}

pub fn conn_d(c: *mut NDK_CONNECTOR) -> &'static NDK_CONNECTOR_DISPATCH {
    unsafe { &*(*c).Dispatch }
}
pub fn lis_d(l: *mut NDK_LISTENER) -> &'static NDK_LISTENER_DISPATCH {
    unsafe { &*(*l).Dispatch }
}
pub fn se_d(s: *mut NDK_SHARED_ENDPOINT) -> &'static NDK_SHARED_ENDPOINT_DISPATCH {
    unsafe { &*(*s).Dispatch }
}

/// A platform with a SimNet and the adapters on it.
pub struct Net {
    pub platform: *mut c_void,
    pub sim: SimNet,
    pub adapters: Vec<*mut NDK_ADAPTER>,
}

impl Net {
    pub fn new(seed: u64) -> Net {
        let platform = unsafe { softroce_platform_virtual(seed) };
        let sim = match unsafe { &*(platform as *const SoftrocePlatform) } {
            SoftrocePlatform::Virtual(p) => p.use_simnet(seed),
            SoftrocePlatform::Real(_) => unreachable!(),
        };
        Net {
            platform,
            sim,
            adapters: Vec::new(),
        }
    }

    pub fn adapter(&mut self, ip: &str) -> Side {
        let c = CString::new(ip).unwrap();
        let mut adapter = std::ptr::null_mut();
        let s = unsafe { softroce_open_adapter_on(self.platform, c.as_ptr(), V21, &mut adapter) };
        assert_eq!(s, STATUS_SUCCESS);
        self.adapters.push(adapter);
        Side::new(adapter, ip.parse().unwrap())
    }

    /// An adapter at `ip` on a network of its own (`ndk::open_adapter`,
    /// not the hosted registry's shared one), closed by `finish`.
    pub fn private_adapter(&mut self, ip: &str) -> Side {
        let platform = match unsafe { &*(self.platform as *const SoftrocePlatform) } {
            SoftrocePlatform::Virtual(p) => p.clone(),
            SoftrocePlatform::Real(_) => unreachable!(),
        };
        let adapter = softroce::ndk::open_adapter(ip.parse().unwrap(), V21, platform)
            .unwrap()
            .as_ptr();
        self.adapters.push(adapter);
        Side::new(adapter, ip.parse().unwrap())
    }

    pub fn run(&self) -> usize {
        unsafe { softroce_platform_run_pending(self.platform) }
    }

    pub fn advance(&self, d: Duration) -> usize {
        unsafe { softroce_platform_advance_ns(self.platform, d.as_nanos() as u64) }
    }

    pub fn pool_objects(&self) -> usize {
        unsafe { softroce_platform_pool_objects(self.platform) }
    }

    pub fn set_pool_limit(&self, bytes: usize) {
        unsafe { softroce_platform_set_pool_limit(self.platform, bytes) }
    }

    pub fn pool_bytes(&self) -> usize {
        unsafe { softroce_platform_pool_bytes(self.platform) }
    }

    /// Closes every adapter and checks the books: pool empty, IRQL clean.
    pub fn finish(self) {
        for a in &self.adapters {
            unsafe { softroce_close_adapter(*a) };
        }
        assert_eq!(self.pool_bytes(), 0, "pool bytes leaked");
        assert_eq!(self.pool_objects(), 0, "pool objects leaked");
        unsafe { softroce_platform_release(self.platform) };
        softroce::os::hosted::irql_books().assert_clean();
    }
}

/// One adapter with a PD, a CQ and a QP, and a callback log.
pub struct Side {
    pub adapter: *mut NDK_ADAPTER,
    pub ip: IpAddr,
    pub pd: *mut NDK_PD,
    pub cq: *mut NDK_CQ,
    pub qp: *mut NDK_QP,
    pub log: Box<Log>,
    /// Boxed: the provider holds their addresses.
    #[allow(clippy::vec_box)]
    pub ctxs: Mutex<Vec<Box<Ctx>>>,
    /// QPs made by `new_qp` after the first (closed by `close_objects`).
    pub extra_qps: Mutex<Vec<usize>>,
}

impl Side {
    /// Opens an adapter at `ip` on `platform` with its PD, CQ and QP.
    pub fn open_on(platform: *mut c_void, ip: &str) -> Side {
        let c = CString::new(ip).unwrap();
        let mut adapter = std::ptr::null_mut();
        let s = unsafe { softroce_open_adapter_on(platform, c.as_ptr(), V21, &mut adapter) };
        assert_eq!(s, STATUS_SUCCESS);
        Side::new(adapter, ip.parse().unwrap())
    }

    fn new(adapter: *mut NDK_ADAPTER, ip: IpAddr) -> Side {
        let log = Box::new(Log::default());
        let mut side = Side {
            adapter,
            ip,
            pd: std::ptr::null_mut(),
            cq: std::ptr::null_mut(),
            qp: std::ptr::null_mut(),
            log,
            ctxs: Mutex::new(Vec::new()),
            extra_qps: Mutex::new(Vec::new()),
        };
        let d = side.d();
        let mut pd = std::ptr::null_mut();
        assert_eq!(
            unsafe { (d.NdkCreatePd)(adapter, None, std::ptr::null_mut(), &mut pd) },
            STATUS_SUCCESS
        );
        side.pd = pd;
        let ctx = side.ctx(900);
        let mut cq = std::ptr::null_mut();
        let s = unsafe {
            (d.NdkCreateCq)(
                adapter,
                64,
                Some(on_notify),
                ctx,
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
                &mut cq,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        side.cq = cq;
        side.qp = qp(side.pd, side.cq, 0x51, 16, 16).unwrap();
        side
    }

    pub fn d(&self) -> &'static NDK_ADAPTER_DISPATCH {
        unsafe { &*(*self.adapter).Dispatch }
    }

    /// Another QP on the side's PD and CQ.
    pub fn new_qp(&self) -> *mut NDK_QP {
        let q = qp(self.pd, self.cq, 0x52, 16, 16).unwrap();
        self.extra_qps.lock().unwrap().push(q as usize);
        q
    }

    /// A context recording into this side's log with `tag`.
    pub fn ctx(&self, tag: usize) -> *mut c_void {
        let c = Ctx::new(&self.log, tag);
        let p = c.ptr();
        self.ctxs.lock().unwrap().push(c);
        p
    }

    /// A context whose callback runs `hook`.
    pub fn ctx_hook(&self, tag: usize, hook: Hook) -> *mut c_void {
        let c = Ctx::new(&self.log, tag);
        *c.hook.lock().unwrap() = Some(hook);
        let p = c.ptr();
        self.ctxs.lock().unwrap().push(c);
        p
    }

    /// Starts a fresh log (long runs reuse tags).
    pub fn log_reset(&self) {
        self.log.clear();
    }

    /// Clears the log but for the calls recorded with `keep`.
    pub fn log_reset_keep(&self, keep: usize) {
        self.log.retain(|c| c.tag == keep);
    }

    pub fn calls(&self, tag: usize) -> Vec<Call> {
        self.log
            .calls()
            .into_iter()
            .filter(|c| c.tag == tag)
            .collect()
    }

    /// The statuses of request completions recorded with `tag`.
    pub fn completions(&self, tag: usize) -> Vec<NtStatus> {
        self.calls(tag)
            .iter()
            .filter(|c| c.what == "request")
            .map(|c| NtStatus(c.status))
            .collect()
    }

    /// Connectors delivered by connect events recorded with `tag`.
    pub fn delivered(&self, tag: usize) -> Vec<*mut NDK_CONNECTOR> {
        self.calls(tag)
            .iter()
            .filter(|c| c.what == "connect_event")
            .map(|c| c.object as *mut NDK_CONNECTOR)
            .collect()
    }

    pub fn connector(&self) -> *mut NDK_CONNECTOR {
        let mut c = std::ptr::null_mut();
        let s = unsafe {
            (self.d().NdkCreateConnector)(self.adapter, None, std::ptr::null_mut(), &mut c)
        };
        assert_eq!(s, STATUS_SUCCESS);
        c
    }

    pub fn listener(&self, tag: usize) -> Result<*mut NDK_LISTENER, NtStatus> {
        let mut l = std::ptr::null_mut();
        let ctx = self.ctx(tag);
        let s = unsafe {
            (self.d().NdkCreateListener)(
                self.adapter,
                Some(on_connect_event),
                ctx,
                None,
                std::ptr::null_mut(),
                &mut l,
            )
        };
        if s == STATUS_SUCCESS {
            Ok(l)
        } else {
            Err(s)
        }
    }

    /// NdkListen on `addr`; SUCCESS gives the bound address.
    pub fn listen_on(
        &self,
        l: *mut NDK_LISTENER,
        addr: SocketAddr,
    ) -> Result<SocketAddr, NtStatus> {
        let (sa, n) = sockaddr(addr);
        let s =
            unsafe { (lis_d(l).NdkListen)(l, sa.as_ptr().cast(), n, None, std::ptr::null_mut()) };
        if s != STATUS_SUCCESS {
            return Err(s);
        }
        let mut out = [0u8; 28];
        let mut len = out.len() as u32;
        let s =
            unsafe { (lis_d(l).NdkGetListenerLocalAddress)(l, out.as_mut_ptr().cast(), &mut len) };
        assert_eq!(s, STATUS_SUCCESS);
        Ok(parse_sockaddr(&out[..len as usize]))
    }

    /// A listener listening on this adapter's address, `port`.
    pub fn listen(&self, tag: usize, port: u16) -> (*mut NDK_LISTENER, SocketAddr) {
        let l = self.listener(tag).unwrap();
        let a = self.listen_on(l, SocketAddr::new(self.ip, port)).unwrap();
        (l, a)
    }

    /// NdkConnect from this adapter's address (`src_port`) on `qp`.
    #[allow(clippy::too_many_arguments)]
    pub fn connect_from(
        &self,
        c: *mut NDK_CONNECTOR,
        qp: *mut NDK_QP,
        src: SocketAddr,
        dst: SocketAddr,
        ird: u32,
        ord: u32,
        data: &[u8],
        tag: usize,
    ) -> NtStatus {
        let (s, sn) = sockaddr(src);
        let (d, dn) = sockaddr(dst);
        let ctx = self.ctx(tag);
        unsafe {
            (conn_d(c).NdkConnect)(
                c,
                qp,
                s.as_ptr().cast(),
                sn,
                d.as_ptr().cast(),
                dn,
                ird,
                ord,
                data.as_ptr().cast(),
                data.len() as u32,
                Some(on_request),
                ctx,
            )
        }
    }

    pub fn connect(
        &self,
        c: *mut NDK_CONNECTOR,
        dst: SocketAddr,
        data: &[u8],
        tag: usize,
    ) -> NtStatus {
        self.connect_from(
            c,
            self.qp,
            SocketAddr::new(self.ip, 0),
            dst,
            8,
            8,
            data,
            tag,
        )
    }

    /// NdkAcceptEx on `qp` with a DisconnectEventEx recorded under `tag + 1`.
    #[allow(clippy::too_many_arguments)]
    pub fn accept_on(
        &self,
        c: *mut NDK_CONNECTOR,
        qp: *mut NDK_QP,
        ird: u32,
        ord: u32,
        data: &[u8],
        tag: usize,
    ) -> NtStatus {
        let ctx = self.ctx(tag);
        let dctx = self.ctx(tag + 1);
        unsafe {
            (conn_d(c).NdkAcceptEx)(
                c,
                qp,
                ird,
                ord,
                data.as_ptr().cast(),
                data.len() as u32,
                Some(on_disconnect_ex),
                dctx,
                Some(on_request),
                ctx,
            )
        }
    }

    /// NdkCompleteConnectEx with a DisconnectEventEx recorded under `tag + 1`.
    pub fn complete(&self, c: *mut NDK_CONNECTOR, tag: usize) -> NtStatus {
        let ctx = self.ctx(tag);
        let dctx = self.ctx(tag + 1);
        unsafe {
            (conn_d(c).NdkCompleteConnectEx)(c, Some(on_disconnect_ex), dctx, Some(on_request), ctx)
        }
    }

    pub fn disconnect(&self, c: *mut NDK_CONNECTOR, tag: usize) -> NtStatus {
        let ctx = self.ctx(tag);
        unsafe { (conn_d(c).NdkDisconnect)(c, Some(on_request), ctx) }
    }

    pub fn reject(&self, c: *mut NDK_CONNECTOR, data: &[u8]) -> NtStatus {
        unsafe { (conn_d(c).NdkReject)(c, data.as_ptr().cast(), data.len() as u32) }
    }

    /// NdkGetConnectionData with a buffer of `cap` bytes: (status, ird, ord, len, data).
    pub fn connection_data(
        &self,
        c: *mut NDK_CONNECTOR,
        cap: u32,
    ) -> (NtStatus, u32, u32, u32, Vec<u8>) {
        let (mut ird, mut ord) = (u32::MAX, u32::MAX);
        let mut buf = vec![0u8; cap as usize];
        let mut len = cap;
        let p = if cap == 0 {
            std::ptr::null_mut()
        } else {
            buf.as_mut_ptr().cast()
        };
        let s = unsafe { (conn_d(c).NdkGetConnectionData)(c, &mut ird, &mut ord, p, &mut len) };
        (s, ird, ord, len, buf)
    }

    /// NdkGetLocalAddress / NdkGetPeerAddress of a connector.
    pub fn addresses(&self, c: *mut NDK_CONNECTOR) -> (SocketAddr, SocketAddr) {
        let get = |f: NDK_FN_GET_LOCAL_ADDRESS| {
            let mut out = [0u8; 28];
            let mut len = 28u32;
            let s = unsafe { f(c, out.as_mut_ptr().cast(), &mut len) };
            assert_eq!(s, STATUS_SUCCESS);
            parse_sockaddr(&out[..len as usize])
        };
        (
            get(conn_d(c).NdkGetLocalAddress),
            get(conn_d(c).NdkGetPeerAddress),
        )
    }

    pub fn stats(&self) -> softroce::ndk::net::NetStats {
        let a = unsafe { softroce::ndk::Adapter::from_ndk(self.adapter) }.unwrap();
        a.net_stats()
    }

    /// Closes the side's QP, CQ and PD (after the connectors).
    pub fn close_objects(&self) {
        for q in self.extra_qps.lock().unwrap().drain(..) {
            assert_eq!(close_obj(q as *mut NDK_QP, None), STATUS_SUCCESS);
        }
        for o in [self.qp as *mut NDK_PD, self.cq as *mut NDK_PD, self.pd] {
            assert_eq!(close_obj(o, None), STATUS_SUCCESS);
        }
    }
}

/// NdkConnectWithSharedEndpoint from `side` through `se` on `qp` to `dst`
/// (read limits 1/1, no private data), its completion recorded under `tag`.
pub fn connect_shared(
    side: &Side,
    c: *mut NDK_CONNECTOR,
    qp: *mut NDK_QP,
    se: *mut NDK_SHARED_ENDPOINT,
    dst: SocketAddr,
    tag: usize,
) -> NtStatus {
    let (d, dn) = sockaddr(dst);
    let ctx = side.ctx(tag);
    unsafe {
        (conn_d(c).NdkConnectWithSharedEndpoint)(
            c,
            qp,
            se,
            d.as_ptr().cast(),
            dn,
            1,
            1,
            std::ptr::null(),
            0,
            Some(on_request),
            ctx,
        )
    }
}

/// An established connection: `a` connects to `at` (completion tag 10), `b`
/// accepts on its QP (tag 20, DisconnectEventEx under 21), `a` completes
/// (tag 30, DisconnectEventEx under 31). Returns (active, passive) connector.
pub fn establish(
    net: &Net,
    a: &Side,
    b: &Side,
    at: SocketAddr,
) -> (*mut NDK_CONNECTOR, *mut NDK_CONNECTOR) {
    let c = a.connector();
    assert_eq!(a.connect(c, at, b"", 10), STATUS_PENDING);
    net.run();
    let p = b.delivered(1)[0];
    assert_eq!(b.accept_on(p, b.qp, 1, 1, b"", 20), STATUS_PENDING);
    net.run();
    assert_eq!(a.completions(10), vec![STATUS_SUCCESS]);
    assert_eq!(a.complete(c, 30), STATUS_SUCCESS);
    net.run();
    assert_eq!(b.completions(20), vec![STATUS_SUCCESS]);
    (c, p)
}

/// NdkCreateSharedEndpoint on `side` at `at`.
pub fn shared_endpoint(side: &Side, at: SocketAddr) -> Result<*mut NDK_SHARED_ENDPOINT, NtStatus> {
    let (sa, n) = sockaddr(at);
    let mut se = std::ptr::null_mut();
    let s = unsafe {
        (side.d().NdkCreateSharedEndpoint)(
            side.adapter,
            sa.as_ptr().cast(),
            n,
            None,
            std::ptr::null_mut(),
            &mut se,
        )
    };
    if s == STATUS_SUCCESS {
        Ok(se)
    } else {
        Err(s)
    }
}

/// Datagrams a [`capture`] saw: (source, destination, UDP payload), in order.
pub type Captured = std::sync::Arc<Mutex<Vec<(SocketAddr, SocketAddr, Vec<u8>)>>>;

/// Records every datagram sent on `net` (from `from` only, or by anyone),
/// in order, without dropping any: a SimNet filter that never matches.
pub fn capture(net: &Net, from: Option<IpAddr>) -> Captured {
    let seen: Captured = Default::default();
    let keep = seen.clone();
    net.sim.drop_nth(
        from,
        None,
        u64::MAX,
        Box::new(move |src, dst, p| {
            keep.lock().unwrap().push((src, dst, p.to_vec()));
            false
        }),
    );
    seen
}

/// The UDP payloads a [`capture`] saw so far.
pub fn payloads(c: &Captured) -> Vec<Vec<u8>> {
    c.lock()
        .unwrap()
        .iter()
        .map(|(_, _, p)| p.clone())
        .collect()
}
