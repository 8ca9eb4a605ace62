//! UD for QP1: two GSI QPs exchange 256-byte MADs as UD SEND_ONLY with a DETH
//! (Q_Key 0x80010000, SrcQP 1), through real bytes; wrong Q_Key, wrong QPN
//! and oversize sends are refused.

use softroce::transport::*;
use softroce::wire::{Opcode, PacketRepr, GSI_QKEY};

const ALL: Access = Access::LOCAL_WRITE;

fn mad(fill: u8) -> Vec<u8> {
    (0..256u32).map(|i| (i as u8) ^ fill).collect()
}

#[test]
fn qp1_exchanges_256_byte_mads() {
    let mut ma = SimMemory::new(0x1000);
    let mut mb = SimMemory::new(0x10_0000);
    let sa = ma.register(512, ALL);
    let sb = mb.register(512, ALL);
    ma.bytes_mut(sa.lkey).unwrap()[..256].copy_from_slice(&mad(0x11));
    mb.bytes_mut(sb.lkey).unwrap()[..256].copy_from_slice(&mad(0x22));
    let mut a = UdQp::new(UdConfig::gsi(4, 4)).expect("UD QP");
    let mut b = UdQp::new(UdConfig::gsi(4, 4)).expect("UD QP");
    a.post_recv(&RecvRequest {
        wr_id: 10,
        sges: &[sa.sge(256, 256)],
    })
    .unwrap();
    b.post_recv(&RecvRequest {
        wr_id: 20,
        sges: &[sb.sge(256, 256)],
    })
    .unwrap();
    // The peer's Q_Key is ignored for QP1: it always sends the GSI Q_Key.
    let (ga, gb) = ([sa.sge(0, 256)], [sb.sge(0, 256)]);
    let req = |wr_id, sges| UdSendRequest {
        wr_id,
        ah: 7,
        dest_qpn: 1,
        dest_qkey: 0,
        imm: None,
        sges,
        signaled: true,
    };
    a.post_send(&req(1, &ga)).unwrap();
    b.post_send(&req(2, &gb)).unwrap();
    let mut buf = vec![0u8; 1024];
    let mut qps = [(a, ma), (b, mb)];
    for (from, ah) in [(0usize, 100u32), (1, 200)] {
        let to = 1 - from;
        let tx = {
            let (q, m) = &mut qps[from];
            q.poll_transmit(m, &mut buf).unwrap()
        };
        assert_eq!(
            (tx.len, tx.ah),
            (12 + 8 + 256 + 4, 7),
            "UDP payload of a MAD is 280 bytes"
        );
        let pkt = PacketRepr::parse(&buf[..tx.len]).unwrap();
        assert_eq!(pkt.bth.opcode, Opcode::UD_SEND_ONLY);
        // AckReq is set on QP1 datagrams, as rxe does (tests/data captures).
        assert_eq!(
            (pkt.bth.dest_qp, pkt.bth.pkey, pkt.bth.ack_req),
            (1, 0xFFFF, true)
        );
        let deth = pkt.deth.unwrap();
        assert_eq!((deth.qkey, deth.src_qp), (GSI_QKEY, 1));
        let (q, m) = &mut qps[to];
        q.handle_packet(&pkt, ah, m);
        let (q, m) = &mut qps[from];
        assert!(q.poll_transmit(m, &mut buf).is_none());
    }
    let [(mut a, ma), (mut b, mb)] = qps;
    let ca: Vec<_> = std::iter::from_fn(|| a.poll_completion()).collect();
    let cb: Vec<_> = std::iter::from_fn(|| b.poll_completion()).collect();
    assert_eq!(ca.len(), 2);
    assert_eq!(
        (ca[0].completion.wr_id, ca[0].completion.status),
        (1, WcStatus::Success)
    );
    let r = ca[1];
    assert_eq!(
        (
            r.completion.wr_id,
            r.completion.byte_len,
            r.completion.src_qp,
            r.src_ah
        ),
        (10, 256, Some(1), Some(200))
    );
    // B received before it sent: its receive completion comes first.
    assert_eq!(
        (cb[0].completion.wr_id, cb[0].completion.queue, cb[0].src_ah),
        (20, WcQueue::Recv, Some(100))
    );
    assert_eq!(
        (cb[1].completion.wr_id, cb[1].completion.queue),
        (2, WcQueue::Send)
    );
    assert_eq!(&ma.bytes(sa.lkey).unwrap()[256..], &mad(0x22)[..]);
    assert_eq!(&mb.bytes(sb.lkey).unwrap()[256..], &mad(0x11)[..]);
}

#[test]
fn wrong_qkey_qpn_or_size_is_refused() {
    let mut m = SimMemory::new(0x1000);
    let s = m.register(4096, ALL);
    let mut a = UdQp::new(UdConfig::gsi(4, 4)).expect("UD QP");
    let mut other = UdQp::new(UdConfig {
        qpn: 0x40,
        qkey: 0x1234,
        mtu: Mtu::Mtu256,
        sq_depth: 4,
        rq_depth: 4,
        max_sge: 1,
        send_psn: 0,
    })
    .expect("UD QP");
    a.post_recv(&RecvRequest {
        wr_id: 1,
        sges: &[s.sge(0, 256)],
    })
    .unwrap();
    // Too big for the MTU: refused synchronously.
    let big = UdSendRequest {
        wr_id: 1,
        ah: 0,
        dest_qpn: 1,
        dest_qkey: 0,
        imm: None,
        sges: &[s.sge(0, 257)],
        signaled: true,
    };
    assert_eq!(other.post_send(&big), Err(PostError::Invalid));
    // A non-GSI QP sends with the peer's Q_Key; QP1 drops anything but the GSI one.
    let mut buf = vec![0u8; 1024];
    for (qkey, dest, accepted) in [
        (0x1234u32, 1u32, false),
        (GSI_QKEY, 2, false),
        (GSI_QKEY, 1, true),
    ] {
        let w = UdSendRequest {
            wr_id: 2,
            ah: 0,
            dest_qpn: dest,
            dest_qkey: qkey,
            imm: Some(5),
            sges: &[s.sge(0, 16)],
            signaled: false,
        };
        other.post_send(&w).unwrap();
        // A buffer too small for an MTU-sized datagram consumes nothing.
        assert!(other.poll_transmit(&m, &mut [0u8; 64]).is_none());
        let tx = other.poll_transmit(&m, &mut buf).unwrap();
        let pkt = PacketRepr::parse(&buf[..tx.len]).unwrap();
        assert_eq!(pkt.bth.opcode, Opcode::UD_SEND_ONLY_WITH_IMMEDIATE);
        let before = a.dropped;
        a.handle_packet(&pkt, 0, &mut m);
        assert_eq!(a.dropped == before, accepted, "qkey {qkey:x} dest {dest}");
    }
    let c = a.poll_completion().unwrap().completion;
    assert_eq!((c.byte_len, c.imm, c.src_qp), (16, Some(5), Some(0x40)));
    assert!(
        other.poll_completion().is_none(),
        "unsignaled sends report nothing"
    );
}
