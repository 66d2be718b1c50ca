"""The shared comparison of the exercise checks: answers computed partly in
float32 and the position a failure message points at."""

import numpy as np
import pytest

from nnbook import exercises as ex
from nnbook.exercises._checking import compare


def _causal(Q, K, V):
    L = Q.shape[-2]
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    S = np.where(np.triu(np.ones((L, L), dtype=bool), 1), -np.inf, S)
    E = np.exp(S - S.max(-1, keepdims=True))
    return E / E.sum(-1, keepdims=True) @ V


def test_a_right_answer_computed_in_float32_but_returned_in_float64_passes(capsys):
    def half_precision(Q, K, V):      # inputs cast down, a float64 mask brings them back up
        Q, K, V = (a.astype(np.float32) for a in (Q, K, V))
        L = Q.shape[-2]
        S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(np.float32(Q.shape[-1]))
        S = S + np.where(np.triu(np.ones((L, L)), 1) > 0, -np.inf, 0.0)   # float64
        E = np.exp(S - S.max(-1, keepdims=True))
        return (E / E.sum(-1, keepdims=True)) @ V
    assert half_precision(*(np.ones((2, 2)),) * 3).dtype == np.float64
    ex.check_causal_attention(half_precision)
    assert "float32 precision" in capsys.readouterr().out


def test_float32_rounding_does_not_excuse_a_method_error():
    # a one-sided difference is off by O(h): not float32 rounding
    def one_sided(f, x):
        x = np.array(x, dtype=float)
        g = np.zeros_like(x)
        for i in range(x.size):
            old = x.flat[i]
            x.flat[i] = old + 1e-5
            plus = f(x)
            x.flat[i] = old
            g.flat[i] = (plus - f(x)) / 1e-5
        return g
    with pytest.raises(ex.ExerciseError):
        ex.check_gradient_checker(one_sided)


def test_the_message_points_at_the_entry_furthest_outside_the_tolerance():
    expected = np.array([1000.0, 0.0])
    got = np.array([1000.5, 0.01])            # 0.5 is within rtol * 1000; 0.01 is not
    comparison = compare(got, expected, rtol=1e-3, atol=1e-8)
    assert not comparison["ok"]
    assert comparison["largest_difference"] == pytest.approx(0.5)
    assert comparison["where"] == (1,)
    assert comparison["where_is_largest"] is False
