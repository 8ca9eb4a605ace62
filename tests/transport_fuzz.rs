//! Hostile input: seeded random packets (valid headers with random fields,
//! and raw random bytes through `PacketRepr::parse`) thrown at QPs with work
//! in flight. The engine must never panic (overflow checks are on in tests),
//! must only emit packets that parse, and must never complete more requests
//! than were posted.

mod transport_common;
use transport_common::*;

use softroce::transport::sim::SimRng;
use softroce::transport::*;
use softroce::wire::{
    AethRepr, AtomicAckEthRepr, AtomicEthRepr, BthRepr, NakCode, PacketRepr, RethRepr, Syndrome,
};

const RC_OPS: [Opcode; 24] = [
    Opcode::RC_SEND_FIRST,
    Opcode::RC_SEND_MIDDLE,
    Opcode::RC_SEND_LAST,
    Opcode::RC_SEND_LAST_WITH_IMMEDIATE,
    Opcode::RC_SEND_ONLY,
    Opcode::RC_SEND_ONLY_WITH_IMMEDIATE,
    Opcode::RC_RDMA_WRITE_FIRST,
    Opcode::RC_RDMA_WRITE_MIDDLE,
    Opcode::RC_RDMA_WRITE_LAST,
    Opcode::RC_RDMA_WRITE_LAST_WITH_IMMEDIATE,
    Opcode::RC_RDMA_WRITE_ONLY,
    Opcode::RC_RDMA_WRITE_ONLY_WITH_IMMEDIATE,
    Opcode::RC_RDMA_READ_REQUEST,
    Opcode::RC_RDMA_READ_RESPONSE_FIRST,
    Opcode::RC_RDMA_READ_RESPONSE_MIDDLE,
    Opcode::RC_RDMA_READ_RESPONSE_LAST,
    Opcode::RC_RDMA_READ_RESPONSE_ONLY,
    Opcode::RC_ACKNOWLEDGE,
    Opcode::RC_ATOMIC_ACKNOWLEDGE,
    Opcode::RC_COMPARE_SWAP,
    Opcode::RC_FETCH_ADD,
    Opcode::RC_SEND_LAST_WITH_INVALIDATE,
    Opcode::RC_SEND_ONLY_WITH_INVALIDATE,
    Opcode::UD_SEND_ONLY,
];

fn pick<T: Copy>(rng: &mut SimRng, xs: &[T]) -> T {
    xs[rng.below(xs.len() as u64) as usize]
}

fn near(rng: &mut SimRng, base: u32) -> u32 {
    match rng.below(4) {
        0 => rng.next_u64() as u32 & 0xFF_FFFF,
        _ => base.wrapping_add(rng.below(300) as u32).wrapping_sub(150) & 0xFF_FFFF,
    }
}

/// A random packet for `qpn` with every header its opcode (mostly) calls for.
fn random_packet<'a>(
    rng: &mut SimRng,
    qpn: u32,
    psn_base: u32,
    mr: &SimMr,
    payload: &'a [u8],
) -> PacketRepr<'a> {
    let opcode = pick(rng, &RC_OPS);
    let bth = BthRepr {
        opcode,
        solicited: rng.chance(500_000),
        mig_req: false,
        pad_count: 0,
        tver: 0,
        pkey: if rng.chance(20_000) { 0x7FFF } else { 0xFFFF },
        fecn: false,
        becn: false,
        resv6: 0,
        dest_qp: if rng.chance(20_000) { qpn + 1 } else { qpn },
        ack_req: rng.chance(500_000),
        resv7: 0,
        psn: near(rng, psn_base),
    };
    let len = rng.below(payload.len() as u64 + 1) as usize;
    let mut p = PacketRepr::new(bth, &payload[..len]);
    let h = opcode.headers().unwrap();
    let drop_hdr = rng.chance(50_000);
    let va = if rng.chance(700_000) {
        mr.va + rng.below(u64::from(mr.len) + 64)
    } else {
        rng.next_u64()
    };
    let rkey = if rng.chance(800_000) {
        mr.rkey
    } else {
        rng.next_u64() as u32
    };
    let dma_len = match rng.below(4) {
        0 => rng.next_u64() as u32,
        _ => rng.below(4 * 1024) as u32,
    };
    if h.contains(softroce::wire::Headers::RETH) && !drop_hdr {
        p.reth = Some(RethRepr { va, rkey, dma_len });
    }
    if h.contains(softroce::wire::Headers::AETH) && !drop_hdr {
        let syndrome = match rng.below(6) {
            0 => Syndrome::RnrNak {
                timer: rng.below(32) as u8,
            },
            1 => Syndrome::Nak(pick(
                rng,
                &[
                    NakCode::PsnSequenceError,
                    NakCode::InvalidRequest,
                    NakCode::RemoteAccessError,
                    NakCode::RemoteOperationalError,
                    NakCode::InvalidRdRequest,
                ],
            )),
            2 => Syndrome::Reserved(0x40),
            _ => Syndrome::Ack { credits: 0x1F },
        };
        p.aeth = Some(AethRepr {
            syndrome,
            msn: rng.next_u64() as u32 & 0xFF_FFFF,
        });
    }
    if h.contains(softroce::wire::Headers::ATOMIC_ETH) && !drop_hdr {
        p.atomic_eth = Some(AtomicEthRepr {
            va: va & !rng.below(2),
            rkey,
            swap_add: rng.next_u64(),
            compare: rng.next_u64(),
        });
    }
    if h.contains(softroce::wire::Headers::ATOMIC_ACK_ETH) && !drop_hdr {
        p.atomic_ack_eth = Some(AtomicAckEthRepr {
            orig_data: rng.next_u64(),
        });
    }
    if h.contains(softroce::wire::Headers::IMM_DT) {
        p.imm = Some(rng.next_u64() as u32);
    }
    if h.contains(softroce::wire::Headers::IETH) {
        p.ieth = Some(if rng.chance(500_000) {
            mr.rkey
        } else {
            rng.next_u64() as u32
        });
    }
    p
}

/// Runs one pair of QPs until either enters the error state (or 400 rounds);
/// returns the packets injected while both were ready.
fn hostile(seed: u64) -> u64 {
    let mut rng = SimRng::new(seed);
    let (mut ca, mut cb) = cfgs();
    ca.path_mtu = Mtu::Mtu256;
    cb.path_mtu = Mtu::Mtu256;
    ca.retry_cnt = 3;
    let mut p = pair_with(
        ca,
        cb,
        softroce::transport::sim::LinkConfig::clean(DELAY),
        seed,
    );
    let mr = patterned(&mut p.a.mem, 4096, 1);
    let bmr = patterned(&mut p.b.mem, 4096, 2);
    let payload: Vec<u8> = (0..300u32).map(|i| i as u8).collect();
    let mut buf = vec![0u8; 5000];
    let mut posted = 0u64;
    let mut completed = 0u64;
    let mut injected = 0u64;
    for round in 0..400 {
        if p.a.qp.state() == QpState::Error || p.b.qp.state() == QpState::Error {
            break;
        }
        // Legitimate work in flight on A (so responses have something to hit).
        for _ in 0..rng.below(4) {
            let kind = match rng.below(4) {
                0 => send(None),
                1 => write(&bmr, rng.below(2048) as u32, None),
                2 => read(&bmr, rng.below(2048) as u32),
                _ => WrKind::FetchAdd {
                    remote_va: bmr.va + 8 * rng.below(8),
                    rkey: bmr.rkey,
                    add: 1,
                },
            };
            let len = if matches!(kind, WrKind::FetchAdd { .. }) {
                8
            } else {
                rng.below(1200) as u32
            };
            if p.a
                .qp
                .post_send(&wr(posted, kind, &[mr.sge(0, len)]))
                .is_ok()
            {
                posted += 1;
            }
        }
        let _ = p.b.qp.post_recv(&RecvRequest {
            wr_id: round,
            sges: &[bmr.sge(0, 600)],
        });
        // Let some real traffic happen, then inject garbage into both.
        for _ in 0..rng.below(5) {
            p.step();
        }
        for _ in 0..20 {
            injected += 1;
            let (target, base) = if rng.chance(500_000) {
                (0, p.a.qp.unacked_psn().value())
            } else {
                (1, p.b.qp.expected_recv_psn().value())
            };
            let now = p.now;
            if rng.chance(200_000) {
                // Raw bytes through the parser.
                let n = rng.below(400) as usize;
                let bytes: Vec<u8> = (0..n).map(|_| rng.next_u64() as u8).collect();
                if let Ok(pkt) = PacketRepr::parse(&bytes) {
                    if target == 0 {
                        p.a.qp.handle_packet(now, &pkt, &mut p.a.mem);
                    } else {
                        p.b.qp.handle_packet(now, &pkt, &mut p.b.mem);
                    }
                }
                continue;
            }
            if target == 0 {
                let pkt = random_packet(&mut rng, QPN_A, base, &mr, &payload);
                p.a.qp.handle_packet(now, &pkt, &mut p.a.mem);
            } else {
                let pkt = random_packet(&mut rng, QPN_B, base, &bmr, &payload);
                p.b.qp.handle_packet(now, &pkt, &mut p.b.mem);
            }
        }
        // Everything the engines emit must parse.
        for (qp, mem) in [(&mut p.a.qp, &mut p.a.mem), (&mut p.b.qp, &mut p.b.mem)] {
            for _ in 0..50 {
                let Some(n) = qp.poll_transmit(p.now, mem, &mut buf) else {
                    break;
                };
                PacketRepr::parse(&buf[..n])
                    .unwrap_or_else(|e| panic!("seed {seed}: emitted garbage: {e:?}"));
            }
        }
        if let Some(t) = p.a.qp.poll_timeout() {
            p.now = p.now.max(t);
            let now = p.now;
            p.a.qp.handle_timeout(now);
        }
        while let Some(c) = p.a.qp.poll_completion() {
            if c.queue == WcQueue::Send {
                completed += 1;
                assert!(
                    c.wr_id < posted,
                    "seed {seed}: completion for a request never posted"
                );
            }
        }
        while p.b.qp.poll_completion().is_some() {}
        assert!(completed <= posted, "seed {seed}");
    }
    // Flushing completes whatever is left, exactly once.
    p.a.qp.flush();
    while let Some(c) = p.a.qp.poll_completion() {
        if c.queue == WcQueue::Send {
            completed += 1;
        }
    }
    assert_eq!(
        completed, posted,
        "seed {seed}: every posted request completes exactly once"
    );
    injected
}

#[test]
fn hostile_packets_never_panic_and_never_double_complete() {
    let mut injected = 0;
    for seed in 0..400 {
        injected += hostile(seed);
    }
    // Most random packets are fatal to a QP; make sure many were still handled.
    assert!(
        injected > 20_000,
        "only {injected} packets reached ready QPs"
    );
}
