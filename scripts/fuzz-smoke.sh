#!/usr/bin/env bash
# Runs every cargo-fuzz target under fuzz/ for N seconds each (default 30) and
# fails if any target crashes. Installs cargo-fuzz if it is missing. Uses a
# nightly toolchain when rustup has one, else RUSTC_BOOTSTRAP=1 on stable
# (cargo fuzz needs -Z flags for the sanitizer).
#   usage: scripts/fuzz-smoke.sh [seconds] [target...]
#   env:   FUZZ_TOOLCHAIN=stable  use that toolchain (+ RUSTC_BOOTSTRAP=1)
set -euo pipefail

secs=${1:-30}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root/fuzz"

say() { printf 'fuzz-smoke: %s\n' "$*" >&2; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    say "installing cargo-fuzz"
    cargo install cargo-fuzz --locked
fi

# FUZZ_TOOLCHAIN=stable (or any non-nightly name) forces the RUSTC_BOOTSTRAP path.
toolchain=()
if [[ -n ${FUZZ_TOOLCHAIN:-} ]]; then
    toolchain=("+$FUZZ_TOOLCHAIN")
    [[ $FUZZ_TOOLCHAIN == nightly* ]] || export RUSTC_BOOTSTRAP=1
elif rustup toolchain list 2>/dev/null | grep -q '^nightly'; then
    toolchain=(+nightly)
else
    export RUSTC_BOOTSTRAP=1
fi
say "toolchain: ${toolchain[*]:-default}${RUSTC_BOOTSTRAP:+ with RUSTC_BOOTSTRAP=1}"

if [[ $# -gt 0 ]]; then
    targets=("$@")
else
    mapfile -t targets < <(cargo "${toolchain[@]}" fuzz list)
fi
[[ ${#targets[@]} -gt 0 ]] || { say "no fuzz targets"; exit 1; }

# Seeds: every frame of the project's captures, whole (Ethernet), VLAN-tagged,
# as its UDP payload and re-framed in IPv6 (raw IP, ICRC recomputed), so
# libFuzzer starts from real RoCEv2 packets on every path.
seed() {
    python3 - "$1" "$root"/tests/data/*.pcap <<'PY'
import os, struct, sys, zlib
out = sys.argv[1]
def frames(path):
    b = open(path, 'rb').read()
    if b[:4] == b'\x0a\x0d\x0d\x0a':            # pcapng: enhanced packet blocks
        e = '<' if b[8:12] == b'\x4d\x3c\x2b\x1a' else '>'
        i = 0
        while i + 12 <= len(b):
            t, n = struct.unpack(e + 'II', b[i:i + 8])
            if t == 6:
                cap = struct.unpack(e + 'I', b[i + 20:i + 24])[0]
                yield b[i + 28:i + 28 + cap]
            i += max(n, 12)
    else:                                       # pcap
        e = '<' if b[:4] in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1') else '>'
        i = 24
        while i + 16 <= len(b):
            cap = struct.unpack(e + 'I', b[i + 8:i + 12])[0]
            yield b[i + 16:i + 16 + cap]
            i += 16 + cap
def icrc(ip, udp, roce):
    # The RoCEv2 ICRC (docs/WIRE.md): masked headers after 8 x 0xFF, LSB first.
    ip = bytearray(ip); udp = bytearray(udp); bth = bytearray(roce[:12])
    if ip[0] >> 4 == 4:
        ip[1] = ip[8] = 0xff; ip[10:12] = b'\xff\xff'
    else:
        ip[0] |= 0x0f; ip[1:4] = b'\xff\xff\xff'; ip[7] = 0xff
    udp[6:8] = b'\xff\xff'; bth[4] = 0xff
    crc = zlib.crc32(b'\xff' * 8 + bytes(ip) + bytes(udp) + bytes(bth) + roce[12:-4])
    return struct.pack('<I', crc)
def ipv6_of(f):
    # The same UDP datagram in IPv6 (raw IP), ICRC recomputed.
    ip4 = f[14:34]; udp = f[34:42]; roce = f[42:14 + struct.unpack('!H', ip4[2:4])[0]]
    hdr = struct.pack('!IHBB', (6 << 28) | (ip4[1] << 20), len(udp) + len(roce), 17, ip4[8])
    hdr += b'\xfe\x80' + b'\x00' * 10 + ip4[12:16] + b'\xfe\x80' + b'\x00' * 10 + ip4[16:20]
    return hdr + udp + roce[:-4] + icrc(hdr, udp, roce)
n = 0
for path in sys.argv[2:]:
    for k, f in enumerate(frames(path)):
        name = '%s-%04d' % (os.path.basename(path), k)
        open(os.path.join(out, name), 'wb').write(f)
        if len(f) > 42 and f[12:14] == b'\x08\x00':
            open(os.path.join(out, name + '-udp'), 'wb').write(f[42:])
            open(os.path.join(out, name + '-ipv6'), 'wb').write(ipv6_of(f))
            vlan = f[:12] + b'\x81\x00\x00\x05' + f[12:]
            open(os.path.join(out, name + '-vlan'), 'wb').write(vlan)
        n += 1
print('fuzz-smoke: seeded %d frames' % n, file=sys.stderr)
PY
}

status=0
for t in "${targets[@]}"; do
    mkdir -p "corpus/$t"
    if [[ -z $(ls -A "corpus/$t") ]]; then
        seed "corpus/$t"
    fi
    say "$t: ${secs}s"
    if ! cargo "${toolchain[@]}" fuzz run "$t" "corpus/$t" -- \
        -max_total_time="$secs" -max_len=4096 -print_final_stats=1; then
        say "$t: FAILED (see fuzz/artifacts/$t)"
        status=1
    fi
done
exit $status
