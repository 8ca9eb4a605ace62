#!/bin/bash
# build-smbdirect-modules.sh - builds ksmbd.ko and cifs.ko for the rxe lab's
# guest kernel with SMB Direct enabled (Debian's 6.1 kernel ships both
# without it: "# CONFIG_SMB_SERVER_SMBDIRECT is not set", "# CONFIG_CIFS_SMB_DIRECT
# is not set", and cifs then fails a -o rdma mount with "CONFIG_CIFS_SMB_DIRECT
# is not enabled"). Everything comes from Debian packages of the guest's
# kernel version: linux-headers-<abi> (installed with apt-get) and
# linux-source-6.1 (downloaded, only fs/smb, fs/internal.h, fs/mount.h and the
# ASN.1 compiler are unpacked). The modules are lab artifacts built from the
# kernel's own sources; nothing of them enters this repository.
# Output: $OUT/ksmbd.ko and $OUT/cifs.ko (debug info stripped).
# Env: RXE_LAB_WORK (/var/tmp/rxe-lab), OUT ($RXE_LAB_WORK/ksmbd-smbdirect),
#      KABI (the guest's `uname -r`, read from $RXE_LAB_WORK/build/kernel-version),
#      KVER (the Debian package version, default: that of linux-headers-$KABI
#      in guest-versions.txt, e.g. 6.1.176-1).
set -euo pipefail
WORK="${RXE_LAB_WORK:-/var/tmp/rxe-lab}"
OUT="${OUT:-$WORK/ksmbd-smbdirect}"
KABI="${KABI:-$(cat "$WORK/build/kernel-version")}"
KVER="${KVER:-$(awk -v p="linux-image-$KABI" '$1 == p {print $2}' "$WORK/build/guest-versions.txt")}"
say() { echo "[smbdirect-modules] $*"; }
# apt_twice LOG CMD...: runs CMD; if it fails (package lists older than the
# guest's kernel version, or never fetched on a fresh machine), refreshes the
# lists once and tries again.
apt_twice() {
  local log=$1; shift
  "$@" > "$log" 2>&1 && return 0
  say "retrying after apt-get update: $*"
  apt-get update -q >> "$log" 2>&1 || true
  "$@" >> "$log" 2>&1 || { tail -5 "$log"; exit 1; }
}
[ -n "$KABI" ] && [ -n "$KVER" ] || { say "cannot tell the guest kernel (KABI=$KABI KVER=$KVER)"; exit 1; }
mkdir -p "$OUT"; cd "$OUT"
if [ -e ksmbd.ko ] && [ -e cifs.ko ] && [ "$(cat built-for 2>/dev/null)" = "$KABI $KVER" ]; then
  say "up to date ($KABI $KVER)"; exit 0
fi
H=/usr/src/linux-headers-$KABI
if [ ! -d "$H" ]; then
  say "installing linux-headers-$KABI=$KVER"
  apt_twice apt-install.log env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "linux-headers-$KABI=$KVER"
fi
SRC=linux-source-$(echo "$KVER" | cut -d. -f1-2)
if [ ! -d "$SRC/fs/smb" ]; then
  say "downloading $SRC=$KVER"
  apt_twice apt-download.log apt-get download "$SRC=$KVER"
  dpkg-deb --fsys-tarfile "${SRC}_${KVER}_all.deb" | tar -x "./usr/src/$SRC.tar.xz"
  tar -xJf "usr/src/$SRC.tar.xz" --wildcards "$SRC/fs/smb/*" "$SRC/fs/internal.h" "$SRC/fs/mount.h" \
    "$SRC/scripts/asn1_compiler.c" "$SRC/include/linux/asn1_ber_bytecode.h" "$SRC/include/linux/asn1.h"
  rm -rf usr "${SRC}_${KVER}_all.deb"
fi
# The headers package has no ASN.1 compiler: build it and generate the decoders.
gcc -O1 -I "$SRC/include" -o asn1_compiler "$SRC/scripts/asn1_compiler.c"
for a in "$SRC"/fs/smb/server/*.asn1 "$SRC"/fs/smb/client/*.asn1; do ./asn1_compiler "$a" "$a.c" "$a.h"; done
# Make sees the option through the command line, C through KCFLAGS (the
# headers' autoconf.h has it unset).
say "building ksmbd.ko (CONFIG_SMB_SERVER_SMBDIRECT=y)"
nice make -C "$H" M="$PWD/$SRC/fs/smb/server" CONFIG_SMB_SERVER=m CONFIG_SMB_SERVER_SMBDIRECT=y \
  KCFLAGS="-DCONFIG_SMB_SERVER_SMBDIRECT=1" modules -j"$(nproc)" > build-ksmbd.log 2>&1 || { tail -20 build-ksmbd.log; exit 1; }
say "building cifs.ko (CONFIG_CIFS_SMB_DIRECT=y)"
nice make -C "$H" M="$PWD/$SRC/fs/smb/client" CONFIG_CIFS=m CONFIG_CIFS_SMB_DIRECT=y \
  KCFLAGS="-DCONFIG_CIFS_SMB_DIRECT=1" modules -j"$(nproc)" > build-cifs.log 2>&1 || { tail -20 build-cifs.log; exit 1; }
strip --strip-debug -o ksmbd.ko "$SRC/fs/smb/server/ksmbd.ko"
strip --strip-debug -o cifs.ko "$SRC/fs/smb/client/cifs.ko"
echo "$KABI $KVER" > built-for
say "done: $OUT/ksmbd.ko $OUT/cifs.ko"
