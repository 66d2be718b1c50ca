"""Layers with a forward pass and a hand-written backward pass.

Notation (the book's): a batch is a matrix ``X`` of shape ``(N, n_in)``, one
sample per row. A dense layer computes ``Z = X @ W + b``; an activation
layer computes ``A = f(Z)``. Each ``backward`` receives the gradient of the
loss with respect to the layer's output and returns the gradient with
respect to its input, accumulating parameter gradients in ``Parameter.grad``
on the way, exactly like ``loss.backward()`` in PyTorch.
"""

from __future__ import annotations

import numpy as np

from . import activations as act
from ._validate import check_features, make_rng, standard_normal


class Parameter:
    """A trainable array ``data`` with a gradient ``grad`` of the same shape."""

    __slots__ = ("data", "grad", "name")

    def __init__(self, data, name: str = ""):
        self.data = np.asarray(data, dtype=float)
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self):
        return self.data.shape

    def __repr__(self):
        return f"Parameter({self.name or 'unnamed'}, shape={self.data.shape})"


def init_weights(n_in: int, n_out: int, init: str = "he", seed=None) -> np.ndarray:
    """A weight matrix of shape ``(n_in, n_out)``.

    - ``"he"``: :math:`\\mathcal N(0, 2/n_{in})`, for ReLU networks (He et al., 2015);
    - ``"xavier"``: :math:`\\mathcal N(0, 2/(n_{in}+n_{out}))`, for tanh/sigmoid
      (Glorot and Bengio, 2010);
    - ``"small"``: :math:`0.01\\,\\mathcal N(0, 1)`, the seed notebook's choice;
    - ``"zeros"``: all zeros, to show why symmetric weights cannot learn.
    """
    rng = make_rng(seed)
    shape = (n_in, n_out)
    if init == "he":
        return standard_normal(rng, shape) * np.sqrt(2.0 / n_in)
    if init == "xavier":
        return standard_normal(rng, shape) * np.sqrt(2.0 / (n_in + n_out))
    if init == "small":
        return standard_normal(rng, shape) * 0.01
    if init == "zeros":
        return np.zeros(shape)
    raise ValueError(f"init must be one of 'he', 'xavier', 'small', 'zeros', got {init!r}")


class Layer:
    """Base class: a layer maps ``X`` to an output and back-propagates gradients."""

    training = True

    def parameters(self) -> list[Parameter]:
        return []

    def forward(self, X):
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad_out):
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def __call__(self, X):
        return self.forward(X)


class Dense(Layer):
    r"""Fully connected layer :math:`Z = XW + b`.

    Backward, given :math:`\partial L/\partial Z` (``dZ``):

    .. math::
        \frac{\partial L}{\partial W} = X^\top dZ,\qquad
        \frac{\partial L}{\partial b} = \textstyle\sum_n dZ_n,\qquad
        \frac{\partial L}{\partial X} = dZ\, W^\top .
    """

    def __init__(self, n_in: int, n_out: int, init: str = "he", seed=None):
        self.n_in, self.n_out = int(n_in), int(n_out)
        self.W = Parameter(init_weights(self.n_in, self.n_out, init, seed), "W")
        self.b = Parameter(np.zeros(self.n_out), "b")
        self._X = None

    def parameters(self):
        return [self.W, self.b]

    def forward(self, X):
        check_features(X, self.n_in)
        self._X = X
        return X @ self.W.data + self.b.data

    def backward(self, dZ):
        if self._X is None:
            raise RuntimeError("Dense.backward called before forward")
        self.W.grad += self._X.T @ dZ
        self.b.grad += dZ.sum(axis=0)
        return dZ @ self.W.data.T

    def __repr__(self):
        return f"Dense({self.n_in} -> {self.n_out})"


class Activation(Layer):
    r"""Elementwise :math:`A = f(Z)`; backward is :math:`dZ = dA \odot f'(Z)`."""

    def __init__(self, name: str, **kwargs):
        if name not in act.ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(act.ACTIVATIONS)}, "
                             f"got {name!r}")
        self.name = name
        self.kwargs = kwargs
        self.f, self.f_prime = act.ACTIVATIONS[name]
        self._Z = None

    def forward(self, Z):
        self._Z = Z
        return self.f(Z, **self.kwargs)

    def backward(self, dA):
        return dA * self.f_prime(self._Z, **self.kwargs)

    def __repr__(self):
        return f"Activation({self.name!r})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and
    scale the survivors by ``1/(1-p)`` so that the expected activation is
    unchanged; at evaluation time, the identity."""

    def __init__(self, p: float = 0.5, seed=None):
        if not 0 <= p < 1:
            raise ValueError(f"p must be in [0, 1), got {p!r}")
        self.p = float(p)
        self.rng = make_rng(seed)
        self._mask = None

    def forward(self, X):
        if not self.training or self.p == 0:
            self._mask = None
            return X
        keep = self.rng.random(X.shape) >= self.p
        self._mask = keep / (1.0 - self.p)
        return X * self._mask

    def backward(self, dA):
        return dA if self._mask is None else dA * self._mask

    def __repr__(self):
        return f"Dropout(p={self.p})"
