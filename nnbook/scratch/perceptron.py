"""Rosenblatt's perceptron (1958): one neuron with a step activation."""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_int, check_positive, make_rng, standard_normal


class Perceptron:
    r"""A single neuron :math:`\hat y = \mathrm{step}(w \cdot x + b)` trained
    with the perceptron learning rule

    .. math::
        w \leftarrow w + \eta\,(y - \hat y)\,x, \qquad b \leftarrow b + \eta\,(y - \hat y).

    The weights start as standard normal draws (from NumPy's global generator
    unless ``seed`` is given), the bias at 0. After :meth:`train`,
    ``history_`` holds ``(weights, bias)`` after every epoch and ``errors_``
    the number of misclassified samples in every epoch.
    """

    def __init__(self, input_size, learning_rate=0.1, seed=None):
        if isinstance(input_size, bool) or not isinstance(input_size, (int, np.integer)) \
                or input_size < 1:
            raise ValueError(f"input_size must be a positive integer, got {input_size!r}")
        check_positive(learning_rate, "learning_rate")
        self.input_size = int(input_size)
        self.weights = standard_normal(make_rng(seed), (self.input_size,))
        self.bias = 0.0
        self.learning_rate = float(learning_rate)
        self.history_ = []
        self.errors_ = []

    def activation(self, z):
        """Step function: 1 where ``z > 0``, else 0."""
        if np.ndim(z) == 0:
            return 1 if z > 0 else 0
        return (np.asarray(z) > 0).astype(int)

    def _check_x(self, x):
        x = as_float_array(x, "x", ndim=(1, 2))
        if x.shape[-1] != self.input_size:
            raise ValueError(f"x must have {self.input_size} features, got shape {x.shape}")
        return x

    def predict(self, x):
        """Class (0 or 1) of one sample ``x``, or an array of classes for a batch."""
        x = self._check_x(x)
        return self.activation(x @ self.weights + self.bias)

    def train(self, X, y, epochs=100):
        """Apply the learning rule sample by sample for ``epochs`` passes."""
        epochs = check_int(epochs, "epochs", low=1)
        X = self._check_x(X)
        if X.ndim != 2 or len(X) == 0:
            raise ValueError(f"X must be 2-D (samples x features) with at least one sample, "
                             f"got shape {X.shape}")
        y = as_float_array(y, "y", ndim=1)
        if len(y) != len(X):
            raise ValueError(f"y must have one label per row of X ({len(X)}), got {len(y)}")
        if not np.all((y == 0) | (y == 1)):
            raise ValueError("y must contain only 0 and 1 labels")
        for _ in range(epochs):
            mistakes = 0
            for xi, yi in zip(X, y):
                error = yi - self.predict(xi)
                self.weights += self.learning_rate * error * xi
                self.bias += self.learning_rate * error
                mistakes += int(error != 0)
            self.history_.append((self.weights.copy(), self.bias))
            self.errors_.append(mistakes)
        return self
