"""Checks for the exercises of chapter 1 (learning a rule from data)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng

__all__ = ["check_line_fit"]


@exercise_check
def check_line_fit(fn):
    """``fn(x, y) -> (a, b)``: the least-squares line ``y = a x + b``."""
    rng = _rng(1)
    C = np.linspace(-20, 40, 30)
    cases = [
        {"x": C, "y": 1.8 * C + 32 + rng.normal(0, 1, C.size)},
        {"x": np.array([0.0, 1.0]), "y": np.array([1.0, 3.0])},
        {"x": np.arange(5.0), "y": np.full(5, 7.0)},
    ]

    def reference(x, y):
        a, b = np.polyfit(x, y, 1)
        return a, b

    return tuple_cases("check_line_fit", fn, cases, reference, ("a", "b"),
                        mistakes=[(lambda x, y: tuple(np.polyfit(x, y, 1)[::-1]),
                                   "a and b are swapped: np.polyfit returns the slope first")],
                        rtol=1e-4, atol=1e-6)
