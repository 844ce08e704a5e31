#!/usr/bin/env bash
# Measures one-sided transfers of a 256 MiB region, each next to its baseline, in one run:
#   tcp: across two network namespaces joined by veth (198.18.x.y), next to iperf3 on the same path;
#   shm: between two processes on this host, next to a plain memcpy between two region files.
# Needs root (namespaces) and iperf3 (scripts/setup.sh). Prints a table and, with --json FILE, JSON lines.
# Usage: perf/transfer-256.sh [--mb N] [--repeat R] [--json FILE] [--prefix NETNS_PREFIX]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mb=256 repeat=5 json="" prefix=pdt-perf
while [ $# -gt 0 ]; do
  case "$1" in
    --mb) mb=$2; shift 2 ;;
    --repeat) repeat=$2; shift 2 ;;
    --json) json=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    *) echo "transfer-256.sh: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
[ "$(id -u)" -eq 0 ] || { echo "transfer-256.sh: needs root for network namespaces" >&2; exit 2; }
command -v iperf3 >/dev/null || { echo "transfer-256.sh: iperf3 missing: run scripts/setup.sh" >&2; exit 2; }
dll="$root/src/Cli/bin/Release/net10.0/pdrdma.dll"
[ -f "$dll" ] || dotnet build "$root/src/Cli/PdRdma.Cli.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
pdrdma() { dotnet "$dll" "$@"; }

nsa="$prefix-a" nsb="$prefix-b" vetha="${prefix//-/}a" vethb="${prefix//-/}b"
vetha=${vetha:0:15} vethb=${vethb:0:15}
a=198.18.250.1 b=198.18.250.2
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  ip netns del "$nsa" 2>/dev/null || true
  ip netns del "$nsb" 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add "$nsa"; ip netns add "$nsb"
ip link add "$vetha" type veth peer name "$vethb"
ip link set "$vetha" netns "$nsa"; ip link set "$vethb" netns "$nsb"
ip -n "$nsa" addr add "$a/24" dev "$vetha"; ip -n "$nsb" addr add "$b/24" dev "$vethb"
for ns in "$nsa" "$nsb"; do ip -n "$ns" link set lo up; done
ip -n "$nsa" link set "$vetha" up; ip -n "$nsb" link set "$vethb" up

out=$(mktemp -d)
emit() { echo "$1" >> "$out/results.jsonl"; }
field() { sed -n "s/.*\"$2\":\([^,}]*\).*/\1/p" <<<"$1" | tr -d '"'; }

# --- iperf3 on the veth path: the same byte count, then a 5 s run ---
ip netns exec "$nsb" iperf3 -s -B "$b" -p 5201 >/dev/null 2>&1 &
pids+=($!)
sleep 1
iperf_bytes=$(ip netns exec "$nsa" iperf3 -c "$b" -p 5201 -n "${mb}M" -f g | awk '/receiver/ {print $(NF-2); exit}')
iperf_time=$(ip netns exec "$nsa" iperf3 -c "$b" -p 5201 -t 5 -f g | awk '/receiver/ {print $(NF-2); exit}')
emit "{\"what\":\"iperf3\",\"path\":\"veth\",\"mb\":$mb,\"gbps_n\":$iperf_bytes,\"gbps_5s\":$iperf_time}"

# --- pdrdma tcp across the namespaces, without and with checksum ---
run_pair() { # netns_target netns_sender address port backend checksum
  local nst=$1 nss=$2 addr=$3 port=$4 backend=$5 checksum=$6
  local tlog="$out/target-$backend-$port.log"
  local wrap_t=() wrap_s=()
  [ "$nst" != "-" ] && wrap_t=(ip netns exec "$nst")
  [ "$nss" != "-" ] && wrap_s=(ip netns exec "$nss")
  "${wrap_t[@]}" dotnet "$dll" transfer-target --listen "$addr:$port" --region-mb "$mb" --batches "$repeat" > "$tlog" 2>&1 &
  local tpid=$!
  pids+=($tpid)
  for _ in $(seq 100); do grep -q listening "$tlog" && break; sleep 0.1; done
  local sent
  sent=$("${wrap_s[@]}" dotnet "$dll" transfer-send --peer "$addr:$port" --mb "$mb" --backend "$backend" --repeat "$repeat" --seed "$port" $checksum)
  wait "$tpid" || true
  local region_hash
  region_hash=$(grep '"notified"' "$tlog" | tail -1 | sed -n 's/.*"region_xxhash3":"\([0-9a-f]*\)".*/\1/p')
  local identical=false
  [ "$(field "$sent" source_xxhash3)" = "$region_hash" ] && identical=true
  emit "{\"what\":\"pdrdma\",\"backend\":\"$backend\",\"checksum\":\"$(field "$sent" checksum)\",\"mb\":$mb,\"first_gbps\":$(field "$sent" gbps),\"best_gbps\":$(field "$sent" best_gbps),\"bit_identical\":$identical}"
}
run_pair "$nsb" "$nsa" "$b" 7501 tcp ""
run_pair "$nsb" "$nsa" "$b" 7502 tcp --checksum

# --- shm between two processes on this host, next to memcpy ---
mem=$(pdrdma transfer-memcpy --mb "$mb" --repeat "$repeat")
emit "{\"what\":\"memcpy\",\"mb\":$mb,\"first_gbps\":$(field "$mem" gbps),\"best_gbps\":$(field "$mem" best_gbps)}"
run_pair - - 127.0.0.1 7503 shm ""
run_pair - - 127.0.0.1 7504 shm --checksum

echo "# $(date -u +%FT%TZ) $(nproc) cores, load $(cut -d" " -f1-3 /proc/loadavg), $(uname -r); $mb MiB, $repeat runs each (target pages pre-faulted; first run = first write after connect); Gbit/s"
printf '%-34s %10s %10s %s\n' what first best bit-identical
while read -r line; do
  what=$(field "$line" what)
  case "$what" in
    iperf3) printf '%-34s %10s %10s %s\n' "iperf3 veth (-n ${mb}M | -t 5)" "$(field "$line" gbps_n)" "$(field "$line" gbps_5s)" "-" ;;
    memcpy) printf '%-34s %10s %10s %s\n' "memcpy (one thread)" "$(field "$line" first_gbps)" "$(field "$line" best_gbps)" "-" ;;
    pdrdma) printf '%-34s %10s %10s %s\n' "pdrdma $(field "$line" backend) checksum=$(field "$line" checksum)" "$(field "$line" first_gbps)" "$(field "$line" best_gbps)" "$(field "$line" bit_identical)" ;;
  esac
done < "$out/results.jsonl"
[ -n "$json" ] && cp "$out/results.jsonl" "$json"
rm -rf "$out"
