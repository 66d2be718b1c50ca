"""The recurrent encoder-decoder: shapes, attention weights, greedy decoding, learning."""
import numpy as np
import pytest
import torch

from nnbook.models.seq2seq import Seq2Seq, reversal_batch, sequence_accuracy, train_seq2seq


def test_reversal_batch_reverses():
    source, target = reversal_batch(3, 5, 7, torch.Generator().manual_seed(0))
    assert source.shape == target.shape == (3, 5)
    assert int(source.max()) < 7
    torch.testing.assert_close(target, source.flip(1))


@pytest.mark.parametrize("attention", [False, True])
def test_shapes_and_attention_weights(attention):
    torch.manual_seed(0)
    model = Seq2Seq(6, hidden_size=8, attention=attention)
    source, target = reversal_batch(4, 5, 6, torch.Generator().manual_seed(1))
    logits = model(source, target)
    assert logits.shape == (4, 5, 6)
    out = model.greedy_decode(source, 7)
    assert out.shape == (4, 7) and int(out.max()) < 6
    if attention:
        weights = model.attention_weights_
        assert weights.shape == (4, 7, 5)
        torch.testing.assert_close(weights.sum(-1), torch.ones(4, 7))
    else:
        assert model.attention_weights_ is None


@pytest.mark.parametrize("attention", [False, True])
def test_greedy_decoding_agrees_with_teacher_forcing_on_its_own_output(attention):
    """Feeding the greedy output back as the 'target' must reproduce the same
    argmax at every step: both paths run the same decoder."""
    torch.manual_seed(0)
    model = Seq2Seq(5, hidden_size=8, attention=attention).eval()
    source, _ = reversal_batch(3, 4, 5, torch.Generator().manual_seed(2))
    greedy = model.greedy_decode(source, 4)
    with torch.no_grad():
        forced = model(source, greedy).argmax(-1)
    torch.testing.assert_close(forced, greedy)


def test_attention_model_learns_to_reverse_short_sequences():
    torch.manual_seed(0)
    model = Seq2Seq(5, hidden_size=32, attention=True)
    losses = train_seq2seq(model, [3, 4], steps=250, batch_size=32, lr=0.01, seed=0)
    assert np.mean(losses[-20:]) < 0.3 * np.mean(losses[:20])
    per_digit, whole = sequence_accuracy(model, 4, n=200)
    assert per_digit > 0.9 and whole > 0.6


def test_bad_inputs_are_rejected():
    model = Seq2Seq(5, hidden_size=4)
    with pytest.raises(ValueError, match="n_symbols must be a positive integer"):
        Seq2Seq(0)
    with pytest.raises(TypeError, match="attention must be a bool"):
        Seq2Seq(5, attention="yes")
    with pytest.raises(ValueError, match=r"source must be a \(N, T\) tensor of int64"):
        model.encode(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"source must hold symbols in \[0, 4\]"):
        model.encode(torch.full((2, 3), 5))
    with pytest.raises(ValueError, match="same batch size"):
        model(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long))
    with pytest.raises(ValueError, match="lengths must hold at least one"):
        train_seq2seq(model, [], steps=1)
    with pytest.raises(ValueError, match="length must be a positive integer"):
        reversal_batch(2, 0, 5, torch.Generator())
