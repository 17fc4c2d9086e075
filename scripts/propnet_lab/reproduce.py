"""`scripts/lab reproduce TARGET...`: reruns the paper's tables and figures and reports them beside the paper.

Each row of a target (configs/paper/targets.json, the paper's order) is one config; each of its seeds is one
`propnet train --config ... --seeds s` job of the runner, so finished seeds are skipped and interrupted ones
resumed: rerun the same command to continue. Then `scripts/lab report` writes RESULTS/<target>.md and .csv (and
.png/.svg for figures). Any protocol other than the paper's (epochs, subsets, data set) gets its own run and
results folders, named after what changed, so it never mixes with the paper's.
"""
import argparse
import os

from . import common, runner, runs, targets
from .binary import ROOT
from .cli import UsageError

CIFAR_FOLDERS = {"cifar10": "data/cifar-10-batches-bin", "cifar100": "data/cifar-100-binary"}  # download_cifar.sh's


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("targets", nargs="+", metavar="TARGET", help=f"{', '.join(targets.TARGETS)} or all")
    p.add_argument("--epochs", type=common.count(1), help="epochs instead of the paper's (the lr drops stay at "
                                                          "1/2, 3/4, 7/8 of the steps)")
    p.add_argument("--seeds", help="seeds instead of the configs', e.g. 0,1 or 3")
    p.add_argument("--subset", type=common.count(0), help="train on the first N training images; also tests on "
                                                           "the first N test images unless --test-subset is given")
    p.add_argument("--test-subset", type=common.count(0), help="test on the first N test images (0: all)")
    p.add_argument("--test-every", type=common.count(1), help="test after every N-th epoch and the last only")
    p.add_argument("--dataset-override", metavar="DS", help="run every row on data set DS instead of the paper's")
    p.add_argument("--device", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--amp", help="mixed precision of every run (off, bf16, fp16); the estimate is timed at it")
    p.add_argument("--data-root", help="folder holding cifar-10-batches-bin/ and cifar-100-binary/")
    p.add_argument("--out", help="root of the run folders (default runs): DIR/paper/ or DIR/reduced-<what changed>/")
    p.add_argument("--results", help="where the report goes (default results/, or results/reduced-<what changed>/)")
    common.add_runner_options(p)
    p.set_defaults(run=run)


def protocol_tag(args, propnet):
    """"" for the paper's protocol, else "-<what changed>"."""
    tag = ""
    if args.dataset_override:
        tag += f"-{args.dataset_override}"
    if args.epochs and args.epochs != propnet.default("train.epochs"):
        tag += f"-e{args.epochs}"
    if args.subset:
        tag += f"-sub{args.subset}"
    if args.test_subset:
        tag += f"-test{args.test_subset}"
    if args.amp and args.amp != propnet.default("train.amp"):
        tag += f"-{args.amp}"
    return tag


def row_args(args, config_path, runs_dir):
    argv = ["--config", config_path, "--out", runs_dir]
    for flag, value in (("--epochs", args.epochs), ("--subset", args.subset),
                        ("--test-subset", args.test_subset), ("--test-every", args.test_every),
                        ("--device", args.device), ("--amp", args.amp)):
        if value is not None:
            argv += [flag, str(value)]
    if args.dataset_override:  # the configs' CIFAR folder must not leak into another data set's run
        argv += ["--set", "data.dir=", "--dataset", args.dataset_override]
    if args.data_root:
        argv += ["--data-dir", os.path.abspath(args.data_root)]
    elif args.dataset_override in CIFAR_FOLDERS:
        argv += ["--data-dir", CIFAR_FOLDERS[args.dataset_override]]
    return argv


def run(args):
    propnet = common.propnet_of(args, must_exist=True)
    if args.dataset_override and args.dataset_override not in propnet.datasets():
        raise UsageError(f"--dataset-override: expected one of {', '.join(propnet.datasets())} "
                         f"(got '{args.dataset_override}')")
    if args.subset and args.test_subset is None:
        args.test_subset = args.subset  # a quick run should not spend most of its time testing
    chosen = targets.expand(args.targets)
    tag = protocol_tag(args, propnet)
    protocol = f"reduced{tag}" if tag else "paper"
    runs_dir = os.path.abspath(os.path.join(args.out or os.path.join(ROOT, "runs"), protocol))
    results = os.path.abspath(args.results or (os.path.join(ROOT, "results", protocol) if tag
                                               else os.path.join(ROOT, "results")))
    manifest = targets.load_targets()
    os.chdir(ROOT)  # the configs' data folders (data/...) are relative to the repository root
    rows = [(target, row, row_args(args, os.path.join("configs", "paper", row["config"]), runs_dir))
            for target in chosen for row in manifest[target]["rows"]]
    seeds = ["--seeds", args.seeds] if args.seeds else []
    configs = propnet.resolve_many("train", [argv + seeds for _, _, argv in rows])
    jobs = []
    for (target, row, argv), config in zip(rows, configs):
        run_dir = os.path.join(config["out"], config["name"])
        for seed in config["seeds"]:
            jobs.append(runner.Job(
                key=f"{config['name'].replace('/', '-')}-seed{seed}",
                argv=[propnet.path, "train", *argv, "--seeds", str(seed), "--quiet"],
                done=lambda d=run_dir, s=seed: runs.seed_done(d, s), label=f"{target} {row['label']} "
                f"({config['name']}) seed {seed}", run_dir=run_dir, seed=seed,
                epochs=config["train"]["epochs"], config=config))
    slots = common.slots_of(args)
    if args.dry_run:
        print(f"# runs: {runs_dir}\n# results: {results}")
        runner.run(jobs, slots, dry_run=True)
        print(f"# then: scripts/lab report {' '.join(chosen)} --runs {runs_dir} --results {results}")
        common.estimate_training_jobs(args, propnet, jobs, slots, "seed runs")
        return 0
    outcome = runner.run(jobs, slots, state_path=os.path.join(runs_dir, "lab-state.json"),
                         log_dir=os.path.join(runs_dir, "logs"), only=args.only)
    if outcome.interrupted:
        return common.exit_for(outcome, "seed run(s)", "rerun the same command")
    from . import report_paper  # scipy and statsmodels: only where a report is written
    for target in chosen:
        for path in report_paper.report(target, runs_dir, results, propnet):
            if path.endswith(".md"):
                print(open(path, encoding="utf-8").read())
    return common.exit_for(outcome, "seed run(s)", "rerun the same command")
