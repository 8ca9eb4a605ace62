//! The initiator queue's local operations: NdkBind, NdkFastRegister and
//! NdkInvalidate. Each is checked and executed when posted (under the data
//! path's engine lock, through `verbs::memory`), and its completion (Type
//! Bind / FastRegister / Invalidate) is queued on the initiator CQ in
//! posting order behind every earlier initiator request (`dp_order`). A
//! failed check returns its status inline and changes nothing. Must not
//! touch the engine.

use core::ffi::c_void;

use crate::abi::{
    NdkObjectTypeMr, NdkObjectTypeMw, NdkOperationTypeBind, NdkOperationTypeFastRegister,
    NdkOperationTypeInvalidate, NtStatus, NDK_LOGICAL_ADDRESS, NDK_MR, NDK_MW, NDK_OBJECT_HEADER,
    NDK_OP_FLAG_ALLOW_LOCAL_WRITE, NDK_OP_FLAG_ALLOW_REMOTE_READ, NDK_OP_FLAG_ALLOW_REMOTE_WRITE,
    NDK_OP_FLAG_DEFER, NDK_OP_FLAG_RDMA_READ_SINK, NDK_OP_FLAG_READ_FENCE,
    NDK_OP_FLAG_SILENT_SUCCESS, NDK_QP, STATUS_ACCESS_VIOLATION, STATUS_CONNECTION_INVALID,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Irql};
use crate::verbs::lam::LAM_PAGE_SIZE;
use crate::verbs::memory::{Access, AccessError};

use super::core::Backing;
use super::mr::Mr;
use super::mw::Mw;
use super::object::{recover, Object};
use super::qp::Qp;

const REMOTE_WRITE_BIT: u32 = NDK_OP_FLAG_ALLOW_REMOTE_WRITE & !NDK_OP_FLAG_ALLOW_LOCAL_WRITE;
const BIND_FLAGS: u32 = NDK_OP_FLAG_SILENT_SUCCESS
    | NDK_OP_FLAG_READ_FENCE
    | NDK_OP_FLAG_ALLOW_REMOTE_READ
    | NDK_OP_FLAG_ALLOW_REMOTE_WRITE
    | NDK_OP_FLAG_DEFER;
const FAST_REGISTER_FLAGS: u32 = NDK_OP_FLAG_SILENT_SUCCESS
    | NDK_OP_FLAG_READ_FENCE
    | NDK_OP_FLAG_ALLOW_REMOTE_READ
    | NDK_OP_FLAG_ALLOW_LOCAL_WRITE
    | NDK_OP_FLAG_ALLOW_REMOTE_WRITE
    | NDK_OP_FLAG_RDMA_READ_SINK
    | NDK_OP_FLAG_DEFER;
const INVALIDATE_FLAGS: u32 =
    NDK_OP_FLAG_SILENT_SUCCESS | NDK_OP_FLAG_READ_FENCE | NDK_OP_FLAG_DEFER;

/// Remote rights named by post flags (REMOTE_WRITE also grants atomics, as
/// MR registration does).
fn remote_rights(flags: u32) -> Access {
    let mut a = Access::empty();
    if flags & NDK_OP_FLAG_ALLOW_REMOTE_READ != 0 {
        a |= Access::REMOTE_READ;
    }
    if flags & REMOTE_WRITE_BIT != 0 {
        a |= Access::REMOTE_WRITE | Access::REMOTE_ATOMIC;
    }
    a
}

fn bind_error(e: AccessError) -> NtStatus {
    match e {
        AccessError::NoRights => STATUS_ACCESS_VIOLATION,
        _ => STATUS_INVALID_PARAMETER,
    }
}

/// The QP of a local post, connected, with acceptable flags.
///
/// # Safety
/// NDKPI contract.
unsafe fn local_qp<'a>(qp: *mut NDK_QP, flags: u32, allowed: u32) -> Result<&'a Qp, NtStatus> {
    // SAFETY: forwarded contract.
    let qp = unsafe { recover::<Qp>(qp.cast()) }?;
    if !qp.datapath.is_connected() {
        return Err(STATUS_CONNECTION_INVALID);
    }
    if !qp.datapath.initiator_cq_usable() {
        return Err(crate::abi::STATUS_INVALID_DEVICE_STATE);
    }
    if flags & !allowed != 0 {
        return Err(fail(qp, STATUS_INVALID_PARAMETER));
    }
    Ok(qp)
}

/// A failed local post: earlier DEFERred requests go out first.
fn fail(qp: &Qp, e: NtStatus) -> NtStatus {
    qp.datapath.pump(qp.base().core.platform.now());
    e
}

fn finish(r: Result<(), NtStatus>) -> NtStatus {
    match r {
        Ok(()) => STATUS_SUCCESS,
        Err(e) => e,
    }
}

/// NDK_FN_BIND: binds `mw` over `[va, va+len)` of `mr` with the remote
/// rights of `flags` (a bound window is rebound: its old token dies). NULL
/// or foreign MR/MW -> their status; another PD, an MR with nothing
/// registered, a range outside the MR -> STATUS_INVALID_PARAMETER; remote
/// write on an MR without LOCAL_WRITE -> STATUS_ACCESS_VIOLATION. The
/// window's token is readable with NdkGetRemoteTokenFromMw on return. A
/// successful bind makes the window the MR's successor (facts §5.2 MR->MW:
/// the MR's close pends, its deregistration is refused, until the window is
/// closed, invalidated or bound to another MR; `mw.rs`).
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_bind(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    mr: *mut NDK_MR,
    mw: *mut NDK_MW,
    va: *mut c_void,
    len: usize,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkBind");
    // SAFETY: forwarded contract.
    let qp = match unsafe { local_qp(qp, flags, BIND_FLAGS) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let objects = unsafe { (recover::<Mr>(mr.cast()), recover::<Mw>(mw.cast())) };
    let (mr, mw) = match objects {
        (Ok(r), Ok(w)) => (r, w),
        (Err(e), _) | (_, Err(e)) => return fail(qp, e),
    };
    let pd = qp.keys.pd;
    let Some(lkey) = mr.lkey().filter(|_| mr.pd == pd && mw.pd == pd) else {
        return fail(qp, STATUS_INVALID_PARAMETER);
    };
    let core = &qp.base().core;
    let r = qp.datapath.post_local(
        ctx as usize,
        flags & NDK_OP_FLAG_SILENT_SUCCESS != 0,
        NdkOperationTypeBind,
        flags & NDK_OP_FLAG_DEFER != 0,
        || {
            let mut rng = core.rng.lock();
            let mut memory = core.memory.lock();
            let bound = memory.bind(
                &mut rng,
                pd,
                lkey,
                va as u64,
                len as u64,
                remote_rights(flags),
            );
            let status = match bound {
                Ok((_, rkey)) => {
                    // The window becomes the MR's successor (MR->MW).
                    if let Some(old) = mw.bind_to(rkey, &mr.base().events) {
                        let _ = memory.invalidate_remote(old, pd);
                    }
                    STATUS_SUCCESS
                }
                Err(e) => bind_error(e),
            };
            drop(memory);
            drop(rng);
            status
        },
    );
    finish(r)
}

/// NDK_FN_FAST_REGISTER: maps `pages` logical pages (from a LAM) at
/// `base` (= FBO + n*PAGE_SIZE, not 0) for `len` bytes (at most
/// pages*PAGE_SIZE minus FBO) with the rights of `flags`, minting a new remote token when
/// remote rights are given. Not a fast-register MR, or not initialized ->
/// STATUS_INVALID_DEVICE_REQUEST; a bad geometry, more pages than
/// initialized, NULL page array -> STATUS_INVALID_PARAMETER; remote rights on
/// an MR initialized without remote access -> STATUS_ACCESS_VIOLATION.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract: `page_array` holds `pages` entries.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_fast_register(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    mr: *mut NDK_MR,
    pages: u32,
    page_array: *const NDK_LOGICAL_ADDRESS,
    fbo: u32,
    len: usize,
    base: *mut c_void,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkFastRegister");
    // SAFETY: forwarded contract.
    let qp = match unsafe { local_qp(qp, flags, FAST_REGISTER_FLAGS) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    // SAFETY: forwarded contract.
    let mr = match unsafe { recover::<Mr>(mr.cast()) } {
        Ok(m) => m,
        Err(e) => return fail(qp, e),
    };
    let (fast, remote_capable) = mr.fast();
    let pd = qp.keys.pd;
    let Some(lkey) = mr.lkey().filter(|_| fast && mr.pd == pd) else {
        return fail(qp, STATUS_INVALID_DEVICE_REQUEST);
    };
    let base = base as u64;
    let span = u64::from(pages).saturating_mul(LAM_PAGE_SIZE);
    let geometry_ok = pages > 0
        && !page_array.is_null()
        && u64::from(fbo) < LAM_PAGE_SIZE
        && (len as u64) <= span.saturating_sub(u64::from(fbo))
        && base != 0
        && base % LAM_PAGE_SIZE == u64::from(fbo);
    if !geometry_ok {
        return fail(qp, STATUS_INVALID_PARAMETER);
    }
    let remote = remote_rights(flags);
    if !remote.is_empty() && !remote_capable {
        return fail(qp, STATUS_ACCESS_VIOLATION);
    }
    let mut access = remote;
    if flags & NDK_OP_FLAG_ALLOW_LOCAL_WRITE != 0 || !remote.is_empty() {
        access |= Access::LOCAL_WRITE;
    }
    let core = &qp.base().core;
    let r = qp.datapath.post_local(
        ctx as usize,
        flags & NDK_OP_FLAG_SILENT_SUCCESS != 0,
        NdkOperationTypeFastRegister,
        flags & NDK_OP_FLAG_DEFER != 0,
        || {
            let mut rng = core.rng.lock();
            let mut memory = core.memory.lock();
            let status = match memory.region_mut(lkey) {
                Some(region) => match &mut region.backing {
                    Backing::Fast {
                        pages: list,
                        capacity,
                    } if pages <= *capacity => {
                        list.clear();
                        for i in 0..pages as usize {
                            // SAFETY: the consumer provides `pages` entries.
                            let page = unsafe { page_array.add(i).read_unaligned() };
                            list.push(page);
                        }
                        region.base = base;
                        region.len = len as u64;
                        region.access = access;
                        region.valid = true;
                        STATUS_SUCCESS
                    }
                    _ => STATUS_INVALID_PARAMETER,
                },
                None => STATUS_INVALID_DEVICE_REQUEST,
            };
            if status == STATUS_SUCCESS && !remote.is_empty() {
                if let Err(e) = memory.remint_rkey(&mut rng, lkey) {
                    drop(memory);
                    drop(rng);
                    return bind_error(e);
                }
            }
            drop(memory);
            drop(rng);
            status
        },
    );
    finish(r)
}

/// NDK_FN_INVALIDATE: a fast-registered MR stops being usable (local and
/// remote) until the next NdkFastRegister; a bound MW is unbound (its
/// token dies). An MR registered with NdkRegisterMr (or not initialized) ->
/// STATUS_INVALID_DEVICE_REQUEST; another object type ->
/// STATUS_INVALID_HANDLE; NULL -> STATUS_INVALID_PARAMETER.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_invalidate(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    target: *mut NDK_OBJECT_HEADER,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkInvalidate");
    // SAFETY: forwarded contract.
    let qp = match unsafe { local_qp(qp, flags, INVALIDATE_FLAGS) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    if target.is_null() {
        return fail(qp, STATUS_INVALID_PARAMETER);
    }
    // SAFETY: non-NULL NDK object by contract.
    let object_type = unsafe { (*target).ObjectType };
    let pd = qp.keys.pd;
    let core = &qp.base().core;
    let silent = flags & NDK_OP_FLAG_SILENT_SUCCESS != 0;
    let defer = flags & NDK_OP_FLAG_DEFER != 0;
    let r = if object_type == NdkObjectTypeMr {
        // SAFETY: forwarded contract.
        let mr = match unsafe { recover::<Mr>(target.cast()) } {
            Ok(m) => m,
            Err(e) => return fail(qp, e),
        };
        let Some(lkey) = mr.lkey().filter(|_| mr.fast().0 && mr.pd == pd) else {
            return fail(qp, STATUS_INVALID_DEVICE_REQUEST);
        };
        qp.datapath.post_local(
            ctx as usize,
            silent,
            NdkOperationTypeInvalidate,
            defer,
            || match core.memory.lock().region_mut(lkey) {
                Some(region) => {
                    region.valid = false;
                    STATUS_SUCCESS
                }
                None => STATUS_INVALID_DEVICE_REQUEST,
            },
        )
    } else if object_type == NdkObjectTypeMw {
        // SAFETY: forwarded contract.
        let mw = match unsafe { recover::<Mw>(target.cast()) } {
            Ok(w) => w,
            Err(e) => return fail(qp, e),
        };
        if mw.pd != pd {
            return fail(qp, STATUS_INVALID_PARAMETER);
        }
        qp.datapath.post_local(
            ctx as usize,
            silent,
            NdkOperationTypeInvalidate,
            defer,
            || {
                // No longer the MR's successor (a pending MR close may go on).
                if let Some(rkey) = mw.unbind() {
                    let _ = core.memory.lock().invalidate_remote(rkey, pd);
                }
                STATUS_SUCCESS
            },
        )
    } else {
        return fail(qp, crate::abi::STATUS_INVALID_HANDLE);
    };
    finish(r)
}
