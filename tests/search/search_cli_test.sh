#!/usr/bin/env bash
# End to end: `propnet search` — random and exhaustive masks, budgets and their errors, a gates and a
# greedy search on real Fashion-MNIST (a subset), SIGINT + resume bitwise equal to an uninterrupted
# search, and the round trip search.json -> train --relu-mask-file -> info --sites.
# The data-free parts always run; the rest skips where Debian's dataset-fashion-mnist is not installed.
set -euo pipefail
propnet="$1"
data=/usr/share/datasets/fashion-mnist
work="${PROPNET_TEST_TMP:-/tmp}/search-cli"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
expect_usage() {  # expect_usage "message part" args...: exit 2 and one line on stderr naming the problem
  local want="$1"; shift
  set +e; "$propnet" search "$@" --out "$work/refused" > "$work/usage.out" 2> "$work/usage.err"; local rc=$?; set -e
  [ "$rc" -eq 2 ] || { cat "$work/usage.err"; fail "search $* should exit 2 (got $rc)"; }
  grep -qF -- "$want" "$work/usage.err" || { cat "$work/usage.err"; fail "search $*: expected \"$want\""; }
  [ "$(wc -l < "$work/usage.err")" -eq 1 ] || { cat "$work/usage.err"; fail "search $*: expected one line"; }
  [ ! -e "$work/refused" ] || fail "search $*: a refused search made a folder"
}

# 1. exhaustive: every mask of the budget, in lexicographic order; the stage minimum counts.
"$propnet" search --net plain --depth 8 --method exhaustive --keep 3 --out "$work/runs" -q > /dev/null
"$propnet" search --net plain --depth 8 --method exhaustive --keep 3 --min-keep-per-stage 0 --out "$work/runs" \
  --name all20 -q > /dev/null
python3 - "$work/runs" <<'PY'
import itertools, json, sys
runs = sys.argv[1]
s = json.load(open(f"{runs}/plain-8-paired-cifar10-search-exhaustive-k3/seed-0/search.json"))
masks = [m["relu_mask"] for m in s["masks"]]
assert len(masks) == 8 == s["masks_with_budget"], masks  # 2 x 2 x 2: one of the two sites of every stage
every = ["".join("1" if i in kept else "0" for i in range(6)) for kept in itertools.combinations(range(6), 3)]
assert masks == [m for m in every if all("1" in m[i:i + 2] for i in (0, 2, 4))], masks
lines = open(f"{runs}/plain-8-paired-cifar10-search-exhaustive-k3/seed-0/masks.txt").read().split()
assert lines == masks, lines
assert all(m["sites_kept"] == 3 and len(m["kept_sites"]) == 3 for m in s["masks"])
assert [x["name"] for x in s["sites"]] == [f"stage{st}.{u}.after_conv" for st in (1, 2, 3) for u in (0, 1)], s["sites"]
assert s["config"]["search"]["method"] == "exhaustive" and s["propnet"] and s["git_sha"], s.keys()
a = json.load(open(f"{runs}/all20/seed-0/search.json"))
assert [m["relu_mask"] for m in a["masks"]] == every and len(every) == 20
PY

# 1b. --set takes list values whole, commas included, for every list-valued key of the schema
#     (train.milestone_fractions, train.milestones, network.relu_drop, seeds, search.seeds); a repeated
#     --relu-drop keeps a glob with a comma whole too.
"$propnet" search --net plain --depth 8 --method exhaustive --keep 2 --min-keep-per-stage 0 --epochs 4 \
  --set 'train.milestone_fractions=[0.25,0.5]' --set 'train.milestones=[1,2]' \
  --set 'network.relu_drop=["stage1.0.*","stage2.1.*"]' --set 'seeds=[3,4]' --set 'search.seeds=[0,1]' \
  --relu-drop 'stage3.[0,1].after_conv' --out "$work/runs" --name lists -q > /dev/null
python3 - "$work/runs/lists" <<'PY'
import json, os, sys
c = json.load(open(f"{sys.argv[1]}/config.json"))
assert c["train"]["milestone_fractions"] == [0.25, 0.5] and c["train"]["milestones"] == [1, 2], c["train"]
assert c["network"]["relu_drop"] == ["stage3.[0,1].after_conv"], c["network"]  # the flag replaces --set's list
assert c["seeds"] == [3, 4] and c["search"]["seeds"] == [0, 1], (c["seeds"], c["search"])
assert os.path.isdir(f"{sys.argv[1]}/seed-1"), os.listdir(sys.argv[1])
PY
"$propnet" search --net plain --depth 8 --method exhaustive --keep 2 --min-keep-per-stage 0 \
  --set 'network.relu_drop=["stage1.0.*","stage2.1.*"]' --out "$work/runs" --name lists2 -q > /dev/null
python3 - "$work/runs/lists2/config.json" <<'PY'
import json, sys
n = json.load(open(sys.argv[1]))["network"]
assert n["relu_drop"] == ["stage1.0.*", "stage2.1.*"] and n["relu_mask"].replace(".", "") == "011011", n
PY

# 2. random: deterministic per seed, distinct, within the budget; another seed draws others.
"$propnet" search --net preresnet --depth 20 --method random --keep-fraction 0.5 --count 6 --search-seeds 0,1 \
  --out "$work/runs" --name r1 -q > /dev/null
"$propnet" search --net preresnet --depth 20 --method random --keep 9 --count 6 --search-seeds 0 \
  --out "$work/runs" --name r2 -q > /dev/null
cmp "$work/runs/r1/seed-0/masks.txt" "$work/runs/r2/seed-0/masks.txt" || fail "random masks differ for one seed"
! cmp -s "$work/runs/r1/seed-0/masks.txt" "$work/runs/r1/seed-1/masks.txt" || fail "seeds 0 and 1 drew the same masks"
python3 - "$work/runs/r1" <<'PY'
import json, sys
for seed in (0, 1):
    masks = open(f"{sys.argv[1]}/seed-{seed}/masks.txt").read().split()
    assert len(masks) == len(set(masks)) == 6, masks
    for m in masks:
        assert len(m) == 18 and m.count("1") == 9, m
        assert all("1" in m[i:i + 6] for i in (0, 6, 12)), m  # a site in every stage
s = json.load(open(f"{sys.argv[1]}/searches.json"))
assert [x["status"] for x in s["seeds"]] == ["done", "done"] and s["seeds"][0]["masks"] == 6, s
PY
# A random search's file holds several masks: train says which to pass instead.
set +e; "$propnet" train --net preresnet --depth 20 --relu-mask-file "$work/runs/r1/seed-0/search.json" \
  --epochs 1 --out "$work/runs" 2> "$work/many.err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q "holds 6 masks" "$work/many.err" || { cat "$work/many.err"; fail "a file of 6 masks was not refused clearly"; }
# ... and so does its masks.txt, one whole mask per line (these were once joined into one over-long mask).
set +e; "$propnet" train --net preresnet --depth 20 --relu-mask-file "$work/runs/r1/seed-0/masks.txt" \
  --epochs 1 --out "$work/runs" 2> "$work/many.err"; rc=$?; set -e
[ "$rc" -eq 2 ] && grep -q 'masks.txt": holds 6 masks, one per line.*pick one, e.g. the first: --relu-mask' "$work/many.err" ||
  { cat "$work/many.err"; fail "a masks.txt of 6 masks was not refused clearly"; }

# 3. Errors: one line, exit 2, naming the flag or key.
expect_usage "give a budget: --keep K" --net plain --depth 8 --method random
expect_usage "give one budget" --net plain --depth 8 --keep 3 --keep-fraction 0.5
expect_usage "exhaustive: 924 masks keep 6 of 12 sites" --net preresnet --depth 14 --method exhaustive --keep 6 \
  --min-keep-per-stage 0 --max 100
expect_usage "the 1 site(s) per stage that min-keep-per-stage asks for already take 28672" --net plain --depth 8 \
  --relu-budget 40000 --dataset fashion-mnist --val-split 100
expect_usage "give --val-split N" --net plain --depth 8 --keep 3 --dataset fashion-mnist
expect_usage "--keep 7: the search space has only 6 sites" --net plain --depth 8 --method random --keep 7
expect_usage "search.relu_budget: expected 0 with search.method \"random\"" --net plain --depth 8 --method random \
  --relu-budget 5000
expect_usage "--method: expected gates, greedy, random or exhaustive (got \"evolve\")" --net plain --depth 8 --method evolve --keep 3
# The search space is what the network's mask keeps: proportional preresnet-20 has 9 searchable sites.
"$propnet" search --net preresnet --depth 20 --variant proportional --method random --keep 6 --count 3 \
  --out "$work/runs" --name space -q > /dev/null
python3 - "$work/runs/space/seed-0/search.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["searchable_sites"] == 9, s["searchable_sites"]
for m in s["masks"]:
    assert all(n.endswith("before_conv2") for n in m["kept_sites"]), m  # proportional keeps only these
PY

[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $data missing (apt install dataset-fashion-mnist)"; exit 77; }

# 3b. A search never reads the test set: a folder that holds only the training files will do.
mkdir -p "$work/train-only"
ln -sf "$data"/train-images-idx3-ubyte.gz "$data"/train-labels-idx1-ubyte.gz "$work/train-only/"
"$propnet" search --net plain --depth 8 --method greedy --keep 3 --dataset fashion-mnist --data-dir "$work/train-only" \
  --subset 256 --val-split 64 --epochs 1 --out "$work/runs" --name train-only -q > /dev/null 2> "$work/train-only.err" ||
  { cat "$work/train-only.err"; fail "a search needed the test files"; }
[ -f "$work/runs/train-only/seed-0/search.json" ] || fail "the train-only search wrote no search.json"

# 4. gates: interrupted and resumed equals uninterrupted, bitwise (CPU).
gates=(search --net preresnet --depth 8 --dataset fashion-mnist --subset 704 --val-split 192 --epochs 2
       --batch-size 32 --keep 4 --score-every 2 --threads 1 --out "$work/runs" --set search.reselect_every=4
       --set train.log_every=2)
"$propnet" "${gates[@]}" --name once -q > /dev/null
"$propnet" "${gates[@]}" --name twice > "$work/first.out" 2> "$work/first.err" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "step" "$work/runs/twice/seed-0/search.log" 2>/dev/null && break
  sleep 0.05
done
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" -eq 130 ] || { cat "$work/first.err"; fail "interrupted search should exit 130 (got $rc)"; }
grep -q "Resume with" "$work/first.err" || fail "no resume hint"
[ ! -f "$work/runs/twice/seed-0/search.json" ] || fail "search.json written for an unfinished search"
"$propnet" "${gates[@]}" --name twice > "$work/second.out" 2> "$work/second.err" || { cat "$work/second.err"; fail "resume failed"; }
grep -q "resuming seed 0" "$work/second.err" || { cat "$work/second.err"; fail "did not resume"; }
python3 - "$work/runs" <<'PY'
import json, sys
runs = sys.argv[1]
a, b = (json.load(open(f"{runs}/{n}/seed-0/search.json")) for n in ("once", "twice"))
for key in ["relu_mask", "scores", "kept_sites", "relu_elements", "final_val_acc", "final_val_loss", "score_steps"]:
    assert a[key] == b[key], (key, a[key], b[key])
assert [e["train_loss"] for e in a["epochs"]] == [e["train_loss"] for e in b["epochs"]]
assert a["relu_mask"].count("1") == 4 == a["sites_kept"] and len(a["scores"]) == 6, a
assert len(a["epochs"]) == 2 and all("hamming" in e and "val_acc" in e for e in a["epochs"]), a["epochs"]
assert a["budget"] == {"keep": 4, "min_keep_per_stage": 1} and a["wall_seconds"] > 0
assert open(f"{runs}/once/seed-0/mask.txt").read().strip() == a["relu_mask"]
# The resumed log's last "N changed this epoch" is the epoch's hamming, as in an uninterrupted run (issue 30.8).
import re
for name, result in (("once", a), ("twice", b)):
    changed = re.findall(r"(\d+) changed this epoch", open(f"{runs}/{name}/seed-0/search.log").read())
    assert changed and int(changed[-1]) == result["epochs"][-1]["hamming"], (name, changed, result["epochs"])
rows = [json.loads(l) for l in open(f"{runs}/once/seed-0/metrics.jsonl")]
assert all("test_acc" not in r and "val_acc" in r for r in rows), rows[0]  # the test set is never read
PY
# A finished search is skipped.
"$propnet" "${gates[@]}" --name once 2> "$work/third.err" > /dev/null
grep -q "already finished" "$work/third.err" || fail "a finished search seed was not skipped"

# 5. Round trip: search.json -> train --relu-mask-file -> info --sites: the same kept sites and ReLU elements.
found="$work/runs/once/seed-0/search.json"
"$propnet" train --net preresnet --depth 8 --relu-mask-file "$found" --dataset fashion-mnist --subset 256 \
  --test-subset 128 --epochs 1 --threads 1 --out "$work/runs" --name retrain -q > /dev/null
"$propnet" info --net preresnet --depth 8 --relu-mask-file "$found" --sites --json > "$work/info.json"
python3 - "$found" "$work/runs/retrain/config.json" "$work/info.json" <<'PY'
import json, sys
s, c, i = (json.load(open(p)) for p in sys.argv[1:])
assert c["network"]["relu_mask"].replace(".", "") == s["relu_mask"], (c["network"], s["relu_mask"])  # units dotted
assert i["relu_elements"] == s["relu_elements"], (i["relu_elements"], s["relu_elements"])
kept = [x["name"] for x in i["sites"] if x["kept"] and not x["fixed"]]
assert kept == s["kept_sites"], (kept, s["kept_sites"])
PY

# 6. greedy: trains with every ReLU, then removes sites down to the budget; an element budget holds.
"$propnet" search --net plain --depth 8 --method greedy --dataset fashion-mnist --subset 512 --val-split 128 \
  --epochs 1 --batch-size 32 --relu-budget 50000 --threads 1 --out "$work/runs" --name greedy -q > /dev/null
python3 - "$work/runs/greedy/seed-0/search.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["relu_elements"] <= 50000 and s["budget"]["relu_budget"] == 50000, s["relu_elements"]
assert len(s["rounds"]) == 6 - s["sites_kept"] and len(s["removal_costs"]) == 6, s["rounds"]
assert s["rounds"][-1]["relu_mask"] == s["relu_mask"] and all("1" in s["relu_mask"][i:i + 2] for i in (0, 2, 4))
PY
echo "search CLI: all checks passed"
