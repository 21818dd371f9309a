"""Two dense endpoints trained by PyTorch, the oracle of test/cli/dense-torch.test.ts (issue 40's "Done when").

    /usr/bin/python3 scripts/dense_torch_endpoints.py write OUT
        OUT/data/{train,val}/{image,label,depth,normal}/{i}.npy   a small synthetic set in the MTAN/LibMTL NYUv2
                                                                   layout (48 train, 24 val, 32×32, 5 of 13 classes)
        OUT/{a,b}.onnx   a SegNet-style network (shared conv-BN-ReLU encoder, max-pools, a ConvTranspose2d and an
                         nn.Upsample decoder, three heads: 13 class logits, depth, L2-normalized normals) trained at
                         two preferences of linear scalarization, exported in TrainingMode.PRESERVE at opsets 13, 17
        OUT/{a,b}.pt     their state_dicts (torch.save)
        OUT/endpoints.json   per endpoint: its preference, PyTorch's nine metrics on val/ (the test split), over
                         the whole split, pixel-weighted, as src/tasks computes them, its three losses there, and
                         the count of valid normal pixels and of those within 1e-3° of each angle threshold
    /usr/bin/python3 scripts/dense_torch_endpoints.py check OUT FILE.safetensors [ENDPOINT] [N]
        load_state_dict(strict=True) of an extra safetensors export into the same network; prints one JSON line:
        loaded, tensors, its nine metrics on val/ (as endpoints.json has them), with ENDPOINT the largest
        difference from OUT/ENDPOINT.pt, and with N the network's outputs (NCHW, per task) on the first N val images.

Debian's python3-torch (1.13) and numpy only; never a dependency of extra. Deterministic from the seed.
"""
import json
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

H = W = 32
CLASSES = 13  # NYUv2's; the data uses 5 of them (absent classes must drop out of the mIoU)
USED = 5
COLOURS = np.array([[0.9, 0.2, 0.2], [0.2, 0.8, 0.2], [0.2, 0.3, 0.9], [0.9, 0.9, 0.2], [0.7, 0.2, 0.8]], np.float32)
PREFS = {'a': (0.7, 0.15, 0.15), 'b': (0.15, 0.7, 0.15)}


def plane(rng, d0):
    """depth = d0 + gx·u + gy·v over u, v ∈ [−1, 1] (≥ d0 − 1.6); its normal (−gx, −gy, 1)/‖·‖ (constant)."""
    gx, gy = rng.uniform(-0.8, 0.8), rng.uniform(-0.8, 0.8)
    v, u = np.meshgrid(np.linspace(-1, 1, H), np.linspace(-1, 1, W), indexing='ij')
    n = np.array([-gx, -gy, 1.0])
    return (d0 + gx * u + gy * v).astype(np.float32), (n / np.linalg.norm(n)).astype(np.float32)


def sample(rng):
    """A background plane and a rectangle on its own nearer plane, each a class given by its colour."""
    cb, cf = rng.choice(USED, 2, replace=False)
    db, nb = plane(rng, rng.uniform(3.5, 4.5))
    df, nf = plane(rng, rng.uniform(2, 2.5))
    r0, c0 = rng.integers(0, H // 2, 2)
    r1, c1 = r0 + rng.integers(8, H // 2 + 1), c0 + rng.integers(8, W // 2 + 1)
    fg = np.zeros((H, W), bool)
    fg[r0:r1, c0:c1] = True
    label = np.where(fg, cf, cb).astype(np.float32)
    depth = np.where(fg, df, db)
    normal = np.where(fg[..., None], nf, nb)
    shade = (1.3 - depth / 5)[..., None]
    image = np.clip(COLOURS[label.astype(int)] * shade + rng.normal(0, 0.05, (H, W, 3)), 0, 1).astype(np.float32)
    label[rng.random((H, W)) < 0.05] = -1
    missing = rng.random((H, W)) < 0.05
    depth = np.where(missing, 0, depth).astype(np.float32)[..., None]
    normal = np.where((missing | (rng.random((H, W)) < 0.03))[..., None], 0, normal).astype(np.float32)
    return image, label, depth, normal


def write_data(root, seed=0):
    rng = np.random.default_rng(seed)
    for split, n in (('train', 48), ('val', 24)):
        for folder in ('image', 'label', 'depth', 'normal'):
            os.makedirs(os.path.join(root, split, folder), exist_ok=True)
        for i in range(n):
            for folder, a in zip(('image', 'label', 'depth', 'normal'), sample(rng)):
                np.save(os.path.join(root, split, folder, f'{i}.npy'), a)


def read_split(root, split):
    n = len(os.listdir(os.path.join(root, split, 'image')))
    load = lambda f: np.stack([np.load(os.path.join(root, split, f, f'{i}.npy')) for i in range(n)])
    x = torch.from_numpy(load('image')).permute(0, 3, 1, 2).contiguous()
    return x, torch.from_numpy(load('label')).long(), torch.from_numpy(load('depth')).permute(0, 3, 1, 2), torch.from_numpy(load('normal')).permute(0, 3, 1, 2)


def block(cin, cout):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU())


class SegNetMtl(nn.Module):
    """SegNet-style: a shared encoder (conv-BN-ReLU, max-pool, twice), a decoder (ConvTranspose2d, nn.Upsample
    bilinear), and MTAN's heads (3×3 conv, ReLU, 1×1 conv) for 13-class logits, depth and unit normals."""

    def __init__(self):
        super().__init__()
        self.enc1 = block(3, 8)
        self.enc2 = block(8, 16)
        self.up1 = nn.Sequential(nn.ConvTranspose2d(16, 16, 2, stride=2), nn.BatchNorm2d(16), nn.ReLU())
        self.up2 = nn.Upsample(scale_factor=2, mode='bilinear', align_corners=False)
        self.dec = block(16, 16)
        self.heads = nn.ModuleList([nn.Sequential(nn.Conv2d(16, 16, 3, padding=1), nn.ReLU(), nn.Conv2d(16, c, 1)) for c in (CLASSES, 1, 3)])

    def forward(self, x):
        x = F.max_pool2d(self.enc1(x), 2)
        x = F.max_pool2d(self.enc2(x), 2)
        x = self.dec(self.up2(self.up1(x)))
        seg, depth, normal = (h(x) for h in self.heads)
        return seg, depth, normal / torch.norm(normal, p=2, dim=1, keepdim=True)


def losses(out, label, depth, normal):
    """LibMTL's examples/nyu/utils.py: CE (ignore_index −1), L1 over measured depth, 1 − cosine over measured normals."""
    seg, d, n = out
    ce = F.cross_entropy(seg, label, ignore_index=-1)
    dm = (depth != 0).float()
    l1 = torch.sum(torch.abs(d - depth) * dm) / dm.sum()
    nm = (torch.sum(torch.abs(normal), 1) != 0).float()
    cos = 1 - torch.sum(torch.sum(n * normal, 1) * nm) / nm.sum()
    return torch.stack([ce, l1, cos])


def metrics(out, label, depth, normal):
    """The nine metrics over a whole split, pixel-weighted, in float64 from the network's float32 outputs."""
    seg, d, n = (o.double() for o in out)
    valid = label >= 0
    pred = seg.argmax(1)
    conf = torch.bincount(label[valid] * CLASSES + pred[valid], minlength=CLASSES * CLASSES).reshape(CLASSES, CLASSES).double()
    tp = torch.diag(conf)
    union = conf.sum(1) + conf.sum(0) - tp
    present = union > 0
    dm = depth != 0
    err = torch.abs(d - depth.double())[dm]
    nm = torch.sum(torch.abs(normal), 1) != 0
    pn = n / torch.clamp(torch.norm(n, p=2, dim=1, keepdim=True), min=1e-12)
    cos = torch.sum(pn * normal.double(), 1)[nm]
    ang = np.degrees(torch.acos(torch.clamp(cos, -1, 1)).numpy())
    # pixels whose angle is within 1e-3° of a threshold may count on either side of it at that tolerance
    near = {f'within{str(t).replace(".", "_")}': int((np.abs(ang - t) < 1e-3).sum()) for t in (11.25, 22.5, 30)}
    return {
        'segmentation': {'miou': float((tp[present] / union[present]).mean()), 'pixelAccuracy': float(tp.sum() / conf.sum())},
        'depth': {'absErr': float(err.mean()), 'relErr': float((err / depth.double()[dm]).mean())},
        'normal': {'meanAngle': float(ang.mean()), 'medianAngle': float(np.median(ang)), 'within11_25': float((ang < 11.25).mean()),
                   'within22_5': float((ang < 22.5).mean()), 'within30': float((ang < 30).mean())},
    }, {'normalPixels': int(len(ang)), 'nearThreshold': near}


def write(out, seed=0):
    torch.manual_seed(seed)
    torch.set_num_threads(1)
    data = os.path.join(out, 'data')
    write_data(data, seed)
    train, val = read_split(data, 'train'), read_split(data, 'val')
    start = SegNetMtl().state_dict()
    result = {'torch': torch.__version__, 'classes': CLASSES, 'endpoints': {}}
    for (name, pref), opset in zip(PREFS.items(), (13, 17)):
        torch.manual_seed(seed + 1)
        model = SegNetMtl()
        model.load_state_dict(start)
        opt = torch.optim.Adam(model.parameters(), lr=5e-3)
        w = torch.tensor(pref)
        model.train()
        for epoch in range(15):
            order = torch.randperm(train[0].shape[0])
            for k in range(0, len(order), 8):
                idx = order[k:k + 8]
                x, *ys = (t[idx] for t in train)
                loss = torch.sum(w * losses(model(x), *ys))
                opt.zero_grad()
                loss.backward()
                opt.step()
        model.eval()
        with torch.no_grad():
            m, counts = metrics(model(val[0]), *val[1:])
            test_losses = losses(model(val[0]), *val[1:]).tolist()
        torch.save(model.state_dict(), os.path.join(out, f'{name}.pt'))
        outs = ['segmentation', 'depth', 'normal']
        torch.onnx.export(model, val[0][:2], os.path.join(out, f'{name}.onnx'), opset_version=opset, training=torch.onnx.TrainingMode.PRESERVE,
                          input_names=['x'], output_names=outs, dynamic_axes={'x': {0: 'batch'}, **{o: {0: 'batch'} for o in outs}})
        result['endpoints'][name] = {'pref': list(pref), 'opset': opset, 'onnx': f'{name}.onnx', 'test': m, 'losses': test_losses, **counts}
    with open(os.path.join(out, 'endpoints.json'), 'w') as f:
        json.dump(result, f, indent=1)
    print(json.dumps(result))


def check(out, file, endpoint=None, n=None):
    from torch_load_check import read_safetensors
    model = SegNetMtl()
    sd = read_safetensors(file)
    model.load_state_dict(sd, strict=True)
    model.eval()
    report = {'loaded': True, 'tensors': len(sd)}
    if endpoint:
        ref = torch.load(os.path.join(out, f'{endpoint}.pt'))
        # num_batches_tracked is not in an ONNX file: an export from ONNX writes 0
        diffs = {k: float((v.float() - sd[k].float()).abs().max()) for k, v in ref.items() if not k.endswith('num_batches_tracked')}
        report['maxDiff'] = max(diffs.values())
        report['worst'] = max(diffs, key=diffs.get)
    val = read_split(os.path.join(out, 'data'), 'val')
    with torch.no_grad():
        report['test'], counts = metrics(model(val[0]), *val[1:])
    report.update(counts)
    if n:
        x = val[0][:int(n)]
        with torch.no_grad():
            report['input'] = x.flatten().tolist()
            report['outputs'] = [{'shape': list(y.shape), 'data': y.flatten().tolist()} for y in model(x)]
    print(json.dumps(report))


if __name__ == '__main__':
    cmd, *args = sys.argv[1:] or ['']
    if cmd == 'write' and len(args) == 1:
        write(args[0])
    elif cmd == 'check' and 2 <= len(args) <= 4:
        check(*args)
    else:
        sys.exit(__doc__)
