"""Networks as lists of layers: :class:`Sequential`, and the multi-layer
perceptron :class:`MLP` built from :mod:`nnbook.scratch.layers`.

The network is a list of layers. ``forward`` runs them in order and
``backward`` runs them in reverse, each layer turning the gradient with
respect to its output into the gradient with respect to its input. That
loop *is* backpropagation.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, check_layer_sizes, make_rng
from .layers import Activation, Dense, Dropout, Layer
from .losses import get_loss
from .optim import Adam, Optimizer


class Sequential:
    """Layers applied in order; ``backward`` applies their ``backward`` in reverse.

    Any layer with ``forward``, ``backward`` and ``parameters()`` fits in
    (dense, activation, dropout, convolution, pooling, ...).
    """

    def __init__(self, layers, output_activation: str | None = None):
        self.layers: list[Layer] = list(layers)
        if not self.layers:
            raise ValueError("layers must contain at least one layer")
        for layer in self.layers:
            if not all(hasattr(layer, m) for m in ("forward", "backward", "parameters")):
                raise TypeError(f"layers must have forward, backward and parameters, "
                                f"got {layer!r}")
        self.output_activation = output_activation

    def _check_input(self, X):
        return as_float_array(X, "X")

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
        grad = grad_out
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def parameters(self):
        return [p for layer in self.layers for p in layer.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad[...] = 0.0

    def train(self, mode: bool = True):
        for layer in self.layers:
            layer.training = mode
        return self

    def eval(self):
        return self.train(False)

    @property
    def dense_layers(self):
        return [layer for layer in self.layers if isinstance(layer, Dense)]

    def num_parameters(self) -> int:
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
        """Network output in evaluation mode (dropout off)."""
        was_training = self.layers[0].training
        self.eval()
        try:
            return self.forward(X)
        finally:
            self.train(was_training)

    def predict_labels(self, X):
        """Class labels: argmax of the outputs, or a threshold for one output."""
        out = self.predict(X)
        if out.shape[1] > 1:
            return out.argmax(axis=1)
        threshold = 0.5 if self.output_activation == "sigmoid" else 0.0
        return (out[:, 0] > threshold).astype(int)

    def accuracy(self, X, y) -> float:
        return float(np.mean(self.predict_labels(X) == np.asarray(y).reshape(-1)))

    def fit(self, X, y, *, loss="softmax_cross_entropy", optimizer: Optimizer | None = None,
            epochs: int = 10, batch_size: int = 32, validation_data=None, seed=0,
            verbose: bool | int = True):
        """Train with mini-batches; returns a history dict of per-epoch metrics.

        ``history["loss"]`` is the mean training loss over each epoch's
        batches; with ``validation_data=(X_val, y_val)`` it also records
        ``val_loss``, and for classification losses ``accuracy`` and
        ``val_accuracy``. ``verbose=k`` prints every k-th epoch.
        """
        X = self._check_input(X)
        y = np.asarray(y)
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"X and y must have the same number of samples, "
                             f"got {X.shape[0]} and {y.shape[0]}")
        if epochs < 1 or batch_size < 1:
            raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}")
        loss_fn, _ = get_loss(loss)
        optimizer = optimizer or Adam(self.parameters())
        classify = loss in ("softmax_cross_entropy", "binary_cross_entropy",
                            "binary_cross_entropy_with_logits")
        rng = make_rng(seed)
        every = int(verbose) if verbose else 0
        history = {"loss": []}
        for epoch in range(1, epochs + 1):
            self.train()
            order = rng.permutation(len(X))
            total = 0.0
            for lo in range(0, len(X), batch_size):
                idx = order[lo:lo + batch_size]
                total += self.loss_and_backward(X[idx], y[idx], loss) * len(idx)
                optimizer.step()
            history["loss"].append(total / len(X))
            if classify:
                history.setdefault("accuracy", []).append(self.accuracy(X, y))
            if validation_data is not None:
                X_val, y_val = validation_data
                history.setdefault("val_loss", []).append(loss_fn(self.predict(X_val), y_val))
                if classify:
                    history.setdefault("val_accuracy", []).append(self.accuracy(X_val, y_val))
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
    applies to the last layer; ``dropout`` adds a :class:`Dropout` after
    every hidden activation.
    """

    def __init__(self, layer_sizes, activation: str = "relu",
                 output_activation: str | None = None, init: str = "he",
                 dropout: float = 0.0, seed=None):
        self.layer_sizes = check_layer_sizes(layer_sizes)
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
        super().__init__(layers, output_activation)

    def _check_input(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.layer_sizes[0]:
            raise ValueError(f"X must have shape (N, {self.layer_sizes[0]}) for this "
                             f"network, got {X.shape}")
        return X
