"""Input validation shared by the from-scratch modules.

Errors are raised at the boundary, with a message that names the argument,
what was expected and what was received, so that a bad shape never surfaces
as a broadcasting error three calls deeper.
"""

from __future__ import annotations

import contextlib
import numbers

import numpy as np

#: The floating dtypes the scratch code computes in; anything else becomes float64.
FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))

# Set by :func:`inputs_checked` while ``fit`` runs: the data were checked for
# NaN/inf once, so the per-batch checks of the layers skip that pass.
_FINITE_CHECKED = [False]


@contextlib.contextmanager
def inputs_checked():
    """Within this block, :func:`as_float_array` skips its NaN/inf scan (the
    caller checked the whole data set once, before the loop)."""
    previous = _FINITE_CHECKED[0]
    _FINITE_CHECKED[0] = True
    try:
        yield
    finally:
        _FINITE_CHECKED[0] = previous


def float_dtype(dtype, name: str = "dtype") -> np.dtype:
    """``dtype`` as ``np.float32`` or ``np.float64``; anything else is an error."""
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{name} must be np.float32 or np.float64, got {dtype!r}") from None
    if dt not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be np.float32 or np.float64, got {dt}")
    return dt


def as_float_array(x, name: str, *, ndim: int | tuple[int, ...] | None = None,
                   allow_nan: bool = False, dtype=np.float64) -> np.ndarray:
    """Return ``x`` as a float array, checking its rank and its values.

    ``dtype=np.float64`` (the default) casts to float64; ``dtype=None`` keeps
    float32 and float64 input as it is (no copy) and casts anything else to
    float64. Raises ``TypeError`` for non-numeric input and ``ValueError`` for
    a wrong number of dimensions or for NaN/inf entries.
    """
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == bool):
        raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name} must be real-valued, got dtype {arr.dtype}")
    if dtype is None:
        if arr.dtype not in FLOAT_DTYPES:
            arr = arr.astype(np.float64)
    else:
        arr = arr.astype(dtype, copy=False)
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape}")
    if _FINITE_CHECKED[0] or allow_nan:
        return arr
    if not np.all(np.isfinite(arr)):
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


def check_number(value, name: str, *, low=None, high=None, low_open: bool = False,
                 high_open: bool = False) -> float:
    """``value`` as a float, checking that it is a real, finite number in the
    interval from ``low`` to ``high`` (closed unless ``*_open``).

    ``TypeError`` for a non-number (a string, ``None``, a bool, an array);
    ``ValueError`` for NaN, infinity or a value outside the interval. The
    message names ``name``, the interval and the value received.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} "
                        f"({type(value).__name__})")
    v = float(value)
    if low is not None and high is not None:
        cond = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        cond = f"{'>' if low_open else '>='} {low}"
    elif high is not None:
        cond = f"{'<' if high_open else '<='} {high}"
    else:
        cond = "finite"
    if not np.isfinite(v) or (low is not None and (v < low or (low_open and v == low))) or (
            high is not None and (v > high or (high_open and v == high))):
        raise ValueError(f"{name} must be {cond} (a finite number), got {value!r}")
    return v


def check_positive(value, name: str) -> float:
    """``value`` as a float, checking that it is a finite number > 0."""
    check_number(value, name)
    if not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def check_int(value, name: str, *, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an int, checking that it is an integer (not a bool, not a
    float such as 2.7) between ``low`` and ``high`` inclusive."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    v = int(value)
    if (low is not None and v < low) or (high is not None and v > high):
        bounds = (f">= {low}" if high is None else f"<= {high}" if low is None
                  else f"in [{low}, {high}]")
        raise ValueError(f"{name} must be an integer {bounds}, got {value!r}")
    return v


def check_bool(value, name: str) -> bool:
    """``value`` as a bool; ints 0/1 are accepted, anything else is a TypeError."""
    if isinstance(value, (bool, np.bool_)) or (isinstance(value, numbers.Integral)
                                               and value in (0, 1)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {value!r}")


def check_seed(seed, name: str = "seed"):
    """``seed`` for :func:`make_rng`: None, a non-negative int or a NumPy generator."""
    if seed is None or isinstance(seed, (np.random.Generator, np.random.RandomState,
                                         _GlobalRandomState)):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be None, a non-negative integer or a "
                        f"numpy.random.Generator, got {seed!r}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative integer, got {seed!r}")
    return seed


def check_choice(value, name: str, choices) -> str:
    """``value`` if it is one of ``choices`` (strings), else a ValueError naming them."""
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, "
                         f"got {value!r}")
    return value


class _GlobalRandomState:
    """NumPy's global random state, through the public ``np.random.*`` functions
    (``np.random.seed`` seeds it): ``rng.random(...)`` is ``np.random.random(...)``."""

    def __getattr__(self, name):
        return getattr(np.random, name)

    def __repr__(self):
        return "<numpy's global RandomState (np.random.*)>"


_GLOBAL_RANDOM_STATE = _GlobalRandomState()


def make_rng(seed) -> np.random.Generator | np.random.RandomState:
    """A random generator from ``seed``.

    ``None`` returns NumPy's global ``RandomState`` so that ``np.random.seed``
    controls the result (as in the seed notebook); an int or a ``Generator``
    gives an independent, reproducible stream.
    """
    seed = check_seed(seed)
    if seed is None:
        return _GLOBAL_RANDOM_STATE
    if isinstance(seed, (np.random.Generator, np.random.RandomState, _GlobalRandomState)):
        return seed
    return np.random.default_rng(seed)


def standard_normal(rng, shape) -> np.ndarray:
    """Standard-normal samples of ``shape`` from ``rng`` (as ``randn`` draws them
    from a ``RandomState``)."""
    if isinstance(rng, (np.random.RandomState, _GlobalRandomState)):
        return rng.randn(*shape)
    return rng.standard_normal(shape)
