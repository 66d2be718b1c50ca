r"""Forecasting baselines and multi-step forecasts (NumPy only).

A neural forecaster is only worth its training if it beats the simplest
models on the same windows:

- the **naive** (persistence) forecast, which repeats the last value seen
  (:func:`nnbook.models.rnn.naive_forecast`);
- a **linear autoregressive model** AR(:math:`p`), fitted by least squares,
  :class:`LinearAR`: :math:`\hat x_{t+1} = c + \sum_{j=1}^{p} a_j x_{t+1-j}`.

:func:`free_running_forecast` turns any one-step forecaster into a
multi-step one by feeding its own predictions back in (*free running*, or
closed loop), as opposed to *teacher forcing*, where every step is given the
true previous values.
"""

from __future__ import annotations

import numpy as np

__all__ = ["LinearAR", "free_running_forecast", "horizon_targets"]


def _windows(X, name="X"):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        if X.shape[2] != 1:
            raise ValueError(f"{name} must hold univariate windows (N, p) or (N, p, 1), "
                             f"got shape {X.shape}")
        X = X[:, :, 0]
    if X.ndim != 2 or X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(f"{name} must have shape (N, p) or (N, p, 1), got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return X


class LinearAR:
    r"""Linear autoregressive forecaster fitted by (ridge-regularised) least
    squares.

    ``fit(X, y)`` takes windows ``X`` of shape ``(N, p)`` or ``(N, p, 1)``
    (oldest value first, as :func:`~nnbook.models.rnn.make_windows` returns
    them) and next values ``y`` of shape ``(N,)`` or ``(N, 1)``, and solves

    .. math:: \min_{a, c} \sum_n (y_n - c - x_n a)^2 + \lambda \lVert a \rVert^2 .

    ``predict(X)`` returns :math:`c + x a`, shape ``(N,)``.
    """

    def __init__(self, ridge: float = 0.0):
        if isinstance(ridge, bool) or not np.isscalar(ridge) or not np.isfinite(ridge) \
                or ridge < 0:
            raise ValueError(f"ridge must be a number >= 0, got {ridge!r}")
        self.ridge = float(ridge)
        self.coef_ = None
        self.intercept_ = None

    def fit(self, X, y) -> "LinearAR":
        """Least-squares fit of the AR coefficients and intercept to windows ``X``
        and next values ``y``; returns self."""
        X = _windows(X)
        y = np.asarray(y, dtype=np.float64).reshape(-1)
        if len(y) != len(X):
            raise ValueError(f"y must hold one value per window ({len(X)}), got {len(y)}")
        design = np.hstack([X, np.ones((len(X), 1))])
        penalty = self.ridge * np.eye(design.shape[1])
        penalty[-1, -1] = 0.0                        # the intercept is not shrunk
        theta = np.linalg.solve(design.T @ design + penalty, design.T @ y) if self.ridge \
            else np.linalg.lstsq(design, y, rcond=None)[0]
        self.coef_, self.intercept_ = theta[:-1], float(theta[-1])
        return self

    def predict(self, X) -> np.ndarray:
        """The fitted model's next-value prediction for each window of ``X``."""
        if self.coef_ is None:
            raise RuntimeError("call fit(X, y) before predict")
        X = _windows(X)
        if X.shape[1] != len(self.coef_):
            raise ValueError(f"X must have windows of length {len(self.coef_)}, "
                             f"got {X.shape[1]}")
        return X @ self.coef_ + self.intercept_


def free_running_forecast(predict_next, X, horizon: int) -> np.ndarray:
    """Forecast ``horizon`` steps ahead from every window of ``X`` by feeding
    each prediction back in as the newest value (closed loop).

    ``predict_next`` maps windows of shape ``(N, p, 1)`` to next values
    ``(N,)`` (or ``(N, 1)``). Returns an array ``(N, horizon)`` whose column
    ``h - 1`` is the forecast ``h`` steps ahead; column 0 is the one-step
    forecast, which sees only true values (teacher forcing).
    """
    if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
        raise ValueError(f"horizon must be a positive integer, got {horizon!r}")
    window = _windows(X).copy()
    out = np.empty((len(window), int(horizon)))
    for h in range(int(horizon)):
        nxt = np.asarray(predict_next(window[:, :, None]), dtype=np.float64).reshape(-1)
        if nxt.shape != (len(window),):
            raise ValueError(f"predict_next must return one value per window "
                             f"({len(window)}), got shape {nxt.shape}")
        out[:, h] = nxt
        window = np.concatenate([window[:, 1:], nxt[:, None]], axis=1)
    return out


def horizon_targets(series, starts, window: int, horizon: int) -> np.ndarray:
    """The true values ``series[s + window + h]`` for ``h = 0..horizon-1`` and
    every window start ``s``: shape ``(len(starts), horizon)``, aligned with
    :func:`free_running_forecast` of the windows ``series[s : s + window]``."""
    series = np.asarray(series, dtype=np.float64).reshape(-1)
    starts = np.asarray(starts, dtype=np.int64).reshape(-1)
    if starts.size and (starts.min() < 0 or starts.max() + window + horizon > len(series)):
        raise ValueError(f"every start + window + horizon must be <= len(series) "
                         f"({len(series)})")
    return series[starts[:, None] + window + np.arange(horizon)]
