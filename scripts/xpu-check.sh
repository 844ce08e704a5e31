#!/usr/bin/env bash
# Steps 0.5-2 on a host with an Intel XPU (and optionally an NVIDIA GPU), in one command. Run it from an xpu bundle
# (scripts/xpu-bundle.sh OUT; copy OUT to the host; OUT/xpu-check.sh) or from a checkout with .NET (./pdrdma is used).
# Usage: xpu-check.sh [MiB] [RESULTS_DIR]   (default 256 MiB, ./xpu-results-<date>)
#   step 0.5: Level Zero device regions: host<->device, device<->device copies (Gb/s), dma-buf export
#   step 1.5: same-XPU split between two processes: the share path chosen (IPC, dma-buf, host staging), then each forced
#   step 2:   only where an NVIDIA GPU is present too: CUDA region <-> XPU region, dma-buf import vs host staging
# Every step writes one JSON file; the summary says which passed. Needs: the Intel compute runtime (libze-intel-gpu1 or
# intel-level-zero-gpu), libze1, access to /dev/dri/renderD*; for step 2 the NVIDIA driver.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
mib=${1:-256}
results=${2:-$PWD/xpu-results-$(date -u +%Y%m%dT%H%M%SZ)}
mkdir -p "$results"
if [ -x "$here/pdrdma" ]; then run=("$here/pdrdma"); elif [ -x "$here/../pdrdma" ]; then run=("$here/../pdrdma"); else echo "xpu-check.sh: no pdrdma next to this script" >&2; exit 2; fi

# PDRDMA_XPU_DRIVER=/path/libze_test_driver.so rehearses the whole script on the test driver (no XPU needed).
driver=()
[ -n "${PDRDMA_XPU_DRIVER:-}" ] && driver=(--driver "$PDRDMA_XPU_DRIVER")
failed=0
step() {
  local name=$1; shift
  case "$1" in xpu-*) set -- "$@" "${driver[@]}" ;; esac
  echo "== $name: pdrdma $*"
  if "${run[@]}" "$@" > "$results/$name.json" 2> "$results/$name.stderr"; then echo "   ok   $(head -c 600 "$results/$name.json")"
  else echo "   FAIL $(head -c 600 "$results/$name.json") $(tail -n 3 "$results/$name.stderr")"; failed=$((failed + 1)); fi
}

{ uname -a; ls -l /dev/dri 2>/dev/null; dpkg -l 'libze*' 'intel-level-zero*' 'intel-opencl*' 2>/dev/null | grep '^ii'; nvidia-smi -L 2>/dev/null; } > "$results/host.txt"
step step0.5-1.5-chosen xpu-check "$mib"
step step1.5-ipc xpu-check "$mib" --paths ipc
step step1.5-dmabuf xpu-check "$mib" --paths dmabuf
step step1.5-staged xpu-check "$mib" --paths staged
if [ -e /dev/nvidiactl ] || ldconfig -p 2>/dev/null | grep -q libcuda.so.1; then
  step step2-gpu-check gpu-check "$mib"
  step step2-cuda-xpu xpu-cuda-check "$mib"
else
  echo "== step 2 skipped: no NVIDIA driver on this host"
fi
echo "results in $results; $failed step(s) failed"
[ "$failed" -eq 0 ]
