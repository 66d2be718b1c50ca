"""Recurrent models in PyTorch: a time-series forecaster and a
character-level language model, with the data helpers they need.

- :func:`make_windows` cuts a series into (past window, next value) pairs;
  :class:`SequenceForecaster` (LSTM or GRU + linear head) predicts the next
  value from the window.
- :class:`CharVocab` maps characters to integers and back;
  :class:`CharLanguageModel` (embedding + LSTM/GRU + linear) predicts the next
  character; :func:`train_char_model` trains it with truncated
  backpropagation through time; :func:`generate` samples text from it.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

_CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _cell(cell):
    if cell not in _CELLS:
        raise ValueError(f"cell must be one of {sorted(_CELLS)}, got {cell!r}")
    return _CELLS[cell]


# --------------------------------------------------------------------------
# Time series
# --------------------------------------------------------------------------
def make_windows(series, window: int, horizon: int = 1):
    """Sliding windows over a 1-D (``(T,)``) or multivariate (``(T, D)``) series.

    Returns ``X`` of shape ``(M, window, D)`` (the past) and ``y`` of shape
    ``(M, horizon)`` for a 1-D series, ``(M, horizon, D)`` otherwise (the
    ``horizon`` values that follow each window), with
    ``M = T - window - horizon + 1``. Sample ``m`` uses
    ``series[m : m + window]`` to predict ``series[m + window : m + window + horizon]``.
    """
    s = np.asarray(series, dtype=np.float64)
    if s.ndim not in (1, 2):
        raise ValueError(f"series must be 1-D (T,) or 2-D (T, D), got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("series contains NaN or infinite values")
    window = _positive_int(window, "window")
    horizon = _positive_int(horizon, "horizon")
    univariate = s.ndim == 1
    s2 = s[:, None] if univariate else s
    M = len(s2) - window - horizon + 1
    if M < 1:
        raise ValueError(f"series of length {len(s2)} is too short for window={window} "
                         f"and horizon={horizon}")
    idx = np.arange(M)[:, None]
    X = s2[idx + np.arange(window)]
    y = s2[idx + window + np.arange(horizon)]
    return X, (y[..., 0] if univariate else y)


class SequenceForecaster(nn.Module):
    """Many-to-one forecaster: run an LSTM (or GRU) over the window and map
    its last hidden state to the next ``output_size`` values with a linear
    layer. Input ``(N, T, input_size)``, output ``(N, output_size)``."""

    def __init__(self, input_size: int = 1, hidden_size: int = 32, output_size: int = 1,
                 num_layers: int = 1, cell: str = "lstm"):
        super().__init__()
        self.input_size = _positive_int(input_size, "input_size")
        self.hidden_size = _positive_int(hidden_size, "hidden_size")
        self.output_size = _positive_int(output_size, "output_size")
        self.cell = cell
        self.rnn = _cell(cell)(self.input_size, self.hidden_size,
                               _positive_int(num_layers, "num_layers"), batch_first=True)
        self.head = nn.Linear(self.hidden_size, self.output_size)

    def forward(self, x):
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape (N, T, {self.input_size}), got {tuple(x.shape)}")
        outputs, _ = self.rnn(x)          # (N, T, H): every hidden state
        return self.head(outputs[:, -1])  # the last one summarises the window


def naive_forecast(X):
    """The persistence baseline: predict that the next value equals the last
    one seen, ``X[:, -1, 0]``. Any forecaster should beat it."""
    X = np.asarray(X)
    if X.ndim != 3:
        raise ValueError(f"X must have shape (N, T, D), got {X.shape}")
    return X[:, -1, 0]


# --------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------
class CharVocab:
    """The characters of a text, each mapped to an integer id (sorted order).

    ``encode("abc")`` returns an int64 array of ids, ``decode(ids)`` the string.
    """

    def __init__(self, text: str):
        if not isinstance(text, str) or not text:
            raise ValueError("text must be a non-empty str")
        self.chars = sorted(set(text))
        self.index = {ch: i for i, ch in enumerate(self.chars)}

    def __len__(self):
        return len(self.chars)

    def __repr__(self):
        return f"CharVocab({len(self)} characters)"

    def encode(self, text: str) -> np.ndarray:
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"text contains characters not in the vocabulary: {unknown[:10]!r}")
        return np.fromiter((self.index[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        ids = np.asarray(ids.detach().cpu() if torch.is_tensor(ids) else ids).reshape(-1)
        if ids.size and (not np.issubdtype(ids.dtype, np.integer)
                         or ids.min() < 0 or ids.max() >= len(self)):
            raise ValueError(f"ids must be integers in [0, {len(self) - 1}]")
        return "".join(self.chars[i] for i in ids)


def unigram_loss(train_ids, eval_ids, vocab_size: int) -> float:
    r"""Cross-entropy (nats per character) on ``eval_ids`` of the model that
    ignores context and predicts every character with its training frequency:
    :math:`-\frac1M\sum_m \log p(c_m)`. On the training text itself this is
    the entropy of the character distribution. (Add-one smoothing keeps
    unseen characters finite.) A language model must do much better."""
    vocab_size = _positive_int(vocab_size, "vocab_size")
    train_ids, eval_ids = np.asarray(train_ids), np.asarray(eval_ids)
    counts = np.bincount(train_ids, minlength=vocab_size) + 1.0
    log_p = np.log(counts / counts.sum())
    return float(-log_p[eval_ids].mean())


class CharLanguageModel(nn.Module):
    """Next-character model: embedding, a recurrent layer (LSTM or GRU) and a
    linear layer to one score per character.

    ``forward(idx, state=None)`` takes ids of shape ``(N, T)`` and returns
    logits ``(N, T, V)`` (the scores for the character after each position)
    and the final recurrent state, to carry into the next chunk of text.
    """

    def __init__(self, vocab: CharVocab, embed_size: int = 32, hidden_size: int = 128,
                 num_layers: int = 1, cell: str = "gru"):
        super().__init__()
        if not isinstance(vocab, CharVocab):
            raise TypeError(f"vocab must be a CharVocab, got {type(vocab).__name__}")
        self.vocab = vocab
        self.cell = cell
        self.embed = nn.Embedding(len(vocab), _positive_int(embed_size, "embed_size"))
        self.rnn = _cell(cell)(embed_size, _positive_int(hidden_size, "hidden_size"),
                               _positive_int(num_layers, "num_layers"), batch_first=True)
        self.head = nn.Linear(hidden_size, len(vocab))

    def forward(self, idx, state=None):
        if idx.ndim != 2 or idx.dtype != torch.long:
            raise ValueError(f"idx must be a (N, T) tensor of int64 character ids, "
                             f"got shape {tuple(idx.shape)} and dtype {idx.dtype}")
        if idx.numel() and (int(idx.min()) < 0 or int(idx.max()) >= len(self.vocab)):
            raise ValueError(f"idx must hold ids in [0, {len(self.vocab) - 1}]")
        outputs, state = self.rnn(self.embed(idx), state)
        return self.head(outputs), state


def char_batches(ids, seq_len: int, batch_size: int, generator: torch.Generator):
    """An endless stream of random training chunks for truncated BPTT: inputs
    ``ids[s : s+seq_len]`` and targets shifted by one character, as two
    ``(batch_size, seq_len)`` int64 tensors. Gradients flow back at most
    ``seq_len`` steps."""
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    seq_len = _positive_int(seq_len, "seq_len")
    batch_size = _positive_int(batch_size, "batch_size")
    if len(ids) <= seq_len + 1:
        raise ValueError(f"ids (length {len(ids)}) must be longer than seq_len + 1 = {seq_len + 1}")
    offsets = torch.arange(seq_len)
    while True:
        starts = torch.randint(0, len(ids) - seq_len - 1, (batch_size,), generator=generator)
        rows = starts[:, None] + offsets
        yield ids[rows], ids[rows + 1]


@torch.no_grad()
def evaluate_char_model(model: CharLanguageModel, ids, seq_len: int = 128,
                        batch_size: int = 32) -> float:
    """Mean cross-entropy (nats per character) of ``model`` on the sequence
    ``ids``, read in consecutive chunks with the state carried across them."""
    model.eval()
    ids = torch.as_tensor(np.asarray(ids), dtype=torch.long)
    n_pairs = len(ids) - 1                      # (input, next character) pairs
    if n_pairs < 1:
        raise ValueError(f"ids must hold at least 2 characters, got {len(ids)}")
    seq_len = _positive_int(seq_len, "seq_len")
    # n_rows parallel streams, each a contiguous stretch of the text
    n_rows = max(1, min(_positive_int(batch_size, "batch_size"), n_pairs // seq_len))
    span = n_pairs // n_rows
    total, count, state = 0.0, 0, None
    for start in range(0, span, seq_len):
        stop = min(start + seq_len, span)
        rows = torch.arange(n_rows)[:, None] * span + torch.arange(start, stop)
        logits, state = model(ids[rows], state)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                           ids[rows + 1].reshape(-1), reduction="sum")
        total += float(loss)
        count += rows.numel()
    return total / count


def train_char_model(model: CharLanguageModel, train_ids, val_ids, *, steps: int = 500,
                     seq_len: int = 64, batch_size: int = 32, lr: float = 3e-3,
                     clip: float | None = 1.0, eval_every: int = 50, seed: int = 0,
                     print_every: int = 100) -> dict[str, list]:
    """Train with Adam on random chunks of ``seq_len`` characters (truncated
    BPTT), clipping the gradient norm at ``clip``. Every ``eval_every`` steps
    records the mean training loss since the last record and the validation
    loss; returns ``{"step", "loss", "val_loss"}`` (nats per character).
    Prints a line every ``print_every`` steps (no timings)."""
    steps = _positive_int(steps, "steps")
    eval_every = _positive_int(eval_every, "eval_every")
    generator = torch.Generator().manual_seed(seed)
    batches = char_batches(train_ids, seq_len, batch_size, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = {"step": [], "loss": [], "val_loss": []}
    running, n_running = 0.0, 0
    for step in range(1, steps + 1):
        model.train()
        xb, yb = next(batches)
        logits, _ = model(xb)
        loss = nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), yb.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        running += loss.item()
        n_running += 1
        if step % eval_every == 0 or step == steps:
            history["step"].append(step)
            history["loss"].append(running / n_running)
            history["val_loss"].append(evaluate_char_model(model, val_ids))
            running, n_running = 0.0, 0
            if print_every and (step % print_every == 0 or step == steps):
                print(f"step {step:>4}/{steps}: loss {history['loss'][-1]:.3f}, "
                      f"val_loss {history['val_loss'][-1]:.3f}", flush=True)
    return history


@torch.no_grad()
def generate(model: CharLanguageModel, prefix: str, length: int, temperature: float = 1.0,
             *, generator: torch.Generator | None = None, seed: int | None = None) -> str:
    r"""Sample ``length`` characters after ``prefix``, one at a time.

    The model reads the prefix, then repeatedly samples the next character
    from :math:`\operatorname{softmax}(s / \tau)`, where :math:`s` are its
    scores and :math:`\tau` the ``temperature``, and feeds it back in. Low
    :math:`\tau` sharpens the distribution (safe, repetitive text), high
    :math:`\tau` flattens it (varied, error-prone text); ``temperature=0``
    always picks the most likely character. Reproducible: pass a seeded
    ``torch.Generator`` or a ``seed``. Returns the prefix plus the sample.
    """
    if not isinstance(prefix, str) or not prefix:
        raise ValueError("prefix must be a non-empty str")
    length = int(length)
    if length < 0:
        raise ValueError(f"length must be >= 0, got {length}")
    if isinstance(temperature, bool) or not np.isscalar(temperature) \
            or not math.isfinite(temperature) or temperature < 0:
        raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
    if generator is None:
        generator = torch.Generator().manual_seed(0 if seed is None else int(seed))
    model.eval()
    ids = torch.as_tensor(model.vocab.encode(prefix))[None]
    logits, state = model(ids)
    out = []
    for _ in range(length):
        scores = logits[0, -1]
        if temperature == 0:
            nxt = int(scores.argmax())
        else:
            probs = torch.softmax(scores.double() / temperature, dim=-1)
            nxt = int(torch.multinomial(probs, 1, generator=generator))
        out.append(nxt)
        logits, state = model(torch.tensor([[nxt]]), state)
    return prefix + model.vocab.decode(out)
