//! The hosted platform (user mode, std): IRQL books, a `std::sync::Mutex`
//! spin lock that raises to DISPATCH_LEVEL in the books, a DPC/timer engine
//! (real worker thread or virtual clock), randomness, the UDP carrier (with a
//! raw IPv4 receive path for the ICRC), the Ethernet frame link (`packet`:
//! the portable frame carrier over `AF_PACKET`) and the simulated network.
//! Exports the compile-time primitive names `os` expects of a platform:
//! `SpinLock`, `SpinLockGuard`, `current_irql`, `provider_locks_held`,
//! `report_violation`. Linux only for now (libc sockets).

mod engine;
pub mod entry;
pub mod entry_stats;
mod gate;
mod irql;
pub mod netns;
pub mod packet;
pub mod pair;
mod platform;
mod random;
pub mod raw;
mod simnet;
mod spin;
mod sys;
mod udp;

pub use engine::VIRTUAL_EPOCH;
pub use irql::{
    current_irql, irql_books, lower_irql, provider_locks_held, raise_irql, report_violation,
    IrqlBooks, Logged,
};
pub use platform::{HostedPlatform, VirtualPlatform};
pub use random::SeededRng;
pub use simnet::{FilterId, SimKnobs, SimNet, SimPredicate, SimStats};
pub use spin::{SpinLock, SpinLockGuard};
pub use udp::RawReceive;
