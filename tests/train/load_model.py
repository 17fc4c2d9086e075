"""Loads a propnet model.pt with Python's torch and dumps every parameter and buffer as JSON.

usage: load_model.py MODEL_PT OUT_JSON
The C++ test compares the values with what LibTorch loads, name by name.
"""
import json
import sys

import torch

module = torch.jit.load(sys.argv[1], map_location="cpu")
tensors = dict(module.named_parameters())
tensors.update(dict(module.named_buffers()))
out = {
    name: {"shape": list(t.shape), "values": t.detach().double().flatten().tolist()}
    for name, t in tensors.items()
}
with open(sys.argv[2], "w") as f:
    json.dump(out, f)
print(f"loaded {len(out)} tensors from {sys.argv[1]} with torch {torch.__version__}")
