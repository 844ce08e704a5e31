#!/usr/bin/env bash
# Runs the xunit suite and ends with the line `N passed, N failed, N skipped`.
# Usage: scripts/test.sh [area] [-- extra dotnet test args]
#   area: all (default), verbs, transport, engines, daemon, serving, interop, perf, gpu, cluster, cli, capi, python, xpu (Level Zero + KV layouts), security
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
area=${1:-all}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift

case "$area" in
  all) filter="" ;;
  verbs) filter="Category=Verbs" ;;
  xpu) filter="FullyQualifiedName~PdRdma.Tests.Xpu|Category=KvLayout" ;;
  transport|engines|daemon|serving|interop|perf|gpu|cluster|cli) filter="FullyQualifiedName~PdRdma.Tests.${area^}" ;;
  capi) filter="FullyQualifiedName~PdRdma.Tests.CApi" ;;
  security) filter="FullyQualifiedName~PdRdma.Tests.Security" ;;
  python) filter="FullyQualifiedName~PdRdma.Tests.Python" ;;
  *) echo "test.sh: unknown area '$area' (all, verbs, transport, engines, daemon, serving, interop, perf, gpu, cluster, cli, capi, python, xpu, security)" >&2; exit 2 ;;
esac

results="$root/.pdrdma/test-results"
rm -rf "$results"; mkdir -p "$results"
args=(test "$root/tests/PdRdma.Tests.csproj" -c Release --no-build --logger "trx;LogFileName=results.trx"
      --logger "console;verbosity=normal" --results-directory "$results" --blame-hang-timeout 15m)
[ -n "$filter" ] && args+=(--filter "$filter")
dotnet "${args[@]}" "$@"
rc=$?

trx="$results/results.trx"
if [ ! -f "$trx" ]; then
  echo "test.sh: no test results were written (dotnet test exit $rc)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
total=$(get total); passed=$(get passed); failed=$(get failed); executed=$(get executed)
errors=$(get error); timeouts=$(get timeout); aborted=$(get aborted)
failed=$(( failed + errors + timeouts + aborted ))
skipped=$(( total - executed ))
# a crash or hang of the test host leaves tests neither passed nor failed: count them as failed
if [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
