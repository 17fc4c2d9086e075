"""The propnet binary, and the facts the toolkit reads from it instead of restating them: the data-set table
(`propnet data --list --json`), the config schema (`propnet info --schema --json`), resolved configs with
expanded seed lists (`propnet train|search ... --print-config`), a network's sites and a benchmark."""
import concurrent.futures
import functools
import json
import os
import subprocess

from .cli import UsageError

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class Propnet:
    def __init__(self, path):
        self.path = path

    @classmethod
    def find(cls, given=None, must_exist=True):
        """--propnet, else $PROPNET, else build/apps/propnet of this checkout."""
        path = given or os.environ.get("PROPNET") or os.path.join(ROOT, "build", "apps", "propnet")
        path = os.path.abspath(path)
        if must_exist and not os.access(path, os.X_OK):
            raise UsageError(f"no propnet binary at {path} (scripts/build.sh builds it, or pass --propnet)")
        return cls(path)

    def exists(self):
        return os.access(self.path, os.X_OK)

    def json(self, *args):
        """Runs `propnet ARGS` and parses its standard output as JSON; a failure is a UsageError with propnet's
        own one-line error ("propnet train: --seeds: expected ...")."""
        command = [self.path, *map(str, args)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            message = (done.stderr.strip().splitlines() or ["exit code %d" % done.returncode])[-1]
            message = message.removeprefix("error: ")
            raise UsageError(f"propnet {message}" if message.startswith(f"{args[0]}:") else message)
        return json.loads(done.stdout)

    @functools.lru_cache(maxsize=None)
    def datasets(self):
        """name -> the data set's facts (classes, channels, train_images, test_images, title, ...)."""
        return {row["name"]: row for row in self.json("data", "--list", "--json")}

    @functools.lru_cache(maxsize=None)
    def schema(self):
        """config key ("train.epochs") -> {type, default, allowed, doc, flag, changes_results, required}."""
        return {row["key"]: row for row in self.json("info", "--schema", "--json")}

    def default(self, key):
        return self.schema()[key]["default"]

    def resolve(self, command, args):
        """The config `propnet COMMAND ARGS` would run, fully resolved: seeds expanded, "name" the folder's."""
        return self.json(command, *args, "--print-config")

    def resolve_many(self, command, argvs):
        """resolve() for each argument list, several at once (each starts LibTorch: about half a second)."""
        with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
            return list(pool.map(lambda argv: self.resolve(command, argv), argvs))

    def seeds(self, text, option="--seeds"):
        """A seed list ("0-4", "0,2,5", "0-2,7") expanded by propnet's own parser."""
        try:
            return self.resolve("train", ["--net", "plain", "--depth", "8", "--dataset", "fashion-mnist",
                                          "--seeds", text])["seeds"]
        except UsageError as e:  # propnet names --seeds; the caller's flag may be another
            raise UsageError(f"{option}: {str(e).rsplit('--seeds: ', 1)[-1]}") from None

    def sites(self, net_args):
        """`propnet info ... --sites --json`: the network's ReLU sites."""
        return self.json("info", *net_args, "--sites", "--json")

    def bench(self, args):
        return self.json("bench", *args, "--json")
