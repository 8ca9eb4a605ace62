//! The conformance suite's harness: the hosted C entry points (declared
//! here, linked from the cdylib's Rust twin), an adapter on a virtual-clock
//! platform, callback recorders, and the end-of-test checks (pool books
//! balanced after adapter close, IRQL books clean). The provider is driven
//! only through these entry points and the NDK dispatch tables.
#![allow(dead_code)]

use std::ffi::{c_void, CString};
use std::sync::Mutex;

pub use softroce::abi::*;
use softroce::os::hosted::{irql_books, provider_locks_held};
use softroce::os::{current_irql, Irql};

extern "C" {
    pub fn softroce_platform_virtual(seed: u64) -> *mut c_void;
    pub fn softroce_platform_real() -> *mut c_void;
    pub fn softroce_platform_release(p: *mut c_void);
    pub fn softroce_platform_run_pending(p: *const c_void) -> usize;
    pub fn softroce_platform_pool_bytes(p: *const c_void) -> usize;
    pub fn softroce_platform_pool_objects(p: *const c_void) -> usize;
    pub fn softroce_platform_set_pool_limit(p: *const c_void, bytes: usize);
    pub fn softroce_open_adapter_on(
        p: *const c_void,
        ip: *const std::ffi::c_char,
        v: NDK_VERSION,
        out: *mut *mut NDK_ADAPTER,
    ) -> NtStatus;
    pub fn softroce_close_adapter(a: *mut NDK_ADAPTER);
    pub fn softroce_set_deferred_completions(a: *mut NDK_ADAPTER, on: i32) -> NtStatus;
    pub fn softroce_build_mdl(
        mdl: *mut MDL,
        va: u64,
        buffer: *mut c_void,
        length: u32,
        next: *mut MDL,
    ) -> NtStatus;
}

pub const V21: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };

/// One recorded callback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub what: &'static str,
    pub tag: usize,
    pub status: i32,
    pub object: usize,
}

/// A per-test log of callbacks; also checks each callback's context:
/// DISPATCH_LEVEL, no provider lock held, never nested.
#[derive(Debug, Default)]
pub struct Log {
    calls: Mutex<Vec<Call>>,
    inside: Mutex<bool>,
}

impl Log {
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }
    pub fn count(&self, what: &str) -> usize {
        self.calls().iter().filter(|c| c.what == what).count()
    }
    pub fn clear(&self) {
        self.calls.lock().unwrap().clear();
    }
    pub fn retain(&self, keep: impl Fn(&Call) -> bool) {
        self.calls.lock().unwrap().retain(|c| keep(c));
    }
    pub fn record(&self, call: Call) {
        assert_eq!(
            current_irql(),
            Irql::Dispatch,
            "callback not at DISPATCH_LEVEL"
        );
        assert_eq!(
            provider_locks_held(),
            0,
            "callback with a provider lock held"
        );
        self.calls.lock().unwrap().push(call);
    }
    pub fn enter(&self) {
        let mut i = self.inside.lock().unwrap();
        assert!(!*i, "callbacks of one object overlapped");
        *i = true;
    }
    pub fn leave(&self) {
        *self.inside.lock().unwrap() = false;
    }
}

/// Code a test runs inside a callback.
pub type Hook = Box<dyn FnMut(i32) + Send>;

/// The context a test passes to the provider: its log and a tag.
pub struct Ctx {
    pub log: *const Log,
    pub tag: usize,
    /// Runs inside the callback (after recording), e.g. to re-arm or close.
    pub hook: Mutex<Option<Hook>>,
}

impl Ctx {
    pub fn new(log: &Log, tag: usize) -> Box<Ctx> {
        Box::new(Ctx {
            log,
            tag,
            hook: Mutex::new(None),
        })
    }
    pub fn ptr(&self) -> *mut c_void {
        self as *const Ctx as *mut c_void
    }
}

fn ctx<'a>(p: *mut c_void) -> &'a Ctx {
    unsafe { &*(p as *const Ctx) }
}

fn record(p: *mut c_void, what: &'static str, status: i32, object: usize) {
    let c = ctx(p);
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

pub unsafe extern "system" fn on_close(p: *mut c_void) {
    record(p, "close", 0, 0);
}
pub unsafe extern "system" fn on_request(p: *mut c_void, s: NtStatus) {
    record(p, "request", s.0, 0);
}
pub unsafe extern "system" fn on_create(p: *mut c_void, s: NtStatus, o: *mut NDK_OBJECT_HEADER) {
    record(p, "create", s.0, o as usize);
}
pub unsafe extern "system" fn on_notify(p: *mut c_void, s: NtStatus) {
    record(p, "notify", s.0, 0);
}
pub unsafe extern "system" fn on_connect(_p: *mut c_void, _c: *mut NDK_CONNECTOR) {}

/// An adapter on its own virtual-clock platform.
pub struct Env {
    pub platform: *mut c_void,
    pub adapter: *mut NDK_ADAPTER,
}

impl Env {
    pub fn new() -> Env {
        Env::at("192.0.2.1")
    }

    pub fn at(ip: &str) -> Env {
        let platform = unsafe { softroce_platform_virtual(7) };
        let ip = CString::new(ip).unwrap();
        let mut adapter = std::ptr::null_mut();
        let s = unsafe { softroce_open_adapter_on(platform, ip.as_ptr(), V21, &mut adapter) };
        assert_eq!(s, STATUS_SUCCESS);
        Env { platform, adapter }
    }

    pub fn d(&self) -> &NDK_ADAPTER_DISPATCH {
        unsafe { &*(*self.adapter).Dispatch }
    }

    /// Runs queued DPCs; returns how many ran.
    pub fn run(&self) -> usize {
        unsafe { softroce_platform_run_pending(self.platform) }
    }

    pub fn pool_bytes(&self) -> usize {
        unsafe { softroce_platform_pool_bytes(self.platform) }
    }

    pub fn pool_objects(&self) -> usize {
        unsafe { softroce_platform_pool_objects(self.platform) }
    }

    pub fn pd(&self) -> *mut NDK_PD {
        let mut pd = std::ptr::null_mut();
        let s =
            unsafe { (self.d().NdkCreatePd)(self.adapter, None, std::ptr::null_mut(), &mut pd) };
        assert_eq!(s, STATUS_SUCCESS);
        pd
    }

    pub fn cq(&self, depth: u32, log: &Log, tag: usize) -> (*mut NDK_CQ, Box<Ctx>) {
        create_cq(self.adapter, depth, log, tag)
    }

    /// Closes the adapter and checks the end-of-test rules: nothing left in
    /// the pool books, no IRQL rule broken.
    pub fn finish(self) {
        unsafe { softroce_close_adapter(self.adapter) };
        assert_eq!(self.pool_bytes(), 0, "pool bytes leaked");
        assert_eq!(self.pool_objects(), 0, "pool objects leaked");
        unsafe { softroce_platform_release(self.platform) };
        irql_books().assert_clean();
    }
}

/// A CQ of `adapter` (`depth` entries) whose notifications are recorded in
/// `log` under `tag`; asserts it succeeded.
pub fn create_cq(
    adapter: *mut NDK_ADAPTER,
    depth: u32,
    log: &Log,
    tag: usize,
) -> (*mut NDK_CQ, Box<Ctx>) {
    let c = Ctx::new(log, tag);
    let mut cq = std::ptr::null_mut();
    let s = unsafe {
        ((*(*adapter).Dispatch).NdkCreateCq)(
            adapter,
            depth,
            Some(on_notify),
            c.ptr(),
            std::ptr::null_mut(),
            None,
            std::ptr::null_mut(),
            &mut cq,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    (cq, c)
}

pub fn pd_d(pd: *mut NDK_PD) -> &'static NDK_PD_DISPATCH {
    unsafe { &*(*pd).Dispatch }
}
pub fn cq_d(cq: *mut NDK_CQ) -> &'static NDK_CQ_DISPATCH {
    unsafe { &*(*cq).Dispatch }
}
pub fn qp_d(qp: *mut NDK_QP) -> &'static NDK_QP_DISPATCH {
    unsafe { &*(*qp).Dispatch }
}
pub fn mr_d(mr: *mut NDK_MR) -> &'static NDK_MR_DISPATCH {
    unsafe { &*(*mr).Dispatch }
}

/// Closes any object through its dispatch table's first entry (NdkCloseXxx).
pub fn close_obj<T>(obj: *mut T, c: Option<&Ctx>) -> NtStatus {
    let any = obj as *mut NDK_PD;
    let close: NDK_FN_CLOSE_OBJECT = unsafe { (*(*any).Dispatch).NdkClosePd };
    let (cb, p) = match c {
        Some(c) => (Some(on_close as NDK_FN_CLOSE_COMPLETION), c.ptr()),
        None => (None, std::ptr::null_mut()),
    };
    unsafe { close(any.cast(), cb, p) }
}

/// Creates an MR of `pd` and registers `buf` with `flags`.
pub fn registered_mr(pd: *mut NDK_PD, buf: &mut [u8], flags: u32) -> (*mut NDK_MR, Box<MDL>) {
    let mut mr = std::ptr::null_mut();
    let s = unsafe { (pd_d(pd).NdkCreateMr)(pd, 0, None, std::ptr::null_mut(), &mut mr) };
    assert_eq!(s, STATUS_SUCCESS);
    let mut mdl = new_mdl(buf, 0);
    let s = unsafe {
        (mr_d(mr).NdkRegisterMr)(mr, &mut *mdl, buf.len(), flags, None, std::ptr::null_mut())
    };
    assert_eq!(s, STATUS_SUCCESS);
    (mr, mdl)
}

/// A hosted MDL for `buf` (at VA `va`, 0 = its own address).
pub fn new_mdl(buf: &mut [u8], va: u64) -> Box<MDL> {
    let mut mdl: Box<MDL> = Box::new(unsafe { std::mem::zeroed() });
    let s = unsafe {
        softroce_build_mdl(
            &mut *mdl,
            va,
            buf.as_mut_ptr().cast(),
            buf.len() as u32,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    mdl
}

/// A QP of `pd` on `cq` (both queues) with the given limits.
pub fn qp(
    pd: *mut NDK_PD,
    cq: *mut NDK_CQ,
    ctx: usize,
    rq: u32,
    sq: u32,
) -> Result<*mut NDK_QP, NtStatus> {
    let mut qp = std::ptr::null_mut();
    let s = unsafe {
        (pd_d(pd).NdkCreateQp)(
            pd,
            cq,
            cq,
            ctx as *mut c_void,
            rq,
            sq,
            4,
            4,
            64,
            None,
            std::ptr::null_mut(),
            &mut qp,
        )
    };
    if s == STATUS_SUCCESS {
        Ok(qp)
    } else {
        Err(s)
    }
}

/// Creates an SRQ of `pd` (`depth` receives of up to `sges` SGEs, no limit
/// notification) and returns the status with the SRQ.
pub fn create_srq(pd: *mut NDK_PD, depth: u32, sges: u32) -> (NtStatus, *mut NDK_SRQ) {
    let mut srq = std::ptr::null_mut();
    let s = unsafe {
        (pd_d(pd).NdkCreateSrq)(
            pd,
            depth,
            sges,
            0,
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            None,
            std::ptr::null_mut(),
            &mut srq,
        )
    };
    (s, srq)
}

/// Creates a QP of `pd` on `cq` (both queues) whose receives come from
/// `srq` (`sq` initiator requests of up to `sges` SGEs, no inline data) and
/// returns the status with the QP.
pub fn create_qp_with_srq(
    pd: *mut NDK_PD,
    cq: *mut NDK_CQ,
    srq: *mut NDK_SRQ,
    ctx: usize,
    sq: u32,
    sges: u32,
) -> (NtStatus, *mut NDK_QP) {
    let mut qp = std::ptr::null_mut();
    let s = unsafe {
        (pd_d(pd).NdkCreateQpWithSrq)(
            pd,
            cq,
            cq,
            srq,
            ctx as *mut c_void,
            sq,
            sges,
            0,
            None,
            std::ptr::null_mut(),
            &mut qp,
        )
    };
    (s, qp)
}

/// Creates an MW of `pd`; asserts it succeeded.
pub fn create_mw(pd: *mut NDK_PD) -> *mut NDK_MW {
    let mut mw = std::ptr::null_mut();
    assert_eq!(
        unsafe { (pd_d(pd).NdkCreateMw)(pd, None, std::ptr::null_mut(), &mut mw) },
        STATUS_SUCCESS
    );
    mw
}

/// The remote token of `mw` (NdkGetRemoteTokenFromMw).
pub fn mw_remote_token(mw: *mut NDK_MW) -> u32 {
    unsafe { ((*(*mw).Dispatch).NdkGetRemoteTokenFromMw)(mw) }
}

pub fn sge(addr: u64, len: u32, token: u32) -> NDK_SGE {
    NDK_SGE {
        Anonymous: NDK_SGE_ADDRESS {
            LogicalAddress: addr as i64,
        },
        Length: len,
        MemoryRegionToken: token,
    }
}

pub fn receive(qp: *mut NDK_QP, ctx: usize, sges: &[NDK_SGE]) -> NtStatus {
    unsafe { (qp_d(qp).NdkReceive)(qp, ctx as *mut c_void, sges.as_ptr(), sges.len() as u32) }
}

pub fn results_ex(cq: *mut NDK_CQ, n: usize) -> Vec<NDK_RESULT_EX> {
    let mut out: Vec<NDK_RESULT_EX> = (0..n).map(|_| unsafe { std::mem::zeroed() }).collect();
    let got = unsafe { (cq_d(cq).NdkGetCqResultsEx)(cq, out.as_mut_ptr(), n as u32) };
    out.truncate(got as usize);
    out
}

/// NdkSend with no flags.
pub fn post_send(qp: *mut NDK_QP, ctx: usize, sges: &[NDK_SGE]) -> NtStatus {
    unsafe {
        (qp_d(qp).NdkSend)(
            qp,
            ctx as *mut std::ffi::c_void,
            sges.as_ptr(),
            sges.len() as u32,
            0,
        )
    }
}

/// The MR's remote (`remote`) or local token.
pub fn mr_token(mr: *mut NDK_MR, remote: bool) -> u32 {
    let d = mr_d(mr);
    unsafe {
        if remote {
            (d.NdkGetRemoteTokenFromMr)(mr)
        } else {
            (d.NdkGetLocalTokenFromMr)(mr)
        }
    }
}
