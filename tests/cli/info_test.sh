#!/usr/bin/env bash
# End-to-end checks of `propnet info`: JSON figures, exit codes and one-line errors.
set -euo pipefail
propnet="$1"
fail() { echo "FAIL: $*" >&2; exit 1; }

json=$("$propnet" info --net preresnet --depth 110 --variant proportional --classes 10 --json)
python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
for key in ["net", "depth", "relu_mask", "classes", "params", "macs", "convs", "relus", "ratio", "blocks_per_stage"]:
    assert key in d, key
assert d["params"] == 1727962 and d["convs"] == 109 and d["relus"] == 55, d
assert d["ratio"] == "2:1" and d["relu_mask"] == "01" and d["blocks_per_stage"] == [18, 18, 18], d
PY

"$propnet" info --net dfn-mr --depth 110 --variant type1 --classes 100 | grep -q "1,716,276" || fail "text summary"
"$propnet" info --list | grep -q "type3" || fail "--list"
"$propnet" info --help | grep -q -- "--relu-mask" || fail "--help"
"$propnet" --help | grep -q "info" || fail "propnet --help"
"$propnet" --version | grep -q "LibTorch" || fail "--version"

expect_usage_error() {  # args...: exit 2, one line on stderr, no backtrace
  set +e
  err=$("$propnet" "$@" 2>&1 >/dev/null)
  rc=$?
  set -e
  [ "$rc" -eq 2 ] || fail "expected exit 2 for '$*' (got $rc)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line for '$*' (got: $err)"
  if printf '%s' "$err" | grep -q "Exception raised from"; then fail "backtrace for '$*'"; fi
  printf '%s\n' "$err"
}
expect_usage_error info --net preresnet --depth 111 | grep -q "nearest valid depths are 110 and 116" || fail "depth"
expect_usage_error info --net preresnet --depth 110 --relu-mask 0112 | grep -q "before_conv1" || fail "mask"
expect_usage_error info --net nope --depth 110 | grep -q "expected one of" || fail "name"
expect_usage_error info --depth 110 | grep -q "\-\-net is required" || fail "missing --net"
expect_usage_error info --net preresnet --depth 110 --shortcut C | grep -q "expected A or B" || fail "switch"
expect_usage_error bogus | grep -q "unknown command" || fail "command"
echo "cli.info: all checks passed"
