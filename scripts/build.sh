#!/usr/bin/env bash
# Installs what is missing (apt; pip into a virtual environment), then configures and builds propnet.
#
#   scripts/build.sh                 against Debian's libtorch-dev 1.13 (CPU), build dir build/
#   scripts/build.sh --torch pip     against LibTorch 2.x with CUDA from PyPI's torch wheel, installed
#                                    into a virtual environment (.venv, or $PROPNET_VENV); build dir
#                                    build-pip/. Compiles and links every CUDA-only source (no GPU needed).
#
# Options: --build-dir DIR, --jobs N, --no-install (skip apt/pip), --no-tests (skip the test
# executables). Prints the build folder last.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
torch=apt
build_dir=""
jobs=$(nproc)
install=1
tests=ON
while [ $# -gt 0 ]; do
  case "$1" in
    --torch) torch="${2:?--torch needs apt or pip}"; shift 2 ;;
    --build-dir) build_dir="${2:?}"; shift 2 ;;
    --jobs|-j) jobs="${2:?}"; shift 2 ;;
    --no-install) install=0; shift ;;
    --no-tests) tests=OFF; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$torch" in apt|pip) ;; *) echo "build.sh: --torch expects apt or pip (got '$torch')" >&2; exit 2 ;; esac
[ -n "$build_dir" ] || build_dir="$root/build$([ "$torch" = pip ] && echo -pip || true)"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo

step() { printf '\n==> %s\n' "$*" >&2; }

# --- dependencies ---------------------------------------------------------------------------------
packages=(cmake g++ ninja-build ccache libcxxopts-dev libspdlog-dev nlohmann-json3-dev libgtest-dev libgmock-dev
          zlib1g-dev python3 python3-numpy python3-scipy python3-statsmodels python3-pandas python3-matplotlib
          python3-pytest dataset-fashion-mnist)  # python3-*: the toolkit (scripts/lab) and its tests
if [ "$torch" = apt ]; then packages+=(libtorch-dev libgloo-dev python3-torch python3-torchvision); else packages+=(python3-venv); fi
if [ "$install" = 1 ]; then
  missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    step "installing ${missing[*]}"
    $sudo apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi

cmake_args=(-G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPROPNET_BUILD_TESTS=$tests -DPROPNET_BUILD_APPS=ON)
command -v ccache >/dev/null && cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)

if [ "$torch" = pip ]; then
  venv="${PROPNET_VENV:-$root/.venv}"
  if [ ! -x "$venv/bin/python" ]; then
    step "creating the virtual environment $venv"
    /usr/bin/python3 -m venv "$venv"
  fi
  if ! "$venv/bin/python" -c "import torch" 2>/dev/null; then
    [ "$install" = 1 ] || { echo "build.sh: torch is not installed in $venv (drop --no-install)" >&2; exit 1; }
    step "installing PyPI's torch into $venv (a few GB with its CUDA libraries)"
    "$venv/bin/pip" install -q --disable-pip-version-check torch >&2
  fi
  prefix=$("$venv/bin/python" -c "import torch; print(torch.utils.cmake_prefix_path)" 2>/dev/null)
  cmake_args+=(-DCMAKE_PREFIX_PATH="$prefix" -DPROPNET_PYTHON="$venv/bin/python")
  # Torch's CMake config for a CUDA build needs the CUDA toolkit (nvcc), not a GPU.
  if ! command -v nvcc >/dev/null; then
    if [ -x /usr/local/cuda/bin/nvcc ]; then export PATH="/usr/local/cuda/bin:$PATH"
    else echo "build.sh: the pip build needs the CUDA toolkit (nvcc) to configure Torch's CUDA targets" >&2; exit 1; fi
  fi
fi

# --- configure and build -----------------------------------------------------------------------
step "configuring $build_dir (LibTorch from $torch)"
mkdir -p "$build_dir"
cmake -S "$root" -B "$build_dir" "${cmake_args[@]}" > "$build_dir/configure.log" 2>&1 \
  || { cat "$build_dir/configure.log" >&2; exit 1; }
grep -E "^-- propnet:" "$build_dir/configure.log" >&2 || true

step "building with $jobs jobs"
cmake --build "$build_dir" --parallel "$jobs" >&2
echo "$build_dir"

