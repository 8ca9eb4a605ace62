//! Reading pcap and pcapng files frame by frame with their link types.
//! Owns file access for the tools; must not decode packets.

use std::path::Path;

use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};
use softroce::wire::frame::LinkType;

/// The pcapng section header magic (also its first block type).
const PCAPNG_MAGIC: [u8; 4] = [0x0A, 0x0D, 0x0D, 0x0A];

/// Calls `each(frame_number, link_type, bytes)` for every frame of the
/// capture at `path` (numbered from 1 as Wireshark does). A frame whose link
/// type softroce does not handle is passed with `None`.
pub fn for_each_frame(
    path: &Path,
    mut each: impl FnMut(u64, Option<LinkType>, &[u8]),
) -> Result<(), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let err = |e: pcap_file::PcapError| format!("{}: {e}", path.display());
    let mut number = 0u64;
    if bytes.starts_with(&PCAPNG_MAGIC) {
        let mut reader = PcapNgReader::new(&bytes[..]).map_err(err)?;
        let mut links: Vec<Option<LinkType>> = Vec::new();
        while let Some(block) = reader.next_block() {
            let (iface, data) = match block.map_err(err)? {
                Block::SectionHeader(_) => {
                    links.clear();
                    continue;
                }
                Block::InterfaceDescription(idb) => {
                    links.push(LinkType::from_linktype(u32::from(idb.linktype)));
                    continue;
                }
                Block::EnhancedPacket(p) => (p.interface_id as usize, p.data),
                Block::SimplePacket(p) => (0, p.data),
                Block::Packet(p) => (usize::from(p.interface_id), p.data),
                _ => continue,
            };
            number += 1;
            each(number, links.get(iface).copied().flatten(), &data);
        }
    } else {
        let mut reader = PcapReader::new(&bytes[..]).map_err(err)?;
        let link = LinkType::from_linktype(u32::from(reader.header().datalink));
        while let Some(packet) = reader.next_packet() {
            let packet = packet.map_err(err)?;
            number += 1;
            each(number, link, &packet.data);
        }
    }
    Ok(())
}
