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

# --sites: every site instance with its elements (relu-search.md §1: preresnet-20 paired 184,320 + 4,096 head;
# proportional 90,112 with the head), a selector and a mask file on top, and the per-stage ratios.
tmp="${PROPNET_TEST_TMP:-/tmp}/info-sites"; rm -rf "$tmp"; mkdir -p "$tmp"
printf '# stage 1 paired, the rest proportional\n11.11.11\n01.01.01\n01.01.01\n' > "$tmp/mask.txt"
for args in "--variant proportional" "--relu-mask-file $tmp/mask.txt --relu-drop stage1.[12].before_conv1 --relu-drop stage1.0.before_conv1"; do
  # shellcheck disable=SC2086
  json=$("$propnet" info --net preresnet --depth 20 $args --sites --json)
  python3 - "$json" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
sites = d["sites"]
assert len(sites) == 19 and sites[-1]["name"] == "head.relu" and sites[-1]["fixed"], sites[-1]
assert [s["name"] for s in sites[:3]] == ["stage1.0.before_conv1", "stage1.0.before_conv2", "stage1.1.before_conv1"]
assert [s["mask_bit"] for s in sites[:-1]] == list(range(18))
assert d["relu_elements_paired"] == 184320 + 4096, d["relu_elements_paired"]
assert d["relu_elements"] == 90112, d["relu_elements"]
assert [s["ratio"] for s in d["stages"][:3]] == ["2:1"] * 3, d["stages"]
kept = [s["name"] for s in sites if s["kept"] and not s["fixed"]]
assert kept[:3] == ["stage1.0.before_conv2", "stage1.1.before_conv2", "stage1.2.before_conv2"], kept
PY
done
"$propnet" info --net preresnet --depth 20 --variant proportional --sites | grep -q "90,112 of 188,416" || fail "--sites text"
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
expect_usage_error info --net preresnet --depth 110 --relu-mask 0112 | grep -q "'2' at position 3" || fail "mask"
expect_usage_error info --net preresnet --depth 20 --relu-drop 'stage4.*' | grep -q 'relu_drop "stage4.*" matches no site of preresnet-20' || fail "selector"
expect_usage_error info --net preresnet --depth 20 --relu-mask 01010 | grep -q "or 18 characters" || fail "length"
expect_usage_error info --net preresnet --depth 20 --relu-mask-file "$tmp/none.txt" | grep -q "none.txt" || fail "file"
expect_usage_error info --net preresnet --depth 20 --relu-mask-file "$tmp/mask.txt" --variant paired | grep -q "give one" || fail "file+variant"
expect_usage_error info --net nope --depth 110 | grep -q "expected one of" || fail "name"
expect_usage_error info --depth 110 | grep -q "\-\-net is required" || fail "missing --net"
expect_usage_error info --net preresnet --depth 110 --shortcut C | grep -q "expected A or B" || fail "switch"
expect_usage_error bogus | grep -q "unknown command" || fail "command"
# Typos get the nearest flag or command, in plain quotes; a single-valued flag given twice is refused with both values.
expect_usage_error trian | grep -q 'unknown command "trian"; did you mean "train"?' || fail "command typo"
expect_usage_error info --net preresnet --depth 20 --varaint proportional |
  grep -q "unknown flag --varaint; did you mean --variant? (see 'propnet info --help')" || fail "flag typo"
expect_usage_error train --seed 0 | grep -q "did you mean --seeds?" || fail "--seed typo"
expect_usage_error train --epoch 1 | grep -q "did you mean --epochs?" || fail "--epoch typo"
if "$propnet" info --net preresnet --depth 20 --variant 2>&1 | grep -q $'\xe2\x80\x98'; then fail "curly quotes"; fi
expect_usage_error bench --list | grep -q "'propnet info --list' lists the networks" || fail "bench --list"
expect_usage_error info --net preresnet --depth 20 --depth 32 | grep -q -- "--depth given twice (20, then 32); give it once" ||
  fail "repeated flag"
expect_usage_error bench --depth 20 | grep -q "propnet info --list" || fail "--net required points to info --list"
# --dataset: the network takes the data set's channels and classes (its row of the data-set table), unless
# --classes or --in-channels say otherwise.
for case in "fashion-mnist 1 10" "cifar100 3 100"; do
  read -r dataset channels classes <<< "$case"
  "$propnet" info --net plain --depth 20 --dataset "$dataset" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
assert (d["in_channels"], d["classes"]) == (int(sys.argv[1]), int(sys.argv[2])), d' "$channels" "$classes" ||
    fail "info --dataset $dataset"
done
"$propnet" info --net plain --depth 20 --dataset cifar100 --classes 7 --json | python3 -c '
import json, sys; d = json.load(sys.stdin); assert d["classes"] == 7, d' || fail "--classes beats --dataset"
grep -q -- "--dataset" <<< "$("$propnet" info --help)" || fail "info --help lists --dataset"

# --schema --json: every config key with its default as JSON (the toolkit reads defaults from here).
"$propnet" info --schema --json | python3 -c '
import json, sys
keys = {k["key"]: k for k in json.load(sys.stdin)}
assert keys["train.epochs"]["default"] == 400 and keys["train.epochs"]["flag"] == "--epochs", keys["train.epochs"]
assert keys["train.milestone_fractions"]["default"] == [0.5, 0.75, 0.875], keys["train.milestone_fractions"]
assert keys["network.arch"]["required"] and not keys["train.threads"]["changes_results"]
' || fail "schema json"
grep -q "^train.lr .*default 0.1 " <<< "$("$propnet" info --schema)" || fail "schema text"
echo "cli.info: all checks passed"
