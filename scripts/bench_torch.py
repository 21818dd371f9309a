# PyTorch side of `npm run bench:train` (comparison only; never a dependency of extra).
# Same architectures, batch 256 (or argv[4]), forward + backward + Adam; prints one JSON line.
# segnet: extra's segnet-mtl on dense-digits-shaped data (N×1×32×32; seg 11 classes, depth, normals),
# the three per-pixel losses (pixel cross-entropy, masked L1, 1 − cosine) at 1/3 each, as src/tasks.
# resnet18 / vit: the two-task networks of torch_models.py on N×3×64×64, which extra imports from their ONNX
# export: `bench_torch.py export MODEL FILE` writes it (training=PRESERVE, opset 13) and prints nothing.
import json, sys, time, statistics
import os
import torch, torch.nn.functional as F
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_models import LeNetMTL, MLPMTL, ResidualBN, SegNetMTL, ResNet18MTL, ViTMTL

MODELS = {'lenet': LeNetMTL, 'mlp': MLPMTL, 'residual-bn': ResidualBN, 'segnet': SegNetMTL, 'resnet18': ResNet18MTL, 'vit': ViTMTL}
if sys.argv[1] == 'export':
    torch.manual_seed(0)
    net = MODELS[sys.argv[2]]()
    torch.onnx.export(net, torch.zeros(1, 3, 64, 64), sys.argv[3], training=torch.onnx.TrainingMode.PRESERVE, opset_version=13,
                      input_names=['x'], output_names=['a', 'b'], dynamic_axes={'x': {0: 'n'}})
    sys.exit(0)

model_name, threads, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
batch = int(sys.argv[4]) if len(sys.argv) > 4 else 256
torch.set_num_threads(threads)
torch.manual_seed(0)

model = MODELS[model_name]()
model.train()
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
if model_name == 'segnet':
    x = torch.rand(batch, 1, 32, 32)
    i = torch.arange(batch * 32 * 32)
    seg = ((i * 7 + (i >> 5)) % 11).reshape(batch, 32, 32)
    depth = torch.rand(batch, 1, 32, 32) * 4.5 + 0.5
    normal = F.normalize(torch.randn(batch, 3, 32, 32), dim=1)

    def loss_of(out):
        ce = F.cross_entropy(out[0], seg, ignore_index=-1)
        dmask = (depth != 0).float()
        l1 = ((out[1] - depth).abs() * dmask).sum() / dmask.sum().clamp(min=1)
        nmask = (normal.abs().sum(1) != 0).float()
        cos = (F.normalize(out[2], dim=1, eps=1e-12) * normal).sum(1)
        nl = 1 - (cos * nmask).sum() / nmask.sum().clamp(min=1)
        return (ce + l1 + nl) / 3
else:
    x = torch.rand(batch, 3, 64, 64) if model_name in ('resnet18', 'vit') else torch.rand(batch, 1, 36, 36)
    y = [torch.arange(batch) % 10, (7 * torch.arange(batch)) % 10]

    def loss_of(out):
        return 0.5 * F.cross_entropy(out[0], y[0]) + 0.5 * F.cross_entropy(out[1], y[1])
times = []
for s in range(steps + 2):
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = loss_of(model(x))
    loss.backward()
    opt.step()
    if s >= 2:
        times.append(time.perf_counter() - t0)
med = statistics.median(times)


def blas():
    # the BLAS library this process loaded (Debian's python3-torch takes whichever libblas.so.3 the system
    # provides: the reference BLAS unless an optimized one such as libopenblas0-pthread is installed)
    for line in open('/proc/self/maps'):
        p = line.split()[-1]
        if 'blas' in p.rsplit('/', 1)[-1]:
            return p
    return None


print(json.dumps({"torch": torch.__version__, "blas": blas(), "model": model_name, "threads": threads, "samplesPerSec": batch / med, "msPerStep": med * 1000}))
