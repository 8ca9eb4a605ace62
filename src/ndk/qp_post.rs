//! The initiator posts that go through the transport engine: NdkSend,
//! NdkSendAndInvalidate (Flags before RemoteToken), NdkRead and NdkWrite.
//! Each checks, in order: the QP (NULL / foreign), connected
//! (STATUS_CONNECTION_INVALID), its initiator CQ overran
//! (STATUS_INVALID_DEVICE_STATE), the flags this post accepts
//! (STATUS_INVALID_PARAMETER), the SGL (NULL with nSge > 0, more than the
//! QP's MaxInitiatorRequestSge -> STATUS_INVALID_PARAMETER; each SGE's
//! token, PD, range and right, or a logical address outside the live LAMs
//! -> STATUS_ACCESS_VIOLATION), the total length (above MaxTransferLength,
//! or INLINE above the QP's InlineDataSize -> STATUS_INVALID_BUFFER_SIZE);
//! then hands the request to `datapath`. A failed post changes nothing and
//! produces no completion; earlier DEFERred requests are sent before the
//! failure returns. Must not touch the engine directly.

use core::ffi::c_void;

use crate::abi::{
    NtStatus, NDK_OP_FLAG_DEFER, NDK_OP_FLAG_INLINE, NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE,
    NDK_OP_FLAG_RDMA_READ_SINK, NDK_OP_FLAG_READ_FENCE, NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT,
    NDK_OP_FLAG_SILENT_SUCCESS, NDK_QP, NDK_SGE, STATUS_ACCESS_VIOLATION,
    STATUS_CONNECTION_INVALID, STATUS_INVALID_BUFFER_SIZE, STATUS_INVALID_DEVICE_STATE,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use crate::os::{irql, Irql};
use crate::transport::{self as t, WorkRequest, WrKind};
use crate::verbs::memory::Access;
use crate::verbs::wq::{Sge, MAX_SGE};

use super::limits::{MAX_INLINE_DATA_SIZE, MAX_TRANSFER_LENGTH};
use super::object::{recover, Object};
use super::qp::Qp;
use super::sge::read_sges;

/// Flags NdkSend and NdkSendAndInvalidate accept (facts §3).
const SEND_FLAGS: u32 = NDK_OP_FLAG_SILENT_SUCCESS
    | NDK_OP_FLAG_READ_FENCE
    | NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT
    | NDK_OP_FLAG_INLINE
    | NDK_OP_FLAG_DEFER;
/// Flags NdkWrite accepts (INLINE too: InlineDataSize covers send or write).
const WRITE_FLAGS: u32 =
    NDK_OP_FLAG_SILENT_SUCCESS | NDK_OP_FLAG_READ_FENCE | NDK_OP_FLAG_INLINE | NDK_OP_FLAG_DEFER;
/// Flags NdkRead accepts (READ_SINK accepted and ignored:
/// RDMA_READ_SINK_NOT_REQUIRED is advertised).
const READ_FLAGS: u32 = NDK_OP_FLAG_SILENT_SUCCESS
    | NDK_OP_FLAG_READ_FENCE
    | NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE
    | NDK_OP_FLAG_RDMA_READ_SINK
    | NDK_OP_FLAG_DEFER;
/// Most SGEs an INLINE post may carry (each may be short).
const MAX_INLINE_SGES: u32 = 1024;

/// What a post carries after its checks.
struct Payload {
    sges: [t::Sge; MAX_SGE],
    n: usize,
    inline: [u8; MAX_INLINE_DATA_SIZE as usize],
    inline_len: Option<usize>,
}

/// Copies an INLINE post's bytes now (the SGEs' addresses are resident
/// memory until the post returns; their tokens are ignored).
///
/// # Safety
/// NDKPI contract: `sgl` holds `n` entries whose addresses are readable
/// for their lengths.
unsafe fn copy_inline(qp: &Qp, sgl: *const NDK_SGE, n: u32, out: &mut Payload) -> NtStatus {
    if n > MAX_INLINE_SGES {
        return STATUS_INVALID_PARAMETER;
    }
    let max = (qp.limits.inline as usize).min(out.inline.len());
    let mut total = 0usize;
    for i in 0..n as usize {
        // SAFETY: `i < n` entries provided by the consumer.
        let raw = unsafe { sgl.add(i).read_unaligned() };
        // SAFETY: both union members are 8 plain bytes; INLINE means a VA.
        let va = unsafe { raw.Anonymous.VirtualAddress } as *const u8;
        let len = raw.Length as usize;
        let Some(end) = total.checked_add(len).filter(|&e| e <= max) else {
            return STATUS_INVALID_BUFFER_SIZE;
        };
        if len > 0 && va.is_null() {
            return STATUS_ACCESS_VIOLATION;
        }
        if let Some(dst) = out.inline.get_mut(total..end) {
            if len > 0 {
                // SAFETY: the consumer guarantees `va..va+len` is resident
                // and readable until the post returns (facts §2.8); `dst`
                // has exactly `len` bytes.
                unsafe { core::ptr::copy_nonoverlapping(va, dst.as_mut_ptr(), len) };
            }
        }
        total = end;
    }
    out.inline_len = Some(total);
    STATUS_SUCCESS
}

/// Reads and checks the SGL (or copies INLINE data). `need`: the local right
/// every SGE needs (none for a source, LOCAL_WRITE for a sink).
///
/// # Safety
/// NDKPI contract for `sgl`.
unsafe fn payload(
    qp: &Qp,
    sgl: *const NDK_SGE,
    n: u32,
    flags: u32,
    need: Access,
    max_sge: u32,
) -> Result<Payload, NtStatus> {
    let mut p = Payload {
        sges: [t::Sge::default(); MAX_SGE],
        n: 0,
        inline: [0; MAX_INLINE_DATA_SIZE as usize],
        inline_len: None,
    };
    if n > 0 && sgl.is_null() {
        return Err(STATUS_INVALID_PARAMETER);
    }
    if flags & NDK_OP_FLAG_INLINE != 0 {
        // SAFETY: forwarded contract.
        let s = unsafe { copy_inline(qp, sgl, n, &mut p) };
        return if s == STATUS_SUCCESS { Ok(p) } else { Err(s) };
    }
    let mut raw = [Sge::default(); MAX_SGE];
    // SAFETY: forwarded contract.
    let count = unsafe {
        read_sges(
            &qp.base().core,
            qp.keys,
            sgl,
            n,
            max_sge as usize,
            need,
            &mut raw,
        )
    }?;
    let mut total = 0u64;
    for (d, s) in p.sges.iter_mut().zip(raw.iter()).take(count) {
        *d = t::Sge {
            lkey: s.token,
            addr: s.addr,
            len: s.len,
        };
        total = total.saturating_add(u64::from(s.len));
    }
    if total > u64::from(MAX_TRANSFER_LENGTH) {
        return Err(STATUS_INVALID_BUFFER_SIZE);
    }
    p.n = count;
    Ok(p)
}

/// The common path of the four posts.
///
/// # Safety
/// NDKPI contract for every pointer.
#[allow(clippy::too_many_arguments)]
unsafe fn post(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
    flags: u32,
    allowed: u32,
    need: Access,
    kind: WrKind,
) -> NtStatus {
    // SAFETY: forwarded contract.
    let qp = match unsafe { recover::<Qp>(qp.cast()) } {
        Ok(q) => q,
        Err(e) => return e,
    };
    let dp = &qp.datapath;
    if !dp.is_connected() {
        return STATUS_CONNECTION_INVALID;
    }
    if !dp.initiator_cq_usable() {
        return STATUS_INVALID_DEVICE_STATE;
    }
    let fail = |e: NtStatus| {
        // Earlier DEFERred requests go out before a failure is returned.
        dp.pump(qp.base().core.platform.now());
        e
    };
    if flags & !allowed != 0 {
        return fail(STATUS_INVALID_PARAMETER);
    }
    // SAFETY: forwarded contract.
    let p = match unsafe { payload(qp, sgl, n, flags, need, qp.limits.initiator_sge) } {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    let wr = WorkRequest {
        wr_id: 0,
        kind,
        sges: p.sges.get(..p.n).unwrap_or(&[]),
        signaled: true,
        fence: flags & NDK_OP_FLAG_READ_FENCE != 0,
        solicited: flags & NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT != 0,
    };
    let inline = p.inline_len.and_then(|l| p.inline.get(..l));
    // RDMA_READ_LOCAL_INVALIDATE: the sink's token (of its first SGE).
    let invalidate = p
        .sges
        .first()
        .filter(|_| flags & NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE != 0 && p.n > 0)
        .map(|s| s.lkey);
    match dp.post_send(
        ctx as usize,
        flags & NDK_OP_FLAG_SILENT_SUCCESS != 0,
        &wr,
        inline,
        flags & NDK_OP_FLAG_DEFER != 0,
        invalidate,
    ) {
        Ok(()) => STATUS_SUCCESS,
        Err(e) => e,
    }
}

/// NDK_FN_SEND: a SEND of the SGL's bytes (or INLINE data), consuming one
/// receive at the peer. SEND_AND_SOLICIT_EVENT sets SE on the last packet.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_send(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkSend");
    let kind = WrKind::Send {
        imm: None,
        invalidate: None,
    };
    // SAFETY: forwarded contract.
    unsafe { post(qp, ctx, sgl, n, flags, SEND_FLAGS, Access::empty(), kind) }
}

/// NDK_FN_SEND_AND_INVALIDATE: a SEND with Invalidate carrying
/// `remote_token` (the peer invalidates it and completes the receive as
/// ReceiveAndInvalidate). Completes locally as Type Send.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
pub(crate) unsafe extern "system" fn ndk_send_and_invalidate(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
    flags: u32,
    remote_token: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkSendAndInvalidate");
    let kind = WrKind::Send {
        imm: None,
        invalidate: Some(remote_token),
    };
    // SAFETY: forwarded contract.
    unsafe { post(qp, ctx, sgl, n, flags, SEND_FLAGS, Access::empty(), kind) }
}

/// NDK_FN_READ: an RDMA READ of `remote_address` through `remote_token`
/// into the SGL (each SGE needs LOCAL_WRITE). A region the peer refuses
/// completes with STATUS_REMOTE_RESOURCES. With RDMA_READ_LOCAL_INVALIDATE
/// the token of the first SGE (a fast-registered MR) is invalidated when
/// the read succeeds, before its completion is queued.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_read(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
    remote_address: u64,
    remote_token: u32,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkRead");
    let kind = WrKind::Read {
        remote_va: remote_address,
        rkey: remote_token,
    };
    // SAFETY: forwarded contract.
    unsafe {
        post(
            qp,
            ctx,
            sgl,
            n,
            flags,
            READ_FLAGS,
            Access::LOCAL_WRITE,
            kind,
        )
    }
}

/// NDK_FN_WRITE: an RDMA WRITE of the SGL's bytes (or INLINE data) to
/// `remote_address` through `remote_token`.
///
/// IRQL: <= DISPATCH_LEVEL.
///
/// # Safety
/// NDKPI contract.
#[allow(clippy::too_many_arguments)]
pub(crate) unsafe extern "system" fn ndk_write(
    qp: *mut NDK_QP,
    ctx: *mut c_void,
    sgl: *const NDK_SGE,
    n: u32,
    remote_address: u64,
    remote_token: u32,
    flags: u32,
) -> NtStatus {
    irql::assert_at_most(Irql::Dispatch, "NdkWrite");
    let kind = WrKind::Write {
        remote_va: remote_address,
        rkey: remote_token,
        imm: None,
    };
    // SAFETY: forwarded contract.
    unsafe { post(qp, ctx, sgl, n, flags, WRITE_FLAGS, Access::empty(), kind) }
}
