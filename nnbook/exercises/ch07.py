"""Checks for the exercises of chapter 7 (backpropagation)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ..scratch.losses import mse_grad as _mse_grad

__all__ = ['check_dense_backward', 'check_mse_grad']


def _dense_backward(X, W, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


@exercise_check
def check_dense_backward(fn):
    """``fn(X, W, dZ) -> (dX, dW, db)`` for the dense layer ``Z = X W + b``."""
    rng = _rng(7)
    cases = [
        {"X": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 2)), "dZ": rng.normal(size=(4, 2))},
        {"X": rng.normal(size=(1, 2)), "W": rng.normal(size=(2, 3)), "dZ": rng.normal(size=(1, 3))},
        {"X": rng.normal(size=(6, 3)), "W": rng.normal(size=(3, 3)), "dZ": rng.normal(size=(6, 3))},
    ]
    return tuple_cases(
        "check_dense_backward", fn, cases, _dense_backward, ("dX", "dW", "db"),
        mistakes=[(lambda X, W, dZ: (dZ @ W, X @ dZ.T, dZ[0]),
                   "db must sum dZ over the batch (dZ.sum(axis=0)), not take one row"),
                  (lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ[0]),
                   "db must sum dZ over the batch (dZ.sum(axis=0)): every sample "
                   "contributes, not only the first"),
                  (lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)),
                   "db is the SUM of dZ over the batch; the 1/N is already inside dZ"),
                  (lambda X, W, dZ: (dZ @ W.T, (X.T @ dZ).T, dZ.sum(axis=0)),
                   "your dW is the transpose of the right one: dW has the shape of W, (n_in, n_out), dW = X.T @ dZ"),
                  (lambda X, W, dZ: (dZ @ W, X.T @ dZ, dZ.sum(axis=0)),
                   "dX = dZ @ W.T: a missing transpose")])


@exercise_check
def check_mse_grad(fn):
    """``fn(y_pred, y_true) -> dL/dy_pred`` for :math:`L = \\frac1N\\sum(\\hat y - y)^2`
    (the mean over all entries)."""
    rng = _rng(8)
    cases = [
        {"y_pred": np.array([0.5]), "y_true": np.array([1.0])},
        {"y_pred": np.array([1.0, 2.0, 3.0]), "y_true": np.array([1.0, 0.0, 5.0])},
        {"y_pred": rng.normal(size=(4, 2)), "y_true": rng.normal(size=(4, 2))},
    ]
    return run_cases(
        "check_mse_grad", fn, cases, _mse_grad,
        mistakes=[(lambda p, y: (p - y) / np.size(p),
                   "the derivative of (p - y)**2 is 2 (p - y): you lost the factor 2"),
                  (lambda p, y: 2 * (p - y),
                   "the loss is a MEAN: divide by the number of entries (y_pred.size)"),
                  (lambda p, y: 2 * (p - y) / len(p),
                   "divide by the number of ENTRIES (y_pred.size), not of rows, "
                   "since the mean is over all entries"),
                  (lambda p, y: 2 * (y - p) / np.size(p),
                   "the sign is reversed: dL/dy_pred = 2 (y_pred - y_true) / N")])
