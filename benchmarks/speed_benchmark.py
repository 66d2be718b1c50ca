"""The scratch (NumPy) networks beside PyTorch eager on the same work, one thread each.

    .venv/bin/python benchmarks/speed_benchmark.py [--rows N] [--repeats K]   # or: make bench

Measures, side by side and on one CPU thread each (``OMP_NUM_THREADS=1``,
``torch.set_num_threads(1)``):

- the CPU's matrix-multiply peak (``A @ B``, 1024 x 1024, float32 and float64);
- one training epoch of a 784-256-10 ReLU MLP with Adam on 60,000 random
  rows (MNIST-sized, float32), batch 64 and 256: ``nnbook.scratch.MLP.fit``
  against the plain PyTorch loop (``zero_grad``, forward, ``cross_entropy``,
  ``backward``, ``step``) over the same shuffled batches of the same data;
- one training epoch of the book's scratch CNN (the project page's: Conv2D
  8@3x3, ReLU, MaxPool 2, Dense 1352->10) on 10,000 28x28 images, batch 64,
  and, for information, of a LeNet-5-sized CNN (two 5x5 convolutions, max
  pooling, three dense layers) on 2,000 images, where NumPy's im2col and
  skinny matrix products fall further behind PyTorch's convolution kernels.

Prints CPU seconds (``time.process_time``: on a shared machine the wall
clock also counts the time other programs hold the core), the ratio scratch / torch and the GFLOP/s each side reaches
(the multiply-adds of the forward and backward passes, counted once), against
the measured peak. Bars: MLP at batch 64 at most 1.2x torch's time, the
book's CNN at most 1.5x. Exits with status 1 if a bar is missed. Timings are the best of
``--repeats`` runs, since this machine is shared.

OpenBLAS: on some machines ``OPENBLAS_CORETYPE`` is set in the environment
(older OpenBLAS builds mis-detect those CPUs). It selects NumPy's kernel and
can slow it: to measure the current NumPy at full speed, unset it (and
``OPENBLAS_L2_SIZE``) for this command only; the kernel in use is printed.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from nnbook import scratch  # noqa: E402

BARS = {"MLP, batch 64": 1.2, "book's CNN, batch 64": 1.5}


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.process_time()
        fn()
        times.append(time.process_time() - start)
    return min(times)


def matmul_peak(dtype, n: int = 1024, repeats: int = 5) -> float:
    rng = np.random.default_rng(0)
    A = rng.standard_normal((n, n)).astype(dtype)
    B = rng.standard_normal((n, n)).astype(dtype)
    A @ B
    return 2 * n ** 3 / best_time(lambda: A @ B, repeats) / 1e9


def blas_kernel() -> str:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "unknown (threadpoolctl not installed)"
    info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
    return ", ".join(f"{i.get('internal_api')} {i.get('version')} {i.get('architecture')}"
                     for i in info) or "unknown"


def mlp_flops(n_rows: int, sizes) -> float:
    """Forward (2 per multiply-add), weight gradients (the same again) and the
    input gradients of every layer but the first (the data needs none)."""
    pairs = list(zip(sizes[:-1], sizes[1:]))
    forward = sum(2 * n_rows * a * b for a, b in pairs)
    input_grads = sum(2 * n_rows * a * b for a, b in pairs[1:])
    return 2 * forward + input_grads


def torch_mlp(sizes):
    layers = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def torch_epoch(model, X, y, batch_size, order):
    """The plain PyTorch training loop over the batches ``order`` defines."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for lo in range(0, len(X), batch_size):
        idx = order[lo:lo + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(X[idx]), y[idx])
        loss.backward()
        optimizer.step()
    return loss.item()


def scratch_book_cnn(seed=0):
    """The project page's NumPy CNN (nnbook.digits)."""
    return scratch.Sequential([
        scratch.Conv2D(1, 8, 3, seed=seed), scratch.Activation("relu"), scratch.MaxPool2D(2),
        scratch.Flatten(), scratch.Dense(8 * 13 * 13, 10, seed=seed + 1)])


def torch_book_cnn():
    return nn.Sequential(nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(8 * 13 * 13, 10))


def book_cnn_flops(n_rows: int) -> float:
    conv = 2 * n_rows * 8 * 26 * 26 * 9
    dense = 2 * n_rows * 1352 * 10
    return 2 * (conv + dense) + dense          # no input gradient for the first layer


def scratch_cnn(seed=0):
    return scratch.Sequential([
        scratch.Conv2D(1, 6, 5, padding=2, seed=seed), scratch.Activation("relu"),
        scratch.MaxPool2D(2),
        scratch.Conv2D(6, 16, 5, seed=seed + 1), scratch.Activation("relu"),
        scratch.MaxPool2D(2), scratch.Flatten(),
        scratch.Dense(400, 120, seed=seed + 2), scratch.Activation("relu"),
        scratch.Dense(120, 84, seed=seed + 3), scratch.Activation("relu"),
        scratch.Dense(84, 10, seed=seed + 4),
    ])


def torch_cnn():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def cnn_flops(n_rows: int) -> float:
    conv = [(6 * 28 * 28, 1 * 25), (16 * 10 * 10, 6 * 25)]    # (outputs, inputs per output)
    dense = [(400, 120), (120, 84), (84, 10)]
    forward = sum(2 * n_rows * o * k for o, k in conv) + sum(2 * n_rows * a * b for a, b in dense)
    input_grads = forward - 2 * n_rows * conv[0][0] * conv[0][1]
    return 2 * forward + input_grads


def row(name, t_scratch, t_torch, flops, peak):
    ratio = t_scratch / t_torch
    return (f"{name:<22} {t_scratch:8.2f} s {t_torch:8.2f} s {ratio:6.2f}x "
            f"{flops / t_scratch / 1e9:8.1f} {flops / t_torch / 1e9:8.1f} "
            f"{100 * flops / t_scratch / 1e9 / peak:5.0f}%"), ratio


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=60_000, help="MLP training rows")
    parser.add_argument("--cnn-rows", type=int, default=10_000,
                        help="training images for the book's CNN (LeNet-5: a fifth)")
    parser.add_argument("--repeats", type=int, default=2, help="runs per timing (best kept)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(0)

    print(f"NumPy {np.__version__} ({blas_kernel()}), torch {torch.__version__}; one thread; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    peak32, peak64 = matmul_peak(np.float32), matmul_peak(np.float64)
    print(f"matmul peak (1024 x 1024, one thread): float32 {peak32:.1f} GFLOP/s, "
          f"float64 {peak64:.1f} GFLOP/s\n")

    rng = np.random.default_rng(0)
    sizes = [784, 256, 10]
    X = rng.random((args.rows, sizes[0]), dtype=np.float32)
    y = rng.integers(0, 10, args.rows)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    header = (f"{'work (one epoch)':<22} {'scratch':>10} {'torch':>10} {'ratio':>7} "
              f"{'GFLOP/s':>8} {'GFLOP/s':>8} {'of peak':>6}\n"
              f"{'':<22} {'':>10} {'':>10} {'':>7} {'scratch':>8} {'torch':>8} {'scratch':>6}")
    print(header)
    ratios = {}
    cases = [(64, np.float32, peak32), (256, np.float32, peak32), (64, np.float64, peak64)]
    for batch_size, dtype, peak in cases:
        Xd = X.astype(dtype)
        Xd_t = torch.from_numpy(Xd)
        order = torch.from_numpy(np.random.default_rng(1).permutation(args.rows))

        def run_scratch():
            model = scratch.MLP(sizes, seed=0)
            model.fit(Xd, y, epochs=1, batch_size=batch_size, verbose=0, seed=1,
                      **FIT_OPTIONS)

        def run_torch():
            model = torch_mlp(sizes).to(torch.float32 if dtype == np.float32 else torch.float64)
            torch_epoch(model, Xd_t, y_t, batch_size, order)

        t_s = best_time(run_scratch, args.repeats)
        t_t = best_time(run_torch, args.repeats)
        name = f"MLP, batch {batch_size}" + ("" if dtype == np.float32 else ", float64")
        line, ratios[name] = row(name, t_s, t_t, mlp_flops(args.rows, sizes), peak)
        print(line, flush=True)

    for name, n, make_scratch, make_torch, flops in [
            ("book's CNN, batch 64", args.cnn_rows, scratch_book_cnn, torch_book_cnn,
             book_cnn_flops),
            ("LeNet-5, batch 64", args.cnn_rows // 5, scratch_cnn, torch_cnn, cnn_flops)]:
        images = rng.random((n, 1, 28, 28), dtype=np.float32)
        labels = rng.integers(0, 10, n)
        images_t, labels_t = torch.from_numpy(images), torch.from_numpy(labels)
        order = torch.from_numpy(np.random.default_rng(1).permutation(n))

        def run_scratch_cnn():
            make_scratch().fit(images, labels, epochs=1, batch_size=64, verbose=0, seed=1,
                               **FIT_OPTIONS)

        t_s = best_time(run_scratch_cnn, args.repeats)
        t_t = best_time(lambda: torch_epoch(make_torch(), images_t, labels_t, 64, order),
                        args.repeats)
        line, ratios[name] = row(name, t_s, t_t, flops(n), peak32)
        print(line, flush=True)

    print()
    failed = False
    for name, bar in BARS.items():
        ok = ratios[name] <= bar
        failed |= not ok
        print(f"{'ok  ' if ok else 'MISS'} {name}: scratch/torch {ratios[name]:.2f}x "
              f"(bar {bar}x)")
    return 1 if failed else 0


# The training pass only: the scratch ``fit`` otherwise also evaluates the
# whole training set after each epoch, which the PyTorch loop does not do.
FIT_OPTIONS = {"evaluate_train": False}

if __name__ == "__main__":
    sys.exit(main())
