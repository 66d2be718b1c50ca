"""Claims that the book's pages check against their own numbers.

A sentence on a page that reports the outcome of an experiment ("the
residual network ends with a lower loss than the plain one", "the LSTM
loses to the linear model") is a *claim*. The page proves it: right after
the experiment, a hidden cell states the claim in words together with the
numbers it rests on::

    from nnbook.claims import claim, claim_less

    claim_less("the residual net's final loss is below the plain net's",
               residual_loss, plain_loss)

If the claim does not hold, :class:`ClaimError` is raised. The book builds
with ``raise_on_error``, so the build fails, and the failure names the page
(Sphinx's ``Executing notebook failed`` line), the claim in words and the
numbers involved. A change to an experiment that breaks a sentence of the
prose therefore cannot go unnoticed.

Where two numbers are close, one run proves little: :func:`claim_separated`
compares the means of several seeds against their standard errors, and
:func:`mean_sd` and :func:`accuracy_standard_error` give the numbers that the
prose reports beside the claim.

The module is NumPy only and prints nothing when a claim holds.
"""

from __future__ import annotations

import math
import numbers
from typing import Iterable, Mapping

import numpy as np

__all__ = [
    "ClaimError",
    "claim",
    "claim_less",
    "claim_greater",
    "claim_close",
    "claim_between",
    "claim_separated",
    "claim_within_noise",
    "mean_sd",
    "standard_error",
    "accuracy_standard_error",
    "format_mean_sd",
    "checked_claims",
]


class ClaimError(AssertionError):
    """A sentence of the book is not supported by the numbers beside it."""


# Every claim checked in this process, in order: (statement, numbers).
# Used by tests and by pages that list what they checked.
_CHECKED: list[tuple[str, dict]] = []


def checked_claims() -> list[tuple[str, dict]]:
    """Return the claims that held so far in this process, as (statement, numbers)."""
    return list(_CHECKED)


def _as_number(name: str, value) -> float:
    if isinstance(value, bool) or value is None:
        raise TypeError(f"{name} must be a real number, got {value!r}")
    if hasattr(value, "detach"):  # a torch tensor holding one number
        value = value.detach().cpu().numpy()
    arr = np.asarray(value)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__} "
                        f"with shape {arr.shape}")
    return float(arr.reshape(()))


def _as_sample(name: str, values) -> np.ndarray:
    if isinstance(values, (str, bytes)) or values is None:
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r}")
    arr = np.asarray([_as_number(f"{name}[{i}]", v) for i, v in enumerate(values)])
    if arr.size < 2:
        raise ValueError(f"{name} needs at least 2 values (one per seed), got {arr.size}")
    return arr


def _format(value) -> str:
    if isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, (numbers.Real, np.floating)):
        return f"{float(value):.6g}"
    if isinstance(value, (list, tuple, np.ndarray)):
        items = list(np.asarray(value).ravel())
        shown = ", ".join(_format(v) for v in items[:8])
        return f"[{shown}{', ...' if len(items) > 8 else ''}]"
    return repr(value)


def _check_statement(statement) -> str:
    if not isinstance(statement, str) or not statement.strip():
        raise TypeError(f"statement must be a non-empty string saying the claim in words, "
                        f"got {statement!r}")
    return statement.strip()


def claim(statement: str, holds, **numbers_involved) -> None:
    """Check that ``statement`` holds; raise :class:`ClaimError` naming it if not.

    Parameters
    ----------
    statement : str
        The claim, in the words the page uses ("the CNN beats the MLP at
        every training-set size").
    holds : bool
        Whether the page's numbers support it (a Python or NumPy bool).
    **numbers_involved
        The numbers the claim rests on, by name; they appear in the error.
    """
    statement = _check_statement(statement)
    if not isinstance(holds, (bool, np.bool_)):
        raise TypeError(f"holds must be a bool (the result of the comparison), got "
                        f"{type(holds).__name__}: {holds!r}")
    if not bool(holds):
        shown = ", ".join(f"{k}={_format(v)}" for k, v in numbers_involved.items())
        raise ClaimError(f"Claim does not hold: {statement}" + (f" ({shown})" if shown else ""))
    _CHECKED.append((statement, dict(numbers_involved)))


def claim_less(statement: str, smaller, larger, *, margin: float = 0.0,
               names: tuple[str, str] = ("smaller", "larger")) -> None:
    """Claim ``smaller + margin < larger`` (for example one loss below another)."""
    a, b = _as_number(names[0], smaller), _as_number(names[1], larger)
    m = _as_number("margin", margin)
    claim(statement, bool(a + m < b), **{names[0]: a, names[1]: b, "margin": m})


def claim_greater(statement: str, larger, smaller, *, margin: float = 0.0,
                  names: tuple[str, str] = ("larger", "smaller")) -> None:
    """Claim ``larger > smaller + margin`` (for example one accuracy above another)."""
    a, b = _as_number(names[0], larger), _as_number(names[1], smaller)
    m = _as_number("margin", margin)
    claim(statement, bool(a > b + m), **{names[0]: a, names[1]: b, "margin": m})


def claim_close(statement: str, actual, expected, *, atol: float = 0.0,
                rtol: float = 0.0) -> None:
    """Claim ``|actual - expected| <= atol + rtol * |expected|`` element-wise.

    ``actual`` and ``expected`` may be arrays of the same shape ("the scratch
    gradient matches torch's to 1e-9": ``atol=1e-9``).
    """
    atol, rtol = _as_number("atol", atol), _as_number("rtol", rtol)
    if not (np.isfinite(atol) and np.isfinite(rtol)) or atol < 0 or rtol < 0 or (
            atol == 0 and rtol == 0):
        raise ValueError(f"give a positive atol or rtol (finite, >= 0), got atol={atol!r}, "
                         f"rtol={rtol!r}")
    a = np.asarray(actual.detach().cpu() if hasattr(actual, "detach") else actual, dtype=float)
    e = np.asarray(expected.detach().cpu() if hasattr(expected, "detach") else expected,
                   dtype=float)
    if a.shape != e.shape:
        raise ValueError(f"actual and expected must have the same shape, got {a.shape} "
                         f"and {e.shape}")
    diff = np.abs(a - e)
    worst = float(diff.max()) if diff.size else 0.0
    holds = bool(np.all(diff <= atol + rtol * np.abs(e))) and bool(np.all(np.isfinite(a)))
    claim(statement, holds, largest_difference=worst, atol=atol, rtol=rtol)


def claim_between(statement: str, value, low, high) -> None:
    """Claim ``low <= value <= high`` (for example "stays at chance": 0.45-0.55)."""
    v, lo, hi = (_as_number("value", value), _as_number("low", low), _as_number("high", high))
    if lo > hi:
        raise ValueError(f"low must not exceed high, got low={lo}, high={hi}")
    claim(statement, lo <= v <= hi, value=v, low=lo, high=hi)


def mean_sd(values: Iterable) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of per-seed results."""
    arr = _as_sample("values", values)
    return float(arr.mean()), float(arr.std(ddof=1))


def standard_error(values: Iterable) -> float:
    """Standard error of the mean of per-seed results: sd / sqrt(n)."""
    arr = _as_sample("values", values)
    return float(arr.std(ddof=1) / math.sqrt(arr.size))


def accuracy_standard_error(accuracy, n: int) -> float:
    """Standard error of an accuracy measured on ``n`` test examples: sqrt(p(1-p)/n)."""
    p = _as_number("accuracy", accuracy)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"accuracy must be a fraction in [0, 1], got {p}")
    if isinstance(n, bool) or not isinstance(n, (numbers.Integral, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive integer (the number of test examples), got {n!r}")
    return math.sqrt(p * (1.0 - p) / int(n))


def format_mean_sd(values: Iterable, digits: int = 3, scale: float = 1.0,
                   unit: str = "") -> str:
    """``"0.912 ± 0.004"`` for per-seed results (``scale=100, unit="%"`` for percents)."""
    if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 0:
        raise ValueError(f"digits must be an integer >= 0, got {digits!r}")
    scale = _as_number("scale", scale)
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string, got {unit!r}")
    mean, sd = mean_sd(values)
    return f"{mean * scale:.{digits}f} ± {sd * scale:.{digits}f}{unit}"


def claim_separated(statement: str, better: Iterable, worse: Iterable, *,
                    higher_is_better: bool = True, sigmas: float = 2.0) -> None:
    """Claim that one method beats another over several seeds, beyond the noise.

    ``better`` and ``worse`` are per-seed results (accuracies, or losses with
    ``higher_is_better=False``). The claim holds when the difference of the
    means exceeds ``sigmas`` standard errors of that difference,
    sqrt(se_better^2 + se_worse^2).
    """
    b, w = _as_sample("better", better), _as_sample("worse", worse)
    gap = (b.mean() - w.mean()) if higher_is_better else (w.mean() - b.mean())
    se = math.sqrt(standard_error(b) ** 2 + standard_error(w) ** 2)
    claim(statement, bool(gap > sigmas * se), better_mean=float(b.mean()),
          worse_mean=float(w.mean()), gap=float(gap), standard_error_of_gap=se,
          sigmas=sigmas, seeds=(b.size, w.size))


def claim_within_noise(statement: str, a: Iterable, b: Iterable, *,
                       sigmas: float = 2.0) -> None:
    """Claim that two methods do *not* differ beyond the noise of their seeds.

    Holds when ``|mean(a) - mean(b)| <= sigmas * sqrt(se_a^2 + se_b^2)``: the
    honest sentence for "about the same".
    """
    x, y = _as_sample("a", a), _as_sample("b", b)
    gap = abs(x.mean() - y.mean())
    se = math.sqrt(standard_error(x) ** 2 + standard_error(y) ** 2)
    claim(statement, bool(gap <= sigmas * se), mean_a=float(x.mean()), mean_b=float(y.mean()),
          gap=float(gap), standard_error_of_gap=se, sigmas=sigmas)

