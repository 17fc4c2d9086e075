"""`scripts/lab report pareto`: one mask comparison (scripts/pareto.sh) as markdown, CSV and a plot.

Reads <experiment>/arms.tsv (arm, label, mask; tab separated), sites.json (`propnet info --sites --json` of the
paired network), command.txt, train/<mask>/ (propnet train run folders, read with runs.read_run) and
searches/<method>/seed-<s>/search.json. The metric is the final-epoch test accuracy of the seeds summary.json calls
done, never the best epoch.

What the report says and how (rules: ../shared/spec/statistics.md; functions: stats.py):
- arms against the paper's mask, paired and the reference population (random or exhaustive masks) by paired
  differences over the training seeds, with the t interval as the primary interval, the exact sign-flip p with
  its floor and the paired t-test p, Holm-adjusted over the arm table's comparisons (family 1);
- methods (arms of several masks: searches, stage-shuffled copies) against the reference population with masks
  as units (Welch t on the masks' means; family 2, Holm) and a crossed mask/seed mixed model as a check;
- every mask's binomial test-set SE and its rank with a 95 % rank interval among the masks with as many sites;
- for every site count with at least 3 complete masks, the blocked mask x seed ANOVA (F, p, permutation p,
  partial eta^2, ICC(1)); with the exhaustive arm, the site main effects (t intervals, Holm over the sites: family
  3) and the ranking with regret;
- whether the stage-shuffle control can tell placement from per-stage counts.
md and csv are byte-deterministic (fixed seeds, fixed formats, no dates); the plots are as deterministic as
matplotlib allows cheaply.
"""
import csv
import glob
import math
import os

import numpy as np

from . import stats as st
from .runs import load_json, read_run

REFERENCE_ARMS = ("random", "exhaustive")  # the populations a mask is ranked in, first present wins
RECORD = "RECORD"  # marks a copy of an experiment without its checkpoints (scripts/pareto.sh writes it)
MIN_ANOVA_MASKS = 3
SUBTRAHEND_ORDER = ("paired", "reference", "paper")  # a family comparison is X - the first of these it involves


# --- reading -----------------------------------------------------------------------------------------------------

def relu_elements(sites, mask):
    """ReLU elements per image of a mask, stem and head included (as propnet info --sites counts them)."""
    return sum(s["elements"] for s in sites["sites"] if s["fixed"] or mask[s["mask_bit"]] == "1")


def read_arms(experiment):
    """arms.tsv as [{arm, label, mask}] in file order."""
    arms = []
    with open(os.path.join(experiment, "arms.tsv"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                arm, label, mask = line.rstrip("\n").split("\t")
                arms.append({"arm": arm, "label": label, "mask": mask})
    return arms


def read_searches(experiment):
    """The gates and greedy searches' search.json: [{method, seed, mask, seconds, val_acc}]."""
    found = []
    for path in sorted(glob.glob(os.path.join(experiment, "searches", "*", "seed-*", "search.json"))):
        s = load_json(path)
        if s["method"] in ("gates", "greedy"):
            found.append({"method": s["method"], "seed": s["seed"], "mask": s["relu_mask"],
                          "seconds": s.get("wall_seconds", 0.0), "val_acc": s.get("final_val_acc")})
    return sorted(found, key=lambda s: (s["method"], s["seed"]))


def test_images(experiment, config):
    """The test-set size behind each accuracy: data.test_subset when > 0, else dataset.json's test_images in the
    experiment folder; None when neither says."""
    subset = int((config or {}).get("data", {}).get("test_subset") or 0)
    if subset > 0:
        return subset
    path = os.path.join(experiment, "dataset.json")
    if os.path.exists(path):
        n = load_json(path).get("test_images")
        return int(n) if n else None
    return None


def build(experiment):
    """Everything the report reads, in one dict."""
    arms = read_arms(experiment)
    sites = load_json(os.path.join(experiment, "sites.json"))
    masks = list(dict.fromkeys(a["mask"] for a in arms))
    runs = {m: read_run(os.path.join(experiment, "train", m)) for m in masks}
    finals = {m: (runs[m].finals() if runs[m] else {}) for m in masks}
    groups = {}
    for a in arms:
        groups.setdefault(a["arm"], []).append(a)
    config = next((r.config for r in runs.values() if r), None)
    return {"experiment": experiment, "arms": arms, "groups": groups, "sites": sites, "masks": masks,
            "runs": runs, "finals": finals, "config": config, "searches": read_searches(experiment),
            "n_test": test_images(experiment, config)}


# --- analysis ----------------------------------------------------------------------------------------------------

def mask_mean(data, mask):
    v = list(data["finals"][mask].values())
    return float(np.mean(v)) if v else math.nan


def per_seed_mean(data, masks):
    """seed -> mean over the masks of their final accuracy, for the seeds every one of them finished."""
    done = [m for m in masks if data["finals"][m]]
    if not done:
        return {}
    common = set.intersection(*[set(data["finals"][m]) for m in done])
    return {s: float(np.mean([data["finals"][m][s] for m in done])) for s in sorted(common)}


def arm_rows(data):
    rows = []
    for name, members in data["groups"].items():
        masks = [a["mask"] for a in members]
        done = [m for m in masks if data["finals"][m]]
        values = [v for m in done for v in data["finals"][m].values()]
        mean, std = st.mean_std(values)
        rows.append({"arm": name, "masks": len(masks), "done_masks": len(done), "values": len(values),
                     "mean": mean, "std": std, "binomial_se": st.binomial_se(mean, data["n_test"]),
                     "elements": sorted({relu_elements(data["sites"], m) for m in masks}),
                     "kept": sorted({m.count("1") for m in masks}), "seed_mean": per_seed_mean(data, masks),
                     "mask_list": masks, "delta": {}})
    return rows


def paired_comparisons(data, rows, reference):
    """Each arm against the paper's mask, paired and the reference population, paired over seeds. Every
    comparison sits in its row's `delta` (row - target); the distinct pairs, each oriented as X - (paired, else the
    reference, else the paper's), form family 1 with Holm over their t-test p."""
    by_arm = {r["arm"]: r for r in rows}
    roles = [("paper", "paper"), ("paired", "paired"), ("reference", reference)]
    targets = [(role, arm) for role, arm in roles if arm in by_arm and by_arm[arm]["seed_mean"]]
    order = {arm: SUBTRAHEND_ORDER.index(role) for role, arm in roles if arm}

    def subtrahend_first(arm):
        return order.get(arm, len(SUBTRAHEND_ORDER))

    family, seen = [], set()
    for r in rows:
        for role, target in targets:
            if r["arm"] == target or not r["seed_mean"]:
                continue
            c = st.paired_difference(r["seed_mean"], by_arm[target]["seed_mean"])
            if not c:
                continue
            r["delta"][role] = c
            pair = frozenset((r["arm"], target))
            if pair in seen:
                continue
            seen.add(pair)
            if subtrahend_first(target) <= subtrahend_first(r["arm"]):
                family.append({"a": r["arm"], "b": target, **c})
            else:
                family.append({"a": target, "b": r["arm"],
                               **st.paired_difference(by_arm[target]["seed_mean"], r["seed_mean"])})
    for c, adjusted in zip(family, st.holm([c["p_t"] for c in family])):
        c["p_holm"] = adjusted
    return family


def method_comparisons(data, rows, reference):
    """Family 2: every arm of several masks (searches, shuffled copies) against the reference population with
    masks as units: Welch t on the masks' mean accuracies (a mask a search found twice counts twice: the
    search's masks are its samples), Holm over the family; the crossed mixed model as a check."""
    if not reference:
        return []
    ref_masks = [a["mask"] for a in data["groups"][reference] if data["finals"][a["mask"]]]
    if len(ref_masks) < 2:
        return []
    out = []
    for r in rows:
        if r["arm"] == reference or r["masks"] < 2:
            continue
        masks = [m for m in r["mask_list"] if data["finals"][m]]
        w = st.welch([mask_mean(data, m) for m in masks], [mask_mean(data, m) for m in ref_masks])
        # A mask in both arms, or found twice, is a unit of each (as in the Welch test): the mask effect is keyed
        # by arm membership, else a method's masks that are also reference masks would explain the arm away.
        model_rows = [{"acc": v, "arm": arm, "mask": f"{arm}/{i}", "seed": s}
                      for arm, ms in ((r["arm"], masks), (reference, ref_masks))
                      for i, m in enumerate(ms) for s, v in sorted(data["finals"][m].items())]
        out.append({"arm": r["arm"], "masks": len(masks), "ref_masks": len(ref_masks), "welch": w,
                    "mixed": st.mixed_model(model_rows, reference)})
    for c, adjusted in zip(out, st.holm([c["welch"]["p"] for c in out])):
        c["p_holm"] = adjusted
    return out


def site_count_groups(data):
    """Per number of kept sites: the distinct masks with it, their seeds in common, the blocked ANOVA (2 masks
    or more) and each mask's rank interval, drawn with the ANOVA's pooled residual SE (seeds are shared, so seed
    effects do not move ranks) and its residual degrees of freedom."""
    out = {}
    for k in sorted({m.count("1") for m in data["masks"]}, reverse=True):
        masks = [m for m in data["masks"] if m.count("1") == k and len(data["finals"][m]) >= 2]
        if not masks:
            continue
        seeds = sorted(set.intersection(*[set(data["finals"][m]) for m in masks]))
        group = {"k": k, "masks": masks, "seeds": seeds, "anova": None, "ranks": {}}
        out[k] = group
        if len(masks) < 2 or len(seeds) < 2:
            continue
        table = np.array([[data["finals"][m][s] for s in seeds] for m in masks])
        anova = st.blocked_anova(table)
        means = table.mean(axis=1)
        se = anova["sd_residual"] / math.sqrt(len(seeds))
        intervals = st.rank_intervals(means, [se] * len(masks), df=anova["df_residual"])
        best = float(means.max())
        group.update(anova=anova, table=table, means=means, se=se)
        for i, m in enumerate(masks):
            group["ranks"][m] = {**intervals[i], "mean": float(means[i]), "std": float(table[i].std(ddof=1)),
                                 "regret": best - float(means[i]), "of": len(masks)}
        group["exhaustive"] = exhaustive_effects(data, group)
    return out


def exhaustive_effects(data, group):
    """With the exhaustive arm covering every mask of this site count: the site main effects (family 3)."""
    if "exhaustive" not in data["groups"]:
        return None
    ex = {a["mask"] for a in data["groups"]["exhaustive"] if a["mask"].count("1") == group["k"]}
    n = len(group["masks"][0])
    if len(ex) != math.comb(n, group["k"]) or not ex <= set(group["masks"]):
        return None
    order = [m for m in group["masks"] if m in ex]
    table = np.array([group["table"][group["masks"].index(m)] for m in order])
    return {"effects": st.site_main_effects(table, order), "masks": len(order)}


def shuffle_control(data):
    """The stage-shuffled masks against their sources ("shuffled <label>" shuffles the mask labelled <label>
    within each stage, keeping each stage's count): how many equal their source, and whether every stage has at
    most 2 maskable sites (then a count-preserving shuffle can only keep a stage or swap its two sites)."""
    if "shuffled" not in data["groups"]:
        return None
    by_label = {a["label"]: a["mask"] for a in data["arms"]}
    stages = {}
    for s in data["sites"]["sites"]:
        if not s["fixed"]:
            stages.setdefault(s["stage"], []).append(s["mask_bit"])
    pairs = []
    for a in data["groups"]["shuffled"]:
        source = by_label.get(a["label"][len("shuffled "):]) if a["label"].startswith("shuffled ") else None
        if source is None:
            continue
        same_stages = sum(all(source[b] == a["mask"][b] for b in bits) for bits in stages.values())
        pairs.append({"label": a["label"], "mask": a["mask"], "source": source, "equal": a["mask"] == source,
                      "stages_kept": same_stages})
    return {"pairs": pairs, "stages": len(stages), "max_sites": max(len(b) for b in stages.values()),
            "equal": sum(p["equal"] for p in pairs), "degenerate": max(len(b) for b in stages.values()) <= 2}


def analyse(data):
    rows = arm_rows(data)
    reference = next((name for name in REFERENCE_ARMS if name in data["groups"]), None)
    return {"rows": rows, "reference": reference, "family": paired_comparisons(data, rows, reference),
            "methods": method_comparisons(data, rows, reference), "groups": site_count_groups(data),
            "shuffle": shuffle_control(data)}


# --- formatting --------------------------------------------------------------------------------------------------

def fmt(x, digits=2, signed=False):
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "—"
    return f"{x:+.{digits}f}" if signed else f"{x:.{digits}f}"


def fmt_p(p):
    if p is None or math.isnan(p):
        return "—"
    if p >= 0.1:
        return f"{p:.2f}"
    if p >= 0.001:
        return f"{p:.3g}"
    return f"{p:.1e}"


def ci_cell(low, high):
    return "—" if low is None or math.isnan(low) else f"[{low:+.2f}, {high:+.2f}]"


def count(n):
    return f"{n:,}"


def rank_cell(r):
    return f"{r['rank']} [{r['low']}–{r['high']}] of {r['of']}" if r else "—"


def permutation_p(a):
    if a["permutation_hits"] == 0:
        return (f"< 1/{count(a['permutations'] + 1)} (none of {count(a['permutations'])} within-seed shuffles "
                f"reached the observed F)")
    return f"= {fmt_p(a['p_permutation'])} ({count(a['permutations'])} within-seed shuffles)"


def protocol_line(data):
    c = data["config"]
    if not c:
        return "Nothing trained yet."
    d, t, n = c["data"], c["train"], c["network"]
    subset = f"the first {d['subset']} training images" if d.get("subset") else "all training images"
    test = f"the first {d['test_subset']} test images" if d.get("test_subset") else "all test images"
    return (f"{n['arch']}-{n['depth']} on {d['dataset']}: {subset}, {test}, {t['epochs']} epochs, batch "
            f"{t['batch_size']}, Nesterov SGD lr {t['lr']} (×{t['lr_factor']} at {t['milestone_fractions']} of the "
            f"optimizer steps), weight decay {t['weight_decay']}, augmentation {'on' if d['augment'] else 'off'}.")


# --- writing -----------------------------------------------------------------------------------------------------

CSV_FIELDS = ["arm", "label", "mask", "sites_kept", "relu_elements", "seed", "status", "final_test_acc",
              "final_train_acc", "epochs_completed", "epoch_seconds", "test_images", "binomial_se"]


def write_csv(path, data):
    """One line per arm membership, mask and seed (a mask two arms share appears under both)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.DictWriter(f, fieldnames=CSV_FIELDS, lineterminator="\n")
        out.writeheader()
        for a in data["arms"]:
            run = data["runs"][a["mask"]]
            base = {"arm": a["arm"], "label": a["label"], "mask": a["mask"], "sites_kept": a["mask"].count("1"),
                    "relu_elements": relu_elements(data["sites"], a["mask"]), "test_images": data["n_test"] or ""}
            seeds = run.seeds if run else []
            if not seeds:
                out.writerow({**base, "status": "not run"})
            for s in seeds:
                m = s.metrics
                acc = s.final_test_acc
                se = st.binomial_se(acc, data["n_test"]) if acc is not None else math.nan
                out.writerow({**base, "seed": s.seed, "status": s.status, "final_test_acc": "" if acc is None else acc,
                              "final_train_acc": m[-1]["train_acc"] if m else "", "epochs_completed": len(m),
                              "epoch_seconds": round(s.train_seconds, 1),
                              "binomial_se": "" if math.isnan(se) else f"{se:.3f}"})


def header_lines(data):
    lines = ["# ReLU mask comparison", "", protocol_line(data), ""]
    command = os.path.join(data["experiment"], "command.txt")
    if os.path.exists(command):
        with open(command, encoding="utf-8") as f:
            lines += ["Command:", "", "```", f.read().strip(), "```", ""]
    train_seconds = sum(s.train_seconds for r in data["runs"].values() if r for s in r.seeds)
    search_seconds = sum(s["seconds"] for s in data["searches"])
    lines.append(f"Compute: {train_seconds / 3600:.2f} h of training epochs over {len(data['masks'])} masks"
                 + (f", {search_seconds / 3600:.2f} h of searches ({len(data['searches'])})" if data["searches"]
                    else "") + " (sum over processes; they ran in parallel).")
    n = data["n_test"]
    values = [v for f in data["finals"].values() for v in f.values()]
    if n and values:
        typical = float(np.mean(values))
        lines += ["", f"Test set: {count(n)} images, so one accuracy near this experiment's mean ({typical:.1f} %) "
                      f"carries a binomial SE of {st.binomial_se(typical, n):.2f} points (sqrt(p (1 - p) / "
                      f"{count(n)})); the tables give each accuracy's. A gap between two accuracies smaller than that "
                      "is not read."]
    else:
        lines += ["", "Test set: its size is not recorded (no data.test_subset and no dataset.json), so no binomial "
                      "SE is given."]
    return lines


def arm_table_lines(data, analysis):
    rows, reference = analysis["rows"], analysis["reference"]
    roles = [("paper", "Δ vs paper"), ("paired", "Δ vs paired"), ("reference", f"Δ vs {reference}")]
    roles = [(k, t) for k, t in roles if any(k in r["delta"] for r in rows)]
    lines = ["", "## Arms", "",
             "Final-epoch test accuracy (%), mean ± std over the arm's runs; binomial SE of one accuracy at the "
             "arm's mean. Δ: paired difference over the training seeds (the arm's mean over its masks at seed s "
             "minus the other's at seed s), mean [95 % t interval]; its tests are in the next table. An arm of "
             "several masks is taken here as those fixed masks; the methods table treats them as samples.", ""]
    header = "| Arm | Masks | Sites kept | ReLU elements | Runs | Mean ± std | Binomial SE |"
    rule = "|---|---:|---:|---:|---:|---:|---:|"
    for _, title in roles:
        header += f" {title} [95 % t CI] |"
        rule += "---:|"
    lines += [header, rule]
    for r in rows:
        elements = (count(r["elements"][0]) if len(r["elements"]) == 1
                    else f"{count(r['elements'][0])}–{count(r['elements'][-1])}")
        masks = f"{r['done_masks']}/{r['masks']}" if r["done_masks"] != r["masks"] else str(r["masks"])
        line = (f"| {r['arm']} | {masks} | {'/'.join(map(str, r['kept']))} | {elements} | {r['values']} | "
                f"{fmt(r['mean'])} ± {fmt(r['std'])} | {fmt(r['binomial_se'])} |")
        for key, _ in roles:
            c = r["delta"].get(key)
            line += f" {fmt(c['mean'], signed=True)} {ci_cell(c['low'], c['high'])} |" if c else " — |"
        lines.append(line)
    return lines


def family_lines(analysis):
    family = analysis["family"]
    if not family:
        return []
    ns = sorted({c["n"] for c in family})
    floors = ", ".join(f"{fmt_p(2 / 2 ** n)} at n = {n}" for n in ns)
    title = (f"family 1: the arm table's {len(family)} distinct comparisons, Holm over them" if len(family) > 1
             else "family 1: the arm table's one comparison, which Holm leaves as it is")
    lines = ["", f"## Paired comparisons ({title})", "",
             "Δ = first arm − second, per seed; the 95 % t interval is the primary interval. Sign-flip p: exact over "
             f"all 2^n sign patterns, two-sided; it cannot go below its floor 2/2^n ({floors})"
             + ("; with fewer than 6 seeds no sign-flip p can reach 0.05" if ns[-1] < 6 else "")
             + ". t-test p: the paired t-test (it assumes normal differences, which so few seeds cannot check); "
               "Holm adjusts it over this family.", "",
             "| Comparison | Seeds | Δ (points) | SD of Δ | 95 % t CI | Sign-flip p (floor) | t-test p | Holm p |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for c in family:
        lines.append(f"| {c['a']} − {c['b']} | {c['n']} | {fmt(c['mean'], signed=True)} | {fmt(c['sd'])} | "
                     f"{ci_cell(c['low'], c['high'])} | {fmt_p(c['p_sign_flip'])} ({fmt_p(c['p_floor'])}) | "
                     f"{fmt_p(c['p_t'])} | {fmt_p(c['p_holm'])} |")
    return lines


def mixed_cell(m):
    if not m["converged"]:
        return "did not converge"
    note = " (a variance component at its boundary)" if "boundary" in m["note"] else ""
    return (f"{fmt(m['estimate'], signed=True)} {ci_cell(m['low'], m['high'])}, SE {fmt(m['se'])}, "
            f"p = {fmt_p(m['p'])}{note}")


def methods_lines(analysis):
    methods, reference = analysis["methods"], analysis["reference"]
    if not methods:
        return []
    degenerate = analysis["shuffle"] and analysis["shuffle"]["degenerate"]
    lines = ["", f"## Methods against the {reference} masks, masks as units (family 2: {len(methods)} "
                 f"comparison{'s' if len(methods) != 1 else ''}, Holm over them)", "",
             f"A search's masks are samples of the search, so a method is compared with the {reference} masks by "
             "the masks' mean accuracies: Welch's t (difference of the means ± its SE, 95 % Welch interval, p); a "
             "mask a search found twice, or one that is also a reference mask, is a unit of each. Check: the mixed "
             "model acc ~ arm + (1|mask) + (1|seed) (statsmodels MixedLM, REML, crossed mask and seed intercepts, "
             "masks counted as in the Welch test; Wald 95 % interval), on every run of the two arms.", "",
             f"| Method − {reference} | Masks | {reference} masks | Δ of means ± SE | 95 % Welch CI | Welch p | "
             "Holm p | Mixed model: Δ [95 % CI], SE, p |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for c in methods:
        w = c["welch"]
        name = c["arm"] + (" (degenerate control, below)" if c["arm"] == "shuffled" and degenerate else "")
        lines.append(f"| {name} | {c['masks']} | {c['ref_masks']} | {fmt(w['diff'], signed=True)} ± {fmt(w['se'])} | "
                     f"{ci_cell(w['low'], w['high'])} | {fmt_p(w['p'])} | {fmt_p(c['p_holm'])} | "
                     f"{mixed_cell(c['mixed'])} |")
    return lines


def mask_table_lines(data, analysis):
    lines = ["", "## Masks", "",
             "Bits in site order (`propnet info --sites` names the sites). Rank: among the masks with as many sites "
             "(competition rank of the means over the seeds they share), with its 95 % rank interval (see the "
             "site-count sections for how it is drawn).", "",
             "| Arm | Label | Mask | ReLU elements | Seeds done | Mean ± std | Binomial SE | Rank [95 % interval] |",
             "|---|---|---|---:|---:|---:|---:|---:|"]
    groups = analysis["groups"]
    for a in data["arms"]:
        mask = a["mask"]
        mean, std = st.mean_std(list(data["finals"][mask].values()))
        group = groups.get(mask.count("1"))
        rank = group["ranks"].get(mask) if group else None
        lines.append(f"| {a['arm']} | {a['label']} | `{mask}` | {count(relu_elements(data['sites'], mask))} | "
                     f"{len(data['finals'][mask])} | {fmt(mean)} ± {fmt(std)} | "
                     f"{fmt(st.binomial_se(mean, data['n_test']))} | {rank_cell(rank)} |")
    return lines


def group_lines(data, analysis, group):
    a, k = group["anova"], group["k"]
    masks, seeds = group["masks"], group["seeds"]
    lines = ["", f"## Every trained mask with {k} sites ({len(masks)} distinct masks × {len(seeds)} seeds)", "",
             f"Blocked two-way ANOVA (mask × seed, seeds as blocks; statsmodels OLS and anova_lm): "
             f"F({a['df_arm']}, {a['df_residual']}) = {a['f']:.2f}, p = {fmt_p(a['p'])}; permutation p "
             f"{permutation_p(a)}; partial η² = {a['partial_eta2']:.2f}; one-way ICC(1) = {a['icc1']:.2f} (share of "
             f"the variance between masks, seeds not taken out). SD of the masks' means {a['sd_arm_means']:.2f} "
             f"points against a residual (seed) SD of {a['sd_residual']:.2f}.", "",
             f"Rank intervals: every mask's mean re-drawn {count(st.RANK_DRAWS)} times (seeded) as mean + SE · t, "
             f"with the pooled residual SE {group['se']:.2f} points (residual SD / sqrt({len(seeds)})) and t on its "
             f"{a['df_residual']} degrees of freedom; the interval holds 95 % of a mask's ranks, P(first) is the "
             "share of draws in which it ranks 1.", ""]
    notes = []
    named = [(x["label"], x["mask"]) for x in data["arms"] if x["arm"] in ("paper", "complement", "paired")]
    named += [(f"the {s['method']} search (seed {s['seed']})", s["mask"]) for s in data["searches"]]
    for label, mask in named:
        r = group["ranks"].get(mask)
        if r:
            notes.append(f"- {label} `{mask}`: {fmt(r['mean'])} %, rank {rank_cell(r)}, P(first) = "
                         f"{r['p_first']:.2f}, regret {r['regret']:.2f} points below the best mask's mean.")
    lines += notes
    ex = group.get("exhaustive")
    if ex:
        names = {s["mask_bit"]: s["name"] for s in data["sites"]["sites"] if not s["fixed"]}
        effects = [e for e in ex["effects"] if e]
        lines += ["", f"Site main effects (family 3: {len(effects)} sites, Holm over them): the mean accuracy of the "
                      "masks that keep the site minus that of the masks that remove it, per seed; mean [95 % t "
                      "interval over seeds], paired t-test p and its Holm adjustment, exact sign-flip p (floor). At a "
                      "fixed number of sites keeping one means removing another, so an effect is relative to the "
                      "other sites.", "",
                  "| Site | Bit | Effect (points) | 95 % t CI | t-test p | Holm p | Sign-flip p (floor) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        for e in effects:
            lines.append(f"| {names.get(e['site'], e['site'])} | {e['site']} | {e['effect']:+.2f} | "
                         f"{ci_cell(e['low'], e['high'])} | {fmt_p(e['p_t'])} | {fmt_p(e['p_holm'])} | "
                         f"{fmt_p(e['p_sign_flip'])} ({fmt_p(e['p_floor'])}) |")
        held = [names.get(e["site"], str(e["site"])) for e in effects if e["p_holm"] < 0.05]
        lines += ["", "Holm-adjusted p < 0.05: " + (", ".join(held) if held else "none") + "."]
    lines += ["", "Ranking:", "", "| Rank [95 % interval] | P(first) | Mask | Mean ± std | Regret |",
              "|---:|---:|---|---:|---:|"]
    for m in sorted(masks, key=lambda m: (group["ranks"][m]["rank"], m)):
        r = group["ranks"][m]
        lines.append(f"| {r['rank']} [{r['low']}–{r['high']}] | {r['p_first']:.2f} | `{m}` | {r['mean']:.2f} ± "
                     f"{r['std']:.2f} | {r['regret']:.2f} |")
    return lines


def shuffle_lines(analysis):
    s = analysis["shuffle"]
    if not s or not s["pairs"]:
        return []
    lines = ["", "## Stage-shuffle control", "",
             f"{s['equal']} of {len(s['pairs'])} shuffled masks equal their source mask; per shuffled mask, the "
             f"stages (of {s['stages']}) it leaves as they were: "
             + ", ".join(f"{p['label']} {p['stages_kept']}" for p in s["pairs"]) + "."]
    if s["degenerate"]:
        lines += ["", f"Degenerate here: every stage has at most {s['max_sites']} maskable sites, so a shuffle that "
                      "keeps each stage's count can only leave a stage as it is or swap its two sites. The shuffled "
                      "masks are the sources with some stages mirrored, not random placements at the same counts; "
                      "the control cannot separate placement from per-stage counts."]
    return lines


def reading_lines(data, analysis):
    ns = sorted({c["n"] for c in analysis["family"]}) or sorted({len(f) for f in data["finals"].values() if f})
    n = ns[0] if ns else 0
    floor = 2 / 2 ** n if n else math.nan
    return ["", "## How to read this", "",
            "A difference is supported where its 95 % t interval excludes 0 and its Holm-adjusted p (over the "
            "declared family) is below 0.05; an interval that spans 0 supports neither direction, and its width is "
            "what the experiment can resolve. "
            + (f"With {n} seeds the exact sign-flip p cannot go below 2/2^{n} = {fmt_p(floor)}"
               + (" (n = 3 seeds cannot give p < 0.25)" if n == 3 else "")
               + "; only the t-test, by assuming normal differences, gets lower, so such a claim is as good as that "
                 "assumption. " if n else "")
            + "The arm table takes the masks of an arm as fixed; a claim about a method (a search, random masks) "
              "rests on the methods table, where masks are the units. A rank is read with its interval, not alone. "
              "Gaps smaller than the binomial SE of one accuracy are test-set noise.",
            "", "Plot: pareto.png / .svg (bars: 95 % t interval over seeds). Per-seed numbers: pareto.csv."]


def write_markdown(path, data, analysis):
    lines = header_lines(data)
    lines += arm_table_lines(data, analysis)
    lines += family_lines(analysis)
    lines += methods_lines(analysis)
    lines += mask_table_lines(data, analysis)
    for k, group in analysis["groups"].items():
        if group["anova"] and len(group["masks"]) >= MIN_ANOVA_MASKS:
            lines += group_lines(data, analysis, group)
    lines += shuffle_lines(analysis)
    lines += reading_lines(data, analysis)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write("\n".join(lines) + "\n")


def write_plot(stem, data):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with matplotlib.rc_context({"svg.hashsalt": "propnet", "svg.fonttype": "path"}):
        fig, ax = plt.subplots(figsize=(8, 5.5), dpi=120)
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        markers = {"paired": "s", "paper": "*", "complement": "X", "random": "o", "exhaustive": "o", "gates": "D",
                   "greedy": "^", "shuffled": "v"}
        for i, (name, members) in enumerate(data["groups"].items()):
            xs, ys, lows, highs = [], [], [], []
            for m in dict.fromkeys(a["mask"] for a in members):
                values = list(data["finals"][m].values())
                if not values:
                    continue
                ci = st.t_interval(values)
                xs.append(relu_elements(data["sites"], m))
                ys.append(ci["mean"])
                lows.append(0 if math.isnan(ci["low"]) else ci["mean"] - ci["low"])
                highs.append(0 if math.isnan(ci["high"]) else ci["high"] - ci["mean"])
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
            ax.legend(fontsize=8, title="arm (masks); bars: 95 % t interval over seeds", title_fontsize=8,
                      loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=4, frameon=False)
        ax.set_title(protocol_line(data), fontsize=7.5, wrap=True)
        fig.tight_layout()
        fig.savefig(stem + ".png", metadata={"Software": None})
        fig.savefig(stem + ".svg", metadata={"Date": None, "Creator": None})
        plt.close(fig)


def report(experiment_dir, results_dir):
    """Write pareto.md, pareto.csv, pareto.png and pareto.svg for the experiment (or its committed record/) into
    results_dir; returns their paths."""
    if not os.path.exists(os.path.join(experiment_dir, "arms.tsv")):
        raise FileNotFoundError(f"{experiment_dir}: no arms.tsv (is it a scripts/pareto.sh experiment folder?)")
    data = build(experiment_dir)
    analysis = analyse(data)
    os.makedirs(results_dir, exist_ok=True)
    stem = os.path.join(results_dir, "pareto")
    write_csv(stem + ".csv", data)
    write_markdown(stem + ".md", data, analysis)
    write_plot(stem, data)
    return [stem + ext for ext in (".md", ".csv", ".png", ".svg")]
