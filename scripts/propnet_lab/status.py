"""`scripts/lab status DIR`: what an experiment started by scripts/lab has done, while it runs or after it stopped.

DIR is the folder that holds the runner's lab-state.json: a `pareto` experiment folder, a `reproduce` runs folder
(runs/paper or runs/reduced-...) or a `sweep` --state folder. Per job: done / running / stopped / failed /
pending, epochs done, the last epoch's images/s and, for running jobs, the time left; then the totals and an ETA.
A job counts as done when its run folder's summary.json (a search's: searches.json) says so.
"""
import argparse
import glob
import json
import os
import time

from . import runs
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("dir", metavar="DIR")
    p.add_argument("--json", action="store_true", help="one JSON object instead of the table")
    p.set_defaults(run=run)


def alive(pid):
    try:
        os.kill(int(pid), 0)
        return True
    except (OSError, TypeError, ValueError):
        return False


def job_view(entry, runner_alive):
    """One job's status, progress and time left, from the runner's record and propnet's files."""
    seed, run_dir, kind = entry.get("seed"), entry.get("run_dir") or "", entry.get("kind", "train")
    status = entry.get("status", "pending")
    if kind == "search":
        done = seed is not None and runs.search_done(run_dir, seed)
        metrics = runs.read_metrics(os.path.join(runs.seed_dir(run_dir, seed), "metrics.jsonl")) if seed is not None else []
    else:
        run = runs.read_run(run_dir) if run_dir else None
        record = run.seed(seed) if run and seed is not None else None
        done = bool(record and record.done)
        metrics = runs.read_metrics(os.path.join(runs.seed_dir(run_dir, seed), "metrics.jsonl")) if run_dir and seed is not None else []
    if done:
        status = "done"
    elif status == "running" and not (runner_alive and alive(entry.get("pid"))):
        status = "stopped"
    epochs = entry.get("epochs") or 0
    view = {"label": entry.get("label") or "", "status": status, "epochs_done": len(metrics), "epochs": epochs,
            "images_per_s": metrics[-1].get("images_per_s") if metrics else None,
            "epoch_seconds": (sum(m.get("epoch_seconds", 0.0) for m in metrics) / len(metrics)) if metrics else None,
            "log": entry.get("log"), "run_dir": run_dir}
    view["seconds_left"] = None
    if view["epoch_seconds"] and epochs and status != "done":
        view["seconds_left"] = max(0, epochs - len(metrics)) * view["epoch_seconds"]
    return view


def minutes(seconds):
    return "—" if seconds is None else f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


def run(args):
    paths = sorted(glob.glob(os.path.join(args.dir, "lab-state*.json")))  # one per SLURM array task
    if not paths:
        raise UsageError(f"{args.dir}: no lab-state.json (give the folder a scripts/lab reproduce, pareto or sweep "
                         "run writes: runs/paper, runs/pareto/NAME, the sweep's --state)")
    jobs, pids = {}, []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        pids.append(state.get("runner_pid"))
        for key, entry in state["jobs"].items():
            entry["runner_alive"] = alive(state.get("runner_pid"))
            if key not in jobs or entry.get("status") not in (None, "pending"):
                jobs[key] = entry
    runner_alive = any(alive(pid) for pid in pids)
    path = max(paths, key=os.path.getmtime)
    views = [job_view(e, e["runner_alive"]) for _, e in sorted(jobs.items())]
    counts = {}
    for v in views:
        counts[v["status"]] = counts.get(v["status"], 0) + 1
    # ETA: the running jobs' time left, plus each waiting job at the measured length of finished jobs of its run
    # (another seed of the same network), else at the mean of all finished jobs; over the busy slots.
    lengths = {}
    for v in views:
        if v["status"] == "done" and v["epoch_seconds"]:
            lengths.setdefault(v["run_dir"], []).append(v["epoch_seconds"] * v["epochs"])
    every = [x for xs in lengths.values() for x in xs]
    typical = sum(every) / len(every) if every else None
    running = [v for v in views if v["status"] == "running"]
    waiting = [v for v in views if v["status"] in ("pending", "stopped", "failed")]
    eta = None
    if typical is not None:
        work = sum(v["seconds_left"] or 0 for v in running)
        work += sum(sum(lengths[v["run_dir"]]) / len(lengths[v["run_dir"]]) if v["run_dir"] in lengths else typical
                    for v in waiting)
        eta = work / max(1, len(running))
    summary = {"runner": "running" if runner_alive else "not running", "counts": counts, "eta_seconds": eta,
               "jobs": views}
    if args.json:
        print(json.dumps(summary, indent=1))
        return 0
    width = max([len(v["label"]) for v in views] + [3])
    print(f"{'job':<{width}}  {'status':<8} {'epochs':>7} {'images/s':>9} {'left':>8}")
    for v in views:
        ips = f"{v['images_per_s']:.0f}" if v["images_per_s"] else "—"
        print(f"{v['label']:<{width}}  {v['status']:<8} {v['epochs_done']:>3}/{v['epochs']:<3} {ips:>9} "
              f"{minutes(v['seconds_left']) if v['status'] == 'running' else '':>8}")
    total = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()))
    print(f"{len(views)} jobs: {total}; runner {summary['runner']} (updated "
          f"{time.strftime('%H:%M:%S', time.localtime(os.path.getmtime(path)))})")
    if not runner_alive and (running or waiting):
        print("not finished: rerun the command that started it to resume")
    elif eta is not None and (running or waiting):
        print(f"about {minutes(eta)} left: waiting jobs at the length of finished runs of the same network (else of "
              "all finished jobs), over the running slots; rough until every network has finished once")
    return 0
