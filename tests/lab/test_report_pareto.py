"""scripts/propnet_lab/report_pareto.py: every committed mask-comparison report is rebuilt byte for byte from its
record/, and the rebuilt reports carry the numbers the review checked (t intervals, Holm, rank intervals, the
blocked ANOVA, masks as units, the shuffle control's degeneracy).

Run: /usr/bin/python3 -m pytest -q -p no:cacheprovider tests/scripts/test_report_pareto.py
"""
import glob
import os
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
from propnet_lab import report_pareto  # noqa: E402

RECORDS = sorted(os.path.dirname(p) for p in glob.glob(os.path.join(REPO, "results", "**", "record", "arms.tsv"),
                                                         recursive=True))


def name(record):
    return os.path.relpath(os.path.dirname(record), os.path.join(REPO, "results"))


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory):
    """record -> folder with the report rebuilt from it."""
    out = {}
    for record in RECORDS:
        folder = tmp_path_factory.mktemp(name(record).replace(os.sep, "-"))
        written = report_pareto.report(record, str(folder))
        assert sorted(os.path.basename(p) for p in written) == ["pareto.csv", "pareto.md", "pareto.png",
                                                               "pareto.svg"]
        out[record] = folder
    return out


def test_records_are_found():
    assert len(RECORDS) >= 5


@pytest.mark.parametrize("record", RECORDS, ids=name)
@pytest.mark.parametrize("file", ["pareto.md", "pareto.csv"])
def test_committed_report_is_rebuilt_byte_identically(rebuilt, record, file):
    with open(os.path.join(os.path.dirname(record), file), "rb") as f:
        committed = f.read()
    with open(os.path.join(rebuilt[record], file), "rb") as f:
        fresh = f.read()
    assert fresh == committed, f"{name(record)}/{file} differs from a rebuild of its record"


def report_text(rebuilt, suffix):
    record = next(r for r in RECORDS if name(r).endswith(suffix))
    with open(os.path.join(rebuilt[record], "pareto.md"), encoding="utf-8") as f:
        return f.read()


def test_paired_vs_2to1_uses_the_t_interval(rebuilt):
    text = report_text(rebuilt, os.path.join("paired-vs-2to1", "plain-20"))
    assert "| paper − paired | 5 | -1.48 | 1.38 | [-3.19, +0.23] | 0.0625 (0.0625) |" in text
    assert "no sign-flip p can reach 0.05" in text


def test_plain_8_holm_rank_intervals_anova_and_shuffle(rebuilt):
    text = report_text(rebuilt, "plain-8-k3")
    assert "| complement − paper | 3 | +0.76 | 0.82 | [-1.29, +2.81] |" in text
    assert "Holm-adjusted p < 0.05: stage3.0.after_conv." in text
    assert "F(19, 38) = 6.57" in text and "permutation p < 1/10,001" in text
    assert "paper (2:1) `010101`: 83.98 %, rank 7 [3–14] of 20" in text
    assert "| gates | 3 | 20 | +0.46 ± 0.29 |" in text
    assert "Degenerate here" in text and "1 of 6 shuffled masks equal their source" in text
    assert "n = 3 seeds cannot give p < 0.25" in text


def test_preresnet_20_k9_masks_as_units_and_anova(rebuilt):
    text = report_text(rebuilt, "preresnet-20-k9")
    assert "| gates | 3 | 8 | +0.58 ± 0.39 |" in text
    assert "| complement − paired | 3 | -2.00 | 2.04 | [-7.06, +3.06] |" in text
    assert "F(21, 42) = 1.51, p = 0.13" in text
    assert "Degenerate here" not in text


def test_a_mixed_model_that_did_not_converge_prints_no_number():
    assert report_pareto.mixed_cell({"converged": False, "note": "Gradient optimization failed"}) == \
        "did not converge"


def test_test_set_size_comes_from_the_config_else_dataset_json(tmp_path):
    assert report_pareto.test_images(str(tmp_path), {"data": {"test_subset": 5000}}) == 5000
    assert report_pareto.test_images(str(tmp_path), {"data": {"test_subset": 0}}) is None
    (tmp_path / "dataset.json").write_text('{"name": "x", "test_images": 1234}')
    assert report_pareto.test_images(str(tmp_path), {"data": {"test_subset": 0}}) == 1234
    assert report_pareto.test_images(str(tmp_path), {"data": {"test_subset": 100}}) == 100
