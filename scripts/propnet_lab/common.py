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


def add_runner_options(parser, jobs_flags=("--jobs", "-P"), only_from_slurm=False, with_only=True):
    """The runner's options. only_from_slurm: --only defaults to $SLURM_ARRAY_TASK_ID (sweep: one task per line of
    its jobs file); elsewhere an array task picks its seeds itself, e.g. reproduce --seeds $SLURM_ARRAY_TASK_ID."""
    group = parser.add_argument_group("job slots")
    group.add_argument(*jobs_flags, dest="jobs", type=count(1), default=None, metavar="N",
                       help="processes at once (default 1, or one per GPU of --gpus); each gets cores / N threads "
                            "unless the propnet arguments set --threads")
    group.add_argument("--gpus", type=gpu_list, metavar="LIST",
                       help="pin job slot i to GPU LIST[i mod len] (CUDA_VISIBLE_DEVICES) and train on it")
    task = os.environ.get("SLURM_ARRAY_TASK_ID", "")
    if with_only:
        group.add_argument("--only", type=count(0), metavar="I",
                           default=int(task) if only_from_slurm and task.isdigit() else None,
                           help="run only job I (0-based) of the list: one task of a SLURM job array"
                                + (" (default: $SLURM_ARRAY_TASK_ID when set)" if only_from_slurm else ""))
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
    """Benchmarks each distinct network once (or takes --rate) and prices runs and searches. The calibration,
    measured on CPUs (estimate.CALIBRATION), applies to CPU benchmarks only; a --rate or a GPU benchmark is taken
    as it is."""

    def __init__(self, propnet, rate=None, threads=1):
        self.propnet, self.rate, self.threads = propnet, rate, threads
        self.rates = {}   # bench arguments -> (images/s, calibration)
        self.lines = []

    def rate_of(self, config):
        if self.rate:
            return self.rate, 1.0
        args = estimate.bench_args(config, self.threads)
        key = tuple(args)
        if key not in self.rates:
            d = self.propnet.bench(args)
            on_cpu = str(d["device"]).startswith("cpu")
            self.rates[key] = (d["images_per_s"], estimate.CALIBRATION if on_cpu else 1.0)
            n, t = config["network"], config["train"]
            self.lines.append(f"#   {n['arch']}-{n['depth']} ({n['in_channels']} channel(s), amp {t.get('amp', 'off')}): "
                              f"{d['images_per_s']:.1f} images/s on {d['device']} (propnet bench, "
                              f"{'1 thread, ' if on_cpu else ''}batch {t['batch_size']})")
        return self.rates[key]

    def run_seconds(self, config):
        """One seed of a resolved config."""
        ips, calibration = self.rate_of(config)
        train, test = estimate.images(config, self.propnet.datasets())
        t = config["train"]
        return estimate.run_seconds(ips, t["epochs"], train, test, t.get("test_every", 1), calibration)

    def search_seconds(self, config, val_images):
        ips, calibration = self.rate_of(config)
        train, _ = estimate.images(config, self.propnet.datasets())
        return estimate.search_seconds(ips, config["train"]["epochs"], train - val_images, calibration)

    def source(self):
        if self.rate:
            return f"--rate {self.rate:g} images/s, given, not measured"
        calibrated = any(c != 1.0 for _, c in self.rates.values())
        return ("propnet bench per network" + (f"; CPU figures calibrated against the committed runs' epoch times "
                                               f"(x{estimate.CALIBRATION:.2f})" if calibrated else ""))


def print_estimate(est, job_seconds, slots, what):
    """The estimate's closing lines."""
    for line in est.lines:
        print(line)
    total = sum(job_seconds)
    wall = estimate.wall_seconds(job_seconds, slots)
    print(f"# estimate ({est.source()}): {len(job_seconds)} {what}, {estimate.hours(total)} of compute, about "
          f"{estimate.hours(wall)} with {slots} job slot(s)")


def estimate_training_jobs(args, propnet, jobs, slots, what):
    """With --dry-run: the estimate of the training jobs that are not done yet (unless --no-estimate)."""
    if args.no_estimate:
        return
    est = Estimate(propnet, args.rate)
    try:
        seconds = [est.run_seconds(j.config) for j in jobs if not j.done()]
    except UsageError as e:
        print(no_estimate(e))
        return
    print_estimate(est, seconds, len(slots), what)


def no_estimate(error):
    """The line a dry run prints when it cannot benchmark (say, --device cuda on a machine without a GPU): the
    commands above stand, and --rate prices them from a throughput measured elsewhere."""
    return (f"# no estimate: {error}; --rate R prices the runs at R training images/s measured elsewhere (e.g. by "
            "`propnet bench --device cuda` on the machine that will run them)")


def exit_for(outcome, what, resume):
    return runner.report_outcome(outcome, what, resume)


def require(condition, message):
    if not condition:
        raise UsageError(message)
