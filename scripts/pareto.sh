#!/bin/sh
# Replaced by `scripts/lab pareto` (same options); kept so that existing command lines keep working.
echo "scripts/pareto.sh is now scripts/lab pareto (same options)" >&2
exec "$(dirname "$0")/lab" pareto "$@"
