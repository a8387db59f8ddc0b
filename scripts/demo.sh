#!/usr/bin/env bash
# The main job, shown: what `docker run -p 8080:80` does, with this suite's plugins, in throw-away
# network namespaces. A "host" namespace plays the machine (with an uplink to an "outside"
# namespace, the rest of the world); two "containers" (namespaces with an HTTP server each) join a
# network from a conflist through cnitool, one publishing port 8080. Every step is printed as the
# command a person would type, then its output. Any failed step stops the demo with a non-zero exit;
# everything is removed either way, and nothing outside the namespaces (and one /etc/netns entry)
# is touched.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null

ID=$$
HOST="cni-demo-host-$ID" OUT="cni-demo-out-$ID" WEB="cni-demo-web-$ID" API="cni-demo-api-$ID"
DIR="$(mktemp -d /tmp/cni-demo-XXXXXX)"
BIN="$PWD/bin"
export CNI_PATH="$BIN" NETCONFPATH="$DIR/net.d" CNI_CACHE_DIR="$DIR/cache" CNI_TS_STATE_DIR="$DIR/state" XDG_RUNTIME_DIR="$DIR/run"
# the demo's host is a namespace: a firewalld the machine runs is not its firewall (the firewall
# plugin would put the demo's addresses into its zone), so no system bus
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$DIR/no-system-bus"

ETC_NETNS_EXISTED=$([[ -d /etc/netns ]] && echo 1 || echo 0)
cleanup() {
  local status=$?
  set +e
  # every process still in a namespace (httpd, dnsmasq) goes before the namespace: it would keep it alive
  for ns in "$WEB" "$API" "$OUT" "$HOST"; do
    pids=$(ip netns pids "$ns" 2>/dev/null)
    [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null
    ip netns del "$ns" 2>/dev/null
  done
  rm -rf "/etc/netns/$API" "$DIR"
  ((ETC_NETNS_EXISTED)) || rmdir /etc/netns 2>/dev/null
  if ((status)); then echo; echo "demo FAILED (exit $status); namespaces and files removed"; fi
  exit "$status"
}
trap cleanup EXIT

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
# the command as a person types it (variable assignments first, arguments quoted where needed)
typed() { [[ $1 == env ]] && shift; printf '%q ' "$@" | sed -e 's/ $//' -e "s#$BIN/##g"; echo; }
# prints the command as typed on the host, then runs it there (in the throw-away host namespace)
on_host() { echo "\$ $(typed "$@")"; ip netns exec "$HOST" "$@"; }
# the same from inside a named namespace
in_ns() { local ns=$1 label=$2; shift 2; echo "[$label]\$ $(typed "$@")"; ip netns exec "$ns" "$@"; }

say "a throw-away host, an outside world behind its uplink, two empty containers"
for ns in "$HOST" "$OUT" "$WEB" "$API"; do ip netns add "$ns"; done
ip -n "$HOST" link add uplink0 type veth peer name uplink1 netns "$OUT"
ip -n "$HOST" addr add 198.51.100.1/24 dev uplink0
ip -n "$OUT" addr add 198.51.100.2/24 dev uplink1
for pair in "$HOST uplink0" "$OUT uplink1" "$HOST lo" "$OUT lo" "$WEB lo" "$API lo"; do set -- $pair; ip -n "$1" link set "$2" up; done
echo "host $HOST (uplink 198.51.100.1), outside $OUT (198.51.100.2), containers $WEB and $API"

say "the network: Podman's conflist (bridge + host-local, portmap, firewall, tuning, dnsname)"
mkdir -p "$NETCONFPATH"
cat > "$NETCONFPATH/demo.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "demo",
  "plugins": [
    { "type": "bridge", "bridge": "cni-demo0", "isGateway": true, "ipMasq": true, "hairpinMode": true,
      "ipam": { "type": "host-local", "dataDir": "$DIR/ipam", "routes": [{ "dst": "0.0.0.0/0" }],
                "ranges": [[{ "subnet": "10.99.0.0/24", "gateway": "10.99.0.1" }]] } },
    { "type": "portmap", "capabilities": { "portMappings": true } },
    { "type": "firewall" },
    { "type": "tuning" , "dataDir": "$DIR/tuning" },
    { "type": "dnsname", "domainName": "dns.podman", "capabilities": { "aliases": true } }
  ]
}
JSON
echo "\$ cat \$NETCONFPATH/demo.conflist"; cat "$NETCONFPATH/demo.conflist"

say "each container runs a web server (busybox httpd on port 80)"
for c in web api; do
  ns=$WEB; [[ $c == api ]] && ns=$API
  mkdir -p "$DIR/www-$c"; echo "hello from $c" > "$DIR/www-$c/index.html"
  in_ns "$ns" "$c" busybox httpd -p 80 -h "$DIR/www-$c"
done

say "docker run -p 8080:80 --name web: the runtime runs the conflist for the container (ADD)"
on_host env CAP_ARGS='{"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]}' CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAME=web' \
  "$BIN/cnitool" add demo "/run/netns/$WEB"

say "docker run --name api (no published port)"
on_host env CNI_ARGS='IgnoreUnknown=1;K8S_POD_NAME=api' "$BIN/cnitool" add demo "/run/netns/$API" | tee "$DIR/api.json"
sed -n '/^{/,$p' "$DIR/api.json" > "$DIR/api.result"

# DEMO_FAIL_AT=<step> makes that step fail (the test of the demo's clean-up uses it)
[[ "${DEMO_FAIL_AT:-}" == after-add ]] && { echo "failing on purpose (DEMO_FAIL_AT=after-add)"; false; }

say "the published port, from the outside world, through the host's address"
in_ns "$OUT" outside busybox wget -qO- http://198.51.100.1:8080/
say "and from the host itself, on 127.0.0.1"
on_host busybox wget -qO- http://127.0.0.1:8080/

say "api reaches web by name: the runtime writes the result's DNS into api's resolv.conf"
mkdir -p "/etc/netns/$API"
node -e 'const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(`search ${r.dns.search.join(" ")}\n${r.dns.nameservers.map((n) => `nameserver ${n}`).join("\n")}`)' "$DIR/api.result" > "/etc/netns/$API/resolv.conf"
in_ns "$API" api cat /etc/resolv.conf
in_ns "$API" api busybox wget -qO- http://web/
in_ns "$API" api busybox wget -qO- http://web.dns.podman/

say "who holds what"
on_host "$BIN/cni-ts" ls --conf-dir "$NETCONFPATH" --cache-dir "$CNI_CACHE_DIR"
say "is this host set up right"
on_host "$BIN/cni-ts" doctor --conf-dir "$NETCONFPATH" --cache-dir "$CNI_CACHE_DIR" --bin-dir "$BIN"

say "docker rm -f web api: DEL, in reverse plugin order"
on_host "$BIN/cnitool" del demo "/run/netns/$WEB"
on_host "$BIN/cnitool" del demo "/run/netns/$API"

say "nothing is left"
on_host "$BIN/cni-ts" ls --conf-dir "$NETCONFPATH" --cache-dir "$CNI_CACHE_DIR"
echo "\$ nft list table inet cni_ts  # elements of every set and map:"
leftover=$(ip netns exec "$HOST" nft -j list table inet cni_ts | node -e 'const t = JSON.parse(require("fs").readFileSync(0, "utf8")); const e = t.nftables.flatMap((x) => (x.set ?? x.map)?.elem ?? []); console.log(e.length)')
echo "$leftover elements"
veths=$(ip -n "$HOST" -br link show type veth | grep -vc uplink || true)
reservations=$(find "$DIR/ipam" -type f -name '10.*' | wc -l)
dnsmasqs=$(find "$DIR/run" -name pidfile | wc -l)
echo "container veths on the host: $veths, address reservations: $reservations, dnsmasq running: $dnsmasqs"
if [[ "$leftover$veths$reservations$dnsmasqs" != "0000" ]]; then echo "something was left behind"; exit 1; fi
echo; echo "demo done: both containers served through the published port and by name, and DEL left nothing"
