"""Conv2d forward and forward+backward in PyTorch, for bench_conv.

    python3 conv.py THREADS REPEATS   ->  {"forward": seconds, "step": seconds}   (medians)
"""
import json, sys, time

import torch


def median(work, repeats):
    work()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2]


def main():
    threads, repeats = int(sys.argv[1]), int(sys.argv[2])
    torch.set_num_threads(threads)
    torch.manual_seed(7)
    x = torch.randn(64, 3, 32, 32, requires_grad=True)
    conv = torch.nn.Conv2d(3, 32, 3, padding=1)
    upstream = torch.randn(64, 32, 32, 32)

    def forward():
        with torch.no_grad():
            conv(x)

    def step():
        x.grad = None
        conv.zero_grad()
        conv(x).backward(upstream)

    print(json.dumps({"forward": median(forward, repeats), "step": median(step, repeats)}))


if __name__ == "__main__":
    main()
