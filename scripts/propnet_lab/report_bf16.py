"""The bf16 equivalence report (results/fashion-mnist/bf16-equivalence/PLAN.md): does `--amp bf16` on the CPU keep
fp32's accuracy within ±MARGIN points?

`scripts/lab report bf16 --runs RECORD --results DIR` reads run folders named <net>-<depth>-<fp32|bf16> (one
network per pair, the same seeds in both arms) and writes bf16.md and bf16.csv:
- per network: both arms' final-epoch test accuracy and final training loss (mean ± SD), their median images/s;
- the paired difference d = bf16 − fp32 per seed: mean, SD, its 90 % and 95 % t intervals, and TOST against
  ±MARGIN (both one-sided p-values): equivalence is shown when the 90 % interval lies inside (−MARGIN, +MARGIN);
  inside the margin with a 95 % interval that excludes 0, it is "equivalent, with a difference";
- seeds that failed to train (NaN training loss, or test accuracy within CHANCE_BAND points of chance) by arm;
  they count with the accuracy they scored.
Each network is its own claim; "both are equivalent" needs each to be (an intersection-union test). The analysis is
the one PLAN.md fixed before the runs; the tables are byte-for-byte functions of the record.
"""
import csv
import json
import math
import os
import re
import statistics

from . import stats
from .report_depth import fmt, p_cell
from .runs import named_runs

ARMS = ("fp32", "bf16")
AMP_OF_ARM = {"fp32": "off", "bf16": "bf16"}  # what each arm's config.json must say (train.amp)
MARGIN = 1.0        # points (PLAN.md)
CHANCE_BAND = 5.0   # points above chance that still count as "failed to train" (reported, never excluded)
FOLDER = re.compile(r"^(?P<net>[a-z-]+-\d+)-(?P<arm>fp32|bf16)$")


def read_record(record):
    """{net: {arm: {seed: {"test_acc", "train_loss", "images_per_s"}}}} of the done seeds; refuses a folder whose
    train.amp is not its arm's."""
    out = {}
    for m, run in named_runs(record, FOLDER):
        amp = run.config["train"].get("amp", "off")
        if amp != AMP_OF_ARM[m["arm"]]:
            raise ValueError(f"{run.dir}: train.amp is \"{amp}\", not the {m['arm']} arm's "
                             f"\"{AMP_OF_ARM[m['arm']]}\"")
        seeds = {}
        for s in run.seeds:
            if s.done and s.metrics:
                speeds = [e["images_per_s"] for e in s.metrics if e.get("images_per_s")]
                seeds[s.seed] = {"test_acc": s.final_test_acc, "train_loss": s.metrics[-1]["train_loss"],
                                 "images_per_s": statistics.median(speeds) if speeds else math.nan}
        out.setdefault(m["net"], {})[m["arm"]] = seeds
    return out


def failed(values, classes):
    """Whether a seed failed to train: NaN training loss or a test accuracy near chance."""
    loss = values["train_loss"]
    return loss is None or math.isnan(loss) or values["test_acc"] < 100.0 / classes + CHANCE_BAND


def analyse(record_data, classes):
    out = {}
    for net, arms in record_data.items():
        fp32, bf16 = arms.get("fp32", {}), arms.get("bf16", {})
        common = sorted(set(fp32) & set(bf16))
        d = [bf16[s]["test_acc"] - fp32[s]["test_acc"] for s in common]
        summary = {}
        for arm, seeds in (("fp32", fp32), ("bf16", bf16)):
            acc = stats.mean_std([v["test_acc"] for v in seeds.values()])
            loss = stats.mean_std([v["train_loss"] for v in seeds.values()])
            speeds = [v["images_per_s"] for v in seeds.values() if not math.isnan(v["images_per_s"])]
            summary[arm] = {"n": len(seeds), "acc": acc, "loss": loss,
                            "images_per_s": statistics.median(speeds) if speeds else math.nan,
                            "failed": sorted(s for s, v in seeds.items() if failed(v, classes))}
        out[net] = {"arms": summary, "ci95": stats.t_interval(d, 0.95),
                    "tost": stats.tost_paired(d, MARGIN),
                    "only_one_arm": sorted(set(summary["fp32"]["failed"]) ^ set(summary["bf16"]["failed"])),
                    "unpaired": sorted(set(fp32) ^ set(bf16))}
    return out


def verdict(a):
    """The planned sentence for one network."""
    t, ci95 = a["tost"], a["ci95"]
    if t["n"] < 2:
        return "not enough paired seeds yet"
    if not t["equivalent"]:
        return f"equivalence within ±{MARGIN:g} point is not shown"
    if ci95["low"] > 0 or ci95["high"] < 0:
        return f"equivalent within ±{MARGIN:g} point, with a difference (the 95 % interval excludes 0)"
    return f"equivalent within ±{MARGIN:g} point"


def network_section(net, a):
    lines = [f"## {net}", "", "| Arm | Seeds | Test accuracy (%) | Final training loss | images/s (median) | Failed seeds |",
             "|---|---:|---:|---:|---:|---|"]
    for arm in ARMS:
        s = a["arms"][arm]
        lines.append(f"| {arm} | {s['n']} | {fmt(s['acc'][0])} ± {fmt(s['acc'][1])} | {fmt(s['loss'][0], 3)} ± "
                     f"{fmt(s['loss'][1], 3)} | {fmt(s['images_per_s'], 1)} | "
                     f"{', '.join(map(str, s['failed'])) or 'none'} |")
    t, ci95 = a["tost"], a["ci95"]
    lines.append("")
    if t["n"] >= 2:
        lines.append(f"Paired difference bf16 − fp32 over {t['n']} seeds: mean {fmt(t['mean'], signed=True)}, SD "
                     f"{fmt(ci95['sd'])}; 90 % t interval [{fmt(t['low'], signed=True)}, {fmt(t['high'], signed=True)}], "
                     f"95 % [{fmt(ci95['low'], signed=True)}, {fmt(ci95['high'], signed=True)}]; TOST against "
                     f"±{MARGIN:g}: p = {p_cell(t['p'])} (d ≤ −{MARGIN:g}: {p_cell(t.get('p_lower'))}, d ≥ "
                     f"+{MARGIN:g}: {p_cell(t.get('p_upper'))}).")
        lines.append("")
    lines.append(f"**{net}: {verdict(a)}.**")
    if a["only_one_arm"]:
        lines += ["", f"Seeds that failed in one arm only: {', '.join(map(str, a['only_one_arm']))}."]
    if a["unpaired"]:
        lines += ["", f"Seeds done in one arm only (left out of the difference): {', '.join(map(str, a['unpaired']))}."]
    return lines + [""]


def markdown(analysis, protocol):
    lines = ["# Does bf16 training on the CPU keep fp32's accuracy? (Fashion-MNIST)", "",
             "Pre-registered in PLAN.md (committed before the first run); this report follows it.", "", protocol, "",
             f"Final-epoch test accuracy on the protocol's test images; d = bf16 − fp32 per seed (the same seed gives both arms "
             f"the same initial weights and batches). Equivalence: the 90 % t interval of mean(d) inside "
             f"(−{MARGIN:g}, +{MARGIN:g}) points (TOST at α = 0.05 each side). A seed fails to train with a NaN "
             f"training loss or a test accuracy within {CHANCE_BAND:g} points of chance; it counts with the accuracy "
             "it scored.", ""]
    for net, a in analysis.items():
        lines += network_section(net, a)
    if analysis:
        every = all(a["tost"]["equivalent"] for a in analysis.values())
        lines += ["## All networks", "",
                  f"bf16 is {'equivalent to fp32 within ±1 point on every network' if every else 'not shown equivalent to fp32 on every network'}"
                  f" ({', '.join(f'{net}: {verdict(a)}' for net, a in analysis.items())}).", ""]
    return "\n".join(lines)


def write_csv(path, record_data):
    fields = ["net", "arm", "seed", "final_test_acc", "final_train_loss", "images_per_s"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        out.writeheader()
        for net, arms in sorted(record_data.items()):
            for arm in ARMS:
                for seed, v in sorted(arms.get(arm, {}).items()):
                    out.writerow({"net": net, "arm": arm, "seed": seed, "final_test_acc": v["test_acc"],
                                  "final_train_loss": v["train_loss"], "images_per_s": v["images_per_s"]})


def machine(env):
    """One machine as the report names it: its CPU, its features, and whether bf16 has hardware there."""
    features = env.get("cpu_features", [])
    units = ("with bf16 units" if {"amx_bf16", "avx512_bf16"} & set(features) else
             "WITHOUT bf16 units (emulated bf16)" if features else "bf16 units not recorded")
    return f"{env.get('cpu', 'an unrecorded CPU')} ({' '.join(features) or 'features not recorded'}: {units})"


def protocol_line(record):
    """The runs' protocol (from the first run's config) and every machine they ran on (the plan wants one)."""
    runs = [run for _, run in named_runs(record, FOLDER)]
    if not runs:
        return "Nothing run yet."
    d, t = runs[0].config["data"], runs[0].config["train"]
    envs = [r.config.get("environment", {}) for r in runs]
    machines = sorted({machine(e) for e in envs})
    libtorch = sorted({e.get("libtorch", "?") for e in envs})
    return (f"Protocol: {d['dataset']}, the first {d['subset']:,} training images, "
            f"{'all' if not d.get('test_subset') else 'the first ' + str(d['test_subset'])} test images, "
            f"{t['epochs']} epoch{'s' if t['epochs'] != 1 else ''} of batch {t['batch_size']}, Nesterov SGD lr {t['lr']}, weight decay "
            f"{t['weight_decay']}, {t['threads']} thread per run; LibTorch {', '.join(libtorch)} on "
            + ("; ".join(machines) if len(machines) == 1 else
               f"{len(machines)} machine types, not one as planned: " + "; ".join(machines)) + ".")


def report(record, results_dir):
    """Writes bf16.md and bf16.csv from the record's run folders."""
    with open(os.path.join(record, "dataset.json"), encoding="utf-8") as f:
        classes = json.load(f)["classes"]
    record_data = read_record(record)
    os.makedirs(results_dir, exist_ok=True)
    stem = os.path.join(results_dir, "bf16")
    with open(stem + ".md", "w", encoding="utf-8") as f:
        f.write(markdown(analyse(record_data, classes), protocol_line(record)))
    write_csv(stem + ".csv", record_data)
    return [stem + ".md", stem + ".csv"]
