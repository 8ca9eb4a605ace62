//! Shared helpers of the `decode_*` tests: running `softroce decode` and
//! comparing its JSON output field by field with tshark.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub type Obj = serde_json::Map<String, Value>;

pub fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs `softroce decode [--json] FILE`: (exit code, stdout lines).
pub fn decode(file: &Path, json: bool) -> (i32, Vec<String>) {
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

pub fn decode_json(file: &Path) -> (i32, Vec<Obj>) {
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

pub fn s<'a>(o: &'a Obj, k: &str) -> &'a str {
    o.get(k).and_then(Value::as_str).unwrap_or("")
}
pub fn n(o: &Obj, k: &str) -> u64 {
    o.get(k)
        .and_then(Value::as_u64)
        .unwrap_or_else(|| panic!("no number {k} in {o:?}"))
}

// ---------------------------------------------------------------------------
// Field-by-field comparison with tshark.

/// tshark field for one of our JSON keys, given the CM message (if any) and
/// whether the value is an IPv6 address.
pub fn tshark_field(cm: Option<&str>, key: &str, v6: bool) -> Option<&'static str> {
    Some(match (cm, key) {
        (Some("REQ"), "sgid") if v6 => "infiniband.cm.req.prim_localgid",
        (Some("REQ"), "dgid") if v6 => "infiniband.cm.req.prim_remotegid",
        (Some("REQ"), "cma_src") if v6 => "infiniband.cm.req.ip_cm.sip6",
        (Some("REQ"), "cma_dst") if v6 => "infiniband.cm.req.ip_cm.dip6",
        (_, "swap") => "infiniband.atomiceth.swapdt",
        (_, "cmp") => "infiniband.atomiceth.cmpdt",
        (_, "orig") => "infiniband.atomicacketh.origremdt",
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
pub fn all_tshark_fields() -> Vec<&'static str> {
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
        "swap",
        "cmp",
        "orig",
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
            for v6 in [false, true] {
                if let Some(f) = tshark_field(cm, k, v6) {
                    if !fields.contains(&f) {
                        fields.push(f);
                    }
                }
            }
        }
    }
    fields
}

/// tshark fields that are byte strings (printed as bare hex digits).
const BYTE_FIELDS: &[&str] = &["infiniband.immdt", "infiniband.ieth"];

/// A tshark value of field `f` as a JSON-comparable value: numbers (hex or
/// decimal) and booleans become numbers, anything else stays a string.
pub fn tshark_value(f: &str, v: &str) -> Value {
    if BYTE_FIELDS.contains(&f) {
        if let Ok(x) = u64::from_str_radix(&v.replace(':', ""), 16) {
            return Value::from(x);
        }
    }
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

pub fn ours_comparable(v: &Value) -> Value {
    match v {
        Value::Bool(b) => Value::from(u64::from(*b)),
        other => other.clone(),
    }
}

/// Compares every field of `softroce decode --json FILE` that has a tshark
/// counterpart with tshark's value, both ways. Returns how many values
/// agreed, or `None` (after printing SKIPPED) without tshark.
pub fn compare_with_tshark(file: &Path) -> Option<usize> {
    let name = file.display();
    if Command::new("tshark").arg("-v").output().is_err() {
        println!("SKIPPED: tshark is not on PATH; the tshark comparison of {name} did not run");
        return None;
    }
    let fields = all_tshark_fields();
    let mut cmd = Command::new("tshark");
    cmd.arg("-r").arg(file);
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
            .map(|(f, v)| (*f, tshark_value(f, v)))
            .collect();
        theirs.insert(frame, row);
    }

    let (code, ours) = decode_json(file);
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
            let v6 = v.as_str().is_some_and(|t| t.contains(':'));
            let Some(f) = tshark_field(cm, k, v6) else {
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
    Some(compared)
}

/// Writes `packets` (whole IP packets) to a raw-IP pcap under the test's
/// temporary directory, 1 ms apart, and returns its path (`tag` names it).
pub fn write_raw_ip_pcap(packets: &[Vec<u8>], tag: &str) -> PathBuf {
    use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
    use pcap_file::DataLink;
    let header = PcapHeader {
        datalink: DataLink::RAW,
        ..PcapHeader::default()
    };
    let mut w = PcapWriter::with_header(Vec::new(), header).unwrap();
    for (i, p) in packets.iter().enumerate() {
        let ts = std::time::Duration::from_millis(i as u64);
        w.write_packet(&PcapPacket::new(ts, p.len() as u32, p))
            .unwrap();
    }
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{}-{tag}.pcap", std::process::id()));
    std::fs::write(&path, w.into_writer()).unwrap();
    path
}
