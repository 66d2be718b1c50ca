r"""A recurrent encoder-decoder, with and without attention, on a toy task:
reverse a sequence of digits.

The encoder (embedding + GRU) reads the source sequence; its last hidden
state starts the decoder (embedding + GRU), which writes the target one
token at a time, reading the previous target token (teacher forcing during
training, its own previous output when decoding greedily).

- Without attention, everything the decoder knows about the source must
  pass through the encoder's last hidden state: a fixed-size vector, the
  *bottleneck* (Cho et al., 2014, found translation quality falling with
  sentence length for this reason).
- With attention (Bahdanau et al., 2015; here the dot-product form of Luong
  et al., 2015), every decoder step scores all encoder states against its own
  state :math:`s_t`, :math:`\alpha_{t,j} = \operatorname{softmax}_j(s_t \cdot e_j)`,
  and reads their weighted mean :math:`c_t = \sum_j \alpha_{t,j} e_j`. The
  output layer sees :math:`[s_t, c_t]`. The source no longer has to fit in one
  vector; chapter 12's Transformer keeps only this attention.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

__all__ = ["Seq2Seq", "reversal_batch", "train_seq2seq", "sequence_accuracy"]


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def reversal_batch(batch_size: int, length: int, n_symbols: int,
                   generator: torch.Generator):
    """A batch of the reversal task: ``source`` of shape ``(batch_size, length)``
    with random symbols in ``[0, n_symbols)``, and ``target = source`` reversed
    along time."""
    batch_size = _positive_int(batch_size, "batch_size")
    length = _positive_int(length, "length")
    n_symbols = _positive_int(n_symbols, "n_symbols")
    source = torch.randint(0, n_symbols, (batch_size, length), generator=generator)
    return source, source.flip(1)


class Seq2Seq(nn.Module):
    """GRU encoder-decoder over ``n_symbols`` symbols (plus a start symbol for
    the decoder), with optional dot-product attention.

    ``forward(source, target)`` returns the logits ``(N, T_target, n_symbols)``
    under teacher forcing (the decoder reads ``<start>, target[:, :-1]``);
    ``greedy_decode(source, length)`` writes ``length`` symbols from its own
    outputs; ``attention_weights_`` holds the last ``(N, T_target, T_source)``
    attention weights (``None`` without attention).
    """

    def __init__(self, n_symbols: int, hidden_size: int = 64, embed_size: int = 16,
                 attention: bool = False):
        super().__init__()
        self.n_symbols = _positive_int(n_symbols, "n_symbols")
        hidden_size = _positive_int(hidden_size, "hidden_size")
        embed_size = _positive_int(embed_size, "embed_size")
        if not isinstance(attention, bool):
            raise TypeError(f"attention must be a bool, got {type(attention).__name__}")
        self.attention = attention
        self.start = self.n_symbols                   # the decoder's start symbol
        self.src_embed = nn.Embedding(self.n_symbols, embed_size)
        self.tgt_embed = nn.Embedding(self.n_symbols + 1, embed_size)
        self.encoder = nn.GRU(embed_size, hidden_size, batch_first=True)
        self.decoder = nn.GRU(embed_size, hidden_size, batch_first=True)
        self.head = nn.Linear(2 * hidden_size if attention else hidden_size, self.n_symbols)
        self.attention_weights_ = None

    def _check(self, ids, name):
        if ids.ndim != 2 or ids.dtype != torch.long:
            raise ValueError(f"{name} must be a (N, T) tensor of int64 symbols, got shape "
                             f"{tuple(ids.shape)} and dtype {ids.dtype}")
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.n_symbols):
            raise ValueError(f"{name} must hold symbols in [0, {self.n_symbols - 1}]")

    def encode(self, source):
        """Run the encoder over ``source``: its states ``(N, S, H)`` and last state."""
        self._check(source, "source")
        return self.encoder(self.src_embed(source))   # (N, S, H) states, (1, N, H) last

    def _readout(self, dec_states, enc_states):
        if not self.attention:
            return self.head(dec_states)
        scores = dec_states @ enc_states.transpose(1, 2)      # (N, T, S): s_t . e_j
        weights = torch.softmax(scores, dim=-1)
        self.attention_weights_ = weights.detach()
        context = weights @ enc_states                        # (N, T, H)
        return self.head(torch.cat([dec_states, context], dim=-1))

    def forward(self, source, target):
        self._check(target, "target")
        if target.shape[0] != source.shape[0]:
            raise ValueError(f"source and target must have the same batch size, got "
                             f"{source.shape[0]} and {target.shape[0]}")
        enc_states, last = self.encode(source)
        start = torch.full((target.shape[0], 1), self.start, dtype=torch.long)
        dec_in = torch.cat([start, target[:, :-1]], dim=1)    # teacher forcing
        dec_states, _ = self.decoder(self.tgt_embed(dec_in), last)
        return self._readout(dec_states, enc_states)

    @torch.no_grad()
    def greedy_decode(self, source, length: int):
        """Write ``length`` symbols, each time feeding back the most likely one."""
        length = _positive_int(length, "length")
        enc_states, state = self.encode(source)
        token = torch.full((source.shape[0], 1), self.start, dtype=torch.long)
        outputs, weights = [], []
        for _ in range(length):
            dec_state, state = self.decoder(self.tgt_embed(token), state)
            token = self._readout(dec_state, enc_states).argmax(-1)
            outputs.append(token)
            if self.attention:
                weights.append(self.attention_weights_)
        if self.attention:
            self.attention_weights_ = torch.cat(weights, dim=1)
        return torch.cat(outputs, dim=1)


def train_seq2seq(model: Seq2Seq, lengths, *, steps: int = 1000, batch_size: int = 64,
                  lr: float = 3e-3, seed: int = 0, print_every: int = 0) -> list[float]:
    """Train ``model`` on the reversal task with Adam, each step a batch of one
    length drawn at random from ``lengths``. Returns the loss of every step."""
    lengths = [_positive_int(n, "lengths entry") for n in lengths]
    if not lengths:
        raise ValueError("lengths must hold at least one sequence length")
    steps = _positive_int(steps, "steps")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    model.train()
    for step in range(1, steps + 1):
        length = lengths[int(torch.randint(len(lengths), (1,), generator=generator))]
        source, target = reversal_batch(batch_size, length, model.n_symbols, generator)
        logits = model(source, target)
        loss = nn.functional.cross_entropy(logits.reshape(-1, model.n_symbols),
                                           target.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
        if print_every and (step % print_every == 0 or step == steps):
            recent = float(np.mean(losses[-print_every:]))
            print(f"step {step:>5}/{steps}: loss {recent:.3f}", flush=True)
    return losses


def sequence_accuracy(model: Seq2Seq, length: int, n: int = 500, seed: int = 1):
    """Greedy-decoding accuracy on ``n`` fresh sequences of ``length``
    symbols: ``(per-symbol accuracy, fraction of sequences entirely right)``."""
    generator = torch.Generator().manual_seed(seed)
    source, target = reversal_batch(n, length, model.n_symbols, generator)
    model.eval()
    correct = model.greedy_decode(source, length) == target
    return float(correct.float().mean()), float(correct.all(dim=1).float().mean())
