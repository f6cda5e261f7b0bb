#!/usr/bin/python3
"""The PyTorch side of bench/torch_vs_pytorch.sh: the same network as edgenas-train-bench (built
from the same ArchSpec JSON), the same IDX data, batch, optimiser (Adam 2e-3), epochs and thread
count; reports images/s for training and the median batch-1 latency of the eval()-mode module
under torch.no_grad(), the way a PyTorch user runs it. Prints one JSON line."""
import argparse
import json
import statistics
import struct
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = struct.unpack(">" + "I" * ndim, data[4:4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


class Block(nn.Module):
    def __init__(self, cin, spec):
        super().__init__()
        k = spec["kernel"]
        self.conv = nn.Conv2d(cin, spec["out_channels"], k, spec["stride"], k // 2,
                              bias=not spec["batch_norm"])
        self.bn = nn.BatchNorm2d(spec["out_channels"]) if spec["batch_norm"] else None
        self.hswish = spec["activation"] == "hswish"
        self.residual = spec["residual"] and spec["stride"] == 1 and cin == spec["out_channels"]

    def forward(self, x):
        y = self.conv(x)
        if self.bn is not None:
            y = self.bn(y)
        y = F.hardswish(y) if self.hswish else F.relu(y)
        return y + x if self.residual else y


class Net(nn.Module):
    def __init__(self, spec, channels, classes):
        super().__init__()
        blocks, ch = [], channels
        for b in spec["blocks"]:
            blocks.append(Block(ch, b))
            ch = b["out_channels"]
        self.blocks = nn.Sequential(*blocks)
        self.hidden = nn.Linear(ch, spec["head_width"]) if spec["head_width"] > 0 else None
        self.classifier = nn.Linear(spec["head_width"] or ch, classes)

    def forward(self, x):
        x = F.adaptive_avg_pool2d(self.blocks(x), 1).flatten(1)
        if self.hidden is not None:
            x = F.relu(self.hidden(x))
        return self.classifier(x)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--idx", required=True, help="PREFIX of PREFIX-train-images.idx etc.")
    ap.add_argument("--spec", required=True)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--latency-runs", type=int, default=200)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    images = torch.from_numpy(read_idx(a.idx + "-train-images.idx").copy()).float().div_(255)
    images = images.unsqueeze(1)
    labels = torch.from_numpy(read_idx(a.idx + "-train-labels.idx").astype(np.int64))
    val_x = torch.from_numpy(read_idx(a.idx + "-val-images.idx").copy()).float().div_(255)
    val_x = val_x.unsqueeze(1)
    val_y = torch.from_numpy(read_idx(a.idx + "-val-labels.idx").astype(np.int64))
    classes = int(max(labels.max(), val_y.max())) + 1
    net = Net(json.loads(a.spec), 1, classes)
    opt = torch.optim.Adam(net.parameters(), lr=2e-3)
    g = torch.Generator().manual_seed(a.seed)
    n = images.shape[0]
    net.train()
    t0 = time.perf_counter()
    seen = 0
    for _ in range(a.epochs):
        order = torch.randperm(n, generator=g)
        for b in range(0, n, a.batch):
            idx = order[b:b + a.batch]
            x, y = images.index_select(0, idx), labels.index_select(0, idx)
            opt.zero_grad()
            loss = F.cross_entropy(net(x), y)
            loss.backward()
            opt.step()
            seen += idx.shape[0]
    train_s = time.perf_counter() - t0
    net.eval()
    with torch.no_grad():
        acc = (net(val_x).argmax(1) == val_y).float().mean().item()
        torch.set_num_threads(1)
        x = torch.rand(1, 1, images.shape[2], images.shape[3])
        for _ in range(20):
            net(x)
        times = []
        for _ in range(a.latency_runs):
            t = time.perf_counter()
            net(x)
            times.append((time.perf_counter() - t) * 1000)
    print(json.dumps({"images_per_s": seen / train_s, "train_s": train_s, "images": seen,
                      "validation_accuracy": acc, "latency_ms": statistics.median(times)}))


if __name__ == "__main__":
    main()
