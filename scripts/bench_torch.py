# PyTorch side of `npm run bench:train` (comparison only; never a dependency of extra).
# Same architectures, batch 256, forward + backward + Adam; prints one JSON line.
import json, sys, time, statistics
import torch, torch.nn as nn, torch.nn.functional as F

model_name, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)

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

model = LeNetMTL() if model_name == 'lenet' else MLPMTL()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x = torch.rand(256, 1, 36, 36)
y = [torch.arange(256) % 10, (7 * torch.arange(256)) % 10]
times = []
for s in range(steps + 2):
    t0 = time.perf_counter()
    opt.zero_grad()
    out = model(x)
    loss = 0.5 * F.cross_entropy(out[0], y[0]) + 0.5 * F.cross_entropy(out[1], y[1])
    loss.backward()
    opt.step()
    if s >= 2:
        times.append(time.perf_counter() - t0)
med = statistics.median(times)
print(json.dumps({"torch": torch.__version__, "model": model_name, "threads": threads, "samplesPerSec": 256 / med, "msPerStep": med * 1000}))
