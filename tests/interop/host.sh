#!/bin/bash
# Namespace side of run-interop.sh: runs softroce (bound to NS_ADDR, 10.99.0.1 or fd99::1; over the
# frame link when params set LINK) in the
# order the guest scenario expects. Usage: host.sh SOFTROCE_BIN PARAMS_FILE
# Every run prints "RESULT <scenario> size=<n> rc=<rc> secs=<s>".
BIN=$1; . "$2"
# LINK (params): the tools use the Ethernet frame link on that interface.
if [ -n "${LINK:-}" ]; then export SOFTROCE_LINK=$LINK; echo "softroce: frame link on $LINK"; else unset SOFTROCE_LINK; fi
MTU=${MTU:-1024}   # the run's RoCE path MTU (params.sh)
# IPv4 or IPv6 (params: SOFTROCE_INTEROP_IP=6 gives fd99::1 / fd99::11)
NS_IP=${NS_ADDR:-10.99.0.1}; GUEST=${GUEST_ADDR:-10.99.0.11}
echo "softroce: IPv${IPV:-4}, $NS_IP <-> guest $GUEST"
now() { date +%s.%N; }
# RESULT <scenario> size=<n> rc=<rc> secs=<s> start=<epoch> end=<epoch>
result() { local e; e=$(now); echo "RESULT $1 size=$2 rc=$3 secs=$(awk -v a="$4" -v b="$e" 'BEGIN{printf "%.2f", b-a}') start=$4 end=$e"; }
i=0
for s in $SIZES; do
  t0=$(now)
  "$BIN" rping -s -a $NS_IP -p $((PORT_A + i)) --mtu $MTU -S "$s" -C "$COUNT" -V --wait 400; rc=$?
  result rxe-client-vs-softroce-server "$s" "$rc" "$t0"
  i=$((i + 1))
done
i=0
for s in $SIZES; do
  t0=$(now)
  "$BIN" rping -c -a $GUEST -I $NS_IP -p $((PORT_B + i)) --mtu $MTU -S "$s" -C "$COUNT" -V --wait 120; rc=$?
  result softroce-client-vs-rxe-server "$s" "$rc" "$t0"
  i=$((i + 1))
done
if [ "${RDMA_CM_EXAMPLES:-0}" = 1 ]; then
  t0=$(now)
  "$BIN" rdma-server -a $NS_IP -p $PORT_C --mtu $MTU --wait 300; rc=$?
  result rdma_client-vs-softroce-rdma-server 16 "$rc" "$t0"
  t0=$(now)
  "$BIN" rdma-client -s $GUEST -I $NS_IP -p $((PORT_C + 1)) --mtu $MTU --wait 120; rc=$?
  result softroce-rdma-client-vs-rdma_server 16 "$rc" "$t0"
fi
if [ "${RC_PINGPONG:-0}" = 1 ]; then
  i=0
  for s in $RCPP_SIZES; do
    p=$((PORT_D + 2 * i))
    t0=$(now)
    "$BIN" rc-pingpong -I $NS_IP -p $p -m $MTU -s "$s" -n "$RCPP_ITERS"; rc=$?
    result ibv_rc_pingpong-client-vs-softroce "$s" "$rc" "$t0"
    t0=$(now)
    # The TCP side channel goes to the guest's IPv4 address: ibv_rc_pingpong's
    # server listens on the first getaddrinfo(NULL) address only, 0.0.0.0 in the
    # guest (measured: a connection to [fd99::11] is refused). As with
    # ibv_rc_pingpong, the RDMA traffic goes to the GID the server sends (its
    # IPv6 GID with -g, fd99::11) from ours (-I), so it is IPv6 all the same.
    "$BIN" rc-pingpong 10.99.0.11 -I $NS_IP -p $((p + 1)) -m $MTU -s "$s" -n "$RCPP_ITERS" --wait 120; rc=$?
    result softroce-vs-ibv_rc_pingpong-server "$s" "$rc" "$t0"
    i=$((i + 1))
  done
fi
if [ "${SMBD:-0}" = 1 ]; then
  # ksmbd starts in the guest after phase D: retry the connection until its
  # RDMA listener answers, then tell the guest (/out is its 9p share).
  t0=$(now)
  "$BIN" smbd-probe $GUEST -I $NS_IP --port "$SMBD_PORT" --mtu "$MTU" --wait 120 $SMBD_ARGS; rc=$?
  result softroce-smbd-probe-vs-ksmbd 0 "$rc" "$t0"
  touch "$(dirname "$2")/smbd-probe.done"
fi
# socket receive-buffer drops in the namespace (a lost packet shows up as a retransmission)
echo "netstat: $(awk '/^Udp:/{getline; print "UDP InErrors=" $4 " RcvbufErrors=" $6}' /proc/net/snmp) raw drops=$(awk 'NR>1{d+=$NF} END{print d+0}' /proc/net/raw)"
echo "HOST DONE"
