"""scripts/propnet_lab/stats.py on cases with known answers: closed forms, hand enumerations, textbook tables.

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/scripts/test_stats.py (Debian's python3: numpy,
scipy, statsmodels).
"""
import math
import os
import sys

import itertools

import numpy as np
import pytest
import scipy.stats

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
from propnet_lab import stats as st  # noqa: E402

T_975_DF2 = 4.302653  # textbook t quantiles
T_975_DF4 = 2.776445
T_95_DF3 = 2.353363


# --- t interval ----------------------------------------------------------------------------------------------

def test_t_interval_textbook():
    ci = st.t_interval([1.0, 2.0, 3.0])  # mean 2, sd 1, n 3: 2 +- t(0.975, 2) / sqrt(3)
    assert ci["mean"] == 2.0 and ci["sd"] == 1.0 and ci["n"] == 3
    assert ci["low"] == pytest.approx(2 - T_975_DF2 / math.sqrt(3), abs=1e-5)
    assert ci["high"] == pytest.approx(2 + T_975_DF2 / math.sqrt(3), abs=1e-5)


def test_t_interval_small_and_constant_samples():
    one = st.t_interval([5.0])
    assert one["mean"] == 5.0 and all(math.isnan(one[k]) for k in ("low", "high", "sd", "se"))
    assert math.isnan(st.t_interval([])["mean"])
    point = st.t_interval([3.5, 3.5, 3.5])
    assert (point["low"], point["high"]) == (3.5, 3.5)


# --- sign flips --------------------------------------------------------------------------------------------------

def test_sign_flip_enumerated_by_hand():
    # [4, 1, 1, 1]: |sum| = 7 only when all four signs agree: 2 of 16 patterns.
    assert st.sign_flip_p([4.0, 1.0, 1.0, 1.0]) == (2 / 16, 2 / 16)
    # [3, 1, -1]: the 8 sums are +-3 +-1 +-1 = 5, 3, 3, 1, -1, -3, -3, -5: 6 reach |3|.
    assert st.sign_flip_p([3.0, 1.0, -1.0]) == (6 / 8, 2 / 8)
    assert st.sign_flip_p([1.0, 1.0, 1.0]) == (0.25, 0.25)  # the n = 3 floor
    assert st.sign_flip_p([1.0, -1.0]) == (1.0, 0.5)
    assert st.sign_flip_p([1, 2, 3, 4, 5]) == (2 / 32, 2 / 32)


def test_sign_flip_monte_carlo_beyond_exact_is_seeded_and_floored():
    d = np.arange(1.0, 26.0)  # n = 25 > exact limit, all positive: no random pattern reaches the observed sum
    p, floor = st.sign_flip_p(d, resamples=2000, seed=3)
    assert p == floor == 1 / 2001
    mixed = np.array([1.0, -1.0] * 12 + [0.5])
    assert st.sign_flip_p(mixed, resamples=2000, seed=3) == st.sign_flip_p(mixed, resamples=2000, seed=3)
    assert all(math.isnan(x) for x in st.sign_flip_p([]))


def test_paired_difference_over_common_seeds_with_closed_form_t_p():
    c = st.paired_difference({0: 5.0, 1: 7.0, 2: 9.0, 7: 0.0}, {0: 4.0, 1: 5.0, 2: 6.0, 3: 1.0})
    assert c["seeds"] == [0, 1, 2] and list(c["d"]) == [1.0, 2.0, 3.0]
    assert c["mean"] == 2.0 and c["p_floor"] == 0.25 and c["p_sign_flip"] == 0.25
    t = 2.0 / (1.0 / math.sqrt(3))
    assert c["p_t"] == pytest.approx(1 - t / math.sqrt(2 + t * t), abs=1e-10)  # t with 2 df: closed form
    assert st.paired_difference({0: 1.0}, {1: 1.0}) is None


# --- multiplicity ---------------------------------------------------------------------------------------------

def test_holm_textbook():
    assert st.holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    adjusted = st.holm([0.2, math.nan, 0.01])
    assert adjusted[0] == pytest.approx(0.2) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.02)
    assert st.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])  # capped at 1


# --- masks as units -------------------------------------------------------------------------------------------

def test_welch_closed_form():
    w = st.welch([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    # Equal variances and sizes: SE = sqrt(1/3 + 1/3), Welch-Satterthwaite df = 4.
    assert w["diff"] == -3.0
    assert w["se"] == pytest.approx(math.sqrt(2 / 3))
    assert w["df"] == pytest.approx(4.0)
    assert w["low"] == pytest.approx(-3 - T_975_DF4 * math.sqrt(2 / 3), abs=1e-5)
    assert w["high"] == pytest.approx(-3 + T_975_DF4 * math.sqrt(2 / 3), abs=1e-5)
    # Unequal variances: SE^2 = 1/3 + 20/3 / 4 = 2; df = 2^2 / ((1/3)^2 / 2 + (5/3)^2 / 3) = 216 / 53.
    unequal = st.welch([1.0, 2.0, 3.0], [2.0, 4.0, 6.0, 8.0])
    assert unequal["se"] == pytest.approx(math.sqrt(2.0)) and unequal["df"] == pytest.approx(216 / 53)
    half = scipy.stats.t.ppf(0.975, 216 / 53) * math.sqrt(2.0)
    assert (unequal["low"], unequal["high"]) == pytest.approx((-3 - half, -3 + half))
    one = st.welch([1.0], [1.0, 2.0])
    assert one["diff"] == -0.5 and math.isnan(one["low"]) and math.isnan(one["p"])


def balanced_rows(arm_effect, mask_effects, seed_effects, noise_scale, seed=0):
    """Masks nested in two arms (first half 'method', second 'ref') x seeds, with residuals double-centred so that
    every mask's and every seed's residuals sum to 0: the difference of arm means is exactly arm_effect."""
    masks, seeds = len(mask_effects), len(seed_effects)
    e = np.random.default_rng(seed).normal(0.0, noise_scale, size=(masks, seeds))
    e = e - e.mean(axis=1, keepdims=True) - e.mean(axis=0, keepdims=True) + e.mean()
    rows = []
    for i in range(masks):
        method = i < masks // 2
        for s in range(seeds):
            rows.append({"acc": 80.0 + (arm_effect if method else 0.0) + mask_effects[i] + seed_effects[s] + e[i, s],
                         "arm": "method" if method else "ref", "mask": f"m{i}", "seed": s})
    return rows


def test_mixed_model_recovers_a_known_arm_effect_on_a_balanced_table():
    rows = balanced_rows(1.0, [-0.4, 0.1, 0.3, 0.35, -0.25, -0.1], [0.5, -0.2, -0.1, -0.2], 0.2)
    m = st.mixed_model(rows, "ref")
    assert m["converged"] and m["arm"] == "method"
    assert m["estimate"] == pytest.approx(1.0, abs=1e-6)  # balanced: GLS = difference of the arm means
    assert m["low"] < 1.0 < m["high"] and m["se"] > 0
    assert m["high"] - m["low"] == pytest.approx(2 * 1.959964 * m["se"], rel=1e-5)
    assert m["var_mask"] > 0 and m["var_seed"] > 0


def test_mixed_model_says_when_it_does_not_converge():
    # No mask variance at all: the mask component sits at 0 and the fit fails or its Hessian is singular.
    m = st.mixed_model(balanced_rows(1.0, [0.0] * 6, [0.5, -0.2, -0.1, -0.2], 0.2), "ref")
    assert not m["converged"] and m["note"]
    assert all(math.isnan(m[k]) for k in ("estimate", "se", "low", "high", "p"))


def test_mixed_model_refuses_bad_input():
    assert not st.mixed_model([{"acc": 1.0, "arm": "a", "mask": "x", "seed": 0}], "ref")["converged"]


# --- blocked ANOVA -------------------------------------------------------------------------------------------

def test_blocked_anova_by_hand():
    # Grand mean 4; row means 1.5, 4, 6.5 -> SS_arm = 2 * 12.5 = 25; column means 3, 5 -> SS_seed = 3 * 2 = 6;
    # SS_total = 32 -> SS_residual = 1; F = (25 / 2) / (1 / 2) = 25; F(2, 2) survival = 1 / (1 + F).
    a = st.blocked_anova([[1, 2], [3, 5], [5, 8]], permutations=500)
    assert (a["ss_arm"], a["ss_block"], a["ss_residual"]) == pytest.approx((25.0, 6.0, 1.0))
    assert (a["df_arm"], a["df_block"], a["df_residual"]) == (2, 1, 2)
    assert a["f"] == pytest.approx(25.0)
    assert a["p"] == pytest.approx(1 / 26)
    assert a["partial_eta2"] == pytest.approx(25 / 26)
    assert a["icc1"] == pytest.approx((12.5 - 7 / 3) / (12.5 + 7 / 3))
    assert a["sd_residual"] == pytest.approx(math.sqrt(0.5))
    assert a["p_permutation_floor"] == 1 / 501 and a["p_permutation_floor"] <= a["p_permutation"] <= 1


def test_blocked_anova_permutation_p_matches_the_enumeration():
    # 3 masks x 3 seeds: all 6^3 within-seed arrangements enumerated by hand (the statistic SS_arm / SS_residual
    # orders them as F does).
    y = np.array([[1.0, 2.0, 1.5], [3.0, 2.5, 4.0], [2.0, 3.5, 2.2]])

    def ratio(t):
        grand = t.mean()
        arm = 3 * np.sum((t.mean(axis=1) - grand) ** 2)
        block = 3 * np.sum((t.mean(axis=0) - grand) ** 2)
        return arm / (np.sum((t - grand) ** 2) - arm - block)

    observed = ratio(y)
    orders = list(itertools.permutations(range(3)))
    hits = [ratio(np.stack([y[list(o), j] for j, o in enumerate(c)], axis=1)) >= observed - 1e-12
            for c in itertools.product(orders, repeat=3)]
    exact = float(np.mean(hits))
    a = st.blocked_anova(y, permutations=20000, seed=0)
    assert a["p_permutation"] == pytest.approx(exact, abs=0.01)


def test_blocked_anova_permutation_floor_and_determinism():
    y = np.arange(12.0)[:, None] * 10 + np.array([[0.0, 0.1, -0.1, 0.05]])  # masks far apart, tiny noise
    a = st.blocked_anova(y, permutations=1000, seed=5)
    assert a["permutation_hits"] == 0 and a["p_permutation"] == 1 / 1001
    noisy = np.random.default_rng(2).normal(size=(6, 3))
    assert st.blocked_anova(noisy, seed=1) == st.blocked_anova(noisy, seed=1)


# --- ranks, test-set noise, equivalence ----------------------------------------------------------------------

def test_rank_intervals_degenerate_when_means_are_well_separated():
    r = st.rank_intervals([10.0, 0.0, 5.0], [0.1, 0.1, 0.1], draws=2000, seed=1)
    assert [(x["rank"], x["low"], x["high"], x["p_first"]) for x in r] == [(1, 1, 1, 1.0), (3, 3, 3, 0.0),
                                                                          (2, 2, 2, 0.0)]
    tied = st.rank_intervals([1.0, 1.0, 1.0, 1.0], [1.0] * 4, draws=4000, seed=1, df=10)
    assert [x["rank"] for x in tied] == [1, 1, 1, 1]
    assert all(x["low"] == 1 and x["high"] == 4 for x in tied)
    assert sum(x["p_first"] for x in tied) == pytest.approx(1.0)
    assert st.rank_intervals([1, 2], [0.5, 0.5], seed=4) == st.rank_intervals([1, 2], [0.5, 0.5], seed=4)


def test_binomial_se():
    assert st.binomial_se(80.0, 10000) == pytest.approx(0.4)  # 100 sqrt(0.8 * 0.2 / 10,000)
    assert st.binomial_se(50.0, 2500) == pytest.approx(1.0)
    assert st.binomial_se(84.0, 5000) == pytest.approx(100 * math.sqrt(0.84 * 0.16 / 5000))
    assert math.isnan(st.binomial_se(80.0, None)) and math.isnan(st.binomial_se(80.0, 0))


def test_tost_on_a_constructed_case():
    d = [0.1, -0.1, 0.1, -0.1]  # mean 0, sd 2 / sqrt(12), 90 % interval 0 +- t(0.95, 3) sd / 2
    half = T_95_DF3 * (0.2 / math.sqrt(3)) / 2
    inside = st.tost_paired(d, margin=0.5)
    assert inside["low"] == pytest.approx(-half, abs=1e-5) and inside["high"] == pytest.approx(half, abs=1e-5)
    assert inside["equivalent"] and inside["p"] < 0.05 and inside["level"] == pytest.approx(0.9)
    outside = st.tost_paired(d, margin=0.1)
    assert not outside["equivalent"] and outside["p"] >= 0.05
    shifted = st.tost_paired([0.9, 1.1, 1.0], margin=0.5)
    assert not shifted["equivalent"]


def test_site_main_effects_closed_form_and_holm():
    # Every 2-of-4 mask; keeping site 0 adds exactly 1 point. Site 0: effect 1. Any other site j: of the 3 masks
    # keeping j one keeps site 0, of the 3 removing it two do: effect 1/3 - 2/3 = -1/3.
    masks = ["1100", "1010", "1001", "0110", "0101", "0011"]
    seeds = np.array([0.0, 0.3, -0.2, 0.1])
    table = np.array([[80.0 + (m[0] == "1")] * 4 for m in masks]) + seeds
    effects = st.site_main_effects(table, masks)
    assert [e["effect"] for e in effects] == pytest.approx([1.0, -1 / 3, -1 / 3, -1 / 3])
    assert all(e["n"] == 4 and e["kept_by"] == 3 for e in effects)
    assert st.site_main_effects(table, ["1100"] * 6)[0] is None  # every mask keeps site 0: no effect


def test_site_main_effects_holm_over_sites():
    rng = np.random.default_rng(0)
    masks = ["1100", "1010", "1001", "0110", "0101", "0011"]
    table = np.array([[80.0 + 1.0 * (m[0] == "1")] * 5 for m in masks]) + rng.normal(0, 0.05, size=(6, 5))
    effects = st.site_main_effects(table, masks)
    raw = [e["p_t"] for e in effects]
    assert [e["p_holm"] for e in effects] == pytest.approx(st.holm(raw))
    assert effects[0]["p_holm"] < 0.05 and effects[0]["low"] > 0


def test_trend_test_counts_within_seed_orders():
    # Two seeds, three depths, both rising: of the 3! x 3! within-seed orders only the observed one reaches
    # rho = 1, so the one-sided p is 1/36 (Monte Carlo over 10,000 seeded shuffles).
    t = st.trend_test([[1.0, 2.0, 3.0], [0.0, 1.5, 2.5]], [8, 20, 32])
    assert t["rho"] == pytest.approx(0.956, abs=0.001)  # over the 6 cells (scipy.stats.spearmanr)
    assert t["p_greater"] == pytest.approx(1 / 36, abs=0.005)
    assert t["slope"]["n"] == 2 and t["slope"]["mean"] > 0
    # A seed's overall level is not a trend: constant rows at different levels give no correlation with depth.
    flat = st.trend_test([[1.0, 1.0, 1.0], [5.0, 5.0, 5.0]], [8, 20, 32])
    assert flat["rho"] == pytest.approx(0.0) and flat["p_greater"] == 1.0
    assert flat["slope"]["mean"] == pytest.approx(0.0, abs=1e-12)
