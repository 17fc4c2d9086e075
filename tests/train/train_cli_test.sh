#!/usr/bin/env bash
# End to end: `propnet train` on real Fashion-MNIST (a subset), SIGINT + resume, eval, summary,
# and config errors. Skips (exit 77) where Debian's dataset-fashion-mnist is not installed.
set -euo pipefail
propnet="$1"
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $data missing (apt install dataset-fashion-mnist)"; exit 77; }
work="${PROPNET_TEST_TMP:-/tmp}/train-cli"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

run=(train --net preresnet --depth 8 --variant proportional --dataset fashion-mnist --subset 1536 --test-subset 512
     --epochs 3 --batch-size 32 --seeds 0,1 --out "$work/runs" --name quick --threads 2
     --set train.log_every=4)  # progress lines (and so the SIGINT below) come mid-epoch

# 0. --print-config: the resolved config (seeds expanded, the folder's name), nothing run or written.
"$propnet" train --net plain --depth 8 --dataset fashion-mnist --seeds 0-2,7 --out "$work/printed" --print-config |
  python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["seeds"] == [0, 1, 2, 7] and d["name"] == "plain-8-paired-fashion-mnist", d' ||
  fail "--print-config"
[ ! -e "$work/printed" ] || fail "--print-config wrote a run folder"

# 1. Interrupt seed 0 in its first epoch, then resume with the same command (the checkpoint holds the steps done).
"$propnet" "${run[@]}" > "$work/first.out" 2> "$work/first.err" &
pid=$!
for _ in $(seq 1 600); do
  grep -q "step" "$work/runs/quick/seed-0/train.log" 2>/dev/null && break
  sleep 0.1
done
# Twice, 50 ms apart, as `timeout -s INT` can deliver it (to the process and to its group, each maybe to another
# thread): one stop request, not "second interrupt, exiting now".
kill -INT "$pid"; sleep 0.05; kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
grep -q "second interrupt" "$work/first.err" && fail "two SIGINTs sent together were taken as a second Ctrl-C"
[ "$rc" -eq 130 ] || { cat "$work/first.err"; fail "interrupted run should exit 130 (got $rc)"; }
grep -q "Resume with" "$work/first.err" || fail "no resume hint"
[ -f "$work/runs/quick/seed-0/checkpoint.pt" ] || fail "no checkpoint after SIGINT"
[ ! -f "$work/runs/quick/seed-0/model.pt" ] || fail "model.pt written for an unfinished seed"

"$propnet" "${run[@]}" --resume > "$work/second.out" 2> "$work/second.err" || { cat "$work/second.err"; fail "resume failed"; }
grep -q "resuming seed 0" "$work/second.err" || fail "did not resume seed 0"
grep -q "median (mean ± std_pop, best)" "$work/second.out" || fail "no result line"

# 2. Every file of the layout, and a summary with both seeds done.
for f in config.json summary.json seed-0/metrics.jsonl seed-0/metrics.csv seed-0/checkpoint.pt seed-0/model.pt \
         seed-0/train.log seed-1/model.pt; do
  [ -f "$work/runs/quick/$f" ] || fail "missing $f"
done
python3 - "$work/runs/quick" <<'PY'
import csv, json, sys
run = sys.argv[1]
s = json.load(open(f"{run}/summary.json"))
assert s["n"] == 2 and [x["status"] for x in s["seeds"]] == ["done", "done"], s
for key in ["mean", "std", "std_pop", "median", "best"]:
    assert isinstance(s[key], float), key
rows = list(csv.DictReader(open(f"{run}/seed-0/metrics.csv")))
assert [int(r["epoch"]) for r in rows] == [1, 2, 3], rows
# 3 epochs: drops at floor(1.5)=1, floor(2.25)=2 and floor(2.625)=2
assert [float(r["lr"]) for r in rows] == [0.1, 0.1 * 0.1, 0.1 * 0.1 ** 3] or all(abs(a - b) < 1e-15 for a, b in zip([float(r["lr"]) for r in rows], [0.1, 0.01, 1e-4])), rows
c = json.load(open(f"{run}/config.json"))
assert list(c) == ["name", "network", "data", "train", "seeds", "out", "paper", "environment"], list(c)  # schema order
assert list(c["train"])[:3] == ["epochs", "batch_size", "lr"], list(c["train"])
assert isinstance(c["environment"]["git_dirty"], bool) and c["environment"]["git_sha"], c["environment"]
assert c["environment"]["libtorch"] and c["network"]["in_channels"] == 1 and c["network"]["classes"] == 10, c
assert abs(s["seeds"][0]["final_test_acc"] - float(rows[-1]["test_acc"])) < 1e-9
PY

# 3. A third run skips both finished seeds (a stray seed-old/ folder is no seed); eval reproduces the last
#    epoch's test accuracy.
mkdir -p "$work/runs/quick/seed-old"
"$propnet" "${run[@]}" 2> "$work/third.err" > /dev/null || { cat "$work/third.err"; fail "third run failed"; }
[ "$(grep -c "already finished" "$work/third.err")" -eq 2 ] || fail "finished seeds were not skipped"
"$propnet" eval --checkpoint "$work/runs/quick/seed-1/model.pt" --json > "$work/eval.json"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
e = json.load(open(f"{work}/eval.json"))
last = [json.loads(l) for l in open(f"{work}/runs/quick/seed-1/metrics.jsonl")][-1]
assert e["images"] == 512 and abs(e["test_acc"] - last["test_acc"]) < 1e-9, (e, last)
PY
# A model.pt carries its config: copied out of its run folder it still evaluates; a seed folder works as well;
# --test-subset (and --dataset/--data-dir) score it on other data than the run's.
cp "$work/runs/quick/seed-1/model.pt" "$work/moved.pt"
"$propnet" eval --checkpoint "$work/moved.pt" --json > "$work/moved.json" || fail "eval of a model.pt outside its run folder"
"$propnet" eval --checkpoint "$work/runs/quick/seed-1" --test-subset 100 --json > "$work/folder.json" ||
  fail "eval of a seed folder"
python3 - "$work" <<'PY'
import json, sys
work = sys.argv[1]
e, moved, folder = (json.load(open(f"{work}/{n}.json")) for n in ("eval", "moved", "folder"))
assert moved["test_acc"] == e["test_acc"] and moved["images"] == 512, (moved, e)
assert folder["images"] == 100, folder
PY
"$propnet" eval --checkpoint "$work/moved.pt" --dataset fashion-mnist --data-dir "$data" --test-subset 300 --json |
  python3 -c 'import json, sys; assert json.load(sys.stdin)["images"] == 300' || fail "eval --dataset --data-dir"

# 4. Damaged files: a torn checkpoint.pt is replaced by checkpoint.prev.pt, with a note; with both torn, and
#    for an empty model.pt, one line that names the file and exit 1.
expect_runtime_error() {  # message args...
  local message="$1"; shift
  set +e; err=$("$propnet" "$@" 2>&1 >/dev/null); rc=$?; set -e
  [ "$rc" -eq 1 ] || fail "expected exit 1 for '$*' (got $rc: $err)"
  [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "expected one line for '$*' (got: $err)"
  printf '%s' "$err" | grep -qF -- "$message" || fail "expected '$message' for '$*' (got: $err)"
}
seed1="$work/runs/quick/seed-1"
[ -f "$seed1/checkpoint.prev.pt" ] || fail "no checkpoint.prev.pt beside checkpoint.pt"
head -c 200 "$seed1/checkpoint.pt" > "$seed1/torn" && mv "$seed1/torn" "$seed1/checkpoint.pt" && rm "$seed1/model.pt"
"$propnet" "${run[@]}" > /dev/null 2> "$work/fallback.err" || { cat "$work/fallback.err"; fail "no fallback"; }
grep -q "checkpoint.pt is not readable (truncated, or not a PyTorch archive); resuming from checkpoint.prev.pt" \
  "$work/fallback.err" || fail "fallback not reported"
[ -f "$seed1/model.pt" ] || fail "the fallback run did not finish seed 1"
: > "$seed1/checkpoint.pt"; : > "$seed1/checkpoint.prev.pt"; rm "$seed1/model.pt"
expect_runtime_error "\"$seed1/checkpoint.pt\" is not readable (an empty file) and \"$seed1/checkpoint.prev.pt\" is not a readable checkpoint either (an empty file); move them away" "${run[@]}" -q
: > "$work/runs/quick/seed-0/model.pt"
expect_runtime_error "model.pt\" is not a readable model file (an empty file)" eval --checkpoint "$work/runs/quick/seed-0/model.pt"
: > "$work/empty.pt"
expect_runtime_error "empty.pt\" is not a readable model file (an empty file)" eval --checkpoint "$work/empty.pt"

# 5. Usage and config errors: exit 2, one line, before any work.
expect_usage_error() {
  set +e; err=$("$propnet" "$@" 2>&1 >/dev/null); rc=$?; set -e
  [ "$rc" -eq 2 ] || fail "expected exit 2 for '$*' (got $rc: $err)"
  printf '%s\n' "$err"
}
expect_usage_error train --net preresnet --depth 9 --dataset fashion-mnist | grep -q "6n+2" || fail "depth"
expect_usage_error train --dataset fashion-mnist | grep -q "\-\-net" || fail "missing net"
expect_usage_error train --net preresnet --depth 8 --dataset fashion-mnist --device cuda:7 | grep -q "cuda" || fail "device"
expect_usage_error train --net preresnet --depth 8 --dataset cifar10 | grep -q "data-dir" || fail "cifar without dir"
expect_usage_error train --net preresnet --depth 8 | grep -q "cifar10 (the default data set) needs --data-dir.*--dataset fashion-mnist needs no download" ||
  fail "the default data set's message"
RANK=0 WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=1 expect_usage_error train --net preresnet --depth 8 \
  --dataset fashion-mnist --device cuda:0 | grep -q 'train.device: expected "cuda" in a data-parallel run' ||
  fail "one GPU for every rank"
expect_usage_error train --net preresnet --depth 8 --dataset fashion-mnist --channels-last=maybe |
  grep -q "expected on, off or auto" || fail "channels-last value"
# replaced=(the arguments after FLAG VALUE, with FLAG's value set to VALUE): a single-valued flag may be given once.
replace_flag() {
  local flag=$1 value=$2 previous="" arg; shift 2; replaced=()
  for arg in "$@"; do [ "$previous" = "$flag" ] && arg=$value; replaced+=("$arg"); previous=$arg; done
}
replace_flag --epochs 4 "${run[@]}"
expect_usage_error "${replaced[@]}" | grep -q "train.epochs (3 in the run folder, 4 now); pass --name quick-epochs4 for" ||
  fail "changed config in the same run folder: refused, with a free name that says what changed"
expect_usage_error eval --checkpoint "$work/runs" | grep -q "is a folder without model.pt or checkpoint.pt; give a seed folder" ||
  fail "eval of a folder that is no seed folder"
expect_usage_error eval --checkpoint "$work/moved.pt" --dataset cifar100 |
  grep -q "the model takes 1-channel images of 10 classes, cifar100 has 3-channel images of 100 classes" ||
  fail "eval on a data set the model cannot take"
expect_usage_error "${run[@]}" --epochs 4 | grep -q -- "--epochs given twice (3, then 4)" || fail "repeated flag"
echo '{"network": {"arch": "preresnet", "depth": 8}, "train": {"nesterof": true}}' > "$work/bad.json"
expect_usage_error train --config "$work/bad.json" | grep -q 'did you mean "nesterov"' || fail "unknown key"
# 6. A validation split, a mask file and a selector: config.json records the resolved mask, the metrics and the
#    progress line carry val_loss/val_acc, the same command finds the same experiment, another selector does not.
printf '# by hand\n11.01.01\n' > "$work/mask.txt"
masked=(train --net preresnet --depth 8 --relu-mask-file "$work/mask.txt" --relu-drop 'stage3.*.before_conv2'
        --dataset fashion-mnist --subset 640 --val-split 128 --test-subset 256 --epochs 1 --batch-size 64
        --seeds 0 --out "$work/runs" --name masked --threads 2)
"$propnet" "${masked[@]}" > /dev/null 2> "$work/masked.err" || { cat "$work/masked.err"; fail "masked run failed"; }
grep -q "val loss [0-9.]* acc [0-9.]*%" "$work/masked.err" || fail "no val in the progress line"
python3 - "$work/runs/masked" "$work/mask.txt" <<'PY'
import csv, json, sys
run, mask_file = sys.argv[1:]
c = json.load(open(f"{run}/config.json"))
n = c["network"]
assert n["relu_mask"] == "11.01.00" and n["relu_mask_file"] == mask_file and n["relu_drop"] == ["stage3.*.before_conv2"], n
assert "variant" not in n and c["data"]["val_split"] == 128, c
rows = list(csv.DictReader(open(f"{run}/seed-0/metrics.csv")))
assert 0 < float(rows[0]["val_loss"]) and 0 <= float(rows[0]["val_acc"]) <= 100, rows
assert float(rows[0]["val_loss"]) != float(rows[0]["test_loss"]), rows
PY
"$propnet" "${masked[@]}" 2> "$work/masked2.err" > /dev/null || { cat "$work/masked2.err"; fail "same masked run"; }
grep -q "already finished" "$work/masked2.err" || fail "the same masked command is another experiment"
expect_usage_error "${masked[@]}" --relu-drop 'stage2.*' | grep -q "network.relu_mask" || fail "another selector, same folder"
expect_usage_error "${masked[@]:0:5}" --relu-drop 'stage9.*' --dataset fashion-mnist |
  grep -q "network.relu_drop: relu_drop \"stage9.\*\" matches no site" || fail "selector error"
replace_flag --val-split 640 "${masked[@]}"
expect_usage_error "${replaced[@]}" | grep -q "data.val_split" || fail "val_split >= subset"

# 7. A subset larger than its split is said to be capped; one seed's summary says it has no spread.
"$propnet" train --net preresnet --depth 8 --dataset fashion-mnist --subset 64 --test-subset 20000 --epochs 1 \
  --batch-size 32 --seeds 0 --out "$work/runs" --name capped --threads 2 > "$work/capped.out" 2> "$work/capped.err" ||
  { cat "$work/capped.err"; fail "capped run failed"; }
grep -q -- "--test-subset 20000 is more than the 10000 test images of fashion-mnist; using all 10000" "$work/capped.err" ||
  { cat "$work/capped.err"; fail "no word that the test subset was capped"; }
grep -q "(n=1: one seed, no spread)" "$work/capped.out" || { cat "$work/capped.out"; fail "one seed shown with a spread"; }

echo "train-cli: all checks passed"
