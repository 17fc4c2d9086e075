"""scripts/lab end to end with the built propnet: usage errors, dry runs, tiny real experiments (Fashion-MNIST, a
few dozen images, one epoch), their resume, status and reports. What replaced reproduce.sh, pareto.sh, sweep.sh,
report and bench_vs_pytorch.sh."""
import csv
import json
import os
import re
import subprocess

import pytest

from conftest import REPO

TINY = ["--subset", "64", "--test-subset", "64", "--epochs", "1"]


def one_line_error(done, *parts):
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    for part in parts:
        assert part in done.stderr, done.stderr


def test_help_lists_every_subcommand(lab):
    out = lab("--help").stdout
    for sub in ("reproduce", "pareto", "sweep", "status", "report", "bench"):
        assert sub in out
    assert lab(check=False).returncode == 2


def test_the_wrappers_ignore_a_python3_without_numpy_first_on_path(tmp_path):
    # A pyenv or venv python3 first on PATH may lack numpy and scipy: scripts/lab and scripts/report run Debian's.
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho 'ModuleNotFoundError: No module named numpy' >&2\nexit 1\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    env.pop("LAB_PYTHON", None)
    for script in ("lab", "report"):
        done = subprocess.run(["sh", os.path.join(REPO, "scripts", script), "--help"], capture_output=True, text=True, env=env)
        assert done.returncode == 0 and "numpy" not in done.stderr, (script, done.stderr)


@pytest.mark.parametrize("args, message", [
    (["--depth", "8", "--keep", "3"], "--net is required"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--arms", "paired,best"], "unknown arm 'best'"),
    (["--net", "plain", "--depth", "8", "--arms", "random"], "--keep is required"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--arms", "random,shuffled"], "shuffled permutes"),
    (["--net", "plain", "--depth", "8", "--keep", "7"], "--keep 7: expected 1 to 6"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--seeds", "2-1"], "--seeds: expected an ascending range"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--search-seeds", "0,0"], "--search-seeds:"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--dataset", "mnist"], "--dataset: expected one of"),
    (["--net", "plain", "--depth", "8", "--keep", "3", "--bogus"], "unrecognized arguments: --bogus"),
])
def test_pareto_refuses_bad_input_in_one_line_and_makes_nothing(lab, tmp_path, args, message):
    one_line_error(lab("pareto", "--out", tmp_path / "refused", *args, check=False), message)
    assert not (tmp_path / "refused").exists()


def test_pareto_dry_run_lists_searches_and_fixed_trainings_and_estimates_from_a_rate(lab, tmp_path):
    out = lab("pareto", "--net", "plain", "--depth", "8", "--keep", "3", "--seeds", "0-2", "--search-seeds", "0,1",
              "--epochs", "6", "--subset", "1000", "--jobs", "2", "--out", tmp_path / "dry", "--dry-run",
              "--no-estimate").stdout
    assert not (tmp_path / "dry").exists()
    lines = out.splitlines()
    assert sum(" search " in l and "--method gates" in l for l in lines) == 2
    assert sum(" search " in l and "--method greedy" in l for l in lines) == 2
    assert sum("--method random" in l and "--count 8" in l for l in lines) == 1
    assert "--val-split 200 " in out  # a fifth of --subset
    for mask in ("111111", "010101", "101010"):
        assert sum(f"--relu-mask {mask} --seeds" in l for l in lines) == 3
    assert f"--threads {max(1, os.cpu_count() // 2)}" in out
    assert f"report pareto --runs {tmp_path}/dry/plain-8-fashion-mnist-k3-e6-sub1000 " in out
    # --rate: 3 fixed masks x 2 seeds + (8 random + 1 searched + 1 shuffled) x 2 = 26 runs of 2 x (1000 + 500/3)
    # images and 1 search of 2 x 800 images x 1.25, at 100 images/s (a given rate is not calibrated).
    out = lab("pareto", "--net", "plain", "--depth", "8", "--keep", "3", "--seeds", "0,1", "--search-seeds", "0",
              "--arms", "paired,paper,complement,random,gates,shuffled", "--epochs", "2", "--subset", "1000",
              "--test-subset", "500", "--out", tmp_path / "dry", "--dry-run", "--rate", "100").stdout
    from propnet_lab import estimate
    total = (26 * 2 * (1000 + 500 / 3) + 1.25 * 2 * 800) / 100
    assert f"27 jobs (26 runs at most, 1 searches), {estimate.hours(total)} of compute" in out, out


def test_a_dry_run_that_cannot_benchmark_still_lists_the_commands(lab, tmp_path):
    # --device cuda where no GPU answers (this CPU build, or a CUDA build on a machine without one).
    done = lab("pareto", "--net", "plain", "--depth", "8", "--keep", "3", "--out", tmp_path, "--dry-run", "--",
               "--device", "cuda")
    assert " train " in done.stdout and ("# no estimate: " in done.stdout or "# estimate (" in done.stdout)


def test_pareto_runs_resumes_reports_and_keeps_a_record_that_rebuilds_it(lab, tmp_path, fashion_mnist):
    args = ["pareto", "--net", "plain", "--depth", "8", "--keep", "3", "--arms", "paired,paper,random,gates,shuffled",
            "--random", "2", "--seeds", "0,1", "--search-seeds", "0", *TINY, "--val-split", "32", "--jobs", "2",
            "--out", tmp_path / "runs", "--results", tmp_path / "results"]
    first = lab(*args, timeout=600)
    experiment = tmp_path / "runs" / "plain-8-fashion-mnist-k3-e1-sub64-test64"
    arms = [l.split("\t") for l in (experiment / "arms.tsv").read_text().splitlines()]
    assert [a[0] for a in arms] == ["paired", "paper", "random", "random", "gates", "shuffled"]
    assert json.loads((experiment / "dataset.json").read_text())["test_images"] > 0
    masks = {a[2] for a in arms}
    for mask in masks:
        summary = json.loads((experiment / "train" / mask / "summary.json").read_text())
        assert [s["status"] for s in summary["seeds"]] == ["done", "done"], summary
    assert "# ReLU mask comparison" in first.stdout
    results = tmp_path / "results"
    rows = list(csv.DictReader(open(results / "pareto.csv")))
    assert len(rows) == 2 * len(arms) and {r["status"] for r in rows} == {"done"}
    assert not list((results / "record").rglob("*.pt")) and (results / "record" / "RECORD").exists()
    # The rerun trains nothing, and the record rebuilds the same tables.
    again = lab(*args, timeout=600)
    assert "already done" in again.stderr and "started" not in again.stderr, again.stderr
    lab("report", "pareto", "--runs", results / "record", "--results", tmp_path / "rebuilt")
    for name in ("pareto.md", "pareto.csv"):
        assert (tmp_path / "rebuilt" / name).read_bytes() == (results / name).read_bytes(), name
    status = lab("status", experiment).stdout
    assert "runner not running" in status and " done " in status and "failed" not in status


def test_sweep_runs_a_jobs_file_skips_done_jobs_and_status_shows_them(lab, tmp_path, fashion_mnist):
    jobs = tmp_path / "jobs.txt"
    config = tmp_path / "plain-8.json"
    config.write_text(json.dumps({"name": "tiny", "network": {"arch": "plain", "depth": 8},
                                  "data": {"dataset": "fashion-mnist", "subset": 64, "test_subset": 64},
                                  "train": {"epochs": 1}}))
    jobs.write_text(f"# config seed [args]\n{config} 0\n{config} 1 --test-every 1\n")
    state = tmp_path / "state"
    lab("sweep", jobs, "--cpu", "--jobs", "2", "--state", state, "--", "--out", tmp_path / "runs")
    summary = json.loads((tmp_path / "runs" / "tiny" / "summary.json").read_text())
    assert [s["status"] for s in summary["seeds"]] == ["done", "done"]
    assert len(list((state / "logs").glob("*.log"))) == 2
    again = lab("sweep", jobs, "--cpu", "--jobs", "2", "--state", state, "--", "--out", tmp_path / "runs")
    assert "2 job(s) already done" in again.stderr
    view = json.loads(lab("status", state, "--json").stdout)
    assert view["counts"] == {"done": 2} and all(j["epochs_done"] == 1 for j in view["jobs"])
    # record: the runs without checkpoints, with the data set's facts from the binary.
    lab("record", tmp_path / "runs", "--to", tmp_path / "record")
    assert not list((tmp_path / "record").rglob("*.pt")) and (tmp_path / "record" / "tiny" / "summary.json").exists()
    assert json.loads((tmp_path / "record" / "dataset.json").read_text())["name"] == "fashion-mnist"
    one_line_error(lab("record", tmp_path / "state", "--to", tmp_path / "x", check=False), "no run folder")
    # A new machine: the run folders are gone, the record is not. The sweep skips what the record holds, runs
    # the new seed, and the record keeps the old seeds beside it.
    import shutil
    shutil.rmtree(tmp_path / "runs")
    jobs.write_text(f"{config} 0\n{config} 1\n{config} 2\n")
    again = lab("sweep", jobs, "--cpu", "--record", tmp_path / "record", "--state", tmp_path / "state2", "--",
                "--out", tmp_path / "runs")
    assert "2 job(s) already done" in again.stderr and "seed 2" in again.stderr
    lab("record", tmp_path / "runs", "--to", tmp_path / "record")
    summary = json.loads((tmp_path / "record" / "tiny" / "summary.json").read_text())
    assert [(s["seed"], s["status"]) for s in summary["seeds"]] == [(0, "done"), (1, "done"), (2, "done")]
    assert (tmp_path / "record" / "tiny" / "seed-0" / "metrics.jsonl").exists()
    other = tmp_path / "other.txt"
    other.write_text(f"{config} 3 --epochs 2\n")
    lab("sweep", other, "--cpu", "--state", tmp_path / "state3", "--", "--out", tmp_path / "runs", "--restart")
    one_line_error(lab("record", tmp_path / "runs", "--to", tmp_path / "record", check=False), "a different protocol")
    bad = tmp_path / "bad.txt"
    bad.write_text(f"{config} zero\n")
    one_line_error(lab("sweep", bad, check=False), "bad.txt:1: expected \"CONFIG SEED [args]\"")
    one_line_error(lab("status", tmp_path, check=False), "no lab-state.json")


def test_reproduce_dry_run_lists_every_paper_config_once_in_the_papers_order(lab, tmp_path):
    out = lab("reproduce", "all", "--out", tmp_path, "--dry-run", "--no-estimate").stdout
    configs = [l.split("--config ")[1].split()[0] for l in out.splitlines() if " train --config " in l]
    manifest = json.load(open(os.path.join(REPO, "configs", "paper", "targets.json")))
    expected = [f"configs/paper/{row['config']}" for t in ("table1", "table2", "fig6", "fig7", "fig8", "table3")
                for row in manifest[t]["rows"]]
    assert list(dict.fromkeys(configs)) == expected
    assert len(configs) == 5 * len(expected)  # one job per seed, the configs' 0-4
    assert f"# runs: {tmp_path}/paper" in out
    one_line_error(lab("reproduce", "table9", check=False), 'unknown target "table9"')
    one_line_error(lab("reproduce", "fig6", "--dataset-override", "mnist", check=False), "--dataset-override")


def test_reproduce_runs_a_reduced_fig6_in_its_own_folders_and_reports_it(lab, tmp_path, fashion_mnist):
    args = ["reproduce", "fig6", "--dataset-override", "fashion-mnist", "--seeds", "0,1", "--jobs", "2",
            "--out", tmp_path / "runs", "--results", tmp_path / "results", "--subset", "32", "--epochs", "1"]
    out = lab(*args, timeout=600).stdout
    assert "**Reduced protocol" in out and "| CIFAR-10 → Fashion-MNIST | 2:1 Pre-Proportional Module | 110 |" in out
    assert (tmp_path / "runs" / "reduced-fashion-mnist-e1-sub32-test32" / "fig6" / "preresnet-110-paired-c10").is_dir()
    for name in ("fig6.md", "fig6.csv", "fig6.png", "fig6.svg"):
        assert (tmp_path / "results" / name).stat().st_size > 0
    assert "already done" in lab(*args, timeout=600).stderr


def fake_table1(root):
    """Made-up finished Table I runs: every seed at the paper's mean + (0, 0.25, 0.5, 0.75, 1.0)."""
    manifest = json.load(open(os.path.join(REPO, "configs", "paper", "targets.json")))
    for row in manifest["table1"]["rows"]:
        config = json.load(open(os.path.join(REPO, "configs", "paper", row["config"])))
        run = root / config["name"]
        seeds = []
        for seed, offset in enumerate([0.0, 0.25, 0.5, 0.75, 1.0]):
            (run / f"seed-{seed}").mkdir(parents=True)
            acc = config["paper"]["mean"] + offset
            (run / f"seed-{seed}" / "metrics.jsonl").write_text(json.dumps(
                {"epoch": 400, "test_acc": acc, "train_acc": 1.0, "test_loss": 1.0}) + "\n")
            seeds.append({"seed": seed, "status": "done", "final_test_acc": acc, "epochs_completed": 400})
        (run / "summary.json").write_text(json.dumps({"seeds": seeds}))
        resolved = {"name": config["name"], "network": config["network"],
                    "data": {"dataset": "cifar100", "subset": 0, "test_subset": 0, "augment": True,
                             "coarse_labels": False},
                    "train": {"epochs": 400, "batch_size": 64, "lr": 0.1, "momentum": 0.9, "nesterov": True,
                              "weight_decay": 0.0001, "milestone_fractions": [0.5, 0.75, 0.875], "milestones": [],
                              "lr_factor": 0.1},
                    "paper": config["paper"]}
        (run / "config.json").write_text(json.dumps(resolved))


def test_report_puts_made_up_runs_beside_the_papers_numbers(lab, tmp_path):
    fake_table1(tmp_path / "runs")
    lab("report", "table1", "--runs", tmp_path / "runs", "--results", tmp_path / "results")
    md = (tmp_path / "results" / "table1.md").read_text()
    assert "Reduced protocol" not in md and "The paper's protocol" in md, md
    rows = [[c.strip() for c in l.strip("|").split("|")] for l in md.splitlines() if l.startswith("| CIFAR")]
    papers = [("38", 64.04), ("38", 64.25), ("62", 56.88), ("62", 60.86), ("84", 44.16), ("84", 55.98)]
    assert [(r[2], float(r[3].split(" ± ")[0])) for r in rows] == papers
    for r, (_, paper) in zip(rows, papers):
        mean = paper + 0.5
        # Ours, test-set SE at 10,000 CIFAR test images, seeds, epochs, Δ, the reference code's line.
        assert r[4] == f"{mean:.2f} ± 0.40" and r[6:9] == ["5", "400", "+0.50"], r
        assert r[5] == f"{(mean * (100 - mean) / 10000) ** 0.5:.2f}", r
        assert r[9] == f"{mean:.2f} ({mean:.2f} ± 0.35, {mean + 0.5:.2f})", r
    # The same offsets per seed in both rows: each difference is the papers' difference, a point interval.
    for paired, proportional, (_, p0), (_, p1) in zip(rows[::2], rows[1::2], papers[::2], papers[1::2]):
        d = p1 - p0
        assert paired[10] == "" and proportional[10].startswith(f"{d:+.2f} [{d:+.2f}, {d:+.2f}], sign-flip p = "
                                                                f"0.062 (floor 0.062)"), proportional[10]
    one_line_error(lab("report", "pareto", "--runs", tmp_path, "--results", tmp_path / "x", check=False),
                   "no arms.tsv")


def test_bench_runs_both_sides_interleaved_and_tabulates_them(lab, tmp_path):
    python = os.environ.get("TORCH_PYTHON", "/usr/bin/python3")
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0:
        pytest.skip(f"{python} has no torch (TORCH_PYTHON names the PyTorch side)")
    build = os.path.dirname(os.path.dirname(os.environ["PROPNET"]))
    out = lab("bench", "--build-dir", build, "--python", python, "--depths", "8", "--repeats", "2", "--steps", "2",
              "--warmup", "1", "--batch-size", "8", "--out", tmp_path).stdout
    # depth, mode, propnet, PyTorch, ratio of medians, paired ratio (range), PyTorch same mode, ratio
    assert re.search(r"^\| 8 \| fp32 \| [0-9.]+ \| [0-9.]+ \| [0-9.]+x \| [0-9.]+x \([0-9.]+-[0-9.]+\) \| [0-9.]+ \| "
                     r"[0-9.]+x \|$", out, re.M), out
    assert "propnet on CPU: fused BN+ReLU" in out
    runs = [json.loads(l) for f in tmp_path.glob("bench-*.jsonl") for l in f.read_text().splitlines()]
    assert sorted(r["tool"] for r in runs) == ["propnet", "propnet", "pytorch", "pytorch"]
    one_line_error(lab("bench", "--build-dir", tmp_path / "none", check=False), "no propnet binary")
