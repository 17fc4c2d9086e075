"""The subcommands of scripts/lab. Each lives in its own module, which exposes `register(subparsers)`
(adds its parser and sets `run`) and whose `run(args)` returns the exit code."""
import argparse
import importlib
import os
import sys

# (subcommand, module, one line for --help), in the order --help lists them.
SUBCOMMANDS = [
    ("reproduce", "reproduce", "rerun the paper's tables and figures (configs/paper/targets.json) and report them"),
    ("pareto", "pareto", "compare ReLU masks of one network: paired, the paper's, random, searched, ..."),
    ("sweep", "sweep", "run a jobs file of (config, seed) training jobs"),
    ("status", "status", "what a running or stopped experiment has done: per run done / running / failed, ETA"),
    ("report", "report", "rebuild a report (tables, CSV, plots) from run folders or a committed record"),
    ("record", "record", "copy run folders without checkpoints, to commit and rebuild reports from"),
    ("bench", "bench", "propnet's training step against the same step in PyTorch, interleaved"),
]


class UsageError(Exception):
    """Bad input: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse with errors as one line (the usage is one --help away), as propnet's own errors are."""

    def error(self, message):
        print(f"{self.prog}: {message}; see --help", file=sys.stderr)
        sys.exit(2)


def build_parser():
    parser = Parser(
        prog="scripts/lab", description="propnet's experiment toolkit: one job runner, reports with t intervals.",
        epilog="scripts/lab SUBCOMMAND --help for its options. Exit codes: 0 done, 1 a run failed, 2 bad usage, "
               "130 interrupted (rerun the same command to resume).")
    sub = parser.add_subparsers(dest="subcommand", metavar="SUBCOMMAND")
    for name, module, summary in SUBCOMMANDS:
        importlib.import_module(f"{__package__}.{module}").register(sub, name, summary)
    return parser


def main(argv):
    parser = build_parser()
    # Everything after "--" goes to every propnet command the subcommand runs (argparse would give it to the
    # first positional argument instead).
    extra = []
    if "--" in argv:
        extra, argv = argv[argv.index("--") + 1:], argv[:argv.index("--")]
    args = parser.parse_args(argv)
    if extra and not getattr(args, "takes_propnet_args", False):
        parser.error(f"{args.subcommand or 'scripts/lab'} takes no propnet arguments after --")
    args.extra = extra
    if not args.subcommand:
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except UsageError as e:
        print(f"lab {args.subcommand}: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # outside the runner, which handles Ctrl-C itself: nothing was started
        print(f"lab {args.subcommand}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `scripts/lab ... --dry-run | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
