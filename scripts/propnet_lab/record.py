"""`scripts/lab record RUNS --to DIR`: the record of a folder of run folders, to commit while an experiment goes on.

Copies RUNS to DIR without checkpoints, logs or the runner's state (run folders keep config.json, summary.json and
each seed's metrics) and writes DIR/dataset.json, the runs' data set as `propnet data --list --json` gives it, so
that `scripts/lab report ... --runs DIR` rebuilds the reports without the binary's data or the checkpoints.
"""
import argparse
import glob
import json
import os

from . import common, runs
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("runs_dir", metavar="RUNS")
    p.add_argument("--to", required=True, metavar="DIR", help="the record folder (replaced)")
    p.add_argument("--propnet", metavar="PATH", help="the propnet binary (default: $PROPNET, else build/apps/propnet)")
    p.set_defaults(run=run)


def run(args):
    configs = sorted(glob.glob(os.path.join(args.runs_dir, "**", "config.json"), recursive=True))
    if not configs:
        raise UsageError(f"{args.runs_dir}: no run folder (config.json) below it")
    datasets = {runs.load_json(c)["data"]["dataset"] for c in configs}
    if len(datasets) != 1:
        raise UsageError(f"{args.runs_dir}: runs on several data sets ({', '.join(sorted(datasets))}); record each alone")
    facts = common.propnet_of(args).datasets()[datasets.pop()]
    runs.copy_record(os.path.abspath(args.runs_dir), args.to)
    with open(os.path.join(args.to, "dataset.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, sort_keys=True)
    done = sum(s.done for c in configs for s in (runs.read_run(os.path.dirname(c)) or runs.Run("", {}, [])).seeds)
    print(f"record: {args.to} ({len(configs)} runs, {done} finished seeds)")
    return 0
