//! softroce: a Windows NDK (NDKPI 2.1) provider that turns an ordinary Ethernet
//! NIC into a RoCEv2 RDMA adapter, and the same provider hosted in a user-mode
//! process for tests, tools and interop on Linux.
//!
//! Layers (each calls only the one below it; see `docs/ARCHITECTURE.md`):
//! - [`abi`]: `#[repr(C)]` NDKPI 2.1, NDIS-NDK and NTSTATUS definitions.
//! - [`wire`]: RoCEv2, IB CM and RDMA-CM packet views and reprs, ICRC.
//! - [`transport`]: the sans-IO RC/UD queue pair engine.
//! - [`cm`]: the sans-IO connection manager.
//! - [`verbs`]: the safe object model (PD, CQ, QP, SRQ, MR, MW, LAM).
//! - [`ndk`]: the `extern "system"` dispatch tables a consumer calls.
//! - [`smbd`]: SMB Direct ([MS-SMBD]) framing and credits for NDK consumers
//!   (above the provider; no layer of it calls `smbd`).
//! - [`os`]: the seam to the operating system (hosted on std, or the Windows kernel).
//!
//! The core (`abi`, `wire`, `transport`, `cm`, `verbs`, `ndk`) is `no_std` and has
//! no `cfg(windows)`; only `os` holds platform code.
#![cfg_attr(not(feature = "hosted"), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_debug_implementations)]

extern crate alloc;

pub mod abi;
pub mod cm;
pub mod link;
pub mod ndk;
pub mod os;
pub mod smbd;
pub mod transport;
pub mod verbs;
pub mod wire;
