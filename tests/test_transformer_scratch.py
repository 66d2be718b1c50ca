"""The NumPy Transformer block against the same block built from torch.nn modules."""

import numpy as np
import pytest
import torch
from torch import nn

from nnbook.scratch.gradcheck import numerical_gradient
from nnbook.scratch.transformer import TransformerBlock, causal_mask, gelu, gelu_derivative


class TorchBlock(nn.Module):
    def __init__(self, E, H, F):
        super().__init__()
        self.ln1, self.ln2 = nn.LayerNorm(E), nn.LayerNorm(E)
        self.attn = nn.MultiheadAttention(E, H, batch_first=True)
        self.fc1, self.fc2 = nn.Linear(E, F), nn.Linear(F, E)

    def forward(self, x, causal=True):
        L = x.shape[1]
        forbidden = torch.ones(L, L, dtype=torch.bool).triu(1)      # torch: True = forbidden
        forbidden = forbidden if causal else None
        z = self.ln1(x)
        h = x + self.attn(z, z, z, attn_mask=forbidden, need_weights=False)[0]
        return h + self.fc2(nn.functional.gelu(self.fc1(self.ln2(h)), approximate="tanh"))


def _pair(E=8, H=2, F=12, seed=0, causal=True):
    torch.manual_seed(seed)
    theirs = TorchBlock(E, H, F).double()
    ours = TransformerBlock(E, H, F, causal=causal, seed=seed)
    rng = np.random.default_rng(seed)
    with torch.no_grad():       # non-trivial norm parameters and biases
        for p in (theirs.ln1.weight, theirs.ln2.weight):
            p.copy_(torch.from_numpy(rng.normal(1, 0.3, E)))
        for p in (theirs.ln1.bias, theirs.ln2.bias, theirs.fc1.bias, theirs.fc2.bias,
                  theirs.attn.in_proj_bias, theirs.attn.out_proj.bias):
            p.copy_(torch.from_numpy(rng.normal(0, 0.3, p.shape)))
    ours.attn.load_torch_state_dict(theirs.attn.state_dict())
    for mine, t in ((ours.ln1, theirs.ln1), (ours.ln2, theirs.ln2)):
        mine.gamma.data = t.weight.detach().numpy().copy()
        mine.beta.data = t.bias.detach().numpy().copy()
    for mine, t in ((ours.fc1, theirs.fc1), (ours.fc2, theirs.fc2)):
        mine.W.data = t.weight.detach().numpy().T.copy()
        mine.b.data = t.bias.detach().numpy().copy()
    ours.zero_grad()
    return ours, theirs


def test_gelu_matches_torch_and_its_derivative():
    z = np.linspace(-5, 5, 101)
    zt = torch.tensor(z, requires_grad=True)
    out = nn.functional.gelu(zt, approximate="tanh")
    out.sum().backward()
    np.testing.assert_allclose(gelu(z), out.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(gelu_derivative(z), zt.grad.numpy(), atol=1e-12)


def test_block_forward_and_all_gradients_match_torch():
    ours, theirs = _pair()
    rng = np.random.default_rng(1)
    X = rng.normal(size=(3, 5, 8))
    dY = rng.normal(size=X.shape)
    Y = ours.forward(X)
    dX = ours.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    Yt = theirs(Xt)
    Yt.backward(torch.from_numpy(dY))
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-10)
    a = ours.attn
    pairs = [
        (ours.ln1.gamma.grad, theirs.ln1.weight.grad),
        (ours.ln1.beta.grad, theirs.ln1.bias.grad),
        (ours.ln2.gamma.grad, theirs.ln2.weight.grad),
        (ours.ln2.beta.grad, theirs.ln2.bias.grad),
        (ours.fc1.W.grad.T, theirs.fc1.weight.grad), (ours.fc1.b.grad, theirs.fc1.bias.grad),
        (ours.fc2.W.grad.T, theirs.fc2.weight.grad), (ours.fc2.b.grad, theirs.fc2.bias.grad),
        (np.concatenate([a.W_q.grad.T, a.W_k.grad.T, a.W_v.grad.T]),
         theirs.attn.in_proj_weight.grad),
        (np.concatenate([a.b_q.grad, a.b_k.grad, a.b_v.grad]), theirs.attn.in_proj_bias.grad),
        (a.W_o.grad.T, theirs.attn.out_proj.weight.grad),
        (a.b_o.grad, theirs.attn.out_proj.bias.grad),
    ]
    for mine, t in pairs:
        np.testing.assert_allclose(mine, t.numpy(), atol=1e-10)


def test_block_is_causal():
    """Changing a later position never changes an earlier output."""
    ours, _ = _pair()
    X = np.random.default_rng(2).normal(size=(1, 6, 8))
    Y = ours.forward(X)
    X2 = X.copy()
    # a random change (adding a constant to every feature would vanish in the LayerNorm,
    # and the earlier outputs would stay put even without the mask)
    X2[0, 4:] += np.random.default_rng(5).normal(size=(2, 8))
    Y2 = ours.forward(X2)
    np.testing.assert_allclose(Y[0, :4], Y2[0, :4], atol=1e-12)
    assert np.abs(Y[0, 4:] - Y2[0, 4:]).max() > 1e-3


def test_block_input_gradient_against_finite_differences():
    ours, _ = _pair(E=4, H=2, F=6)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(2, 3, 4))
    R = rng.normal(size=(2, 3, 4))
    ours.forward(X)
    dX = ours.backward(R)
    numeric = numerical_gradient(lambda: float((ours.forward(X) * R).sum()), X)
    np.testing.assert_allclose(dX, numeric, atol=1e-6)


def test_causal_mask_and_errors():
    assert causal_mask(3).tolist() == [[True, False, False], [True, True, False],
                                       [True, True, True]]
    with pytest.raises(ValueError, match="length"):
        causal_mask(0)
    with pytest.raises(ValueError, match="divisible"):
        TransformerBlock(6, 4)
    with pytest.raises(ValueError, match="ff_dim"):
        TransformerBlock(8, 2, ff_dim=0)
    block = TransformerBlock(8, 2, seed=0)
    with pytest.raises(ValueError, match=r"\(N, L, 8\)"):
        block.forward(np.zeros((2, 3, 5)))
    with pytest.raises(RuntimeError, match="before forward"):
        TransformerBlock(8, 2, seed=0).backward(np.zeros((1, 2, 8)))


def test_encoder_block_without_mask_matches_torch_and_sees_the_future():
    ours, theirs = _pair(causal=False)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(2, 5, 8))
    dY = rng.normal(size=X.shape)
    Y, dX = ours.forward(X), ours.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    Yt = theirs(Xt, causal=False)
    Yt.backward(torch.from_numpy(dY))
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-10)
    X2 = X.copy()
    X2[:, -1] += rng.normal(size=8)   # without the mask, the first position reads the last
    assert np.abs(ours.forward(X2)[:, 0] - Y[:, 0]).max() > 1e-3


def _torch_and_scratch_gpt(seed=0):
    from nnbook.models.gpt import GPT, GPTConfig
    from nnbook.scratch.transformer import ScratchGPT
    torch.manual_seed(seed)
    theirs = GPT(GPTConfig(vocab_size=13, context=10, n_layer=2, n_head=2, n_embd=8)).double()
    with torch.no_grad():      # non-trivial norms and read-out bias
        for name, p in theirs.named_parameters():
            if "norm" in name or name == "head.bias":
                p.add_(torch.randn(p.shape, dtype=p.dtype) * 0.3)
    ours = ScratchGPT(13, 10, n_layer=2, n_head=2, n_embd=8, seed=seed)
    ours.load_torch_state_dict(theirs.state_dict())
    return ours, theirs


def test_scratch_gpt_matches_the_torch_gpt_forward_and_backward():
    ours, theirs = _torch_and_scratch_gpt()
    rng = np.random.default_rng(6)
    ids = rng.integers(0, 13, (3, 9))
    ids[0, :4] = 5                          # a repeated token: its row collects 4 gradients
    dlogits = rng.normal(size=(3, 9, 13))
    logits = ours.forward(ids)
    ours.backward(dlogits)
    logits_t = theirs(torch.as_tensor(ids))
    logits_t.backward(torch.from_numpy(dlogits))
    np.testing.assert_allclose(logits, logits_t.detach().numpy(), atol=1e-10)
    ours_grads = {"tok.weight": ours.tok.grad, "pos.weight": ours.pos.grad,
                  "norm.weight": ours.ln_f.gamma.grad, "norm.bias": ours.ln_f.beta.grad,
                  "head.weight": ours.head.W.grad.T, "head.bias": ours.head.b.grad}
    for i, block in enumerate(ours.blocks):
        a = block.attn
        ours_grads.update({
            f"blocks.{i}.norm1.weight": block.ln1.gamma.grad,
            f"blocks.{i}.norm1.bias": block.ln1.beta.grad,
            f"blocks.{i}.attn.q.weight": a.W_q.grad.T,
            f"blocks.{i}.attn.kv.weight": np.concatenate([a.W_k.grad.T, a.W_v.grad.T]),
            f"blocks.{i}.attn.proj.weight": a.W_o.grad.T,
            f"blocks.{i}.norm2.weight": block.ln2.gamma.grad,
            f"blocks.{i}.norm2.bias": block.ln2.beta.grad,
            f"blocks.{i}.mlp.up.weight": block.fc1.W.grad.T,
            f"blocks.{i}.mlp.down.weight": block.fc2.W.grad.T})
    theirs_grads = {name: p.grad.numpy() for name, p in theirs.named_parameters()}
    assert set(ours_grads) == set(theirs_grads)          # every parameter is compared
    for name, grad in theirs_grads.items():
        np.testing.assert_allclose(ours_grads[name], grad, atol=1e-10, err_msg=name)


def test_scratch_gpt_is_causal_and_checks_its_input():
    from nnbook.models.gpt import GPT, GPTConfig
    from nnbook.scratch.transformer import ScratchGPT
    ours, _ = _torch_and_scratch_gpt()
    ids = np.random.default_rng(7).integers(0, 13, (1, 8))
    changed = ids.copy()
    changed[0, 5:] = (changed[0, 5:] + 1) % 13
    a, b = ours.forward(ids), ours.forward(changed)
    np.testing.assert_allclose(a[0, :5], b[0, :5], atol=1e-12)
    assert np.abs(a[0, 5:] - b[0, 5:]).max() > 1e-4
    with pytest.raises(ValueError, match=r"token ids must be in \[0, 12\]"):
        ours.forward(np.array([[0, 13]]))
    with pytest.raises(ValueError, match="longer than the context of 10"):
        ours.forward(np.zeros((1, 11), dtype=int))
    with pytest.raises(TypeError, match="integer token ids"):
        ours.forward(np.zeros((1, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        ScratchGPT(13, 10, seed=0).backward(np.zeros((1, 2, 13)))
    rope = GPT(GPTConfig(vocab_size=13, context=10, n_layer=2, n_head=2, n_embd=8,
                         positions="rope"))
    with pytest.raises(KeyError, match="learned positions"):
        ScratchGPT(13, 10, n_layer=2, n_head=2, n_embd=8, seed=0).load_torch_state_dict(
            rope.state_dict())
    for kw, message in ((dict(mlp="swiglu"), "not SwiGLU"),
                        (dict(n_head=2, n_kv_head=1), "one key/value head per query head")):
        other = GPT(GPTConfig(vocab_size=13, context=10, n_layer=2, n_embd=8,
                              **{"n_head": 2, **kw}))
        with pytest.raises(ValueError, match=message):
            ScratchGPT(13, 10, n_layer=2, n_head=2, n_embd=8, seed=0).load_torch_state_dict(
                other.state_dict())
    with pytest.raises(ValueError, match="embeddings must have shapes"):
        ScratchGPT(12, 10, n_layer=2, n_head=2, n_embd=8, seed=0).load_torch_state_dict(
            _torch_and_scratch_gpt()[1].state_dict())
    with pytest.raises(ValueError, match="n_layer"):
        ScratchGPT(13, 10, n_layer=0)
