//! Cross-check of softroce's hand-written kernel layouts against the
//! bindgen output of the WDK headers (`wdk-sys`), for the types wdk-sys
//! generates by default (wdm.h: IRP, IO_STACK_LOCATION, IO_STATUS_BLOCK,
//! KDPC, KTIMER, KEVENT, MDL, DRIVER_OBJECT, UNICODE_STRING). Runs only on a
//! Windows host with the eWDK and the `wdk` feature:
//! `cargo test --no-default-features --features wdk --test windows_bindings`
//! (docs/WINDOWS.md; the hosted platform does not build on Windows, and this
//! test does not use the library: it includes the declarations by path).
//! The NDIS and WSK layouts (ndis.h, wsk.h) are not in wdk-sys's default
//! bindings; they are asserted against PDB dumps in `ndis.rs` / `wsk/types.rs`
//! and checked on the host by `tests/windows_helpers.rs`.
//! Owns: these comparisons only.
#![cfg(all(windows, feature = "wdk"))]

#[allow(dead_code, unused_imports, clippy::upper_case_acronyms)]
#[path = "../src/os"]
mod os {
    #[path = "windows"]
    pub mod windows {
        #[path = "ffi.rs"]
        pub mod ffi;
        #[path = "nt.rs"]
        pub mod nt;
    }
}

use core::mem::{offset_of, size_of};

use os::windows::{ffi, nt};

#[test]
fn wdm_sizes_match_wdk_sys() {
    assert_eq!(size_of::<nt::IRP>(), size_of::<wdk_sys::IRP>());
    assert_eq!(
        size_of::<nt::IO_STACK_LOCATION>(),
        size_of::<wdk_sys::IO_STACK_LOCATION>()
    );
    assert_eq!(
        size_of::<nt::IO_STATUS_BLOCK>(),
        size_of::<wdk_sys::IO_STATUS_BLOCK>()
    );
    assert_eq!(size_of::<nt::KDPC>(), size_of::<wdk_sys::KDPC>());
    assert_eq!(size_of::<nt::KTIMER>(), size_of::<wdk_sys::KTIMER>());
    assert_eq!(size_of::<nt::KEVENT>(), size_of::<wdk_sys::KEVENT>());
    assert_eq!(size_of::<nt::MdlHeader>(), size_of::<wdk_sys::MDL>());
    assert_eq!(
        size_of::<ffi::DRIVER_OBJECT>(),
        size_of::<wdk_sys::DRIVER_OBJECT>()
    );
    assert_eq!(
        size_of::<ffi::UNICODE_STRING>(),
        size_of::<wdk_sys::UNICODE_STRING>()
    );
}

#[test]
fn wdm_offsets_match_wdk_sys() {
    assert_eq!(
        offset_of!(nt::IRP, IoStatus),
        offset_of!(wdk_sys::IRP, IoStatus)
    );
    assert_eq!(
        offset_of!(nt::IRP, MdlAddress),
        offset_of!(wdk_sys::IRP, MdlAddress)
    );
    assert_eq!(
        offset_of!(nt::IRP, StackCount),
        offset_of!(wdk_sys::IRP, StackCount)
    );
    assert_eq!(
        offset_of!(nt::IRP, CurrentLocation),
        offset_of!(wdk_sys::IRP, CurrentLocation)
    );
    assert_eq!(
        offset_of!(nt::IO_STACK_LOCATION, CompletionRoutine),
        offset_of!(wdk_sys::IO_STACK_LOCATION, CompletionRoutine)
    );
    assert_eq!(
        offset_of!(nt::IO_STACK_LOCATION, Context),
        offset_of!(wdk_sys::IO_STACK_LOCATION, Context)
    );
    assert_eq!(
        offset_of!(nt::IO_STACK_LOCATION, Control),
        offset_of!(wdk_sys::IO_STACK_LOCATION, Control)
    );
    assert_eq!(
        offset_of!(nt::IO_STATUS_BLOCK, Information),
        offset_of!(wdk_sys::IO_STATUS_BLOCK, Information)
    );
    assert_eq!(
        offset_of!(nt::MdlHeader, MappedSystemVa),
        offset_of!(wdk_sys::MDL, MappedSystemVa)
    );
    assert_eq!(
        offset_of!(nt::MdlHeader, ByteCount),
        offset_of!(wdk_sys::MDL, ByteCount)
    );
    assert_eq!(
        offset_of!(nt::MdlHeader, ByteOffset),
        offset_of!(wdk_sys::MDL, ByteOffset)
    );
    assert_eq!(
        offset_of!(ffi::DRIVER_OBJECT, DriverUnload),
        offset_of!(wdk_sys::DRIVER_OBJECT, DriverUnload)
    );
    assert_eq!(
        offset_of!(ffi::DRIVER_OBJECT, MajorFunction),
        offset_of!(wdk_sys::DRIVER_OBJECT, MajorFunction)
    );
}
