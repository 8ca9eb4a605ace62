//! Basic RC flows over a clean simulated link: SEND, WRITE, READ, atomics,
//! immediate data, send-with-invalidate, segmentation and AckReq placement.

mod transport_common;
use transport_common::*;

use softroce::transport::*;

#[test]
fn send_write_read_roundtrip() {
    let mut p = pair();
    let src = patterned(&mut p.a.mem, 10_000, 7);
    let dst = p.b.mem.register(10_000, ALL);
    let rsink = p.a.mem.register(10_000, ALL);
    recv(&mut p.b.qp, 900, dst.sge(0, 10_000));
    p.a.qp
        .post_send(&wr(1, send(Some(0xABCD)), &[src.sge(0, 3000)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(2, write(&dst, 5000, None), &[src.sge(100, 4000)]))
        .unwrap();
    p.a.qp
        .post_send(&wr(3, read(&dst, 5000), &[rsink.sge(0, 4000)]))
        .unwrap();
    p.run(100_000);
    let ca = drain(&mut p.a.qp);
    assert_eq!(
        ca.iter().map(|c| (c.wr_id, c.status)).collect::<Vec<_>>(),
        [
            (1, WcStatus::Success),
            (2, WcStatus::Success),
            (3, WcStatus::Success)
        ]
    );
    assert_eq!(ca[2].byte_len, 4000);
    let cb = drain(&mut p.b.qp);
    assert_eq!(cb.len(), 1);
    assert_eq!(
        (cb[0].wr_id, cb[0].byte_len, cb[0].imm),
        (900, 3000, Some(0xABCD))
    );
    let s = p.a.mem.bytes(src.lkey).unwrap().to_vec();
    let d = p.b.mem.bytes(dst.lkey).unwrap();
    assert_eq!(&d[..3000], &s[..3000]);
    assert_eq!(&d[5000..9000], &s[100..4100]);
    assert_eq!(&p.a.mem.bytes(rsink.lkey).unwrap()[..4000], &s[100..4100]);
}
