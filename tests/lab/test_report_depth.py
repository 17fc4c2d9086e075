"""scripts/propnet_lab/report_depth.py on a made-up sweep with known answers, and the committed depth record rebuilt
byte for byte (once it exists)."""
import glob
import json
import os

import pytest

from conftest import REPO, assert_rebuilt, write_run
from propnet_lab import report_depth


def fake_run(root, name, net, depth, seeds):
    """A finished run folder: seeds maps seed -> (test acc, train loss, train acc)."""
    write_run(root / name, {
        "network": {"arch": net, "depth": depth},
        "data": {"dataset": "fashion-mnist", "subset": 10000, "test_subset": 0, "augment": True},
        "train": {"epochs": 3, "batch_size": 64, "lr": 0.1, "lr_factor": 0.1, "milestone_fractions": [0.5, 0.75, 0.875],
                  "weight_decay": 0.0001, "amp": "off", "threads": 1},
        "environment": {"libtorch": "1.13.0", "cpu": "test CPU"}},
        {s: {"test_acc": acc, "train_loss": loss, "train_acc": train_acc} for s, (acc, loss, train_acc) in seeds.items()},
        epochs=3)


@pytest.fixture
def sweep(tmp_path):
    """Plain: the 2:1 gain is depth / 10 at every seed (seed offsets cancel); the paired arm's training loss is
    depth / 100, the 2:1 arm's half of it. Preresnet: 2:1 − paired alternates +0.2 / -0.2 over the seeds."""
    record = tmp_path / "record"
    offsets = {0: 0.0, 1: 0.5, 2: -0.5, 3: 0.25}
    for depth in (8, 20, 32):
        fake_run(record, f"plain-{depth}-paired", "plain", depth,
                 {s: (80 + o, depth / 100, 90 - depth / 10) for s, o in offsets.items()})
        fake_run(record, f"plain-{depth}-proportional", "plain", depth,
                 {s: (80 + o + depth / 10, depth / 200, 90) for s, o in offsets.items()})
    for depth in (8, 20, 56):
        fake_run(record, f"preresnet-{depth}-paired", "preresnet", depth, {s: (85 + o, 0.3, 90) for s, o in offsets.items()})
        fake_run(record, f"preresnet-{depth}-proportional", "preresnet", depth,
                 {s: (85 + o + (0.2 if s % 2 else -0.2), 0.3, 90) for s, o in offsets.items()})
    (record / "dataset.json").write_text(json.dumps({"name": "fashion-mnist", "test_images": 10000}))
    return record


def rows_of(md, heading):
    section = md.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return [[c.strip() for c in l.strip("|").split("|")] for l in section.splitlines() if l.startswith("| ") and
            l[2].isdigit()]


def test_the_tables_trend_and_equivalence_tests_give_the_known_answers(sweep, tmp_path):
    report_depth.report(str(sweep), str(tmp_path / "out"))
    md = (tmp_path / "out" / "depth.md").read_text()
    plain = rows_of(md, "plain")
    assert [r[0] for r in plain] == ["8", "20", "32"]
    # Seed offsets cancel: each depth's difference is exactly depth / 10, a point interval.
    assert [r[4] for r in plain] == ["+0.80 [+0.80, +0.80]", "+2.00 [+2.00, +2.00]", "+3.20 [+3.20, +3.20]"]
    assert plain[0][1] == "80.06 ± 0.43" and plain[0][3] == "4"
    assert plain[2][8] == "0.320 / 0.160"
    # Every seed's difference rises with depth: rho = 1; only 1 of the 3!^4 within-seed orders is as extreme, so
    # p is about 1/1296 = 7.7e-4 (Monte Carlo over 10,000 shuffles: (hits + 1) / 10,001).
    h1 = md.split("H1: ", 1)[1].split("\n", 1)[0]
    assert h1.startswith("Spearman rho = +1.000 over 12 values (4 seeds with every depth)"), h1
    assert "within-seed permutation p (rho > 0) = 1.0e-03" in h1 or "= 9.0e-04" in h1 or "= 8.0e-04" in h1, h1
    # Every seed has the same differences, so the slope against log2(depth) is a point interval.
    assert "points per doubling [95 % t CI +1.16, +1.16]" in h1, h1
    # H2: the paired arm's loss rises, its accuracy falls, the gap rises: all four are tested and Holm-adjusted.
    assert md.count("Holm p = ") >= 4
    pre = md.split("## preresnet\n", 1)[1]
    assert "depth 8: +0.00 [90 %" in pre and "equivalent" in pre and "equivalence not shown" not in pre
    csv_lines = (tmp_path / "out" / "depth.csv").read_text().splitlines()
    assert csv_lines[0] == "net,depth,arm,seed,final_test_acc,final_train_loss,final_train_acc"
    assert len(csv_lines) == 1 + 12 * 4


def test_the_rank_correlation_is_exact_on_a_known_table(sweep, tmp_path):
    sweep_data = report_depth.read_sweep(str(sweep))
    analysis = report_depth.analyse(sweep_data, 10000)
    h1 = analysis["plain"]["h1"]
    # Per seed the differences are 0.8, 2.0, 3.2 at depths 8, 20, 32 for all four seeds: ties in both variables.
    assert h1["rho"] == pytest.approx(1.0)
    assert h1["p_greater"] == pytest.approx((1 / 6) ** 4, abs=0.002)  # every seed in the one rising order
    assert h1["slope"]["mean"] == pytest.approx(2.4 / 2, rel=0.1)


def test_the_report_rebuilds_and_refuses_a_folder_without_dataset_json(sweep, tmp_path):
    first = report_depth.report(str(sweep), str(tmp_path / "a"))
    report_depth.report(str(sweep), str(tmp_path / "b"))
    for path in first[:2]:
        name = os.path.basename(path)
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    os.remove(sweep / "dataset.json")
    with pytest.raises(FileNotFoundError):
        report_depth.report(str(sweep), str(tmp_path / "c"))


RECORDS = sorted(glob.glob(os.path.join(REPO, "results", "**", "depth", "record", "dataset.json"), recursive=True))


@pytest.mark.parametrize("record", [os.path.dirname(r) for r in RECORDS] or [pytest.param(None, marks=pytest.mark.skip(
    reason="no depth record committed yet"))])
def test_the_committed_depth_report_is_rebuilt_byte_identically(record, tmp_path):
    assert_rebuilt(report_depth.report, record, ("depth.md", "depth.csv"), tmp_path)
