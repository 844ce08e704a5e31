#!/usr/bin/env bash
# The model on an NVIDIA GPU, checked in one command on a GPU host that has PyTorch (for CUDA) and no .NET.
# Prepare here:   scripts/gpu-bundle.sh --engine gpu-bundle        (self-contained, 49 MiB, carried to the host)
# On the host:    scripts/gpu-engine-check.sh --bundle gpu-bundle  (results: $OUT/results if $OUT is set, else docs/results)
#
# Steps (each bounded by `timeout` and the whole by --deadline; every step's outcome goes to gpu-engine-summary.json;
# a failed torch or ABI step stops the rest):
#   1. torch: version, CUDA, the device (python3 -c 'import torch ...'): the libtorch folder comes from there.
#   2. ABI: every libtorch symbol libLibTorchSharp.so needs is defined by the host's libtorch, LibTorchSharp loads with
#      RTLD_NOW, libstdc++ is new enough (scripts/gpu/check_libtorch_abi.py) -> gpu-engine-abi.json.
#   3. stories260K greedy 200 steps on cuda and on the cpu (both through the host libtorch), compared with each other
#      and with llama2.c's text -> gpu-engine-stories260K.json ("identical_to_cpu").
#   4. a random Llama (8 layers, dim 1024, bf16, 4096-token prompt): pdrdma engine-check colocated and split into two
#      engines on the one GPU (the serving KV path: pinned host mirrors + the transfer library; a device-to-device
#      in-process split as baseline), and the same weights (model-export) in PyTorch eager
#      (scripts/gpu/torch_llama_ref.py) -> gpu-engine-random-{pdrdma,torch}.json and the ratios in gpu-engine-random.json.
# Options: --bundle DIR  --python PY  --torch-lib DIR (skip `import torch`: libtorch's folder given)  --device cuda:N  --results DIR  --prompt-len N  --decode-steps N  --step-timeout S
#          --deadline S (the whole script, default 500: inside the device tool's 600 s per command)
#          --quick (prompt 512, 16 steps)  --abi-only  --dry-run (print the commands, run nothing)
#          rehearsal on a CPU host: --device cpu --dtype f32 --reference numpy --model tiny-random:... --torch-lib DIR
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bundle=$root/gpu-bundle
python=python3
torch_lib=
device=cuda:0
results=
prompt_len=4096
decode_steps=64
step_timeout=240
deadline=500
abi_only=0
dry=0
dtype=bf16
reference=torch
spec_override=
spec_base="tiny-random:dim=1024,layers=8,heads=8,kv_heads=4,hidden=2816,vocab=32000,seq=4352,seed=7"

die() { echo "gpu-engine-check: $*" >&2; exit 2; }
need() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
int_in() { [[ "$2" =~ ^[0-9]{1,7}$ ]] && [ "$2" -ge "$3" ] && [ "$2" -le "$4" ] || die "$1 '$2' is not an integer in [$3, $4]"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) need "$@"; bundle=$2; shift 2 ;;
    --python) need "$@"; python=$2; shift 2 ;;
    --torch-lib) need "$@"; torch_lib=$2; shift 2 ;;
    --device) need "$@"; [[ "$2" =~ ^(cpu|cuda(:[0-9]{1,3})?)$ ]] || die "--device '$2' is not cuda, cuda:N or cpu (cpu: a rehearsal of this script)"; device=$2; shift 2 ;;
    --dtype) need "$@"; [[ "$2" =~ ^(f32|bf16)$ ]] || die "--dtype '$2' is not f32 or bf16"; dtype=$2; shift 2 ;;
    --reference) need "$@"; [[ "$2" =~ ^(torch|numpy)$ ]] || die "--reference '$2' is not torch or numpy"; reference=$2; shift 2 ;;
    --model) need "$@"; [[ "$2" =~ ^tiny-random(:[a-z_0-9=,]{1,200})?$ ]] || die "--model '$2' is not a tiny-random spec"; spec_override=$2; shift 2 ;;
    --results) need "$@"; results=$2; shift 2 ;;
    --prompt-len) need "$@"; int_in --prompt-len "$2" 16 65536; prompt_len=$2; shift 2 ;;
    --decode-steps) need "$@"; int_in --decode-steps "$2" 4 4096; decode_steps=$2; shift 2 ;;
    --step-timeout) need "$@"; int_in --step-timeout "$2" 10 3600; step_timeout=$2; shift 2 ;;
    --deadline) need "$@"; int_in --deadline "$2" 30 36000; deadline=$2; shift 2 ;;
    --quick) prompt_len=512; decode_steps=16; shift ;;
    --abi-only) abi_only=1; shift ;;
    --dry-run) dry=1; shift ;;
    -h|--help) sed -n '2,19p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done
seq_needed=$((prompt_len + decode_steps + 16))
spec="${spec_base/seq=4352/seq=$((seq_needed > 4352 ? seq_needed : 4352))}"
[ -z "$spec_override" ] || spec=$spec_override
[ -n "$results" ] || results=${OUT:+$OUT/results}
[ -n "$results" ] || results=$root/docs/results
if b=$(cd "$bundle" 2>/dev/null && pwd); then bundle=$b; elif [ $dry = 0 ]; then die "bundle folder $bundle not found (build it with scripts/gpu-bundle.sh --engine gpu-bundle)"; fi
models=$bundle/models/stories260K
[ -d "$models" ] || models=$root/../shared/models/stories260K
work=${TMPDIR:-/tmp}/pdrdma-gpu-check.$$
summary=$results/gpu-engine-summary.json

run() {  # run NAME CMD...: bounded by the step timeout and what is left of the deadline, output to $work/NAME.log
  local name=$1; shift
  if [ $dry = 1 ]; then printf 'would run [%s]: %s\n' "$name" "$*"; return 0; fi
  local left=$((deadline - SECONDS)) limit=$step_timeout
  if [ $left -lt 15 ]; then echo "deadline of $deadline s reached before this step" > "$work/$name.err"; return 124; fi
  [ $left -lt $limit ] && limit=$left
  echo "== $name (at most $limit s): $*" >&2
  timeout --kill-after=10 "$limit" "$@" > "$work/$name.log" 2> "$work/$name.err"
  local rc=$?
  tail -n 5 "$work/$name.err" >&2
  return $rc
}

note() {  # note STEP STATUS MESSAGE: append to the summary (JSON lines until the end, then one array)
  printf '{"step": "%s", "status": "%s", "message": %s}\n' "$1" "$2" "$("$python" -c 'import json,sys;print(json.dumps(sys.argv[1]))' "$3" 2>/dev/null || echo '""')" >> "$work/summary.jsonl"
  echo "gpu-engine-check: [$1] $2: $3" >&2
}

finish() {
  [ $dry = 1 ] && exit "${1:-0}"
  "$python" - "$work/summary.jsonl" "$summary" <<'PY' || true
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])] if __import__("os").path.exists(sys.argv[1]) else []
json.dump({"steps": rows, "ok": all(r["status"] == "ok" for r in rows)}, open(sys.argv[2], "w"), indent=2)
PY
  echo "gpu-engine-check: summary in $summary" >&2
  # each step's output stays beside the results (the weights do not)
  mkdir -p "$results/logs" && cp "$work"/*.log "$work"/*.err "$results/logs/" 2>/dev/null
  rm -rf "$work"
  exit "${1:-0}"
}

if [ $dry = 1 ]; then
  echo "bundle: $bundle"; echo "models: $models"; echo "results: $results"; echo "device: $device"; echo "model: $spec"
  echo "prompt: $prompt_len tokens, $decode_steps decode steps; each step at most $step_timeout s"
else
  mkdir -p "$work" "$results" || die "cannot create $work or $results"
  [ $abi_only = 1 ] || [ -x "$bundle/pdrdma" ] || die "$bundle/pdrdma is missing: build the bundle with scripts/gpu-bundle.sh --engine"
fi

# 1. torch
if [ -n "$torch_lib" ]; then
  [ $dry = 1 ] || [ -f "$torch_lib/libtorch_cpu.so" ] || die "--torch-lib $torch_lib has no libtorch_cpu.so"
  [ $dry = 1 ] || note torch ok "libtorch folder given: $torch_lib (torch not imported)"
elif [ $dry = 1 ]; then
  echo "would run [torch]: $python -c 'import torch ...' (version, CUDA, device name, torch/lib folder)"
  torch_lib=/path/to/site-packages/torch/lib
else
  "$python" - > "$results/gpu-engine-torch.json" 2> "$work/torch.err" <<'PY'
import json, os, torch
info = {"torch": torch.__version__, "cuda": torch.version.cuda, "cuda_available": torch.cuda.is_available(),
        "cxx11_abi": bool(getattr(torch._C, "_GLIBCXX_USE_CXX11_ABI", True)), "lib": os.path.join(os.path.dirname(torch.__file__), "lib")}
if info["cuda_available"]:
    info["device"] = torch.cuda.get_device_name(0)
    info["devices"] = torch.cuda.device_count()
print(json.dumps(info, indent=2))
PY
  if [ $? -ne 0 ]; then note torch failed "python3 cannot import torch: $(tail -n 2 "$work/torch.err" | tr '\n' ' ')"; finish 1; fi
  torch_lib=$("$python" -c 'import json,sys;print(json.load(open(sys.argv[1]))["lib"])' "$results/gpu-engine-torch.json")
  note torch ok "$(tr -d '\n' < "$results/gpu-engine-torch.json")"
fi

# 2. ABI
abi() { run abi "$python" "$bundle/check_libtorch_abi.py" --torch-lib "$torch_lib" --symbols "$bundle/libtorch-symbols.txt" \
          --libtorchsharp "$bundle/libLibTorchSharp.so" --json "$results/gpu-engine-abi.json"; }
export LD_LIBRARY_PATH="$torch_lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PDRDMA_LIBTORCH_DIR="$torch_lib"
# The split hands each device pool over through a pinned host mirror (KvStaging) and the transfer library; its
# device-to-device baseline copies between two pools in one process. Plain cudaMalloc segments (not expandable ones)
# keep the pools' addresses describable by cuMemGetAddressRange. Left as it is when the host sets it.
export PYTORCH_CUDA_ALLOC_CONF="${PYTORCH_CUDA_ALLOC_CONF:-expandable_segments:False}"
abi_state=ok
if ! abi; then
  abi_state=bad
  if [ $dry = 0 ] && [ -f "$bundle/compat/libstdc++.so.6" ] && grep -q '"ok": false' "$results/gpu-engine-abi.json" 2>/dev/null \
     && "$python" -c 'import json,sys;d=json.load(open(sys.argv[1]));sys.exit(0 if not d["libstdcxx"]["ok"] and d["symbols_missing"]==0 else 1)' "$results/gpu-engine-abi.json"; then
    note abi retry "the host libstdc++ is older than LibTorchSharp needs: retrying with the bundle's compat/libstdc++.so.6"
    export LD_LIBRARY_PATH="$bundle/compat:$LD_LIBRARY_PATH"
    abi && abi_state=ok
  fi
  # Missing function symbols need not be fatal: LibTorchSharp is loaded with lazy binding, so only a call to one of
  # them fails. The run goes on and the stories260K step says whether the engine's calls are among them.
  if [ $abi_state = bad ] && [ $dry = 0 ] && "$python" -c 'import json,sys;d=json.load(open(sys.argv[1]));sys.exit(0 if "error" not in d and d["libstdcxx"]["ok"] and d["symbols_missing"]>0 else 1)' "$results/gpu-engine-abi.json" 2>/dev/null; then
    abi_state=partial
  fi
fi
case $abi_state in
  ok) [ $dry = 1 ] || note abi ok "libLibTorchSharp.so binds to $torch_lib" ;;
  partial) note abi partial "some libtorch symbols LibTorchSharp imports are missing (gpu-engine-abi.json lists them); going on: with lazy binding only a call to one of them fails" ;;
  *) note abi failed "TorchSharp's native library does not bind to this libtorch: $(cat "$work/abi.log" "$work/abi.err" 2>/dev/null | tr '\n' ' ' | cut -c1-2000). Next step: docs/gpu.md, 'If the ABI check fails'"
     finish 1 ;;
esac
[ $abi_only = 1 ] && finish 0

# 3. stories260K on cuda and cpu
story() { run "stories-$1" "$bundle/pdrdma" generate --model "$models/stories260K.bin" --steps 200 --temperature 0 --device "$1" --stats; }
story "$device"; rc_cuda=$?
story cpu; rc_cpu=$?
if [ $dry = 0 ]; then
  "$python" - "$work/stories-$device.log" "$work/stories-cpu.log" "$models/expected-greedy-200.txt" "$rc_cuda" "$rc_cpu" "$device" \
      "$work/stories-$device.err" > "$results/gpu-engine-stories260K.json" <<'PY'
import json, sys
def read(p):
    try:
        return open(p, "rb").read()
    except OSError:
        return b""
cuda, cpu, ref = read(sys.argv[1]), read(sys.argv[2]), read(sys.argv[3])
print(json.dumps({"model": "stories260K", "steps": 200, "temperature": 0, "device": sys.argv[6],
    "exit_cuda": int(sys.argv[4]), "exit_cpu": int(sys.argv[5]),
    "identical_to_cpu": int(sys.argv[4]) == 0 and int(sys.argv[5]) == 0 and cuda == cpu and len(cuda) > 0,
    "identical_to_llama2c": cuda == ref, "cpu_identical_to_llama2c": cpu == ref,
    "bytes_cuda": len(cuda), "bytes_cpu": len(cpu), "text_cuda": cuda.decode("utf-8", "replace")[:400],
    "stats_cuda": read(sys.argv[7]).decode("utf-8", "replace")[-600:]}, indent=2))
PY
  if grep -q '"identical_to_cpu": true' "$results/gpu-engine-stories260K.json"; then note stories260K ok "200 greedy steps on $device identical to the cpu"
  else note stories260K failed "$(head -c 1500 "$work/stories-$device.err" | tr '\n' ' ')"; fi
fi

# 4. the random model: ours (colocated + split) and PyTorch eager on the same weights
run export "$bundle/pdrdma" model-export --model "$spec" --out "$work/random.bin" || { note export failed "$(cat "$work/export.err" | tr '\n' ' ')"; finish 1; }
# On the cpu (a rehearsal) the split stages its host pools as the GPU run stages its device pools.
stage_kv=(); [ "$device" = cpu ] && stage_kv=(--stage-kv)
run engine "$bundle/pdrdma" engine-check --model "$spec" --device "$device" --dtype "$dtype" --prompt-len "$prompt_len" --decode-steps "$decode_steps" \
    --batches 1,8 --split "${stage_kv[@]}" --json "$results/gpu-engine-random-pdrdma.json" \
  || note engine failed "$(tail -c 1500 "$work/engine.err" | tr '\n' ' ')"
run torch-ref "$python" "$bundle/torch_llama_ref.py" --weights "$work/random.bin" --backend "$reference" --device "$device" --dtype "$dtype" --prompt-len "$prompt_len" \
    --decode-steps "$decode_steps" --batches 1,8 --json "$results/gpu-engine-random-torch.json" \
  || note torch-ref failed "$(tail -c 1500 "$work/torch-ref.err" | tr '\n' ' ')"
[ $dry = 1 ] && finish 0
"$python" - "$results/gpu-engine-random-pdrdma.json" "$results/gpu-engine-random-torch.json" > "$results/gpu-engine-random.json" <<'PY'
import json, sys
def load(p):
    try:
        return json.load(open(p))
    except (OSError, ValueError):
        return None
ours, ref = load(sys.argv[1]), load(sys.argv[2])
out = {"ours": bool(ours), "torch": bool(ref), "targets": {"prefill_throughput_ratio": ">= 0.8", "tpot_ratio_b1": "<= 1.25",
       "tpot_ratio_b8": "<= 1.25", "split_ttft_ratio": "<= 1.05", "split_tpot_ratio": "<= 1.02", "split_identical": True}}
if ours and ref:
    out["prefill_throughput_ratio"] = ours["prefill_tokens_per_s"] / ref["prefill_tokens_per_s"]
    out["ttft_ms"] = {"pdrdma": ours["ttft_ms"], "torch": ref["ttft_ms"]}
    for b in ("1", "8"):
        if b in ours["tpot_ms"] and b in ref["tpot_ms"]:
            out[f"tpot_ratio_b{b}"] = ours["tpot_ms"][b] / ref["tpot_ms"][b]
            out[f"tpot_ms_b{b}"] = {"pdrdma": ours["tpot_ms"][b], "torch": ref["tpot_ms"][b]}
    a, b = ours["tokens"], ref["tokens"]
    same = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    out["tokens_agree_with_torch"] = {"first_difference": same, "of": min(len(a), len(b)), "note": "bf16 kernels differ; agreement is reported, not required"}
    out["torch_version"] = ref.get("version")
if ours and "split" in ours:
    s = ours["split"]
    out["split"] = {k: s.get(k) for k in ("backend", "kv_staged", "identical", "ttft_ratio", "tpot_ratio", "colocated_ttft_ms", "split_ttft_ms", "colocated_tpot_ms", "split_tpot_ms", "kv_bytes", "device_copy")}
    out["split_ttft_ratio"], out["split_tpot_ratio"], out["split_identical"] = s["ttft_ratio"], s["tpot_ratio"], s["identical"]
checks = [out.get("prefill_throughput_ratio", 0) >= 0.8, out.get("tpot_ratio_b1", 9) <= 1.25, out.get("tpot_ratio_b8", 9) <= 1.25,
          out.get("split_ttft_ratio", 9) <= 1.05, out.get("split_tpot_ratio", 9) <= 1.02, out.get("split_identical") is True]
out["targets_met"] = all(checks)
print(json.dumps(out, indent=2))
PY
note random-model "$( [ -s "$results/gpu-engine-random-pdrdma.json" ] && [ -s "$results/gpu-engine-random-torch.json" ] && echo ok || echo failed)" "$(tr -d '\n' < "$results/gpu-engine-random.json" | cut -c1-1500)"
finish 0
