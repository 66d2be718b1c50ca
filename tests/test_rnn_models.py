"""PyTorch recurrent models: forecaster, character language model, helpers."""

import numpy as np
import pytest
import torch

from nnbook.models.rnn import (
    CharLanguageModel, CharVocab, SequenceClassifier, SequenceForecaster, char_batches,
    evaluate_char_model, generate, length_mask, make_windows, naive_forecast, pad_sequences,
    train_char_model, unigram_loss,
)
from nnbook.training import fit, make_loader


@pytest.fixture(autouse=True)
def one_thread():
    """Small recurrent models run fastest on one thread (and the tests run in parallel)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_make_windows_shapes_and_alignment():
    s = np.arange(10.0)
    X, y = make_windows(s, window=3)
    assert X.shape == (7, 3, 1) and y.shape == (7, 1)
    np.testing.assert_array_equal(X[2, :, 0], [2, 3, 4])
    assert y[2, 0] == 5
    X, y = make_windows(s, window=4, horizon=2)
    assert X.shape == (5, 4, 1) and y.shape == (5, 2)
    np.testing.assert_array_equal(y[0], [4, 5])
    X, y = make_windows(np.stack([s, -s], axis=1), window=3)
    assert X.shape == (7, 3, 2) and y.shape == (7, 1, 2)


@pytest.mark.parametrize("args, match", [
    ((np.zeros((2, 2, 2)), 2), "1-D"),
    ((np.arange(5.0), 5), "too short"),
    ((np.arange(5.0), 0), "window"),
    ((np.array([1.0, np.nan, 2, 3, 4]), 2), "NaN"),
])
def test_make_windows_errors(args, match):
    with pytest.raises(ValueError, match=match):
        make_windows(*args)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_forecaster_shapes_and_errors(cell):
    model = SequenceForecaster(2, 8, 3, cell=cell)
    assert model(torch.zeros(5, 7, 2)).shape == (5, 3)
    with pytest.raises(ValueError, match=r"shape \(N, T, 2\)"):
        model(torch.zeros(5, 7))
    with pytest.raises(ValueError, match="cell must be one of"):
        SequenceForecaster(cell="transformer")
    with pytest.raises(ValueError, match="hidden_size"):
        SequenceForecaster(hidden_size=0)


def test_forecaster_beats_the_naive_baseline_on_a_noisy_sine():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    t = np.arange(520)
    s = np.sin(2 * np.pi * t / 25) + 0.1 * rng.standard_normal(len(t))
    X, y = make_windows(s, 20)
    Xtr, ytr, Xte, yte = X[:400], y[:400], X[400:], y[400:]
    model = SequenceForecaster(1, 16)
    fit(model, make_loader(Xtr, ytr, 50, seed=0), torch.nn.MSELoss(),
        torch.optim.Adam(model.parameters(), lr=0.02), epochs=12, print_every=0)
    with torch.no_grad():
        pred = model(torch.as_tensor(Xte, dtype=torch.float32)).numpy()[:, 0]
    mse_model = np.mean((pred - yte[:, 0]) ** 2)
    mse_naive = np.mean((naive_forecast(Xte) - yte[:, 0]) ** 2)
    assert mse_model < 0.5 * mse_naive
    with pytest.raises(ValueError, match="N, T, D"):
        naive_forecast(np.zeros(3))


def test_char_vocab_roundtrip_and_errors():
    vocab = CharVocab("hello world")
    assert len(vocab) == 8 and vocab.chars[0] == " "
    ids = vocab.encode("low")
    assert ids.dtype == np.int64
    assert vocab.decode(ids) == "low"
    assert vocab.decode(torch.as_tensor(ids)) == "low"
    with pytest.raises(ValueError, match="not in the vocabulary"):
        vocab.encode("xyz")
    with pytest.raises(ValueError, match="ids must be integers"):
        vocab.decode([0, 99])
    with pytest.raises(ValueError, match="non-empty"):
        CharVocab("")


def test_unigram_loss_is_the_entropy_on_the_training_text():
    ids = np.array([0, 0, 1, 1])
    assert unigram_loss(ids, ids, 2) == pytest.approx(np.log(2))
    # a skewed distribution has lower entropy than a uniform one
    skewed = np.array([0] * 90 + [1] * 10)
    assert unigram_loss(skewed, skewed, 2) < np.log(2)


TEXT = "the cat sat on the mat. " * 60


def _small_lm(cell="gru"):
    torch.manual_seed(0)
    return CharLanguageModel(CharVocab(TEXT), embed_size=8, hidden_size=32, cell=cell)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_lm_shapes_state_and_errors(cell):
    model = _small_lm(cell)
    idx = torch.zeros(3, 5, dtype=torch.long)
    logits, state = model(idx)
    assert logits.shape == (3, 5, len(model.vocab))
    logits2, _ = model(idx, state)  # the state carries over
    assert not torch.allclose(logits, logits2)
    with pytest.raises(ValueError, match="int64"):
        model(torch.zeros(3, 5))
    with pytest.raises(ValueError, match="ids in"):
        model(torch.full((1, 2), 99, dtype=torch.long))
    with pytest.raises(TypeError, match="CharVocab"):
        CharLanguageModel("abc")


def test_char_batches_targets_are_shifted_inputs():
    ids = np.arange(100)
    xb, yb = next(char_batches(ids, 10, 4, torch.Generator().manual_seed(0)))
    assert xb.shape == yb.shape == (4, 10)
    assert torch.equal(yb, xb + 1)
    with pytest.raises(ValueError, match="longer than"):
        next(char_batches(np.arange(5), 10, 2, torch.Generator()))


def test_lm_learns_a_repetitive_text_far_below_the_unigram_loss():
    model = _small_lm()
    ids = model.vocab.encode(TEXT)
    train, val = ids[:1200], ids[1200:]
    before = evaluate_char_model(model, val, seq_len=32)
    history = train_char_model(model, train, val, steps=120, seq_len=24, batch_size=16,
                               lr=0.01, eval_every=40, print_every=0)
    assert history["step"] == [40, 80, 120]
    assert history["val_loss"][-1] < before
    assert history["val_loss"][-1] < 0.5 * unigram_loss(train, val, len(model.vocab))


def test_generate_is_reproducible_and_respects_temperature():
    model = _small_lm()
    ids = model.vocab.encode(TEXT)
    train_char_model(model, ids, ids[:400], steps=80, seq_len=24, batch_size=16, lr=0.01,
                     eval_every=80, print_every=0)
    a = generate(model, "the ", 80, 1.0, seed=3)
    b = generate(model, "the ", 80, 1.0, generator=torch.Generator().manual_seed(3))
    assert a == b and a.startswith("the ") and len(a) == 84
    # temperature 0 is greedy (deterministic whatever the seed)
    assert generate(model, "the ", 40, 0, seed=1) == generate(model, "the ", 40, 0, seed=2)
    # very low temperature sampling matches greedy; a high one wanders off
    cold = generate(model, "the ", 60, 0.01, seed=5)
    assert cold == generate(model, "the ", 60, 0)
    hot = [generate(model, "the ", 60, 5.0, seed=s) for s in range(3)]
    assert len(set(hot)) == 3 and cold not in hot
    assert cold in TEXT + TEXT  # cold sampling reproduces the training text
    wild = generate(model, "the ", 200, 5.0, seed=0)
    bigrams = lambda s: {s[i:i + 2] for i in range(len(s) - 1)}  # noqa: E731
    assert len(bigrams(wild)) > 2 * len(bigrams(cold))
    for bad in (-1.0, float("nan")):
        with pytest.raises(ValueError, match="temperature"):
            generate(model, "the ", 5, bad)
    with pytest.raises(ValueError, match="prefix"):
        generate(model, "", 5)
    with pytest.raises(ValueError, match="not in the vocabulary"):
        generate(model, "XYZ", 5)


# --------------------------------------------------------------------------
# Sequences of different lengths
# --------------------------------------------------------------------------
def test_pad_sequences_and_mask():
    padded, lengths = pad_sequences([np.ones((3, 2)), 2 * np.ones((1, 2))], padding_value=-1)
    assert padded.shape == (2, 3, 2) and lengths.tolist() == [3, 1]
    assert padded[1, 0].tolist() == [2, 2] and padded[1, 1:].eq(-1).all()
    padded_1d, _ = pad_sequences([np.arange(4.0), np.arange(2.0)])
    assert padded_1d.shape == (2, 4, 1)
    mask = length_mask(lengths)
    assert mask.tolist() == [[True, True, True], [True, False, False]]
    assert length_mask(lengths, max_len=5).shape == (2, 5)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_packed_batch_gives_each_sequence_its_own_final_state(cell):
    torch.manual_seed(0)
    model = SequenceClassifier(input_size=2, hidden_size=5, num_classes=3, cell=cell)
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 2)) for n in (4, 1, 6, 3)]
    padded, lengths = pad_sequences(seqs)
    with torch.no_grad():
        alone = torch.cat([model(torch.as_tensor(s, dtype=torch.float32)[None]) for s in seqs])
        packed = model(padded, lengths)
        unpacked = model(padded)
    torch.testing.assert_close(packed, alone, atol=1e-6, rtol=1e-5)
    assert (unpacked - alone).abs().max() > 1e-4       # the padding leaks in without packing


def test_sequence_classifier_learns_the_first_sign_task_on_mixed_lengths():
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((int(n), 1)) for n in rng.integers(3, 10, 400)]
    labels = torch.tensor([int(s[0, 0] > 0) for s in seqs])
    model = SequenceClassifier(1, 16, 2, cell="gru")
    optimizer = torch.optim.Adam(model.parameters(), lr=0.02)
    x, lengths = pad_sequences(seqs)
    for _ in range(60):
        loss = torch.nn.functional.cross_entropy(model(x, lengths), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (model(x, lengths).argmax(1) == labels).float().mean()
    assert accuracy > 0.9


def test_variable_length_helpers_reject_bad_input():
    with pytest.raises(ValueError, match="non-empty list"):
        pad_sequences([])
    with pytest.raises(ValueError, match="same feature size"):
        pad_sequences([np.zeros((2, 1)), np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"sequences\[1\] must have shape \(T, D\)"):
        pad_sequences([np.zeros((2, 1)), np.zeros((0, 1))])
    with pytest.raises(ValueError, match="lengths must be a 1-D sequence of positive"):
        length_mask([2, 0])
    with pytest.raises(ValueError, match="max_len"):
        length_mask([2, 5], max_len=3)
    model = SequenceClassifier(1, 4)
    with pytest.raises(ValueError, match=r"x must have shape \(N, T, 1\)"):
        model(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"lengths must hold 2 integers in \[1, 3\]"):
        model(torch.zeros(2, 3, 1), torch.tensor([1, 4]))


def test_cosine_decay_ends_training_at_a_zero_learning_rate(monkeypatch):
    vocab = CharVocab("abcab cab abc " * 20)
    ids = vocab.encode("abcab cab abc " * 20)
    created = []

    class RecordingAdam(torch.optim.Adam):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            created.append(self)

    monkeypatch.setattr(torch.optim, "Adam", RecordingAdam)
    for decay, final_lr in ((False, 0.01), (True, 0.0)):
        torch.manual_seed(0)
        model = CharLanguageModel(vocab, embed_size=4, hidden_size=8)
        history = train_char_model(model, ids[:200], ids[200:], steps=20, seq_len=8,
                                   batch_size=4, lr=0.01, eval_every=10, print_every=0,
                                   cosine_decay=decay)
        assert history["step"] == [10, 20]
        assert created[-1].param_groups[0]["lr"] == pytest.approx(final_lr, abs=1e-12)
    with pytest.raises(TypeError, match="cosine_decay must be a bool"):
        train_char_model(model, ids[:200], ids[200:], steps=2, seq_len=8, cosine_decay="yes")
