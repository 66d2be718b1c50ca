"""One protocol on both sides: a scratch network and its PyTorch twin (the same
weights) give the same predict, predict_proba and predict_labels, and their
training loops print progress the same way."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from nnbook import training
from nnbook.models import SimpleNN
from nnbook.scratch import MLP


@pytest.fixture
def X():
    return np.random.default_rng(0).normal(size=(40, 4))


@pytest.mark.parametrize("n_out", [3, 1])
def test_predictions_agree_across_the_two_sides(X, n_out):
    mlp = MLP([4, 8, n_out], seed=0)
    twin = SimpleNN.from_scratch(mlp, dtype=torch.float64)
    x64 = dict(x_dtype=torch.float64)
    np.testing.assert_allclose(training.predict(twin, X, **x64), mlp.predict(X), rtol=1e-12)
    proba = mlp.predict_proba(X)
    assert proba.shape == (len(X), max(n_out, 2))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(training.predict_proba(twin, X, batch_size=7, **x64), proba,
                               rtol=1e-12, atol=1e-15)
    labels = mlp.predict_labels(X)
    np.testing.assert_array_equal(training.predict_labels(twin, X, **x64), labels)
    np.testing.assert_array_equal(proba.argmax(axis=1), labels)


def test_predict_restores_training_mode(X):
    model = SimpleNN(4, [8], 3)
    model.train()
    training.predict(model, X)
    assert model.training


def test_progress_lines_have_the_same_form(X, capsys):
    y = (X[:, 0] > 0).astype(int)
    MLP([4, 8, 2], seed=0).fit(X, y, epochs=4, print_every=2)
    scratch_lines = capsys.readouterr().out.splitlines()
    model = SimpleNN(4, [8], 2)
    training.fit(model, training.make_loader(X, y, batch_size=32), torch.nn.CrossEntropyLoss(),
                 torch.optim.Adam(model.parameters()), epochs=4, print_every=2)
    torch_lines = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in scratch_lines] == ["epoch   1/4", "epoch   2/4",
                                                              "epoch   4/4"]
    assert [line.split(":")[0] for line in torch_lines] == [line.split(":")[0]
                                                            for line in scratch_lines]
    assert all("loss" in line and "accuracy" in line for line in scratch_lines + torch_lines)
    MLP([4, 8, 2], seed=0).fit(X, y, epochs=3, verbose=True, print_every=0)
    assert capsys.readouterr().out == ""
