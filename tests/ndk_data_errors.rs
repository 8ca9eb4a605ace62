//! Data-path error rules through the dispatch tables (facts §5.4-5.6): a
//! remote access violation completes with STATUS_REMOTE_RESOURCES and moves
//! both QPs to error (later posts complete STATUS_CANCELLED); NdkFlush
//! cancels every outstanding request of both queues in order; posts on an
//! unconnected QP answer STATUS_CONNECTION_INVALID; bad arguments fail
//! inline and change nothing; DEFER holds requests until a post without it
//! or an inline failure; retries exhausted -> STATUS_IO_TIMEOUT; a receive
//! too small -> STATUS_DATA_OVERRUN (and the sender's
//! STATUS_INVALID_DEVICE_REQUEST). Every test ends with balanced pool books
//! and clean IRQL books.

mod ndk_common;
mod ndk_data_common;

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use ndk_data_common::*;

const FLUSHED: u32 = 0x5352_0001;
const RETRY_EXCEEDED: u32 = 0x5352_0002;
const REMOTE_ACCESS: u32 = 0x5352_0004;
const REMOTE_INVALID: u32 = 0x5352_0005;
const LOCAL_LENGTH: u32 = 0x5352_0007;

#[test]
fn remote_access_violation_moves_both_qps_to_error() {
    let mut p = Pair::new(None);
    let mut a_buf = pattern(256, 3);
    let mut b_buf = vec![0u8; 256];
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    assert_eq!(
        p.b.receive(0xB1, &[sge(ba, 64, b_mr.local())]),
        STATUS_SUCCESS
    );
    let bad = b_mr.remote() ^ 0x5A5A_0000;
    assert_eq!(
        p.a.write(1, &[sge(aa, 16, a_mr.local())], ba, bad, 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    let ra = p.a.results();
    assert_eq!(ra.len(), 1);
    check(
        &ra[0],
        STATUS_REMOTE_RESOURCES,
        0,
        0xA0A0,
        1,
        NdkOperationTypeWrite,
        REMOTE_ACCESS,
        0,
    );
    assert!(b_buf.iter().all(|&x| x == 0), "nothing written");
    // The responder's QP went to error too: its receive is flushed.
    let rb = p.b.results();
    assert_eq!(rb.len(), 1);
    check(
        &rb[0],
        STATUS_CANCELLED,
        0,
        0xB0B0,
        0xB1,
        NdkOperationTypeReceive,
        FLUSHED,
        0,
    );
    // Later posts are accepted and complete as cancelled, in order.
    assert_eq!(p.a.send(2, &[sge(aa, 8, a_mr.local())], 0), STATUS_SUCCESS);
    assert_eq!(p.a.receive(3, &[sge(aa, 8, a_mr.local())]), STATUS_SUCCESS);
    assert_eq!(
        p.a.read(
            4,
            &[sge(aa, 8, a_mr.local())],
            ba,
            b_mr.remote(),
            NDK_OP_FLAG_SILENT_SUCCESS
        ),
        STATUS_SUCCESS
    );
    p.settle(1);
    let ra = p.a.results();
    assert_eq!(ra.len(), 3, "{ra:?}");
    check(
        &ra[0],
        STATUS_CANCELLED,
        0,
        0xA0A0,
        2,
        NdkOperationTypeSend,
        FLUSHED,
        0,
    );
    check(
        &ra[1],
        STATUS_CANCELLED,
        0,
        0xA0A0,
        3,
        NdkOperationTypeReceive,
        FLUSHED,
        0,
    );
    check(
        &ra[2],
        STATUS_CANCELLED,
        0,
        0xA0A0,
        4,
        NdkOperationTypeRead,
        FLUSHED,
        0,
    );
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

/// NdkRead beyond the remote region -> STATUS_REMOTE_RESOURCES (facts §5.4).
#[test]
fn read_beyond_the_remote_region() {
    let mut p = Pair::new(None);
    let mut a_buf = vec![0u8; 512];
    let mut b_buf = pattern(256, 5);
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_REMOTE_READ);
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    assert_eq!(
        p.a.read(7, &[sge(aa, 200, a_mr.local())], ba + 100, b_mr.remote(), 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.a.results()[0],
        STATUS_REMOTE_RESOURCES,
        0,
        0xA0A0,
        7,
        NdkOperationTypeRead,
        REMOTE_ACCESS,
        0,
    );
    assert!(a_buf.iter().all(|&x| x == 0));
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

/// NdkFlush: a send stuck on RNR (no receive at B), a read queued behind
/// it, a bind executed meanwhile, and two receives all complete: the
/// initiator requests in posting order (Send, Read CANCELLED; the Bind's
/// success in its place), the receives CANCELLED; later posts complete
/// CANCELLED.
#[test]
fn flush_cancels_everything_in_order() {
    let mut p = Pair::new(None);
    let stuck = stuck_requests(&p);
    unsafe { (p.a.q().NdkFlush)(p.a.qp) };
    p.settle(1);
    check_stuck_flushed(&p.a.results());
    let (aa, at) = (stuck.aa, stuck.at);
    assert_eq!(p.a.send(4, &[sge(aa, 1, at)], 0), STATUS_SUCCESS);
    p.settle(1);
    check(
        &p.a.results()[0],
        STATUS_CANCELLED,
        0,
        0xA0A0,
        4,
        NdkOperationTypeSend,
        FLUSHED,
        0,
    );
    assert!(p.b.results().is_empty());
    stuck.keep_in(&mut p);
    p.finish();
}

/// Every initiator post on a QP that is not connected answers
/// STATUS_CONNECTION_INVALID and completes nothing; receives queue (and a
/// flush cancels them); once paired the same QPs work.
#[test]
fn posts_on_an_unconnected_qp() {
    let mut p = Pair::unpaired(2);
    let mut buf = vec![0u8; 64];
    let mr = p.a.mr(&mut buf, NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
    let (a, t) = (buf.as_ptr() as u64, mr.local());
    let sg = [sge(a, 8, t)];
    let q = p.a.q();
    let ctx = 9 as *mut c_void;
    let mw = create_mw(p.a.pd);
    let page = 0i64;
    unsafe {
        assert_eq!(
            (q.NdkSend)(p.a.qp, ctx, sg.as_ptr(), 1, 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkSendAndInvalidate)(p.a.qp, ctx, sg.as_ptr(), 1, 0, 5),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkWrite)(p.a.qp, ctx, sg.as_ptr(), 1, a, t, 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkRead)(p.a.qp, ctx, sg.as_ptr(), 1, a, t, 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkBind)(p.a.qp, ctx, mr.mr, mw, a as *mut c_void, 8, 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkFastRegister)(p.a.qp, ctx, mr.mr, 1, &page, 0, 8, 0x1000 as *mut c_void, 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkInvalidate)(p.a.qp, ctx, mw.cast(), 0),
            STATUS_CONNECTION_INVALID
        );
        assert_eq!(
            (q.NdkSend)(null_mut(), ctx, sg.as_ptr(), 1, 0),
            STATUS_INVALID_PARAMETER
        );
    }
    assert_eq!(p.a.receive(0x61, &sg), STATUS_SUCCESS);
    p.settle(1);
    assert!(p.a.results().is_empty());
    assert_eq!(mw_remote_token(mw), 0, "not bound");
    // Once paired, the queued receive takes B's send.
    assert_eq!(p.connect(None), STATUS_SUCCESS);
    assert_eq!(p.connect(None), STATUS_CONNECTION_ACTIVE);
    let msg = *b"late";
    assert_eq!(
        p.b.send(0x62, &[sge(msg.as_ptr() as u64, 4, 0)], NDK_OP_FLAG_INLINE),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        4,
        0xA0A0,
        0x61,
        NdkOperationTypeReceive,
        0,
        0,
    );
    assert_eq!(&buf[..4], b"late");
    check(
        &p.b.results()[0],
        STATUS_SUCCESS,
        0,
        0xB0B0,
        0x62,
        NdkOperationTypeSend,
        0,
        0,
    );
    p.keep(mr.mr);
    p.keep(mw);
    p.finish();
}

/// Bad arguments fail inline with the documented status and change nothing
/// (no completion, no byte moved, the QP still works afterwards).
#[test]
fn bad_arguments_change_nothing() {
    let mut p = Pair::new(None);
    let mut a_buf = pattern(512, 2);
    let mut b_buf = vec![0u8; 512];
    let a_ro = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    let (at, rt) = (a_ro.local(), b_mr.remote());
    let mut big = vec![0u8; (8 << 20) + 1];
    let big_mr = p.a.mr(&mut big, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let mut fast = null_mut();
    assert_eq!(
        unsafe { (pd_d(p.a.pd).NdkCreateMr)(p.a.pd, 1, None, null_mut(), &mut fast) },
        STATUS_SUCCESS
    );
    assert_eq!(
        unsafe { (mr_d(fast).NdkInitializeFastRegisterMr)(fast, 1, 0, None, null_mut()) },
        STATUS_SUCCESS
    );
    let mw = create_mw(p.a.pd);
    assert_eq!(
        p.b.receive(0xB1, &[sge(ba, 512, b_mr.local())]),
        STATUS_SUCCESS
    );
    let one = [sge(aa, 8, at)];
    let five = [sge(aa, 1, at); 5];
    let q = p.a.q();
    let c = 0x77 as *mut c_void;
    unsafe {
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, null(), 1, 0),
            STATUS_INVALID_PARAMETER,
            "NULL SGL"
        );
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, five.as_ptr(), 5, 0),
            STATUS_INVALID_PARAMETER,
            "nSge > max"
        );
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, one.as_ptr(), 1, 0x8000),
            STATUS_INVALID_PARAMETER,
            "unknown flag"
        );
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, one.as_ptr(), 1, NDK_OP_FLAG_ALLOW_REMOTE_READ),
            STATUS_INVALID_PARAMETER,
            "flag not for Send"
        );
        assert_eq!(
            (q.NdkWrite)(
                p.a.qp,
                c,
                one.as_ptr(),
                1,
                ba,
                rt,
                NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT
            ),
            STATUS_INVALID_PARAMETER,
            "SOLICIT on Write"
        );
        assert_eq!(
            (q.NdkRead)(p.a.qp, c, one.as_ptr(), 1, ba, rt, NDK_OP_FLAG_INLINE),
            STATUS_INVALID_PARAMETER,
            "INLINE Read"
        );
        let long = [sge(aa, 65, 0)];
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, long.as_ptr(), 1, NDK_OP_FLAG_INLINE),
            STATUS_INVALID_BUFFER_SIZE,
            "inline above InlineDataSize"
        );
        let bad_token = [sge(aa, 8, at ^ 0x100)];
        assert_eq!(
            (q.NdkSend)(p.a.qp, c, bad_token.as_ptr(), 1, 0),
            STATUS_ACCESS_VIOLATION
        );
        let out_of_range = [sge(aa + 500, 13, at)];
        assert_eq!(
            (q.NdkWrite)(p.a.qp, c, out_of_range.as_ptr(), 1, ba, rt, 0),
            STATUS_ACCESS_VIOLATION
        );
        assert_eq!(
            (q.NdkRead)(p.a.qp, c, one.as_ptr(), 1, ba, rt, 0),
            STATUS_ACCESS_VIOLATION,
            "read sink without LOCAL_WRITE"
        );
        let huge = [sge(big.as_ptr() as u64, (8 << 20) + 1, big_mr.local())];
        assert_eq!(
            (q.NdkWrite)(p.a.qp, c, huge.as_ptr(), 1, ba, rt, 0),
            STATUS_INVALID_BUFFER_SIZE,
            "above MaxTransferLength"
        );
        let page = 0x10_0000i64;
        assert_eq!(
            (q.NdkFastRegister)(p.a.qp, c, a_ro.mr, 1, &page, 0, 8, 0x1000 as *mut c_void, 0),
            STATUS_INVALID_DEVICE_REQUEST,
            "not a fast MR"
        );
        assert_eq!(
            (q.NdkFastRegister)(
                p.a.qp,
                c,
                fast,
                1,
                &page,
                0,
                8,
                0x1000 as *mut c_void,
                NDK_OP_FLAG_ALLOW_REMOTE_READ
            ),
            STATUS_ACCESS_VIOLATION,
            "remote on a local-only fast MR"
        );
        assert_eq!(
            (q.NdkFastRegister)(p.a.qp, c, fast, 1, &page, 0, 4097, 0x1000 as *mut c_void, 0),
            STATUS_INVALID_PARAMETER,
            "longer than the pages"
        );
        assert_eq!(
            (q.NdkFastRegister)(p.a.qp, c, fast, 1, &page, 0x10, 8, 0x1000 as *mut c_void, 0),
            STATUS_INVALID_PARAMETER,
            "base not FBO + n pages"
        );
        assert_eq!(
            (q.NdkInvalidate)(p.a.qp, c, a_ro.mr.cast(), 0),
            STATUS_INVALID_DEVICE_REQUEST,
            "a registered MR"
        );
        assert_eq!(
            (q.NdkBind)(
                p.a.qp,
                c,
                a_ro.mr,
                mw,
                aa as *mut c_void,
                8,
                NDK_OP_FLAG_ALLOW_REMOTE_WRITE
            ),
            STATUS_ACCESS_VIOLATION,
            "remote write over an MR without LOCAL_WRITE"
        );
        assert_eq!(
            (q.NdkBind)(p.a.qp, c, a_ro.mr, mw, (aa + 510) as *mut c_void, 8, 0),
            STATUS_INVALID_PARAMETER,
            "outside the MR"
        );
        assert_eq!(
            (q.NdkBind)(
                p.a.qp,
                c,
                a_ro.mr,
                mw,
                aa as *mut c_void,
                8,
                NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT
            ),
            STATUS_INVALID_PARAMETER
        );
    }
    p.settle(2);
    assert!(p.a.results().is_empty(), "a failed post completes nothing");
    assert!(p.b.results().is_empty());
    assert!(b_buf.iter().all(|&x| x == 0));
    assert_eq!(mw_remote_token(mw), 0);
    // The QP is unharmed.
    assert_eq!(p.a.send(2, &one, 0), STATUS_SUCCESS);
    p.settle(2);
    check(
        &p.b.results()[0],
        STATUS_SUCCESS,
        8,
        0xB0B0,
        0xB1,
        NdkOperationTypeReceive,
        0,
        0,
    );
    assert_eq!(&b_buf[..8], &a_buf[..8]);
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        2,
        NdkOperationTypeSend,
        0,
        0,
    );
    p.keep(a_ro.mr);
    p.keep(b_mr.mr);
    p.keep(big_mr.mr);
    p.keep(fast);
    p.keep(mw);
    p.finish();
}

/// §5.5: DEFERred sends wait (nothing reaches B); an inline failure first
/// hands them on; a DEFER chain ending without DEFER goes out whole.
#[test]
fn defer_waits_until_a_failure_or_the_end_of_the_chain() {
    let mut p = Pair::new(None);
    let mut a_buf = pattern(64, 8);
    let mut b_buf = vec![0u8; 64];
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    for i in 0..4u64 {
        assert_eq!(
            p.b.receive(0x10 + i as usize, &[sge(ba + 16 * i, 16, b_mr.local())]),
            STATUS_SUCCESS
        );
    }
    let at = a_mr.local();
    assert_eq!(
        p.a.send(1, &[sge(aa, 16, at)], NDK_OP_FLAG_DEFER),
        STATUS_SUCCESS
    );
    assert_eq!(
        p.a.send(2, &[sge(aa + 16, 16, at)], NDK_OP_FLAG_DEFER),
        STATUS_SUCCESS
    );
    p.settle(2);
    assert!(p.b.results().is_empty(), "deferred");
    let s = unsafe { (p.a.q().NdkSend)(p.a.qp, null_mut(), null(), 1, 0) };
    assert_eq!(s, STATUS_INVALID_PARAMETER);
    p.settle(2);
    let rb = p.b.results();
    assert_eq!(rb.len(), 2);
    check(
        &rb[0],
        STATUS_SUCCESS,
        16,
        0xB0B0,
        0x10,
        NdkOperationTypeReceive,
        0,
        0,
    );
    check(
        &rb[1],
        STATUS_SUCCESS,
        16,
        0xB0B0,
        0x11,
        NdkOperationTypeReceive,
        0,
        0,
    );
    assert_eq!(&b_buf[..32], &a_buf[..32]);
    assert_eq!(
        p.a.send(3, &[sge(aa + 32, 16, at)], NDK_OP_FLAG_DEFER),
        STATUS_SUCCESS
    );
    p.settle(1);
    assert!(p.b.results().is_empty());
    assert_eq!(p.a.send(4, &[sge(aa + 48, 16, at)], 0), STATUS_SUCCESS);
    p.settle(2);
    assert_eq!(p.b.results().len(), 2);
    assert_eq!(&b_buf, &a_buf);
    let ctxs: Vec<usize> =
        p.a.results()
            .iter()
            .map(|r| r.RequestContext as usize)
            .collect();
    assert_eq!(ctxs, [1, 2, 3, 4]);
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

/// Every packet lost, one retry: the send completes with STATUS_IO_TIMEOUT.
#[test]
fn retries_exhausted_is_io_timeout() {
    let p = Pair::new(Some(PairOptions {
        seed: 4,
        loss_ppm: 1_000_000,
        local_ack_timeout: 8,
        retry_count: 1,
        ..Default::default()
    }));
    let msg = *b"lost";
    assert_eq!(
        p.a.send(5, &[sge(msg.as_ptr() as u64, 4, 0)], NDK_OP_FLAG_INLINE),
        STATUS_SUCCESS
    );
    let mut got = Vec::new();
    assert!(p.until(50, || {
        got.extend(p.a.results());
        !got.is_empty()
    }));
    check(
        &got[0],
        STATUS_IO_TIMEOUT,
        0,
        0xA0A0,
        5,
        NdkOperationTypeSend,
        RETRY_EXCEEDED,
        0,
    );
    p.finish();
}

/// A receive too small for the message: it completes with
/// STATUS_DATA_OVERRUN, the sender's with STATUS_INVALID_DEVICE_REQUEST.
#[test]
fn receive_too_small() {
    let mut p = Pair::new(None);
    let mut b_buf = vec![0u8; 64];
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    assert_eq!(
        p.b.receive(0xB1, &[sge(b_buf.as_ptr() as u64, 8, b_mr.local())]),
        STATUS_SUCCESS
    );
    let msg = [7u8; 20];
    assert_eq!(
        p.a.send(6, &[sge(msg.as_ptr() as u64, 20, 0)], NDK_OP_FLAG_INLINE),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.b.results()[0],
        STATUS_DATA_OVERRUN,
        0,
        0xB0B0,
        0xB1,
        NdkOperationTypeReceive,
        LOCAL_LENGTH,
        0,
    );
    check(
        &p.a.results()[0],
        STATUS_INVALID_DEVICE_REQUEST,
        0,
        0xA0A0,
        6,
        NdkOperationTypeSend,
        REMOTE_INVALID,
        0,
    );
    p.keep(b_mr.mr);
    p.finish();
}

/// §5.3: an initiator CQ that overran (more completions than its depth)
/// notifies STATUS_BUFFER_OVERFLOW and its QP refuses further posts with
/// STATUS_INVALID_DEVICE_STATE.
#[test]
fn overrun_initiator_cq_disables_the_qp() {
    let p = Pair::sized(unsafe { softroce_platform_virtual(5) }, 2);
    assert_eq!(p.connect(None), STATUS_SUCCESS);
    unsafe { (cq_d(p.a.cq).NdkArmCq)(p.a.cq, NDK_CQ_NOTIFY_ERRORS) };
    let msg = *b"x";
    let mut buf = vec![0u8; 64];
    let b_mr = p.b.mr(&mut buf, NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
    for i in 0..3 {
        let s = p.a.write(
            i,
            &[sge(msg.as_ptr() as u64, 1, 0)],
            buf.as_ptr() as u64 + i as u64,
            b_mr.remote(),
            NDK_OP_FLAG_INLINE,
        );
        assert_eq!(s, STATUS_SUCCESS);
    }
    p.settle(2);
    let calls = p.a.log.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(
        (calls[0].what, calls[0].status),
        ("notify", STATUS_BUFFER_OVERFLOW.0)
    );
    assert_eq!(
        p.a.write(
            9,
            &[sge(msg.as_ptr() as u64, 1, 0)],
            buf.as_ptr() as u64,
            b_mr.remote(),
            NDK_OP_FLAG_INLINE
        ),
        STATUS_INVALID_DEVICE_STATE
    );
    let mut p = p;
    p.keep(b_mr.mr);
    p.finish();
}
