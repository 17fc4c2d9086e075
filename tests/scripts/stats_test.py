#!/usr/bin/env python3
"""scripts/propnet_stats.py on cases with known answers (closed forms, exact enumerations, textbook quantiles)."""
import math
import os
import sys
import unittest

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts"))
import propnet_stats as st  # noqa: E402


class Distributions(unittest.TestCase):
    def test_f_survival_matches_the_closed_form_for_two_numerator_degrees(self):
        # With df1 = 2, P(F > f) = (1 + 2 f / df2)^(-df2 / 2).
        for f, df2 in [(5.143, 6), (33.3, 2), (0.7, 10), (19.0, 2)]:
            self.assertAlmostEqual(st.f_survival(f, 2, df2), (1 + 2 * f / df2) ** (-df2 / 2), places=10)
        self.assertAlmostEqual(st.f_survival(5.143, 2, 6), 0.05, places=3)  # the table's critical value

    def test_f_survival_against_tables(self):
        self.assertAlmostEqual(st.f_survival(4.1027, 5, 20), 0.01, places=4)  # F(5, 20) upper 1 %
        self.assertAlmostEqual(st.f_survival(2.7109, 5, 20), 0.05, places=3)
        self.assertEqual(st.f_survival(math.inf, 3, 3), 0.0)
        self.assertEqual(st.f_survival(0.0, 3, 3), 1.0)

    def test_t_quantiles_against_tables(self):
        self.assertAlmostEqual(st.t_quantile(0.975, 2), 4.3027, places=3)
        self.assertAlmostEqual(st.t_quantile(0.975, 4), 2.7764, places=3)
        self.assertAlmostEqual(st.t_quantile(0.975, 1000), 1.9623, places=3)
        self.assertAlmostEqual(st.t_quantile(0.5, 3), 0.0, places=6)

    def test_t_interval(self):
        low, high = st.t_mean_ci([1.0, 2.0, 3.0])  # mean 2, sd 1, n 3: 2 +- 4.3027 / sqrt(3)
        self.assertAlmostEqual(low, 2 - 4.3027 / math.sqrt(3), places=3)
        self.assertAlmostEqual(high, 2 + 4.3027 / math.sqrt(3), places=3)
        self.assertTrue(all(math.isnan(v) for v in st.t_mean_ci([1.0])))


class Resampling(unittest.TestCase):
    def test_bootstrap_of_constants_is_a_point(self):
        self.assertEqual(st.bootstrap_mean_ci([3.5, 3.5, 3.5]), (3.5, 3.5))

    def test_bootstrap_is_seeded_and_covers_like_the_normal_interval(self):
        x = np.random.default_rng(7).normal(10.0, 2.0, size=400)
        a, b = st.bootstrap_mean_ci(x, seed=3), st.bootstrap_mean_ci(x, seed=3)
        self.assertEqual(a, b)
        half = 1.96 * x.std(ddof=1) / math.sqrt(x.size)
        self.assertAlmostEqual(a[0], x.mean() - half, delta=0.05)
        self.assertAlmostEqual(a[1], x.mean() + half, delta=0.05)
        self.assertNotEqual(st.bootstrap_mean_ci(x, seed=4), a)

    def test_bootstrap_stays_within_the_range(self):
        low, high = st.bootstrap_mean_ci([0.0, 10.0])
        self.assertGreaterEqual(low, 0.0)
        self.assertLessEqual(high, 10.0)
        self.assertLess(low, high)

    def test_sign_flip_is_exact_for_small_n(self):
        self.assertEqual(st.sign_flip_p([1.0, 1.0, 1.0]), 0.25)      # 2 of the 8 sign patterns are as extreme
        self.assertEqual(st.sign_flip_p([1, 2, 3, 4, 5]), 2 / 32)
        self.assertEqual(st.sign_flip_p([1.0, -1.0]), 1.0)
        self.assertEqual(st.sign_flip_p([3.0, 1.0, -1.0]), 6 / 8)    # |sum| >= 3 unless 3 and 1 take opposite signs

    def test_two_sample_permutation(self):
        # 3 vs 3 separated groups: 2 of the C(6, 3) = 20 labellings are as extreme, p = 0.1 (Monte Carlo here).
        p = st.two_sample_permutation_p([10.0, 11.0, 12.0], [0.0, 1.0, 2.0])
        self.assertAlmostEqual(p, 0.1, delta=0.015)
        self.assertGreater(st.two_sample_permutation_p([1.0, 2.0, 3.0], [1.5, 2.5, 2.0]), 0.5)

    def test_paired_uses_the_common_seeds(self):
        seeds, d = st.paired({0: 5.0, 1: 6.0, 2: 7.0}, {1: 1.0, 2: 2.0, 3: 9.0})
        self.assertEqual(seeds, [1, 2])
        self.assertEqual(list(d), [5.0, 5.0])

    def test_percentile_counts_ties_half(self):
        self.assertEqual(st.percentile_among(5, range(1, 10)), 100 * 4.5 / 9)
        self.assertEqual(st.percentile_among(100, [1, 2]), 100.0)
        self.assertEqual(st.percentile_among(0, [1, 2]), 0.0)


class MasksBySeeds(unittest.TestCase):
    # y = 10 + a_i + b_j + e_ij with a = (-1, 0, 1), b = (-0.5, 0.5), rows and columns of e summing to 0:
    # SS_arm = 2 * 2 = 4, SS_seed = 3 * 0.5 = 1.5, SS_residual = sum e^2 = 0.12.
    E = np.array([[0.1, -0.1], [-0.2, 0.2], [0.1, -0.1]])
    TABLE = 10 + np.array([-1.0, 0.0, 1.0])[:, None] + np.array([-0.5, 0.5])[None, :] + E

    def test_two_way_anova_decomposition(self):
        r = st.two_way_anova(self.TABLE, resamples=200)
        self.assertAlmostEqual(r["ss_arm"], 4.0)
        self.assertAlmostEqual(r["ss_seed"], 1.5)
        self.assertAlmostEqual(r["ss_residual"], 0.12)
        self.assertEqual((r["df_arm"], r["df_residual"]), (2, 2))
        f = (4.0 / 2) / (0.12 / 2)
        self.assertAlmostEqual(r["f"], f)
        self.assertAlmostEqual(r["p"], 1 / (1 + f))                   # df1 = 2, df2 = 2 closed form
        within = (1.5 + 0.12) / 3                                     # one-way MS within: (SS_seed + SS_res) / 3
        self.assertAlmostEqual(r["icc1"], (2.0 - within) / (2.0 + within))
        self.assertAlmostEqual(r["partial_eta2"], 4.0 / 4.12)

    def test_permutation_p_finds_a_strong_arm_effect_and_no_effect(self):
        rng = np.random.default_rng(0)
        arms = np.linspace(-2, 2, 8)[:, None]
        strong = st.two_way_anova(arms + rng.normal(0, 0.1, (8, 3)), resamples=500)
        self.assertLess(strong["p_permutation"], 0.01)
        self.assertLess(strong["p"], 1e-6)
        null = st.two_way_anova(rng.normal(0, 1, (8, 3)) + rng.normal(0, 5, (1, 3)), resamples=500)
        self.assertGreater(null["p_permutation"], 0.05)
        self.assertLess(null["icc1"], 0.2)  # the big seed effect is noise to the one-way ICC, not an arm effect

    def test_site_main_effects(self):
        masks = ["110", "101", "011", "100"]
        table = np.array([[2.0 * (m[0] == "1") + s for s in range(3)] for m in masks])  # only site 0 matters
        effects = st.site_main_effects(table, masks, resamples=200)
        self.assertAlmostEqual(effects[0]["effect"], 2.0)
        self.assertEqual(effects[0]["ci"], (2.0, 2.0))
        self.assertEqual((effects[0]["kept_by"], effects[0]["removed_by"]), (3, 1))
        self.assertAlmostEqual(effects[1]["effect"], 2.0 * 1 / 2 - 2.0 * 2 / 2)  # kept by 110, 011; dropped 101, 100
        self.assertAlmostEqual(effects[2]["effect"], 2.0 * 1 / 2 - 2.0 * 2 / 2)
        self.assertIsNone(st.site_main_effects(table[:1], masks[:1])[0])


if __name__ == "__main__":
    unittest.main()
