"""The from-scratch BatchNorm2d against torch.nn.BatchNorm2d and finite differences."""

import numpy as np
import pytest
import torch

from nnbook.scratch.gradcheck import numerical_gradient
from nnbook.scratch.normalization import BatchNorm2d


def _pair(C, rng, momentum=0.1, eps=1e-5):
    """A scratch layer and a float64 torch layer with the same random gamma, beta."""
    bn = BatchNorm2d(C, momentum=momentum, eps=eps)
    bn.gamma.data = rng.normal(1.0, 0.5, C)
    bn.beta.data = rng.normal(0.0, 0.5, C)
    tbn = torch.nn.BatchNorm2d(C, momentum=momentum, eps=eps).double()
    with torch.no_grad():
        tbn.weight.copy_(torch.from_numpy(bn.gamma.data))
        tbn.bias.copy_(torch.from_numpy(bn.beta.data))
    return bn, tbn


def _step(bn, tbn, X, dY):
    """Forward and backward through both layers; returns both sets of results."""
    bn.gamma.grad[...] = 0
    bn.beta.grad[...] = 0
    Y = bn.forward(X)
    dX = bn.backward(dY)
    Xt = torch.tensor(X, requires_grad=True)
    tbn.zero_grad()
    Yt = tbn(Xt)
    Yt.backward(torch.from_numpy(dY))
    return (Y, dX, bn.gamma.grad, bn.beta.grad), (Yt.detach().numpy(), Xt.grad.numpy(),
                                                   tbn.weight.grad.numpy(), tbn.bias.grad.numpy())


@pytest.mark.parametrize("shape,momentum", [((2, 1, 1, 1), 0.1), ((4, 3, 5, 5), 0.1),
                                            ((1, 2, 3, 4), 0.3), ((8, 5, 2, 7), 0.5)])
def test_matches_torch_in_training_mode(shape, momentum, rng):
    bn, tbn = _pair(shape[1], rng, momentum=momentum)
    for _ in range(3):                          # running statistics accumulate over steps
        X = rng.normal(2.0, 3.0, shape)
        dY = rng.normal(size=shape)
        ours, theirs = _step(bn, tbn, X, dY)
        for name, a, b in zip(("Y", "dX", "dgamma", "dbeta"), ours, theirs):
            np.testing.assert_allclose(a, b, atol=1e-10, err_msg=name)
        np.testing.assert_allclose(bn.running_mean, tbn.running_mean.numpy(), atol=1e-12)
        np.testing.assert_allclose(bn.running_var, tbn.running_var.numpy(), atol=1e-12)


def test_matches_torch_in_evaluation_mode(rng):
    bn, tbn = _pair(3, rng)
    for _ in range(4):
        X = rng.normal(-1.0, 2.0, (6, 3, 4, 4))
        _step(bn, tbn, X, np.zeros_like(X))
    bn.training = False
    tbn.eval()
    X = rng.normal(size=(2, 3, 5, 3))
    dY = rng.normal(size=X.shape)
    ours, theirs = _step(bn, tbn, X, dY)
    for name, a, b in zip(("Y", "dX", "dgamma", "dbeta"), ours, theirs):
        np.testing.assert_allclose(a, b, atol=1e-10, err_msg=name)
    # evaluation leaves the running statistics alone
    before = bn.running_mean.copy(), bn.running_var.copy()
    bn.forward(rng.normal(5.0, 1.0, (4, 3, 2, 2)))
    np.testing.assert_array_equal(bn.running_mean, before[0])
    np.testing.assert_array_equal(bn.running_var, before[1])


def test_statistics_are_over_batch_and_positions(rng):
    """Each channel of the output has mean beta_c and variance gamma_c^2 over (N, H, W),
    while single images or single positions do not."""
    bn = BatchNorm2d(4, eps=1e-12)
    bn.gamma.data = np.array([1.0, 2.0, 0.5, 3.0])
    bn.beta.data = np.array([0.0, -1.0, 4.0, 2.0])
    X = rng.normal(3.0, 5.0, (6, 4, 7, 7)) * np.arange(1, 5).reshape(1, 4, 1, 1)
    Y = bn.forward(X)
    np.testing.assert_allclose(Y.mean(axis=(0, 2, 3)), bn.beta.data, atol=1e-10)
    np.testing.assert_allclose(Y.std(axis=(0, 2, 3)), np.abs(bn.gamma.data), rtol=1e-8)
    assert np.abs(Y[0].mean(axis=(1, 2)) - bn.beta.data).max() > 1e-3


def test_eval_output_of_an_image_does_not_depend_on_the_batch(rng):
    bn = BatchNorm2d(2)
    for _ in range(5):
        bn.forward(rng.normal(1.0, 2.0, (8, 2, 4, 4)))
    X = rng.normal(size=(3, 2, 4, 4))
    other = np.concatenate([X[:1], rng.normal(10.0, 1.0, (5, 2, 4, 4))])
    train_a, train_b = bn.forward(X)[0], bn.forward(other)[0]
    assert np.abs(train_a - train_b).max() > 0.1         # training mode: it does
    bn.training = False
    np.testing.assert_allclose(bn.forward(X)[0], bn.forward(other)[0], atol=1e-12)


def test_gradients_match_finite_differences(rng):
    bn = BatchNorm2d(2)
    bn.gamma.data = rng.normal(1.0, 0.5, 2)
    bn.beta.data = rng.normal(size=2)
    X = rng.normal(size=(3, 2, 2, 3))
    weights = rng.normal(size=X.shape)

    def loss():
        return float(np.sum(weights * bn.forward(X) ** 2))

    Y = bn.forward(X)
    dX = bn.backward(2 * weights * Y)              # dL/dY of L = sum(weights * Y**2)
    np.testing.assert_allclose(dX, numerical_gradient(loss, X), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.gamma.grad, numerical_gradient(loss, bn.gamma.data),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(bn.beta.grad, numerical_gradient(loss, bn.beta.data),
                               rtol=1e-5, atol=1e-7)


def test_bad_input_gets_clear_errors(rng):
    with pytest.raises(ValueError, match="num_features must be a positive integer, got 0"):
        BatchNorm2d(0)
    with pytest.raises(ValueError, match="eps must be a positive number, got -1"):
        BatchNorm2d(3, eps=-1)
    with pytest.raises(ValueError, match=r"momentum must be in \[0, 1\], got 1.5"):
        BatchNorm2d(3, momentum=1.5)
    bn = BatchNorm2d(3)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        bn.backward(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"X must have shape \(N, 3, H, W\), got \(4, 3\)"):
        bn.forward(np.zeros((4, 3)))
    with pytest.raises(ValueError, match=r"X must have shape \(N, 3, H, W\), got \(4, 2, 5, 5\)"):
        bn.forward(np.zeros((4, 2, 5, 5)))
    with pytest.raises(ValueError, match=r"N \* H \* W >= 2.*\(1, 3, 1, 1\)"):
        bn.forward(np.zeros((1, 3, 1, 1)))
    with pytest.raises(TypeError, match="X must be a numeric array"):
        bn.forward(np.array([["a"]]))
    bn.forward(rng.normal(size=(2, 3, 2, 2)))
    with pytest.raises(ValueError, match=r"dY must have the output's shape \(2, 3, 2, 2\), "
                                         r"got \(2, 3, 2\)"):
        bn.backward(np.zeros((2, 3, 2)))
    bn.training = False                       # one value per channel is fine in evaluation
    assert bn.forward(np.zeros((1, 3, 1, 1))).shape == (1, 3, 1, 1)
