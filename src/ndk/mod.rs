//! The NDK provider: `extern "system"` thunks for every dispatch entry, the
//! request-completion model and object lifetimes. The only layer that calls
//! back into the consumer.
//!
//! Files: version negotiation (`version`), the adapter limits (`limits`),
//! the adapter object (`adapter`, `core`, `open`) and its table
//! (`adapter_dispatch`, `query_adapter_info`, `extension`), the object
//! framework (`object`, `object_alloc`), the objects (`pd`, `cq`, `qp`,
//! `srq`, `mr`, `mw`, `listener`, `connector` (+ `connector_active`,
//! `connector_passive`), `shared_endpoint`, with
//! `endpoint` for their addresses), the network runtime (`net`: CM engine,
//! carrier, timer, receive demux; `qp1`: RoCEv2 framing of CM MADs), LAMs (`lam`), MDL chains (`mdl`), SGE
//! checks (`sge`) and the data path's memory access (`memory_access`).

pub mod adapter;
pub mod adapter_dispatch;
pub mod connector;
mod connector_active;
mod connector_passive;
pub mod core;
pub mod cq;
pub(crate) mod datapath;
mod dp_memory;
mod dp_order;
mod dp_status;
mod endpoint;
pub mod extension;
pub mod lam;
pub mod limits;
pub mod listener;
mod mdl;
pub mod memory_access;
pub mod mr;
pub mod mw;
pub mod net;
pub mod object;
pub mod object_alloc;
pub mod open;
pub mod pd;
pub mod qp;
pub(crate) mod qp1;
mod qp_local;
mod qp_post;
pub mod query_adapter_info;
mod sge;
pub mod shared_endpoint;
pub mod srq;
#[cfg(test)]
mod test_support;
pub mod version;

pub use adapter::Adapter;

pub use open::{close_adapter, open_adapter, open_adapter_with_counters};
pub use version::{negotiate_version, NDK_PROVIDER_VERSION};
