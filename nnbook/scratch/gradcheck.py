"""Numerical gradient checking by central differences.

A hand-written backward pass is only trustworthy once it agrees with the
definition of the derivative:

.. math::
    \\frac{\\partial f}{\\partial \\theta_i} \\approx
    \\frac{f(\\theta + h e_i) - f(\\theta - h e_i)}{2h},

whose error is :math:`O(h^2)`.
"""

from __future__ import annotations

import numpy as np

from .losses import get_loss


def numerical_gradient(f, x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central-difference gradient of the scalar function ``f()`` with respect
    to the array ``x``, which ``f`` reads and which is perturbed in place (and
    restored) one entry at a time."""
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 NumPy array that f reads in place, "
                        f"got {type(x).__name__} {getattr(x, 'dtype', '')}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        gflat[i] = (f_plus - f_minus) / (2 * h)
    return grad


def relative_error(a, b, eps: float = 1e-12) -> float:
    """:math:`\\lVert a - b\\rVert / \\max(\\lVert a\\rVert + \\lVert b\\rVert, \\epsilon)`.

    Around 1e-7 or less, two gradients agree to about as many digits as
    float64 central differences allow; above 1e-4 something is wrong.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))


def check_gradients(model, X, y, loss="mse", h: float = 1e-6) -> dict[str, float]:
    """Compare ``model``'s backpropagated gradients with numerical ones.

    ``model`` is any object with ``forward``, ``backward``, ``zero_grad`` and
    ``parameters()`` (an :class:`~nnbook.scratch.mlp.MLP`, say); dropout
    should be off. Returns ``{"layer0.W": error, ...}``, the relative error of
    each parameter.
    """
    loss_fn, _ = get_loss(loss)
    model.loss_and_backward(X, y, loss)
    analytic = [p.grad.copy() for p in model.parameters()]

    def f():
        return loss_fn(model.forward(X), y)

    errors, counts = {}, {}
    for p, g in zip(model.parameters(), analytic):
        counts[p.name] = counts.get(p.name, 0) + 1
        numeric = numerical_gradient(f, p.data, h)
        errors[f"{p.name}{counts[p.name]}"] = relative_error(g, numeric)
    return errors
