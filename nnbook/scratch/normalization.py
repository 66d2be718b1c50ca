r"""Batch normalization and layer normalization, forward and backward, in NumPy.

Both layers standardize activations and then rescale them with learnable
parameters :math:`\gamma` (``gamma``) and :math:`\beta` (``beta``):

.. math::
    \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}},\qquad y = \gamma \hat x + \beta .

They differ only in *which* numbers the mean :math:`\mu` and the variance
:math:`\sigma^2` are taken over: batch normalization averages each feature
over the samples of the batch, layer normalization averages each sample over
its features. Both match ``torch.nn.BatchNorm1d`` and ``torch.nn.LayerNorm``
(the tests check outputs, running statistics and every gradient).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array
from .layers import Layer, Parameter


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _normalize_backward(dxhat, xhat, inv_std, axes):
    r"""Gradient through :math:`\hat x = (x-\mu)/\sigma` when :math:`\mu` and
    :math:`\sigma` are themselves computed from ``x`` over ``axes``:

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{\sigma}\Big(d\hat x
        - \overline{d\hat x} - \hat x\,\overline{d\hat x \odot \hat x}\Big),

    where the bars are means over the normalized axes.
    """
    mean_dxhat = dxhat.mean(axis=axes, keepdims=True)
    mean_dxhat_xhat = (dxhat * xhat).mean(axis=axes, keepdims=True)
    return inv_std * (dxhat - mean_dxhat - xhat * mean_dxhat_xhat)


class BatchNorm(Layer):
    r"""Batch normalization over the batch axis, like ``torch.nn.BatchNorm1d``.

    Input ``X`` has shape ``(N, num_features)``. In training mode each feature
    is standardized with the mean and the (biased) variance of the batch, and
    the running estimates are updated with

    .. math::
        \text{running} \leftarrow (1 - m)\,\text{running} + m\,\text{batch},

    where ``m`` is ``momentum`` and the variance that enters the running
    estimate is the unbiased one (divided by ``N - 1``), as in PyTorch. In
    evaluation mode (``layer.training = False``) the running estimates are
    used instead, so that a prediction does not depend on the rest of the batch.
    """

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1):
        self.num_features = _positive_int(num_features, "num_features")
        if not (np.isscalar(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        if not (np.isscalar(momentum) and 0 <= momentum <= 1):
            raise ValueError(f"momentum must be in [0, 1], got {momentum!r}")
        self.eps, self.momentum = float(eps), float(momentum)
        self.gamma = Parameter(np.ones(self.num_features), "gamma")
        self.beta = Parameter(np.zeros(self.num_features), "beta")
        self.running_mean = np.zeros(self.num_features)
        self.running_var = np.ones(self.num_features)
        self._cache = None

    def parameters(self):
        return [self.gamma, self.beta]

    def forward(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.num_features:
            raise ValueError(f"X must have shape (N, {self.num_features}), got {X.shape}")
        if self.training:
            N = X.shape[0]
            if N < 2:
                raise ValueError("BatchNorm in training mode needs at least 2 samples "
                                 f"per batch to estimate a variance, got {N}")
            mu = X.mean(axis=0)
            var = X.var(axis=0)                      # biased: used to normalize
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mu
            self.running_var = (1 - m) * self.running_var + m * var * N / (N - 1)
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)
        X_hat = (X - mu) * inv_std
        self._cache = (X_hat, inv_std, self.training)
        return self.gamma.data * X_hat + self.beta.data

    def backward(self, dY):
        if self._cache is None:
            raise RuntimeError("BatchNorm.backward called before forward")
        X_hat, inv_std, training = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != X_hat.shape:
            raise ValueError(f"dY must have shape {X_hat.shape}, got {dY.shape}")
        self.gamma.grad += (dY * X_hat).sum(axis=0)
        self.beta.grad += dY.sum(axis=0)
        dX_hat = dY * self.gamma.data
        if not training:                      # running statistics are constants
            return dX_hat * inv_std
        return _normalize_backward(dX_hat, X_hat, inv_std, axes=0)

    def __repr__(self):
        return f"BatchNorm({self.num_features})"


class LayerNorm(Layer):
    r"""Layer normalization over the trailing ``normalized_shape`` axes, like
    ``torch.nn.LayerNorm``: each sample is standardized with its own mean and
    (biased) variance, so the layer behaves identically in training and
    evaluation and does not care about the batch size."""

    def __init__(self, normalized_shape, eps: float = 1e-5):
        if isinstance(normalized_shape, (int, np.integer)) and not isinstance(normalized_shape,
                                                                              bool):
            normalized_shape = (normalized_shape,)
        try:
            shape = tuple(_positive_int(s, "normalized_shape") for s in normalized_shape)
        except TypeError:
            raise TypeError("normalized_shape must be a positive integer or a tuple of "
                            f"them, got {normalized_shape!r}") from None
        if not shape:
            raise ValueError("normalized_shape must not be empty")
        if not (np.isscalar(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.normalized_shape, self.eps = shape, float(eps)
        self.gamma = Parameter(np.ones(shape), "gamma")
        self.beta = Parameter(np.zeros(shape), "beta")
        self._cache = None

    def parameters(self):
        return [self.gamma, self.beta]

    def forward(self, X):
        X = as_float_array(X, "X")
        k = len(self.normalized_shape)
        if X.ndim < k or X.shape[-k:] != self.normalized_shape:
            raise ValueError(f"X must end with shape {self.normalized_shape}, got {X.shape}")
        axes = tuple(range(X.ndim - k, X.ndim))
        mu = X.mean(axis=axes, keepdims=True)
        var = X.var(axis=axes, keepdims=True)
        inv_std = 1.0 / np.sqrt(var + self.eps)
        X_hat = (X - mu) * inv_std
        self._cache = (X_hat, inv_std, axes)
        return self.gamma.data * X_hat + self.beta.data

    def backward(self, dY):
        if self._cache is None:
            raise RuntimeError("LayerNorm.backward called before forward")
        X_hat, inv_std, axes = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != X_hat.shape:
            raise ValueError(f"dY must have shape {X_hat.shape}, got {dY.shape}")
        batch_axes = tuple(range(X_hat.ndim - len(axes)))
        self.gamma.grad += (dY * X_hat).sum(axis=batch_axes)
        self.beta.grad += dY.sum(axis=batch_axes)
        return _normalize_backward(dY * self.gamma.data, X_hat, inv_std, axes)

    def __repr__(self):
        return f"LayerNorm({self.normalized_shape})"


class RMSNorm(Layer):
    r"""Root-mean-square normalization (Zhang and Sennrich, 2019), like
    ``torch.nn.RMSNorm``: layer normalization without the mean,

    .. math::
        y = \gamma \odot \frac{x}{\operatorname{rms}(x)},\qquad
        \operatorname{rms}(x) = \sqrt{\tfrac1d \textstyle\sum_j x_j^2 + \epsilon},

    over the last axis of ``X`` (``d = num_features``). No shift ``beta`` and
    no centring: cheaper, and in practice as good for Transformers. Backward,
    with :math:`\hat x = x/\operatorname{rms}(x)` and :math:`g = \gamma \odot dY`:

    .. math::
        \frac{\partial L}{\partial x} = \frac{1}{\operatorname{rms}(x)}
        \big(g - \hat x\,\overline{g \odot \hat x}\big).
    """

    def __init__(self, num_features: int, eps: float = 1e-6):
        self.num_features = _positive_int(num_features, "num_features")
        if not (np.isscalar(eps) and eps > 0):
            raise ValueError(f"eps must be a positive number, got {eps!r}")
        self.eps = float(eps)
        self.gamma = Parameter(np.ones(self.num_features), "gamma")
        self._cache = None

    def parameters(self):
        return [self.gamma]

    def forward(self, X):
        X = as_float_array(X, "X")
        if X.ndim < 1 or X.shape[-1] != self.num_features:
            raise ValueError(f"X must end with {self.num_features} features, got shape {X.shape}")
        inv_rms = 1.0 / np.sqrt((X ** 2).mean(axis=-1, keepdims=True) + self.eps)
        X_hat = X * inv_rms
        self._cache = (X_hat, inv_rms)
        return self.gamma.data * X_hat

    def backward(self, dY):
        if self._cache is None:
            raise RuntimeError("RMSNorm.backward called before forward")
        X_hat, inv_rms = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != X_hat.shape:
            raise ValueError(f"dY must have shape {X_hat.shape}, got {dY.shape}")
        self.gamma.grad += (dY * X_hat).reshape(-1, self.num_features).sum(axis=0)
        g = dY * self.gamma.data
        return inv_rms * (g - X_hat * (g * X_hat).mean(axis=-1, keepdims=True))

    def __repr__(self):
        return f"RMSNorm({self.num_features})"


class BatchNorm2d(BatchNorm):
    r"""Batch normalization for images, like ``torch.nn.BatchNorm2d``.

    Input ``X`` has shape ``(N, C, H, W)``. A convolutional layer applies the
    same filter at every position, so batch normalization keeps one mean, one
    variance and one pair :math:`(\gamma_c, \beta_c)` per *channel*, with the
    statistics taken over the batch *and* the positions, the
    :math:`m = N H W` numbers of channel :math:`c`:

    .. math::
        \mu_c = \frac1m \sum_{n,i,j} X_{n,c,i,j},\qquad
        \sigma_c^2 = \frac1m \sum_{n,i,j} (X_{n,c,i,j} - \mu_c)^2,\qquad
        Y_{n,c,i,j} = \gamma_c \frac{X_{n,c,i,j} - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}}
        + \beta_c .

    Training mode uses the batch statistics and updates the running
    estimates, :math:`\text{running} \leftarrow (1 - m_{\text{om}})\,\text{running}
    + m_{\text{om}}\,\text{batch}` with ``momentum`` :math:`m_{\text{om}}` and
    the unbiased variance (divided by :math:`m - 1`), as PyTorch does.
    Evaluation mode (``layer.training = False``) normalizes with the running
    estimates, so that the output for one image does not depend on the other
    images of the batch. The backward pass is :class:`BatchNorm`'s with the
    means taken over the axes ``(0, 2, 3)``.
    """

    def forward(self, X):
        X = as_float_array(X, "X")
        C = self.num_features
        if X.ndim != 4 or X.shape[1] != C:
            raise ValueError(f"BatchNorm2d: X must have shape (N, {C}, H, W), got {X.shape}")
        axes = (0, 2, 3)                             # batch and positions
        if self.training:
            m = X.shape[0] * X.shape[2] * X.shape[3]
            if m < 2:
                raise ValueError("BatchNorm2d in training mode needs at least 2 values per "
                                 f"channel (N * H * W >= 2) to estimate a variance, got "
                                 f"X of shape {X.shape}")
            mu, var = X.mean(axis=axes), X.var(axis=axes)   # biased: used to normalize
            mom = self.momentum
            self.running_mean = (1 - mom) * self.running_mean + mom * mu
            self.running_var = (1 - mom) * self.running_var + mom * var * m / (m - 1)
        else:
            mu, var = self.running_mean, self.running_var
        inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(1, C, 1, 1)
        X_hat = (X - mu.reshape(1, C, 1, 1)) * inv_std
        self._cache = (X_hat, inv_std, self.training)
        return self.gamma.data.reshape(1, C, 1, 1) * X_hat + self.beta.data.reshape(1, C, 1, 1)

    def backward(self, dY):
        if self._cache is None:
            raise RuntimeError("BatchNorm2d.backward called before forward")
        X_hat, inv_std, training = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != X_hat.shape:
            raise ValueError(f"BatchNorm2d: dY must have the output's shape {X_hat.shape}, "
                             f"got {dY.shape}")
        axes = (0, 2, 3)
        self.gamma.grad += (dY * X_hat).sum(axis=axes)
        self.beta.grad += dY.sum(axis=axes)
        dX_hat = dY * self.gamma.data.reshape(1, -1, 1, 1)
        if not training:                      # running statistics are constants
            return dX_hat * inv_std
        return _normalize_backward(dX_hat, X_hat, inv_std, axes=axes)

    def __repr__(self):
        return f"BatchNorm2d({self.num_features})"
