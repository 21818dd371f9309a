# The PyTorch twins of extra's built-in models and of examples/residual-bn, shared by the comparison
# scripts (bench_torch.py, bench_torch_train.py, torch_residual_check.py). Comparison only; never a
# dependency of extra.
import torch
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


class ResNet18MTL(nn.Module):
    """torchvision's resnet18 (BatchNorm, residual blocks) on 3×64×64, its 512 pooled features to two 10-class heads:
    the resnet18-sized row of `extra bench train`, which imports this very network from its ONNX export."""

    def __init__(self):
        super().__init__()
        from torchvision.models import resnet18  # only this row needs torchvision
        body = resnet18(num_classes=10)
        body.fc = nn.Identity()
        self.body = body
        self.heads = nn.ModuleList([nn.Linear(512, 10), nn.Linear(512, 10)])

    def forward(self, x):
        z = self.body(x)
        return [h(z) for h in self.heads]


class Attention(nn.Module):
    """multi-head self-attention, batch first (heads split and merged by reshape/transpose; what extra imports)."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads, self.scale = heads, (dim // heads) ** -0.5
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        q, k, v = (y.reshape(b, t, self.heads, d // self.heads).transpose(1, 2) for y in (q, k, v))
        a = (q @ k.transpose(-2, -1) * self.scale).softmax(dim=-1)
        return self.proj((a @ v).transpose(1, 2).reshape(b, t, d))


class Block(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.mlp = nn.Sequential(nn.Linear(dim, 4 * dim), nn.GELU(), nn.Linear(4 * dim, dim))

    def forward(self, x):
        x = x + self.attn(self.ln1(x))
        return x + self.mlp(self.ln2(x))


class ViTMTL(nn.Module):
    """a ViT-Tiny-wide vision transformer on 3×64×64: 8×8 patches (64 tokens and a class token), width 192, 3 heads,
    6 pre-norm blocks, the class token's features to two 10-class heads: the ViT-sized row of `extra bench train`."""

    def __init__(self, dim=192, heads=3, depth=6):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 8, stride=8)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(torch.randn(1, 65, dim) * 0.02)
        self.blocks = nn.Sequential(*[Block(dim, heads) for _ in range(depth)])
        self.ln = nn.LayerNorm(dim)
        self.heads = nn.ModuleList([nn.Linear(dim, 10), nn.Linear(dim, 10)])

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], dim=1) + self.pos
        z = self.ln(self.blocks(x))[:, 0]
        return [h(z) for h in self.heads]
