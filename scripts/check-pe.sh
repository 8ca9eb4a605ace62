#!/usr/bin/env bash
# check-pe.sh: checks that a cross-built softroce.sys is a well-formed x64
# kernel driver image, using `objdump -p` (GNU binutils reads pei-x86-64).
#
#   scripts/check-pe.sh softroce.sys [softroce.map]   check one image
#   scripts/check-pe.sh --self-test softroce.sys [softroce.map]
#       check the image, then tamper with copies of it (subsystem, entry point,
#       DLL characteristics, an import's DLL name) and fail unless the check
#       rejects every tampered copy.
#
# Checks: PE32+ for x86-64; subsystem NATIVE (1); AddressOfEntryPoint is
# DriverEntry (its RVA from the lld map file when given, else from the export
# table); DllCharacteristics has NX_COMPAT, DYNAMIC_BASE and FORCE_INTEGRITY;
# relocations are not stripped; no section is both executable and writable;
# a PE checksum is set; every import comes from ntoskrnl.exe, hal.dll,
# ndis.sys or netio.sys (any case). Every imported function is listed.
# Exit status: 0 when all checks pass, 1 otherwise, 2 on usage errors.
set -euo pipefail

ALLOWED_DLLS="ntoskrnl.exe hal.dll ndis.sys netio.sys"
IMAGE_SUBSYSTEM_NATIVE=1
DLLCHAR_DYNAMIC_BASE=0x0040
DLLCHAR_FORCE_INTEGRITY=0x0080
DLLCHAR_NX_COMPAT=0x0100
IMAGE_FILE_RELOCS_STRIPPED=0x0001

usage() {
    echo "usage: $0 [--self-test] IMAGE.sys [IMAGE.map]" >&2
    exit 2
}

objdump_bin() {
    local o
    for o in objdump x86_64-w64-mingw32-objdump; do
        if command -v "$o" >/dev/null 2>&1 && "$o" --help 2>/dev/null | grep -q 'pei-x86-64'; then
            echo "$o"
            return 0
        fi
    done
    echo "check-pe: no objdump that reads pei-x86-64 (install binutils)" >&2
    return 1
}

# Value of a "Name<tabs>hex" line of `objdump -p`, as a decimal number.
header_field() {
    local dump=$1 name=$2 v
    v=$(awk -v n="$name" '$1 == n { print $2; exit }' <<<"$dump")
    v=${v#0x}
    [[ $v =~ ^[0-9a-fA-F]+$ ]] || return 1
    echo $((16#$v))
}

# check_image IMAGE [MAP] -> 0 if every check passes; prints each finding.
check_image() {
    local image=$1 map=${2:-} od dump fail=0
    od=$(objdump_bin)
    if ! dump=$("$od" -p "$image" 2>&1); then
        echo "FAIL: objdump cannot read $image: $dump"
        return 1
    fi
    bad() { echo "FAIL: $*"; fail=1; }
    ok() { echo "ok:   $*"; }

    grep -q 'file format pei-x86-64' <<<"$dump" && ok "format pei-x86-64" || bad "not a pei-x86-64 image"
    local magic
    magic=$(awk '$1 == "Magic" { print $2; exit }' <<<"$dump")
    [[ $magic == 020b ]] && ok "PE32+ (Magic 020b)" || bad "Magic is '$magic', want 020b (PE32+)"

    local subsystem
    subsystem=$(header_field "$dump" Subsystem || echo -1)
    [[ $subsystem -eq $IMAGE_SUBSYSTEM_NATIVE ]] && ok "subsystem NATIVE (1)" \
        || bad "subsystem is $subsystem, want $IMAGE_SUBSYSTEM_NATIVE (NATIVE)"

    local dllchar
    dllchar=$(header_field "$dump" DllCharacteristics || echo 0)
    local name bit
    for name in NX_COMPAT DYNAMIC_BASE FORCE_INTEGRITY; do
        case $name in
            NX_COMPAT) bit=$DLLCHAR_NX_COMPAT ;;
            DYNAMIC_BASE) bit=$DLLCHAR_DYNAMIC_BASE ;;
            FORCE_INTEGRITY) bit=$DLLCHAR_FORCE_INTEGRITY ;;
        esac
        ((dllchar & bit)) && ok "DllCharacteristics has $name" \
            || bad "DllCharacteristics $(printf '0x%04x' "$dllchar") lacks $name"
    done

    local characteristics
    characteristics=$(header_field "$dump" Characteristics || echo 0)
    ((characteristics & IMAGE_FILE_RELOCS_STRIPPED)) \
        && bad "relocations stripped: the kernel cannot relocate the image" \
        || ok "relocatable (RELOCS_STRIPPED clear)"

    local checksum
    checksum=$(header_field "$dump" CheckSum || echo 0)
    [[ $checksum -ne 0 ]] && ok "checksum set ($(printf '0x%08x' "$checksum"))" || bad "PE checksum is 0 (link with /RELEASE)"

    # Sections: objdump -h prints the flags line after each section line.
    local wx
    wx=$("$od" -h "$image" | awk '
        /^ *[0-9]+ / { sec = $2; next }
        /CODE/ && !/READONLY/ { print sec }')
    [[ -z $wx ]] && ok "no writable code section" || bad "writable code section(s): $wx"

    # Entry point = DriverEntry.
    local entry base want=""
    entry=$(header_field "$dump" AddressOfEntryPoint || echo -1)
    base=$(header_field "$dump" ImageBase || echo 0)
    if [[ -n $map ]]; then
        local va
        va=$(awk '$2 == "DriverEntry" && $3 ~ /^[0-9a-fA-F]+$/ { print $3; exit }' "$map")
        if [[ -n $va ]]; then
            want=$((16#$va - base))
            ok "DriverEntry at RVA $(printf '0x%x' "$want") in $(basename "$map")"
        else
            bad "no DriverEntry in map file $map"
        fi
    else
        # Export table: "[   i] +base[ n] RVA Export RVA" then "[   i] Name".
        local idx
        idx=$(awk '/\[Ordinal\/Name Pointer\] Table/ { t = 1; next }
                   t && $NF == "DriverEntry" { gsub(/[][]/, "", $1); print $1 + 0; exit }' <<<"$dump")
        if [[ -n $idx ]]; then
            local rva
            rva=$(awk -v i="$idx" '/^Export Address Table --/ { t = 1; next }
                   t && /Export RVA/ { gsub(/[][]/, " "); n = $1 + 0; if (n == i) { print $(NF - 2); exit } }' <<<"$dump")
            [[ -n $rva ]] && want=$((16#$rva))
        fi
        [[ -n $want ]] && ok "DriverEntry at RVA $(printf '0x%x' "$want") (export table)" \
            || bad "cannot find DriverEntry (no map file and no export)"
    fi
    if [[ -n $want ]]; then
        [[ $entry -eq $want ]] && ok "entry point $(printf '0x%x' "$entry") is DriverEntry" \
            || bad "entry point $(printf '0x%x' "$entry") is not DriverEntry ($(printf '0x%x' "$want"))"
    fi

    # Imports: "DLL Name: x" then one "vma hint name" line per function.
    local imports
    imports=$(awk '
        /^\tDLL Name: / { dll = $3; next }
        /^There is an export table/ { dll = "" }
        dll != "" && /^\t[0-9a-f]+\t/ { print dll, $NF }' <<<"$dump")
    if [[ -z $imports ]]; then
        bad "no imports found"
    fi
    local dlls dll lower allowed
    dlls=$(grep -i -o 'DLL Name: .*' <<<"$dump" | awk '{ print $3 }' | sort -u)
    for dll in $dlls; do
        lower=${dll,,}
        allowed=0
        for a in $ALLOWED_DLLS; do [[ $lower == "$a" ]] && allowed=1; done
        ((allowed)) && ok "imports from $dll" || bad "imports from $dll, which is not one of: $ALLOWED_DLLS"
    done
    echo "imported functions:"
    awk '{ printf "  %-14s %s\n", $1, $2 }' <<<"$imports"

    if ((fail)); then
        echo "check-pe: $image FAILED"
        return 1
    fi
    echo "check-pe: $image passed"
}

# Overwrite `count` bytes at `offset` of `file` with the little-endian `value`.
poke() {
    local file=$1 offset=$2 count=$3 value=$4 i bytes=""
    for ((i = 0; i < count; i++)); do
        bytes+=$(printf '\\x%02x' $(((value >> (8 * i)) & 0xff)))
    done
    printf "$bytes" | dd of="$file" bs=1 seek="$offset" conv=notrunc status=none
}

peek() {
    local file=$1 offset=$2 count=$3
    od -An -t "u$count" -j "$offset" -N "$count" "$file" | tr -d ' '
}

self_test() {
    local image=$1 map=${2:-} tmp opt
    echo "== check-pe self-test: the untampered image must pass"
    check_image "$image" "$map" >/dev/null || { check_image "$image" "$map"; return 1; }
    echo "ok:   untampered image passes"
    tmp=$(mktemp -d)
    # Optional header = e_lfanew + 4 (signature) + 20 (COFF header).
    opt=$(($(peek "$image" 60 4) + 24))
    local dllchar entry
    dllchar=$(peek "$image" $((opt + 70)) 2)
    entry=$(peek "$image" $((opt + 16)) 4)

    local -a names=() failed=()
    tamper() {
        local name=$1
        shift
        cp "$image" "$tmp/$name.sys"
        "$@" "$tmp/$name.sys"
        names+=("$name")
    }
    tamper subsystem-gui poke_subsystem
    tamper no-force-integrity poke_dllchar $((dllchar & ~DLLCHAR_FORCE_INTEGRITY))
    tamper no-nx-compat poke_dllchar $((dllchar & ~DLLCHAR_NX_COMPAT))
    tamper entry-moved poke_entry $((entry + 16))
    tamper import-kernel32 rename_import
    local name
    for name in "${names[@]}"; do
        if check_image "$tmp/$name.sys" "$map" >"$tmp/$name.log" 2>&1; then
            echo "FAIL: tampered copy '$name' passed the check"
            failed+=("$name")
        else
            echo "ok:   tampered copy '$name' rejected: $(grep -m1 '^FAIL' "$tmp/$name.log")"
        fi
    done
    rm -rf "$tmp"
    if ((${#failed[@]})); then
        echo "check-pe self-test FAILED: ${failed[*]}"
        return 1
    fi
    echo "check-pe self-test passed (${#names[@]} tampered copies rejected)"
}
poke_subsystem() { poke "$1" $((opt + 68)) 2 2; }
poke_dllchar() { poke "$2" $((opt + 70)) 2 "$1"; }
poke_entry() { poke "$2" $((opt + 16)) 4 "$1"; }
# Same length, so no offsets move: the import now names a user-mode DLL.
rename_import() { LC_ALL=C perl -0777 -pi -e 's/ntoskrnl\.exe/kernel32.dll/' "$1"; }

main() {
    local selftest=0
    if [[ ${1:-} == --self-test ]]; then
        selftest=1
        shift
    fi
    [[ $# -ge 1 && $# -le 2 ]] || usage
    [[ -f $1 ]] || { echo "check-pe: no such file: $1" >&2; exit 2; }
    [[ -z ${2:-} || -f $2 ]] || { echo "check-pe: no such map file: $2" >&2; exit 2; }
    if ((selftest)); then
        self_test "$@"
    else
        check_image "$@"
    fi
}

main "$@"
