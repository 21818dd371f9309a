# The PyTorch twins of extra's built-in models, shared by the comparison scripts (bench_torch.py,
# bench_torch_train.py). Comparison only; never a dependency of extra.
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
