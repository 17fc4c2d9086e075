"""`scripts/lab bench`: propnet's training step beside the same step written in PyTorch (scripts/bench_pytorch.py:
the same pre-activation ResNet, batch, loss and Nesterov SGD, eager), on the same device, in one invocation.
Runs alternate (propnet, PyTorch, propnet, ...) so that both see the same machine load; each figure is the median
over --repeats runs of the median step, and the paired ratio is the median of the per-repeat ratios.

  scripts/lab bench                                           # CPU: preresnet 20 and 110, batch 64, fp32
  scripts/lab bench --python .venv/bin/python --modes "fp32 bf16-cl"   # against PyPI's PyTorch
  scripts/lab bench --device cuda --modes "fp32 bf16 bf16-graph"
  scripts/lab bench --epoch --depths 20 --subset 3200         # propnet train vs a torchvision DataLoader script

A mode names propnet's settings: fp32|bf16, "-cl" channels_last, "-graph" CUDA graph (+ channels_last). PyTorch
runs fp32 eager and each mode's amp and layout (its counterpart of "-graph" is "-cl"). Every run is kept as one
JSON line in OUT/bench-<time>.jsonl.
"""
import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time

from . import runs
from .binary import ROOT, Propnet
from .cli import UsageError


def register(sub, name, summary):
    p = sub.add_parser(name, help=summary, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"), help="the build whose propnet runs (default build)")
    p.add_argument("--python", help="the interpreter whose torch is the PyTorch side (default: the one the build was "
                                    "configured with, i.e. the same torch as the C++ build)")
    p.add_argument("--depths", default="20 110", help='preresnet depths (default "20 110")')
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument("--threads", type=int, help="intra-op threads of both sides")
    p.add_argument("--modes", default="fp32", help='propnet settings: "fp32 fp32-cl bf16 bf16-cl bf16-graph fp32-graph"')
    p.add_argument("--out", default=os.path.join(ROOT, "results", "bench"), help="folder of the JSON lines")
    p.add_argument("--epoch", action="store_true", help="time a training epoch on Fashion-MNIST instead of steps")
    p.add_argument("--subset", type=int, default=3200, help="--epoch: training images")
    p.add_argument("--workers", type=int, default=2, help="--epoch: DataLoader workers of the PyTorch side")
    p.set_defaults(run=run)


def peer_python(args):
    if args.python:
        return args.python
    cache = os.path.join(args.build_dir, "CMakeCache.txt")
    if os.path.exists(cache):
        with open(cache, encoding="utf-8") as f:
            for line in f:
                if line.startswith("PROPNET_PYTHON:"):
                    return line.split("=", 1)[1].strip()
    return "/usr/bin/python3"


def propnet_flags(mode):
    flags = ["--amp", "bf16"] if mode.startswith("bf16") else []
    if "-cl" in mode:
        flags.append("--channels-last")
    elif "-graph" in mode:
        flags += ["--cuda-graph", "--channels-last"]
    return flags


def pytorch_mode(mode):
    return mode.replace("-graph", "-cl")


def pytorch_flags(mode):
    return (["--amp", "bf16"] if mode.startswith("bf16") else []) + (["--channels-last"] if "-cl" in mode else [])


def json_of(command):
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise UsageError(f"{' '.join(command)} failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def step_runs(args, propnet, python, threads):
    modes = list(dict.fromkeys(["fp32", *args.modes.split()]))  # fp32 first: the baseline
    for depth in map(int, args.depths.split()):
        for repeat in range(1, args.repeats + 1):
            done_pytorch = set()
            for mode in modes:
                common = ["--depth", str(depth), "--batch-size", str(args.batch_size), "--steps", str(args.steps),
                          "--warmup", str(args.warmup), "--device", args.device, *threads]
                if mode != "fp32" or "fp32" in args.modes.split():
                    d = json_of([propnet.path, "bench", "--net", "preresnet", *common, *propnet_flags(mode), "--json"])
                    yield {**d, "mode": mode, "repeat": repeat}
                pmode = pytorch_mode(mode)
                if pmode not in done_pytorch:
                    done_pytorch.add(pmode)
                    d = json_of([python, os.path.join(ROOT, "scripts", "bench_pytorch.py"), "step", *common,
                                 *pytorch_flags(pmode)])
                    yield {**d, "mode": pmode, "repeat": repeat}


def epoch_runs(args, propnet, python, threads):
    data = "/usr/share/datasets/fashion-mnist"
    if not os.path.exists(os.path.join(data, "train-images-idx3-ubyte.gz")):
        raise UsageError(f"--epoch needs Fashion-MNIST in {data} (apt install dataset-fashion-mnist)")
    with tempfile.TemporaryDirectory() as tmp:
        for depth in map(int, args.depths.split()):
            for repeat in range(1, args.repeats + 1):
                name = f"d{depth}-r{repeat}"
                subprocess.run([propnet.path, "train", "--net", "preresnet", "--depth", str(depth), "--dataset",
                                "fashion-mnist", "--subset", str(args.subset), "--test-subset", "100", "--epochs", "1",
                                "--batch-size", str(args.batch_size), "--seeds", "0", "--device", args.device, *threads,
                                "--out", tmp, "--name", name, "-q"], check=True, stdout=subprocess.DEVNULL)
                m = runs.read_metrics(os.path.join(runs.seed_dir(os.path.join(tmp, name), 0), "metrics.jsonl"))[0]
                yield {"tool": "propnet", "mode": "epoch", "depth": depth, "repeat": repeat, "images": args.subset,
                       "batch_size": args.batch_size, "images_per_s": m["images_per_s"]}
                d = json_of([python, os.path.join(ROOT, "scripts", "bench_pytorch.py"), "epoch", "--depth", str(depth),
                             "--subset", str(args.subset), "--batch-size", str(args.batch_size), "--workers",
                             str(args.workers), "--device", args.device, *threads])
                yield {**d, "mode": "epoch", "repeat": repeat, "images_per_s": d["epoch_images_per_s"]}


def table(rows):
    """The comparison as Markdown lines."""
    def median(tool, depth, mode):
        v = [r["images_per_s"] for r in rows if r["tool"] == tool and r["depth"] == depth and r["mode"] == mode]
        return statistics.median(v) if v else None

    def paired(depth, mode, base):
        by_repeat = lambda tool, m: {r["repeat"]: r["images_per_s"] for r in rows
                                     if r["tool"] == tool and r["depth"] == depth and r["mode"] == m}
        p, q = by_repeat("propnet", mode), by_repeat("pytorch", base)
        ratios = [p[k] / q[k] for k in p if k in q and q[k]]
        return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})" if ratios else "–"

    fmt = lambda x: f"{x:.1f}" if x is not None else "–"
    ratio = lambda a, b: f"{a / b:.2f}x" if a and b else "–"
    first = rows[0]
    versions = lambda tool: ", ".join(sorted({r.get("torch_version", "?") for r in rows if r["tool"] == tool})) or "–"
    if first["mode"] == "epoch":
        out = [f"preresnet, one training epoch on Fashion-MNIST ({first.get('images')} images, batch "
               f"{first.get('batch_size')}): propnet train vs PyTorch + torchvision DataLoader; images/s of the "
               "training phase"]
    else:
        device = first.get("device_name") or first.get("device", "")
        out = [f"preresnet, batch {first.get('batch_size')}, {device}; propnet on LibTorch {versions('propnet')}, "
               f"PyTorch {versions('pytorch')}; images/s = median over repeats of (batch / median step)"]
    out += ["| depth | propnet mode | propnet images/s | PyTorch eager fp32 | ratio | paired ratio, median (range) "
            "| PyTorch same mode | ratio |", "|---|---|---|---|---|---|---|---|"]
    for depth in sorted({r["depth"] for r in rows}):
        for mode in dict.fromkeys(r["mode"] for r in rows if r["tool"] == "propnet" and r["depth"] == depth):
            base = "fp32" if mode != "epoch" else "epoch"
            p, b, same = median("propnet", depth, mode), median("pytorch", depth, base), median("pytorch", depth, pytorch_mode(mode))
            out.append(f"| {depth} | {mode} | {fmt(p)} | {fmt(b)} | {ratio(p, b)} | {paired(depth, mode, base)} | "
                       f"{fmt(same)} | {ratio(p, same)} |")
    host = next((r for r in rows if r.get("cpu_model") is not None), None)
    if host:  # bf16 speed depends on the units (docs/bf16.md)
        out.append(f"CPU: {host['cpu_model'] or 'model unknown'} ({' '.join(host['cpu_features']) or 'no AVX2'})")
    cpu = next((r for r in rows if r["tool"] == "propnet" and "host_allocator" in r and r.get("device") == "cpu"), None)
    if cpu:  # what propnet does on the CPU that the PyTorch script does not (docs/performance.md)
        out.append(f"propnet on CPU: fused BN+ReLU {'on' if cpu.get('fused_bn_relu') else 'off'}; host allocator: "
                   f"{cpu['host_allocator']}; mode fp32 runs channels_last "
                   f"{'on (the auto default)' if cpu.get('channels_last') else 'off'}; PyTorch fp32 runs NCHW")
    return out


def run(args):
    propnet = Propnet.find(os.path.join(args.build_dir, "apps", "propnet"))
    python = peer_python(args)
    if subprocess.run([python, "-c", "import torch"], capture_output=True).returncode != 0:
        raise UsageError(f"{python} has no torch; pass --python")
    threads = ["--threads", str(args.threads)] if args.threads else []
    os.makedirs(args.out, exist_ok=True)
    log = os.path.join(args.out, f"bench-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.jsonl")
    rows = []
    with open(log, "w", encoding="utf-8") as f:
        for row in (epoch_runs if args.epoch else step_runs)(args, propnet, python, threads):
            rows.append(row)
            f.write(json.dumps(row) + "\n")
            f.flush()
    print("\n".join(["", *table(rows), "", f"raw results (one JSON per run): {log}"]))
    return 0
