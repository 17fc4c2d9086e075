#!/usr/bin/env bash
# propnet's training step side by side with the same step written in PyTorch (scripts/bench_pytorch.py:
# the same pre-activation ResNet, batch, loss and Nesterov SGD, eager, the way users write it), on the
# same device, in one invocation. Runs alternate (propnet, PyTorch, propnet, ...) so that both see the
# same machine load; each figure is the median over --repeats runs of the median step.
#
#   scripts/bench_vs_pytorch.sh                                   # CPU: preresnet 20 and 110, batch 64, fp32
#   scripts/bench_vs_pytorch.sh --device cuda --modes "fp32 bf16 bf16-graph"
#   scripts/bench_vs_pytorch.sh --epoch --depths 20 --subset 3200 # a training epoch on Fashion-MNIST:
#                                                                 # `propnet train` vs a torchvision DataLoader script
# Options: --build-dir DIR (default build), --python PY (whose torch is the PyTorch side; default: the
# interpreter the build was configured with, i.e. the same torch as the C++ build; e.g. --python
# .venv/bin/python puts propnet on Debian's LibTorch beside PyPI's PyTorch), --depths "20 110", --batch-size 64,
# --steps 20, --warmup 5, --repeats 3, --device cpu|cuda, --threads N,
# --modes "fp32 fp32-cl bf16 bf16-cl bf16-graph fp32-graph" (propnet settings; PyTorch runs fp32 eager,
# plus the same amp/channels_last without graph for comparison), --out DIR (JSON lines; default
# results/bench), --subset N and --workers N (--epoch only).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

build_dir="$root/build"
python=""
depths="20 110"
batch=64
steps=20
warmup=5
repeats=3
device=cpu
threads=""
modes="fp32"
out="$root/results/bench"
epoch=0
subset=3200
workers=2
usage() { sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build_dir="$2"; shift 2 ;;
    --python) python="$2"; shift 2 ;;
    --depths) depths="$2"; shift 2 ;;
    --batch-size) batch="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --repeats) repeats="$2"; shift 2 ;;
    --device) device="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --modes) modes="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --epoch) epoch=1; shift ;;
    --subset) subset="$2"; shift 2 ;;
    --workers) workers="$2"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "bench_vs_pytorch.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

propnet="$build_dir/apps/propnet"
[ -x "$propnet" ] || { echo "bench_vs_pytorch.sh: no $propnet; build first (scripts/build.sh)" >&2; exit 2; }
if [ -z "$python" ]; then
  # The build records its interpreter (Debian's python3-torch for the apt build, the venv for pip).
  python=$(sed -n 's/^PROPNET_PYTHON:[A-Z]*=//p' "$build_dir/CMakeCache.txt" 2>/dev/null || true)
  [ -n "$python" ] || python=/usr/bin/python3
fi
"$python" -c 'import torch' 2>/dev/null || { echo "bench_vs_pytorch.sh: $python has no torch; pass --python" >&2; exit 2; }
mkdir -p "$out"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
log="$out/bench-$stamp.jsonl"
thread_flag=()
[ -n "$threads" ] && thread_flag=(--threads "$threads")

# A mode names propnet's settings: fp32|bf16, "-cl" channels_last, "-graph" CUDA graph (+ channels_last).
propnet_flags() {
  case "$1" in bf16*) echo -n "--amp bf16 " ;; esac
  case "$1" in *-cl*) echo -n "--channels-last " ;; *-graph*) echo -n "--cuda-graph --channels-last " ;; esac
}
# PyTorch eager has no whole-step capture: its counterpart of "-graph" is the same amp with channels_last.
pytorch_mode() { echo "${1/-graph/-cl}"; }
pytorch_flags() {
  case "$1" in bf16*) echo -n "--amp bf16 " ;; esac
  case "$1" in *-cl*) echo -n "--channels-last " ;; esac
}
# Adds {"mode", "repeat"} to a tool's JSON line.
tag() { python3 -c 'import json,sys; d=json.loads(sys.argv[3]); d.update(mode=sys.argv[1], repeat=int(sys.argv[2])); print(json.dumps(d))' "$@"; }

run_step_benchmarks() {
  for depth in $depths; do
    for ((r = 1; r <= repeats; r++)); do
      declare -A done_pytorch=()
      # shellcheck disable=SC2086  # $modes is a word list
      for mode in $(printf '%s\n' fp32 $modes | awk '!seen[$0]++'); do  # fp32 first: the baseline
        if [ "$mode" != fp32 ] || [[ " $modes " == *" fp32 "* ]]; then
          # shellcheck disable=SC2046  # the flag lists are meant to split
          tag "$mode" "$r" "$("$propnet" bench --net preresnet --depth "$depth" --batch-size "$batch" --steps "$steps" \
            --warmup "$warmup" --device "$device" "${thread_flag[@]}" $(propnet_flags "$mode") --json)" >> "$log"
        fi
        local pmode
        pmode=$(pytorch_mode "$mode")
        [ -n "${done_pytorch[$pmode]:-}" ] && continue
        done_pytorch[$pmode]=1
        # shellcheck disable=SC2046
        tag "$pmode" "$r" "$("$python" "$root/scripts/bench_pytorch.py" step --depth "$depth" --batch-size "$batch" \
          --steps "$steps" --warmup "$warmup" --device "$device" "${thread_flag[@]}" $(pytorch_flags "$pmode"))" >> "$log"
      done
      unset done_pytorch
    done
  done
}

run_epoch_benchmarks() {
  local data=/usr/share/datasets/fashion-mnist
  [ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "bench_vs_pytorch.sh: --epoch needs Fashion-MNIST in $data" >&2; exit 2; }
  local runs
  runs=$(mktemp -d)
  for depth in $depths; do
    for ((r = 1; r <= repeats; r++)); do
      "$propnet" train --net preresnet --depth "$depth" --dataset fashion-mnist --subset "$subset" --test-subset 100 \
        --epochs 1 --batch-size "$batch" --seeds 0 --device "$device" "${thread_flag[@]}" --out "$runs" \
        --name "d$depth-r$r" -q >/dev/null
      "$python" - "$runs/d$depth-r$r/seed-0/metrics.jsonl" "$depth" "$r" "$subset" "$batch" >> "$log" <<'PY'
import json, sys
m = json.loads(open(sys.argv[1]).readline())
print(json.dumps({"tool": "propnet", "mode": "epoch", "depth": int(sys.argv[2]), "repeat": int(sys.argv[3]),
                  "images": int(sys.argv[4]), "batch_size": int(sys.argv[5]), "images_per_s": m["images_per_s"]}))
PY
      q=$("$python" "$root/scripts/bench_pytorch.py" epoch --depth "$depth" --subset "$subset" --batch-size "$batch" \
            --workers "$workers" --device "$device" "${thread_flag[@]}")
      tag epoch "$r" "$(echo "$q" | python3 -c 'import json,sys; d=json.load(sys.stdin); d["images_per_s"]=d["epoch_images_per_s"]; print(json.dumps(d))')" >> "$log"
    done
  done
  rm -rf "$runs"
}

if [ "$epoch" = 1 ]; then run_epoch_benchmarks; else run_step_benchmarks; fi

python3 - "$log" <<'PY'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def median(tool, depth, mode):
    v = [r["images_per_s"] for r in rows if r["tool"] == tool and r["depth"] == depth and r["mode"] == mode]
    return (statistics.median(v), len(v)) if v else (None, 0)
first = rows[0]
device = first.get("device_name") or first.get("device", "")
versions = lambda tool: ", ".join(sorted({r.get("torch_version", "?") for r in rows if r["tool"] == tool})) or "–"
print(f"\npreresnet, batch {first.get('batch_size')}, {device}; propnet on LibTorch {versions('propnet')}, "
      f"PyTorch {versions('pytorch')}; images/s = median over repeats of (batch / median step)"
      if rows[0]["mode"] != "epoch" else
      f"\npreresnet, one training epoch on Fashion-MNIST ({first.get('images')} images, batch {first.get('batch_size')}): "
      "propnet train vs PyTorch + torchvision DataLoader; images/s of the training phase")
def paired(depth, mode, base_mode):
    """Median over repeats of propnet / PyTorch within one repeat: the two ran back to back, so slow
    drifts of a shared machine cancel; robuster than the ratio of the two medians."""
    by_repeat = lambda tool, m: {r["repeat"]: r["images_per_s"] for r in rows
                                 if r["tool"] == tool and r["depth"] == depth and r["mode"] == m}
    p, q = by_repeat("propnet", mode), by_repeat("pytorch", base_mode)
    ratios = [p[k] / q[k] for k in p if k in q and q[k]]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "–"
print("| depth | propnet mode | propnet images/s | PyTorch eager fp32 | ratio | paired ratio, median (range) "
      "| PyTorch same mode | ratio |")
print("|---|---|---|---|---|---|---|---|")
for depth in sorted({r["depth"] for r in rows}):
    for mode in dict.fromkeys(r["mode"] for r in rows if r["tool"] == "propnet" and r["depth"] == depth):
        p, n = median("propnet", depth, mode)
        base, _ = median("pytorch", depth, "fp32" if mode != "epoch" else "epoch")
        same, _ = median("pytorch", depth, mode.replace("-graph", "-cl"))
        fmt = lambda x: f"{x:.1f}" if x is not None else "–"
        ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "–"
        base_mode = "fp32" if mode != "epoch" else "epoch"
        print(f"| {depth} | {mode} | {fmt(p)} | {fmt(base)} | {ratio(p, base)} | {paired(depth, mode, base_mode)} "
              f"| {fmt(same)} | {ratio(p, same)} |")
host = next((r for r in rows if r.get("cpu_model") is not None), None)
if host:  # bf16 speed depends on the units (README: Performance)
    print(f"CPU: {host['cpu_model'] or 'model unknown'} ({' '.join(host['cpu_features']) or 'no AVX2'})")
cpu = next((r for r in rows if r["tool"] == "propnet" and "host_allocator" in r and r.get("device") == "cpu"), None)
if cpu:  # what propnet does on the CPU that the PyTorch script does not (README: Performance)
    print(f"\npropnet on CPU: fused BN+ReLU {'on' if cpu.get('fused_bn_relu') else 'off'}; "
          f"host allocator: {cpu['host_allocator']}; mode fp32 runs channels_last "
          f"{'on (the auto default)' if cpu.get('channels_last') else 'off'}; PyTorch fp32 runs NCHW")
print(f"\nraw results (one JSON per run): {sys.argv[1]}")
PY
