//! Tests of `softroce decode` through the binary: the rping capture decodes
//! into the message sequence rping's protocol prescribes; JSON and text agree;
//! every other link type gives the same output; broken packets are reported
//! with a non-zero exit; and (when tshark is installed) every field agrees
//! with Wireshark's dissector on both rxe captures.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader, PcapWriter};
use pcap_file::DataLink;
use serde_json::Value;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs `softroce decode [--json] FILE`: (exit code, stdout lines).
fn decode(file: &Path, json: bool) -> (i32, Vec<String>) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_softroce"));
    cmd.arg("decode");
    if json {
        cmd.arg("--json");
    }
    let out = cmd.arg(file).output().expect("run softroce");
    let text = String::from_utf8(out.stdout).expect("utf-8 output");
    (
        out.status.code().unwrap_or(-1),
        text.lines().map(String::from).collect(),
    )
}

fn decode_json(file: &Path) -> (i32, Vec<serde_json::Map<String, Value>>) {
    let (code, lines) = decode(file, true);
    let objs = lines
        .iter()
        .map(|l| match serde_json::from_str(l) {
            Ok(Value::Object(m)) => m,
            other => panic!("not a JSON object: {l}: {other:?}"),
        })
        .collect();
    (code, objs)
}

fn s<'a>(o: &'a serde_json::Map<String, Value>, k: &str) -> &'a str {
    o.get(k).and_then(Value::as_str).unwrap_or("")
}
fn n(o: &serde_json::Map<String, Value>, k: &str) -> u64 {
    o.get(k)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no number {k} in {o:?}"))
}

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

// ---------------------------------------------------------------------------
// Field-by-field comparison with tshark.

/// tshark field for one of our JSON keys, given the CM message (if any).
fn tshark_field(cm: Option<&str>, key: &str) -> Option<&'static str> {
    Some(match (cm, key) {
        (_, "opcode") => "infiniband.bth.opcode",
        (_, "se") => "infiniband.bth.se",
        (_, "m") => "infiniband.bth.m",
        (_, "pad") => "infiniband.bth.padcnt",
        (_, "tver") => "infiniband.bth.tver",
        (_, "pkey") => "infiniband.bth.p_key",
        (_, "dqpn") => "infiniband.bth.destqp",
        (_, "ack") => "infiniband.bth.a",
        (_, "psn") => "infiniband.bth.psn",
        (_, "qkey") => "infiniband.deth.q_key",
        (_, "srcqp") => "infiniband.deth.srcqp",
        (_, "va") => "infiniband.reth.va",
        (_, "rkey") => "infiniband.reth.r_key",
        (_, "dlen") => "infiniband.reth.dmalen",
        (_, "syndrome") => "infiniband.aeth.syndrome",
        (_, "msn") => "infiniband.aeth.msn",
        (_, "imm") => "infiniband.immdt",
        (_, "ieth") => "infiniband.ieth",
        (_, "mad_class") => "infiniband.mad.mgmtclass",
        (_, "mad_method") => "infiniband.mad.method",
        (_, "mad_attr") => "infiniband.mad.attributeid",
        (_, "mad_tid") => "infiniband.mad.transactionid",
        (Some("REQ"), "lcid") => "infiniband.cm.req",
        (Some("REQ"), "sid") => "infiniband.cm.req.serviceid",
        (Some("REQ"), "lqpn") => "infiniband.cm.req.localqpn",
        (Some("REQ"), "spsn") => "infiniband.cm.req.startpsn",
        (Some("REQ"), "mtu") => "infiniband.cm.req.pppmtu",
        (Some("REQ"), "resp_res") => "infiniband.cm.req.responderres",
        (Some("REQ"), "init_depth") => "infiniband.cm.req.initdepth",
        (Some("REQ"), "retry") => "infiniband.cm.req.retrcount",
        (Some("REQ"), "rnr_retry") => "infiniband.cm.req.rnrretrcount",
        (Some("REQ"), "tst") => "infiniband.cm.req.transpsvctype",
        (Some("REQ"), "sgid") => "infiniband.cm.req.prim_localgid_ipv4",
        (Some("REQ"), "dgid") => "infiniband.cm.req.prim_remotegid_ipv4",
        (Some("REQ"), "cma_sport") => "infiniband.cm.req.ip_cm.sport",
        (Some("REQ"), "cma_src") => "infiniband.cm.req.ip_cm.sip4",
        (Some("REQ"), "cma_dst") => "infiniband.cm.req.ip_cm.dip4",
        (Some("REP"), "lcid") => "infiniband.cm.rep",
        (Some("REP"), "rcid") => "infiniband.cm.rep.remotecommid",
        (Some("REP"), "lqpn") => "infiniband.cm.rep.localqpn",
        (Some("REP"), "spsn") => "infiniband.cm.rep.startpsn",
        (Some("REP"), "resp_res") => "infiniband.cm.rep.respres",
        (Some("REP"), "init_depth") => "infiniband.cm.rep.initdepth",
        (Some("REP"), "guid") => "infiniband.cm.rep.localcaguid",
        (Some("RTU"), "lcid") => "infiniband.cm.rtu.localcommid",
        (Some("RTU"), "rcid") => "infiniband.cm.rtu.remotecommid",
        (Some("DREQ"), "lcid") => "infiniband.cm.dreq.localcommid",
        (Some("DREQ"), "rcid") => "infiniband.cm.dreq.remotecommid",
        // Wireshark registers the DREQ's Remote QPN under the REQ's name.
        (Some("DREQ"), "rqpn") => "infiniband.cm.req.remoteqpneecn",
        (Some("DREP"), "lcid") => "infiniband.cm.drsp.localcommid",
        (Some("DREP"), "rcid") => "infiniband.cm.drsp.remotecommid",
        (Some("REJ"), "lcid") => "infiniband.cm.rej.localcommid",
        (Some("REJ"), "rcid") => "infiniband.cm.rej.remotecommid",
        (Some("REJ"), "reason") => "infiniband.cm.rej.reason",
        _ => return None,
    })
}

/// Every tshark field the comparison uses.
fn all_tshark_fields() -> Vec<&'static str> {
    let keys = [
        "opcode",
        "se",
        "m",
        "pad",
        "tver",
        "pkey",
        "dqpn",
        "ack",
        "psn",
        "qkey",
        "srcqp",
        "va",
        "rkey",
        "dlen",
        "syndrome",
        "msn",
        "imm",
        "ieth",
        "mad_class",
        "mad_method",
        "mad_attr",
        "mad_tid",
        "lcid",
        "rcid",
        "sid",
        "lqpn",
        "spsn",
        "mtu",
        "resp_res",
        "init_depth",
        "retry",
        "rnr_retry",
        "tst",
        "sgid",
        "dgid",
        "cma_sport",
        "cma_src",
        "cma_dst",
        "guid",
        "rqpn",
        "reason",
    ];
    let mut fields = Vec::new();
    for cm in [
        None,
        Some("REQ"),
        Some("REP"),
        Some("RTU"),
        Some("DREQ"),
        Some("DREP"),
        Some("REJ"),
    ] {
        for k in keys {
            if let Some(f) = tshark_field(cm, k) {
                if !fields.contains(&f) {
                    fields.push(f);
                }
            }
        }
    }
    fields
}

/// A tshark value as a JSON-comparable value: numbers (hex or decimal) and
/// booleans become numbers, anything else stays a string.
fn tshark_value(v: &str) -> Value {
    if let Some(h) = v.strip_prefix("0x") {
        if let Ok(x) = u64::from_str_radix(h, 16) {
            return Value::from(x);
        }
    }
    match v {
        "True" => Value::from(1u64),
        "False" => Value::from(0u64),
        _ => v
            .parse::<u64>()
            .map(Value::from)
            .unwrap_or_else(|_| Value::from(v)),
    }
}

fn ours_comparable(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::from(u64::from(*b)),
        other => other.clone(),
    }
}

fn compare_with_tshark(name: &str) {
    if Command::new("tshark").arg("-v").output().is_err() {
        println!("SKIPPED: tshark is not on PATH; the tshark comparison of {name} did not run");
        return;
    }
    let fields = all_tshark_fields();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(data(name));
    cmd.args([
        "-Y",
        "udp.dstport == 4791",
        "-T",
        "fields",
        "-E",
        "separator=/t",
        "-E",
        "occurrence=f",
    ]);
    cmd.args(["-e", "frame.number"]);
    for f in &fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(
        out.status.success(),
        "tshark: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut theirs: HashMap<u64, HashMap<&str, Value>> = HashMap::new();
    let stdout = String::from_utf8(out.stdout).unwrap();
    for line in stdout.lines() {
        let mut cols = line.split('\t');
        let frame: u64 = cols.next().unwrap().parse().unwrap();
        let row = fields
            .iter()
            .zip(cols)
            .filter(|(_, v)| !v.is_empty())
            .map(|(f, v)| (*f, tshark_value(v)))
            .collect();
        theirs.insert(frame, row);
    }

    let (code, ours) = decode_json(&data(name));
    assert_eq!(code, 0, "every packet of {name} decodes with a good ICRC");
    assert_eq!(ours.len(), theirs.len(), "same RoCE packets");
    let mut compared = 0usize;
    for o in &ours {
        let frame = n(o, "frame");
        let row = theirs
            .get(&frame)
            .unwrap_or_else(|| panic!("tshark lacks frame {frame}"));
        let cm = o.get("cm").and_then(Value::as_str);
        let mut used = Vec::new();
        for (k, v) in o {
            let Some(f) = tshark_field(cm, k) else {
                continue;
            };
            let t = row
                .get(f)
                .unwrap_or_else(|| panic!("frame {frame}: tshark has no {f} for our {k}"));
            assert_eq!(&ours_comparable(v), t, "frame {frame}: {k} vs {f}");
            used.push(f);
            compared += 1;
        }
        // Nothing tshark decoded is missing from ours.
        for f in row.keys() {
            assert!(used.contains(f), "frame {frame}: tshark has {f}, we do not");
        }
    }
    println!("{name}: {compared} fields agree with tshark");
    assert!(compared > ours.len() * 5);
}

#[test]
fn rping_agrees_with_tshark() {
    compare_with_tshark("rxe-rping.pcap");
}

#[test]
fn verbs_capture_agrees_with_tshark() {
    compare_with_tshark("rxe-verbs.pcap");
}
