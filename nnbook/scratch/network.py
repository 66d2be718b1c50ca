"""The seed notebook's ``NeuralNetworkFromScratch``, with its backward pass fixed.

The seed's ``backward`` updated ``self.weights[i]`` and *then* used the
updated matrix to propagate the gradient to layer ``i - 1``. The chain rule
needs the weights that produced the forward pass, so every layer below the
top received a slightly wrong gradient. Here
:meth:`NeuralNetworkFromScratch.gradients` computes all gradients first, with
the forward-pass weights, and only then does
:meth:`NeuralNetworkFromScratch.backward` apply the update.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_int, check_layer_sizes, check_positive, make_rng
from .activations import relu, relu_derivative
from .layers import init_weights


class NeuralNetworkFromScratch:
    r"""ReLU network with a linear output, trained by gradient descent on
    :math:`L = \frac{1}{2N}\sum_n \lVert \hat y_n - y_n \rVert^2`.

    ``layer_sizes`` lists the widths from input to output, e.g.
    ``[10, 16, 8, 1]``. Weights have shape ``(n_in, n_out)``, biases
    ``(1, n_out)``; a batch ``X`` has one sample per row. ``init`` chooses
    the weight initialisation (see :func:`~nnbook.scratch.layers.init_weights`):
    He by default; ``"small"`` reproduces the seed's ``0.01 * randn``.
    """

    def __init__(self, layer_sizes, init: str = "he", seed=None):
        self.layer_sizes = check_layer_sizes(layer_sizes)
        rng = make_rng(seed)
        self.weights = []
        self.biases = []
        for n_in, n_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            self.weights.append(init_weights(n_in, n_out, init, rng))
            self.biases.append(np.zeros((1, n_out)))

    def relu(self, z):
        """ReLU, :func:`nnbook.scratch.activations.relu`."""
        return relu(z)

    def relu_derivative(self, z):
        """ReLU's derivative, :func:`nnbook.scratch.activations.relu_derivative`."""
        return relu_derivative(z)

    def _check(self, X, y=None):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (N, {self.layer_sizes[0]}) for layer_sizes "
                             f"{self.layer_sizes}, got {X.shape}")
        if y is None:
            return X
        y = as_float_array(y, "y", ndim=(1, 2))
        if y.ndim == 1:
            y = y.reshape(-1, 1)
        if y.shape != (X.shape[0], self.layer_sizes[-1]):
            raise ValueError(f"y must have shape ({X.shape[0]}, {self.layer_sizes[-1]}), "
                             f"got {y.shape}")
        return X, y

    def forward(self, X):
        r""":math:`Z^{(l)} = A^{(l-1)} W^{(l)} + b^{(l)}`, :math:`A^{(l)} = \mathrm{ReLU}(Z^{(l)})`,
        and a linear output layer. Caches every ``Z`` and ``A`` for the backward pass."""
        X = self._check(X)
        self.z_values = []
        self.activations = [X]
        A = X
        for W, b in zip(self.weights[:-1], self.biases[:-1]):
            Z = A @ W + b
            A = self.relu(Z)
            self.z_values.append(Z)
            self.activations.append(A)
        Z = A @ self.weights[-1] + self.biases[-1]
        self.z_values.append(Z)
        self.activations.append(Z)
        return Z

    def gradients(self, X, y):
        r"""Gradients of the loss for every layer, from one forward pass.

        .. math::
            dZ^{(L)} = \tfrac{1}{N}(\hat Y - Y),\quad
            dW^{(l)} = A^{(l-1)\top} dZ^{(l)},\quad
            db^{(l)} = \textstyle\sum_n dZ^{(l)}_n,\quad
            dZ^{(l-1)} = dZ^{(l)} W^{(l)\top} \odot \mathrm{ReLU}'(Z^{(l-1)})

        Returns ``(dWs, dbs)``, lists ordered like ``weights`` and ``biases``.
        """
        X, y = self._check(X, y)
        m = X.shape[0]
        self.forward(X)
        dWs = [None] * len(self.weights)
        dbs = [None] * len(self.biases)
        dZ = (self.activations[-1] - y) / m
        for i in reversed(range(len(self.weights))):
            dWs[i] = self.activations[i].T @ dZ
            dbs[i] = dZ.sum(axis=0, keepdims=True)
            if i > 0:
                # self.weights[i] is still the matrix used in forward: no update yet.
                dZ = (dZ @ self.weights[i].T) * self.relu_derivative(self.z_values[i - 1])
        return dWs, dbs

    def loss(self, X, y) -> float:
        r"""The objective :math:`\frac{1}{2N}\sum_n \lVert\hat y_n - y_n\rVert^2`."""
        X, y = self._check(X, y)
        return float(0.5 * np.sum((self.forward(X) - y) ** 2) / X.shape[0])

    def backward(self, X, y, learning_rate=0.01):
        """One gradient-descent step: all gradients first, then all updates."""
        learning_rate = check_positive(learning_rate, "learning_rate")
        self._step(*self.gradients(X, y), learning_rate)

    def _step(self, dWs, dbs, learning_rate):
        for W, b, dW, db in zip(self.weights, self.biases, dWs, dbs):
            W -= learning_rate * dW
            b -= learning_rate * db

    def train(self, X, y, epochs=1000, learning_rate=0.01, print_every=100):
        """Full-batch gradient descent; returns the mean squared error per epoch.

        The reported loss is the tutorial's ``mean((y_hat - y)**2)``, measured
        before each step; for one output it is twice the objective.
        """
        epochs = check_int(epochs, "epochs", low=0)
        learning_rate = check_positive(learning_rate, "learning_rate")
        print_every = check_int(print_every or 0, "print_every", low=0)
        X, y = self._check(X, y)
        losses = []
        for epoch in range(epochs):
            dWs, dbs = self.gradients(X, y)     # runs the forward pass too
            loss = float(np.mean((self.activations[-1] - y) ** 2))
            losses.append(loss)
            self._step(dWs, dbs, learning_rate)
            if print_every and epoch % print_every == 0:
                print(f"Epoch {epoch}, Loss: {loss:.4f}")
        return losses
