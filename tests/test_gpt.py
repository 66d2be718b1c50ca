"""The small GPT: causality, the key/value cache, the ablation switches, errors,
learning, evaluation and the n-gram baseline."""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.models.gpt import GPT, GPTConfig, evaluate_gpt, ngram_loss, ngram_losses, train_gpt

VARIANTS = [dict(), dict(norm="rms"), dict(mlp="swiglu"), dict(positions="rope"),
            dict(n_kv_head=2), dict(norm="rms", mlp="swiglu", positions="rope", n_kv_head=1)]


def _model(seed=0, **kw):
    torch.manual_seed(seed)
    cfg = dict(vocab_size=11, context=24, n_layer=2, n_head=4, n_embd=16)
    cfg.update(kw)
    return GPT(GPTConfig(**cfg))


@pytest.mark.parametrize("kw", VARIANTS)
def test_future_tokens_do_not_change_earlier_logits(kw):
    model = _model(**kw).eval()
    idx = torch.randint(0, 11, (2, 12), generator=torch.Generator().manual_seed(0))
    changed = idx.clone()
    changed[:, 8:] = (changed[:, 8:] + 3) % 11
    a, b = model(idx), model(changed)
    torch.testing.assert_close(a[:, :8], b[:, :8])
    assert (a[:, 8:] - b[:, 8:]).abs().max() > 1e-4


@pytest.mark.parametrize("kw", VARIANTS)
def test_kv_cache_gives_the_same_logits_and_the_same_tokens(kw):
    model = _model(**kw).eval()
    idx = torch.randint(0, 11, (3, 20), generator=torch.Generator().manual_seed(1))
    full = model(idx)
    caches = model.new_cache()
    pieces = [model(idx[:, :5], caches)] + [model(idx[:, t:t + 1], caches)
                                            for t in range(5, 20)]
    torch.testing.assert_close(torch.cat(pieces, dim=1), full, atol=1e-5, rtol=1e-5)
    prompt = idx[:, :3]
    for temperature in (0.0, 1.0, 1.5):
        with_cache = model.generate(prompt, 21, temperature, use_cache=True,
                                    generator=torch.Generator().manual_seed(7))
        without = model.generate(prompt, 21, temperature, use_cache=False,
                                 generator=torch.Generator().manual_seed(7))
        assert torch.equal(with_cache, without)
        assert with_cache.shape == (3, 24)


def test_parameter_counts_of_the_ablation_match():
    base = _model().num_parameters()
    assert _model(positions="rope").num_parameters() == base - 24 * 16   # no position table
    # SwiGLU's hidden width 8C/3 keeps the MLP at (almost) the GELU MLP's size
    assert abs(_model(mlp="swiglu").num_parameters() - base) <= 0.02 * base
    assert _model(norm="rms").num_parameters() == base - 5 * 16         # no biases in 5 norms
    assert _model(n_kv_head=1).num_parameters() < base


def test_a_tiny_gpt_learns_a_pattern():
    text = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 300)
    model = _model(vocab_size=10, context=16)
    history = train_gpt(model, text, steps=150, batch_size=8, lr=1e-2)
    assert np.mean(history["loss"][-10:]) < 0.1 < history["loss"][0]
    loss = evaluate_gpt(model, text[:200])
    assert loss < 0.5     # nats: only the very first character is unpredictable
    out = model.generate(torch.tensor([[3, 4, 5]]), 10, temperature=0)
    assert out[0].tolist() == [3, 4, 5, 6, 7, 8, 9, 0, 1, 2, 3, 4, 5]


def test_train_gpt_records_the_held_out_loss_without_changing_training():
    text = np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9] * 100)
    plain = train_gpt(_model(vocab_size=10, context=16), text, steps=12, batch_size=4)
    model = _model(vocab_size=10, context=16)
    tracked = train_gpt(model, text, steps=12, batch_size=4, val_ids=text[:100],
                        eval_every=5)
    assert tracked["loss"] == plain["loss"]          # evaluating does not disturb training
    assert tracked["val_step"] == [5, 10, 12]
    assert math.isclose(tracked["val_loss"][-1], evaluate_gpt(model, text[:100]), rel_tol=1e-6)
    assert plain["val_step"] == plain["val_loss"] == []
    with pytest.raises(ValueError, match="val_ids and eval_every go together"):
        train_gpt(model, text, steps=1, eval_every=5)
    with pytest.raises(ValueError, match="val_ids and eval_every go together"):
        train_gpt(model, text, steps=1, val_ids=text)


def test_evaluate_gpt_scores_every_character_once():
    model = _model(context=8).eval()
    ids = np.random.default_rng(0).integers(0, 11, 8)          # fits in one window
    with torch.no_grad():
        logits = model(torch.as_tensor(ids[:-1])[None])[0]
    expected = float(F.cross_entropy(logits, torch.as_tensor(ids[1:])))
    assert math.isclose(evaluate_gpt(model, ids), expected, rel_tol=1e-6)
    long_ids = np.random.default_rng(1).integers(0, 11, 50)
    assert np.isfinite(evaluate_gpt(model, long_ids, stride=3))
    with pytest.raises(ValueError, match="stride"):
        evaluate_gpt(model, long_ids, stride=9)


def test_ngram_baseline():
    rng = np.random.default_rng(0)
    train, test = rng.integers(0, 5, 2000), rng.integers(0, 5, 500)
    counts = np.bincount(train, minlength=5) + 1.0
    unigram = -np.log(counts / counts.sum())[test].mean()
    assert math.isclose(ngram_loss(train, test, 1), unigram)
    periodic = np.tile(np.arange(5), 400)
    assert ngram_loss(periodic, periodic[:100], 2) < 0.1 < ngram_loss(periodic, periodic[:100], 1)


def test_clear_errors():
    model = _model()
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 10\]"):
        model(torch.tensor([[1, 11]]))
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 10\]"):
        model(torch.tensor([[-1, 2]]))
    with pytest.raises(TypeError, match="int64"):
        model(torch.zeros(1, 3))
    with pytest.raises(ValueError, match="longer than the model's context of 24"):
        model(torch.zeros(1, 25, dtype=torch.long))
    with pytest.raises(ValueError, match="exceed the model's context of 24"):
        model.generate(torch.zeros(1, 20, dtype=torch.long), 5)
    with pytest.raises(ValueError, match="temperature"):
        model.generate(torch.zeros(1, 2, dtype=torch.long), 5, temperature=-1)
    with pytest.raises(ValueError, match=r"n_embd \(18\) must be divisible by n_head \(4\)"):
        GPTConfig(vocab_size=5, n_embd=18, n_head=4)
    with pytest.raises(ValueError, match=r"multiple of n_kv_head \(3\)"):
        GPTConfig(vocab_size=5, n_embd=16, n_head=4, n_kv_head=3)
    with pytest.raises(ValueError, match="norm must be one of"):
        GPTConfig(vocab_size=5, norm="batch")
    with pytest.raises(ValueError, match="vocab_size"):
        GPTConfig(vocab_size=0)
    with pytest.raises(ValueError, match="seq_len"):
        train_gpt(model, np.arange(100) % 11, steps=1, seq_len=30)


def test_ngram_losses_agree_with_single_orders():
    rng = np.random.default_rng(2)
    train, test = rng.integers(0, 4, 600), rng.integers(0, 4, 100)
    all_orders = ngram_losses(train, test, 4)
    for n in range(1, 5):
        assert math.isclose(all_orders[n], ngram_loss(train, test, n))
    with pytest.raises(ValueError, match="max_order"):
        ngram_losses(train, test, 0)


@pytest.mark.parametrize("kw", VARIANTS)
def test_attention_maps_are_causal_and_reproduce_the_attention_output(kw):
    model = _model(**kw).eval()
    idx = torch.randint(0, 11, (2, 9), generator=torch.Generator().manual_seed(3))
    maps = model.attention_maps(idx)
    assert len(maps) == 2 and maps[0].shape == (2, 4, 9, 9)
    for A in maps:
        torch.testing.assert_close(A.sum(-1), torch.ones(2, 4, 9))
        assert A.triu(1).abs().max() == 0                 # no weight on the future
    # the first block's weights times its values give its attention output
    attn, z = model.blocks[0].attn, model.blocks[0].norm1(model.tok(idx)
                                                          + (model.pos(torch.arange(9))
                                                             if model.pos is not None else 0))
    v = attn.kv(z).view(2, 9, 2, attn.n_kv_head, attn.head_dim)[:, :, 1].transpose(1, 2)
    v = v.repeat_interleave(attn.n_head // attn.n_kv_head, dim=1)
    y = attn.proj((maps[0] @ v).transpose(1, 2).reshape(2, 9, 16))
    with torch.no_grad():
        torch.testing.assert_close(y, attn(z), atol=1e-5, rtol=1e-5)
    with pytest.raises(ValueError, match="token ids"):
        model.attention_maps(torch.tensor([[0, 11]]))
