//! softroce's lower edge: an NDIS 6.30 protocol driver registered by the
//! same driver as the miniport, bound to the physical Ethernet NIC a
//! softroce adapter names in `LowerMacAddress`. The softroce adapter takes
//! that NIC's MAC and becomes the host's IP interface on it (the MUX
//! design: TCP/IP is unbound from the NIC and bound to softroce; every
//! ordinary frame passes through, RoCEv2 frames for us go to the
//! frame carrier), so NDK consumers such as SMB Direct find the RDMA
//! adapter by the IP address they already use (`docs/WINDOWS.md` §4, §6).
//!
//! Modules: `protocol` (registration, bind/unbind, completions, status,
//! PnP), `binding` (one open binding and its preallocated resources),
//! `link` (the adapter's side: pairing registry, carrier slot, link state,
//! the interface's NDK address), `pairing` (the pure pairing table),
//! `datapath` (pass-through sends and receives, send completion demux,
//! receive classification), `port` (the frame carrier's `LinkPort` and the
//! `os::Carrier` handle), `resolve` (next-hop resolution work item).
//!
//! Owns: everything between the softroce miniport and the NIC's binding.
//! Must not hold protocol logic (`crate::link` builds and classifies
//! frames).

pub mod binding;
pub mod datapath;
pub mod link;
pub mod pairing;
pub mod port;
pub mod protocol;
pub mod resolve;
