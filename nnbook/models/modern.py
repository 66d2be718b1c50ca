"""Modern building blocks in PyTorch: deep MLPs with and without residual
connections and normalization, a pre-norm Transformer encoder block, and a
small Transformer that learns to reverse digit sequences."""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from ..scratch.attention import sinusoidal_positional_encoding
from ..training import fit, make_loader


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


# -- depth: plain versus residual ------------------------------------------------
class DeepMLP(nn.Module):
    """``depth`` hidden layers of ``width`` units between an input and an output layer.

    Each hidden layer computes ``f(h) = ReLU(Linear(norm(h)))``. A plain network
    replaces ``h`` by ``f(h)``; a residual network *adds* it, ``h + f(h)``, so
    that the identity is always one step away and gradients reach the first
    layers undiminished through the skip connections. (The residual branches
    start with weights scaled by ``1/sqrt(depth)`` so that the sum of ``depth``
    of them does not blow up the activations.) ``norm`` is ``None``,
    ``"batch"`` (``BatchNorm1d``) or ``"layer"`` (``LayerNorm``).
    """

    def __init__(self, in_features: int, out_features: int, depth: int = 20,
                 width: int = 32, residual: bool = False, norm: str | None = None):
        super().__init__()
        in_features = _positive_int(in_features, "in_features")
        out_features = _positive_int(out_features, "out_features")
        self.depth = _positive_int(depth, "depth")
        width = _positive_int(width, "width")
        if norm not in (None, "batch", "layer"):
            raise ValueError(f"norm must be None, 'batch' or 'layer', got {norm!r}")
        self.residual, self.norm = bool(residual), norm
        self.in_features = in_features
        self.input = nn.Linear(in_features, width)
        self.hidden = nn.ModuleList(nn.Linear(width, width) for _ in range(self.depth))
        make_norm = {None: lambda: nn.Identity(), "batch": lambda: nn.BatchNorm1d(width),
                     "layer": lambda: nn.LayerNorm(width)}[norm]
        self.norms = nn.ModuleList(make_norm() for _ in range(self.depth))
        self.output = nn.Linear(width, out_features)
        if self.residual:
            # Each branch adds a little to h; scaling the branches' initial weights
            # by 1/sqrt(depth) keeps the sum of `depth` of them at the scale of h
            # (the trick of GPT-2 and of "Fixup" initialization).
            with torch.no_grad():
                for linear in self.hidden:
                    linear.weight.mul_(1.0 / math.sqrt(self.depth))

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (N, {self.in_features}), got {tuple(x.shape)}")
        h = torch.relu(self.input(x))
        for linear, norm in zip(self.hidden, self.norms):
            f = torch.relu(linear(norm(h)))
            h = h + f if self.residual else f
        return self.output(h)


def train_classifier(model, X, y, epochs: int = 60, batch_size: int = 64, lr: float = 0.05,
                     momentum: float = 0.9, seed: int = 0) -> list[float]:
    """Train ``model`` with SGD (momentum) and cross-entropy through the book's
    shared loop (:func:`nnbook.training.fit`); return the mean training loss
    of each epoch. Deterministic given ``seed``."""
    loader = make_loader(X, y, batch_size=batch_size, seed=seed)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    history = fit(model, loader, nn.functional.cross_entropy, optimizer,
                  epochs=_positive_int(epochs, "epochs"), print_every=0)
    return history["loss"]


# -- the Transformer -------------------------------------------------------------
class TransformerEncoderBlock(nn.Module):
    r"""A pre-norm Transformer encoder block:

    .. math::
        h = x + \operatorname{MHA}(\operatorname{LN}(x)),\qquad
        y = h + \operatorname{FFN}(\operatorname{LN}(h)),

    with ``FFN(z) = Linear(ReLU(Linear(z)))``. The attention weights of the
    last call (one map per head) are kept in ``self.attn_weights``.
    """

    def __init__(self, embed_dim: int, num_heads: int, ff_dim: int | None = None,
                 dropout: float = 0.0):
        super().__init__()
        embed_dim = _positive_int(embed_dim, "embed_dim")
        num_heads = _positive_int(num_heads, "num_heads")
        if embed_dim % num_heads:
            raise ValueError(f"embed_dim ({embed_dim}) must be divisible by num_heads "
                             f"({num_heads})")
        ff_dim = 4 * embed_dim if ff_dim is None else _positive_int(ff_dim, "ff_dim")
        self.embed_dim = embed_dim
        self.norm1 = nn.LayerNorm(embed_dim)
        self.attn = nn.MultiheadAttention(embed_dim, num_heads, dropout=dropout,
                                          batch_first=True)
        self.norm2 = nn.LayerNorm(embed_dim)
        self.ff = nn.Sequential(nn.Linear(embed_dim, ff_dim), nn.ReLU(),
                                nn.Linear(ff_dim, embed_dim))
        self.dropout = nn.Dropout(dropout)
        self.attn_weights = None

    def forward(self, x, attn_mask=None):
        if x.ndim != 3 or x.shape[-1] != self.embed_dim:
            raise ValueError(f"x must have shape (N, L, {self.embed_dim}), got {tuple(x.shape)}")
        z = self.norm1(x)
        a, w = self.attn(z, z, z, attn_mask=attn_mask, need_weights=True,
                         average_attn_weights=False)
        self.attn_weights = w.detach()
        h = x + self.dropout(a)
        return h + self.dropout(self.ff(self.norm2(h)))


def sinusoidal_positions(length: int, dim: int) -> torch.Tensor:
    """The Transformer's fixed sinusoidal positional encodings, ``(length, dim)``,
    from :func:`nnbook.scratch.sinusoidal_positional_encoding`."""
    return torch.as_tensor(sinusoidal_positional_encoding(length, dim), dtype=torch.float32)


class SequenceTransformer(nn.Module):
    """Token embedding + positional encoding, ``num_layers`` encoder blocks, a
    final LayerNorm and a linear layer that predicts one token per position.

    Input: integer tokens ``(N, L)`` with ``L <= max_len``; output: logits
    ``(N, L, vocab_size)``.
    """

    def __init__(self, vocab_size: int, max_len: int, embed_dim: int = 32, num_heads: int = 2,
                 num_layers: int = 2, ff_dim: int | None = None, dropout: float = 0.0):
        super().__init__()
        self.vocab_size = _positive_int(vocab_size, "vocab_size")
        self.max_len = _positive_int(max_len, "max_len")
        embed_dim = _positive_int(embed_dim, "embed_dim")
        self.embed = nn.Embedding(self.vocab_size, embed_dim)
        self.register_buffer("positions", sinusoidal_positions(self.max_len, embed_dim))
        self.blocks = nn.ModuleList(TransformerEncoderBlock(embed_dim, num_heads, ff_dim, dropout)
                                    for _ in range(_positive_int(num_layers, "num_layers")))
        self.norm = nn.LayerNorm(embed_dim)
        self.head = nn.Linear(embed_dim, self.vocab_size)
        self.embed_dim = embed_dim

    def forward(self, tokens):
        if tokens.ndim != 2:
            raise ValueError(f"tokens must have shape (N, L), got {tuple(tokens.shape)}")
        if tokens.dtype not in (torch.int64, torch.int32):
            raise TypeError(f"tokens must be integer class indices, got {tokens.dtype}")
        L = tokens.shape[1]
        if L > self.max_len:
            raise ValueError(f"sequences must have at most {self.max_len} tokens, got {L}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(f"tokens must be in [0, {self.vocab_size - 1}]")
        h = self.embed(tokens) * math.sqrt(self.embed_dim) + self.positions[:L]
        for block in self.blocks:
            h = block(h)
        return self.head(self.norm(h))

    @torch.no_grad()
    def attention_maps(self, tokens) -> list[torch.Tensor]:
        """Per-layer attention weights, each ``(N, num_heads, L, L)``."""
        was_training = self.training
        self.eval()
        self(tokens)
        self.train(was_training)
        return [block.attn_weights for block in self.blocks]


def make_reversal_data(n: int, seq_len: int = 8, vocab_size: int = 10, seed: int = 0):
    """``n`` random digit sequences ``X`` (int64, ``(n, seq_len)``) and their
    reversals ``Y``: the task "read a sequence, write it backwards"."""
    n, seq_len = _positive_int(n, "n"), _positive_int(seq_len, "seq_len")
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, _positive_int(vocab_size, "vocab_size"), (n, seq_len), generator=gen)
    return X, X.flip(1)


def token_cross_entropy(logits, targets):
    """Cross-entropy of per-token scores ``(N, T, V)`` against ``(N, T)`` labels."""
    return nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def train_sequence_model(model, X, Y, epochs: int = 10, batch_size: int = 64, lr: float = 3e-3,
                         seed: int = 0, print_every: int = 0) -> list[float]:
    """Train a per-token classifier with Adam and :func:`token_cross_entropy`
    through :func:`nnbook.training.fit`; return the mean training loss of
    each epoch."""
    loader = make_loader(X, Y, batch_size=batch_size, seed=seed, x_dtype=torch.long)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = fit(model, loader, token_cross_entropy, optimizer,
                  epochs=_positive_int(epochs, "epochs"), print_every=print_every)
    return history["loss"]


@torch.no_grad()
def sequence_accuracy(model, X, Y) -> tuple[float, float]:
    """``(per_token, per_sequence)`` accuracy: the fraction of tokens predicted
    right, and the fraction of sequences with every token right."""
    was_training = model.training
    model.eval()
    correct = model(X).argmax(-1) == Y
    model.train(was_training)
    return correct.float().mean().item(), correct.all(dim=1).float().mean().item()


# -- depth, fairly: He init and batch norm in both networks ------------------------
class ResidualBlock(nn.Module):
    r"""The pre-activation residual block of He et al. (2016), for vectors:

    .. math::
        h \mapsto h + W_2\,\operatorname{ReLU}(\operatorname{BN}(
        W_1\,\operatorname{ReLU}(\operatorname{BN}(h)))) .

    The branch ends in a linear layer, so it can add negative values: the
    residual stream can shrink as well as grow. With ``residual=False`` the
    same two layers are applied without the skip connection (a plain pair).
    """

    def __init__(self, width: int, residual: bool = True):
        super().__init__()
        width = _positive_int(width, "width")
        self.residual = bool(residual)
        self.branch = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width),
                                    nn.BatchNorm1d(width), nn.ReLU(), nn.Linear(width, width))

    def forward(self, h):
        return h + self.branch(h) if self.residual else self.branch(h)


class DepthNet(nn.Module):
    """An input layer, ``n_layers // 2`` two-layer blocks (:class:`ResidualBlock`,
    with or without the skip) and a BN-ReLU-linear read-out: ``n_layers + 2``
    linear layers in all. Every linear layer starts with He initialisation
    (``kaiming_normal_``, fan-in, zero bias), the one the book recommends for
    ReLU networks, and every block has batch normalisation, so a plain and a
    residual network of the same depth differ only in the skip connections.
    """

    def __init__(self, in_features: int, out_features: int, n_layers: int = 8,
                 width: int = 64, residual: bool = True):
        super().__init__()
        self.in_features = _positive_int(in_features, "in_features")
        n_layers = _positive_int(n_layers, "n_layers")
        if n_layers % 2:
            raise ValueError(f"n_layers must be even (blocks hold two layers), got {n_layers}")
        width = _positive_int(width, "width")
        self.input = nn.Linear(self.in_features, width)
        self.blocks = nn.ModuleList(ResidualBlock(width, residual) for _ in range(n_layers // 2))
        self.output = nn.Sequential(nn.BatchNorm1d(width), nn.ReLU(),
                                    nn.Linear(width, _positive_int(out_features, "out_features")))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
                nn.init.zeros_(m.bias)

    def hidden_linears(self) -> list[nn.Linear]:
        """The ``n_layers`` linear layers inside the blocks, input side first."""
        return [m for block in self.blocks for m in block.branch if isinstance(m, nn.Linear)]

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"x must have shape (N, {self.in_features}), got {tuple(x.shape)}")
        h = self.input(x)
        for block in self.blocks:
            h = block(h)
        return self.output(h)
