"""The machinery shared by every exercise check.

A check calls the reader's function on several inputs and compares each
result with the package's reference. It judges the *answer*, not how it was
computed, so it

- says directly when the function returned nothing (``None``) or something
  that is not numbers, before comparing anything;
- accepts NumPy arrays of any float dtype, Python numbers, lists and torch
  tensors (also ones that require grad), with a tolerance set by the answer's
  precision: a float32 answer is compared with float32 tolerance, and the
  success message says so;
- on a wrong answer, reports the input, the expected and the received value,
  and the largest difference and where it is; the same information is kept in
  :func:`last_failure` for the reader to inspect;
- gives a hint about a common mistake only when that mistake explains the
  received value *and* differs from the right answer on that input;
- never crashes: any failure inside the reader's code or the comparison
  becomes an :class:`ExerciseError` that says what happened.
"""

from __future__ import annotations

import functools
import inspect
import numbers

import numpy as np

__all__ = ["ExerciseError", "last_failure"]


class ExerciseError(AssertionError):
    """Raised by a check when the reader's answer is wrong; the message says why."""


_LAST_FAILURE: dict | None = None


def last_failure() -> dict | None:
    """What the last failed check saw: ``{"check", "input", "expected", "received",
    "largest_difference", "where", "message"}`` (``None`` if no check failed yet).

    The input is the exact one the check used, so the reader can call their
    function on it again: ``fn(**last_failure()["input"])``.
    """
    return None if _LAST_FAILURE is None else dict(_LAST_FAILURE)


# ---------------------------------------------------------------------------
# turning answers into arrays
# ---------------------------------------------------------------------------

class _NotNumbers(Exception):
    """The reader's answer cannot be read as numbers; the message says why."""


def _is_tensor(value) -> bool:
    return type(value).__module__.startswith("torch") and hasattr(value, "detach")


def to_array(value) -> np.ndarray:
    """The reader's answer as a NumPy array, keeping its floating precision.

    Raises :class:`_NotNumbers` with a direct message for ``None``, strings,
    dicts, ragged lists and other things that are not numbers.
    """
    if value is None:
        raise _NotNumbers("your function returned None: did you forget the `return` "
                          "statement?")
    if _is_tensor(value):
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":
            value = value.float()
        value = value.numpy()
    if isinstance(value, (str, bytes, dict, set)):
        raise _NotNumbers(f"your function returned a {type(value).__name__} "
                          f"({_fmt(value, 80)}); it should return numbers")
    if isinstance(value, (list, tuple)) and any(_is_tensor(v) for v in value):
        value = [v.detach().cpu().numpy() if _is_tensor(v) else v for v in value]
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise _NotNumbers(f"your function returned something that is not an array of "
                          f"numbers ({type(value).__name__}: {exc})") from None
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise _NotNumbers(f"your function returned {type(value).__name__} "
                          f"{_fmt(value, 120)}, which is not an array of numbers")
    if np.iscomplexobj(arr):
        raise _NotNumbers("your function returned complex numbers")
    return arr


def _tolerances(arr: np.ndarray, expected: np.ndarray, rtol: float, atol: float):
    """Tolerances for an answer of ``arr``'s precision; and a note when relaxed."""
    if arr.dtype in (np.float32, np.float16):
        eps = float(np.finfo(arr.dtype).eps)
        scale = float(np.max(np.abs(expected))) if expected.size else 1.0
        scale = max(scale, 1.0) if np.isfinite(scale) else 1.0
        return (max(rtol, 200 * eps), max(atol, 50 * eps * scale),
                f"your answer is {arr.dtype.name}: compared within {arr.dtype.name} "
                "precision")
    return rtol, atol, None


def compare(got, expected, rtol=1e-6, atol=1e-8) -> dict:
    """Compare an answer with the expected value.

    Returns ``{"ok", "note", "largest_difference", "where", "got", "expected",
    "problem"}``; ``problem`` is a direct message when the answer is not
    comparable at all (None, not numbers, wrong shape, nan).
    """
    e = np.asarray(expected, dtype=float)
    out = {"ok": False, "note": None, "largest_difference": None, "where": None,
           "got": got, "expected": expected, "problem": None}
    try:
        arr = to_array(got)
    except _NotNumbers as exc:
        out["problem"] = str(exc)
        return out
    if arr.dtype == np.bool_:
        arr = arr.astype(float)
    if arr.shape != e.shape:
        if arr.shape == (1,) and e.shape == ():
            arr = arr.reshape(())
        else:
            out["problem"] = _shape_message(arr.shape, e.shape)
            return out
    rtol, atol, note = _tolerances(arr, e, rtol, atol)
    out["note"] = note
    a = arr.astype(float)
    if not np.all(np.isfinite(a)) and np.all(np.isfinite(e)):
        bad = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        out["where"] = bad if a.ndim else None
        out["problem"] = (f"your result contains {a[bad] if a.ndim else a} "
                          f"{'at index ' + str(bad) + ' ' if a.ndim else ''}"
                          "where the right answer is finite")
        out["nonfinite"] = True
        return out
    diff = np.abs(a - e)
    excess = diff - (atol + rtol * np.abs(e))
    out["ok"] = bool(np.all(excess <= 0))
    if not out["ok"] and arr.dtype == np.float64 and np.any(diff):
        # float64 numbers with float32 rounding (inputs cast to float32 on the way):
        # a right answer computed at lower precision, judged as such
        # (a few float32 rounding steps, far tighter than the float32 answers' tolerance,
        # so that a method error such as a one-sided difference is still caught)
        eps32 = float(np.finfo(np.float32).eps)
        scale = float(np.max(np.abs(e))) if e.size else 1.0
        scale = scale if np.isfinite(scale) and scale > 0 else 1.0
        if np.all(diff <= 16 * eps32 * (np.abs(e) + scale)):
            out["ok"] = True
            out["note"] = ("your answer agrees within float32 precision (part of your "
                           "computation ran in float32)")
    if diff.size:
        largest = np.unravel_index(int(np.argmax(diff)), diff.shape)
        out["largest_difference"] = float(diff[largest])
        # point at the entry furthest outside the tolerance, which need not be the
        # entry with the largest difference
        idx = largest if out["ok"] else np.unravel_index(int(np.argmax(excess)), diff.shape)
        out["where"] = tuple(int(i) for i in idx) if a.ndim else None
        out["where_is_largest"] = idx == largest
    return out


OVERFLOW_HINT = ("a formula with exp() overflows for large inputs: subtract the maximum "
                 "first, so that exp() never sees a large positive number")


def close(got, expected, rtol=1e-6, atol=1e-8) -> bool:
    """Whether ``got`` equals ``expected`` within tolerance (False if not comparable)."""
    try:
        return compare(got, expected, rtol, atol)["ok"]
    except Exception:  # noqa: BLE001 - a comparison never crashes a check
        return False


def _shape_message(g, e) -> str:
    if len(g) == 2 and tuple(g) == tuple(e)[::-1]:
        return (f"your result has shape {g}, the transpose of the expected {e}: "
                "check the order of the matrix product or a missing .T")
    if g == () and e != ():
        return (f"your result is a single number but should have shape {e}: "
                "did you sum or average over the batch too early?")
    return f"your result has shape {g}, expected shape {e}"


# ---------------------------------------------------------------------------
# messages
# ---------------------------------------------------------------------------

def _fmt(value, limit: int = 300) -> str:
    """A short, readable rendering of a value for an error message."""
    if _is_tensor(value):
        return f"tensor {_fmt(value.detach().cpu().numpy(), limit)}"
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, suppress=True, threshold=20, edgeitems=3):
            text = np.array2string(value, separator=", ")
        text = f"array(shape={value.shape}) {text}" if value.ndim > 1 or value.size > 6 else text
    elif isinstance(value, tuple):
        text = "(" + ", ".join(_fmt(v, limit) for v in value) + ")"
    elif isinstance(value, list) and value and all(isinstance(v, np.ndarray) for v in value):
        text = "[" + ", ".join(_fmt(v, limit) for v in value) + "]"
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _describe(args: dict) -> str:
    return ", ".join(f"{k} = {_fmt(v, 200)}" for k, v in args.items())


def fail(name, args, expected, got, hint=None, what="wrong answer", comparison=None):
    """Record the failure (see :func:`last_failure`) and raise :class:`ExerciseError`."""
    global _LAST_FAILURE
    lines = [f"{name}: {what} for input {_describe(args)}",
             f"  expected: {_fmt(expected)}",
             f"  got:      {_fmt(got)}"]
    comparison = comparison or {}
    where, largest = comparison.get("where"), comparison.get("largest_difference")
    if largest is not None:
        if not where:
            at = ""
        elif comparison.get("where_is_largest", True):
            at = f" at index {where}"
        else:
            at = f"; furthest outside the tolerance at index {where}"
        lines.append(f"  largest difference: {largest:.3g}{at}")
        if where:
            try:
                lines.append(f"    expected {float(np.asarray(expected, dtype=float)[where]):.6g}"
                             f", got {float(to_array(got).astype(float)[where]):.6g} there")
            except Exception:  # noqa: BLE001 - the message is best effort
                pass
    if comparison.get("problem"):
        lines.append(f"  Problem: {comparison['problem']}")
    if hint:
        lines.append(f"  Hint: {hint}")
    lines.append("  (the input is kept in nnbook.exercises.last_failure())")
    message = "\n".join(lines)
    _LAST_FAILURE = {"check": name, "input": {k: _copy(v) for k, v in args.items()},
                     "expected": expected, "received": got, "largest_difference": largest,
                     "where": where, "message": message}
    raise ExerciseError(message)


def fail_simple(name, message, args=None, expected=None, got=None):
    """A failure with a free-form message (truth tables, kinds of result)."""
    global _LAST_FAILURE
    message = f"{name}: {message}\n  (the input is kept in nnbook.exercises.last_failure())"
    _LAST_FAILURE = {"check": name, "input": dict(args or {}), "expected": expected,
                     "received": got, "largest_difference": None, "where": None,
                     "message": message}
    raise ExerciseError(message)


def _copy(v):
    if isinstance(v, np.ndarray):
        return v.copy()
    if isinstance(v, list):
        return [_copy(x) for x in v]
    return v


def ok(name, n, notes=()):
    notes = sorted({n_ for n_ in notes if n_})
    extra = f" ({'; '.join(notes)})" if notes else ""
    print(f"Correct! {name}: all {n} test inputs passed{extra}.")


# ---------------------------------------------------------------------------
# calling the reader's function and running cases
# ---------------------------------------------------------------------------

def plain(value):
    """Torch tensors (also ones that require grad) as NumPy arrays, inside lists too."""
    if _is_tensor(value):
        value = value.detach().cpu()
        return (value.float() if str(value.dtype) == "torch.bfloat16" else value).numpy()
    if isinstance(value, (list, tuple)):
        return type(value)(plain(v) for v in value)
    return value


def call(name, fn, args: dict):
    """Call the reader's function on copies of ``args``; its exceptions become failures.

    The answer comes back with torch tensors turned into NumPy arrays; an answer
    of ``None`` fails at once with a message that says so.
    """
    try:
        result = fn(*[_copy(v) for v in args.values()])
    except Exception as exc:  # noqa: BLE001 - the reader's code failed: say where
        hint = ""
        text = str(exc)
        if "matmul" in text or "shapes" in text or "broadcast" in text:
            hint = ("\n  Hint: the shapes do not fit: write down the shape of every array "
                    "(a missing or extra .T is the usual cause)")
        elif isinstance(exc, NotImplementedError):
            hint = "\n  Hint: replace the `raise NotImplementedError` line with your code"
        global _LAST_FAILURE
        message = (f"{name}: your function raised {type(exc).__name__}: {exc}\n"
                   f"  on input {_describe(args)}{hint}")
        _LAST_FAILURE = {"check": name, "input": {k: _copy(v) for k, v in args.items()},
                         "expected": None, "received": exc, "largest_difference": None,
                         "where": None, "message": message}
        raise ExerciseError(message) from exc
    if result is None:
        fail_simple(name, "your function returned None: did you forget the `return` "
                          f"statement?\n  (input: {_describe(args)})", args)
    return plain(result)


def mistake_hint(got, args, expected, mistakes, rtol=1e-6, atol=1e-9, part=None):
    """The hint of the first mistake that explains ``got`` and differs from ``expected``."""
    for wrong, text in mistakes:
        try:
            wrong_out = wrong(*[_copy(v) for v in args.values()])
            if part is not None:
                wrong_out = wrong_out[part]
        except Exception:  # noqa: BLE001 - a mistake model that does not apply here
            continue
        if close(wrong_out, expected, rtol, atol):
            continue  # this mistake gives the right answer on this input: it explains nothing
        if close(got, wrong_out, rtol, atol):
            return text
    return None


def generic_hint(comparison, expected) -> str | None:
    if comparison.get("problem"):
        return None
    try:
        g = to_array(comparison["got"]).astype(float)
        e = np.asarray(expected, dtype=float)
    except Exception:  # noqa: BLE001
        return None
    if g.shape == e.shape and np.allclose(g, -e) and np.any(e != 0):
        return "your result has the opposite sign: check the sign of the update or the gradient"
    return None


def run_cases(name, fn, cases, reference, mistakes=(), rtol=1e-6, atol=1e-8,
              nonfinite_hint=None):
    """Compare ``fn(*case)`` with ``reference(*case)`` for every case (a dict).

    ``mistakes`` holds ``(wrong_fn, hint)`` pairs (see :func:`mistake_hint`);
    ``nonfinite_hint`` is the hint for an answer holding nan or inf.
    """
    notes = []
    for args in cases:
        expected = reference(*[_copy(v) for v in args.values()])
        got = call(name, fn, args)
        comparison = compare(got, expected, rtol, atol)
        notes.append(comparison["note"])
        if comparison["ok"]:
            continue
        hint = (None if comparison["problem"] and "None" in comparison["problem"]
                else mistake_hint(got, args, expected, mistakes))
        if hint is None and comparison.get("nonfinite"):
            hint = nonfinite_hint
        fail(name, args, expected, got, hint or generic_hint(comparison, expected),
             comparison=comparison)
    return ok(name, len(cases), notes)


def as_parts(got, n):
    """The reader's tuple-like answer as a list of ``n`` parts, or None."""
    if isinstance(got, (tuple, list)) and len(got) == n:
        return list(got)
    if isinstance(got, np.ndarray) and got.ndim >= 1 and got.shape[0] == n:
        return list(got)   # e.g. np.polyfit's array (a, b)
    if _is_tensor(got) and got.ndim >= 1 and got.shape[0] == n:
        return list(got)
    return None


def tuple_cases(name, fn, cases, reference, parts, mistakes=(), rtol=1e-6, atol=1e-8):
    """Like :func:`run_cases` for functions returning a tuple named ``parts``."""
    notes = []
    for args in cases:
        expected = reference(*[_copy(v) for v in args.values()])
        got = call(name, fn, args)
        got_parts = as_parts(got, len(parts))
        if got_parts is None:
            problem = ("your function returned None: did you forget the `return` statement?"
                       if got is None else None)
            fail(name, args, expected, got,
                 problem or f"return a tuple of {len(parts)} values: ({', '.join(parts)})",
                 what="wrong kind of result")
        whole = None
        for wrong, text in mistakes:
            try:
                wrong_out = wrong(*[_copy(v) for v in args.values()])
            except Exception:  # noqa: BLE001
                continue
            if all(close(w, e, rtol, atol) for w, e in zip(wrong_out, expected)):
                continue
            if all(close(g, w, rtol, 1e-9) for g, w in zip(got_parts, wrong_out)):
                whole = text
                break
        for i, (part, g, e) in enumerate(zip(parts, got_parts, expected)):
            comparison = compare(g, e, rtol, atol)
            notes.append(comparison["note"])
            if comparison["ok"]:
                continue
            hint = whole or mistake_hint(g, args, e, mistakes, rtol, 1e-9, part=i)
            fail(name, args, e, g, hint or generic_hint(comparison, e), what=f"wrong {part}",
                 comparison=comparison)
    return ok(name, len(cases), notes)


def rng(seed=0):
    return np.random.default_rng(seed)


def exercise_check(check):
    """Decorator for every public check: validates ``fn`` and never lets the check crash."""
    takes_function = next(iter(inspect.signature(check).parameters)) == "fn"

    @functools.wraps(check)
    def wrapper(fn, *args, **kwargs):
        if takes_function and not callable(fn):
            raise TypeError(f"{check.__name__}: pass your function itself (fn must be "
                            f"callable), got {type(fn).__name__}: {_fmt(fn, 80)}")
        try:
            return check(fn, *args, **kwargs)
        except (ExerciseError, _CheckUsageError):
            raise
        except Exception as exc:  # noqa: BLE001 - a check never crashes
            raise ExerciseError(f"{check.__name__}: could not check your answer "
                                f"({type(exc).__name__}: {exc}); make sure your function "
                                "returns NumPy arrays or numbers of the documented "
                                "shape") from exc
    return wrapper


class _CheckUsageError(ValueError):
    """The check itself was called wrongly (for example an unknown gate name)."""


def usage_error(message: str):
    raise _CheckUsageError(message)


def is_integer(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, bool)


# ---------------------------------------------------------------------------
# backward passes: the reader's backward against the reference AND against
# finite differences of the reader's own forward
# ---------------------------------------------------------------------------

def numerical_vjp(forward, args: dict, d_out, wrt, eps=1e-6):
    """Central-difference gradients of ``sum(forward(**args) * d_out)`` with respect
    to each argument named in ``wrt``, in float64."""
    args = {k: (np.array(v, dtype=float) if isinstance(v, np.ndarray) else v)
            for k, v in args.items()}
    grads = {}
    for name in wrt:
        x = args[name]
        g = np.zeros_like(x)
        for idx in np.ndindex(x.shape):
            old = x[idx]
            x[idx] = old + eps
            plus = np.sum(np.asarray(plain(forward(**args)), dtype=float) * d_out)
            x[idx] = old - eps
            minus = np.sum(np.asarray(plain(forward(**args)), dtype=float) * d_out)
            x[idx] = old
            g[idx] = (plus - minus) / (2 * eps)
        grads[name] = g
    return grads


def backward_cases(name, forward, backward, cases, reference_forward, reference_backward,
                   parts, mistakes=(), rtol=1e-6, atol=1e-8):
    """Check a reader's ``forward`` and ``backward`` pair.

    ``cases`` are dicts of forward arguments plus ``"d_out"`` (the upstream
    gradient); ``backward`` receives the forward arguments, then ``d_out``, and
    returns one gradient per name in ``parts`` (a tuple if more than one).
    The check compares, for every case: the forward with the reference; the
    backward with the reference; and the backward with finite differences of
    the reader's own forward, so that the message can say whether the backward
    is wrong for the reader's forward or only differs from the book's.
    """
    if not callable(backward):
        raise TypeError(f"{name}: backward must be a function, got {type(backward).__name__}")
    notes = []
    for case in cases:
        fwd_args = {k: v for k, v in case.items() if k != "d_out"}
        d_out = case["d_out"]
        expected_out = reference_forward(**{k: _copy(v) for k, v in fwd_args.items()})
        got_out = call(f"{name} (forward)", lambda *a: forward(*a), fwd_args)
        comparison = compare(got_out, expected_out, rtol, atol)
        notes.append(comparison["note"])
        if not comparison["ok"]:
            fail(f"{name} (forward)", fwd_args, expected_out, got_out,
                 "fix the forward pass first: the backward is checked against it",
                 comparison=comparison)
        expected = reference_backward(**{k: _copy(v) for k, v in case.items()})
        expected = expected if isinstance(expected, tuple) else (expected,)
        got = call(f"{name} (backward)", lambda *a: backward(*a), case)
        got_parts = [got] if len(parts) == 1 and not isinstance(got, (tuple, list)) \
            else as_parts(got, len(parts))
        if got_parts is None:
            fail(f"{name} (backward)", case, expected, got,
                 f"return {len(parts)} gradients: ({', '.join(parts)})",
                 what="wrong kind of result")
        for i, (part, g, e) in enumerate(zip(parts, got_parts, expected)):
            comparison = compare(g, e, rtol, atol)
            notes.append(comparison["note"])
            if comparison["ok"]:
                continue
            key = part[2:] if part.startswith("d_") else part[1:]
            numeric = numerical_vjp(lambda **a: forward(*a.values()), fwd_args, d_out, [key])
            own = compare(g, numeric[key], 1e-4, 1e-6)
            hint = mistake_hint(g, case, e, [(lambda *a, w=w: w(*a)[i], t) for w, t in mistakes])
            if hint is None and own["ok"]:
                hint = ("your backward matches finite differences of YOUR forward, so the "
                        "two are consistent, but they differ from the book's definition")
            elif hint is None:
                hint = ("finite differences of your own forward disagree with your backward "
                        f"too (largest difference {own['largest_difference']:.3g}): the "
                        "backward formula is wrong")
            fail(f"{name} (backward)", case, e, g, hint, what=f"wrong {part}",
                 comparison=comparison)
    return ok(name, len(cases), notes)
