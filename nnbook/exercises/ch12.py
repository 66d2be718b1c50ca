"""Checks for the exercises of chapter 12 (modern architectures)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, as_parts, call, close, exercise_check, fail,
                        fail_simple, ok, run_cases, to_array, tuple_cases)
from ._checking import rng as _rng
from ._checking import backward_cases
from ._checking import compare
from ..scratch.activations import softmax as _softmax

__all__ = [
    "check_layer_norm", "check_attention", "check_batch_norm_backward",
    "check_layer_norm_backward", "check_causal_attention", "check_rms_norm",
    "check_rotary_embedding", "check_kv_cache_step", "check_swiglu", "check_top_k_routing",
    "check_patchify", "check_grouped_query_attention", "check_sampling_probs",
]


def _layer_norm(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


_KEEPDIMS_HINT = ("keep the reduced axis: np.mean(..., axis=-1, keepdims=True) has shape "
                  "(..., 1), which divides every feature of its own row")


def _rehint(run, condition, hint):
    """Run ``run()``; if it fails with a message for which ``condition`` holds,
    fail with ``hint`` instead of the message's generic one."""
    try:
        return run()
    except ExerciseError as exc:
        text = str(exc)
        if not condition(text):
            raise
        raise ExerciseError(text.split("\n  Hint:")[0] + f"\n  Hint: {hint}") from exc


def _broadcast_failure(text):
    return "your function raised" in text and "broadcast" in text


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

    return _rehint(lambda: run_cases(
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
        rtol=1e-7, atol=1e-9), _broadcast_failure, _KEEPDIMS_HINT)


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


# ---------------------------------------------------------------------------
# the building blocks of today's language models (sections 12.2-12.4)
# ---------------------------------------------------------------------------

def _masked_attention(Q, K, V, allowed, scale=True):
    """Attention where ``allowed`` (L_q, L_k) says which keys each query may read."""
    S = Q @ np.swapaxes(K, -1, -2)
    if scale:
        S = S / np.sqrt(Q.shape[-1])
    return _softmax(np.where(allowed, S, -np.inf)) @ V


def _causal(Q, K, V):
    from ..scratch.attention import scaled_dot_product_attention
    from ..scratch.transformer import causal_mask
    return scaled_dot_product_attention(Q, K, V, causal_mask(Q.shape[-2]))[0]


@exercise_check
def check_causal_attention(fn):
    """``fn(Q, K, V) -> O``: causal (masked) self-attention. ``Q``, ``K`` and
    ``V`` are ``(..., L, d)`` for the same ``L`` positions; query ``i`` may read
    keys ``0 .. i`` (itself and the past), never a later one:
    ``O = softmax(Q K^T / sqrt(d) + M) V`` with ``M[i, j] = -inf`` for ``j > i``
    and 0 elsewhere."""
    rng = _rng(31)
    cases = [{"Q": rng.normal(size=(4, 3)), "K": rng.normal(size=(4, 3)),
              "V": rng.normal(size=(4, 2))},
             {"Q": rng.normal(size=(2, 5, 4)), "K": rng.normal(size=(2, 5, 4)),
              "V": rng.normal(size=(2, 5, 3))},
             {"Q": rng.normal(size=(2, 2, 6, 8)), "K": rng.normal(size=(2, 2, 6, 8)),
              "V": rng.normal(size=(2, 2, 6, 4))},
             # large scores: exp() overflows unless the maximum is subtracted
             {"Q": rng.normal(size=(5, 4)) * 40, "K": rng.normal(size=(5, 4)) * 40,
              "V": rng.normal(size=(5, 2))}]

    def tri(L, k=0, upper=False):
        ones = np.ones((L, L), dtype=bool)
        return np.triu(ones, k) if upper else np.tril(ones, k)

    def strict(Q, K, V):              # no query may read itself: row 0 reads nothing
        L = Q.shape[-2]
        out = _masked_attention(Q, K, V, tri(L, -1) | (np.arange(L)[:, None] == 0))
        return out

    def after_softmax(Q, K, V):       # weights zeroed after the softmax, not renormalized
        L = Q.shape[-2]
        A = _softmax(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])) * tri(L)
        return A @ V

    def masked_to_zero(Q, K, V):      # the future's scores set to 0 (or multiplied by the mask)
        L = Q.shape[-2]
        S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
        return _softmax(np.where(tri(L), S, 0.0)) @ V

    name = "check_causal_attention"
    for args in cases:
        got = call(name, fn, args)
        if isinstance(got, tuple):
            fail(name, args, _causal(**args), got,
                 "return only the output O, not a tuple (O, A)", what="wrong kind of result")
        # a mask j < i: query 0 reads nothing (nan with -inf, uniform with -1e9), and every
        # later row misses its own key; compare the rows after the first
        try:
            answer, expected = to_array(got).astype(float), _causal(**args)
            L = args["Q"].shape[-2]
            strict_rows = _masked_attention(**args, allowed=tri(L, -1) | (np.arange(L)[:, None]
                                                                          == 0))[..., 1:, :]
            is_strict = (answer.shape == expected.shape and not close(answer, expected)
                         and close(answer[..., 1:, :], strict_rows))
        except Exception:  # noqa: BLE001 - not comparable: run_cases below says why
            is_strict = False
        if is_strict:
            fail(name, args, expected, got,
                 "a query may also read its own position (j <= i, the diagonal included): with "
                 "j < i the first token reads nothing", comparison=compare(got, expected))

    return run_cases(
        name, fn, cases, _causal,
        mistakes=[(lambda Q, K, V: _masked_attention(Q, K, V, True),
                   "there is no mask: every query reads every key, also the future ones. Set "
                   "the scores S[i, j] with j > i to -inf before the softmax (np.triu(..., 1))"),
                  (lambda Q, K, V: _masked_attention(Q, K, V, tri(Q.shape[-2], upper=True)),
                   "the mask is the wrong way round: query i may read keys j <= i (the lower "
                   "triangle, np.tril), not j >= i"),
                  (strict, "a query may also read its own position (j <= i, the diagonal "
                           "included): with j < i the first token would read nothing"),
                  (after_softmax, "mask the SCORES before the softmax (set them to -inf); "
                                  "zeroing weights after it leaves rows that do not sum to 1"),
                  (masked_to_zero, "a masked score of 0 still gets the weight e^0 = 1 after "
                                   "the softmax (multiplying the scores by the mask does the "
                                   "same): set the future's scores to -inf"),
                  (lambda Q, K, V: _masked_attention(Q, K, V, tri(Q.shape[-2]), scale=False),
                   "you forgot to divide the scores by sqrt(d), d = Q.shape[-1]"),
                  (lambda Q, K, V: _softmax(np.where(
                      tri(Q.shape[-2]), Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]),
                      -np.inf), axis=-2) @ V,
                   "the softmax runs over the keys (axis=-1: each row of weights sums to 1), "
                   "not over the queries")],
        nonfinite_hint=("nan or inf: mask the scores BEFORE the softmax, with -np.inf (or a "
                        "large negative number) only for j > i, and subtract each row's "
                        "maximum before exp()"))


def _rms_norm(X, gamma, eps):
    return gamma * X / np.sqrt(np.mean(X ** 2, axis=-1, keepdims=True) + eps)


@exercise_check
def check_rms_norm(fn):
    """``fn(X, gamma, eps) -> Y``: RMSNorm over the last axis, as
    ``torch.nn.RMSNorm``: ``Y = gamma * X / sqrt(mean(X**2) + eps)``, the mean
    taken over the last axis; no centring and no shift."""
    rng = _rng(32)
    # small inputs with a large eps first: there, where eps goes matters
    cases = [{"X": 0.01 * rng.normal(size=(3, 4)), "gamma": np.ones(4), "eps": 1e-3},
             {"X": rng.normal(size=(3, 4)) * 2 + 1, "gamma": np.ones(4), "eps": 1e-6},
             {"X": rng.normal(size=(4, 5)) + 3, "gamma": rng.uniform(0.5, 2, 5), "eps": 1e-6},
             {"X": rng.normal(size=(2, 3, 6)) * 5, "gamma": rng.uniform(0.5, 2, 6),
              "eps": 1e-5}]

    def centred(X, gamma, eps):
        return _rms_norm(X - X.mean(axis=-1, keepdims=True), gamma, eps)

    return _rehint(lambda: run_cases(
        "check_rms_norm", fn, cases, _rms_norm,
        mistakes=[(centred, "RMSNorm does not subtract the mean (that is layer norm): divide "
                            "X itself by its root mean square"),
                  (lambda X, g, eps: g * X / (np.sqrt(np.mean(X ** 2, -1, keepdims=True)) + eps),
                   "eps goes INSIDE the square root: sqrt(mean(X**2) + eps)"),
                  (lambda X, g, eps: g * X / np.sqrt(np.var(X, axis=-1, keepdims=True) + eps),
                   "np.var (and np.std) subtract the mean first: RMSNorm divides by the root "
                   "of the mean of X**2 itself, np.mean(X**2, axis=-1, keepdims=True)"),
                  (lambda X, g, eps: g * X / np.sqrt(np.sum(X ** 2, -1, keepdims=True) + eps),
                   "take the MEAN of the squares over the last axis, not their sum"),
                  (lambda X, g, eps: g * X / (np.mean(X ** 2, -1, keepdims=True) + eps),
                   "divide by the square ROOT of the mean square: sqrt(mean(X**2) + eps)"),
                  (lambda X, g, eps: _rms_norm(X, 1.0, eps), "you forgot to scale by gamma"),
                  (lambda X, g, eps: _rms_norm(X, g, 0.0), "you forgot eps"),
                  (lambda X, g, eps: g * X / np.sqrt(np.mean(X ** 2, axis=0, keepdims=True)
                                                     + eps),
                   "the mean runs over the features of each vector (axis=-1), not over the "
                   "batch")],
        rtol=1e-7, atol=1e-9), _broadcast_failure, _KEEPDIMS_HINT)


def _rope(X, positions, base):
    from ..scratch.blocks import rotary_embedding
    return rotary_embedding(X, positions, base)


@exercise_check
def check_rotary_embedding(fn):
    """``fn(X, positions, base) -> X_rot``: rotary position embedding. ``X`` is
    ``(..., L, d)`` with ``d`` even, ``positions`` has length ``L``. At position
    ``p`` the feature pair ``(x[2i], x[2i+1])`` is rotated by the angle
    ``p * base ** (-2i / d)``:
    ``(x[2i] cos a - x[2i+1] sin a, x[2i] sin a + x[2i+1] cos a)``."""
    rng = _rng(33)
    cases = [{"X": rng.normal(size=(3, 2)), "positions": np.arange(3.0), "base": 10000.0},
             {"X": rng.normal(size=(5, 8)), "positions": np.arange(5.0), "base": 10000.0},
             {"X": rng.normal(size=(2, 4, 6)), "positions": np.array([3.0, 7.0, 8.0, 20.0]),
              "base": 100.0},
             {"X": rng.normal(size=(2, 2, 3, 4)), "positions": np.arange(3.0), "base": 10.0}]

    def angles(X, positions, base, two=True):
        d = X.shape[-1]
        i = np.arange(d // 2)
        theta = base ** (-(2 * i if two else i) / d)
        return positions[:, None] * theta[None, :]

    def rotate(X, a, sign=1.0):
        out = np.empty_like(X)
        c, s = np.cos(a), sign * np.sin(a)
        out[..., 0::2] = X[..., 0::2] * c - X[..., 1::2] * s
        out[..., 1::2] = X[..., 0::2] * s + X[..., 1::2] * c
        return out

    def in_place(X, positions, base):  # x[2i] overwritten before x[2i+1] is computed from it
        a, out = angles(X, positions, base), np.array(X, dtype=float)
        out[..., 0::2] = X[..., 0::2] * np.cos(a) - X[..., 1::2] * np.sin(a)
        out[..., 1::2] = out[..., 0::2] * np.sin(a) + X[..., 1::2] * np.cos(a)
        return out

    def halves(X, positions, base):   # pairs (x[i], x[i + d/2]): the GPT-NeoX layout
        d = X.shape[-1]
        a = angles(X, positions, base)
        x1, x2 = X[..., :d // 2], X[..., d // 2:]
        return np.concatenate([x1 * np.cos(a) - x2 * np.sin(a),
                               x1 * np.sin(a) + x2 * np.cos(a)], axis=-1)

    return run_cases(
        "check_rotary_embedding", fn, cases, _rope,
        mistakes=[(lambda X, p, b: rotate(X, angles(X, p, b), -1.0),
                   "you rotate the wrong way (clockwise): x[2i] cos a - x[2i+1] sin a, "
                   "x[2i] sin a + x[2i+1] cos a"),
                  (lambda X, p, b: rotate(X, angles(X, p, b, two=False)),
                   "the frequency of pair i is base ** (-2i / d), with 2i, not i"),
                  (lambda X, p, b: rotate(X, angles(X, np.ones_like(p), b)),
                   "the angle is the position times the frequency, p * base ** (-2i / d)"),
                  (lambda X, p, b: rotate(X, angles(X, p, 1 / b)),
                   "the exponent is negative, base ** (-2i / d): the frequencies fall from 1 "
                   "for the first pair to about 1/base for the last"),
                  (in_place, "the odd features were computed from the already rotated even "
                             "ones: compute both rotated features from the ORIGINAL pair "
                             "(copy x[..., 0::2] and x[..., 1::2] first, or write into a new "
                             "array)"),
                  (halves, "you paired x[i] with x[i + d/2] (the layout of GPT-NeoX and "
                           "Hugging Face's LLaMA, equally valid): this exercise pairs "
                           "neighbours, (x[2i], x[2i+1]), like the book's rotary_embedding")])


_EMPTY_CACHE_HINT = ("at t = 0 the caches are empty (N, 0, d): append k and v first, then "
                     "attend, so that the first token reads itself and o = v")


@exercise_check
def check_kv_cache_step(fn):
    """``fn(q, k, v, K_cache, V_cache) -> (o, K_cache, V_cache)``: one step of
    generation with a key/value cache. ``q``, ``k`` and ``v`` are ``(N, 1, d)``:
    the query, key and value of the newest token; the caches are ``(N, t, d)``:
    the keys and values of the ``t`` earlier tokens (``t = 0`` at the start).
    Append ``k`` and ``v`` to the caches, then let ``q`` attend to all of them
    (``softmax(q K^T / sqrt(d)) V``); return the output ``(N, 1, d_v)`` and the
    grown caches. The check feeds a whole sequence one token at a time, starting
    from empty caches, and compares each output with causal attention over the
    sequence."""
    name = "check_kv_cache_step"
    rng = _rng(34)
    sequences = [(rng.normal(size=(1, 4, 3)), rng.normal(size=(1, 4, 3)),
                  rng.normal(size=(1, 4, 2))),
                 (rng.normal(size=(2, 6, 4)) * 3, rng.normal(size=(2, 6, 4)) * 3,
                  rng.normal(size=(2, 6, 5)))]
    notes = []
    for Q, K, V in sequences:
        N, L, d = Q.shape
        expected_all = _causal(Q, K, V)
        K_cache, V_cache = np.zeros((N, 0, d)), np.zeros((N, 0, V.shape[-1]))
        for t in range(L):
            args = {"q": Q[:, t:t + 1], "k": K[:, t:t + 1], "v": V[:, t:t + 1],
                    "K_cache": K_cache, "V_cache": V_cache}
            step = _rehint(lambda: _rehint(lambda: call(name, fn, args), lambda text: t == 0 and (
                "zero-size" in text or "numel() == 0" in text), _EMPTY_CACHE_HINT),
                lambda text: "concatenation axis" in text,
                "the caches grow along the token axis, axis 1 of (N, t, d): "
                "np.concatenate([K_cache, k], axis=1)")
            got = as_parts(step, 3)
            if got is None:
                fail(name, args, None, None, "return a tuple (o, K_cache, V_cache)",
                     what=f"wrong kind of result at step t = {t}")
            o, K_cache, V_cache = got
            expected = (expected_all[:, t:t + 1], K[:, :t + 1], V[:, :t + 1])
            for part, g, e in zip(("o", "K_cache", "V_cache"), (o, K_cache, V_cache), expected):
                comparison = compare(g, e)
                notes.append(comparison["note"])
                if comparison["ok"]:
                    continue
                hint = None
                if part == "o" and t == 0:
                    hint = None if comparison["problem"] else _EMPTY_CACHE_HINT
                elif part == "o":
                    past = _masked_attention(args["q"], args["K_cache"], args["V_cache"], True)
                    if close(g, past):
                        hint = ("the newest token must attend to itself too: append k and v "
                                "to the caches BEFORE attending, and use no mask (the cache "
                                "holds only the past)")
                    elif close(g, _masked_attention(args["q"], K[:, :t + 1], V[:, :t + 1],
                                                    True, scale=False)):
                        hint = "you forgot to divide the scores by sqrt(d), d = q.shape[-1]"
                elif part != "o":
                    hint = (f"the cache after step t = {t} holds the keys (values) of tokens "
                            f"0 .. {t} in order: np.concatenate([cache, new], axis=1)")
                fail(name, args, e, g, hint, what=f"wrong {part} at step t = {t}",
                     comparison=comparison)
            K_cache, V_cache = to_array(K_cache).astype(float), to_array(V_cache).astype(float)
    return ok(name, len(sequences), notes)


def _swiglu(X, W_gate, W_up, W_down):
    from ..scratch.blocks import swiglu
    return swiglu(X, W_gate, W_up, W_down)


@exercise_check
def check_swiglu(fn):
    """``fn(X, W_gate, W_up, W_down) -> Y``: the SwiGLU feed-forward layer,
    ``Y = (silu(X @ W_gate) * (X @ W_up)) @ W_down`` with
    ``silu(z) = z * sigmoid(z)``; no biases."""
    rng = _rng(35)
    cases = []
    for shape, d, f, d_out in (((3,), 3, 4, 3), ((4,), 4, 6, 4), ((2, 3), 5, 8, 2)):
        cases.append({"X": rng.normal(size=shape + (d,)) * 2,
                      "W_gate": rng.normal(size=(d, f)), "W_up": rng.normal(size=(d, f)),
                      "W_down": rng.normal(size=(f, d_out))})
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    return run_cases(
        "check_swiglu", fn, cases, _swiglu,
        mistakes=[(lambda X, Wg, Wu, Wd: (sig(X @ Wg) * (X @ Wu)) @ Wd,
                   "that is GLU, with the sigmoid as gate: SwiGLU's gate is "
                   "silu(z) = z * sigmoid(z)"),
                  (lambda X, Wg, Wu, Wd: ((X @ Wg) * _silu(X @ Wu)) @ Wd,
                   "the SiLU goes on the GATE branch X @ W_gate, not on X @ W_up"),
                  (lambda X, Wg, Wu, Wd: (np.maximum(X @ Wg, 0) * (X @ Wu)) @ Wd,
                   "that is ReGLU (a ReLU gate): use silu(z) = z * sigmoid(z)"),
                  (lambda X, Wg, Wu, Wd: (_gelu(X @ Wg) * (X @ Wu)) @ Wd,
                   "that is GEGLU (a GELU gate, also in Shazeer's paper): SwiGLU's gate is "
                   "silu(z) = z * sigmoid(z)"),
                  (lambda X, Wg, Wu, Wd: (_silu(X @ Wg) * _silu(X @ Wu)) @ Wd,
                   "only the gate branch X @ W_gate goes through the SiLU; X @ W_up stays "
                   "linear"),
                  (lambda X, Wg, Wu, Wd: _silu(X @ Wg) @ Wd,
                   "you forgot to multiply by the second branch X @ W_up (the gate multiplies "
                   "it feature by feature)")])


def _silu(z):
    return z / (1 + np.exp(-z))


def _gelu(z):
    """The exact GELU, z * Phi(z), as torch's default ``F.gelu``."""
    from math import erf
    return z * 0.5 * (1 + np.vectorize(erf)(z / np.sqrt(2)))


def _route(scores, k):
    top = np.argsort(-scores, axis=-1, kind="stable")[:, :k]
    gates = _softmax(np.take_along_axis(scores, top, axis=-1))
    E = scores.shape[-1]
    counts = np.bincount(top.ravel(), minlength=E)
    balance = E * float(np.sum(counts / counts.sum() * _softmax(scores).mean(axis=0)))
    return top, gates, balance


_UNUSED_EXPERT_HINT = ("an expert that no token chose still needs its count, 0: "
                       "np.bincount(top.ravel(), minlength=E) has one entry per expert")


@exercise_check
def check_top_k_routing(fn):
    """``fn(scores, k) -> (top, gates, balance)``: top-k routing of a mixture of
    experts. ``scores`` is ``(T, E)``, the router's score for each token and
    expert. ``top`` ``(T, k)``: each token's ``k`` best experts, best first;
    ``gates`` ``(T, k)``: the softmax of those ``k`` scores (each row sums to 1);
    ``balance``: the Switch Transformer's load-balancing loss
    ``E * sum_e f_e * P_e``, with ``f_e`` the fraction of the ``T * k``
    assignments that went to expert ``e`` and ``P_e`` the mean over tokens of
    the softmax of ALL ``E`` scores."""
    rng = _rng(36)
    cases = [{"scores": rng.normal(size=(6, 4)), "k": 1},
             {"scores": rng.normal(size=(8, 4)) * 2, "k": 2},
             {"scores": rng.normal(size=(10, 8)) + np.linspace(0, 3, 8), "k": 2},
             {"scores": rng.normal(size=(5, 3)), "k": 3},
             # the last expert gets no token: its count must still be there, as 0
             {"scores": rng.normal(size=(12, 8)) + np.array([0, 1, 2, 0.5, 1.5, 2.5, 1, -6.0]),
              "k": 3}]
    name = "check_top_k_routing"
    for args in cases:
        got = as_parts(_rehint(lambda: call(name, fn, args), _broadcast_failure,
                               _UNUSED_EXPERT_HINT), 3)
        if got is None:
            continue                  # tuple_cases below says what is wrong
        expected_top = _route(**args)[0]
        try:
            top = to_array(got[0])
            right = top.shape == expected_top.shape and np.array_equal(top, expected_top)
            same_experts = (not right and top.shape == expected_top.shape
                            and np.array_equal(np.sort(top, axis=-1),
                                               np.sort(expected_top, axis=-1)))
        except Exception:  # noqa: BLE001 - not comparable: tuple_cases says why
            right = same_experts = False
        if not right and not same_experts:
            break                     # another mistake: tuple_cases reports the first case
        if same_experts:
            fail(name, args, expected_top, got[0],
                 "these are the right k experts in the wrong order: list each token's "
                 "experts best first, np.argsort(-scores, axis=1)[:, :k] "
                 "(np.argsort(scores, axis=1)[:, -k:] gives them worst first)",
                 what="wrong top", comparison=compare(got[0], expected_top))

    def full_softmax_gates(scores, k):
        top, _, balance = _route(scores, k)
        return top, np.take_along_axis(_softmax(scores), top, axis=-1), balance

    def worst(scores, k):
        return _route(-scores, k)[:2] + (_route(scores, k)[2],)

    def counts_from_probs(scores, k):
        top, gates, _ = _route(scores, k)
        P = _softmax(scores).mean(axis=0)
        return top, gates, scores.shape[-1] * float(np.sum(P * P))

    def per_token(scores, k):
        top, gates, _ = _route(scores, k)
        counts = np.bincount(top.ravel(), minlength=scores.shape[-1])
        return top, gates, scores.shape[-1] * float(
            np.sum(counts / len(scores) * _softmax(scores).mean(axis=0)))

    return _rehint(lambda: tuple_cases(
        name, fn, cases, _route, ("top", "gates", "balance"),
        mistakes=[(full_softmax_gates,
                   "the gates are the softmax over the k CHOSEN scores (they sum to 1), not "
                   "the full softmax's probabilities of the chosen experts"),
                  (worst, "top holds the k LARGEST scores, best first (np.argsort(-scores))"),
                  (counts_from_probs,
                   "f_e counts the tokens actually routed to expert e (from top), P_e is the "
                   "mean router probability: two different quantities"),
                  (per_token, "f_e is a fraction of the T * k assignments: divide the counts "
                              "by T * k, so that the f_e sum to 1"),
                  (lambda scores, k: _route(scores, k)[:2] + (_route(scores, k)[2]
                                                              / scores.shape[-1],),
                   "multiply sum_e f_e P_e by E, the number of experts, so that a perfectly "
                   "balanced router gives 1")]),
        _broadcast_failure, _UNUSED_EXPERT_HINT)


def _patchify(images, patch):
    N, C, H, W = images.shape
    x = images.reshape(N, C, H // patch, patch, W // patch, patch)
    return x.transpose(0, 2, 4, 1, 3, 5).reshape(N, (H // patch) * (W // patch),
                                                 C * patch * patch)


@exercise_check
def check_patchify(fn):
    """``fn(images, patch) -> patches``: cut ``(N, C, H, W)`` images into
    non-overlapping ``patch x patch`` squares, row by row (the top-left patch
    first, then to its right), each flattened channel by channel and row by
    row: ``(N, (H/patch) * (W/patch), C * patch * patch)``, as
    ``nnbook.models.vit.patchify``."""
    rng = _rng(37)
    cases = [{"images": np.arange(16.0).reshape(1, 1, 4, 4), "patch": 2},
             {"images": rng.normal(size=(2, 1, 6, 6)), "patch": 3},
             {"images": rng.normal(size=(2, 3, 4, 6)), "patch": 2},
             {"images": rng.normal(size=(1, 2, 8, 8)), "patch": 4}]

    def stripes(images, patch):
        N, C, H, W = images.shape
        return images.reshape(N, (H // patch) * (W // patch), C * patch * patch)

    def column_major(images, patch):
        N, C, H, W = images.shape
        x = images.reshape(N, C, H // patch, patch, W // patch, patch)
        return x.transpose(0, 4, 2, 1, 3, 5).reshape(N, -1, C * patch * patch)

    def channels_last(images, patch):
        N, C, H, W = images.shape
        x = images.reshape(N, C, H // patch, patch, W // patch, patch)
        return x.transpose(0, 2, 4, 3, 5, 1).reshape(N, -1, C * patch * patch)

    return run_cases(
        "check_patchify", fn, cases, _patchify,
        mistakes=[(stripes, "a plain reshape cuts the image into strips of whole rows, not "
                            "squares: reshape to (N, C, H/p, p, W/p, p) and move the two "
                            "patch-grid axes forward with transpose(0, 2, 4, 1, 3, 5)"),
                  (column_major, "patches go row by row: the patch to the right of the first "
                                 "one comes second, not the one below it"),
                  (channels_last, "flatten each patch channel by channel (all of channel 0 "
                                  "first), as torch's Conv2d weights and the book's patchify")])


def _gqa(Q, K, V):
    from ..scratch.blocks import grouped_query_attention
    return grouped_query_attention(Q, K, V)[0]


@exercise_check
def check_grouped_query_attention(fn):
    """``fn(Q, K, V) -> O``: grouped-query attention. ``Q`` is
    ``(N, H_q, L, d)``; ``K`` and ``V`` are ``(N, H_kv, L, d)`` with ``H_q`` a
    multiple of ``H_kv``; query heads ``g*G .. (g+1)*G - 1`` (``G = H_q / H_kv``)
    all read key/value head ``g``, as ``F.scaled_dot_product_attention(...,
    enable_gqa=True)``. Return ``O`` ``(N, H_q, L, d)`` only."""
    rng = _rng(38)
    cases = [{"Q": rng.normal(size=(1, 2, 3, 4)), "K": rng.normal(size=(1, 1, 3, 4)),
              "V": rng.normal(size=(1, 1, 3, 4))},
             {"Q": rng.normal(size=(2, 4, 5, 4)), "K": rng.normal(size=(2, 2, 5, 4)),
              "V": rng.normal(size=(2, 2, 5, 4))},
             {"Q": rng.normal(size=(1, 6, 4, 8)), "K": rng.normal(size=(1, 3, 4, 8)),
              "V": rng.normal(size=(1, 3, 4, 8))},
             {"Q": rng.normal(size=(1, 4, 3, 2)), "K": rng.normal(size=(1, 4, 3, 2)),
              "V": rng.normal(size=(1, 4, 3, 2))}]
    for args in cases:
        got = call("check_grouped_query_attention", fn, args)
        if isinstance(got, tuple):
            fail("check_grouped_query_attention", args, _gqa(**args), got,
                 "return only the output O, not a tuple (O, A)", what="wrong kind of result")

    def tiled(Q, K, V):
        G = Q.shape[1] // K.shape[1]
        return _masked_attention(Q, np.tile(K, (1, G, 1, 1)), np.tile(V, (1, G, 1, 1)), True)

    return run_cases(
        "check_grouped_query_attention", fn, cases, _gqa,
        mistakes=[(tiled, "neighbouring query heads share a key/value head: heads 0 .. G-1 "
                          "read head 0 (np.repeat(K, G, axis=1)); np.tile (or torch's "
                          ".repeat) interleaves them instead"),
                  (lambda Q, K, V: _masked_attention(Q, np.repeat(K, Q.shape[1] // K.shape[1], 1),
                                                     np.repeat(V, Q.shape[1] // K.shape[1], 1),
                                                     True, scale=False),
                   "you forgot to divide the scores by sqrt(d), d = Q.shape[-1]")])


def _sampling_probs(logits, temperature, top_k):
    z = logits / temperature
    if top_k is not None:
        kth = np.sort(z, axis=-1)[..., -top_k][..., None]
        z = np.where(z < kth, -np.inf, z)
    return _softmax(z)


@exercise_check
def check_sampling_probs(fn):
    """``fn(logits, temperature, top_k) -> probs``: the distribution a language
    model samples its next token from, as nanoGPT's ``generate``: divide the
    logits by ``temperature``; if ``top_k`` is not ``None`` keep only the
    ``top_k`` largest and set the others to ``-inf``; then the softmax over the
    last axis."""
    rng = _rng(39)
    cases = [{"logits": rng.normal(size=5) * 2, "temperature": 1.0, "top_k": None},
             {"logits": rng.normal(size=(2, 6)) * 2, "temperature": 0.5, "top_k": None},
             {"logits": rng.normal(size=(3, 8)) * 2, "temperature": 2.0, "top_k": 3},
             {"logits": rng.normal(size=(2, 10)) * 3, "temperature": 0.7, "top_k": 1},
             {"logits": rng.normal(size=(2, 4)) * 50, "temperature": 0.1, "top_k": 2},
             # logits / temperature near 800: exp() overflows unless the maximum is subtracted
             {"logits": rng.normal(size=(2, 6)) + 40, "temperature": 0.05, "top_k": 3}]

    def one_row(logits, temperature, top_k):   # max and sum over the whole array
        z = np.asarray(logits, dtype=float) / temperature
        e = np.exp(z - z.max())
        return e / e.sum()

    def drop(logits, temperature, top_k, value, keep_kth=True):
        z = logits / temperature
        kth = np.sort(z, axis=-1)[..., -top_k][..., None]
        return _softmax(np.where(z < kth if keep_kth else z <= kth, value, z))

    def times_t(logits, temperature, top_k):
        return _sampling_probs(logits * temperature ** 2, temperature, top_k)

    def unnormalized(logits, temperature, top_k):
        p = _sampling_probs(logits, temperature, None)
        if top_k is not None:
            kth = np.sort(p, axis=-1)[..., -top_k][..., None]
            p = np.where(p < kth, 0.0, p)
        return p

    def smallest(logits, temperature, top_k):   # the top_k smallest logits kept
        if top_k is None:
            return _sampling_probs(logits, temperature, top_k)
        z = logits / temperature
        kth = np.sort(z, axis=-1)[..., top_k - 1][..., None]
        return _softmax(np.where(z > kth, -np.inf, z))

    return run_cases(
        "check_sampling_probs", fn, cases, _sampling_probs,
        mistakes=[(times_t, "DIVIDE the logits by the temperature: a low temperature "
                            "sharpens the distribution"),
                  (unnormalized, "after dropping all but the top_k tokens the probabilities "
                                 "must sum to 1 again: set the other logits to -inf BEFORE "
                                 "the softmax"),
                  (smallest, "keep the top_k LARGEST logits"),
                  (lambda z, T, k: _sampling_probs(-z, T, k) if k is not None else
                   _sampling_probs(z, T, k), "keep the top_k LARGEST logits"),
                  (lambda z, T, k: drop(z, T, k, 0.0),
                   "a dropped logit of 0 still gets the weight e^0 = 1: set the logits below "
                   "the k-th largest to -inf"),
                  (lambda z, T, k: drop(z, T, k, -np.inf, keep_kth=False),
                   "keep the k-th largest logit too: drop z < kth, not z <= kth (that keeps "
                   "only top_k - 1)"),
                  (lambda z, T, k: _sampling_probs(z, T, None),
                   "top_k is given here: keep only the top_k largest logits"),
                  (lambda z, T, k: _sampling_probs(z, 1.0, k),
                   "divide the logits by the temperature"),
                  (one_row, "the logits can hold several rows, shape (..., V): take the "
                            "maximum, the sort and the sum over the last axis (axis=-1, "
                            "keepdims=True)")],
        nonfinite_hint=("nan or inf: the logits are large here; subtract the maximum before "
                        "exp(), and make sure at least one logit is not -inf"))
