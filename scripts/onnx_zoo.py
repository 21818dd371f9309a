"""The networks PyTorch users have (#41), small: torchvision 0.14's families built from its own modules at
narrow widths on 3x32x32 inputs, a hand-written vision transformer, and one network of the single ops, each
with two Linear heads on pooled features. Writes test/fixtures/onnx-zoo/NAME-opO.onnx with NAME-opO.json
(PyTorch's outputs on a fixed input, and the state_dict's names and shapes):

    /usr/bin/python3 scripts/onnx_zoo.py [OUT] [NAME ...]

The input is not stored: x[i] = ((i * 37) % 101) / 101 * 2 - 1 in float32 (test/models/onnx-zoo.test.ts
computes the same). Weights are random and perturbed as after training (BatchNorm statistics from a few
training passes, every parameter moved off its initial value).
"""
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision.models import convnext, densenet, efficientnet, mobilenetv3, regnet, resnet, shufflenetv2, squeezenet
from torchvision.models.googlenet import BasicConv2d, Inception

from torch_models import Attention  # the batch-first attention extra imports (this script's folder is on sys.path)


class TwoHeads(nn.Module):
    """features → global average pool → two Linear heads (10 classes, 1 unit)."""

    def __init__(self, features, channels):
        super().__init__()
        self.features = features
        self.heads = nn.ModuleList([nn.Linear(channels, 10), nn.Linear(channels, 3)])

    def forward(self, x):
        z = self.features(x)
        z = torch.flatten(F.adaptive_avg_pool2d(z, 1), 1) if z.dim() == 4 else z
        return tuple(h(z) for h in self.heads)


def squeeze():
    f = squeezenet.Fire
    return TwoHeads(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, ceil_mode=True),
                                  f(8, 4, 8, 8), f(16, 4, 8, 8), nn.MaxPool2d(3, 2, ceil_mode=True), f(16, 4, 8, 8),
                                  nn.Dropout(0.5), nn.Conv2d(16, 12, 1), nn.ReLU(inplace=True)), 12)


class Shuffle(shufflenetv2.ShuffleNetV2):
    def __init__(self):
        super().__init__([2, 1, 1], [8, 16, 24, 32, 32])
        self.heads = nn.ModuleList([nn.Linear(32, 10), nn.Linear(32, 3)])

    def forward(self, x):
        x = self.conv5(self.stage4(self.stage3(self.stage2(self.maxpool(self.conv1(x))))))
        x = x.mean([2, 3])
        return tuple(h(x) for h in self.heads)


def efficient():
    c = efficientnet.MBConvConfig
    net = efficientnet.EfficientNet([c(1, 3, 1, 8, 8, 1), c(4, 3, 2, 8, 12, 1), c(4, 5, 2, 12, 16, 1)], dropout=0.2, stochastic_depth_prob=0.2)
    return TwoHeads(net.features, 64)


def mobile3():
    c = mobilenetv3.InvertedResidualConfig
    net = mobilenetv3.MobileNetV3([c(8, 3, 8, 8, True, 'RE', 2, 1, 1.0), c(8, 3, 24, 12, False, 'RE', 2, 1, 1.0),
                                   c(12, 5, 32, 16, True, 'HS', 1, 1, 1.0), c(16, 3, 48, 16, True, 'HS', 1, 2, 1.0)], last_channel=32)
    return TwoHeads(net.features, 96)


def reg():
    net = regnet.RegNet(regnet.BlockParams.from_init_params(depth=3, w_0=8, w_a=8.0, w_m=2.0, group_width=4, se_ratio=0.25), stem_width=8)
    return TwoHeads(nn.Sequential(net.stem, net.trunk_output), net.fc.in_features)


def resnext():
    b = resnet.Bottleneck
    down = lambda i, o, s: nn.Sequential(nn.Conv2d(i, o, 1, stride=s, bias=False), nn.BatchNorm2d(o))
    return TwoHeads(nn.Sequential(nn.Conv2d(3, 16, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU(inplace=True),
                                  b(16, 8, 1, down(16, 32, 1), groups=4, base_width=16), b(32, 8, 2, down(32, 32, 2), groups=4, base_width=16)), 32)


def resnet_tied():
    """BasicBlocks whose bn2.bias and downsample.1.bias are equal, as training leaves them (torch.onnx.export merges them)."""
    b = resnet.BasicBlock
    down = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 1, stride=2, bias=False), nn.BatchNorm2d(o))
    return TwoHeads(nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                                  nn.MaxPool2d(3, 2, 1), b(8, 8), b(8, 16, 2, down(8, 16))), 16)


def dense():
    net = densenet.DenseNet(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2)
    return TwoHeads(nn.Sequential(net.features, nn.ReLU()), net.classifier.in_features)


def google():
    i, c = Inception, BasicConv2d
    return TwoHeads(nn.Sequential(c(3, 8, kernel_size=3, stride=2), nn.MaxPool2d(3, 2, ceil_mode=True), i(8, 4, 4, 8, 2, 4, 4),
                                  nn.MaxPool2d(3, 2, ceil_mode=True), i(20, 8, 4, 8, 2, 4, 4)), 24)


def convnx():
    c = convnext.CNBlockConfig
    net = convnext.ConvNeXt([c(8, 16, 1), c(16, None, 1)], stochastic_depth_prob=0.1)
    return TwoHeads(net.features, 16)


class Vit(nn.Module):
    """a small vision transformer: 8x8 patches, a class token (expanded over the batch), a learned positional
    embedding, one pre-norm block, the class token's features (x[:, 0]) to two heads."""

    def __init__(self, dim=16, heads=2):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, stride=8)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.zeros(1, 17, dim))
        self.ln1, self.ln2, self.ln = nn.LayerNorm(dim), nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))
        self.heads = nn.ModuleList([nn.Linear(dim, 10), nn.Linear(dim, 3)])

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        x = x + self.attn(self.ln1(x))
        x = x + self.mlp(self.ln2(x))
        z = self.ln(x)[:, 0]
        return tuple(h(z) for h in self.heads)


class Ops(nn.Module):
    """the single ops: hard and smooth activations, PRelu, dilated and grouped convolutions, pools with ceil_mode,
    padding and dilation, a strided slice, a channel pick, softmax over channels, reductions."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 6, 3, padding=2, dilation=2)
        self.c2 = nn.Conv2d(6, 6, 3, stride=2, padding=2, dilation=2, groups=3)
        self.c3 = nn.Conv2d(6, 12, 3, padding=1, groups=2)
        self.prelu = nn.PReLU(12)
        self.c4 = nn.Conv2d(12, 8, 1)
        self.heads = nn.ModuleList([nn.Linear(8 + 4 + 8, 10), nn.Linear(8 + 4 + 8, 3)])

    def forward(self, x):
        x = F.hardswish(self.c1(x))
        x = F.hardsigmoid(self.c2(x)) * F.softplus(x[:, :, -31::2, ::2])
        x = F.selu(self.c3(F.mish(x)))
        x = F.avg_pool2d(self.prelu(x), 3, 2, padding=1, ceil_mode=True, count_include_pad=False)
        x = F.max_pool2d(self.c4(x), 2, 2, ceil_mode=True)
        s = torch.softmax(F.max_pool2d(x, 3, 1, padding=1, dilation=2), dim=1)
        pick = x[:, 1:5].amax(dim=(2, 3))
        return tuple(h(torch.cat([s.mean((2, 3)), pick, x.sum((2, 3)) * 0.1 + F.elu(x).min(3)[0].mean(2)], 1)) for h in self.heads)


class Norms(nn.Module):
    """normalizations written by hand: RMSNorm (x², rsqrt), a channels-first LayerNorm (mean over C), LayerNorm's primitive
    form with its variance read again elsewhere, erf alone."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 4, stride=4)
        self.g = nn.Parameter(torch.ones(8))
        self.heads = nn.ModuleList([nn.Linear(8 * 4 + 1, 10), nn.Linear(8 * 4 + 1, 3)])

    def forward(self, x):
        x = self.conv(x)
        u = x.mean(1, keepdim=True)
        x = (x - u) / torch.sqrt((x - u).pow(2).mean(1, keepdim=True) + 1e-6)
        t = x.flatten(2).transpose(1, 2)
        rms = t * torch.rsqrt(t.pow(2).mean(-1, keepdim=True) + 1e-6) * self.g
        c = t - t.mean(-1, keepdim=True)
        var = c.pow(2).mean(-1, keepdim=True)
        ln = c / torch.sqrt(var + 1e-5)
        z = torch.cat([rms.mean(1), ln.mean(1), torch.erf(t).mean(1), torch.exp(-t).mean(1), var.squeeze(-1).mean(1, keepdim=True)], 1)
        return tuple(h(z) for h in self.heads)


NETS = {
    'squeezenet': squeeze, 'shufflenet': Shuffle, 'efficientnet': efficient, 'mobilenet-v3': mobile3, 'regnet': reg,
    'resnext': resnext, 'resnet-tied': resnet_tied, 'densenet': dense, 'googlenet': google, 'convnext': convnx, 'vit': Vit, 'ops': Ops,
    'norms': Norms,
}
OPSETS = {'norms': (11, 17), 'vit': (11, 13, 17), 'mobilenet-v3': (13, 17), 'ops': (11, 13, 17), 'convnext': (13, 17), 'shufflenet': (11, 13)}


def input_for(shape):
    n = 2 * shape[0] * shape[1] * shape[2]
    return torch.tensor([((i * 37) % 101) / 101 * 2 - 1 for i in range(n)], dtype=torch.float32).reshape(2, *shape)


def prepared(name, seed):
    torch.manual_seed(seed)
    model = NETS[name]()
    model.train()
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn_like(p) * 0.05)
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.LayerNorm)):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.2, 0.2)
        if name == 'resnet-tied':
            blk = model.features[5]
            blk.downsample[1].bias.copy_(blk.bn2.bias)
        for _ in range(3):
            model(torch.rand(8, 3, 32, 32) * 2 - 0.5)
    model.eval()
    return model


def main(out, names=()):
    os.makedirs(out, exist_ok=True)
    for i, name in enumerate(NETS):
        if names and name not in names:
            continue
        for opset in OPSETS.get(name, (13,)):
            model = prepared(name, 200 + i)
            x = input_for((3, 32, 32))
            stem = f'{name}-op{opset}'
            path = os.path.join(out, stem + '.onnx')
            torch.onnx.export(model, x, path, opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE, input_names=['x'], output_names=['task0', 'task1'],
                              dynamic_axes={'x': {0: 'batch'}, 'task0': {0: 'batch'}, 'task1': {0: 'batch'}})
            with torch.no_grad():
                ys = model(x)
            with open(os.path.join(out, stem + '.json'), 'w') as f:
                json.dump({'model': name, 'opset': opset, 'torch': torch.__version__, 'input': list(x.shape),
                           'outputs': [{'shape': list(y.shape), 'data': y.flatten().tolist()} for y in ys],
                           'stateDict': {k: list(v.shape) for k, v in model.state_dict().items()}}, f)
            print(stem, os.path.getsize(path), 'bytes', sum(p.numel() for p in model.parameters()), 'parameters')


def check(name, file, index=None):
    """`--check NAME FILE.safetensors [OPSET]`: load_state_dict(strict=True) into the PyTorch network, as a user
    does; with OPSET, also how far the loaded tensors are from the fixture's own (an export at an end of a curve
    gives them back)."""
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_load_check import read_safetensors  # noqa: E402
    model = NETS[name]()
    sd = read_safetensors(file)
    model.load_state_dict(sd, strict=True)
    report = {'loaded': True, 'tensors': len(sd)}
    if index is not None:
        ref = prepared(name, 200 + list(NETS).index(name)).state_dict()
        diffs = {k: float((v.float() - sd[k].float()).abs().max()) for k, v in ref.items() if not k.endswith('num_batches_tracked')}
        report['maxDiff'] = max(diffs.values())
        report['worst'] = max(diffs, key=diffs.get)
    print(json.dumps(report))


if __name__ == '__main__':
    if len(sys.argv) > 1 and sys.argv[1] == '--check':
        check(*sys.argv[2:])
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/onnx-zoo', tuple(sys.argv[2:]))
