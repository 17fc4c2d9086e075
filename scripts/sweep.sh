#!/bin/sh
# Replaced by `scripts/lab sweep` (same options); kept so that existing command lines keep working.
echo "scripts/sweep.sh is now scripts/lab sweep (same options)" >&2
exec "$(dirname "$0")/lab" sweep "$@"
