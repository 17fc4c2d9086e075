#!/usr/bin/env bash
# End-to-end checks of `propnet bench`: JSON keys and their consistency, --data-only, exit codes.
# No timing assertions: the numbers only have to be well-formed.
set -euo pipefail
propnet="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }

json=$("$propnet" bench --net preresnet --depth 8 --batch-size 4 --steps 3 --warmup 1 --device cpu --json)
python3 - "$json" <<'PY'
import json, math, sys
d = json.loads(sys.argv[1])
for key in ["images_per_s", "step_ms_p50", "step_ms_p90", "peak_mem_mb", "device", "torch_version", "parameters",
            "batch_size", "steps", "amp", "channels_last", "cuda_graph", "threads", "host_allocator",
            "fused_bn_relu", "cpu_model", "cpu_features"]:
    assert key in d, key
assert d["host_allocator"] == "malloc: mmap threshold 32 MiB, trim threshold 1 GiB", d
cpu_flags = open("/proc/cpuinfo").read().split()
assert d["fused_bn_relu"] == ("avx2" in cpu_flags and "fma" in cpu_flags), d  # on by default where it can run
assert d["channels_last"] == d["fused_bn_relu"], d  # --channels-last's default, auto: NHWC where the kernels run
assert d["device"] == "cpu" and d["batch_size"] == 4 and d["steps"] == 3 and d["parameters"] == 75290, d
assert d["step_ms_p90"] >= d["step_ms_p50"] > 0 and d["peak_mem_mb"] > 0, d
assert math.isclose(d["images_per_s"], 4000 / d["step_ms_p50"], rel_tol=1e-9), d
first = open("/proc/cpuinfo").read().split("\n\n")[0]  # the first processor, as propnet reads it
flags = next(line.split(":", 1)[1].split() for line in first.splitlines() if line.startswith("flags"))
assert d["cpu_features"] == [f for f in ["avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16"] if f in flags], d
PY

# bf16 autocast on the CPU: it runs, reports its precision, and warns in one line where the CPU has no bf16 units.
bf16_err=$(mktemp)
bf16=$("$propnet" bench --net preresnet --depth 8 --batch-size 4 --steps 1 --warmup 0 --device cpu --amp bf16 --json \
  2>"$bf16_err")
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["amp"] == "bf16" and d["images_per_s"] > 0, d' "$bf16"
if sed '/^$/q' /proc/cpuinfo | grep -qwE "amx_bf16|avx512_bf16"; then
  [ ! -s "$bf16_err" ] || fail "bf16 warned on a CPU with bf16 units: $(cat "$bf16_err")"
else
  grep -q "no AMX-BF16 and no AVX512-BF16" "$bf16_err" || fail "no bf16 warning on this CPU: $(cat "$bf16_err")"
  [ "$(wc -l < "$bf16_err")" -eq 1 ] || fail "expected one warning line: $(cat "$bf16_err")"
fi
rm -f "$bf16_err"
"$propnet" --version | grep -q "^CPU: " || fail "--version: no CPU line"

# The CPU settings' switches, as bench --json and --version report them.
allocator() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["host_allocator"])' "$1"; }
off=$(PROPNET_MALLOC_TUNING=0 "$propnet" bench --net preresnet --depth 8 --batch-size 4 --steps 1 --warmup 0 --json)
[ "$(allocator "$off")" = "PROPNET_MALLOC_TUNING=0" ] || fail "PROPNET_MALLOC_TUNING=0 ignored: $off"
users=$(GLIBC_TUNABLES=glibc.malloc.arena_max=2 "$propnet" bench --net preresnet --depth 8 --batch-size 4 --steps 1 \
  --warmup 0 --json)
[ "$(allocator "$users")" = "GLIBC_TUNABLES sets malloc options" ] || fail "the user's GLIBC_TUNABLES overridden: $users"
PROPNET_FUSED_BN_RELU=0 "$propnet" --version | grep -q "^fused CPU BN+ReLU: off" || fail "PROPNET_FUSED_BN_RELU=0 ignored"
layout() {  # extra bench flags: the channels_last it reports
  "$propnet" bench --net preresnet --depth 8 --batch-size 4 --steps 1 --warmup 0 --json "$@" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["channels_last"])'
}
[ "$(layout --channels-last=off)" = False ] || fail "--channels-last=off ignored"
[ "$(layout --channels-last)" = True ] || fail "--channels-last ignored"
[ "$(PROPNET_FUSED_BN_RELU=0 layout)" = False ] || fail "auto chose channels_last without the fused kernels"
"$propnet" --version | grep -q "^host allocator: malloc: mmap threshold 32 MiB" || fail "--version: host allocator"

"$propnet" bench --net preresnet --depth 8 --variant proportional --batch-size 4 --steps 2 --warmup 0 --channels-last \
  --device cpu | grep -q "images/s" || fail "text output"
data=$("$propnet" bench --data-only --batch-size 16 --steps 5 --device cpu --json)
python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["mode"] == "data-only" and d["images_per_s"] > 0, d' "$data"

expect_usage_error() {  # message args...: exit 2 and the message, one line, no backtrace
  local message="$1"; shift
  set +e
  err=$("$propnet" "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "expected exit 2 for '$*' (got $rc: $err)"
  printf '%s' "$err" | grep -qF -- "$message" || fail "expected '$message' for '$*' (got: $err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line for '$*' (got: $err)"
}
expect_usage_error "CUDA graphs need a CUDA device" bench --net preresnet --depth 8 --device cpu --cuda-graph
expect_usage_error "fp16 autocast needs a CUDA device" bench --net preresnet --depth 8 --device cpu --amp fp16
expect_usage_error "--amp: expected off, bf16 or fp16" bench --net preresnet --depth 8 --amp fp8
expect_usage_error "--channels-last: expected on, off or auto" bench --net preresnet --depth 8 --channels-last=yes
expect_usage_error "depth must be 6n+2" bench --net preresnet --depth 9 --device cpu
expect_usage_error "--net is required" bench --depth 8
expect_usage_error "drop --net" bench --data-only --net preresnet --depth 8
echo "cli.bench: ok"
