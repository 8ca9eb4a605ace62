//! The import table of a cross-built softroce.sys equals
//! `src/os/windows/expected-imports.txt` (what the kernel glue declares in
//! `imports.rs` and really reaches from DriverEntry), and every import comes
//! from an allowed DLL. Runs when `SOFTROCE_SYS` names the image (after
//! `scripts/cross-build-windows.sh`:
//! `SOFTROCE_SYS=target/windows/dist/softroce.sys cargo test --test windows_imports`);
//! without it the test says it did not check anything. Needs `objdump`
//! (binutils, which the cross-build installs).
//! Owns: this comparison only.

use std::collections::BTreeSet;
use std::process::Command;

const ALLOWED: [&str; 4] = ["ntoskrnl.exe", "hal.dll", "ndis.sys", "netio.sys"];

/// "dll function" pairs from `objdump -p` ("DLL Name: x", then one
/// "\t<vma>\t<hint> <name>" line per function).
fn imports_of(objdump: &str) -> BTreeSet<String> {
    let mut dll = String::new();
    let mut out = BTreeSet::new();
    for line in objdump.lines() {
        if let Some(name) = line.trim_start().strip_prefix("DLL Name: ") {
            dll = name.trim().to_ascii_lowercase();
            continue;
        }
        if line.starts_with("There is an export table") {
            dll.clear();
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        let is_entry = line.starts_with('\t')
            && fields.len() >= 3
            && fields[0].chars().all(|c| c.is_ascii_hexdigit())
            && fields[1].chars().all(|c| c.is_ascii_digit());
        if !dll.is_empty() && is_entry {
            out.insert(format!("{dll} {}", fields[fields.len() - 1]));
        }
    }
    out
}

fn expected() -> BTreeSet<String> {
    let text = include_str!("../src/os/windows/expected-imports.txt");
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_expected_list_is_sorted_and_from_allowed_dlls() {
    let text = include_str!("../src/os/windows/expected-imports.txt");
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    let mut sorted = lines.clone();
    sorted.sort_unstable();
    assert_eq!(lines, sorted, "keep the list sorted");
    for l in &lines {
        let dll = l.split(' ').next().unwrap();
        assert!(ALLOWED.contains(&dll), "{l}: not an allowed DLL");
    }
    assert_eq!(expected().len(), lines.len(), "duplicates");
}

#[test]
fn objdump_parsing() {
    let dump = "\tDLL Name: NDIS.SYS\n\tvma:  Hint/Ord Member-Name Bound-To\n\t12a0\t    0  NdisGetVersion\n\n\tDLL Name: ntoskrnl.exe\n\t12b0\t   12  KeSetTimer\n";
    let got = imports_of(dump);
    let want: BTreeSet<String> = ["ndis.sys NdisGetVersion", "ntoskrnl.exe KeSetTimer"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_built_driver_imports_exactly_the_expected_functions() {
    let Some(path) = std::env::var_os("SOFTROCE_SYS") else {
        eprintln!("SOFTROCE_SYS not set: no softroce.sys checked (see docs/WINDOWS.md)");
        return;
    };
    let out = Command::new("objdump")
        .arg("-p")
        .arg(&path)
        .output()
        .expect("objdump (binutils) runs");
    assert!(out.status.success(), "objdump failed on {path:?}");
    let got = imports_of(&String::from_utf8_lossy(&out.stdout));
    let want = expected();
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "import table differs from src/os/windows/expected-imports.txt:\n missing {missing:?}\n extra {extra:?}"
    );
}
