//! Builds `tests/c/open_adapter.c` with the system C compiler against
//! `src/os/hosted/softroce.h`, links it to the `libsoftroce.so` cargo built,
//! runs it, and checks its exit status, its "PASS", that the C layouts equal
//! the Rust ones, and that the info the C program read equals what Rust reads
//! through the same entry points.

use core::mem::size_of;
use core::ptr::null_mut;

use softroce::abi::*;

mod c_build;
mod hosted_open_common;
use c_build::run_c_consumer;
use hosted_open_common::*;

const V21: NDK_VERSION = NDK_VERSION { Major: 2, Minor: 1 };
/// The "info" line the C program prints, formatted from a Rust-side query.
fn rust_info_line(ip: &core::ffi::CStr) -> String {
    let mut adapter = null_mut();
    // SAFETY: NUL-terminated string, writable out pointer.
    let status = unsafe { softroce_open_adapter(ip.as_ptr(), V21, &mut adapter) };
    assert_eq!(status, STATUS_SUCCESS);
    let mut info = core::mem::MaybeUninit::<NDK_ADAPTER_INFO>::uninit();
    let mut size = size_of::<NDK_ADAPTER_INFO>() as u32;
    // SAFETY: open adapter, buffer of `size` bytes.
    let status = unsafe {
        ((*(*adapter).Dispatch).NdkQueryAdapterInfo)(adapter, info.as_mut_ptr(), &mut size)
    };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: filled by the successful query.
    let i = unsafe { info.assume_init() };
    // SAFETY: opened above, closed once.
    unsafe { softroce_close_adapter(adapter) };
    format!(
        "info {} Version={}.{} VendorId={} DeviceId={} MaxRegistrationSize={} \
         MaxWindowSize={} FRMRPageCount={} MaxInitiatorRequestSge={} \
         MaxReceiveRequestSge={} MaxReadRequestSge={} MaxTransferLength={} \
         MaxInlineDataSize={} MaxInboundReadLimit={} MaxOutboundReadLimit={} \
         MaxReceiveQueueDepth={} MaxInitiatorQueueDepth={} MaxSrqDepth={} \
         MaxCqDepth={} LargeRequestThreshold={} MaxCallerData={} MaxCalleeData={} \
         AdapterFlags={} RdmaTechnology={}",
        ip.to_str().expect("ascii"),
        i.Version.Major,
        i.Version.Minor,
        i.VendorId,
        i.DeviceId,
        i.MaxRegistrationSize,
        i.MaxWindowSize,
        i.FRMRPageCount,
        i.MaxInitiatorRequestSge,
        i.MaxReceiveRequestSge,
        i.MaxReadRequestSge,
        i.MaxTransferLength,
        i.MaxInlineDataSize,
        i.MaxInboundReadLimit,
        i.MaxOutboundReadLimit,
        i.MaxReceiveQueueDepth,
        i.MaxInitiatorQueueDepth,
        i.MaxSrqDepth,
        i.MaxCqDepth,
        i.LargeRequestThreshold,
        i.MaxCallerData,
        i.MaxCalleeData,
        i.AdapterFlags,
        i.RdmaTechnology
    )
}

#[test]
fn c_consumer_opens_queries_and_closes() {
    let stdout = run_c_consumer("tests/c/open_adapter.c");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"PASS"), "{stdout}");
    assert!(!stdout.contains("FAIL"), "{stdout}");

    // The C header's layouts equal the Rust ones.
    let rust_sizes = [
        ("NDK_VERSION", size_of::<NDK_VERSION>()),
        ("NDK_OBJECT_HEADER", size_of::<NDK_OBJECT_HEADER>()),
        ("NDK_ADAPTER", size_of::<NDK_ADAPTER>()),
        ("NDK_ADAPTER_DISPATCH", size_of::<NDK_ADAPTER_DISPATCH>()),
        ("NDK_ADAPTER_INFO", size_of::<NDK_ADAPTER_INFO>()),
        (
            "NDK_EXTENSION_INTERFACE",
            size_of::<NDK_EXTENSION_INTERFACE>(),
        ),
        ("GUID", size_of::<GUID>()),
    ];
    for (name, size) in rust_sizes {
        let want = format!("layout {name} {size}");
        assert!(
            lines.contains(&want.as_str()),
            "missing `{want}` in:\n{stdout}"
        );
    }
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("layout ")).count(),
        rust_sizes.len()
    );

    // What C read through the header equals what Rust reads.
    for ip in [c"127.0.0.1", c"::1"] {
        let want = rust_info_line(ip);
        assert!(
            lines.contains(&want.as_str()),
            "missing `{want}` in:\n{stdout}"
        );
    }
}
