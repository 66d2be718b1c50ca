"""Activation functions and their derivatives, in NumPy.

Each function ``f`` has a partner ``f_derivative`` giving ``f'(z)``
elementwise. All are written to stay finite for inputs of +/-1000: the
sigmoid never evaluates ``exp`` of a large positive number, and softmax
subtracts the row maximum before exponentiating.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array


def _float(z, name: str = "z") -> np.ndarray:
    """``z`` as a float array: float32 stays float32, anything else numeric
    becomes float64; non-numeric input is a TypeError naming ``z``."""
    if type(z) is np.ndarray and z.dtype.kind == "f" and z.dtype.itemsize in (4, 8):
        return z                                          # the fast path inside fit
    return as_float_array(z, name, dtype=None, allow_nan=True)


def _slope(negative_slope) -> float:
    if isinstance(negative_slope, (bool, np.bool_)) or not isinstance(
            negative_slope, (int, float, np.integer, np.floating)):
        raise TypeError(f"negative_slope must be a real number, got {negative_slope!r}")
    if not np.isfinite(negative_slope):
        raise ValueError(f"negative_slope must be finite, got {negative_slope!r}")
    return float(negative_slope)


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Computed as :math:`e^{z}/(1+e^{z})` for negative ``z`` so that ``exp``
    only ever sees non-positive arguments and cannot overflow.
    """
    z = _float(z)
    e = np.exp(-np.abs(z))          # in (0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    r"""Hyperbolic tangent, :math:`\tanh(z) = 2\sigma(2z) - 1`."""
    return np.tanh(_float(z))


def tanh_derivative(z):
    r""":math:`\tanh'(z) = 1 - \tanh^2(z)`."""
    t = np.tanh(_float(z))
    return 1.0 - t * t


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`."""
    return np.maximum(_float(z), 0.0)


def relu_derivative(z):
    r""":math:`\mathrm{ReLU}'(z) = 1` for :math:`z > 0`, else 0 (0 at the kink, as in PyTorch)."""
    z = _float(z)
    return (z > 0).astype(z.dtype)


def leaky_relu(z, negative_slope: float = 0.01):
    r"""Leaky ReLU: :math:`z` for :math:`z > 0`, else :math:`\alpha z`."""
    z = _float(z)
    return np.where(z > 0, z, _slope(negative_slope) * z).astype(z.dtype, copy=False)


def leaky_relu_derivative(z, negative_slope: float = 0.01):
    r"""1 for :math:`z > 0`, else :math:`\alpha`."""
    z = _float(z)
    return np.where(z > 0, 1.0, _slope(negative_slope)).astype(z.dtype, copy=False)


def softmax(z, axis: int = -1):
    r"""Softmax along ``axis``: :math:`s_i = e^{z_i} / \sum_j e^{z_j}`.

    Subtracting :math:`\max_j z_j` first leaves the result unchanged (it
    cancels between numerator and denominator) and keeps ``exp`` finite.
    """
    z = _float(z)
    if z.ndim == 0:
        raise ValueError("z must have at least one axis to take the softmax over, got a scalar")
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(z):
    r"""Jacobian of softmax for one vector ``z``: :math:`J = \mathrm{diag}(s) - s s^\top`."""
    z = _float(z)
    if z.ndim != 1:
        raise ValueError(f"z must be 1-D (one vector of scores), got shape {z.shape}")
    s = softmax(z)
    return np.diag(s) - np.outer(s, s)


def softmax_backward(s, grad_s, axis: int = -1):
    r"""Vector-Jacobian product through softmax.

    Given the softmax output ``s`` and :math:`\partial L/\partial s`, returns
    :math:`\partial L/\partial z = s \odot (g - \langle g, s\rangle)`, which
    is :math:`J^\top g` without building the Jacobian.
    """
    s, grad_s = _float(s, "s"), _float(grad_s, "grad_s")
    if s.shape != grad_s.shape:
        raise ValueError(f"s and grad_s must have the same shape, got {s.shape} and "
                         f"{grad_s.shape}")
    return s * (grad_s - np.sum(grad_s * s, axis=axis, keepdims=True))


#: name -> (function, derivative); used by the layers and the book's tables.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
}
