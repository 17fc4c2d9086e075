"""Statistics for comparing training arms (masks, variants) over the same training seeds.

Seed s gives every arm the same initial weights and data order (a mask changes no parameter), so arms are compared
by paired differences over seeds. Everything here is plain numpy; every resampling takes a seed, so a report is
reproducible. Used by scripts/report; tested by tests/scripts/stats_test.py on cases with known answers.

With 3 seeds a percentile bootstrap CI is narrow by construction (it cannot be wider than the spread of 3 values,
and resamples only 10 distinct means); the t interval beside it is the more honest one at such n, and the exact
sign-flip p-value cannot go below 2 / 2^n (0.25 at n = 3, 0.0625 at n = 5).
"""
import itertools
import math

import numpy as np

LEVEL = 0.95
RESAMPLES = 10000


def mean_std(values):
    """(mean, sample std); std is nan for fewer than 2 values, mean nan for none."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1)) if x.size > 1 else math.nan


def bootstrap_mean_ci(values, level=LEVEL, resamples=RESAMPLES, seed=0):
    """Percentile bootstrap CI of the mean: resample the values with replacement `resamples` times."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    alpha = (1 - level) / 2
    low, high = np.quantile(means, [alpha, 1 - alpha])
    return float(low), float(high)


def paired(a, b):
    """The seeds both arms finished and the differences a - b on them: a and b map seed -> value."""
    seeds = sorted(set(a) & set(b))
    return seeds, np.array([a[s] - b[s] for s in seeds], dtype=float)


def sign_flip_p(differences, resamples=RESAMPLES, seed=0):
    """Two-sided permutation p-value of a paired mean difference: under 'no difference' each difference's sign is
    a coin flip. Exact (all 2^n sign patterns) up to n = 16, Monte Carlo beyond."""
    d = np.asarray(differences, dtype=float)
    if d.size == 0:
        return math.nan
    observed = abs(d.mean())
    if d.size <= 16:
        signs = np.array(list(itertools.product([1.0, -1.0], repeat=d.size)))
    else:
        signs = np.random.default_rng(seed).choice([1.0, -1.0], size=(resamples, d.size))
    flipped = np.abs((signs * d).mean(axis=1))
    return float(np.mean(flipped >= observed - 1e-12))


def two_sample_permutation_p(a, b, resamples=RESAMPLES, seed=0):
    """Two-sided permutation p-value of mean(a) - mean(b) for independent groups (labels shuffled)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.size == 0 or b.size == 0:
        return math.nan
    pooled = np.concatenate([a, b])
    observed = abs(a.mean() - b.mean())
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(resamples):
        p = rng.permutation(pooled)
        hits += abs(p[:a.size].mean() - p[a.size:].mean()) >= observed - 1e-12
    return float((hits + 1) / (resamples + 1))


def percentile_among(value, others):
    """Percent of `others` below `value`, ties counted half: 100 = better than all of them."""
    o = np.asarray(others, dtype=float)
    if o.size == 0:
        return math.nan
    return float(100.0 * (np.sum(o < value) + 0.5 * np.sum(o == value)) / o.size)


# --- distributions without scipy ------------------------------------------------------------------------------

def _beta_continued_fraction(a, b, x):
    """Continued fraction of the regularised incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            h *= d * c
        if abs(d * c - 1.0) < 1e-14:
            break
    return h


def incomplete_beta(a, b, x):
    """The regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def f_survival(f, df1, df2):
    """P(F > f) for the F distribution with (df1, df2) degrees of freedom."""
    if math.isinf(f):
        return 0.0
    if f <= 0:
        return 1.0
    return incomplete_beta(df2 / 2.0, df1 / 2.0, df2 / (df2 + df1 * f))


def t_quantile(p, df):
    """The p-quantile of Student's t with df degrees of freedom (bisection on its CDF)."""
    def cdf(t):
        tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t))
        return 1.0 - tail if t >= 0 else tail
    low, high = -1e3, 1e3
    for _ in range(200):
        mid = (low + high) / 2
        low, high = (mid, high) if cdf(mid) < p else (low, mid)
    return (low + high) / 2


def t_mean_ci(values, level=LEVEL):
    """Student t CI of the mean (assumes roughly normal values)."""
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    half = t_quantile(1 - (1 - level) / 2, x.size - 1) * x.std(ddof=1) / math.sqrt(x.size)
    return float(x.mean() - half), float(x.mean() + half)


# --- masks x seeds ----------------------------------------------------------------------------------------------

def two_way_anova(table, resamples=RESAMPLES, seed=0):
    """Arms (rows) x seeds (columns), one value per cell: does the arm explain more than seed noise?

    Seeds are blocks (seed s = same initialisation and data order for every arm), so the seed effect is taken
    out before the arm effect is tested: F = MS_arm / MS_residual, with a parametric p and a permutation p that
    shuffles the arms within each seed. Also the one-way intraclass correlation ICC(1) (share of the variance
    between arms, seeds not taken out) and the arm-vs-seed standard deviations."""
    y = np.asarray(table, dtype=float)
    arms, seeds = y.shape
    grand = y.mean()

    def sums(values):
        arm_ss = seeds * np.sum((values.mean(axis=1) - grand) ** 2)
        seed_ss = arms * np.sum((values.mean(axis=0) - grand) ** 2)
        return arm_ss, seed_ss, np.sum((values - grand) ** 2) - arm_ss - seed_ss

    arm_ss, seed_ss, resid_ss = sums(y)
    df_arm, df_seed, df_resid = arms - 1, seeds - 1, (arms - 1) * (seeds - 1)
    ms_arm, ms_resid = arm_ss / df_arm, resid_ss / df_resid
    f = ms_arm / ms_resid if ms_resid > 0 else math.inf
    rng = np.random.default_rng(seed)
    hits = 0
    for _ in range(resamples):
        shuffled = np.stack([rng.permutation(y[:, j]) for j in range(seeds)], axis=1)
        a, _, r = sums(shuffled)
        hits += (a / max(r, 1e-300)) >= (arm_ss / max(resid_ss, 1e-300)) - 1e-12
    within_ms = (seed_ss + resid_ss) / (arms * (seeds - 1))  # one-way: everything within an arm is noise
    icc = (ms_arm - within_ms) / (ms_arm + (seeds - 1) * within_ms)
    return {
        "arms": arms, "seeds": seeds,
        "ss_arm": float(arm_ss), "ss_seed": float(seed_ss), "ss_residual": float(resid_ss),
        "df_arm": df_arm, "df_seed": df_seed, "df_residual": df_resid,
        "f": float(f), "p": f_survival(f, df_arm, df_resid), "p_permutation": float((hits + 1) / (resamples + 1)),
        "icc1": float(icc),
        "partial_eta2": float(arm_ss / (arm_ss + resid_ss)) if arm_ss + resid_ss > 0 else math.nan,
        "sd_between_arm_means": float(np.std(y.mean(axis=1), ddof=1)),
        "sd_residual": float(math.sqrt(ms_resid)),
    }


def site_main_effects(table, masks, level=LEVEL, resamples=RESAMPLES, seed=0):
    """Per maskable site: mean value of the arms that keep it minus that of the arms that remove it, per seed,
    then its mean and bootstrap CI over seeds. masks: one '0'/'1' string per row of table."""
    y = np.asarray(table, dtype=float)
    bits = np.array([[c == "1" for c in m] for m in masks])
    effects = []
    for site in range(bits.shape[1]):
        keep, drop = bits[:, site], ~bits[:, site]
        if not keep.any() or not drop.any():
            effects.append(None)
            continue
        per_seed = y[keep].mean(axis=0) - y[drop].mean(axis=0)
        low, high = bootstrap_mean_ci(per_seed, level, resamples, seed)
        effects.append({"site": site, "effect": float(per_seed.mean()), "ci": (low, high),
                        "kept_by": int(keep.sum()), "removed_by": int(drop.sum())})
    return effects
