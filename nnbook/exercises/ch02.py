"""Checks for the exercises of chapter 2 (threshold units)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng  # noqa: F401
from ._checking import to_array, usage_error

__all__ = [
    "check_logic_gate", "check_threshold_network"
]


_GATES = {
    "and": lambda x: np.all(x == 1, axis=1),
    "or": lambda x: np.any(x == 1, axis=1),
    "nand": lambda x: ~np.all(x == 1, axis=1),
    "nor": lambda x: ~np.any(x == 1, axis=1),
    "xor": lambda x: x.sum(axis=1) % 2 == 1,
    "xnor": lambda x: x.sum(axis=1) % 2 == 0,
    "parity3": lambda x: x.sum(axis=1) % 2 == 1,
}


def _truth_table_inputs(n):
    return np.array([[(i >> (n - 1 - k)) & 1 for k in range(n)] for i in range(2 ** n)])


def _gate_key(gate):
    if not isinstance(gate, str) or gate.lower() not in _GATES:
        usage_error(f"gate must be one of {sorted(_GATES)}, got {gate!r}")
    return gate.lower()


def _judge_truth_table(name, X, got, expected, args):
    """Compare 0/1 outputs row by row; outputs must be exactly 0 or 1."""
    try:
        arr = to_array(got)
    except Exception as exc:  # noqa: BLE001 - None, strings, ragged lists
        fail_simple(name, f"{exc}", args, expected, got)
    arr = arr.astype(float).reshape(-1) if arr.size == len(X) else arr
    if arr.shape != expected.shape:
        fail_simple(name, f"return one output (0 or 1) per row of X: expected shape "
                          f"{expected.shape}, got {np.shape(arr)}", args, expected, got)
    if not np.all(np.isfinite(arr)):
        fail_simple(name, f"your outputs contain nan or inf: {arr}", args, expected, got)
    not_binary = [f"{tuple(int(v) for v in x)} -> {g:g}" for x, g in zip(X, arr)
                  if g not in (0.0, 1.0)]
    if not_binary:
        fail_simple(name, "a threshold unit outputs exactly 0 or 1, but these rows give other "
                          "values:\n  " + "\n  ".join(not_binary)
                    + "\n  Hint: apply the step function (z > 0) to the weighted sum",
                    args, expected, got)
    wrong = [f"{tuple(int(v) for v in x)} -> {int(g)} (expected {int(e)})"
             for x, g, e in zip(X, arr, expected) if g != e]
    if wrong:
        hint = ""
        if np.array_equal(1 - arr, expected):
            hint = ("\n  Hint: every output is inverted: negate the weights and the bias "
                    "(NAND is AND with all signs flipped)")
        fail_simple(name, f"{len(wrong)} of {len(X)} rows of the truth table are wrong:\n  "
                    + "\n  ".join(wrong) + hint, args, expected, got)


@exercise_check
def check_logic_gate(fn, gate: str):
    """``fn(X) -> outputs``: the 0/1 output of a logical ``gate`` for every row of ``X``.

    ``gate`` is one of ``"and"``, ``"or"``, ``"nand"``, ``"nor"``, ``"xor"``,
    ``"xnor"`` (two inputs) or ``"parity3"`` (three inputs). Outputs must be
    exactly 0 or 1 (ints, floats or booleans), one per row.

    This check sees only the truth table. To check that a *network of
    threshold units* computes the gate, give its weights and biases to
    :func:`check_threshold_network`.
    """
    key = _gate_key(gate)
    n = 3 if key == "parity3" else 2
    X = _truth_table_inputs(n)
    expected = _GATES[key](X).astype(float)
    name = f"check_logic_gate[{key}]"
    got = call(name, fn, {"X": X})
    _judge_truth_table(name, X, got, expected, {"X": X})
    return ok(name, len(X))


def _as_layer(i, layer):
    try:
        W, b = layer
        W = np.asarray(W, dtype=float)
        b = np.asarray(b, dtype=float)
    except Exception:  # noqa: BLE001
        raise ExerciseError(f"check_threshold_network: layer {i} must be a pair (W, b) of "
                            f"numbers, got {layer!r}") from None
    if W.ndim == 1:
        W = W[:, None]          # a single unit: w of shape (n_in,)
    if b.ndim == 0:
        b = b[None]
    if W.ndim != 2 or b.shape != (W.shape[1],):
        raise ExerciseError(f"check_threshold_network: layer {i} needs W of shape "
                            f"(n_in, n_units) and b of shape (n_units,), got W {W.shape} "
                            f"and b {b.shape}")
    return W, b


@exercise_check
def check_threshold_network(layers, gate: str):
    """Check a network of threshold units given by its weights and biases.

    ``layers`` is a list of ``(W, b)`` pairs, one per layer: ``W`` has shape
    ``(n_in, n_units)`` (or ``(n_in,)`` for one unit) and ``b`` shape
    ``(n_units,)`` (or a number). Each unit outputs 1 when ``x . w + b > 0``,
    else 0, and the last layer must have one unit. The check runs the network
    on every row of the truth table of ``gate`` (see :func:`check_logic_gate`)
    and also makes sure that no unit sits exactly on its threshold, where a
    tiny change of input would flip it.
    """
    key = _gate_key(gate)
    name = f"check_threshold_network[{key}]"
    if callable(layers) or not isinstance(layers, (list, tuple)) or not layers:
        raise ExerciseError(f"{name}: pass the network's weights and biases, a list of "
                            f"(W, b) pairs, one per layer; got {type(layers).__name__}")
    parsed = [_as_layer(i, layer) for i, layer in enumerate(layers)]
    n = 3 if key == "parity3" else 2
    X = _truth_table_inputs(n)
    A = X.astype(float)
    for i, (W, b) in enumerate(parsed):
        if W.shape[0] != A.shape[1]:
            raise ExerciseError(f"{name}: layer {i} expects {W.shape[0]} inputs but receives "
                                f"{A.shape[1]} (from {'X' if i == 0 else f'layer {i - 1}'})")
        Z = A @ W + b
        if np.any(np.isclose(Z, 0.0, atol=1e-12)):
            rows = [tuple(int(v) for v in x) for x in X[np.any(np.isclose(Z, 0, atol=1e-12),
                                                               axis=1)]]
            raise ExerciseError(f"{name}: in layer {i}, some unit's weighted sum is exactly 0 "
                                f"on input(s) {rows}: move the bias so that every input is "
                                "clearly on one side of the threshold")
        A = (Z > 0).astype(float)
    if A.shape[1] != 1:
        raise ExerciseError(f"{name}: the last layer must have one unit (the output), "
                            f"got {A.shape[1]}")
    _judge_truth_table(name, X, A[:, 0], _GATES[key](X).astype(float), {"layers": layers})
    return ok(name, len(X))
