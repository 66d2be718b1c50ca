"""GELU, SiLU and SwiGLU from scratch against finite differences and torch."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.scratch import modern_activations as M

FUNCS = [
    ("gelu", M.gelu, M.gelu_derivative, F.gelu),
    ("silu", M.silu, M.silu_derivative, F.silu),
]


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_derivative_matches_finite_differences(name, f, df, tf, rng):
    z = rng.normal(scale=3.0, size=50)
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(df(z), numeric, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_value_and_derivative_match_torch(name, f, df, tf, rng):
    z = rng.normal(scale=3.0, size=(4, 9))
    t = torch.tensor(z, requires_grad=True)
    out = tf(t)
    out.sum().backward()
    np.testing.assert_allclose(f(z), out.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(df(z), t.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,f,df,tf", FUNCS, ids=[f[0] for f in FUNCS])
def test_finite_at_extreme_inputs_and_relu_like_limits(name, f, df, tf):
    z = np.array([-1000.0, -50.0, 50.0, 1000.0])
    assert np.all(np.isfinite(f(z))) and np.all(np.isfinite(df(z)))
    np.testing.assert_allclose(f(z), [0.0, 0.0, 50.0, 1000.0], atol=1e-9)
    np.testing.assert_allclose(df(z), [0.0, 0.0, 1.0, 1.0], atol=1e-9)


def test_gelu_and_silu_dip_below_zero():
    z = np.linspace(-5, 0, 5001)
    assert M.gelu(z).min() == pytest.approx(-0.16997, abs=1e-4)
    assert M.silu(z).min() == pytest.approx(-0.27846, abs=1e-4)


def test_swiglu_matches_torch(rng):
    X, W, V = rng.normal(size=(5, 4)), rng.normal(size=(4, 6)), rng.normal(size=(4, 6))
    expected = F.silu(torch.tensor(X) @ torch.tensor(W)) * (torch.tensor(X) @ torch.tensor(V))
    np.testing.assert_allclose(M.swiglu(X, W, V), expected.numpy(), rtol=1e-12, atol=1e-12)


def test_bad_input_is_rejected_with_a_clear_error(rng):
    with pytest.raises(TypeError, match="z must be a real number"):
        M.gelu("1.0")
    with pytest.raises(TypeError, match="z must be a real number"):
        M.silu_derivative(np.array([True, False]))
    X = rng.normal(size=(5, 4))
    with pytest.raises(ValueError, match=r"W and V must both have shape \(4, d_hidden\)"):
        M.swiglu(X, rng.normal(size=(4, 6)), rng.normal(size=(4, 5)))
    with pytest.raises(ValueError, match="must be 2-D"):
        M.swiglu(X[0], rng.normal(size=(4, 6)), rng.normal(size=(4, 6)))
