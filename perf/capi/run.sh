#!/usr/bin/env bash
# The KV-shaped transfer driven from C# (pdrdma bench-initiator), C (kv_bench.c over libpdrdma.so) and Python
# (kv_bench.py over python/pdrdma) against one C# bench-target, in the same run, interleaved ROUNDS times (best per
# driver, as the transfer benchmark takes the best window on a shared machine); then the one-write batch latency of each.
# Usage: perf/capi/run.sh [BACKEND=tcp] [BLOCK=65536] [TOTAL=67108864] [BUDGET_MS=3000] [DEPTH=16] [ROUNDS=2]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
backend=${1:-tcp} block=${2:-65536} total=${3:-67108864} budget=${4:-3000} depth=${5:-16} rounds=${6:-2}
"$root/pdrdma" build native >&2
"$root/pdrdma" --help >/dev/null 2>&1 || true   # the .NET build
out=$(mktemp -d)
trap 'kill $target_pid 2>/dev/null || true; rm -rf "$out"' EXIT
cc -std=c99 -O2 -Wall -Werror -I "$root/include" "$root/perf/capi/kv_bench.c" -L "$root/.pdrdma/native" -lpdrdma \
   -Wl,-rpath,"$root/.pdrdma/native" -o "$out/kv_bench"
cli=(dotnet "$root/src/Cli/bin/Release/net10.0/pdrdma.dll")
region=$(( (2 * total + 4095) / 4096 * 4096 ))
mkfifo "$out/target.in"
"${cli[@]}" bench-target --listen 127.0.0.1:0 --backend "$backend" --region-bytes "$region" < "$out/target.in" > "$out/target.out" 2>&1 &
target_pid=$!
exec 3>"$out/target.in"
for _ in $(seq 600); do grep -q '^ready ' "$out/target.out" 2>/dev/null && break; sleep 0.1; done
peer=$(grep -m1 '^ready ' "$out/target.out" | cut -d' ' -f2)
[ -n "$peer" ] || { echo "bench-target did not start:"; cat "$out/target.out"; exit 1; } >&2
echo "target $peer ($backend), block $block, total $total, budget ${budget} ms, depth $depth, $rounds rounds" >&2
for r in $(seq "$rounds"); do
  "${cli[@]}" bench-initiator --peer "$peer" --backend "$backend" --sizes 64 --latency-max 64 --kv-blocks "$block" \
    --kv-total "$total" --budget-ms "$budget" --depth "$depth" | grep '^{' | grep -v '"connected"' | sed 's/^{/{"driver":"csharp",/'
  "$out/kv_bench" "$peer" "$backend" "$block" "$total" "$budget" "$depth"
  PDRDMA_LIBRARY="$root/.pdrdma/native/libpdrdma.so" /usr/bin/python3 "$root/perf/capi/kv_bench.py" "$peer" "$backend" "$block" "$total" "$budget" "$depth"
done | tee "$out/records.jsonl" >&2
/usr/bin/python3 - "$out/records.jsonl" <<'PY'
import json, sys
best, lat = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    d = r["driver"]
    if r.get("kind") == "kv":
        best[d] = max(best.get(d, 0), r["gbps"])
    elif r.get("kind") in ("latency", "size"):
        lat[d] = min(lat.get(d, 1e9), r.get("p50_us", r.get("latency_p50_us")))
cs = best.get("csharp")
print("| driver | KV 64 KiB blocks Gb/s (best) | ratio to C# | one-write batch p50 µs |")
print("|---|---:|---:|---:|")
for d in ["csharp", "c", "python"]:
    ratio = f"{best[d] / cs:.3f}" if cs and d in best else "-"
    print(f"| {d} | {best.get(d, float('nan')):.2f} | {ratio} | {lat.get(d, float('nan')):.1f} |")
if "python" in lat and "c" in lat:
    print(f"\nPython per-call overhead over the C API (one-write batch, p50): {lat['python'] - lat['c']:.1f} µs")
PY
