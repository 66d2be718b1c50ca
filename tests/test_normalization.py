"""The from-scratch BatchNorm and LayerNorm against PyTorch and finite differences."""

import numpy as np
import pytest
import torch

from nnbook.scratch.gradcheck import numerical_gradient
from nnbook.scratch.layers import Activation, Dense
from nnbook.scratch.mlp import Sequential
from nnbook.scratch.normalization import BatchNorm, LayerNorm


def _randomize(layer, rng):
    layer.gamma.data = rng.normal(1.0, 0.5, layer.gamma.shape)
    layer.beta.data = rng.normal(0.0, 0.5, layer.beta.shape)


@pytest.mark.parametrize("N,C", [(2, 1), (5, 3), (16, 7), (33, 4)])
def test_batchnorm_matches_torch_train_and_eval(N, C, rng):
    bn = BatchNorm(C, momentum=0.2)
    _randomize(bn, rng)
    tbn = torch.nn.BatchNorm1d(C, momentum=0.2).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(bn.gamma.data))
        tbn.bias.copy_(torch.from_numpy(bn.beta.data))
    for step in range(3):                      # several steps: running stats accumulate
        X = rng.normal(2.0, 3.0, (N, C))
        dY = rng.normal(size=(N, C))
        bn.gamma.grad[...] = 0
        bn.beta.grad[...] = 0
        Y = bn.forward(X)
        dX = bn.backward(dY)
        Xt = torch.tensor(X, requires_grad=True)
        tbn.zero_grad()
        Yt = tbn(Xt)
        Yt.backward(torch.from_numpy(dY))
        np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-10)
        np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(bn.gamma.grad, tbn.weight.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(bn.beta.grad, tbn.bias.grad.numpy(), atol=1e-10)
        np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), atol=1e-12)
    # evaluation mode uses the running statistics
    bn.training = False
    tbn.eval()
    X = rng.normal(size=(N, C))
    dY = rng.normal(size=(N, C))
    bn.gamma.grad[...] = 0
    Y = bn.forward(X)
    dX = bn.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    tbn.zero_grad()
    Yt = tbn(Xt)
    Yt.backward(torch.from_numpy(dY))
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(bn.gamma.grad, tbn.weight.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("shape,normalized", [((4, 6), 6), ((3, 5, 8), 8), ((2, 3, 4, 5), (4, 5)),
                                              ((1, 2), (2,))])
def test_layernorm_matches_torch(shape, normalized, rng):
    ln = LayerNorm(normalized)
    _randomize(ln, rng)
    tln = torch.nn.LayerNorm(normalized).double()
    with torch.no_grad():
        tln.weight.copy_(torch.from_numpy(ln.gamma.data))
        tln.bias.copy_(torch.from_numpy(ln.beta.data))
    X = rng.normal(1.0, 2.0, shape)
    dY = rng.normal(size=shape)
    Y = ln.forward(X)
    dX = ln.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    Yt = tln(Xt)
    Yt.backward(torch.from_numpy(dY))
    np.testing.assert_allclose(Y, Yt.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ln.gamma.grad, tln.weight.grad.numpy(), atol=1e-10)
    np.testing.assert_allclose(ln.beta.grad, tln.bias.grad.numpy(), atol=1e-10)


@pytest.mark.parametrize("make", [lambda: BatchNorm(3), lambda: LayerNorm(3)])
def test_finite_differences(make, rng):
    layer = make()
    _randomize(layer, rng)
    X = rng.normal(size=(6, 3))
    W = rng.normal(size=(6, 3))          # loss = sum(W * layer(X)), a generic linear probe

    def loss():
        return float(np.sum(W * layer.forward(X)))

    layer.forward(X)
    dX = layer.backward(W)
    num_dX = numerical_gradient(lambda: float(np.sum(W * layer.forward(X))), X)
    np.testing.assert_allclose(dX, num_dX, atol=1e-6)
    for p in layer.parameters():
        num = numerical_gradient(loss, p.data)
        np.testing.assert_allclose(p.grad, num, atol=1e-6)


def test_in_sequential_trains(rng):
    X = rng.normal(size=(64, 4))
    y = (X[:, 0] * X[:, 1] > 0).astype(int)
    model = Sequential([Dense(4, 16, seed=0), BatchNorm(16), Activation("relu"),
                        Dense(16, 16, seed=1), LayerNorm(16), Activation("relu"),
                        Dense(16, 2, seed=2)])
    from nnbook.scratch.optim import Adam
    model.fit(X, y, loss="softmax_cross_entropy", optimizer=Adam(model.parameters(), lr=0.02),
              epochs=60, batch_size=16, seed=0, verbose=0)
    model.eval()
    assert model.accuracy(X, y) > 0.9


def test_bad_inputs():
    with pytest.raises(ValueError, match="num_features"):
        BatchNorm(0)
    with pytest.raises(ValueError, match="momentum"):
        BatchNorm(3, momentum=2)
    with pytest.raises(ValueError, match="eps"):
        LayerNorm(3, eps=0)
    with pytest.raises(ValueError, match="shape"):
        BatchNorm(3).forward(np.ones((4, 2)))
    with pytest.raises(ValueError, match="at least 2 samples"):
        BatchNorm(3).forward(np.ones((1, 3)))
    with pytest.raises(ValueError, match="NaN"):
        LayerNorm(2).forward(np.array([[1.0, np.nan]]))
    with pytest.raises(ValueError, match="end with shape"):
        LayerNorm(4).forward(np.ones((2, 3)))
    with pytest.raises(RuntimeError, match="before forward"):
        LayerNorm(4).backward(np.ones((2, 4)))
    bn = BatchNorm(2)
    bn.forward(np.random.default_rng(0).normal(size=(3, 2)))
    with pytest.raises(ValueError, match="dY"):
        bn.backward(np.ones((2, 2)))
