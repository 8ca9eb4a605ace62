//! `#[repr(C)]` NDKPI 2.1, NDIS-NDK and NTSTATUS definitions: types, dispatch
//! tables, constants, with every known size and field offset asserted at
//! compile time. Owns the ABI only; must not hold behaviour.
