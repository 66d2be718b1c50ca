"""Forecasting baselines: least-squares AR, free-running forecasts, horizon targets."""
import numpy as np
import pytest

from nnbook.models.rnn import make_windows
from nnbook.timeseries import LinearAR, free_running_forecast, horizon_targets


def ar2_series(n=3000, seed=0, noise=0.1):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(2, n):
        x[t] = 0.5 + 1.6 * x[t - 1] - 0.8 * x[t - 2] + noise * rng.standard_normal()
    return x


def test_least_squares_recovers_the_coefficients_of_an_ar2_process():
    X, y = make_windows(ar2_series(), window=2)
    ar = LinearAR().fit(X, y)
    # windows are oldest first: coef_ = (a_2, a_1)
    assert ar.coef_ == pytest.approx([-0.8, 1.6], abs=0.03)
    assert ar.intercept_ == pytest.approx(0.5, abs=0.05)
    residual = y[:, 0] - ar.predict(X)
    assert residual.var() == pytest.approx(0.01, rel=0.1)


def test_least_squares_matches_numpy_lstsq_and_ridge_shrinks():
    rng = np.random.default_rng(1)
    X, y = rng.standard_normal((50, 4)), rng.standard_normal(50)
    ar = LinearAR().fit(X, y)
    theta = np.linalg.lstsq(np.hstack([X, np.ones((50, 1))]), y, rcond=None)[0]
    np.testing.assert_allclose(np.append(ar.coef_, ar.intercept_), theta, atol=1e-12)
    shrunk = LinearAR(ridge=100.0).fit(X, y)
    assert np.linalg.norm(shrunk.coef_) < np.linalg.norm(ar.coef_)


def test_free_running_reproduces_the_recursion_and_column_zero_is_one_step():
    x = ar2_series(noise=0.0, n=100)
    X, y = make_windows(x, window=2)
    ar = LinearAR().fit(X, y)
    forecasts = free_running_forecast(ar.predict, X[:5], horizon=10)
    starts = np.arange(5)
    np.testing.assert_allclose(forecasts, horizon_targets(x, starts, 2, 10), atol=1e-8)
    np.testing.assert_allclose(forecasts[:, 0], ar.predict(X[:5]))


def test_free_running_feeds_back_its_own_predictions():
    # a "model" that predicts last value + 1 climbs by one per step
    forecasts = free_running_forecast(lambda W: W[:, -1, 0] + 1, np.zeros((2, 3, 1)), 4)
    np.testing.assert_array_equal(forecasts, [[1, 2, 3, 4], [1, 2, 3, 4]])


def test_bad_inputs_are_rejected_with_clear_errors():
    with pytest.raises(ValueError, match="ridge must be a number >= 0"):
        LinearAR(ridge=-1)
    with pytest.raises(RuntimeError, match="call fit"):
        LinearAR().predict(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="one value per window"):
        LinearAR().fit(np.zeros((4, 3)), np.zeros(3))
    with pytest.raises(ValueError, match=r"shape \(N, p\) or \(N, p, 1\)"):
        LinearAR().fit(np.zeros(4), np.zeros(4))
    with pytest.raises(ValueError, match="univariate"):
        LinearAR().fit(np.zeros((4, 3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        LinearAR().fit(np.full((4, 3), np.nan), np.zeros(4))
    ar = LinearAR().fit(np.random.default_rng(0).standard_normal((10, 3)), np.zeros(10))
    with pytest.raises(ValueError, match="windows of length 3"):
        ar.predict(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="horizon must be a positive integer"):
        free_running_forecast(ar.predict, np.zeros((2, 3)), 0)
    with pytest.raises(ValueError, match="one value per window"):
        free_running_forecast(lambda W: np.zeros(5), np.zeros((2, 3)), 2)
    with pytest.raises(ValueError, match="len\\(series\\)"):
        horizon_targets(np.zeros(10), [5], window=3, horizon=5)
