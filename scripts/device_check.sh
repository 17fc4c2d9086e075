#!/usr/bin/env bash
# The GPU check: one run on a lent GPU machine gives every CUDA figure propnet needs.
#
# Here (Debian, apt works), once:   scripts/device_check.sh --prepare
#   downloads the header/library packages the GPU machine lacks (cxxopts, spdlog, fmt, nlohmann_json,
#   GoogleTest, zlib) as .deb files into .deps/debs, and copies Fashion-MNIST into .deps/fashion-mnist.
# There (the device tool, carry [".deps"]):   scripts/device_check.sh
#   unpacks them with dpkg -x, builds propnet against python3's CUDA LibTorch, then, most valuable first:
#   the CUDA tests; a graphed bf16 + channels_last Fashion-MNIST training (preresnet-110, 2 short epochs,
#   lr drop and re-capture in epoch 2) beside its eager twin, both --deterministic, compared; the graphed
#   run autotuned (its images/s against bench's); scripts/lab bench at depths 20 and 110.
#   Every step has a time budget and runs even if an earlier one failed (unless it needs its output).
#   Results, failures included: $OUT (or results/device): steps.tsv, device_check.log, JSON lines.
# Here, without a GPU:   scripts/device_check.sh --offline-check [--python PY]
#   unpacks .deps/debs, checks the sysroot has no dangling links and that CMake configures against it
#   and PY's LibTorch with the system's own /usr hidden.
# Options: --deps DIR (default .deps), --python PY (default python3), --allow-cpu (the GPU steps on a
#   CPU, to check the script), --budget S (total seconds; default 450).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/.deps"
out="${OUT:-$root/results/device}"
mode=check
allow_cpu=0
python="${PYTHON:-python3}"  # the GPU machine's python3 holds its CUDA torch
total_budget=450             # the device tool allows 600 s per command; keep a margin for the transfers
usage() { sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) mode=prepare; shift ;;
    --offline-check) mode=offline; shift ;;
    --allow-cpu) allow_cpu=1; shift ;;
    --deps) deps="${2:?--deps needs a folder}"; shift 2 ;;
    --python) python="${2:?--python needs an interpreter}"; shift 2 ;;
    --budget) total_budget="${2:?--budget needs seconds}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "device_check.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
sysroot="$deps/root"

packages=(libcxxopts-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev libgtest-dev libgmock-dev
          zlib1g-dev zlib1g)
if [ "$mode" = prepare ]; then
  set -e
  rm -rf "$deps/debs" && mkdir -p "$deps/debs"
  (cd "$deps/debs" && apt-get download "${packages[@]}")
  mkdir -p "$deps/fashion-mnist"
  cp /usr/share/datasets/fashion-mnist/*.gz "$deps/fashion-mnist/"
  du -sh "$deps"
  echo "prepared; now run it on the GPU machine with carry [\".deps\"]"
  exit 0
fi

# Unpacks the carried .deb files into $sysroot. Debian ships some links absolute (zlib1g-dev's
# libz.so -> /lib/x86_64-linux-gnu/libz.so.1.2.13), which would point into the host and dangle on
# another distribution: they are made relative, into the sysroot. Fails on any link left dangling.
unpack_sysroot() {
  [ -d "$deps/debs" ] || { echo "device_check.sh: no $deps/debs (run --prepare on a Debian machine)" >&2; return 1; }
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  local deb link
  for deb in "$deps"/debs/*.deb; do dpkg -x "$deb" "$sysroot" || return 1; done
  rm -rf "$sysroot/usr/src" "$sysroot/usr/share/doc"  # unused, and usr/src/gtest links to an uncarried package
  while IFS= read -r -d '' link; do
    ln -sfnr "$sysroot$(readlink "$link")" "$link" || return 1
  done < <(find "$sysroot" -type l -lname '/*' -print0)
  local dangling
  dangling=$(find "$sysroot" -xtype l)
  [ -z "$dangling" ] || { echo "device_check.sh: dangling links in the sysroot:"; echo "$dangling"; return 1; }
  echo "sysroot: $(find "$sysroot" -type f | wc -l) files, no dangling links"
}

torch_prefix() { "$python" -c 'import torch; print(torch.utils.cmake_prefix_path)'; }

# configure BUILD [extra cmake args]: propnet against $python's LibTorch and the sysroot.
configure() {  # unity batches of 8, not 32: 16 cores want more files than a 2-core machine
  local build=$1; shift
  command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPROPNET_PYTHON="$(command -v "$python")" \
    -DCMAKE_PREFIX_PATH="$(torch_prefix);$sysroot/usr;$sysroot" -DPROPNET_INSTALL=OFF \
    -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 "$@" > "$build.configure.log" 2>&1 \
    || { tail -40 "$build.configure.log"; return 1; }
  grep -E "^-- propnet:" "$build.configure.log"
  # Where each carried dependency was found, for a log that explains a failure by itself.
  grep -E "^(ZLIB_LIBRARY_RELEASE|ZLIB_INCLUDE_DIR|nlohmann_json_DIR|cxxopts_DIR|spdlog_DIR|fmt_DIR|GTest_DIR):" \
    "$build/CMakeCache.txt" || true
}

if [ "$mode" = offline ]; then
  set -e
  unpack_sysroot
  build=$(mktemp -d "${TMPDIR:-/tmp}/device-check-configure.XXXXXX")
  trap 'rm -rf "$build" "$build.configure.log"' EXIT
  # /usr hidden: everything but the compiler, CUDA (/usr/local/cuda) and LibTorch must come from the sysroot.
  configure "$build" -DCMAKE_IGNORE_PREFIX_PATH=/usr -DCMAKE_SYSTEM_IGNORE_PREFIX_PATH=/usr
  found=$(grep -E "^(ZLIB_LIBRARY_RELEASE|ZLIB_INCLUDE_DIR|nlohmann_json_DIR|cxxopts_DIR|spdlog_DIR|GTest_DIR):" \
            "$build/CMakeCache.txt")
  [ "$(echo "$found" | wc -l)" -eq 6 ] || { echo "device_check.sh: expected 6 carried dependencies, found:"; echo "$found"; exit 1; }
  outside=$(echo "$found" | grep -v "=$sysroot" || true)
  [ -z "$outside" ] || { echo "device_check.sh: found outside the sysroot:"; echo "$outside"; exit 1; }
  echo "offline check passed: the sysroot is complete and self-contained"
  exit 0
fi

# --- the GPU run ------------------------------------------------------------------------------------
mkdir -p "$out"
exec > >(tee "$out/device_check.log") 2>&1
tee_pid=$!
started=$(date +%s)
printf 'step\tstatus\tseconds\tbudget_s\n' > "$out/steps.tsv"

# step NAME BUDGET COMMAND...: runs COMMAND under `timeout` (its budget, cut to what is left of the
# total), records NAME, ok/failed/timeout and its seconds in steps.tsv, and never stops the script.
step() {
  local name=$1 budget=$2; shift 2
  local now left rc=0
  now=$(date +%s)
  left=$((total_budget - (now - started)))
  [ "$left" -lt "$budget" ] && budget=$left
  if [ "$budget" -le 5 ]; then
    printf '%s\tskipped (no time left)\t0\t0\n' "$name" >> "$out/steps.tsv"
    echo "=== $name: skipped, the total budget of $total_budget s is spent"
    return 0
  fi
  echo "=== $name (budget $budget s; $((now - started)) s of $total_budget s used)"
  # A fresh bash runs it, so that a step may be one of this script's (exported) functions.
  timeout --kill-after=10 "$budget" bash -c '"$@"' step "$@" || rc=$?
  local took=$(($(date +%s) - now)) status=ok
  [ "$rc" -eq 0 ] || status="failed (exit $rc)"
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && status="timeout"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$took" "$budget" >> "$out/steps.tsv"
  echo "=== $name: $status after $took s"
}

# skip NAME WHY: a step that cannot run, recorded as such.
skip() { printf '%s\tskipped (%s)\t0\t0\n' "$1" "$2" >> "$out/steps.tsv"; echo "=== $1: skipped, $2"; }

versions() {
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  cmake --version | head -1; c++ --version | head -1; ninja --version || true
  (command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"; nvcc --version | tail -2) || true
  "$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
torch.backends.cudnn.version(), "cxx11 abi", torch._C._GLIBCXX_USE_CXX11_ABI, "gpu", torch.cuda.is_available())'
}

"$python" -c 'import torch' || { echo "device_check.sh: $python has no torch" >&2; exit 1; }
cuda=$("$python" -c 'import torch; print(int(torch.cuda.is_available()))')
if [ "$cuda" != 1 ] && [ "$allow_cpu" != 1 ]; then
  echo "device_check.sh: no CUDA device (use --allow-cpu to check the script)" >&2; exit 1
fi
device=$([ "$cuda" = 1 ] && echo cuda || echo cpu)
build="$root/build-device"
propnet="$build/apps/propnet"
data="$deps/fashion-mnist"
[ -d "$data" ] || data=/usr/share/datasets/fashion-mnist
export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"

export root deps sysroot python build propnet device data out
export -f versions unpack_sysroot torch_prefix configure
step versions 20 versions
step sysroot 30 unpack_sysroot
step configure 60 configure "$build"
step build 200 cmake --build "$build" --parallel "$(nproc)" --target propnet_cli propnet_train_tests

if [ -x "$build/tests/propnet_train_tests" ]; then
  # The CUDA tests (graph vs eager at every precision and layout, resume), GPU-written files, and
  # whether Python still loads model.pt under this torch; nothing else of the CPU suite: CI runs that.
  step cuda_tests 60 env PROPNET_TEST_TMP="$build/tmp" "$build/tests/propnet_train_tests" --gtest_brief=1 \
    --gtest_filter='*Cuda*:*Gpu*:*ModelFileLoadsInPython*' --gtest_output="json:$out/cuda_tests.json"
else
  skip cuda_tests "no test binary"
fi

# Fashion-MNIST, preresnet-110, 2 epochs of 20,000 images: the lr drops at epoch 2, so the graphed run
# re-captures; eval runs through the eval graph. Graph and eager twins agree only if both are deterministic.
train_run() {  # NAME FLAGS...
  local name=$1; shift
  "$propnet" train --net preresnet --depth 110 --dataset fashion-mnist --data-dir "$data" --epochs 2 \
    --subset 20000 --seeds 0 --device "$device" "$@" --out "$build/runs" --name "$name" --restart -q
  local rc=$?
  cp "$build/runs/$name/seed-0/metrics.jsonl" "$out/$name.jsonl" 2>/dev/null || true
  return $rc
}
export -f train_run
if [ -x "$propnet" ] && [ -f "$data/train-images-idx3-ubyte.gz" ]; then
  step train_graph_det 50 train_run fmnist-110-bf16-graph-det --amp bf16 --channels-last --cuda-graph --deterministic
  step train_eager_det 60 train_run fmnist-110-bf16-eager-det --amp bf16 --channels-last --deterministic
  step compare 10 "$python" - "$out/fmnist-110-bf16-graph-det.jsonl" "$out/fmnist-110-bf16-eager-det.jsonl" \
    "$out/graph_vs_eager.json" <<'EOF'
import json, sys
def epochs(path):
    return [json.loads(line) for line in open(path) if line.strip()]
graph, eager = epochs(sys.argv[1]), epochs(sys.argv[2])
assert len(graph) == len(eager) > 0, f"epochs: graph {len(graph)}, eager {len(eager)}"
keys = [k for k, v in graph[-1].items() if isinstance(v, (int, float)) and ("loss" in k or "acc" in k)]
diff = {k: [abs(g[k] - e[k]) for g, e in zip(graph, eager)] for k in keys if k in eager[-1]}
json.dump({"max_abs_difference": {k: max(v) for k, v in diff.items()}, "graph": graph[-1], "eager": eager[-1]},
          open(sys.argv[3], "w"), indent=1)
for k, v in diff.items():
    print(f"graph vs eager (bf16, deterministic) {k}: max |difference| over epochs {max(v):.3g}")
EOF
  step train_graph 50 train_run fmnist-110-bf16-graph --amp bf16 --channels-last --cuda-graph
else
  skip train "no propnet binary or no Fashion-MNIST"
fi

if [ -x "$propnet" ]; then
  modes="fp32 bf16 bf16-graph"
  [ "$device" = cpu ] && modes="fp32"
  step bench 100 bash -c 'LAB_PYTHON="$2" "$0/scripts/lab" bench --build-dir "$1" --python "$2" --device "$3" \
    --depths "20 110" --modes "$4" --steps 30 --warmup 10 --repeats 1 --out "$5" | tee "$5/bench_table.md"' \
    "$root" "$build" "$python" "$device" "$modes" "$out"
else
  skip bench "no propnet binary"
fi

echo "=== summary ($(($(date +%s) - started)) s of $total_budget s)"
column -t -s $'\t' "$out/steps.tsv" 2>/dev/null || cat "$out/steps.tsv"
exec >&- 2>&-
wait "$tee_pid"
