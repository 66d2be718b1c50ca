r"""A pre-norm, causal Transformer block from the book's own NumPy parts.

The block of GPT-2 and of most language models since (Radford et al., 2019):

.. math::
    h = x + \operatorname{MHA}(\operatorname{LN}_1(x), \text{causal}),\qquad
    y = h + W_2\,\operatorname{GELU}(W_1 \operatorname{LN}_2(h) + b_1) + b_2 .

Attention is :class:`nnbook.scratch.MultiHeadAttention`, the normalization
:class:`nnbook.scratch.LayerNorm`, the linear maps :class:`nnbook.scratch.Dense`.
Every piece has a hand-written backward pass, so the block has one too; the
tests check its output and every gradient against the same block built from
``torch.nn`` modules.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng
from .attention import MultiHeadAttention
from .layers import Dense, Layer
from .normalization import LayerNorm

_GELU_C = np.sqrt(2.0 / np.pi)


def gelu(z):
    r"""GELU in the tanh form of GPT-2 (``torch.nn.GELU(approximate="tanh")``):
    :math:`\tfrac12 z\,(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715 z^3)))`."""
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1.0 + np.tanh(_GELU_C * (z + 0.044715 * z ** 3)))


def gelu_derivative(z):
    """Derivative of :func:`gelu` with respect to ``z``."""
    z = np.asarray(z, dtype=float)
    t = np.tanh(_GELU_C * (z + 0.044715 * z ** 3))
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t ** 2) * _GELU_C * (1.0 + 3 * 0.044715 * z ** 2)


def causal_mask(length: int) -> np.ndarray:
    """``(length, length)`` boolean mask, ``True`` where query ``i`` may see key
    ``j`` (that is, ``j <= i``): a language model must not read the future."""
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise ValueError(f"length must be a positive integer, got {length!r}")
    return np.tril(np.ones((length, length), dtype=bool))


class TransformerBlock(Layer):
    """Pre-norm causal Transformer block on ``(N, L, embed_dim)`` inputs.

    ``ff_dim`` defaults to ``4 * embed_dim``; ``embed_dim`` must be divisible
    by ``num_heads``. ``causal=False`` gives an encoder block (no mask).
    """

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int | None = None,
                 causal: bool = True, seed=None):
        self.attn = MultiHeadAttention(embed_dim, num_heads, seed=seed)   # validates both
        self.embed_dim = self.attn.embed_dim
        ff_dim = 4 * self.embed_dim if ff_dim is None else ff_dim
        if isinstance(ff_dim, bool) or not isinstance(ff_dim, (int, np.integer)) or ff_dim < 1:
            raise ValueError(f"ff_dim must be a positive integer, got {ff_dim!r}")
        self.ff_dim, self.causal = int(ff_dim), bool(causal)
        rng = make_rng(seed)
        self.ln1 = LayerNorm(self.embed_dim)
        self.ln2 = LayerNorm(self.embed_dim)
        self.fc1 = Dense(self.embed_dim, self.ff_dim, init="xavier", seed=rng)
        self.fc2 = Dense(self.ff_dim, self.embed_dim, init="xavier", seed=rng)
        self._cache = None

    def parameters(self):
        return (self.ln1.parameters() + self.attn.parameters() + self.ln2.parameters()
                + self.fc1.parameters() + self.fc2.parameters())

    def zero_grad(self):
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad[...] = 0.0

    def forward(self, X):
        X = as_float_array(X, "X", ndim=3)
        if X.shape[-1] != self.embed_dim:
            raise ValueError(f"X must have shape (N, L, {self.embed_dim}), got {X.shape}")
        N, L, E = X.shape
        mask = causal_mask(L) if self.causal else None
        a, _ = self.attn(self.ln1.forward(X), mask=mask)
        H = X + a                                          # first residual connection
        Z = self.fc1.forward(self.ln2.forward(H).reshape(N * L, E))
        F = self.fc2.forward(gelu(Z)).reshape(N, L, E)
        self._cache = (Z, X.shape)
        return H + F                                       # second residual connection

    def backward(self, dY):
        """Given ``dL/dY``, accumulate every parameter's gradient and return ``dL/dX``."""
        if self._cache is None:
            raise RuntimeError("TransformerBlock.backward called before forward")
        Z, shape = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != shape:
            raise ValueError(f"dY must have shape {shape}, got {dY.shape}")
        N, L, E = shape
        dZ = self.fc2.backward(dY.reshape(N * L, E)) * gelu_derivative(Z)
        dH = dY + self.ln2.backward(self.fc1.backward(dZ).reshape(N, L, E))
        dq, dk, dv = self.attn.backward(dH)
        return dH + self.ln1.backward(dq + dk + dv)     # self-attention: one input, 3 uses

    def __repr__(self):
        return (f"TransformerBlock(embed_dim={self.embed_dim}, "
                f"num_heads={self.attn.num_heads}, ff_dim={self.ff_dim})")
