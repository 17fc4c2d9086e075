#!/usr/bin/env python3
"""The PyTorch baseline of `propnet bench`: the same pre-activation ResNet and training step, written
the way a PyTorch user writes it (nn.Module, in-place ReLUs, torch.optim.SGD, eager mode).

    bench_pytorch.py step  --depth 110 --batch-size 64 --steps 20 [--device cuda] [--amp bf16] [--channels-last]
    bench_pytorch.py epoch --depth 20 --subset 3200 [--workers 2]   # Fashion-MNIST, torchvision DataLoader

Prints one JSON object with the keys of `propnet bench --json` (images_per_s, step_ms_p50, ...).
Used by `scripts/lab bench`; runs with whatever torch the interpreter has.
"""
import argparse
import gzip
import json
import os
import resource
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


# --- the network (spec §4: pre-activation building block, option A shortcuts, shared pre-activation) ---
class PreActBlock(nn.Module):
    def __init__(self, cin, cout, stride, shared_preact, keep_first_relu):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(cin, eps=2e-5)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout, eps=2e-5)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.relu = nn.ReLU(inplace=True)
        self.stride, self.pad = stride, cout - cin
        self.shared_preact, self.keep_first_relu = shared_preact, keep_first_relu

    def shortcut(self, x):
        if self.stride != 1:
            x = x[:, :, ::self.stride, ::self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.pad)) if self.pad else x

    def forward(self, x):
        out = self.bn1(x)
        if self.keep_first_relu:
            out = self.relu(out)
        shortcut = self.shortcut(out if self.shared_preact else x)
        out = self.conv1(out)
        out = self.conv2(self.relu(self.bn2(out)))
        return out + shortcut


class PreActResNet(nn.Module):
    def __init__(self, depth, classes=10, in_channels=3, variant="paired"):
        super().__init__()
        assert (depth - 2) % 6 == 0, "depth must be 6n+2"
        n = (depth - 2) // 6
        self.conv = nn.Conv2d(in_channels, 16, 3, 1, 1, bias=False)
        layers, cin = [], 16
        for stage, width in enumerate((16, 32, 64)):
            for i in range(n):
                layers.append(PreActBlock(cin, width, 2 if (stage > 0 and i == 0) else 1,
                                          shared_preact=(i == 0), keep_first_relu=(variant == "paired")))
                cin = width
        self.layers = nn.Sequential(*layers)
        self.bn = nn.BatchNorm2d(64, eps=2e-5)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = F.relu(self.bn(self.layers(self.conv(x))), inplace=True)
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def peak_mem_mb(device):
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def make_model(args, device):
    torch.manual_seed(0)
    model = PreActResNet(args.depth, args.classes, args.in_channels, args.variant).to(device)
    if args.channels_last:
        model = model.to(memory_format=torch.channels_last)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    return model, opt


def train_step(model, opt, x, y, amp_dtype):
    opt.zero_grad(set_to_none=True)
    if amp_dtype is None:
        loss = F.cross_entropy(model(x), y)
    else:
        with torch.autocast(x.device.type, dtype=amp_dtype):
            loss = F.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    return loss


def bench_step(args):
    device = torch.device(args.device)
    model, opt = make_model(args, device)
    x = torch.randn(args.batch_size, args.in_channels, 32, 32, device=device)
    if args.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, args.classes, (args.batch_size,), device=device)
    amp = {"off": None, "bf16": torch.bfloat16, "fp16": torch.float16}[args.amp]
    if amp is torch.float16:
        raise SystemExit("bench_pytorch.py: --amp fp16 needs a GradScaler; use bf16")
    for _ in range(args.warmup):
        train_step(model, opt, x, y, amp)
    sync(device)
    times = []
    for _ in range(args.steps):
        start = time.perf_counter()
        train_step(model, opt, x, y, amp)
        sync(device)
        times.append(time.perf_counter() - start)
    return times


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return torch.frombuffer(bytearray(data[4 + 4 * dims:]), dtype=torch.uint8).reshape(shape)


def bench_epoch(args):
    """One training epoch the idiomatic way: a Dataset of PIL images, torchvision transforms
    (pad to 32x32, pad-4 random crop, flip, normalize) and a DataLoader."""
    import torchvision.transforms as T
    from PIL import Image

    images = read_idx(os.path.join(args.data_dir, "train-images-idx3-ubyte.gz"))[:args.subset]
    labels = read_idx(os.path.join(args.data_dir, "train-labels-idx1-ubyte.gz"))[:args.subset].long()
    transform = T.Compose([T.Pad(2), T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize((55.8450 / 255,), (84.6119 / 255,))])

    class FashionMNIST(torch.utils.data.Dataset):
        def __len__(self):
            return len(images)

        def __getitem__(self, i):
            return transform(Image.fromarray(images[i].numpy(), mode="L")), labels[i]

    device = torch.device(args.device)
    args.in_channels, args.classes = 1, 10
    model, opt = make_model(args, device)
    loader = torch.utils.data.DataLoader(FashionMNIST(), batch_size=args.batch_size, shuffle=True,
                                         num_workers=args.workers, pin_memory=device.type == "cuda")
    model.train()
    start = time.perf_counter()
    times, last = [], start
    for x, y in loader:
        train_step(model, opt, x.to(device, non_blocking=True), y.to(device, non_blocking=True), None)
        sync(device)
        now = time.perf_counter()
        times.append(now - last)
        last = now
    return times, time.perf_counter() - start, len(images)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["step", "epoch"])
    parser.add_argument("--depth", type=int, default=20)
    parser.add_argument("--variant", choices=["paired", "proportional"], default="paired")
    parser.add_argument("--classes", type=int, default=10)
    parser.add_argument("--in-channels", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--amp", choices=["off", "bf16", "fp16"], default="off")
    parser.add_argument("--channels-last", action="store_true")
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (default: every core)")
    parser.add_argument("--data-dir", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--subset", type=int, default=None, help="the first N training images (default: all)")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads or os.cpu_count())  # as propnet: every core by default
    # propnet autotunes cuDNN unless --deterministic (trainer, bench); so must the baseline, or the
    # ratio measures autotuning rather than C++ against Python.
    torch.backends.cudnn.benchmark = args.device.startswith("cuda")

    result = {"tool": "pytorch", "mode": args.mode, "net": "preresnet", "depth": args.depth,
              "variant": args.variant, "batch_size": args.batch_size, "device": args.device,
              "amp": args.amp, "channels_last": args.channels_last, "threads": torch.get_num_threads(),
              "torch_version": torch.__version__, "cudnn_benchmark": torch.backends.cudnn.benchmark}
    if args.mode == "step":
        times = bench_step(args)
        result["steps"] = len(times)
    else:
        times, wall, images = bench_epoch(args)
        result.update(workers=args.workers, images=images, epoch_seconds=wall,
                      epoch_images_per_s=images / wall)
    times_ms = sorted(t * 1000 for t in times)
    p50 = statistics.median(times_ms)
    result.update(images_per_s=args.batch_size / (p50 / 1000), step_ms_p50=p50,
                  step_ms_p90=times_ms[min(len(times_ms) - 1, int(0.9 * len(times_ms)))],
                  peak_mem_mb=peak_mem_mb(torch.device(args.device)))
    print(json.dumps(result))


if __name__ == "__main__":
    main()
