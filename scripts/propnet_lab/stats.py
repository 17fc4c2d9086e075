"""Statistics for comparing training arms (ReLU masks, variants) over the same training seeds.

Seed s gives every mask the same initial weights and data order, so two arms are compared by their paired
differences over seeds. With the 3-5 seeds propnet's experiments have:
- the primary interval of a mean paired difference is the Student t interval (a percentile bootstrap over n values
  is at most [min, max] of them: at n = 3 its coverage is about 75 %);
- the exact sign-flip p is printed with its floor 2 / 2^n (0.25 at n = 3, 0.0625 at n = 5: at n < 6 no sign-flip
  p reaches 0.05);
- a report declares its families of comparisons and adjusts each with Holm;
- methods that produce masks (a search, random draws) are compared with masks as units (Welch t on the masks'
  means; a mixed model with crossed mask and seed effects as a check), since a search's masks are samples of it;
- ranks come with intervals (each mask's mean re-drawn from its sampling distribution).

Every distribution, test and model comes from scipy.stats or statsmodels; every random draw takes a seed, so a
report is byte-reproducible. Specification: ../shared/spec/statistics.md. Tests: tests/scripts/test_stats.py.
"""
import math
import warnings

import numpy as np
import pandas as pd
import scipy.stats
import statsmodels.formula.api as smf
from statsmodels.stats.anova import anova_lm
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

LEVEL = 0.95
PERMUTATIONS = 10000     # within-block permutations of the blocked ANOVA
RANK_DRAWS = 10000       # re-draws of the masks' means for rank intervals
SIGN_FLIP_EXACT_MAX = 20  # exact enumeration of the 2^n sign patterns up to this n, seeded Monte Carlo beyond
SIGN_FLIPS = 100000      # Monte Carlo sign patterns beyond SIGN_FLIP_EXACT_MAX
TOLERANCE = 1e-9         # two means closer than this tie (accuracies are printed with 2 decimals)

NAN = float("nan")


def _array(values):
    return np.asarray(list(values), dtype=float)


def mean_std(values):
    """(mean, sample std): mean nan for no value, std nan for fewer than 2."""
    x = _array(values)
    if x.size == 0:
        return NAN, NAN
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else NAN


def t_interval(values, level=LEVEL):
    """Student t interval of the mean: {mean, low, high, sd, se, n, df}. low/high (and sd, se) are nan for n < 2;
    a zero sd gives the point interval [mean, mean]."""
    x = _array(values)
    n = int(x.size)
    mean, sd = mean_std(x)
    out = {"mean": mean, "low": NAN, "high": NAN, "sd": sd, "se": NAN, "n": n, "df": n - 1}
    if n < 2:
        return out
    se = sd / math.sqrt(n)
    half = float(scipy.stats.t.ppf(0.5 + level / 2, n - 1)) * se
    out.update(low=mean - half, high=mean + half, se=se)
    return out


def sign_flip_p(d, resamples=SIGN_FLIPS, seed=0):
    """Two-sided sign-flip (paired permutation) p of the mean of the differences d: under 'no difference' each
    difference's sign is a fair coin. Exact over all 2^n sign patterns up to n = SIGN_FLIP_EXACT_MAX, a seeded Monte
    Carlo estimate (hits + 1) / (resamples + 1) beyond. Returns (p, floor): the floor is the smallest p the test
    can give, 2 / 2^n (exact) or max(2 / 2^n, 1 / (resamples + 1)) (Monte Carlo); (nan, nan) for no difference."""
    d = _array(d)
    n = int(d.size)
    if n == 0:
        return NAN, NAN
    observed = abs(float(d.sum()))
    tol = 1e-9 * max(1.0, float(np.abs(d).sum()))
    if n <= SIGN_FLIP_EXACT_MAX:
        sums = np.zeros(1)
        for x in d:  # the sums of all 2^n sign patterns, built by doubling
            sums = np.concatenate([sums + x, sums - x])
        return float(np.mean(np.abs(sums) >= observed - tol)), 2.0 / 2 ** n
    rng = np.random.default_rng(seed)
    signs = rng.choice(np.array([-1.0, 1.0]), size=(resamples, n))
    hits = int(np.sum(np.abs(signs @ d) >= observed - tol))
    return (hits + 1) / (resamples + 1), max(2.0 / 2 ** n, 1.0 / (resamples + 1))


def t_test_p(d):
    """Two-sided one-sample (paired) t-test p of mean(d) = 0; nan for n < 2 or a zero sd (t undefined)."""
    d = _array(d)
    if d.size < 2 or float(d.std(ddof=1)) == 0.0:
        return NAN
    return float(scipy.stats.ttest_1samp(d, 0.0).pvalue)


def paired_difference(a, b, level=LEVEL):
    """a - b over the seeds both {seed: value} dicts hold: {seeds, d, n, mean, sd, se, low, high (t interval),
    p_sign_flip, p_floor (2 / 2^n), p_t (paired t-test)}; None when they share no seed."""
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    d = np.array([a[s] - b[s] for s in seeds], dtype=float)
    ci = t_interval(d, level)
    p, floor = sign_flip_p(d)
    return {"seeds": seeds, "d": d, "n": len(seeds), "mean": ci["mean"], "sd": ci["sd"], "se": ci["se"],
            "low": ci["low"], "high": ci["high"], "p_sign_flip": p, "p_floor": floor, "p_t": t_test_p(d)}


def holm(pvalues):
    """Holm-adjusted p-values (statsmodels multipletests, method 'holm') in the input order; nan entries stay nan
    and do not count towards the family."""
    p = _array(pvalues)
    out = np.full(p.size, NAN)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method="holm")[1]
    return [float(x) for x in out]


def welch(a, b, level=LEVEL):
    """Masks as units: mean(a) - mean(b) of two independent samples (e.g. the mean accuracies of a method's masks
    and of the random masks), with the Welch t interval and two-sided p: {diff, se, low, high, df, p, n_a, n_b}.
    Interval and p are nan when either sample has fewer than 2 values or both have zero spread."""
    a, b = _array(a), _array(b)
    out = {"diff": NAN, "se": NAN, "low": NAN, "high": NAN, "df": NAN, "p": NAN, "n_a": int(a.size),
           "n_b": int(b.size)}
    if a.size == 0 or b.size == 0:
        return out
    out["diff"] = float(a.mean() - b.mean())
    if a.size < 2 or b.size < 2:
        return out
    compare = CompareMeans(DescrStatsW(a), DescrStatsW(b))
    se = float(compare.std_meandiff_separatevar)
    if se == 0.0:
        return out
    low, high = compare.tconfint_diff(alpha=1 - level, usevar="unequal")
    _, p, df = compare.ttest_ind(usevar="unequal")
    out.update(se=se, low=float(low), high=float(high), df=float(df), p=float(p))
    return out


def mixed_model(rows, reference, level=LEVEL):
    """acc ~ arm + (1|mask) + (1|seed): statsmodels MixedLM (REML) with crossed random intercepts for mask and seed
    (one group, the two as variance components). rows: dicts with acc, arm, mask, seed, of exactly two arms; the
    estimate is (the other arm) - reference, with its SE, Wald (normal) interval and p.
    Returns {arm, estimate, se, low, high, p, converged, note, var_mask, var_seed, var_residual}; when the fit fails,
    does not converge or its Hessian is not positive definite, converged is False and the numbers are nan."""
    frame = pd.DataFrame([{"acc": float(r["acc"]), "arm": str(r["arm"]), "mask": str(r["mask"]),
                           "seed": int(r["seed"])} for r in rows])
    arms = sorted(set(frame["arm"])) if len(frame) else []
    other = [a for a in arms if a != reference]
    out = {"arm": other[0] if other else None, "estimate": NAN, "se": NAN, "low": NAN, "high": NAN, "p": NAN,
           "converged": False, "note": "", "var_mask": NAN, "var_seed": NAN, "var_residual": NAN}
    if reference not in arms or len(other) != 1:
        out["note"] = "needs exactly two arms, one of them the reference"
        return out
    frame["x"] = (frame["arm"] == other[0]).astype(float)
    frame["group"] = 1
    if frame["mask"].nunique() < 3 or frame["seed"].nunique() < 2:
        out["note"] = "too few masks or seeds"
        return out
    model = smf.mixedlm("acc ~ x", frame, groups="group", re_formula="0",
                        vc_formula={"mask": "0 + C(mask)", "seed": "0 + C(seed)"})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fit = model.fit(reml=True)
        except (np.linalg.LinAlgError, ValueError) as e:
            out["note"] = f"fit failed: {type(e).__name__}"
            return out
    messages = [str(w.message) for w in caught]
    # Intermediate optimizers may fail before a retry converges; these are the final fit's own verdicts.
    failed = [m for m in messages if m.startswith(("MixedLM optimization failed", "Gradient optimization failed",
                                                    "The Hessian matrix at the estimated parameter values"))]
    if not fit.converged or failed or not np.isfinite(fit.bse["x"]):
        out["note"] = failed[0] if failed else "did not converge"
        return out
    names = list(model.exog_vc.names)
    vcomp = dict(zip(names, (float(v) for v in fit.vcomp)))
    z = float(scipy.stats.norm.ppf(0.5 + level / 2))
    est, se = float(fit.fe_params["x"]), float(fit.bse["x"])
    notes = [m for m in messages if "boundary" in m or "singular" in m]
    out.update(estimate=est, se=se, low=est - z * se, high=est + z * se, p=float(fit.pvalues["x"]),
               converged=True, note="; ".join(dict.fromkeys(notes)), var_mask=vcomp.get("mask", NAN),
               var_seed=vcomp.get("seed", NAN), var_residual=float(fit.scale))
    return out


def _blocked_sums(y):
    """Closed-form sums of squares of rows (arms) x columns (blocks), one value per cell, for y of shape
    (..., rows, columns): (ss_arm, ss_block, ss_residual)."""
    rows, columns = y.shape[-2], y.shape[-1]
    grand = y.mean(axis=(-2, -1), keepdims=True)
    ss_arm = columns * np.sum((y.mean(axis=-1, keepdims=True) - grand) ** 2, axis=(-2, -1))
    ss_block = rows * np.sum((y.mean(axis=-2, keepdims=True) - grand) ** 2, axis=(-2, -1))
    ss_total = np.sum((y - grand) ** 2, axis=(-2, -1))
    return ss_arm, ss_block, ss_total - ss_arm - ss_block


def blocked_anova(table, permutations=PERMUTATIONS, seed=0):
    """Arms (rows, e.g. masks) x blocks (columns, seeds), one value per cell: does the arm explain more than seed
    noise once the seeds are taken out? statsmodels OLS acc ~ C(arm) + C(seed) with anova_lm (checked against the
    closed form), a permutation p that shuffles the arms within each seed (hits + 1) / (permutations + 1) with its
    floor 1 / (permutations + 1), partial eta^2 = SS_arm / (SS_arm + SS_residual), the one-way ICC(1) (share of the
    variance between arms, seeds not taken out) and the SDs of the arms' means and of the residual."""
    y = np.asarray(table, dtype=float)
    arms, blocks = y.shape
    if arms < 2 or blocks < 2:
        raise ValueError("blocked_anova needs at least 2 arms and 2 blocks")
    frame = pd.DataFrame({"acc": y.ravel(), "arm": np.repeat(np.arange(arms), blocks),
                          "block": np.tile(np.arange(blocks), arms)})
    fitted = smf.ols("acc ~ C(arm) + C(block)", frame).fit()
    aov = anova_lm(fitted, typ=2)
    ss_arm, ss_block, ss_resid = (float(aov.loc[k, "sum_sq"]) for k in ("C(arm)", "C(block)", "Residual"))
    closed = _blocked_sums(y)
    scale = max(1.0, float(np.sum((y - y.mean()) ** 2)))
    if not np.allclose([ss_arm, ss_block, ss_resid], closed, rtol=1e-7, atol=1e-9 * scale):
        raise AssertionError(f"anova_lm {ss_arm, ss_block, ss_resid} != closed form {closed}")
    df_arm, df_block, df_resid = arms - 1, blocks - 1, (arms - 1) * (blocks - 1)
    ms_arm, ms_resid = ss_arm / df_arm, ss_resid / df_resid
    f = float(aov.loc["C(arm)", "F"]) if ms_resid > 0 else math.inf
    p = float(aov.loc["C(arm)", "PR(>F)"]) if ms_resid > 0 else 0.0
    # Permutation within blocks: F is monotone in SS_arm / SS_residual, which the shuffles are ranked by.
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.broadcast_to(y, (permutations, arms, blocks)), axis=1)
    a, _, r = _blocked_sums(shuffled)
    observed = ss_arm / max(ss_resid, 1e-300)
    hits = int(np.sum(a / np.maximum(r, 1e-300) >= observed * (1 - 1e-9)))
    within_ms = (ss_block + ss_resid) / (arms * (blocks - 1))  # one-way: everything within an arm is noise
    icc = (ms_arm - within_ms) / (ms_arm + (blocks - 1) * within_ms)
    return {
        "arms": arms, "blocks": blocks,
        "ss_arm": ss_arm, "ss_block": ss_block, "ss_residual": ss_resid,
        "df_arm": df_arm, "df_block": df_block, "df_residual": df_resid,
        "ms_arm": ms_arm, "ms_residual": ms_resid, "f": f, "p": p,
        "permutations": permutations, "permutation_hits": hits,
        "p_permutation": (hits + 1) / (permutations + 1), "p_permutation_floor": 1 / (permutations + 1),
        "partial_eta2": ss_arm / (ss_arm + ss_resid) if ss_arm + ss_resid > 0 else NAN,
        "icc1": float(icc),
        "sd_arm_means": float(np.std(y.mean(axis=1), ddof=1)),
        "sd_residual": math.sqrt(ms_resid),
    }


def competition_ranks(values, tolerance=TOLERANCE):
    """1 + the number of values strictly greater (beyond tolerance): ties share a rank, higher is better."""
    v = _array(values)
    return [1 + int(np.sum(v > x + tolerance)) for x in v]


def rank_intervals(means, ses, draws=RANK_DRAWS, seed=0, df=None, level=LEVEL):
    """Rank intervals (higher mean = rank 1): each mask's mean is re-drawn as mean + se * z, z standard normal
    (df None) or Student t with df degrees of freedom, `draws` times (seeded), and the masks are ranked in every
    draw. Returns per mask {rank (competition rank of the observed means), low, high (the level-interval of its
    rank over the draws), p_first (share of draws in which it ranks 1)}."""
    m = _array(means)
    s = _array(ses)
    k = m.size
    if k == 0:
        return []
    rng = np.random.default_rng(seed)
    if df is None:
        z = rng.standard_normal((draws, k))
    else:
        z = scipy.stats.t.rvs(df, size=(draws, k), random_state=rng)
    noisy = m + np.where(np.isfinite(s), s, 0.0) * z
    ranks = np.empty((draws, k), dtype=np.int64)
    chunk = max(1, 4_000_000 // (k * k))
    for start in range(0, draws, chunk):
        block = noisy[start:start + chunk]
        ranks[start:start + chunk] = 1 + np.sum(block[:, None, :] > block[:, :, None] + TOLERANCE, axis=2)
    tail = (1 - level) / 2
    low = np.quantile(ranks, tail, axis=0, method="lower")
    high = np.quantile(ranks, 1 - tail, axis=0, method="higher")
    first = np.mean(ranks == 1, axis=0)
    return [{"rank": r, "low": int(low[i]), "high": int(high[i]), "p_first": float(first[i])}
            for i, r in enumerate(competition_ranks(m))]


def binomial_se(acc_percent, n_test):
    """Binomial standard error of one test accuracy, in points: 100 sqrt(p (1 - p) / n_test) at p = acc / 100;
    nan without a test-set size."""
    if not n_test or n_test <= 0 or acc_percent is None or math.isnan(acc_percent):
        return NAN
    p = min(max(acc_percent / 100.0, 0.0), 1.0)
    return 100.0 * math.sqrt(p * (1 - p) / n_test)


def tost_paired(d, margin, alpha=0.05):
    """Equivalence of a paired difference within +-margin (two one-sided t-tests at level alpha): the (1 - 2 alpha)
    t interval of mean(d) and whether it lies inside (-margin, +margin). Returns {mean, low, high, level, margin,
    equivalent, p, p_lower, p_upper} where p is the TOST p (statsmodels ttost_mean; equivalent iff p < alpha), the
    larger of the one-sided p-values against mean <= -margin (p_lower) and mean >= +margin (p_upper)."""
    d = _array(d)
    ci = t_interval(d, 1 - 2 * alpha)
    out = {"mean": ci["mean"], "low": ci["low"], "high": ci["high"], "level": 1 - 2 * alpha, "margin": margin,
           "equivalent": False, "p": NAN, "p_lower": NAN, "p_upper": NAN, "n": int(d.size)}
    if d.size < 2:
        return out
    if ci["sd"] == 0.0:
        out.update(equivalent=bool(-margin < ci["mean"] < margin))
        return out
    p, lower, upper = DescrStatsW(d).ttost_mean(-margin, margin)
    out.update(p=float(p), p_lower=float(lower[1]), p_upper=float(upper[1]),
               equivalent=bool(-margin < ci["low"] and ci["high"] < margin))
    return out


def site_main_effects(table, masks, level=LEVEL):
    """Per maskable site of masks x seeds (table rows follow masks, '0'/'1' strings of one length): the mean of the
    masks that keep the site minus the mean of those that remove it, per seed; then its t interval over seeds,
    the paired t-test p and the exact sign-flip p, with Holm over the sites that have an effect (the family).
    A site every mask keeps (or none does) gives None."""
    y = np.asarray(table, dtype=float)
    bits = np.array([[c == "1" for c in m] for m in masks], dtype=bool)
    effects = []
    for site in range(bits.shape[1]):
        keep = bits[:, site]
        if keep.all() or not keep.any():
            effects.append(None)
            continue
        per_seed = y[keep].mean(axis=0) - y[~keep].mean(axis=0)
        ci = t_interval(per_seed, level)
        p_flip, floor = sign_flip_p(per_seed)
        effects.append({"site": site, "effect": ci["mean"], "low": ci["low"], "high": ci["high"], "sd": ci["sd"],
                        "n": ci["n"], "p_t": t_test_p(per_seed), "p_sign_flip": p_flip, "p_floor": floor,
                        "kept_by": int(keep.sum()), "removed_by": int((~keep).sum())})
    present = [e for e in effects if e]
    for e, adjusted in zip(present, holm([e["p_t"] for e in present])):
        e["p_holm"] = adjusted
    return effects


def trend_test(table, x, permutations=PERMUTATIONS, seed=0):
    """Does a per-seed quantity grow with x (depth)? table: seeds (rows) x levels of x (columns), one value per cell
    (e.g. each seed's paired difference at each depth). Spearman's rank correlation between x and the values over
    all cells, with permutation p-values that shuffle the values among the levels within each seed (seeds as
    blocks, so a seed's overall level cannot fake a trend): one-sided for rho > 0 and two-sided, each as
    (hits + 1) / (permutations + 1) with that floor. Also each seed's least-squares slope of the values against
    log2(x), with the t interval of their mean and the exact sign-flip p over seeds.
    Returns {rho, p_greater, p_two_sided, p_floor, slope (t_interval dict), slope_p_sign_flip, slope_p_floor, n}."""
    y = np.asarray(table, dtype=float)
    seeds, levels = y.shape
    xs = np.tile(np.asarray(x, dtype=float), seeds)
    rho = float(scipy.stats.spearmanr(xs, y.ravel()).correlation)
    # Spearman's rho is Pearson's r of the ranks; a within-seed shuffle moves each cell's rank within its row, so
    # the ranks are computed once and every permutation is a reordering of each row of them.
    rx = scipy.stats.rankdata(xs)
    ry = scipy.stats.rankdata(y.ravel()).reshape(seeds, levels)
    rng = np.random.default_rng(seed)
    order = np.argsort(rng.random((permutations, seeds, levels)), axis=2)
    shuffled = np.take_along_axis(np.broadcast_to(ry, order.shape), order, axis=2).reshape(permutations, -1)
    cx = rx - rx.mean()
    cy = shuffled - shuffled.mean(axis=1, keepdims=True)
    r = (cy @ cx) / (np.sqrt((cy ** 2).sum(axis=1)) * np.sqrt((cx ** 2).sum()))
    greater = int(np.sum(r >= rho - TOLERANCE))
    both = int(np.sum(np.abs(r) >= abs(rho) - TOLERANCE))
    log_x = np.log2(np.asarray(x, dtype=float))
    slopes = [float(np.polyfit(log_x, row, 1)[0]) for row in y]
    p, floor = sign_flip_p(slopes)
    return {"rho": rho, "p_greater": (greater + 1) / (permutations + 1), "p_two_sided": (both + 1) / (permutations + 1),
            "p_floor": 1 / (permutations + 1), "slope": t_interval(slopes), "slope_p_sign_flip": p,
            "slope_p_floor": floor, "n": int(y.size), "seeds": seeds}
