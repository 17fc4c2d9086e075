"""`scripts/lab record RUNS --to DIR`: the record of a folder of run folders, to commit while an experiment goes on.

Adds RUNS's run folders to DIR without checkpoints, logs or the runner's state (each keeps config.json,
summary.json and its seeds' metrics), keeping the seeds DIR already holds that RUNS does not: an experiment
continued on another machine, whose first run folders are gone, extends its record. A run folder whose protocol
differs from the record's copy is refused. Writes DIR/dataset.json, the runs' data set as `propnet data --list
--json` gives it, so that `scripts/lab report ... --runs DIR` rebuilds the reports without data or checkpoints.
`scripts/lab sweep --record DIR` skips the jobs the record already holds.
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
    try:
        runs.merge_record(os.path.abspath(args.runs_dir), args.to)
    except ValueError as e:
        raise UsageError(str(e)) from None
    with open(os.path.join(args.to, "dataset.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, sort_keys=True)
    recorded = [runs.read_run(os.path.dirname(c)) for c in glob.glob(os.path.join(args.to, "**", "config.json"),
                                                                       recursive=True)]
    print(f"record: {args.to} ({len(recorded)} runs, {sum(s.done for r in recorded for s in r.seeds)} finished seeds)")
    return 0
