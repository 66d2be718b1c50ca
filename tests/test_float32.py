"""The fast path of the scratch training loop: float32 data train in float32,
the optimizers update in place without temporaries, the data are checked once
per fit, and gradient checks still run in float64."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import torch

from nnbook.scratch import (MLP, SGD, Adam, Conv2D, Dense, Flatten, MaxPool2D, Momentum,
                            Parameter, RMSprop, Sequential, check_gradients)
from nnbook.scratch import _validate


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5)
    return X, y


def test_float32_data_train_in_float32_and_match_float64(data):
    X, y = data
    m32, m64 = MLP([6, 16, 3], seed=0), MLP([6, 16, 3], seed=0)
    h32 = m32.fit(X.astype(np.float32), y, epochs=5, verbose=0)
    h64 = m64.fit(X, y, epochs=5, verbose=0)
    assert all(p.data.dtype == np.float32 for p in m32.parameters())
    assert all(p.grad.dtype == np.float32 for p in m32.parameters())
    assert all(p.data.dtype == np.float64 for p in m64.parameters())
    assert m32.predict(X.astype(np.float32)).dtype == np.float32
    np.testing.assert_allclose(h32["loss"], h64["loss"], rtol=1e-4)
    np.testing.assert_allclose(m32.layers[0].W.data, m64.layers[0].W.data, atol=1e-4)


def test_dtype_argument_and_integer_data(data):
    X, y = data
    model = MLP([6, 8, 3], seed=0)
    model.fit(X.astype(np.float32), y, epochs=1, verbose=0, dtype=np.float64)
    assert model.layers[0].W.data.dtype == np.float64
    fixed = MLP([6, 8, 3], seed=0, dtype=np.float32)
    assert fixed.layers[0].W.data.dtype == np.float32
    fixed.fit(X, y, epochs=1, verbose=0)                     # float64 data, float32 model
    assert fixed.layers[0].W.data.dtype == np.float32
    ints = MLP([6, 8, 3], seed=0)
    ints.fit((X * 10).astype(np.int64), y, epochs=1, verbose=0)
    assert ints.layers[0].W.data.dtype == np.float64


def test_float32_training_matches_torch_float32(data):
    """One epoch of plain SGD, batch by batch, against torch in float32."""
    X, y = data
    X32 = X.astype(np.float32)
    model = MLP([6, 16, 3], seed=0)
    net = torch.nn.Sequential(torch.nn.Linear(6, 16), torch.nn.ReLU(), torch.nn.Linear(16, 3))
    with torch.no_grad():
        for linear, dense in zip([net[0], net[2]], model.dense_layers):
            linear.weight.copy_(torch.tensor(dense.W.data.T))
            linear.bias.copy_(torch.tensor(dense.b.data))
    model.fit(X32, y, optimizer=SGD(model.parameters(), lr=0.1), epochs=1, batch_size=32,
              seed=0, verbose=0, evaluate_train=False)
    order = np.random.default_rng(0).permutation(len(X))
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    for lo in range(0, len(X), 32):
        idx = order[lo:lo + 32]
        opt.zero_grad()
        torch.nn.functional.cross_entropy(net(torch.tensor(X32[idx])),
                                          torch.tensor(y[idx])).backward()
        opt.step()
    np.testing.assert_allclose(model.layers[0].W.data, net[0].weight.detach().numpy().T,
                               rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("make", [lambda p: SGD(p, lr=0.1), lambda p: Momentum(p, lr=0.1),
                                  lambda p: RMSprop(p, lr=0.01, weight_decay=0.1),
                                  lambda p: Adam(p, lr=0.01, weight_decay=0.1)],
                         ids=["sgd", "momentum", "rmsprop", "adam"])
def test_optimizer_steps_allocate_nothing_and_keep_the_dtype(make):
    p = Parameter(np.ones((300, 300)), dtype=np.float32)
    optimizer = make([p])
    data_buffer = p.data
    p.grad[...] = 0.5
    optimizer.step()                                        # allocates the state once
    tracemalloc.start()
    for _ in range(5):
        optimizer.step()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 0.1 * p.data.nbytes, f"a step allocated {peak} bytes"
    assert p.data is data_buffer and p.data.dtype == np.float32


def test_data_are_scanned_for_nan_once_per_fit(data, monkeypatch):
    X, y = data
    calls = []
    real = np.isfinite

    def counting(a, *args, **kwargs):
        calls.append(np.shape(a))
        return real(a, *args, **kwargs)
    monkeypatch.setattr(_validate.np, "isfinite", counting)
    MLP([6, 8, 3], seed=0).fit(X, y, epochs=3, batch_size=16, verbose=0, evaluate_train=False)
    big = [s for s in calls if s and s[0] >= 16]
    # X once, plus one-sample probes: never once per batch (16 batches x 3 epochs)
    assert len(big) <= 2, big


def test_first_layer_skips_its_input_gradient():
    dense = Dense(3, 2, seed=0)
    dense.forward(np.ones((4, 3)))
    assert dense.backward(np.ones((4, 2)), input_grad=False) is None
    np.testing.assert_allclose(dense.W.grad, np.full((3, 2), 4.0))
    conv = Conv2D(1, 2, 3, seed=0)
    conv.forward(np.ones((2, 1, 5, 5)))
    assert conv.backward(np.ones((2, 2, 3, 3)), input_grad=False) is None


def test_gradient_check_of_a_float32_model_runs_in_float64(data):
    X, y = data
    model = MLP([6, 5, 3], seed=0, dropout=0.5)
    model.fit(X.astype(np.float32), y, epochs=1, verbose=0)
    model.train()                                            # dropout on: the check turns it off
    errors = check_gradients(model, X[:8], y[:8])
    assert max(errors.values()) < 1e-6, errors               # float32 would give ~1e-2
    assert all(p.data.dtype == np.float32 for p in model.parameters())
    assert all(layer.training for layer in model.layers if type(layer).__name__ == "Dropout")


def test_large_parameters_are_checked_on_a_sample():
    rng = np.random.default_rng(1)
    model = MLP([50, 40, 3], seed=0)
    X, y = rng.normal(size=(4, 50)), np.array([0, 1, 2, 1])
    errors = check_gradients(model, X, y, max_entries=30)
    assert max(errors.values()) < 1e-6
    full = check_gradients(model, X, y, max_entries=None)
    assert set(full) == set(errors) and max(full.values()) < 1e-6


def test_cnn_trains_in_float32():
    rng = np.random.default_rng(2)
    X, y = rng.random((32, 1, 8, 8), dtype=np.float32), rng.integers(0, 2, 32)
    model = Sequential([Conv2D(1, 2, 3, seed=0), MaxPool2D(2), Flatten(), Dense(18, 2, seed=1)])
    h = model.fit(X, y, epochs=2, batch_size=8, verbose=0)
    assert model.layers[0].W.data.dtype == np.float32 and np.isfinite(h["loss"]).all()


def test_a_subclass_with_its_own_backward_still_trains(data):
    """A reader's layer that overrides backward(self, dZ) (as the chapters'
    buggy layers do) gets the plain call, with the input gradient."""
    X, y = data
    calls = []

    class MyDense(Dense):
        def backward(self, dZ):
            calls.append(dZ.shape)
            return super().backward(dZ)
    model = Sequential([MyDense(6, 3, seed=0)])
    model.fit(X, y, epochs=1, batch_size=128, verbose=0)
    assert calls == [(128, 3), (128, 3)]
