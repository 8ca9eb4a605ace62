#!/usr/bin/env bash
# cross-build-windows.sh: builds softroce.sys for x86_64-pc-windows-msvc on a
# Debian (bookworm) Linux host, with no Windows and no WDK. Idempotent; run it
# from anywhere. See docs/WINDOWS.md.
#
#   1. apt: rustc-web, rust-web-src, rust-web-clippy (+ binutils for objdump)
#      in one call if any is missing; their versions must be equal.
#   2. clippy (Debian's clippy-driver) over the kernel build; any diagnostic in
#      src/os/windows or build.rs fails the script.
#   3. cargo (rustup's, or $SOFTROCE_CARGO) with RUSTC=Debian's rustc,
#      RUSTC_BOOTSTRAP=1, -Zbuild-std=core,alloc from rust-web-src (found via
#      rustc's sysroot: /usr/lib/rustlib/src/rust -> /usr/src/rustc-<ver>),
#      --no-default-features, release, target dir target/windows.
#      build.rs adds the driver link flags; the linker is rustup's rust-lld
#      through a symlink named lld-link (so rustc picks the lld-link flavour).
#   4. target/windows/dist/softroce.{sys,pdb,map}, then scripts/check-pe.sh
#      on the .sys and its self-test.
#
# Environment: SOFTROCE_WINDOWS_TARGET_DIR (default <repo>/target/windows),
# SOFTROCE_CARGO (default: cargo on PATH), SOFTROCE_LLD (a rust-lld or
# lld-link binary; default: rustup's rust-lld), SOFTROCE_SKIP_CLIPPY=1.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
target=x86_64-pc-windows-msvc
out=${SOFTROCE_WINDOWS_TARGET_DIR:-$repo/target/windows}
dist=$out/dist
packages=(rustc-web rust-web-src rust-web-clippy binutils)

say() { echo "cross-build: $*"; }
die() { echo "cross-build: error: $*" >&2; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "need root (or sudo) to run: $*"
    fi
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

# 1. Debian's toolchain.
ensure_packages() {
    local missing=() p
    for p in "${packages[@]}"; do installed "$p" || missing+=("$p"); done
    if ((${#missing[@]})); then
        say "installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        # .ci/run sets SOFTROCE_APT_UPDATED=1 after its own apt-get update.
        [[ ${SOFTROCE_APT_UPDATED:-0} == 1 ]] || as_root apt-get update -q
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    fi
    local v_rustc v_src v_clippy
    v_rustc=$(dpkg-query -W -f='${Version}' rustc-web)
    v_src=$(dpkg-query -W -f='${Version}' rust-web-src)
    v_clippy=$(dpkg-query -W -f='${Version}' rust-web-clippy)
    [[ $v_rustc == "$v_src" ]] || die "rustc-web $v_rustc and rust-web-src $v_src differ"
    [[ $v_rustc == "$v_clippy" ]] || die "rustc-web $v_rustc and rust-web-clippy $v_clippy differ"
    say "rustc-web = rust-web-src = rust-web-clippy = $v_rustc"
}

# The rustc binary rustc-web ships (Debian installs it as /usr/bin/rustc).
find_rustc() {
    local r
    r=$(dpkg-query -L rustc-web | grep -E '^/usr/bin/rustc[^/]*$' | grep -v rustdoc | head -n1)
    [[ -n $r && -x $r ]] || die "rustc-web ships no /usr/bin/rustc*"
    echo "$r"
}

ensure_packages
rustc_web=$(find_rustc)
clippy_driver=$(dpkg-query -L rust-web-clippy | grep -E '/bin/clippy-driver$' | head -n1)
sysroot=$("$rustc_web" --print sysroot)
src_root=$sysroot/lib/rustlib/src/rust
[[ -f $src_root/library/core/src/lib.rs ]] || die "no library sources under $src_root (rust-web-src)"
release=$("$rustc_web" -vV | awk '/^release:/ { print $2 }')
src_version=$(basename "$(readlink -f "$src_root")")
[[ $src_version == "rustc-$release" ]] || die "rustc $release but rust-src is $src_version"
say "rustc: $rustc_web ($release), build-std sources: $(readlink -f "$src_root")"

# rust-lld from rustup (any installed toolchain), unless SOFTROCE_LLD is given.
find_lld() {
    if [[ -n ${SOFTROCE_LLD:-} ]]; then
        echo "$SOFTROCE_LLD"
        return
    fi
    local host_rustc cand
    if command -v rustup >/dev/null 2>&1; then
        host_rustc=$(cd "$repo" && rustup which rustc 2>/dev/null || true)
        if [[ -n $host_rustc ]]; then
            cand=$("$host_rustc" --print sysroot)/lib/rustlib/x86_64-unknown-linux-gnu/bin/rust-lld
            [[ -x $cand ]] && { echo "$cand"; return; }
        fi
    fi
    for cand in "${RUSTUP_HOME:-$HOME/.rustup}"/toolchains/*/lib/rustlib/*/bin/rust-lld; do
        [[ -x $cand ]] && { echo "$cand"; return; }
    done
    die "no rust-lld found (install a rustup toolchain, or set SOFTROCE_LLD)"
}
lld=$(find_lld)
mkdir -p "$out/bin" "$dist"
ln -sfn "$lld" "$out/bin/lld-link"
say "linker: $out/bin/lld-link -> $lld"

cargo_bin=${SOFTROCE_CARGO:-cargo}
say "cargo: $(cd "$repo" && "$cargo_bin" -V)"

# RUSTFLAGS would replace the config's +crt-static for the target: refuse it.
unset RUSTFLAGS CARGO_ENCODED_RUSTFLAGS CARGO_BUILD_RUSTFLAGS RUSTC_WRAPPER
export RUSTC=$rustc_web RUSTC_BOOTSTRAP=1
# panic = abort for the kernel (no unwinding in a driver); Cargo.toml keeps
# every profile on unwind for the hosted builds (cargo#6313, see there).
common=(--release --lib --target "$target" --no-default-features
    --config 'profile.release.panic="abort"'
    -Zbuild-std=core,alloc -Zbuild-std-features=compiler-builtins-mem
    --message-format=short)

# Diagnostics that point into our kernel glue fail the build.
own_diagnostics() { grep -E '^(src/os/windows/|build\.rs)[^ ]*: (warning|error)' "$1" || true; }

# 2. clippy over the kernel build.
if [[ ${SOFTROCE_SKIP_CLIPPY:-0} != 1 ]]; then
    say "clippy (clippy-driver $("$clippy_driver" -V | awk '{ print $2 }')) for $target"
    log=$out/clippy.log
    (cd "$repo" && RUSTC_WORKSPACE_WRAPPER=$clippy_driver CARGO_TARGET_DIR=$out/clippy \
        "$cargo_bin" check "${common[@]}") >"$log" 2>&1 || { cat "$log"; die "clippy failed"; }
    grep -E ': (warning|error)' "$log" || true
    found=$(own_diagnostics "$log")
    [[ -z $found ]] || die "clippy diagnostics in the kernel glue:"$'\n'"$found"
fi

# 3. The build.
say "building softroce.sys"
log=$out/build.log
(cd "$repo" && CARGO_TARGET_DIR=$out "$cargo_bin" build "${common[@]}" \
    --config "target.$target.linker=\"$out/bin/lld-link\"") >"$log" 2>&1 || { cat "$log"; die "build failed"; }
grep -E ': (warning|error)|Finished' "$log" || true
found=$(own_diagnostics "$log")
[[ -z $found ]] || die "warnings in the kernel glue:"$'\n'"$found"

# 4. Package and check.
rel=$out/$target/release
cp "$rel/softroce.dll" "$dist/softroce.sys"
cp "$rel/softroce.pdb" "$dist/softroce.pdb"
cp "$rel/deps/softroce.map" "$dist/softroce.map"
say "wrote $dist/softroce.sys ($(stat -c %s "$dist/softroce.sys") bytes), softroce.pdb, softroce.map"
"$repo/scripts/check-pe.sh" "$dist/softroce.sys" "$dist/softroce.map"
"$repo/scripts/check-pe.sh" --self-test "$dist/softroce.sys" "$dist/softroce.map"
say "done: $dist/softroce.sys"
