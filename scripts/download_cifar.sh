#!/usr/bin/env bash
# Downloads the official CIFAR-10 / CIFAR-100 binary archives, verifies their MD5 sums
# (reproduction spec §8.1) and extracts them into DIR. Refuses, extracting nothing, on a mismatch.
#
#   scripts/download_cifar.sh [cifar10|cifar100|all] DIR
#
# Then check the data with:  propnet data --dataset cifar10 --data-dir DIR
#
# For tests (nothing is downloaded): PROPNET_CIFAR_ARCHIVE=FILE takes FILE instead of the
# download, and PROPNET_CIFAR_MD5=HEX replaces the expected MD5 sum.
set -euo pipefail

me=download_cifar.sh
usage() {
  echo "usage: scripts/$me [cifar10|cifar100|all] DIR" >&2
  exit 2
}
fail() {
  echo "$me: $*" >&2
  exit 1
}

[[ ${1:-} == -h || ${1:-} == --help ]] && { echo "usage: scripts/$me [cifar10|cifar100|all] DIR"; exit 0; }
[[ $# -eq 2 ]] || usage
case $1 in
  cifar10) sets=(cifar10) ;;
  cifar100) sets=(cifar100) ;;
  all) sets=(cifar10 cifar100) ;;
  *) echo "$me: expected cifar10, cifar100 or all (got \"$1\")" >&2; usage ;;
esac
dir=$2
if [[ -n ${PROPNET_CIFAR_ARCHIVE:-} && ${#sets[@]} -ne 1 ]]; then
  echo "$me: expected one data set with PROPNET_CIFAR_ARCHIVE (got $1)" >&2
  exit 2
fi
command -v md5sum >/dev/null || fail "expected md5sum on PATH (coreutils)"
mkdir -p "$dir"

fetch() {  # URL FILE
  if command -v curl >/dev/null; then
    curl -fL --retry 3 -o "$2" "$1"
  elif command -v wget >/dev/null; then
    wget -O "$2" "$1"
  else
    fail "expected curl or wget on PATH to download $1"
  fi
}

for set in "${sets[@]}"; do
  case $set in
    cifar10)
      url=https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz
      md5=c32a1d4ab5d03f1284b67883e8d87530
      folder=cifar-10-batches-bin
      files=(data_batch_1.bin data_batch_2.bin data_batch_3.bin data_batch_4.bin data_batch_5.bin test_batch.bin)
      ;;
    cifar100)
      url=https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz
      md5=03b5dce01913d631647c71ecec9e9cb8
      folder=cifar-100-binary
      files=(train.bin test.bin)
      ;;
  esac
  expected=${PROPNET_CIFAR_MD5:-$md5}
  archive=$dir/${url##*/}
  partial=$archive.part
  if [[ -n ${PROPNET_CIFAR_ARCHIVE:-} ]]; then
    [[ -f $PROPNET_CIFAR_ARCHIVE ]] || fail "cannot open \"$PROPNET_CIFAR_ARCHIVE\" (PROPNET_CIFAR_ARCHIVE): No such file"
    cp "$PROPNET_CIFAR_ARCHIVE" "$partial"
  else
    echo "$set: downloading $url"
    fetch "$url" "$partial" || { rm -f "$partial"; fail "$set: cannot download $url"; }
  fi
  actual=$(md5sum "$partial" | cut -d' ' -f1)
  if [[ $actual != "$expected" ]]; then
    rm -f "$partial"
    fail "$set: expected MD5 $expected (got $actual) for ${url##*/}; the download is incomplete or not the" \
         "official archive; nothing was extracted, run the script again"
  fi
  mv "$partial" "$archive"
  tar -xzf "$archive" -C "$dir"
  rm -f "$archive"
  for f in "${files[@]}"; do
    [[ -f $dir/$folder/$f ]] || fail "$set: expected $folder/$f in the archive (not found under \"$dir\")"
  done
  echo "$set: verified (MD5 $actual) and extracted to $dir/$folder"
  echo "$set: check it with: propnet data --dataset $set --data-dir $dir"
done
