"""scripts/propnet_lab/report_bf16.py on a made-up record with known answers: TOST verdicts, failed seeds, a folder
whose precision is not its arm's, and the committed record rebuilt byte for byte (once it exists)."""
import glob
import json
import os
import subprocess

import pytest

from conftest import REPO, assert_rebuilt, write_run
from propnet_lab import report_bf16


def fake_run(root, name, amp, seeds, features=("avx2", "fma", "amx_bf16")):
    """A finished run folder: seeds maps seed -> (test acc, train loss, images/s)."""
    write_run(root / name, {
        "network": {"arch": name.split("-")[0], "depth": 20},
        "data": {"dataset": "fashion-mnist", "subset": 10000, "test_subset": 0},
        "train": {"epochs": 6, "batch_size": 128, "lr": 0.1, "weight_decay": 0.0001, "amp": amp, "threads": 1},
        "environment": {"libtorch": "2.15.0", "cpu": "Test Xeon", "cpu_features": list(features)}},
        {s: {"test_acc": acc, "train_loss": loss, "images_per_s": speed} for s, (acc, loss, speed) in seeds.items()},
        epochs=6)


@pytest.fixture
def record(tmp_path):
    """preresnet-20: d = +0.2, -0.2, +0.1, -0.1 (mean 0, SD 0.183): equivalent. preresnet-56: d = 0.5, 0.6, 0.4, 0.5:
    inside the margin but away from 0. plain-20: d = +3, -2, +4, -3 with seed 2's bf16 run at chance (12 %)."""
    record = tmp_path / "record"
    base = {0: 85.0, 1: 86.0, 2: 84.0, 3: 85.5}
    for net, d in (("preresnet-20", (0.2, -0.2, 0.1, -0.1)), ("preresnet-56", (0.5, 0.6, 0.4, 0.5)),
                   ("plain-20", (3.0, -2.0, None, -3.0))):
        fake_run(record, f"{net}-fp32", "off", {s: (base[s], 0.30, 400.0) for s in base})
        fake_run(record, f"{net}-bf16", "bf16", {s: (12.0 if d[s] is None else base[s] + d[s], 0.31, 800.0 + s)
                                                 for s in base})
    (record / "dataset.json").write_text(json.dumps({"name": "fashion-mnist", "classes": 10, "test_images": 10000}))
    return record


def section(md, net):
    return md.split(f"## {net}\n", 1)[1].split("\n## ", 1)[0]


def test_the_verdicts_intervals_and_failed_seeds_are_the_known_ones(record, tmp_path):
    report_bf16.report(str(record), str(tmp_path / "out"))
    md = (tmp_path / "out" / "bf16.md").read_text()
    pre = section(md, "preresnet-20")
    # mean 0, SD 0.1826, SE 0.0913; t(0.95, 3) = 2.353 -> 90 % half-width 0.21; t(0.975, 3) = 3.182 -> 0.29.
    assert "mean +0.00, SD 0.18; 90 % t interval [-0.21, +0.21], 95 % [-0.29, +0.29]" in pre, pre
    # Symmetric about 0: both one-sided p-values are P(t_3 > 1 / 0.0913 = 10.95) = 8.1e-04.
    assert "p = 8.1e-04 (d ≤ −1: 8.1e-04, d ≥ +1: 8.1e-04)" in pre, pre
    assert "**preresnet-20: equivalent within ±1 point.**" in pre
    assert "| bf16 | 4 | 85.12 ± 0.73 | 0.310 ± 0.000 | 801.5 | none |" in pre, pre
    assert "equivalent within ±1 point, with a difference" in section(md, "preresnet-56")
    plain = section(md, "plain-20")
    assert "**plain-20: equivalence within ±1 point is not shown.**" in plain
    # mean -18.5, SE 17.88: against d <= -1, t = -0.98 (p 0.80); against d >= +1, t = -1.09 (p 0.18).
    assert "p = 0.8 (d ≤ −1: 0.8, d ≥ +1: 0.18)" in plain, plain
    assert "| bf16 | 4 | 66.62 ± 36.49 | 0.310 ± 0.000 | 801.5 | 2 |" in plain, plain  # seed 2 failed, and counts
    assert "Seeds that failed in one arm only: 2." in plain
    assert "not shown equivalent to fp32 on every network" in md
    assert "Test Xeon (avx2 fma amx_bf16: with bf16 units)" in md
    lines = (tmp_path / "out" / "bf16.csv").read_text().splitlines()
    assert lines[0] == "net,arm,seed,final_test_acc,final_train_loss,images_per_s" and len(lines) == 1 + 3 * 2 * 4


def test_a_record_without_bf16_units_says_so_and_rebuilds_byte_identically(record, tmp_path):
    for arm in ("fp32", "bf16"):
        config = record / f"preresnet-20-{arm}" / "config.json"
        c = json.loads(config.read_text())
        c["environment"]["cpu_features"] = ["avx2", "fma"]
        config.write_text(json.dumps(c))
    first = report_bf16.report(str(record), str(tmp_path / "a"))
    report_bf16.report(str(record), str(tmp_path / "b"))
    for path in first:
        name = os.path.basename(path)
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert "WITHOUT bf16 units (emulated bf16)" in (tmp_path / "a" / "bf16.md").read_text()


def test_a_folder_whose_precision_is_not_its_arms_is_refused_in_one_line(record, tmp_path):
    config = record / "plain-20-bf16" / "config.json"
    c = json.loads(config.read_text())
    c["train"]["amp"] = "off"
    config.write_text(json.dumps(c))
    done = subprocess.run([os.path.join(REPO, "scripts", "lab"), "report", "bf16", "--runs", str(record),
                           "--results", str(tmp_path / "out")], capture_output=True, text=True)
    assert done.returncode != 0
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert 'plain-20-bf16: train.amp is "off", not the bf16 arm\'s "bf16"' in done.stderr


RECORDS = sorted(glob.glob(os.path.join(REPO, "results", "**", "bf16-equivalence", "record", "dataset.json"),
                           recursive=True))


@pytest.mark.parametrize("record_dir", [os.path.dirname(r) for r in RECORDS] or [pytest.param(
    None, marks=pytest.mark.skip(reason="no bf16 equivalence record committed yet"))])
def test_the_committed_bf16_report_is_rebuilt_byte_identically(record_dir, tmp_path):
    assert_rebuilt(report_bf16.report, record_dir, ("bf16.md", "bf16.csv"), tmp_path)
