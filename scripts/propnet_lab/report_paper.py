"""The paper's tables and figures from run folders: `scripts/lab report TARGET... [--runs DIR] [--results DIR]`.

Writes, per target, RESULTS/<target>.md (the paper's rows in the paper's order, the paper's mean ± std beside
ours, the difference, the reference code's "median (mean ± std_pop, best)" line, and each reduced-ReLU row minus
its paired baseline over the common seeds with a 95 % t interval, the exact sign-flip p with its floor and the
Holm-adjusted p over the table's family of such comparisons), RESULTS/<target>.csv (one line per seed) and, for
the figures, .png and .svg (test accuracy per epoch, mean over seeds ± std). Targets and rows come from
configs/paper/targets.json; a row's run folder is <runs>/<config's name>. Whenever the runs differ from the
paper's protocol (epochs, seeds, data set, subsets, ...) the caption says so; the protocol's values are the
config schema's defaults, read from the binary.
"""
import csv
import json
import os
import statistics

from . import runs as run_folders
from . import stats
from .binary import ROOT
from .cli import UsageError
from .targets import load_targets


# The keys of the paper's protocol (spec §6) that a caption names when a run differs, with their labels;
# the protocol's values are the config schema's defaults (`propnet info --schema --json`).
PROTOCOL_KEYS = [
    ("train", "epochs", "epochs"),
    ("train", "batch_size", "batch size"),
    ("train", "lr", "initial lr"),
    ("train", "momentum", "momentum"),
    ("train", "nesterov", "Nesterov"),
    ("train", "weight_decay", "weight decay"),
    ("train", "milestone_fractions", "lr drop fractions"),
    ("train", "milestones", "explicit lr drops"),
    ("train", "lr_factor", "lr factor"),
    ("data", "augment", "augmentation"),
    ("data", "coarse_labels", "coarse labels"),
]
PAPER_SEEDS = 5
PAIRED_CAPTION = (
    "Ours − paired: the row's final accuracy minus its paired baseline's (same network, data set and training seed; "
    "a seed gives both the same initial weights and data order), mean [95 % Student t interval over the common "
    "seeds], the exact sign-flip p (its floor is 2/2^n: 0.0625 at 5 seeds, so no such p can reach 0.05 below 6 "
    "seeds) and the paired t-test p Holm-adjusted over every such comparison in this table. An interval that "
    "excludes 0 supports a difference under this protocol; one that includes 0 does not show that there is none, "
    "only that these seeds cannot resolve it, and no interval here speaks for another protocol, data set or depth. "
    "Each final accuracy also carries test-set noise: a binomial SE of sqrt(p(1-p)/n_test) (Test SE).")


def protocol(propnet):
    """(section, key, the paper's value, label) for every key of PROTOCOL_KEYS."""
    return [(section, key, propnet.default(f"{section}.{key}"), label) for section, key, label in PROTOCOL_KEYS]


def fmt(x, digits=2):
    return f"{x:.{digits}f}"


def signed(x):
    return f"{x:+.2f}"


# --- one run folder ------------------------------------------------------------------------------------------

def read_run(run_dir):
    """The run folder as a dict the tables read: config, seeds (status and metrics from summary.json and
    metrics.jsonl), dir; None when it has not started."""
    run = run_folders.read_run(run_dir)
    if run is None:
        return None
    return {"config": run.config, "dir": run.dir, "finals": run.finals(),
            "seeds": [{"seed": s.seed, "status": s.status, "metrics": s.metrics, "epochs": s.epochs_completed}
                      for s in run.seeds]}


def statistics_of(values):
    """mean, sample std, population std, median, best; the reference code's get_results.py line uses std_pop."""
    n = len(values)
    if n == 0:
        return None
    return {
        "n": n,
        "mean": statistics.fmean(values),
        "std": statistics.stdev(values) if n > 1 else None,
        "std_pop": statistics.pstdev(values),
        "median": statistics.median(values),
        "best": max(values),
    }


# --- the caption: every way the runs differ from the paper's protocol ----------------------------------------

def paper_protocol(propnet):
    """The paper's protocol in words, from the schema's defaults (which are the paper's)."""
    d = lambda key: propnet.default(key)
    return (f"{d('train.epochs')} epochs, batch {d('train.batch_size')}, Nesterov SGD lr {d('train.lr')} "
            f"(×{d('train.lr_factor')} at {', '.join(str(f) for f in d('train.milestone_fractions'))} of the "
            f"optimizer steps), weight decay {d('train.weight_decay')}, full training and test sets, {PAPER_SEEDS} "
            "runs per row")


def protocol_notes(rows, propnet):
    """Differences between the runs and the paper's protocol, as short phrases (empty: the paper's protocol)."""
    notes = []
    ran = [r for r in rows if r["run"]]
    if not ran:
        return notes

    def values(get):
        return sorted({json.dumps(get(r)) for r in ran})

    datasets = values(lambda r: [r["paper_dataset"], r["run"]["config"]["data"]["dataset"]])
    swapped = [json.loads(d) for d in datasets if json.loads(d)[0] != json.loads(d)[1]]
    if swapped:
        titles = {name: facts["title"] for name, facts in propnet.datasets().items()}
        used = sorted({titles[d[1]] for d in swapped})
        paper = sorted({titles[d[0]] for d in swapped})
        notes.append(f"data set {', '.join(used)} instead of the paper's {', '.join(paper)}")
    for section, key, paper_value, label in protocol(propnet):
        found = values(lambda r, s=section, k=key: r["run"]["config"][s].get(k))
        if found != [json.dumps(paper_value)]:
            shown = ", ".join(found)
            if key == "epochs":  # the lr drops count optimizer steps, so every length keeps the paper's phases
                notes.append(f"{shown} epoch{'' if shown == '1' else 's'} instead of {paper_value} "
                             f"(lr drops at 1/2, 3/4 and 7/8 of the steps, as in the paper)")
            else:
                notes.append(f"{label} {shown} instead of {json.dumps(paper_value)}")
    for key, label in [("subset", "training"), ("test_subset", "test")]:
        found = sorted({r["run"]["config"]["data"].get(key, 0) for r in ran})
        if found != [0]:
            split = "train_images" if key == "subset" else "test_images"
            full = sorted({propnet.datasets()[r["run"]["config"]["data"]["dataset"]][split] for r in ran})
            shown = ", ".join("all" if n == 0 else f"the first {n}" for n in found)
            notes.append(f"{label} images: {shown} of {', '.join(map(str, full))} (paper: all)")
    counts = sorted({r["stats"]["n"] if r["stats"] else 0 for r in rows})
    if counts != [PAPER_SEEDS]:
        notes.append(f"{'/'.join(map(str, counts))} finished seed(s) per row instead of {PAPER_SEEDS} runs")
    missing = [r["label"] for r in rows if not r["run"]]
    if missing:
        notes.append(f"{len(missing)} of {len(rows)} rows not run")
    return notes


# --- one target ----------------------------------------------------------------------------------------------

def collect(target, spec, runs_dir, configs_dir):
    rows = []
    for index, row in enumerate(spec["rows"], 1):
        config = run_folders.load_json(os.path.join(configs_dir, row["config"]))
        run = read_run(os.path.join(runs_dir, config["name"]))
        by_seed = run["finals"] if run else {}
        finals = list(by_seed.values())
        rows.append({
            "index": index,
            "label": row["label"],
            "config": row["config"],
            "name": config["name"],
            "arch": config["network"]["arch"],
            "depth": config["network"]["depth"],
            "variant": config["network"]["variant"],
            "paper_dataset": config["data"]["dataset"],
            "paper": config.get("paper"),
            "run": run,
            "stats": statistics_of(finals),
            "by_seed": by_seed,
            "network": config["network"],
        })
    for r in rows:
        r["vs_paired"] = paired_difference(r, rows)
    # The table's family: every reduced-ReLU row against its paired baseline.
    family = [r["vs_paired"] for r in rows if r["vs_paired"] and r["vs_paired"]["n"] > 1]
    for c, adjusted in zip(family, stats.holm([c["p_t"] for c in family])):
        c["p_holm"] = adjusted
    return rows


def paired_difference(row, rows):
    """A reduced-ReLU row minus its paired baseline (same network, data set and seeds): stats.paired_difference."""
    if row["variant"] == "paired":
        return None
    same = {k: v for k, v in row["network"].items() if k not in ("variant", "relu_mask", "relu_drop")}
    base = next((b for b in rows if b["variant"] == "paired" and b["paper_dataset"] == row["paper_dataset"]
                 and {k: v for k, v in b["network"].items() if k in same} == same), None)
    if base is None:
        return None
    return stats.paired_difference(row["by_seed"], base["by_seed"]) or {"n": 0}


def paired_cell(row):
    c = row.get("vs_paired")
    if c is None:
        return ""
    if c["n"] == 0:
        return "—"
    if c["n"] == 1:
        return f"{signed(c['mean'])} (1 seed: no interval)"
    return (f"{signed(c['mean'])} [{signed(c['low'])}, {signed(c['high'])}], sign-flip p = {c['p_sign_flip']:.2g} "
            f"(floor {c['p_floor']:.2g}), Holm t p = {c['p_holm']:.2g}")


def dataset_cell(row, propnet):
    titles = {name: facts["title"] for name, facts in propnet.datasets().items()}
    paper = titles[row["paper_dataset"]]
    if row["run"] and row["run"]["config"]["data"]["dataset"] != row["paper_dataset"]:
        return f"{paper} → {titles[row['run']['config']['data']['dataset']]}"
    return paper


def epochs_cell(row):
    if not row["run"] or not row["run"]["seeds"]:
        return "—"
    total = row["run"]["config"]["train"]["epochs"]
    done = sorted({s["epochs"] for s in row["run"]["seeds"]})
    if done == [total]:
        return str(total)
    return f"{done[0]}–{done[-1]} of {total}" if len(done) > 1 else f"{done[0]} of {total}"


def ours_cell(row):
    s = row["stats"]
    if s is None:
        if row["run"] and row["run"]["seeds"]:
            states = sorted({x["status"] for x in row["run"]["seeds"]})
            return " / ".join(states)
        return "not run"
    return fmt(s["mean"]) + (f" ± {fmt(s['std'])}" if s["std"] is not None else "")


def test_se_cell(row, propnet):
    """The binomial SE of the row's mean accuracy from its test-set size alone."""
    s, run = row["stats"], row["run"]
    if not s or not run:
        return "—"
    data = run["config"]["data"]
    n_test = data.get("test_subset") or propnet.datasets()[data["dataset"]]["test_images"]
    return f"{stats.binomial_se(s['mean'], n_test):.2f}"


def write_markdown(path, target, spec, rows, notes, runs_dir, propnet):
    lines = [f"# {spec['title']}", ""]
    if notes:
        lines.append("**Reduced protocol, not comparable with the paper's numbers:** " + "; ".join(notes) + ".")
    elif any(r["run"] for r in rows):
        lines.append(f"The paper's protocol: {paper_protocol(propnet)}.")
    else:
        lines.append("Nothing run yet.")
    if spec["kind"] == "figure":
        lines += ["", f"The paper gives {target} only as curves (no numbers): the table lists our final-epoch "
                      f"accuracy; the plot is {target}.png / {target}.svg."]
    lines += ["", "Final-epoch test accuracy (%). Ours: mean ± sample std over the finished seeds. Δ = ours − paper. "
                  "The last column is the reference code's (fusenet get_results.py) line: "
                  "median (mean ± population std, best).", ""]
    lines.append("| Data set | Model | Depth | Paper | Ours | Test SE | Seeds | Epochs | Δ | Median (mean ± std_pop, "
                 "best) | Ours − paired [95 % t CI], p |")
    lines.append("|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        paper = r["paper"]
        paper_cell = f"{fmt(paper['mean'])} ± {fmt(paper.get('std', 0))}" if paper else "—"
        s = r["stats"]
        delta = signed(s["mean"] - paper["mean"]) if (s and paper) else "—"
        reference = (f"{fmt(s['median'])} ({fmt(s['mean'])} ± {fmt(s['std_pop'])}, {fmt(s['best'])})" if s else "—")
        lines.append(f"| {dataset_cell(r, propnet)} | {r['label']} | {r['depth']} | {paper_cell} | {ours_cell(r)} | "
                     f"{test_se_cell(r, propnet)} | "
                     f"{s['n'] if s else 0} | {epochs_cell(r)} | {delta} | {reference} | {paired_cell(r)} |")
    lines += ["", PAIRED_CAPTION]
    environments = sorted({json.dumps(r["run"]["config"].get("environment", {}), sort_keys=True)
                           for r in rows if r["run"]})
    shown_runs = os.path.relpath(runs_dir, ROOT) if runs_dir.startswith(ROOT + os.sep) else runs_dir
    lines += ["", f"Run folders: `{shown_runs}/{target}/`; configs: `configs/paper/{target}/`; "
                  f"per-seed numbers: {target}.csv."]
    for env in environments:
        e = json.loads(env)
        if e:
            lines.append(f"Built with propnet {e.get('propnet', '?')} (git {e.get('git_sha', '?')}), "
                         f"LibTorch {e.get('libtorch', '?')}, CUDA {'yes' if e.get('cuda') else 'no'}.")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


def write_csv(path, target, rows):
    fields = ["target", "row", "label", "config", "arch", "depth", "variant", "paper_dataset", "dataset", "seed",
              "status", "epochs", "epochs_completed", "final_test_acc", "best_test_acc", "final_train_acc",
              "final_test_loss", "paper_mean", "paper_std", "run_dir"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=fields)
        out.writeheader()
        for r in rows:
            base = {"target": target, "row": r["index"], "label": r["label"], "config": r["config"],
                    "arch": r["arch"], "depth": r["depth"], "variant": r["variant"],
                    "paper_dataset": r["paper_dataset"],
                    "paper_mean": r["paper"]["mean"] if r["paper"] else "",
                    "paper_std": r["paper"].get("std", 0) if r["paper"] else ""}
            if not r["run"] or not r["run"]["seeds"]:
                out.writerow({**base, "status": "not run"})
                continue
            for s in r["run"]["seeds"]:
                m = s["metrics"]
                out.writerow({**base, "dataset": r["run"]["config"]["data"]["dataset"], "seed": s["seed"],
                              "status": s["status"], "epochs": r["run"]["config"]["train"]["epochs"],
                              "epochs_completed": s["epochs"],
                              "final_test_acc": r["run"]["finals"].get(s["seed"], m[-1].get("test_acc", "") if m else ""),
                              "best_test_acc": max((x["test_acc"] for x in m if "test_acc" in x), default=""),
                              "final_train_acc": m[-1]["train_acc"] if m else "",
                              "final_test_loss": m[-1].get("test_loss", "") if m else "",
                              "run_dir": os.path.relpath(r["run"]["dir"], ROOT)})


def write_plot(stem, spec, rows, notes, propnet):
    try:
        import matplotlib
    except ImportError:
        raise UsageError("the figures need matplotlib: apt install python3-matplotlib (scripts/lab runs /usr/bin/python3)")
    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt
    import textwrap

    fig, ax = plt.subplots(figsize=(8, 6), dpi=120)
    most_epochs = 0
    for r, color in zip(rows, plt.rcParams["axes.prop_cycle"].by_key()["color"]):
        curves = [s["metrics"] for s in (r["run"]["seeds"] if r["run"] else []) if s["metrics"]]
        if not curves:
            continue
        # Epochs without a test pass (train.test_every) have no point.
        epochs = sorted({m["epoch"] for c in curves for m in c if "test_acc" in m})
        most_epochs = max(most_epochs, epochs[-1])
        by_epoch = {e: [m["test_acc"] for c in curves for m in c if m["epoch"] == e and "test_acc" in m] for e in epochs}
        mean = [statistics.fmean(by_epoch[e]) for e in epochs]
        std = [statistics.stdev(by_epoch[e]) if len(by_epoch[e]) > 1 else 0.0 for e in epochs]
        label = f"{r['label']} (n={len(curves)}, final {mean[-1]:.2f}%)"
        ax.plot(epochs, mean, color=color, label=label, linewidth=1.4, marker="o" if len(epochs) <= 30 else None,
                markersize=4)
        ax.fill_between(epochs, [m - s for m, s in zip(mean, std)], [m + s for m, s in zip(mean, std)],
                        color=color, alpha=0.15, linewidth=0)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    if most_epochs:
        ax.set_xlim(0.5 if most_epochs <= 30 else 0, most_epochs + (0.5 if most_epochs <= 30 else 0))
        if most_epochs <= 30:
            ax.set_xticks(range(1, most_epochs + 1))
    ax.grid(True, alpha=0.3)
    if ax.lines:
        # Below the axes: bands often fill the whole plot of a short run, and no legend should hide a curve.
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8.5, frameon=False,
                  title="mean over seeds (band: ± sample std)", title_fontsize=8)
    else:
        ax.text(0.5, 0.5, "no run folders yet", transform=ax.transAxes, ha="center", color="gray")
    ax.set_title("\n".join(textwrap.wrap(spec["title"], 80)), fontsize=10)
    caption = ("Reduced protocol: " + "; ".join(notes)) if notes else f"The paper's protocol: {paper_protocol(propnet)}."
    fig.text(0.01, 0.01, "\n".join(textwrap.wrap(caption, 130)), fontsize=7, va="bottom",
             color="firebrick" if notes else "dimgray")
    fig.tight_layout(rect=(0, 0.012 + 0.02 * len(textwrap.wrap(caption, 130)), 1, 1))
    fig.savefig(stem + ".png")
    fig.savefig(stem + ".svg")
    plt.close(fig)




def report(target, runs_dir, results_dir, propnet, configs_dir=os.path.join(ROOT, "configs", "paper")):
    """Writes the target's report from the run folders under runs_dir; returns the paths written."""
    spec = load_targets(configs_dir)[target]
    rows = collect(target, spec, os.path.abspath(runs_dir), configs_dir)
    notes = protocol_notes(rows, propnet)
    os.makedirs(results_dir, exist_ok=True)
    stem = os.path.join(results_dir, target)
    write_markdown(stem + ".md", target, spec, rows, notes, os.path.abspath(runs_dir), propnet)
    write_csv(stem + ".csv", target, rows)
    written = [stem + ".md", stem + ".csv"]
    if spec["kind"] == "figure":
        write_plot(stem, spec, rows, notes, propnet)
        written += [stem + ".png", stem + ".svg"]
    return written
