r"""Attention from scratch in NumPy: scaled dot-product attention, multi-head
attention and sinusoidal positional encodings.

Notation: queries ``Q`` of shape ``(..., L_q, d)``, keys ``K`` of shape
``(..., L_k, d)`` and values ``V`` of shape ``(..., L_k, d_v)``. The leading
axes (batch, heads) are carried along unchanged.

.. math::
    S = \frac{Q K^\top}{\sqrt d},\qquad A = \operatorname{softmax}(S),\qquad
    O = A V .

A *mask* is a boolean array that broadcasts to ``(..., L_q, L_k)``, ``True``
where a query may attend to a key (the convention of
``torch.nn.functional.scaled_dot_product_attention``), or a float array that
is added to the scores (``-inf`` forbids a position).
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng
from .layers import Layer, Parameter


def _check_mask(mask, scores_shape):
    if mask is None:
        return None
    mask = np.asarray(mask)
    if mask.dtype != bool:
        mask = as_float_array(mask, "mask", allow_nan=True)
        if np.any(np.isnan(mask)):
            raise ValueError("mask contains NaN values")
    try:
        fits = np.broadcast_shapes(mask.shape, scores_shape) == tuple(scores_shape)
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"mask of shape {mask.shape} does not broadcast to the "
                         f"attention scores' shape {scores_shape}")
    return mask


def scaled_dot_product_attention(Q, K, V, mask=None):
    """Return ``(O, A)``: the attention output ``O = softmax(Q K^T / sqrt(d)) V``
    and the attention weights ``A`` (each row sums to 1)."""
    Q = as_float_array(Q, "Q")
    K = as_float_array(K, "K")
    V = as_float_array(V, "V")
    if Q.ndim < 2 or K.ndim < 2 or V.ndim < 2:
        raise ValueError("Q, K and V must be at least 2-D (..., length, features), got "
                         f"shapes {Q.shape}, {K.shape}, {V.shape}")
    if Q.shape[-1] != K.shape[-1]:
        raise ValueError(f"Q and K must have the same feature size, got {Q.shape} and {K.shape}")
    if K.shape[-2] != V.shape[-2]:
        raise ValueError("K and V must have the same length (one value per key), got "
                         f"{K.shape} and {V.shape}")
    d = Q.shape[-1]
    S = Q @ np.swapaxes(K, -1, -2)
    S *= 1.0 / np.sqrt(d)
    mask = _check_mask(mask, S.shape)
    if mask is not None:
        # a row whose every key is forbidden would get the weights 0/0; the mask alone
        # says so (the scores are finite), which is cheaper than testing the scores
        forbidden = ~mask if mask.dtype == bool else np.isneginf(mask)
        if np.any(np.all(forbidden, axis=-1)):
            raise ValueError("mask forbids every key for some query: its attention "
                             "weights would be undefined (0/0)")
        if mask.dtype == bool:
            np.copyto(S, -np.inf, where=forbidden)
        else:
            S += mask
    # softmax over the keys, in place: S becomes A
    S -= S.max(axis=-1, keepdims=True)
    np.exp(S, out=S)
    S /= S.sum(axis=-1, keepdims=True)
    return S @ V, S


def scaled_dot_product_attention_backward(dO, Q, K, V, A):
    r"""Gradients ``(dQ, dK, dV)`` of the loss, given ``dO = dL/dO`` and the
    inputs and attention weights ``A`` of the forward pass:

    .. math::
        dV = A^\top dO,\quad dA = dO\,V^\top,\quad
        dS = A \odot \big(dA - \textstyle\sum_j dA_{\cdot j} A_{\cdot j}\big),\quad
        dQ = \frac{dS\,K}{\sqrt d},\quad dK = \frac{dS^\top Q}{\sqrt d}.

    Masked positions have ``A = 0`` and therefore get no gradient.
    """
    dO = as_float_array(dO, "dO")
    expected = A.shape[:-1] + (V.shape[-1],)
    if dO.shape != expected:
        raise ValueError(f"dO must have shape {expected}, got {dO.shape}")
    d = Q.shape[-1]
    dV = np.swapaxes(A, -1, -2) @ dO
    dS = dO @ np.swapaxes(V, -1, -2)                       # dA, then dS in place
    dS -= (dS * A).sum(axis=-1, keepdims=True)             # softmax backward, row by row
    dS *= A
    dS *= 1.0 / np.sqrt(d)
    dQ = dS @ K
    dK = np.swapaxes(dS, -1, -2) @ Q
    # reduce over broadcast batch axes, if Q, K or V had fewer of them
    return (_unbroadcast(dQ, Q.shape), _unbroadcast(dK, K.shape), _unbroadcast(dV, V.shape))


def _unbroadcast(grad, shape):
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, n in enumerate(shape):
        if n == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


class MultiHeadAttention(Layer):
    r"""Multi-head attention, the layer of ``torch.nn.MultiheadAttention``
    (``batch_first=True``).

    Queries, keys and values are projected, split into ``num_heads`` heads of
    size ``head_dim = embed_dim // num_heads``, attended separately, joined
    again and projected by an output matrix:

    .. math::
        \text{head}_h = \operatorname{Attention}(X_q W_q^{(h)}, X_k W_k^{(h)},
        X_v W_v^{(h)}),\qquad
        \operatorname{MHA} = [\text{head}_1,\dots,\text{head}_H]\,W_o + b_o .

    Weights are stored in the book's convention ``X @ W`` (shape ``(in, out)``);
    :meth:`load_torch_state_dict` transposes PyTorch's ``(out, in)`` matrices.
    """

    def __init__(self, embed_dim: int, num_heads: int, seed=None):
        for name, v in (("embed_dim", embed_dim), ("num_heads", num_heads)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        self.embed_dim, self.num_heads = int(embed_dim), int(num_heads)
        self.head_dim = self.embed_dim // self.num_heads
        rng = make_rng(seed)
        E = self.embed_dim
        bound = np.sqrt(6.0 / (E + E))                     # Xavier, as torch does
        def weight(name):
            u = rng.rand(E, E) if isinstance(rng, np.random.RandomState) else rng.random((E, E))
            return Parameter((2 * u - 1) * bound, name)
        self.W_q, self.W_k, self.W_v, self.W_o = (weight(n) for n in ("W_q", "W_k", "W_v", "W_o"))
        self.b_q, self.b_k, self.b_v, self.b_o = (Parameter(np.zeros(E), n)
                                                  for n in ("b_q", "b_k", "b_v", "b_o"))
        self._cache = None

    def parameters(self):
        return [self.W_q, self.b_q, self.W_k, self.b_k, self.W_v, self.b_v, self.W_o, self.b_o]

    # -- PyTorch interoperability ------------------------------------------
    def load_torch_state_dict(self, state_dict):
        """Copy weights from ``torch.nn.MultiheadAttention(...).state_dict()``
        (tensors or arrays; ``in_proj_weight`` holds ``W_q, W_k, W_v`` stacked)."""
        def arr(key):
            if key not in state_dict:
                raise KeyError(f"state_dict has no entry {key!r}")
            v = state_dict[key]
            v = v.detach().cpu().numpy() if hasattr(v, "detach") else v
            return np.asarray(v, dtype=float)
        E = self.embed_dim
        W_in, b_in = arr("in_proj_weight"), arr("in_proj_bias")
        if W_in.shape != (3 * E, E):
            raise ValueError(f"in_proj_weight must have shape {(3 * E, E)}, got {W_in.shape}")
        for i, (W, b) in enumerate(((self.W_q, self.b_q), (self.W_k, self.b_k),
                                    (self.W_v, self.b_v))):
            W.data = W_in[i * E:(i + 1) * E].T.copy()
            b.data = b_in[i * E:(i + 1) * E].copy()
        self.W_o.data = arr("out_proj.weight").T.copy()
        self.b_o.data = arr("out_proj.bias").copy()
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)
        return self

    def torch_state_dict(self):
        """The weights as NumPy arrays under PyTorch's names and layout."""
        return {
            "in_proj_weight": np.concatenate([self.W_q.data.T, self.W_k.data.T,
                                              self.W_v.data.T]),
            "in_proj_bias": np.concatenate([self.b_q.data, self.b_k.data, self.b_v.data]),
            "out_proj.weight": self.W_o.data.T.copy(),
            "out_proj.bias": self.b_o.data.copy(),
        }

    # -- forward and backward ----------------------------------------------
    def _split(self, X):          # (N, L, E) -> (N, H, L, head_dim)
        N, L, _ = X.shape
        return X.reshape(N, L, self.num_heads, self.head_dim).transpose(0, 2, 1, 3)

    def _join(self, X):           # (N, H, L, head_dim) -> (N, L, E)
        N, H, L, Dh = X.shape
        return X.transpose(0, 2, 1, 3).reshape(N, L, H * Dh)

    def forward(self, query, key=None, value=None, mask=None):
        """Return ``(output, weights)``: ``output`` of shape ``(N, L_q, E)`` and
        the attention weights averaged over heads, ``(N, L_q, L_k)`` (as torch
        returns them); per-head weights are kept in ``self.head_weights``.
        ``key`` and ``value`` default to ``query`` (self-attention). ``mask``
        is ``True`` where attending is allowed (broadcast to ``(N, H, L_q, L_k)``);
        note that ``torch.nn.MultiheadAttention``'s boolean ``attn_mask`` uses
        the opposite convention (``True`` = forbidden)."""
        key = query if key is None else key
        value = key if value is None else value
        E = self.embed_dim
        arrays = []
        for name, X in (("query", query), ("key", key), ("value", value)):
            X = as_float_array(X, name, ndim=3)
            if X.shape[-1] != E:
                raise ValueError(f"{name} must have shape (N, L, {E}), got {X.shape}")
            arrays.append(X)
        Xq, Xk, Xv = arrays
        if Xk.shape[:2] != Xv.shape[:2] or Xq.shape[0] != Xk.shape[0]:
            raise ValueError("query, key and value must share the batch size, and key and "
                             f"value the length; got {Xq.shape}, {Xk.shape}, {Xv.shape}")
        Q = self._split(Xq @ self.W_q.data + self.b_q.data)
        K = self._split(Xk @ self.W_k.data + self.b_k.data)
        V = self._split(Xv @ self.W_v.data + self.b_v.data)
        O, A = scaled_dot_product_attention(Q, K, V, mask)
        concat = self._join(O)
        self._cache = (Xq, Xk, Xv, Q, K, V, A, concat)
        self.head_weights = A
        return concat @ self.W_o.data + self.b_o.data, A.mean(axis=1)

    def __call__(self, query, key=None, value=None, mask=None):
        return self.forward(query, key, value, mask)

    def backward(self, dOut):
        """Given ``dL/d(output)``, accumulate every parameter gradient and
        return ``(d_query, d_key, d_value)``. For self-attention (one input used
        three times) the input's gradient is their sum."""
        if self._cache is None:
            raise RuntimeError("MultiHeadAttention.backward called before forward")
        Xq, Xk, Xv, Q, K, V, A, concat = self._cache
        dOut = as_float_array(dOut, "dOut")
        if dOut.shape != concat.shape:
            raise ValueError(f"dOut must have shape {concat.shape}, got {dOut.shape}")
        E = self.embed_dim
        self.W_o.grad += concat.reshape(-1, E).T @ dOut.reshape(-1, E)
        self.b_o.grad += dOut.sum(axis=(0, 1))
        dO = self._split(dOut @ self.W_o.data.T)
        dQ, dK, dV = scaled_dot_product_attention_backward(dO, Q, K, V, A)
        grads = []
        for X, dP, W, b in ((Xq, dQ, self.W_q, self.b_q), (Xk, dK, self.W_k, self.b_k),
                            (Xv, dV, self.W_v, self.b_v)):
            dP = self._join(dP)
            W.grad += X.reshape(-1, E).T @ dP.reshape(-1, E)
            b.grad += dP.sum(axis=(0, 1))
            grads.append(dP @ W.data.T)
        return tuple(grads)

    def __repr__(self):
        return f"MultiHeadAttention(embed_dim={self.embed_dim}, num_heads={self.num_heads})"


def sinusoidal_positional_encoding(length: int, dim: int) -> np.ndarray:
    r"""The Transformer's positional encodings, shape ``(length, dim)``:

    .. math::
        PE_{p, 2i} = \sin\!\big(p / 10000^{2i/d}\big),\qquad
        PE_{p, 2i+1} = \cos\!\big(p / 10000^{2i/d}\big).

    Each pair of columns is a sine and a cosine of a different wavelength,
    from :math:`2\pi` to :math:`10000\cdot 2\pi`, so each position gets a unique
    code and a fixed offset is a linear (rotation) map of the code.
    """
    for name, v in (("length", length), ("dim", dim)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise ValueError(f"{name} must be a positive integer, got {v!r}")
    pos = np.arange(length)[:, None]
    i = np.arange(0, dim, 2)[None, :]
    angle = pos / np.power(10000.0, i / dim)
    pe = np.zeros((length, dim))
    pe[:, 0::2] = np.sin(angle)
    pe[:, 1::2] = np.cos(angle[:, : dim // 2])
    return pe
