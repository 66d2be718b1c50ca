"""Input validation shared by the from-scratch modules.

Errors are raised at the boundary, with a message that names the argument,
what was expected and what was received, so that a bad shape never surfaces
as a broadcasting error three calls deeper.
"""

from __future__ import annotations

import numpy as np


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   allow_nan: bool = False) -> np.ndarray:
    """Return ``x`` as a float64 array, checking its rank and its values.

    Raises ``TypeError`` for non-numeric input and ``ValueError`` for a wrong
    number of dimensions or for NaN/inf entries.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    arr = arr.astype(np.float64, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if not allow_nan and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s)")
    return arr


def check_features(X: np.ndarray, n_features: int, name: str = "X") -> None:
    """Check that the last axis of ``X`` has ``n_features`` entries."""
    if X.shape[-1] != n_features:
        raise ValueError(
            f"{name} must have {n_features} features in its last axis, "
            f"got shape {X.shape}")


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str) -> None:
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, "
            f"got {a.shape} and {b.shape}")


def as_labels(y, name: str, n_classes: int, n_samples: int | None = None) -> np.ndarray:
    """Return ``y`` as a 1-D int array of class indices in ``[0, n_classes)``."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not (np.issubdtype(arr.dtype, np.floating) and np.all(arr == np.round(arr))):
            raise TypeError(f"{name} must hold integer class indices, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if n_samples is not None and arr.shape[0] != n_samples:
        raise ValueError(f"{name} must have {n_samples} entries (one per sample), "
                         f"got {arr.shape[0]}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise ValueError(f"{name} must be class indices in [0, {n_classes - 1}], "
                         f"got values from {arr.min()} to {arr.max()}")
    return arr


def check_layer_sizes(layer_sizes, name: str = "layer_sizes", min_len: int = 2) -> list[int]:
    """Check a list of layer widths: at least ``min_len`` positive integers."""
    try:
        sizes = list(layer_sizes)
    except TypeError:
        raise TypeError(f"{name} must be a list of positive integers, "
                        f"got {type(layer_sizes).__name__}") from None
    if len(sizes) < min_len:
        raise ValueError(f"{name} must list at least {min_len} sizes "
                         f"(input and output), got {sizes}")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise ValueError(f"{name} must contain positive integers, got {sizes}")
    return [int(s) for s in sizes]


def check_positive(value, name: str) -> float:
    if not np.isscalar(value) or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def make_rng(seed) -> np.random.Generator | np.random.RandomState:
    """A random generator from ``seed``.

    ``None`` returns NumPy's global ``RandomState`` so that ``np.random.seed``
    controls the result (as in the seed notebook); an int or a ``Generator``
    gives an independent, reproducible stream.
    """
    if seed is None:
        return np.random.mtrand._rand
    if isinstance(seed, (np.random.Generator, np.random.RandomState)):
        return seed
    return np.random.default_rng(seed)


def standard_normal(rng, shape) -> np.ndarray:
    if isinstance(rng, np.random.RandomState):
        return rng.randn(*shape)
    return rng.standard_normal(shape)
