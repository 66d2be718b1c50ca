import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import make_moons

from nnbook.models import SimpleNN
from nnbook.scratch import MLP, Activation, Adam, Dense, Dropout, check_gradients

from .conftest import random_shapes


@pytest.mark.parametrize("n,widths", random_shapes(5, seed=10))
def test_dense_forward_backward_match_torch(n, widths, rng):
    n_in, n_out = widths[0], widths[1]
    layer = Dense(n_in, n_out, seed=rng)
    layer.b.data = rng.normal(size=n_out)
    X = rng.normal(size=(n, n_in))
    dZ = rng.normal(size=(n, n_out))
    lin = torch.nn.Linear(n_in, n_out).double()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(layer.W.data.T))
        lin.bias.copy_(torch.tensor(layer.b.data))
    Xt = torch.tensor(X, requires_grad=True)
    out = lin(Xt)
    (out * torch.tensor(dZ)).sum().backward()
    np.testing.assert_allclose(layer.forward(X), out.detach().numpy(), atol=1e-12)
    dX = layer.backward(dZ)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(layer.W.grad, lin.weight.grad.numpy().T, atol=1e-12)
    np.testing.assert_allclose(layer.b.grad, lin.bias.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "leaky_relu"])
def test_activation_layer_backward_matches_torch(name, rng):
    Z = rng.normal(size=(4, 5))
    dA = rng.normal(size=(4, 5))
    t = torch.tensor(Z, requires_grad=True)
    tf = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu,
          "leaky_relu": lambda x: F.leaky_relu(x, 0.01)}[name]
    (tf(t) * torch.tensor(dA)).sum().backward()
    layer = Activation(name)
    layer.forward(Z)
    np.testing.assert_allclose(layer.backward(dA), t.grad.numpy(), atol=1e-12)


def test_activation_unknown_name():
    with pytest.raises(ValueError, match="activation must be one of"):
        Activation("swish")


@pytest.mark.parametrize("n,widths", random_shapes(5, seed=11))
def test_mlp_matches_torch_simple_nn(n, widths, rng):
    widths = [widths[0], *(widths[1:-1] or [3]), max(widths[-1], 2)]
    mlp = MLP(widths, seed=rng)
    for d in mlp.dense_layers:
        d.b.data = rng.normal(size=d.b.shape)
    model = SimpleNN.from_scratch(mlp, dtype=torch.float64)
    linears = [m for m in model.network if isinstance(m, torch.nn.Linear)]
    X = rng.normal(size=(n, widths[0]))
    labels = rng.integers(0, widths[-1], size=n)

    out = model(torch.tensor(X))
    loss_t = F.cross_entropy(out, torch.tensor(labels))
    loss_t.backward()
    loss = mlp.loss_and_backward(X, labels, "softmax_cross_entropy")

    assert loss == pytest.approx(loss_t.item(), rel=1e-12)
    for lin, dense in zip(linears, mlp.dense_layers):
        np.testing.assert_allclose(dense.W.grad, lin.weight.grad.numpy().T, atol=1e-12)
        np.testing.assert_allclose(dense.b.grad, lin.bias.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("activation,loss,out_act", [
    ("relu", "softmax_cross_entropy", None),
    ("tanh", "mse", None),
    ("sigmoid", "binary_cross_entropy", "sigmoid"),
    ("leaky_relu", "binary_cross_entropy_with_logits", None),
])
def test_mlp_gradients_match_finite_differences(activation, loss, out_act, rng):
    out = 3 if loss == "softmax_cross_entropy" else 1
    mlp = MLP([4, 6, 5, out], activation=activation, output_activation=out_act, seed=rng)
    X = rng.normal(size=(8, 4))
    y = rng.integers(0, out, size=8) if out > 1 else rng.integers(0, 2, size=(8, 1)).astype(float)
    errors = check_gradients(mlp, X, y, loss)
    assert list(errors) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert max(errors.values()) < 1e-6, errors


def test_check_gradients_detects_a_broken_backward(rng, monkeypatch):
    mlp = MLP([3, 4, 2], seed=rng)
    X, y = rng.normal(size=(5, 3)), rng.integers(0, 2, size=5)

    def broken(self, dZ):  # forgets to accumulate the bias gradient
        self.W.grad += self._X.T @ dZ
        return dZ @ self.W.data.T
    monkeypatch.setattr(Dense, "backward", broken)
    errors = check_gradients(mlp, X, y, "softmax_cross_entropy")
    assert errors["b1"] > 0.5 and errors["W1"] < 1e-6


def test_mlp_learns_moons():
    X, y = make_moons(300, noise=0.1, random_state=0)
    mlp = MLP([2, 16, 16, 2], seed=0)
    history = mlp.fit(X, y, optimizer=Adam(mlp.parameters(), lr=0.02), epochs=60,
                      verbose=False)
    assert history["loss"][-1] < 0.25 * history["loss"][0]
    assert mlp.accuracy(X, y) > 0.95


def test_mlp_fit_is_reproducible():
    X, y = make_moons(100, noise=0.2, random_state=1)
    runs = []
    for _ in range(2):
        mlp = MLP([2, 8, 2], seed=3, dropout=0.2)
        runs.append(mlp.fit(X, y, epochs=5, seed=7, verbose=False)["loss"])
    assert runs[0] == runs[1]


def test_dropout_train_and_eval(rng):
    layer = Dropout(0.5, seed=0)
    X = np.ones((2000, 10))
    out = layer.forward(X)
    assert set(np.unique(out)) == {0.0, 2.0}
    assert abs(out.mean() - 1.0) < 0.05
    np.testing.assert_array_equal(layer.backward(np.ones_like(X)), out)
    layer.training = False
    np.testing.assert_array_equal(layer.forward(X), X)
    with pytest.raises(ValueError, match=r"p must be in \[0, 1\)"):
        Dropout(1.0)


def test_mlp_predict_turns_dropout_off():
    mlp = MLP([3, 50, 2], dropout=0.5, seed=0)
    X = np.ones((4, 3))
    np.testing.assert_array_equal(mlp.predict(X), mlp.predict(X))


def test_mlp_rejects_bad_input():
    mlp = MLP([3, 4, 2], seed=0)
    with pytest.raises(ValueError, match=r"X must have shape \(N, 3\).*\(5, 4\)"):
        mlp.forward(np.zeros((5, 4)))
    with pytest.raises(ValueError, match="X must be 2-D"):
        mlp.forward(np.zeros(3))
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        mlp.forward(np.array([[0.0, np.nan, 1.0]]))
    with pytest.raises(ValueError, match="same number of samples"):
        mlp.fit(np.zeros((5, 3)), np.zeros(4, dtype=int))
    with pytest.raises(ValueError, match=r"y must be class indices in \[0, 1\]"):
        mlp.fit(np.zeros((3, 3)), np.array([0, 1, 2]), verbose=False)


@pytest.mark.parametrize("sizes,match", [
    ([3], "at least 2"),
    ([3, 0, 2], "positive integers"),
    ([3, 2.5, 2], "positive integers"),
    (5, "list of positive integers"),
])
def test_mlp_rejects_bad_layer_sizes(sizes, match):
    with pytest.raises((ValueError, TypeError), match=match):
        MLP(sizes)


def test_dense_rejects_wrong_width():
    with pytest.raises(ValueError, match="X must have 3 features"):
        Dense(3, 2, seed=0).forward(np.zeros((2, 4)))


def test_init_schemes_have_the_right_scale():
    from nnbook.scratch import init_weights
    assert init_weights(500, 400, "he", 0).std() == pytest.approx(np.sqrt(2 / 500), rel=0.02)
    assert init_weights(500, 400, "xavier", 0).std() == pytest.approx(np.sqrt(2 / 900), rel=0.02)
    assert init_weights(500, 400, "small", 0).std() == pytest.approx(0.01, rel=0.02)
    assert not init_weights(5, 4, "zeros").any()
    with pytest.raises(ValueError, match="init must be one of"):
        init_weights(2, 2, "orthogonal")


def test_sequential_container(rng):
    from nnbook.scratch import Sequential
    net = Sequential([Dense(3, 4, seed=rng), Activation("tanh"), Dense(4, 2, seed=rng)])
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6)
    assert max(check_gradients(net, X, y, "softmax_cross_entropy").values()) < 1e-6
    assert net.predict(X).shape == (6, 2)
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])
    with pytest.raises(TypeError, match="forward, backward and parameters"):
        Sequential([Dense(3, 4), "relu"])


def test_simple_nn_from_scratch_rejects_other_activations():
    with pytest.raises(ValueError, match="ReLU hidden layers"):
        SimpleNN.from_scratch(MLP([3, 4, 2], activation="tanh"))
    with pytest.raises(ValueError, match="at least one hidden layer"):
        SimpleNN.from_scratch(MLP([3, 2]))
