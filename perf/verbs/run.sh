#!/usr/bin/env bash
# Verbs write bandwidth and latency of PdRdma beside ib_write_bw / ib_write_lat, on the same Soft-RoCE
# devices in the same boot of two QEMU VMs. A report, never a test: TCG makes every number slow.
# Usage: perf/verbs/run.sh [--cpus 2] [--min 64] [--max 4194304] [--volume 8388608] [--json FILE]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
min=64 max=$((4 << 20)) volume=$((8 << 20)) json="" cpus=2
while [ $# -gt 0 ]; do
  case "$1" in
    --cpus) cpus=$2; shift 2 ;; --min) min=$2; shift 2 ;; --max) max=$2; shift 2 ;; --volume) volume=$2; shift 2 ;; --json) json=$2; shift 2 ;;
    *) echo "perf/verbs/run.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
cli="$root/src/Cli/bin/Release/net10.0/pdrdma.dll"
[ -f "$cli" ] || dotnet build "$root/src/Cli" -c Release -nologo -v q -clp:ErrorsOnly
out="$root/.pdrdma/vm/out/perf-verbs"
rm -rf "$out"
guest="sh $root/perf/verbs/guest.sh $cli $min $max $volume"
"$root/vm/run-rdma-vms.sh" --out "$out" --timeout 1500 --cpus "$cpus" -- "$guest" "$guest" > "$out.report" 2>&1 || { cat "$out.report"; exit 1; }

python3 - "$out/b.log" "$json" <<'PY'
import json, sys
ib_bw, ib_lat, ours = {}, {}, {}
for line in open(sys.argv[1]):
    p = line.split()
    if line.startswith("IBBW") and len(p) == 3: ib_bw[int(p[1])] = float(p[2])
    elif line.startswith("IBLAT") and len(p) == 3: ib_lat[int(p[1])] = float(p[2])
    elif line.startswith("{"):
        r = json.loads(line)
        if r.get("mode") == "bench": ours[r["bytes"]] = r
rows = []
print(f"{'bytes':>8} {'ib_write_bw MB/s':>17} {'ours MB/s':>10} {'bw ratio':>9} {'ib_write_lat us':>16} {'ours us':>9} {'lat ratio':>10}")
for size in sorted(ours):
    o = ours[size]; bw = ib_bw.get(size); lat = ib_lat.get(size)
    # ib_write_lat reports half a ping-pong round trip; our figure is a write's completion (data out, ACK back): one round trip.
    row = {"bytes": size, "mb_per_s": o["mb_per_s"], "ib_write_bw_mb_per_s": bw,
           "bw_ratio": o["mb_per_s"] / bw if bw else None,
           "write_completion_us": o["write_completion_us_median"], "ib_write_lat_us": lat,
           "lat_ratio_vs_round_trip": o["write_completion_us_median"] / (2 * lat) if lat else None}
    rows.append(row)
    f = lambda v, spec: format(v, spec) if v is not None else "-"
    print(f"{size:>8} {f(bw, '17.2f')} {o['mb_per_s']:>10.2f} {f(row['bw_ratio'], '9.2f')} {f(lat, '16.1f')} {o['write_completion_us_median']:>9.1f} {f(row['lat_ratio_vs_round_trip'], '10.2f')}")
print("lat ratio = our write completion / (2 x ib_write_lat t_typical), both one round trip")
if sys.argv[2]: json.dump(rows, open(sys.argv[2], "w"), indent=1)
PY
