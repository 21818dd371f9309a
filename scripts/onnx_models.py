"""PyTorch twins of the ONNX fixtures (test/fixtures/onnx): multi-task networks as a PyTorch user writes
them. scripts/onnx_fixtures.py exports them; test/models/onnx*.test.ts loads extra's exports back
into these classes with load_state_dict(strict=True)."""
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeNetMtl(nn.Module):
    """conv → pool → relu ×2, x.view(x.size(0), -1), fc, two heads (Shape→Gather→…→Reshape chain)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 9)
        self.conv2 = nn.Conv2d(4, 6, 5)
        self.fc = nn.Linear(6 * 5 * 5, 16)
        self.heads = nn.ModuleList([nn.Linear(16, 10), nn.Linear(16, 10)])

    def forward(self, x):
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc(x.view(x.size(0), -1)))
        return tuple(h(x) for h in self.heads)


class ResidualBn(nn.Module):
    """conv-BN-ReLU stem, a residual block, padded average pooling, global average pooling, softmax + log-softmax heads."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 6, 3, stride=2, padding=1, bias=False)
        self.bn0 = nn.BatchNorm2d(6)
        self.conv_a = nn.Conv2d(6, 6, 3, padding=1, bias=False)
        self.bn_a = nn.BatchNorm2d(6)
        self.conv_b = nn.Conv2d(6, 6, 3, padding=1, bias=False)
        self.bn_b = nn.BatchNorm2d(6)
        self.pool = nn.AvgPool2d(3, stride=2, padding=1)
        self.down = nn.MaxPool2d(3, stride=2, padding=1)
        self.head_left = nn.Linear(6, 10)
        self.head_right = nn.Linear(6, 10)

    def forward(self, x):
        x = F.relu(self.bn0(self.stem(x)))
        y = F.relu(self.bn_a(self.conv_a(x)))
        x = F.relu(x + self.bn_b(self.conv_b(y)))
        x = self.down(self.pool(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return F.softmax(self.head_left(x), dim=1), F.log_softmax(self.head_right(x), dim=1)


class Depthwise(nn.Module):
    """depthwise (groups = channels, multiplier 2) and pointwise convolutions, ELU and LeakyReLU, torch.flatten."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 5, stride=2)
        self.dw = nn.Conv2d(4, 8, 3, padding=1, groups=4)
        self.pw = nn.Conv2d(8, 4, 1)
        self.heads = nn.ModuleList([nn.Linear(4 * 8 * 8, 10), nn.Linear(4 * 8 * 8, 10)])

    def forward(self, x):
        x = F.elu(self.conv(x))
        x = F.leaky_relu(self.pw(self.dw(x)), 0.1)
        x = F.max_pool2d(x, 2)
        x = torch.flatten(x, 1)
        return tuple(h(x) for h in self.heads)


class LnGeluMlp(nn.Module):
    """a flat input, Linear → LayerNorm → GELU (erf form before opset 20), dropout, a tanh layer, two linear heads."""

    def __init__(self, features=36 * 36):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(features, 24), nn.LayerNorm(24), nn.GELU(), nn.Dropout(0.1), nn.Linear(24, 12), nn.Tanh())
        self.heads = nn.ModuleList([nn.Linear(12, 10), nn.Linear(12, 10)])

    def forward(self, x):
        z = self.body(x)
        return tuple(h(z) for h in self.heads)


class SiluMean(nn.Module):
    """ReLU6 and SiLU (Clip; x·σ(x)), x.mean([2, 3]) as pooling, BatchNorm1d after a Linear, Hardtanh."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 8, 3, padding=1)
        self.bn = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, 3, stride=2, padding=1)
        self.fc = nn.Linear(8, 16)
        self.bn1 = nn.BatchNorm1d(16)
        self.heads = nn.ModuleList([nn.Linear(16, 10), nn.Linear(16, 10)])

    def forward(self, x):
        x = F.relu6(self.bn(self.conv(x)))
        x = F.silu(self.conv2(x)).mean([2, 3])
        x = F.hardtanh(self.bn1(self.fc(x)))
        return tuple(h(x) for h in self.heads)


class Branches(nn.Module):
    """two convolutional branches concatenated on channels, Dropout2d, torch.flatten, a Sequential head and a sigmoid head."""

    def __init__(self):
        super().__init__()
        self.a = nn.Sequential(nn.Conv2d(1, 4, 5), nn.ReLU(), nn.MaxPool2d(2))
        self.b = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(4, 4, 3))
        self.drop = nn.Dropout2d(0.2)
        self.head_a = nn.Sequential(nn.Linear(8 * 16 * 16, 8), nn.ReLU(), nn.Linear(8, 10))
        self.head_b = nn.Linear(8 * 16 * 16, 1)

    def forward(self, x):
        y = torch.flatten(self.drop(torch.cat([self.a(x), self.b(x)], 1)), 1)
        return self.head_a(y), torch.sigmoid(self.head_b(y))


class ResNetStem(nn.Module):
    """a ResNet stem (7×7/2 conv, BN, ReLU, 3×3/2 max-pool with padding 1), a block with a 1×1/2 downsample, AdaptiveAvgPool2d, view(-1, C)."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 7, stride=2, padding=3, bias=False)
        self.bn = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(3, 2, 1)
        self.c1 = nn.Conv2d(8, 16, 3, stride=2, padding=1, bias=False)
        self.b1 = nn.BatchNorm2d(16)
        self.c2 = nn.Conv2d(16, 16, 3, padding=1, bias=False)
        self.b2 = nn.BatchNorm2d(16)
        self.down = nn.Sequential(nn.Conv2d(8, 16, 1, stride=2, bias=False), nn.BatchNorm2d(16))
        self.gap = nn.AdaptiveAvgPool2d((1, 1))
        self.heads = nn.ModuleList([nn.Linear(16, 10), nn.Linear(16, 10)])

    def forward(self, x):
        x = self.pool(F.relu(self.bn(self.stem(x))))
        y = self.b2(self.c2(F.relu(self.b1(self.c1(x)))))
        x = self.gap(F.relu(y + self.down(x))).view(-1, 16)
        return tuple(h(x) for h in self.heads)



class ConvNeXtBlock(nn.Module):
    """a patchify stem, a ConvNeXt block (7×7 depthwise, permute to channels-last, LayerNorm and Linear layers on the channel axis, GELU, permute back, residual), mean pooling."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(1, 8, 4, stride=4)
        self.dw = nn.Conv2d(8, 8, 7, padding=3, groups=8)
        self.norm = nn.LayerNorm(8)
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 8)
        self.heads = nn.ModuleList([nn.Linear(8, 10), nn.Linear(8, 10)])

    def forward(self, x):
        x = self.stem(x)
        y = self.fc2(F.gelu(self.fc1(self.norm(self.dw(x).permute(0, 2, 3, 1))))).permute(0, 3, 1, 2)
        x = (x + y).mean([2, 3])
        return tuple(h(x) for h in self.heads)


MODELS = {'lenet': (LeNetMtl, (1, 36, 36)), 'residual-bn': (ResidualBn, (1, 36, 36)), 'depthwise': (Depthwise, (1, 36, 36)), 'ln-gelu-mlp': (LnGeluMlp, (36 * 36,)),
          'silu-mean': (SiluMean, (1, 36, 36)), 'branches': (Branches, (1, 36, 36)), 'resnet-stem': (ResNetStem, (1, 36, 36)),
          'convnext-block': (ConvNeXtBlock, (1, 36, 36))}


# dense prediction (issue 40): per-pixel outputs N×C×H×W at the input's H×W

class ConvTransposeNet(nn.Module):
    """nn.ConvTranspose2d as PyTorch users write it: padding with output_padding (k3 s2 p1 op1, k5 s2 p2 op1), k4 s2 p1, k = s, a non-square kernel, stride 1, no bias."""

    def __init__(self):
        super().__init__()
        self.down = nn.Conv2d(1, 4, 3, stride=2, padding=1)
        self.up_a = nn.ConvTranspose2d(4, 4, 3, stride=2, padding=1, output_padding=1)
        self.head_a = nn.Conv2d(4, 2, 1)
        self.up_b = nn.ConvTranspose2d(4, 1, 4, stride=2, padding=1, bias=False)
        self.up_c = nn.ConvTranspose2d(4, 3, 2, stride=2)
        self.up_d = nn.ConvTranspose2d(4, 2, 5, stride=2, padding=2, output_padding=1)
        self.up_e = nn.ConvTranspose2d(4, 2, (3, 5), stride=2, padding=(1, 2), output_padding=1)
        self.up_g = nn.ConvTranspose2d(4, 2, 3, stride=1, padding=1)

    def forward(self, x):
        f = F.relu(self.down(x))
        a = F.relu(self.up_a(f))
        return self.head_a(a), self.up_b(f), self.up_c(f), self.up_d(f), self.up_e(f), self.up_g(a)


class ResizeNet(nn.Module):
    """F.interpolate and nn.Upsample: nearest (×2, ×0.5, ×(1.5, 2)), bilinear with and without align_corners, rectangular factors, down then up, to the input's size (size=x.shape[2:]: Shape, Slice, Concat)."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, padding=1)
        self.up = nn.Upsample(scale_factor=2, mode='bilinear')
        self.heads = nn.ModuleList([nn.Conv2d(4, c, 1) for c in (2, 1, 3, 2, 2, 2, 2)])

    def forward(self, x):
        f = self.conv(x)
        ys = (
            F.interpolate(F.max_pool2d(f, 2), scale_factor=2, mode='nearest'),
            self.up(F.avg_pool2d(f, 2)),
            F.interpolate(F.avg_pool2d(f, 2), scale_factor=2, mode='bilinear', align_corners=True),
            F.interpolate(F.interpolate(f, scale_factor=0.5, mode='bilinear'), scale_factor=2, mode='nearest'),
            F.interpolate(F.avg_pool2d(f, (3, 4)), scale_factor=(3, 4), mode='bilinear', align_corners=False),
            F.interpolate(F.avg_pool2d(f, (3, 5), stride=1), scale_factor=(1.5, 2), mode='nearest'),
            F.interpolate(F.max_pool2d(f, 3), size=x.shape[2:], mode='bilinear', align_corners=False),
        )
        out = [h(y) for h, y in zip(self.heads, ys)]
        # a per-pixel softmax over the classes as the final op
        return (*out[:-1], F.softmax(out[-1], dim=1))


class DenseMtl(nn.Module):
    """a SegNet-style encoder-decoder (conv-BN-ReLU, max-pools, a transposed convolution, bilinear upsampling) with three per-pixel heads as MTAN writes them: log-softmax over 13 classes, depth, L2-normalized normals."""

    def __init__(self):
        super().__init__()
        self.enc1 = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU())
        self.enc2 = nn.Sequential(nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU())
        self.dec2 = nn.Sequential(nn.ConvTranspose2d(16, 8, 2, stride=2), nn.BatchNorm2d(8), nn.ReLU())
        self.dec1 = nn.Conv2d(8, 8, 3, padding=1)
        self.heads = nn.ModuleList([nn.Conv2d(8, c, 3, padding=1) for c in (13, 1, 3)])

    def forward(self, x):
        x = F.max_pool2d(self.enc1(x), 2)
        x = F.max_pool2d(self.enc2(x), 2)
        x = F.interpolate(self.dec2(x), scale_factor=2, mode='bilinear', align_corners=False)
        x = F.relu(self.dec1(x))
        seg, depth, normal = (h(x) for h in self.heads)
        return F.log_softmax(seg, dim=1), depth, normal / torch.norm(normal, p=2, dim=1, keepdim=True)


MODELS.update({'conv-transpose': (ConvTransposeNet, (1, 8, 8)), 'resize': (ResizeNet, (2, 6, 8)), 'dense-mtl': (DenseMtl, (3, 8, 8))})
