//! Conformance from C: builds `tests/c/ndk_objects.c` against `softroce.h`
//! (with `_Static_assert`s on every new layout), runs it against the cdylib
//! and requires its "PASS": PD/CQ/MR/QP through the typed C dispatch
//! tables, a hosted MDL, receive + flush completions, an arm and its
//! notification on the virtual clock, a pending PD close, pool books
//! balanced and no IRQL rule broken.

mod c_build;

use std::process::Command;

#[test]
fn c_consumer_drives_the_objects() {
    let lib = c_build::cdylib();
    let exe = c_build::compile_c(&lib, "tests/c/ndk_objects.c");
    let output = Command::new(&exe)
        .env("LD_LIBRARY_PATH", lib.parent().expect("lib dir"))
        .output()
        .expect("run the C test");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let _ = std::fs::remove_dir_all(exe.parent().expect("out dir"));
    assert!(
        output.status.success(),
        "C test failed ({}):\n{stdout}{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(stdout.lines().last(), Some("PASS"), "{stdout}");
}
