"""Checks for the exercises of chapter 12 (modern architectures)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ._checking import backward_cases
from ._checking import compare  # noqa: F401

__all__ = [
    "check_layer_norm", "check_attention", "check_batch_norm_backward",
    "check_layer_norm_backward"
]


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


def _norm_forward(X, gamma, beta, eps, axis):
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def _norm_backward(X, gamma, beta, eps, d_out, axis):
    mu = X.mean(axis=axis, keepdims=True)
    var = X.var(axis=axis, keepdims=True)
    X_hat = (X - mu) / np.sqrt(var + eps)
    reduce = tuple(a for a in range(X.ndim) if a != X.ndim - 1)
    d_gamma = (d_out * X_hat).sum(axis=reduce)
    d_beta = d_out.sum(axis=reduce)
    d_hat = d_out * gamma
    dX = (d_hat - d_hat.mean(axis=axis, keepdims=True)
          - X_hat * (d_hat * X_hat).mean(axis=axis, keepdims=True)) / np.sqrt(var + eps)
    return dX, d_gamma, d_beta


def _norm_cases(seed):
    gen = _rng(seed)
    return [{"X": gen.normal(size=(4, 3)) * 2 + 1, "gamma": gen.uniform(0.5, 2, 3),
             "beta": gen.normal(size=3), "eps": 1e-5, "d_out": gen.normal(size=(4, 3))},
            {"X": gen.normal(size=(8, 5)), "gamma": gen.uniform(0.5, 2, 5),
             "beta": gen.normal(size=5), "eps": 1e-5, "d_out": gen.normal(size=(8, 5))},
            {"X": gen.normal(size=(3, 6)) * 0.1, "gamma": np.ones(6), "beta": np.zeros(6),
             "eps": 1e-3, "d_out": gen.normal(size=(3, 6))}]


def _norm_mistakes(axis):
    def no_mean_terms(X, gamma, beta, eps, d_out):
        dX, dg, db = _norm_backward(X, gamma, beta, eps, d_out, axis)
        var = X.var(axis=axis, keepdims=True)
        return d_out * gamma / np.sqrt(var + eps), dg, db

    def forgot_gamma(X, gamma, beta, eps, d_out):
        dX, dg, db = _norm_backward(X, 1.0, beta, eps, d_out, axis)
        return dX, _norm_backward(X, gamma, beta, eps, d_out, axis)[1], db

    return [(no_mean_terms, "the mean and the variance depend on every input: dX = "
                            "(d_hat - mean(d_hat) - x_hat * mean(d_hat * x_hat)) / sqrt(var + eps)"
                            ", not only d_hat / sqrt(var + eps)"),
            (forgot_gamma, "the upstream gradient reaches x_hat multiplied by gamma: "
                           "d_hat = d_out * gamma")]


@exercise_check
def check_batch_norm_backward(forward, backward):
    """Check batch normalization's backward pass in training mode.

    ``forward(X, gamma, beta, eps) -> Y`` normalizes each feature (column) of
    ``X`` (N, D) with the batch's mean and biased variance, then scales by
    ``gamma`` and shifts by ``beta`` (D,);
    ``backward(X, gamma, beta, eps, d_out) -> (dX, d_gamma, d_beta)``.
    Compared with the book's gradients and with finite differences of your
    forward (the batch statistics are part of the function).
    """
    return backward_cases(
        "check_batch_norm_backward", forward, backward, _norm_cases(26),
        lambda X, gamma, beta, eps: _norm_forward(X, gamma, beta, eps, 0),
        lambda X, gamma, beta, eps, d_out: _norm_backward(X, gamma, beta, eps, d_out, 0),
        ("dX", "d_gamma", "d_beta"), mistakes=_norm_mistakes(0), rtol=1e-6, atol=1e-9)


@exercise_check
def check_layer_norm_backward(forward, backward):
    """Check layer normalization's backward pass.

    ``forward(X, gamma, beta, eps) -> Y`` normalizes each row of ``X`` (N, D)
    over its D features (as :func:`check_layer_norm`);
    ``backward(X, gamma, beta, eps, d_out) -> (dX, d_gamma, d_beta)``, with
    ``d_gamma`` and ``d_beta`` summed over the rows.
    """
    return backward_cases(
        "check_layer_norm_backward", forward, backward, _norm_cases(27),
        lambda X, gamma, beta, eps: _norm_forward(X, gamma, beta, eps, -1),
        lambda X, gamma, beta, eps, d_out: _norm_backward(X, gamma, beta, eps, d_out, -1),
        ("dX", "d_gamma", "d_beta"), mistakes=_norm_mistakes(-1), rtol=1e-6, atol=1e-9)
