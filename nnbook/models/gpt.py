"""A small GPT: a decoder-only Transformer language model, in the spirit of nanoGPT.

One readable file: a config dataclass, then :class:`CausalSelfAttention`,
:class:`MLP`, :class:`Block` and :class:`GPT`, with :meth:`GPT.generate`
(with or without a key/value cache) beside the model and the weight
initialisation in one place. The config switches between the 2019 recipe
(LayerNorm, GELU, learned positions: GPT-2) and today's (RMSNorm, SwiGLU,
rotary positions, grouped-query attention: LLaMA and most open models since
2023), so that the book can ablate them one at a time.

Also here: the training loop, the held-out evaluation in bits per character
and an interpolated n-gram model, the baseline every language model must beat.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _choice(value, name, options):
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


@dataclass
class GPTConfig:
    """Sizes and design choices of a :class:`GPT`."""

    vocab_size: int
    context: int = 64           # the longest sequence the model can read
    n_layer: int = 2
    n_head: int = 4
    n_kv_head: int | None = None  # None: as many as n_head (no grouping)
    n_embd: int = 64
    norm: str = "layer"         # "layer" (LayerNorm) or "rms" (RMSNorm)
    mlp: str = "gelu"           # "gelu" (4x MLP) or "swiglu" (gated, same parameter count)
    positions: str = "learned"  # "learned" (GPT-2) or "rope" (rotary)
    dropout: float = 0.0

    def __post_init__(self):
        for name in ("vocab_size", "context", "n_layer", "n_head", "n_embd"):
            setattr(self, name, _positive_int(getattr(self, name), name))
        self.n_kv_head = (self.n_head if self.n_kv_head is None
                          else _positive_int(self.n_kv_head, "n_kv_head"))
        if self.n_embd % self.n_head:
            raise ValueError(f"n_embd ({self.n_embd}) must be divisible by n_head "
                             f"({self.n_head})")
        if self.n_head % self.n_kv_head:
            raise ValueError(f"n_head ({self.n_head}) must be a multiple of n_kv_head "
                             f"({self.n_kv_head})")
        if self.positions == "rope" and (self.n_embd // self.n_head) % 2:
            raise ValueError(f"rotary positions need an even head size, got "
                             f"{self.n_embd // self.n_head}")
        _choice(self.norm, "norm", ("layer", "rms"))
        _choice(self.mlp, "mlp", ("gelu", "swiglu"))
        _choice(self.positions, "positions", ("learned", "rope"))
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")


def rotary_embedding(x: torch.Tensor, offset: int = 0, base: float = 10000.0) -> torch.Tensor:
    """Rotate each feature pair of ``x`` ``(N, H, T, d)`` by ``position * theta_i``,
    positions ``offset .. offset + T - 1`` (the torch twin of
    :func:`nnbook.scratch.blocks.rotary_embedding`)."""
    T, d = x.shape[-2:]
    theta = base ** (-torch.arange(0, d, 2, dtype=torch.float64, device=x.device) / d)
    angle = torch.arange(offset, offset + T, dtype=torch.float64,
                         device=x.device)[:, None] * theta
    cos, sin = angle.cos().to(x.dtype), angle.sin().to(x.dtype)
    x_even, x_odd = x[..., 0::2], x[..., 1::2]
    return torch.stack((x_even * cos - x_odd * sin, x_even * sin + x_odd * cos),
                       dim=-1).flatten(-2)


class CausalSelfAttention(nn.Module):
    """Multi-head causal self-attention with optional grouped key/value heads,
    rotary positions and a key/value cache."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.n_head, self.n_kv_head = cfg.n_head, cfg.n_kv_head
        self.head_dim = cfg.n_embd // cfg.n_head
        self.rope = cfg.positions == "rope"
        self.q = nn.Linear(cfg.n_embd, cfg.n_head * self.head_dim, bias=False)
        self.kv = nn.Linear(cfg.n_embd, 2 * cfg.n_kv_head * self.head_dim, bias=False)
        self.proj = nn.Linear(cfg.n_embd, cfg.n_embd, bias=False)
        self.dropout = cfg.dropout

    def forward(self, x, cache: dict | None = None):
        """``x`` is ``(N, T, C)``. With ``cache`` (a dict, possibly empty), the
        keys and values of earlier positions are read from it and this call's
        are appended, so that generation computes each position only once."""
        N, T, C = x.shape
        q = self.q(x).view(N, T, self.n_head, self.head_dim).transpose(1, 2)
        k, v = self.kv(x).view(N, T, 2, self.n_kv_head, self.head_dim).permute(2, 0, 3, 1, 4)
        past = 0 if not cache else cache["k"].shape[2]
        if self.rope:
            q, k = rotary_embedding(q, past), rotary_embedding(k, past)
        if cache is not None:
            if past:
                k = torch.cat((cache["k"], k), dim=2)
                v = torch.cat((cache["v"], v), dim=2)
            cache["k"], cache["v"] = k, v
        if past == 0:
            mask, causal = None, True
        else:           # query i (absolute position past + i) sees keys 0 .. past + i
            mask = torch.ones(T, past + T, dtype=torch.bool, device=x.device).tril(past)
            causal = False
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=causal,
            dropout_p=self.dropout if self.training else 0.0,
            enable_gqa=self.n_kv_head != self.n_head)
        return self.proj(y.transpose(1, 2).reshape(N, T, C))


class MLP(nn.Module):
    """The position-wise feed-forward layer: ``W2 GELU(W1 x)`` with a hidden
    width of ``4 C`` (GPT-2), or SwiGLU ``W2 (SiLU(Wg x) * Wu x)`` with a hidden
    width of ``8 C / 3``, which keeps the parameter count the same (LLaMA)."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        C = cfg.n_embd
        self.swiglu = cfg.mlp == "swiglu"
        hidden = int(8 * C / 3) if self.swiglu else 4 * C
        self.up = nn.Linear(C, hidden, bias=False)
        self.gate = nn.Linear(C, hidden, bias=False) if self.swiglu else None
        self.down = nn.Linear(hidden, C, bias=False)

    def forward(self, x):
        if self.swiglu:
            return self.down(F.silu(self.gate(x)) * self.up(x))
        return self.down(F.gelu(self.up(x), approximate="tanh"))


def _norm(cfg: GPTConfig) -> nn.Module:
    if cfg.norm == "layer":
        return nn.LayerNorm(cfg.n_embd)
    return nn.RMSNorm(cfg.n_embd, eps=1e-6)


class Block(nn.Module):
    """Pre-norm Transformer block: ``x + attn(norm(x))``, then ``x + mlp(norm(x))``."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        self.norm1, self.attn = _norm(cfg), CausalSelfAttention(cfg)
        self.norm2, self.mlp = _norm(cfg), MLP(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, cache=None):
        x = x + self.drop(self.attn(self.norm1(x), cache))
        return x + self.drop(self.mlp(self.norm2(x)))


class GPT(nn.Module):
    """Decoder-only Transformer: token (and, unless rotary, position)
    embeddings, ``n_layer`` blocks, a final norm, and a linear read-out.
    ``forward(idx)`` maps ids ``(N, T)`` to logits ``(N, T, vocab_size)``: at
    position ``t`` the scores of the character
    that follows ``idx[:, :t+1]``."""

    def __init__(self, cfg: GPTConfig):
        super().__init__()
        if not isinstance(cfg, GPTConfig):
            raise TypeError(f"cfg must be a GPTConfig, got {type(cfg).__name__}")
        self.cfg = cfg
        self.tok = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.pos = (nn.Embedding(cfg.context, cfg.n_embd) if cfg.positions == "learned"
                    else None)
        self.drop = nn.Dropout(cfg.dropout)
        self.blocks = nn.ModuleList(Block(cfg) for _ in range(cfg.n_layer))
        self.norm = _norm(cfg)
        # GPT-2 ties the read-out to the token embedding (one matrix for both),
        # which saves 38.6M of GPT-2 small's 124M parameters. With 75 characters
        # it would save only 75 * n_embd, and it pulls the direct-path score of
        # "b after a", about e_b . norm(e_a), towards symmetry in a and b, which
        # character statistics are not ("qu" is common, "uq" is not): untied.
        self.head = nn.Linear(cfg.n_embd, cfg.vocab_size, bias=True)
        self.apply(self._init_weights)
        for name, p in self.named_parameters():        # GPT-2: scale the residual writes
            if name.endswith(("proj.weight", "down.weight")):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, 0.0, 0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def num_parameters(self) -> int:
        """The number of parameters (every tensor's ``numel``, summed)."""
        return sum(p.numel() for p in self.parameters())

    def _check_ids(self, idx, past: int = 0):
        if not torch.is_tensor(idx) or idx.dtype != torch.long or idx.ndim != 2:
            raise TypeError("idx must be a (N, T) int64 tensor of token ids, got "
                            f"{type(idx).__name__} {getattr(idx, 'dtype', '')} "
                            f"{tuple(getattr(idx, 'shape', ()))}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= self.cfg.vocab_size):
            raise ValueError(f"token ids must be in [0, {self.cfg.vocab_size - 1}], got ids "
                             f"from {int(idx.min())} to {int(idx.max())}")
        if past + idx.shape[1] > self.cfg.context:
            raise ValueError(f"sequence of {past + idx.shape[1]} tokens is longer than the "
                             f"model's context of {self.cfg.context}")

    def forward(self, idx, caches: list[dict] | None = None):
        """Logits for every position. ``caches`` (one dict per block, from
        :meth:`new_cache`) turns on the key/value cache: ``idx`` then holds only
        the new tokens, and the blocks attend to the cached ones as well."""
        past = caches[0]["k"].shape[2] if caches and caches[0] else 0
        self._check_ids(idx, past)
        x = self.tok(idx)
        if self.pos is not None:
            x = x + self.pos(torch.arange(past, past + idx.shape[1], device=idx.device))
        x = self.drop(x)
        for i, block in enumerate(self.blocks):
            x = block(x, None if caches is None else caches[i])
        return self.head(self.norm(x))

    @torch.no_grad()
    def attention_maps(self, idx) -> list[torch.Tensor]:
        """The attention weights of every block, each ``(N, n_head, T, T)``:
        row ``i`` of a head's map is the softmax over the keys ``j <= i`` that
        query ``i`` mixes (zero above the diagonal). The fused attention of
        :meth:`forward` does not return them, so they are recomputed here from
        the same queries and keys."""
        self._check_ids(idx)
        was_training = self.training
        self.eval()
        T = idx.shape[1]
        x = self.tok(idx)
        if self.pos is not None:
            x = x + self.pos(torch.arange(T, device=idx.device))
        allowed = torch.ones(T, T, dtype=torch.bool, device=idx.device).tril()
        maps = []
        for block in self.blocks:
            attn, z = block.attn, block.norm1(x)
            N = z.shape[0]
            q = attn.q(z).view(N, T, attn.n_head, attn.head_dim).transpose(1, 2)
            k = attn.kv(z).view(N, T, 2, attn.n_kv_head, attn.head_dim)[:, :, 0]
            k = k.transpose(1, 2)                               # the keys: (N, H_kv, T, d)
            if attn.rope:
                q, k = rotary_embedding(q), rotary_embedding(k)
            k = k.repeat_interleave(attn.n_head // attn.n_kv_head, dim=1)
            scores = (q @ k.transpose(-1, -2)) / math.sqrt(attn.head_dim)
            maps.append(torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1))
            x = block(x)
        self.train(was_training)
        return maps

    def new_cache(self) -> list[dict]:
        """An empty key/value cache, one dict per block."""
        return [{} for _ in self.blocks]

    @torch.no_grad()
    def generate(self, idx, n_new: int, temperature: float = 1.0, *, use_cache: bool = True,
                 generator: torch.Generator | None = None):
        """Append ``n_new`` sampled tokens to ``idx`` ``(N, T)`` and return the
        whole sequence. Without the cache, step ``t`` re-reads all ``t``
        tokens (so ``T`` new tokens cost work growing like ``T^2``); with it,
        each step feeds only the newest token and attends to the cached keys
        and values. Both compute the same logits, so with the same
        ``generator`` they return the same tokens. ``temperature=0`` is greedy."""
        n_new = int(n_new)
        if n_new < 0:
            raise ValueError(f"n_new must be >= 0, got {n_new}")
        if isinstance(temperature, bool) or not np.isscalar(temperature) \
                or not math.isfinite(temperature) or temperature < 0:
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        self._check_ids(idx)
        if idx.shape[1] + n_new > self.cfg.context:
            raise ValueError(f"prompt ({idx.shape[1]}) + n_new ({n_new}) tokens exceed the "
                             f"model's context of {self.cfg.context}")
        was_training = self.training
        self.eval()
        caches = self.new_cache() if use_cache else None
        out, feed = idx, idx
        for _ in range(n_new):
            logits = self(feed if use_cache else out, caches)[:, -1].double()
            if temperature == 0:
                nxt = logits.argmax(-1, keepdim=True)
            else:
                probs = torch.softmax(logits / temperature, dim=-1)
                nxt = torch.multinomial(probs, 1, generator=generator)
            out = torch.cat((out, nxt), dim=1)
            feed = nxt
        self.train(was_training)
        return out


# -- training and evaluation --------------------------------------------------------
def random_chunks(ids, seq_len: int, batch_size: int, generator: torch.Generator):
    """Endless ``(x, y)`` batches of random ``seq_len``-character chunks of
    ``ids``, ``y`` shifted by one (the characters to predict)."""
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    seq_len, batch_size = _positive_int(seq_len, "seq_len"), _positive_int(batch_size,
                                                                            "batch_size")
    if len(ids) <= seq_len + 1:
        raise ValueError(f"ids (length {len(ids)}) must be longer than seq_len + 1")
    offsets = torch.arange(seq_len)
    while True:
        rows = torch.randint(0, len(ids) - seq_len - 1, (batch_size,),
                             generator=generator)[:, None] + offsets
        yield ids[rows], ids[rows + 1]


def train_gpt(model: GPT, train_ids, *, steps: int = 300, batch_size: int = 16,
              seq_len: int | None = None, lr: float = 3e-3, warmup: int = 20, seed: int = 0,
              print_every: int = 0, val_ids=None, eval_every: int = 0) -> dict:
    """AdamW with linear warm-up then cosine decay, gradient clipping at 1.
    Returns ``{"loss": per-step training losses, "seconds": wall time}``; with
    ``val_ids`` and ``eval_every``, also the held-out loss every ``eval_every``
    steps and at the end (``"val_step"``, ``"val_loss"``; timed with training)."""
    steps = _positive_int(steps, "steps")
    if (val_ids is None) != (not eval_every):
        given = "None" if val_ids is None else "given"
        raise ValueError(f"val_ids and eval_every go together, got val_ids {given} "
                         f"and eval_every={eval_every!r}")
    eval_every = _positive_int(eval_every, "eval_every") if eval_every else 0
    seq_len = model.cfg.context if seq_len is None else _positive_int(seq_len, "seq_len")
    if seq_len > model.cfg.context:
        raise ValueError(f"seq_len ({seq_len}) exceeds the model's context "
                         f"({model.cfg.context})")
    generator = torch.Generator().manual_seed(seed)
    batches = random_chunks(train_ids, seq_len, batch_size, generator)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, betas=(0.9, 0.99),
                                  weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: min(
        (s + 1) / warmup, 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))))
    history, losses, start = {"val_step": [], "val_loss": []}, [], time.perf_counter()
    model.train()
    for step in range(1, steps + 1):
        x, y = next(batches)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        schedule.step()
        losses.append(loss.item())
        if print_every and (step % print_every == 0 or step == steps):
            print(f"step {step:>4}/{steps}: training loss "
                  f"{np.mean(losses[-print_every:]):.3f} nats/char", flush=True)
        if eval_every and (step % eval_every == 0 or step == steps):
            history["val_step"].append(step)
            history["val_loss"].append(evaluate_gpt(model, val_ids))
    history.update(loss=losses, seconds=time.perf_counter() - start)
    return history


@torch.no_grad()
def evaluate_gpt(model: GPT, ids, stride: int | None = None, batch_size: int = 64) -> float:
    """Mean cross-entropy (nats per character) on the sequence ``ids``, read in
    windows of the model's context that overlap by ``context - stride``: each
    character is scored once, and (after the first window) with at least
    ``context - stride`` characters before it. Windows run in batches."""
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    T = model.cfg.context
    stride = T // 2 if stride is None else _positive_int(stride, "stride")
    if stride > T:
        raise ValueError(f"stride ({stride}) must not exceed the context ({T})")
    if len(ids) < 2:
        raise ValueError(f"ids must hold at least 2 tokens, got {len(ids)}")
    n = len(ids) - 1                       # targets ids[1 .. n]
    T = min(T, n)
    # window w reads ids[s_w : s_w + T] and scores its targets from position `first_w` on
    starts = list(range(0, n - T + 1, stride))
    if starts[-1] != n - T:
        starts.append(n - T)
    firsts = [0] + [prev + T - s for prev, s in zip(starts[:-1], starts[1:])]
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for b in range(0, len(starts), _positive_int(batch_size, "batch_size")):
        s = torch.tensor(starts[b:b + batch_size])[:, None] + torch.arange(T)
        logits = model(ids[s])
        nll = F.cross_entropy(logits.flatten(0, 1), ids[s + 1].flatten(),
                              reduction="none").view(len(s), T)
        keep = torch.arange(T)[None] >= torch.tensor(firsts[b:b + batch_size])[:, None]
        total += float(nll[keep].sum())
        count += int(keep.sum())
    model.train(was_training)
    if count != n:
        raise RuntimeError(f"internal error: scored {count} of {n} characters")
    return total / count


def ngram_loss(train_ids, eval_ids, order: int) -> float:
    r"""Cross-entropy (nats per character) on ``eval_ids`` of an interpolated
    Witten-Bell ``order``-gram model counted on ``train_ids``:

    .. math::
        P(c \mid h) = \frac{C(h c) + u(h)\,P(c \mid h')}{C(h) + u(h)},

    where :math:`h'` drops the oldest character of the history :math:`h` and
    :math:`u(h)` is the number of distinct characters seen after :math:`h`;
    the recursion ends in add-one unigram frequencies."""
    return ngram_losses(train_ids, eval_ids, order)[_positive_int(order, "order")]


def ngram_losses(train_ids, eval_ids, max_order: int) -> dict[int, float]:
    """:func:`ngram_loss` for every order ``1 .. max_order``, counted in one pass."""
    order = _positive_int(max_order, "max_order")
    train = [int(i) for i in np.asarray(train_ids)]
    evals = [int(i) for i in np.asarray(eval_ids)]
    if not train or not evals:
        raise ValueError("train_ids and eval_ids must not be empty")
    V = max(max(train), max(evals)) + 1
    counts = [Counter() for _ in range(order)]     # counts[n][(h..., c)] for len(h) == n
    for n in range(order):
        counts[n].update(tuple(train[t - n:t + 1]) for t in range(n, len(train)))
    hist_total = [Counter() for _ in range(order)]
    hist_types = [Counter() for _ in range(order)]
    for n in range(1, order):
        for gram, c in counts[n].items():
            hist_total[n][gram[:-1]] += c
            hist_types[n][gram[:-1]] += 1
    N1 = len(train)
    totals = [0.0] * order
    for t in range(len(evals)):
        c = evals[t]
        p = (counts[0][(c,)] + 1) / (N1 + V)
        totals[0] -= math.log(p)
        for n in range(1, order):
            if n <= t:
                h = tuple(evals[t - n:t])
                seen = hist_total[n][h]
                if seen:
                    u = hist_types[n][h]
                    p = (counts[n][h + (c,)] + u * p) / (seen + u)
            totals[n] -= math.log(p)
    return {n + 1: totals[n] / len(evals) for n in range(order)}
