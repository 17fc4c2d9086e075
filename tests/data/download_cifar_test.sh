#!/usr/bin/env bash
# scripts/download_cifar.sh on local fake archives: MD5 verification, refusal, extraction, usage.
# usage: download_cifar_test.sh SCRIPT
set -uo pipefail
script=$1
tmp=${PROPNET_TEST_TMP:-/tmp}/propnet-download-cifar
rm -rf "$tmp" && mkdir -p "$tmp/src/cifar-10-batches-bin"
failures=0
check() {  # NAME CONDITION...
  local name=$1; shift
  if "$@"; then echo "ok   $name"; else echo "FAIL $name"; failures=$((failures + 1)); fi
}

for f in data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin; do
  echo "$f" >"$tmp/src/cifar-10-batches-bin/$f"
done
tar -czf "$tmp/fake.tar.gz" -C "$tmp/src" cifar-10-batches-bin
fake_md5=$(md5sum "$tmp/fake.tar.gz" | cut -d' ' -f1)

# The real MD5 does not match the fake archive: refused, nothing extracted, nothing left behind.
PROPNET_CIFAR_ARCHIVE=$tmp/fake.tar.gz "$script" cifar10 "$tmp/refused" >"$tmp/out" 2>"$tmp/err"
check "mismatch exits 1" test $? -eq 1
check "mismatch names both sums" grep -q "expected MD5 c32a1d4ab5d03f1284b67883e8d87530 (got $fake_md5)" "$tmp/err"
check "mismatch extracts nothing" test ! -e "$tmp/refused/cifar-10-batches-bin"
check "mismatch leaves no archive" test -z "$(ls -A "$tmp/refused")"

# With the expected MD5 overridden to the fake's, it verifies and extracts.
PROPNET_CIFAR_ARCHIVE=$tmp/fake.tar.gz PROPNET_CIFAR_MD5=$fake_md5 "$script" cifar10 "$tmp/ok" >"$tmp/out" 2>"$tmp/err"
check "match exits 0" test $? -eq 0
check "match extracts" test -f "$tmp/ok/cifar-10-batches-bin/test_batch.bin"
check "match removes the archive" test ! -e "$tmp/ok/cifar-10-binary.tar.gz"
check "match says how to check" grep -q "propnet data --dataset cifar10 --data-dir $tmp/ok" "$tmp/out"

# An archive with the right MD5 but the wrong content is reported.
PROPNET_CIFAR_ARCHIVE=$tmp/fake.tar.gz PROPNET_CIFAR_MD5=$fake_md5 "$script" cifar100 "$tmp/wrong" >"$tmp/out" 2>"$tmp/err"
check "wrong content exits 1" test $? -eq 1
check "wrong content names the file" grep -q "expected cifar-100-binary/train.bin in the archive" "$tmp/err"

# Usage errors exit 2.
"$script" >/dev/null 2>&1; check "no arguments exits 2" test $? -eq 2
"$script" cifar1000 "$tmp/x" >/dev/null 2>"$tmp/err"; check "unknown set exits 2" test $? -eq 2
check "unknown set lists the valid ones" grep -q 'expected cifar10, cifar100 or all (got "cifar1000")' "$tmp/err"
PROPNET_CIFAR_ARCHIVE=$tmp/fake.tar.gz "$script" all "$tmp/x" >/dev/null 2>&1; check "all with one archive exits 2" test $? -eq 2

exit $((failures > 0))
