"""Oracle values for the per-pixel task kinds (src/tasks), written by PyTorch.

The definitions follow LibMTL's examples/nyu/utils.py (losses and metrics of segmentation, depth and
normals), with every metric over the whole split, pixel-weighted. Run with Debian's python3-torch:
    /usr/bin/python3 scripts/dense_oracles.py
It writes test/fixtures/dense/oracles.json: random predictions (NHWC, as extra lays them out) and
targets with ignored / unmeasured pixels, and PyTorch's numbers for them.
"""
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(0)
N, H, W, C = 6, 5, 7, 4

# segmentation: logits and labels in [-1, C) (-1 = ignored)
seg_pred = torch.randn(N, C, H, W) * 2
seg_label = torch.randint(-1, C, (N, H, W))
seg_label[0, 0, :] = -1
# a class that appears in neither target nor prediction must not count: make class C-1 rare in targets
seg_loss = F.cross_entropy(seg_pred, seg_label, ignore_index=-1).item()
valid = seg_label >= 0
pred_cls = seg_pred.argmax(1)
conf = torch.bincount(seg_label[valid] * C + pred_cls[valid], minlength=C * C).reshape(C, C).double()
iu = torch.diag(conf) / (conf.sum(1) + conf.sum(0) - torch.diag(conf))
miou = float(np.nanmean(iu.numpy()))
pix_acc = (torch.diag(conf).sum() / conf.sum()).item()

# depth: predictions and targets with zeros = unmeasured
depth_pred = torch.rand(N, 1, H, W) * 3
depth_gt = torch.rand(N, 1, H, W) * 3 + 0.5
depth_gt[torch.rand(N, 1, H, W) < 0.2] = 0
dmask = (torch.sum(depth_gt, dim=1) != 0).unsqueeze(1)
count = dmask.sum()
depth_loss = (torch.sum(torch.abs(depth_pred - depth_gt) * dmask) / count).item()
abs_err = depth_loss
rel_err = (torch.sum((torch.abs(depth_pred - depth_gt) / depth_gt).masked_select(dmask)) / count).item()

# normals: unit targets (some zero = unmeasured), unnormalized predictions
normal_pred = torch.randn(N, 3, H, W)
normal_gt = torch.randn(N, 3, H, W)
normal_gt = normal_gt / torch.norm(normal_gt, p=2, dim=1, keepdim=True)
normal_gt[:, :, 0, 0] = 0
normal_gt[1, :, 2, :] = 0
pn = normal_pred / torch.norm(normal_pred, p=2, dim=1, keepdim=True)
nmask = torch.sum(torch.abs(normal_gt), dim=1) != 0
ncount = nmask.sum()
normal_loss = (1 - torch.sum(torch.sum(pn * normal_gt, 1).masked_select(nmask)) / ncount).item()
err = torch.acos(torch.clamp(torch.sum(pn * normal_gt, 1).masked_select(nmask), -1, 1)).numpy()
err = np.degrees(err)

nhwc = lambda t: t.permute(0, 2, 3, 1).contiguous().reshape(-1).tolist()
out = {
    "shape": [N, H, W, C],
    "seg": {"pred": nhwc(seg_pred), "label": seg_label.reshape(-1).tolist(), "loss": seg_loss, "miou": miou, "pixelAccuracy": pix_acc},
    "depth": {"pred": nhwc(depth_pred), "gt": depth_gt.reshape(-1).tolist(), "loss": depth_loss, "absErr": abs_err, "relErr": rel_err},
    "normal": {
        "pred": nhwc(normal_pred), "gt": nhwc(normal_gt), "loss": normal_loss,
        "meanAngle": float(np.mean(err)), "medianAngle": float(np.median(err)),
        "within11_25": float(np.mean(err < 11.25)), "within22_5": float(np.mean(err < 22.5)), "within30": float(np.mean(err < 30)),
    },
    "torch": torch.__version__,
}
path = os.path.join(os.path.dirname(__file__), "..", "test", "fixtures", "dense", "oracles.json")
with open(path, "w") as f:
    json.dump(out, f)
print("wrote", path)
