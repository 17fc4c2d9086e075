#!/bin/sh
# Replaced by `scripts/lab reproduce` (same options); kept so that existing command lines keep working.
echo "scripts/reproduce.sh is now scripts/lab reproduce (same options)" >&2
exec "$(dirname "$0")/lab" reproduce "$@"
