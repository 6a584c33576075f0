"""One LeNet-5 training epoch on MNIST in PyTorch, for bench_lenet (the same model, batch and Adam).

    python3 lenet_epoch.py MNIST_FOLDER THREADS IMAGES EPOCHS   ->  {"seconds": <per epoch>}
"""
import gzip, json, sys, time

import numpy as np
import torch
import torch.nn as nn


def read_idx(path, offset):
    opener = gzip.open if open(path, "rb").read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def main():
    folder, threads, images, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    torch.set_num_threads(threads)
    torch.manual_seed(1998)
    name = lambda stem: folder + "/" + stem + (".gz" if not __import__("os").path.exists(folder + "/" + stem) else "")
    x = read_idx(name("train-images-idx3-ubyte"), 16).reshape(-1, 1, 28, 28)[:images]
    y = read_idx(name("train-labels-idx1-ubyte"), 8).astype(np.int64)[:images]
    model = nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                          nn.Linear(84, 10))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(1)
    start = time.perf_counter()
    for _ in range(epochs):
        order = rng.permutation(len(x))
        for b in range(0, len(x), 64):
            index = order[b:b + 64]
            inputs = (torch.from_numpy(x[index].astype(np.float32)) / 255 - 0.1307) / 0.3081
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(inputs), torch.from_numpy(y[index]))
            loss.backward()
            optimizer.step()
    print(json.dumps({"seconds": (time.perf_counter() - start) / epochs}))


if __name__ == "__main__":
    main()
