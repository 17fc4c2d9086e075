"""`scripts/lab pareto`: compares ReLU masks of one network at one budget. Every arm's masks are retrained from
scratch with the same training seeds (seed s gives every mask the same initial weights and data order), then
`scripts/lab report pareto` writes the table, the CSV and the plot (accuracy against ReLU elements).

Arms (--arms, comma-separated; default paired,paper,complement,random,gates,greedy,shuffled):
  paired       every ReLU kept (the 1:1 baseline)
  paper        the paper's mask for the network (--variant proportional: 01 per block for plain/preresnet)
  complement   that mask with every bit flipped (10 per block)
  random       --random R masks with exactly K sites (propnet search --method random, seed 0)
  exhaustive   every mask with exactly K sites (propnet search --method exhaustive)
  gates        the masks `propnet search --method gates` finds, one per search seed
  greedy       the same with --method greedy
  shuffled     each searched mask permuted within its stages (same per-stage counts)
A mask that two arms share is trained once and counts for both.

The experiment folder OUT/NAME/ holds command.txt, sites.json (propnet info --sites of the paired network),
dataset.json (the data set's facts from propnet data --list), arms.tsv (arm, label, mask), searches/<method>/
(propnet search runs), train/<mask>/ (propnet train runs) and lab-state.json and logs/ (the runner's). Finished
seeds are skipped and interrupted ones resumed: rerun the same command to continue. Afterwards RESULTS/record/
keeps the experiment without its checkpoints, from which `scripts/lab report pareto --runs RESULTS/record
--results RESULTS` rebuilds the report anywhere.
"""
import argparse
import json
import math
import os
import random
import re
import shlex
import sys

from . import common, estimate, runner, runs
from .binary import ROOT
from .cli import UsageError

ARMS = ["paired", "paper", "complement", "random", "exhaustive", "gates", "greedy", "shuffled"]
DEFAULT_ARMS = "paired,paper,complement,random,gates,greedy,shuffled"
SEARCHED = ("gates", "greedy")
GENERATED = ("random", "exhaustive")


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                       usage="scripts/lab pareto --net NET --depth D --keep K [options] [-- ARGS for every propnet "
                             "search and train]")
    p.add_argument("--net", help="the network (as in propnet train)")
    p.add_argument("--depth", type=common.count(1))
    p.add_argument("--keep", type=common.count(0), help="sites kept by the random, exhaustive and searched masks")
    p.add_argument("--arms", default=DEFAULT_ARMS, help="the arms above")
    p.add_argument("--random", type=common.count(0), default=8, help="random masks (default 8)")
    p.add_argument("--seeds", default="0-2", help="training seeds, the same for every mask (default 0-2)")
    p.add_argument("--search-seeds", default="0-2", help="search seeds of gates/greedy (default 0-2)")
    p.add_argument("--min-keep-per-stage", type=common.count(0), metavar="M",
                   help="every generated and searched mask keeps at least M sites per stage (propnet search's "
                        "default: 1); 0 lets exhaustive list all C(N, K) masks")
    p.add_argument("--dataset", default="fashion-mnist", help="the data set (default fashion-mnist)")
    p.add_argument("--subset", type=common.count(0), help="train on the first N training images (default all)")
    p.add_argument("--test-subset", type=common.count(0), help="test on the first N test images (default all)")
    p.add_argument("--test-every", type=common.count(1), help="test after every N-th epoch and the last only")
    p.add_argument("--val-split", type=common.count(0), help="validation images the searches hold out of the "
                   "training images (default 5000, or a fifth of --subset); the retraining uses all of them")
    p.add_argument("--epochs", type=common.count(1), help="epochs of every training and search (default: the "
                                                          "paper's)")
    p.add_argument("--amp", help="mixed precision of every run and search; the estimate is timed at it")
    p.add_argument("--out", help="root of the experiment folders (default runs/pareto)")
    p.add_argument("--name", help="the experiment folder (default <net>-<depth>-<dataset>-k<K>[-e<E>][-sub<N>]"
                                  "[-test<M>])")
    p.add_argument("--results", help="where the report goes (default results/pareto/<name>)")
    common.add_runner_options(p, with_only=False)  # its phases depend on each other: no single job to pick
    p.set_defaults(run=run, takes_propnet_args=True)


class Plan:
    """Everything the experiment's commands are made of."""

    def __init__(self, args, propnet):
        self.args, self.propnet = args, propnet
        a = args
        common.require(a.net, "--net is required")
        common.require(a.depth, "--depth is required")
        self.arms = a.arms.split(",")
        for arm in self.arms:
            common.require(arm in ARMS, f"--arms: unknown arm '{arm}' (expected {', '.join(ARMS)})")
        common.require(a.keep is not None or not any(x in self.arms for x in GENERATED + SEARCHED),
                       "--keep is required by the random, exhaustive, gates and greedy arms")
        common.require("shuffled" not in self.arms or any(x in self.arms for x in SEARCHED),
                       "--arms: shuffled permutes the searched masks, so it needs gates or greedy")
        datasets = propnet.datasets()
        common.require(a.dataset in datasets, f"--dataset: expected one of {', '.join(datasets)} (got '{a.dataset}')")
        common.require(not a.name or re.fullmatch(r"[A-Za-z0-9_.+-]+", a.name), "--name: letters, digits, _.+- only")
        self.facts = datasets[a.dataset]
        self.net_args = ["--net", a.net, "--depth", str(a.depth)]
        self.data_args = ["--dataset", a.dataset]
        for flag, value in (("--subset", a.subset), ("--test-subset", a.test_subset), ("--epochs", a.epochs),
                            ("--test-every", a.test_every), ("--amp", a.amp)):
            if value is not None:
                self.data_args += [flag, str(value)]
        self.extra = list(a.extra)
        # propnet's own parser expands the seed lists; its message names the flag.
        base = propnet.resolve("train", [*self.net_args, *self.data_args, "--seeds", a.seeds, *self.extra])
        self.config = base
        self.seeds = base["seeds"]
        self.search_seeds = propnet.seeds(a.search_seeds, "--search-seeds") if self.searching else []
        self.val_split = a.val_split if a.val_split is not None else (a.subset // 5 if a.subset else 5000)
        sites_args = [*self.net_args, "--classes", str(self.facts["classes"]), "--in-channels",
                      str(self.facts["channels"])]
        self.sites = propnet.sites(sites_args)
        paper = propnet.sites([*sites_args, "--variant", "proportional"])
        maskable = sorted((s for s in paper["sites"] if not s["fixed"]), key=lambda s: s["mask_bit"])
        self.paper_mask = "".join("1" if s["kept"] else "0" for s in maskable)
        n = len(self.paper_mask)
        common.require(a.keep is None or 1 <= a.keep <= n,
                       f"--keep {a.keep}: expected 1 to {n}, the network's maskable sites")
        self.name = a.name or "-".join([f"{a.net}-{a.depth}-{a.dataset}"] + [x for x in (
            f"k{a.keep}" if a.keep is not None else "", f"e{a.epochs}" if a.epochs else "",
            f"sub{a.subset}" if a.subset else "", f"test{a.test_subset}" if a.test_subset else "") if x])
        self.dir = os.path.abspath(os.path.join(a.out or os.path.join(ROOT, "runs", "pareto"), self.name))
        self.results = os.path.abspath(a.results or os.path.join(ROOT, "results", "pareto", self.name))
        self.searches = os.path.join(self.dir, "searches")

    @property
    def searching(self):
        return any(x in self.arms for x in SEARCHED)

    def search_argv(self, method, seeds):
        argv = [self.propnet.path, "search", *self.net_args, "--method", method, "--keep", str(self.args.keep),
                "--search-seeds", seeds, "--out", self.searches, "--name", method, *self.data_args]
        if self.args.min_keep_per_stage is not None:
            argv += ["--min-keep-per-stage", str(self.args.min_keep_per_stage)]
        if method in SEARCHED:
            argv += ["--val-split", str(self.val_split), "--quiet"]
        elif method == "random":
            argv += ["--count", str(self.args.random)]
        return argv + self.extra

    def train_job(self, mask, seed):
        run_dir = os.path.join(self.dir, "train", mask)
        return runner.Job(key=f"train-{mask}-seed{seed}", label=f"mask {mask} seed {seed}",
                          argv=[self.propnet.path, "train", *self.net_args, "--relu-mask", mask, "--seeds", str(seed),
                                "--out", os.path.join(self.dir, "train"), "--name", mask, *self.data_args, "--quiet",
                                *self.extra],
                          done=lambda: runs.seed_done(run_dir, seed), run_dir=run_dir, seed=seed,
                          epochs=self.config["train"]["epochs"])

    def search_job(self, method, seed):
        folder = os.path.join(self.searches, method)
        return runner.Job(key=f"search-{method}-seed{seed}", label=f"{method} search seed {seed}",
                          argv=self.search_argv(method, str(seed)), done=lambda: runs.search_done(folder, seed),
                          run_dir=folder, seed=seed, epochs=self.config["train"]["epochs"], kind="search")

    def given_arms(self):
        out = []
        if "paired" in self.arms:
            out.append(("paired", "paired", "1" * len(self.paper_mask)))
        if "paper" in self.arms:
            out.append(("paper", "paper (2:1)", self.paper_mask))
        if "complement" in self.arms:
            out.append(("complement", "complement", self.paper_mask.translate(str.maketrans("01", "10"))))
        return out

    def generated_arms(self):
        out = []
        for arm in GENERATED:
            if arm in self.arms:
                path = os.path.join(runs.seed_dir(os.path.join(self.searches, arm), 0), "masks.txt")
                with open(path, encoding="utf-8") as f:
                    masks = [line.strip() for line in f if line.strip()]
                out += [(arm, f"{arm} {i}", m) for i, m in enumerate(masks)]
        return out

    def searched_arms(self):
        """The searches' masks and their stage shuffles (seeded by the search seed, so a rerun shuffles alike)."""
        out = []
        for method in (m for m in SEARCHED if m in self.arms):
            for seed in self.search_seeds:
                path = os.path.join(runs.seed_dir(os.path.join(self.searches, method), seed), "search.json")
                if not os.path.exists(path):
                    continue  # a failed search: its arm is missing, and the report says so
                with open(path, encoding="utf-8") as f:
                    found = json.load(f)
                mask = found["relu_mask"]
                out.append((method, f"{method} s{seed}", mask))
                if "shuffled" in self.arms:
                    out.append(("shuffled", f"shuffled {method} s{seed}", shuffle_within_stages(mask, found["sites"], seed)))
        return out

    def later_masks(self):
        """How many masks only the mask generation and the searches will name (at most)."""
        n = len(self.paper_mask)
        count = (self.args.random if "random" in self.arms else 0)
        count += math.comb(n, self.args.keep) if "exhaustive" in self.arms else 0
        searched = sum(len(self.search_seeds) for m in SEARCHED if m in self.arms)
        return count + searched * (2 if "shuffled" in self.arms else 1), searched


def shuffle_within_stages(mask, sites, seed):
    by_stage = {}
    for site in sites:
        by_stage.setdefault(site["stage"], []).append(site["mask_bit"])
    bits = list(mask)
    rng = random.Random(seed)
    for positions in by_stage.values():
        kept = [mask[p] for p in positions]
        rng.shuffle(kept)
        for p, b in zip(positions, kept):
            bits[p] = b
    return "".join(bits)


def train_jobs(plan, arms, already=()):
    """One job per mask and seed, each mask once; masks in `already` were listed before."""
    seen, jobs = set(already), []
    for _, _, mask in arms:
        if mask not in seen:
            seen.add(mask)
            jobs += [plan.train_job(mask, s) for s in plan.seeds]
    return jobs


def write_arms(path, arms):
    with open(path, "w", encoding="utf-8") as f:
        f.writelines("\t".join(a) + "\n" for a in arms)


def dry_run(plan, slots):
    a = plan.args
    print(f"# experiment: {plan.dir}\n# results: {plan.results}")
    for arm in GENERATED:
        if arm in plan.arms:
            print(shlex.join(plan.search_argv(arm, "0")))
    searches = [plan.search_job(m, s) for m in SEARCHED if m in plan.arms for s in plan.search_seeds]
    fixed = train_jobs(plan, plan.given_arms())
    runner.run(searches + fixed, slots, dry_run=True)
    later, searched = plan.later_masks()
    if later:
        print(f"# then one `propnet train ... --relu-mask MASK --seeds SEED` per seed of each of the {later} random, "
              "exhaustive, searched and shuffled masks (at most: a mask that arms share is trained once)")
    print(f"# then: scripts/lab report pareto --runs {plan.dir} --results {plan.results}")
    if a.no_estimate:
        return 0
    est = common.Estimate(plan.propnet, a.rate)
    try:
        per_run = est.run_seconds(plan.config)
    except UsageError as e:
        print(common.no_estimate(e))
        return 0
    per_search = est.search_seconds(plan.config, plan.val_split)
    runs_total = len(fixed) + later * len(plan.seeds)
    seconds = [per_run] * runs_total + [per_search] * searched
    print(f"# a run: {estimate.hours(per_run)}, a search: {estimate.hours(per_search)} (the paired network; fewer "
          f"ReLUs run a little faster)")
    common.print_estimate(est, seconds, len(slots), f"jobs ({runs_total} runs at most, {searched} searches)")
    return 0


def run(args):
    propnet = common.propnet_of(args)
    plan = Plan(args, propnet)
    slots = common.slots_of(args)
    if args.dry_run:
        return dry_run(plan, slots)
    os.makedirs(plan.dir, exist_ok=True)
    with open(os.path.join(plan.dir, "sites.json"), "w", encoding="utf-8") as f:
        json.dump(plan.sites, f)
    with open(os.path.join(plan.dir, "dataset.json"), "w", encoding="utf-8") as f:
        json.dump(plan.facts, f, sort_keys=True)
    with open(os.path.join(plan.dir, "command.txt"), "w", encoding="utf-8") as f:
        f.write(shlex.join(["scripts/lab", "pareto", *sys.argv[2:]]) + "\n")
    os.chdir(ROOT)
    for arm in GENERATED:  # instant: no data read
        if arm in plan.arms:
            job = runner.Job(key=f"generate-{arm}", argv=plan.search_argv(arm, "0"),
                             done=lambda a=arm: runs.search_done(os.path.join(plan.searches, a), 0))
            outcome = runner.run([job], slots[:1], log_dir=os.path.join(plan.dir, "logs"))
            if outcome.exit_code:
                raise UsageError(f"mask generation failed: {job.command()} (log {plan.dir}/logs/{job.key}.log)")
    fixed = plan.given_arms() + plan.generated_arms()
    write_arms(os.path.join(plan.dir, "arms.tsv"), fixed)
    state, logs = os.path.join(plan.dir, "lab-state.json"), os.path.join(plan.dir, "logs")
    searches = [plan.search_job(m, s) for m in SEARCHED if m in plan.arms for s in plan.search_seeds]
    outcome = runner.run(searches + train_jobs(plan, fixed), slots, state, logs)
    if outcome.interrupted:
        return common.exit_for(outcome, "job(s)", "rerun the same command")
    failed = list(outcome.failed)
    if plan.searching:
        searched = plan.searched_arms()
        write_arms(os.path.join(plan.dir, "arms.tsv"), fixed + searched)
        later = runner.run(train_jobs(plan, searched, already=[m for _, _, m in fixed]), slots, state, logs)
        if later.interrupted:
            return common.exit_for(later, "job(s)", "rerun the same command")
        failed += later.failed
        outcome.skipped += later.skipped
    runs.copy_record(plan.dir, os.path.join(plan.results, "record"))
    from . import report_pareto  # scipy and statsmodels: only where a report is written
    for path in report_pareto.report(plan.dir, plan.results):
        if path.endswith(".md"):
            print(open(path, encoding="utf-8").read())
    outcome.failed = failed
    return common.exit_for(outcome, "job(s)", "rerun the same command")
