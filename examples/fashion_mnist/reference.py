#!/usr/bin/env python3
"""PyTorch reference for the C++ Fashion-MNIST trainer (main.cpp, model.cpp).

Same network, same initial weights (drawn from the same splitmix64 generator, in PyTorch's
default Linear/Conv2d scheme U(-1/sqrt(fan_in), 1/sqrt(fan_in))), same batch order (the same
Fisher-Yates shuffle), same Adam with the same per-step cosine learning-rate decay, same label
smoothing and normalisation; it prints the same lines. Runs on Debian 12's python3-torch:

    /usr/bin/python3 examples/fashion_mnist/reference.py [--data DIR] [--epochs N] [--subset N]
                                                         [--seed N] [--threads N] [--lr X]
"""

import argparse
import gzip
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

CHANNELS = 32  # fashion_mnist::cnn::channels
BATCH = 64
CLASSES = 10
LABEL_SMOOTHING = 0.1
PIXEL_MEAN, PIXEL_STD = 0.2860, 0.3530
DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"
EXIT_DATA_MISSING = 3
MASK = (1 << 64) - 1


class SplitMix64:
    """rng.hpp's generator."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):
        return (self.next() >> 11) * 2.0**-53


def shuffle(items, rng):
    """rng.hpp's Fisher-Yates: from the last position down, j = next() mod (i + 1)."""
    for i in range(len(items), 1, -1):
        j = rng.next() % i
        items[i - 1], items[j] = items[j], items[i - 1]


def fill_uniform(shape, fan_in, rng):
    bound = 1.0 / math.sqrt(fan_in)
    count = math.prod(shape)
    values = [(2.0 * rng.uniform() - 1.0) * bound for _ in range(count)]
    return torch.from_numpy(np.array(values, dtype=np.float32).reshape(shape))


class Net(torch.nn.Module):
    """conv 3x3 (1 -> CHANNELS, padding 1) -> ReLU -> max-pool 2x2 -> dense to 10 logits."""

    def __init__(self, rng):
        super().__init__()
        self.conv = torch.nn.Conv2d(1, CHANNELS, 3, padding=1)
        self.dense = torch.nn.Linear(CHANNELS * 14 * 14, CLASSES)
        with torch.no_grad():  # the C++ trainer's draws, in the same order
            self.conv.weight.copy_(fill_uniform(self.conv.weight.shape, 9, rng))
            self.conv.bias.copy_(fill_uniform(self.conv.bias.shape, 9, rng))
            features = self.dense.in_features
            self.dense.weight.copy_(fill_uniform(self.dense.weight.shape, features, rng))
            self.dense.bias.copy_(fill_uniform(self.dense.bias.shape, features, rng))

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv(x)), 2)
        return self.dense(torch.flatten(x, 1))


def read_idx(path, dims):
    with gzip.open(path) if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    header = 4 + 4 * dims
    if data[:3] != b"\0\0\x08" or data[3] != dims:
        sys.exit(f"{path} is not an IDX file of {dims}-dimensional unsigned bytes")
    shape = [int.from_bytes(data[4 + 4 * d: 8 + 4 * d], "big") for d in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape)


def find_file(directory, name):
    for candidate in (os.path.join(directory, name + ".gz"), os.path.join(directory, name)):
        if os.path.isfile(candidate):
            return candidate
    print(f"reference.py: {os.path.join(directory, name + '.gz')} not found.\n"
          "The Fashion-MNIST data comes with Debian's dataset-fashion-mnist package:\n"
          "    apt-get install dataset-fashion-mnist\n"
          "or pass --data DIR, a directory holding the four IDX files.", file=sys.stderr)
    sys.exit(EXIT_DATA_MISSING)


def load_split(directory, prefix):
    images = find_file(directory, prefix + "-images-idx3-ubyte")
    labels = find_file(directory, prefix + "-labels-idx1-ubyte")
    pixels = read_idx(images, 3).astype(np.float64)
    x = ((pixels / 255.0 - PIXEL_MEAN) / PIXEL_STD).astype(np.float32)  # as main.cpp rounds
    y = read_idx(labels, 1).astype(np.int64)
    return torch.from_numpy(x).unsqueeze(1), torch.from_numpy(y)


def accuracy(model, x, y):
    with torch.no_grad():
        correct = sum(int((model(x[b:b + BATCH]).argmax(1) == y[b:b + BATCH]).sum())
                      for b in range(0, len(y), BATCH))
    return 100.0 * correct / len(y)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--subset", type=int, default=0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--lr", type=float, default=2e-3)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                 "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        find_file(args.data, name)
    x_train, y_train = load_split(args.data, "train")
    x_test, y_test = load_split(args.data, "t10k")
    count = len(y_train) if args.subset == 0 else min(args.subset, len(y_train))

    rng = SplitMix64(args.seed)
    model = Net(rng)
    optimiser = torch.optim.Adam(model.parameters(), lr=args.lr)
    parameters = sum(p.numel() for p in model.parameters())
    print(f"fashion-mnist: {count} training / {len(y_test)} test images; "
          f"conv3x3x{CHANNELS}-relu-maxpool2-dense10, {parameters} parameters; "
          f"adam lr {args.lr:g} cosine, batch {BATCH}, label smoothing {LABEL_SMOOTHING:g}; "
          f"threads {args.threads}", flush=True)

    order = list(range(count))
    steps = args.epochs * ((count + BATCH - 1) // BATCH)
    step = 0
    progress = sys.stderr.isatty()
    test_accuracy = 0.0
    for epoch in range(1, args.epochs + 1):
        start = time.perf_counter()
        shuffle(order, rng)
        batches = torch.tensor(order)
        loss_sum = 0.0
        shown = -1
        for b in range(0, count, BATCH):
            indices = batches[b:b + BATCH]
            logits = model(x_train[indices])
            loss = F.cross_entropy(logits, y_train[indices], label_smoothing=LABEL_SMOOTHING)
            optimiser.zero_grad()
            loss.backward()
            for group in optimiser.param_groups:  # cosine annealing, per step, to 0
                group["lr"] = args.lr * 0.5 * (1.0 + math.cos(math.pi * step / steps))
            optimiser.step()
            step += 1
            loss_sum += loss.item() * len(indices)
            done = b + len(indices)
            if progress and done * 100 // count != shown:
                shown = done * 100 // count
                bar = "=" * (done * 30 // count)
                print(f"\repoch {epoch}/{args.epochs} [{bar:<30}] {shown:3}%", end="",
                      file=sys.stderr, flush=True)
        if progress:
            print("\r" + " " * 60 + "\r", end="", file=sys.stderr, flush=True)
        test_accuracy = accuracy(model, x_test, y_test)
        seconds = time.perf_counter() - start
        print(f"epoch {epoch}/{args.epochs}: train loss {loss_sum / count:.4f}, "
              f"test accuracy {test_accuracy:.2f}%, time {seconds:.1f} s", flush=True)
    print(f"test accuracy: {test_accuracy:.2f}%")


if __name__ == "__main__":
    main()
