"""Checks for the exercises of chapter 9 (a whole network)."""

from __future__ import annotations

import numpy as np

from ._checking import compare
from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ['check_network_gradients']


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
