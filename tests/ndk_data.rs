//! The QP data path through the dispatch tables: two hosted adapters joined
//! by the test-only pairing hook (`tests/ndk_data_common`). Send (SGL,
//! multi-packet, INLINE, SOLICIT), Write, Read, SILENT_SUCCESS, FastRegister
//! and Invalidate over a LAM, Bind and a write through the window,
//! SendAndInvalidate, and a lossy link moving many messages intact. Data is
//! checked byte for byte, completions field by field; every test ends with
//! the pool books balanced and the IRQL books clean.

mod ndk_common;
mod ndk_data_common;

use std::ffi::c_void;
use std::ptr::{null, null_mut};

use ndk_data_common::*;

const PROVIDER_REMOTE_ACCESS: u32 = 0x5352_0004;

/// Send of a 3000-byte, two-SGE message (three packets at MTU 1024) into a
/// receive of two SGEs; an INLINE send whose token is garbage, from a
/// stack buffer; SOLICIT satisfies a SOLICITED arm, a plain send does not.
#[test]
fn send_receive_inline_and_solicited() {
    let p = Pair::new(None);
    let mut src = pattern(4096, 1);
    let mut dst = vec![0u8; 8192];
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let b_mr = p.b.mr(&mut dst, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (sa, da) = (src.as_ptr() as u64, dst.as_ptr() as u64);
    let bt = b_mr.local();
    assert_eq!(
        p.b.receive(0xB1, &[sge(da, 1000, bt), sge(da + 4000, 3000, bt)]),
        STATUS_SUCCESS
    );
    assert_eq!(
        p.b.receive(0xB2, &[sge(da + 7000, 100, bt)]),
        STATUS_SUCCESS
    );
    unsafe { (cq_d(p.b.cq).NdkArmCq)(p.b.cq, NDK_CQ_NOTIFY_SOLICITED) };

    let at = a_mr.local();
    let s =
        p.a.send(0xA1, &[sge(sa, 2000, at), sge(sa + 2048, 1000, at)], 0);
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    let rb = p.b.results();
    assert_eq!(rb.len(), 1);
    check(
        &rb[0],
        STATUS_SUCCESS,
        3000,
        0xB0B0,
        0xB1,
        NdkOperationTypeReceive,
        0,
        0,
    );
    let mut want = src[..2000].to_vec();
    want.extend_from_slice(&src[2048..3048]);
    assert_eq!(&dst[..1000], &want[..1000]);
    assert_eq!(&dst[4000..6000], &want[1000..]);
    assert!(dst[1000..4000].iter().all(|&b| b == 0), "gap untouched");
    assert_eq!(p.b.log.count("notify"), 0, "unsolicited receive notified");
    let ra = p.a.results();
    assert_eq!(ra.len(), 1);
    check(
        &ra[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0xA1,
        NdkOperationTypeSend,
        0,
        0,
    );

    // INLINE: the token is ignored, the bytes are copied at post time.
    let mut stack = *b"inline payload, copied before the post returns!!";
    let s = p.a.send(
        0xA2,
        &[sge(stack.as_ptr() as u64, stack.len() as u32, 0xDEAD_BEEF)],
        NDK_OP_FLAG_INLINE | NDK_OP_FLAG_SEND_AND_SOLICIT_EVENT,
    );
    assert_eq!(s, STATUS_SUCCESS);
    stack.fill(b'X');
    p.settle(2);
    let rb = p.b.results();
    assert_eq!(rb.len(), 1);
    check(
        &rb[0],
        STATUS_SUCCESS,
        48,
        0xB0B0,
        0xB2,
        NdkOperationTypeReceive,
        0,
        0,
    );
    assert_eq!(
        &dst[7000..7048],
        b"inline payload, copied before the post returns!!"
    );
    assert_eq!(dst[7048], 0);
    assert_eq!(p.b.log.count("notify"), 1, "solicited receive notifies");
    let ra = p.a.results();
    check(
        &ra[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0xA2,
        NdkOperationTypeSend,
        0,
        0,
    );

    let mut p = p;
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

/// RDMA Write of 5000 bytes into B's remotely writable MR, RDMA Read of
/// 4100 of them back at an offset, SILENT_SUCCESS hides a successful
/// write's completion; no receive is consumed at B.
#[test]
fn write_read_and_silent_success() {
    let mut p = Pair::new(Some(PairOptions {
        seed: 3,
        path_mtu: 1024,
        ..Default::default()
    }));
    let mut a_buf = pattern(16384, 7);
    let mut b_buf = vec![0u8; 8192];
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let b_mr = p.b.mr(
        &mut b_buf,
        NDK_MR_FLAG_ALLOW_REMOTE_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_READ,
    );
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    let (at, rt) = (a_mr.local(), b_mr.remote());
    assert_ne!(rt, 0);
    assert_eq!(
        p.b.receive(0xB9, &[sge(ba, 16, b_mr.local())]),
        STATUS_SUCCESS
    );

    assert_eq!(
        p.a.write(0x11, &[sge(aa, 5000, at)], ba + 100, rt, 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    assert_eq!(&b_buf[100..5100], &a_buf[..5000]);
    assert!(b_buf[..100].iter().all(|&x| x == 0) && b_buf[5100..].iter().all(|&x| x == 0));
    let ra = p.a.results();
    assert_eq!(ra.len(), 1);
    check(
        &ra[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0x11,
        NdkOperationTypeWrite,
        0,
        0,
    );

    // Read B[1000..5100] into A[8192..] through two SGEs.
    let s = p.a.read(
        0x12,
        &[sge(aa + 8192, 100, at), sge(aa + 9000, 4000, at)],
        ba + 1000,
        rt,
        NDK_OP_FLAG_READ_FENCE,
    );
    assert_eq!(s, STATUS_SUCCESS);
    // A silent write after it: no completion of its own.
    let s = p.a.write(
        0x13,
        &[sge(aa + 16000, 10, at)],
        ba + 6000,
        rt,
        NDK_OP_FLAG_SILENT_SUCCESS,
    );
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    assert_eq!(&a_buf[8192..8292], &b_buf[1000..1100]);
    assert_eq!(&a_buf[9000..13000], &b_buf[1100..5100]);
    assert_eq!(&b_buf[6000..6010], &a_buf[16000..16010]);
    let ra = p.a.results();
    assert_eq!(ra.len(), 1, "the silent write reports nothing: {ra:?}");
    check(
        &ra[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0x12,
        NdkOperationTypeRead,
        0,
        0,
    );
    assert!(
        p.b.results().is_empty(),
        "writes and reads consume no receive"
    );
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

fn page_up(x: usize) -> usize {
    (x + 4095) & !4095
}

/// A LAM over B's buffer; NdkFastRegister of its pages (FBO 0x80, base VA
/// 0x7000_0080) with remote write completes on B's initiator CQ as
/// FastRegister; A writes through the new remote token into the LAM's
/// bytes; NdkInvalidate (Type Invalidate) kills it: A's next write fails
/// with STATUS_REMOTE_RESOURCES.
#[test]
fn fast_register_write_and_invalidate() {
    let mut p = Pair::new(None);
    let bd = unsafe { &*(*p.b.adapter).Dispatch };
    let mut buf = vec![0u8; 4 * 4096];
    let off = page_up(buf.as_ptr() as usize) - buf.as_ptr() as usize;
    let len = 2 * 4096;
    let mut mdl = new_mdl(&mut buf[off..off + len], 0);
    let mut storage = vec![0u64; 2 + 2];
    let lam = storage.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
    let (mut size, mut fbo) = (32u32, 0u32);
    let s = unsafe {
        (bd.NdkBuildLAM)(
            p.b.adapter,
            &mut *mdl,
            len,
            None,
            null_mut(),
            lam,
            &mut size,
            &mut fbo,
        )
    };
    assert_eq!((s, fbo), (STATUS_SUCCESS, 0));
    let pages = unsafe { (*lam).AdapterPageArray.as_ptr() };

    let mut fr = null_mut();
    let s = unsafe { (pd_d(p.b.pd).NdkCreateMr)(p.b.pd, 1, None, null_mut(), &mut fr) };
    assert_eq!(s, STATUS_SUCCESS);
    let s = unsafe { (mr_d(fr).NdkInitializeFastRegisterMr)(fr, 2, 1, None, null_mut()) };
    assert_eq!(s, STATUS_SUCCESS);
    let base = 0x7000_0080u64;
    let s = unsafe {
        (p.b.q().NdkFastRegister)(
            p.b.qp,
            0xF1 as *mut c_void,
            fr,
            2,
            pages,
            0x80,
            4096,
            base as *mut c_void,
            NDK_OP_FLAG_ALLOW_REMOTE_WRITE | NDK_OP_FLAG_ALLOW_REMOTE_READ,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let rt = unsafe { (mr_d(fr).NdkGetRemoteTokenFromMr)(fr) };
    assert_ne!(rt, 0, "remote token available on return");
    p.settle(1);
    let rb = p.b.results();
    assert_eq!(rb.len(), 1);
    check(
        &rb[0],
        STATUS_SUCCESS,
        0,
        0xB0B0,
        0xF1,
        NdkOperationTypeFastRegister,
        0,
        0,
    );

    let mut src = pattern(4096, 9);
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let sa = src.as_ptr() as u64;
    let s =
        p.a.write(0x21, &[sge(sa, 3000, a_mr.local())], base + 100, rt, 0);
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0x21,
        NdkOperationTypeWrite,
        0,
        0,
    );
    // Byte `base + 100` is byte 0x80 + 100 of the LAM's first page.
    assert_eq!(&buf[off + 0x80 + 100..off + 0x80 + 3100], &src[..3000]);

    let s = unsafe { (p.b.q().NdkInvalidate)(p.b.qp, 0xF2 as *mut c_void, fr.cast(), 0) };
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(1);
    check(
        &p.b.results()[0],
        STATUS_SUCCESS,
        0,
        0xB0B0,
        0xF2,
        NdkOperationTypeInvalidate,
        0,
        0,
    );
    let s =
        p.a.write(0x22, &[sge(sa, 10, a_mr.local())], base + 100, rt, 0);
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    let ra = p.a.results();
    check(
        &ra[0],
        STATUS_REMOTE_RESOURCES,
        0,
        0xA0A0,
        0x22,
        NdkOperationTypeWrite,
        PROVIDER_REMOTE_ACCESS,
        0,
    );
    assert_eq!(
        &buf[off + 0x80 + 100..off + 0x80 + 110],
        &src[..10],
        "unchanged"
    );

    unsafe { (bd.NdkReleaseLAM)(p.b.adapter, lam) };
    p.keep(a_mr.mr);
    p.keep(fr);
    p.finish();
}

/// NdkBind of an MW over 200 bytes of an MR registered with LOCAL_WRITE
/// only (Type Bind on B's CQ); A writes through the window's token; a write
/// outside the window fails with STATUS_REMOTE_RESOURCES.
#[test]
fn bind_window_and_write_through_it() {
    let mut p = Pair::new(None);
    let mut b_buf = vec![0u8; 1024];
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let ba = b_buf.as_ptr() as u64;
    let mw = create_mw(p.b.pd);
    let s = p.b.bind(
        0xB7,
        b_mr.mr,
        mw,
        ba + 100,
        200,
        NDK_OP_FLAG_ALLOW_REMOTE_WRITE,
    );
    assert_eq!(s, STATUS_SUCCESS);
    let rt = mw_remote_token(mw);
    assert_ne!(rt, 0);
    p.settle(1);
    check(
        &p.b.results()[0],
        STATUS_SUCCESS,
        0,
        0xB0B0,
        0xB7,
        NdkOperationTypeBind,
        0,
        0,
    );

    let mut src = pattern(300, 4);
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let sa = src.as_ptr() as u64;
    assert_eq!(
        p.a.write(1, &[sge(sa, 200, a_mr.local())], ba + 100, rt, 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        1,
        NdkOperationTypeWrite,
        0,
        0,
    );
    assert_eq!(&b_buf[100..300], &src[..200]);
    assert!(b_buf[..100].iter().chain(&b_buf[300..]).all(|&x| x == 0));

    assert_eq!(
        p.a.write(2, &[sge(sa, 60, a_mr.local())], ba + 50, rt, 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.a.results()[0],
        STATUS_REMOTE_RESOURCES,
        0,
        0xA0A0,
        2,
        NdkOperationTypeWrite,
        PROVIDER_REMOTE_ACCESS,
        0,
    );
    assert!(
        b_buf[..100].iter().all(|&x| x == 0),
        "nothing written outside the window"
    );
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.keep(mw);
    p.finish();
}

/// NdkSendAndInvalidate (Flags before RemoteToken): B's receive completes
/// as ReceiveAndInvalidate with the token in TypeSpecificCompletionOutput,
/// A's as Send; the window is dead afterwards (its token refused).
#[test]
fn send_and_invalidate_reports_the_token() {
    let mut p = Pair::new(None);
    let mut b_buf = vec![0u8; 512];
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let ba = b_buf.as_ptr() as u64;
    let mw = create_mw(p.b.pd);
    let s = p.b.bind(
        0xB1,
        b_mr.mr,
        mw,
        ba + 256,
        256,
        NDK_OP_FLAG_ALLOW_REMOTE_WRITE | NDK_OP_FLAG_SILENT_SUCCESS,
    );
    assert_eq!(s, STATUS_SUCCESS);
    let rt = mw_remote_token(mw);
    assert_eq!(
        p.b.receive(0xB2, &[sge(ba, 64, b_mr.local())]),
        STATUS_SUCCESS
    );
    let msg = *b"invalidate it";
    let s = unsafe {
        (p.a.q().NdkSendAndInvalidate)(
            p.a.qp,
            0xA5 as *mut c_void,
            [sge(msg.as_ptr() as u64, msg.len() as u32, 0)].as_ptr(),
            1,
            NDK_OP_FLAG_INLINE,
            rt,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    let rb = p.b.results();
    assert_eq!(rb.len(), 1, "the silent bind reports nothing: {rb:?}");
    check(
        &rb[0],
        STATUS_SUCCESS,
        13,
        0xB0B0,
        0xB2,
        NdkOperationTypeReceiveAndInvalidate,
        0,
        rt as usize,
    );
    assert_eq!(&b_buf[..13], b"invalidate it");
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0xA5,
        NdkOperationTypeSend,
        0,
        0,
    );
    // The token is dead.
    let mut src = [1u8; 8];
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    assert_eq!(
        p.a.write(
            3,
            &[sge(src.as_ptr() as u64, 8, a_mr.local())],
            ba + 256,
            rt,
            0
        ),
        STATUS_SUCCESS
    );
    p.settle(2);
    assert_eq!(p.a.results()[0].Status, STATUS_REMOTE_RESOURCES);
    assert!(b_buf[256..].iter().all(|&x| x == 0));
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.keep(mw);
    p.finish();
}

/// 300 messages (1..=4000 bytes, MTU 1024) over 5% loss, 5% reordering, 1%
/// duplication and 1% corruption in each direction arrive intact and in
/// order; the link really dropped, reordered and corrupted frames.
#[test]
fn lossy_link_moves_many_messages_intact() {
    const N: usize = 300;
    const SLOT: usize = 4096;
    const DEPTH: usize = RQ as usize;
    let mut p = Pair::new(Some(PairOptions {
        seed: 0x5EED,
        loss_ppm: 50_000,
        reorder_ppm: 50_000,
        duplicate_ppm: 10_000,
        corrupt_ppm: 10_000,
        delay_ns: 2_000,
        path_mtu: 1024,
        local_ack_timeout: 8,
        ..Default::default()
    }));
    let mut src = vec![0u8; SQ as usize * SLOT];
    let mut dst = vec![0u8; DEPTH * SLOT];
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let b_mr = p.b.mr(&mut dst, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (sa, da) = (src.as_ptr() as u64, dst.as_ptr() as u64);
    let len_of = |i: usize| 1 + (i * 1237) % 4000;
    for slot in 0..DEPTH {
        assert_eq!(
            p.b.receive(
                slot,
                &[sge(da + (slot * SLOT) as u64, SLOT as u32, b_mr.local())]
            ),
            STATUS_SUCCESS
        );
    }
    let (mut sent, mut acked, mut received) = (0usize, 0usize, 0usize);
    for _round in 0..200_000 {
        while sent < N && sent - acked < SQ as usize {
            let slot = sent % SQ as usize;
            let data = pattern(len_of(sent), sent as u8);
            src[slot * SLOT..slot * SLOT + data.len()].copy_from_slice(&data);
            let s = p.a.send(
                sent,
                &[sge(
                    sa + (slot * SLOT) as u64,
                    data.len() as u32,
                    a_mr.local(),
                )],
                0,
            );
            assert_eq!(s, STATUS_SUCCESS);
            sent += 1;
        }
        p.advance(20_000);
        for r in p.a.results() {
            check(
                &r,
                STATUS_SUCCESS,
                0,
                0xA0A0,
                acked,
                NdkOperationTypeSend,
                0,
                0,
            );
            acked += 1;
        }
        for r in p.b.results() {
            let slot = received % DEPTH;
            check(
                &r,
                STATUS_SUCCESS,
                len_of(received) as u32,
                0xB0B0,
                slot,
                NdkOperationTypeReceive,
                0,
                0,
            );
            let data = pattern(len_of(received), received as u8);
            assert_eq!(
                &dst[slot * SLOT..slot * SLOT + data.len()],
                &data[..],
                "message {received}"
            );
            dst[slot * SLOT..(slot + 1) * SLOT].fill(0);
            received += 1;
            if received + DEPTH - 1 < N + DEPTH {
                assert_eq!(
                    p.b.receive(
                        slot,
                        &[sge(da + (slot * SLOT) as u64, SLOT as u32, b_mr.local())]
                    ),
                    STATUS_SUCCESS
                );
            }
        }
        if acked == N && received == N {
            break;
        }
    }
    assert_eq!((acked, received), (N, N));
    let (ab, ba) = pair_stats(p.a.qp);
    assert!(
        ab[2] > 0 && ab[4] > 0 && ab[6] > 0,
        "a->b lost/reordered/icrc-dropped: {ab:?}"
    );
    assert!(ba[2] > 0, "acks lost too: {ba:?}");
    // Flush the receives still posted so the close sees an idle QP.
    unsafe { (p.b.q().NdkFlush)(p.b.qp) };
    p.settle(1);
    let left = p.b.results();
    assert_eq!(left.len(), DEPTH);
    assert!(left.iter().all(|r| r.Status == STATUS_CANCELLED));
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.finish();
}

/// NdkRead with RDMA_READ_LOCAL_INVALIDATE into a fast-registered sink
/// (advertised by RDMA_READ_LOCAL_INVALIDATE_SUPPORTED): the data lands in
/// the LAM's pages, and once the read completed the sink's token is invalid
/// (a post using it is refused with STATUS_ACCESS_VIOLATION).
#[test]
fn read_with_local_invalidate() {
    let mut p = Pair::new(None);
    let ad = unsafe { &*(*p.a.adapter).Dispatch };
    let mut buf = vec![0u8; 3 * 4096];
    let off = page_up(buf.as_ptr() as usize) - buf.as_ptr() as usize;
    let mut mdl = new_mdl(&mut buf[off..off + 4096], 0);
    let mut storage = [0u64; 3];
    let lam = storage.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
    let (mut size, mut fbo) = (24u32, 0u32);
    let s = unsafe {
        (ad.NdkBuildLAM)(
            p.a.adapter,
            &mut *mdl,
            4096,
            None,
            null_mut(),
            lam,
            &mut size,
            &mut fbo,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let mut fr = null_mut();
    assert_eq!(
        unsafe { (pd_d(p.a.pd).NdkCreateMr)(p.a.pd, 1, None, null_mut(), &mut fr) },
        STATUS_SUCCESS
    );
    assert_eq!(
        unsafe { (mr_d(fr).NdkInitializeFastRegisterMr)(fr, 1, 0, None, null_mut()) },
        STATUS_SUCCESS
    );
    let base = 0x5000_0000u64;
    let s = unsafe {
        (p.a.q().NdkFastRegister)(
            p.a.qp,
            0xF1 as *mut c_void,
            fr,
            1,
            (*lam).AdapterPageArray.as_ptr(),
            0,
            4096,
            base as *mut c_void,
            NDK_OP_FLAG_ALLOW_LOCAL_WRITE | NDK_OP_FLAG_SILENT_SUCCESS,
        )
    };
    assert_eq!(s, STATUS_SUCCESS);
    let sink = unsafe { (mr_d(fr).NdkGetLocalTokenFromMr)(fr) };
    let mut b_buf = pattern(2048, 0x42);
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_REMOTE_READ);
    let s = p.a.read(
        0x31,
        &[sge(base + 16, 2000, sink)],
        b_buf.as_ptr() as u64 + 8,
        b_mr.remote(),
        NDK_OP_FLAG_RDMA_READ_LOCAL_INVALIDATE,
    );
    assert_eq!(s, STATUS_SUCCESS);
    p.settle(2);
    let ra = p.a.results();
    assert_eq!(ra.len(), 1, "{ra:?}");
    check(
        &ra[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0x31,
        NdkOperationTypeRead,
        0,
        0,
    );
    assert_eq!(&buf[off + 16..off + 2016], &b_buf[8..2008]);
    assert_eq!(
        p.a.send(0x32, &[sge(base + 16, 4, sink)], 0),
        STATUS_ACCESS_VIOLATION,
        "the sink's token was invalidated"
    );
    unsafe { (ad.NdkReleaseLAM)(p.a.adapter, lam) };
    p.keep(fr);
    p.keep(b_mr.mr);
    p.finish();
}

/// A QP whose receives come from an SRQ: A's sends take the SRQ's
/// receives in posting order (`SrqObject::take`), completing on the SRQ QP's
/// receive CQ with its QPContext.
#[test]
fn receives_from_an_srq() {
    let mut p = Pair::unpaired(11);
    let (s, srq) = create_srq(p.b.pd, 8, 2);
    assert_eq!(s, STATUS_SUCCESS);
    let (s, sq) = create_qp_with_srq(p.b.pd, p.b.cq, srq, 0x5050, 4, 2);
    assert_eq!(s, STATUS_SUCCESS);
    p.keep(srq);
    p.keep(sq);
    assert_eq!(
        unsafe { softroce_debug_pair_qps(p.a.qp, sq, null()) },
        STATUS_SUCCESS
    );
    let mut b_buf = vec![0u8; 256];
    let b_mr = p.b.mr(&mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let ba = b_buf.as_ptr() as u64;
    let srq_receive = unsafe { (*(*srq).Dispatch).NdkSrqReceive };
    for i in 0..3u64 {
        let sg = [sge(ba + 64 * i, 64, b_mr.local())];
        assert_eq!(
            unsafe { srq_receive(srq, (0x70 + i) as *mut c_void, sg.as_ptr(), 1) },
            STATUS_SUCCESS
        );
    }
    for (i, msg) in [&b"first"[..], b"second"].iter().enumerate() {
        let s = p.a.send(
            i,
            &[sge(msg.as_ptr() as u64, msg.len() as u32, 0)],
            NDK_OP_FLAG_INLINE,
        );
        assert_eq!(s, STATUS_SUCCESS);
    }
    p.settle(2);
    let rb = p.b.results();
    assert_eq!(rb.len(), 2, "{rb:?}");
    check(
        &rb[0],
        STATUS_SUCCESS,
        5,
        0x5050,
        0x70,
        NdkOperationTypeReceive,
        0,
        0,
    );
    check(
        &rb[1],
        STATUS_SUCCESS,
        6,
        0x5050,
        0x71,
        NdkOperationTypeReceive,
        0,
        0,
    );
    assert_eq!(&b_buf[..5], b"first");
    assert_eq!(&b_buf[64..70], b"second");
    assert_eq!(p.a.results().len(), 2);
    p.keep(b_mr.mr);
    p.finish();
}

/// The same data path on the real-time platform (a DPC worker thread runs
/// the link, the timers and the CQ DPCs concurrently with the posting
/// thread): 200 sends and 200 writes complete, data intact.
#[test]
fn real_platform_concurrent_traffic() {
    const N: usize = 200;
    let mut p = Pair::unpaired_on(unsafe { softroce_platform_real() });
    assert_eq!(p.connect(None), STATUS_SUCCESS);
    let mut src = pattern(64 * 1024, 3);
    let mut dst = vec![0u8; 64 * 1024];
    let mut wdst = vec![0u8; 64 * 1024];
    let a_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let b_mr = p.b.mr(&mut dst, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let w_mr = p.b.mr(&mut wdst, NDK_MR_FLAG_ALLOW_REMOTE_WRITE);
    let (sa, da, wa) = (
        src.as_ptr() as u64,
        dst.as_ptr() as u64,
        wdst.as_ptr() as u64,
    );
    let (mut a_done, mut b_done, mut posted, mut recv_posted) = (0, 0, 0, 0);
    let mut deadline = 0;
    while (a_done < 2 * N || b_done < N) && deadline < 20_000 {
        while recv_posted < N && recv_posted - b_done < RQ as usize {
            let at = (recv_posted % 64) as u64 * 1024;
            assert_eq!(
                p.b.receive(recv_posted, &[sge(da + at, 1024, b_mr.local())]),
                STATUS_SUCCESS
            );
            recv_posted += 1;
        }
        while posted < N && 2 * posted - a_done < SQ as usize - 1 && posted < recv_posted {
            let at = (posted % 64) as u64 * 1024;
            assert_eq!(
                p.a.send(2 * posted, &[sge(sa + at, 1000, a_mr.local())], 0),
                STATUS_SUCCESS
            );
            assert_eq!(
                p.a.write(
                    2 * posted + 1,
                    &[sge(sa + at, 1024, a_mr.local())],
                    wa + at,
                    w_mr.remote(),
                    0
                ),
                STATUS_SUCCESS
            );
            posted += 1;
        }
        for r in p.a.results() {
            assert_eq!(
                (r.Status, r.RequestContext as usize),
                (STATUS_SUCCESS, a_done),
                "{r:?}"
            );
            a_done += 1;
        }
        for r in p.b.results() {
            assert_eq!(
                (r.Status, r.BytesTransferred, r.RequestContext as usize),
                (STATUS_SUCCESS, 1000, b_done)
            );
            b_done += 1;
        }
        std::thread::sleep(std::time::Duration::from_micros(200));
        deadline += 1;
    }
    assert_eq!((a_done, b_done), (2 * N, N));
    for i in 0..64 {
        assert_eq!(
            &dst[i * 1024..i * 1024 + 1000],
            &src[i * 1024..i * 1024 + 1000]
        );
    }
    assert_eq!(wdst, src);
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    p.keep(w_mr.mr);
    p.finish();
}

/// SGEs with the PD's privileged token name LAM logical addresses on both
/// sides: A sends from its LAM pages, B receives into its LAM pages.
#[test]
fn privileged_token_sges_use_lam_pages() {
    let p = Pair::new(None);
    let lam_of = |side: &Side, buf: &mut Vec<u8>, storage: &mut [u64; 4]| {
        let off = page_up(buf.as_ptr() as usize) - buf.as_ptr() as usize;
        let mut mdl = new_mdl(&mut buf[off..off + 2 * 4096], 0);
        let lam = storage.as_mut_ptr().cast::<NDK_LOGICAL_ADDRESS_MAPPING>();
        let (mut size, mut fbo) = (32u32, 0u32);
        let d = unsafe { &*(*side.adapter).Dispatch };
        let s = unsafe {
            (d.NdkBuildLAM)(
                side.adapter,
                &mut *mdl,
                2 * 4096,
                None,
                null_mut(),
                lam,
                &mut size,
                &mut fbo,
            )
        };
        assert_eq!(s, STATUS_SUCCESS);
        let mut token = 0u32;
        unsafe { (pd_d(side.pd).NdkGetPrivilegedMemoryRegionToken)(side.pd, &mut token) };
        let first = unsafe { *(*lam).AdapterPageArray.as_ptr() } as u64;
        (off, lam, token, first)
    };
    let mut a_buf = vec![0u8; 3 * 4096];
    let mut b_buf = vec![0u8; 3 * 4096];
    let (mut sa, mut sb) = ([0u64; 4], [0u64; 4]);
    let (a_off, a_lam, a_tok, a_first) = lam_of(&p.a, &mut a_buf, &mut sa);
    let (b_off, b_lam, b_tok, b_first) = lam_of(&p.b, &mut b_buf, &mut sb);
    let data = pattern(5000, 0x33);
    a_buf[a_off + 1000..a_off + 6000].copy_from_slice(&data);
    assert_eq!(
        p.b.receive(0xB1, &[sge(b_first + 3000, 5000, b_tok)]),
        STATUS_SUCCESS
    );
    assert_eq!(
        p.a.send(0xA1, &[sge(a_first + 1000, 5000, a_tok)], 0),
        STATUS_SUCCESS
    );
    p.settle(2);
    check(
        &p.b.results()[0],
        STATUS_SUCCESS,
        5000,
        0xB0B0,
        0xB1,
        NdkOperationTypeReceive,
        0,
        0,
    );
    check(
        &p.a.results()[0],
        STATUS_SUCCESS,
        0,
        0xA0A0,
        0xA1,
        NdkOperationTypeSend,
        0,
        0,
    );
    assert_eq!(&b_buf[b_off + 3000..b_off + 8000], &data[..]);
    unsafe {
        ((*(*p.a.adapter).Dispatch).NdkReleaseLAM)(p.a.adapter, a_lam);
        ((*(*p.b.adapter).Dispatch).NdkReleaseLAM)(p.b.adapter, b_lam);
    }
    p.finish();
}

/// Path MTUs 256 and 4096: a 20000-byte write and a read back of it
/// (79 / 5 packets each way).
#[test]
fn path_mtu_256_and_4096() {
    for mtu in [256u32, 4096] {
        let mut p = Pair::new(Some(PairOptions {
            seed: u64::from(mtu),
            path_mtu: mtu,
            ..Default::default()
        }));
        let mut a_buf = pattern(40_000, mtu as u8);
        let mut b_buf = vec![0u8; 20_000];
        let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
        let b_mr = p.b.mr(
            &mut b_buf,
            NDK_MR_FLAG_ALLOW_REMOTE_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_READ,
        );
        let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
        assert_eq!(
            p.a.write(1, &[sge(aa, 20_000, a_mr.local())], ba, b_mr.remote(), 0),
            STATUS_SUCCESS
        );
        assert_eq!(
            p.a.read(
                2,
                &[sge(aa + 20_000, 20_000, a_mr.local())],
                ba,
                b_mr.remote(),
                NDK_OP_FLAG_READ_FENCE
            ),
            STATUS_SUCCESS
        );
        p.settle(5);
        let ra = p.a.results();
        assert_eq!(ra.len(), 2, "mtu {mtu}: {ra:?}");
        check(
            &ra[0],
            STATUS_SUCCESS,
            0,
            0xA0A0,
            1,
            NdkOperationTypeWrite,
            0,
            0,
        );
        check(
            &ra[1],
            STATUS_SUCCESS,
            0,
            0xA0A0,
            2,
            NdkOperationTypeRead,
            0,
            0,
        );
        assert_eq!(&b_buf[..], &a_buf[..20_000], "mtu {mtu}");
        assert_eq!(&a_buf[20_000..], &a_buf[..20_000], "mtu {mtu}");
        p.keep(a_mr.mr);
        p.keep(b_mr.mr);
        p.finish();
    }
}

/// Closing a QP with requests outstanding and packets in flight: the close
/// flushes (facts §5.2): its send and its receive complete with
/// STATUS_CANCELLED on its CQ, reaped after the close, and nothing follows;
/// the peer retries, gives up (STATUS_IO_TIMEOUT) and cancels the rest;
/// nothing leaks.
#[test]
fn close_with_traffic_in_flight() {
    let p = Pair::new(Some(PairOptions {
        seed: 12,
        delay_ns: 50_000,
        local_ack_timeout: 8,
        retry_count: 2,
        ..Default::default()
    }));
    let mut a_buf = pattern(8192, 1);
    let mut b_buf = vec![0u8; 8192];
    let a_mr = p.a.mr(&mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let b_mr = p.b.mr(
        &mut b_buf,
        NDK_MR_FLAG_ALLOW_LOCAL_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_WRITE,
    );
    let (aa, ba) = (a_buf.as_ptr() as u64, b_buf.as_ptr() as u64);
    assert_eq!(
        p.b.receive(7, &[sge(ba, 8192, b_mr.local())]),
        STATUS_SUCCESS
    );
    assert_eq!(p.a.receive(8, &[sge(aa, 16, a_mr.local())]), STATUS_SUCCESS);
    assert_eq!(
        p.a.send(1, &[sge(aa, 8192, a_mr.local())], 0),
        STATUS_SUCCESS
    );
    assert_eq!(
        p.b.write(2, &[sge(ba, 4096, b_mr.local())], aa, 0x1234, 0),
        STATUS_SUCCESS
    );
    p.advance(20_000); // packets on the wire both ways
    assert_eq!(close_obj(p.a.qp, None), STATUS_SUCCESS);
    let ra = p.a.results();
    assert_eq!(ra.len(), 2, "the close flushed both queues: {ra:?}");
    let op = |r: &NDK_RESULT_EX| r.Type;
    let send = ra.iter().find(|r| op(r) == NdkOperationTypeSend).unwrap();
    let recv = ra
        .iter()
        .find(|r| op(r) == NdkOperationTypeReceive)
        .unwrap();
    check(
        send,
        STATUS_CANCELLED,
        0,
        0xA0A0,
        1,
        NdkOperationTypeSend,
        0x5352_0001,
        0,
    );
    check(
        recv,
        STATUS_CANCELLED,
        0,
        0xA0A0,
        8,
        NdkOperationTypeReceive,
        0x5352_0001,
        0,
    );
    p.settle(20);
    assert!(
        p.a.results().is_empty(),
        "no completion after the close's flush"
    );
    let rb = p.b.results();
    assert_eq!(rb.len(), 2, "{rb:?}");
    // B's write times out, which moves B's QP to error: its receive (which
    // may have taken part of A's message) is cancelled.
    check(
        &rb[0],
        STATUS_IO_TIMEOUT,
        0,
        0xB0B0,
        2,
        NdkOperationTypeWrite,
        0x5352_0002,
        0,
    );
    check(
        &rb[1],
        STATUS_CANCELLED,
        0,
        0xB0B0,
        7,
        NdkOperationTypeReceive,
        0x5352_0001,
        0,
    );
    let mut p = p;
    p.keep(a_mr.mr);
    p.keep(b_mr.mr);
    // The QP is already closed: finish closes only the rest.
    p.a.qp = std::ptr::null_mut();
    p.finish();
}

/// Writes and reads under loss, reordering, duplication and corruption:
/// 120 rounds of "write a block to B, read it back elsewhere" with several
/// rounds in flight; every completion in posting order, every byte right.
#[test]
fn lossy_link_writes_and_reads() {
    const ROUNDS: usize = 120;
    const BLOCK: usize = 3000;
    let mut p = Pair::new(Some(PairOptions {
        seed: 0xBEEF,
        loss_ppm: 50_000,
        reorder_ppm: 50_000,
        duplicate_ppm: 10_000,
        corrupt_ppm: 10_000,
        delay_ns: 3_000,
        path_mtu: 1024,
        local_ack_timeout: 8,
        read_limit: 4,
        ..Default::default()
    }));
    let slots = 4usize;
    let mut src = vec![0u8; slots * BLOCK];
    let mut back = vec![0u8; slots * BLOCK];
    let mut remote = vec![0u8; slots * BLOCK];
    let s_mr = p.a.mr(&mut src, NDK_MR_FLAG_ALLOW_LOCAL_READ);
    let k_mr = p.a.mr(&mut back, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let r_mr = p.b.mr(
        &mut remote,
        NDK_MR_FLAG_ALLOW_REMOTE_WRITE | NDK_MR_FLAG_ALLOW_REMOTE_READ,
    );
    let (sa, ka, ra) = (
        src.as_ptr() as u64,
        back.as_ptr() as u64,
        remote.as_ptr() as u64,
    );
    let (mut posted, mut done) = (0usize, 0usize);
    for _ in 0..100_000 {
        while posted < ROUNDS && posted - done / 2 < slots - 1 {
            let slot = posted % slots;
            let off = (slot * BLOCK) as u64;
            let data = pattern(BLOCK, posted as u8);
            src[slot * BLOCK..(slot + 1) * BLOCK].copy_from_slice(&data);
            assert_eq!(
                p.a.write(
                    2 * posted,
                    &[sge(sa + off, BLOCK as u32, s_mr.local())],
                    ra + off,
                    r_mr.remote(),
                    0
                ),
                STATUS_SUCCESS
            );
            assert_eq!(
                p.a.read(
                    2 * posted + 1,
                    &[sge(ka + off, BLOCK as u32, k_mr.local())],
                    ra + off,
                    r_mr.remote(),
                    0
                ),
                STATUS_SUCCESS
            );
            posted += 1;
        }
        p.advance(20_000);
        for r in p.a.results() {
            let op = if done % 2 == 0 {
                NdkOperationTypeWrite
            } else {
                NdkOperationTypeRead
            };
            check(&r, STATUS_SUCCESS, 0, 0xA0A0, done, op, 0, 0);
            if done % 2 == 1 {
                let round = done / 2;
                let slot = round % slots;
                let want = pattern(BLOCK, round as u8);
                assert_eq!(
                    &back[slot * BLOCK..(slot + 1) * BLOCK],
                    &want[..],
                    "round {round}"
                );
            }
            done += 1;
        }
        if done == 2 * ROUNDS {
            break;
        }
    }
    assert_eq!(done, 2 * ROUNDS);
    let (ab, ba) = pair_stats(p.a.qp);
    assert!(ab[2] > 0 && ba[2] > 0 && ba[6] + ab[6] > 0, "{ab:?} {ba:?}");
    p.keep(s_mr.mr);
    p.keep(k_mr.mr);
    p.keep(r_mr.mr);
    p.finish();
}
