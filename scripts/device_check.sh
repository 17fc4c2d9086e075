#!/usr/bin/env bash
# The GPU check: one run on a lent GPU machine gives every CUDA figure propnet needs.
#
# Here (Debian, apt works), once:   scripts/device_check.sh --prepare
#   downloads the header/library packages the GPU machine lacks (cxxopts, spdlog, fmt, nlohmann_json,
#   GoogleTest, zlib) as .deb files into .deps/debs, and copies Fashion-MNIST into .deps/fashion-mnist.
# There (the device tool, carry [".deps"]):   scripts/device_check.sh
#   unpacks them with dpkg -x, builds propnet against python3's CUDA LibTorch
#   (torch.utils.cmake_prefix_path), runs the CUDA tests, then scripts/bench_vs_pytorch.sh for
#   preresnet 20 and 110 (fp32 eager, bf16, bf16 + channels_last + CUDA graph) and a one-epoch
#   Fashion-MNIST train eager vs graphed. Results: $OUT (or results/device) as JSON lines + a log.
# Target: under 8 minutes on 16 cores. --allow-cpu runs the same steps without a GPU (script check).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
deps="$root/.deps"
out="${OUT:-$root/results/device}"
mode=check
allow_cpu=0
for arg in "$@"; do
  case "$arg" in
    --prepare) mode=prepare ;;
    --allow-cpu) allow_cpu=1 ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "device_check.sh: unknown option '$arg'" >&2; exit 2 ;;
  esac
done

packages=(libcxxopts-dev libspdlog-dev libspdlog1.10 libfmt-dev libfmt9 nlohmann-json3-dev libgtest-dev libgmock-dev
          zlib1g-dev zlib1g)
if [ "$mode" = prepare ]; then
  rm -rf "$deps/debs" && mkdir -p "$deps/debs"
  (cd "$deps/debs" && apt-get download "${packages[@]}")
  mkdir -p "$deps/fashion-mnist"
  cp /usr/share/datasets/fashion-mnist/*.gz "$deps/fashion-mnist/"
  du -sh "$deps"
  echo "prepared; now run it on the GPU machine with carry [\".deps\"]"
  exit 0
fi

mkdir -p "$out"
exec > >(tee "$out/device_check.log") 2>&1
started=$(date +%s)
elapsed() { echo "[$(($(date +%s) - started)) s] $*"; }
python="${PYTHON:-python3}"  # the GPU machine's python3 holds its CUDA torch
"$python" -c 'import torch' || { echo "device_check.sh: $python has no torch" >&2; exit 1; }
cuda=$("$python" -c 'import torch; print(int(torch.cuda.is_available()))')
if [ "$cuda" != 1 ] && [ "$allow_cpu" != 1 ]; then echo "device_check.sh: no CUDA device (use --allow-cpu to check the script)" >&2; exit 1; fi
device=$([ "$cuda" = 1 ] && echo cuda || echo cpu)
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null || true
"$python" -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda)'

# --- header/library packages carried from Debian -------------------------------------------------
sysroot="$deps/root"
if [ -d "$deps/debs" ]; then
  rm -rf "$sysroot" && mkdir -p "$sysroot"
  for f in "$deps"/debs/*.deb; do dpkg -x "$f" "$sysroot"; done
  export LD_LIBRARY_PATH="$sysroot/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi
elapsed "dependencies ready"

# --- build against python3's LibTorch ------------------------------------------------------------
build="$root/build-device"
torch_prefix=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
command -v nvcc >/dev/null || export PATH="/usr/local/cuda/bin:$PATH"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DPROPNET_PYTHON="$(command -v "$python")" \
  -DCMAKE_PREFIX_PATH="$torch_prefix;$sysroot/usr" -DPROPNET_INSTALL=OFF > "$build.configure.log" 2>&1 \
  || { tail -40 "$build.configure.log"; exit 1; }
grep -E "^-- propnet:" "$build.configure.log" || true
cmake --build "$build" --parallel "$(nproc)" --target propnet_cli propnet_train_tests
elapsed "built"

# --- CUDA tests ------------------------------------------------------------------------------------
PROPNET_TEST_TMP="$build/tmp" "$build/tests/propnet_train_tests" --gtest_brief=1 \
  --gtest_output="json:$out/train_tests.json" || echo "TRAIN TESTS FAILED"
elapsed "tests done"

# --- benchmarks: propnet beside PyTorch eager, same GPU, same run -------------------------------
modes="fp32 bf16 bf16-graph"
[ "$device" = cpu ] && modes="fp32"
"$root/scripts/bench_vs_pytorch.sh" --build-dir "$build" --python "$python" --device "$device" --depths "20 110" \
  --modes "$modes" --steps 50 --warmup 10 --repeats 2 --out "$out" | tee "$out/bench_table.md"
elapsed "benchmarks done"

# --- one Fashion-MNIST epoch, eager vs graphed (cuDNN benchmark on), for the epoch time -------------
data="$deps/fashion-mnist"
[ -d "$data" ] || data=/usr/share/datasets/fashion-mnist
if [ -f "$data/train-images-idx3-ubyte.gz" ]; then
  for flags in "" "--amp bf16 --channels-last --cuda-graph"; do
    name="fmnist-110$(echo "$flags" | tr -d ' -')"
    # shellcheck disable=SC2086  # $flags is a flag list
    "$build/apps/propnet" train --net preresnet --depth 110 --dataset fashion-mnist --data-dir "$data" --epochs 2 \
      --seeds 0 --device "$device" $flags --out "$build/runs" --name "$name" --restart -q || echo "TRAIN FAILED: $flags"
    cp "$build/runs/$name/seed-0/metrics.jsonl" "$out/$name.jsonl" 2>/dev/null || true
  done
fi
elapsed "done"
