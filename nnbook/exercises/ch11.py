"""Checks for the exercises of chapter 11 (recurrent cells)."""

from __future__ import annotations

import numpy as np

from ._checking import compare
from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ..scratch import activations as _act

__all__ = [
    "check_rnn_step", "check_gru_step", "check_clip_grad_norm", "check_lstm_step",
    "text_capstone_data", "check_text_capstone"
]


def _rnn_step(x_t, h_prev, W_xh, W_hh, b):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b)


@exercise_check
def check_rnn_step(fn):
    """``fn(x_t, h_prev, W_xh, W_hh, b) -> h_t = tanh(x_t W_xh + h_prev W_hh + b)``
    for a batch: ``x_t`` (N, D), ``h_prev`` (N, H), ``W_xh`` (D, H), ``W_hh`` (H, H)."""
    rng = _rng(13)
    cases = [
        {"x_t": rng.normal(size=(1, 2)), "h_prev": np.zeros((1, 3)),
         "W_xh": rng.normal(size=(2, 3)), "W_hh": rng.normal(size=(3, 3)), "b": np.zeros(3)},
        {"x_t": rng.normal(size=(4, 2)), "h_prev": rng.normal(size=(4, 3)),
         "W_xh": rng.normal(size=(2, 3)), "W_hh": rng.normal(size=(3, 3)),
         "b": rng.normal(size=3)},
        {"x_t": rng.normal(size=(2, 3)), "h_prev": rng.uniform(-1, 1, (2, 3)),
         "W_xh": rng.normal(size=(3, 3)), "W_hh": rng.normal(size=(3, 3)),
         "b": rng.normal(size=3)},
    ]
    return run_cases(
        "check_rnn_step", fn, cases, _rnn_step,
        mistakes=[(lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
                   "you forgot the tanh non-linearity"),
                  (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
                   "W_hh is used as h_prev @ W_hh in the book's convention, not W_hh.T"),
                  (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b),
                   "the previous hidden state h_prev must enter through h_prev @ W_hh")])


def _gru_step(x_t, h_prev, W_x, W_h, b_x, b_h):
    H = h_prev.shape[1]
    Ax = x_t @ W_x + b_x
    Ah = h_prev @ W_h + b_h
    r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
    z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
    n = np.tanh(Ax[:, 2 * H:] + r * Ah[:, 2 * H:])
    return (1 - z) * n + z * h_prev


@exercise_check
def check_gru_step(fn):
    """``fn(x_t, h_prev, W_x, W_h, b_x, b_h) -> h_t`` for PyTorch's GRU cell with gates
    stacked as (reset, update, new) along the columns of ``W_x`` (D, 3H) and
    ``W_h`` (H, 3H), as in :class:`nnbook.scratch.GRU`."""
    rng = _rng(14)
    cases = []
    for N, D, H in ((1, 2, 2), (3, 4, 3), (5, 1, 4)):
        cases.append({"x_t": rng.normal(size=(N, D)), "h_prev": rng.uniform(-1, 1, (N, H)),
                      "W_x": rng.normal(size=(D, 3 * H)), "W_h": rng.normal(size=(H, 3 * H)),
                      "b_x": rng.normal(size=3 * H), "b_h": rng.normal(size=3 * H)})

    def swapped_z(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        z = _act.sigmoid((x_t @ W_x + b_x)[:, H:2 * H] + (h_prev @ W_h + b_h)[:, H:2 * H])
        h_new = _gru_step(x_t, h_prev, W_x, W_h, b_x, b_h)
        n = (h_new - z * h_prev) / (1 - z)
        return z * n + (1 - z) * h_prev

    def reset_outside_bias(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        Ax, Ah = x_t @ W_x + b_x, h_prev @ W_h + b_h
        r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
        z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + r * (h_prev @ W_h[:, 2 * H:]) + b_h[2 * H:])
        return (1 - z) * n + z * h_prev

    def reset_on_state(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        Ax, Ah = x_t @ W_x + b_x, h_prev @ W_h + b_h
        r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
        z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
        return (1 - z) * n + z * h_prev

    return run_cases(
        "check_gru_step", fn, cases, _gru_step,
        mistakes=[(swapped_z, "z and 1 - z are swapped: PyTorch's GRU keeps the OLD state "
                              "with weight z, h_t = (1 - z) * n + z * h_prev"),
                  (reset_outside_bias, "the reset gate multiplies the hidden part of the "
                                       "candidate INCLUDING its bias: r * (h_prev @ W_hn + b_hn)"),
                  (reset_on_state, "PyTorch applies r after the matrix product, "
                                   "r * (h_prev @ W_hn + b_hn), not to h_prev before it")],
        atol=1e-9)


def _clip(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads]


@exercise_check
def check_clip_grad_norm(fn):
    """``fn(grads, max_norm) -> clipped``: rescale a LIST of gradient arrays so that
    their global norm :math:`\\sqrt{\\sum \\lVert g\\rVert^2}` is at most ``max_norm``
    (scale factor ``max_norm / (norm + 1e-6)``, as ``torch.nn.utils.clip_grad_norm_``),
    leaving them unchanged when the norm is already smaller."""
    name = "check_clip_grad_norm"
    rng = _rng(15)
    cases = [([np.array([3.0, 4.0])], 1.0),
             ([np.array([0.3, 0.4])], 1.0),
             ([rng.normal(size=(3, 2)) * 10, rng.normal(size=4) * 10], 5.0),
             ([np.array([[1.0, 0.0]]), np.array([0.0, 1e-3])], 100.0)]
    notes = []
    for grads, max_norm in cases:
        args = {"grads": grads, "max_norm": max_norm}
        expected = _clip(grads, max_norm)
        got = call(name, fn, {"grads": [g.copy() for g in grads], "max_norm": max_norm})
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            fail(name, args, expected, got, "return a list with one array per gradient",
                  what="wrong kind of result")
        for e, g in zip(expected, got):
            comparison = compare(g, e, 1e-5, 1e-9)
            notes.append(comparison["note"])
            if comparison["ok"]:
                continue
            per_array = [gg * min(1.0, max_norm / (np.linalg.norm(gg) + 1e-6)) for gg in grads]
            always = [gg * max_norm / (np.sqrt(sum(np.sum(x ** 2) for x in grads)) + 1e-6)
                      for gg in grads]
            hint = None
            if all(close(a, b, 1e-5, 1e-9) for a, b in zip(got, per_array)):
                hint = ("you clipped each array by its own norm: use ONE global norm over all "
                        "arrays, so that the direction of the whole update is kept")
            elif all(close(a, b, 1e-5, 1e-9) for a, b in zip(got, always)):
                hint = ("only scale DOWN: when the norm is below max_norm, the gradients "
                        "must stay as they are")
            fail(name, args, expected, got, hint, comparison=comparison)
    return ok(name, len(cases), notes)


def _lstm_step(x_t, h_prev, c_prev, W_x, W_h, b):
    H = h_prev.shape[1]
    A = x_t @ W_x + h_prev @ W_h + b
    i = _act.sigmoid(A[:, :H])
    f = _act.sigmoid(A[:, H:2 * H])
    g = np.tanh(A[:, 2 * H:3 * H])
    o = _act.sigmoid(A[:, 3 * H:])
    c = f * c_prev + i * g
    return o * np.tanh(c), c


@exercise_check
def check_lstm_step(fn):
    """``fn(x_t, h_prev, c_prev, W_x, W_h, b) -> (h_t, c_t)``: one step of an LSTM
    with gates stacked as PyTorch stacks them, (input i, forget f, cell g,
    output o) along the columns of ``W_x`` (D, 4H) and ``W_h`` (H, 4H):
    ``c_t = f * c_prev + i * g`` and ``h_t = o * tanh(c_t)``, with ``b`` (4H,)
    the sum of torch's two bias vectors."""
    gen = _rng(25)
    cases = []
    for N, D, H in ((1, 2, 2), (3, 4, 3), (4, 1, 5)):
        cases.append({"x_t": gen.normal(size=(N, D)), "h_prev": gen.uniform(-1, 1, (N, H)),
                      "c_prev": gen.normal(size=(N, H)), "W_x": gen.normal(size=(D, 4 * H)),
                      "W_h": gen.normal(size=(H, 4 * H)), "b": gen.normal(size=4 * H)})

    def gates(x_t, h_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        A = x_t @ W_x + h_prev @ W_h + b
        return (_act.sigmoid(A[:, :H]), _act.sigmoid(A[:, H:2 * H]), np.tanh(A[:, 2 * H:3 * H]),
                _act.sigmoid(A[:, 3 * H:]))

    def no_tanh_on_cell(x_t, h_prev, c_prev, W_x, W_h, b):
        i, f, g, o = gates(x_t, h_prev, W_x, W_h, b)
        c = f * c_prev + i * g
        return o * c, c

    def swapped_if(x_t, h_prev, c_prev, W_x, W_h, b):
        i, f, g, o = gates(x_t, h_prev, W_x, W_h, b)
        c = i * c_prev + f * g
        return o * np.tanh(c), c

    def order_ifog(x_t, h_prev, c_prev, W_x, W_h, b):   # columns read as (i, f, o, g)
        H = h_prev.shape[1]
        A = x_t @ W_x + h_prev @ W_h + b
        i, f = _act.sigmoid(A[:, :H]), _act.sigmoid(A[:, H:2 * H])
        o, g = _act.sigmoid(A[:, 2 * H:3 * H]), np.tanh(A[:, 3 * H:])
        c = f * c_prev + i * g
        return o * np.tanh(c), c

    def sigmoid_candidate(x_t, h_prev, c_prev, W_x, W_h, b):
        H = h_prev.shape[1]
        A = x_t @ W_x + h_prev @ W_h + b
        i, f, o = _act.sigmoid(A[:, :H]), _act.sigmoid(A[:, H:2 * H]), _act.sigmoid(A[:, 3 * H:])
        c = f * c_prev + i * _act.sigmoid(A[:, 2 * H:3 * H])
        return o * np.tanh(c), c

    return tuple_cases(
        "check_lstm_step", fn, cases, _lstm_step, ("h_t", "c_t"),
        mistakes=[(no_tanh_on_cell, "h_t = o * tanh(c_t): squash the cell state before the "
                                    "output gate"),
                  (swapped_if, "the FORGET gate multiplies the old cell state and the INPUT "
                               "gate the candidate: c_t = f * c_prev + i * g"),
                  (order_ifog, "PyTorch stacks the gates as (i, f, g, o): the candidate g is "
                               "the THIRD block of columns and the output gate the fourth"),
                  (sigmoid_candidate, "the candidate g uses tanh, not the sigmoid: it must be "
                                      "able to decrease the cell state")],
        atol=1e-9)


TEXT_CAPSTONE_BITS = 2.8


def _text_split():
    from ..text import load_text, train_val_test_split
    text = load_text()
    return text, train_val_test_split(text, 0.05, 0.05)


def text_capstone_data():
    """The text capstone's data: ``(vocab, train_text, val_text)``.

    *Flatland* (``nnbook.text.load_text()``) split in reading order into 90%
    training, 5% validation and 5% test text, as in the chapter; ``vocab`` is a
    :class:`nnbook.models.rnn.CharVocab` of the whole book. The test text stays
    inside :func:`check_text_capstone`.
    """
    from ..models.rnn import CharVocab
    text, (train, val, _) = _text_split()
    return CharVocab(text), train, val


def check_text_capstone(model):
    """Judge a character model on the capstone's held-out test text.

    ``model`` is a ``torch.nn.Module`` that maps character ids ``(N, T)`` (from
    the vocabulary of :func:`text_capstone_data`) to next-character logits
    ``(N, T, V)``, or to ``(logits, state)`` as
    :class:`nnbook.models.rnn.CharLanguageModel` does. The check reads the
    test text in chunks of 256 characters, carrying the state when the model
    returns one, and passes below 2.8 bits per character (the chapter's
    unigram baseline is about 4.6, its best n-gram about 2.6).
    """
    import torch

    name = "check_text_capstone"
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"{name}: pass your trained model (a torch.nn.Module), got "
                        f"{type(model).__name__}")
    vocab, _, _ = text_capstone_data()
    _, (_, _, test) = _text_split()
    ids = torch.as_tensor(vocab.encode(test), dtype=torch.long)[None]
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        with torch.no_grad():
            for start in range(0, ids.shape[1] - 1, 256):
                x = ids[:, start:start + 256]
                y = ids[:, start + 1:start + 257]
                x = x[:, :y.shape[1]]
                try:
                    out = model(x, state) if state is not None else model(x)
                except Exception as exc:  # noqa: BLE001 - the reader's model failed
                    fail_simple(name, f"your model raised {type(exc).__name__}: {exc} on a "
                                      f"batch of ids of shape {tuple(x.shape)}")
                logits, state = (out if isinstance(out, tuple) else (out, None))
                if tuple(logits.shape) != (1, x.shape[1], len(vocab)):
                    fail_simple(name, f"the model must return logits of shape (N, T, V) = "
                                      f"(1, {x.shape[1]}, {len(vocab)}), got "
                                      f"{tuple(logits.shape)}")
                loss = torch.nn.functional.cross_entropy(
                    logits.reshape(-1, logits.shape[-1]).double(), y.reshape(-1), reduction="sum")
                total += float(loss)
                count += y.numel()
    finally:
        model.train(was_training)
    bits = total / count / np.log(2)
    if not np.isfinite(bits) or bits >= TEXT_CAPSTONE_BITS:
        fail_simple(name, f"{bits:.3f} bits per character on the test text, the target is "
                          f"below {TEXT_CAPSTONE_BITS}\n  Hint: train longer (a few hundred "
                          "steps), with a cosine-decayed learning rate; choose on the "
                          "validation text")
    print(f"Correct! {name}: {bits:.3f} bits per character on {count:,} test characters, "
          f"below the target of {TEXT_CAPSTONE_BITS}.")

