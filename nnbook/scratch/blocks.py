r"""Building blocks of current language models, from scratch in NumPy.

- :func:`swiglu`: the gated feed-forward layer of PaLM and LLaMA (Shazeer, 2020);
- :func:`rotary_embedding`: rotary position embeddings, RoPE (Su et al., 2021);
- :func:`grouped_query_attention`: several query heads share one key/value
  head (Ainslie et al., 2023; multi-query attention, Shazeer, 2019, is the
  case of a single key/value head);
- :class:`TopKMoE`: a sparse mixture-of-experts layer with top-k routing and
  the load-balancing loss of the Switch Transformer (Shazeer et al., 2017;
  Fedus et al., 2021).

RMSNorm, the fourth block, lives with the other normalizations in
:mod:`nnbook.scratch.normalization`. Forward passes only: the tests check
each one against PyTorch or against its defining property.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng, standard_normal
from .attention import scaled_dot_product_attention
from .modern_activations import silu   # chapter 4's SiLU, stable for large negative z


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def swiglu(X, W_gate, W_up, W_down):
    r"""SwiGLU feed-forward layer:
    :math:`\big(\operatorname{SiLU}(X W_g) \odot X W_u\big) W_d`.

    ``X`` is ``(..., d)``; ``W_gate`` and ``W_up`` are ``(d, f)``, ``W_down``
    ``(f, d_out)``. One branch decides, feature by feature, how much of the
    other passes (a *gate*); there are no biases, as in LLaMA.
    """
    X = as_float_array(X, "X")
    W_gate, W_up, W_down = (as_float_array(W, name, ndim=2) for W, name in
                            ((W_gate, "W_gate"), (W_up, "W_up"), (W_down, "W_down")))
    if W_gate.shape != W_up.shape or W_gate.shape[0] != X.shape[-1]:
        raise ValueError(f"W_gate and W_up must both have shape ({X.shape[-1]}, f), got "
                         f"{W_gate.shape} and {W_up.shape}")
    if W_down.shape[0] != W_gate.shape[1]:
        raise ValueError(f"W_down must have shape ({W_gate.shape[1]}, d_out), got "
                         f"{W_down.shape}")
    return (silu(X @ W_gate) * (X @ W_up)) @ W_down


def rotary_embedding(X, positions=None, base: float = 10000.0):
    r"""Rotate queries or keys by their position (RoPE).

    ``X`` is ``(..., L, d)`` with ``d`` even; ``positions`` (default
    ``0 .. L-1``) has length ``L``. Feature pair ``(x_{2i}, x_{2i+1})`` at
    position ``p`` is rotated by the angle :math:`p\,\theta_i`,
    :math:`\theta_i = \text{base}^{-2i/d}`. Because a rotation by :math:`p\theta`
    followed by the transpose of one by :math:`s\theta` is a rotation by
    :math:`(p - s)\theta`, the dot product of a rotated query at ``p`` and a
    rotated key at ``s`` depends only on ``p - s``: attention sees relative
    positions.
    """
    X = as_float_array(X, "X")
    if X.ndim < 2 or X.shape[-1] % 2:
        raise ValueError(f"X must be (..., L, d) with an even d, got shape {X.shape}")
    L, d = X.shape[-2:]
    positions = np.arange(L) if positions is None else as_float_array(positions, "positions",
                                                                      ndim=1)
    if len(positions) != L:
        raise ValueError(f"positions must have length {L}, got {len(positions)}")
    theta = base ** (-np.arange(0, d, 2) / d)                  # (d/2,)
    angle = positions[:, None] * theta[None, :]                # (L, d/2)
    cos, sin = np.cos(angle), np.sin(angle)
    x_even, x_odd = X[..., 0::2], X[..., 1::2]
    out = np.empty_like(X)
    out[..., 0::2] = x_even * cos - x_odd * sin
    out[..., 1::2] = x_even * sin + x_odd * cos
    return out


def grouped_query_attention(Q, K, V, mask=None):
    """Attention with ``H_q`` query heads and ``H_kv`` key/value heads.

    ``Q`` is ``(N, H_q, L_q, d)``, ``K`` and ``V`` are ``(N, H_kv, L_k, d)``, and
    ``H_q`` must be a multiple of ``H_kv``: query heads ``g*G ... (g+1)*G - 1``
    (``G = H_q / H_kv``) all read key/value head ``g``. The key/value cache
    of a language model shrinks by the factor ``G``. Returns ``(O, A)``.
    """
    Q, K, V = (as_float_array(a, name, ndim=4) for a, name in ((Q, "Q"), (K, "K"), (V, "V")))
    H_q, H_kv = Q.shape[1], K.shape[1]
    if V.shape[1] != H_kv:
        raise ValueError(f"K and V must have the same number of heads, got {H_kv} and "
                         f"{V.shape[1]}")
    if H_q % H_kv:
        raise ValueError(f"the number of query heads ({H_q}) must be a multiple of the "
                         f"number of key/value heads ({H_kv})")
    group = H_q // H_kv
    return scaled_dot_product_attention(Q, np.repeat(K, group, axis=1),
                                        np.repeat(V, group, axis=1), mask)


class TopKMoE:
    r"""A sparse mixture of ``num_experts`` ReLU feed-forward experts.

    A router scores the experts for each token, :math:`s = x W_r`; the token
    goes to its ``k`` best experts, whose outputs are mixed with the softmax
    of their ``k`` scores (the others get weight 0 and are not computed).
    :meth:`forward` also returns the load-balancing loss of the Switch
    Transformer,

    .. math::
        \mathcal L_{\text{balance}} = E \sum_{e=1}^{E} f_e\, P_e ,

    with :math:`f_e` the fraction of token-to-expert assignments that went to
    expert :math:`e` and :math:`P_e` the mean router probability
    (softmax over all experts) of :math:`e`. It equals 1 whenever the load
    :math:`f` is even, and is at most :math:`E/k` (each token's :math:`k`
    experts are distinct, so :math:`f_e \le 1/k`), reached when every token goes
    with certainty to the same :math:`k` experts (a collapse with uniform probabilities
    still scores 1: the loss needs :math:`P` to follow :math:`f`). Added to
    the training loss, its gradient through :math:`P_e` lowers the scores of
    the overloaded experts and keeps every expert in use.
    """

    def __init__(self, dim: int, hidden: int, num_experts: int, k: int = 2, seed=None):
        self.dim = _positive_int(dim, "dim")
        self.hidden = _positive_int(hidden, "hidden")
        self.num_experts = _positive_int(num_experts, "num_experts")
        self.k = _positive_int(k, "k")
        if self.k > self.num_experts:
            raise ValueError(f"k ({self.k}) must not exceed num_experts ({self.num_experts})")
        rng = make_rng(seed)
        E, D, Hd = self.num_experts, self.dim, self.hidden
        self.W_router = standard_normal(rng, (D, E)) / np.sqrt(D)
        self.W1 = standard_normal(rng, (E, D, Hd)) * np.sqrt(2.0 / D)
        self.W2 = standard_normal(rng, (E, Hd, D)) / np.sqrt(Hd)

    def expert(self, e: int, X):
        """Expert ``e`` applied to the rows of ``X``: ``ReLU(X W1_e) W2_e``."""
        return np.maximum(X @ self.W1[e], 0.0) @ self.W2[e]

    def route(self, X):
        """Return ``(top, gates, probs)``: for each token the indices of its ``k``
        experts ``(T, k)``, their mixing weights ``(T, k)`` and the router's
        probabilities over all experts ``(T, E)``."""
        scores = X @ self.W_router
        top = np.argsort(-scores, axis=1, kind="stable")[:, :self.k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        gates = np.exp(top_scores - top_scores.max(axis=1, keepdims=True))
        gates /= gates.sum(axis=1, keepdims=True)
        probs = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        return top, gates, probs

    def _tokens(self, X):
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.dim:
            raise ValueError(f"X must have shape (T, {self.dim}), got {X.shape}")
        return X

    def forward(self, X):
        """``X`` of shape ``(T, dim)`` (tokens in rows). Returns
        ``(output, balance_loss, tokens_per_expert)``."""
        X = self._tokens(X)
        top, gates, probs = self.route(X)
        out = np.zeros_like(X)
        counts = np.zeros(self.num_experts, dtype=int)
        for e in range(self.num_experts):
            rows, slot = np.nonzero(top == e)       # the tokens routed to expert e
            counts[e] = len(rows)
            if len(rows):
                out[rows] += gates[rows, slot, None] * self.expert(e, X[rows])
        f = counts / counts.sum()
        balance = self.num_experts * float(np.sum(f * probs.mean(axis=0)))
        return out, balance, counts

    __call__ = forward

    def balance_gradient(self, X):
        r"""Gradient of the load-balancing loss with respect to ``W_router``.

        The loads :math:`f_e` count top-k choices and have no gradient, so, as
        in the Switch Transformer, they are held fixed and the gradient flows
        through the mean probabilities :math:`P_e` only. With the router's
        probabilities :math:`p_t = \operatorname{softmax}(x_t W_r)` of the
        :math:`T` tokens,

        .. math::
            \frac{\partial \mathcal L_{\text{balance}}}{\partial s_{tj}}
            = \frac{E}{T}\, p_{tj}\Big(f_j - \sum_e f_e\, p_{te}\Big):

        a step against it lowers the scores of the experts that carry more
        than the token's probability-weighted average load.
        """
        X = self._tokens(X)
        top, _, probs = self.route(X)
        counts = np.bincount(top.ravel(), minlength=self.num_experts)
        f = counts / counts.sum()
        dS = self.num_experts / len(X) * probs * (f[None, :] - (probs @ f)[:, None])
        return X.T @ dS

    def __repr__(self):
        return (f"TopKMoE(dim={self.dim}, hidden={self.hidden}, "
                f"num_experts={self.num_experts}, k={self.k})")
