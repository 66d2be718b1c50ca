"""Networks as lists of layers: :class:`Sequential`, and the multi-layer
perceptron :class:`MLP` built from :mod:`nnbook.scratch.layers`.

The network is a list of layers. ``forward`` runs them in order and
``backward`` runs them in reverse, each layer turning the gradient with
respect to its output into the gradient with respect to its input. That
loop *is* backpropagation.
"""

from __future__ import annotations

import numpy as np

import functools
import inspect
import numbers
import os

from ._validate import (FLOAT_DTYPES, as_float_array, as_labels, check_bool, check_choice,
                        check_int, check_layer_sizes, check_number, check_seed, float_dtype,
                        inputs_checked, make_rng)
from .activations import ACTIVATIONS, sigmoid, softmax
from .layers import Activation, Dense, Dropout, Layer, _load_state, _setters, _state_items
from .losses import _softmax_cross_entropy_and_grad, get_loss
from .optim import Adam, Optimizer

@functools.lru_cache(maxsize=None)
def _can_skip_input_grad(cls) -> bool:
    """Whether ``cls.backward`` takes ``input_grad`` (Dense and Conv2D do; a
    subclass that overrides ``backward(self, dZ)`` does not)."""
    if not getattr(cls, "_skips_input_grad", False):
        return False
    try:
        return "input_grad" in inspect.signature(cls.backward).parameters
    except (TypeError, ValueError):
        return False


_CLASSIFICATION_LOSSES = ("softmax_cross_entropy", "binary_cross_entropy",
                          "binary_cross_entropy_with_logits")


class Sequential:
    """Layers applied in order; ``backward`` applies their ``backward`` in reverse.

    Any layer with ``forward``, ``backward`` and ``parameters()`` fits in
    (dense, activation, dropout, convolution, pooling, ...).
    """

    def __init__(self, layers, output_activation: str | None = None, dtype=None):
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of layers, got {type(layers).__name__}")
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise ValueError("layers must contain at least one layer")
        for layer in self.layers:
            if isinstance(layer, type) or not all(
                    hasattr(layer, m) for m in ("forward", "backward", "parameters")):
                raise TypeError(f"layers must have forward, backward and parameters, "
                                f"got {layer!r}")
        if output_activation is not None:
            check_choice(output_activation, "output_activation", tuple(ACTIVATIONS))
        self.output_activation = output_activation
        #: the dtype fixed by the user (``dtype=``), or None: adopt the data's at ``fit``
        self.dtype = None if dtype is None else float_dtype(dtype)
        if self.dtype is not None:
            self.astype(self.dtype)

    def _check_input(self, X):
        X = as_float_array(X, "X", dtype=None)
        if X.ndim == 0:
            raise ValueError(f"X must be a batch with one sample per row, got a scalar {X!r}")
        return X

    def astype(self, dtype):
        """Convert every parameter to ``dtype`` (``np.float32`` or ``np.float64``),
        in place; returns ``self``. ``fit`` calls it with the training dtype."""
        dtype = float_dtype(dtype)
        for p in self.parameters():
            p.astype(dtype)
        return self

    # -- saving and loading -------------------------------------------------
    def _state_arrays(self) -> dict:
        return {f"{i}.{key}": value for i, layer in enumerate(self.layers)
                for key, value in _state_items(layer).items()}

    def _state_setters(self) -> dict:
        return {f"{i}.{key}": setter for i, layer in enumerate(self.layers)
                for key, setter in _setters(layer).items()}

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter (and batch-norm running statistic), keyed
        ``"<layer index>.<name>"`` like ``torch.nn.Sequential.state_dict()``:
        ``{"0.W": ..., "0.b": ..., "2.W": ...}``.

        Activations cached for the backward pass, gradients and optimizer
        state are not included.
        """
        return {key: np.array(value) for key, value in self._state_arrays().items()}

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy the arrays of ``state_dict`` into the network.

        Like ``torch.nn.Module.load_state_dict``: with ``strict=True`` (the
        default) the keys must match :meth:`state_dict`'s exactly (a
        ``KeyError`` lists the missing and unexpected ones); every shape must
        match (``ValueError``). Nothing is changed unless every check passes.
        The values are converted to each parameter's dtype.
        """
        _load_state(self, state_dict, strict, type(self).__name__,
                    lambda net: net._state_arrays())

    def save(self, path) -> None:
        """Write :meth:`state_dict` to ``path`` (a ``.npz`` file, NumPy's
        ``savez`` format: no pickle, so loading it cannot run code)."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        folder = os.path.dirname(os.path.abspath(os.fspath(path)))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"path {os.fspath(path)!r}: the folder {folder!r} does not "
                                    "exist")
        np.savez(path, **self.state_dict())

    def load(self, path, strict: bool = True):
        """Load parameters saved by :meth:`save` (with ``allow_pickle=False``)
        into this network, which must have the same architecture; returns
        ``self``. See :meth:`load_state_dict` for the checks."""
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}")
        if not os.path.exists(path):
            raise FileNotFoundError(f"path {os.fspath(path)!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                if not hasattr(data, "files"):
                    raise ValueError("not an .npz archive")
                state = {k: data[k] for k in data.files}
        except (ValueError, OSError) as exc:
            raise ValueError(f"path {os.fspath(path)!r} is not a .npz file written by "
                             f"Sequential.save ({exc})") from None
        self.load_state_dict(state, strict=strict)
        return self

    # -- forward and backward ---------------------------------------------
    def forward(self, X):
        """Output of the network for a batch ``X`` (one sample per row)."""
        A = self._check_input(X)
        for layer in self.layers:
            A = layer.forward(A)
        return A

    __call__ = forward

    def backward(self, grad_out):
        """Back-propagate ``dL/d(output)``; accumulates every ``Parameter.grad``."""
        return self._backward(grad_out, input_grad=True)

    def _backward(self, grad, input_grad: bool):
        last = len(self.layers) - 1
        for i, layer in enumerate(reversed(self.layers)):
            if i == last and not input_grad and _can_skip_input_grad(type(layer)):
                return layer.backward(grad, input_grad=False)
            grad = layer.backward(grad)
        return grad

    def parameters(self):
        """Every layer's parameters, in order (what an optimizer is given)."""
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad[...] = 0.0

    def train(self, mode: bool = True):
        """Switch every layer to training mode (``mode=False``: evaluation); returns self."""
        mode = check_bool(mode, "mode")
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self):
        """Evaluation mode: dropout off, batch norm uses its running statistics."""
        return self.train(False)

    @property
    def dense_layers(self):
        """The :class:`~nnbook.scratch.layers.Dense` layers, in order."""
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def num_parameters(self) -> int:
        """The number of trainable numbers (every parameter's size, summed)."""
        return sum(p.data.size for p in self.parameters())

    def loss_and_backward(self, X, y, loss="mse") -> float:
        """Zero the gradients, run forward and backward once; return the loss."""
        loss_fn, loss_grad = get_loss(loss)
        self.zero_grad()
        out = self.forward(X)
        value = loss_fn(out, y)
        self.backward(loss_grad(out, y))
        return value

    # -- estimator-style interface ----------------------------------------
    def predict(self, X):
        """Network output in evaluation mode (dropout off), shape ``(N, outputs)``:
        raw scores (logits) unless the network has an ``output_activation``.

        The PyTorch side's :func:`nnbook.training.predict` returns the same
        for an ``nn.Module``.
        """
        X = self._check_input(X)
        if X.shape[0] == 0:
            raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
        was_training = self.layers[0].training
        self.eval()
        try:
            return self.forward(X)
        finally:
            self.train(was_training)

    def predict_proba(self, X):
        """Class probabilities, shape ``(N, n_classes)``: the softmax of the
        outputs, or for one output ``[1 - p, p]`` with ``p`` its sigmoid (the
        output itself when ``output_activation="sigmoid"``), as scikit-learn's
        ``predict_proba``."""
        out = self.predict(X)
        if out.ndim != 2 or len(out) == 0:
            raise ValueError(f"predict_proba needs X with at least one sample and outputs of "
                             f"shape (N, C), got {out.shape}")
        if out.shape[1] > 1:
            return softmax(out, axis=1)
        p = out[:, 0] if self.output_activation == "sigmoid" else sigmoid(out[:, 0])
        return np.stack([1 - p, p], axis=1)

    def predict_labels(self, X):
        """Class labels: argmax of the outputs, or a threshold for one output."""
        out = self.predict(X)
        if out.ndim != 2 or len(out) == 0:
            raise ValueError(f"predict_labels needs X with at least one sample and outputs of "
                             f"shape (N, C), got {out.shape}")
        if out.shape[1] > 1:
            return out.argmax(axis=1)
        threshold = 0.5 if self.output_activation == "sigmoid" else 0.0
        return (out[:, 0] > threshold).astype(int)

    def accuracy(self, X, y) -> float:
        """The fraction of samples whose :meth:`predict_labels` equals ``y``."""
        labels = self.predict_labels(X)
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y[:, 0]
        if y.shape != labels.shape:
            raise ValueError(f"y must have shape {labels.shape} (one label per row of X), "
                             f"got {y.shape}")
        return float(np.mean(labels == y))

    def _output_shape(self, X):
        """The output shape for one sample of ``X`` (one forward pass in eval mode)."""
        return self.predict(X[:1]).shape[1:]

    def _check_targets(self, X, y, loss, dtype, name="y"):
        """``y`` checked against the network's output for ``loss``, once, before training."""
        if isinstance(y, (str, bytes)) or y is None:
            raise TypeError(f"{name} must be an array of targets, got {y!r}")
        y = np.asarray(y)
        if y.ndim == 0 or y.shape[0] != X.shape[0]:
            raise ValueError(f"X and {name} must have the same number of samples, "
                             f"got {X.shape[0]} and {y.shape[0] if y.ndim else 'a scalar'}")
        out_shape = self._output_shape(X)
        if loss == "softmax_cross_entropy":
            if len(out_shape) != 1:
                raise ValueError(f"loss 'softmax_cross_entropy' needs outputs of shape (N, C), "
                                 f"got (N, {', '.join(map(str, out_shape))})")
            return as_labels(y, name, n_classes=out_shape[0], n_samples=X.shape[0])
        y = as_float_array(y, name, dtype=dtype)
        if y.shape[1:] != out_shape:
            raise ValueError(f"{name} must have shape {(X.shape[0],) + tuple(out_shape)}, the "
                             f"network's output shape, got {y.shape}"
                             + (f"; use {name}.reshape(-1, 1)" if y.ndim == 1 and
                                out_shape == (1,) else ""))
        if loss in ("binary_cross_entropy", "binary_cross_entropy_with_logits") and (
                np.any((y < 0) | (y > 1))):
            raise ValueError(f"{name} must hold targets in [0, 1] for loss {loss!r}")
        return y

    def _check_optimizer(self, optimizer):
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "params")):
            raise TypeError("optimizer must be an nnbook.scratch optimizer (Adam(model."
                            f"parameters()), ...), got {optimizer!r}")
        own = {id(p) for p in self.parameters()}
        foreign = [p for p in optimizer.params if id(p) not in own]
        if foreign:
            raise ValueError(
                f"optimizer holds {len(foreign)} of its {len(optimizer.params)} parameter(s) "
                "that are not this network's: it would train another model (build it with "
                "this network's .parameters())")

    def fit(self, X, y, *, loss="softmax_cross_entropy", optimizer: Optimizer | None = None,
            epochs: int = 10, batch_size: int = 32, validation_data=None, seed=0,
            verbose: bool | int = True, dtype=None, evaluate_train: bool = True,
            print_every: int | None = None):
        """Train with mini-batches; returns a history dict of per-epoch metrics.

        ``history["loss"]`` is the mean training loss over each epoch's
        batches; with ``validation_data=(X_val, y_val)`` it also records
        ``val_loss``, and for classification losses ``accuracy`` (on the whole
        training set after the epoch, in evaluation mode; ``evaluate_train=
        False`` skips that pass) and ``val_accuracy``. ``verbose=k`` prints
        every k-th epoch (and the first and last); ``print_every=k`` says the
        same in the PyTorch loop's words and wins over ``verbose``.

        Training runs in ``dtype``: by default the network's own (``dtype=``
        at construction) or else the data's, so float32 data train in float32
        and everything else in float64; the parameters are converted once.
        ``X``, ``y`` and the optimizer are checked once, before the first
        batch. The default optimizer is ``Adam(self.parameters())``.

        Differences from :func:`nnbook.training.fit` (the PyTorch loop): it
        takes arrays rather than a ``DataLoader``, ``batch_size`` defaults to
        32 (``make_loader``'s to 64), progress defaults to every epoch
        (``verbose=True``), and ``accuracy`` is measured after each epoch
        rather than averaged over its batches.
        """
        loss_fn, loss_grad = get_loss(loss)
        epochs = check_int(epochs, "epochs", low=1)
        batch_size = check_int(batch_size, "batch_size", low=1)
        if isinstance(verbose, (bool, np.bool_)):
            every = int(verbose)
        elif isinstance(verbose, numbers.Integral) and verbose >= 0:
            every = int(verbose)
        else:
            raise TypeError(f"verbose must be True, False or a number of epochs >= 0, "
                            f"got {verbose!r}")
        if print_every is not None:
            every = check_int(print_every, "print_every", low=0)
        evaluate_train = check_bool(evaluate_train, "evaluate_train")
        check_seed(seed)
        X = self._check_input(X)
        if X.shape[0] == 0:
            raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
        if dtype is not None:
            dtype = float_dtype(dtype)
        else:
            dtype = self.dtype or (X.dtype if X.dtype in FLOAT_DTYPES else np.dtype(np.float64))
        X = X.astype(dtype, copy=False)
        self.astype(dtype)
        loss_name = loss if isinstance(loss, str) else None
        last = self.layers[-1]
        if loss_name == "binary_cross_entropy" and not (
                isinstance(last, Activation) and last.name == "sigmoid"):
            raise ValueError("loss 'binary_cross_entropy' needs probabilities: give the network "
                             "output_activation='sigmoid', or use loss="
                             "'binary_cross_entropy_with_logits' on raw scores")
        y = self._check_targets(X, y, loss_name, dtype)
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise TypeError("validation_data must be a pair (X_val, y_val), got "
                                f"{type(validation_data).__name__}")
            X_val = self._check_input(validation_data[0]).astype(dtype, copy=False)
            y_val = self._check_targets(X_val, validation_data[1], loss_name, dtype, "y_val")
        if optimizer is None:
            optimizer = Adam(self.parameters())
        else:
            self._check_optimizer(optimizer)
        classify = loss_name in _CLASSIFICATION_LOSSES
        fused = loss_name == "softmax_cross_entropy"
        rng = make_rng(seed)
        params = self.parameters()
        history = {"loss": []}
        # overflow in a diverging run is reported once, by name, after the epoch
        with inputs_checked(), np.errstate(over="ignore", invalid="ignore"):
            for epoch in range(1, epochs + 1):
                self.train()
                order = rng.permutation(len(X))
                total = 0.0
                for lo in range(0, len(X), batch_size):
                    idx = order[lo:lo + batch_size]
                    Xb, yb = X[idx], y[idx]
                    for p in params:
                        p.grad[...] = 0.0
                    out = Xb
                    for layer in self.layers:
                        out = layer.forward(out)
                    if fused:
                        value, grad = _softmax_cross_entropy_and_grad(out, yb)
                    else:
                        value, grad = loss_fn(out, yb), loss_grad(out, yb)
                    self._backward(grad, input_grad=False)
                    optimizer.step()
                    total += value * len(idx)
                history["loss"].append(total / len(X))
                if not np.isfinite(history["loss"][-1]):
                    raise FloatingPointError(
                        f"training diverged: the loss is {history['loss'][-1]} after epoch "
                        f"{epoch}; lower the optimizer's lr (now {optimizer.lr!r})")
                if classify and evaluate_train:
                    history.setdefault("accuracy", []).append(self.accuracy(X, y))
                if validation_data is not None:
                    history.setdefault("val_loss", []).append(loss_fn(self.predict(X_val),
                                                                      y_val))
                    if classify:
                        history.setdefault("val_accuracy", []).append(
                            self.accuracy(X_val, y_val))
                if every and (epoch % every == 0 or epoch in (1, epochs)):
                    metrics = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
                    print(f"epoch {epoch:>3}/{epochs}: {metrics}", flush=True)
        self.eval()
        return history

    def __repr__(self):
        inner = ",\n  ".join(repr(layer) for layer in self.layers)
        return f"{type(self).__name__}(\n  {inner}\n)"


class MLP(Sequential):
    """Dense layers of sizes ``layer_sizes`` with ``activation`` between them.

    ``MLP([2, 16, 16, 3])`` maps 2 inputs through two hidden layers of 16
    units to 3 outputs (logits). ``output_activation`` (default ``None``)
    applies to the last layer; ``dropout`` adds a :class:`~nnbook.scratch.layers.Dropout` after
    every hidden activation.
    """

    def __init__(self, layer_sizes, activation: str = "relu",
                 output_activation: str | None = None, init: str = "he",
                 dropout: float = 0.0, seed=None, dtype=None):
        self.layer_sizes = check_layer_sizes(layer_sizes)
        check_choice(activation, "activation", tuple(ACTIVATIONS))
        if output_activation is not None:
            check_choice(output_activation, "output_activation", tuple(ACTIVATIONS))
        dropout = check_number(dropout, "dropout", low=0, high=1, high_open=True)
        rng = make_rng(seed)
        layers: list[Layer] = []
        n_layers = len(self.layer_sizes) - 1
        for i, (n_in, n_out) in enumerate(zip(self.layer_sizes[:-1], self.layer_sizes[1:])):
            layers.append(Dense(n_in, n_out, init=init, seed=rng))
            if i < n_layers - 1:
                layers.append(Activation(activation))
                if dropout:
                    layers.append(Dropout(dropout, seed=rng))
            elif output_activation is not None:
                layers.append(Activation(output_activation))
        super().__init__(layers, output_activation, dtype)

    def _check_input(self, X):
        X = as_float_array(X, "X", ndim=2, dtype=None)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (N, {self.layer_sizes[0]}) for this "
                             f"network, got {X.shape}")
        return X
