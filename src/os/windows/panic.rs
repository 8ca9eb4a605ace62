//! The panic handler of the kernel build: a panic in the driver is a bug, so
//! it stops the machine with `KeBugCheckEx(SOFTROCE_BUGCHECK, line, column,
//! file, file_len)`, which a crash dump shows. With the `wdk` feature (the
//! eWDK build on Windows) `wdk-panic` provides the handler instead.
//!
//! Owns: `#[panic_handler]`. Must not allocate or format (any IRQL).

#[cfg(not(feature = "wdk"))]
#[panic_handler]
/// IRQL: any.
fn panic(info: &core::panic::PanicInfo<'_>) -> ! {
    use super::ffi::SOFTROCE_BUGCHECK;
    use super::imports::KeBugCheckEx;

    let (line, column, file) = match info.location() {
        Some(loc) => (loc.line() as usize, loc.column() as usize, loc.file()),
        None => (0, 0, ""),
    };
    // SAFETY: KeBugCheckEx may be called at any IRQL and never returns; the
    // parameters are plain numbers and a pointer into the image's rodata.
    unsafe {
        KeBugCheckEx(
            SOFTROCE_BUGCHECK,
            line,
            column,
            file.as_ptr() as usize,
            file.len(),
        )
    }
}

#[cfg(feature = "wdk")]
use wdk_panic as _;
