//! The Windows kernel side of the OS seam, built for `x86_64-pc-windows-msvc`
//! without `hosted`: the driver entry and unload routines, the kernel imports,
//! pool memory for `alloc` and the panic handler.
//!
//! Owns: everything that talks to ntoskrnl/hal/ndis/netio. Must not hold
//! protocol logic (that lives in the `no_std` core) and must not be hidden by a
//! `cfg` from the Linux cross-build (`scripts/cross-build-windows.sh`).
//!
//! Modules: `entry` (DriverEntry), `miniport` (the NDIS 6.30 virtual miniport
//! and NDK provider), `lower` (the protocol-driver lower edge on the physical
//! NIC: pass-through and the frame carrier's port), `platform` (`os::Platform`: clock, `deferred` DPCs and
//! timers, `entropy`, pool books, the `wsk` carrier, `mdl` mapping),
//! `selftest` (the conformance suite in the kernel), the declarations
//! `ffi`/`nt`/`ndis`/`ndis_protocol`/`netio`/`wsk::types`/`imports`, and the pure helpers the host
//! tests include by path (`clock`, `page`, `seed`, `pool_layout`, `wsk::sockaddr`,
//! `miniport::{config, oid_payload}`, `lower::pairing`, `netio`). See `docs/WINDOWS.md`.

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod alloc;
pub mod clock;
pub mod deferred;
pub mod entropy;
pub mod entry;
pub mod ffi;
pub mod imports;
pub mod irql;
pub mod lower;
pub mod mdl;
pub mod miniport;
pub mod ndis;
pub mod ndis_protocol;
pub mod netio;
pub mod nt;
pub mod page;
pub mod panic;
pub mod platform;
pub mod pool_layout;
pub mod rt;
pub mod seed;
pub mod selftest;
pub mod spin;
pub mod wsk;

pub use irql::{current_irql, provider_locks_held, report_violation};
pub use spin::{SpinLock, SpinLockGuard};
