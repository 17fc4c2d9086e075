"""The one job runner: propnet processes in job slots, resumable, interruptible.

A job is one propnet command (one training seed, one search seed, ...) and knows whether it already finished
(`done()`, read from what propnet wrote: summary.json or searches.json), so rerunning the same command skips
finished jobs and propnet resumes interrupted ones from their checkpoints. Slots: `--jobs N` processes at once;
with `--gpus LIST` slot i sees only GPU LIST[i mod len] (CUDA_VISIBLE_DEVICES); with `pin_cores` slot i runs on
its own cores (taskset). A SLURM array task runs one job (`only`). Ctrl-C (or SIGTERM) is passed to every
running job once (each is in its own process group, so a terminal's Ctrl-C does not reach it twice); each
checkpoints and exits, and the runner says how to resume. The runner's state (which job runs where, since when,
how it ended) is kept in a JSON file that `scripts/lab status` reads.
"""
import dataclasses
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import time

INTERRUPTED = 130


@dataclasses.dataclass
class Job:
    key: str                  # unique within a runner state: the log's file name
    argv: list                # the propnet command line
    done: callable            # () -> bool: finished before (read from propnet's own files)
    label: str = ""           # what the job is, for people
    run_dir: str = ""         # the run (or search) folder, for status
    seed: int = None
    epochs: int = None        # for status: progress and ETA
    config: dict = None       # the resolved config of a training job, for estimates
    kind: str = "train"       # "train" or "search": where status finds the seed's progress

    def command(self):
        return shlex.join(self.argv)


@dataclasses.dataclass
class Slot:
    index: int
    gpu: str = None           # CUDA_VISIBLE_DEVICES for its jobs
    cores: tuple = None       # (first, last) core for taskset
    threads: int = None       # --threads for its jobs (unless the job sets them)

    def where(self):
        if self.gpu is not None:
            return f"GPU {self.gpu}"
        if self.cores:
            return f"cores {self.cores[0]}-{self.cores[1]}"
        return f"slot {self.index}"

    def prepare(self, argv):
        """The job's command and environment in this slot."""
        argv = list(argv)
        env = dict(os.environ)
        if self.threads and "--threads" not in argv:
            argv += ["--threads", str(self.threads)]
        if self.gpu is not None:
            env["CUDA_VISIBLE_DEVICES"] = self.gpu
            if "--device" not in argv:
                argv += ["--device", "cuda"]
        if self.cores and shutil.which("taskset"):
            argv = ["taskset", "-c", f"{self.cores[0]}-{self.cores[1]}", *argv]
        return argv, env


def make_slots(jobs, gpus=None, pin_cores=False, cores_per_job=None, cores=None):
    """`jobs` slots. Threads: the machine's cores shared evenly (one thread per job when jobs >= cores), so
    several single-thread processes run side by side, which beats one process with every thread."""
    cores = cores or os.cpu_count() or 1
    if jobs < 1:
        raise ValueError("jobs: expected >= 1")
    per_job = cores_per_job or max(1, cores // jobs)
    slots = []
    for i in range(jobs):
        slot = Slot(i, threads=None if gpus else per_job)
        if gpus:
            slot.gpu = gpus[i % len(gpus)]
        elif pin_cores:
            first = (i * per_job) % cores
            slot.cores = (first, min(cores - 1, first + per_job - 1))
        slots.append(slot)
    return slots


class State:
    """The runner's record of its jobs, rewritten atomically on every change (what `status` reads)."""

    def __init__(self, path, jobs):
        self.path = path
        self.data = {"runner_pid": os.getpid(), "started": time.time(), "jobs": {}}
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    old = json.load(f)
                self.data["jobs"] = old.get("jobs", {})
            except (OSError, ValueError):
                pass
        for job in jobs:
            entry = self.data["jobs"].setdefault(job.key, {})
            entry.update(label=job.label, run_dir=job.run_dir, seed=job.seed, epochs=job.epochs, kind=job.kind,
                         command=job.command())
            if entry.get("status") == "running":  # a previous runner died: the job stopped with it
                entry["status"] = "stopped"
        self.save()

    def set(self, key, **fields):
        self.data["jobs"][key].update(fields)
        self.save()

    def save(self):
        if not self.path:
            return
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=1, sort_keys=True)
        os.replace(tmp, self.path)


@dataclasses.dataclass
class Outcome:
    done: int = 0
    skipped: int = 0
    failed: list = dataclasses.field(default_factory=list)   # keys
    interrupted: int = 0                                      # the signal's exit code (130, 143) or 0

    @property
    def exit_code(self):
        if self.interrupted:
            return self.interrupted
        return 1 if self.failed else 0


def say(message):
    print(f"lab: {message}", file=sys.stderr, flush=True)


def run(jobs, slots, state_path=None, log_dir=None, dry_run=False, only=None, poll_seconds=0.2):
    """Runs the jobs that are not done, at most one per slot at a time. Returns an Outcome."""
    if only is not None:
        if not 0 <= only < len(jobs):
            raise IndexError(f"job {only}: the list holds {len(jobs)} jobs (0 to {len(jobs) - 1})")
        jobs = [jobs[only]]
    keys = [j.key for j in jobs]
    if len(set(keys)) != len(keys):
        raise ValueError("two jobs share a key")
    outcome = Outcome()
    pending = []
    for job in jobs:
        if job.done():
            outcome.skipped += 1
        else:
            pending.append(job)
    if dry_run:
        for i, job in enumerate(pending):
            argv, env = slots[i % len(slots)].prepare(job.argv)
            gpu = f"CUDA_VISIBLE_DEVICES={env['CUDA_VISIBLE_DEVICES']} " if "CUDA_VISIBLE_DEVICES" in env and \
                env.get("CUDA_VISIBLE_DEVICES") != os.environ.get("CUDA_VISIBLE_DEVICES") else ""
            print(gpu + shlex.join(argv))
        return outcome
    if state_path and only is not None:  # SLURM array tasks share the folder: one state file each
        state_path = state_path.replace(".json", f".task-{only}.json")
    state = State(state_path, jobs)
    for job in jobs:
        if job not in pending:
            state.set(job.key, status="done")
    if log_dir:
        os.makedirs(log_dir, exist_ok=True)

    signalled = {"code": 0}

    def on_signal(number, _frame):
        signalled["code"] = 128 + number

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    running = {}  # slot index -> (job, process, log file, start time)
    total, finished, durations = len(pending), 0, []
    forwarded = False
    try:
        while running or (pending and not signalled["code"]):
            if signalled["code"] and not forwarded:
                for job, process, _, _ in running.values():
                    try:
                        os.killpg(process.pid, signal.SIGINT if signalled["code"] == 130 else signal.SIGTERM)
                    except ProcessLookupError:
                        pass
                forwarded = True
            if not signalled["code"]:
                for slot in slots:
                    if slot.index in running or not pending:
                        continue
                    job = pending.pop(0)
                    argv, env = slot.prepare(job.argv)
                    log_path = os.path.join(log_dir, job.key + ".log") if log_dir else os.devnull
                    log = open(log_path, "a", encoding="utf-8")
                    log.write(f"==> {shlex.join(argv)}\n")
                    log.flush()
                    process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                               start_new_session=True)
                    running[slot.index] = (job, process, log, time.time())
                    state.set(job.key, status="running", slot=slot.where(), pid=process.pid, started=time.time(),
                              log=log_path if log_dir else None)
                    say(f"started {job.label or job.key} on {slot.where()}")
            for index in list(running):
                job, process, log, started = running[index]
                code = process.poll()
                if code is None:
                    continue
                log.close()
                del running[index]
                minutes = (time.time() - started) / 60
                if code == 0 and job.done():
                    finished += 1
                    outcome.done += 1
                    state.set(job.key, status="done", exit_code=0, ended=time.time())
                    durations.append(minutes)
                    left = len(pending) + len(running)
                    pace = (f", about {left * sum(durations) / len(durations) / len(slots):.0f} min left at the pace of "
                            "the jobs done so far" if left else "")
                    say(f"done {job.label or job.key} ({minutes:.1f} min; {finished}/{total}{pace})")
                elif code in (130, 143) and signalled["code"]:
                    state.set(job.key, status="stopped", exit_code=code, ended=time.time())
                else:
                    outcome.failed.append(job.key)
                    state.set(job.key, status="failed", exit_code=code, ended=time.time())
                    where = f"; log {log.name}" if log_dir else ""
                    say(f"FAILED {job.label or job.key} (exit {code}{where})")
            if running:
                time.sleep(poll_seconds)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if signalled["code"]:
        outcome.interrupted = signalled["code"]
    return outcome


def report_outcome(outcome, what, resume_hint):
    """One closing line per outcome; returns the exit code."""
    if outcome.skipped:
        say(f"{outcome.skipped} {what} already done")
    if outcome.interrupted:
        say(f"interrupted; every running job saved its checkpoint. Resume: {resume_hint}")
    elif outcome.failed:
        say(f"{len(outcome.failed)} {what} failed: {', '.join(outcome.failed)}; rerun the same command to retry them")
    return outcome.exit_code
