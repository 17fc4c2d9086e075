"""The one cost estimate: how long runs and searches take, from `propnet bench` on the device that runs them.

An epoch costs its training images at the benchmark's images/s plus each test pass at a third of that (forward
only), times CALIBRATION. The benchmark times synthetic batches in one process; real epochs also load data and
checkpoint, but propnet bench's short timing (BENCH_STEPS after one warm-up) is slower than a long run's steady
state. CALIBRATION is the median of (measured epoch seconds / uncalibrated estimate) over the committed
Fashion-MNIST records (46 runs: plain-8, plain-20, plain-38, preresnet-20; 2 single-thread jobs at once on a
2-core AMD EPYC, AVX2), benchmarked on the same kind of machine: 0.74 (range 0.66-0.88; runs that shared the
cores with a build, 1.1-1.5, left out). Without it the estimates came out about 1.35x too pessimistic.
"""
import math

CALIBRATION = 0.74
TEST_PASS_COST = 1 / 3         # a test image costs a third of a training image (forward only)
SEARCH_OVERHEAD = 1.25         # gates' scoring steps, greedy's rounds: measured 1.0-1.25x a training run
BENCH_STEPS, BENCH_WARMUP = 4, 1
GPU_BENCH_STEPS, GPU_BENCH_WARMUP = 20, 5   # a GPU step is short and cuDNN autotunes first


def images(config, datasets):
    """(training images, test images) one epoch of `config` reads: its subsets of the data set's splits."""
    facts = datasets[config["data"]["dataset"]]
    subset, test_subset = config["data"].get("subset", 0), config["data"].get("test_subset", 0)
    train = min(subset, facts["train_images"]) if subset else facts["train_images"]
    test = min(test_subset, facts["test_images"]) if test_subset else facts["test_images"]
    return train - config["data"].get("val_split", 0), test


def test_passes(epochs, test_every=1):
    """Test passes of a run: after every test_every-th epoch and after the last."""
    test_every = max(1, test_every or 1)
    return epochs // test_every + (1 if epochs % test_every else 0)


def run_seconds(images_per_s, epochs, train_images, test_images, test_every=1, calibration=CALIBRATION):
    work = epochs * train_images + test_passes(epochs, test_every) * test_images * TEST_PASS_COST
    return calibration * work / images_per_s


def search_seconds(images_per_s, epochs, train_images, calibration=CALIBRATION):
    """A gates or greedy search over `train_images` (the validation images already held out)."""
    return SEARCH_OVERHEAD * calibration * epochs * train_images / images_per_s


def bench_args(config, threads=1):
    """`propnet bench` flags that time `config`'s network and step as it will run: device, precision, layout."""
    n, t = config["network"], config["train"]
    device = t.get("device") or "auto"
    cuda = str(device).startswith("cuda")
    steps, warmup = (GPU_BENCH_STEPS, GPU_BENCH_WARMUP) if cuda else (BENCH_STEPS, BENCH_WARMUP)
    args = ["--net", n["arch"], "--depth", n["depth"], "--classes", n["classes"], "--in-channels", n["in_channels"],
            "--batch-size", t["batch_size"], "--steps", steps, "--warmup", warmup, "--device", device,
            "--amp", t.get("amp", "off")]
    if n.get("widen_factor", 1) != 1:
        args += ["--widen-factor", n["widen_factor"]]
    if not cuda:
        args += ["--threads", threads]
    return [str(a) for a in args]


def hours(seconds):
    """"2.35 h", or minutes below an hour."""
    return f"{seconds / 3600:.2f} h" if seconds >= 3600 else f"{seconds / 60:.1f} min"


def wall_seconds(job_seconds, slots):
    """Jobs spread over `slots` parallel slots, longest first (a bound, not a schedule)."""
    if not job_seconds:
        return 0.0
    loads = [0.0] * max(1, slots)
    for s in sorted(job_seconds, reverse=True):
        loads[loads.index(min(loads))] += s
    return max(loads) if not math.isinf(max(loads)) else math.inf
