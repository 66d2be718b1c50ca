"""Checks for the exercises of chapter 7 (backpropagation)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ._checking import OVERFLOW_HINT, compare, numerical_vjp, plain
from ..scratch.losses import mse_grad as _mse_grad

__all__ = [
    "check_dense_backward", "check_mse_grad", "check_softmax_cross_entropy_grad",
    "check_gradient_checker"
]


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
                   "your dW is the transpose of the right one: dW has the shape of W, "
                   "(n_in, n_out), dW = X.T @ dZ"),
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


def _softmax(Z):
    E = np.exp(Z - Z.max(axis=-1, keepdims=True))
    return E / E.sum(axis=-1, keepdims=True)


def _ce_loss(Z, y):
    P = _softmax(Z)
    return float(-np.mean(np.log(P[np.arange(len(y)), y])))


def _ce_grad(Z, y):
    G = _softmax(Z)
    G[np.arange(len(y)), y] -= 1
    return G / len(y)


@exercise_check
def check_softmax_cross_entropy_grad(fn, loss=None):
    """``fn(Z, y) -> dL/dZ`` for the mean softmax cross-entropy
    :math:`L = -\\frac1N \\sum_n \\log \\mathrm{softmax}(z_n)_{y_n}` of logits ``Z`` (N, K)
    and integer labels ``y`` (N,): the answer is :math:`(P - Y_{\\text{one-hot}})/N`.

    If the reader's ``loss(Z, y)`` is given too, it is checked, and ``fn`` is
    also compared with finite differences of it.
    """
    name = "check_softmax_cross_entropy_grad"
    gen = _rng(20)
    cases = [{"Z": np.array([[2.0, 1.0, 0.1]]), "y": np.array([0])},
             {"Z": gen.normal(size=(4, 3)), "y": np.array([0, 2, 1, 2])},
             {"Z": gen.normal(0, 5, size=(6, 5)), "y": gen.integers(0, 5, 6)},
             {"Z": np.array([[1000.0, 0.0, -1000.0], [0.0, 0.0, 0.0]]), "y": np.array([2, 1])}]
    mistakes = [(lambda Z, y: _ce_grad(Z, y) * len(y),
                 "divide by the batch size N: the loss is a MEAN over the samples"),
                (lambda Z, y: _softmax(Z) / len(y),
                 "subtract the one-hot labels: dL/dz = (p - y) / N"),
                (lambda Z, y: -_ce_grad(Z, y), "the sign is reversed: dL/dz = (p - y) / N"),
                (lambda Z, y: (_softmax(Z) - np.eye(Z.shape[1])[y]),
                 "divide by the batch size N: the loss is a MEAN over the samples")]
    if loss is not None:
        if not callable(loss):
            raise TypeError(f"{name}: loss must be a function, got {type(loss).__name__}")
        for args in cases[:3]:
            got = call(f"{name} (loss)", loss, args)
            comparison = compare(got, _ce_loss(**args), 1e-6, 1e-9)
            if not comparison["ok"]:
                fail(f"{name} (loss)", args, _ce_loss(**args), got,
                     "the loss is -mean(log p[n, y[n]]) with p = softmax(Z) row by row",
                     comparison=comparison)
            numeric = numerical_vjp(lambda Z: loss(Z, args["y"]), {"Z": args["Z"]}, 1.0, ["Z"])
            grad = call(name, fn, args)
            own = compare(grad, numeric["Z"], 1e-4, 1e-7)
            if not own["ok"]:
                fail(name, args, numeric["Z"], grad,
                     "your gradient disagrees with finite differences of your own loss",
                     what="gradient not the derivative of your loss", comparison=own)
    return run_cases(name, fn, cases, _ce_grad, mistakes=mistakes, atol=1e-10,
                     nonfinite_hint=OVERFLOW_HINT)


def _test_functions():
    gen = _rng(21)
    A = gen.normal(size=(3, 3))
    return [
        ("f(x) = sum(x**2)", lambda x: float(np.sum(x ** 2)), lambda x: 2 * x,
         gen.normal(size=4)),
        ("f(x) = sin(x0) * x1**3", lambda x: float(np.sin(x[0]) * x[1] ** 3),
         lambda x: np.array([np.cos(x[0]) * x[1] ** 3, 3 * np.sin(x[0]) * x[1] ** 2]),
         np.array([0.3, 1.7])),
        ("f(X) = sum(tanh(X @ A))", lambda X: float(np.sum(np.tanh(X @ A))),
         lambda X: (1 - np.tanh(X @ A) ** 2) @ A.T, gen.normal(size=(2, 3))),
        ("f(x) = exp(x).sum() (steep)", lambda x: float(np.exp(x).sum()), np.exp,
         np.array([2.0, 3.0, -1.0])),
    ]


@exercise_check
def check_gradient_checker(fn):
    """``fn(f, x) -> g``: the numerical gradient of a scalar function ``f`` at the
    array ``x`` (any shape) by central differences, ``g`` of the shape of ``x``.

    The answer is judged against the exact gradient (relative error below
    1e-6 at a suitable step); ``x`` must be the same after the call as
    before (restore every entry you nudge).
    """
    name = "check_gradient_checker"
    notes = []
    for label, f, grad, x in _test_functions():
        x_before = x.copy()
        x_given = x.copy()
        try:
            got = fn(f, x_given)
        except Exception as exc:  # noqa: BLE001
            fail_simple(name, f"your function raised {type(exc).__name__}: {exc} on {label}",
                        {"x": x_before})
        if got is None:
            fail_simple(name, "your function returned None: did you forget the `return` "
                              "statement?", {"x": x_before})
        if not np.array_equal(x_given, x_before):
            fail_simple(name, f"on {label}, x was changed by your function: put every "
                              "entry back after nudging it (x[i] = old)", {"x": x_before},
                        x_before, x_given)
        expected = grad(x_before)
        comparison = compare(plain(got), expected, 1e-6, 1e-8)
        notes.append(comparison["note"])
        if comparison["ok"]:
            continue
        hint = None
        g = np.asarray(plain(got), dtype=float) if comparison["problem"] is None else None
        if g is not None:
            rel = np.max(np.abs(g - expected)) / max(np.max(np.abs(expected)), 1e-12)
            if rel < 1e-2:
                hint = ("close but not accurate enough: a one-sided difference (f(x+h) - f(x))/h "
                        "has an error of order h; the central difference "
                        "(f(x+h) - f(x-h)) / (2h) with h around 1e-5 has an error of order h**2")
        fail(name, {"f": label, "x": x_before}, expected, got, hint, comparison=comparison)
    return ok(name, len(_test_functions()), notes)
