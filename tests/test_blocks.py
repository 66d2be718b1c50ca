"""Today's building blocks from scratch (RMSNorm, SwiGLU, RoPE, grouped-query
attention, top-k mixture of experts) against torch or their defining property."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.models.gpt import rotary_embedding as torch_rope
from nnbook.scratch.blocks import TopKMoE, grouped_query_attention, rotary_embedding, swiglu
from nnbook.scratch.gradcheck import numerical_gradient
from nnbook.scratch.normalization import RMSNorm


def test_rmsnorm_matches_torch_forward_and_backward():
    rng = np.random.default_rng(0)
    X, dY = rng.normal(2.0, 3.0, size=(2, 5, 6)), rng.normal(size=(2, 5, 6))
    ours = RMSNorm(6)
    ours.gamma.data = rng.normal(1, 0.3, 6)
    theirs = torch.nn.RMSNorm(6, eps=1e-6).double()
    with torch.no_grad():
        theirs.weight.copy_(torch.from_numpy(ours.gamma.data))
    Y, dX = ours.forward(X), ours.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    theirs(Xt).backward(torch.from_numpy(dY))
    np.testing.assert_allclose(Y, theirs(Xt).detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(ours.gamma.grad, theirs.weight.grad.numpy(), atol=1e-12)


def test_rmsnorm_gradient_finite_differences_and_errors():
    rng = np.random.default_rng(1)
    X, R = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    n = RMSNorm(4)
    n.forward(X)
    dX = n.backward(R)
    numeric = numerical_gradient(lambda: float((n.forward(X) * R).sum()), X)
    np.testing.assert_allclose(dX, numeric, atol=1e-7)
    with pytest.raises(ValueError, match="4 features"):
        n.forward(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="num_features"):
        RMSNorm(0)
    with pytest.raises(RuntimeError, match="before forward"):
        RMSNorm(3).backward(np.zeros((1, 3)))


def test_swiglu_matches_torch():
    rng = np.random.default_rng(2)
    X, Wg, Wu, Wd = (rng.normal(size=s) for s in ((4, 3, 6), (6, 10), (6, 10), (10, 6)))
    Xt, Wgt, Wut, Wdt = (torch.from_numpy(a) for a in (X, Wg, Wu, Wd))
    expected = (F.silu(Xt @ Wgt) * (Xt @ Wut)) @ Wdt
    np.testing.assert_allclose(swiglu(X, Wg, Wu, Wd), expected.numpy(), atol=1e-12)
    with pytest.raises(ValueError, match="W_gate and W_up"):
        swiglu(X, Wg, Wu[:, :5], Wd)
    with pytest.raises(ValueError, match="W_down"):
        swiglu(X, Wg, Wu, Wd[:5])


def test_rope_scores_depend_only_on_relative_position():
    rng = np.random.default_rng(3)
    q, k = rng.normal(size=(1, 8)), rng.normal(size=(1, 8))

    def score(p, s):
        return float((rotary_embedding(q, [p]) @ rotary_embedding(k, [s]).T)[0, 0])

    for offset in (0, 1, 5, 37):
        np.testing.assert_allclose(score(3 + offset, 1 + offset), score(3, 1), atol=1e-10)
        np.testing.assert_allclose(score(1 + offset, 6 + offset), score(1, 6), atol=1e-10)
    assert abs(score(3, 1) - score(4, 1)) > 1e-3         # but it does depend on p - s
    X = rng.normal(size=(2, 5, 8))                       # a rotation keeps the norms
    np.testing.assert_allclose(np.linalg.norm(rotary_embedding(X), axis=-1),
                               np.linalg.norm(X, axis=-1))
    with pytest.raises(ValueError, match="even"):
        rotary_embedding(rng.normal(size=(4, 5)))
    with pytest.raises(ValueError, match="positions must have length 4"):
        rotary_embedding(rng.normal(size=(4, 6)), positions=[0, 1])


def test_rope_numpy_and_torch_agree():
    X = np.random.default_rng(4).normal(size=(2, 3, 7, 8))
    ours = rotary_embedding(X, positions=np.arange(5, 12))
    theirs = torch_rope(torch.from_numpy(X), offset=5).numpy()
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_grouped_query_attention_matches_torch_sdpa():
    rng = np.random.default_rng(5)
    Q = rng.normal(size=(2, 6, 5, 4))
    K, V = rng.normal(size=(2, 2, 5, 4)), rng.normal(size=(2, 2, 5, 4))
    causal = np.tril(np.ones((5, 5), dtype=bool))
    outputs = {}
    for mask in (None, causal):
        O, A = grouped_query_attention(Q, K, V, mask)
        expected = F.scaled_dot_product_attention(
            *(torch.from_numpy(a) for a in (Q, K, V)),
            attn_mask=None if mask is None else torch.from_numpy(mask), enable_gqa=True)
        np.testing.assert_allclose(O, expected.numpy(), atol=1e-12)
        outputs[mask is None] = O
    # query heads 0-2 share key/value head 0, heads 3-5 share head 1
    for g in (0, 1):
        heads = slice(3 * g, 3 * g + 3)
        O_group, _ = grouped_query_attention(Q[:, heads], K[:, g:g + 1], V[:, g:g + 1])
        np.testing.assert_allclose(outputs[True][:, heads], O_group, atol=1e-12)
    assert A.shape == (2, 6, 5, 5)
    with pytest.raises(ValueError, match="multiple of the number of key/value heads"):
        grouped_query_attention(rng.normal(size=(1, 3, 2, 4)), K[:1, :, :2], V[:1, :, :2])
    with pytest.raises(ValueError, match="same number of heads"):
        grouped_query_attention(Q, K, V[:, :1])


def test_moe_routes_each_token_to_its_top_k_experts():
    rng = np.random.default_rng(6)
    moe = TopKMoE(dim=4, hidden=8, num_experts=5, k=2, seed=0)
    X = rng.normal(size=(30, 4))
    out, balance, counts = moe(X)
    scores = X @ moe.W_router
    for t in range(len(X)):                    # token by token, the definition
        best = np.argsort(-scores[t])[:2]
        g = np.exp(scores[t, best] - scores[t, best].max())
        g /= g.sum()
        expected = sum(g[i] * moe.expert(e, X[t:t + 1])[0] for i, e in enumerate(best))
        np.testing.assert_allclose(out[t], expected, atol=1e-12)
    assert counts.sum() == 2 * len(X)
    assert 0 < balance <= moe.num_experts


def test_moe_load_balancing_loss_is_one_when_uniform_and_grows_when_collapsed():
    moe = TopKMoE(dim=3, hidden=4, num_experts=4, k=1, seed=0)
    X = np.random.default_rng(7).normal(size=(400, 3))
    moe.W_router = np.zeros((3, 4))                 # equal scores: ties go to expert 0
    _, collapsed, counts = moe(X)
    assert counts.tolist() == [400, 0, 0, 0]
    np.testing.assert_allclose(collapsed, 1.0)      # f = (1,0,0,0), P uniform: 4 * 1/4
    moe = TopKMoE(dim=4, hidden=4, num_experts=4, k=1, seed=0)
    moe.W_router = 50.0 * np.eye(4)                 # token type e goes to expert e, surely
    _, balanced, counts = moe(np.repeat(np.eye(4), 100, axis=0))
    assert counts.tolist() == [100, 100, 100, 100]
    np.testing.assert_allclose(balanced, 1.0, atol=1e-9)
    _, confident_collapse, counts = moe(np.repeat(np.eye(4)[:1], 400, axis=0))
    assert counts.tolist() == [400, 0, 0, 0]
    np.testing.assert_allclose(confident_collapse, 4.0, atol=1e-9)   # its maximum, E


def test_moe_errors():
    with pytest.raises(ValueError, match=r"k \(5\) must not exceed num_experts \(4\)"):
        TopKMoE(dim=3, hidden=4, num_experts=4, k=5)
    with pytest.raises(ValueError, match="num_experts"):
        TopKMoE(dim=3, hidden=4, num_experts=0)
    moe = TopKMoE(dim=3, hidden=4, num_experts=4, k=2, seed=0)
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        moe(np.zeros((5, 2)))


def test_moe_balance_gradient_matches_finite_differences_and_balances():
    rng = np.random.default_rng(8)
    moe = TopKMoE(dim=5, hidden=4, num_experts=4, k=2, seed=1)
    X = rng.normal(size=(60, 5))
    top, _, _ = moe.route(X)
    f = np.bincount(top.ravel(), minlength=4) / top.size       # the loads, held fixed

    def loss_with_fixed_loads():
        scores = X @ moe.W_router
        p = np.exp(scores - scores.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        return 4 * float(np.sum(f * p.mean(axis=0)))

    np.testing.assert_allclose(loss_with_fixed_loads(), moe(X)[1])
    numeric = numerical_gradient(loss_with_fixed_loads, moe.W_router)
    np.testing.assert_allclose(moe.balance_gradient(X), numeric, atol=1e-8)
    # descending the balance loss alone spreads a skewed router's load
    moe = TopKMoE(dim=5, hidden=4, num_experts=4, k=1, seed=1)
    X = rng.normal(size=(400, 5))
    moe.W_router[:, 0] += 3.0 * X.mean(axis=0) / np.linalg.norm(X.mean(axis=0)) + 1.0
    _, before, counts_before = moe(X)
    for _ in range(200):
        moe.W_router -= 5.0 * moe.balance_gradient(X)
    _, after, counts_after = moe(X)
    assert after < before and counts_after.max() < counts_before.max()
    with pytest.raises(ValueError, match=r"\(T, 5\)"):
        moe.balance_gradient(np.zeros((3, 4)))


def test_swiglu_is_quiet_and_finite_for_large_negative_gates():
    import warnings
    X = np.full((2, 3), -800.0)
    W = np.ones((3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")           # exp(-z) overflowing would warn
        out = swiglu(X, W, W, np.ones((4, 2)))
    assert np.all(np.isfinite(out))


def test_balance_loss_is_at_most_E_over_k_and_reaches_it_when_routing_collapses():
    rng = np.random.default_rng(3)
    moe = TopKMoE(dim=4, hidden=8, num_experts=6, k=2, seed=0)
    X = rng.normal(size=(50, 4))
    for _ in range(20):                                   # random routers stay below E/k
        moe.W_router = rng.normal(size=(4, 6)) * rng.uniform(0.1, 10)
        assert moe.forward(X)[1] <= 6 / 2 + 1e-12
    X_pos = np.abs(X) + 1.0                               # every feature positive
    moe.W_router = np.zeros((4, 6))
    moe.W_router[:, :2] = 50.0                            # experts 0 and 1, with certainty
    _, balance, counts = moe.forward(X_pos)
    assert list(counts[:2]) == [50, 50] and counts[2:].sum() == 0
    assert balance == pytest.approx(6 / 2, rel=1e-6)
