# PyTorch side of `npm run bench:train` (comparison only; never a dependency of extra).
# Same architectures, batch 256, forward + backward + Adam; prints one JSON line.
import json, sys, time, statistics
import os
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import LeNetMTL, MLPMTL, ResidualBN

model_name, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)

model = {'lenet': LeNetMTL, 'mlp': MLPMTL, 'residual-bn': ResidualBN}[model_name]()
model.train()
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
