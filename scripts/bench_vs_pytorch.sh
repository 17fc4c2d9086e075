#!/bin/sh
# Replaced by `scripts/lab bench` (same options); kept so that existing command lines keep working.
echo "scripts/bench_vs_pytorch.sh is now scripts/lab bench (same options)" >&2
exec "$(dirname "$0")/lab" bench "$@"
