//! Conformance: memory registration, tokens, fast-register MRs, memory
//! windows, LAMs and the privileged token (NDKPI facts §5.4, §2.8-2.9),
//! through the hosted C entry points and the dispatch tables only.

mod ndk_common;

use ndk_common::*;
use std::ptr::null_mut;

fn page_up(p: usize) -> usize {
    p.div_ceil(4096) * 4096
}

fn tokens(mr: *mut NDK_MR) -> (u32, u32) {
    unsafe {
        (
            (mr_d(mr).NdkGetLocalTokenFromMr)(mr),
            (mr_d(mr).NdkGetRemoteTokenFromMr)(mr),
        )
    }
}

fn new_mr(pd: *mut NDK_PD, fast: bool) -> *mut NDK_MR {
    let mut mr = null_mut();
    let s = unsafe { (pd_d(pd).NdkCreateMr)(pd, fast as u8, None, null_mut(), &mut mr) };
    assert_eq!(s, STATUS_SUCCESS);
    mr
}

fn register(mr: *mut NDK_MR, mdl: &mut MDL, len: usize, flags: u32) -> NtStatus {
    unsafe { (mr_d(mr).NdkRegisterMr)(mr, mdl, len, flags, None, null_mut()) }
}

/// §5.4: RegisterMr flags and rights: the remote token exists only with a
/// remote right; tokens are distinct and non-zero; unknown flags, length 0,
/// length above the chain or MaxRegistrationSize, NULL MDL -> INVALID_PARAMETER
/// and nothing registered; a second registration or a fast MR ->
/// INVALID_DEVICE_REQUEST; deregister kills the tokens.
#[test]
fn register_checks_arguments_and_mints_tokens() {
    let env = Env::new();
    let pd = env.pd();
    let mut buf = vec![0u8; 3 * 4096];
    let len = buf.len();
    let mut mdl = new_mdl(&mut buf, 0);
    let mr = new_mr(pd, false);
    assert_eq!(tokens(mr), (0, 0));
    for (l, flags) in [
        (len, 0x10u32),
        (len, 0x8000_0000),
        (0, 1),
        (len + 1, 1),
        (1 << 31, 1),
    ] {
        assert_eq!(
            register(mr, &mut mdl, l, flags),
            STATUS_INVALID_PARAMETER,
            "len {l} flags {flags:#x}"
        );
        assert_eq!(tokens(mr), (0, 0), "a refused registration changed the MR");
    }
    let s = unsafe { (mr_d(mr).NdkRegisterMr)(mr, null_mut(), len, 1, None, null_mut()) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    // Local only (with READ_SINK, accepted and ignored): no remote token.
    assert_eq!(
        register(
            mr,
            &mut mdl,
            len,
            NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_RDMA_READ_SINK
        ),
        STATUS_SUCCESS
    );
    let (l1, r1) = tokens(mr);
    assert_ne!(l1, 0);
    assert_eq!(r1, 0);
    assert_eq!(
        register(mr, &mut mdl, len, 1),
        STATUS_INVALID_DEVICE_REQUEST
    );
    assert_eq!(
        unsafe { (mr_d(mr).NdkDeregisterMr)(mr, None, null_mut()) },
        STATUS_SUCCESS
    );
    assert_eq!(tokens(mr), (0, 0));
    assert_eq!(
        unsafe { (mr_d(mr).NdkDeregisterMr)(mr, None, null_mut()) },
        STATUS_INVALID_DEVICE_REQUEST
    );
    // Remote write (implies local write): both tokens, distinct, fresh.
    assert_eq!(
        register(mr, &mut mdl, len, NDK_MR_FLAG_ALLOW_REMOTE_WRITE),
        STATUS_SUCCESS
    );
    let (l2, r2) = tokens(mr);
    assert!(l2 != 0 && r2 != 0 && l2 != r2 && l2 != l1);
    let fast = new_mr(pd, true);
    assert_eq!(
        register(fast, &mut mdl, len, 1),
        STATUS_INVALID_DEVICE_REQUEST
    );
    for o in [fast, mr] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4: the MDL chain must be virtually contiguous for Length; the MDL VA
/// is only an index (a VA that is not this process's buffer address works,
/// and SGEs are checked against it, not the buffer address).
#[test]
fn mdl_chains_contiguity_and_va_as_index() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let (cq, _c) = env.cq(8, &log, 1);
    let q = qp(pd, cq, 0, 8, 4).unwrap();
    let mut a = vec![0u8; 4096];
    let mut b = vec![0u8; 4096];
    let va = 0x7700_0000_0000u64;
    // Contiguous chain: second MDL starts where the first ends.
    let mut second = new_mdl(&mut b, va + 4096);
    let mut first = new_mdl(&mut a, va);
    first.Next = &mut *second;
    let mr = new_mr(pd, false);
    assert_eq!(register(mr, &mut first, 8192, 1), STATUS_SUCCESS);
    let (lkey, _) = tokens(mr);
    assert_eq!(receive(q, 1, &[sge(va + 4000, 200, lkey)]), STATUS_SUCCESS);
    assert_eq!(
        receive(q, 2, &[sge(va + 8192, 1, lkey)]),
        STATUS_ACCESS_VIOLATION
    );
    let buffer_va = a.as_ptr() as u64;
    assert_eq!(
        receive(q, 3, &[sge(buffer_va, 8, lkey)]),
        STATUS_ACCESS_VIOLATION
    );
    // A gap between the MDLs: refused.
    let mut gap = new_mdl(&mut b, va + 4096 + 64);
    first.Next = &mut *gap;
    let mr2 = new_mr(pd, false);
    assert_eq!(register(mr2, &mut first, 8192, 1), STATUS_INVALID_PARAMETER);
    // Only the first 4096 bytes asked for: the second MDL is not looked at.
    assert_eq!(register(mr2, &mut first, 4096, 1), STATUS_SUCCESS);
    for o in [q.cast::<NDK_MR>(), mr, mr2] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4/§2.8: SGE checks at post: tokens of another PD, out of range, a
/// region without LOCAL_WRITE for a receive, a deregistered token ->
/// STATUS_ACCESS_VIOLATION; too many SGEs -> STATUS_INVALID_PARAMETER; a
/// full queue -> STATUS_INSUFFICIENT_RESOURCES. Failed posts never produce
/// a completion (the flush shows only the accepted ones).
#[test]
fn receive_sges_are_checked_and_failed_posts_complete_nothing() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let other = env.pd();
    let (cq, _c) = env.cq(16, &log, 1);
    let q = qp(pd, cq, 0, 2, 2).unwrap();
    let mut buf = vec![0u8; 4096];
    let va = buf.as_ptr() as u64;
    let (rw, _m1) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (ro, _m2) = registered_mr(pd, &mut buf, NDK_MR_FLAG_ALLOW_REMOTE_READ);
    let (foreign, _m3) = registered_mr(other, &mut buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (t_rw, t_ro, t_foreign) = (tokens(rw).0, tokens(ro).0, tokens(foreign).0);
    assert_eq!(
        receive(q, 1, &[sge(va, 16, t_foreign)]),
        STATUS_ACCESS_VIOLATION
    );
    assert_eq!(
        receive(q, 2, &[sge(va + 4090, 16, t_rw)]),
        STATUS_ACCESS_VIOLATION
    );
    assert_eq!(receive(q, 3, &[sge(va, 16, t_ro)]), STATUS_ACCESS_VIOLATION);
    assert_eq!(
        receive(q, 4, &[sge(va, 16, t_rw ^ 0x8000_0000)]),
        STATUS_ACCESS_VIOLATION
    );
    let five = [sge(va, 1, t_rw); 5];
    assert_eq!(receive(q, 5, &five), STATUS_INVALID_PARAMETER);
    assert_eq!(
        receive(q, 6, &[sge(va, 16, t_rw), sge(va + 16, 16, t_rw)]),
        STATUS_SUCCESS
    );
    assert_eq!(receive(q, 7, &[]), STATUS_SUCCESS);
    assert_eq!(
        receive(q, 8, &[sge(va, 16, t_rw)]),
        STATUS_INSUFFICIENT_RESOURCES
    );
    // Deregistered: the token stops working at once.
    unsafe { (mr_d(rw).NdkDeregisterMr)(rw, None, null_mut()) };
    unsafe { (qp_d(q).NdkFlush)(q) };
    assert_eq!(receive(q, 9, &[sge(va, 16, t_rw)]), STATUS_ACCESS_VIOLATION);
    unsafe { (qp_d(q).NdkFlush)(q) };
    let got: Vec<usize> = results_ex(cq, 16)
        .iter()
        .map(|e| e.RequestContext as usize)
        .collect();
    assert_eq!(got, vec![6, 7]);
    for o in [q.cast::<NDK_MR>(), rw, ro, foreign] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    assert_eq!(close_obj(other, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4: NdkInitializeFastRegisterMr: only on an MR created with
/// FastRegister=TRUE (else INVALID_DEVICE_REQUEST); 0 pages ->
/// INVALID_PARAMETER; above the implementation limit ->
/// STATUS_IMPLEMENTATION_LIMIT; may be repeated; the remote token is not
/// usable before NdkFastRegister; pages are accounted and released.
#[test]
fn fast_register_initialization() {
    let env = Env::new();
    let pd = env.pd();
    let plain = new_mr(pd, false);
    let fast = new_mr(pd, true);
    let init = |mr, pages, remote: u8| unsafe {
        (mr_d(mr).NdkInitializeFastRegisterMr)(mr, pages, remote, None, null_mut())
    };
    assert_eq!(init(plain, 16, 1), STATUS_INVALID_DEVICE_REQUEST);
    assert_eq!(init(fast, 0, 1), STATUS_INVALID_PARAMETER);
    assert_eq!(init(fast, 4097, 1), STATUS_IMPLEMENTATION_LIMIT);
    assert_eq!(tokens(fast), (0, 0));
    let before = env.pool_bytes();
    assert_eq!(init(fast, 512, 1), STATUS_SUCCESS);
    assert_eq!(env.pool_bytes(), before + 512 * 8, "page array accounted");
    let (l1, _) = tokens(fast);
    assert_ne!(l1, 0);
    assert_eq!(init(fast, 16, 0), STATUS_SUCCESS);
    assert_eq!(
        env.pool_bytes(),
        before + 16 * 8,
        "the earlier page array released"
    );
    let (l2, r2) = tokens(fast);
    assert!(l2 != 0 && l2 != l1);
    assert_eq!(r2, 0, "no remote access was asked for");
    for o in [plain, fast] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4: a new MW is unbound (remote token 0); it is a PD child.
#[test]
fn memory_windows_start_unbound() {
    let env = Env::new();
    let log = Log::default();
    let pd = env.pd();
    let mw = create_mw(pd);
    let d = unsafe { &*(*mw).Dispatch };
    assert_eq!(unsafe { (d.NdkGetRemoteTokenFromMw)(mw) }, 0);
    assert_eq!(unsafe { (d.NdkGetRemoteTokenFromMw)(null_mut()) }, 0);
    let c = Ctx::new(&log, 1);
    assert_eq!(close_obj(pd, Some(&c)), STATUS_PENDING);
    assert_eq!(
        unsafe { (d.NdkCloseMw)(mw.cast(), None, null_mut()) },
        STATUS_SUCCESS
    );
    env.run();
    assert_eq!(log.count("close"), 1);
    env.finish();
}

fn build_lam(
    env: &Env,
    mdl: *mut MDL,
    len: usize,
    lam: *mut NDK_LOGICAL_ADDRESS_MAPPING,
    size: &mut u32,
    fbo: &mut u32,
) -> NtStatus {
    unsafe { (env.d().NdkBuildLAM)(env.adapter, mdl, len, None, null_mut(), lam, size, fbo) }
}

/// §5.4/§2.9: the LamSize protocol (NULL LAM or too small ->
/// STATUS_BUFFER_TOO_SMALL with the size for ceil((FBO+Length)/PAGE_SIZE)
/// pages, nothing kept), the FBO, the page array; chains joined inside a
/// page are refused; ReleaseLAM kills the logical addresses.
#[test]
fn build_lam_size_protocol_pages_and_release() {
    let env = Env::new();
    let mut buf = vec![0u8; 5 * 4096];
    let base = buf.as_ptr() as usize;
    let start = page_up(base) + 100; // FBO 100
    let off = start - base;
    let len = 2 * 4096;
    let mut mdl = new_mdl(&mut buf[off..off + len], 0);
    let (mut size, mut fbo) = (0u32, 0xAAu32);
    assert_eq!(
        build_lam(&env, &mut *mdl, len, null_mut(), &mut size, &mut fbo),
        STATUS_BUFFER_TOO_SMALL
    );
    let pages = (100 + len).div_ceil(4096);
    let need = 16 + 8 * pages as u32;
    assert_eq!(size, need);
    assert_eq!(fbo, 0xAA, "FBO written on failure");
    let mut storage = vec![0u64; 2 + pages];
    let lam = storage.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
    size = need - 1;
    assert_eq!(
        build_lam(&env, &mut *mdl, len, lam, &mut size, &mut fbo),
        STATUS_BUFFER_TOO_SMALL
    );
    assert_eq!(size, need);
    let s = unsafe {
        (env.d().NdkBuildLAM)(
            env.adapter,
            &mut *mdl,
            len,
            None,
            null_mut(),
            lam,
            &mut size,
            null_mut(),
        )
    };
    assert_eq!(s, STATUS_INVALID_PARAMETER, "NULL FBO");
    assert_eq!(
        build_lam(&env, &mut *mdl, 0, lam, &mut size, &mut fbo),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        build_lam(&env, null_mut(), len, lam, &mut size, &mut fbo),
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        build_lam(&env, &mut *mdl, len, lam, &mut size, &mut fbo),
        STATUS_SUCCESS
    );
    assert_eq!((size, fbo), (need, 100));
    let count = unsafe { (*lam).AdapterPageCount } as usize;
    assert_eq!(count, pages);
    let addrs: Vec<i64> = (0..count)
        .map(|i| unsafe { *(*lam).AdapterPageArray.as_ptr().add(i) })
        .collect();
    for w in addrs.windows(2) {
        assert_eq!(
            w[1] - w[0],
            4096,
            "pages of one LAM are logically contiguous"
        );
    }
    assert!(addrs.iter().all(|a| a % 4096 == 0));

    // The privileged token reaches the LAM's bytes, and only while it lives.
    let log = Log::default();
    let pd = env.pd();
    let mut token = 0u32;
    unsafe { (pd_d(pd).NdkGetPrivilegedMemoryRegionToken)(pd, &mut token) };
    assert_ne!(token, 0);
    let (cq, _c) = env.cq(8, &log, 1);
    let q = qp(pd, cq, 0, 8, 2).unwrap();
    let first = addrs[0] as u64;
    assert_eq!(
        receive(q, 1, &[sge(first + 100, 4096, token)]),
        STATUS_SUCCESS
    );
    assert_eq!(
        receive(q, 2, &[sge(first, 8, token)]),
        STATUS_ACCESS_VIOLATION,
        "head of page 0 is not the buffer's"
    );
    assert_eq!(
        receive(q, 3, &[sge(first + 100, len as u32 + 1, token)]),
        STATUS_ACCESS_VIOLATION
    );
    assert_eq!(
        receive(q, 4, &[sge(first + 100 + (1 << 40), 8, token)]),
        STATUS_ACCESS_VIOLATION
    );
    unsafe { (env.d().NdkReleaseLAM)(env.adapter, lam) };
    assert_eq!(
        receive(q, 5, &[sge(first + 100, 8, token)]),
        STATUS_ACCESS_VIOLATION
    );

    // Chains must join at page boundaries for a LAM.
    let mut x = vec![0u8; 3 * 4096];
    let xa = page_up(x.as_ptr() as usize) - x.as_ptr() as usize;
    let (p1, p2) = x[xa..xa + 8192].split_at_mut(4096);
    let mut m2 = new_mdl(p2, 0);
    let mut m1 = new_mdl(p1, 0);
    m1.Next = &mut *m2;
    size = 64;
    assert_eq!(
        build_lam(&env, &mut *m1, 8192, lam, &mut size, &mut fbo),
        STATUS_SUCCESS
    );
    assert_eq!((size, fbo), (32, 0));
    unsafe { (env.d().NdkReleaseLAM)(env.adapter, lam) };
    let mut m1b = new_mdl(&mut p1[..4000], 0);
    let mut m2b = new_mdl(p2, m1b.StartVa as u64 + 4000);
    m1b.Next = &mut *m2b;
    assert_eq!(
        build_lam(&env, &mut *m1b, 8000, lam, &mut size, &mut fbo),
        STATUS_INVALID_PARAMETER
    );

    assert_eq!(close_obj(q, None), STATUS_SUCCESS);
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(pd, None), STATUS_SUCCESS);
    env.finish();
}

/// §5.4: the privileged token is per PD, never equals an MR's remote
/// token, and is refused by another PD's QP.
#[test]
fn privileged_token_is_per_pd_and_never_a_remote_token() {
    let env = Env::new();
    let log = Log::default();
    let (a, b) = (env.pd(), env.pd());
    let (mut ta, mut tb) = (0u32, 0u32);
    unsafe {
        (pd_d(a).NdkGetPrivilegedMemoryRegionToken)(a, &mut ta);
        (pd_d(b).NdkGetPrivilegedMemoryRegionToken)(b, &mut tb);
    }
    assert!(ta != 0 && tb != 0 && ta != tb);
    let mut buf = vec![0u8; 8192];
    let (mr, _m) = registered_mr(
        a,
        &mut buf,
        NDK_MR_FLAG_ALLOW_REMOTE_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_READ,
    );
    let (l, r) = tokens(mr);
    assert!(ta != l && ta != r);
    // A LAM, then b's QP with a's privileged token: refused (wrong PD's
    // token is not b's privileged token, nor a region of b).
    let mut lam_buf = vec![0u64; 8];
    let lam = lam_buf.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
    let mut page = vec![0u8; 8192];
    let at = page_up(page.as_ptr() as usize) - page.as_ptr() as usize;
    let mut mdl = new_mdl(&mut page[at..at + 4096], 0);
    let (mut size, mut fbo) = (64u32, 0u32);
    assert_eq!(
        build_lam(&env, &mut *mdl, 4096, lam, &mut size, &mut fbo),
        STATUS_SUCCESS
    );
    let logical = unsafe { *(*lam).AdapterPageArray.as_ptr() } as u64;
    let (cq, _c) = env.cq(4, &log, 1);
    let qb = qp(b, cq, 0, 4, 2).unwrap();
    assert_eq!(
        receive(qb, 1, &[sge(logical, 64, ta)]),
        STATUS_ACCESS_VIOLATION
    );
    assert_eq!(receive(qb, 2, &[sge(logical, 64, tb)]), STATUS_SUCCESS);
    unsafe { (env.d().NdkReleaseLAM)(env.adapter, lam) };
    for o in [qb.cast::<NDK_MR>(), mr] {
        assert_eq!(close_obj(o, None), STATUS_SUCCESS);
    }
    assert_eq!(close_obj(cq, None), STATUS_SUCCESS);
    assert_eq!(close_obj(a, None), STATUS_SUCCESS);
    assert_eq!(close_obj(b, None), STATUS_SUCCESS);
    env.finish();
}
