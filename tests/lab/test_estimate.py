"""scripts/propnet_lab/estimate.py: the cost arithmetic on known answers."""
import math

from propnet_lab import common, estimate

FACTS = {"fashion-mnist": {"train_images": 60000, "test_images": 10000}}


def config(subset=0, test_subset=0, val_split=0, epochs=6, test_every=1):
    return {"data": {"dataset": "fashion-mnist", "subset": subset, "test_subset": test_subset, "val_split": val_split},
            "train": {"epochs": epochs, "test_every": test_every, "batch_size": 64}}


def test_test_passes_count_every_nth_epoch_and_the_last():
    assert estimate.test_passes(6, 1) == 6
    assert estimate.test_passes(6, 3) == 2
    assert estimate.test_passes(7, 3) == 3      # epochs 3, 6 and the last
    assert estimate.test_passes(3, 10) == 1     # the last only


def test_images_take_subsets_and_the_validation_split_from_the_data_sets_facts():
    assert estimate.images(config(), FACTS) == (60000, 10000)
    assert estimate.images(config(subset=10000, test_subset=5000), FACTS) == (10000, 5000)
    assert estimate.images(config(subset=100000, test_subset=20000), FACTS) == (60000, 10000)  # capped
    assert estimate.images(config(subset=10000, val_split=2000), FACTS) == (8000, 10000)


def test_a_run_costs_its_training_images_plus_a_third_of_each_test_pass():
    # 6 epochs x 1,000 images + 6 test passes x 300 images / 3 = 6,600 images at 100 images/s = 66 s.
    assert math.isclose(estimate.run_seconds(100, 6, 1000, 300, calibration=1.0), 66.0)
    # Testing after every 3rd epoch: 6,000 + 2 x 100 = 6,200 images.
    assert math.isclose(estimate.run_seconds(100, 6, 1000, 300, test_every=3, calibration=1.0), 62.0)
    assert math.isclose(estimate.run_seconds(100, 6, 1000, 300), 66.0 * estimate.CALIBRATION)


class FakePropnet:
    """Stands in for the binary: its data-set facts and a benchmark on `device`."""

    def __init__(self, device):
        self.device, self.benched = device, 0

    def datasets(self):
        return FACTS

    def bench(self, args):
        self.benched += 1
        return {"images_per_s": 1000.0, "device": self.device}


NETWORK = {"arch": "plain", "depth": 8, "classes": 10, "in_channels": 1}


def full_config(device):
    c = config(subset=10000, test_subset=5000, epochs=6)
    c["network"] = NETWORK
    c["train"].update(device=device, amp="off")
    return c


def test_cpu_benchmarks_are_calibrated_and_each_network_is_benched_once():
    fake = FakePropnet("cpu")
    est = common.Estimate(fake)
    work = 6 * 10000 + 6 * 5000 / 3
    assert math.isclose(est.run_seconds(full_config("cpu")), estimate.CALIBRATION * work / 1000)
    est.run_seconds(full_config("cpu"))
    assert fake.benched == 1 and "calibrated" in est.source()


def test_gpu_benchmarks_and_given_rates_are_taken_as_they_are():
    work = 6 * 10000 + 6 * 5000 / 3
    assert math.isclose(common.Estimate(FakePropnet("cuda:0")).run_seconds(full_config("cuda")), work / 1000)
    given = common.Estimate(FakePropnet("cpu"), rate=100)
    assert math.isclose(given.run_seconds(full_config("cpu")), work / 100) and "not measured" in given.source()
    assert math.isclose(given.search_seconds(full_config("cpu"), 2000), 1.25 * 6 * 8000 / 100)


def test_searches_cost_a_quarter_more_than_a_run_of_their_training_images():
    assert math.isclose(estimate.search_seconds(100, 2, 800, calibration=1.0), 1.25 * 16.0)


def test_wall_time_spreads_jobs_over_slots_longest_first():
    assert estimate.wall_seconds([], 2) == 0
    assert estimate.wall_seconds([3, 3, 2, 2], 2) == 5      # {3, 2} and {3, 2}
    assert estimate.wall_seconds([4, 1, 1, 1, 1], 2) == 4   # {4} and {1, 1, 1, 1}
    assert estimate.wall_seconds([5, 1, 1], 4) == 5


def test_bench_arguments_time_the_configs_network_precision_and_device():
    c = {"network": {"arch": "plain", "depth": 20, "classes": 10, "in_channels": 1, "widen_factor": 1},
         "train": {"batch_size": 64, "device": "cpu", "amp": "bf16"}}
    args = estimate.bench_args(c)
    assert args[args.index("--amp") + 1] == "bf16" and args[args.index("--in-channels") + 1] == "1"
    assert args[args.index("--threads") + 1] == "1"
    c["train"]["device"] = "cuda"
    args = estimate.bench_args(c)
    assert "--threads" not in args and args[args.index("--steps") + 1] == str(estimate.GPU_BENCH_STEPS)
