//! Build script: on a Windows host with the WDK, let `wdk-build` configure the
//! kernel link (it refuses other hosts). Everywhere else there is nothing to do;
//! the Linux cross-build links `softroce.sys` itself (scripts/cross-build-windows.sh).

fn main() {
    println!("cargo::rerun-if-changed=build.rs");
    #[cfg(all(windows, feature = "wdk"))]
    {
        if let Err(e) = wdk_build::configure_wdk_binary_build() {
            panic!("wdk-build could not configure the driver build: {e:?}");
        }
    }
}
