//! Tests of `softroce decode` through the binary: the rping capture decodes
//! into the message sequence rping's protocol prescribes; JSON and text agree;
//! every other link type gives the same output; broken packets are reported
//! with a non-zero exit; and (when tshark is installed) every field agrees
//! with Wireshark's dissector on both rxe captures.

mod decode_support;

use std::path::{Path, PathBuf};

use decode_support::{compare_with_tshark, data, decode, decode_json, n, s};
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;
use serde_json::Value;

#[test]
fn rping_decodes_in_protocol_order() {
    let (code, pkts) = decode_json(&data("rxe-rping.pcap"));
    assert_eq!(code, 0);
    // rping -C 5 (ROCE-FACTS §4): per iteration the client SENDs its source
    // buffer, the server READs it and SENDs go-ahead, the client SENDs its
    // sink, the server WRITEs it and SENDs go-ahead; every request but the
    // READ is acked by an RC ACK, the READ by its response.
    let iteration = [
        "RC_SEND_ONLY",
        "RC_ACKNOWLEDGE",
        "RC_RDMA_READ_REQUEST",
        "RC_RDMA_READ_RESPONSE_ONLY",
        "RC_SEND_ONLY",
        "RC_ACKNOWLEDGE",
        "RC_SEND_ONLY",
        "RC_ACKNOWLEDGE",
        "RC_RDMA_WRITE_ONLY",
        "RC_ACKNOWLEDGE",
        "RC_SEND_ONLY",
        "RC_ACKNOWLEDGE",
    ];
    let mut want: Vec<String> = ["CM REQ", "CM REP", "CM RTU"].map(String::from).to_vec();
    for _ in 0..5 {
        want.extend(iteration.iter().map(|s| s.to_string()));
    }
    want.extend(["CM DREQ", "CM DREP"].map(String::from));
    let got: Vec<String> = pkts
        .iter()
        .map(|o| match o.get("cm") {
            Some(cm) => format!("CM {}", cm.as_str().unwrap_or("?")),
            None => s(o, "op").to_string(),
        })
        .collect();
    assert_eq!(got, want);

    let client = "10.99.0.12";
    let server = "10.99.0.11";
    for o in &pkts {
        assert_eq!(s(o, "icrc"), "ok", "{o:?}");
        assert_eq!(
            n(o, "frame") as usize,
            pkts.iter().position(|p| p == o).unwrap() + 1
        );
        let from = s(o, "src");
        match s(o, "op") {
            // The server reads from and writes into the client's 64-byte buffers.
            "RC_RDMA_READ_REQUEST" => {
                assert_eq!((from, n(o, "dlen"), n(o, "len")), (server, 64, 0));
            }
            "RC_RDMA_READ_RESPONSE_ONLY" => {
                assert_eq!(
                    (from, n(o, "len"), s(o, "aeth")),
                    (client, 64, "ACK credits=31")
                );
            }
            "RC_RDMA_WRITE_ONLY" => {
                assert_eq!(from, server);
                assert_eq!(n(o, "dlen"), n(o, "len"), "one-packet write");
            }
            // The 16-byte {addr, rkey, size} info message.
            "RC_SEND_ONLY" => assert_eq!(n(o, "len"), 16),
            "RC_ACKNOWLEDGE" => assert_eq!(n(o, "syndrome"), 0x1F),
            _ => {}
        }
    }
    let req = &pkts[0];
    assert_eq!((s(req, "src"), s(req, "dst")), (client, server));
    assert_eq!(n(req, "sid"), 0x0000_0000_0106_1C06);
    assert_eq!((n(req, "ps"), n(req, "port")), (0x0106, 7174));
    assert_eq!((s(req, "cma_src"), s(req, "cma_dst")), (client, server));
    assert_eq!((s(req, "sgid"), s(req, "dgid")), (client, server));
    assert_eq!(
        (n(req, "mtu"), n(req, "resp_res"), n(req, "init_depth")),
        (3, 1, 1)
    );
    let rep = &pkts[1];
    assert_eq!(n(rep, "rcid"), n(req, "lcid"));
    // The passive side sends from the REQ's starting PSN, the active side
    // from the REP's (frame 4 is the client's first SEND, frame 6 the
    // server's first request).
    assert_eq!(n(&pkts[3], "psn"), n(rep, "spsn"));
    assert_eq!(n(&pkts[5], "psn"), n(req, "spsn"));
    assert_eq!(n(&pkts[63], "rqpn"), n(rep, "lqpn"));
}

#[test]
fn text_and_json_carry_the_same_fields() {
    let (c1, text) = decode(&data("rxe-rping.pcap"), false);
    let (c2, json) = decode_json(&data("rxe-rping.pcap"));
    assert_eq!((c1, c2), (0, 0));
    assert_eq!(text.len(), json.len());
    for (line, o) in text.iter().zip(&json) {
        let head = format!(
            "#{} {}:{} -> {}:{} {}",
            n(o, "frame"),
            s(o, "src"),
            n(o, "sport"),
            s(o, "dst"),
            n(o, "dport"),
            s(o, "op")
        );
        assert!(line.starts_with(&head), "{line} / {head}");
        for key in [
            "dqpn", "psn", "ack", "lcid", "rcid", "spsn", "msn", "dlen", "icrc",
        ] {
            let Some(v) = o.get(key) else { continue };
            let want = match v {
                Value::Bool(b) => format!(" {key}={}", u8::from(*b)),
                Value::String(t) => format!(" {key}={t}"),
                Value::Number(x) if ["dqpn", "lcid", "rcid"].contains(&key) => {
                    let w = if key == "dqpn" { 6 } else { 8 };
                    format!(" {key}=0x{:0w$x}", x.as_u64().unwrap())
                }
                Value::Number(x) => format!(" {key}={x}"),
                _ => unreachable!(),
            };
            assert!(line.contains(&want), "{line} lacks {want}");
        }
    }
}

/// Rewrites the rping capture with each Ethernet frame (numbered from 1)
/// turned by `reframe`.
fn rewrite(
    name: &str,
    link: DataLink,
    mut reframe: impl FnMut(usize, &[u8]) -> Vec<u8>,
) -> PathBuf {
    let bytes = std::fs::read(data("rxe-rping.pcap")).unwrap();
    let mut reader = PcapReader::new(&bytes[..]).unwrap();
    let header = PcapHeader {
        datalink: link,
        ..PcapHeader::default()
    };
    let mut writer = PcapWriter::with_header(Vec::new(), header).unwrap();
    let mut number = 0;
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        number += 1;
        let data = reframe(number, &p.data);
        writer
            .write_packet(&PcapPacket::new(p.timestamp, data.len() as u32, &data))
            .unwrap();
    }
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let path = dir.join(format!("{}-{name}.pcap", std::process::id()));
    std::fs::write(&path, writer.into_writer()).unwrap();
    path
}

#[test]
fn linux_cooked_and_raw_ip_decode_like_ethernet() {
    let (_, eth) = decode(&data("rxe-rping.pcap"), false);
    let sll = rewrite("sll", DataLink::LINUX_SLL, |_, f| {
        // packet type, ARPHRD_ETHER, address length 6, address + 2 pad, protocol.
        let mut v = vec![0, 0, 0, 1, 0, 6];
        v.extend_from_slice(&f[6..12]);
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&f[12..]);
        v
    });
    let sll2 = rewrite("sll2", DataLink::LINUX_SLL2, |_, f| {
        // protocol, reserved, ifindex, ARPHRD_ETHER, packet type, addr len, addr.
        let mut v = f[12..14].to_vec();
        v.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6]);
        v.extend_from_slice(&f[6..12]);
        v.extend_from_slice(&[0, 0]);
        v.extend_from_slice(&f[14..]);
        v
    });
    let raw = rewrite("raw", DataLink::RAW, |_, f| f[14..].to_vec());
    for p in [sll, sll2, raw] {
        assert_eq!(decode(&p, false), (0, eth.clone()), "{}", p.display());
        let _ = std::fs::remove_file(p);
    }
}

#[test]
fn broken_packets_are_reported_not_fatal() {
    // Frame 2 gets a flipped payload bit (bad ICRC), frame 4 loses its tail
    // (UDP length beyond the frame), frame 5 gets TVer 1; the rest is intact.
    let path = rewrite("broken", DataLink::ETHERNET, |number, f| {
        let mut d = f.to_vec();
        match number {
            2 => d[100] ^= 0x01,
            4 => d.truncate(50),
            5 => d[42 + 1] |= 0x01,
            _ => {}
        }
        d
    });
    let (code, lines) = decode(&path, false);
    let (jcode, objs) = decode_json(&path);
    let _ = std::fs::remove_file(&path);
    assert_eq!((code, jcode), (1, 1));
    assert_eq!(lines.len(), 65, "every frame still gets a line");
    assert!(lines[1].ends_with("icrc=BAD"), "{}", lines[1]);
    assert!(lines[1].contains("cm=REP"), "still decoded: {}", lines[1]);
    assert!(s(&objs[3], "error").starts_with("IP/UDP"), "{:?}", objs[3]);
    assert_eq!(s(&objs[4], "error"), "unsupported packet", "{:?}", objs[4]);
    let bad: Vec<u64> = objs
        .iter()
        .filter(|o| o.contains_key("error") || s(o, "icrc") == "BAD")
        .map(|o| n(o, "frame"))
        .collect();
    assert_eq!(bad, [2, 4, 5]);
}

#[test]
fn unreadable_input_exits_2() {
    let (code, lines) = decode(Path::new("/nonexistent/x.pcap"), false);
    assert_eq!((code, lines.len()), (2, 0));
    let junk = Path::new(env!("CARGO_TARGET_TMPDIR")).join("junk.pcap");
    std::fs::write(&junk, b"not a capture at all").unwrap();
    assert_eq!(decode(&junk, false).0, 2);
}

#[test]
fn rping_agrees_with_tshark() {
    if let Some(n) = compare_with_tshark(&data("rxe-rping.pcap")) {
        assert!(n > 65 * 8, "only {n} values compared");
    }
}

#[test]
fn verbs_capture_agrees_with_tshark() {
    if let Some(n) = compare_with_tshark(&data("rxe-verbs.pcap")) {
        assert!(n > 1101 * 8, "only {n} values compared");
    }
}

#[test]
fn mutated_frames_never_crash_the_decoder() {
    // 40 mutants of every rping frame: a few random bytes changed, or cut
    // short (xorshift, fixed seed, so failures reproduce).
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let bytes = std::fs::read(data("rxe-rping.pcap")).unwrap();
    let mut reader = PcapReader::new(&bytes[..]).unwrap();
    let mut writer = PcapWriter::new(Vec::new()).unwrap();
    let mut count = 0;
    while let Some(p) = reader.next_packet() {
        let p = p.unwrap();
        for _ in 0..40 {
            let mut d = p.data.to_vec();
            if next() % 4 == 0 {
                d.truncate((next() % d.len() as u64) as usize);
            } else {
                for _ in 0..=next() % 4 {
                    // Mostly the headers and the MAD, where the parsers are.
                    let at = (next() % d.len().min(120) as u64) as usize;
                    d[at] = next() as u8;
                }
            }
            writer
                .write_packet(&PcapPacket::new(p.timestamp, d.len() as u32, &d))
                .unwrap();
            count += 1;
        }
    }
    let path =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{}-mutants.pcap", std::process::id()));
    std::fs::write(&path, writer.into_writer()).unwrap();
    let (code, text) = decode(&path, false);
    let (jcode, objs) = decode_json(&path);
    let _ = std::fs::remove_file(&path);
    assert!(code == 0 || code == 1, "exit {code}: the decoder crashed");
    assert_eq!(code, jcode);
    assert_eq!(text.len(), objs.len());
    assert!(
        text.len() > count / 2,
        "most mutants are still RoCE packets"
    );
    assert!(text.iter().all(|l| l.starts_with('#')));
    let broken = objs
        .iter()
        .filter(|o| o.contains_key("error") || s(o, "icrc") == "BAD")
        .count();
    assert!(broken > 0 && code == 1, "mutants must be reported");
}
