"""Options and steps the experiment subcommands share: job slots, the binary, dry runs and estimates."""
import argparse
import os
import re

from . import estimate, runner
from .binary import Propnet
from .cli import UsageError


def count(minimum):
    def parse(text):
        if not re.fullmatch(r"\d+", text) or int(text) < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum} (got '{text}')")
        return int(text)
    return parse


def gpu_list(text):
    if not re.fullmatch(r"\d+(,\d+)*", text):
        raise argparse.ArgumentTypeError(f"expected a list such as 0,1,2,3 (got '{text}')")
    return text.split(",")


def positive_rate(text):
    try:
        value = float(text)
    except ValueError:
        value = 0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"expected images/s > 0 (got '{text}')")
    return value


def add_runner_options(parser, jobs_flags=("--jobs", "-P")):
    group = parser.add_argument_group("job slots")
    group.add_argument(*jobs_flags, dest="jobs", type=count(1), default=None, metavar="N",
                       help="processes at once (default 1, or one per GPU of --gpus); each gets cores / N threads "
                            "unless the propnet arguments set --threads")
    group.add_argument("--gpus", type=gpu_list, metavar="LIST",
                       help="pin job slot i to GPU LIST[i mod len] (CUDA_VISIBLE_DEVICES) and train on it")
    group.add_argument("--only", type=count(0), metavar="I",
                       default=int(os.environ["SLURM_ARRAY_TASK_ID"]) if os.environ.get("SLURM_ARRAY_TASK_ID", "").isdigit() else None,
                       help="run only job I (0-based) of the list: one task of a SLURM job array (default: "
                            "$SLURM_ARRAY_TASK_ID when set)")
    group.add_argument("--propnet", metavar="PATH", help="the propnet binary (default: $PROPNET, else build/apps/propnet)")
    group.add_argument("--dry-run", action="store_true", help="print the commands and an estimate of their time; run nothing")
    group.add_argument("--no-estimate", action="store_true", help="with --dry-run: the commands only")
    group.add_argument("--rate", type=positive_rate, metavar="R",
                       help="estimate from R training images/s per job instead of running `propnet bench` (e.g. what "
                            "`propnet bench --device cuda` measured on the machine that will run it)")


def slots_of(args, pin_cores=False, cores_per_job=None):
    jobs = args.jobs or (len(args.gpus) if args.gpus else 1)
    return runner.make_slots(jobs, gpus=args.gpus, pin_cores=pin_cores, cores_per_job=cores_per_job)


def propnet_of(args, must_exist=True):
    return Propnet.find(args.propnet, must_exist=must_exist)


class Estimate:
    """Benchmarks each distinct network once (or takes --rate) and sums the jobs' seconds."""

    def __init__(self, propnet, rate=None, threads=1):
        self.propnet, self.rate, self.threads = propnet, rate, threads
        self.rates = {}
        self.lines = []

    def images_per_s(self, config):
        if self.rate:
            return self.rate
        args = estimate.bench_args(config, self.threads)
        key = tuple(args)
        if key not in self.rates:
            d = self.propnet.bench(args)
            self.rates[key] = d["images_per_s"]
            n, t = config["network"], config["train"]
            self.lines.append(f"#   {n['arch']}-{n['depth']} ({n['in_channels']} channel(s), amp {t.get('amp', 'off')}): "
                              f"{d['images_per_s']:.1f} images/s on {d['device']} (propnet bench, "
                              f"{'1 thread, ' if 'cpu' in str(d['device']) else ''}batch {t['batch_size']})")
        return self.rates[key]

    def source(self):
        if self.rate:
            return f"--rate {self.rate:g} images/s (given, not measured)"
        return "propnet bench per network, calibrated against the committed runs' epoch times (x%.2f)" % estimate.CALIBRATION


def print_estimate(est, job_seconds, slots, what):
    """The estimate's closing lines."""
    for line in est.lines:
        print(line)
    total = sum(job_seconds)
    wall = estimate.wall_seconds(job_seconds, slots)
    print(f"# estimate ({est.source()}): {len(job_seconds)} {what}, {estimate.hours(total)} of compute, about "
          f"{estimate.hours(wall)} with {slots} job slot(s); data loading included by the calibration")


def exit_for(outcome, what, resume):
    return runner.report_outcome(outcome, what, resume)


def require(condition, message):
    if not condition:
        raise UsageError(message)
