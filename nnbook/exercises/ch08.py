"""Checks for the exercises of chapter 8 (optimizers)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ._checking import compare  # noqa: F401

__all__ = [
    "check_gradient_descent_step", "check_momentum_update", "check_adam_step",
    "check_inverted_dropout"
]


@exercise_check
def check_gradient_descent_step(fn):
    """``fn(theta, grad, lr) -> theta_new = theta - lr * grad``."""
    rng = _rng(9)
    cases = [
        {"theta": np.array([1.0, -2.0]), "grad": np.array([0.5, 0.5]), "lr": 0.1},
        {"theta": rng.normal(size=(2, 3)), "grad": rng.normal(size=(2, 3)), "lr": 0.01},
        {"theta": np.array([3.0]), "grad": np.array([0.0]), "lr": 1.0},
    ]
    return run_cases(
        "check_gradient_descent_step", fn, cases, lambda t, g, lr: t - lr * g,
        mistakes=[(lambda t, g, lr: t + lr * g,
                   "you stepped UP the gradient: descent subtracts lr * grad"),
                  (lambda t, g, lr: t - g, "you forgot to multiply the gradient by lr"),
                  (lambda t, g, lr: -lr * g,
                   "return the new parameters theta - lr * grad, not only the step")])


def _momentum(theta, v, grad, lr, mu):
    v_new = mu * v + grad
    return theta - lr * v_new, v_new


@exercise_check
def check_momentum_update(fn):
    """``fn(theta, v, grad, lr, mu) -> (theta_new, v_new)`` with PyTorch's
    heavy-ball rule :math:`v \\leftarrow \\mu v + g`, :math:`\\theta \\leftarrow \\theta - \\eta v`
    (``v`` starts at zeros)."""
    rng = _rng(10)
    cases = [
        {"theta": np.array([1.0, -1.0]), "v": np.zeros(2), "grad": np.array([0.2, -0.4]),
         "lr": 0.1, "mu": 0.9},
        {"theta": np.array([1.0, -1.0]), "v": np.array([1.0, 2.0]),
         "grad": np.array([0.2, -0.4]), "lr": 0.1, "mu": 0.9},
        {"theta": rng.normal(size=(2, 2)), "v": rng.normal(size=(2, 2)),
         "grad": rng.normal(size=(2, 2)), "lr": 0.05, "mu": 0.5},
        {"theta": np.array([0.5]), "v": np.array([3.0]), "grad": np.array([1.0]),
         "lr": 0.1, "mu": 0.0},
    ]

    def old_velocity(theta, v, grad, lr, mu):
        return theta - lr * v, mu * v + grad

    def damped(theta, v, grad, lr, mu):
        v_new = mu * v + (1 - mu) * grad
        return theta - lr * v_new, v_new

    def no_mu(theta, v, grad, lr, mu):
        v_new = v + grad
        return theta - lr * v_new, v_new

    def sutskever(theta, v, grad, lr, mu):
        v_new = mu * v - lr * grad
        return theta + v_new, v_new

    return tuple_cases(
        "check_momentum_update", fn, cases, _momentum, ("theta_new", "v_new"),
        mistakes=[(old_velocity, "update the velocity FIRST, then step with the new velocity"),
                  (damped, "PyTorch's momentum adds the full gradient, v = mu * v + grad, "
                           "not (1 - mu) * grad (that is Adam's first moment)"),
                  (no_mu, "you forgot to multiply the old velocity by mu"),
                  (sutskever, "you used the convention v = mu v - lr g, theta += v; this "
                              "check (like PyTorch) stores v = mu v + g and steps "
                              "theta -= lr v")])


def _adam(theta, m, v, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


@exercise_check
def check_adam_step(fn):
    """``fn(theta, m, v, grad, t, lr) -> (theta_new, m_new, v_new)``: one Adam step
    (``t`` counts from 1; betas 0.9 and 0.999, eps 1e-8)."""
    rng = _rng(11)
    cases = [
        {"theta": np.array([1.0, -1.0]), "m": np.zeros(2), "v": np.zeros(2),
         "grad": np.array([0.5, -2.0]), "t": 1, "lr": 0.1},
        {"theta": rng.normal(size=3), "m": rng.normal(0, 0.1, 3), "v": rng.uniform(0, 1, 3),
         "grad": rng.normal(size=3), "t": 5, "lr": 0.01},
        {"theta": rng.normal(size=(2, 2)), "m": rng.normal(0, 0.1, (2, 2)),
         "v": rng.uniform(0, 1, (2, 2)), "grad": rng.normal(size=(2, 2)), "t": 100, "lr": 1e-3},
    ]

    def no_correction(theta, m, v, grad, t, lr):
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        return theta - lr * m / (np.sqrt(v) + 1e-8), m, v

    return tuple_cases(
        "check_adam_step", fn, cases, _adam, ("theta_new", "m_new", "v_new"),
        mistakes=[(no_correction, "you forgot the bias correction m / (1 - beta1**t) and "
                                  "v / (1 - beta2**t) (store the UNcorrected m and v)")],
        rtol=1e-6, atol=1e-10)


@exercise_check
def check_inverted_dropout(fn):
    """``fn(X, p, training, rng) -> Y``: inverted dropout with drop probability ``p``.

    In training (``training=True``) each entry is zeroed with probability ``p``
    (draw with ``rng``, a ``np.random.Generator``) and the survivors are scaled
    by ``1 / (1 - p)``, so that the expected value of every entry is unchanged;
    in evaluation (``training=False``), and for ``p = 0``, ``Y`` equals ``X``.
    Judged by these properties, on a large input, so any correct use of ``rng``
    passes.
    """
    name = "check_inverted_dropout"
    X = _rng(22).uniform(1.0, 2.0, size=(400, 50))   # positive: zeros are dropped entries
    notes = []
    for p in (0.5, 0.2, 0.8):
        args = {"X": X, "p": p, "training": True, "rng": np.random.default_rng(0)}
        Y = call(name, fn, args)
        comparison = compare(Y, X, 1, 1e9)           # shape and finiteness only
        notes.append(comparison["note"])
        if comparison["problem"]:
            fail(name, args, "an array shaped like X", Y, comparison=comparison)
        Y = np.asarray(Y, dtype=float)
        dropped = Y == 0
        frac = dropped.mean()
        se = np.sqrt(p * (1 - p) / X.size)
        kept = ~dropped
        if abs(frac - p) > 5 * se:
            hint = None
            if abs(frac - (1 - p)) < 5 * se:
                hint = ("you KEEP each entry with probability p: p is the probability of "
                        "DROPPING it (keep where rng.random(X.shape) >= p)")
            fail_simple(name, f"with p = {p}, {frac:.3f} of the entries are zero; expected "
                              f"about {p} (within {5 * se:.3f})"
                        + (f"\n  Hint: {hint}" if hint else ""), args, p, frac)
        scale = Y[kept] / X[kept]
        if not np.allclose(scale, 1 / (1 - p), rtol=1e-6 if Y.dtype == np.float64 else 1e-5):
            hint = ("scale the kept entries by 1 / (1 - p) during training (inverted dropout), "
                    "so that nothing needs rescaling at test time")
            if np.allclose(scale, 1.0):
                hint = "you dropped entries but did not rescale the others: " + hint
            fail_simple(name, f"with p = {p}, kept entries are multiplied by "
                              f"{float(np.median(scale)):.4g}, expected {1 / (1 - p):.4g}"
                        f"\n  Hint: {hint}", args, 1 / (1 - p), float(np.median(scale)))
    for args, what in (({"X": X, "p": 0.5, "training": False, "rng": np.random.default_rng(0)},
                        "in evaluation mode (training=False)"),
                       ({"X": X, "p": 0.0, "training": True, "rng": np.random.default_rng(0)},
                        "with p = 0")):
        Y = call(name, fn, args)
        comparison = compare(Y, X, 1e-12, 0)
        if not comparison["ok"]:
            fail(name, args, X, Y, f"{what} dropout must return X unchanged",
                 comparison=comparison)
    return ok(name, 5, notes)
