#!/usr/bin/env bash
# End to end: scripts/reproduce.sh on a tiny Fig. 6 (Fashion-MNIST, 2 epochs, 2 seeds, 64 images, two rows in
# parallel), then the content of what it wrote: the table's rows, columns and numbers, one CSV line per seed, a
# real PNG. Also scripts/report on made-up Table I runs (paper order, differences), `--dry-run all` and usage
# errors. Skips (exit 77) where Debian's dataset-fashion-mnist is not installed.
#
#   tests/reproduce/reproduce_quick_test.sh PROPNET_BINARY
set -euo pipefail
propnet=$(realpath "${1:?usage: $0 PROPNET_BINARY}")
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data=/usr/share/datasets/fashion-mnist
[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "SKIP: $data missing (apt install dataset-fashion-mnist)"; exit 77; }
if [ -n "${PROPNET_TEST_TMP:-}" ]; then
  work="$PROPNET_TEST_TMP"
  rm -rf "$work"; mkdir -p "$work"
else
  work=$(mktemp -d)
  trap 'rm -rf "$work"' EXIT
fi
fail() { echo "FAIL: $*" >&2; exit 1; }
# The checks below only need the standard library; the report needs matplotlib (Debian's python3).
python=python3
[ -x /usr/bin/python3 ] && python=/usr/bin/python3

# 1. Usage errors exit 2 with a message.
for bad in "tableX" "table1 --bogus" "table1 --epochs zero" "table1 --dataset-override mnist" "" "fig6 --seeds 3-1"; do
  rc=0
  # shellcheck disable=SC2086  # word splitting wanted: each case is several arguments
  "$root/scripts/reproduce.sh" $bad --dry-run --no-estimate --propnet "$propnet" > /dev/null 2> "$work/bad.err" || rc=$?
  [ "$rc" -eq 2 ] || fail "'reproduce.sh $bad' should exit 2 (got $rc)"
  [ -s "$work/bad.err" ] || fail "'reproduce.sh $bad' printed no error"
done

# 2. --dry-run all lists every config of configs/paper once, in the paper's order, into runs/paper.
"$root/scripts/reproduce.sh" all --dry-run --no-estimate --propnet "$propnet" --out "$work/dry" > "$work/dry.out"
"$python" - "$root" "$work/dry.out" "$work/dry" <<'PY'
import glob, json, os, re, sys
root, out, dry = sys.argv[1:]
lines = open(out).read().splitlines()
train = [l for l in lines if " train --config " in l]
listed = [re.search(r"--config (\S+)", l).group(1) for l in train]
expected = sorted(glob.glob(f"{root}/configs/paper/*/*.json"))
assert len(expected) == 29, expected
assert sorted(listed) == expected, (listed, expected)
manifest = json.load(open(f"{root}/configs/paper/targets.json"))
order = [f"{root}/configs/paper/{r['config']}" for t in ["table1", "table2", "fig6", "fig7", "fig8", "table3"]
         for r in manifest[t]["rows"]]
assert listed == order, "not in the paper's order"
for l in train:
    assert f"--out {dry}/paper " in l and "--seeds 0,1,2,3,4" in l, l
    assert "--epochs" not in l and "--subset" not in l and "--dataset" not in l, l
assert any("scripts/report" in l and f"--runs {dry}/paper " in l and l.endswith(" all") for l in lines), lines
PY

# 3. A tiny Fig. 6 end to end; the second, identical command finds every seed finished.
quick=(fig6 --epochs 2 --seeds "0,1" --subset 64 --dataset-override fashion-mnist --device cpu --jobs 2
       --propnet "$propnet" --out "$work/runs" --results "$work/results")
"$root/scripts/reproduce.sh" "${quick[@]}" > "$work/quick.out" 2> "$work/quick.err" \
  || { tail -n 30 "$work/quick.err"; fail "reproduce.sh fig6 failed"; }
for f in fig6.md fig6.csv fig6.png fig6.svg; do [ -s "$work/results/$f" ] || fail "missing results/$f"; done
grep -q "^| Data set | Model | Depth | Paper | Ours |" "$work/quick.out" || fail "the table was not printed"
run_dir="$work/runs/reduced-fashion-mnist-e2-sub64-test64"
[ -d "$run_dir/fig6/preresnet-110-paired-c10" ] || fail "reduced runs not in their own folder ($run_dir)"
"$python" - "$work/results" "$run_dir" <<'PY'
import csv, json, re, statistics, struct, sys
results, run_dir = sys.argv[1:]
md = open(f"{results}/fig6.md").read()
assert md.startswith("# Fig. 6."), md[:80]
caption = next(l for l in md.splitlines() if l.startswith("**Reduced protocol"))
for phrase in ["Fashion-MNIST instead of the paper's CIFAR-10", "2 epochs instead of 400", "the first 64 of 60000",
               "the first 64 of 10000", "2 finished seed(s) per row instead of 5"]:
    assert phrase in caption, (phrase, caption)
table = [l for l in md.splitlines() if l.startswith("|")]
header = [c.strip() for c in table[0].strip("|").split("|")]
assert header == ["Data set", "Model", "Depth", "Paper", "Ours", "Seeds", "Epochs", "Δ",
                  "Median (mean ± std_pop, best)", "Ours − paired [95 % CI]"], header
assert "Ours − paired: the row's final accuracy minus its paired baseline's" in md, "no caption for the column"
rows = [[c.strip() for c in l.strip("|").split("|")] for l in table[2:]]
assert [r[1] for r in rows] == ["1:1 Pre-Paired Module", "2:1 Pre-Proportional Module"], rows
number = r"(\d+\.\d\d)"
per_seed = list(csv.DictReader(open(f"{results}/fig6.csv")))
assert len(per_seed) == 4, per_seed
assert sorted((r["row"], r["seed"]) for r in per_seed) == [("1", "0"), ("1", "1"), ("2", "0"), ("2", "1")]
for i, r in enumerate(rows, 1):
    assert r[0] == "CIFAR-10 → Fashion-MNIST" and r[2] == "110" and r[3] == "—" and r[7] == "—", r
    mean, std = map(float, re.fullmatch(rf"{number} ± {number}", r[4]).groups())
    assert r[5] == "2" and r[6] == "2", r
    median, mean2, std_pop, best = map(float, re.fullmatch(rf"{number} \({number} ± {number}, {number}\)",
                                                           r[8]).groups())
    finals = [float(s["final_test_acc"]) for s in per_seed if s["row"] == str(i)]
    assert all(0 <= a <= 100 for a in finals) and all(s["status"] == "done" for s in per_seed), per_seed
    assert abs(mean - statistics.fmean(finals)) < 0.006 and abs(std - statistics.stdev(finals)) < 0.006, (r, finals)
    assert mean == mean2 and best == round(max(finals), 2) and std_pop <= std + 1e-9, r
    if i == 1:
        assert r[9] == "", r  # the paired row is its own baseline
    else:  # 2 seeds: the bootstrap resamples two differences, so the CI spans them
        d = [float(b["final_test_acc"]) - float(a["final_test_acc"]) for a, b in zip(per_seed[:2], per_seed[2:])]
        mean_d, low, high = map(float, re.fullmatch(r"([+-]\d+\.\d\d) \[([+-]\d+\.\d\d), ([+-]\d+\.\d\d)\]",
                                                    r[9]).groups())
        assert abs(mean_d - statistics.fmean(d)) < 0.006 and abs(low - min(d)) < 0.006 and abs(high - max(d)) < 0.006, (r, d)
    metrics = [json.loads(l) for l in open(f"{run_dir}/{per_seed[2 * i - 2]['config'][:-5]}/seed-0/metrics.jsonl")]
    assert abs(metrics[-1]["test_acc"] - float(per_seed[2 * i - 2]["final_test_acc"])) < 1e-9
png = open(f"{results}/fig6.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR", "not a PNG"
width, height = struct.unpack(">II", png[16:24])
assert 600 <= width <= 3000 and 400 <= height <= 3000 and len(png) > 10000, (width, height, len(png))
svg = open(f"{results}/fig6.svg").read()
assert "<svg" in svg and "Pre-Proportional" in svg, "svg without the legend"
PY
"$root/scripts/reproduce.sh" "${quick[@]}" > /dev/null 2> "$work/again.err" || fail "the second run failed"
[ "$(wc -l < "$run_dir/fig6/preresnet-110-paired-c10/seed-1/metrics.jsonl")" -eq 2 ] || fail "the rerun trained again"

# 4. The report on made-up Table I runs: the paper's rows and numbers, ours beside them, Δ, reference line.
fake="$work/fake-runs"
"$python" - "$root" "$fake" <<'PY'
import json, os, sys
root, fake = sys.argv[1:]
for row in json.load(open(f"{root}/configs/paper/targets.json"))["table1"]["rows"]:
    config = json.load(open(f"{root}/configs/paper/{row['config']}"))
    run = f"{fake}/{config['name']}"
    resolved = {"name": config["name"], "network": config["network"],
                "data": {"dataset": "cifar100", "subset": 0, "test_subset": 0, "augment": True,
                         "coarse_labels": False},
                "train": {"epochs": 400, "batch_size": 64, "lr": 0.1, "momentum": 0.9, "nesterov": True,
                          "weight_decay": 0.0001, "milestone_fractions": [0.5, 0.75, 0.875], "milestones": [],
                          "lr_factor": 0.1},
                "paper": config["paper"]}
    for seed, offset in enumerate([0.0, 0.25, 0.5, 0.75, 1.0]):  # mean = paper + 0.5
        os.makedirs(f"{run}/seed-{seed}")
        with open(f"{run}/seed-{seed}/metrics.jsonl", "w") as f:
            for epoch in range(1, 401):
                acc = config["paper"]["mean"] + offset if epoch == 400 else 1.0
                f.write(json.dumps({"epoch": epoch, "test_acc": acc, "train_acc": 1.0, "test_loss": 1.0}) + "\n")
        open(f"{run}/seed-{seed}/model.pt", "w").close()
    json.dump(resolved, open(f"{run}/config.json", "w"))
PY
"$python" "$root/scripts/report" --runs "$fake" --results "$work/fake-results" table1 > /dev/null
"$python" - "$work/fake-results/table1.md" <<'PY'
import sys
md = open(sys.argv[1]).read()
assert "Reduced protocol" not in md and "The paper's protocol" in md, md
rows = [[c.strip() for c in l.strip("|").split("|")] for l in md.splitlines() if l.startswith("| CIFAR")]
expected = [("Paired Module", "38", "64.04 ± 0.14"), ("2-1 Proportional Module", "38", "64.25 ± 1.44"),
            ("Paired Module", "62", "56.88 ± 1.16"), ("2-1 Proportional Module", "62", "60.86 ± 1.18"),
            ("Paired Module", "84", "44.16 ± 0.57"), ("2-1 Proportional Module", "84", "55.98 ± 2.59")]
assert [tuple(r[1:4]) for r in rows] == expected, rows
for r, (_, _, paper) in zip(rows, expected):
    mean = float(paper.split(" ± ")[0]) + 0.5
    assert r[4] == f"{mean:.2f} ± 0.40" and r[5] == "5" and r[6] == "400" and r[7] == "+0.50", r
    assert r[8] == f"{mean:.2f} ({mean:.2f} ± 0.35, {mean + 0.5:.2f})", r
# Same offsets per seed in both rows: every paired difference is the papers' difference, a point CI.
for paired, proportional, (_, _, p0), (_, _, p1) in zip(rows[::2], rows[1::2], expected[::2], expected[1::2]):
    d = float(p1.split(" ± ")[0]) - float(p0.split(" ± ")[0])
    assert paired[9] == "" and proportional[9] == f"{d:+.2f} [{d:+.2f}, {d:+.2f}]", (proportional, d)
PY
echo "PASS: reproduce.sh fig6 end to end, report content, dry-run all, usage errors"
