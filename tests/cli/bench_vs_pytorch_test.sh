#!/usr/bin/env bash
# scripts/bench_vs_pytorch.sh end to end at a toy size: both sides run back to back, every run is a JSON
# line, and the table carries both ratios.   usage: bench_vs_pytorch_test.sh SCRIPT BUILD_DIR
set -euo pipefail
script=$1
build_dir=$2
mkdir -p "${PROPNET_TEST_TMP:-/tmp}"
out=$(mktemp -d "${PROPNET_TEST_TMP:-/tmp}/bench-vs-pytorch.XXXXXX")
trap 'rm -rf "$out"' EXIT

report=$("$script" --build-dir "$build_dir" --depths 8 --repeats 2 --steps 2 --warmup 1 --batch-size 8 \
  --out "$out" 2>&1) || { echo "$report"; exit 1; }
echo "$report"
# depth, mode, propnet, PyTorch, ratio of medians, paired ratio (range), same mode, ratio
grep -Eq '^\| 8 \| fp32 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+x \| [0-9.]+x \([0-9.]+-[0-9.]+\) \| [0-9.]+ \| [0-9.]+x \|$' \
  <<<"$report" || { echo "FAIL: no complete table row"; exit 1; }
grep -q '^propnet on CPU: fused BN+ReLU \(on\|off\); host allocator: .*; mode fp32 runs channels_last \(on\|off\)' <<<"$report" || { echo "FAIL: no settings line"; exit 1; }
jsonl=$(ls "$out"/bench-*.jsonl)
for tool in propnet pytorch; do
  n=$(grep -c "\"tool\": \"$tool\"" "$jsonl")
  [ "$n" -eq 2 ] || { echo "FAIL: $n $tool runs in $jsonl, expected 2"; exit 1; }
done

if "$script" --build-dir "$build_dir" --bogus >/dev/null 2>&1; then echo "FAIL: accepted --bogus"; exit 1; fi
if "$script" --build-dir "$out/none" >/dev/null 2>&1; then echo "FAIL: ran without a build"; exit 1; fi
echo "bench_vs_pytorch: ok"
