"""scripts/propnet_lab/runner.py: slots, skipping finished jobs, failures, SLURM's one job, and Ctrl-C, with small
Python programs as jobs (they stand in for propnet: write a marker when done, checkpoint on SIGINT)."""
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from conftest import REPO
from propnet_lab import runner

# A job: records its start and end times, sleeps, writes DONE; on SIGINT it counts the signal, "checkpoints"
# and exits 130 as propnet does. Exit code from argv[3].
JOB = textwrap.dedent("""
    import os, signal, sys, time
    folder, seconds, code = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    os.makedirs(folder, exist_ok=True)
    def stop(number, frame):
        with open(os.path.join(folder, "SIGINT"), "a") as f:
            f.write("1")
        time.sleep(0.3)  # a checkpoint; a second signal here would be a second interrupt
        sys.exit(130)
    signal.signal(signal.SIGINT, stop)
    with open(os.path.join(folder, "times"), "a") as f:
        f.write(f"start {time.time()}\\n")
    time.sleep(seconds)
    with open(os.path.join(folder, "times"), "a") as f:
        f.write(f"end {time.time()}\\n")
    if code == 0:
        open(os.path.join(folder, "DONE"), "w").close()
    sys.exit(code)
""")


def make_jobs(tmp_path, n, seconds=0.3, codes=None):
    script = tmp_path / "job.py"
    script.write_text(JOB)
    jobs = []
    for i in range(n):
        folder = tmp_path / f"job{i}"
        code = (codes or {}).get(i, 0)
        jobs.append(runner.Job(key=f"job{i}", argv=[sys.executable, str(script), str(folder), str(seconds), str(code)],
                               done=lambda f=folder: (f / "DONE").exists(), label=f"job {i}"))
    return jobs


def intervals(tmp_path, n):
    out = []
    for i in range(n):
        times = dict(line.split() for line in (tmp_path / f"job{i}" / "times").read_text().splitlines())
        out.append((float(times["start"]), float(times["end"])))
    return out


def test_slots_share_the_cores_and_pin_gpus_or_cores():
    slots = runner.make_slots(2, cores=8)
    assert [s.threads for s in slots] == [4, 4]
    assert [s.threads for s in runner.make_slots(3, cores=2)] == [1, 1, 1]
    argv, env = runner.make_slots(2, gpus=["4", "5"])[1].prepare(["propnet", "train"])
    assert env["CUDA_VISIBLE_DEVICES"] == "5" and argv[-2:] == ["--device", "cuda"] and "--threads" not in argv
    argv, _ = runner.make_slots(2, gpus=["4"])[1].prepare(["propnet", "train", "--device", "cuda:0"])
    assert argv.count("--device") == 1
    pinned = runner.make_slots(2, pin_cores=True, cores=4)
    assert [s.cores for s in pinned] == [(0, 1), (2, 3)]
    argv, _ = runner.make_slots(1, cores=4)[0].prepare(["propnet", "train", "--threads", "1"])
    assert argv.count("--threads") == 1  # the job's own --threads wins


def test_runs_at_most_one_job_per_slot_and_skips_finished_jobs_on_a_rerun(tmp_path):
    jobs = make_jobs(tmp_path, 4)
    state = tmp_path / "state.json"
    outcome = runner.run(jobs, runner.make_slots(2, cores=2), state_path=str(state), log_dir=str(tmp_path / "logs"),
                         poll_seconds=0.02)
    assert (outcome.done, outcome.skipped, outcome.failed, outcome.exit_code) == (4, 0, [], 0)
    spans = intervals(tmp_path, 4)
    for t in [start for start, _ in spans] + [end - 1e-6 for _, end in spans]:
        assert sum(start <= t < end for start, end in spans) <= 2  # never three at once
    assert any(a[0] < b[1] and b[0] < a[1] for a in spans for b in spans if a is not b)  # two ran side by side
    recorded = json.loads(state.read_text())["jobs"]
    assert {k: v["status"] for k, v in recorded.items()} == {f"job{i}": "done" for i in range(4)}
    assert (tmp_path / "logs" / "job0.log").read_text().startswith("==> ")
    again = runner.run(make_jobs(tmp_path, 4), runner.make_slots(2, cores=2), state_path=str(state))
    assert (again.done, again.skipped) == (0, 4)
    assert all(len((tmp_path / f"job{i}" / "times").read_text().splitlines()) == 2 for i in range(4))  # not rerun


def test_a_failed_job_does_not_stop_the_others_and_is_retried_by_a_rerun(tmp_path):
    jobs = make_jobs(tmp_path, 3, seconds=0.05, codes={1: 3})
    state = tmp_path / "state.json"
    outcome = runner.run(jobs, runner.make_slots(1, cores=1), state_path=str(state), poll_seconds=0.02)
    assert outcome.failed == ["job1"] and outcome.done == 2 and outcome.exit_code == 1
    assert json.loads(state.read_text())["jobs"]["job1"] == {**json.loads(state.read_text())["jobs"]["job1"],
                                                               "status": "failed", "exit_code": 3}
    retry = runner.run(make_jobs(tmp_path, 3, seconds=0.05), runner.make_slots(1, cores=1), poll_seconds=0.02)
    assert (retry.done, retry.skipped, retry.exit_code) == (1, 2, 0)


def test_only_runs_one_job_of_the_list(tmp_path):
    jobs = make_jobs(tmp_path, 3, seconds=0.01)
    state = tmp_path / "lab-state.json"
    assert runner.run(jobs, runner.make_slots(1), state_path=str(state), only=2, poll_seconds=0.01).done == 1
    assert [(tmp_path / f"job{i}" / "DONE").exists() for i in range(3)] == [False, False, True]
    # Array tasks share the folder: each keeps its own state file, so none overwrites another's.
    assert not state.exists() and list(json.loads((tmp_path / "lab-state.task-2.json").read_text())["jobs"]) == ["job2"]
    with pytest.raises(IndexError, match="the list holds 3 jobs"):
        runner.run(jobs, runner.make_slots(1), only=3)


def test_dry_run_prints_each_command_in_its_slot_and_runs_nothing(tmp_path, capsys):
    jobs = make_jobs(tmp_path, 2)
    runner.run(jobs, runner.make_slots(2, gpus=["0", "1"]), dry_run=True)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("CUDA_VISIBLE_DEVICES=0 ") and lines[1].startswith("CUDA_VISIBLE_DEVICES=1 ")
    assert not (tmp_path / "job0").exists()


@pytest.mark.parametrize("to_group", [False, True], ids=["kill", "terminal Ctrl-C to the process group"])
def test_ctrl_c_reaches_every_running_job_once_and_says_how_to_resume(tmp_path, to_group):
    driver = tmp_path / "driver.py"
    driver.write_text(textwrap.dedent(f"""
        import sys
        sys.path[:0] = [{os.path.join(REPO, 'scripts')!r}, {os.path.dirname(__file__)!r}]
        import pathlib, test_runner
        from propnet_lab import runner
        jobs = test_runner.make_jobs(pathlib.Path({str(tmp_path)!r}), 3, seconds=30)
        outcome = runner.run(jobs, runner.make_slots(2, cores=2), state_path={str(tmp_path / 'state.json')!r},
                             poll_seconds=0.02)
        sys.exit(runner.report_outcome(outcome, "job(s)", "rerun the same command"))
    """))
    process = subprocess.Popen([sys.executable, str(driver)], stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    deadline = time.time() + 20
    while not all((tmp_path / f"job{i}" / "times").exists() for i in range(2)) and time.time() < deadline:
        time.sleep(0.05)
    if to_group:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal does: the whole foreground group
    else:
        process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=20)
    assert process.returncode == 130, err
    assert "interrupted" in err and "Resume: rerun the same command" in err
    for i in range(2):
        assert (tmp_path / f"job{i}" / "SIGINT").read_text() == "1"  # once, not twice
    assert not (tmp_path / "job2").exists()  # nothing new started after Ctrl-C
    recorded = json.loads((tmp_path / "state.json").read_text())["jobs"]
    assert [recorded[f"job{i}"]["status"] for i in range(2)] == ["stopped", "stopped"]
