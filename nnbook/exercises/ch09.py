"""Checks for the exercises of chapter 9 (a whole network)."""

from __future__ import annotations

import numpy as np

from ._checking import compare
from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = [
    "check_network_gradients", "digits_capstone_data", "check_digits_capstone"
]


def _network_gradients(X, Y, weights, biases):
    As, Zs = [X], []
    A = X
    for i, (W, b) in enumerate(zip(weights, biases)):
        Z = A @ W + b
        Zs.append(Z)
        A = np.maximum(Z, 0) if i < len(weights) - 1 else Z
        As.append(A)
    dZ = (A - Y) / X.shape[0]
    dWs, dbs = [None] * len(weights), [None] * len(weights)
    for i in reversed(range(len(weights))):
        dWs[i] = As[i].T @ dZ
        dbs[i] = dZ.sum(axis=0)
        if i > 0:
            dZ = (dZ @ weights[i].T) * (Zs[i - 1] > 0)
    return dWs, dbs


@exercise_check
def check_network_gradients(fn):
    """``fn(X, Y, weights, biases) -> (dWs, dbs)``: the gradients of
    :math:`L = \\frac{1}{2N}\\sum_n \\lVert \\hat y_n - y_n \\rVert^2` for a ReLU network
    with a linear output (``NeuralNetworkFromScratch``'s model). ``weights[i]``
    has shape (n_in, n_out), ``biases[i]`` shape (n_out,); the lists returned
    have the same shapes."""
    name = "check_network_gradients"
    gen = _rng(12)
    n_cases, notes = 0, []
    for sizes, N in (([3, 4, 2], 5), ([4, 6, 5, 1], 7), ([2, 3, 3, 3, 2], 1)):
        weights = [gen.normal(0, 0.8, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [gen.normal(0, 0.3, b) for b in sizes[1:]]
        X, Y = gen.normal(size=(N, sizes[0])), gen.normal(size=(N, sizes[-1]))
        args = {"X": f"<array of shape {X.shape}>", "Y": f"<array of shape {Y.shape}>",
                "weights": f"<{len(weights)} matrices, layer sizes {sizes}>"}
        dWs, dbs = _network_gradients(X, Y, weights, biases)
        got = call(name, fn, {"X": X, "Y": Y, "weights": [w.copy() for w in weights],
                               "biases": [b.copy() for b in biases]})
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            fail(name, args, "(dWs, dbs)", got,
                 "your function returned None: did you forget `return`?" if got is None
                 else "return a pair of lists (dWs, dbs)", what="wrong kind of result")
        for label, exp_list, got_list in (("dWs", dWs, got[0]), ("dbs", dbs, got[1])):
            if len(got_list) != len(exp_list):
                fail(name, args, f"{len(exp_list)} arrays", f"{len(got_list)} arrays",
                      "return one gradient per layer", what=f"wrong number of {label}")
            for i, (e, g) in enumerate(zip(exp_list, got_list)):
                comparison = compare(g, e, 1e-6, 1e-9)
                notes.append(comparison["note"])
                if comparison["ok"]:
                    continue
                g_flat = g
                if label == "dbs" and np.shape(g) == (1,) + e.shape:
                    g_flat = np.asarray(g).reshape(e.shape)   # accept (1, n_out) biases
                    comparison = compare(g_flat, e, 1e-6, 1e-9)
                    if comparison["ok"]:
                        continue
                hint = None
                if hint is None and close(g_flat, e * X.shape[0], 1e-6, 1e-9):
                    hint = "your gradient is N times too large: dZ of the output is (Y_hat - Y) / N"
                if hint is None and i < len(exp_list) - 1 and \
                        close(np.asarray(got_list[-1], dtype=float).reshape(exp_list[-1].shape),
                               exp_list[-1], 1e-6, 1e-9):
                    hint = (f"the last layer's {label} are right but layer {i} (counting "
                            "from 0) is wrong: check dZ = (dZ @ W.T) * relu'(Z) of the layer "
                            "BELOW, computed with the weights used in the forward pass")
                fail(name, args, e, g_flat, hint, what=f"wrong {label}[{i}]",
                     comparison=comparison)
        n_cases += 1
    return ok(name, n_cases, notes)


CAPSTONE_TARGET = 0.97


def _digits_split():
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:  # pragma: no cover - scikit-learn is in the [data] extra
        raise ImportError('the digits capstone needs scikit-learn: pip install "nnbook[data]"'
                          ) from exc
    from ..scratch.training_tools import train_val_test_split
    digits = load_digits()
    return train_val_test_split(digits.data / 16.0, digits.target, val_size=0.2,
                                test_size=0.2, seed=2026)


def digits_capstone_data():
    """The capstone's training and validation data: ``X_train, y_train, X_val, y_val``.

    scikit-learn's 1,797 8x8 digits (pixels scaled to [0, 1]), split 60/20/20
    with a fixed seed; the remaining 20% are the test split that
    :func:`check_digits_capstone` keeps to itself, so that every choice is
    made on the validation split and the test set is used once.
    """
    X_train, X_val, _, y_train, y_val, _ = _digits_split()
    return X_train, y_train, X_val, y_val


def check_digits_capstone(predict):
    """``predict(X) -> labels``: your trained digit classifier, judged on the
    capstone's held-out test split (359 images it has never seen).

    Passes at a test accuracy of at least 97%; the message gives the
    accuracy with its standard error, sqrt(p (1 - p) / n).
    """
    name = "check_digits_capstone"
    if not callable(predict):
        raise TypeError(f"{name}: pass your model's predict function (callable), got "
                        f"{type(predict).__name__}")
    _, _, X_test, _, _, y_test = _digits_split()
    got = call(name, predict, {"X": X_test})
    try:
        labels = np.asarray(got).reshape(-1)
    except Exception:  # noqa: BLE001
        labels = None
    if labels is None or labels.shape != y_test.shape:
        hint = ("\n  Hint: that looks like scores or probabilities per class: pass "
                "model.predict_labels, or take the argmax over axis 1"
                if np.ndim(got) == 2 and np.shape(got)[0] == len(y_test) else "")
        fail_simple(name, f"predict must return one label per image: expected shape "
                          f"{y_test.shape}, got {np.shape(got)}{hint}", {"X": X_test}, y_test,
                    got)
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        fail_simple(name, "predict must return integer labels 0-9 (use argmax over the "
                          "class probabilities), not probabilities or scores",
                    {"X": X_test}, y_test, got)
    accuracy = float(np.mean(labels.astype(int) == y_test))
    se = float(np.sqrt(accuracy * (1 - accuracy) / len(y_test)))
    if accuracy < CAPSTONE_TARGET:
        fail_simple(name, f"test accuracy {accuracy:.1%} (± {se:.1%}) is below the target "
                          f"{CAPSTONE_TARGET:.0%}\n  Hint: tune on the validation split "
                          "(hidden size, learning rate, epochs), never on the test split",
                    {"X": X_test}, CAPSTONE_TARGET, accuracy)
    print(f"Correct! {name}: test accuracy {accuracy:.1%} (± {se:.1%}, n = {len(y_test)}) "
          f"meets the target of {CAPSTONE_TARGET:.0%}.")

