//! Conformance from C: builds `tests/c/ndk_objects.c` against `softroce.h`
//! (with `_Static_assert`s on every new layout), runs it against the cdylib
//! and requires its "PASS": PD/CQ/MR/QP through the typed C dispatch
//! tables, a hosted MDL, receive + flush completions, an arm and its
//! notification on the virtual clock, a pending PD close, pool books
//! balanced and no IRQL rule broken.

mod c_build;

#[test]
fn c_consumer_drives_the_objects() {
    let stdout = c_build::run_c_consumer("tests/c/ndk_objects.c");
    assert_eq!(stdout.lines().last(), Some("PASS"), "{stdout}");
}
