//! Symbols the MSVC code generator expects from the C runtime, which a
//! driver linked with `/NODEFAULTLIB` does not have. `memcpy`/`memset` come from
//! `compiler_builtins` (`-Zbuild-std-features=compiler-builtins-mem`) and
//! `__chkstk` from ntoskrnl (declared in `imports.rs`; imported only when a
//! frame over a page needs it).
//!
//! Owns: `_fltused`. Must not grow a CRT. With the `wdk` feature `wdk-sys`
//! defines it, so this one is left out there.

/// LLVM references `_fltused` from every object that touches floating point on
/// MSVC targets; the CRT normally defines it. Its value is never read.
#[cfg(not(feature = "wdk"))]
#[used]
#[no_mangle]
static _fltused: i32 = 0;
