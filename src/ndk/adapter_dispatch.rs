//! The provider's NDK_ADAPTER_DISPATCH table: which function serves each
//! entry. Owns the table's contents; the entries live with their objects
//! (`cq.rs`, `pd.rs`, `listener.rs`, `connector.rs`, `shared_endpoint.rs`, `lam.rs`, `query_adapter_info.rs`,
//! `extension.rs`).

use crate::abi::NDK_ADAPTER_DISPATCH;

use super::connector::ndk_create_connector;
use super::cq::ndk_create_cq;
use super::extension::ndk_query_extension;
use super::lam::{ndk_build_lam, ndk_release_lam};
use super::listener::ndk_create_listener;
use super::pd::ndk_create_pd;
use super::query_adapter_info::ndk_query_adapter_info;
use super::shared_endpoint::ndk_create_shared_endpoint;

/// The table every adapter's `Dispatch` points to, in ABI order.
pub static ADAPTER_DISPATCH: NDK_ADAPTER_DISPATCH = NDK_ADAPTER_DISPATCH {
    NdkQueryExtension: ndk_query_extension,
    NdkQueryAdapterInfo: ndk_query_adapter_info,
    NdkCreateCq: ndk_create_cq,
    NdkCreatePd: ndk_create_pd,
    NdkCreateSharedEndpoint: ndk_create_shared_endpoint,
    NdkCreateConnector: ndk_create_connector,
    NdkCreateListener: ndk_create_listener,
    NdkBuildLAM: ndk_build_lam,
    NdkReleaseLAM: ndk_release_lam,
};
