#!/usr/bin/env bash
# scripts/device_check.sh without a GPU (its GPU run cannot be tested here):
#  1. --prepare downloads the packages the GPU machine lacks (skipped if Debian's archive is unreachable);
#  2. --offline-check unpacks them (no link left dangling, absolute ones made relative) and configures
#     propnet against them and PYTHON's LibTorch with the system's /usr hidden from CMake;
#  3. the GPU run's step machinery: with no time left every step is recorded as skipped, the summary and
#     the log land in $OUT, and the script still exits 0.
# Usage: device_check_test.sh PYTHON   (a python3 whose torch is a CUDA build: the pip build's venv)
set -euo pipefail
python="$1"
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work="${PROPNET_TEST_TMP:-/tmp}/device-check"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

"$root/scripts/device_check.sh" --prepare --deps "$work/deps" > "$work/prepare.log" 2>&1 ||
  { tail -5 "$work/prepare.log"; echo "SKIP: could not download the packages (Debian's archive unreachable?)"; exit 77; }
ls "$work/deps/debs/"zlib1g-dev_*.deb > /dev/null || fail "no zlib1g-dev package prepared"

TMPDIR="$work" "$root/scripts/device_check.sh" --offline-check --deps "$work/deps" --python "$python" > "$work/offline.log" 2>&1 ||
  { cat "$work/offline.log"; fail "offline check failed"; }
grep -q "offline check passed" "$work/offline.log" || fail "no verdict in the offline log"
link="$work/deps/root/usr/lib/x86_64-linux-gnu/libz.so"
[ -L "$link" ] && [ "$(readlink "$link" | cut -c1)" != / ] && [ -e "$link" ] || fail "libz.so is not a working relative link"
for entry in ZLIB_INCLUDE_DIR ZLIB_LIBRARY_RELEASE; do
  grep -E "^$entry:" "$work/offline.log" | grep -q "=$work/deps/root/" || fail "$entry not from the sysroot"
done

OUT="$work/out" PYTHON="$python" "$root/scripts/device_check.sh" --allow-cpu --deps "$work/deps" --budget 1 \
  > "$work/gpu-run.log" 2>&1 || { cat "$work/gpu-run.log"; fail "the GPU run's script did not exit 0"; }
[ -s "$work/out/device_check.log" ] || fail "no device_check.log in \$OUT"
for step in versions sysroot configure build; do
  grep -qP "^$step\tskipped" "$work/out/steps.tsv" || fail "step $step not recorded as skipped: $(cat "$work/out/steps.tsv")"
done
grep -q "=== summary" "$work/out/device_check.log" || fail "no summary in the log"
echo "device_check.sh: prepare, offline check and step bookkeeping OK"
