#!/usr/bin/env bash
# Demo: a throw-away network namespace, loopback + host-local run through bin/ exactly as a
# runtime runs them, results printed, everything removed again. Touches nothing else on the host.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null

NS="cni-demo-$$"
DATA_DIR="$(mktemp -d /tmp/cni-demo-XXXXXX)"
cleanup() { ip netns del "$NS" 2>/dev/null || true; rm -rf "$DATA_DIR"; }
trap cleanup EXIT

ip netns add "$NS"
export CNI_PATH="$PWD/bin" CNI_CONTAINERID="demo-$$" CNI_NETNS="/run/netns/$NS"
IPAM_CONF=$(cat <<JSON
{"cniVersion":"1.1.0","name":"demo-net","type":"host-local",
 "ipam":{"type":"host-local","dataDir":"$DATA_DIR",
         "ranges":[[{"subnet":"10.123.0.0/24"}],[{"subnet":"fd12:3::/64"}]],
         "routes":[{"dst":"0.0.0.0/0"}]}}
JSON
)
LO_CONF='{"cniVersion":"1.1.0","name":"demo-lo","type":"loopback"}'

step() { echo; echo "\$ CNI_COMMAND=$1 $2   # $3"; }
step ADD loopback "bring lo up in $CNI_NETNS"
echo "$LO_CONF" | CNI_COMMAND=ADD CNI_IFNAME=lo bin/loopback
ip -n "$NS" -br addr show lo

step ADD host-local "reserve one IPv4 and one IPv6 address"
echo "$IPAM_CONF" | CNI_COMMAND=ADD CNI_IFNAME=eth0 bin/host-local
echo "store: $(ls "$DATA_DIR/demo-net" | tr '\n' ' ')"

step CHECK host-local "the reservation is there"
echo "$IPAM_CONF" | CNI_COMMAND=CHECK CNI_IFNAME=eth0 bin/host-local && echo ok

step ADD host-local "a bad config gets a CNI error, not a stack trace"
echo '{"cniVersion":"1.1.0","name":"demo-net","ipam":{"type":"host-local","ranges":[[{"subnet":"10.123.0.0/33"}]]}}' |
  CNI_COMMAND=ADD CNI_IFNAME=eth0 bin/host-local || true

step DEL host-local "release"
echo "$IPAM_CONF" | CNI_COMMAND=DEL CNI_IFNAME=eth0 bin/host-local && echo "store: $(ls "$DATA_DIR/demo-net" | tr '\n' ' ')"
step DEL loopback "lo down again"
echo "$LO_CONF" | CNI_COMMAND=DEL CNI_IFNAME=lo bin/loopback && ip -n "$NS" -br link show lo
echo; echo "demo done; namespace $NS and $DATA_DIR removed"
