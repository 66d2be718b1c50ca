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
from ._validate import (FLOAT_DTYPES, as_float_array, check_choice, check_features, check_int,
                        check_number, float_dtype, make_rng, standard_normal)


class Parameter:
    """A trainable array ``data`` with a gradient ``grad`` of the same shape.

    ``data`` is stored as float64 unless ``dtype=np.float32`` (:meth:`astype`
    converts it later; ``Sequential.fit`` does so for float32 data).
    """

    __slots__ = ("data", "grad", "name")

    def __init__(self, data, name: str = "", dtype=None):
        if not isinstance(name, str):
            raise TypeError(f"name must be a string, got {name!r}")
        dtype = np.float64 if dtype is None else float_dtype(dtype)
        self.data = as_float_array(data, "data", dtype=dtype, allow_nan=True)
        self.grad = np.zeros_like(self.data)
        self.name = name

    @property
    def shape(self):
        """The shape of ``data`` (and of ``grad``)."""
        return self.data.shape

    @property
    def dtype(self):
        """The dtype of ``data`` (float32 or float64)."""
        return self.data.dtype

    def astype(self, dtype) -> "Parameter":
        """Convert ``data`` and ``grad`` to ``dtype`` (float32 or float64) in place
        of the old arrays; returns ``self``. A no-op when the dtype already matches."""
        dtype = float_dtype(dtype)
        if self.data.dtype != dtype:
            self.data = self.data.astype(dtype)
            self.grad = self.grad.astype(dtype)
        return self

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
    n_in, n_out = check_int(n_in, "n_in", low=1), check_int(n_out, "n_out", low=1)
    check_choice(init, "init", ("he", "xavier", "small", "zeros"))
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


def _check_grad(grad, expected_shape, name: str, layer: str) -> np.ndarray:
    """The incoming gradient of a ``backward`` call: a float array with the
    shape of the layer's last output."""
    if type(grad) is not np.ndarray or grad.dtype not in FLOAT_DTYPES:
        grad = as_float_array(grad, name, dtype=None, allow_nan=True)
    if grad.shape != tuple(expected_shape):
        raise ValueError(f"{layer}.backward: {name} must have the shape of the layer's last "
                         f"output, {tuple(expected_shape)}, got {grad.shape}")
    return grad


class Layer:
    """Base class: a layer maps ``X`` to an output and back-propagates gradients.

    Subclasses implement ``forward(X)`` (caching what the backward pass needs)
    and ``backward(grad_out)`` (returning the gradient with respect to ``X``
    and adding parameter gradients into each ``Parameter.grad``). Layers
    without parameters inherit ``parameters() == []``. ``training`` switches
    behaviour that differs between training and evaluation (dropout, batch
    norm); :meth:`~nnbook.scratch.mlp.Sequential.train` and ``eval`` set it.
    """

    training = True

    def parameters(self) -> list[Parameter]:
        """The layer's trainable parameters (none for the base class)."""
        return []

    def forward(self, X):
        """The layer's output for the batch ``X``."""
        raise NotImplementedError(f"{type(self).__name__} must implement forward")

    def backward(self, grad_out):
        """The gradient with respect to the input, given the gradient ``grad_out``
        with respect to the output; adds into every ``Parameter.grad``."""
        raise NotImplementedError(f"{type(self).__name__} must implement backward")

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of the layer's parameters by name (``{"W": ..., "b": ...}``) and of
        its running statistics (``running_mean``, ``running_var``), like
        ``torch.nn.Module.state_dict``. Cached activations, gradients and
        optimizer state are not included."""
        return {key: np.array(value) for key, value in _state_items(self).items()}

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy arrays from ``state_dict`` (as returned by :meth:`state_dict`)
        into the layer. With ``strict=True`` the keys must match exactly
        (``KeyError`` listing the missing and unexpected ones); every shape
        must match (``ValueError``). Nothing changes unless every check passes."""
        _load_state(self, state_dict, strict, type(self).__name__, _state_items)

    def __call__(self, X):
        return self.forward(X)


def _param_key(p, index: int) -> str:
    return p.name or f"param{index}"


def _state_items(layer) -> dict:
    """The live arrays of a layer's state: ``{key: (owner, attribute)}`` resolved to
    arrays: parameters by (unique) name, then ``running_*`` statistics."""
    items, seen = {}, set()
    for i, p in enumerate(layer.parameters()):
        key = _param_key(p, i)
        if key in seen:
            key = f"{key}.{i}"
        seen.add(key)
        items[key] = p.data
    for name, value in sorted(vars(layer).items()):
        if name.startswith("running_") and isinstance(value, np.ndarray):
            items[name] = value
    return items


def _setters(layer) -> dict:
    """``{key: function(value)}`` writing each state entry of ``layer``."""
    setters = {}
    params = list(layer.parameters())
    keys = list(_state_items(layer))
    for key, p in zip(keys, params):
        def set_param(value, p=p):
            p.data[...] = value
        setters[key] = set_param
    for key in keys[len(params):]:
        def set_buffer(value, name=key):
            setattr(layer, name, np.array(value, dtype=getattr(layer, name).dtype))
        setters[key] = set_buffer
    return setters


def _load_state(owner, state_dict, strict: bool, where: str, items_of) -> None:
    """Check ``state_dict`` against ``items_of(owner)`` (keys, shapes, numeric
    values), then write it through ``owner``'s setters."""
    if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
        raise TypeError(f"state_dict must be a mapping of names to arrays, got "
                        f"{type(state_dict).__name__}")
    if not isinstance(strict, (bool, np.bool_)):
        raise TypeError(f"strict must be True or False, got {strict!r}")
    own = items_of(owner)
    missing = [k for k in own if k not in state_dict]
    unexpected = [k for k in state_dict if k not in own]
    if strict and (missing or unexpected):
        raise KeyError(f"Error(s) in loading state_dict for {where}: missing keys "
                       f"{missing}, unexpected keys {unexpected}")
    arrays = {}
    for key, current in own.items():
        if key not in state_dict:
            continue
        value = as_float_array(state_dict[key], f"state_dict[{key!r}]", dtype=None,
                               allow_nan=True)
        if value.shape != current.shape:
            raise ValueError(f"Error in loading state_dict for {where}: {key!r} must have "
                             f"shape {current.shape}, got {value.shape}")
        arrays[key] = value
    setters = owner._state_setters() if hasattr(owner, "_state_setters") else _setters(owner)
    for key, value in arrays.items():              # every check passed: now write
        setters[key](value)


class Dense(Layer):
    r"""Fully connected layer :math:`Z = XW + b`.

    Backward, given :math:`\partial L/\partial Z` (``dZ``):

    .. math::
        \frac{\partial L}{\partial W} = X^\top dZ,\qquad
        \frac{\partial L}{\partial b} = \textstyle\sum_n dZ_n,\qquad
        \frac{\partial L}{\partial X} = dZ\, W^\top .
    """

    _skips_input_grad = True        # backward(dZ, input_grad=False) skips dZ W^T

    def __init__(self, n_in: int, n_out: int, init: str = "he", seed=None, dtype=None):
        self.n_in, self.n_out = check_int(n_in, "n_in", low=1), check_int(n_out, "n_out", low=1)
        self.W = Parameter(init_weights(self.n_in, self.n_out, init, seed), "W", dtype)
        self.b = Parameter(np.zeros(self.n_out), "b", dtype)
        self._X = None

    def parameters(self):
        """``[W, b]``."""
        return [self.W, self.b]

    def forward(self, X):
        """:math:`Z = XW + b` for ``X`` of shape ``(N, n_in)`` (or ``(..., n_in)``)."""
        X = as_float_array(X, "X", dtype=None)     # no NaN scan inside fit (checked once)
        if X.ndim < 1:
            raise ValueError(f"X must have shape (N, {self.n_in}), got a scalar")
        check_features(X, self.n_in)
        self._X = X
        Z = X @ self.W.data
        Z += self.b.data
        return Z

    def backward(self, dZ, input_grad: bool = True):
        r"""Add :math:`X^\top dZ` to ``W.grad`` and :math:`\sum_n dZ_n` to ``b.grad``;
        return :math:`dZ W^\top` (``None`` with ``input_grad=False``, which
        ``Sequential.fit`` uses for the first layer: the data need no gradient)."""
        if self._X is None:
            raise RuntimeError("Dense.backward called before forward (in training mode)")
        X = self._X
        dZ = _check_grad(dZ, X.shape[:-1] + (self.n_out,), "dZ", "Dense")
        if X.ndim != 2:                      # (..., n_in): fold the leading axes
            X, dZ2 = X.reshape(-1, self.n_in), dZ.reshape(-1, self.n_out)
        else:
            dZ2 = dZ
        self.W.grad += X.T @ dZ2
        self.b.grad += dZ2.sum(axis=0)
        return dZ @ self.W.data.T if input_grad else None

    def __repr__(self):
        return f"Dense({self.n_in} -> {self.n_out})"


class Activation(Layer):
    r"""Elementwise :math:`A = f(Z)`; backward is :math:`dZ = dA \odot f'(Z)`."""

    def __init__(self, name: str, **kwargs):
        if not isinstance(name, str) or name not in act.ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(act.ACTIVATIONS)}, "
                             f"got {name!r}")
        unknown = set(kwargs) - ({"negative_slope"} if name == "leaky_relu" else set())
        if unknown:
            raise TypeError(f"Activation({name!r}) takes no argument(s) {sorted(unknown)}")
        if "negative_slope" in kwargs:
            kwargs["negative_slope"] = act._slope(kwargs["negative_slope"])
        self.name = name
        self.kwargs = kwargs
        self.f, self.f_prime = act.ACTIVATIONS[name]
        self._Z = None

    def forward(self, Z):
        """:math:`A = f(Z)`, elementwise; ``Z`` is cached for the backward pass."""
        Z = act._float(Z, "Z")
        self._Z = Z
        if self.name == "relu":
            return np.maximum(Z, 0)              # what act.relu computes, without re-checks
        return self.f(Z, **self.kwargs)

    def backward(self, dA):
        r""":math:`dZ = dA \odot f'(Z)`."""
        if self._Z is None:
            raise RuntimeError(f"Activation({self.name!r}).backward called before forward")
        dA = _check_grad(dA, self._Z.shape, "dA", "Activation")
        if self.name == "relu":
            return dA * (self._Z > 0)            # ReLU'(Z) is the mask Z > 0
        return dA * self.f_prime(self._Z, **self.kwargs)

    def __repr__(self):
        return f"Activation({self.name!r})"


class Dropout(Layer):
    """Inverted dropout: in training, zero each unit with probability ``p`` and
    scale the survivors by ``1/(1-p)`` so that the expected activation is
    unchanged; at evaluation time, the identity."""

    def __init__(self, p: float = 0.5, seed=None):
        self.p = check_number(p, "p", low=0, high=1, high_open=True)
        self.rng = make_rng(seed)
        self._mask = None
        self._shape = None

    def forward(self, X):
        """``X`` times a random mask of 0 and ``1/(1-p)`` in training; ``X`` itself
        in evaluation mode."""
        X = act._float(X, "X")
        self._shape = X.shape
        if not self.training or self.p == 0:
            self._mask = None
            return X
        keep = self.rng.random(X.shape) >= self.p
        self._mask = (keep / (1.0 - self.p)).astype(X.dtype, copy=False)
        return X * self._mask

    def backward(self, dA):
        """``dA`` times the same mask as the forward pass."""
        if self._shape is None:
            raise RuntimeError("Dropout.backward called before forward")
        dA = _check_grad(dA, self._shape, "dA", "Dropout")
        return dA if self._mask is None else dA * self._mask

    def __repr__(self):
        return f"Dropout(p={self.p})"
