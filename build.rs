//! Build script.
//!
//! - Windows host with the `wdk` feature (the eWDK flow, `cargo make`): let
//!   `wdk-build` configure the kernel link (it refuses other hosts).
//! - Target Windows without `hosted` and without `wdk` (the Linux cross-build,
//!   `scripts/cross-build-windows.sh`): pass the kernel-driver flags to the
//!   cdylib link, so the linker (rust-lld as lld-link) writes `softroce.sys`.
//! - Anything else (Linux host builds, tests): nothing.
//!
//! Features and the target are read from the environment Cargo sets for build
//! scripts (`CARGO_FEATURE_*`, `CARGO_CFG_TARGET_*`): a build script is
//! compiled for the host, so its own `cfg(windows)` says nothing about the
//! target. `cfg(feature = "wdk")` is visible here, but only paired with the
//! host check that `wdk-build` itself needs.

use std::env;

/// Linker flags of a WDM kernel driver (lld-link / link.exe syntax).
const KERNEL_LINK_ARGS: &[&str] = &[
    "/DRIVER",
    "/SUBSYSTEM:NATIVE",
    "/ENTRY:DriverEntry",
    "/NODEFAULTLIB",
    "/INTEGRITYCHECK",
    "/NXCOMPAT",
    "/DYNAMICBASE",
    "/MACHINE:X64",
    "/OPT:REF",
    "/OPT:ICF",
    "/RELEASE",
    "/MAP",
];

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    let target_os = env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_env = env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let hosted = env::var_os("CARGO_FEATURE_HOSTED").is_some();
    let wdk = env::var_os("CARGO_FEATURE_WDK").is_some();

    #[cfg(all(windows, feature = "wdk"))]
    {
        if target_os == "windows" && !hosted {
            if let Err(e) = wdk_build::configure_wdk_binary_build() {
                panic!("wdk-build could not configure the driver build: {e:?}");
            }
        }
    }

    if target_os == "windows" && target_env == "msvc" && !hosted && !wdk {
        for arg in KERNEL_LINK_ARGS {
            println!("cargo::rustc-cdylib-link-arg={arg}");
        }
    }
}
