"""Tests for nnbook.scratch.training_tools (the training-process chapter's helpers)."""

import numpy as np
import pytest

from nnbook.scratch import MLP, SGD, Adam
from nnbook.scratch.training_tools import (
    EarlyStopping, activation_stds, gradient_stds, optimizer_path, train_val_test_split,
)


# -- train_val_test_split ---------------------------------------------------
def _data(n=200, n_classes=4, seed=0):
    rng = np.random.default_rng(seed)
    X = np.arange(n, dtype=float).reshape(-1, 1) * np.ones((1, 3))
    y = np.repeat(np.arange(n_classes), n // n_classes)
    return X, rng.permutation(y)


def test_split_sizes_are_disjoint_and_cover_everything():
    X, y = _data()
    X_tr, X_va, X_te, y_tr, y_va, y_te = train_val_test_split(X, y, 0.25, 0.15, seed=1)
    assert (len(X_tr), len(X_va), len(X_te)) == (120, 48, 32)
    ids = np.concatenate([X_tr[:, 0], X_va[:, 0], X_te[:, 0]]).astype(int)
    assert sorted(ids) == list(range(200))            # disjoint and complete
    # labels still travel with their rows
    for Xp, yp in ((X_tr, y_tr), (X_va, y_va), (X_te, y_te)):
        np.testing.assert_array_equal(yp, y[Xp[:, 0].astype(int)])


def test_split_is_stratified_and_reproducible():
    X, y = _data()
    parts = train_val_test_split(X, y, 0.2, 0.2, seed=3)
    for y_part in parts[3:]:
        counts = np.bincount(y_part, minlength=4)
        assert counts.max() - counts.min() == 0        # 50 per class -> exactly equal shares
    again = train_val_test_split(X, y, 0.2, 0.2, seed=3)
    for a, b in zip(parts, again):
        np.testing.assert_array_equal(a, b)
    other = train_val_test_split(X, y, 0.2, 0.2, seed=4)
    assert not np.array_equal(parts[0], other[0])


def test_split_without_stratify_shuffles():
    X, y = _data()
    X_tr, *_ = train_val_test_split(X, y, 0.2, 0.2, seed=0, stratify=False)
    assert len(X_tr) == 120
    assert not np.array_equal(X_tr[:, 0], np.sort(X_tr[:, 0]))


@pytest.mark.parametrize("val, test, match", [
    (0.0, 0.2, "val_size"), (0.2, 1.0, "test_size"), (0.5, 0.5, "val_size \\+ test_size"),
])
def test_split_rejects_bad_fractions(val, test, match):
    X, y = _data()
    with pytest.raises(ValueError, match=match):
        train_val_test_split(X, y, val, test)


def test_split_rejects_mismatched_lengths():
    X, y = _data()
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_test_split(X, y[:-1])


# -- EarlyStopping ----------------------------------------------------------
def test_early_stopping_stops_after_patience_and_remembers_best_epoch():
    model = MLP([2, 3, 2], seed=0)
    stopper = EarlyStopping(patience=3)
    losses = [1.0, 0.8, 0.9, 0.7, 0.75, 0.71, 0.72, 0.5]
    stops = [stopper.step(v, model) for v in losses[:7]]
    assert stops == [False] * 6 + [True]
    assert stopper.best_epoch == 4 and stopper.best_loss == pytest.approx(0.7)
    assert stopper.epoch == 7 and stopper.should_stop


def test_early_stopping_min_delta_ignores_tiny_improvements():
    model = MLP([2, 3, 2], seed=0)
    stopper = EarlyStopping(patience=2, min_delta=0.1)
    assert not stopper.step(1.0, model)
    assert not stopper.step(0.95, model)      # better, but by less than min_delta
    assert stopper.step(0.92, model)
    assert stopper.best_epoch == 1


def test_early_stopping_restores_the_best_weights():
    model = MLP([2, 4, 2], seed=0)
    stopper = EarlyStopping(patience=5)
    stopper.step(0.5, model)
    best = [p.data.copy() for p in model.parameters()]
    for p in model.parameters():
        p.data += 1.0                          # training moves on...
    stopper.step(0.9, model)                   # ...and gets worse
    stopper.restore(model)
    for p, w in zip(model.parameters(), best):
        np.testing.assert_array_equal(p.data, w)
    # the saved copy is independent of the model's arrays
    model.parameters()[0].data[...] = 7.0
    assert not np.array_equal(stopper.best_weights[0], model.parameters()[0].data)


def test_early_stopping_errors():
    with pytest.raises(ValueError, match="patience"):
        EarlyStopping(patience=0)
    with pytest.raises(ValueError, match="min_delta"):
        EarlyStopping(min_delta=-1)
    with pytest.raises(RuntimeError, match="before any call to step"):
        EarlyStopping().restore(MLP([2, 2], seed=0))
    stopper = EarlyStopping()
    stopper.step(1.0, MLP([2, 3, 2], seed=0))
    with pytest.raises(ValueError, match="parameters"):
        stopper.restore(MLP([2, 3, 3, 2], seed=0))


# -- activation and gradient statistics -------------------------------------
def test_activation_stds_match_a_manual_forward_pass():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((50, 5))
    model = MLP([5, 8, 6, 3], activation="tanh", dropout=0.5, seed=1)
    stds = activation_stds(model, X)
    assert stds.shape == (2,)                  # two hidden layers, output excluded
    d1, d2 = model.dense_layers[:2]
    A1 = np.tanh(X @ d1.W.data + d1.b.data)    # dropout is off for the statistics
    A2 = np.tanh(A1 @ d2.W.data + d2.b.data)
    np.testing.assert_allclose(stds, [A1.std(), A2.std()])
    assert model.layers[0].training            # the model's mode is left as it was


def test_activation_stds_show_small_init_vanishing_and_he_keeping_scale():
    X = np.random.default_rng(0).standard_normal((200, 100))
    small = activation_stds(MLP([100] * 8 + [10], init="small", seed=0), X)
    he = activation_stds(MLP([100] * 8 + [10], init="he", seed=0), X)
    assert np.all(np.diff(small) < 0) and small[-1] < 1e-8
    assert 0.3 < he.min() and he.max() < 3


def test_activation_stds_ignores_the_output_activation():
    X = np.random.default_rng(0).standard_normal((30, 3))
    model = MLP([3, 5, 4, 1], activation="relu", output_activation="sigmoid", seed=0)
    assert activation_stds(model, X).shape == (2,)


def test_activation_stds_rejects_wrong_width():
    with pytest.raises(ValueError, match=r"\(N, 3\)"):
        activation_stds(MLP([3, 4, 2], seed=0), np.ones((5, 4)))


def test_gradient_stds_match_the_backward_pass():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((20, 4)), rng.integers(0, 3, 20)
    model = MLP([4, 6, 5, 3], seed=0)
    stds = gradient_stds(model, X, y)
    model.loss_and_backward(X, y, "softmax_cross_entropy")
    np.testing.assert_allclose(stds, [d.W.grad.std() for d in model.dense_layers])
    assert stds.shape == (3,) and np.all(stds > 0)


# -- optimizer_path -----------------------------------------------------------
def test_optimizer_path_sgd_on_a_quadratic_matches_closed_form():
    A = np.diag([1.0, 10.0])
    start = np.array([2.0, 1.0])
    path = optimizer_path(lambda t: A @ t, start, lambda ps: SGD(ps, lr=0.05), n_steps=30)
    assert path.shape == (31, 2)
    np.testing.assert_array_equal(path[0], start)
    expected = np.linalg.matrix_power(np.eye(2) - 0.05 * A, 30) @ start
    np.testing.assert_allclose(path[-1], expected)


def test_optimizer_path_first_adam_step_has_size_lr_per_coordinate():
    path = optimizer_path(lambda t: np.array([100.0, -0.01]), [0.0, 0.0],
                          lambda ps: Adam(ps, lr=0.1), n_steps=1)
    np.testing.assert_allclose(path[1], [-0.1, 0.1], rtol=1e-5)


def test_optimizer_path_does_not_modify_start_and_checks_shapes():
    start = np.array([1.0, 1.0])
    optimizer_path(lambda t: t, start, lambda ps: SGD(ps, lr=0.5), n_steps=3)
    np.testing.assert_array_equal(start, [1.0, 1.0])
    with pytest.raises(ValueError, match="shape"):
        optimizer_path(lambda t: np.ones(3), start, lambda ps: SGD(ps, lr=0.1), n_steps=2)
    with pytest.raises(ValueError, match="n_steps"):
        optimizer_path(lambda t: t, start, lambda ps: SGD(ps, lr=0.1), n_steps=-1)
