#!/bin/bash
# Guest side of tests/interop/run-interop.sh (runs in rxe guest g1 with
# LAB_NAME set; /out/params.sh is written by the runner). Phase A: rxe's
# rping client against `softroce rping -s` on the namespace address, one
# port per size. Phase B: rxe's rping server, one port per size, for
# `softroce rping -c`. Phase C: librdmacm's rdma_client against
# `softroce rdma-server`, then rdma_server for `softroce rdma-client`.
# Phase D: ibv_rc_pingpong both ways against `softroce rc-pingpong`.
# Phase E (SMBD=1): ksmbd with a share and its RDMA transport on rxe0 for
# `softroce smbd-probe`; then, as a control, the kernel's cifs client in this
# guest mounts that share with -o rdma (over rxe0 to its own address).
# Every run prints "RESULT <scenario> size=<n> rc=<rc> secs=<s>".
. /lab/common.sh
. /out/params.sh
MTU=${MTU:-1024}   # the run's RoCE path MTU (rdma_cm takes it from eth0's MTU)
# IPv4 (default) or IPv6 (params IPV=6: the runner's SOFTROCE_INTEROP_IP). The
# kernel command line only gives the IPv4 address; the IPv6 one comes from
# params. rxe adds a RoCE v2 GID for it; ibv_rc_pingpong is given its index.
NSIP=${NS_ADDR:-$NSIP}; ME=${GUEST_ADDR:-$LAB_IP}; GIDX=1
if [ "${IPV:-4}" = 6 ]; then
  sysctl -qw net.ipv6.conf.all.disable_ipv6=0 net.ipv6.conf.eth0.disable_ipv6=0 net.ipv6.conf.eth0.accept_dad=0
  ip addr add $ME/64 dev eth0 nodad
  GIDX=$(gid_index $GUEST_GID) || { echo "no RoCE v2 GID for $ME"; GIDX=1; }
  echo "IPv6: $ME on eth0, rxe GID index $GIDX"
fi
env_info
ibv_devinfo -v -d rxe0 | grep -E 'GID\['
up() { cut -d' ' -f1 /proc/uptime; }
result() { echo "RESULT $1 size=$2 rc=$3 secs=$(awk -v a="$4" -v b="$(up)" 'BEGIN{printf "%.2f", b-a}')"; }
ping -c 2 -W 2 $NSIP >/dev/null || echo "ping $NSIP failed"

step "A: rxe rping -c -> softroce rping -s ($NSIP)"
i=0
for s in $SIZES; do
  p=$((PORT_A + i)); t0=$(up)
  # retry only until the softroce server listens (REJ / no answer)
  rc=1
  for try in $(seq 40); do
    out=$(timeout -k 2 120 rping -c -a $NSIP -p $p -S $s -C $COUNT -V 2>&1); rc=$?
    echo "$out" | tail -5
    case "$out" in *REJECTED*|*"UNREACHABLE"*|*"ADDR_ERROR"*) sleep 1;; *) break;; esac
  done
  result rxe-client-vs-softroce-server "$s" "$rc" "$t0"
  i=$((i + 1))
done

step "B: softroce rping -c -> rxe rping -s ($ME)"
i=0
for s in $SIZES; do
  p=$((PORT_B + i)); t0=$(up)
  timeout -k 2 180 rping -s -a $ME -p $p -S $s -C $COUNT -V; rc=$?
  result softroce-client-vs-rxe-server "$s" "$rc" "$t0"
  i=$((i + 1))
done

if [ "${RDMA_CM_EXAMPLES:-0}" = 1 ]; then
  step "C1: rdma_client -> softroce rdma-server ($NSIP:$PORT_C)"
  t0=$(up); rc=1
  for try in $(seq 40); do
    out=$(timeout -k 2 60 rdma_client -s $NSIP -p $PORT_C 2>&1); rc=$?
    echo "$out" | tail -5
    [ $rc = 0 ] && break
    sleep 1
  done
  result rdma_client-vs-softroce-rdma-server 16 "$rc" "$t0"
  step "C2: softroce rdma-client -> rdma_server ($ME:$((PORT_C + 1)))"
  t0=$(up)
  timeout -k 2 120 rdma_server -s $ME -p $((PORT_C + 1)); rc=$?
  result softroce-rdma-client-vs-rdma_server 16 "$rc" "$t0"
fi
if [ "${RC_PINGPONG:-0}" = 1 ]; then
  i=0
  for s in $RCPP_SIZES; do
    p=$((PORT_D + 2 * i))
    step "D1: ibv_rc_pingpong client -> softroce rc-pingpong ($NSIP:$p, -s $s -n $RCPP_ITERS)"
    t0=$(up); rc=1
    for try in $(seq 40); do
      out=$(timeout -k 2 120 ibv_rc_pingpong -d rxe0 -g $GIDX -m $MTU -p $p -s $s -n $RCPP_ITERS $NSIP 2>&1); rc=$?
      echo "$out" | tail -4
      case "$out" in *"Couldn't connect"*) sleep 1;; *) break;; esac
    done
    result ibv_rc_pingpong-client-vs-softroce "$s" "$rc" "$t0"
    step "D2: softroce rc-pingpong -> ibv_rc_pingpong server ($ME:$((p + 1)))"
    t0=$(up)
    timeout -k 2 120 ibv_rc_pingpong -d rxe0 -g $GIDX -m $MTU -p $((p + 1)) -s $s -n $RCPP_ITERS; rc=$?
    result softroce-vs-ibv_rc_pingpong-server "$s" "$rc" "$t0"
    i=$((i + 1))
  done
fi
if [ "${SMBD:-0}" = 1 ]; then
  step "E: ksmbd with RDMA transport on rxe0 ($LAB_IP:$SMBD_PORT) for softroce smbd-probe"
  t0=$(up); rc=0
  # rxe0 exists (lab-init made it) before ksmbd loads: ksmbd's ib_client
  # sees it and starts the RDMA listener when mountd starts the server.
  K=/tmp/ksmbd; mkdir -p $K /tmp/share; echo "hello from ksmbd over rxe" > /tmp/share/hello.txt
  cat > $K/ksmbd.conf <<CONF
[global]
	server string = rxe-lab ksmbd
	netbios name = G1
	server max protocol = SMB3_11
	guest account = nobody
	map to guest = bad user
	smb2 leases = no
[share]
	path = /tmp/share
	read only = no
	guest ok = yes
	force user = root
	oplocks = no
CONF
  ksmbd.adduser -c $K/ksmbd.conf -i $K/ksmbdpwd.db -a labuser -p labpass || rc=1
  # Debian's ksmbd.ko lacks SMB Direct: load the rebuilt one (same kernel).
  modprobe -a ib_core rdma_cm cifs_arc4 cifs_md4 fscache dns_resolver || rc=1
  insmod /out/modules/ksmbd.ko || rc=1
  grep -q smb_direct /proc/kallsyms && echo "ksmbd has SMB Direct (smb_direct symbols loaded)"
  echo all > /sys/class/ksmbd-control/debug 2>/dev/null || true
  ksmbd.mountd -c $K/ksmbd.conf -u $K/ksmbdpwd.db || rc=1
  for i in $(seq 20); do rdma res show cm_id 2>/dev/null | grep -q LISTEN && break; sleep 0.5; done
  echo "rdma cm_id listeners:"; rdma res show cm_id 2>/dev/null | grep -i listen
  rdma res show cm_id 2>/dev/null | grep -i listen | grep -q ":$SMBD_PORT " || { echo "no RDMA listener on port $SMBD_PORT"; rc=1; }
  ss -ltn | grep -E ":445 " | head -2
  # The namespace side writes /out/smbd-probe.done when its probe is over.
  for i in $(seq 240); do [ -e /out/smbd-probe.done ] && break; sleep 0.5; done
  [ -e /out/smbd-probe.done ] || { echo "the probe never finished"; rc=1; }
  echo "ksmbd log (dmesg):"; dmesg | grep -iE "ksmbd|smb_direct|smbd" | grep -viE "^$" | tail -25
  result softroce-smbd-probe-vs-ksmbd 0 "$rc" "$t0"
  if [ "${CIFS_CONTROL:-0}" = 1 ]; then
  step "E2 (control): Linux cifs client -o rdma -> ksmbd on $LAB_IP (loopback over rxe0)"
  t0=$(up); crc=1
  mkdir -p /tmp/mnt
  insmod /out/modules/cifs.ko || echo "insmod cifs.ko failed"
  if timeout -k 2 60 mount -t cifs //$LAB_IP/share /tmp/mnt -o rdma,vers=3.02,ip=$LAB_IP,username=labuser,password=labpass; then
    grep -a /tmp/mnt /proc/mounts
    got=$(timeout 30 cat /tmp/mnt/hello.txt); echo "read: $got"
    echo "written by cifs over rdma" > /tmp/mnt/from-cifs.txt && [ "$(cat /tmp/share/from-cifs.txt)" = "written by cifs over rdma" ] \
      && [ "$got" = "hello from ksmbd over rxe" ] && crc=0
    grep -A12 -i "rdma" /proc/fs/cifs/DebugData 2>/dev/null | head -20
    umount /tmp/mnt
  fi
  dmesg | grep -iE "cifs|smbd" | tail -8
  result cifs-rdma-control 0 "$crc" "$t0"
  fi
fi
step "rxe counters (non-zero)"
rdma statistic show link rxe0/1 2>/dev/null | tr ' ' '\n' | paste - - | grep -vw 0 | head -40
dmesg | grep -iE 'icrc|rxe' | tail -5
echo "GUEST DONE"
