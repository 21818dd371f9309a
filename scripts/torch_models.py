# The PyTorch twins of extra's built-in models and of examples/residual-bn, shared by the comparison
# scripts (bench_torch.py, bench_torch_train.py, torch_residual_check.py). Comparison only; never a
# dependency of extra.
import torch.nn as nn
import torch.nn.functional as F


class LeNetMTL(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 9)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.fc = nn.Linear(500, 50)
        self.heads = nn.ModuleList([nn.Linear(50, 10), nn.Linear(50, 10)])

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc(x.flatten(1)))
        return [h(x) for h in self.heads]


class MLPMTL(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Sequential(nn.Flatten(), nn.Linear(1296, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU())
        self.heads = nn.ModuleList([nn.Linear(256, 10), nn.Linear(256, 10)])

    def forward(self, x):
        z = self.trunk(x)
        return [h(z) for h in self.heads]


def conv_bn(cin, cout, stride=1):
    return nn.ModuleDict({'conv': nn.Conv2d(cin, cout, 3, stride, padding=0, bias=False), 'bn': nn.BatchNorm2d(cout, eps=1e-3)})


def same(x, stride):
    # TensorFlow's 'same' padding: the odd pixel goes to the bottom/right
    size = x.shape[-1]
    out = -(-size // stride)
    total = max((out - 1) * stride + 3 - size, 0)
    return F.pad(x, (total // 2, total - total // 2, total // 2, total - total // 2))


class ResidualBN(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem, self.block1a, self.block1b = conv_bn(1, 16), conv_bn(16, 16), conv_bn(16, 16)
        self.down = conv_bn(16, 32, 2)
        self.fc = nn.Linear(512, 64)
        self.left, self.right = nn.Linear(64, 10), nn.Linear(64, 10)

    @staticmethod
    def apply(m, x, stride=1):
        return m['bn'](m['conv'](same(x, stride)))

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.apply(self.stem, x)), 2)
        r = self.apply(self.block1b, F.relu(self.apply(self.block1a, h)))
        h = F.relu(h + r)
        h = F.max_pool2d(F.relu(self.apply(self.down, h, 2)), 2)
        h = F.relu(self.fc(h.flatten(1)))
        return self.left(h), self.right(h)


class SegNetMTL(nn.Module):
    """extra's segnet-mtl (src/models/segnet.ts): 3×3 'same' convs 16, pool, 32, pool, 32, nearest ×2, 16,
    nearest ×2, 16 (ReLU after each), then one 3×3 'same' conv head per task (default: seg 11, depth 1, normals 3)."""

    def __init__(self, channels=(11, 1, 3), cin=1):
        super().__init__()
        self.enc = nn.ModuleList([nn.Conv2d(cin, 16, 3, padding=1), nn.Conv2d(16, 32, 3, padding=1), nn.Conv2d(32, 32, 3, padding=1)])
        self.dec = nn.ModuleList([nn.Conv2d(32, 16, 3, padding=1), nn.Conv2d(16, 16, 3, padding=1)])
        self.heads = nn.ModuleList([nn.Conv2d(16, c, 3, padding=1) for c in channels])

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.enc[0](x)), 2)
        h = F.max_pool2d(F.relu(self.enc[1](h)), 2)
        h = F.relu(self.enc[2](h))
        h = F.relu(self.dec[0](F.interpolate(h, scale_factor=2, mode='nearest')))
        h = F.relu(self.dec[1](F.interpolate(h, scale_factor=2, mode='nearest')))
        return [head(h) for head in self.heads]
