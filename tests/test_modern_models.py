"""The PyTorch models of the modern-architectures chapter."""

import numpy as np
import pytest
import torch

from nnbook.models.modern import (DeepMLP, SequenceTransformer, TransformerEncoderBlock,
                                  make_reversal_data, sequence_accuracy, sinusoidal_positions,
                                  train_classifier, train_sequence_model)
from nnbook.scratch.attention import sinusoidal_positional_encoding


@pytest.fixture(autouse=True)
def one_thread():
    """Small models train fastest on one thread (and the suite runs in parallel)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.mark.parametrize("residual", [False, True])
@pytest.mark.parametrize("norm", [None, "batch", "layer"])
def test_deep_mlp_shapes(residual, norm):
    torch.manual_seed(0)
    m = DeepMLP(3, 4, depth=5, width=8, residual=residual, norm=norm)
    assert m(torch.randn(6, 3)).shape == (6, 4)
    assert len(m.hidden) == 5


def test_deep_mlp_bad_inputs():
    with pytest.raises(ValueError, match="norm"):
        DeepMLP(2, 2, norm="group")
    with pytest.raises(ValueError, match="depth"):
        DeepMLP(2, 2, depth=0)
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        DeepMLP(2, 2, depth=2)(torch.randn(4, 3))


def test_residual_trains_where_plain_does_not():
    from sklearn.datasets import make_moons
    X, y = make_moons(256, noise=0.15, random_state=0)
    losses = {}
    for residual in (False, True):
        torch.manual_seed(0)
        m = DeepMLP(2, 2, depth=30, width=16, residual=residual)
        losses[residual] = train_classifier(m, X, y, epochs=8, lr=0.02)
    assert losses[False][-1] > 0.6           # stuck at chance, ln 2 = 0.693
    assert losses[True][-1] < 0.3


def test_encoder_block_shapes_and_weights():
    torch.manual_seed(0)
    block = TransformerEncoderBlock(16, 4, ff_dim=32)
    x = torch.randn(3, 5, 16)
    assert block(x).shape == (3, 5, 16)
    w = block.attn_weights
    assert w.shape == (3, 4, 5, 5)
    torch.testing.assert_close(w.sum(-1), torch.ones(3, 4, 5))
    with pytest.raises(ValueError, match="divisible"):
        TransformerEncoderBlock(10, 3)
    with pytest.raises(ValueError, match=r"shape \(N, L, 16\)"):
        block(torch.randn(3, 5, 8))


def test_positions_match_scratch():
    np.testing.assert_allclose(sinusoidal_positions(20, 10).numpy(),
                               sinusoidal_positional_encoding(20, 10), atol=1e-5)


def test_transformer_shapes_and_errors():
    torch.manual_seed(0)
    m = SequenceTransformer(10, 6, embed_dim=16, num_heads=2, num_layers=2)
    x = torch.randint(0, 10, (4, 6))
    assert m(x).shape == (4, 6, 10)
    assert m(x[:, :3]).shape == (4, 3, 10)
    maps = m.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (4, 2, 6, 6)
    with pytest.raises(ValueError, match="at most 6"):
        m(torch.randint(0, 10, (2, 7)))
    with pytest.raises(ValueError, match=r"\[0, 9\]"):
        m(torch.full((2, 3), 10))
    with pytest.raises(TypeError, match="integer"):
        m(torch.zeros(2, 3))
    with pytest.raises(ValueError, match=r"\(N, L\)"):
        m(torch.zeros(6, dtype=torch.long))


def test_reversal_data():
    X, Y = make_reversal_data(5, 4, 10, seed=0)
    assert X.shape == Y.shape == (5, 4)
    assert torch.equal(Y[:, 0], X[:, -1])
    X2, _ = make_reversal_data(5, 4, 10, seed=0)
    assert torch.equal(X, X2)


def test_transformer_learns_to_reverse():
    torch.manual_seed(0)
    X, Y = make_reversal_data(2000, 6, 10, seed=0)
    Xt, Yt = make_reversal_data(300, 6, 10, seed=1)
    m = SequenceTransformer(10, 6, embed_dim=32, num_heads=2, num_layers=1, ff_dim=64)
    losses = train_sequence_model(m, X, Y, epochs=12, lr=1e-2)
    token_acc, seq_acc = sequence_accuracy(m, Xt, Yt)
    assert losses[-1] < losses[0]
    assert token_acc > 0.95 and seq_acc > 0.8


def test_depthnet_he_init_same_layers_and_errors():
    from nnbook.models.modern import DepthNet
    torch.manual_seed(0)
    plain, res = DepthNet(64, 10, n_layers=20, width=48, residual=False), None
    torch.manual_seed(0)
    res = DepthNet(64, 10, n_layers=20, width=48, residual=True)
    # identical layers and initial weights: only the skip connections differ
    for (n1, p1), (n2, p2) in zip(plain.named_parameters(), res.named_parameters()):
        assert n1 == n2 and torch.equal(p1, p2)
    linears = plain.hidden_linears()
    assert len(linears) == 20
    std = torch.cat([layer.weight.flatten() for layer in linears]).std().item()
    assert abs(std - (2 / 48) ** 0.5) < 0.01           # He: Var = 2 / fan_in
    assert all(float(layer.bias.detach().abs().max()) == 0.0 for layer in linears)
    x = torch.randn(32, 64)
    assert res(x).shape == (32, 10)
    with pytest.raises(ValueError, match="even"):
        DepthNet(64, 10, n_layers=3)
    with pytest.raises(ValueError, match=r"\(N, 64\)"):
        res(torch.randn(4, 63))


def test_residual_block_can_shrink_the_stream():
    """The branch ends in a linear layer: h + f(h) can be below h."""
    from nnbook.models.modern import ResidualBlock
    torch.manual_seed(0)
    block = ResidualBlock(16).train()
    h = torch.randn(64, 16)
    delta = block(h) - h
    assert delta.min() < -0.1 and delta.max() > 0.1
    plain = ResidualBlock(16, residual=False)
    plain.load_state_dict(block.state_dict())
    torch.testing.assert_close(plain(h), delta)


def test_plain_deep_net_has_healthy_gradients_at_init():
    """With He init and batch norm, the first layers' gradients do not vanish."""
    from nnbook.models.modern import DepthNet
    torch.manual_seed(0)
    net = DepthNet(8, 3, n_layers=20, width=32, residual=False)
    x, y = torch.randn(128, 8), torch.randint(0, 3, (128,))
    torch.nn.functional.cross_entropy(net(x), y).backward()
    norms = [layer.weight.grad.norm().item() for layer in net.hidden_linears()]
    assert norms[0] > norms[-1] > 0
