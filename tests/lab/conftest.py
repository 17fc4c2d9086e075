"""Shared by the toolkit's tests: the repository, the package on sys.path, the propnet binary ($PROPNET, set by
ctest), Fashion-MNIST, and `lab(...)`, which runs scripts/lab as a user would."""
import json
import os
import subprocess
import sys

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
sys.path.insert(0, os.path.join(REPO, "scripts"))
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


@pytest.fixture(scope="session")
def propnet():
    path = os.environ.get("PROPNET")
    if not path or not os.access(path, os.X_OK):
        pytest.skip("PROPNET (the propnet binary) is not set; ctest sets it")
    return os.path.abspath(path)


@pytest.fixture(scope="session")
def fashion_mnist():
    if not os.path.exists(os.path.join(FASHION_MNIST, "train-images-idx3-ubyte.gz")):
        pytest.skip(f"{FASHION_MNIST} is missing (apt install dataset-fashion-mnist)")
    return FASHION_MNIST


@pytest.fixture
def lab(propnet):
    """lab(*args, check=True) -> CompletedProcess of `scripts/lab ARGS` with this build's propnet."""
    def run(*args, check=True, timeout=300):
        env = dict(os.environ, PROPNET=propnet)
        done = subprocess.run([os.path.join(REPO, "scripts", "lab"), *map(str, args)], capture_output=True,
                              text=True, env=env, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"scripts/lab {' '.join(map(str, args))} exited {done.returncode}:\n{done.stderr}")
        return done
    return run


def write_run(run_dir, config, finals, epochs):
    """A finished run folder as propnet writes it: config.json, summary.json (every seed done) and each seed's
    metrics.jsonl with one line, its last epoch; finals maps seed -> that epoch's metrics (with "test_acc")."""
    for seed, metrics in finals.items():
        (run_dir / f"seed-{seed}").mkdir(parents=True)
        (run_dir / f"seed-{seed}" / "metrics.jsonl").write_text(json.dumps({"epoch": epochs, **metrics}) + "\n")
    (run_dir / "summary.json").write_text(json.dumps({"seeds": [
        {"seed": s, "status": "done", "final_test_acc": m["test_acc"], "epochs_completed": epochs}
        for s, m in finals.items()]}))
    (run_dir / "config.json").write_text(json.dumps(config))


def assert_rebuilt(report, record, names, out):
    """report(record, out) writes the files `names` byte for byte as committed beside the record."""
    report(record, str(out))
    folder = os.path.dirname(record)
    for name in names:
        with open(os.path.join(folder, name), "rb") as f:
            assert (out / name).read_bytes() == f.read(), name
