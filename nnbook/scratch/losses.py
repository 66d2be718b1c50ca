"""Loss functions and their gradients, in NumPy.

Every loss averages over the batch (PyTorch's ``reduction="mean"``), and
each ``*_grad`` returns :math:`\\partial L / \\partial \\hat y` with the same
shape as the prediction, the :math:`1/N` of the mean included.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, as_labels, check_same_shape
from .activations import sigmoid, softmax

_EPS = 1e-12


def _pair(y_pred, y_true, name_pred="y_pred", name_true="y_true"):
    """Both as float arrays of the same shape; float32 predictions stay float32
    (and the targets follow them), anything else is float64."""
    y_pred = as_float_array(y_pred, name_pred, dtype=None)
    y_true = as_float_array(y_true, name_true, dtype=y_pred.dtype)
    check_same_shape(y_pred, y_true, name_pred, name_true)
    if y_pred.size == 0:
        raise ValueError(f"{name_pred} and {name_true} must hold at least one value, "
                         f"got shape {y_pred.shape}")
    return y_pred, y_true


def mse(y_pred, y_true) -> float:
    r"""Mean squared error :math:`L = \frac{1}{N}\sum_i (\hat y_i - y_i)^2` over all entries."""
    y_pred, y_true = _pair(y_pred, y_true)
    return float(np.mean((y_pred - y_true) ** 2))


def mse_grad(y_pred, y_true) -> np.ndarray:
    r""":math:`\partial L/\partial \hat y = \frac{2}{N}(\hat y - y)`."""
    y_pred, y_true = _pair(y_pred, y_true)
    return 2.0 * (y_pred - y_true) / y_pred.size


def _check_probabilities(p, y):
    if np.any((p < 0) | (p > 1)):
        raise ValueError("y_pred must hold probabilities in [0, 1]; "
                         "use binary_cross_entropy_with_logits for raw scores")
    if np.any((y < 0) | (y > 1)):
        raise ValueError("y_true must hold targets in [0, 1]")


def binary_cross_entropy(y_pred, y_true) -> float:
    r"""Binary cross-entropy of probabilities ``y_pred`` against targets in [0, 1].

    :math:`L = -\frac{1}{N}\sum_i \big[y_i \log \hat y_i + (1-y_i)\log(1-\hat y_i)\big]`.
    Probabilities are clipped to :math:`[10^{-12}, 1-10^{-12}]` so that a
    confident mistake costs a large but finite loss.
    """
    p, y = _pair(y_pred, y_true)
    _check_probabilities(p, y)
    p = np.clip(p, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def binary_cross_entropy_grad(y_pred, y_true) -> np.ndarray:
    r""":math:`\partial L/\partial \hat y = \frac{1}{N}\,\frac{\hat y - y}{\hat y(1-\hat y)}`."""
    p, y = _pair(y_pred, y_true)
    _check_probabilities(p, y)
    p = np.clip(p, _EPS, 1 - _EPS)
    return (p - y) / (p * (1 - p)) / p.size


def binary_cross_entropy_with_logits(logits, y_true) -> float:
    r"""Binary cross-entropy of ``sigmoid(logits)``, computed stably from the logits.

    Uses :math:`\log(1+e^{z}) - z y = \max(z,0) - z y + \log(1 + e^{-|z|})`.
    """
    z, y = _pair(logits, y_true, "logits")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def binary_cross_entropy_with_logits_grad(logits, y_true) -> np.ndarray:
    r""":math:`\partial L/\partial z = \frac{1}{N}(\sigma(z) - y)`."""
    z, y = _pair(logits, y_true, "logits")
    return (sigmoid(z) - y) / z.size


def _logits_labels(logits, labels):
    logits = as_float_array(logits, "logits", ndim=2, dtype=None)
    if logits.shape[0] == 0 or logits.shape[1] == 0:
        raise ValueError(f"logits must have shape (N, C) with N >= 1 and C >= 1, "
                         f"got {logits.shape}")
    labels = as_labels(labels, "labels", n_classes=logits.shape[1], n_samples=logits.shape[0])
    return logits, labels


def log_softmax(logits, axis: int = -1) -> np.ndarray:
    r""":math:`\log \mathrm{softmax}(z)_i = z_i - \max_j z_j - \log\sum_j e^{z_j - \max_k z_k}`."""
    z = as_float_array(logits, "logits", dtype=None, allow_nan=True)
    if z.ndim == 0:
        raise ValueError("logits must have at least one axis, got a scalar")
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax_cross_entropy(logits, labels) -> float:
    r"""Cross-entropy of ``softmax(logits)`` against integer class ``labels``.

    :math:`L = -\frac{1}{N}\sum_n \log \mathrm{softmax}(z_n)_{y_n}`; equal to
    ``torch.nn.functional.cross_entropy(logits, labels)``.
    """
    logits, labels = _logits_labels(logits, labels)
    logp = log_softmax(logits)
    return float(-np.mean(logp[np.arange(len(labels)), labels]))


def softmax_cross_entropy_grad(logits, labels) -> np.ndarray:
    r""":math:`\partial L/\partial Z = \frac{1}{N}(\mathrm{softmax}(Z) - Y_{\text{one-hot}})`."""
    logits, labels = _logits_labels(logits, labels)
    grad = softmax(logits)
    grad[np.arange(len(labels)), labels] -= 1.0
    return grad / len(labels)


def _softmax_cross_entropy_and_grad(logits, labels):
    """Loss and gradient of :func:`softmax_cross_entropy` from one softmax,
    for inputs already checked (used inside ``Sequential.fit``)."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    total = e.sum(axis=1, keepdims=True)
    rows = np.arange(len(labels))
    loss = float(np.mean(np.log(total[:, 0]) - shifted[rows, labels]))
    e /= total
    e[rows, labels] -= 1.0
    e /= len(labels)
    return loss, e


#: name -> (loss, gradient)
LOSSES = {
    "mse": (mse, mse_grad),
    "binary_cross_entropy": (binary_cross_entropy, binary_cross_entropy_grad),
    "binary_cross_entropy_with_logits": (binary_cross_entropy_with_logits,
                                         binary_cross_entropy_with_logits_grad),
    "softmax_cross_entropy": (softmax_cross_entropy, softmax_cross_entropy_grad),
}


def get_loss(loss):
    """Look up ``(loss, gradient)`` by name, or pass a pair through."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)}, got {loss!r}")
        return LOSSES[loss]
    if isinstance(loss, (tuple, list)) and len(loss) == 2 and all(map(callable, loss)):
        return loss
    raise TypeError("loss must be a name or a (loss, gradient) pair of callables, "
                    f"got {loss!r}")
