"""The `scripts/report pareto` target: one mask comparison of scripts/pareto.sh as CSV, markdown and a plot.

Reads <experiment>/arms.tsv (arm, label, mask), sites.json (propnet info --sites of the paired network),
train/<mask>/seed-<s>/ (propnet train runs) and searches/ (propnet search runs). The metric is the final-epoch
test accuracy, never the best epoch. Arms are compared by paired differences over the training seeds (seed s =
same initial weights and data order for every mask); the statistics live in propnet_stats.py.
"""
import csv
import glob
import json
import math
import os

import numpy as np

import propnet_stats as st

REFERENCE_ARMS = ("random", "exhaustive")  # the populations a mask is ranked in, first present wins


def relu_elements(sites, mask):
    """ReLU elements per image of a mask, stem and head included (as propnet info --sites counts them)."""
    total = 0
    for site in sites["sites"]:
        if site["fixed"] or mask[site["mask_bit"]] == "1":
            total += site["elements"]
    return total


def read_arms(experiment):
    arms = []
    with open(os.path.join(experiment, "arms.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                arm, label, mask = line.rstrip("\n").split("\t")
                arms.append({"arm": arm, "label": label, "mask": mask})
    return arms


RECORD = "RECORD"  # marks a copy of an experiment without its checkpoints (scripts/pareto.sh writes it)


def read_masks(experiment, masks, read_run):
    """mask -> {"seeds": {seed: final test acc of the finished seeds}, "run": ..., "seconds": epochs' wall time}"""
    record = os.path.exists(os.path.join(experiment, RECORD))
    out = {}
    for mask in masks:
        run = read_run(os.path.join(experiment, "train", mask), without_models=record)
        finals, seconds = {}, 0.0
        for s in (run["seeds"] if run else []):
            seconds += sum(m.get("epoch_seconds", 0.0) for m in s["metrics"])
            if s["status"] == "done":
                finals[s["seed"]] = s["metrics"][-1]["test_acc"]
        out[mask] = {"seeds": finals, "run": run, "seconds": seconds}
    return out


def read_searches(experiment):
    found = []
    for path in sorted(glob.glob(os.path.join(experiment, "searches", "*", "seed-*", "search.json"))):
        with open(path, encoding="utf-8") as f:
            s = json.load(f)
        if s["method"] in ("gates", "greedy"):
            found.append({"method": s["method"], "seed": s["seed"], "mask": s["relu_mask"],
                          "seconds": s.get("wall_seconds", 0.0), "val_acc": s.get("final_val_acc")})
    return found


def fmt(x, digits=2, signed=False):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def ci_cell(low, high):
    return "—" if math.isnan(low) else f"[{low:+.2f}, {high:+.2f}]"


def per_seed_mean(masks, results):
    """seed -> mean over the arm's masks of their final accuracy, for the seeds every mask of the arm finished."""
    seed_sets = [set(results[m]["seeds"]) for m in masks]
    common = set.intersection(*seed_sets) if seed_sets else set()
    return {s: float(np.mean([results[m]["seeds"][s] for m in masks])) for s in sorted(common)}


def compare(a, b):
    """Paired difference a - b over their common seeds: mean, bootstrap CI, t CI, sign-flip p, n."""
    seeds, d = st.paired(a, b)
    if not seeds:
        return None
    low, high = st.bootstrap_mean_ci(d)
    t_low, t_high = st.t_mean_ci(d)
    return {"n": len(seeds), "mean": float(d.mean()), "ci": (low, high), "t_ci": (t_low, t_high),
            "p": st.sign_flip_p(d), "sd": float(d.std(ddof=1)) if d.size > 1 else math.nan}


def build(experiment, read_run):
    arms = read_arms(experiment)
    with open(os.path.join(experiment, "sites.json"), encoding="utf-8") as f:
        sites = json.load(f)
    masks = list(dict.fromkeys(a["mask"] for a in arms))
    results = read_masks(experiment, masks, read_run)
    groups = {}
    for a in arms:
        groups.setdefault(a["arm"], []).append(a)
    config = next((r["run"]["config"] for r in results.values() if r["run"]), None)
    return {"arms": arms, "groups": groups, "sites": sites, "results": results, "config": config,
            "searches": read_searches(experiment), "experiment": experiment}


def mask_mean(results, mask):
    v = list(results[mask]["seeds"].values())
    return float(np.mean(v)) if v else math.nan


def analyse(data):
    results, groups = data["results"], data["groups"]
    reference = next((name for name in REFERENCE_ARMS if name in groups), None)
    ref_masks = [a["mask"] for a in groups.get(reference, [])]
    ref_means = [mask_mean(results, m) for m in ref_masks if results[m]["seeds"]]
    ref_seed_mean = per_seed_mean([m for m in ref_masks if results[m]["seeds"]], results) if ref_masks else {}
    paper = groups.get("paper", [{}])[0].get("mask")
    paired = groups.get("paired", [{}])[0].get("mask")
    rows = []
    for name, members in groups.items():
        masks = [m["mask"] for m in members]
        done = [m for m in masks if results[m]["seeds"]]
        values = [v for m in done for v in results[m]["seeds"].values()]
        mean, std = st.mean_std(values)
        seed_mean = per_seed_mean(done, results) if done else {}
        elements = sorted({relu_elements(data["sites"], m) for m in masks})
        kept = sorted({m.count("1") for m in masks})
        row = {"arm": name, "masks": len(masks), "done_masks": len(done), "values": len(values), "mean": mean,
               "std": std, "elements": elements, "kept": kept, "seed_mean": seed_mean}
        if paper and name != "paper" and results[paper]["seeds"]:
            row["vs_paper"] = compare(seed_mean, results[paper]["seeds"])
        if paired and name != "paired" and results[paired]["seeds"]:
            row["vs_paired"] = compare(seed_mean, results[paired]["seeds"])
        if ref_seed_mean and name != reference:
            row["vs_reference"] = compare(seed_mean, ref_seed_mean)
        if ref_means and name != reference:
            row["percentiles"] = [st.percentile_among(mask_mean(results, m), ref_means) for m in done]
        rows.append(row)
    out = {"rows": rows, "reference": reference, "paper": paper, "paired": paired}
    if "exhaustive" in groups:
        out["exhaustive"] = analyse_exhaustive(data, [a["mask"] for a in groups["exhaustive"]], paper)
    return out


def analyse_exhaustive(data, masks, paper):
    """Every mask with k sites: does the mask matter beyond seed noise, which sites matter, where the paper's and
    the searched masks rank (regret = best mask's mean - this mask's mean)."""
    results = data["results"]
    seeds = sorted(set.intersection(*[set(results[m]["seeds"]) for m in masks])) if masks else []
    complete = [m for m in masks if all(s in results[m]["seeds"] for s in seeds)]
    if len(complete) < 2 or len(seeds) < 2:
        return None
    table = np.array([[results[m]["seeds"][s] for s in seeds] for m in complete])
    anova = st.two_way_anova(table)
    means = table.mean(axis=1)
    order = np.argsort(-means, kind="stable")
    # Competition ranking: 1 + the masks strictly better, so tied masks share a rank.
    ranking = [{"mask": complete[i], "mean": float(means[i]), "std": float(table[i].std(ddof=1)),
                "rank": 1 + int(np.sum(means > means[i] + 1e-9)), "regret": float(means.max() - means[i])}
               for i in order]
    effects = st.site_main_effects(table, complete)
    names = {s["mask_bit"]: s["name"] for s in data["sites"]["sites"] if not s["fixed"]}
    rank_of = {r["mask"]: r for r in ranking}
    return {"seeds": seeds, "anova": anova, "ranking": ranking, "effects": effects, "site_names": names,
            "paper": rank_of.get(paper), "masks": len(complete), "rank_of": rank_of}


# --- writing -------------------------------------------------------------------------------------------------

def write_csv(path, data):
    fields = ["arm", "label", "mask", "sites_kept", "relu_elements", "seed", "status", "final_test_acc",
              "final_train_acc", "epochs_completed", "epoch_seconds"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=fields)
        out.writeheader()
        for a in data["arms"]:
            r = data["results"][a["mask"]]
            base = {"arm": a["arm"], "label": a["label"], "mask": a["mask"], "sites_kept": a["mask"].count("1"),
                    "relu_elements": relu_elements(data["sites"], a["mask"])}
            seeds = r["run"]["seeds"] if r["run"] else []
            if not seeds:
                out.writerow({**base, "status": "not run"})
            for s in seeds:
                m = s["metrics"]
                out.writerow({**base, "seed": s["seed"], "status": s["status"],
                              "final_test_acc": m[-1].get("test_acc", "") if m else "",
                              "final_train_acc": m[-1]["train_acc"] if m else "", "epochs_completed": len(m),
                              "epoch_seconds": round(sum(x.get("epoch_seconds", 0.0) for x in m), 1)})


def protocol_line(data):
    c = data["config"]
    if not c:
        return "Nothing trained yet."
    d, t, n = c["data"], c["train"], c["network"]
    subset = f"the first {d['subset']} training images" if d.get("subset") else "all training images"
    test = f"the first {d['test_subset']} test images" if d.get("test_subset") else "all test images"
    threads = c.get("threads") or c.get("runtime", {}).get("threads")
    return (f"{n['arch']}-{n['depth']} on {d['dataset']}: {subset}, {test}, {t['epochs']} epochs, batch "
            f"{t['batch_size']}, Nesterov SGD lr {t['lr']} (×{t['lr_factor']} at {t['milestone_fractions']} of the "
            f"optimizer steps), weight decay {t['weight_decay']}, augmentation {'on' if d['augment'] else 'off'}"
            + (f", {threads} thread(s) per run" if threads else "") + ".")


def write_markdown(path, data, analysis, plot_name):
    results, rows = data["results"], analysis["rows"]
    lines = ["# ReLU mask comparison", "", protocol_line(data), ""]
    command = os.path.join(data["experiment"], "command.txt")
    if os.path.exists(command):
        lines += ["Command:", "", "```", open(command, encoding="utf-8").read().strip(), "```", ""]
    train_seconds = sum(r["seconds"] for r in results.values())
    search_seconds = sum(s["seconds"] for s in data["searches"])
    lines.append(f"Compute: {train_seconds / 3600:.2f} h of training epochs over {len(results)} masks"
                 + (f", {search_seconds / 3600:.2f} h of searches ({len(data['searches'])})" if data["searches"] else "")
                 + " (sum over processes; they ran in parallel).")
    lines += ["", "Final-epoch test accuracy (%). Δ: paired difference over the training seeds (the arm's mean over "
              "its masks at seed s minus the other's at seed s), mean [95 % percentile-bootstrap CI over seeds] and "
              "the exact sign-flip permutation p (two-sided; its floor is 2/2^n). "
              + (f"Percentile: the arm's masks' means among the {analysis['reference']} masks' means (100 = above "
                 "all)." if analysis["reference"] else ""), ""]
    header = "| Arm | Masks | Sites kept | ReLU elements | Runs | Mean ± std |"
    rule = "|---|---:|---:|---:|---:|---:|"
    cols = [("vs_paper", "Δ vs paper"), ("vs_paired", "Δ vs paired"), ("vs_reference", f"Δ vs {analysis['reference']}")]
    cols = [(k, t) for k, t in cols if any(k in r for r in rows)]
    for _, title in cols:
        header += f" {title} [CI] p |"
        rule += "---:|"
    if analysis["reference"]:
        header += " Percentile |"
        rule += "---:|"
    lines += [header, rule]
    for r in rows:
        kept = "/".join(map(str, r["kept"]))
        elements = (f"{r['elements'][0]:,}" if len(r["elements"]) == 1
                    else f"{r['elements'][0]:,}–{r['elements'][-1]:,}")
        masks = f"{r['done_masks']}/{r['masks']}" if r["done_masks"] != r["masks"] else str(r["masks"])
        line = (f"| {r['arm']} | {masks} | {kept} | {elements} | {r['values']} | {fmt(r['mean'])} ± "
                f"{fmt(r['std'])} |")
        for key, _ in cols:
            c = r.get(key)
            line += (f" {fmt(c['mean'], signed=True)} {ci_cell(*c['ci'])} p={c['p']:.2g} (n={c['n']}) |" if c
                     else " — |")
        if analysis["reference"]:
            p = r.get("percentiles")
            line += f" {', '.join(f'{x:.0f}' for x in p)} |" if p else " — |"
        lines.append(line)
    lines += ["", "Masks (bits in site order; `info --sites` names the sites):", "",
              "| Arm | Label | Mask | ReLU elements | Seeds done | Mean ± std |", "|---|---|---|---:|---:|---:|"]
    for a in data["arms"]:
        r = results[a["mask"]]
        mean, std = st.mean_std(list(r["seeds"].values()))
        lines.append(f"| {a['arm']} | {a['label']} | `{a['mask']}` | {relu_elements(data['sites'], a['mask']):,} | "
                     f"{len(r['seeds'])} | {fmt(mean)} ± {fmt(std)} |")
    ex = analysis.get("exhaustive")
    if ex:
        lines += exhaustive_lines(ex, data)
    lines += ["", f"Plot: {plot_name}.png / .svg. Per-seed numbers: pareto.csv.",
              "Claims: a difference is supported only where its CI excludes 0; with 3 seeds the bootstrap CI is "
              "optimistic (it resamples 3 values) and the sign-flip p cannot go below 0.25 — read such rows as "
              "effect sizes, not tests."]
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def exhaustive_lines(ex, data):
    a = ex["anova"]
    lines = ["", f"## Every mask with the same number of sites ({ex['masks']} masks × {len(ex['seeds'])} seeds)", "",
             f"Two-way ANOVA (mask × seed, seeds as blocks): F({a['df_arm']}, {a['df_residual']}) = {a['f']:.2f}, "
             f"p = {a['p']:.2g} (permutation within seeds: p = {a['p_permutation']:.2g}); partial η² = "
             f"{a['partial_eta2']:.2f}; one-way ICC(1) = {a['icc1']:.2f} (share of the variance between masks, seeds "
             f"not taken out). SD of the masks' means {a['sd_between_arm_means']:.2f} points vs residual (seed) SD "
             f"{a['sd_residual']:.2f} points.", ""]
    if ex["paper"]:
        p = ex["paper"]
        lines.append(f"The paper's mask `{p['mask']}` ranks {p['rank']} of {ex['masks']} "
                     f"(mean {p['mean']:.2f} %, regret {p['regret']:.2f} points below the best mask).")
    for s in data["searches"]:
        r = ex["rank_of"].get(s["mask"])
        if r:
            lines.append(f"The {s['method']} search (seed {s['seed']}) found `{s['mask']}`: rank {r['rank']} of "
                         f"{ex['masks']}, regret {r['regret']:.2f} points.")
    lines += ["", "Site main effects: mean accuracy of the masks that keep the site minus those that remove it, per "
              "seed; mean [95 % bootstrap CI over seeds]. At a fixed number of sites, keeping one means removing "
              "another, so an effect is relative to the other sites (the effects sum to about 0).", "", "| Site | Bit | Effect (points) | CI |",
              "|---|---:|---:|---:|"]
    for e in ex["effects"]:
        if e:
            lines.append(f"| {ex['site_names'].get(e['site'], e['site'])} | {e['site']} | {e['effect']:+.2f} | "
                         f"{ci_cell(*e['ci'])} |")
    lines += ["", "Ranking:", "", "| Rank | Mask | Mean ± std | Regret |", "|---:|---|---:|---:|"]
    for r in ex["ranking"]:
        lines.append(f"| {r['rank']} | `{r['mask']}` | {r['mean']:.2f} ± {r['std']:.2f} | {r['regret']:.2f} |")
    return lines


def write_plot(stem, data, analysis):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results = data["results"]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    markers = {"paired": "s", "paper": "*", "complement": "X", "random": "o", "exhaustive": "o", "gates": "D",
               "greedy": "^", "shuffled": "v"}
    for i, (name, members) in enumerate(data["groups"].items()):
        xs, ys, lows, highs = [], [], [], []
        for m in dict.fromkeys(a["mask"] for a in members):
            values = list(results[m]["seeds"].values())
            if not values:
                continue
            mean = float(np.mean(values))
            low, high = st.t_mean_ci(values)
            xs.append(relu_elements(data["sites"], m))
            ys.append(mean)
            lows.append(0 if math.isnan(low) else mean - low)
            highs.append(0 if math.isnan(high) else high - mean)
        if not xs:
            continue
        big = name in ("paper", "paired")
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt=markers.get(name, "o"), color=colors[i % len(colors)],
                    markersize=11 if big else 6, capsize=3, alpha=0.85, label=f"{name} ({len(xs)})")
    ax.set_xscale("log")
    ax.set_xlabel("ReLU elements per image (log)")
    ax.set_ylabel("final-epoch test accuracy (%)")
    ax.grid(True, which="both", alpha=0.3)
    if ax.lines or ax.collections:
        # Below the axes: no legend may hide a point.
        ax.legend(fontsize=8, title="arm (masks); bars: 95 % t CI over seeds", title_fontsize=8, loc="upper center",
                  bbox_to_anchor=(0.5, -0.13), ncol=4, frameon=False)
    ax.set_title(protocol_line(data), fontsize=7.5, wrap=True)
    fig.tight_layout()
    fig.savefig(stem + ".png")
    fig.savefig(stem + ".svg")
    plt.close(fig)


def report(experiment, results_dir, read_run):
    if not os.path.exists(os.path.join(experiment, "arms.tsv")):
        raise FileNotFoundError(f"{experiment}: no arms.tsv (is it a scripts/pareto.sh experiment folder?)")
    data = build(experiment, read_run)
    analysis = analyse(data)
    os.makedirs(results_dir, exist_ok=True)
    stem = os.path.join(results_dir, "pareto")
    write_csv(stem + ".csv", data)
    write_plot(stem, data, analysis)
    write_markdown(stem + ".md", data, analysis, "pareto")
    return [stem + ext for ext in (".md", ".csv", ".png", ".svg")]
