"""PyTorch's side of bench/vs-torch.ts: the official STUNet class (its STUNet.py is given, e.g.
STU-Net/nnUNet-1.7.1/nnunet/network_architecture/STUNet.py) timed on the CPU. Prints one JSON line.

  python3 bench/vs-torch.py --stunet-py STUNet.py --scale S --work forward --patch 128 --threads 2
  python3 bench/vs-torch.py --stunet-py STUNet.py --scale S --work train --patch 64 --batch 2 --threads 2

Random He weights and inputs; forward: 1 x 1 x patch^3 without deep supervision (eval, no_grad), one warm-up
then the median of --repeats; train: nnU-Net v1's step (deep supervision, Dice + CE per output with its
weights, gradient clipping at 12, SGD 0.01 momentum 0.99 Nesterov), one warm-up then the median.
This script only measures; it is not part of the package (python3-torch is never a dependency).
"""
import argparse
import importlib.util
import json
import resource
import sys
import time
import types

import torch
from torch import nn

SCALES = {
    "S": ([1] * 6, [16, 32, 64, 128, 256, 256]),
    "B": ([1] * 6, [32, 64, 128, 256, 512, 512]),
    "L": ([2] * 6, [64, 128, 256, 512, 1024, 1024]),
    "H": ([3] * 6, [96, 192, 384, 768, 1536, 1536]),
}


class HeInit:
    """nnU-Net's He initialisation (neg. slope 1e-2): what the official file's InitWeights_He does."""

    def __init__(self, neg_slope=1e-2):
        self.neg_slope = neg_slope

    def __call__(self, module):
        if isinstance(module, (nn.Conv3d, nn.ConvTranspose3d)):
            nn.init.kaiming_normal_(module.weight, a=self.neg_slope)
            if module.bias is not None:
                nn.init.constant_(module.bias, 0)


def load_stunet(path):
    """Imports the official file with the two nnU-Net modules it needs supplied here."""
    init = types.ModuleType("nnunet.network_architecture.initialization")
    init.InitWeights_He = HeInit
    base = types.ModuleType("nnunet.network_architecture.neural_network")
    base.SegmentationNetwork = nn.Module
    for name in ["nnunet", "nnunet.network_architecture"]:
        sys.modules.setdefault(name, types.ModuleType(name))
    sys.modules[init.__name__] = init
    sys.modules[base.__name__] = base
    spec = importlib.util.spec_from_file_location("official_stunet", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STUNet


def dice_ce(logits, target, classes):
    """nnU-Net v1's DC_and_CE_loss (soft Dice without background, batch_dice False, smooth 1e-5) + CE."""
    ce = nn.functional.cross_entropy(logits, target[:, 0].long())
    probs = torch.softmax(logits, 1)
    onehot = torch.zeros_like(probs).scatter_(1, target.long(), 1)
    axes = tuple(range(2, logits.dim()))
    tp = (probs * onehot).sum(axes)
    fp = (probs * (1 - onehot)).sum(axes)
    fn = ((1 - probs) * onehot).sum(axes)
    dc = (2 * tp + 1e-5) / (2 * tp + fp + fn + 1e-5)
    return ce - dc[:, 1:].mean()


def median(xs):
    return sorted(xs)[len(xs) // 2]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--stunet-py", required=True)
    ap.add_argument("--scale", default="S")
    ap.add_argument("--work", choices=["forward", "train"], default="forward")
    ap.add_argument("--patch", type=int, default=128)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--classes", type=int, default=105)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    depth, dims = SCALES[a.scale]
    net = load_stunet(a.stunet_py)(1, a.classes, depth=depth, dims=dims,
                                   pool_op_kernel_sizes=[[2, 2, 2]] * 5, conv_kernel_sizes=[[3, 3, 3]] * 6)
    p = a.patch
    times = []
    if a.work == "forward":
        net.eval()
        net.do_ds = False
        x = torch.randn(1, 1, p, p, p)
        with torch.no_grad():
            for r in range(a.repeats + 1):
                t0 = time.perf_counter()
                net(x)
                if r > 0:
                    times.append(time.perf_counter() - t0)
    else:
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.99, nesterov=True, weight_decay=3e-5)
        n = 5
        w = [1 / 2 ** i for i in range(n)]
        w[-1] = 0
        w = [v / sum(w) for v in w]
        x = torch.randn(a.batch, 1, p, p, p)
        seg = torch.randint(0, a.classes, (a.batch, 1, p, p, p)).float()
        targets = [seg[:, :, :: 2 ** i, :: 2 ** i, :: 2 ** i] for i in range(n)]
        for r in range(a.repeats + 1):
            t0 = time.perf_counter()
            opt.zero_grad()
            outs = net(x)
            loss = sum(wi * dice_ce(o, t, a.classes) for wi, o, t in zip(w, outs, targets) if wi > 0)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 12)
            opt.step()
            if r > 0:
                times.append(time.perf_counter() - t0)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"runner": "torch", "torch": torch.__version__, "scale": a.scale, "work": a.work,
                      "patch": p, "batch": a.batch if a.work == "train" else 1, "threads": a.threads,
                      "seconds": median(times), "runs": times, "peakRssBytes": peak}))


if __name__ == "__main__":
    main()
