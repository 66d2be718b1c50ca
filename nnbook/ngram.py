r"""Character n-gram language models with add-k smoothing: the baseline that
every neural language model of the book is measured against.

An order-:math:`n` model predicts the next character from the :math:`n-1`
characters before it, with the smoothed relative frequencies of the training
text,

.. math::

    p(c \mid u) = \frac{\operatorname{count}(u c) + k}{\operatorname{count}(u) + k V},

where :math:`u` is the context, :math:`V` the vocabulary size and :math:`k > 0`
the pseudo-count that keeps unseen continuations possible (add-one or
Laplace smoothing is :math:`k = 1`). Order 1 is the *unigram* model, which
ignores the context. The first characters of a text, which have fewer than
:math:`n-1` predecessors, see a context padded with a start symbol that is
not a character.

NumPy only; the counts are kept as sorted integer keys, so fitting an order-6
model on a book takes a fraction of a second.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["InterpolatedNGram", "NGramModel", "bits_per_char", "select_ngram"]


def _ids(ids, name, vocab_size):
    arr = np.asarray(ids)
    if arr.ndim != 1 or arr.size < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 character ids, "
                         f"got shape {arr.shape}")
    if not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integer character ids, got dtype {arr.dtype}")
    if arr.min() < 0 or arr.max() >= vocab_size:
        raise ValueError(f"{name} must hold ids in [0, {vocab_size - 1}], got values in "
                         f"[{arr.min()}, {arr.max()}]")
    return arr.astype(np.int64)


def bits_per_char(nats: float) -> float:
    """Convert a cross-entropy in nats per character to bits per character
    (divide by :math:`\\ln 2`)."""
    return float(nats) / math.log(2)


class NGramModel:
    """A character n-gram model with add-k smoothing.

    ``NGramModel(order, vocab_size, k=1.0).fit(train_ids)``, then
    ``cross_entropy(ids)`` gives the mean :math:`-\\ln p(c_i \\mid c_{i-n+1..i-1})`
    over ``ids[1:]`` (every character after the first, the targets a recurrent
    model reading ``ids`` also predicts) in nats per character, and
    ``bits_per_char(ids)`` the same in bits.
    """

    def __init__(self, order: int, vocab_size: int, k: float = 1.0):
        if isinstance(order, bool) or not isinstance(order, (int, np.integer)) or order < 1:
            raise ValueError(f"order must be a positive integer, got {order!r}")
        if isinstance(vocab_size, bool) or not isinstance(vocab_size, (int, np.integer)) \
                or vocab_size < 2:
            raise ValueError(f"vocab_size must be an integer >= 2, got {vocab_size!r}")
        if isinstance(k, bool) or not isinstance(k, (int, float, np.floating)) \
                or not math.isfinite(k) or k <= 0:
            raise ValueError(f"k must be a positive number, got {k!r}")
        # keys are base-(V+1) numbers of n digits: they must fit in an int64
        if (vocab_size + 1) ** order >= 2 ** 62:
            raise ValueError(f"order {order} is too large for vocab_size {vocab_size}")
        self.order, self.vocab_size, self.k = int(order), int(vocab_size), float(k)
        self._context_keys = None

    def __repr__(self):
        return f"NGramModel(order={self.order}, vocab_size={self.vocab_size}, k={self.k:g})"

    def _keys(self, ids):
        """Integer keys of (context, next character) for every target ids[1:],
        and of the context alone. The start symbol is ``vocab_size``."""
        n, base = self.order, self.vocab_size + 1
        padded = np.concatenate([np.full(n - 1, self.vocab_size, dtype=np.int64), ids])
        targets = np.arange(n, len(padded))          # positions of ids[1:] in padded
        context = np.zeros(len(targets), dtype=np.int64)
        for j in range(n - 1, 0, -1):                # the j-th character back
            context = context * base + padded[targets - j]
        return context * base + padded[targets], context

    def fit(self, ids) -> "NGramModel":
        """Count every (context, next character) pair of the training ids."""
        ids = _ids(ids, "ids", self.vocab_size)
        joint, context = self._keys(ids)
        self._joint_keys, self._joint_counts = np.unique(joint, return_counts=True)
        self._context_keys, self._context_counts = np.unique(context, return_counts=True)
        return self

    @staticmethod
    def _lookup(sorted_keys, counts, keys):
        pos = np.searchsorted(sorted_keys, keys)
        pos_clipped = np.minimum(pos, len(sorted_keys) - 1)
        found = sorted_keys[pos_clipped] == keys
        return np.where(found, counts[pos_clipped], 0)

    def cross_entropy(self, ids) -> float:
        """Mean negative log-probability of ``ids[1:]``, in nats per character."""
        if self._context_keys is None:
            raise RuntimeError("call fit(train_ids) before evaluating the model")
        ids = _ids(ids, "ids", self.vocab_size)
        joint, context = self._keys(ids)
        n_joint = self._lookup(self._joint_keys, self._joint_counts, joint)
        n_context = self._lookup(self._context_keys, self._context_counts, context)
        p = (n_joint + self.k) / (n_context + self.k * self.vocab_size)
        return float(-np.log(p).mean())

    def context_counts(self, ids) -> np.ndarray:
        """How often the context of each target ``ids[1:]`` occurred in the
        training text: the denominators of the smoothed estimates, shape
        ``(len(ids) - 1,)``. Small counts are where the model guesses."""
        if self._context_keys is None:
            raise RuntimeError("call fit(train_ids) before evaluating the model")
        _, context = self._keys(_ids(ids, "ids", self.vocab_size))
        return self._lookup(self._context_keys, self._context_counts, context)

    def next_char_probabilities(self, context) -> np.ndarray:
        """The distribution ``p(. | context)`` over the vocabulary, shape
        ``(vocab_size,)``; only the last ``order - 1`` ids of ``context`` count
        (a shorter context is padded with the start symbol)."""
        n_joint, n_ctx = self._candidate_counts(context)
        return (n_joint + self.k) / (n_ctx + self.k * self.vocab_size)

    def _candidate_counts(self, context):
        """``count(u c)`` for every candidate ``c`` (shape ``(vocab_size,)``) and
        ``count(u)``, for the context ``u`` made of the last ``order - 1`` ids."""
        if self._context_keys is None:
            raise RuntimeError("call fit(train_ids) before evaluating the model")
        context = np.asarray(context, dtype=np.int64).reshape(-1)
        if context.size and (context.min() < 0 or context.max() >= self.vocab_size):
            raise ValueError(f"context must hold ids in [0, {self.vocab_size - 1}]")
        n, V = self.order, self.vocab_size
        tail = context[len(context) - (n - 1):] if n > 1 else context[:0]
        tail = np.concatenate([np.full(n - 1 - len(tail), V, dtype=np.int64), tail])
        base = V + 1
        ctx_key = 0
        for u in tail:
            ctx_key = ctx_key * base + int(u)
        joint = ctx_key * base + np.arange(V)
        n_joint = self._lookup(self._joint_keys, self._joint_counts, joint)
        n_ctx = self._lookup(self._context_keys, self._context_counts, np.array([ctx_key]))[0]
        return n_joint, n_ctx

    def sample(self, context, length: int, seed: int = 0) -> np.ndarray:
        """Draw ``length`` ids one at a time from ``p(. | last order-1 ids)``,
        starting after ``context``; returns the new ids only."""
        if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 0:
            raise ValueError(f"length must be an integer >= 0, got {length!r}")
        rng = np.random.default_rng(seed)
        ids = list(np.asarray(context, dtype=np.int64).reshape(-1))
        for _ in range(int(length)):
            probs = self.next_char_probabilities(ids[-(self.order - 1):] if self.order > 1
                                                 else [])
            ids.append(int(rng.choice(self.vocab_size, p=probs)))
        return np.array(ids[len(ids) - int(length):], dtype=np.int64)

    def bits_per_char(self, ids) -> float:
        """:meth:`cross_entropy` in bits per character."""
        return bits_per_char(self.cross_entropy(ids))


def select_ngram(train_ids, val_ids, vocab_size: int, orders=(1, 2, 3, 4, 5, 6),
                 ks=(0.01, 0.03, 0.1, 0.3, 1.0)):
    """Fit an n-gram model for every order and pseudo-count ``k``, and return
    ``(best, table)``: the model with the lowest cross-entropy on ``val_ids``
    (refitted objects are kept, so ``best`` is ready to evaluate on a test
    text) and a list of ``(order, k, validation bits per character)`` rows."""
    best, best_loss, table = None, np.inf, []
    for order in orders:
        for k in ks:
            model = NGramModel(order, vocab_size, k).fit(train_ids)
            loss = model.cross_entropy(val_ids)
            table.append((order, k, bits_per_char(loss)))
            if loss < best_loss:
                best, best_loss = model, loss
    return best, table


class InterpolatedNGram:
    r"""An interpolated character n-gram model: every order backs off to the
    one below it, so an unseen context falls back to a shorter one instead of
    to a uniform guess.

    With :math:`u` the last :math:`n-1` characters and :math:`u'` the last
    :math:`n-2`,

    .. math::

        p_n(c \mid u) = \frac{\operatorname{count}(u c) + \beta\, p_{n-1}(c \mid u')}
                            {\operatorname{count}(u) + \beta},
        \qquad p_1(c) = \frac{\operatorname{count}(c) + 1}{N + V}:

    the lower order acts as :math:`\beta` pseudo-counts spread by its own
    prediction (a hierarchical Dirichlet prior, MacKay and Peto 1995). A
    context seen often trusts its own counts; a context never seen
    (:math:`\operatorname{count}(u) = 0`) uses :math:`p_{n-1}` unchanged.
    Same interface as :class:`NGramModel`.
    """

    def __init__(self, order: int, vocab_size: int, strength: float = 10.0):
        if isinstance(strength, bool) or not isinstance(strength, (int, float, np.floating)) \
                or not math.isfinite(strength) or strength <= 0:
            raise ValueError(f"strength must be a positive number, got {strength!r}")
        NGramModel(order, vocab_size)                  # validates order and vocab_size
        # one add-k model per order holds the counts (its k is not used)
        self.levels = [NGramModel(n, vocab_size) for n in range(1, order + 1)]
        self.order, self.vocab_size, self.strength = int(order), int(vocab_size), float(strength)
        self._fitted = False

    def __repr__(self):
        return (f"InterpolatedNGram(order={self.order}, vocab_size={self.vocab_size}, "
                f"strength={self.strength:g})")

    def fit(self, ids) -> "InterpolatedNGram":
        """Count the (context, next character) pairs of every order up to ``order``."""
        for level in self.levels:
            level.fit(ids)
        self._fitted = True
        return self

    def _check_fitted(self):
        if not self._fitted:
            raise RuntimeError("call fit(train_ids) before evaluating the model")

    def _mix(self, counts):
        """Apply the recursion to ``(count(uc), count(u))`` pairs, lowest order first."""
        p = None
        for n_joint, n_context in counts:
            p = (n_joint + 1.0) / (n_context + self.vocab_size) if p is None \
                else (n_joint + self.strength * p) / (n_context + self.strength)
        return p

    def cross_entropy(self, ids) -> float:
        """Mean negative log-probability of ``ids[1:]``, in nats per character."""
        self._check_fitted()
        ids = _ids(ids, "ids", self.vocab_size)
        counts = []
        for level in self.levels:
            joint, context = level._keys(ids)
            counts.append((level._lookup(level._joint_keys, level._joint_counts, joint),
                           level._lookup(level._context_keys, level._context_counts, context)))
        return float(-np.log(self._mix(counts)).mean())

    def bits_per_char(self, ids) -> float:
        """:meth:`cross_entropy` in bits per character."""
        return bits_per_char(self.cross_entropy(ids))

    def next_char_probabilities(self, context) -> np.ndarray:
        """The distribution ``p(. | context)`` over the vocabulary, shape ``(vocab_size,)``."""
        self._check_fitted()
        return self._mix([level._candidate_counts(context) for level in self.levels])

    def sample(self, context, length: int, seed: int = 0) -> np.ndarray:
        """Draw ``length`` ids one at a time; returns the new ids only."""
        return NGramModel.sample(self, context, length, seed)

