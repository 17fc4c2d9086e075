#!/usr/bin/env bash
# End to end: scripts/pareto.sh on a tiny plain-8 comparison (Fashion-MNIST, 64 images, 1 epoch, 2 seeds, every
# arm but exhaustive), its folder, its resume and its report; then scripts/report pareto on made-up exhaustive
# runs with known answers (ranks, site effects, paired differences); usage errors and --dry-run.
# The data-free parts always run; the training part skips where Debian's dataset-fashion-mnist is not installed.
#
#   tests/scripts/pareto_test.sh PROPNET_BINARY
set -euo pipefail
propnet=$(realpath "${1:?usage: $0 PROPNET_BINARY}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
pareto="$root/scripts/pareto.sh"
data=/usr/share/datasets/fashion-mnist
work="${PROPNET_TEST_TMP:-/tmp}/pareto"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

# 1. Usage errors: exit 2, one line naming the problem, nothing made.
expect_usage() {  # "message part" args...
  local want="$1"; shift
  set +e; "$pareto" --propnet "$propnet" --out "$work/refused" "$@" > /dev/null 2> "$work/usage.err"; local rc=$?; set -e
  [ "$rc" -eq 2 ] || { cat "$work/usage.err"; fail "pareto.sh $* should exit 2 (got $rc)"; }
  grep -qF -- "$want" "$work/usage.err" || { cat "$work/usage.err"; fail "pareto.sh $*: expected \"$want\""; }
  [ "$(wc -l < "$work/usage.err")" -eq 1 ] || { cat "$work/usage.err"; fail "pareto.sh $*: expected one line"; }
  [ ! -e "$work/refused" ] || fail "pareto.sh $*: a refused run made a folder"
}
expect_usage "--net is required" --depth 8 --keep 3
expect_usage "unknown arm 'best'" --net plain --depth 8 --keep 3 --arms paired,best
expect_usage "--keep is required" --net plain --depth 8 --arms random
expect_usage "shuffled permutes the searched masks" --net plain --depth 8 --keep 3 --arms random,shuffled
expect_usage "--keep 7: expected 1 to 6" --net plain --depth 8 --keep 7
expect_usage "--seeds: expected a list" --net plain --depth 8 --keep 3 --seeds 2-1
expect_usage "--seeds: a seed repeats" --net plain --depth 8 --keep 3 --seeds 0,0
expect_usage "--dataset: expected" --net plain --depth 8 --keep 3 --dataset mnist
expect_usage "unknown option '--bogus'" --net plain --depth 8 --keep 3 --bogus

# 2. --dry-run: the searches (one per method and search seed), the fixed masks' trainings (one per seed), the
#    paper's mask and its complement as info gives them, the report command; nothing made.
"$pareto" --propnet "$propnet" --net plain --depth 8 --keep 3 --seeds 0-2 --search-seeds 0,1 --epochs 6 \
  --subset 1000 --jobs 2 --out "$work/dry" --dry-run --no-estimate > "$work/dry.out"
[ ! -e "$work/dry" ] || fail "--dry-run made a folder"
[ "$(grep -c ' search .*--method gates' "$work/dry.out")" -eq 2 ] || fail "expected 2 gates searches"
[ "$(grep -c ' search .*--method greedy' "$work/dry.out")" -eq 2 ] || fail "expected 2 greedy searches"
[ "$(grep -c ' search .*--method random .*--count 8' "$work/dry.out")" -eq 1 ] || fail "expected 1 random draw"
grep -q -- '--val-split 200 ' "$work/dry.out" || fail "the searches should hold out a fifth of --subset"
for mask in 111111 010101 101010; do
  [ "$(grep -c " train .*--relu-mask $mask --seeds [0-2] " "$work/dry.out")" -eq 3 ] || fail "mask $mask: 3 seeds"
done
grep -q -- "--threads 1 " "$work/dry.out" || fail "2 jobs on $(nproc) cores: expected --threads $(( $(nproc) / 2 ))" 
grep -q "report pareto --runs $work/dry/plain-8-fashion-mnist-k3-e6-sub1000 " "$work/dry.out" || fail "report line"
# --rate: the estimate's arithmetic without a benchmark. 3 fixed masks x 2 seeds + (8 random + 1 searched + 1
# shuffled) x 2 = 26 runs of 2 x (1000 + 500/3) / 100 s, 1 search of 2 x 800 / 100 x 1.25 s: 0.17 h.
"$pareto" --propnet "$propnet" --net plain --depth 8 --keep 3 --seeds 0,1 --search-seeds 0 --arms \
  paired,paper,complement,random,gates,shuffled --epochs 2 --subset 1000 --test-subset 500 --out "$work/dry" \
  --dry-run --rate 100 > "$work/rate.out"
grep -q "^# estimate: paired network 100 images/s .*26 runs + 1 searches (x1.25 each) = 0.17 h" "$work/rate.out" ||
  { tail -n 1 "$work/rate.out"; fail "--rate estimate"; }

# 3. The made-up exhaustive experiment: 6 sites, all 20 masks with 3, seeds 0-2. Accuracy = 80 + 2 x (bit 1)
#    - 1 x (bit 3) + seed offset (0, 0.5, -0.5). At a fixed budget keeping site i means dropping another, so its
#    main effect (keep minus remove) is b_i - (sum of the other b_j) / (N - 1): +2.2 for site 1, -1.4 for site 3,
#    -0.2 for the rest. The 6 masks that keep site 1 and drop site 3 tie for the top (regret 0); the paper's 010101
#    keeps both.
fake="$work/fake"
"$python" - "$fake" <<'PY'
import itertools, json, os, sys
fake = sys.argv[1]
sites = {"sites": [{"name": f"stage{st}.{u}.after_conv", "stage": st, "mask_bit": 2 * (st - 1) + u, "fixed": False,
                    "elements": 1000 * st} for st in (1, 2, 3) for u in (0, 1)]
                  + [{"name": "head", "stage": 0, "mask_bit": -1, "fixed": True, "elements": 64}]}
os.makedirs(fake)
json.dump(sites, open(f"{fake}/sites.json", "w"))
masks = ["".join("1" if i in kept else "0" for i in range(6)) for kept in itertools.combinations(range(6), 3)]
arms = [("paired", "paired", "111111"), ("paper", "paper (2:1)", "010101")]
arms += [("exhaustive", f"exhaustive {i}", m) for i, m in enumerate(masks)]
arms += [("gates", "gates s0", "110001")]
with open(f"{fake}/arms.tsv", "w") as f:
    f.writelines("\t".join(a) + "\n" for a in arms)
config = {"network": {"arch": "plain", "depth": 8}, "data": {"dataset": "fashion-mnist", "subset": 100,
          "test_subset": 50, "augment": True}, "train": {"epochs": 2, "batch_size": 64, "lr": 0.1, "lr_factor": 0.1,
          "milestone_fractions": [0.5, 0.75, 0.875], "weight_decay": 0.0001}}
for mask in {a[2] for a in arms}:
    run = f"{fake}/train/{mask}"
    for seed, offset in zip(range(3), (0.0, 0.5, -0.5)):
        acc = 80 + 2 * (mask[1] == "1") - (mask[3] == "1") + offset + (3.0 if mask == "111111" else 0.0)
        os.makedirs(f"{run}/seed-{seed}")
        with open(f"{run}/seed-{seed}/metrics.jsonl", "w") as f:
            f.write(json.dumps({"epoch": 1, "test_acc": 10.0, "train_acc": 1.0, "epoch_seconds": 1.0}) + "\n")
            f.write(json.dumps({"epoch": 2, "test_acc": acc, "train_acc": 1.0, "epoch_seconds": 1.0}) + "\n")
        open(f"{run}/seed-{seed}/model.pt", "w").close()
    json.dump(config, open(f"{run}/config.json", "w"))
search = f"{fake}/searches/gates/seed-0"
os.makedirs(search)
json.dump({"method": "gates", "seed": 0, "relu_mask": "110001", "wall_seconds": 3600.0}, open(f"{search}/search.json", "w"))
PY
"$python" "$root/scripts/report" pareto --runs "$fake" --results "$work/fake-results" > /dev/null
"$python" - "$work/fake-results" <<'PY'
import csv, re, sys
results = sys.argv[1]
md = open(f"{results}/pareto.md").read()
lines = md.splitlines()
start = next(i for i, l in enumerate(lines) if l.startswith("| Arm | Masks |"))
header = lines[start]
table = lines[start + 2:lines.index("", start)]
rows = {l.split("|")[1].strip(): [c.strip() for c in l.strip("|").split("|")] for l in table}
assert sorted(rows) == ["exhaustive", "gates", "paired", "paper"], rows
assert "Δ vs paper [CI] p" in header and "Δ vs paired [CI] p" in header and "Δ vs exhaustive [CI] p" in header, header
# paper 010101: 80 + 2 - 1 = 81; paired 111111: 81 + 3 = 84; gates 110001: 82; exhaustive mean over 20 masks:
# 80 + 2 x 10/20 - 10/20 = 80.5. Seed offsets cancel in every paired difference: point CIs, p = 0.25 at n = 3.
assert rows["paper"][5] == "81.00 ± 0.50" and rows["paired"][5] == "84.00 ± 0.50", rows
assert rows["gates"][3] == "5,064" and rows["paper"][3] == "6,064", rows  # 1000 + 2000 + 1000 (+64 fixed)
assert rows["gates"][6].startswith("+1.00 [+1.00, +1.00] p=0.25 (n=3)"), rows["gates"]
assert rows["gates"][7].startswith("-2.00 [-2.00, -2.00]"), rows["gates"]
assert rows["gates"][8].startswith("+1.50 [+1.50, +1.50]"), rows["gates"]
assert rows["paired"][6].startswith("+3.00"), rows["paired"]
# Percentile of 110001 (82) among the 20 exhaustive means: 14 below (81, 80, 79), 6 tied at 82 -> (14 + 3) / 20.
assert rows["gates"][9] == "85", rows["gates"]
# Ranks count the strictly better masks: the 6 at 82 share rank 1, the 4 at 81 (the paper's among them) rank 7.
assert "The paper's mask `010101` ranks 7 of 20 (mean 81.00 %, regret 1.00 points" in md, md
assert "The gates search (seed 0) found `110001`: rank 1 of 20, regret 0.00 points." in md, md
effects = {l.split("|")[1].strip(): l.split("|")[3].strip() for l in md.splitlines() if "after_conv |" in l}
assert effects == {"stage1.0.after_conv": "-0.20", "stage1.1.after_conv": "+2.20", "stage2.0.after_conv": "-0.20",
                   "stage2.1.after_conv": "-1.40", "stage3.0.after_conv": "-0.20", "stage3.1.after_conv": "-0.20"}, effects
assert re.search(r"F\(19, 38\) = inf", md), "no residual: F is infinite"
assert "1.00 h of searches (1)" in md, md
lines = list(csv.DictReader(open(f"{results}/pareto.csv")))
assert len(lines) == (2 + 20 + 1) * 3, len(lines)
assert {l["final_test_acc"] for l in lines if l["label"] == "paper (2:1)"} == {"81.0", "81.5", "80.5"}, lines[3:6]
png = open(f"{results}/pareto.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10000, len(png)
PY
rc=0; "$python" "$root/scripts/report" pareto --runs "$work/nothing" --results "$work/x" 2> "$work/none.err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "no arms.tsv" "$work/none.err" || fail "report pareto on a non-experiment: exit 2 + message"

# 4. A real run, every arm but exhaustive, then a rerun that trains nothing.
if [ ! -f "$data/train-images-idx3-ubyte.gz" ]; then
  echo "SKIP (training part): $data missing (apt install dataset-fashion-mnist)"
  exit 0
fi
run=("$pareto" --propnet "$propnet" --net plain --depth 8 --keep 3 --random 2 --seeds 0,1 --search-seeds 0
     --subset 64 --test-subset 64 --val-split 32 --epochs 1 --jobs 2 --gpus 5,6 --out "$work/runs" --results "$work/results")
"${run[@]}" > "$work/run.out" 2> "$work/run.err" || { tail -n 30 "$work/run.err"; fail "pareto.sh failed"; }
exp="$work/runs/plain-8-fashion-mnist-k3-e1-sub64-test64"
for gpu in 5 6; do  # each of the 2 job slots keeps one GPU of --gpus (CPU training ignores the variable)
  grep -q "^==> CUDA_VISIBLE_DEVICES=$gpu .* train " "$work/run.err" || fail "no job pinned to GPU $gpu"
done
"$python" - "$exp" "$work/results" <<'PY'
import collections, csv, json, os, sys
exp, results = sys.argv[1], sys.argv[2]
arms = [l.rstrip("\n").split("\t") for l in open(f"{exp}/arms.tsv")]
by_arm = collections.defaultdict(list)
for arm, label, mask in arms:
    by_arm[arm].append(mask)
assert sorted(by_arm) == ["complement", "gates", "greedy", "paired", "paper", "random", "shuffled"], by_arm
paper = "010101"  # plain-8's 2:1 network: the second conv of every block keeps its ReLU
assert by_arm["paper"] == [paper] and by_arm["paired"] == ["111111"], by_arm
assert by_arm["complement"] == ["".join("1" if c == "0" else "0" for c in paper)], by_arm
assert len(by_arm["random"]) == 2 and len(by_arm["shuffled"]) == 2, by_arm
for mask in by_arm["random"] + by_arm["gates"] + by_arm["greedy"] + by_arm["shuffled"]:
    assert mask.count("1") == 3, mask
    assert all("1" in mask[i:i + 2] for i in (0, 2, 4)), mask  # propnet search's default: one site per stage
searched = by_arm["gates"] + by_arm["greedy"]
for original, shuffled in zip(searched, by_arm["shuffled"]):  # 2 sites per stage: counts per stage kept
    assert [original[i:i + 2].count("1") for i in (0, 2, 4)] == [shuffled[i:i + 2].count("1") for i in (0, 2, 4)]
    # One of two sites per stage is kept, and the shuffle seeded by search seed 0 swaps stage 3's pair: always moved.
    assert shuffled != original and shuffled[:4] == original[:4], (original, shuffled)
masks = {m for _, _, m in arms}
assert sorted(os.listdir(f"{exp}/train")) == sorted(masks), (os.listdir(f"{exp}/train"), masks)
for m in masks:
    for seed in (0, 1):
        lines = open(f"{exp}/train/{m}/seed-{seed}/metrics.jsonl").read().splitlines()
        assert len(lines) == 1 and os.path.exists(f"{exp}/train/{m}/seed-{seed}/model.pt"), (m, seed)
    config = json.load(open(f"{exp}/train/{m}/config.json"))
    assert config["network"]["relu_mask"] == m and config["data"]["subset"] == 64, config
search = json.load(open(f"{exp}/searches/gates/seed-0/search.json"))
assert search["config"]["data"]["val_split"] == 32 and "test_acc" not in json.dumps(search["epochs"]), search
assert "pareto.sh" in open(f"{exp}/command.txt").read()
lines = list(csv.DictReader(open(f"{results}/pareto.csv")))
assert len(lines) == 2 * len(arms) and all(l["status"] == "done" for l in lines), lines
md = open(f"{results}/pareto.md").read()
for arm in by_arm:
    assert f"| {arm} |" in md, arm
for label in ("paper (2:1)", "random 1", "shuffled greedy s0"):
    acc = [float(l["final_test_acc"]) for l in lines if l["label"] == label]
    row = next(l for l in md.splitlines() if l.startswith(f"| {label.split()[0]} | {label} |"))
    assert f"{sum(acc) / 2:.2f} ± " in row, (row, acc)
PY
# The record beside the report has no checkpoint and rebuilds the same report.
[ -f "$work/results/record/RECORD" ] && [ -z "$(find "$work/results/record" -name '*.pt')" ] || fail "record"
"$python" "$root/scripts/report" pareto --runs "$work/results/record" --results "$work/rebuilt" > /dev/null
cmp "$work/results/pareto.csv" "$work/rebuilt/pareto.csv" || fail "the record rebuilds another pareto.csv"
before=$(cat "$exp"/train/*/seed-*/metrics.jsonl | md5sum)
"${run[@]}" > /dev/null 2> "$work/again.err" || { tail "$work/again.err"; fail "the rerun failed"; }
[ "$(cat "$exp"/train/*/seed-*/metrics.jsonl | md5sum)" = "$before" ] || fail "the rerun trained again"
echo "PASS: pareto.sh end to end, resume, report pareto on known answers, dry-run, usage errors"
