"""`scripts/lab report`: rebuilds reports from run folders or from a committed record.

  scripts/lab report TARGET... [--runs DIR] [--results DIR]   the paper's tables and figures (report_paper.py)
  scripts/lab report pareto --runs EXPERIMENT --results DIR   one mask comparison (report_pareto.py); EXPERIMENT is
                                                              a `scripts/lab pareto` folder or its record/ copy
  scripts/lab report depth --runs RUNS --results DIR          the depth sweep (report_depth.py): run folders named
                                                              <net>-<depth>-<paired|proportional> and dataset.json
  scripts/lab report bf16 --runs RUNS --results DIR           bf16 against fp32 (report_bf16.py): run folders named
                                                              <net>-<depth>-<fp32|bf16> and dataset.json
Reports are byte-for-byte functions of what they read (no dates, seeded resampling), so a committed report
is checked by rebuilding it from its record.
"""
import argparse
import importlib
import os

from . import common, targets
from .binary import ROOT
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="TARGET", help=f"{', '.join(targets.TARGETS)}, all, pareto, depth or bf16")
    p.add_argument("--runs", help="root of the run folders (default runs/paper), or the pareto experiment folder")
    p.add_argument("--results", help="output folder (default results; required for pareto)")
    p.add_argument("--propnet", metavar="PATH", help="the propnet binary whose facts the paper tables read "
                                                     "(default: $PROPNET, else build/apps/propnet)")
    p.set_defaults(run=run)


# Reports of one experiment folder: its module, the file that marks such a folder, and what that folder is.
FOLDER_REPORTS = {"pareto": ("report_pareto", "arms.tsv", "a scripts/lab pareto experiment folder or its record"),
                  "depth": ("report_depth", "dataset.json", "the depth sweep's record"),
                  "bf16": ("report_bf16", "dataset.json", "the bf16 equivalence record")}


def run(args):
    if args.targets[0] in FOLDER_REPORTS:
        name = args.targets[0]
        module, marker, what = FOLDER_REPORTS[name]
        if len(args.targets) > 1 or not args.runs or not args.results:
            raise UsageError(f"{name} takes one folder: scripts/lab report {name} --runs DIR --results DIR")
        if not os.path.exists(os.path.join(args.runs, marker)):
            raise UsageError(f"{args.runs}: no {marker} (is it {what}?)")
        try:
            written = importlib.import_module(f"{__package__}.{module}").report(os.path.abspath(args.runs), args.results)
        except ValueError as e:  # a record that contradicts itself (report_bf16: a folder's precision)
            raise UsageError(str(e)) from None
        print(f"{name}: " + ", ".join(os.path.relpath(p) for p in written))
        return 0
    from . import report_paper  # scipy and statsmodels: only where a report is written
    propnet = common.propnet_of(args)
    runs = args.runs or os.path.join(ROOT, "runs", "paper")
    results = args.results or os.path.join(ROOT, "results")
    for target in targets.expand(args.targets):
        written = report_paper.report(target, runs, results, propnet)
        print(f"{target}: " + ", ".join(os.path.relpath(p) for p in written))
    return 0
