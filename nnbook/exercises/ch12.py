"""Checks for the exercises of chapter 12 (modern architectures)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ['check_layer_norm', 'check_attention']


def _layer_norm(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


@exercise_check
def check_layer_norm(fn):
    """``fn(X, gamma, beta, eps) -> Y``: layer normalization over the LAST axis of
    ``X``, with the biased variance and ``eps`` inside the square root, as
    ``torch.nn.LayerNorm``: ``Y = gamma * (X - mean) / sqrt(var + eps) + beta``."""
    rng = _rng(18)
    cases = [{"X": rng.normal(size=(3, 4)) * 2 + 1, "gamma": np.ones(4), "beta": np.zeros(4),
              "eps": 1e-5},
             {"X": rng.normal(size=(4, 5)), "gamma": rng.uniform(0.5, 2, 5),
              "beta": rng.normal(size=5), "eps": 1e-5},
             {"X": rng.normal(size=(2, 3, 6)) * 5, "gamma": rng.uniform(0.5, 2, 6),
              "beta": rng.normal(size=6), "eps": 1e-5},
             {"X": 1 + 0.01 * rng.normal(size=(3, 4)), "gamma": np.ones(4),
              "beta": np.zeros(4), "eps": 1e-3}]

    def over_batch(X, gamma, beta, eps):
        mu, var = X.mean(axis=0, keepdims=True), X.var(axis=0, keepdims=True)
        return gamma * (X - mu) / np.sqrt(var + eps) + beta

    def unbiased(X, gamma, beta, eps):
        mu, var = X.mean(axis=-1, keepdims=True), X.var(axis=-1, ddof=1, keepdims=True)
        return gamma * (X - mu) / np.sqrt(var + eps) + beta

    def eps_outside(X, gamma, beta, eps):
        mu, sd = X.mean(axis=-1, keepdims=True), X.std(axis=-1, keepdims=True)
        return gamma * (X - mu) / (sd + eps) + beta

    return run_cases(
        "check_layer_norm", fn, cases, _layer_norm,
        mistakes=[(over_batch, "you normalized over the batch (axis 0), which is batch "
                               "normalization: layer norm uses each sample's own mean and "
                               "variance, axis=-1"),
                  (unbiased, "use the biased variance (divide by n, np.var's default "
                             "ddof=0), as PyTorch does"),
                  (eps_outside, "eps goes INSIDE the square root: sqrt(var + eps)"),
                  (lambda X, g, b, eps: _layer_norm(X, 1.0, 0.0, eps),
                   "you forgot to scale by gamma and shift by beta"),
                  (lambda X, g, b, eps: _layer_norm(X, g, b, 0.0),
                   "you forgot eps: sqrt(var + eps)")],
        rtol=1e-7, atol=1e-9)


def _attention(Q, K, V):
    from ..scratch.attention import scaled_dot_product_attention
    return scaled_dot_product_attention(Q, K, V)[0]


@exercise_check
def check_attention(fn):
    """``fn(Q, K, V) -> O``: scaled dot-product attention
    ``softmax(Q K^T / sqrt(d)) V`` with ``d`` the size of a query/key, the
    softmax taken over the keys (the last axis of the scores). ``Q`` is
    (..., L_q, d), ``K`` (..., L_k, d), ``V`` (..., L_k, d_v); return ``O`` only."""
    name = "check_attention"
    rng = _rng(19)
    cases = [{"Q": rng.normal(size=(2, 3)), "K": rng.normal(size=(4, 3)),
              "V": rng.normal(size=(4, 2))},
             {"Q": rng.normal(size=(3, 16)) * 2, "K": rng.normal(size=(5, 16)) * 2,
              "V": rng.normal(size=(5, 3))},
             {"Q": rng.normal(size=(2, 3, 4)), "K": rng.normal(size=(2, 5, 4)),
              "V": rng.normal(size=(2, 5, 6))},
             {"Q": rng.normal(size=(2, 8)) * 20, "K": rng.normal(size=(3, 8)) * 20,
              "V": rng.normal(size=(3, 2))},
             # scores in the thousands: exp() overflows unless the maximum is subtracted
             {"Q": rng.normal(size=(3, 4)) * 60, "K": rng.normal(size=(5, 4)) * 60,
              "V": rng.normal(size=(5, 2))}]

    def sm(S, axis=-1):
        E = np.exp(S - S.max(axis=axis, keepdims=True))
        return E / E.sum(axis=axis, keepdims=True)

    def kt(K):
        return np.swapaxes(K, -1, -2)

    for args in cases:
        got = call(name, fn, args)
        if isinstance(got, tuple):
            fail(name, args, _attention(**args), got,
                  "return only the output O, not a tuple (O, A)", what="wrong kind of result")
    d_of = lambda Q: Q.shape[-1]  # noqa: E731
    return run_cases(
        name, fn, cases, _attention,
        mistakes=[(lambda Q, K, V: sm(Q @ kt(K)) @ V,
                   "you forgot to divide the scores by sqrt(d), d = Q.shape[-1]"),
                  (lambda Q, K, V: sm(Q @ kt(K) / d_of(Q)) @ V,
                   "divide by the SQUARE ROOT of d, not by d"),
                  (lambda Q, K, V: sm(Q @ kt(K) / np.sqrt(d_of(Q)), axis=-2) @ V,
                   "the softmax must run over the keys (axis=-1, each row of weights "
                   "sums to 1), not over the queries"),
                  (lambda Q, K, V: (Q @ kt(K) / np.sqrt(d_of(Q))) @ V,
                   "you forgot the softmax over the scores"),
                  (lambda Q, K, V: sm(Q @ kt(K) / np.sqrt(V.shape[-1])) @ V,
                   "d is the size of the queries and keys, Q.shape[-1], not of the values")],
        nonfinite_hint=("the scores are large here: subtract each row's maximum score before "
                        "exp() (a stable softmax), or exp() overflows to inf"))
