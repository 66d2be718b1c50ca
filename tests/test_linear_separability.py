import numpy as np
import pytest

from nnbook.scratch import Perceptron
from nnbook.scratch.linear_separability import (
    BOOLEAN_FUNCTIONS, BOOLEAN_INPUTS, accuracy_history, threshold_layer,
    train_until_converged, xor_hidden, xor_network,
)

NOT_SEPARABLE = {"XOR", "XNOR"}


def test_sixteen_distinct_functions():
    tables = set(BOOLEAN_FUNCTIONS.values())
    assert len(tables) == 16
    assert all(len(t) == 4 and set(t) <= {0, 1} for t in tables)


@pytest.mark.parametrize("name", sorted(BOOLEAN_FUNCTIONS))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_converges_exactly_on_separable_functions(name, seed):
    y = np.array(BOOLEAN_FUNCTIONS[name])
    p, converged = train_until_converged(BOOLEAN_INPUTS, y, max_epochs=200, seed=seed)
    assert converged == (name not in NOT_SEPARABLE)
    if converged:
        assert p.errors_[-1] == 0
        np.testing.assert_array_equal(p.predict(BOOLEAN_INPUTS), y)
        assert len(p.errors_) <= 200
    else:
        assert len(p.errors_) == 200
        assert min(p.errors_) > 0


def test_xor_accuracy_never_reaches_one():
    y = np.array(BOOLEAN_FUNCTIONS["XOR"])
    p, _ = train_until_converged(BOOLEAN_INPUTS, y, max_epochs=50, seed=0)
    acc = accuracy_history(p, BOOLEAN_INPUTS, y)
    assert acc.shape == (50,)
    assert acc.max() <= 0.75


def test_accuracy_history_matches_predict():
    y = np.array(BOOLEAN_FUNCTIONS["AND"])
    p = Perceptron(2, seed=3).train(BOOLEAN_INPUTS, y, epochs=15)
    acc = accuracy_history(p, BOOLEAN_INPUTS, y)
    assert acc[-1] == np.mean(p.predict(BOOLEAN_INPUTS) == y)


def test_xor_network_computes_xor():
    np.testing.assert_array_equal(xor_network(BOOLEAN_INPUTS), BOOLEAN_FUNCTIONS["XOR"])
    H = xor_hidden(BOOLEAN_INPUTS)
    np.testing.assert_array_equal(H[:, 0], BOOLEAN_FUNCTIONS["OR"])
    np.testing.assert_array_equal(H[:, 1], BOOLEAN_FUNCTIONS["NAND"])


def test_threshold_layer_shape_errors():
    with pytest.raises(ValueError, match="W must have shape"):
        threshold_layer(np.zeros((4, 2)), np.zeros((3, 1)), np.zeros(1))
    with pytest.raises(ValueError, match="max_epochs"):
        train_until_converged(BOOLEAN_INPUTS, [0, 0, 0, 1], max_epochs=0)
