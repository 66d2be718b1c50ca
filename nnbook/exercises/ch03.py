"""Checks for the exercises of chapter 3 (the perceptron)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ["check_perceptron_update"]


def _perceptron_update(w, b, x, y, lr):
    y_hat = 1 if x @ w + b > 0 else 0
    err = y - y_hat
    return w + lr * err * x, b + lr * err


@exercise_check
def check_perceptron_update(fn):
    """``fn(w, b, x, y, lr) -> (w_new, b_new)``: one step of the perceptron rule
    :math:`w \\leftarrow w + \\eta (y - \\hat y) x`, :math:`b \\leftarrow b + \\eta (y - \\hat y)`,
    with :math:`\\hat y = 1` when :math:`w\\cdot x + b > 0`."""
    cases = [
        {"w": np.array([0.5, -0.5]), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
        {"w": np.array([0.5, 0.5]), "b": 0.2, "x": np.array([1.0, 0.0]), "y": 0, "lr": 0.5},
        {"w": np.array([1.0, 1.0]), "b": -1.5, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
        {"w": np.zeros(3), "b": 0.0, "x": np.array([1.0, 2.0, -1.0]), "y": 0, "lr": 1.0},
        {"w": np.zeros(2), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
        # z < 0: a wrong prediction of a positive sample, and a right one of a negative
        {"w": np.array([-1.0, 0.5]), "b": 0.0, "x": np.array([1.0, 0.5]), "y": 1, "lr": 0.1},
        {"w": np.array([-1.0, 0.5]), "b": -0.2, "x": np.array([2.0, 1.0]), "y": 0, "lr": 0.3},
    ]
    gen = _rng(3)
    for _ in range(4):   # a few random cases (seeded: the same every run)
        d = int(gen.integers(2, 5))
        cases.append({"w": gen.normal(size=d), "b": float(gen.normal()),
                      "x": gen.normal(size=d), "y": int(gen.integers(0, 2)),
                      "lr": float(gen.choice([0.1, 0.5, 1.0]))})

    def always_update(w, b, x, y, lr):
        return w + lr * y * x, b + lr * y

    def flipped(w, b, x, y, lr):
        y_hat = 1 if x @ w + b > 0 else 0
        return w - lr * (y - y_hat) * x, b - lr * (y - y_hat)

    def ge(w, b, x, y, lr):
        err = y - (1 if x @ w + b >= 0 else 0)
        return w + lr * err * x, b + lr * err

    def sign_step(w, b, x, y, lr):
        err = y - np.sign(x @ w + b)
        return w + lr * err * x, b + lr * err

    def no_bias(w, b, x, y, lr):
        return _perceptron_update(w, b, x, y, lr)[0], b

    return tuple_cases(
        "check_perceptron_update", fn, cases, _perceptron_update, ("w_new", "b_new"),
        mistakes=[(flipped, "the update has the wrong sign: it is w + lr * (y - y_hat) * x"),
                  (ge, "the step function fires only when w.x + b > 0 strictly; "
                       "at exactly 0 the perceptron predicts 0"),
                  (always_update, "update only by the error (y - y_hat): a correctly "
                                  "classified sample must leave the weights unchanged"),
                  (no_bias, "the bias is updated too: b + lr * (y - y_hat)"),
                  (sign_step, "np.sign gives -1 when w.x + b < 0, but the labels here are 0 "
                              "and 1: predict y_hat = 1 if w.x + b > 0 else 0")])
