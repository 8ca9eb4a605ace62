//! Independent cross-check against Wireshark's InfiniBand dissector: the
//! fields softroce parses from every packet of both captures must equal what
//! tshark printed for them. `tests/data/wire-tshark-fields.csv` was made with
//! (tshark 4.x; not needed to run this test):
//!
//! ```text
//! for f in rxe-rping.pcap rxe-verbs.pcap; do tshark -r tests/data/$f -T fields \
//!   -E separator=, -E occurrence=f -e infiniband.bth.opcode -e infiniband.bth.se \
//!   -e infiniband.bth.m -e infiniband.bth.padcnt -e infiniband.bth.tver \
//!   -e infiniband.bth.p_key -e infiniband.bth.destqp -e infiniband.bth.a \
//!   -e infiniband.bth.psn -e infiniband.deth.q_key -e infiniband.deth.srcqp \
//!   -e infiniband.reth.va -e infiniband.reth.r_key -e infiniband.reth.dmalen \
//!   -e infiniband.aeth.syndrome -e infiniband.aeth.msn -e infiniband.invariant.crc; done
//! ```
//!
//! Wireshark reads the ICRC trailer big-endian, so it shows the byte-swapped value.

mod wire_support;

use softroce::wire::ip::RoceDatagram;
use softroce::wire::{frame, PacketRepr, RocePacket};

fn opt<T>(v: Option<T>, f: impl Fn(T) -> String) -> String {
    v.map(f).unwrap_or_default()
}

/// One line in tshark's format for a parsed packet.
fn line(r: &PacketRepr<'_>, icrc: u32) -> String {
    let b = &r.bth;
    let fields = [
        b.opcode.0.to_string(),
        u8::from(b.solicited).to_string(),
        u8::from(b.mig_req).to_string(),
        b.pad_count.to_string(),
        b.tver.to_string(),
        b.pkey.to_string(),
        format!("0x{:06x}", b.dest_qp),
        u8::from(b.ack_req).to_string(),
        b.psn.to_string(),
        opt(r.deth, |d| format!("0x{:016x}", d.qkey)),
        opt(r.deth, |d| format!("0x{:08x}", d.src_qp)),
        opt(r.reth, |x| format!("0x{:016x}", x.va)),
        opt(r.reth, |x| format!("0x{:08x}", x.rkey)),
        opt(r.reth, |x| x.dma_len.to_string()),
        opt(r.aeth, |x| x.syndrome.to_byte().to_string()),
        opt(r.aeth, |x| x.msn.to_string()),
        format!("0x{:08x}", icrc.swap_bytes()),
    ];
    fields.join(",")
}

#[test]
fn fields_match_wireshark_for_every_packet() {
    let expected = std::fs::read_to_string(wire_support::data_path("wire-tshark-fields.csv"))
        .expect("tests/data/wire-tshark-fields.csv");
    let mut got = Vec::new();
    for name in wire_support::CAPTURES {
        for f in wire_support::read_capture(name) {
            let ip = frame::ip_packet(f.link, &f.data).unwrap();
            let d = RoceDatagram::parse(ip).unwrap();
            let r = PacketRepr::parse(d.roce).unwrap();
            got.push(line(&r, RocePacket::new_checked(d.roce).unwrap().icrc()));
        }
    }
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(got.len(), expected.len());
    for (i, (g, e)) in got.iter().zip(&expected).enumerate() {
        assert_eq!(g, e, "packet {} (captures in order)", i + 1);
    }
}
