#!/usr/bin/env bash
# Builds a self-contained (untrimmed: the share handshake uses MessagePack's dynamic resolver) `pdrdma` holding only the device commands (xpu-check, xpu-ipc-peer, xpu-cuda-check,
# gpu-check, gpu-ipc-peer) for XPU / NVIDIA+XPU hosts without .NET. Usage: scripts/xpu-bundle.sh OUT_DIR
# Then on the hardware host: OUT_DIR/xpu-check.sh (copied into the bundle) runs steps 0.5-2 in one command.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=${1:?usage: scripts/xpu-bundle.sh OUT_DIR}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# shellcheck source=lib/bundle.sh
. "$root/scripts/lib/bundle.sh"
publish_bundle "$work" "$out" XpuBundle '<PublishTrimmed>false</PublishTrimmed>' '' \
  "GpuCheckCommand GpuIpcPeerCommand XpuCheckOptions XpuCheckCommand XpuIpcPeerCommand XpuCudaCheckCommand" ''
cp "$root/scripts/xpu-check.sh" "$out/xpu-check.sh"
echo "xpu bundle: $out/xpu-check.sh [MiB] runs steps 0.5-2 on the host it is copied to"
