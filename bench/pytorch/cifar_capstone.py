"""The PyTorch side of bench_capstone_cifar: a 5-layer conv-BatchNorm-ReLU net trained on CIFAR-10
from the same binary files, with the same thread count, then scored on the 10,000 test images.

    python3 cifar_capstone.py --data CIFAR_FOLDER [--threads 2] [--epochs 4] [--budget SECONDS]
        -> {"accuracy": ..., "train_seconds": ..., "epochs": ..., "parameters": ...}

CIFAR_FOLDER holds cifar-10-batches-bin/ (or is it). The schedule is planned in epochs (one-cycle
over --epochs); --budget stops training early if the epochs do not fit in it (the accuracy is then
that of a run cut short, as the engine's would be).
"""
import argparse, json, os, time

import numpy as np
import torch
import torch.nn as nn

MEAN = np.array([0.4914, 0.4822, 0.4465], np.float32).reshape(1, 3, 1, 1)
STD = np.array([0.2470, 0.2435, 0.2616], np.float32).reshape(1, 3, 1, 1)


def read_batches(folder, names):
    """The official binary layout: each record is 1 label byte and 3072 pixel bytes (R, G, B planes)."""
    if os.path.isdir(os.path.join(folder, "cifar-10-batches-bin")):
        folder = os.path.join(folder, "cifar-10-batches-bin")
    records = np.concatenate([np.fromfile(os.path.join(folder, n), np.uint8).reshape(-1, 3073) for n in names])
    return records[:, 1:].reshape(-1, 3, 32, 32), records[:, 0].astype(np.int64)


def model():
    """Five conv-BatchNorm-ReLU layers (pooling after the 2nd, 3rd and 4th), one linear layer."""
    layers, channels = [], [3, 32, 32, 64, 128, 64]
    for i in range(5):
        layers += [nn.Conv2d(channels[i], channels[i + 1], 3, padding=1, bias=False), nn.BatchNorm2d(channels[i + 1]),
                   nn.ReLU()]
        if i in (1, 2, 3):
            layers.append(nn.MaxPool2d(2))
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(64 * 4 * 4, 10))


def augment(x, rng):
    """Random crops (padding 2) and mirror images of a uint8 batch (B, 3, 32, 32)."""
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    out = np.empty_like(x)
    for i in range(len(x)):
        dy, dx = rng.integers(0, 5, 2)
        out[i] = padded[i, :, dy:dy + 32, dx:dx + 32]
        if rng.random() < 0.5:
            out[i] = out[i, :, :, ::-1]
    return out


def to_input(x):
    return torch.from_numpy((x.astype(np.float32) / 255.0 - MEAN) / STD)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--budget", type=float, default=1e9)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(20)
    rng = np.random.default_rng(20)

    x_train, y_train = read_batches(args.data, [f"data_batch_{i}.bin" for i in range(1, 6)])
    x_test, y_test = read_batches(args.data, ["test_batch.bin"])
    net = model()
    batch = 128
    steps = args.epochs * (len(x_train) // batch)
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.1, total_steps=steps, pct_start=0.15,
                                                   anneal_strategy="linear")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)

    start = time.perf_counter()
    epochs_done = 0
    for _ in range(args.epochs):
        if time.perf_counter() - start > args.budget:
            break
        net.train()
        order = rng.permutation(len(x_train))
        for b in range(len(x_train) // batch):
            index = order[b * batch:(b + 1) * batch]
            optimizer.zero_grad()
            loss = loss_fn(net(to_input(augment(x_train[index], rng))), torch.from_numpy(y_train[index]))
            loss.backward()
            optimizer.step()
            schedule.step()
        epochs_done += 1
    train_seconds = time.perf_counter() - start

    net.eval()
    correct = 0
    with torch.no_grad():
        for b in range(0, len(x_test), 500):
            correct += (net(to_input(x_test[b:b + 500])).argmax(1).numpy() == y_test[b:b + 500]).sum()
    print(json.dumps({"accuracy": correct / len(x_test), "train_seconds": train_seconds, "epochs": epochs_done,
                      "parameters": sum(p.numel() for p in net.parameters())}))


if __name__ == "__main__":
    main()
