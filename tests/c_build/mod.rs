//! Building the C consumers in `tests/c/` against `softroce.h` and the
//! cdylib cargo built, for the tests that run them.

use std::path::{Path, PathBuf};
use std::process::Command;

const MANIFEST_DIR: &str = env!("CARGO_MANIFEST_DIR");

/// `<target>/<profile>/deps`, where cargo put this test and the lib.
pub fn deps_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    exe.parent().expect("deps dir").to_path_buf()
}

/// The cdylib built with the rlib this test links (deps/), else the
/// uplifted one; if neither exists (test binary run by hand), build it.
pub fn cdylib() -> PathBuf {
    let deps = deps_dir();
    let profile_dir = deps.parent().expect("profile dir").to_path_buf();
    let name = "libsoftroce.so";
    for candidate in [deps.join(name), profile_dir.join(name)] {
        if candidate.is_file() {
            return candidate;
        }
    }
    let target_dir = profile_dir.parent().expect("target dir");
    let mut cargo = Command::new(env!("CARGO"));
    cargo
        .args(["build", "--lib", "--manifest-path"])
        .arg(Path::new(MANIFEST_DIR).join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", target_dir);
    if profile_dir.file_name().is_some_and(|n| n == "release") {
        cargo.arg("--release");
    }
    let status = cargo.status().expect("run cargo build --lib");
    assert!(status.success(), "cargo build --lib failed");
    let built = profile_dir.join(name);
    assert!(
        built.is_file(),
        "{} missing after cargo build",
        built.display()
    );
    built
}

pub fn compile_c(lib: &Path, source: &str) -> PathBuf {
    let lib_dir = lib.parent().expect("lib dir");
    let out_dir = deps_dir().join(format!("c-tests-{}", std::process::id()));
    std::fs::create_dir_all(&out_dir).expect("create c-tests dir");
    let stem = Path::new(source).file_stem().expect("source name");
    let exe = out_dir.join(stem);
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let root = Path::new(MANIFEST_DIR);
    let output = Command::new(&cc)
        .args([
            "-std=c11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-pedantic",
            "-O1",
        ])
        .arg("-I")
        .arg(root.join("src/os/hosted"))
        .arg(root.join(source))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", lib_dir.display()))
        .arg("-lsoftroce")
        .arg(format!("-Wl,-rpath,{}", lib_dir.display()))
        .output()
        .unwrap_or_else(|e| panic!("cannot run C compiler {cc:?}: {e}"));
    assert!(
        output.status.success(),
        "C compile failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    exe
}

/// Builds `source` against the cdylib, runs it with the library on its path,
/// removes its build folder and asserts it exited successfully; returns its
/// stdout.
pub fn run_c_consumer(source: &str) -> String {
    let lib = cdylib();
    let exe = compile_c(&lib, source);
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
    stdout
}
