"""Checks for the exercises of chapter 5 (counting parameters)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ["check_parameter_count"]


def _parameter_count(layer_sizes):
    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))


@exercise_check
def check_parameter_count(fn):
    """``fn(layer_sizes) -> int``: weights plus biases of a dense network."""
    cases = [{"layer_sizes": s} for s in
             ([2, 1], [2, 3, 1], [3, 5, 5, 1], [10, 64, 32, 16, 2], [784, 256, 128, 10])]
    return run_cases(
        "check_parameter_count", fn, cases, _parameter_count,
        mistakes=[(lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])),
                   "you counted the weights only: every neuron also has a bias"),
                  (lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:])),
                   "the biases belong to the layer's OUTPUTS: add n_out per layer, not n_in"),
                  (lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])) + sum(s),
                   "the input layer has no biases: add one bias per neuron of layers 1..L")],
        rtol=0, atol=0)
