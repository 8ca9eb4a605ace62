//! The rxe rping exchange of `tests/data/rxe-rping.pcap` (REQ, REP, RTU,
//! DREQ, DREP between 10.99.0.12 (client) and 10.99.0.11 (server)): its
//! five QP1 frames and their CM MADs, for the tests that compare what
//! softroce emits with what rxe sent (`cm_capture.rs`, `ndk_conn_wire.rs`).
#![allow(dead_code)]

use pcap_file::pcap::PcapReader;
use softroce::wire::cm::CmMad;
use softroce::wire::mad::MAD_LEN;

/// Ethernet 14 + IPv4 20 + UDP 8: where the RoCE packet (BTH) starts.
pub const ROCE_AT: usize = 42;
/// ... + BTH 12 + DETH 8: where the MAD starts.
pub const MAD_AT: usize = 62;

/// The five UD SEND_ONLY frames to QP1, in capture order.
pub fn frames() -> Vec<Vec<u8>> {
    let path = format!("{}/tests/data/rxe-rping.pcap", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).expect("capture");
    let mut r = PcapReader::new(&bytes[..]).expect("pcap");
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let data = p.expect("packet").data.to_vec();
        if data.get(ROCE_AT) == Some(&0x64) && data.get(47..50) == Some(&[0, 0, 1][..]) {
            out.push(data);
        }
    }
    assert_eq!(out.len(), 5);
    out
}

/// The five QP1 MADs of the capture (IPv4, no VLAN).
pub fn capture_mads() -> Vec<CmMad> {
    frames()
        .iter()
        .map(|f| CmMad::parse_bytes(&f[MAD_AT..MAD_AT + MAD_LEN]).expect("MAD parses"))
        .collect()
}
