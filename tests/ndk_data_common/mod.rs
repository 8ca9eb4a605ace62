//! The data-path suite's harness: two hosted adapters on one virtual
//! platform, a PD, a CQ (both queues) and a QP on each, joined by the
//! test-only `softroce_debug_pair_qps` (a seeded simulated link; real ICRC
//! over a synthetic IP header, delivery at DISPATCH in virtual time).
//! Everything else goes through the NDK dispatch tables. `finish` closes
//! every object and both adapters and checks the pool books are empty and
//! the IRQL books clean.
#![allow(dead_code)]

use std::ffi::{c_void, CString};
use std::ptr::null_mut;

pub use crate::ndk_common::*;
pub use softroce::os::hosted::pair::PairOptions;

extern "C" {
    pub fn softroce_debug_pair_qps(
        a: *mut NDK_QP,
        b: *mut NDK_QP,
        o: *const PairOptions,
    ) -> NtStatus;
    pub fn softroce_debug_pair_stats(a: *const NDK_QP, out: *mut u64);
    pub fn softroce_platform_advance_ns(p: *const c_void, ns: u64) -> usize;
}

/// QP limits every side uses.
pub const RQ: u32 = 16;
pub const SQ: u32 = 16;
pub const SGES: u32 = 4;
pub const INLINE: u32 = 64;

/// One end: adapter, PD, CQ, QP, and the CQ's callback log.
pub struct Side {
    pub adapter: *mut NDK_ADAPTER,
    pub pd: *mut NDK_PD,
    pub cq: *mut NDK_CQ,
    pub cq_ctx: Box<Ctx>,
    pub qp: *mut NDK_QP,
    pub log: Box<Log>,
    pub qp_context: usize,
}

impl Side {
    fn new(platform: *mut c_void, ip: &str, qp_context: usize, cq_depth: u32) -> Side {
        let ip = CString::new(ip).unwrap();
        let mut adapter = null_mut();
        let s = unsafe { softroce_open_adapter_on(platform, ip.as_ptr(), V21, &mut adapter) };
        assert_eq!(s, STATUS_SUCCESS);
        let d = unsafe { &*(*adapter).Dispatch };
        let mut pd = null_mut();
        assert_eq!(
            unsafe { (d.NdkCreatePd)(adapter, None, null_mut(), &mut pd) },
            STATUS_SUCCESS
        );
        let log = Box::<Log>::default();
        let cq_ctx = Ctx::new(&log, qp_context);
        let mut cq = null_mut();
        let s = unsafe {
            (d.NdkCreateCq)(
                adapter,
                cq_depth,
                Some(on_notify),
                cq_ctx.ptr(),
                null_mut(),
                None,
                null_mut(),
                &mut cq,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        let mut qp = null_mut();
        let s = unsafe {
            (pd_d(pd).NdkCreateQp)(
                pd,
                cq,
                cq,
                qp_context as *mut c_void,
                RQ,
                SQ,
                SGES,
                SGES,
                INLINE,
                None,
                null_mut(),
                &mut qp,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        Side {
            adapter,
            pd,
            cq,
            cq_ctx,
            qp,
            log,
            qp_context,
        }
    }

    pub fn q(&self) -> &'static NDK_QP_DISPATCH {
        qp_d(self.qp)
    }

    /// Every result queued on the CQ now (Ex form).
    pub fn results(&self) -> Vec<NDK_RESULT_EX> {
        results_ex(self.cq, 256)
    }

    /// An MR of this side's PD over `buf`.
    pub fn mr(&self, buf: &mut [u8], flags: u32) -> Mr {
        let (mr, mdl) = registered_mr(self.pd, buf, flags);
        Mr { mr, _mdl: mdl }
    }

    pub fn send(&self, ctx: usize, sges: &[NDK_SGE], flags: u32) -> NtStatus {
        unsafe {
            (self.q().NdkSend)(
                self.qp,
                ctx as *mut c_void,
                sges.as_ptr(),
                sges.len() as u32,
                flags,
            )
        }
    }

    pub fn write(&self, ctx: usize, sges: &[NDK_SGE], va: u64, token: u32, flags: u32) -> NtStatus {
        self.rdma(self.q().NdkWrite, ctx, sges, va, token, flags)
    }

    pub fn read(&self, ctx: usize, sges: &[NDK_SGE], va: u64, token: u32, flags: u32) -> NtStatus {
        self.rdma(self.q().NdkRead, ctx, sges, va, token, flags)
    }

    /// Posts an RDMA request through `op` (NdkRead and NdkWrite share one
    /// signature) against `va` through `token`.
    fn rdma(
        &self,
        op: NDK_FN_WRITE,
        ctx: usize,
        sges: &[NDK_SGE],
        va: u64,
        token: u32,
        flags: u32,
    ) -> NtStatus {
        unsafe {
            op(
                self.qp,
                ctx as *mut c_void,
                sges.as_ptr(),
                sges.len() as u32,
                va,
                token,
                flags,
            )
        }
    }

    /// NdkBind: binds `mw` to `len` bytes of `mr` at `va`.
    pub fn bind(
        &self,
        ctx: usize,
        mr: *mut NDK_MR,
        mw: *mut NDK_MW,
        va: u64,
        len: usize,
        flags: u32,
    ) -> NtStatus {
        unsafe {
            (self.q().NdkBind)(
                self.qp,
                ctx as *mut c_void,
                mr,
                mw,
                va as *mut c_void,
                len,
                flags,
            )
        }
    }

    pub fn receive(&self, ctx: usize, sges: &[NDK_SGE]) -> NtStatus {
        receive(self.qp, ctx, sges)
    }
}

/// A registered MR (its MDL kept alive).
pub struct Mr {
    pub mr: *mut NDK_MR,
    _mdl: Box<MDL>,
}

impl Mr {
    pub fn local(&self) -> u32 {
        unsafe { (mr_d(self.mr).NdkGetLocalTokenFromMr)(self.mr) }
    }
    pub fn remote(&self) -> u32 {
        unsafe { (mr_d(self.mr).NdkGetRemoteTokenFromMr)(self.mr) }
    }
}

/// Two sides on one virtual platform.
pub struct Pair {
    pub platform: *mut c_void,
    pub a: Side,
    pub b: Side,
    /// Objects to close before the QPs (MRs, MWs...).
    pub extra: Vec<*mut NDK_PD>,
}

impl Pair {
    /// Two unconnected sides.
    pub fn unpaired(seed: u64) -> Pair {
        Pair::unpaired_on(unsafe { softroce_platform_virtual(seed) })
    }

    /// Two unconnected sides on `platform` (virtual or real).
    pub fn unpaired_on(platform: *mut c_void) -> Pair {
        Pair::sized(platform, 256)
    }

    /// Two unconnected sides whose CQs hold `cq_depth` entries.
    pub fn sized(platform: *mut c_void, cq_depth: u32) -> Pair {
        let a = Side::new(platform, "192.0.2.1", 0xA0A0, cq_depth);
        let b = Side::new(platform, "192.0.2.2", 0xB0B0, cq_depth);
        Pair {
            platform,
            a,
            b,
            extra: Vec::new(),
        }
    }

    /// Two connected sides (`o`: link knobs; None = clean link).
    pub fn new(o: Option<PairOptions>) -> Pair {
        let p = Pair::unpaired(o.map_or(1, |o| o.seed));
        assert_eq!(p.connect(o), STATUS_SUCCESS);
        p
    }

    pub fn connect(&self, o: Option<PairOptions>) -> NtStatus {
        let o = o.unwrap_or_default();
        unsafe { softroce_debug_pair_qps(self.a.qp, self.b.qp, &o) }
    }

    /// Moves virtual time by `ns`, running what falls due.
    pub fn advance(&self, ns: u64) {
        unsafe { softroce_platform_advance_ns(self.platform, ns) };
    }

    /// Lets the link and the engines run for `ms` of virtual time.
    pub fn settle(&self, ms: u64) {
        for _ in 0..ms * 10 {
            self.advance(100_000);
        }
    }

    /// Runs until `cond` holds (checked every 100 us), at most `ms`.
    pub fn until(&self, ms: u64, mut cond: impl FnMut() -> bool) -> bool {
        for _ in 0..ms * 10 {
            if cond() {
                return true;
            }
            self.advance(100_000);
        }
        cond()
    }

    /// Keeps an object to close before the QPs.
    pub fn keep<T>(&mut self, obj: *mut T) {
        self.extra.push(obj.cast());
    }

    /// Closes everything (objects kept, QPs, CQs, PDs, adapters) and
    /// checks the books: nothing left in the pool, no IRQL rule broken.
    pub fn finish(self) {
        for o in self.extra.iter().rev() {
            let s = close_obj(*o, None);
            assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "close {s:?}");
        }
        for side in [&self.a, &self.b] {
            if !side.qp.is_null() {
                assert_eq!(close_obj(side.qp, None), STATUS_SUCCESS);
            }
        }
        unsafe { softroce_platform_run_pending(self.platform) };
        for side in [&self.a, &self.b] {
            let s = close_obj(side.cq, None);
            assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "close CQ {s:?}");
            let s = close_obj(side.pd, None);
            assert!(s == STATUS_SUCCESS || s == STATUS_PENDING, "close PD {s:?}");
        }
        unsafe { softroce_platform_run_pending(self.platform) };
        for side in [&self.a, &self.b] {
            unsafe { softroce_close_adapter(side.adapter) };
        }
        let bytes = unsafe { softroce_platform_pool_bytes(self.platform) };
        let objects = unsafe { softroce_platform_pool_objects(self.platform) };
        assert_eq!((bytes, objects), (0, 0), "pool books not balanced");
        unsafe { softroce_platform_release(self.platform) };
        softroce::os::hosted::irql_books().assert_clean();
    }
}

/// The link counters of the pair made with `a` first: (a -> b, b -> a),
/// each [sent, delivered, lost, duplicated, reordered, corrupted,
/// icrc_drops, masked].
pub fn pair_stats(a: *mut NDK_QP) -> ([u64; 8], [u64; 8]) {
    let mut out = [0u64; 16];
    unsafe { softroce_debug_pair_stats(a, out.as_mut_ptr()) };
    let mut ab = [0u64; 8];
    let mut ba = [0u64; 8];
    ab.copy_from_slice(&out[..8]);
    ba.copy_from_slice(&out[8..]);
    (ab, ba)
}

/// A buffer of `n` bytes with a pattern depending on `seed`.
pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed) ^ (i >> 8) as u8)
        .collect()
}

/// Asserts one NDK_RESULT_EX field by field.
#[allow(clippy::too_many_arguments)]
pub fn check(
    r: &NDK_RESULT_EX,
    status: NtStatus,
    bytes: u32,
    qp_context: usize,
    ctx: usize,
    op: u32,
    provider_error: u32,
    type_specific: usize,
) {
    assert_eq!(
        (
            r.Status,
            r.BytesTransferred,
            r.QPContext as usize,
            r.RequestContext as usize,
            r.Type,
            r.ProviderErrorCode,
            r.TypeSpecificCompletionOutput
        ),
        (
            status,
            bytes,
            qp_context,
            ctx,
            op,
            provider_error,
            type_specific
        ),
        "result {r:?}"
    );
}

/// ProviderErrorCode of a flushed request (STATUS_CANCELLED).
pub const FLUSHED_CODE: u32 = 0x5352_0001;

/// Requests of A left outstanding by [`stuck_requests`], with what they use.
pub struct Stuck {
    pub a_mr: Mr,
    pub b_mr: Mr,
    pub mw: *mut NDK_MW,
    /// A's buffer address and local token.
    pub aa: u64,
    pub at: u32,
    _bufs: (Vec<u8>, Vec<u8>),
}

/// On a connected pair: a send from A stuck on RNR (no receive at B), a read
/// queued behind it, a bind executed meanwhile, and two receives at A
/// (contexts 1, 2, 3, 0x51, 0x52); nothing has completed yet.
pub fn stuck_requests(p: &Pair) -> Stuck {
    let mut a_buf = pattern(1024, 1);
    let mut b_buf = vec![0u8; 1024];
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_REMOTE_READ);
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    let at = a_mr.local();
    let mw = create_mw(p.a.pd);
    assert_eq!(p.a.send(1, &[sge(aa, 100, at)], 0), STATUS_SUCCESS);
    let s = p.a.read(2, &[sge(aa + 512, 100, at)], ba, b_mr.remote(), 0);
    assert_eq!(s, STATUS_SUCCESS);
    let s =
        p.a.bind(3, a_mr.mr, mw, aa, 64, NDK_OP_FLAG_ALLOW_REMOTE_READ);
    assert_eq!(s, STATUS_SUCCESS);
    assert_eq!(p.a.receive(0x51, &[sge(aa, 8, at)]), STATUS_SUCCESS);
    assert_eq!(p.a.receive(0x52, &[sge(aa + 8, 8, at)]), STATUS_SUCCESS);
    p.settle(5);
    assert!(
        p.a.results().is_empty(),
        "the send waits for a receive (RNR), the rest behind it"
    );
    assert!(p.b.results().is_empty());
    Stuck {
        a_mr,
        b_mr,
        mw,
        aa,
        at,
        _bufs: (a_buf, b_buf),
    }
}

/// Asserts A's results are what flushing [`stuck_requests`] gives (NdkFlush
/// or the close's flush): the initiator requests in posting order (Send,
/// Read CANCELLED; the executed Bind's success in its place), both
/// receives CANCELLED in order.
pub fn check_stuck_flushed(r: &[NDK_RESULT_EX]) {
    assert_eq!(r.len(), 5, "{r:?}");
    let init: Vec<_> = r
        .iter()
        .filter(|r| r.Type != NdkOperationTypeReceive)
        .collect();
    let recv: Vec<_> = r
        .iter()
        .filter(|r| r.Type == NdkOperationTypeReceive)
        .collect();
    let (cancelled, f) = (STATUS_CANCELLED, FLUSHED_CODE);
    check(init[0], cancelled, 0, 0xA0A0, 1, NdkOperationTypeSend, f, 0);
    check(init[1], cancelled, 0, 0xA0A0, 2, NdkOperationTypeRead, f, 0);
    check(
        init[2],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        3,
        NdkOperationTypeBind,
        0,
        0,
    );
    check(
        recv[0],
        cancelled,
        0,
        0xA0A0,
        0x51,
        NdkOperationTypeReceive,
        f,
        0,
    );
    check(
        recv[1],
        cancelled,
        0,
        0xA0A0,
        0x52,
        NdkOperationTypeReceive,
        f,
        0,
    );
}

impl Stuck {
    /// Hands the objects to `p` to close before its QPs (window first);
    /// `self` (buffers, MDLs) must live until `p.finish()` returned.
    pub fn keep_in(&self, p: &mut Pair) {
        p.keep(self.a_mr.mr);
        p.keep(self.b_mr.mr);
        p.keep(self.mw);
    }
}
