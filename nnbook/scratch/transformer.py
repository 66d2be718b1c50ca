r"""A pre-norm, causal Transformer block from the book's own NumPy parts.

The block of GPT-2 and of most language models since (Radford et al., 2019):

.. math::
    h = x + \operatorname{MHA}(\operatorname{LN}_1(x), \text{causal}),\qquad
    y = h + W_2\,\operatorname{GELU}(W_1 \operatorname{LN}_2(h) + b_1) + b_2 .

Attention is :class:`nnbook.scratch.MultiHeadAttention`, the normalization
:class:`nnbook.scratch.LayerNorm`, the linear maps :class:`nnbook.scratch.Dense`.
Every piece has a hand-written backward pass, so the block has one too; the
tests check its output and every gradient against the same block built from
``torch.nn`` modules. :class:`ScratchGPT` stacks the blocks into a whole GPT,
tested against :class:`nnbook.models.gpt.GPT`.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng
from .attention import MultiHeadAttention
from .layers import Dense, Layer, Parameter
from .normalization import LayerNorm

_GELU_C = np.sqrt(2.0 / np.pi)


def _gelu_tanh(z):
    """The tanh inside GELU, kept by the block for its backward pass."""
    return np.tanh(_GELU_C * (z + 0.044715 * (z * z * z)))   # z*z*z: much faster than z**3


def gelu(z):
    r"""GELU in the tanh form of GPT-2 (``torch.nn.GELU(approximate="tanh")``):
    :math:`\tfrac12 z\,(1 + \tanh(\sqrt{2/\pi}\,(z + 0.044715 z^3)))`."""
    z = np.asarray(z, dtype=float)
    return 0.5 * z * (1.0 + _gelu_tanh(z))


def gelu_derivative(z, t=None):
    """Derivative of :func:`gelu` with respect to ``z`` (``t``: ``_gelu_tanh(z)`` if known)."""
    z = np.asarray(z, dtype=float)
    t = _gelu_tanh(z) if t is None else t
    return 0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * _GELU_C * (1.0 + 3 * 0.044715 * z * z)


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
        T = _gelu_tanh(Z)
        F = self.fc2.forward(0.5 * Z * (1.0 + T)).reshape(N, L, E)      # gelu(Z)
        self._cache = (Z, T, X.shape)
        return H + F                                       # second residual connection

    def backward(self, dY):
        """Given ``dL/dY``, accumulate every parameter's gradient and return ``dL/dX``."""
        if self._cache is None:
            raise RuntimeError("TransformerBlock.backward called before forward")
        Z, T, shape = self._cache
        dY = as_float_array(dY, "dY")
        if dY.shape != shape:
            raise ValueError(f"dY must have shape {shape}, got {dY.shape}")
        N, L, E = shape
        dZ = self.fc2.backward(dY.reshape(N * L, E)) * gelu_derivative(Z, T)
        dH = dY + self.ln2.backward(self.fc1.backward(dZ).reshape(N, L, E))
        dq, dk, dv = self.attn.backward(dH)
        return dH + self.ln1.backward(dq + dk + dv)     # self-attention: one input, 3 uses

    def __repr__(self):
        return (f"TransformerBlock(embed_dim={self.embed_dim}, "
                f"num_heads={self.attn.num_heads}, ff_dim={self.ff_dim})")


class ScratchGPT(Layer):
    r"""A GPT in NumPy, from the book's parts: token and learned position
    embeddings, ``n_layer`` causal :class:`TransformerBlock` layers, a final
    :class:`~nnbook.scratch.LayerNorm` and a linear read-out,

    .. math::
        X_0 = E_{\text{tok}}[\text{ids}] + E_{\text{pos}}[0..T-1],\qquad
        X_\ell = \operatorname{Block}_\ell(X_{\ell-1}),\qquad
        \text{logits} = \operatorname{LN}(X_L)\,W + b .

    ``forward(ids)`` maps integer ids ``(N, T)`` to logits ``(N, T, vocab_size)``;
    ``backward(dlogits)`` accumulates every parameter's gradient (an embedding
    row collects the gradient of every position where its token occurs).
    :meth:`load_torch_state_dict` copies a :class:`nnbook.models.gpt.GPT` with
    the 2019 recipe (learned positions, LayerNorm, GELU, one key/value head per
    query head), whose biases-free linear maps become zero biases here.
    """

    def __init__(self, vocab_size: int, context: int, n_layer: int = 2, n_head: int = 4,
                 n_embd: int = 64, seed=None):
        for name, v in (("vocab_size", vocab_size), ("context", context),
                        ("n_layer", n_layer), ("n_embd", n_embd)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.vocab_size, self.context = int(vocab_size), int(context)
        rng = make_rng(seed)
        self.tok = Parameter(rng.normal(0.0, 0.02, (self.vocab_size, n_embd)), "tok")
        self.pos = Parameter(rng.normal(0.0, 0.02, (self.context, n_embd)), "pos")
        self.blocks = [TransformerBlock(n_embd, n_head, seed=rng) for _ in range(int(n_layer))]
        self.ln_f = LayerNorm(n_embd)
        self.head = Dense(n_embd, self.vocab_size, init="xavier", seed=rng)
        self._ids = None

    def parameters(self):
        params = [self.tok, self.pos]
        for block in self.blocks:
            params += block.parameters()
        return params + self.ln_f.parameters() + self.head.parameters()

    def zero_grad(self):
        """Set every parameter's gradient to zero."""
        for p in self.parameters():
            p.grad[...] = 0.0

    def forward(self, ids):
        ids = np.asarray(ids)
        if ids.ndim != 2 or not np.issubdtype(ids.dtype, np.integer):
            raise TypeError(f"ids must be a (N, T) array of integer token ids, got "
                            f"{ids.dtype} {ids.shape}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must be in [0, {self.vocab_size - 1}], got ids from "
                             f"{ids.min()} to {ids.max()}")
        N, T = ids.shape
        if T > self.context:
            raise ValueError(f"sequence of {T} tokens is longer than the context of "
                             f"{self.context}")
        X = self.tok.data[ids] + self.pos.data[:T]
        for block in self.blocks:
            X = block.forward(X)
        Z = self.ln_f.forward(X)
        self._ids = ids
        return self.head.forward(Z.reshape(N * T, -1)).reshape(N, T, self.vocab_size)

    def backward(self, dlogits):
        """Given ``dL/dlogits``, accumulate every parameter's gradient."""
        if self._ids is None:
            raise RuntimeError("ScratchGPT.backward called before forward")
        N, T = self._ids.shape
        dlogits = as_float_array(dlogits, "dlogits")
        if dlogits.shape != (N, T, self.vocab_size):
            raise ValueError(f"dlogits must have shape {(N, T, self.vocab_size)}, "
                             f"got {dlogits.shape}")
        dZ = self.head.backward(dlogits.reshape(N * T, -1)).reshape(N, T, -1)
        dX = self.ln_f.backward(dZ)
        for block in reversed(self.blocks):
            dX = block.backward(dX)
        np.add.at(self.tok.grad, self._ids, dX)          # a token used twice collects twice
        self.pos.grad[:T] += dX.sum(axis=0)

    def load_torch_state_dict(self, state_dict):
        """Copy the weights of ``nnbook.models.gpt.GPT(...).state_dict()``
        (tensors or arrays) into this model; return ``self``."""
        def arr(key):
            if key not in state_dict:
                raise KeyError(f"state_dict has no entry {key!r} (the scratch GPT needs "
                               "learned positions, LayerNorm and the GELU MLP)")
            v = state_dict[key]
            return np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v,
                              dtype=float)
        if any(key.endswith("mlp.gate.weight") for key in state_dict):
            raise ValueError("the scratch GPT has a GELU MLP, not SwiGLU")
        C = self.tok.data.shape[1]
        tok, pos = arr("tok.weight"), arr("pos.weight")
        if (tok.shape, pos.shape) != ((self.vocab_size, C), (self.context, C)):
            raise ValueError(f"embeddings must have shapes {(self.vocab_size, C)} and "
                             f"{(self.context, C)}, got {tok.shape} and {pos.shape}")
        self.tok.data, self.pos.data = tok, pos
        for i, block in enumerate(self.blocks):
            key = f"blocks.{i}."
            kv = arr(key + "attn.kv.weight")
            if kv.shape != (2 * C, C):
                raise ValueError(f"{key}attn.kv.weight must have shape {(2 * C, C)} (one "
                                 f"key/value head per query head), got {kv.shape}")
            zeros = np.zeros(C)
            block.attn.load_torch_state_dict({
                "in_proj_weight": np.concatenate([arr(key + "attn.q.weight"), kv]),
                "in_proj_bias": np.zeros(3 * C),
                "out_proj.weight": arr(key + "attn.proj.weight"), "out_proj.bias": zeros})
            for mine, theirs in ((block.ln1, "norm1"), (block.ln2, "norm2")):
                mine.gamma.data = arr(key + theirs + ".weight")
                mine.beta.data = arr(key + theirs + ".bias")
            block.fc1.W.data = arr(key + "mlp.up.weight").T.copy()
            block.fc1.b.data = np.zeros(block.ff_dim)
            block.fc2.W.data = arr(key + "mlp.down.weight").T.copy()
            block.fc2.b.data = zeros.copy()
        self.ln_f.gamma.data, self.ln_f.beta.data = arr("norm.weight"), arr("norm.bias")
        self.head.W.data = arr("head.weight").T.copy()
        self.head.b.data = arr("head.bias")
        for p in self.parameters():
            p.grad = np.zeros_like(p.data)
        return self

    def __repr__(self):
        return (f"ScratchGPT(vocab_size={self.vocab_size}, context={self.context}, "
                f"n_layer={len(self.blocks)}, n_embd={self.tok.data.shape[1]})")
