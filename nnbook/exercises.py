"""Checks for the exercise book: run the reader's function against the package.

Every ``check_*`` function takes the reader's function, calls it on several
inputs (edge cases included) and compares the result with ``nnbook``'s
reference implementation. On success it prints a one-line confirmation and
returns ``None`` (so that a notebook shows only the message). On failure it raises :class:`ExerciseError` (a subclass of
``AssertionError``) whose message names the input that failed, what was
expected, what came back and, when the answer matches a common mistake, a
hint about that mistake::

    >>> from nnbook.exercises import check_sigmoid_derivative
    >>> check_sigmoid_derivative(lambda z: 1 / (1 + np.exp(-z)))
    Traceback (most recent call last):
    ...
    ExerciseError: check_sigmoid_derivative: wrong answer for input z = ...
      Hint: your function returns sigma(z) itself, not its derivative ...

Only NumPy is used: the checks never import PyTorch.
"""

from __future__ import annotations

import numpy as np

from .scratch import activations as _act
from .scratch.losses import mse_grad as _mse_grad

__all__ = [
    "ExerciseError", "check_sigmoid_derivative", "check_relu", "check_relu_derivative",
    "check_softmax", "check_elu", "check_elu_derivative", "check_logic_gate",
    "check_line_fit", "check_perceptron_update", "check_parameter_count",
    "check_dense_forward", "check_dense_backward", "check_mse_grad",
    "check_gradient_descent_step", "check_momentum_update", "check_adam_step",
    "check_network_gradients", "check_rnn_step", "check_gru_step",
    "check_clip_grad_norm",
    "check_conv_output_size", "check_conv2d", "check_max_pool", "check_layer_norm",
    "check_attention",
]


class ExerciseError(AssertionError):
    """Raised by a check when the reader's answer is wrong; the message says why."""


# ---------------------------------------------------------------------------
# machinery
# ---------------------------------------------------------------------------

def _fmt(value, limit: int = 300) -> str:
    """A short, readable rendering of a value for an error message."""
    if isinstance(value, np.ndarray):
        with np.printoptions(precision=4, suppress=True, threshold=20, edgeitems=3):
            text = np.array2string(value, separator=", ")
        text = f"array(shape={value.shape}) {text}" if value.ndim > 1 or value.size > 6 else text
    elif isinstance(value, tuple):
        text = "(" + ", ".join(_fmt(v, limit) for v in value) + ")"
    elif isinstance(value, (float, np.floating)):
        text = f"{float(value):.6g}"
    else:
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + " ..."


def _describe(args: dict) -> str:
    return ", ".join(f"{k} = {_fmt(v, 200)}" for k, v in args.items())


def _close(got, expected, rtol=1e-6, atol=1e-8) -> bool:
    try:
        got = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return False
    expected = np.asarray(expected, dtype=float)
    return got.shape == expected.shape and bool(np.allclose(got, expected, rtol=rtol,
                                                            atol=atol, equal_nan=False))


def _call(name, fn, args: dict):
    try:
        return fn(*[np.copy(v) if isinstance(v, np.ndarray) else v for v in args.values()])
    except Exception as exc:  # the reader's code failed: say where
        hint = ""
        if "matmul" in str(exc) or "shapes" in str(exc) or "broadcast" in str(exc):
            hint = ("\n  Hint: the shapes do not fit: write down the shape of every array "
                    "(a missing or extra .T is the usual cause)")
        raise ExerciseError(
            f"{name}: your function raised {type(exc).__name__}: {exc}\n"
            f"  on input {_describe(args)}{hint}") from exc


def _shape_hint(got, expected) -> str | None:
    try:
        g, e = np.shape(got), np.shape(expected)
    except Exception:  # ragged output
        return None
    if g == e:
        return None
    if len(g) == 2 and g == e[::-1]:
        return (f"your result has shape {g}, the transpose of the expected {e}: "
                "check the order of the matrix product or a missing .T")
    if g == () and e != ():
        return (f"your result is a single number but should have shape {e}: "
                "did you sum or average over the batch too early?")
    return f"your result has shape {g}, expected shape {e}"


def _fail(name, args, expected, got, hint=None, what="wrong answer"):
    lines = [f"{name}: {what} for input {_describe(args)}",
             f"  expected: {_fmt(expected)}",
             f"  got:      {_fmt(got)}"]
    if hint:
        lines.append(f"  Hint: {hint}")
    raise ExerciseError("\n".join(lines))


def _generic_hint(got, expected) -> str | None:
    hint = _shape_hint(got, expected)
    if hint:
        return hint
    try:
        g = np.asarray(got, dtype=float)
    except (TypeError, ValueError):
        return "your function should return numbers (a NumPy array)"
    if not np.all(np.isfinite(g)):
        return ("your result contains nan or inf: the formula overflows for large inputs; "
                "rewrite it so that exp() never sees a large positive number")
    e = np.asarray(expected, dtype=float)
    if g.shape == e.shape and np.allclose(g, -e) and np.any(e != 0):
        return "your result has the opposite sign: check the sign of the update or the gradient"
    return None


def _run_cases(name, fn, cases, reference, mistakes=(), rtol=1e-6, atol=1e-8):
    """Compare ``fn(*case)`` with ``reference(*case)`` for every case (a dict).

    ``mistakes`` holds ``(wrong_fn, hint)`` pairs: when the reader's answer
    equals ``wrong_fn(*case)``, the hint explains the mistake.
    """
    for args in cases:
        expected = reference(*args.values())
        got = _call(name, fn, args)
        if _close(got, expected, rtol, atol):
            continue
        hint = None
        for wrong, text in mistakes:
            try:
                if _close(got, wrong(*args.values()), 1e-6, 1e-9):
                    hint = text
                    break
            except Exception:  # a mistake model that does not apply to this input
                continue
        _fail(name, args, expected, got, hint or _generic_hint(got, expected))
    return _ok(name, len(cases))


def _ok(name, n):
    print(f"Correct! {name}: all {n} test inputs passed.")


def _tuple_cases(name, fn, cases, reference, parts, mistakes=(), rtol=1e-6, atol=1e-8):
    """Like :func:`_run_cases` for functions returning a tuple named ``parts``."""
    for args in cases:
        expected = reference(*args.values())
        got = _call(name, fn, args)
        if not isinstance(got, (tuple, list)) or len(got) != len(parts):
            _fail(name, args, expected, got,
                  f"return a tuple of {len(parts)} values: ({', '.join(parts)})",
                  what="wrong kind of result")
        whole = None
        for wrong, text in mistakes:
            try:
                wrong_out = wrong(*args.values())
                if all(_close(g, w, 1e-6, 1e-9) for g, w in zip(got, wrong_out)):
                    whole = text
                    break
            except Exception:
                continue
        for part, g, e in zip(parts, got, expected):
            if _close(g, e, rtol, atol):
                continue
            hint = whole
            for wrong, text in ([] if whole else mistakes):
                try:
                    wrong_out = wrong(*args.values())
                    if _close(g, wrong_out[parts.index(part)], 1e-6, 1e-9):
                        hint = text
                        break
                except Exception:
                    continue
            _fail(name, args, e, g, hint or _generic_hint(g, e), what=f"wrong {part}")
    return _ok(name, len(cases))


def _rng(seed=0):
    return np.random.default_rng(seed)


# ---------------------------------------------------------------------------
# Chapter 1: learning a rule from data
# ---------------------------------------------------------------------------

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

    return _tuple_cases("check_line_fit", fn, cases, reference, ("a", "b"),
                        mistakes=[(lambda x, y: tuple(np.polyfit(x, y, 1)[::-1]),
                                   "a and b are swapped: np.polyfit returns the slope first")],
                        rtol=1e-4, atol=1e-6)


# ---------------------------------------------------------------------------
# Chapters 2-3: threshold units and the perceptron
# ---------------------------------------------------------------------------

_GATES = {
    "and": lambda x: np.all(x == 1, axis=1),
    "or": lambda x: np.any(x == 1, axis=1),
    "nand": lambda x: ~np.all(x == 1, axis=1),
    "nor": lambda x: ~np.any(x == 1, axis=1),
    "xor": lambda x: x.sum(axis=1) % 2 == 1,
    "xnor": lambda x: x.sum(axis=1) % 2 == 0,
    "parity3": lambda x: x.sum(axis=1) % 2 == 1,
}


def check_logic_gate(fn, gate: str):
    """``fn(X) -> outputs``: the 0/1 output of a logical ``gate`` for every row of ``X``.

    ``gate`` is one of ``"and"``, ``"or"``, ``"nand"``, ``"nor"``, ``"xor"``,
    ``"xnor"`` (two inputs) or ``"parity3"`` (three inputs).
    """
    key = gate.lower()
    if key not in _GATES:
        raise ValueError(f"gate must be one of {sorted(_GATES)}, got {gate!r}")
    n = 3 if key == "parity3" else 2
    X = np.array([[(i >> (n - 1 - k)) & 1 for k in range(n)] for i in range(2 ** n)])
    expected = _GATES[key](X).astype(int)
    name = f"check_logic_gate[{key}]"
    got = _call(name, fn, {"X": X})
    got_arr = np.asarray(got).reshape(-1) if np.size(got) == len(X) else np.asarray(got)
    if got_arr.shape != expected.shape:
        _fail(name, {"X": X}, expected, got, _shape_hint(got_arr, expected)
              or "return one output (0 or 1) per row of X", what="wrong shape")
    wrong = [f"{tuple(int(v) for v in x)} -> {int(g)} (expected {int(e)})"
             for x, g, e in zip(X, got_arr, expected) if int(round(float(g))) != e]
    if wrong:
        hint = None
        if np.array_equal(1 - np.round(got_arr.astype(float)), expected):
            hint = ("every output is inverted: negate the weights and the bias "
                    "(NAND is AND with all signs flipped)")
        raise ExerciseError(f"{name}: {len(wrong)} of {len(X)} rows of the truth table are "
                            f"wrong:\n  " + "\n  ".join(wrong)
                            + (f"\n  Hint: {hint}" if hint else ""))
    return _ok(name, len(X))


def _perceptron_update(w, b, x, y, lr):
    y_hat = 1 if x @ w + b > 0 else 0
    err = y - y_hat
    return w + lr * err * x, b + lr * err


def check_perceptron_update(fn):
    """``fn(w, b, x, y, lr) -> (w_new, b_new)``: one step of the perceptron rule
    :math:`w \\leftarrow w + \\eta (y - \\hat y) x`, :math:`b \\leftarrow b + \\eta (y - \\hat y)`,
    with :math:`\\hat y = 1` when :math:`w\\cdot x + b > 0`."""
    cases = [
        {"w": np.array([0.5, -0.5]), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
        {"w": np.array([0.5, 0.5]), "b": 0.2, "x": np.array([1.0, 0.0]), "y": 0, "lr": 0.5},
        {"w": np.array([1.0, 1.0]), "b": -1.5, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
        {"w": np.zeros(3), "b": 0.0, "x": np.array([1.0, 2.0, -1.0]), "y": 0, "lr": 1.0},
        {"w": np.zeros(2), "b": 0.0, "x": np.array([1.0, 1.0]), "y": 1, "lr": 0.1},
    ]

    def always_update(w, b, x, y, lr):
        return w + lr * y * x, b + lr * y

    def flipped(w, b, x, y, lr):
        y_hat = 1 if x @ w + b > 0 else 0
        return w - lr * (y - y_hat) * x, b - lr * (y - y_hat)

    def ge(w, b, x, y, lr):
        err = y - (1 if x @ w + b >= 0 else 0)
        return w + lr * err * x, b + lr * err

    def no_bias(w, b, x, y, lr):
        return _perceptron_update(w, b, x, y, lr)[0], b

    return _tuple_cases(
        "check_perceptron_update", fn, cases, _perceptron_update, ("w_new", "b_new"),
        mistakes=[(flipped, "the update has the wrong sign: it is w + lr * (y - y_hat) * x"),
                  (ge, "the step function fires only when w.x + b > 0 strictly; "
                       "at exactly 0 the perceptron predicts 0"),
                  (always_update, "update only by the error (y - y_hat): a correctly "
                                  "classified sample must leave the weights unchanged"),
                  (no_bias, "the bias is updated too: b + lr * (y - y_hat)")])


# ---------------------------------------------------------------------------
# Chapter 4: activation functions
# ---------------------------------------------------------------------------

_Z_GRID = {
    "z = 0": np.array(0.0),
    "a vector around 0": np.linspace(-4, 4, 9),
    "a batch (matrix)": _rng(4).normal(0, 3, (3, 4)),
    "large |z|": np.array([-800.0, -30.0, 30.0, 800.0]),
}


def _activation_cases(include_large=True):
    return [{"z": v} for k, v in _Z_GRID.items() if include_large or k != "large |z|"]


def check_sigmoid_derivative(fn):
    """``fn(z) -> sigma'(z)`` elementwise, for scalars, vectors and matrices."""
    sig = _act.sigmoid
    return _run_cases(
        "check_sigmoid_derivative", fn, _activation_cases(), _act.sigmoid_derivative,
        mistakes=[(sig, "your function returns sigma(z) itself, not its derivative "
                        "sigma(z) * (1 - sigma(z))"),
                  (lambda z: np.asarray(z) * (1 - np.asarray(z)),
                   "you applied s * (1 - s) to z itself: first compute s = sigma(z)"),
                  (lambda z: 1 - sig(z) ** 2,
                   "1 - s**2 is the derivative of tanh, not of the sigmoid"),

                  (lambda z: sig(z) * (1 + sig(z)),
                   "check the sign: sigma'(z) = sigma(z) * (1 - sigma(z))")],
        atol=1e-10)


def check_relu(fn):
    """``fn(z) -> max(0, z)`` elementwise."""
    return _run_cases(
        "check_relu", fn, _activation_cases(), _act.relu,
        mistakes=[(lambda z: np.abs(z), "negative inputs must give 0, not |z|"),
                  (lambda z: (np.asarray(z) > 0).astype(float),
                   "that is ReLU's derivative (a step), not ReLU itself"),
                  (lambda z: np.array(max(0.0, float(np.max(z)))),
                   "use np.maximum (elementwise), not max (one number for the whole array)")])


def check_relu_derivative(fn):
    """``fn(z) -> 1 where z > 0 else 0`` (0 at the kink z = 0, as in PyTorch)."""
    return _run_cases(
        "check_relu_derivative", fn, _activation_cases(), _act.relu_derivative,
        mistakes=[(lambda z: (np.asarray(z) >= 0).astype(float),
                   "at z = 0 the book (and PyTorch) use the derivative 0: write z > 0, "
                   "not z >= 0"),
                  (_act.relu, "that is ReLU itself; its derivative is 0 or 1")])


def _elu(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, z, alpha * np.expm1(np.minimum(z, 0)))


def _elu_derivative(z, alpha=1.0):
    z = np.asarray(z, dtype=float)
    return np.where(z > 0, 1.0, alpha * np.exp(np.minimum(z, 0)))


def check_elu(fn):
    """``fn(z) -> ELU(z)``: ``z`` for ``z > 0``, ``exp(z) - 1`` otherwise."""
    return _run_cases(
        "check_elu", fn, _activation_cases(), _elu,
        mistakes=[(lambda z: np.where(np.asarray(z) > 0, z, np.exp(np.minimum(z, 0))),
                   "for z <= 0 the ELU is exp(z) - 1 (it tends to -1), not exp(z)")])


def check_elu_derivative(fn):
    """``fn(z) -> ELU'(z)``: 1 for ``z > 0``, ``exp(z)`` otherwise."""
    return _run_cases(
        "check_elu_derivative", fn, _activation_cases(), _elu_derivative,
        mistakes=[(lambda z: np.where(np.asarray(z) > 0, 1.0, np.expm1(np.minimum(z, 0))),
                   "the derivative of exp(z) - 1 is exp(z): the -1 disappears"),
                  (_elu, "that is the ELU itself, not its derivative")])


def check_softmax(fn):
    """``fn(Z) -> softmax(Z)`` along the last axis (one row per sample)."""
    cases = [
        {"Z": np.array([2.0, 1.0, 0.1])},
        {"Z": np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])},
        {"Z": np.array([[1000.0, 1001.0, 1002.0], [-1000.0, 0.0, 1000.0]])},
        {"Z": _rng(5).normal(0, 2, (4, 5))},
    ]

    def whole_batch(Z):
        e = np.exp(Z - np.max(Z))
        return e / e.sum()

    def over_columns(Z):
        e = np.exp(Z - np.max(Z, axis=0, keepdims=True))
        return e / e.sum(axis=0, keepdims=True)

    return _run_cases(
        "check_softmax", fn, cases, _act.softmax,
        mistakes=[(whole_batch, "you normalised over the whole batch: each ROW must sum to 1 "
                                "(use axis=-1, keepdims=True)"),
                  (over_columns, "you normalised each column: each ROW (sample) must sum to 1 "
                                 "(axis=-1, not axis=0)")],
        atol=1e-10)


# ---------------------------------------------------------------------------
# Chapters 5-6: parameters and the forward pass
# ---------------------------------------------------------------------------

def _parameter_count(layer_sizes):
    return int(sum(a * b + b for a, b in zip(layer_sizes[:-1], layer_sizes[1:])))


def check_parameter_count(fn):
    """``fn(layer_sizes) -> int``: weights plus biases of a dense network."""
    cases = [{"layer_sizes": s} for s in
             ([2, 1], [2, 3, 1], [3, 5, 5, 1], [10, 64, 32, 16, 2], [784, 256, 128, 10])]
    return _run_cases(
        "check_parameter_count", fn, cases, _parameter_count,
        mistakes=[(lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])),
                   "you counted the weights only: every neuron also has a bias"),
                  (lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:])),
                   "the biases belong to the layer's OUTPUTS: add n_out per layer, not n_in"),
                  (lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])) + sum(s),
                   "the input layer has no biases: add one bias per neuron of layers 1..L")],
        rtol=0, atol=0)


def _dense_forward(X, W, b):
    return X @ W + b


def check_dense_forward(fn):
    """``fn(X, W, b) -> Z = X W + b`` for ``X`` (N, n_in), ``W`` (n_in, n_out), ``b`` (n_out,)."""
    rng = _rng(6)
    cases = [
        {"X": np.array([[2.0, -1.0]]), "W": np.array([[1.0, -1.0], [2.0, 0.5]]),
         "b": np.array([0.0, 1.0])},
        {"X": rng.normal(size=(5, 3)), "W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)},
        {"X": rng.normal(size=(1, 4)), "W": rng.normal(size=(4, 1)), "b": np.zeros(1)},
    ]
    return _run_cases(
        "check_dense_forward", fn, cases, _dense_forward,
        mistakes=[(lambda X, W, b: X @ W, "you forgot the bias b"),
                  (lambda X, W, b: X @ W.T + b,
                   "you multiplied by W.T: in the book's row convention W has shape "
                   "(n_in, n_out) and Z = X @ W + b"),
                  (lambda X, W, b: (W.T @ X.T).T,
                   "you forgot the bias b (and computed X @ W the long way)")])


# ---------------------------------------------------------------------------
# Chapter 7: backpropagation
# ---------------------------------------------------------------------------

def _dense_backward(X, W, dZ):
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


def check_dense_backward(fn):
    """``fn(X, W, dZ) -> (dX, dW, db)`` for the dense layer ``Z = X W + b``."""
    rng = _rng(7)
    cases = [
        {"X": rng.normal(size=(4, 3)), "W": rng.normal(size=(3, 2)), "dZ": rng.normal(size=(4, 2))},
        {"X": rng.normal(size=(1, 2)), "W": rng.normal(size=(2, 3)), "dZ": rng.normal(size=(1, 3))},
        {"X": rng.normal(size=(6, 3)), "W": rng.normal(size=(3, 3)), "dZ": rng.normal(size=(6, 3))},
    ]
    return _tuple_cases(
        "check_dense_backward", fn, cases, _dense_backward, ("dX", "dW", "db"),
        mistakes=[(lambda X, W, dZ: (dZ @ W, X @ dZ.T, dZ[0]),
                   "db must sum dZ over the batch (dZ.sum(axis=0)), not take one row"),
                  (lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ[0]),
                   "db must sum dZ over the batch (dZ.sum(axis=0)): every sample "
                   "contributes, not only the first"),
                  (lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ.mean(axis=0)),
                   "db is the SUM of dZ over the batch; the 1/N is already inside dZ"),
                  (lambda X, W, dZ: (dZ @ W.T, (X.T @ dZ).T, dZ.sum(axis=0)),
                   "your dW is the transpose of the right one: dW has the shape of W, (n_in, n_out), dW = X.T @ dZ"),
                  (lambda X, W, dZ: (dZ @ W, X.T @ dZ, dZ.sum(axis=0)),
                   "dX = dZ @ W.T: a missing transpose")])


def check_mse_grad(fn):
    """``fn(y_pred, y_true) -> dL/dy_pred`` for :math:`L = \\frac1N\\sum(\\hat y - y)^2`
    (the mean over all entries)."""
    rng = _rng(8)
    cases = [
        {"y_pred": np.array([0.5]), "y_true": np.array([1.0])},
        {"y_pred": np.array([1.0, 2.0, 3.0]), "y_true": np.array([1.0, 0.0, 5.0])},
        {"y_pred": rng.normal(size=(4, 2)), "y_true": rng.normal(size=(4, 2))},
    ]
    return _run_cases(
        "check_mse_grad", fn, cases, _mse_grad,
        mistakes=[(lambda p, y: (p - y) / np.size(p),
                   "the derivative of (p - y)**2 is 2 (p - y): you lost the factor 2"),
                  (lambda p, y: 2 * (p - y),
                   "the loss is a MEAN: divide by the number of entries (y_pred.size)"),
                  (lambda p, y: 2 * (p - y) / len(p),
                   "divide by the number of ENTRIES (y_pred.size), not of rows, "
                   "since the mean is over all entries"),
                  (lambda p, y: 2 * (y - p) / np.size(p),
                   "the sign is reversed: dL/dy_pred = 2 (y_pred - y_true) / N")])


# ---------------------------------------------------------------------------
# Chapter 8: optimizers
# ---------------------------------------------------------------------------

def check_gradient_descent_step(fn):
    """``fn(theta, grad, lr) -> theta_new = theta - lr * grad``."""
    rng = _rng(9)
    cases = [
        {"theta": np.array([1.0, -2.0]), "grad": np.array([0.5, 0.5]), "lr": 0.1},
        {"theta": rng.normal(size=(2, 3)), "grad": rng.normal(size=(2, 3)), "lr": 0.01},
        {"theta": np.array([3.0]), "grad": np.array([0.0]), "lr": 1.0},
    ]
    return _run_cases(
        "check_gradient_descent_step", fn, cases, lambda t, g, lr: t - lr * g,
        mistakes=[(lambda t, g, lr: t + lr * g,
                   "you stepped UP the gradient: descent subtracts lr * grad"),
                  (lambda t, g, lr: t - g, "you forgot to multiply the gradient by lr"),
                  (lambda t, g, lr: -lr * g,
                   "return the new parameters theta - lr * grad, not only the step")])


def _momentum(theta, v, grad, lr, mu):
    v_new = mu * v + grad
    return theta - lr * v_new, v_new


def check_momentum_update(fn):
    """``fn(theta, v, grad, lr, mu) -> (theta_new, v_new)`` with PyTorch's
    heavy-ball rule :math:`v \\leftarrow \\mu v + g`, :math:`\\theta \\leftarrow \\theta - \\eta v`
    (``v`` starts at zeros)."""
    rng = _rng(10)
    cases = [
        {"theta": np.array([1.0, -1.0]), "v": np.zeros(2), "grad": np.array([0.2, -0.4]),
         "lr": 0.1, "mu": 0.9},
        {"theta": np.array([1.0, -1.0]), "v": np.array([1.0, 2.0]),
         "grad": np.array([0.2, -0.4]), "lr": 0.1, "mu": 0.9},
        {"theta": rng.normal(size=(2, 2)), "v": rng.normal(size=(2, 2)),
         "grad": rng.normal(size=(2, 2)), "lr": 0.05, "mu": 0.5},
        {"theta": np.array([0.5]), "v": np.array([3.0]), "grad": np.array([1.0]),
         "lr": 0.1, "mu": 0.0},
    ]

    def old_velocity(theta, v, grad, lr, mu):
        return theta - lr * v, mu * v + grad

    def damped(theta, v, grad, lr, mu):
        v_new = mu * v + (1 - mu) * grad
        return theta - lr * v_new, v_new

    def no_mu(theta, v, grad, lr, mu):
        v_new = v + grad
        return theta - lr * v_new, v_new

    def sutskever(theta, v, grad, lr, mu):
        v_new = mu * v - lr * grad
        return theta + v_new, v_new

    return _tuple_cases(
        "check_momentum_update", fn, cases, _momentum, ("theta_new", "v_new"),
        mistakes=[(old_velocity, "update the velocity FIRST, then step with the new velocity"),
                  (damped, "PyTorch's momentum adds the full gradient, v = mu * v + grad, "
                           "not (1 - mu) * grad (that is Adam's first moment)"),
                  (no_mu, "you forgot to multiply the old velocity by mu"),
                  (sutskever, "you used the convention v = mu v - lr g, theta += v; this "
                              "check (like PyTorch) stores v = mu v + g and steps "
                              "theta -= lr v")])


def _adam(theta, m, v, grad, t, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad ** 2
    m_hat = m / (1 - beta1 ** t)
    v_hat = v / (1 - beta2 ** t)
    return theta - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def check_adam_step(fn):
    """``fn(theta, m, v, grad, t, lr) -> (theta_new, m_new, v_new)``: one Adam step
    (``t`` counts from 1; betas 0.9 and 0.999, eps 1e-8)."""
    rng = _rng(11)
    cases = [
        {"theta": np.array([1.0, -1.0]), "m": np.zeros(2), "v": np.zeros(2),
         "grad": np.array([0.5, -2.0]), "t": 1, "lr": 0.1},
        {"theta": rng.normal(size=3), "m": rng.normal(0, 0.1, 3), "v": rng.uniform(0, 1, 3),
         "grad": rng.normal(size=3), "t": 5, "lr": 0.01},
        {"theta": rng.normal(size=(2, 2)), "m": rng.normal(0, 0.1, (2, 2)),
         "v": rng.uniform(0, 1, (2, 2)), "grad": rng.normal(size=(2, 2)), "t": 100, "lr": 1e-3},
    ]

    def no_correction(theta, m, v, grad, t, lr):
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad ** 2
        return theta - lr * m / (np.sqrt(v) + 1e-8), m, v

    return _tuple_cases(
        "check_adam_step", fn, cases, _adam, ("theta_new", "m_new", "v_new"),
        mistakes=[(no_correction, "you forgot the bias correction m / (1 - beta1**t) and "
                                  "v / (1 - beta2**t) (store the UNcorrected m and v)")],
        rtol=1e-6, atol=1e-10)


# ---------------------------------------------------------------------------
# Chapter 9: a whole network
# ---------------------------------------------------------------------------

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


def check_network_gradients(fn):
    """``fn(X, Y, weights, biases) -> (dWs, dbs)``: the gradients of
    :math:`L = \\frac{1}{2N}\\sum_n \\lVert \\hat y_n - y_n \\rVert^2` for a ReLU network
    with a linear output (``NeuralNetworkFromScratch``'s model). ``weights[i]``
    has shape (n_in, n_out), ``biases[i]`` shape (n_out,); the lists returned
    have the same shapes."""
    name = "check_network_gradients"
    rng = _rng(12)
    n_cases = 0
    for sizes, N in (([3, 4, 2], 5), ([4, 6, 5, 1], 7), ([2, 3, 3, 3, 2], 1)):
        weights = [rng.normal(0, 0.8, (a, b)) for a, b in zip(sizes[:-1], sizes[1:])]
        biases = [rng.normal(0, 0.3, b) for b in sizes[1:]]
        X, Y = rng.normal(size=(N, sizes[0])), rng.normal(size=(N, sizes[-1]))
        args = {"X": f"<array of shape {X.shape}>", "Y": f"<array of shape {Y.shape}>",
                "weights": f"<{len(weights)} matrices, layer sizes {sizes}>"}
        dWs, dbs = _network_gradients(X, Y, weights, biases)
        got = _call(name, fn, {"X": X, "Y": Y, "weights": [w.copy() for w in weights],
                               "biases": [b.copy() for b in biases]})
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            _fail(name, args, "(dWs, dbs)", got, "return a pair of lists (dWs, dbs)",
                  what="wrong kind of result")
        for label, exp_list, got_list in (("dWs", dWs, got[0]), ("dbs", dbs, got[1])):
            if len(got_list) != len(exp_list):
                _fail(name, args, f"{len(exp_list)} arrays", f"{len(got_list)} arrays",
                      "return one gradient per layer", what=f"wrong number of {label}")
            for i, (e, g) in enumerate(zip(exp_list, got_list)):
                g_flat = np.asarray(g, dtype=float)
                if label == "dbs" and g_flat.shape == (1,) + e.shape:
                    g_flat = g_flat.reshape(e.shape)   # accept (1, n_out) biases
                if _close(g_flat, e, 1e-6, 1e-9):
                    continue
                hint = _shape_hint(g_flat, e)
                if hint is None and _close(g_flat, e * X.shape[0], 1e-6, 1e-9):
                    hint = "your gradient is N times too large: dZ of the output is (Y_hat - Y) / N"
                if hint is None and i < len(exp_list) - 1 and \
                        _close(np.asarray(got_list[-1], dtype=float).reshape(exp_list[-1].shape),
                               exp_list[-1], 1e-6, 1e-9):
                    hint = (f"the last layer's {label} are right but layer {i} (counting "
                            "from 0) is wrong: check dZ = (dZ @ W.T) * relu'(Z) of the layer "
                            "BELOW, computed with the weights used in the forward pass")
                _fail(name, args, e, g_flat, hint, what=f"wrong {label}[{i}]")
        n_cases += 1
    return _ok(name, n_cases)


# ---------------------------------------------------------------------------
# Chapter 11: recurrent cells
# ---------------------------------------------------------------------------

def _rnn_step(x_t, h_prev, W_xh, W_hh, b):
    return np.tanh(x_t @ W_xh + h_prev @ W_hh + b)


def check_rnn_step(fn):
    """``fn(x_t, h_prev, W_xh, W_hh, b) -> h_t = tanh(x_t W_xh + h_prev W_hh + b)``
    for a batch: ``x_t`` (N, D), ``h_prev`` (N, H), ``W_xh`` (D, H), ``W_hh`` (H, H)."""
    rng = _rng(13)
    cases = [
        {"x_t": rng.normal(size=(1, 2)), "h_prev": np.zeros((1, 3)),
         "W_xh": rng.normal(size=(2, 3)), "W_hh": rng.normal(size=(3, 3)), "b": np.zeros(3)},
        {"x_t": rng.normal(size=(4, 2)), "h_prev": rng.normal(size=(4, 3)),
         "W_xh": rng.normal(size=(2, 3)), "W_hh": rng.normal(size=(3, 3)),
         "b": rng.normal(size=3)},
        {"x_t": rng.normal(size=(2, 3)), "h_prev": rng.uniform(-1, 1, (2, 3)),
         "W_xh": rng.normal(size=(3, 3)), "W_hh": rng.normal(size=(3, 3)),
         "b": rng.normal(size=3)},
    ]
    return _run_cases(
        "check_rnn_step", fn, cases, _rnn_step,
        mistakes=[(lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b,
                   "you forgot the tanh non-linearity"),
                  (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
                   "W_hh is used as h_prev @ W_hh in the book's convention, not W_hh.T"),
                  (lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + b),
                   "the previous hidden state h_prev must enter through h_prev @ W_hh")])


def _gru_step(x_t, h_prev, W_x, W_h, b_x, b_h):
    H = h_prev.shape[1]
    Ax = x_t @ W_x + b_x
    Ah = h_prev @ W_h + b_h
    r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
    z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
    n = np.tanh(Ax[:, 2 * H:] + r * Ah[:, 2 * H:])
    return (1 - z) * n + z * h_prev


def check_gru_step(fn):
    """``fn(x_t, h_prev, W_x, W_h, b_x, b_h) -> h_t`` for PyTorch's GRU cell with gates
    stacked as (reset, update, new) along the columns of ``W_x`` (D, 3H) and
    ``W_h`` (H, 3H), as in :class:`nnbook.scratch.GRU`."""
    rng = _rng(14)
    cases = []
    for N, D, H in ((1, 2, 2), (3, 4, 3), (5, 1, 4)):
        cases.append({"x_t": rng.normal(size=(N, D)), "h_prev": rng.uniform(-1, 1, (N, H)),
                      "W_x": rng.normal(size=(D, 3 * H)), "W_h": rng.normal(size=(H, 3 * H)),
                      "b_x": rng.normal(size=3 * H), "b_h": rng.normal(size=3 * H)})

    def swapped_z(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        z = _act.sigmoid((x_t @ W_x + b_x)[:, H:2 * H] + (h_prev @ W_h + b_h)[:, H:2 * H])
        h_new = _gru_step(x_t, h_prev, W_x, W_h, b_x, b_h)
        n = (h_new - z * h_prev) / (1 - z)
        return z * n + (1 - z) * h_prev

    def reset_outside_bias(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        Ax, Ah = x_t @ W_x + b_x, h_prev @ W_h + b_h
        r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
        z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + r * (h_prev @ W_h[:, 2 * H:]) + b_h[2 * H:])
        return (1 - z) * n + z * h_prev

    def reset_on_state(x_t, h_prev, W_x, W_h, b_x, b_h):
        H = h_prev.shape[1]
        Ax, Ah = x_t @ W_x + b_x, h_prev @ W_h + b_h
        r = _act.sigmoid(Ax[:, :H] + Ah[:, :H])
        z = _act.sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + (r * h_prev) @ W_h[:, 2 * H:] + b_h[2 * H:])
        return (1 - z) * n + z * h_prev

    return _run_cases(
        "check_gru_step", fn, cases, _gru_step,
        mistakes=[(swapped_z, "z and 1 - z are swapped: PyTorch's GRU keeps the OLD state "
                              "with weight z, h_t = (1 - z) * n + z * h_prev"),
                  (reset_outside_bias, "the reset gate multiplies the hidden part of the "
                                       "candidate INCLUDING its bias: r * (h_prev @ W_hn + b_hn)"),
                  (reset_on_state, "PyTorch applies r after the matrix product, "
                                   "r * (h_prev @ W_hn + b_hn), not to h_prev before it")],
        atol=1e-9)


def _clip(grads, max_norm):
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads]


def check_clip_grad_norm(fn):
    """``fn(grads, max_norm) -> clipped``: rescale a LIST of gradient arrays so that
    their global norm :math:`\\sqrt{\\sum \\lVert g\\rVert^2}` is at most ``max_norm``
    (scale factor ``max_norm / (norm + 1e-6)``, as ``torch.nn.utils.clip_grad_norm_``),
    leaving them unchanged when the norm is already smaller."""
    name = "check_clip_grad_norm"
    rng = _rng(15)
    cases = [([np.array([3.0, 4.0])], 1.0),
             ([np.array([0.3, 0.4])], 1.0),
             ([rng.normal(size=(3, 2)) * 10, rng.normal(size=4) * 10], 5.0),
             ([np.array([[1.0, 0.0]]), np.array([0.0, 1e-3])], 100.0)]
    for grads, max_norm in cases:
        args = {"grads": grads, "max_norm": max_norm}
        expected = _clip(grads, max_norm)
        got = _call(name, fn, {"grads": [g.copy() for g in grads], "max_norm": max_norm})
        if not isinstance(got, (list, tuple)) or len(got) != len(grads):
            _fail(name, args, expected, got, "return a list with one array per gradient",
                  what="wrong kind of result")
        for e, g in zip(expected, got):
            if _close(g, e, 1e-5, 1e-9):
                continue
            per_array = [gg * min(1.0, max_norm / (np.linalg.norm(gg) + 1e-6)) for gg in grads]
            always = [gg * max_norm / (np.sqrt(sum(np.sum(x ** 2) for x in grads)) + 1e-6)
                      for gg in grads]
            hint = None
            if all(_close(a, b, 1e-5, 1e-9) for a, b in zip(got, per_array)):
                hint = ("you clipped each array by its own norm: use ONE global norm over all "
                        "arrays, so that the direction of the whole update is kept")
            elif all(_close(a, b, 1e-5, 1e-9) for a, b in zip(got, always)):
                hint = ("only scale DOWN: when the norm is below max_norm, the gradients "
                        "must stay as they are")
            _fail(name, args, expected, got, hint or _generic_hint(g, e))
    return _ok(name, len(cases))


# ---------------------------------------------------------------------------
# Chapter 10: convolutional networks
# ---------------------------------------------------------------------------

def _conv_output_size(n, kernel_size, stride, padding):
    return (n + 2 * padding - kernel_size) // stride + 1


def check_conv_output_size(fn):
    """``fn(n, kernel_size, stride, padding) -> n_out``, the output length of a
    convolution along one axis, :math:`\\lfloor (n + 2p - k)/s \\rfloor + 1`."""
    name = "check_conv_output_size"
    cases = [(32, 5, 1, 0), (28, 3, 1, 1), (7, 3, 2, 0), (8, 3, 2, 0), (224, 7, 2, 3),
             (5, 5, 1, 0), (10, 2, 2, 0), (6, 3, 2, 1)]
    for n, k, s, p in cases:
        args = {"n": n, "kernel_size": k, "stride": s, "padding": p}
        expected = _conv_output_size(n, k, s, p)
        got = _call(name, fn, args)
        try:
            ok = float(got) == expected
        except (TypeError, ValueError):
            ok = False
        if ok and float(got).is_integer():
            continue
        hint = None
        try:
            g = float(got)
            if g == (n + 2 * p - k) / s + 1:
                hint = ("your answer is not a whole number: use floor division // "
                        "(a window that would stick out past the padding is dropped)")
            elif g == (n + p - k) // s + 1:
                hint = "padding adds p zeros on BOTH sides: n + 2p, not n + p"
            elif g == (n + 2 * p - k) // s:
                hint = "you forgot the + 1: the first window also counts"
            elif g == -(-(n + 2 * p - k) // s) + 1:
                hint = "round DOWN, not up: a window that does not fit is not computed"
            elif g == (n - k) // s + 1:
                hint = "you ignored the padding"
            elif g == n + 2 * p - k + 1:
                hint = "you ignored the stride: divide n + 2p - k by s"
        except (TypeError, ValueError):
            hint = "return a single integer"
        _fail(name, args, expected, got, hint)
    return _ok(name, len(cases))


def _conv2d(image, kernel, stride=1, padding=0):
    image = np.pad(np.asarray(image, dtype=float), padding)
    kh, kw = kernel.shape
    Ho = (image.shape[0] - kh) // stride + 1
    Wo = (image.shape[1] - kw) // stride + 1
    Z = np.zeros((Ho, Wo))
    for i in range(Ho):
        for j in range(Wo):
            Z[i, j] = np.sum(kernel * image[i * stride:i * stride + kh,
                                            j * stride:j * stride + kw])
    return Z


def check_conv2d(fn):
    """``fn(image, kernel, stride, padding) -> Z``: the book's 2-D convolution of a
    single-channel ``image`` (H, W) with ``kernel`` (k_h, k_w) (a cross-correlation:
    the kernel is NOT flipped), with zero padding ``padding`` on every side and
    step ``stride``; ``Z`` has shape ``(conv_output_size(H, k_h, s, p), ...)``."""
    rng = _rng(16)
    cases = []
    for H, W, kh, kw, s, p in ((4, 4, 2, 2, 1, 0), (5, 5, 3, 3, 1, 1), (7, 7, 3, 3, 2, 0),
                               (6, 6, 3, 3, 2, 1), (5, 6, 2, 3, 1, 0), (8, 7, 3, 2, 3, 2)):
        cases.append({"image": rng.integers(-5, 6, size=(H, W)).astype(float),
                      "kernel": rng.integers(-3, 4, size=(kh, kw)).astype(float),
                      "stride": s, "padding": p})
    return _run_cases(
        "check_conv2d", fn, cases, _conv2d,
        mistakes=[(lambda im, k, s, p: _conv2d(im, k[::-1, ::-1], s, p),
                   "you flipped the kernel: deep-learning 'convolution' is a "
                   "cross-correlation, Z[i, j] = sum(kernel * window), no flip"),
                  (lambda im, k, s, p: _conv2d(im, k, 1, p),
                   "you ignored the stride: window (i, j) starts at row s*i and column s*j"),
                  (lambda im, k, s, p: _conv2d(im, k, s, 0),
                   "you ignored the padding: add p zeros on every side first (np.pad)")])


def _max_pool(X, size):
    Ho, Wo = X.shape[0] // size, X.shape[1] // size
    return X[:Ho * size, :Wo * size].reshape(Ho, size, Wo, size).max(axis=(1, 3))


def check_max_pool(fn):
    """``fn(X, size) -> Z``: non-overlapping max pooling of a 2-D array ``X`` with
    ``size x size`` windows and stride ``size``; rows and columns that do not fill a
    whole window are dropped (as in ``torch.nn.MaxPool2d``)."""
    rng = _rng(17)
    cases = [{"X": rng.normal(size=(4, 4)), "size": 2},
             {"X": -rng.uniform(1, 2, size=(6, 6)), "size": 3},
             {"X": rng.normal(size=(5, 7)), "size": 2},
             {"X": rng.normal(size=(6, 4)), "size": 2}]

    def average(X, size):
        Ho, Wo = X.shape[0] // size, X.shape[1] // size
        return X[:Ho * size, :Wo * size].reshape(Ho, size, Wo, size).mean(axis=(1, 3))

    def zero_start(X, size):
        return np.maximum(_max_pool(X, size), 0)

    def wrong_reshape(X, size):
        Ho, Wo = X.shape[0] // size, X.shape[1] // size
        return X[:Ho * size, :Wo * size].reshape(Ho, Wo, size, size).max(axis=(2, 3))

    return _run_cases(
        "check_max_pool", fn, cases, _max_pool,
        mistakes=[(average, "you computed the AVERAGE of each window, not its maximum"),
                  (zero_start, "you started the running maximum at 0: with all-negative "
                               "windows it must start at -inf (or use .max())"),
                  (wrong_reshape, "the reshape mixes windows: reshape to "
                                  "(H_out, size, W_out, size) and take the max over axes "
                                  "1 and 3")])


# ---------------------------------------------------------------------------
# Chapter 12: modern architectures
# ---------------------------------------------------------------------------

def _layer_norm(X, gamma, beta, eps=1e-5):
    mu = X.mean(axis=-1, keepdims=True)
    var = X.var(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(var + eps) + beta


def check_layer_norm(fn):
    """``fn(X, gamma, beta, eps) -> Y``: layer normalization over the LAST axis of
    ``X``, with the biased variance and ``eps`` inside the square root, as
    ``torch.nn.LayerNorm``: ``Y = gamma * (X - mean) / sqrt(var + eps) + beta``."""
    rng = _rng(18)
    cases = [{"X": rng.normal(size=(3, 4)) * 2 + 1, "gamma": np.ones(4), "beta": np.zeros(4),
              "eps": 1e-5},
             {"X": rng.normal(size=(4, 5)), "gamma": rng.uniform(0.5, 2, 5),
              "beta": rng.normal(size=5), "eps": 1e-5},
             {"X": rng.normal(size=(2, 3, 6)) * 5, "gamma": rng.uniform(0.5, 2, 6),
              "beta": rng.normal(size=6), "eps": 1e-5},
             {"X": 1 + 0.01 * rng.normal(size=(3, 4)), "gamma": np.ones(4),
              "beta": np.zeros(4), "eps": 1e-3}]

    def over_batch(X, gamma, beta, eps):
        mu, var = X.mean(axis=0, keepdims=True), X.var(axis=0, keepdims=True)
        return gamma * (X - mu) / np.sqrt(var + eps) + beta

    def unbiased(X, gamma, beta, eps):
        mu, var = X.mean(axis=-1, keepdims=True), X.var(axis=-1, ddof=1, keepdims=True)
        return gamma * (X - mu) / np.sqrt(var + eps) + beta

    def eps_outside(X, gamma, beta, eps):
        mu, sd = X.mean(axis=-1, keepdims=True), X.std(axis=-1, keepdims=True)
        return gamma * (X - mu) / (sd + eps) + beta

    return _run_cases(
        "check_layer_norm", fn, cases, _layer_norm,
        mistakes=[(over_batch, "you normalized over the batch (axis 0), which is batch "
                               "normalization: layer norm uses each sample's own mean and "
                               "variance, axis=-1"),
                  (unbiased, "use the biased variance (divide by n, np.var's default "
                             "ddof=0), as PyTorch does"),
                  (eps_outside, "eps goes INSIDE the square root: sqrt(var + eps)"),
                  (lambda X, g, b, eps: _layer_norm(X, 1.0, 0.0, eps),
                   "you forgot to scale by gamma and shift by beta"),
                  (lambda X, g, b, eps: _layer_norm(X, g, b, 0.0),
                   "you forgot eps: sqrt(var + eps)")],
        rtol=1e-7, atol=1e-9)


def _attention(Q, K, V):
    from .scratch.attention import scaled_dot_product_attention
    return scaled_dot_product_attention(Q, K, V)[0]


def check_attention(fn):
    """``fn(Q, K, V) -> O``: scaled dot-product attention
    ``softmax(Q K^T / sqrt(d)) V`` with ``d`` the size of a query/key, the
    softmax taken over the keys (the last axis of the scores). ``Q`` is
    (..., L_q, d), ``K`` (..., L_k, d), ``V`` (..., L_k, d_v); return ``O`` only."""
    name = "check_attention"
    rng = _rng(19)
    cases = [{"Q": rng.normal(size=(2, 3)), "K": rng.normal(size=(4, 3)),
              "V": rng.normal(size=(4, 2))},
             {"Q": rng.normal(size=(3, 16)) * 2, "K": rng.normal(size=(5, 16)) * 2,
              "V": rng.normal(size=(5, 3))},
             {"Q": rng.normal(size=(2, 3, 4)), "K": rng.normal(size=(2, 5, 4)),
              "V": rng.normal(size=(2, 5, 6))},
             {"Q": rng.normal(size=(2, 8)) * 20, "K": rng.normal(size=(3, 8)) * 20,
              "V": rng.normal(size=(3, 2))}]

    def sm(S, axis=-1):
        E = np.exp(S - S.max(axis=axis, keepdims=True))
        return E / E.sum(axis=axis, keepdims=True)

    def kt(K):
        return np.swapaxes(K, -1, -2)

    for args in cases:
        got = _call(name, fn, args)
        if isinstance(got, tuple):
            _fail(name, args, _attention(**args), got,
                  "return only the output O, not a tuple (O, A)", what="wrong kind of result")
    d_of = lambda Q: Q.shape[-1]  # noqa: E731
    return _run_cases(
        name, fn, cases, _attention,
        mistakes=[(lambda Q, K, V: sm(Q @ kt(K)) @ V,
                   "you forgot to divide the scores by sqrt(d), d = Q.shape[-1]"),
                  (lambda Q, K, V: sm(Q @ kt(K) / d_of(Q)) @ V,
                   "divide by the SQUARE ROOT of d, not by d"),
                  (lambda Q, K, V: sm(Q @ kt(K) / np.sqrt(d_of(Q)), axis=-2) @ V,
                   "the softmax must run over the keys (axis=-1, each row of weights "
                   "sums to 1), not over the queries"),
                  (lambda Q, K, V: (Q @ kt(K) / np.sqrt(d_of(Q))) @ V,
                   "you forgot the softmax over the scores"),
                  (lambda Q, K, V: sm(Q @ kt(K) / np.sqrt(V.shape[-1])) @ V,
                   "d is the size of the queries and keys, Q.shape[-1], not of the values")])
