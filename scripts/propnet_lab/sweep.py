"""`scripts/lab sweep JOBS_FILE`: a list of (config, seed) training jobs through the job runner.

JOBS_FILE: one job per line, "CONFIG SEED [propnet train args...]"; blank lines and '#' comments are skipped.
Each job is `propnet train --config CONFIG --seeds SEED [args] [EXTRA]`; a job is done when its run folder's
summary.json says that seed is done, so rerunning the same command skips finished jobs and resumes the others.
"""
import argparse
import os
import shlex

from . import common, runner, runs
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       usage="scripts/lab sweep JOBS_FILE [options] [-- EXTRA propnet train ARGS]")
    p.add_argument("jobs_file", metavar="JOBS_FILE")
    common.add_runner_options(p, jobs_flags=("--jobs", "-P", "--parallel"), only_from_slurm=True)
    p.add_argument("--cpu", action="store_true", help="train on CPUs: job slot i runs on cores [i*K, (i+1)*K) "
                                                      "(taskset) with --threads K")
    p.add_argument("--cpus-per-job", type=common.count(1), metavar="K", help="with --cpu: cores per job "
                                                                              "(default: all cores / jobs)")
    p.add_argument("--record", metavar="DIR", help="also count as done the seeds this record (scripts/lab record) holds: "
                                                   "a sweep continued on a machine without its earlier run folders")
    p.add_argument("--state", default="sweep-state", metavar="DIR",
                   help="the runner's state and one log per job (default sweep-state)")
    p.set_defaults(run=run, takes_propnet_args=True)


def read_jobs_file(path):
    """[(line number, config, seed, args)]"""
    if not os.path.isfile(path):
        raise UsageError(f"no such jobs file \"{path}\"")
    jobs = []
    with open(path, encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            fields = shlex.split(line, comments=True)
            if not fields:
                continue
            if len(fields) < 2 or not fields[1].isdigit():
                raise UsageError(f"{path}:{number}: expected \"CONFIG SEED [args]\" with a seed >= 0 (got \"{line.strip()}\")")
            jobs.append((number, fields[0], int(fields[1]), fields[2:]))
    if not jobs:
        raise UsageError(f"{path} holds no job")
    return jobs


def build_jobs(propnet, lines, extra, record=None):
    # One --print-config per distinct config and arguments (the seed aside).
    distinct = list(dict.fromkeys(tuple(["--config", config, *args, *extra]) for _, config, _, args in lines))
    resolved = dict(zip(distinct, propnet.resolve_many("train", [list(d) for d in distinct])))
    jobs = []
    for index, (number, config, seed, args) in enumerate(lines):
        c = resolved[tuple(["--config", config, *args, *extra])]
        run_dir = os.path.join(c["out"], c["name"])
        jobs.append(runner.Job(key=f"{index:03d}-{c['name'].replace('/', '-')}-seed{seed}",
                               argv=[propnet.path, "train", "--config", config, "--seeds", str(seed), *args, *extra],
                               done=lambda d=run_dir, s=seed, n=c["name"]: runs.seed_done(d, s) or bool(
                                   record and runs.seed_done(os.path.join(record, n), s)),
                               label=f"job {index}: {c['name']} seed {seed}", run_dir=run_dir, seed=seed,
                               epochs=c["train"]["epochs"], config=c))
    return jobs


def run(args):
    if args.cpus_per_job and not args.cpu:
        raise UsageError("--cpus-per-job needs --cpu")
    if args.cpu and args.gpus:
        raise UsageError("--gpus and --cpu are exclusive")
    propnet = common.propnet_of(args)
    lines = read_jobs_file(args.jobs_file)
    extra = list(args.extra)
    if args.cpu and "--device" not in extra:
        extra += ["--device", "cpu"]
    jobs = build_jobs(propnet, lines, extra, args.record)
    slots = common.slots_of(args, pin_cores=args.cpu, cores_per_job=args.cpus_per_job)
    if args.dry_run:
        runner.run(jobs, slots, dry_run=True, only=args.only)
        common.estimate_training_jobs(args, propnet, jobs, slots, "jobs")
        return 0
    outcome = runner.run(jobs, slots, state_path=os.path.join(args.state, "lab-state.json"),
                         log_dir=os.path.join(args.state, "logs"), only=args.only)
    return common.exit_for(outcome, "job(s)", "rerun the same command")
