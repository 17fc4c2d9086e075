#!/usr/bin/env bash
# The newcomer's first command: installs what is missing, builds propnet, then trains the
# pre-activation ResNet with the paired module (1:1) and the paper's 2:1 proportional module on
# Fashion-MNIST (Debian's dataset-fashion-mnist), prints mean ± std per variant and the per-seed paired difference
# (2:1 − paired) with its 95 % t interval. About 5 minutes on a 2-core CPU; uses CUDA when the build and the machine have it.
#
# Knobs (environment): DEPTH=8 EPOCHS=3 SEEDS=0-2 SUBSET=6000 TEST_SUBSET=2000 OUT=runs/demo
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
depth="${DEPTH:-8}"
epochs="${EPOCHS:-3}"
seeds="${SEEDS:-0-2}"
subset="${SUBSET:-6000}"
test_subset="${TEST_SUBSET:-2000}"
out="${OUT:-$root/runs/demo}"

# Only what the demo runs (library and CLI); scripts/test.sh later adds the tests to the same build.
build_dir=$("$root/scripts/build.sh" --no-tests "$@" | tail -n 1)
propnet="$build_dir/apps/propnet"

for variant in paired proportional; do
  printf '\n==> preresnet-%s %s on Fashion-MNIST: %s epochs, seeds %s, %s training images\n' \
    "$depth" "$variant" "$epochs" "$seeds" "$subset" >&2
  "$propnet" train --net preresnet --depth "$depth" --variant "$variant" --dataset fashion-mnist \
    --epochs "$epochs" --seeds "$seeds" --subset "$subset" --test-subset "$test_subset" \
    --out "$out" --name "preresnet-$depth-$variant"
done

/usr/bin/python3 - "$out" "$depth" <<'PY'
import json, statistics, sys
from scipy import stats
out, depth = sys.argv[1], sys.argv[2]
print(f"\npreresnet-{depth} on Fashion-MNIST, final-epoch test accuracy (%)\n")
print("| variant | conv:ReLU | seeds | mean ± std | median (mean ± std_pop, best) |")
print("|---|---|---|---|---|")
final = {}
for variant, ratio in [("paired", "1:1"), ("proportional", "2:1")]:
    s = json.load(open(f"{out}/preresnet-{depth}-{variant}/summary.json"))
    final[variant] = {x["seed"]: x["final_test_acc"] for x in s["seeds"] if x["status"] == "done"}
    print(f"| {variant} | {ratio} | {s['n']} | {s['mean']:.2f} ± {s['std']:.2f} | {s['reference_line']} |")
# The comparison itself: per seed (same initial weights and batches in both arms), 2:1 minus paired.
seeds = sorted(final["paired"].keys() & final["proportional"].keys())
d = [final["proportional"][k] - final["paired"][k] for k in seeds]
if len(d) >= 2:
    mean, se = statistics.fmean(d), statistics.stdev(d) / len(d) ** 0.5
    low, high = stats.t.interval(0.95, len(d) - 1, loc=mean, scale=se) if se > 0 else (mean, mean)
    verdict = "excludes 0" if low > 0 or high < 0 else "includes 0: no difference shown at this size"
    print(f"\n2:1 - paired, {len(d)} paired seeds: {mean:+.2f} points, 95 % t interval [{low:+.2f}, {high:+.2f}] ({verdict})")
else:
    print(f"\n2:1 - paired: {len(d)} paired seed(s); an interval needs 2 or more (SEEDS=0-2)")
print(f"\nRun folders (config, per-epoch metrics, checkpoints, logs): {out}/")
PY
