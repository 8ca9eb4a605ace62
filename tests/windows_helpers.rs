//! Host tests of the pure parts of the Windows kernel glue. `os::windows`
//! compiles only for the kernel target, so the pure files are included here
//! by path under the same module names (`crate::os::windows::...`, with
//! `crate::abi` and the rest of `crate::os` re-exported from the library),
//! which also re-checks their compile-time layout assertions on the host
//! (x86-64 Linux lays out these `repr(C)` types as x64 Windows does).
//! Owns: these checks only.

mod abi {
    pub use softroce::abi::*;
}

mod link {
    pub use softroce::link::MacAddr;
}

#[allow(dead_code, unused_imports, clippy::upper_case_acronyms)]
#[path = "../src/os"]
mod os {
    pub use softroce::os::*;
    #[path = "windows"]
    pub mod windows {
        #[path = "clock.rs"]
        pub mod clock;
        #[path = "ffi.rs"]
        pub mod ffi;
        #[path = "ndis.rs"]
        pub mod ndis;
        #[path = "ndis_protocol.rs"]
        pub mod ndis_protocol;
        #[path = "netio.rs"]
        pub mod netio;
        #[path = "nt.rs"]
        pub mod nt;
        #[path = "lower"]
        pub mod lower {
            #[path = "pairing.rs"]
            pub mod pairing;
        }
        #[path = "page.rs"]
        pub mod page;
        #[path = "seed.rs"]
        pub mod seed;
        #[path = "wsk"]
        pub mod wsk {
            #[path = "gate.rs"]
            pub mod gate;
            #[path = "sockaddr.rs"]
            pub mod sockaddr;
        }
        #[path = "miniport"]
        pub mod miniport {
            #[path = "config.rs"]
            pub mod config;
            #[path = "ndk_state.rs"]
            pub mod ndk_state;
            #[path = "oid_payload.rs"]
            pub mod oid_payload;
        }
    }
}

use core::mem::{offset_of, size_of};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use os::windows::clock::{instant_from_interrupt_time, relative_due_time};
use os::windows::lower::pairing::{PairError, Pairing};
use os::windows::miniport::config::*;
use os::windows::miniport::ndk_state::NdkState;
use os::windows::miniport::oid_payload::*;
use os::windows::ndis::*;
use os::windows::ndis_protocol::NDIS_PROTOCOL_DRIVER_CHARACTERISTICS;
use os::windows::netio::*;
use os::windows::nt::*;
use os::windows::page::{logical_address, span_pages};
use os::windows::seed::mix_seed;
use os::windows::wsk::gate::CloseGate;
use os::windows::wsk::sockaddr;
use softroce::abi::{
    NDIS_NDK_CONNECTIONS, NDIS_NDK_CONNECTION_ENTRY, NDIS_NDK_LOCAL_ENDPOINTS,
    NDIS_NDK_LOCAL_ENDPOINT_ENTRY, NDIS_NDK_PERFORMANCE_COUNTERS, NDIS_NDK_STATISTICS_INFO,
    OID_NDK_SET_STATE, OID_NDK_STATISTICS,
};
use softroce::os::Instant;

// --- clock ---------------------------------------------------------------------

#[test]
fn interrupt_time_units_are_100_ns() {
    assert_eq!(instant_from_interrupt_time(0), Instant::from_nanos(0));
    assert_eq!(instant_from_interrupt_time(7), Instant::from_nanos(700));
    assert_eq!(
        instant_from_interrupt_time(u64::MAX),
        Instant::from_nanos(u64::MAX)
    );
}

#[test]
fn due_time_is_relative_rounded_up_and_never_zero() {
    let now = Instant::from_nanos(1_000_000_000);
    let at = |ns: u64| Instant::from_nanos(1_000_000_000 + ns);
    assert_eq!(relative_due_time(at(1_000_000), now), -10_000);
    assert_eq!(relative_due_time(at(150), now), -2);
    assert_eq!(relative_due_time(at(100), now), -1);
    assert_eq!(relative_due_time(now, now), -1);
    assert_eq!(relative_due_time(Instant::from_nanos(5), now), -1);
}

// --- entropy mixing ------------------------------------------------------------

#[test]
fn seed_mixing_spreads_every_input_bit() {
    let a = mix_seed(&[1, 2, 3, 4]);
    assert_eq!(a, mix_seed(&[1, 2, 3, 4]), "deterministic");
    assert_ne!(mix_seed(&[0; 4]), [0; 32]);
    for (word, bit) in [(0usize, 0u32), (3, 63), (2, 17)] {
        let mut s = [1u64, 2, 3, 4];
        s[word] ^= 1 << bit;
        let b = mix_seed(&s);
        let differing: u32 = a.iter().zip(&b).map(|(x, y)| (x ^ y).count_ones()).sum();
        assert!(
            (80..=176).contains(&differing),
            "one flipped bit changed {differing} of 256 seed bits"
        );
    }
    // Order matters: a permutation of the samples is a different seed.
    assert_ne!(mix_seed(&[1, 2]), mix_seed(&[2, 1]));
}

// --- SOCKADDR and control data ---------------------------------------------------

#[test]
fn sockaddr_in_and_in6_have_the_windows_layout() {
    let v4: SocketAddr = "192.0.2.10:4791".parse().unwrap();
    let (b, n) = sockaddr::encode(v4);
    assert_eq!(n, 16);
    assert_eq!(&b[..8], &[2, 0, 0x12, 0xB7, 192, 0, 2, 10]);
    assert_eq!(&b[8..16], &[0; 8]);
    assert_eq!(sockaddr::decode(&b[..n]), Some(v4));

    let v6 = SocketAddr::V6(std::net::SocketAddrV6::new(
        "fe80::1".parse().unwrap(),
        4791,
        0x0102_0304,
        7,
    ));
    let (b, n) = sockaddr::encode(v6);
    assert_eq!(n, 28);
    assert_eq!(&b[..4], &[23, 0, 0x12, 0xB7]);
    assert_eq!(&b[4..8], &0x0102_0304u32.to_le_bytes());
    assert_eq!(b[8], 0xfe);
    assert_eq!(b[23], 1);
    assert_eq!(&b[24..28], &7u32.to_le_bytes());
    assert_eq!(sockaddr::decode(&b[..n]), Some(v6));

    assert_eq!(sockaddr::decode(&b[..20]), None, "short IPv6");
    let mut other = b;
    other[0] = 17;
    assert_eq!(sockaddr::decode(&other), None, "other family");
    assert_eq!(sockaddr::len_of_family(23), Some(28));
    assert_eq!(sockaddr::len_of_family(2), Some(16));
    assert_eq!(sockaddr::len_of_family(1), None);
}

#[test]
fn pktinfo_is_found_after_other_control_messages() {
    let mut ctl = [0u8; 128];
    let first = sockaddr::cmsg(0xFFFF, 5, &[9, 9, 9], &mut ctl).unwrap();
    assert_eq!(first, 24, "16-byte header + 3 bytes, aligned to 8");
    let dst: Ipv6Addr = "2001:db8::7".parse().unwrap();
    let mut info = [0u8; 20];
    info[..16].copy_from_slice(&dst.octets());
    info[16..].copy_from_slice(&3u32.to_le_bytes());
    let second = sockaddr::cmsg(
        sockaddr::IPPROTO_IPV6,
        sockaddr::IPV6_PKTINFO,
        &info,
        &mut ctl[first..],
    )
    .unwrap();
    let all = &ctl[..first + second];
    assert_eq!(sockaddr::find_pktinfo(all, true), Some(IpAddr::V6(dst)));
    assert_eq!(sockaddr::find_pktinfo(all, false), None);

    let mut v4 = [0u8; 32];
    let n = sockaddr::cmsg(
        sockaddr::IPPROTO_IP,
        sockaddr::IP_PKTINFO,
        &[10, 1, 2, 3, 4, 0, 0, 0],
        &mut v4,
    )
    .unwrap();
    assert_eq!(
        sockaddr::find_pktinfo(&v4[..n], false),
        Some(IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)))
    );

    // A length running past the buffer ends the walk.
    let mut bad = ctl;
    bad[first..first + 8].copy_from_slice(&1000u64.to_le_bytes());
    assert_eq!(sockaddr::find_pktinfo(&bad[..first + second], true), None);
    // A length below the header size too.
    let mut tiny = ctl;
    tiny[..8].copy_from_slice(&4u64.to_le_bytes());
    assert_eq!(sockaddr::find_pktinfo(&tiny[..first + second], true), None);
}

// --- configuration -------------------------------------------------------------------

fn w(s: &str) -> Vec<u16> {
    s.encode_utf16().collect()
}

#[test]
fn keywords_are_the_inf_names_in_utf16() {
    assert_eq!(
        String::from_utf16(&KW_NETWORK_DIRECT).unwrap(),
        "*NetworkDirect"
    );
    assert_eq!(
        String::from_utf16(&KW_ROCE_FRAME_SIZE).unwrap(),
        "*NetworkDirectRoCEFrameSize"
    );
    assert_eq!(
        String::from_utf16(&KW_CARRIER_IP).unwrap(),
        "CarrierIpAddress"
    );
    let inf =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/inf/softroce.inx")).unwrap();
    assert_eq!(
        String::from_utf16(&KW_LOWER_MAC).unwrap(),
        "LowerMacAddress"
    );
    for kw in [
        &KW_NETWORK_DIRECT[..],
        &KW_ROCE_FRAME_SIZE,
        &KW_CARRIER_IP,
        &KW_LOWER_MAC,
    ] {
        let name = String::from_utf16(kw).unwrap();
        assert!(
            inf.contains(&format!("Ndi\\params\\{name},")),
            "{name} not in the INF"
        );
    }
}

#[test]
fn carrier_ip_parsing() {
    assert_eq!(
        parse_carrier_ip(&w("192.0.2.10")),
        Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)))
    );
    let mut with_nul = w(" fe80::1 ");
    with_nul.push(0);
    with_nul.extend(w("junk"));
    assert_eq!(
        parse_carrier_ip(&with_nul),
        Some("fe80::1".parse::<IpAddr>().unwrap())
    );
    assert_eq!(
        parse_carrier_ip(&w("::ffff:10.0.0.1")),
        Some(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))),
        "IPv4-mapped becomes IPv4"
    );
    for bad in [
        "",
        "0.0.0.0",
        "::",
        "224.0.0.1",
        "ff02::1",
        "255.255.255.255",
        "10.0.0",
        "x",
    ] {
        assert_eq!(parse_carrier_ip(&w(bad)), None, "{bad:?}");
    }
    assert_eq!(parse_carrier_ip(&w("10.0.0.1\u{e9}")), None, "non-ASCII");
    assert_eq!(parse_carrier_ip(&[u16::from(b'1'); 100]), None, "too long");
}

#[test]
fn frame_size_and_mtu() {
    for f in [256, 512, 1024, 2048, 4096] {
        assert_eq!(frame_size(Some(f)), f);
    }
    for f in [None, Some(0), Some(1000), Some(8192)] {
        assert_eq!(frame_size(f), 1024);
    }
    assert_eq!(mtu_for_frame(1024), 1500);
    assert_eq!(mtu_for_frame(1280), 1500);
    assert_eq!(mtu_for_frame(2048), 2048 + 128);
    assert_eq!(mtu_for_frame(4096), 4096 + 128);
}

#[test]
fn mac_addresses() {
    assert_eq!(valid_mac(&[0, 1, 2, 3, 4, 5]), Some([0, 1, 2, 3, 4, 5]));
    assert_eq!(valid_mac(&[1, 1, 2, 3, 4, 5]), None, "multicast");
    assert_eq!(valid_mac(&[0; 6]), None);
    assert_eq!(valid_mac(&[2, 1, 2, 3, 4]), None, "short");
    let a = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 10)));
    let b = Some(IpAddr::V4(Ipv4Addr::new(192, 0, 2, 11)));
    let ma = generated_mac(a, [1, 2, 3]);
    assert_eq!(ma, generated_mac(a, [9, 9, 9]), "stable for one address");
    assert_ne!(ma, generated_mac(b, [1, 2, 3]));
    assert_eq!(ma[0], 0x02, "locally administered unicast");
    assert_eq!(&ma[1..3], &[0x53, 0x52]);
    assert_eq!(generated_mac(None, [7, 8, 9]), [2, 0x53, 0x52, 7, 8, 9]);
}

#[test]
fn lower_mac_parsing() {
    let want = Some([0x00, 0x15, 0x5d, 0x01, 0x02, 0xab]);
    for good in [
        "00155D0102AB",
        "00155d0102ab",
        "00-15-5D-01-02-AB",
        "00:15:5d:01:02:ab",
        " 00-15-5D-01-02-AB ",
        "0015-5D01-02AB",
    ] {
        assert_eq!(parse_lower_mac(&w(good)), want, "{good:?}");
    }
    let mut with_nul = w("00155D0102AB");
    with_nul.push(0);
    with_nul.extend(w("junk"));
    assert_eq!(parse_lower_mac(&with_nul), want, "stops at NUL");
    for bad in [
        "",
        "00155D0102A",
        "00155D0102ABC",
        "00155D0102AG",
        "-00155D0102AB",
        "00155D0102AB-",
        "00--155D0102AB",
        "00 15 5D 01 02 AB",
        "01155D0102AB",
        "000000000000",
    ] {
        assert_eq!(parse_lower_mac(&w(bad)), None, "{bad:?}");
    }
    assert_eq!(parse_lower_mac(&w("00155D0102A\u{e9}")), None, "non-ASCII");
    assert_eq!(parse_lower_mac(&[u16::from(b'0'); 100]), None, "too long");
    assert_eq!(AdapterConfig::default().lower_mac, None);
}

// --- OIDs ---------------------------------------------------------------------------

fn info() -> GeneralInfo {
    GeneralInfo {
        permanent_mac: [2, 0x53, 0x52, 1, 2, 3],
        current_mac: [2, 0x53, 0x52, 1, 2, 3],
        mtu: 1500,
        link_speed_bps: 10_000_000_000,
        connected: true,
        packet_filter: 0xB,
        lookahead: 256,
        xmit_discards: 42,
    }
}

fn query(oid: u32, len: usize) -> Result<Vec<u8>, usize> {
    let mut out = vec![0xAAu8; len];
    let a = general_query(oid, &info()).expect("supported");
    a.write(&mut out).map(|n| out[..n].to_vec())
}

#[test]
fn general_queries() {
    assert_eq!(
        query(OID_GEN_MAXIMUM_FRAME_SIZE, 4),
        Ok(1500u32.to_le_bytes().to_vec())
    );
    assert_eq!(
        query(OID_GEN_MAXIMUM_TOTAL_SIZE, 4),
        Ok(1514u32.to_le_bytes().to_vec())
    );
    assert_eq!(
        query(OID_GEN_LINK_SPEED, 4),
        Ok(100_000_000u32.to_le_bytes().to_vec())
    );
    assert_eq!(
        query(OID_GEN_CURRENT_LOOKAHEAD, 4),
        Ok(256u32.to_le_bytes().to_vec())
    );
    assert_eq!(query(OID_GEN_MEDIA_CONNECT_STATUS, 4), Ok(vec![0, 0, 0, 0]));
    assert_eq!(query(OID_GEN_PHYSICAL_MEDIUM, 4), Ok(vec![14, 0, 0, 0]));
    assert_eq!(query(OID_GEN_DRIVER_VERSION, 2), Ok(vec![30, 6]), "6.30");
    assert_eq!(
        query(OID_802_3_CURRENT_ADDRESS, 6),
        Ok(vec![2, 0x53, 0x52, 1, 2, 3])
    );
    assert_eq!(query(OID_802_3_CURRENT_ADDRESS, 5), Err(6), "BytesNeeded");
    assert_eq!(
        query(OID_GEN_VENDOR_DESCRIPTION, 64).unwrap().last(),
        Some(&0)
    );
    assert_eq!(query(OID_GEN_XMIT_OK, 8), Ok(vec![0; 8]));
    assert_eq!(query(OID_GEN_XMIT_OK, 4), Ok(vec![0; 4]), "4-byte counter");
    assert_eq!(query(OID_GEN_XMIT_OK, 2), Err(8));
    let im = query(OID_GEN_INTERRUPT_MODERATION, 12).unwrap();
    assert_eq!(&im[..4], &[0x80, 1, 12, 0]);
    assert_eq!(&im[8..12], &1u32.to_le_bytes(), "not supported");
    assert_eq!(general_query(0x0001_0117, &info()), None, "not supported");
    assert_eq!(
        general_query(OID_NDK_STATISTICS, &info()),
        None,
        "NDK is separate"
    );
    assert!(is_ndk_oid(OID_NDK_STATISTICS) && !is_ndk_oid(OID_GEN_STATISTICS));
    let mut disconnected = info();
    disconnected.connected = false;
    assert_eq!(
        general_query(OID_GEN_MEDIA_CONNECT_STATUS, &disconnected),
        Some(Answer::U32(1))
    );
}

#[test]
fn statistics_info_image() {
    let s = query(OID_GEN_STATISTICS, 1024).unwrap();
    assert_eq!(s.len(), size_of::<NDIS_STATISTICS_INFO>());
    assert_eq!(&s[..4], &[0x80, 1, 0x98, 0]);
    assert_eq!(&s[4..8], &SOFTROCE_SUPPORTED_STATISTICS.to_le_bytes());
    let at = offset_of!(NDIS_STATISTICS_INFO, ifOutDiscards);
    assert_eq!(&s[at..at + 8], &42u64.to_le_bytes());
    assert!(s[8..at].iter().all(|b| *b == 0));
}

#[test]
fn set_oids() {
    let le = |v: u32| v.to_le_bytes();
    assert_eq!(
        parse_set(OID_GEN_CURRENT_PACKET_FILTER, &le(0x9), 1500),
        Ok(SetRequest::PacketFilter(9))
    );
    assert_eq!(
        parse_set(OID_GEN_CURRENT_PACKET_FILTER, &le(0x20), 1500)
            .unwrap_err()
            .status,
        0xC000_00BB,
        "promiscuous is not supported"
    );
    assert_eq!(
        parse_set(OID_GEN_CURRENT_PACKET_FILTER, &[1, 0], 1500),
        Err(SetRefused {
            status: NDIS_STATUS_INVALID_LENGTH,
            bytes_needed: 4
        })
    );
    assert_eq!(
        parse_set(OID_GEN_CURRENT_LOOKAHEAD, &le(1500), 1500),
        Ok(SetRequest::Lookahead(1500))
    );
    assert_eq!(
        parse_set(OID_GEN_CURRENT_LOOKAHEAD, &le(1501), 1500)
            .unwrap_err()
            .status,
        NDIS_STATUS_INVALID_DATA
    );
    assert_eq!(
        parse_set(OID_802_3_MULTICAST_LIST, &[0; 12], 1500),
        Ok(SetRequest::MulticastList(2))
    );
    assert_eq!(
        parse_set(OID_802_3_MULTICAST_LIST, &[0; 13], 1500)
            .unwrap_err()
            .status,
        NDIS_STATUS_INVALID_LENGTH
    );
    assert_eq!(
        parse_set(OID_802_3_MULTICAST_LIST, &[0; 6 * 33], 1500)
            .unwrap_err()
            .status,
        NDIS_STATUS_MULTICAST_FULL
    );
    assert_eq!(
        parse_set(OID_NDK_SET_STATE, &[1], 1500),
        Ok(SetRequest::NdkState(true))
    );
    assert_eq!(
        parse_set(OID_NDK_SET_STATE, &[0], 1500),
        Ok(SetRequest::NdkState(false))
    );
    assert_eq!(
        parse_set(OID_NDK_SET_STATE, &[], 1500)
            .unwrap_err()
            .bytes_needed,
        1
    );
    assert_eq!(
        parse_set(OID_PNP_SET_POWER, &le(1), 1500),
        Ok(SetRequest::Accept)
    );
    assert_eq!(
        parse_set(0x0001_0117, &[], 1500).unwrap_err().status,
        0xC000_00BB
    );
}

#[test]
fn ndk_statistics_image_matches_the_abi_layout() {
    let c = NDIS_NDK_PERFORMANCE_COUNTERS {
        Connect: 1,
        Accept: 2,
        ConnectFailure: 3,
        ConnectionError: 4,
        ActiveConnection: 5,
        CQError: 6,
        RDMAInOctets: 7,
        RDMAOutOctets: 8,
        RDMAInFrames: 9,
        RDMAOutFrames: 10,
        ..Default::default()
    };
    let img = ndk_statistics(&c);
    assert_eq!(img.len(), size_of::<NDIS_NDK_STATISTICS_INFO>());
    assert_eq!(&img[..4], &[0x80, 1, 248, 0]);
    let u64_at = |off: usize| u64::from_le_bytes(img[off..off + 8].try_into().unwrap());
    let base = offset_of!(NDIS_NDK_STATISTICS_INFO, CounterSet);
    for (field, want) in [
        (offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, Connect), 1),
        (
            offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, ActiveConnection),
            5,
        ),
        (offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, Reserved01), 0),
        (offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, CQError), 6),
        (offset_of!(NDIS_NDK_PERFORMANCE_COUNTERS, RDMAOutFrames), 10),
    ] {
        assert_eq!(u64_at(base + field), want);
    }
}

#[test]
fn ndk_connections_and_endpoints_images() {
    let a: SocketAddr = "192.0.2.1:4791".parse().unwrap();
    let b: SocketAddr = "[2001:db8::2]:4791".parse().unwrap();
    let pairs = [(a, b), (b, a)];
    let visit = |f: &mut dyn FnMut(SocketAddr, SocketAddr)| {
        for (l, r) in pairs {
            f(l, r)
        }
    };
    let mut out = vec![0xFFu8; 512];
    let n = ndk_connections(&visit, &mut out).unwrap();
    assert_eq!(n, 16 + 2 * 64);
    assert_eq!(&out[..4], &[0x80, 1, 144, 0]);
    assert_eq!(&out[8..12], &2u32.to_le_bytes(), "Count");
    assert_eq!(out[12], 0, "not TCP-mapped");
    let e1 = offset_of!(NDIS_NDK_CONNECTIONS, Connections) + size_of::<NDIS_NDK_CONNECTION_ENTRY>();
    assert_eq!(
        sockaddr::decode(&out[e1..e1 + 28]),
        Some(b),
        "second entry Local"
    );
    let r1 = e1 + offset_of!(NDIS_NDK_CONNECTION_ENTRY, Remote);
    assert_eq!(sockaddr::decode(&out[r1..r1 + 16]), Some(a));
    assert_eq!(ndk_connections(&visit, &mut [0u8; 100]), Err(144));

    let none = |_: &mut dyn FnMut(SocketAddr, SocketAddr)| {};
    let n = ndk_connections(&none, &mut out).unwrap();
    assert_eq!(n, size_of::<NDIS_NDK_CONNECTIONS>(), "the fixed part");
    assert_eq!(
        &out[2..4],
        &16u16.to_le_bytes(),
        "Header.Size counts no entry"
    );
    assert_eq!(&out[8..12], &0u32.to_le_bytes());

    // Header.Size is capped at MAXUSHORT.
    let many = |f: &mut dyn FnMut(SocketAddr, SocketAddr)| {
        for _ in 0..2000 {
            f(a, b)
        }
    };
    let mut big = vec![0u8; 16 + 2000 * 64];
    assert_eq!(ndk_connections(&many, &mut big), Ok(big.len()));
    assert_eq!(&big[2..4], &[0xFF, 0xFF]);
    assert_eq!(&big[8..12], &2000u32.to_le_bytes());

    let eps = |f: &mut dyn FnMut(SocketAddr, bool)| {
        f(a, true);
        f(b, false);
    };
    let n = ndk_local_endpoints(&eps, &mut out).unwrap();
    assert_eq!(n, 16 + 2 * 36);
    let l0 = offset_of!(NDIS_NDK_LOCAL_ENDPOINTS, LocalEndpoints);
    assert_eq!(
        out[l0 + offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Listener)],
        1
    );
    let l1 = l0 + size_of::<NDIS_NDK_LOCAL_ENDPOINT_ENTRY>();
    assert_eq!(
        out[l1 + offset_of!(NDIS_NDK_LOCAL_ENDPOINT_ENTRY, Listener)],
        0
    );
    assert_eq!(sockaddr::decode(&out[l1..l1 + 28]), Some(b));
}

// --- IoSetCompletionRoutine ------------------------------------------------------------

unsafe extern "system" fn done(
    _d: *mut core::ffi::c_void,
    _i: *mut IRP,
    _c: *mut core::ffi::c_void,
) -> i32 {
    STATUS_MORE_PROCESSING_REQUIRED
}

#[test]
fn completion_routine_goes_into_the_next_stack_location() {
    // An IRP with one stack location, as IoAllocateIrp(1) lays it out: the
    // locations follow the IRP and CurrentStackLocation starts one past the
    // last of them.
    #[repr(C)]
    struct OneLocation {
        irp: IRP,
        loc: IO_STACK_LOCATION,
    }
    let mut m: Box<OneLocation> = Box::new(unsafe { core::mem::zeroed() });
    let end = unsafe { (&mut m.loc as *mut IO_STACK_LOCATION).add(1) };
    m.irp.CurrentStackLocation = end;
    let ctx = 0x1234usize as *mut core::ffi::c_void;
    unsafe { io_set_completion_routine(&mut m.irp, Some(done), ctx, true, true, false) };
    assert_eq!(m.loc.Context, ctx);
    assert_eq!(m.loc.Control, SL_INVOKE_ON_SUCCESS | SL_INVOKE_ON_ERROR);
    assert!(m.loc.CompletionRoutine.is_some());
    unsafe { io_set_completion_routine(&mut m.irp, None, ctx, false, false, true) };
    assert_eq!(m.loc.Control, SL_INVOKE_ON_CANCEL);
    assert!(m.loc.CompletionRoutine.is_none());
}

// --- the WSK carrier's close gate ---------------------------------------------------

#[test]
fn close_gate_sequential_rules() {
    let g = CloseGate::new();
    assert!(!g.close(), "nothing held: no wait");
    assert_eq!(g.enter(), Err(false), "refused, and the one signal is gone");

    let g = CloseGate::new();
    assert_eq!(g.enter(), Ok(()));
    g.add();
    assert!(g.close(), "two references held: wait");
    assert!(g.is_closing());
    assert_eq!(
        g.enter(),
        Err(false),
        "refused while others hold references"
    );
    assert!(!g.leave());
    assert!(g.leave(), "the last holder signals");
}

#[test]
fn close_gate_signals_exactly_once_under_contention() {
    use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
    use std::sync::{Arc, Condvar, Mutex};

    for round in 0..50 {
        let g = Arc::new(CloseGate::new());
        let signals = Arc::new(AtomicU32::new(0));
        let event = Arc::new((Mutex::new(false), Condvar::new()));
        let entered_after = Arc::new(AtomicBool::new(false));
        let signal = {
            let (signals, event) = (signals.clone(), event.clone());
            move || {
                signals.fetch_add(1, Ordering::SeqCst);
                *event.0.lock().unwrap() = true;
                event.1.notify_all();
            }
        };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (g, signal, after) = (g.clone(), signal.clone(), entered_after.clone());
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        match g.enter() {
                            Ok(()) => {
                                g.add(); // the IRP
                                if g.leave() {
                                    signal();
                                }
                                if g.leave() {
                                    signal();
                                }
                            }
                            Err(last) => {
                                if last {
                                    signal();
                                }
                                after.store(true, Ordering::SeqCst);
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_micros(50 * (round % 5)));
        let waited = g.close();
        if waited {
            let (m, cv) = &*event;
            let mut done = m.lock().unwrap();
            while !*done {
                done = cv.wait(done).unwrap();
            }
        }
        for t in threads {
            t.join().unwrap();
        }
        let n = signals.load(Ordering::SeqCst);
        // A closer that had to wait got exactly one signal; one that did
        // not wait got none (and nobody signals a gate already drained).
        assert_eq!(n, u32::from(waited), "round {round}: {n} signals");
        assert!(g.is_closing());
        // After close no reference is ever granted again.
        assert!(g.enter().is_err());
    }
}

// --- page arithmetic of the MDL helpers -------------------------------------------------

#[test]
fn mdl_span_and_logical_addresses() {
    assert_eq!(span_pages(0, 0), 0);
    assert_eq!(span_pages(0, 1), 1);
    assert_eq!(span_pages(0, 4096), 1);
    assert_eq!(span_pages(0, 4097), 2);
    assert_eq!(span_pages(4095, 2), 2, "crosses a page boundary");
    assert_eq!(span_pages(100, 8192), 3);
    assert_eq!(
        span_pages(4096 + 100, 8192),
        3,
        "only the in-page offset counts"
    );
    assert_eq!(logical_address(0x12345), Some(0x1234_5000));
    assert_eq!(
        logical_address(u64::MAX >> 12),
        Some((u64::MAX >> 12) << 12)
    );
    assert_eq!(logical_address(u64::MAX >> 11), None);
}

// --- NDK enable/disable state machine ----------------------------------------------------

/// Runs queued work items on a thread, like NDIS's I/O work items; records
/// the events raised.
fn run_work(s: &NdkState, events: &std::sync::Mutex<Vec<bool>>) {
    loop {
        if let Some(on) = s.next_event() {
            events.lock().unwrap().push(on);
        }
        if !s.finish_pass() {
            break;
        }
    }
    s.exit();
}

#[test]
fn ndk_state_sequential() {
    let ev = std::sync::Mutex::new(Vec::new());
    let s = NdkState::new(true);
    assert!(s.enabled() && !s.busy());
    assert!(s.request(true), "first request queues");
    assert!(!s.request(true), "one work item at a time");
    run_work(&s, &ev);
    assert!(ev.lock().unwrap().is_empty(), "already enabled: no event");
    assert!(s.request(false));
    run_work(&s, &ev);
    assert_eq!(*ev.lock().unwrap(), vec![false]);
    assert!(!s.enabled() && !s.busy());

    let off = NdkState::new(false);
    assert!(!off.enabled());
    assert!(off.request(true));
    run_work(&off, &ev);
    assert!(!off.enabled(), "*NetworkDirect 0 never enables");
    assert_eq!(ev.lock().unwrap().len(), 1, "and raises nothing");
}

#[test]
fn ndk_state_under_contention_settles_on_the_last_request() {
    use std::sync::{Arc, Mutex};
    for round in 0..20u64 {
        let s = Arc::new(NdkState::new(round % 2 == 0));
        let events = Arc::new(Mutex::new(Vec::new()));
        let queue = Arc::new(Mutex::new(0u32));
        let requesters: Vec<_> = (0..3u64)
            .map(|t| {
                let (s, queue) = (s.clone(), queue.clone());
                std::thread::spawn(move || {
                    for i in 0..500u64 {
                        let on = (i * 7 + t * 3 + round) % 3 != 0;
                        if s.request(on) {
                            *queue.lock().unwrap() += 1;
                        }
                    }
                })
            })
            .collect();
        let worker = {
            let (s, events, queue) = (s.clone(), events.clone(), queue.clone());
            std::thread::spawn(move || {
                let mut idle = 0;
                while idle < 2000 {
                    let job = {
                        let mut q = queue.lock().unwrap();
                        assert!(*q <= 1, "two work items queued at once");
                        if *q == 1 {
                            *q = 0;
                            true
                        } else {
                            false
                        }
                    };
                    if job {
                        run_work(&s, &events);
                        idle = 0;
                    } else {
                        idle += 1;
                        std::thread::yield_now();
                    }
                }
            })
        };
        for r in requesters {
            r.join().unwrap();
        }
        worker.join().unwrap();
        // The worker may have given up before the last requester queued.
        if std::mem::take(&mut *queue.lock().unwrap()) == 1 {
            run_work(&s, &events);
        }
        // Quiescent: a final request shows the machine follows it.
        let last = round % 3 == 0;
        if s.request(last) {
            run_work(&s, &events);
        }
        assert!(!s.busy());
        // Without *NetworkDirect (odd rounds) nothing ever enables.
        let configured = round % 2 == 0;
        let want = last && configured;
        assert_eq!(s.enabled(), want, "round {round}");
        let ev = events.lock().unwrap();
        let mut state = configured;
        for e in ev.iter() {
            assert_ne!(
                *e, state,
                "round {round}: two events of the same kind in a row"
            );
            state = *e;
        }
        assert_eq!(state, want, "round {round}: events end in the final state");
    }
}

// --- lower edge: pairing, netio conversions ------------------------------------

#[test]
fn pairing_works_whichever_side_comes_first() {
    let nic_a = [0, 0x15, 0x5d, 1, 2, 3];
    let nic_b = [0, 0x15, 0x5d, 1, 2, 4];
    let mut p: Pairing<&str, u32, 2> = Pairing::new();
    // Adapter first: no partner yet, then the binding finds it.
    let (sa, partner) = p.add_adapter(nic_a, "adapter-a").unwrap();
    assert_eq!(partner, None);
    assert!(p.wanted(nic_a));
    assert!(!p.wanted(nic_b), "no adapter wants nic_b");
    let (sb, partner) = p.add_binding(nic_a, 7).unwrap();
    assert_eq!(partner, Some("adapter-a"));
    // Binding first for nic_b.
    let (sb2, partner) = p.add_binding(nic_b, 8).unwrap();
    assert_eq!(partner, None);
    let (sa2, partner) = p.add_adapter(nic_b, "adapter-b").unwrap();
    assert_eq!(partner, Some(8));
    // Duplicates and a full table are refused.
    assert_eq!(
        p.add_adapter(nic_a, "again").unwrap_err(),
        PairError::Duplicate
    );
    assert_eq!(p.add_binding(nic_b, 9).unwrap_err(), PairError::Duplicate);
    assert_eq!(
        p.add_adapter([2, 0, 0, 0, 0, 1], "third").unwrap_err(),
        PairError::Full
    );
    assert!(p.any_adapter(|a| *a == "adapter-b"));
    assert!(!p.any_adapter(|a| *a == "nobody"));
    // Removing either side names the partner left behind.
    assert_eq!(p.remove_binding(sb), Some((7, Some("adapter-a"))));
    assert_eq!(p.remove_binding(sb), None, "removed once");
    assert_eq!(p.remove_adapter(sa), Some(("adapter-a", None)));
    assert!(!p.wanted(nic_a));
    assert_eq!(p.remove_adapter(sa2), Some(("adapter-b", Some(8))));
    assert_eq!(p.remove_binding(sb2), Some((8, None)));
    assert_eq!(p.remove_adapter(99), None, "bad slot");
    // The freed slots are reusable.
    assert!(p.add_adapter(nic_a, "again").is_ok());
}

#[test]
fn sockaddr_inet_has_the_windows_layout() {
    let v4: IpAddr = "192.0.2.10".parse().unwrap();
    let s = SOCKADDR_INET::from_ip(v4);
    assert_eq!(&s.bytes[..8], &[2, 0, 0, 0, 192, 0, 2, 10]);
    assert_eq!(s.ip(), Some(v4));
    let v6: IpAddr = "fd00::1:2".parse().unwrap();
    let s = SOCKADDR_INET::from_ip(v6);
    assert_eq!(&s.bytes[..2], &[23, 0]);
    assert_eq!(s.bytes[8], 0xfd);
    assert_eq!(s.bytes[23], 2);
    assert_eq!(s.ip(), Some(v6));
    assert_eq!(SOCKADDR_INET::zeroed().ip(), None, "AF_UNSPEC");
    assert_eq!(size_of::<MIB_IPFORWARD_ROW2>(), 104);
    assert_eq!(size_of::<MIB_IPNET_ROW2>(), 88);
    assert_eq!(size_of::<MIB_UNICASTIPADDRESS_ROW>(), 80);
    assert_eq!(size_of::<NDIS_PROTOCOL_DRIVER_CHARACTERISTICS>(), 0x80);
}

#[test]
fn neighbour_rows_give_a_mac_only_when_usable() {
    let mut row = MIB_IPNET_ROW2::zeroed();
    row.PhysicalAddress[..6].copy_from_slice(&[0, 1, 2, 3, 4, 5]);
    row.PhysicalAddressLength = 6;
    for (state, usable) in [
        (0, false),
        (1, false),
        (2, true),
        (4, true),
        (5, true),
        (6, true),
        (7, false),
    ] {
        row.State = state;
        assert_eq!(row.mac().is_some(), usable, "state {state}");
    }
    row.State = 5;
    assert_eq!(row.mac(), Some([0, 1, 2, 3, 4, 5]));
    row.Flags = 0x2;
    assert_eq!(row.mac(), None, "IsUnreachable");
    row.Flags = 0x1;
    assert_eq!(row.mac(), Some([0, 1, 2, 3, 4, 5]), "IsRouter is fine");
    row.PhysicalAddressLength = 8;
    assert_eq!(row.mac(), None, "not Ethernet");
}

fn unicast_row(ip: &str, luid: u64, dad: u32) -> MIB_UNICASTIPADDRESS_ROW {
    // SAFETY: all-zero is a valid row (integers and bytes).
    let mut r: MIB_UNICASTIPADDRESS_ROW = unsafe { std::mem::zeroed() };
    r.Address = SOCKADDR_INET::from_ip(ip.parse().unwrap());
    r.InterfaceLuid = luid;
    r.DadState = dad;
    r
}

#[test]
fn the_ndk_address_prefers_our_preferred_ipv4_then_global_ipv6() {
    let ours = 0x0006_0000_0100_0000u64;
    let other = ours + 1;
    let rows = [
        unicast_row("fe80::1", ours, IP_DAD_STATE_PREFERRED),
        unicast_row("10.0.0.9", other, IP_DAD_STATE_PREFERRED),
        unicast_row("fd00::5", ours, IP_DAD_STATE_PREFERRED),
        unicast_row("10.0.0.5", ours, 1),
        unicast_row("10.0.0.7", ours, IP_DAD_STATE_PREFERRED),
    ];
    assert_eq!(
        pick_interface_address(&rows, ours),
        Some("10.0.0.7".parse().unwrap())
    );
    // Without a preferred IPv4: the global IPv6 (not the link-local one).
    assert_eq!(
        pick_interface_address(&rows[..4], ours),
        Some("fd00::5".parse().unwrap())
    );
    assert_eq!(
        pick_interface_address(&rows[..1], ours),
        None,
        "link-local only"
    );
    assert_eq!(pick_interface_address(&rows, 42), None, "no rows of ours");
}
