"""Linear separability: where one perceptron succeeds, and how two layers
of perceptrons get past where it fails.

A set of labelled points is *linearly separable* when a line (a hyperplane
in more dimensions) puts every point of class 1 on one side and every point
of class 0 on the other. The perceptron convergence theorem says the
perceptron learning rule then finds such a line after finitely many
mistakes; :func:`train_until_converged` runs it until an epoch without a
mistake. XOR is the classic set that no line separates; :func:`xor_network`
computes it with two layers of hand-set threshold units.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array
from .perceptron import Perceptron

#: The four inputs of a two-input Boolean function, one per row.
BOOLEAN_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])

#: All 16 Boolean functions of two inputs: name -> outputs on ``BOOLEAN_INPUTS``.
BOOLEAN_FUNCTIONS = {
    "FALSE": (0, 0, 0, 0),
    "AND": (0, 0, 0, 1),
    "x1 AND NOT x2": (0, 0, 1, 0),
    "x1": (0, 0, 1, 1),
    "NOT x1 AND x2": (0, 1, 0, 0),
    "x2": (0, 1, 0, 1),
    "XOR": (0, 1, 1, 0),
    "OR": (0, 1, 1, 1),
    "NOR": (1, 0, 0, 0),
    "XNOR": (1, 0, 0, 1),
    "NOT x2": (1, 0, 1, 0),
    "x1 OR NOT x2": (1, 0, 1, 1),
    "NOT x1": (1, 1, 0, 0),
    "NOT x1 OR x2": (1, 1, 0, 1),
    "NAND": (1, 1, 1, 0),
    "TRUE": (1, 1, 1, 1),
}


def train_until_converged(X, y, learning_rate=0.1, max_epochs=100, seed=None):
    """Train a :class:`~nnbook.scratch.perceptron.Perceptron` one epoch at a time
    until an epoch makes no mistake, or until ``max_epochs`` epochs have run.

    Returns ``(perceptron, converged)``. The number of epochs run is
    ``len(perceptron.errors_)``; when ``converged`` is true the last entry
    of ``errors_`` is 0 and the perceptron classifies every sample correctly.
    """
    X = as_float_array(X, "X", ndim=2)
    if isinstance(max_epochs, bool) or not isinstance(max_epochs, (int, np.integer)) \
            or max_epochs < 1:
        raise ValueError(f"max_epochs must be a positive integer, got {max_epochs!r}")
    perceptron = Perceptron(X.shape[1], learning_rate=learning_rate, seed=seed)
    for _ in range(max_epochs):
        perceptron.train(X, y, epochs=1)
        if perceptron.errors_[-1] == 0:
            return perceptron, True
    return perceptron, False


def accuracy_history(perceptron, X, y):
    """Accuracy on ``(X, y)`` of the weights stored after each training epoch
    (``perceptron.history_``), as an array with one entry per epoch."""
    if not hasattr(perceptron, "history_"):
        raise TypeError(f"perceptron must be a trained nnbook.scratch.Perceptron, got "
                        f"{type(perceptron).__name__}")
    X = as_float_array(X, "X", ndim=2)
    y = np.asarray(y).reshape(-1)
    if len(y) != len(X):
        raise ValueError(f"y must have one label per row of X ({len(X)}), got {len(y)}")
    return np.array([np.mean(((X @ w + b) > 0).astype(int) == y)
                     for w, b in perceptron.history_])


def threshold_layer(X, W, b):
    r"""A layer of perceptrons: :math:`\mathrm{step}(XW + b)`, 1 where the
    weighted sum is positive, else 0. ``W`` has one column per unit."""
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    b = as_float_array(b, "b", ndim=1)
    if W.shape[0] != X.shape[1] or W.shape[1] != b.shape[0]:
        raise ValueError(f"W must have shape ({X.shape[1]}, {b.shape[0]}) for X of shape "
                         f"{X.shape} and b of shape {b.shape}, got {W.shape}")
    return (X @ W + b > 0).astype(int)


#: Hand-set weights: hidden unit 1 computes OR, hidden unit 2 computes NAND.
XOR_HIDDEN_W = np.array([[1.0, -1.0],
                         [1.0, -1.0]])
XOR_HIDDEN_B = np.array([-0.5, 1.5])
#: The output unit computes AND of the two hidden units.
XOR_OUTPUT_W = np.array([[1.0], [1.0]])
XOR_OUTPUT_B = np.array([-1.5])


def xor_hidden(X):
    """The hidden layer of :func:`xor_network`: columns OR(x1, x2), NAND(x1, x2)."""
    return threshold_layer(X, XOR_HIDDEN_W, XOR_HIDDEN_B)


def xor_network(X):
    """XOR(x1, x2) = AND(OR(x1, x2), NAND(x1, x2)): two layers of perceptrons."""
    H = xor_hidden(X)
    return threshold_layer(H, XOR_OUTPUT_W, XOR_OUTPUT_B)[:, 0]
