import numpy as np
import pytest
import torch

from nnbook.scratch import activations as A

FUNCS = [
    ("sigmoid", A.sigmoid, A.sigmoid_derivative, torch.sigmoid),
    ("tanh", A.tanh, A.tanh_derivative, torch.tanh),
    ("relu", A.relu, A.relu_derivative, torch.relu),
    ("leaky_relu", A.leaky_relu, A.leaky_relu_derivative,
     lambda t: torch.nn.functional.leaky_relu(t, 0.01)),
]


def _inputs(rng, shape=(5, 7)):
    z = rng.normal(scale=3.0, size=shape)
    return z[np.abs(z) > 1e-3].reshape(-1)  # keep away from the ReLU kink


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_derivative_matches_finite_differences(name, f, df, tf, rng):
    z = _inputs(rng)
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(df(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_value_and_derivative_match_torch(name, f, df, tf, rng):
    z = _inputs(rng)
    t = torch.tensor(z, requires_grad=True)
    out = tf(t)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df(z), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_stable_at_extreme_inputs(name, f, df, tf):
    z = np.array([-1000.0, -50.0, 0.0, 50.0, 1000.0])
    # pytest turns RuntimeWarnings (overflow in exp) into errors: see pyproject.toml
    assert np.all(np.isfinite(f(z)))
    assert np.all(np.isfinite(df(z)))
    np.testing.assert_allclose(f(z), tf(torch.tensor(z)).numpy(), atol=1e-12)


def test_sigmoid_limits():
    assert A.sigmoid(1000.0) == 1.0
    assert A.sigmoid(-1000.0) == 0.0
    assert A.sigmoid(0.0) == 0.5
    assert A.sigmoid_derivative(0.0) == 0.25


def test_relu_derivative_is_zero_at_kink_like_torch():
    t = torch.tensor([0.0], requires_grad=True)
    torch.relu(t).backward()
    assert A.relu_derivative(0.0) == t.grad.item() == 0.0


def test_softmax_matches_torch_and_is_stable(rng):
    z = rng.normal(size=(4, 6)) * 5
    np.testing.assert_allclose(A.softmax(z), torch.softmax(torch.tensor(z), dim=1).numpy(),
                               rtol=1e-12)
    big = np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])
    s = A.softmax(big)
    assert np.all(np.isfinite(s))
    np.testing.assert_allclose(s.sum(axis=1), 1.0)
    np.testing.assert_allclose(s[0], A.softmax(np.array([0.0, 1.0, 2.0])))


def test_softmax_along_other_axis(rng):
    z = rng.normal(size=(3, 5))
    np.testing.assert_allclose(A.softmax(z, axis=0), A.softmax(z.T).T)


def test_softmax_backward_matches_autograd(rng):
    z = rng.normal(size=(3, 5))
    g = rng.normal(size=(3, 5))
    t = torch.tensor(z, requires_grad=True)
    (torch.softmax(t, dim=1) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(A.softmax_backward(A.softmax(z), g), t.grad.numpy(), atol=1e-12)


def test_softmax_jacobian_matches_finite_differences(rng):
    z = rng.normal(size=4)
    h = 1e-6
    numeric = np.stack([(A.softmax(z + h * e) - A.softmax(z - h * e)) / (2 * h)
                        for e in np.eye(4)], axis=1)
    np.testing.assert_allclose(A.softmax_jacobian(z), numeric, atol=1e-8)
