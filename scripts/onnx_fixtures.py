"""Writes the ONNX fixtures of test/fixtures/onnx with Debian's PyTorch (apt-get install python3-torch):
each network of scripts/onnx_models.py exported by torch.onnx.export at opsets 13 and 17, in PRESERVE
mode (BatchNormalization kept, initializers under their state_dict names) and, for the BatchNorm
network, in EVAL mode (BatchNorm folded into the convolutions), with PyTorch's outputs on a fixed
input beside each file (NAME.json: input, outputs, and the state_dict's tensors' names and shapes).

    /usr/bin/python3 scripts/onnx_fixtures.py test/fixtures/onnx [NAME ...]

Names (of scripts/onnx_models.py's MODELS) write only those networks' fixtures.
"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from onnx_models import MODELS  # noqa: E402


def prepared(name, seed):
    torch.manual_seed(seed)
    cls, shape = MODELS[name]
    model = cls()
    # running statistics that are not the initial ones: a few training-mode passes
    model.train()
    with torch.no_grad():
        # affine parameters of a trained network (torch.onnx.export merges equal initializers, e.g. fresh ones)
        for m in model.modules():
            if isinstance(m, (torch.nn.BatchNorm2d, torch.nn.BatchNorm1d, torch.nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        for _ in range(3):
            model(torch.rand(8, *shape) * 2 - 0.5)
    model.eval()
    return model, shape


def main(out, names=()):
    os.makedirs(out, exist_ok=True)
    cases = [(m, o, 'preserve') for m in MODELS for o in (13, 17)] + [('residual-bn', 13, 'eval'), ('lenet', 17, 'eval'), ('resnet-stem', 11, 'preserve'), ('silu-mean', 11, 'eval')]
    cases += [('resize', 11, 'preserve')]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        sys.exit(f'unknown model(s) {unknown}; known: {list(MODELS)}')
    for i, (name, opset, mode) in enumerate(cases):
        if names and name not in names:
            continue
        model, shape = prepared(name, 100 + i)
        x = torch.rand(2, *shape, generator=torch.Generator().manual_seed(7))
        stem = f'{name}-op{opset}-{mode}'
        path = os.path.join(out, stem + '.onnx')
        training = torch.onnx.TrainingMode.PRESERVE if mode == 'preserve' else torch.onnx.TrainingMode.EVAL
        with torch.no_grad():
            ys = model(x)
        outs = [f'task{k}' for k in range(len(ys))]
        torch.onnx.export(model, x, path, opset_version=opset, training=training, input_names=['x'], output_names=outs,
                          dynamic_axes={'x': {0: 'batch'}, **{o: {0: 'batch'} for o in outs}})
        sd = model.state_dict()
        with open(os.path.join(out, stem + '.json'), 'w') as f:
            json.dump({
                'model': name, 'opset': opset, 'mode': mode, 'torch': torch.__version__,
                'input': {'shape': list(x.shape), 'data': [round(v, 8) for v in x.flatten().tolist()]},
                'outputs': [{'shape': list(y.shape), 'data': y.flatten().tolist()} for y in ys],
                'stateDict': {k: list(v.shape) for k, v in sd.items()},
            }, f)
        print(stem, os.path.getsize(path), 'bytes')


if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/onnx', tuple(sys.argv[2:]))
