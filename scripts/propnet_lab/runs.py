"""Reading what propnet wrote: run folders of `propnet train` and `propnet search`.

A train run folder holds config.json (the resolved config), summary.json (every seed's status, written by
propnet after each invocation) and seed-<s>/metrics.jsonl (one JSON object per epoch). A seed's status is
summary.json's, never re-derived here: "done", "stopped", "failed", "incomplete" or "unreadable". Committed records
(results/**/record/) are run folders without checkpoints; their summary.json was written while the
checkpoints existed, so their statuses stand.
"""
import dataclasses
import glob
import json
import os


@dataclasses.dataclass
class Seed:
    seed: int
    status: str                 # summary.json's: done, stopped, failed, incomplete, unreadable
    metrics: list               # per-epoch dicts from metrics.jsonl, one per epoch (a resumed epoch: last wins)
    final_test_acc: float = None  # summary.json's final_test_acc (None when no epoch finished)
    epochs_completed: int = 0   # summary.json's (the checkpoint's count, not metrics.jsonl's lines)

    @property
    def done(self):
        return self.status == "done"

    @property
    def train_seconds(self):
        return sum(m.get("epoch_seconds", 0.0) for m in self.metrics)


@dataclasses.dataclass
class Run:
    dir: str
    config: dict                # config.json
    seeds: list                 # [Seed], by seed number

    def finals(self):
        """seed -> final-epoch test accuracy of the finished seeds."""
        return {s.seed: s.final_test_acc for s in self.seeds if s.done}

    def seed(self, number):
        return next((s for s in self.seeds if s.seed == number), None)


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def seed_dir(run_dir, seed):
    """Where propnet keeps one seed of a run (train and search alike)."""
    return os.path.join(run_dir, f"seed-{int(seed)}")


def read_metrics(path):
    """Per-epoch metrics of one seed (a resumed seed may repeat an epoch: the last line wins)."""
    by_epoch = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                if line.strip():
                    m = json.loads(line)
                    by_epoch[int(m["epoch"])] = m
    return [by_epoch[e] for e in sorted(by_epoch)]


def read_run(run_dir):
    """The run folder's config and seeds, or None when it holds no config.json yet. Seeds come from
    summary.json (none before the first invocation has ended)."""
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.exists(config_path):
        return None
    summary_path = os.path.join(run_dir, "summary.json")
    listed = load_json(summary_path)["seeds"] if os.path.exists(summary_path) else []
    seeds = []
    for s in sorted(listed, key=lambda s: int(s["seed"])):
        metrics = read_metrics(os.path.join(seed_dir(run_dir, s["seed"]), "metrics.jsonl"))
        seeds.append(Seed(int(s["seed"]), s["status"], metrics, s.get("final_test_acc"),
                          s.get("epochs_completed", len(metrics))))
    return Run(run_dir, load_json(config_path), seeds)


def named_runs(folder, pattern):
    """(match, Run) for each run folder directly in `folder` whose name matches `pattern` (a compiled regex) and
    that holds a config.json, by name: how the pre-registered reports find their arms."""
    for entry in sorted(os.listdir(folder)):
        m = pattern.match(entry)
        run = read_run(os.path.join(folder, entry)) if m else None
        if run:
            yield m, run


def seed_done(run_dir, seed):
    """Whether summary.json of `run_dir` says `seed` is done: the runner's test for a finished train job."""
    run = read_run(run_dir)
    s = run.seed(seed) if run else None
    return bool(s and s.done)


def search_done(search_dir, seed):
    """Whether searches.json of `search_dir` says `seed` is done (propnet search rewrites it after every seed)."""
    path = os.path.join(search_dir, "searches.json")
    if not os.path.exists(path):
        return False
    return any(int(s["seed"]) == int(seed) and s["status"] == "done" for s in load_json(path)["seeds"])


def copy_record(source, record):
    """`record`: a copy of `source` (an experiment or a folder of run folders) without checkpoints, logs or the
    runner's state: small enough to commit, and enough to rebuild its reports. Replaces an older copy."""
    import shutil
    shutil.rmtree(record, ignore_errors=True)
    shutil.copytree(source, record, ignore=shutil.ignore_patterns("*.pt", "logs", "lab-state*.json*"))
    with open(os.path.join(record, "RECORD"), "w", encoding="utf-8") as f:
        f.write(f"A copy of {source} without its checkpoints (*.pt): the seeds' statuses are their summary.json's.\n")


RESULT_SECTIONS = ("network", "data", "train")
RUN_INVARIANT = {"train": ("device", "threads", "log_every", "checkpoint_every", "eval_batch_size")}


def protocol_of(config):
    """The parts of a run folder's config that decide what a seed computes (not where or how fast it ran)."""
    out = {k: dict(config.get(k, {})) for k in RESULT_SECTIONS}
    for section, keys in RUN_INVARIANT.items():
        for key in keys:
            out[section].pop(key, None)
    out["data"].pop("dir", None)
    return out


def merge_record(source, record):
    """Adds the seeds of the run folders under `source` to the record `record` (made if absent), keeping the
    record's seeds that `source` does not have: a sweep continued on another machine, whose earlier run folders
    are gone, extends its record instead of replacing it. A run folder whose protocol differs from the record's
    copy is refused (ValueError)."""
    import shutil
    for config_path in sorted(glob.glob(os.path.join(source, "**", "config.json"), recursive=True)):
        run_dir = os.path.dirname(config_path)
        target = os.path.join(record, os.path.relpath(run_dir, source))
        new = read_run(run_dir)
        old = read_run(target)
        if old and protocol_of(old.config) != protocol_of(new.config):
            raise ValueError(f"{run_dir}: a different protocol than the record's {target}")
        kept = {s["seed"]: s for s in (load_json(os.path.join(target, "summary.json"))["seeds"] if old else [])}
        summary = load_json(os.path.join(run_dir, "summary.json")) if os.path.exists(
            os.path.join(run_dir, "summary.json")) else {"seeds": []}
        for s in summary["seeds"]:
            if s["status"] == "done" or s["seed"] not in kept:
                kept[s["seed"]] = s
        os.makedirs(target, exist_ok=True)
        for s in summary["seeds"]:
            if kept[s["seed"]] is s:
                shutil.rmtree(seed_dir(target, s["seed"]), ignore_errors=True)
                if os.path.isdir(seed_dir(run_dir, s["seed"])):
                    shutil.copytree(seed_dir(run_dir, s["seed"]), seed_dir(target, s["seed"]),
                                    ignore=shutil.ignore_patterns("*.pt"))
        shutil.copy2(config_path, os.path.join(target, "config.json"))
        summary["seeds"] = [kept[k] for k in sorted(kept)]
        with open(os.path.join(target, "summary.json"), "w", encoding="utf-8") as f:
            json.dump(summary, f, indent=2, sort_keys=True)
            f.write("\n")
    with open(os.path.join(record, "RECORD"), "w", encoding="utf-8") as f:
        f.write("Run folders without their checkpoints (*.pt), merged over invocations of `scripts/lab record`: "
                "the seeds' statuses are their summary.json's.\n")
