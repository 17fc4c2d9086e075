#!/usr/bin/env bash
# Installs propnet from BUILD_DIR into a scratch prefix, then configures, builds and runs the
# consumer project against it with nothing but find_package(propnet): it trains a module of its own
# with propnet's Trainer (exit 77, a skip, without Fashion-MNIST). Internal headers must not be installed.
#   run_consumer.sh BUILD_DIR TORCH_DIR [PREFIX_PATH]
# PREFIX_PATH is the parent build's CMAKE_PREFIX_PATH: with a pip LibTorch it must come before the
# system folders, or a Debian libtorch-dev beside it would supply Caffe2's config.
set -euo pipefail
build_dir="$1"
torch_dir="$2"
prefix_path="${3:-}"
here=$(cd "$(dirname "$0")" && pwd)
work="$build_dir/package-test"
rm -rf "$work"
cmake --install "$build_dir" --prefix "$work/prefix" > "$work.install.log" 2>&1 || { cat "$work.install.log"; exit 1; }
for internal in nn/layers.h nn/ops.h; do
  [ ! -e "$work/prefix/include/propnet/$internal" ] || { echo "FAIL: internal header $internal was installed"; exit 1; }
done
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S "$here" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "${launcher[@]}" \
  -DCMAKE_PREFIX_PATH="$work/prefix${prefix_path:+;$prefix_path}" -DTorch_DIR="$torch_dir" > "$work.configure.log" 2>&1 \
  || { cat "$work.configure.log"; exit 1; }
cmake --build "$work/build"
"$work/build/consumer" "$work/seed-0"
