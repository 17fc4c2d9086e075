"""`scripts/lab report`: rebuilds reports from run folders or from a committed record.

  scripts/lab report TARGET... [--runs DIR] [--results DIR]   the paper's tables and figures (report_paper.py)
  scripts/lab report pareto --runs EXPERIMENT --results DIR   one mask comparison (report_pareto.py); EXPERIMENT is
                                                              a `scripts/lab pareto` folder or its record/ copy
  scripts/lab report depth --runs RUNS --results DIR          the depth sweep (report_depth.py): run folders named
                                                              <net>-<depth>-<paired|proportional> and dataset.json
Reports are byte-for-byte functions of what they read (no dates, seeded resampling), so a committed report
is checked by rebuilding it from its record.
"""
import argparse
import os

from . import common, targets
from .binary import ROOT
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="TARGET", help=f"{', '.join(targets.TARGETS)}, all, pareto or depth")
    p.add_argument("--runs", help="root of the run folders (default runs/paper), or the pareto experiment folder")
    p.add_argument("--results", help="output folder (default results; required for pareto)")
    p.add_argument("--propnet", metavar="PATH", help="the propnet binary whose facts the paper tables read "
                                                     "(default: $PROPNET, else build/apps/propnet)")
    p.set_defaults(run=run)


def run(args):
    if args.targets[0] == "pareto":
        if len(args.targets) > 1 or not args.runs or not args.results:
            raise UsageError("pareto takes one experiment: scripts/lab report pareto --runs DIR --results DIR")
        if not os.path.exists(os.path.join(args.runs, "arms.tsv")):
            raise UsageError(f"{args.runs}: no arms.tsv (is it a scripts/lab pareto experiment folder or its record?)")
        from . import report_pareto
        written = report_pareto.report(os.path.abspath(args.runs), args.results)
        print("pareto: " + ", ".join(os.path.relpath(p) for p in written))
        return 0
    from . import report_paper
    if args.targets[0] == "depth":
        if len(args.targets) > 1 or not args.runs or not args.results:
            raise UsageError("depth takes one sweep: scripts/lab report depth --runs DIR --results DIR")
        if not os.path.exists(os.path.join(args.runs, "dataset.json")):
            raise UsageError(f"{args.runs}: no dataset.json (is it the depth sweep's record?)")
        from . import report_depth
        written = report_depth.report(os.path.abspath(args.runs), args.results)
        print("depth: " + ", ".join(os.path.relpath(p) for p in written))
        return 0
    propnet = common.propnet_of(args)
    runs = args.runs or os.path.join(ROOT, "runs", "paper")
    results = args.results or os.path.join(ROOT, "results")
    for target in targets.expand(args.targets):
        written = report_paper.report(target, runs, results, propnet)
        print(f"{target}: " + ", ".join(os.path.relpath(p) for p in written))
    return 0
