# PyTorch side of `npm run bench:train`'s whole-process row (comparison only; never a dependency of
# extra). Trains the same lenet-mtl on the same split, read from extra's own data-set cache file
# (EXTRADS1: magic, u32 header length, JSON header, then per split uint8 pixels and one uint8 label
# array per task), with the same recipe: batch 256, Adam lr 1e-3, the same per-epoch shuffling
# granularity, validation after every epoch. Prints one JSON line.
import json, sys, time
t_start = time.perf_counter()
import os
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import LeNetMTL, MLPMTL

cache, threads, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
buf = open(cache, 'rb').read()
assert buf[:8] == b'EXTRADS1', 'not an extra data-set cache'
hl = int.from_bytes(buf[8:12], 'little')
header = json.loads(buf[12:12 + hl])
d, tasks = header['d'], header['tasks']
off = 12 + hl
splits = {}
for name, n in header['splits'].items():
    px = torch.frombuffer(bytearray(buf[off:off + n * d]), dtype=torch.uint8).float().div_(255).view(n, 1, 36, 36)
    off += n * d
    labels = []
    for _ in range(tasks):
        labels.append(torch.frombuffer(bytearray(buf[off:off + n]), dtype=torch.uint8).long())
        off += n
    splits[name] = (px, labels)

model = LeNetMTL()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
x, y = splits['train']
n = x.shape[0]
val_acc = []
t_train = time.perf_counter()
for epoch in range(epochs):
    model.train()
    perm = torch.randperm(n)
    for s in range(0, n, 256):
        idx = perm[s:s + 256]
        out = model(x[idx])
        loss = 0.5 * F.cross_entropy(out[0], y[0][idx]) + 0.5 * F.cross_entropy(out[1], y[1][idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    with torch.no_grad():
        vx, vy = splits['val']
        correct = [0, 0]
        for s in range(0, vx.shape[0], 1000):
            out = model(vx[s:s + 1000])
            for k in range(2):
                correct[k] += (out[k].argmax(1) == vy[k][s:s + 1000]).sum().item()
        val_acc.append([c / vx.shape[0] for c in correct])
t_end = time.perf_counter()
print(json.dumps({"torch": torch.__version__, "threads": threads, "epochs": epochs, "trainSeconds": t_end - t_train, "processSeconds": t_end - t_start, "valAccuracy": val_acc[-1]}))
