"""Loads an extra export into its PyTorch twin the way a user does, and says what it found (one JSON line).

    /usr/bin/python3 scripts/torch_load_check.py MODEL FILE.safetensors [FIXTURE_INDEX]

MODEL is a network of scripts/onnx_models.py; the safetensors file is read by hand (Debian has no
safetensors package) into a state_dict and given to load_state_dict(strict=True). With FIXTURE_INDEX
(the case number scripts/onnx_fixtures.py used), the loaded tensors are compared with that fixture's
own state_dict: extra's import → export must give them back."""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_models import MODELS  # noqa: E402
from onnx_fixtures import prepared  # noqa: E402


def read_safetensors(path):
    raw = open(path, 'rb').read()
    n = struct.unpack('<Q', raw[:8])[0]
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    out = {}
    dtypes = {'F32': torch.float32, 'I64': torch.int64}
    for name, e in header.items():
        a, b = e['data_offsets']
        t = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=dtypes[e['dtype']]).reshape(e['shape'])
        out[name] = t.clone()
    return out


def main(name, file, index=None):
    model = MODELS[name][0]()
    sd = read_safetensors(file)
    model.load_state_dict(sd, strict=True)
    report = {'loaded': True, 'tensors': len(sd)}
    if index is not None:
        ref, _ = prepared(name, 100 + int(index))
        # num_batches_tracked is not in an ONNX file: an export from ONNX writes 0 (it only matters with momentum=None)
        diffs = {k: float((v.float() - sd[k].float()).abs().max()) for k, v in ref.state_dict().items() if not k.endswith('num_batches_tracked')}
        report['maxDiff'] = max(diffs.values())
        report['worst'] = max(diffs, key=diffs.get)
    print(json.dumps(report))


if __name__ == '__main__':
    main(*sys.argv[1:])
