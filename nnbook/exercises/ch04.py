"""Checks for the exercises of chapter 4 (activation functions)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import OVERFLOW_HINT
from ._checking import rng as _rng
from ..scratch import activations as _act

__all__ = [
    "check_sigmoid_derivative", "check_relu", "check_relu_derivative", "check_elu",
    "check_elu_derivative", "check_softmax"
]


_Z_GRID = {
    "z = 0": np.array(0.0),
    "a vector around 0": np.linspace(-4, 4, 9),
    "a batch (matrix)": _rng(4).normal(0, 3, (3, 4)),
    "large |z|": np.array([-800.0, -30.0, 30.0, 800.0]),
}


def _activation_cases(include_large=True):
    return [{"z": v} for k, v in _Z_GRID.items() if include_large or k != "large |z|"]


@exercise_check
def check_sigmoid_derivative(fn):
    """``fn(z) -> sigma'(z)`` elementwise, for scalars, vectors and matrices."""
    sig = _act.sigmoid
    return run_cases(
        "check_sigmoid_derivative", fn, _activation_cases(), _act.sigmoid_derivative,
        nonfinite_hint=OVERFLOW_HINT,
        mistakes=[(sig, "your function returns sigma(z) itself, not its derivative "
                        "sigma(z) * (1 - sigma(z))"),
                  (lambda z: np.asarray(z) * (1 - np.asarray(z)),
                   "you applied s * (1 - s) to z itself: first compute s = sigma(z)"),
                  (lambda z: 1 - sig(z) ** 2,
                   "1 - s**2 is the derivative of tanh, not of the sigmoid"),

                  (lambda z: sig(z) * (1 + sig(z)),
                   "check the sign: sigma'(z) = sigma(z) * (1 - sigma(z))")],
        atol=1e-10)


@exercise_check
def check_relu(fn):
    """``fn(z) -> max(0, z)`` elementwise."""
    return run_cases(
        "check_relu", fn, _activation_cases(), _act.relu,
        mistakes=[(lambda z: np.abs(z), "negative inputs must give 0, not |z|"),
                  (lambda z: (np.asarray(z) > 0).astype(float),
                   "that is ReLU's derivative (a step), not ReLU itself"),
                  (lambda z: np.array(max(0.0, float(np.max(z)))),
                   "use np.maximum (elementwise), not max (one number for the whole array)")])


@exercise_check
def check_relu_derivative(fn):
    """``fn(z) -> 1 where z > 0 else 0`` (0 at the kink z = 0, as in PyTorch)."""
    return run_cases(
        "check_relu_derivative", fn, _activation_cases(), _act.relu_derivative,
        mistakes=[(lambda z: (np.asarray(z) >= 0).astype(float),
                   "at z = 0 the book (and PyTorch) use the derivative 0: write z > 0, "
                   "not z >= 0"),
                  (_act.relu, "that is ReLU itself; its derivative is 0 or 1")])


def _elu(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def _elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))


@exercise_check
def check_elu(fn):
    """``fn(z) -> ELU(z)``: ``z`` for ``z > 0``, ``exp(z) - 1`` otherwise."""
    return run_cases(
        "check_elu", fn, _activation_cases(), _elu, nonfinite_hint=OVERFLOW_HINT,
        mistakes=[(lambda z: np.where(np.asarray(z) > 0, z, np.exp(np.minimum(z, 0))),
                   "for z <= 0 the ELU is exp(z) - 1 (it tends to -1), not exp(z)")])


@exercise_check
def check_elu_derivative(fn):
    """``fn(z) -> ELU'(z)``: 1 for ``z > 0``, ``exp(z)`` otherwise."""
    return run_cases(
        "check_elu_derivative", fn, _activation_cases(), _elu_derivative,
        mistakes=[(lambda z: np.where(np.asarray(z) > 0, 1.0, np.expm1(np.minimum(z, 0))),
                   "the derivative of exp(z) - 1 is exp(z): the -1 disappears"),
                  (_elu, "that is the ELU itself, not its derivative")])


@exercise_check
def check_softmax(fn):
    """``fn(Z) -> softmax(Z)`` along the last axis (one row per sample)."""
    cases = [
        {"Z": np.array([2.0, 1.0, 0.1])},
        {"Z": np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])},
        {"Z": np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])},
        # rows at very different scales: each row needs its OWN maximum subtracted
        {"Z": np.array([[1000.0, 1001.0, 1002.0], [-5.0, -4.0, -3.0], [0.5, 0.0, -0.5]])},
        {"Z": _rng(5).normal(0, 2, (4, 5))},
        {"Z": _rng(6).normal(0, 30, (3, 6)) + np.array([[400.0], [0.0], [-400.0]])},
    ]

    def whole_batch(Z):
        e = np.exp(Z - np.max(Z))
        return e / e.sum()

    def over_columns(Z):
        e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    return run_cases(
        "check_softmax", fn, cases, _act.softmax,
        mistakes=[(whole_batch, "you normalised over the whole batch: each ROW must sum to 1 "
                                "(use axis=-1, keepdims=True)"),
                  (over_columns, "you normalised each column: each ROW (sample) must sum to 1 "
                                 "(axis=-1, not axis=0)")],
        atol=1e-10,
        nonfinite_hint=("subtract each ROW's own maximum (np.max(Z, axis=-1, keepdims=True)) "
                        "before exp(): without it exp() overflows, and with the maximum of "
                        "the whole batch a row far below it underflows to 0/0"))
