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
    if not callable(f):
        raise TypeError(f"f must be a function of no arguments returning the loss, got {f!r}")
    if isinstance(h, bool) or not isinstance(h, (int, float, np.floating)) or not (
            np.isfinite(h) and h > 0):
        raise ValueError(f"h must be a positive step size, got {h!r}")
    if not isinstance(x, np.ndarray) or x.dtype != np.float64:
        raise TypeError("x must be a float64 NumPy array that f reads in place, "
                        f"got {type(x).__name__} {getattr(x, 'dtype', '')}")
    flat = x.reshape(-1)
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so that it can be perturbed in place")
    return _central_differences(f, flat, range(flat.size), h).reshape(x.shape)


def _central_differences(f, flat: np.ndarray, indices, h: float) -> np.ndarray:
    """``(f(x + h e_i) - f(x - h e_i)) / 2h`` for each ``i`` in ``indices`` of the
    flat view ``flat``, which ``f`` reads; every entry is restored afterwards."""
    out = np.empty(len(indices))
    for k, i in enumerate(indices):
        old = flat[i]
        flat[i] = old + h
        f_plus = f()
        flat[i] = old - h
        f_minus = f()
        flat[i] = old
        out[k] = (f_plus - f_minus) / (2 * h)
    return out


def relative_error(a, b, eps: float = 1e-12) -> float:
    """:math:`\\lVert a - b\\rVert / \\max(\\lVert a\\rVert + \\lVert b\\rVert, \\epsilon)`.

    Around 1e-7 or less, two gradients agree to about as many digits as
    float64 central differences allow; above 1e-4 something is wrong.
    """
    from ._validate import as_float_array
    a, b = as_float_array(a, "a", allow_nan=True), as_float_array(b, "b", allow_nan=True)
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), eps))


def check_gradients(model, X, y, loss="softmax_cross_entropy", h: float = 1e-6,
                    max_entries: int | None = 500, seed=0,
                    verbose: bool = False) -> dict[str, float]:
    """Compare ``model``'s backpropagated gradients with numerical ones.

    ``model`` is any object with ``forward``, ``backward``, ``zero_grad`` and
    ``parameters()`` (an :class:`~nnbook.scratch.mlp.MLP`, say). Returns
    ``{"W1": error, "b1": ..., "W2": ...}``, the relative error of each
    parameter (numbered per name, in order).

    The check always runs in float64 (a float32 model is converted for the
    check and back afterwards), with every ``Dropout`` layer switched off
    (its random mask would change between the two evaluations of a central
    difference). ``loss`` defaults to ``fit``'s. A parameter with more than
    ``max_entries`` entries is checked on that many entries drawn at random
    (``seed``); ``None`` checks every entry (two forward passes each).
    ``verbose=True`` prints one line per parameter.
    """
    from ._validate import as_float_array, check_int, check_positive, make_rng

    loss_fn, _ = get_loss(loss)
    h = check_positive(h, "h")
    if max_entries is not None:
        max_entries = check_int(max_entries, "max_entries", low=1)
    for method in ("forward", "backward", "parameters", "loss_and_backward"):
        if not callable(getattr(model, method, None)):
            raise TypeError(f"model must have a {method}() method (a scratch Sequential or "
                            f"MLP), got {type(model).__name__}")
    X = as_float_array(X, "X")
    rng = make_rng(seed)
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters to check")
    dtypes = [p.data.dtype for p in params]
    dropouts = [layer for layer in getattr(model, "layers", [])
                if type(layer).__name__ == "Dropout" and layer.training]
    for layer in dropouts:
        layer.training = False
    try:
        for p in params:
            if p.data.dtype != np.float64:
                p.data, p.grad = p.data.astype(np.float64), p.grad.astype(np.float64)
        model.loss_and_backward(X, y, loss)
        analytic = [p.grad.copy() for p in params]

        def f():
            return loss_fn(model.forward(X), y)

        errors, counts = {}, {}
        for p, g in zip(params, analytic):
            counts[p.name] = counts.get(p.name, 0) + 1
            key = f"{p.name}{counts[p.name]}"
            if max_entries is None or p.data.size <= max_entries:
                numeric = numerical_gradient(f, p.data, h)
                errors[key] = relative_error(g, numeric)
            else:
                idx = np.sort(rng.choice(p.data.size, size=max_entries, replace=False)
                              if hasattr(rng, "choice") else rng.permutation(p.data.size)
                              [:max_entries])
                flat = p.data.reshape(-1)
                if not np.shares_memory(flat, p.data):
                    p.data = np.ascontiguousarray(p.data)   # perturb what forward reads
                    flat = p.data.reshape(-1)
                numeric = _central_differences(f, flat, idx, h)
                errors[key] = relative_error(g.reshape(-1)[idx], numeric)
            if verbose:
                print(f"{key}: relative error {errors[key]:.2e} "
                      f"({min(p.data.size, max_entries or p.data.size)} entries)", flush=True)
        return errors
    finally:
        for p, dtype in zip(params, dtypes):
            if p.data.dtype != dtype:
                p.data, p.grad = p.data.astype(dtype), p.grad.astype(dtype)
        for layer in dropouts:
            layer.training = True
