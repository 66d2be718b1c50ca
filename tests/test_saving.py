"""Saving and loading scratch models: state_dict / load_state_dict (as in
PyTorch) and .npz files written without pickle."""

from __future__ import annotations

import numpy as np
import pytest

from nnbook.scratch import (MLP, Activation, Adam, BatchNorm, Conv2D, Dense, Flatten,
                            MaxPool2D, Sequential)


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def test_round_trip_after_training_gives_the_same_predictions(data, tmp_path):
    X, y = data
    model = MLP([4, 16, 3], seed=0)
    model.fit(X, y, epochs=5, verbose=0)
    path = tmp_path / "model.npz"
    model.save(path)
    other = MLP([4, 16, 3], seed=99)
    assert not np.allclose(other.predict(X), model.predict(X))
    other.load(path)
    np.testing.assert_array_equal(other.predict(X), model.predict(X))
    # a loaded model trains on exactly like the original
    h1 = model.fit(X, y, epochs=2, verbose=0, seed=3)
    h2 = other.fit(X, y, epochs=2, verbose=0, seed=3)
    assert h1 == h2


def test_the_file_holds_parameters_only_and_no_pickle(data, tmp_path):
    X, y = data
    model = MLP([4, 16, 3], seed=0)
    model.fit(X, y, epochs=1, verbose=0)
    model.forward(X)                      # caches activations for a backward pass
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as f:
        assert sorted(f.files) == ["0.W", "0.b", "2.W", "2.b"]
        assert all(f[k].dtype == np.float64 for k in f.files)
    n_bytes = sum(v.nbytes for v in model.state_dict().values())
    assert n_bytes == 8 * model.num_parameters()
    assert path.stat().st_size < n_bytes + 2000


def test_state_dict_mirrors_torch_keys_and_is_a_copy():
    model = MLP([3, 5, 2], seed=0)
    state = model.state_dict()
    assert list(state) == ["0.W", "0.b", "2.W", "2.b"]
    state["0.W"][...] = 0
    assert model.layers[0].W.data.any()
    assert list(Dense(3, 2).state_dict()) == ["W", "b"]


def test_batch_norm_running_statistics_are_saved(tmp_path):
    rng = np.random.default_rng(1)
    X, y = rng.normal(2.0, 3.0, size=(64, 5)), rng.integers(0, 2, 64)
    model = Sequential([Dense(5, 8, seed=0), BatchNorm(8), Activation("relu"), Dense(8, 2, seed=1)])
    model.fit(X, y, epochs=3, verbose=0)
    assert "1.running_mean" in model.state_dict() and "1.gamma" in model.state_dict()
    model.save(tmp_path / "bn.npz")
    other = Sequential([Dense(5, 8, seed=5), BatchNorm(8), Activation("relu"), Dense(8, 2, seed=6)])
    other.load(tmp_path / "bn.npz")
    np.testing.assert_array_equal(other.layers[1].running_var, model.layers[1].running_var)
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_cnn_round_trip(tmp_path):
    rng = np.random.default_rng(2)
    X, y = rng.normal(size=(16, 1, 8, 8)), rng.integers(0, 3, 16)

    def cnn(seed):
        return Sequential([Conv2D(1, 2, 3, seed=seed), Activation("relu"), MaxPool2D(2),
                           Flatten(), Dense(18, 3, seed=seed + 1)])
    model = cnn(0)
    model.fit(X, y, epochs=2, batch_size=4, verbose=0)
    model.save(tmp_path / "cnn.npz")
    other = cnn(7).load(tmp_path / "cnn.npz")
    np.testing.assert_array_equal(other.predict(X), model.predict(X))


def test_strict_key_and_shape_checks_change_nothing_on_failure():
    model = MLP([3, 4, 2], seed=0)
    before = model.state_dict()
    bad = dict(before, **{"0.W": np.zeros((4, 3))})
    with pytest.raises(ValueError, match=r"'0.W' must have shape \(3, 4\), got \(4, 3\)"):
        model.load_state_dict(bad)
    with pytest.raises(KeyError, match=r"missing keys \['2.b'\], unexpected keys \['9.b'\]"):
        model.load_state_dict({**{k: v for k, v in before.items() if k != "2.b"},
                               "9.b": np.zeros(2)})
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key])
    # strict=False loads the keys that match and ignores the rest
    partial = {"0.b": np.full(4, 7.0), "extra": np.zeros(1)}
    model.load_state_dict(partial, strict=False)
    np.testing.assert_array_equal(model.layers[0].b.data, 7.0)
    np.testing.assert_array_equal(model.layers[2].W.data, before["2.W"])


def test_a_different_architecture_is_refused(tmp_path):
    MLP([3, 4, 2], seed=0).save(tmp_path / "a.npz")
    with pytest.raises(ValueError, match="must have shape"):
        MLP([3, 5, 2]).load(tmp_path / "a.npz")
    with pytest.raises(KeyError, match="unexpected keys"):
        MLP([3, 4]).load(tmp_path / "a.npz")


def test_float32_weights_load_into_a_float64_model_and_back(tmp_path):
    rng = np.random.default_rng(3)
    X, y = rng.random((50, 3), dtype=np.float32), rng.integers(0, 2, 50)
    model = MLP([3, 4, 2], seed=0)
    model.fit(X, y, epochs=1, verbose=0)
    assert model.layers[0].W.data.dtype == np.float32
    model.save(tmp_path / "f32.npz")
    other = MLP([3, 4, 2], seed=1).load(tmp_path / "f32.npz")
    assert other.layers[0].W.data.dtype == np.float64
    np.testing.assert_allclose(other.predict(X), model.predict(X), rtol=1e-5, atol=1e-6)


def test_an_optimizer_keeps_working_after_loading(data, tmp_path):
    """Loading writes into the existing parameters, so an optimizer built before
    the load still updates the model."""
    X, y = data
    model = MLP([4, 8, 3], seed=0)
    optimizer = Adam(model.parameters(), lr=0.01)
    MLP([4, 8, 3], seed=5).save(tmp_path / "w.npz")
    model.load(tmp_path / "w.npz")
    before = model.layers[0].W.data.copy()
    model.fit(X, y, optimizer=optimizer, epochs=1, verbose=0)
    assert not np.allclose(model.layers[0].W.data, before)
