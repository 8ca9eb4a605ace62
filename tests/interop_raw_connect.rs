//! The hosted verbs-compatibility extension `softroce_qp_connect_raw` /
//! `softroce_qp_number` (ibv_rc_pingpong's out-of-band QP connect), through
//! the C symbols: argument checks, a QP connected once only, and two QPs on
//! SimNet adapters connected raw move a SEND each way through the carrier.

mod ndk_common;
mod ndk_conn_common;

use std::ffi::CString;

use ndk_common::*;
use ndk_conn_common::*;
use softroce::os::hosted::raw::RawConnect;

extern "C" {
    fn softroce_qp_number(qp: *mut NDK_QP) -> u32;
    fn softroce_qp_connect_raw(
        qp: *mut NDK_QP,
        ip: *const std::ffi::c_char,
        p: *const RawConnect,
    ) -> NtStatus;
}

fn raw(qp: *mut NDK_QP, ip: &str, p: &RawConnect) -> NtStatus {
    let ip = CString::new(ip).unwrap();
    unsafe { softroce_qp_connect_raw(qp, ip.as_ptr(), p) }
}

#[test]
fn raw_connect_checks_arguments_and_connects_once() {
    let mut net = Net::new(5);
    let a = net.adapter("192.0.2.1");
    let good = RawConnect {
        remote_qpn: 0x22,
        send_psn: 1,
        recv_psn: 2,
        ..Default::default()
    };
    assert_eq!(
        unsafe { softroce_qp_connect_raw(std::ptr::null_mut(), c"192.0.2.2".as_ptr(), &good) },
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        unsafe { softroce_qp_connect_raw(a.qp, std::ptr::null(), &good) },
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(
        unsafe { softroce_qp_connect_raw(a.qp, c"192.0.2.2".as_ptr(), std::ptr::null()) },
        STATUS_INVALID_PARAMETER
    );
    assert_eq!(raw(a.qp, "not-an-ip", &good), STATUS_INVALID_ADDRESS);
    for bad in [
        RawConnect {
            path_mtu: 1000,
            ..good
        },
        RawConnect {
            read_limit: 17,
            ..good
        },
        RawConnect {
            send_psn: 0x100_0000,
            ..good
        },
        RawConnect {
            remote_qpn: 0x100_0000,
            ..good
        },
    ] {
        assert_eq!(
            raw(a.qp, "192.0.2.2", &bad),
            STATUS_INVALID_PARAMETER,
            "{bad:?}"
        );
    }
    assert_eq!(raw(a.qp, "192.0.2.2", &good), STATUS_SUCCESS);
    assert_eq!(raw(a.qp, "192.0.2.2", &good), STATUS_CONNECTION_ACTIVE);
    a.close_objects();
    net.finish();
}

#[test]
fn raw_connected_qps_exchange_sends_over_the_carrier() {
    let mut net = Net::new(9);
    let a = net.adapter("192.0.2.1");
    let b = net.adapter("192.0.2.2");
    let (qa, qb) = unsafe { (softroce_qp_number(a.qp), softroce_qp_number(b.qp)) };
    assert!(qa != 0 && qb != 0);
    assert_eq!(unsafe { softroce_qp_number(std::ptr::null_mut()) }, 0);
    let (pa, pb) = (0x00_1234, 0xFF_FFFE); // b's 3-packet SEND wraps its PSN
    let ca = RawConnect {
        remote_qpn: qb,
        send_psn: pa,
        recv_psn: pb,
        ..Default::default()
    };
    let cb = RawConnect {
        remote_qpn: qa,
        send_psn: pb,
        recv_psn: pa,
        ..Default::default()
    };
    assert_eq!(raw(a.qp, "192.0.2.2", &ca), STATUS_SUCCESS);
    assert_eq!(raw(b.qp, "192.0.2.1", &cb), STATUS_SUCCESS);
    let mut a_buf: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let mut b_buf = vec![0u8; 3000];
    let (amr, _m1) = registered_mr(a.pd, &mut a_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let (bmr, _m2) = registered_mr(b.pd, &mut b_buf, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let lt = |mr: *mut NDK_MR| unsafe { (mr_d(mr).NdkGetLocalTokenFromMr)(mr) };
    for round in 0..3u8 {
        b_buf.fill(0);
        let rs = sge(b_buf.as_ptr() as u64, 3000, lt(bmr));
        assert_eq!(receive(b.qp, 7, &[rs]), STATUS_SUCCESS);
        let ss = sge(a_buf.as_ptr() as u64, 3000, lt(amr));
        let s = unsafe { (qp_d(a.qp).NdkSend)(a.qp, 8 as *mut _, &ss, 1, 0) };
        assert_eq!(s, STATUS_SUCCESS);
        net.run();
        net.advance(std::time::Duration::from_millis(1));
        let rb = results_ex(b.cq, 4);
        assert_eq!(rb.len(), 1, "round {round}");
        assert_eq!(
            (rb[0].Status, rb[0].BytesTransferred),
            (STATUS_SUCCESS, 3000)
        );
        assert_eq!(b_buf, a_buf, "round {round}");
        let ra = results_ex(a.cq, 4);
        assert_eq!(ra.len(), 1);
        assert_eq!(ra[0].Status, STATUS_SUCCESS);
    }
    // And back, b -> a: FFFFFE, FFFFFF, 000000.
    let mut back = vec![0u8; 3000];
    let (bk, _m3) = registered_mr(a.pd, &mut back, NDK_MR_FLAG_ALLOW_LOCAL_WRITE);
    let rs = sge(back.as_ptr() as u64, 3000, lt(bk));
    assert_eq!(receive(a.qp, 9, &[rs]), STATUS_SUCCESS);
    let ss = sge(b_buf.as_ptr() as u64, 3000, lt(bmr));
    let s = unsafe { (qp_d(b.qp).NdkSend)(b.qp, 10 as *mut _, &ss, 1, 0) };
    assert_eq!(s, STATUS_SUCCESS);
    net.run();
    net.advance(std::time::Duration::from_millis(1));
    let ra = results_ex(a.cq, 4);
    assert_eq!(ra.len(), 1);
    assert_eq!(
        (ra[0].Status, ra[0].BytesTransferred),
        (STATUS_SUCCESS, 3000)
    );
    assert_eq!(back, a_buf);
    assert_eq!(results_ex(b.cq, 4).len(), 1);
    let st = b.stats();
    assert_eq!(
        (st.rx_bad_icrc, st.rx_wrong_peer, st.rx_no_qp),
        (0, 0, 0),
        "{st:?}"
    );
    for mr in [amr, bmr, bk] {
        assert_eq!(close_obj(mr, None), STATUS_SUCCESS);
    }
    for s in [&a, &b] {
        s.close_objects();
    }
    net.finish();
}
