# An independent PyTorch twin of examples/residual-bn/model.json: loads the safetensors that
# `extra export --format safetensors` writes for it (PyTorch names and layouts, BatchNorm running
# statistics included) and reports each task's test accuracy, to compare with extra's own numbers.
# Comparison only; never a dependency of extra. Usage:
#   python3 scripts/torch_residual_check.py MODEL.safetensors X_TEST.npy Y_TEST.npy
import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import ResidualBN  # noqa: E402


def read_safetensors(path):
    # the format: u64 header length, JSON header, raw little-endian data (no safetensors package needed)
    with open(path, 'rb') as f:
        buf = f.read()
    n = struct.unpack('<Q', buf[:8])[0]
    header = json.loads(buf[8:8 + n])
    out = {}
    for name, e in header.items():
        if name == '__metadata__':
            continue
        a, b = e['data_offsets']
        out[name] = torch.from_numpy(np.frombuffer(buf[8 + n + a:8 + n + b], dtype='<f4').copy().reshape(e['shape']))
    return out


def main():
    state = read_safetensors(sys.argv[1])
    # our export names layers 'stem_conv', 'stem_bn', ...: map them onto the modules above
    mapped = {}
    for k, v in state.items():
        layer, field = k.rsplit('.', 1)
        for block in ('stem', 'block1a', 'block1b', 'down'):
            for part in ('conv', 'bn'):
                if layer == f'{block}_{part}':
                    layer = f'{block}.{part}'
        mapped[f'{layer}.{field}'] = v
    model = ResidualBN()
    missing, unexpected = model.load_state_dict(mapped, strict=False)
    missing = [m for m in missing if not m.endswith('num_batches_tracked')]
    if missing or unexpected:
        sys.exit(f'state dict mismatch: missing {missing}, unexpected {unexpected}')
    model.eval()
    x = torch.from_numpy(np.load(sys.argv[2]).astype(np.float32)).permute(0, 3, 1, 2)
    y = np.load(sys.argv[3])
    with torch.no_grad():
        outs = model(x)
    for k, o in enumerate(outs):
        acc = (o.argmax(1).numpy() == y[:, k]).mean()
        print(f'task {k}: PyTorch test accuracy {100 * acc:.2f}% ({int(round(acc * len(y)))}/{len(y)})')


main()
