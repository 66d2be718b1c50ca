import numpy as np
import pytest
import torch
import torch.nn.functional as F

from nnbook.scratch import losses as L

from .conftest import random_shapes


def _fd_grad(f, x, h=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        fp = f(x)
        x[i] = old - h
        fm = f(x)
        x[i] = old
        g[i] = (fp - fm) / (2 * h)
    return g


def _torch_grad(fn, x, *args):
    t = torch.tensor(x, requires_grad=True)
    value = fn(t, *args)
    value.backward()
    return value.item(), t.grad.numpy()


@pytest.mark.parametrize("n,widths", random_shapes(4, seed=1))
def test_mse(n, widths, rng):
    k = widths[-1]
    y_pred, y = rng.normal(size=(n, k)), rng.normal(size=(n, k))
    value, grad = _torch_grad(F.mse_loss, y_pred, torch.tensor(y))
    assert L.mse(y_pred, y) == pytest.approx(value, rel=1e-12)
    np.testing.assert_allclose(L.mse_grad(y_pred, y), grad, rtol=1e-10)
    np.testing.assert_allclose(L.mse_grad(y_pred, y), _fd_grad(lambda p: L.mse(p, y), y_pred),
                               rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("n,widths", random_shapes(4, seed=2))
def test_binary_cross_entropy(n, widths, rng):
    k = widths[-1]
    p = rng.uniform(0.05, 0.95, size=(n, k))
    y = rng.integers(0, 2, size=(n, k)).astype(float)
    value, grad = _torch_grad(F.binary_cross_entropy, p, torch.tensor(y))
    assert L.binary_cross_entropy(p, y) == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, y), grad, rtol=1e-8)
    np.testing.assert_allclose(L.binary_cross_entropy_grad(p, y),
                               _fd_grad(lambda q: L.binary_cross_entropy(q, y), p),
                               rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("n,widths", random_shapes(4, seed=3))
def test_binary_cross_entropy_with_logits(n, widths, rng):
    k = widths[-1]
    z = rng.normal(scale=4, size=(n, k))
    y = rng.uniform(size=(n, k))
    value, grad = _torch_grad(F.binary_cross_entropy_with_logits, z, torch.tensor(y))
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(z, y), grad, rtol=1e-8)
    np.testing.assert_allclose(L.binary_cross_entropy_with_logits_grad(z, y),
                               _fd_grad(lambda q: L.binary_cross_entropy_with_logits(q, y), z),
                               rtol=1e-5, atol=1e-9)


def test_bce_with_logits_stable_at_extremes():
    z = np.array([[1000.0], [-1000.0]])
    y = np.array([[0.0], [1.0]])
    assert L.binary_cross_entropy_with_logits(z, y) == pytest.approx(1000.0)
    assert np.all(np.isfinite(L.binary_cross_entropy_with_logits_grad(z, y)))


@pytest.mark.parametrize("n,widths", random_shapes(4, seed=4))
def test_softmax_cross_entropy(n, widths, rng):
    k = max(widths[-1], 2)
    z = rng.normal(scale=3, size=(n, k))
    labels = rng.integers(0, k, size=n)
    value, grad = _torch_grad(F.cross_entropy, z, torch.tensor(labels))
    assert L.softmax_cross_entropy(z, labels) == pytest.approx(value, rel=1e-10)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(z, labels), grad, atol=1e-12)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(z, labels),
                               _fd_grad(lambda q: L.softmax_cross_entropy(q, labels), z),
                               rtol=1e-5, atol=1e-9)


def test_softmax_cross_entropy_stable_at_extremes():
    z = np.array([[1000.0, -1000.0, 0.0]])
    assert L.softmax_cross_entropy(z, [0]) == pytest.approx(0.0, abs=1e-12)
    assert L.softmax_cross_entropy(z, [1]) == pytest.approx(2000.0)
    assert np.all(np.isfinite(L.softmax_cross_entropy_grad(z, [1])))


def test_log_softmax_matches_torch(rng):
    z = rng.normal(size=(3, 4)) * 10
    np.testing.assert_allclose(L.log_softmax(z), F.log_softmax(torch.tensor(z), 1).numpy(),
                               atol=1e-12)


@pytest.mark.parametrize("fn", [L.mse, L.mse_grad, L.binary_cross_entropy,
                                L.binary_cross_entropy_with_logits])
def test_shape_mismatch_names_both_arguments(fn):
    with pytest.raises(ValueError, match=r"same shape.*\(4, 1\) and \(4,\)"):
        fn(np.full((4, 1), 0.5), np.ones(4))


def test_nan_is_rejected():
    with pytest.raises(ValueError, match="y_pred contains 1 NaN"):
        L.mse(np.array([1.0, np.nan]), np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match="logits contains"):
        L.softmax_cross_entropy(np.array([[np.nan, 1.0]]), [0])


def test_labels_checked():
    z = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"labels must be class indices in \[0, 3\].*4"):
        L.softmax_cross_entropy(z, [0, 1, 4])
    with pytest.raises(ValueError, match="labels must have 3 entries"):
        L.softmax_cross_entropy(z, [0, 1])
    with pytest.raises(TypeError, match="integer class indices"):
        L.softmax_cross_entropy(z, [0.5, 1, 2])
    with pytest.raises(ValueError, match="logits must be 2-D"):
        L.softmax_cross_entropy(np.zeros(4), [0])
    with pytest.raises(TypeError, match="numeric"):
        L.mse(np.array(["a", "b"]), np.array([1.0, 2.0]))


def test_probabilities_checked():
    with pytest.raises(ValueError, match="probabilities"):
        L.binary_cross_entropy(np.array([1.5]), np.array([1.0]))


def test_get_loss():
    assert L.get_loss("mse") == (L.mse, L.mse_grad)
    with pytest.raises(ValueError, match="loss must be one of"):
        L.get_loss("hinge")
