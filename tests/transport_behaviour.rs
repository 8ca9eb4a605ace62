//! One test per RC behaviour; each fails if the behaviour is removed.

mod transport_common;
use transport_common::*;

use softroce::transport::sim::Dir;
use softroce::transport::*;
use softroce::wire::{NakCode, PacketRepr, Syndrome};

fn statuses(cs: &[Completion]) -> Vec<(u64, WcStatus)> {
    cs.iter().map(|c| (c.wr_id, c.status)).collect()
}

fn naks(log: &[(Dir, Opcode, u32, bool)]) -> usize {
    log.iter()
        .filter(|e| e.0 == Dir::BtoA && e.1 == Opcode::RC_ACKNOWLEDGE)
        .count()
}

#[test]
fn retry_exhaustion_fails_first_and_flushes_everything() {
    let (mut a, b) = cfgs();
    a.retry_cnt = 2;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 4096, 1);
    let rbuf = p.a.mem.register(64, ALL);
    recv(&mut p.a.qp, 50, rbuf.sge(0, 64));
    for id in 1..=3 {
        p.a.qp
            .post_send(&wr(id, send(None), &[src.sge(0, 100)]))
            .unwrap();
    }
    let mut first_sends = 0;
    let t0 = p.now;
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::AtoB && pkt.bth.psn == PSN_A {
            first_sends += 1;
        }
        false // a black hole
    });
    // The first packet goes out once, then retry_cnt more times.
    assert_eq!(first_sends, 3);
    assert_eq!(p.a.qp.state(), QpState::Error);
    let cs = drain(&mut p.a.qp);
    assert_eq!(
        statuses(&cs),
        [
            (1, WcStatus::RetryExceeded),
            (2, WcStatus::Flushed),
            (3, WcStatus::Flushed),
            (50, WcStatus::Flushed)
        ]
    );
    // Three timeouts of 4.096 us * 2^8 each.
    assert!(p.now.0 - t0.0 >= 3 * (4096 << 8));
    assert_eq!(
        p.a.qp.post_send(&wr(9, send(None), &[])),
        Err(PostError::QpError)
    );
}

#[test]
fn rnr_nak_waits_the_advertised_timer_then_succeeds() {
    let (a, mut b) = cfgs();
    b.min_rnr_timer = 14; // 1.28 ms
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 256, 3);
    let dst = p.b.mem.register(256, ALL);
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 200)]))
        .unwrap();
    let mut sends = Vec::new();
    let mut rnr = Vec::new();
    // Run until the first RNR NAK is on the wire, then post the receive.
    for _ in 0..100 {
        let now = p.now;
        p.step_with(&mut |d, pkt| {
            if d == Dir::AtoB {
                sends.push(now);
            } else if let Some(a) = pkt.aeth {
                rnr.push(a.syndrome);
            }
            true
        });
        if !rnr.is_empty() {
            break;
        }
    }
    assert_eq!(rnr, [Syndrome::RnrNak { timer: 14 }]);
    recv(&mut p.b.qp, 7, dst.sge(0, 256));
    let t_nak_seen = p.now;
    run_filtered(&mut p, &mut |d, _| {
        if d == Dir::AtoB {
            sends.push(Instant(0));
        }
        true
    });
    assert_eq!(statuses(&drain(&mut p.a.qp)), [(1, WcStatus::Success)]);
    assert_eq!(drain(&mut p.b.qp)[0].byte_len, 200);
    assert_eq!(p.a.qp.stats().rnr_naks_received, 1);
    // The retry waited at least the 1.28 ms the NAK asked for.
    assert!(p.now.0 >= t_nak_seen.0 + 1_280_000 - DELAY);
    assert_eq!(sends.len(), 2);
}

#[test]
fn rnr_retry_exhaustion() {
    let (mut a, b) = cfgs();
    a.rnr_retry = 2;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 256, 3);
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 10)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, write(&src, 0, None), &[src.sge(0, 10)]))
        .unwrap();
    let mut log = Vec::new();
    run_logged(&mut p, &mut log);
    // Initial try + 2 retries, each RNR NAKed; the third NAK exhausts.
    assert_eq!(p.a.qp.stats().rnr_naks_received, 3);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::RnrRetryExceeded), (2, WcStatus::Flushed)]
    );
    assert_eq!(
        p.b.qp.state(),
        QpState::Ready,
        "an RNR NAK does not break the responder"
    );
}

#[test]
fn remote_access_error_on_bad_key_and_out_of_range() {
    for case in 0..3 {
        let mut p = pair();
        let src = patterned(&mut p.a.mem, 4096, 1);
        let dst =
            p.b.mem
                .register(1000, Access::LOCAL_WRITE | Access::REMOTE_WRITE);
        let bad = match case {
            0 => WrKind::Write {
                remote_va: dst.va,
                rkey: dst.rkey ^ 0x40,
                imm: None,
            },
            1 => WrKind::Write {
                remote_va: dst.va + 900,
                rkey: dst.rkey,
                imm: None,
            },
            _ => WrKind::Read {
                remote_va: dst.va,
                rkey: dst.rkey,
            }, // no REMOTE_READ right
        };
        let sink = p.a.mem.register(4096, ALL);
        p.a.qp
            .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 100)]))
            .unwrap();
        p.a.qp.post_send(&wr(2, bad, &[sink.sge(0, 200)])).unwrap();
        p.a.qp
            .post_send(&wr(3, send(None), &[src.sge(0, 8)]))
            .unwrap();
        let mut nak = None;
        run_filtered(&mut p, &mut |d, pkt| {
            if d == Dir::BtoA {
                if let Some(Syndrome::Nak(c)) = pkt.aeth.map(|a| a.syndrome) {
                    nak = Some((c, pkt.bth.psn));
                }
            }
            true
        });
        assert_eq!(
            nak,
            Some((NakCode::RemoteAccessError, PSN_A + 1)),
            "case {case}"
        );
        assert_eq!(
            statuses(&drain(&mut p.a.qp)),
            [
                (1, WcStatus::Success),
                (2, WcStatus::RemoteAccessError),
                (3, WcStatus::Flushed)
            ],
            "case {case}"
        );
        assert_eq!(p.a.qp.state(), QpState::Error);
        assert_eq!(p.b.qp.state(), QpState::Error);
        assert!(
            p.b.mem.bytes(dst.lkey).unwrap()[900..]
                .iter()
                .all(|&b| b == 0),
            "nothing written out of range"
        );
    }
}

#[test]
fn psn_wraps_across_2_pow_24() {
    let (mut a, mut b) = cfgs();
    a.send_psn = Psn::new(0xFF_FFF0);
    b.recv_psn = Psn::new(0xFF_FFF0);
    a.path_mtu = Mtu::Mtu256;
    b.path_mtu = Mtu::Mtu256;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 8192, 9);
    let dst = p.b.mem.register(8192, ALL);
    let sink = p.a.mem.register(8192, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 8192)]))
        .unwrap(); // 32 PSNs
    p.a.qp
        .post_send(&wr(2, read(&dst, 0), &[sink.sge(0, 8192)]))
        .unwrap(); // 32 more
    let mut psns = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::AtoB {
            psns.push(pkt.bth.psn);
        }
        true
    });
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::Success), (2, WcStatus::Success)]
    );
    assert!(psns.contains(&0xFF_FFFF) && psns.contains(&0));
    assert_eq!(psns.last(), Some(&0x10), "READ at 0xFFFFF0 + 32");
    assert_eq!(p.a.qp.next_send_psn(), Psn::new(0x30));
    assert_eq!(p.b.qp.expected_recv_psn(), Psn::new(0x30));
    assert_eq!(
        p.a.mem.bytes(sink.lkey).unwrap(),
        p.a.mem.bytes(src.lkey).unwrap()
    );
}

#[test]
fn outbound_read_limit_holds_back_reads() {
    let (mut a, b) = cfgs();
    a.max_rd_atomic = 2;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.b.mem, 4096, 2);
    let sink = p.a.mem.register(6 * 2048, ALL);
    for i in 0..6u32 {
        p.a.qp
            .post_send(&wr(
                u64::from(i),
                read(&src, 0),
                &[sink.sge(i * 2048, 2048)],
            ))
            .unwrap();
    }
    let mut outstanding = 0i32;
    let mut max = 0;
    run_filtered(&mut p, &mut |d, pkt| {
        match (d, pkt.bth.opcode) {
            (Dir::AtoB, Opcode::RC_RDMA_READ_REQUEST) => outstanding += 1,
            (Dir::BtoA, Opcode::RC_RDMA_READ_RESPONSE_LAST) => outstanding -= 1,
            _ => {}
        }
        max = max.max(outstanding);
        true
    });
    assert_eq!(max, 2);
    assert_eq!(drain(&mut p.a.qp).len(), 6);
}

#[test]
fn inbound_read_limit_exceeded_is_an_invalid_request() {
    let (mut a, mut b) = cfgs();
    a.max_rd_atomic = 4;
    b.max_dest_rd_atomic = 1;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.b.mem, 4096, 2);
    let sink = p.a.mem.register(4096, ALL);
    for i in 0..2 {
        p.a.qp
            .post_send(&wr(i, read(&src, 0), &[sink.sge(0, 16)]))
            .unwrap();
    }
    p.run(10_000);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        // The first READ was executed before the error: its response still goes out.
        [(0, WcStatus::Success), (1, WcStatus::RemoteInvalidRequest)]
    );
    assert_eq!(p.b.qp.state(), QpState::Error);
}

#[test]
fn read_fence_waits_for_outstanding_reads() {
    for fence in [false, true] {
        let mut p = pair();
        let src = patterned(&mut p.b.mem, 4096, 2);
        let sink = p.a.mem.register(4096, ALL);
        let rb = p.b.mem.register(64, ALL);
        recv(&mut p.b.qp, 1, rb.sge(0, 64));
        p.a.qp
            .post_send(&wr(1, read(&src, 0), &[sink.sge(0, 3000)]))
            .unwrap();
        let mut w = wr(2, send(None), &[]);
        w.fence = fence;
        p.a.qp.post_send(&w).unwrap();
        let mut log = Vec::new();
        run_logged(&mut p, &mut log);
        let send_at = log
            .iter()
            .position(|e| e.1 == Opcode::RC_SEND_ONLY)
            .unwrap();
        let last_resp = log
            .iter()
            .position(|e| e.1 == Opcode::RC_RDMA_READ_RESPONSE_LAST)
            .unwrap();
        assert_eq!(send_at > last_resp, fence, "fence {fence}: {log:?}");
        assert_eq!(drain(&mut p.a.qp).len(), 2);
    }
}

#[test]
fn ack_req_on_last_packet_and_every_64_packets() {
    let (mut a, mut b) = cfgs();
    a.path_mtu = Mtu::Mtu256;
    b.path_mtu = Mtu::Mtu256;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 200 * 256, 4);
    let dst = p.b.mem.register(200 * 256, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 200 * 256)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, write(&dst, 0, None), &[src.sge(0, 10)]))
        .unwrap();
    let mut log = Vec::new();
    run_logged(&mut p, &mut log);
    let acked: Vec<u32> = log
        .iter()
        .filter(|e| e.0 == Dir::AtoB && e.3)
        .map(|e| e.2 - PSN_A)
        .collect();
    assert_eq!(acked, [63, 127, 191, 199, 200]);
    // rxe ACKs only AckReq packets: one ACK each (coalesced when queued together).
    assert!(naks(&log) <= 5 && naks(&log) >= 2);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::Success), (2, WcStatus::Success)]
    );
}

#[test]
fn one_sequence_nak_until_recovery() {
    let (mut a, mut b) = cfgs();
    a.path_mtu = Mtu::Mtu256;
    b.path_mtu = Mtu::Mtu256;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 40 * 256, 4);
    let dst = p.b.mem.register(40 * 256, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 40 * 256)]))
        .unwrap();
    // Drop PSN 5's first transmission and PSN 30's second (after the go-back-N).
    let mut sent = std::collections::HashMap::<u32, u32>::new();
    let mut seq_naks = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::AtoB {
            let n = sent.entry(pkt.bth.psn - PSN_A).or_default();
            *n += 1;
            if (pkt.bth.psn == PSN_A + 5 && *n == 1) || (pkt.bth.psn == PSN_A + 30 && *n == 2) {
                return false;
            }
        } else if pkt.aeth.map(|a| a.syndrome) == Some(Syndrome::Nak(NakCode::PsnSequenceError)) {
            seq_naks.push(pkt.bth.psn - PSN_A);
        }
        true
    });
    // 34 packets after PSN 5 arrived out of order, but only one NAK each time, with the expected PSN.
    assert_eq!(seq_naks, [5, 30]);
    assert_eq!(statuses(&drain(&mut p.a.qp)), [(1, WcStatus::Success)]);
    assert_eq!(
        p.b.mem.bytes(dst.lkey).unwrap(),
        p.a.mem.bytes(src.lkey).unwrap()
    );
}

/// Runs `p` to quiescence capturing the first A->B packet matching `f`.
fn capture(
    p: &mut softroce::transport::sim::SimPair,
    f: impl Fn(&PacketRepr<'_>) -> bool,
) -> Vec<u8> {
    let mut got = None;
    run_filtered(p, &mut |d, pkt| {
        if d == Dir::AtoB && got.is_none() && f(pkt) {
            let mut buf = vec![0u8; 5000];
            let n = pkt.emit(&mut buf).unwrap();
            buf.truncate(n);
            got = Some(buf);
        }
        true
    });
    got.expect("packet seen")
}

/// Feeds `bytes` to B again and returns what B sends back.
fn replay_to_b(
    p: &mut softroce::transport::sim::SimPair,
    bytes: &[u8],
) -> Vec<(Opcode, u32, Option<Syndrome>, Option<u64>)> {
    let pkt = PacketRepr::parse(bytes).unwrap();
    let now = p.now;
    p.b.qp.handle_packet(now, &pkt, &mut p.b.mem);
    let mut out = Vec::new();
    let mut buf = vec![0u8; 5000];
    while let Some(n) = p.b.qp.poll_transmit(now, &mut p.b.mem, &mut buf) {
        let r = PacketRepr::parse(&buf[..n]).unwrap();
        out.push((
            r.bth.opcode,
            r.bth.psn,
            r.aeth.map(|a| a.syndrome),
            r.atomic_ack_eth.map(|x| x.orig_data),
        ));
    }
    out
}

#[test]
fn duplicate_send_is_reacked_not_redelivered() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    let rb = p.b.mem.register(512, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 256));
    recv(&mut p.b.qp, 2, rb.sge(256, 256));
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 100)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, write(&rb, 300, None), &[src.sge(0, 10)]))
        .unwrap();
    let dup = capture(&mut p, |pkt| pkt.bth.opcode == Opcode::RC_SEND_ONLY);
    assert_eq!(drain(&mut p.b.qp).len(), 1);
    let out = replay_to_b(&mut p, &dup);
    // Re-ACK with the last acknowledged PSN (the WRITE's), nothing executed.
    assert_eq!(
        out,
        [(
            Opcode::RC_ACKNOWLEDGE,
            PSN_A + 1,
            Some(Syndrome::Ack { credits: 0x1F }),
            None
        )]
    );
    assert!(drain(&mut p.b.qp).is_empty(), "receive 2 still posted");
}

#[test]
fn atomics_execute_once_and_duplicates_replay_the_saved_value() {
    let mut p = pair();
    let target = p.b.mem.register(64, ALL);
    p.b.mem.bytes_mut(target.lkey).unwrap()[8..16].copy_from_slice(&100u64.to_le_bytes());
    let res = p.a.mem.register(64, ALL);
    let fa = WrKind::FetchAdd {
        remote_va: target.va + 8,
        rkey: target.rkey,
        add: 5,
    };
    let cs_ok = WrKind::CompareSwap {
        remote_va: target.va + 8,
        rkey: target.rkey,
        compare: 105,
        swap: 7,
    };
    let cs_no = WrKind::CompareSwap {
        remote_va: target.va + 8,
        rkey: target.rkey,
        compare: 1,
        swap: 9,
    };
    p.a.qp.post_send(&wr(1, fa, &[res.sge(0, 8)])).unwrap();
    p.a.qp.post_send(&wr(2, cs_ok, &[res.sge(8, 8)])).unwrap();
    p.a.qp.post_send(&wr(3, cs_no, &[res.sge(16, 8)])).unwrap();
    let dup = capture(&mut p, |pkt| pkt.bth.opcode == Opcode::RC_FETCH_ADD);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [
            (1, WcStatus::Success),
            (2, WcStatus::Success),
            (3, WcStatus::Success)
        ]
    );
    let r = p.a.mem.bytes(res.lkey).unwrap();
    let word = |i: usize| u64::from_le_bytes(r[i..i + 8].try_into().unwrap());
    assert_eq!((word(0), word(8), word(16)), (100, 105, 7));
    let t = &p.b.mem.bytes(target.lkey).unwrap()[8..16];
    assert_eq!(u64::from_le_bytes(t.try_into().unwrap()), 7);
    // The duplicate FETCH_ADD is answered from the saved resource, not re-executed.
    let out = replay_to_b(&mut p, &dup);
    assert_eq!(out.len(), 1);
    assert_eq!(
        (out[0].0, out[0].1, out[0].3),
        (Opcode::RC_ATOMIC_ACKNOWLEDGE, PSN_A, Some(100))
    );
    let t = &p.b.mem.bytes(target.lkey).unwrap()[8..16];
    assert_eq!(u64::from_le_bytes(t.try_into().unwrap()), 7);
}

#[test]
fn send_with_invalidate_invalidates_and_reports_the_rkey() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    let victim = p.b.mem.register(64, ALL);
    let rb = p.b.mem.register(256, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 256));
    assert!(p.b.mem.rkey_valid(victim.rkey));
    p.a.qp
        .post_send(&wr(
            1,
            WrKind::Send {
                imm: None,
                invalidate: Some(victim.rkey),
            },
            &[src.sge(0, 20)],
        ))
        .unwrap();
    p.run(10_000);
    let c = drain(&mut p.b.qp);
    assert_eq!(
        (c[0].status, c[0].invalidated_rkey, c[0].byte_len),
        (WcStatus::Success, Some(victim.rkey), 20)
    );
    assert!(!p.b.mem.rkey_valid(victim.rkey));
    // A WRITE through the invalidated key is now a remote access error.
    p.a.qp
        .post_send(&wr(2, write(&victim, 0, None), &[src.sge(0, 8)]))
        .unwrap();
    p.run(10_000);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::Success), (2, WcStatus::RemoteAccessError)]
    );
}

#[test]
fn immediate_data_on_send_and_write() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 4096, 4);
    let rb = p.b.mem.register(4096, ALL);
    let dst = p.b.mem.register(4096, ALL);
    for id in 1..=3 {
        recv(&mut p.b.qp, id, rb.sge(0, 4096));
    }
    let sg = [src.sge(0, 3000)];
    let mut solicited = wr(1, send(Some(0x1234_5678)), &sg);
    solicited.solicited = true;
    p.a.qp.post_send(&solicited).unwrap();
    p.a.qp
        .post_send(&wr(
            2,
            write(&dst, 10, Some(0xCAFE_F00D)),
            &[src.sge(0, 2500)],
        ))
        .unwrap();
    p.a.qp
        .post_send(&wr(3, write(&dst, 0, None), &[src.sge(0, 5)]))
        .unwrap();
    let mut log = Vec::new();
    run_logged(&mut p, &mut log);
    let c = drain(&mut p.b.qp);
    assert_eq!(c.len(), 2, "the plain WRITE consumes no receive");
    assert_eq!((c[0].solicited, c[1].solicited), (true, false));
    assert_eq!(
        (c[0].opcode, c[0].imm, c[0].byte_len),
        (WcOpcode::Recv, Some(0x1234_5678), 3000)
    );
    assert_eq!(
        (c[1].opcode, c[1].imm, c[1].byte_len),
        (WcOpcode::RecvRdmaWithImm, Some(0xCAFE_F00D), 2500)
    );
    assert_eq!(
        &p.b.mem.bytes(dst.lkey).unwrap()[10..2510],
        &p.a.mem.bytes(src.lkey).unwrap()[..2500]
    );
    // ImmDt only on LAST/ONLY: FIRST, MIDDLE carry none.
    let ops: Vec<Opcode> = log
        .iter()
        .filter(|e| e.0 == Dir::AtoB)
        .map(|e| e.1)
        .collect();
    assert_eq!(
        &ops[..6],
        [
            Opcode::RC_SEND_FIRST,
            Opcode::RC_SEND_MIDDLE,
            Opcode::RC_SEND_LAST_WITH_IMMEDIATE,
            Opcode::RC_RDMA_WRITE_FIRST,
            Opcode::RC_RDMA_WRITE_MIDDLE,
            Opcode::RC_RDMA_WRITE_LAST_WITH_IMMEDIATE,
        ]
    );
}

#[test]
fn flush_completes_everything_in_order() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    recv(&mut p.a.qp, 10, src.sge(0, 8));
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 8)]))
        .unwrap();
    let sg = [src.sge(0, 8)];
    let mut unsig = wr(2, send(None), &sg);
    unsig.signaled = false;
    p.a.qp.post_send(&unsig).unwrap();
    p.a.qp.flush();
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [
            (1, WcStatus::Flushed),
            (2, WcStatus::Flushed),
            (10, WcStatus::Flushed)
        ],
        "flushed completions are reported even for unsignaled requests"
    );
    assert_eq!(p.a.qp.state(), QpState::Error);
    assert!(p.a.qp.poll_timeout().is_none());
}

#[test]
fn unsignaled_success_has_no_completion_and_posting_errors_change_nothing() {
    let (mut a, b) = cfgs();
    a.sq_depth = 2;
    a.max_send_sge = 1;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 256, 4);
    let dst = p.b.mem.register(256, ALL);
    assert_eq!(
        p.a.qp
            .post_send(&wr(9, send(None), &[src.sge(0, 1), src.sge(1, 1)])),
        Err(PostError::TooManySges)
    );
    let sg = [src.sge(0, 8)];
    let mut w = wr(1, write(&dst, 0, None), &sg);
    w.signaled = false;
    p.a.qp.post_send(&w).unwrap();
    p.a.qp
        .post_send(&wr(2, write(&dst, 8, None), &[src.sge(0, 8)]))
        .unwrap();
    assert_eq!(
        p.a.qp.post_send(&wr(3, write(&dst, 0, None), &[])),
        Err(PostError::QueueFull)
    );
    // Messages are limited to 2^22 PSNs (1 GiB at MTU 1024 is 2^20: fine; 2^31 at 256 is not).
    let (mut c256, _) = cfgs();
    c256.path_mtu = Mtu::Mtu256;
    let mut q = RcQp::new(c256).unwrap();
    let huge = [Sge {
        lkey: 1,
        addr: 0,
        len: (1 << 30) + 1,
    }];
    assert_eq!(
        q.post_send(&wr(1, write(&dst, 0, None), &huge)),
        Err(PostError::Invalid)
    );
    let max = [Sge {
        lkey: 1,
        addr: 0,
        len: 1 << 30,
    }];
    assert_eq!(q.post_send(&wr(1, write(&dst, 0, None), &max)), Ok(()));
    p.run(10_000);
    assert_eq!(statuses(&drain(&mut p.a.qp)), [(2, WcStatus::Success)]);
}

#[test]
fn receive_too_small_is_a_length_error_and_an_invalid_request_nak() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    let rb = p.b.mem.register(256, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 10));
    p.a.qp
        .post_send(&wr(1, send(None), &[src.sge(0, 100)]))
        .unwrap();
    p.run(10_000);
    assert_eq!(
        statuses(&drain(&mut p.b.qp)),
        [(1, WcStatus::LocalLengthError)]
    );
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::RemoteInvalidRequest)]
    );
    assert_eq!(
        (p.a.qp.state(), p.b.qp.state()),
        (QpState::Error, QpState::Error)
    );
}

#[test]
fn bad_local_key_is_a_local_protection_error() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    let dst = p.b.mem.register(256, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 8)]))
        .unwrap();
    let bad = Sge {
        lkey: 0xDEAD,
        addr: src.va,
        len: 8,
    };
    p.a.qp
        .post_send(&wr(2, write(&dst, 0, None), &[bad]))
        .unwrap();
    p.a.qp
        .post_send(&wr(3, write(&dst, 0, None), &[src.sge(0, 8)]))
        .unwrap();
    p.run(10_000);
    // The first was sent but its ACK had not come back yet: flushed.
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [
            (1, WcStatus::Flushed),
            (2, WcStatus::LocalProtectionError),
            (3, WcStatus::Flushed)
        ]
    );
    assert_eq!(p.a.qp.state(), QpState::Error);
}

#[test]
fn invalidating_an_unknown_rkey_fails_the_receive_and_naks() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 256, 4);
    let rb = p.b.mem.register(256, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 256));
    let kind = WrKind::Send {
        imm: None,
        invalidate: Some(0x0BAD_0BAD),
    };
    p.a.qp.post_send(&wr(1, kind, &[src.sge(0, 8)])).unwrap();
    p.run(10_000);
    assert_eq!(
        statuses(&drain(&mut p.b.qp)),
        [(1, WcStatus::LocalProtectionError)]
    );
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::RemoteInvalidRequest)]
    );
}

#[test]
fn misaligned_atomic_is_an_invalid_request() {
    let mut p = pair();
    let target = p.b.mem.register(64, ALL);
    let res = p.a.mem.register(64, ALL);
    let fa = WrKind::FetchAdd {
        remote_va: target.va + 4,
        rkey: target.rkey,
        add: 1,
    };
    p.a.qp.post_send(&wr(1, fa, &[res.sge(0, 8)])).unwrap();
    p.run(10_000);
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::RemoteInvalidRequest)]
    );
    assert!(p.b.mem.bytes(target.lkey).unwrap().iter().all(|&b| b == 0));
}

#[test]
fn the_requester_stalls_beyond_128_unacked_psns() {
    let (mut a, mut b) = cfgs();
    a.path_mtu = Mtu::Mtu256;
    b.path_mtu = Mtu::Mtu256;
    a.retry_cnt = 0;
    let mut p = pair_with(a, b, softroce::transport::sim::LinkConfig::clean(DELAY), 1);
    let src = patterned(&mut p.a.mem, 300 * 256, 4);
    let dst = p.b.mem.register(300 * 256, ALL);
    p.a.qp
        .post_send(&wr(1, write(&dst, 0, None), &[src.sge(0, 300 * 256)]))
        .unwrap();
    let mut sent = Vec::new();
    // No ACK ever comes back: like rxe (req.psn > comp.psn + 128 stalls) the
    // requester sends PSNs comp..=comp+128 and stops.
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::AtoB {
            sent.push(pkt.bth.psn - PSN_A);
        }
        d == Dir::AtoB
    });
    assert_eq!(sent, (0..=128).collect::<Vec<u32>>());
    assert_eq!(
        statuses(&drain(&mut p.a.qp)),
        [(1, WcStatus::RetryExceeded)]
    );
}

#[test]
fn msn_counts_completed_messages() {
    let mut p = pair();
    let src = patterned(&mut p.b.mem, 256, 4);
    let sink = p.a.mem.register(256, ALL);
    let rb = p.b.mem.register(256, ALL);
    recv(&mut p.b.qp, 1, rb.sge(0, 128));
    recv(&mut p.b.qp, 2, rb.sge(128, 128));
    p.a.qp
        .post_send(&wr(1, send(None), &[sink.sge(0, 8)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, send(None), &[sink.sge(0, 8)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(3, read(&src, 0), &[sink.sge(0, 8)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(4, write(&src, 0, None), &[sink.sge(0, 8)]))
        .unwrap();
    let mut msns = Vec::new();
    run_filtered(&mut p, &mut |d, pkt| {
        if d == Dir::BtoA {
            msns.push((pkt.bth.opcode, pkt.aeth.map(|a| a.msn)));
        }
        true
    });
    // ACKs for the two SENDs were queued together and coalesced (MSN 2);
    // the READ counts when it starts (3); the WRITE makes 4.
    assert_eq!(
        msns,
        [
            (Opcode::RC_ACKNOWLEDGE, Some(2)),
            (Opcode::RC_RDMA_READ_RESPONSE_ONLY, Some(3)),
            (Opcode::RC_ACKNOWLEDGE, Some(4)),
        ]
    );
}
