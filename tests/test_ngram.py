"""Character n-gram baselines: counts, add-k smoothing and bits per character."""
import math

import numpy as np
import pytest

from nnbook.ngram import InterpolatedNGram, NGramModel, bits_per_char, select_ngram


def brute_force_cross_entropy(train, test, order, V, k):
    """The add-k formula evaluated naively, context by context."""
    start = V
    pad = lambda s: [start] * (order - 1) + list(s)
    tr, te = pad(train), pad(test)
    joint, ctx = {}, {}
    for i in range(order, len(tr)):
        u = tuple(tr[i - order + 1:i])
        joint[u + (tr[i],)] = joint.get(u + (tr[i],), 0) + 1
        ctx[u] = ctx.get(u, 0) + 1
    total = 0.0
    for i in range(order, len(te)):
        u = tuple(te[i - order + 1:i])
        total -= math.log((joint.get(u + (te[i],), 0) + k) / (ctx.get(u, 0) + k * V))
    return total / (len(te) - order)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_matches_a_brute_force_count(order):
    rng = np.random.default_rng(order)
    train, test = rng.integers(0, 5, 300), rng.integers(0, 5, 80)
    model = NGramModel(order, vocab_size=5, k=0.5).fit(train)
    assert model.cross_entropy(test) == pytest.approx(
        brute_force_cross_entropy(train, test, order, 5, 0.5), rel=1e-12)


def test_next_char_probabilities_sum_to_one_and_agree_with_cross_entropy():
    rng = np.random.default_rng(0)
    train = rng.integers(0, 4, 200)
    model = NGramModel(3, vocab_size=4, k=0.1).fit(train)
    context = train[10:12]
    probs = model.next_char_probabilities(context)
    assert probs.shape == (4,) and probs.sum() == pytest.approx(1.0, rel=1e-12)
    # cross_entropy of (context, c) averages two targets: recover the second one's
    for c in range(4):
        two = 2 * model.cross_entropy(np.append(context, c))
        first = model.cross_entropy(context)
        assert math.exp(first - two) == pytest.approx(probs[c], rel=1e-10)
    # an unseen context gives the uniform distribution
    unseen = NGramModel(3, vocab_size=4, k=0.1).fit(np.array([0, 0, 0, 0]))
    assert unseen.next_char_probabilities([3, 3]) == pytest.approx(np.full(4, 0.25))
    with pytest.raises(ValueError, match="context must hold ids"):
        model.next_char_probabilities([7])


def test_context_helps_on_a_predictable_sequence():
    ids = np.tile(np.arange(6), 200)            # 0 1 2 3 4 5 0 1 2 ...
    unigram = NGramModel(1, 6, k=1.0).fit(ids)
    bigram = NGramModel(2, 6, k=0.01).fit(ids)
    assert unigram.bits_per_char(ids) == pytest.approx(math.log2(6), abs=1e-3)
    assert bigram.bits_per_char(ids) < 0.05


def test_select_picks_the_lowest_validation_loss():
    rng = np.random.default_rng(1)
    ids = np.tile(rng.integers(0, 8, 50), 40)  # a repeated random phrase
    best, table = select_ngram(ids[:1500], ids[1500:], 8, orders=(1, 2, 3), ks=(0.1, 1.0))
    assert len(table) == 6
    assert min(row[2] for row in table) == pytest.approx(best.bits_per_char(ids[1500:]))
    assert best.order == 3


def test_bits_per_char_converts_nats():
    assert bits_per_char(math.log(2)) == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs, match", [
    (dict(order=0, vocab_size=5), "order must be a positive integer"),
    (dict(order=2, vocab_size=1), "vocab_size must be an integer >= 2"),
    (dict(order=2, vocab_size=5, k=0), "k must be a positive number"),
    (dict(order=12, vocab_size=100), "too large"),
])
def test_rejects_bad_settings(kwargs, match):
    with pytest.raises(ValueError, match=match):
        NGramModel(**kwargs)


def test_rejects_bad_ids_and_unfitted_use():
    model = NGramModel(2, 5)
    with pytest.raises(RuntimeError, match="call fit"):
        model.cross_entropy(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"ids must hold ids in \[0, 4\]"):
        model.fit(np.array([0, 5, 1]))
    with pytest.raises(TypeError, match="integer character ids"):
        model.fit(np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match="1-D sequence"):
        model.fit(np.array([[0, 1], [1, 2]]))


def test_sampling_follows_the_counts_and_is_reproducible():
    ids = np.tile(np.arange(5), 100)           # 0 1 2 3 4 0 1 ...: the bigram is deterministic
    model = NGramModel(2, 5, k=1e-6).fit(ids)
    drawn = model.sample([2], 12, seed=0)
    np.testing.assert_array_equal(drawn, [3, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4])
    unigram = NGramModel(1, 5).fit(ids)
    np.testing.assert_array_equal(unigram.sample([], 20, seed=3), unigram.sample([], 20, seed=3))
    assert len(unigram.sample([], 0)) == 0
    with pytest.raises(ValueError, match="length must be an integer >= 0"):
        model.sample([0], -1)


def test_context_counts_are_the_training_counts_of_each_context():
    train = np.array([0, 1, 0, 1, 0, 2])
    model = NGramModel(2, 3).fit(train)
    # the targets 1, 0, 2 follow the contexts 0, 1, 0, which precede 3, 2, 3 training targets
    np.testing.assert_array_equal(model.context_counts(np.array([0, 1, 0, 2])), [3, 2, 3])
    assert NGramModel(3, 3).fit(train).context_counts(np.array([2, 2, 2]))[1] == 0
    with pytest.raises(RuntimeError, match="call fit"):
        NGramModel(2, 3).context_counts(np.array([0, 1]))


def brute_force_interpolated(train, test, order, V, strength):
    """The interpolation recursion evaluated naively, target by target."""
    def counts(n):
        tr = [V] * (n - 1) + list(train)
        joint, ctx = {}, {}
        for i in range(n, len(tr)) if n > 1 else range(1, len(tr)):
            u = tuple(tr[i - n + 1:i])
            joint[u + (tr[i],)] = joint.get(u + (tr[i],), 0) + 1
            ctx[u] = ctx.get(u, 0) + 1
        return joint, ctx

    tables = [counts(n) for n in range(1, order + 1)]
    total, targets = 0.0, 0
    for i in range(1, len(test)):
        p = None
        for n, (joint, ctx) in enumerate(tables, start=1):
            history = [V] * (n - 1) + list(test[:i])
            u = tuple(history[len(history) - (n - 1):]) if n > 1 else ()
            c = test[i]
            if p is None:
                p = (joint.get(u + (c,), 0) + 1) / (ctx.get(u, 0) + V)
            else:
                p = (joint.get(u + (c,), 0) + strength * p) / (ctx.get(u, 0) + strength)
        total -= math.log(p)
        targets += 1
    return total / targets


@pytest.mark.parametrize("order", [1, 2, 3])
def test_interpolated_matches_the_recursion_done_by_hand(order):
    rng = np.random.default_rng(10 + order)
    train, test = rng.integers(0, 4, 200), rng.integers(0, 4, 60)
    model = InterpolatedNGram(order, vocab_size=4, strength=2.5).fit(train)
    assert model.cross_entropy(test) == pytest.approx(
        brute_force_interpolated(train, test, order, 4, 2.5), rel=1e-12)


def test_interpolated_probabilities_sum_to_one_and_back_off_on_unseen_contexts():
    rng = np.random.default_rng(3)
    train = rng.integers(0, 3, 300)                      # ids 0-2 only: context 4 is unseen
    model = InterpolatedNGram(3, vocab_size=5, strength=4.0).fit(train)
    probs = model.next_char_probabilities(train[:2])
    assert probs.shape == (5,) and probs.sum() == pytest.approx(1.0, rel=1e-12)
    lower = InterpolatedNGram(2, vocab_size=5, strength=4.0).fit(train)
    # the context (4, 1) never occurred: order 3 uses order 2's distribution for (1,)
    assert model.next_char_probabilities([4, 1]) == pytest.approx(
        lower.next_char_probabilities([1]), rel=1e-12)
    # and agrees with cross_entropy, as for NGramModel
    context = train[5:7]
    for c in range(5):
        two = 2 * model.cross_entropy(np.append(context, c))
        assert math.exp(model.cross_entropy(context) - two) == pytest.approx(probs_at(
            model, context, c), rel=1e-10)


def probs_at(model, context, c):
    return model.next_char_probabilities(context)[c]


def test_interpolated_rejects_bad_settings_and_unfitted_use():
    with pytest.raises(ValueError, match="strength must be a positive number"):
        InterpolatedNGram(3, 5, strength=0)
    with pytest.raises(ValueError, match="order must be a positive integer"):
        InterpolatedNGram(0, 5)
    with pytest.raises(ValueError, match="vocab_size must be an integer"):
        InterpolatedNGram(2, 1)
    with pytest.raises(RuntimeError, match="call fit"):
        InterpolatedNGram(2, 5).cross_entropy(np.array([0, 1, 2]))
    model = InterpolatedNGram(2, 5).fit(np.array([0, 1, 2, 3, 4, 0]))
    with pytest.raises(ValueError, match="ids must hold ids"):
        model.cross_entropy(np.array([0, 9]))


def test_interpolated_sampling_is_reproducible():
    ids = np.tile(np.arange(4), 50)
    model = InterpolatedNGram(3, 4, strength=0.1).fit(ids)
    first, again = model.sample([0, 1], 30, seed=1), model.sample([0, 1], 30, seed=1)
    assert np.array_equal(first, again) and first.shape == (30,)
    assert np.mean(first == np.tile(np.arange(4), 10)[2:32]) > 0.8   # follows the cycle
