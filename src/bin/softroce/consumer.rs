//! A small NDK consumer for the interop tools (`rping`, `rdma-server`,
//! `rdma-client`): opens a hosted adapter through the exported C entry point
//! and drives PD, CQ, QP, MRs, listener and connector only through the NDK
//! dispatch tables, as a kernel consumer would. Callbacks (connect events,
//! request completions, disconnects) are queued as `Ev`s; the CQ is polled.
//! Owns this glue; must not reach into provider internals or speak a protocol.

use std::collections::VecDeque;
use std::ffi::{c_void, CString};
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use softroce::abi::*;
use softroce::os::hosted::entry::{
    softroce_build_mdl, softroce_close_adapter, softroce_open_adapter, softroce_open_adapter_on,
    softroce_platform_real, softroce_platform_release, softroce_platform_use_link,
    softroce_set_roce_mtu,
};
use softroce::os::hosted::HostedPlatform;
use softroce::os::{CarrierError, DatagramSink, Received};

/// The interface of the Ethernet frame link the tools use (`--link` /
/// `SOFTROCE_LINK`), set once by `main`; unset: the UDP carrier.
static LINK: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Makes every adapter this process opens use the frame link on `ifname`.
pub fn use_link(ifname: String) {
    let _ = LINK.set(ifname);
}

struct Discard;
impl DatagramSink for Discard {
    fn on_datagram(&self, _: &Received<'_>) {}
}

/// Opens (and closes) the frame link once before the adapter does, so a
/// link that cannot open is a clear error here instead of an adapter
/// without a network that times out later.
fn check_link(ifname: &str, ip: IpAddr) -> Result<(), String> {
    let p = HostedPlatform::new("softroce-link-check");
    let r = p
        .open_frame_link(ifname, SocketAddr::new(ip, 4791), Arc::new(Discard))
        .map(drop);
    r.map_err(|e| {
        let why = match e {
            CarrierError::Os(libc::EPERM) => "not permitted (needs root or CAP_NET_RAW)".into(),
            CarrierError::Os(libc::ENODEV) => "no such interface".into(),
            CarrierError::Os(libc::EOPNOTSUPP) => "not an Ethernet interface".into(),
            CarrierError::Os(libc::EAFNOSUPPORT) => "IPv4 addresses only".into(),
            CarrierError::AddressNotAvailable => format!("{ip} is not an address of this host"),
            CarrierError::AddressInUse => format!("{ip}:4791 is taken"),
            other => format!("{other}"),
        };
        format!("frame link on {ifname}: {why}")
    })
}

/// What `--mtu` accepts.
pub const MTU_HELP: &str = "a RoCE path MTU is 256, 512, 1024, 2048 or 4096 bytes";

/// `--mtu <bytes>`: one of the IB path MTUs (clap value parser).
pub fn parse_mtu(text: &str) -> Result<u32, String> {
    match text.trim().parse::<u32>() {
        Ok(v @ (256 | 512 | 1024 | 2048 | 4096)) => Ok(v),
        _ => Err(format!("{text:?}: {MTU_HELP}")),
    }
}

/// How long one protocol step (a completion, a connection) may take.
pub const STEP: Duration = Duration::from_secs(30);

/// Runs `attempt` until it succeeds, fails after its connection was made
/// (`Err((false, _))`: never retried), or `wait` is over.
pub fn retry_connect(
    tool: &str,
    wait: Duration,
    mut attempt: impl FnMut() -> Result<(), (bool, String)>,
) -> Result<(), String> {
    let end = Instant::now() + wait;
    loop {
        match attempt() {
            Err((true, e)) if Instant::now() < end => {
                eprintln!("{tool}: connect failed ({e}); retrying");
                std::thread::sleep(Duration::from_secs(1));
            }
            r => return r.map_err(|(_, e)| e),
        }
    }
}

/// Something a provider callback reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ev {
    /// A listener's connect event: the new connector.
    ConnectRequest(usize),
    /// A request completion: the tag given with the request, its status.
    Done(usize, NtStatus),
    /// A connection's DisconnectEventEx (the provider's reason).
    Disconnected(u32),
}

#[derive(Default)]
struct Events {
    q: Mutex<VecDeque<Ev>>,
    cv: Condvar,
}

impl Events {
    fn push(&self, e: Ev) {
        if let Ok(mut q) = self.q.lock() {
            q.push_back(e);
        }
        self.cv.notify_all();
    }
}

/// The context handed to the provider with a callback.
struct Ctx {
    events: Arc<Events>,
    tag: usize,
}

fn ctx_of<'a>(p: *mut c_void) -> &'a Ctx {
    // SAFETY: every context we hand the provider is a `Ctx` kept alive in
    // `Dev::ctxs` until the adapter is closed.
    unsafe { &*(p as *const Ctx) }
}

unsafe extern "system" fn on_connect_event(p: *mut c_void, c: *mut NDK_CONNECTOR) {
    ctx_of(p).events.push(Ev::ConnectRequest(c as usize));
}
unsafe extern "system" fn on_request(p: *mut c_void, s: NtStatus) {
    let c = ctx_of(p);
    c.events.push(Ev::Done(c.tag, s));
}
unsafe extern "system" fn on_disconnect_ex(p: *mut c_void, reason: u32) {
    ctx_of(p).events.push(Ev::Disconnected(reason));
}
unsafe extern "system" fn on_cq(_p: *mut c_void, _s: NtStatus) {}

/// A registered buffer: the MR, its MDL (kept alive), tokens and address.
/// Dropping it closes the MR before the buffer is freed.
pub struct Region {
    mr: *mut NDK_MR,
    _mdl: Box<MDL>,
    pub buf: Vec<u8>,
    pub lkey: u32,
    pub rkey: u32,
}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: our MR; its table starts with NdkCloseMr.
        unsafe {
            let _ = ((*(*self.mr).Dispatch).NdkCloseMr)(self.mr.cast(), None, std::ptr::null_mut());
        }
    }
}

impl Region {
    /// The address (VA) that names the buffer's first byte.
    pub fn addr(&self) -> u64 {
        self.buf.as_ptr() as u64
    }
    pub fn sge(&self, offset: usize, len: usize) -> NDK_SGE {
        NDK_SGE {
            Anonymous: NDK_SGE_ADDRESS {
                LogicalAddress: (self.addr() + offset as u64) as i64,
            },
            Length: len as u32,
            MemoryRegionToken: self.lkey,
        }
    }
}

/// One adapter with a PD, a CQ (polled) and one RC QP.
pub struct Dev {
    pub adapter: *mut NDK_ADAPTER,
    pub ip: IpAddr,
    pub pd: *mut NDK_PD,
    pub cq: *mut NDK_CQ,
    pub qp: *mut NDK_QP,
    events: Arc<Events>,
    results: std::cell::RefCell<VecDeque<NDK_RESULT_EX>>,
    #[allow(clippy::vec_box)] // boxed: the provider holds their addresses
    ctxs: Vec<Box<Ctx>>,
    objects: Vec<*mut NDK_PD>,
}

fn check(what: &str, s: NtStatus) -> Result<(), String> {
    if s == STATUS_SUCCESS {
        Ok(())
    } else {
        Err(format!("{what}: {s}"))
    }
}

/// A SOCKADDR_IN or SOCKADDR_IN6 for a socket address, as NDK takes them.
enum Sockaddr {
    V4(SOCKADDR_IN),
    V6(SOCKADDR_IN6),
}

impl Sockaddr {
    fn new(a: SocketAddr) -> Sockaddr {
        match a {
            SocketAddr::V4(v4) => Sockaddr::V4(SOCKADDR_IN {
                sin_family: AF_INET,
                sin_port: v4.port().to_be(),
                sin_addr: IN_ADDR::from_octets(v4.ip().octets()),
                sin_zero: [0; 8],
            }),
            SocketAddr::V6(v6) => Sockaddr::V6(SOCKADDR_IN6 {
                sin6_family: AF_INET6,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: IN6_ADDR {
                    Byte: v6.ip().octets(),
                },
                sin6_scope_id: v6.scope_id(),
            }),
        }
    }
    fn ptr(&self) -> *const SOCKADDR {
        match self {
            Sockaddr::V4(a) => (a as *const SOCKADDR_IN).cast(),
            Sockaddr::V6(a) => (a as *const SOCKADDR_IN6).cast(),
        }
    }
    fn len(&self) -> u32 {
        match self {
            Sockaddr::V4(_) => std::mem::size_of::<SOCKADDR_IN>() as u32,
            Sockaddr::V6(_) => std::mem::size_of::<SOCKADDR_IN6>() as u32,
        }
    }
}

impl Dev {
    /// Opens an adapter on `ip` (real carrier: root for the raw receive path)
    /// with RoCE path MTU `mtu` (bytes, [`parse_mtu`]), a PD, a CQ of
    /// `cq_depth` and a QP with `rq`/`sq` entries.
    pub fn open(ip: IpAddr, mtu: u32, cq_depth: u32, rq: u32, sq: u32) -> Result<Dev, String> {
        let c = CString::new(ip.to_string()).map_err(|e| e.to_string())?;
        let mut adapter = std::ptr::null_mut();
        let version = NDK_VERSION { Major: 2, Minor: 0 };
        if let Some(ifname) = LINK.get() {
            check_link(ifname, ip)?;
            let name = CString::new(ifname.as_str()).map_err(|e| e.to_string())?;
            let platform = softroce_platform_real();
            // SAFETY: a live platform and a NUL-terminated name; then a
            // NUL-terminated address and a valid out-pointer. The adapter
            // keeps the platform alive after our handle is released.
            let s = unsafe {
                let s = softroce_platform_use_link(platform, name.as_ptr());
                let s = if s == STATUS_SUCCESS {
                    softroce_open_adapter_on(platform, c.as_ptr(), version, &mut adapter)
                } else {
                    s
                };
                softroce_platform_release(platform);
                s
            };
            check("softroce_open_adapter_on (frame link)", s)?;
        } else {
            // SAFETY: NUL-terminated address, valid out-pointer.
            let s = unsafe { softroce_open_adapter(c.as_ptr(), version, &mut adapter) };
            check("softroce_open_adapter", s)?;
        }
        let mut in_effect = 0u32;
        // SAFETY: the adapter just opened; a valid out-pointer.
        let s = unsafe { softroce_set_roce_mtu(adapter, mtu, &mut in_effect) };
        if s != STATUS_SUCCESS {
            // SAFETY: ours, closed once, not used again.
            unsafe { softroce_close_adapter(adapter) };
            return Err(format!("--mtu {mtu}: {}", MTU_HELP));
        }
        if in_effect != mtu {
            eprintln!("softroce: RoCE MTU {mtu} capped to {in_effect} by the link");
        }
        let mut dev = Dev {
            adapter,
            ip,
            pd: std::ptr::null_mut(),
            cq: std::ptr::null_mut(),
            qp: std::ptr::null_mut(),
            events: Arc::default(),
            results: Default::default(),
            ctxs: Vec::new(),
            objects: Vec::new(),
        };
        // SAFETY: the adapter is open; its Dispatch is the provider's table.
        let d = unsafe { &*(*adapter).Dispatch };
        let mut pd = std::ptr::null_mut();
        // SAFETY: valid adapter and out-pointer; no completion callback.
        check("NdkCreatePd", unsafe {
            (d.NdkCreatePd)(adapter, None, std::ptr::null_mut(), &mut pd)
        })?;
        dev.pd = pd;
        let mut cq = std::ptr::null_mut();
        // SAFETY: as above; the notification callback ignores its context.
        check("NdkCreateCq", unsafe {
            (d.NdkCreateCq)(
                adapter,
                cq_depth,
                Some(on_cq),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                None,
                std::ptr::null_mut(),
                &mut cq,
            )
        })?;
        dev.cq = cq;
        let mut qp = std::ptr::null_mut();
        // SAFETY: a PD and CQ of this adapter, valid out-pointer.
        check("NdkCreateQp", unsafe {
            ((*(*pd).Dispatch).NdkCreateQp)(
                pd,
                cq,
                cq,
                std::ptr::null_mut(),
                rq,
                sq,
                1,
                1,
                0,
                None,
                std::ptr::null_mut(),
                &mut qp,
            )
        })?;
        dev.qp = qp;
        Ok(dev)
    }

    fn ctx(&mut self, tag: usize) -> *mut c_void {
        let c = Box::new(Ctx {
            events: self.events.clone(),
            tag,
        });
        let p = &*c as *const Ctx as *mut c_void;
        self.ctxs.push(c);
        p
    }

    /// Registers a zeroed buffer of `len` bytes with `flags`.
    pub fn region(&mut self, len: usize, flags: u32) -> Result<Region, String> {
        let mut buf = vec![0u8; len.max(1)];
        let mut mr = std::ptr::null_mut();
        // SAFETY: our PD, valid out-pointer.
        check("NdkCreateMr", unsafe {
            ((*(*self.pd).Dispatch).NdkCreateMr)(self.pd, 0, None, std::ptr::null_mut(), &mut mr)
        })?;
        // SAFETY: all-zero is a valid MDL to fill.
        let mut mdl: Box<MDL> = Box::new(unsafe { std::mem::zeroed() });
        // SAFETY: `buf` lives in the returned Region as long as the MR.
        check("softroce_build_mdl", unsafe {
            softroce_build_mdl(
                &mut *mdl,
                0,
                buf.as_mut_ptr().cast(),
                buf.len() as u32,
                std::ptr::null_mut(),
            )
        })?;
        // SAFETY: our MR and the MDL describing `buf`.
        let (lkey, rkey) = unsafe {
            let d = &*(*mr).Dispatch;
            check(
                "NdkRegisterMr",
                (d.NdkRegisterMr)(mr, &mut *mdl, buf.len(), flags, None, std::ptr::null_mut()),
            )?;
            (
                (d.NdkGetLocalTokenFromMr)(mr),
                (d.NdkGetRemoteTokenFromMr)(mr),
            )
        };
        Ok(Region {
            mr,
            _mdl: mdl,
            buf,
            lkey,
            rkey,
        })
    }

    fn qpd(&self) -> &'static NDK_QP_DISPATCH {
        // SAFETY: the QP is open until `close`.
        unsafe { &*(*self.qp).Dispatch }
    }

    pub fn post_recv(&self, ctx: usize, sge: NDK_SGE) -> Result<(), String> {
        // SAFETY: our QP; one SGE naming a registered buffer.
        check("NdkReceive", unsafe {
            (self.qpd().NdkReceive)(self.qp, ctx as *mut c_void, &sge, 1)
        })
    }

    pub fn post_send(&self, ctx: usize, sge: NDK_SGE) -> Result<(), String> {
        // SAFETY: as post_recv.
        check("NdkSend", unsafe {
            (self.qpd().NdkSend)(self.qp, ctx as *mut c_void, &sge, 1, 0)
        })
    }

    /// RDMA READ (`read`) or WRITE of `sge` from/to `(remote, rkey)`.
    pub fn post_rdma(
        &self,
        read: bool,
        ctx: usize,
        sge: NDK_SGE,
        remote: u64,
        rkey: u32,
    ) -> Result<(), String> {
        let d = self.qpd();
        let (f, what) = if read {
            (d.NdkRead, "NdkRead")
        } else {
            (d.NdkWrite, "NdkWrite")
        };
        // SAFETY: as post_recv.
        check(what, unsafe {
            f(self.qp, ctx as *mut c_void, &sge, 1, remote, rkey, 0)
        })
    }

    /// The next completion, non-blocking (results fetched 16 at a time).
    pub fn poll_one(&self) -> Option<NDK_RESULT_EX> {
        let mut q = self.results.borrow_mut();
        if q.is_empty() {
            q.extend(self.poll());
        }
        q.pop_front()
    }

    /// Up to 16 completions, non-blocking.
    fn poll(&self) -> Vec<NDK_RESULT_EX> {
        // SAFETY: all-zero is a valid NDK_RESULT_EX.
        let mut out: Vec<NDK_RESULT_EX> = (0..16).map(|_| unsafe { std::mem::zeroed() }).collect();
        // SAFETY: our CQ; room for 16 results.
        let n =
            unsafe { ((*(*self.cq).Dispatch).NdkGetCqResultsEx)(self.cq, out.as_mut_ptr(), 16) };
        out.truncate(n as usize);
        out
    }

    /// The next callback event, waiting at most `t`.
    pub fn event(&self, t: Duration) -> Option<Ev> {
        let end = Instant::now() + t;
        let mut q = self.events.q.lock().ok()?;
        loop {
            if let Some(e) = q.pop_front() {
                return Some(e);
            }
            let now = Instant::now();
            if now >= end {
                return None;
            }
            q = self.events.cv.wait_timeout(q, end - now).ok()?.0;
        }
    }

    /// Waits for the completion of the request tagged `tag`; other events
    /// are kept for later. Err on timeout.
    pub fn wait_done(&self, tag: usize, t: Duration) -> Result<NtStatus, String> {
        let end = Instant::now() + t;
        let mut q = self.events.q.lock().map_err(|e| e.to_string())?;
        loop {
            if let Some(i) = q
                .iter()
                .position(|e| matches!(e, Ev::Done(x, _) if *x == tag))
            {
                if let Some(Ev::Done(_, s)) = q.remove(i) {
                    return Ok(s);
                }
            }
            let now = Instant::now();
            if now >= end {
                return Err(format!("timed out waiting for request {tag}"));
            }
            q = self
                .events
                .cv
                .wait_timeout(q, end - now)
                .map_err(|e| e.to_string())?
                .0;
        }
    }

    /// Waits (at most [`STEP`]) for request `tag`; Err unless it succeeded.
    pub fn expect_done(&self, tag: usize, what: &str) -> Result<(), String> {
        let s = self.wait_done(tag, STEP)?;
        if s == STATUS_SUCCESS {
            Ok(())
        } else {
            Err(format!("{what}: {s}"))
        }
    }

    /// NdkConnect to `dst` and NdkCompleteConnectEx, waiting for both
    /// (request tags `tags.0` and `tags.1`).
    pub fn connect_complete(
        &mut self,
        c: *mut NDK_CONNECTOR,
        dst: SocketAddr,
        ird_ord: (u32, u32),
        tags: (usize, usize),
    ) -> Result<(), String> {
        self.connect(c, dst, ird_ord.0, ird_ord.1, &[], tags.0)?;
        self.expect_done(tags.0, "connect")?;
        if self.complete(c, tags.1)? {
            self.expect_done(tags.1, "complete connect")?;
        }
        Ok(())
    }

    /// Whether a disconnect event is queued (it stays queued).
    pub fn disconnected(&self) -> bool {
        self.events
            .q
            .lock()
            .map(|q| q.iter().any(|e| matches!(e, Ev::Disconnected(_))))
            .unwrap_or(false)
    }

    /// A listener listening on `addr`.
    pub fn listen(&mut self, addr: SocketAddr) -> Result<*mut NDK_LISTENER, String> {
        let ctx = self.ctx(0);
        let mut l = std::ptr::null_mut();
        // SAFETY: our adapter, a context kept alive, valid out-pointer.
        check("NdkCreateListener", unsafe {
            ((*(*self.adapter).Dispatch).NdkCreateListener)(
                self.adapter,
                Some(on_connect_event),
                ctx,
                None,
                std::ptr::null_mut(),
                &mut l,
            )
        })?;
        let sa = Sockaddr::new(addr);
        // SAFETY: our listener and a SOCKADDR_IN(6) of its size.
        check("NdkListen", unsafe {
            ((*(*l).Dispatch).NdkListen)(l, sa.ptr().cast(), sa.len(), None, std::ptr::null_mut())
        })?;
        self.objects.push(l.cast());
        Ok(l)
    }

    /// A new connector.
    pub fn connector(&mut self) -> Result<*mut NDK_CONNECTOR, String> {
        let mut c = std::ptr::null_mut();
        // SAFETY: our adapter, valid out-pointer.
        check("NdkCreateConnector", unsafe {
            ((*(*self.adapter).Dispatch).NdkCreateConnector)(
                self.adapter,
                None,
                std::ptr::null_mut(),
                &mut c,
            )
        })?;
        Ok(c)
    }

    /// NdkConnect from our address to `dst`; completes `Done(tag, _)`.
    pub fn connect(
        &mut self,
        c: *mut NDK_CONNECTOR,
        dst: SocketAddr,
        ird: u32,
        ord: u32,
        data: &[u8],
        tag: usize,
    ) -> Result<(), String> {
        if dst.is_ipv4() != self.ip.is_ipv4() {
            return Err(format!("{dst}: not of our address family ({})", self.ip));
        }
        let src = Sockaddr::new(SocketAddr::new(self.ip, 0));
        let dst = Sockaddr::new(dst);
        let ctx = self.ctx(tag);
        // SAFETY: our connector and QP, SOCKADDR_IN(6)s of their size, data of its length.
        let s = unsafe {
            ((*(*c).Dispatch).NdkConnect)(
                c,
                self.qp,
                src.ptr().cast(),
                src.len(),
                dst.ptr().cast(),
                dst.len(),
                ird,
                ord,
                data.as_ptr().cast(),
                data.len() as u32,
                Some(on_request),
                ctx,
            )
        };
        if s == STATUS_PENDING {
            return Ok(());
        }
        check("NdkConnect", s)
    }

    /// NdkGetConnectionData: (inbound, outbound read limits, private data).
    pub fn connection_data(&self, c: *mut NDK_CONNECTOR) -> Result<(u32, u32, Vec<u8>), String> {
        let (mut ird, mut ord) = (0u32, 0u32);
        let mut buf = vec![0u8; 256];
        let mut len = buf.len() as u32;
        // SAFETY: our connector, valid out-pointers and a buffer of `len`.
        check("NdkGetConnectionData", unsafe {
            ((*(*c).Dispatch).NdkGetConnectionData)(
                c,
                &mut ird,
                &mut ord,
                buf.as_mut_ptr().cast(),
                &mut len,
            )
        })?;
        buf.truncate(len as usize);
        Ok((ird, ord, buf))
    }

    /// NdkAcceptEx on our QP; completes `Done(tag, _)`.
    pub fn accept(
        &mut self,
        c: *mut NDK_CONNECTOR,
        ird: u32,
        ord: u32,
        data: &[u8],
        tag: usize,
    ) -> Result<(), String> {
        let ctx = self.ctx(tag);
        let dctx = self.ctx(usize::MAX);
        // SAFETY: our connector and QP, contexts kept alive.
        let s = unsafe {
            ((*(*c).Dispatch).NdkAcceptEx)(
                c,
                self.qp,
                ird,
                ord,
                data.as_ptr().cast(),
                data.len() as u32,
                Some(on_disconnect_ex),
                dctx,
                Some(on_request),
                ctx,
            )
        };
        if s == STATUS_PENDING {
            return Ok(());
        }
        check("NdkAcceptEx", s)
    }

    /// NdkCompleteConnectEx; completes `Done(tag, _)` or succeeds inline.
    pub fn complete(&mut self, c: *mut NDK_CONNECTOR, tag: usize) -> Result<bool, String> {
        let ctx = self.ctx(tag);
        let dctx = self.ctx(usize::MAX);
        // SAFETY: as accept.
        let s = unsafe {
            ((*(*c).Dispatch).NdkCompleteConnectEx)(
                c,
                Some(on_disconnect_ex),
                dctx,
                Some(on_request),
                ctx,
            )
        };
        if s == STATUS_PENDING {
            return Ok(true);
        }
        check("NdkCompleteConnectEx", s).map(|_| false)
    }

    /// NdkDisconnect; completes `Done(tag, _)` or succeeds inline.
    pub fn disconnect(&mut self, c: *mut NDK_CONNECTOR, tag: usize) -> Result<bool, String> {
        let ctx = self.ctx(tag);
        // SAFETY: our connector, a context kept alive.
        let s = unsafe { ((*(*c).Dispatch).NdkDisconnect)(c, Some(on_request), ctx) };
        if s == STATUS_PENDING {
            return Ok(true);
        }
        check("NdkDisconnect", s).map(|_| false)
    }

    /// Closes a connector (or any object) now.
    pub fn close_object<T>(&self, o: *mut T) {
        let any = o as *mut NDK_PD;
        // SAFETY: every NDK object's table starts with its close entry.
        unsafe {
            let close = (*(*any).Dispatch).NdkClosePd;
            let _ = close(any.cast(), None, std::ptr::null_mut());
        }
    }
}

impl Drop for Dev {
    fn drop(&mut self) {
        for o in self.objects.drain(..).rev().collect::<Vec<_>>() {
            self.close_object(o);
        }
        for o in [self.qp.cast::<NDK_PD>(), self.cq.cast(), self.pd] {
            if !o.is_null() {
                self.close_object(o);
            }
        }
        // SAFETY: opened by `open`; nothing of ours runs after this.
        unsafe { softroce_close_adapter(self.adapter) };
    }
}

/// The local address the kernel would use to reach `dst` (a connected UDP
/// socket's source address; nothing is sent).
pub fn route_source(dst: IpAddr) -> Result<IpAddr, String> {
    let any = if dst.is_ipv4() { "0.0.0.0:0" } else { "[::]:0" };
    let s = std::net::UdpSocket::bind(any).map_err(|e| e.to_string())?;
    s.connect(SocketAddr::new(dst, 9))
        .map_err(|e| format!("no route to {dst}: {e}"))?;
    Ok(s.local_addr().map_err(|e| e.to_string())?.ip())
}
