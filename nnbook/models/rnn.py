"""Recurrent models in PyTorch: a time-series forecaster and a
character-level language model, with the data helpers they need.

- :func:`make_windows` cuts a series into (past window, next value) pairs;
  :class:`SequenceForecaster` (LSTM or GRU + linear head) predicts the next
  value from the window.
- :func:`pad_sequences`, :func:`length_mask` and :class:`SequenceClassifier`
  handle batches of sequences of different lengths (padding, masking,
  packing).
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
            raise ValueError(f"x must have shape (N, T, {self.input_size}), "
                             f"got {tuple(x.shape)}")
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
# Sequences of different lengths
# --------------------------------------------------------------------------
def pad_sequences(sequences, padding_value: float = 0.0):
    """Stack sequences of different lengths into one batch.

    ``sequences`` is a list of arrays or tensors of shape ``(T_i, D)`` (or
    ``(T_i,)``, read as ``D = 1``). Returns ``(padded, lengths)``: a float32
    tensor ``(N, T_max, D)`` in which sequence ``i`` fills the first ``T_i``
    steps and ``padding_value`` the rest, and an int64 tensor of the ``T_i``.
    """
    if isinstance(sequences, (str, bytes)) or not hasattr(sequences, "__len__") \
            or len(sequences) == 0:
        raise ValueError("sequences must be a non-empty list of (T_i, D) arrays")
    seqs = []
    for i, seq in enumerate(sequences):
        arr = torch.as_tensor(np.asarray(seq.detach().cpu() if torch.is_tensor(seq) else seq),
                              dtype=torch.float32)
        if arr.ndim == 1:
            arr = arr[:, None]
        if arr.ndim != 2 or arr.shape[0] < 1:
            raise ValueError(f"sequences[{i}] must have shape (T, D) with T >= 1, "
                             f"got {tuple(arr.shape)}")
        seqs.append(arr)
    dims = {arr.shape[1] for arr in seqs}
    if len(dims) != 1:
        raise ValueError(f"all sequences must have the same feature size D, got {sorted(dims)}")
    lengths = torch.tensor([len(arr) for arr in seqs], dtype=torch.long)
    padded = torch.full((len(seqs), int(lengths.max()), dims.pop()), float(padding_value))
    for i, arr in enumerate(seqs):
        padded[i, :len(arr)] = arr
    return padded, lengths


def length_mask(lengths, max_len: int | None = None):
    """Boolean mask ``(N, T)``: ``True`` at the real steps ``t < lengths[i]``,
    ``False`` at the padding. Multiply a per-step loss by it (and divide by
    its sum) so that padded steps count for nothing."""
    lengths = torch.as_tensor(lengths, dtype=torch.long)
    if lengths.ndim != 1 or lengths.numel() == 0 or int(lengths.min()) < 1:
        raise ValueError(f"lengths must be a 1-D sequence of positive integers, got {lengths}")
    T = int(lengths.max()) if max_len is None else _positive_int(max_len, "max_len")
    if T < int(lengths.max()):
        raise ValueError(f"max_len ({T}) must be at least the longest length "
                         f"({int(lengths.max())})")
    return torch.arange(T)[None, :] < lengths[:, None]


class SequenceClassifier(nn.Module):
    """Many-to-one classifier for batches of different lengths.

    ``forward(x, lengths=None)``: ``x`` is a padded batch ``(N, T, input_size)``
    (see :func:`pad_sequences`). With ``lengths``, the recurrent layer reads
    the batch *packed* (``nn.utils.rnn.pack_padded_sequence``), so each
    sequence stops at its own last real step and its final hidden state is
    not disturbed by the padding; without, every sequence is read to ``T``.
    Returns logits ``(N, num_classes)`` from the final hidden state.
    """

    def __init__(self, input_size: int = 1, hidden_size: int = 32, num_classes: int = 2,
                 cell: str = "lstm"):
        super().__init__()
        self.input_size = _positive_int(input_size, "input_size")
        self.cell = cell
        self.rnn = _cell(cell)(self.input_size, _positive_int(hidden_size, "hidden_size"),
                               batch_first=True)
        self.head = nn.Linear(hidden_size, _positive_int(num_classes, "num_classes"))

    def final_hidden(self, x, lengths=None):
        """The hidden state after each sequence's last step (its real last
        step when ``lengths`` is given), shape ``(N, hidden_size)``."""
        if x.ndim != 3 or x.shape[2] != self.input_size:
            raise ValueError(f"x must have shape (N, T, {self.input_size}), "
                             f"got {tuple(x.shape)}")
        if lengths is None:
            _, state = self.rnn(x)
        else:
            lengths = torch.as_tensor(lengths, dtype=torch.long).cpu()
            if lengths.shape != (x.shape[0],) or int(lengths.min()) < 1 \
                    or int(lengths.max()) > x.shape[1]:
                raise ValueError(f"lengths must hold {x.shape[0]} integers in "
                                 f"[1, {x.shape[1]}], got {lengths.tolist()}")
            packed = nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True,
                                                       enforce_sorted=False)
            _, state = self.rnn(packed)
        h = state[0] if isinstance(state, tuple) else state   # an LSTM returns (h, c)
        return h[-1]

    def forward(self, x, lengths=None):
        return self.head(self.final_hidden(x, lengths))


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
        """``text`` as an int64 array of character ids; unknown characters are an error."""
        if not isinstance(text, str):
            raise TypeError(f"text must be a str, got {type(text).__name__}")
        unknown = sorted(set(text) - set(self.index))
        if unknown:
            raise ValueError(f"text contains characters not in the vocabulary: {unknown[:10]!r}")
        return np.fromiter((self.index[ch] for ch in text), dtype=np.int64, count=len(text))

    def decode(self, ids) -> str:
        """The text spelled by ``ids`` (integers in ``[0, len(vocab))``, array or tensor)."""
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
                     print_every: int = 100, cosine_decay: bool = False) -> dict[str, list]:
    """Train with Adam on random chunks of ``seq_len`` characters (truncated
    BPTT), clipping the gradient norm at ``clip``. Every ``eval_every`` steps
    records the mean training loss since the last record and the validation
    loss; returns ``{"step", "loss", "val_loss"}`` (nats per character).
    With ``cosine_decay`` the learning rate falls from ``lr`` to 0 along half
    a cosine over the ``steps``. Prints a line every ``print_every`` steps
    (no timings)."""
    steps = _positive_int(steps, "steps")
    eval_every = _positive_int(eval_every, "eval_every")
    if not isinstance(cosine_decay, bool):
        raise TypeError(f"cosine_decay must be a bool, got {type(cosine_decay).__name__}")
    generator = torch.Generator().manual_seed(seed)
    batches = char_batches(train_ids, seq_len, batch_size, generator)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=steps)
                 if cosine_decay else None)
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
        if scheduler is not None:
            scheduler.step()
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
