//! The hosted carrier against real Linux rxe (the rxe lab, `../shared/rxe-lab`):
//! opens a carrier on the namespace address, lets a guest's rping send CM
//! REQs to it, and checks that every datagram arrives with IPv4 header fields
//! (rxe's non-zero IDs) that make its ICRC verify. Ignored by default: it
//! needs the lab's namespace. Run it as the lab's HOSTCMD, e.g.
//! `SOFTROCE_LAB_ADDR=10.99.0.1:4791 <this test binary> --ignored --nocapture`
//! (see `docs/CARRIER.md`).

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use softroce::os::hosted::HostedPlatform;
use softroce::os::{DatagramSink, Platform, Received, RxIp};

/// (src, dst, IP fields, payload) of one arrival.
type Arrival = (SocketAddr, SocketAddr, RxIp, Vec<u8>);

struct Keep(Mutex<Vec<Arrival>>);
impl DatagramSink for Keep {
    fn on_datagram(&self, d: &Received<'_>) {
        self.0
            .lock()
            .unwrap()
            .push((d.src, d.dst, d.ip, d.payload.to_vec()));
    }
}

/// zlib CRC-32 (reflected 0xEDB88320, init and final xor 0xFFFFFFFF), bitwise:
/// a test-local reference, independent of `wire`.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xFFFF_FFFFu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 {
                (c >> 1) ^ 0xEDB8_8320
            } else {
                c >> 1
            };
        }
    }
    !c
}

/// The ICRC of a RoCEv2 IPv4 datagram per ROCE-FACTS §2, rebuilt from what the
/// carrier reported, and the ICRC the packet carries.
fn icrc_v4(src: SocketAddr, dst: SocketAddr, ip: RxIp, payload: &[u8]) -> Option<(u32, u32)> {
    let RxIp::V4(f) = ip else { return None };
    let (IpAddr::V4(s), IpAddr::V4(d)) = (src.ip(), dst.ip()) else {
        return None;
    };
    let n = payload.len();
    if n < 16 || f.ihl != 5 {
        return None;
    }
    let mut buf = vec![0xFF; 8];
    buf.extend_from_slice(&[0x45, 0xFF]);
    buf.extend_from_slice(&f.total_length.to_be_bytes());
    buf.extend_from_slice(&f.identification.to_be_bytes());
    buf.extend_from_slice(&f.flags_fragment.to_be_bytes());
    buf.extend_from_slice(&[0xFF, 17, 0xFF, 0xFF]);
    buf.extend_from_slice(&s.octets());
    buf.extend_from_slice(&d.octets());
    buf.extend_from_slice(&src.port().to_be_bytes());
    buf.extend_from_slice(&dst.port().to_be_bytes());
    buf.extend_from_slice(&u16::try_from(n + 8).ok()?.to_be_bytes());
    buf.extend_from_slice(&[0xFF, 0xFF]);
    let mut bth = payload[..12].to_vec();
    bth[4] = 0xFF;
    buf.extend_from_slice(&bth);
    buf.extend_from_slice(&payload[12..n - 4]);
    let carried = u32::from_le_bytes(payload[n - 4..].try_into().ok()?);
    Some((crc32(&buf), carried))
}

#[test]
fn crc_reference_matches_the_known_vector() {
    // The CRC-32 check value of "123456789".
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn icrc_reference_matches_vector_b_of_the_facts() {
    // ROCE-FACTS §2 vector B: a UC SEND_ONLY, IPv4 ID 0x0478 with DF.
    let hex = "2460ffff000000d300cf17104630818be28935d90e9a95505401be885e50000078f353f3";
    let payload: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    let ip = RxIp::V4(softroce::os::Ipv4RxFields {
        ihl: 5,
        total_length: 0x40,
        identification: 0x0478,
        flags_fragment: 0x4000,
    });
    let a: SocketAddr = "192.168.0.7:49152".parse().unwrap();
    let b: SocketAddr = "192.168.0.7:4791".parse().unwrap();
    let (computed, carried) = icrc_v4(a, b, ip, &payload).unwrap();
    assert_eq!(computed, carried);
    // And one changed ID breaks it: the ID is covered.
    let other = RxIp::V4(softroce::os::Ipv4RxFields {
        ihl: 5,
        total_length: 0x40,
        identification: 0,
        flags_fragment: 0x4000,
    });
    let (computed, carried) = icrc_v4(a, b, other, &payload).unwrap();
    assert_ne!(computed, carried);
}

#[test]
#[ignore = "needs the rxe lab namespace: run as its HOSTCMD"]
fn rxe_packets_arrive_with_ip_fields_that_verify_their_icrc() {
    let addr: SocketAddr = std::env::var("SOFTROCE_LAB_ADDR")
        .unwrap_or_else(|_| "10.99.0.1:4791".into())
        .parse()
        .unwrap();
    let p = HostedPlatform::new("lab");
    let keep = Arc::new(Keep(Mutex::new(Vec::new())));
    let carrier = p.open_carrier(addr, keep.clone()).unwrap();
    assert!(carrier.rx_icrc_verifiable(), "raw receive path not active");
    let until = Instant::now() + Duration::from_secs(200);
    while keep.0.lock().unwrap().len() < 3 && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let got = keep.0.lock().unwrap().clone();
    println!("received {} datagrams", got.len());
    assert!(!got.is_empty(), "no datagram from rxe arrived");
    for (src, dst, ip, payload) in &got {
        let (computed, carried) =
            icrc_v4(*src, *dst, *ip, payload).expect("an IPv4 RoCEv2 datagram");
        println!(
            "{src} -> {dst} {ip:?} len {} icrc carried {carried:08x} computed {computed:08x}",
            payload.len()
        );
        assert_eq!(computed, carried, "ICRC does not verify");
        if let RxIp::V4(f) = ip {
            assert_ne!(f.identification, 0, "rxe's packets carry kernel-chosen IDs");
        }
    }
    println!("ALL {} ICRCs VERIFIED", got.len());
}

/// A UD SEND_ONLY to QP1 carrying a MAD `Get` of management class `class`
/// with transaction id `tid` (BTH + DETH + 256-byte MAD, no ICRC yet).
fn mad_get(class: u8, tid: u64, psn: u32) -> Vec<u8> {
    let mut p = vec![0x64, 0x00, 0xFF, 0xFF]; // UD SEND_ONLY, P_Key 0xFFFF
    p.extend_from_slice(&[0x00, 0x00, 0x00, 0x01]); // DestQP 1
    p.extend_from_slice(&(psn & 0x00FF_FFFF).to_be_bytes()); // AckReq 0, PSN
    p.extend_from_slice(&0x8001_0000u32.to_be_bytes()); // DETH Q_Key (GSI)
    p.extend_from_slice(&[0x00, 0x00, 0x00, 0x01]); // DETH SrcQP 1
    let mut mad = [0u8; 256];
    mad[0] = 1; // base version
    mad[1] = class;
    mad[2] = 1; // class version
    mad[3] = 0x01; // method Get
    mad[8..16].copy_from_slice(&tid.to_be_bytes());
    mad[16..18].copy_from_slice(&0x0001u16.to_be_bytes()); // attribute ClassPortInfo
    p.extend_from_slice(&mad);
    p
}

#[test]
#[ignore = "needs the rxe lab namespace: run as its HOSTCMD"]
fn rxe_answers_datagrams_sent_by_the_carrier_with_id_zero() {
    // rxe drops a packet whose ICRC does not verify. We send MAD Gets for a
    // management class no agent serves; the MAD layer answers those with an
    // error GetResp, so any answer proves rxe accepted our ICRC, computed over
    // the IPv4 ID 0 + DF that the carrier promises.
    let addr: SocketAddr = std::env::var("SOFTROCE_LAB_ADDR")
        .unwrap_or_else(|_| "10.99.0.1:4791".into())
        .parse()
        .unwrap();
    let guests: Vec<SocketAddr> = ["10.99.0.11:4791", "10.99.0.12:4791"]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let p = HostedPlatform::new("labtx");
    let keep = Arc::new(Keep(Mutex::new(Vec::new())));
    let carrier = p.open_carrier(addr, keep.clone()).unwrap();
    let tx = carrier.tx_ipv4().unwrap();
    let tid = 0x50F7_0000_0000_0001u64;
    // Control: the same probe with the ICRC computed over ID 1 must get no answer.
    let bad_tid = 0x50F7_0000_0000_0BADu64;
    let until = Instant::now() + Duration::from_secs(200);
    let mut psn = 0;
    let answered = loop {
        for g in &guests {
            for (t, id) in [(tid, tx.identification), (bad_tid, tx.identification ^ 1)] {
                let mut pkt = mad_get(0x0A, t, psn);
                pkt.extend_from_slice(&[0; 4]);
                let total_length = u16::try_from(pkt.len() + 28).unwrap();
                let ip = RxIp::V4(softroce::os::Ipv4RxFields {
                    ihl: 5,
                    total_length,
                    identification: id,
                    flags_fragment: tx.flags_fragment,
                });
                let (icrc, _) = icrc_v4(addr, *g, ip, &pkt).unwrap();
                let n = pkt.len();
                pkt[n - 4..].copy_from_slice(&icrc.to_le_bytes());
                let _ = carrier.send(*g, &pkt);
            }
        }
        psn += 1;
        std::thread::sleep(Duration::from_secs(1));
        let got = keep.0.lock().unwrap().clone();
        let answers: Vec<_> = got
            .iter()
            .filter(|(_, _, _, pl)| {
                pl.len() > 36 && pl[0] == 0x64 && pl[20 + 8..20 + 16] == tid.to_be_bytes()
            })
            .cloned()
            .collect();
        if !answers.is_empty() || Instant::now() > until {
            break answers;
        }
    };
    assert!(!answered.is_empty(), "rxe never answered (ICRC rejected?)");
    // Give a wrongly-checksummed probe as long to be answered as the good one had.
    std::thread::sleep(Duration::from_secs(3));
    let bad_answers = keep
        .0
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, _, pl)| pl.len() > 36 && pl[20 + 8..20 + 16] == bad_tid.to_be_bytes())
        .count();
    assert_eq!(
        bad_answers, 0,
        "rxe answered a probe whose ICRC assumed ID 1"
    );
    for (src, dst, ip, pl) in &answered {
        let (computed, carried) = icrc_v4(*src, *dst, *ip, pl).unwrap();
        println!(
            "answer from {src}: method {:#04x} status {:#06x}, {ip:?}, icrc ok {}",
            pl[20 + 3],
            u16::from_be_bytes([pl[20 + 4], pl[20 + 5]]),
            computed == carried
        );
        assert_eq!(computed, carried);
        assert_eq!(pl[20 + 3], 0x81, "a GetResp");
    }
    println!("RXE ACCEPTED {} PROBES", answered.len());
}
