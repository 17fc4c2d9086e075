#!/usr/bin/env bash
# Installs what is missing, then configures, builds and runs propnet's whole test suite.
#
#   scripts/test.sh                 against Debian's libtorch-dev 1.13 (CPU), build dir build/
#   scripts/test.sh --torch pip     against LibTorch 2.x with CUDA from PyPI's torch wheel (see build.sh);
#                                   compiles and links every CUDA-only source, runs the CPU tests.
#
# Options: those of scripts/build.sh, then optionally -- ARGS (passed to ctest).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_args=()
ctest_args=()
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; ctest_args=("$@"); break ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    --jobs|-j) jobs="${2:?}"; build_args+=("$1" "$2"); shift 2 ;;
    --torch|--build-dir) build_args+=("$1" "${2:?$1 needs a value}"); shift 2 ;;
    *) build_args+=("$1"); shift ;;
  esac
done

build_dir=$("$root/scripts/build.sh" "${build_args[@]}" | tail -n 1)

printf '\n==> running the tests in %s\n' "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure --no-tests=error --parallel "$jobs" "${ctest_args[@]}"
