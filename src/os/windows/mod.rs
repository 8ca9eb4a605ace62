//! The Windows kernel side of the OS seam, built for `x86_64-pc-windows-msvc`
//! without `hosted`: the driver entry and unload routines, the kernel imports,
//! pool memory for `alloc` and the panic handler.
//!
//! Owns: everything that talks to ntoskrnl/hal/ndis/netio. Must not hold
//! protocol logic (that lives in the `no_std` core) and must not be hidden by a
//! `cfg` from the Linux cross-build (`scripts/cross-build-windows.sh`).
//!
//! Pending (later issues): the NDIS virtual miniport registration
//! (`NdisMRegisterMiniportDriver`), the NDK provider characteristics and
//! `OID_NDK_*`, the carrier, DPCs and timers (the `Platform` trait).

#![warn(clippy::undocumented_unsafe_blocks)]

pub mod alloc;
pub mod entry;
pub mod ffi;
pub mod imports;
pub mod irql;
pub mod panic;
pub mod pool_layout;
pub mod rt;
pub mod spin;

pub use irql::{current_irql, provider_locks_held, report_violation};
pub use spin::{SpinLock, SpinLockGuard};
