#!/bin/bash
# run-interop.sh - softroce against Linux rdma_rxe, live (root).
# Boots one rxe guest (g1, 10.99.0.11) of the rxe lab inside netns "rxelab"
# and runs softroce on the namespace side (10.99.0.1, br0):
#   A  rxe `rping -c`            vs `softroce rping -s`   (each size)
#   B  `softroce rping -c`       vs rxe `rping -s`        (each size)
#   C  `rdma_client` vs `softroce rdma-server`, and the reverse (RDMA_CM_EXAMPLES=1)
#   D  `ibv_rc_pingpong` vs `softroce rc-pingpong`, both ways (RC_PINGPONG=1)
#   E  `softroce smbd-probe` vs Linux ksmbd's SMB Direct (RDMA) transport
#      (SMBD=1), and with CIFS_CONTROL=1 the kernel cifs client -o rdma
#      against the same ksmbd as a control (printed, not in the verdict)
# Every run is captured on br0, decoded with `softroce decode` and checked
# (capture_check.py: no bad ICRC / malformed / unknown opcode, <= 1% retransmitted).
# Prints per-scenario figures and "VERDICT <scenario>: PASS|FAIL"; exit 0 iff all pass,
# 2 if the lab cannot run here (not root, no lab and cannot build it).
# Env: SIZES (default "64 1024 4000 65535"), COUNT (100), TIMEOUT (guest, s, 900),
#      RXE_LAB (lab scripts; default ../shared/rxe-lab beside the project, then
#      /work/shared/rxe-lab), RXE_LAB_WORK (/var/tmp/rxe-lab), ACCEL (tcg|kvm),
#      RDMA_CM_EXAMPLES (default 1; 0 skips phase C), CARGO_TARGET_DIR,
#      RC_PINGPONG (default 1), RCPP_SIZES ("4096 65536"), RCPP_ITERS (500),
#      SOFTROCE_INTEROP_LINK (udp: default, the UDP carrier; frame: the softroce
#      tools send and receive Ethernet frames on br0 themselves, `--link br0`,
#      through the frame carrier the Windows driver runs).
#      SOFTROCE_INTEROP_MTU (RoCE path MTU of the run: 1024 (default; Ethernet MTU
#      1500) or 4096 (Ethernet MTU 9000 on br0, tap1 and the guest: rxe's active_mtu
#      4096; softroce runs with --mtu 4096, ibv_rc_pingpong with -m 4096); the
#      capture check then requires full 4096-byte packets both ways).
#      SMBD (default 1; 0 skips phase E; E is skipped when the SMB Direct
#      modules cannot be built: build-smbdirect-modules.sh), SMBDIRECT_MODULES
#      (their directory, default $RXE_LAB_WORK/ksmbd-smbdirect), CIFS_CONTROL
#      (default 0; 1 adds the cifs -o rdma control: ksmbd 6.1.176 oopsed in
#      smb2_open under it once, and the guest then could not power off), SMBD_PORT (445), SMBD_ARGS (extra
#      smbd-probe options, e.g. --smb311), RPING (default 1; 0 skips A and B),
#      SOFTROCE_INTEROP_IP (4: default, 10.99.0.1 / 10.99.0.11; 6: every scenario over
#      IPv6 with the ULA addresses fd99::1 (br0) / fd99::11 (guest eth0), RoCEv2 over
#      IPv6 both ways; the lab's netns disables IPv6, so it is enabled here after
#      `netns.sh up`; UDP carrier only: the frame link resolves with ARP, IPv4 only).
#      SOFTROCE_BIN (use this binary, do not build).
set -uo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
say() { echo "[interop $(date +%T)] $*"; }
[ "$(id -u)" = 0 ] || { say "SKIP: needs root (network namespace, raw socket, TAP)"; exit 2; }
LAB="${RXE_LAB:-}"
if [ -z "$LAB" ]; then
  for c in "$ROOT/../shared/rxe-lab" "$(dirname "$ROOT")/shared/rxe-lab" /work/shared/rxe-lab; do
    [ -x "$c/run.sh" ] && { LAB="$(cd "$c" && pwd)"; break; }
  done
fi
[ -n "$LAB" ] && [ -x "$LAB/netns.sh" ] || { say "SKIP: no rxe lab (set RXE_LAB)"; exit 2; }
WORK="${RXE_LAB_WORK:-/var/tmp/rxe-lab}"; B="$WORK/build"
mkdir -p "$WORK"
# One interop run at a time (they share netns rxelab, br0 and tap1; the lab's
# own run.sh does not take this lock: do not run both at once).
exec 9>"$WORK/.interop.lock"
flock -w 1200 9 || { say "SKIP: another interop run holds $WORK/.interop.lock"; exit 2; }
T0=$(date +%s)
if [ ! -e "$B/vmlinuz" ] || [ ! -e "$B/rootfs.img" ] || [ ! -e "$B/initrd.img" ]; then
  say "building the rxe lab ($LAB/build.sh)"
  RXE_LAB_WORK="$WORK" "$LAB/build.sh" || { say "SKIP: lab build failed"; exit 2; }
fi
T_LAB=$(date +%s)
if [ -n "${SOFTROCE_BIN:-}" ]; then
  BIN="$SOFTROCE_BIN"   # already built (the cargo test wrapper passes its binary)
else
  say "building softroce"
  ( cd "$ROOT" && cargo build --bin softroce ) || { say "FAIL: cargo build"; exit 1; }
  BIN="${CARGO_TARGET_DIR:-$ROOT/target}/debug/softroce"
fi
[ -x "$BIN" ] || { say "FAIL: no $BIN"; exit 1; }
T_BUILD=$(date +%s)

SIZES="${SIZES:-64 1024 4000 65535}"; COUNT="${COUNT:-100}"; TIMEOUT="${TIMEOUT:-900}"
case "${SOFTROCE_INTEROP_LINK:-udp}" in
  udp) LINK=""; CARRIER="UDP carrier";;
  frame) LINK=br0; CARRIER="frame link on br0";;
  *) say "FAIL: SOFTROCE_INTEROP_LINK must be udp or frame"; exit 1;;
esac
ROCE_MTU="${SOFTROCE_INTEROP_MTU:-1024}"
IPV="${SOFTROCE_INTEROP_IP:-4}"
case "$IPV" in
  4) NS_ADDR=10.99.0.1; GUEST_ADDR=10.99.0.11;;
  6) NS_ADDR=fd99::1; GUEST_ADDR=fd99::11
     [ -z "$LINK" ] || { say "FAIL: SOFTROCE_INTEROP_IP=6 needs the UDP carrier (the frame link is IPv4 only)"; exit 1; };;
  *) say "FAIL: SOFTROCE_INTEROP_IP must be 4 or 6"; exit 1;;
esac
case "$ROCE_MTU" in
  1024) ETH_MTU=1500;;
  4096) ETH_MTU=9000;;
  *) say "FAIL: SOFTROCE_INTEROP_MTU=$ROCE_MTU: give 1024 (Ethernet 1500) or 4096 (Ethernet 9000)"; exit 1;;
esac
[ "${RPING:-1}" = 1 ] || SIZES=""
NS=rxelab; TS=$(date +%Y%m%d-%H%M%S)
RUN="$WORK/runs/interop-$TS"; mkdir -p "$RUN/out" "$WORK/pcaps"
PCAP="$WORK/pcaps/interop-$TS.pcap"
SMBD="${SMBD:-1}"
if [ "$SMBD" = 1 ] && [ "$IPV" = 6 ]; then
  # ksmbd 6.1 listens for SMB Direct on the IPv4 wildcard only (rdma_cm
  # 0.0.0.0:445): an IPv6 REQ is rejected (run interop-20261121-095155).
  say "SKIP phase E (smbd-probe vs ksmbd) over IPv6: ksmbd's SMB Direct listener is IPv4 only (0.0.0.0:445)"
  SMBD=0
fi
if [ "$SMBD" = 1 ]; then
  # Debian's guest kernel has neither SMB Direct server nor client built in:
  # the guest loads ksmbd.ko/cifs.ko rebuilt with them (from /out/modules).
  MODS="${SMBDIRECT_MODULES:-$WORK/ksmbd-smbdirect}"
  if OUT="$MODS" RXE_LAB_WORK="$WORK" "$HERE/build-smbdirect-modules.sh" > "$RUN/smbdirect-modules.log" 2>&1; then
    mkdir -p "$RUN/out/modules" && cp "$MODS/ksmbd.ko" "$MODS/cifs.ko" "$RUN/out/modules/"
  else
    say "SKIP phase E (smbd-probe vs ksmbd): no SMB Direct modules ($RUN/smbdirect-modules.log)"
    tail -3 "$RUN/smbdirect-modules.log"; SMBD=0
  fi
fi
cat > "$RUN/out/params.sh" <<P
SIZES="$SIZES"; COUNT=$COUNT; PORT_A=7174; PORT_B=7274; PORT_C=7471; RDMA_CM_EXAMPLES=${RDMA_CM_EXAMPLES:-1}
PORT_D=18515; RC_PINGPONG=${RC_PINGPONG:-1}; RCPP_SIZES="${RCPP_SIZES:-4096 65536}"; RCPP_ITERS=${RCPP_ITERS:-500}
LINK="$LINK"
MTU=$ROCE_MTU
SMBD=$SMBD; SMBD_PORT=${SMBD_PORT:-445}; SMBD_ARGS="${SMBD_ARGS:-}"; CIFS_CONTROL=${CIFS_CONTROL:-0}
IPV=$IPV; NS_ADDR=$NS_ADDR; GUEST_ADDR=$GUEST_ADDR
GUEST_GID=$(python3 -c 'import ipaddress,sys; print(ipaddress.ip_address(sys.argv[1]).exploded)' $GUEST_ADDR)
P
"$LAB/netns.sh" up
for d in br0 tap1; do ip -n $NS link set $d mtu $ETH_MTU; done
if [ "$IPV" = 6 ]; then
  # The lab's netns.sh disables IPv6 in the namespace; enable it (without DAD,
  # so fd99::1 is usable at once) and give br0 the ULA address. No MLD
  # snooping on br0: neighbour solicitations must reach the guest at once.
  ip netns exec $NS sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.default.disable_ipv6=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
  for d in br0 tap1; do
    ip netns exec $NS sysctl -qw net.ipv6.conf.$d.disable_ipv6=0 net.ipv6.conf.$d.accept_dad=0
  done
  ip -n $NS link set br0 type bridge mcast_snooping 0
  ip -n $NS addr replace $NS_ADDR/64 dev br0 nodad
  ip -n $NS -6 neigh flush dev br0 2>/dev/null || true
fi   # (an IPv4 run: netns.sh up has set all/default disable_ipv6=1 again, which reaches br0 and tap1)
ip -n $NS neigh flush dev br0 2>/dev/null || true
if [ -z "${ACCEL:-}" ]; then
  if [ -d /sys/module/kvm_pvm ] || [ ! -w /dev/kvm ]; then ACCEL=tcg; else ACCEL=kvm; fi
fi
if [ "$ACCEL" = kvm ]; then ACC=(-enable-kvm -cpu host,-arch-capabilities); else ACC=(-accel "tcg,thread=multi" -cpu "${TCGCPU:-qemu64}"); fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
ip netns exec $NS tshark -q -i br0 -f "udp port 4791" -F pcap -w "$PCAP" > "$RUN/tshark.log" 2>&1 &
CAP=$!; pids+=($CAP)
for i in $(seq 50); do grep -q "Capturing on" "$RUN/tshark.log" && break; sleep 0.2; done
ip netns exec $NS timeout -k 5 $((TIMEOUT + 60)) "$HERE/host.sh" "$BIN" "$RUN/out/params.sh" > "$RUN/host.log" 2>&1 &
HOST=$!; pids+=($HOST)
say "run $RUN: accel=$ACCEL sizes=[$SIZES] count=$COUNT roce_mtu=$ROCE_MTU eth_mtu=$ETH_MTU; softroce on $NS_ADDR (guest $GUEST_ADDR), $CARRIER (pid $HOST)"
T_BOOT=$(date +%s)
ip netns exec $NS qemu-system-x86_64 "${ACC[@]}" -M q35 -m "${MEM:-512}" -smp 1 \
  -nodefaults -no-user-config -display none -no-reboot -serial "file:$RUN/g1.console" \
  -kernel "$B/vmlinuz" -initrd "$B/initrd.img" \
  -append "console=ttyS0 net.ifnames=0 root=/dev/vda ro init=/sbin/lab-init panic=-1 quiet loglevel=4 lab.name=g1 lab.ip=10.99.0.11 lab.scenario=interop lab.timeout=$TIMEOUT lab.mtu=$ETH_MTU" \
  -drive "file=$B/rootfs.img,if=virtio,format=raw,readonly=on" \
  -netdev "tap,id=n0,ifname=tap1,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=52:54:00:99:00:11" \
  -fsdev "local,id=labsrc,path=$HERE/scenarios,security_model=none,readonly=on" -device virtio-9p-pci,fsdev=labsrc,mount_tag=labsrc \
  -fsdev "local,id=labout,path=$RUN/out,security_model=none" -device virtio-9p-pci,fsdev=labout,mount_tag=labout \
  > "$RUN/g1.qemu.log" 2>&1 &
QEMU=$!; pids+=($QEMU)
deadline=$(( $(date +%s) + TIMEOUT + 90 ))
while kill -0 $QEMU 2>/dev/null; do
  [ "$(date +%s)" -ge $deadline ] && { say "DEADLINE: killing the guest"; kill $QEMU; break; }
  sleep 1
done
T_END=$(date +%s)
sleep 1; kill $HOST 2>/dev/null; wait $HOST 2>/dev/null
kill -INT $CAP 2>/dev/null; wait $CAP 2>/dev/null
trap - EXIT
ln -sfn "$RUN" "$WORK/runs/latest-interop"

G="$RUN/out/g1.log"; H="$RUN/host.log"
echo "===== guest (g1) =====";  grep -aE "^RESULT|^###|rping|rdma_|error|fail|mismatch" "$G" 2>/dev/null | grep -v "^gid" | tail -60
echo "===== softroce (namespace) ====="; grep -aE "RESULT|FAILED|pings|rdma-|smbd-probe" "$H" | tail -50
"$BIN" decode --json "$PCAP" > "$RUN/decoded.jsonl" 2> "$RUN/decode.err"; drc=$?
"$BIN" decode "$PCAP" > "$RUN/decoded.txt" 2>/dev/null
echo "===== capture $PCAP (softroce decode rc=$drc) ====="
tshark -r "$PCAP" -T fields -e frame.number -e frame.time_epoch > "$RUN/times.tsv" 2>/dev/null
python3 "$HERE/capture_check.py" "$RUN/decoded.jsonl" "$RUN/times.tsv" "$H" "$ROCE_MTU" "$NS_ADDR" "$PCAP" | tee "$RUN/capture.txt"
[ $drc = 0 ] || echo "softroce decode reported malformed packets or bad ICRCs"
# rxe's own error counters (rdma statistic: *_err, *retry*, duplicate_request, out_of_seq_request)
errs=$(awk '/rxe counters/{f=1;next} f && NF==2 && $1 ~ /err|retry|duplicate|out_of_seq/ && $2 != 0' "$G" 2>/dev/null)
if [ -n "$errs" ]; then echo "rxe error counters non-zero: $(echo $errs)"; else echo "rxe error counters: all zero"; fi

echo "===== verdicts ====="
all=0
scen=""
[ -n "$SIZES" ] && scen="rxe-client-vs-softroce-server softroce-client-vs-rxe-server"
[ "${RDMA_CM_EXAMPLES:-1}" = 1 ] && scen="$scen rdma_client-vs-softroce-rdma-server softroce-rdma-client-vs-rdma_server"
[ "${RC_PINGPONG:-1}" = 1 ] && scen="$scen ibv_rc_pingpong-client-vs-softroce softroce-vs-ibv_rc_pingpong-server"
[ "$SMBD" = 1 ] && scen="$scen softroce-smbd-probe-vs-ksmbd"
for sc in $scen; do
  sizes="$SIZES"; case $sc in rdma*|softroce-rdma*) sizes=16;; *pingpong*) sizes="${RCPP_SIZES:-4096 65536}";; *smbd*) sizes=0;; esac
  for s in $sizes; do
    g=$(grep -a "^RESULT $sc size=$s " "$G" 2>/dev/null | tail -1)
    h=$(grep -a "^RESULT $sc size=$s " "$H" | tail -1)
    v=PASS
    case "$g" in *" rc=0 "*) ;; *) v=FAIL;; esac
    case "$h" in *" rc=0 "*) ;; *) v=FAIL;; esac
    c=$(grep -a "^CAPTURE $sc size=$s: " "$RUN/capture.txt" | tail -1)
    case "$c" in *": PASS "*) ;; *) v=FAIL;; esac
    [ $drc = 0 ] || v=FAIL
    [ $v = PASS ] || all=1
    h=${h%% start=*}
    echo "VERDICT $sc size=$s: $v (rxe: ${g#RESULT $sc } | softroce: ${h#RESULT $sc } | capture: ${c#*: })"
  done
done
if [ "$SMBD" = 1 ] && [ "${CIFS_CONTROL:-0}" = 1 ]; then
  c=$(grep -a "^RESULT cifs-rdma-control " "$G" 2>/dev/null | tail -1)
  echo "CONTROL cifs -o rdma vs ksmbd (guest loopback, not in the verdict): ${c:-no result}"
fi
echo "timings: lab check/build $((T_LAB - T0)) s, softroce build $((T_BUILD - T_LAB)) s, guest run (boot + all scenarios) $((T_END - T_BOOT)) s, total $((T_END - T0)) s"
echo "VERDICT interop: $([ $all = 0 ] && echo PASS || echo FAIL) (run $RUN, softroce $CARRIER, RoCE MTU $ROCE_MTU, IPv$IPV)"
exit $all
