#!/usr/bin/env bash
# `propnet data`: help, usage and runtime errors (exit codes, one line), --bench, and the real
# Fashion-MNIST when the Debian package is installed.
# usage: data_cli_test.sh PROPNET
set -uo pipefail
propnet=$1
tmp=${PROPNET_TEST_TMP:-/tmp}/propnet-data-cli
rm -rf "$tmp" && mkdir -p "$tmp/empty"
failures=0
check() {  # NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}
run() {  # ARGS...: sets rc, out, err
  "$propnet" data "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

run --help
check "help exits 0" test $rc -eq 0
check "help says Fashion-MNIST is padded" grep -q "zero-padded to 32x32" "$tmp/out"

run
check "no dataset exits 2" test $rc -eq 2
run --dataset imagenet --data-dir "$tmp/empty"
check "unknown dataset exits 2" test $rc -eq 2
check "unknown dataset lists the names" grep -q "one of cifar10, cifar100, fashion-mnist" "$tmp/err"
check "the command's name is said once" sh -c "! grep -q 'data: data:' '$tmp/err'"
run --dataset cifar10
check "cifar10 without a folder exits 2" test $rc -eq 2
check "cifar10 without a folder says how to get it" grep -q "download_cifar.sh cifar10" "$tmp/err"

run --dataset cifar100 --data-dir "$tmp/empty"
check "empty folder exits 1" test $rc -eq 1
check "empty folder is one line" test "$(wc -l <"$tmp/err")" -eq 1
check "empty folder names the file" grep -q 'CIFAR-100: expected train.bin in' "$tmp/err"

run --bench --steps 5 --batch-size 16 --json
check "bench exits 0" test $rc -eq 0
check "bench reports images/s" grep -q '"images":80,.*"images_per_second"' "$tmp/out"

# --list: the one table of data-set facts that scripts/lab reads.
run --list --json
check "list exits 0" test $rc -eq 0
check "list names every data set" python3 -c '
import json, sys
rows = {r["name"]: r for r in json.load(open(sys.argv[1]))}
assert sorted(rows) == ["cifar10", "cifar100", "fashion-mnist"], rows
assert (rows["cifar100"]["classes"], rows["cifar100"]["coarse_classes"], rows["fashion-mnist"]["channels"]) == (100, 20, 1)
' "$tmp/out"
cp "$tmp/out" "$tmp/list.json"
run --list --dataset cifar10
check "list refuses --dataset" test $rc -eq 2

if [[ -d /usr/share/datasets/fashion-mnist ]]; then
  run --dataset fashion-mnist --json
  check "fashion-mnist: the table's split sizes, classes and image size are the files'" python3 -c '
import json, sys
facts = next(r for r in json.load(open(sys.argv[1])) if r["name"] == "fashion-mnist")
data = json.load(open(sys.argv[2]))
assert (data["train"]["images"], data["test"]["images"]) == (facts["train_images"], facts["test_images"]), (facts, data["train"]["images"])
assert len(data["classes"]) == facts["classes"] and data["train"]["shape"] == [facts["channels"], facts["image_size"], facts["image_size"]]
' "$tmp/list.json" "$tmp/out"
  check "fashion-mnist exits 0" test $rc -eq 0
  check "fashion-mnist counts" grep -q '"test":{"class_counts":\[1000,1000,1000,1000,1000,1000,1000,1000,1000,1000\],"images":10000' "$tmp/out"
  check "fashion-mnist shape" grep -q '"shape":\[1,32,32\]' "$tmp/out"
else
  echo "skip fashion-mnist: /usr/share/datasets/fashion-mnist is absent"
fi
exit $((failures > 0))
