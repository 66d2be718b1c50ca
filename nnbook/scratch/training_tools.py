"""Tools for the chapter on the training process, in NumPy.

- :func:`train_val_test_split` splits a data set three ways, keeping the
  class proportions of ``y`` in each part;
- :class:`EarlyStopping` watches the validation loss, remembers the weights
  of the best epoch and puts them back at the end;
- :func:`activation_stds` and :func:`gradient_stds` measure, layer by layer,
  how large the signals flowing forward and backward through an
  :class:`~nnbook.scratch.mlp.MLP` are (the weight-initialization experiment);
- :func:`optimizer_path` runs an optimizer on a function of two variables and
  records the points it visits (the optimizer-trajectory plots).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_bool, check_number, make_rng
from .layers import Activation, Dense, Parameter
from .losses import get_loss


def train_val_test_split(X, y, val_size: float = 0.2, test_size: float = 0.2, seed=0,
                         stratify: bool = True):
    """Shuffle ``(X, y)`` and split it into training, validation and test sets.

    ``val_size`` and ``test_size`` are fractions of the whole data set. With
    ``stratify=True`` each class of ``y`` is split separately, so that the
    three parts keep the class proportions of the whole. Returns
    ``X_train, X_val, X_test, y_train, y_val, y_test`` (the order of
    scikit-learn's ``train_test_split``).
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample) and X an array of samples, "
                         f"got X of shape {X.shape} and y of shape {y.shape}")
    stratify = check_bool(stratify, "stratify")
    for name, size in (("val_size", val_size), ("test_size", test_size)):
        check_number(size, name)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of samples, "
                         f"got {X.shape[0]} and {y.shape[0]}")
    for name, size in (("val_size", val_size), ("test_size", test_size)):
        if not 0 < size < 1:
            raise ValueError(f"{name} must be a fraction in (0, 1), got {size!r}")
    if val_size + test_size >= 1:
        raise ValueError(f"val_size + test_size must be < 1 to leave training data, "
                         f"got {val_size} + {test_size}")
    rng = make_rng(seed)
    groups = [np.flatnonzero(y == c) for c in np.unique(y)] if stratify else [np.arange(len(y))]
    parts = ([], [], [])
    for idx in groups:
        idx = rng.permutation(idx)
        n_test = int(round(test_size * len(idx)))
        n_val = int(round(val_size * len(idx)))
        parts[2].append(idx[:n_test])
        parts[1].append(idx[n_test:n_test + n_val])
        parts[0].append(idx[n_test + n_val:])
    train, val, test = (rng.permutation(np.concatenate(p)) for p in parts)
    if min(len(train), len(val), len(test)) == 0:
        raise ValueError(f"{len(y)} samples are too few to split into three non-empty parts "
                         f"with val_size={val_size} and test_size={test_size}")
    return X[train], X[val], X[test], y[train], y[val], y[test]


class EarlyStopping:
    """Stop training when the validation loss has not improved for ``patience`` epochs.

    Call :meth:`step` once per epoch with the validation loss; it returns
    ``True`` when training should stop. An epoch counts as an improvement when
    its loss is below the best so far by more than ``min_delta``; the weights
    of the best epoch are copied, and :meth:`restore` writes them back.
    """

    def __init__(self, patience: int = 10, min_delta: float = 0.0):
        if isinstance(patience, bool) or not isinstance(patience, (int, np.integer)) \
                or patience < 1:
            raise ValueError(f"patience must be a positive integer, got {patience!r}")
        check_number(min_delta, "min_delta", low=0)
        self.patience = int(patience)
        self.min_delta = float(min_delta)
        self.best_loss = np.inf
        self.best_epoch = 0          # 1-based; 0 until the first call to step
        self.epoch = 0
        self.wait = 0                # epochs since the last improvement
        self.best_weights = None

    def step(self, val_loss: float, model) -> bool:
        """Record one epoch's validation loss; return ``True`` to stop."""
        if hasattr(val_loss, "item") and np.size(val_loss) == 1:
            val_loss = val_loss.item()
        val_loss = check_number(val_loss, "val_loss")
        if not callable(getattr(model, "parameters", None)):
            raise TypeError(f"model must have a parameters() method, got {model!r}")
        self.epoch += 1
        if val_loss < self.best_loss - self.min_delta:
            self.best_loss = val_loss
            self.best_epoch = self.epoch
            self.best_weights = [p.data.copy() for p in model.parameters()]
            self.wait = 0
        else:
            self.wait += 1
        return self.wait >= self.patience

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs have passed without improvement."""
        return self.wait >= self.patience

    def restore(self, model):
        """Write the weights of the best epoch back into ``model``."""
        if self.best_weights is None:
            raise RuntimeError("EarlyStopping.restore called before any call to step")
        if not callable(getattr(model, "parameters", None)):
            raise TypeError(f"model must have a parameters() method, got {model!r}")
        params = model.parameters()
        if len(params) != len(self.best_weights):
            raise ValueError(f"model has {len(params)} parameters, but the saved weights "
                             f"hold {len(self.best_weights)}")
        for p, w in zip(params, self.best_weights):
            p.data[...] = w
        return model


def _hidden_activations(model, X):
    """The output of every hidden activation layer of ``model`` (dropout off)."""
    if not (hasattr(model, "layer_sizes") and hasattr(model, "dense_layers")):
        raise TypeError(f"model must be a scratch MLP (with layer_sizes), got "
                        f"{type(model).__name__}")
    A = as_float_array(X, "X", ndim=2)
    if A.shape[1] != model.layer_sizes[0]:
        raise ValueError(f"X must have shape (N, {model.layer_sizes[0]}) for this "
                         f"network, got {A.shape}")
    last_dense = model.dense_layers[-1]
    outputs = []
    was_training = model.layers[0].training
    model.eval()
    try:
        for layer in model.layers:
            A = layer.forward(A)
            if layer is last_dense:
                break
            if isinstance(layer, Activation):
                outputs.append(A)
    finally:
        model.train(was_training)
    return outputs


def activation_stds(model, X) -> np.ndarray:
    """Standard deviation of the activations of each hidden layer of an MLP.

    Entry ``l`` is the standard deviation, over the batch ``X`` and the units,
    of the output of hidden layer ``l + 1``. If it shrinks towards 0 or grows
    without bound from layer to layer, the initialization is badly scaled.
    """
    return np.array([A.std() for A in _hidden_activations(model, X)])


def gradient_stds(model, X, y, loss="softmax_cross_entropy") -> np.ndarray:
    """Standard deviation of :math:`\\partial L/\\partial W` for each dense layer.

    Runs one forward and backward pass on ``(X, y)`` (this overwrites the
    model's gradients) and returns one number per :class:`~nnbook.scratch.layers.Dense` layer, the
    first layer first.
    """
    get_loss(loss)
    model.loss_and_backward(X, y, loss)
    return np.array([layer.W.grad.std() for layer in model.layers
                     if isinstance(layer, Dense)])


def optimizer_path(grad_fn, start, make_optimizer, n_steps: int = 100) -> np.ndarray:
    """The points an optimizer visits while minimizing a function.

    ``grad_fn(theta)`` returns the gradient at ``theta`` (an array shaped like
    ``start``); ``make_optimizer(params)`` builds an optimizer, for example
    ``lambda params: Adam(params, lr=0.1)``. Returns an array of shape
    ``(n_steps + 1, *start.shape)`` whose first row is ``start``.
    """
    theta = Parameter(as_float_array(start, "start").copy(), "theta")
    optimizer = make_optimizer([theta])
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ValueError(f"n_steps must be a non-negative integer, got {n_steps!r}")
    path = [theta.data.copy()]
    for _ in range(n_steps):
        grad = np.asarray(grad_fn(theta.data.copy()), dtype=float)
        if grad.shape != theta.data.shape:
            raise ValueError(f"grad_fn must return an array of shape {theta.data.shape}, "
                             f"got {grad.shape}")
        theta.grad[...] = grad
        optimizer.step()
        path.append(theta.data.copy())
    return np.array(path)


__all__ = ["EarlyStopping", "activation_stds", "gradient_stds", "optimizer_path",
           "train_val_test_split"]
