"""The depth sweep's report (results/fashion-mnist/depth/PLAN.md): does the 2:1 module's gain grow with depth?

`scripts/lab report depth --runs RECORD --results DIR` reads run folders named <net>-<depth>-<variant> (variant
"paired" or "proportional", the paper's 2:1 mask) and writes depth.md, depth.csv and depth.png/.svg:
- per family (plain, preresnet) and depth: both arms' final-epoch test accuracy (mean ± std, binomial SE), the
  paired difference 2:1 − paired over the common seeds with its 95 % t interval, exact sign-flip p (floor) and
  paired t-test p, Holm-adjusted within the family; the final training loss and accuracy of both arms;
- H1 (primary, plain): Spearman's rho between depth and the per-seed paired differences with a within-seed
  permutation p (one-sided, rho > 0); secondary: the mean per-seed slope against log2(depth) with its t interval;
- H2 (plain): the same trend test for the paired arm's final training loss (rising) and training accuracy
  (falling), and for the per-seed gap paired − 2:1 in training loss (rising) and 2:1 − paired in training accuracy
  (rising), Holm over these four;
- H3 (preresnet): at each depth, equivalence of the paired difference within ±MARGIN points (TOST on its 90 % t
  interval); the same trend test as H1, as a secondary.
The analysis is the one PLAN.md fixed before the sweep; the tables are byte-for-byte functions of the record.
"""
import csv
import json
import math
import os
import re

from . import stats
from .runs import named_runs

ARMS = ("paired", "proportional")      # proportional: the paper's 2:1 mask (--variant proportional)
FAMILIES = ("plain", "preresnet")
MARGIN = 1.0                           # H3's equivalence margin, points (PLAN.md)
FOLDER = re.compile(r"^(?P<net>[a-z-]+)-(?P<depth>\d+)-(?P<arm>paired|proportional)$")


def read_sweep(record):
    """{(net, depth, arm): {seed: {"test_acc", "train_loss", "train_acc", "test_images"}}} of the done seeds."""
    out = {}
    for m, run in named_runs(record, FOLDER):
        data = run.config["data"]
        seeds = {}
        for s in run.seeds:
            if s.done and s.metrics:
                last = s.metrics[-1]
                seeds[s.seed] = {"test_acc": s.final_test_acc, "train_loss": last["train_loss"],
                                 "train_acc": last["train_acc"], "test_images": data.get("test_subset") or None}
        out[(m["net"], int(m["depth"]), m["arm"])] = seeds
    return out


def fmt(x, digits=2, signed=False):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def p_cell(p):
    return "—" if p is None or math.isnan(p) else (f"{p:.2g}" if p >= 0.001 else f"{p:.1e}")


def family_rows(sweep, net, test_images):
    depths = sorted({d for (n, d, _) in sweep if n == net})
    rows = []
    for depth in depths:
        paired, two = sweep.get((net, depth, "paired"), {}), sweep.get((net, depth, "proportional"), {})
        acc = lambda arm: {s: v["test_acc"] for s, v in arm.items()}
        row = {"depth": depth, "paired": paired, "two": two,
               "diff": stats.paired_difference(acc(two), acc(paired)),
               "loss_gap": stats.paired_difference({s: v["train_loss"] for s, v in paired.items()},
                                                   {s: v["train_loss"] for s, v in two.items()})}
        for arm, key in ((paired, "paired_stats"), (two, "two_stats")):
            values = list(acc(arm).values())
            mean, sd = stats.mean_std(values)
            row[key] = {"n": len(values), "mean": mean, "sd": sd,
                        "se_test": stats.binomial_se(mean, test_images) if values else math.nan,
                        "loss": stats.mean_std([v["train_loss"] for v in arm.values()])[0],
                        "train_acc": stats.mean_std([v["train_acc"] for v in arm.values()])[0]}
        rows.append(row)
    family = [r["diff"] for r in rows if r["diff"] and r["diff"]["n"] > 1]
    for d, p in zip(family, stats.holm([d["p_t"] for d in family])):
        d["p_holm"] = p
    return rows


def complete_table(rows, value):
    """seeds x depths of value(row, seed) over the seeds every depth has (the trend tests need a full table)."""
    common = set.intersection(*[set(r["paired"]) & set(r["two"]) for r in rows]) if rows else set()
    seeds = sorted(common)
    return seeds, [[value(r, s) for r in rows] for s in seeds]


def trend(rows, value):
    seeds, table = complete_table(rows, value)
    if len(seeds) < 2 or len(rows) < 3:
        return None
    return stats.trend_test(table, [r["depth"] for r in rows])


def analyse(sweep, test_images):
    out = {}
    for net in FAMILIES:
        rows = family_rows(sweep, net, test_images)
        if not rows:
            continue
        f = {"rows": rows,
             "h1": trend(rows, lambda r, s: r["two"][s]["test_acc"] - r["paired"][s]["test_acc"])}
        if net == "plain":
            h2 = {"paired training loss rises": trend(rows, lambda r, s: r["paired"][s]["train_loss"]),
                  "paired training accuracy falls": trend(rows, lambda r, s: -r["paired"][s]["train_acc"]),
                  "paired − 2:1 training loss rises": trend(rows, lambda r, s: r["paired"][s]["train_loss"]
                                                            - r["two"][s]["train_loss"]),
                  "2:1 − paired training accuracy rises": trend(rows, lambda r, s: r["two"][s]["train_acc"]
                                                                - r["paired"][s]["train_acc"])}
            tested = [k for k, v in h2.items() if v]
            for k, p in zip(tested, stats.holm([h2[k]["p_greater"] for k in tested])):
                h2[k]["p_holm"] = p
            f["h2"] = h2
        else:
            f["h3"] = [(r["depth"], stats.tost_paired(r["diff"]["d"], MARGIN) if r["diff"] else None) for r in rows]
        out[net] = f
    return out


def trend_line(t, what):
    if not t:
        return f"{what}: not enough complete seeds or depths yet."
    s = t["slope"]
    return (f"{what}: Spearman rho = {t['rho']:+.3f} over {t['n']} values ({t['seeds']} seeds with every depth); "
            f"within-seed permutation p (rho > 0) = {p_cell(t['p_greater'])}, two-sided {p_cell(t['p_two_sided'])} "
            f"(floor {p_cell(t['p_floor'])}). Mean per-seed slope against log2(depth): {fmt(s['mean'], signed=True)} "
            f"points per doubling [95 % t CI {fmt(s['low'], signed=True)}, {fmt(s['high'], signed=True)}], "
            f"sign-flip p {p_cell(t['slope_p_sign_flip'])} (floor {p_cell(t['slope_p_floor'])}).")


def markdown(analysis, test_images, protocol):
    lines = ["# Does the 2:1 module's gain grow with depth? (Fashion-MNIST depth sweep)", "",
             "Pre-registered in PLAN.md (committed before the first run); this report follows it.", "", protocol, "",
             f"Final-epoch test accuracy (%) on {test_images:,} test images (one accuracy near 85 % carries a binomial "
             f"SE of {stats.binomial_se(85.0, test_images):.2f} points). Paired difference: 2:1 − paired per seed "
             "(the same seed gives both arms the same initial weights and data order), mean [95 % t interval], exact "
             "sign-flip p (floor 2/2^n), paired t-test p and its Holm adjustment within the family.", ""]
    for net, f in analysis.items():
        lines += [f"## {net}", "",
                  "| Depth | Paired | 2:1 | Seeds | 2:1 − paired [95 % t CI] | Sign-flip p (floor) | t-test p | Holm p "
                  "| Train loss paired / 2:1 | Train acc paired / 2:1 |",
                  "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for r in f["rows"]:
            p, t, d = r["paired_stats"], r["two_stats"], r["diff"]
            cell = lambda a: f"{fmt(a['mean'])} ± {fmt(a['sd'])}" if a["n"] else "—"
            diff = (f"{fmt(d['mean'], signed=True)} [{fmt(d['low'], signed=True)}, {fmt(d['high'], signed=True)}]"
                    if d else "—")
            lines.append(f"| {r['depth']} | {cell(p)} | {cell(t)} | {d['n'] if d else 0} | {diff} | "
                         f"{p_cell(d['p_sign_flip']) + ' (' + p_cell(d['p_floor']) + ')' if d else '—'} | "
                         f"{p_cell(d['p_t']) if d else '—'} | {p_cell(d.get('p_holm')) if d else '—'} | "
                         f"{fmt(p['loss'], 3)} / {fmt(t['loss'], 3)} | {fmt(p['train_acc'])} / {fmt(t['train_acc'])} |")
        lines += ["", trend_line(f["h1"], "H1" if net == "plain" else "Trend (secondary)"), ""]
        if "h2" in f:
            lines += ["H2 (the same trend test on training metrics; Holm over these four):", ""]
            for what, t in f["h2"].items():
                lines.append(f"- {what}: " + (f"rho = {t['rho']:+.3f}, permutation p = {p_cell(t['p_greater'])}, "
                                             f"Holm p = {p_cell(t['p_holm'])}" if t else "not enough data yet"))
            lines.append("")
        if "h3" in f:
            lines += [f"H3: equivalence of 2:1 and paired within ±{MARGIN:g} point (TOST: the 90 % t interval inside "
                      "the margin):", ""]
            for depth, e in f["h3"]:
                lines.append(f"- depth {depth}: " + (f"{fmt(e['mean'], signed=True)} [90 % {fmt(e['low'], signed=True)}, "
                                                    f"{fmt(e['high'], signed=True)}], TOST p = {p_cell(e['p'])}: "
                                                    f"{'equivalent' if e['equivalent'] else 'equivalence not shown'}"
                                                    if e and e["n"] > 1 else "not enough seeds yet"))
            lines.append("")
    return "\n".join(lines) + "\n"


def write_csv(path, sweep):
    fields = ["net", "depth", "arm", "seed", "final_test_acc", "final_train_loss", "final_train_acc"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=fields, lineterminator="\n")
        out.writeheader()
        for (net, depth, arm), seeds in sorted(sweep.items()):
            for seed, v in sorted(seeds.items()):
                out.writerow({"net": net, "depth": depth, "arm": arm, "seed": seed, "final_test_acc": v["test_acc"],
                              "final_train_loss": v["train_loss"], "final_train_acc": v["train_acc"]})


def write_plot(stem, analysis):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    matplotlib.rcParams["svg.hashsalt"] = "propnet"
    nets = list(analysis)
    fig, axes = plt.subplots(len(nets), 3, figsize=(13, 3.8 * len(nets)), dpi=110, squeeze=False)
    for ax_row, net in zip(axes, nets):
        rows = analysis[net]["rows"]
        depths = [r["depth"] for r in rows]
        for key, label, color in (("paired", "paired (1:1)", "tab:blue"), ("two", "2:1", "tab:orange")):
            means, errs = [], []
            for r in rows:
                ci = stats.t_interval([v["test_acc"] for v in r[key].values()])
                means.append(ci["mean"])
                errs.append(0 if math.isnan(ci["high"]) else ci["high"] - ci["mean"])
            ax_row[0].errorbar(depths, means, yerr=errs, marker="o", capsize=3, label=label, color=color)
            ax_row[2].plot(depths, [r[f"{key}_stats"]["loss"] for r in rows], marker="o", label=label, color=color)
        diffs = [r["diff"] for r in rows]
        ax_row[1].errorbar(depths, [d["mean"] if d else math.nan for d in diffs],
                           yerr=[(0 if not d or math.isnan(d["high"]) else d["high"] - d["mean"]) for d in diffs],
                           marker="o", capsize=3, color="tab:green")
        ax_row[1].axhline(0, color="gray", linewidth=0.8)
        titles = (f"{net}: test accuracy (95 % t CI)", f"{net}: 2:1 − paired (95 % t CI)", f"{net}: final training loss")
        for ax, title in zip(ax_row, titles):
            ax.set_xscale("log", base=2)
            ax.set_xticks(depths)
            ax.set_xticklabels([str(d) for d in depths])
            ax.set_xlabel("depth")
            ax.set_title(title, fontsize=9)
            ax.grid(True, alpha=0.3)
        ax_row[0].legend(fontsize=8)
        ax_row[2].legend(fontsize=8)
    counts = [r["diff"]["n"] if r["diff"] else 0 for f in analysis.values() for r in f["rows"]]
    fig.suptitle(f"2:1 vs paired against depth, Fashion-MNIST (PLAN.md); paired seeds per depth: "
                 f"{min(counts)}–{max(counts)}" if min(counts) != max(counts) else
                 f"2:1 vs paired against depth, Fashion-MNIST (PLAN.md); {counts[0]} paired seed(s) per depth", fontsize=10)
    fig.tight_layout()
    fig.savefig(stem + ".png", metadata={"Software": None})
    fig.savefig(stem + ".svg", metadata={"Date": None})
    plt.close(fig)


def protocol_line(record):
    """The runs' protocol in words, from one run's config (the sweep runs one protocol)."""
    for _, run in named_runs(record, FOLDER):
        d, t = run.config["data"], run.config["train"]
        env = run.config.get("environment", {})
        return (f"Protocol: {d['dataset']}, the first {d['subset']:,} training images, "
                f"{'all' if not d.get('test_subset') else 'the first ' + str(d['test_subset'])} test images, "
                f"{t['epochs']} epochs of batch {t['batch_size']}, Nesterov SGD lr {t['lr']} (×{t['lr_factor']} at "
                f"{', '.join(map(str, t['milestone_fractions']))} of the steps), weight decay {t['weight_decay']}, "
                f"augmentation {'on' if d['augment'] else 'off'}, test after the last epoch only, precision "
                f"{t['amp'] if t['amp'] != 'off' else 'fp32'}, {t['threads']} thread per run; LibTorch "
                f"{env.get('libtorch', '?')} on {env.get('cpu', 'an unrecorded CPU')}.")
    return "Nothing run yet."


def test_images_of(record):
    """The runs' test images: data.test_subset, else the split's size from the record's dataset.json (`propnet
    data --list --json`'s row, written with the record)."""
    for _, run in named_runs(record, FOLDER):
        if run.config["data"].get("test_subset"):
            return run.config["data"]["test_subset"]
    with open(os.path.join(record, "dataset.json"), encoding="utf-8") as f:
        return json.load(f)["test_images"]


def report(record, results_dir):
    """Writes depth.md, depth.csv, depth.png and depth.svg from the record's run folders."""
    sweep = read_sweep(record)
    test_images = test_images_of(record)
    analysis = analyse(sweep, test_images)
    os.makedirs(results_dir, exist_ok=True)
    stem = os.path.join(results_dir, "depth")
    with open(stem + ".md", "w", encoding="utf-8") as f:
        f.write(markdown(analysis, test_images, protocol_line(record)))
    write_csv(stem + ".csv", sweep)
    if analysis:
        write_plot(stem, analysis)
    return [stem + ext for ext in (".md", ".csv", ".png", ".svg")]
