"""From-scratch attention against torch.nn.functional.scaled_dot_product_attention,
torch.nn.MultiheadAttention and finite differences."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.scratch.attention import (MultiHeadAttention, scaled_dot_product_attention,
                                      scaled_dot_product_attention_backward,
                                      sinusoidal_positional_encoding)
from nnbook.scratch.gradcheck import numerical_gradient

SDPA_SHAPES = [  # (batch dims, Lq, Lk, d, dv)
    ((), 1, 1, 1, 1),
    ((2,), 3, 5, 4, 6),
    ((2, 3), 4, 4, 8, 8),
    ((1,), 7, 2, 3, 5),
]


def _t(a):
    return torch.tensor(a, requires_grad=True)


@pytest.mark.parametrize("batch,Lq,Lk,d,dv", SDPA_SHAPES)
@pytest.mark.parametrize("masked", [False, True])
def test_sdpa_matches_torch(batch, Lq, Lk, d, dv, masked, rng):
    Q = rng.normal(size=(*batch, Lq, d))
    K = rng.normal(size=(*batch, Lk, d))
    V = rng.normal(size=(*batch, Lk, dv))
    mask = None
    if masked:
        mask = rng.random((Lq, Lk)) > 0.4
        mask[:, 0] = True                       # every query sees at least one key
    O, A = scaled_dot_product_attention(Q, K, V, mask)
    np.testing.assert_allclose(A.sum(axis=-1), 1.0, atol=1e-12)
    dO = rng.normal(size=O.shape)
    dQ, dK, dV = scaled_dot_product_attention_backward(dO, Q, K, V, A)
    Qt, Kt, Vt = _t(Q), _t(K), _t(V)
    Ot = F.scaled_dot_product_attention(Qt, Kt, Vt, attn_mask=None if mask is None
                                        else torch.from_numpy(mask))
    Ot.backward(torch.from_numpy(dO))
    np.testing.assert_allclose(O, Ot.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dQ, Qt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dK, Kt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(dV, Vt.grad.numpy(), atol=1e-10)
    if mask is not None:
        assert np.all(A[..., ~mask] == 0)


def test_sdpa_causal_and_float_mask(rng):
    Q, K, V = (rng.normal(size=(2, 5, 4)) for _ in range(3))
    causal = np.tril(np.ones((5, 5), dtype=bool))
    O, A = scaled_dot_product_attention(Q, K, V, causal)
    Ot = F.scaled_dot_product_attention(*map(torch.from_numpy, (Q, K, V)), is_causal=True)
    np.testing.assert_allclose(O, Ot.numpy(), atol=1e-10)
    additive = np.where(causal, 0.0, -np.inf)
    O2, _ = scaled_dot_product_attention(Q, K, V, additive)
    np.testing.assert_allclose(O, O2, atol=1e-12)


def test_sdpa_finite_differences(rng):
    Q, K, V = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 5, 2))
    mask = np.ones((3, 5), dtype=bool)
    mask[1, 2:] = False
    W = rng.normal(size=(2, 3, 2))

    def loss():
        return float(np.sum(W * scaled_dot_product_attention(Q, K, V, mask)[0]))

    O, A = scaled_dot_product_attention(Q, K, V, mask)
    grads = scaled_dot_product_attention_backward(W, Q, K, V, A)
    for X, g in zip((Q, K, V), grads):
        np.testing.assert_allclose(g, numerical_gradient(loss, X), atol=1e-6)


def _torch_mha(mha, seed=0):
    torch.manual_seed(seed)
    t = torch.nn.MultiheadAttention(mha.embed_dim, mha.num_heads, batch_first=True).double()
    with torch.no_grad():                       # random biases so that they are tested too
        t.in_proj_bias.normal_()
        t.out_proj.bias.normal_()
    mha.load_torch_state_dict(t.state_dict())
    return t


@pytest.mark.parametrize("N,Lq,Lk,E,H", [(1, 1, 1, 2, 1), (2, 4, 4, 8, 2), (3, 5, 3, 12, 4),
                                         (2, 6, 6, 6, 6)])
@pytest.mark.parametrize("masked", [False, True])
def test_mha_matches_torch(N, Lq, Lk, E, H, masked, rng):
    mha = MultiHeadAttention(E, H, seed=0)
    t = _torch_mha(mha)
    q, k, v = rng.normal(size=(N, Lq, E)), rng.normal(size=(N, Lk, E)), rng.normal(size=(N, Lk, E))
    mask = None
    if masked:
        mask = rng.random((Lq, Lk)) > 0.5
        mask[:, -1] = True
    out, w = mha.forward(q, k, v, mask)
    dOut = rng.normal(size=out.shape)
    dq, dk, dv = mha.backward(dOut)
    qt, kt, vt = _t(q), _t(k), _t(v)
    out_t, w_t = t(qt, kt, vt, attn_mask=None if mask is None else torch.from_numpy(~mask),
                   need_weights=True, average_attn_weights=True)
    out_t.backward(torch.from_numpy(dOut))
    np.testing.assert_allclose(out, out_t.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(w, w_t.detach().numpy(), atol=1e-10)
    for ours, theirs in ((dq, qt), (dk, kt), (dv, vt)):
        np.testing.assert_allclose(ours, theirs.grad.numpy(), atol=1e-10)
    E_ = E
    g = t.in_proj_weight.grad.numpy()
    np.testing.assert_allclose(mha.W_q.grad, g[:E_].T, atol=1e-10)
    np.testing.assert_allclose(mha.W_k.grad, g[E_:2 * E_].T, atol=1e-10)
    np.testing.assert_allclose(mha.W_v.grad, g[2 * E_:].T, atol=1e-10)
    gb = t.in_proj_bias.grad.numpy()
    np.testing.assert_allclose(np.concatenate([mha.b_q.grad, mha.b_k.grad, mha.b_v.grad]), gb,
                               atol=1e-10)
    np.testing.assert_allclose(mha.W_o.grad, t.out_proj.weight.grad.numpy().T, atol=1e-10)
    np.testing.assert_allclose(mha.b_o.grad, t.out_proj.bias.grad.numpy(), atol=1e-10)


def test_mha_self_attention_and_state_dict_roundtrip(rng):
    mha = MultiHeadAttention(8, 2, seed=3)
    x = rng.normal(size=(2, 5, 8))
    out_self, _ = mha(x)
    out_explicit, _ = mha(x, x, x)
    np.testing.assert_allclose(out_self, out_explicit)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True).double()
    t.load_state_dict({k: torch.from_numpy(v) for k, v in mha.torch_state_dict().items()})
    out_t, _ = t(*(torch.from_numpy(x),) * 3)
    np.testing.assert_allclose(out_self, out_t.detach().numpy(), atol=1e-10)
    assert mha.head_weights.shape == (2, 2, 5, 5)


def test_mha_finite_differences(rng):
    mha = MultiHeadAttention(4, 2, seed=1)
    for b in (mha.b_q, mha.b_k, mha.b_v, mha.b_o):
        b.data = rng.normal(size=b.shape)
    x = rng.normal(size=(2, 3, 4))
    W = rng.normal(size=(2, 3, 4))

    def loss():
        return float(np.sum(W * mha(x)[0]))

    mha(x)
    dq, dk, dv = mha.backward(W)
    np.testing.assert_allclose(dq + dk + dv, numerical_gradient(loss, x), atol=1e-6)
    for p in mha.parameters():
        np.testing.assert_allclose(p.grad, numerical_gradient(loss, p.data), atol=1e-6)


def test_positional_encoding():
    pe = sinusoidal_positional_encoding(50, 16)
    assert pe.shape == (50, 16)
    np.testing.assert_allclose(pe[0, 0::2], 0.0)
    np.testing.assert_allclose(pe[0, 1::2], 1.0)
    np.testing.assert_allclose(pe[7, 0], np.sin(7.0))
    np.testing.assert_allclose(pe[7, 3], np.cos(7.0 / 10000 ** (2 / 16)))
    assert sinusoidal_positional_encoding(4, 5).shape == (4, 5)
    assert len({tuple(np.round(r, 8)) for r in pe}) == 50       # every position is distinct


def test_bad_inputs(rng):
    with pytest.raises(ValueError, match="divisible"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match="positive integer"):
        MultiHeadAttention(0, 1)
    mha = MultiHeadAttention(4, 2, seed=0)
    with pytest.raises(ValueError, match=r"shape \(N, L, 4\)"):
        mha(np.ones((2, 3, 5)))
    with pytest.raises(ValueError, match="3-D"):
        mha(np.ones((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        mha(np.full((1, 2, 4), np.nan))
    with pytest.raises(ValueError, match="share"):
        mha(np.ones((1, 2, 4)), np.ones((1, 3, 4)), np.ones((1, 2, 4)))
    with pytest.raises(RuntimeError, match="before forward"):
        MultiHeadAttention(4, 2).backward(np.ones((1, 2, 4)))
    Q = np.ones((2, 3))
    with pytest.raises(ValueError, match="same feature size"):
        scaled_dot_product_attention(Q, np.ones((2, 4)), np.ones((2, 4)))
    with pytest.raises(ValueError, match="same length"):
        scaled_dot_product_attention(Q, np.ones((2, 3)), np.ones((4, 3)))
    with pytest.raises(ValueError, match="NaN"):
        scaled_dot_product_attention(np.array([[np.nan]]), np.ones((1, 1)), np.ones((1, 1)))
    with pytest.raises(ValueError, match="broadcast"):
        scaled_dot_product_attention(Q, Q, Q, mask=np.ones((3, 3), dtype=bool))
    with pytest.raises(ValueError, match="broadcast"):     # more axes than the scores
        scaled_dot_product_attention(Q, Q, Q, mask=np.ones((4, 2, 2), dtype=bool))
    with pytest.raises(ValueError, match="forbids every key"):     # -inf in a float mask
        scaled_dot_product_attention(Q, Q, Q, mask=np.array([[0.0, 0.0], [-np.inf, -np.inf]]))
    with pytest.raises(ValueError, match="forbids every key"):
        scaled_dot_product_attention(Q, Q, Q, mask=np.array([[True, False], [False, False]]))
    with pytest.raises(ValueError, match="positive integer"):
        sinusoidal_positional_encoding(0, 4)
    with pytest.raises(KeyError, match="in_proj_weight"):
        mha.load_torch_state_dict({})
