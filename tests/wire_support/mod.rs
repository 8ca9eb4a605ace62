//! Shared helpers of the `wire_*` integration tests: reading the project's
//! own capture copies under `tests/data/` (pcap or pcapng) into frames.
#![allow(dead_code)]

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use softroce::wire::frame::LinkType;

/// A captured frame with its link type.
pub struct Frame {
    pub link: LinkType,
    pub data: Vec<u8>,
}

/// Path of a file under `tests/data/`.
pub fn data_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("data")
        .join(name)
}

fn link(value: u32) -> LinkType {
    LinkType::from_linktype(value).unwrap_or_else(|| panic!("unhandled linktype {value}"))
}

/// Every frame of a pcap or pcapng capture under `tests/data/`.
pub fn read_capture(name: &str) -> Vec<Frame> {
    let path = data_path(name);
    let mut magic = [0u8; 4];
    File::open(&path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = File::open(&path).unwrap();
    let mut frames = Vec::new();
    if magic == [0x0A, 0x0D, 0x0D, 0x0A] {
        let mut reader = PcapNgReader::new(file).expect("pcapng header");
        let mut interfaces = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.expect("pcapng block") {
                Block::InterfaceDescription(idb) => interfaces.push(link(u32::from(idb.linktype))),
                Block::EnhancedPacket(epb) => {
                    let iface = usize::try_from(epb.interface_id).unwrap();
                    frames.push(Frame {
                        link: *interfaces.get(iface).expect("packet without interface"),
                        data: epb.data.into_owned(),
                    });
                }
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(file).expect("pcap header");
        let link = link(u32::from(reader.header().datalink));
        while let Some(packet) = reader.next_packet() {
            frames.push(Frame {
                link,
                data: packet.expect("pcap record").data.into_owned(),
            });
        }
    }
    frames
}

/// The two captures every wire test checks.
pub const CAPTURES: [&str; 2] = ["rxe-rping.pcap", "rxe-verbs.pcap"];

pub mod strategies;

use softroce::wire::ip::{emit_roce_headers, IpRepr};
use softroce::wire::{icrc, PacketRepr};

/// A whole IP packet (headers, RoCE packet, ICRC filled) built the way the
/// transport will build one.
pub fn build_ip_packet(ip: &IpRepr, src_port: u16, repr: &PacketRepr<'_>) -> Vec<u8> {
    let roce_len = repr.buffer_len();
    let mut out = vec![0u8; ip.header_len() + 8 + roce_len];
    let hl = emit_roce_headers(ip, src_port, roce_len, &mut out).expect("headers");
    assert_eq!(repr.emit(&mut out[hl..]), Ok(roce_len));
    icrc::fill(&mut out).expect("fill");
    out
}
