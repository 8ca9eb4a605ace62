//! `#[repr(C)]` NDKPI 2.1, NDIS-NDK and NTSTATUS definitions: types, dispatch
//! tables, constants, with every known size and field offset asserted at
//! compile time (x64 offsets behind `cfg(target_pointer_width = "64")`).
//! Owns the ABI only; must not hold behaviour. Names follow the Windows
//! headers so the code reads like them.
#![allow(non_camel_case_types, non_snake_case, non_upper_case_globals)]
#![deny(unsafe_code)]

pub mod adapter_info;
pub mod callbacks;
pub mod dispatch;
pub mod enums;
pub mod flags;
pub mod ndis;
pub mod sockaddr;
pub mod status;
pub mod types;

pub use adapter_info::*;
pub use callbacks::*;
pub use dispatch::*;
pub use enums::*;
pub use flags::*;
pub use ndis::*;
pub use sockaddr::*;
pub use status::*;
pub use types::*;
