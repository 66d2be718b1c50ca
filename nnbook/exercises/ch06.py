"""Checks for the exercises of chapter 6 (the forward pass)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ["check_dense_forward"]


def _dense_forward(X, W, b):
    return X @ W + b


@exercise_check
def check_dense_forward(fn):
    """``fn(X, W, b) -> Z = X W + b`` for ``X`` (N, n_in), ``W`` (n_in, n_out), ``b`` (n_out,)."""
    rng = _rng(6)
    cases = [
        {"X": np.array([[2.0, -1.0]]), "W": np.array([[1.0, -1.0], [2.0, 0.5]]),
         "b": np.array([0.0, 1.0])},
        {"X": rng.normal(size=(5, 3)), "W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)},
        {"X": rng.normal(size=(1, 4)), "W": rng.normal(size=(4, 1)), "b": np.zeros(1)},
    ]
    return run_cases(
        "check_dense_forward", fn, cases, _dense_forward,
        mistakes=[(lambda X, W, b: X @ W, "you forgot the bias b"),
                  (lambda X, W, b: X @ W.T + b,
                   "you multiplied by W.T: in the book's row convention W has shape "
                   "(n_in, n_out) and Z = X @ W + b"),
                  (lambda X, W, b: (W.T @ X.T).T,
                   "you forgot the bias b (and computed X @ W the long way)")])
