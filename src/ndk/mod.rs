//! The NDK provider: `extern "system"` thunks for every dispatch entry, the
//! request-completion model and object lifetimes. The only layer that calls
//! back into the consumer.
//!
//! So far: version negotiation (`version`), the adapter limits (`limits`),
//! the adapter object (`adapter`), its dispatch table (`adapter_dispatch`,
//! `query_adapter_info`, `extension`) and open/close (`open`).

pub mod adapter;
pub mod adapter_dispatch;
pub mod extension;
pub mod limits;
pub mod object_alloc;
pub mod open;
pub mod query_adapter_info;
pub mod version;

pub use adapter::Adapter;
pub use open::{close_adapter, open_adapter};
pub use version::{negotiate_version, NDK_PROVIDER_VERSION};
