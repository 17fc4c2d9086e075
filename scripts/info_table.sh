#!/usr/bin/env bash
# Prints, as a Markdown table, `propnet info` for every network and variant of the paper (spec §7).
#   scripts/info_table.sh [PATH/TO/propnet]
set -euo pipefail
propnet="${1:-$(dirname "$0")/../build/apps/propnet}"
rows=(
  "plain 38 100 paired" "plain 38 100 proportional" "plain 62 100 paired" "plain 62 100 proportional"
  "plain 84 100 paired" "plain 84 100 proportional"
  "preresnet 62 10 paired" "preresnet 62 10 proportional" "preresnet 62 100 paired" "preresnet 62 100 proportional"
  "preresnet 110 10 paired" "preresnet 110 10 proportional" "preresnet 110 100 paired" "preresnet 110 100 proportional"
  "preresnet 164 100 paired" "preresnet 164 100 proportional"
  "preresnet-bottleneck 110 100 paired" "preresnet-bottleneck 110 100 type1" "preresnet-bottleneck 110 100 type2"
  "preresnet-bottleneck 110 100 type3"
  "preresnet-bottleneck 164 100 paired" "preresnet-bottleneck 164 100 type1" "preresnet-bottleneck 164 100 type2"
  "preresnet-bottleneck 164 100 type3"
  "dfn-mr 110 10 paired" "dfn-mr 110 10 type1" "dfn-mr 110 100 paired" "dfn-mr 110 100 type1" "dfn-mr 110 100 type2"
)
echo "| net | depth | classes | variant | mask | conv:ReLU | blocks/stage | params | MMACs | convs | ReLUs |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for row in "${rows[@]}"; do
  read -r net depth classes variant <<< "$row"
  "$propnet" info --net "$net" --depth "$depth" --classes "$classes" --variant "$variant" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
blocks = "/".join(str(n) for n in d["blocks_per_stage"])
cells = [d["net"], d["depth"], d["classes"], d["variant"], d["relu_mask"], d["ratio"], blocks,
         "{:,}".format(d["params"]), "{:.1f}".format(d["macs"] / 1e6), d["convs"], d["relus"]]
print("| " + " | ".join(str(c) for c in cells) + " |")'
done
