"""Activation functions and their derivatives, in NumPy.

Each function ``f`` has a partner ``f_derivative`` giving ``f'(z)``
elementwise. All are written to stay finite for inputs of +/-1000: the
sigmoid never evaluates ``exp`` of a large positive number, and softmax
subtracts the row maximum before exponentiating.
"""

from __future__ import annotations

import numpy as np


def sigmoid(z):
    r"""Logistic sigmoid :math:`\sigma(z) = 1 / (1 + e^{-z})`.

    Computed as :math:`e^{z}/(1+e^{z})` for negative ``z`` so that ``exp``
    only ever sees non-positive arguments and cannot overflow.
    """
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))          # in (0, 1], never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_derivative(z):
    r""":math:`\sigma'(z) = \sigma(z)\,(1 - \sigma(z))`."""
    s = sigmoid(z)
    return s * (1.0 - s)


def tanh(z):
    r"""Hyperbolic tangent, :math:`\tanh(z) = 2\sigma(2z) - 1`."""
    return np.tanh(np.asarray(z, dtype=float))


def tanh_derivative(z):
    r""":math:`\tanh'(z) = 1 - \tanh^2(z)`."""
    t = np.tanh(np.asarray(z, dtype=float))
    return 1.0 - t * t


def relu(z):
    r"""Rectified linear unit :math:`\max(0, z)`."""
    return np.maximum(0.0, np.asarray(z, dtype=float))


def relu_derivative(z):
    r""":math:`\mathrm{ReLU}'(z) = 1` for :math:`z > 0`, else 0 (0 at the kink, as in PyTorch)."""
    return (np.asarray(z) > 0).astype(float)


def leaky_relu(z, negative_slope: float = 0.01):
    r"""Leaky ReLU: :math:`z` for :math:`z > 0`, else :math:`\alpha z`."""
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, negative_slope * z)


def leaky_relu_derivative(z, negative_slope: float = 0.01):
    r"""1 for :math:`z > 0`, else :math:`\alpha`."""
    return np.where(np.asarray(z) > 0, 1.0, negative_slope)


def softmax(z, axis: int = -1):
    r"""Softmax along ``axis``: :math:`s_i = e^{z_i} / \sum_j e^{z_j}`.

    Subtracting :math:`\max_j z_j` first leaves the result unchanged (it
    cancels between numerator and denominator) and keeps ``exp`` finite.
    """
    z = np.asarray(z, dtype=float)
    shifted = z - z.max(axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=axis, keepdims=True)


def softmax_jacobian(z):
    r"""Jacobian of softmax for one vector ``z``: :math:`J = \mathrm{diag}(s) - s s^\top`."""
    s = softmax(np.asarray(z, dtype=float).reshape(-1))
    return np.diag(s) - np.outer(s, s)


def softmax_backward(s, grad_s, axis: int = -1):
    r"""Vector-Jacobian product through softmax.

    Given the softmax output ``s`` and :math:`\partial L/\partial s`, returns
    :math:`\partial L/\partial z = s \odot (g - \langle g, s\rangle)`, which
    is :math:`J^\top g` without building the Jacobian.
    """
    return s * (grad_s - np.sum(grad_s * s, axis=axis, keepdims=True))


#: name -> (function, derivative); used by the layers and the book's tables.
ACTIVATIONS = {
    "sigmoid": (sigmoid, sigmoid_derivative),
    "tanh": (tanh, tanh_derivative),
    "relu": (relu, relu_derivative),
    "leaky_relu": (leaky_relu, leaky_relu_derivative),
}
