"""Shared by the toolkit's tests: the repository, the package on sys.path, the propnet binary ($PROPNET, set by
ctest), Fashion-MNIST, and `lab(...)`, which runs scripts/lab as a user would."""
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
