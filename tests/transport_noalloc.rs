//! The hot paths do not allocate: after `RcQp::new`, posting, transmitting,
//! handling packets (including NAKs, retries, READ responses, atomics and
//! timeouts) and polling completions make zero heap allocations. Counted
//! with the `allocation-counter` global allocator.

use softroce::transport::*;
use softroce::wire::PacketRepr;

const ALL: Access = Access::LOCAL_WRITE
    .union(Access::REMOTE_READ)
    .union(Access::REMOTE_WRITE)
    .union(Access::REMOTE_ATOMIC);

#[test]
fn the_data_path_makes_no_heap_allocation() {
    let mut ca = QpConfig::new(0x11, 0x22, 0, 0);
    let mut cb = QpConfig::new(0x22, 0x11, 0, 0);
    for c in [&mut ca, &mut cb] {
        c.path_mtu = Mtu::Mtu256;
        c.local_ack_timeout = 8;
        c.min_rnr_timer = 1;
    }
    let mut a = RcQp::new(ca).unwrap();
    let mut b = RcQp::new(cb).unwrap();
    let mut ma = SimMemory::new(0x1000_0000);
    let mut mb = SimMemory::new(0x8000_0000);
    let src = ma.register(8192, ALL);
    let dst = mb.register(8192, ALL);
    let mut buf = [0u8; 512];
    let sends = [src.sge(0, 3000)];
    let atom = [src.sge(4096, 8)];
    let rsg = [dst.sge(0, 4096)];
    let mut now = 0u64;
    let mut moved = 0u64;
    let mut completions = 0u64;
    let info = allocation_counter::measure(|| {
        for round in 0..200u64 {
            let kinds = [
                WrKind::Send {
                    imm: Some(1),
                    invalidate: None,
                },
                WrKind::Write {
                    remote_va: dst.va,
                    rkey: dst.rkey,
                    imm: None,
                },
                WrKind::Read {
                    remote_va: dst.va + 4096,
                    rkey: dst.rkey,
                },
                WrKind::FetchAdd {
                    remote_va: dst.va + 8,
                    rkey: dst.rkey,
                    add: 1,
                },
            ];
            let kind = kinds[(round % 4) as usize];
            let sg: &[Sge] = if round % 4 == 3 { &atom } else { &sends };
            let _ = a.post_send(&WorkRequest {
                wr_id: round,
                kind,
                sges: sg,
                signaled: true,
                fence: round % 5 == 0,
                solicited: false,
            });
            if round % 3 != 0 {
                let _ = b.post_recv(&RecvRequest {
                    wr_id: round,
                    sges: &rsg,
                });
            }
            for step in 0..40u64 {
                let t = Instant(now);
                while let Some(n) = a.poll_transmit(t, &mut ma, &mut buf) {
                    moved += 1;
                    if !moved.is_multiple_of(7) {
                        let p = PacketRepr::parse(&buf[..n]).unwrap();
                        b.handle_packet(t, &p, &mut mb);
                    }
                }
                while let Some(n) = b.poll_transmit(t, &mut mb, &mut buf) {
                    moved += 1;
                    if !moved.is_multiple_of(11) {
                        let p = PacketRepr::parse(&buf[..n]).unwrap();
                        a.handle_packet(t, &p, &mut ma);
                    }
                }
                while a.poll_completion().is_some() {
                    completions += 1;
                }
                while b.poll_completion().is_some() {}
                now += 1_000;
                if step % 8 == 7 {
                    if let Some(d) = a.poll_timeout() {
                        now = now.max(d.0);
                        a.handle_timeout(Instant(now));
                    }
                }
            }
        }
    });
    assert_eq!(a.state(), QpState::Ready);
    assert!(
        moved > 2_000 && completions > 100,
        "the workload ran: {moved} packets, {completions} completions"
    );
    assert!(
        a.stats().retries > 0 && a.stats().rnr_naks_received > 0,
        "retry paths ran: {:?}",
        a.stats()
    );
    assert_eq!(
        info.count_total, 0,
        "heap allocations on the data path: {info:?}"
    );
}
