#!/usr/bin/env bash
# Builds a self-contained `pdrdma` for GPU hosts without .NET. Usage: scripts/gpu-bundle.sh [--engine] OUT_DIR
#   (default)  only the transfer GPU commands (gpu-check, gpu-ipc-peer), trimmed, ~24 MB.
#   --engine   also the model on the GPU (generate, engine-check, model-export): TorchSharp's managed
#              code and libLibTorchSharp.so, but NOT libtorch itself (0.5 GB, CPU only): at run time libtorch comes from
#              the host's PyTorch (PDRDMA_LIBTORCH_DIR=<torch>/lib, see scripts/gpu-engine-check.sh). Also writes
#              OUT_DIR/libtorch-symbols.txt: the libtorch symbols libLibTorchSharp.so needs (checked on the host by
#              scripts/gpu/check_libtorch_abi.py), and OUT_DIR/BUNDLE.txt (what was built from which commit).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
engine=0
if [ "${1:-}" = "--engine" ]; then engine=1; shift; fi
out=${1:?usage: scripts/gpu-bundle.sh [--engine] OUT_DIR}
mkdir -p "$out"
out=$(cd "$out" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

torchsharp_version=$(sed -n 's/.*Include="TorchSharp-cpu" Version="\([^"]*\)".*/\1/p' "$root/Directory.Packages.props")
libtorch_version=2.10.0

# shellcheck source=lib/bundle.sh
. "$root/scripts/lib/bundle.sh"
if [ $engine = 1 ]; then
  # libtorch itself stays out: the host PyTorch provides it (the direct reference wins over TorchSharp-cpu transitive one).
  # TorchSharp is not annotated for trimming: trim only the framework's own trimmable assemblies.
  publish_bundle "$work" "$out" GpuEngineBundle \
    '<PublishTrimmed>true</PublishTrimmed><TrimMode>partial</TrimMode><SuppressTrimAnalysisWarnings>true</SuppressTrimAnalysisWarnings>' \
    '
    <ProjectReference Include="$(PdRoot)/src/Engines/PdRdma.Engines.csproj" />
    <PackageReference Include="libtorch-cpu-linux-x64" Version="'$libtorch_version'" ExcludeAssets="all" PrivateAssets="all" />' \
    "GpuCheckCommand GpuIpcPeerCommand GenerateCommand EngineCheckCommand ModelExportCommand" \
    'try
{
    PdRdma.Engines.TorchRuntime.PreloadHostLibTorch();
}
catch (PdRdma.Transport.TransferException e)
{
    Console.Error.WriteLine($"pdrdma: {e.Message}");
    return 1;
}'
else
  publish_bundle "$work" "$out" GpuBundle '<PublishTrimmed>true</PublishTrimmed>' '' "GpuCheckCommand GpuIpcPeerCommand" ''
fi

if [ $engine = 1 ]; then
  if ls "$out"/libtorch_cpu.so >/dev/null 2>&1; then
    echo "gpu bundle: libtorch_cpu.so was published into $out; the host's PyTorch must provide it" >&2
    exit 1
  fi
  native=$(find "$HOME/.nuget/packages/torchsharp/$torchsharp_version/runtimes/linux-x64/native" -name libLibTorchSharp.so | head -1)
  reference=$HOME/.nuget/packages/libtorch-cpu-linux-x64/$libtorch_version/runtimes/linux-x64/native
  # The symbols LibTorchSharp takes from libtorch: its undefined dynamic symbols that libtorch 2.10 (the build it was
  # linked against) defines. The host's PyTorch must define every one of them (lazy binding would only fail later).
  nm -D --undefined-only "$native" | awk '{print $NF}' | sed 's/@.*//' | sort -u > "$work/undefined"
  for lib in libc10.so libtorch_cpu.so libtorch.so; do nm -D --defined-only "$reference/$lib" | awk '{print $NF}' | sed 's/@.*//'; done | sort -u > "$work/torch-defined"
  comm -12 "$work/undefined" "$work/torch-defined" > "$out/libtorch-symbols.txt"
  {
    echo "pdrdma GPU engine bundle"
    echo "commit: $(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)"
    echo "built: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "TorchSharp: $torchsharp_version (libLibTorchSharp.so linked against libtorch $libtorch_version, C++11 ABI)"
    echo "libtorch symbols needed: $(wc -l < "$out/libtorch-symbols.txt")"
  } > "$out/BUNDLE.txt"
  cp "$root/scripts/gpu/check_libtorch_abi.py" "$root/scripts/gpu/torch_llama_ref.py" "$out/"
  # stories260K (1 MB) travels with the bundle: the GPU host has no checkout of ../shared.
  if [ -d "$root/../shared/models/stories260K" ]; then mkdir -p "$out/models" && cp -r "$root/../shared/models/stories260K" "$out/models/"; fi
  # LibTorchSharp needs GLIBCXX_3.4.32 (GCC 13). A host whose libstdc++ is older (and whose glibc is >= 2.38, what this
  # one needs) gets this machine's libstdc++ from compat/, put first on LD_LIBRARY_PATH only when the ABI check asks for it.
  # awk reads to the end: an early exit would SIGPIPE ldconfig under pipefail (see scripts/setup.sh)
  stdcxx=$(ldconfig -p | awk '/libstdc\+\+\.so\.6 .*x86-64/ && !found {print $NF; found=1}')
  if [ -n "$stdcxx" ]; then mkdir -p "$out/compat" && cp -L "$stdcxx" "$out/compat/libstdc++.so.6"; fi
  echo "gpu engine bundle: $out ($(du -sm "$out" | cut -f1) MiB); on the GPU host: scripts/gpu-engine-check.sh --bundle $out"
else
  echo "gpu bundle: $out/pdrdma gpu-check [MiB]"
fi
