"""The paper's experiments as targets: configs/paper/targets.json lists, per table or figure, its rows' configs
in the paper's order. Read by `reproduce` (which runs them) and `report` (which tabulates them)."""
import os

from .binary import ROOT
from .runs import load_json
from .cli import UsageError

TARGETS = ["table1", "table2", "fig6", "fig7", "fig8", "table3"]  # the paper's order; "all" runs them in it


def load_targets(configs_dir=os.path.join(ROOT, "configs", "paper")):
    manifest = load_json(os.path.join(configs_dir, "targets.json"))
    return {k: v for k, v in manifest.items() if not k.startswith("_")}


def expand(names):
    out = []
    for name in names:
        if name == "all":
            out += TARGETS
        elif name in TARGETS:
            out.append(name)
        else:
            raise UsageError(f'unknown target "{name}"; expected one of: {", ".join(TARGETS)}, all')
    return list(dict.fromkeys(out))
