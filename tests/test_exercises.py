"""Every check in nnbook.exercises passes a right answer and rejects wrong ones
with an informative message."""

import numpy as np
import pytest

from nnbook import exercises as ex
from nnbook.scratch import activations as act


def fails(check, fn, *args, contains=()):
    with pytest.raises(ex.ExerciseError) as info:
        check(fn, *args)
    message = str(info.value)
    for text in contains:
        assert text in message, message
    return message


def sig(z):
    return act.sigmoid(z)


# -- right answers ---------------------------------------------------------------

def _gru(x, h, Wx, Wh, bx, bh):
    H = h.shape[1]
    Ax, Ah = x @ Wx + bx, h @ Wh + bh
    r = sig(Ax[:, :H] + Ah[:, :H])
    z = sig(Ax[:, H:2 * H] + Ah[:, H:2 * H])
    n = np.tanh(Ax[:, 2 * H:] + r * Ah[:, 2 * H:])
    return (1 - z) * n + z * h


def _net_grads(X, Y, Ws, bs):
    As, Zs, A = [X], [], X
    for i, (W, b) in enumerate(zip(Ws, bs)):
        Z = A @ W + b
        Zs.append(Z)
        A = np.maximum(Z, 0) if i < len(Ws) - 1 else Z
        As.append(A)
    dZ = (A - Y) / len(X)
    dWs, dbs = [None] * len(Ws), [None] * len(Ws)
    for i in reversed(range(len(Ws))):
        dWs[i], dbs[i] = As[i].T @ dZ, dZ.sum(axis=0, keepdims=True)
        if i:
            dZ = dZ @ Ws[i].T * (Zs[i - 1] > 0)
    return dWs, dbs


def _clip(grads, max_norm):
    norm = np.sqrt(sum((g ** 2).sum() for g in grads))
    return [g * min(1, max_norm / (norm + 1e-6)) for g in grads]


def _adam(theta, m, v, g, t, lr):
    m = 0.9 * m + 0.1 * g
    v = 0.999 * v + 0.001 * g * g
    return theta - lr * (m / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8), m, v


def _perceptron(w, b, x, y, lr):
    err = y - int(x @ w + b > 0)
    return w + lr * err * x, b + lr * err


def _ce_grad(Z, y, n=True, onehot=True):
    P = act.softmax(Z)
    if onehot:
        P[np.arange(len(y)), y] -= 1
    return P / len(y) if n else P


def _central(f, x, h=1e-5, one_sided=False, restore=True):
    g = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = f(x)
        x[i] = old if one_sided else old - h
        minus = f(x)
        if restore:
            x[i] = old
        g[i] = (plus - minus) / (h if one_sided else 2 * h)
    return g


def _dropout(X, p, training, rng, rescale=True, keep_prob=False):
    if not training or p == 0:
        return X
    keep = (rng.random(X.shape) < p) if keep_prob else (rng.random(X.shape) >= p)
    return X * keep / ((1 - p) if rescale else 1)


def _conv_bw(im, k, d, flip=True, full=True):
    kh, kw = k.shape
    padded = np.pad(d, ((kh - 1,) * 2, (kw - 1,) * 2))
    d_image = _conv2d_ref(padded, k[::-1, ::-1] if flip else k, 1, 0)
    return d_image, _conv2d_ref(im, d, 1, 0)


def _pool_bw(X, s, d, average=False):
    dX = np.zeros_like(X)
    for i in range(X.shape[0] // s):
        for j in range(X.shape[1] // s):
            win = X[i * s:(i + 1) * s, j * s:(j + 1) * s]
            if average:
                dX[i * s:(i + 1) * s, j * s:(j + 1) * s] = d[i, j] / s ** 2
            else:
                a, b = np.unravel_index(np.argmax(win), win.shape)
                dX[i * s + a, j * s + b] = d[i, j]
    return dX


def _lstm(x, h, c, Wx, Wh, b, order="ifgo", squash=True):
    H = h.shape[1]
    A = x @ Wx + h @ Wh + b
    blocks = dict(zip(order, np.split(A, 4, axis=1)))
    i, f, o = sig(blocks["i"]), sig(blocks["f"]), sig(blocks["o"])
    g = np.tanh(blocks["g"])
    c_new = f * c + i * g
    return (o * np.tanh(c_new) if squash else o * c_new), c_new


def _bn(X, g, b, eps, axis):
    return g * (X - X.mean(axis, keepdims=True)) / np.sqrt(X.var(axis, keepdims=True) + eps) + b


def _bn_bw(X, g, b, eps, d, axis, simple=False):
    import torch
    Xt = torch.tensor(X, requires_grad=True)
    gt, bt = torch.tensor(g, requires_grad=True), torch.tensor(b, requires_grad=True)
    mu, var = Xt.mean(axis, keepdim=True), Xt.var(axis, unbiased=False, keepdim=True)
    ((gt * (Xt - mu) / torch.sqrt(var + eps) + bt) * torch.tensor(d)).sum().backward()
    dX = Xt.grad.numpy()
    if simple:
        dX = d * g / np.sqrt(X.var(axis, keepdims=True) + eps)
    return dX, gt.grad.numpy(), bt.grad.numpy()


RIGHT = [
    (ex.check_sigmoid_derivative, lambda z: sig(z) * (1 - sig(z)), ()),
    (ex.check_relu, lambda z: np.maximum(z, 0), ()),
    (ex.check_relu_derivative, lambda z: (np.asarray(z) > 0) * 1.0, ()),
    (ex.check_elu, lambda z: np.where(z > 0, z, np.expm1(np.minimum(z, 0))), ()),
    (ex.check_elu_derivative, lambda z: np.where(z > 0, 1.0, np.exp(np.minimum(z, 0))), ()),
    (ex.check_softmax, lambda Z: act.softmax(Z), ()),
    (ex.check_logic_gate, lambda X: (X @ [-1, -1] + 1.5 > 0).astype(int), ("nand",)),
    (ex.check_logic_gate, lambda X: X.sum(axis=1) % 2, ("parity3",)),
    (ex.check_threshold_network, [((-1, -1), 1.5)], ("nand",)),
    (ex.check_line_fit, lambda x, y: tuple(np.polyfit(x, y, 1)), ()),
    (ex.check_perceptron_update, _perceptron, ()),
    (ex.check_parameter_count,
     lambda s: sum(a * b + b for a, b in zip(s[:-1], s[1:])), ()),
    (ex.check_dense_forward, lambda X, W, b: X @ W + b, ()),
    (ex.check_dense_backward, lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ.sum(0)), ()),
    (ex.check_mse_grad, lambda p, y: 2 * (p - y) / p.size, ()),
    (ex.check_gradient_descent_step, lambda t, g, lr: t - lr * g, ()),
    (ex.check_momentum_update, lambda t, v, g, lr, mu: (t - lr * (mu * v + g), mu * v + g), ()),
    (ex.check_adam_step, _adam, ()),
    (ex.check_network_gradients, _net_grads, ()),
    (ex.check_rnn_step, lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh + b), ()),
    (ex.check_gru_step, _gru, ()),
    (ex.check_clip_grad_norm, _clip, ()),
    (ex.check_conv_output_size, lambda n, k, s, p: (n + 2 * p - k) // s + 1, ()),
    (ex.check_conv2d, lambda im, k, s, p: _conv2d_ref(im, k, s, p), ()),
    (ex.check_max_pool, lambda X, size: _max_pool_ref(X, size), ()),
    (ex.check_layer_norm, lambda X, g, b, eps: _layer_norm_ref(X, g, b, eps), ()),
    (ex.check_attention, lambda Q, K, V: _attention_ref(Q, K, V), ()),
    (ex.check_softmax_cross_entropy_grad, lambda Z, y: _ce_grad(Z, y), ()),
    (ex.check_gradient_checker, lambda f, x: _central(f, x), ()),
    (ex.check_inverted_dropout, lambda X, p, training, rng: _dropout(X, p, training, rng), ()),
    (ex.check_conv2d_backward, lambda im, k: _conv2d_ref(im, k, 1, 0), (lambda im, k, d:
                                                                         _conv_bw(im, k, d),)),
    (ex.check_max_pool_backward, lambda X, s: _max_pool_ref(X, s), (lambda X, s, d:
                                                                    _pool_bw(X, s, d),)),
    (ex.check_lstm_step, lambda *a: _lstm(*a), ()),
    (ex.check_batch_norm_backward, lambda X, g, b, eps: _bn(X, g, b, eps, 0),
     (lambda X, g, b, eps, d: _bn_bw(X, g, b, eps, d, 0),)),
    (ex.check_layer_norm_backward, lambda X, g, b, eps: _bn(X, g, b, eps, -1),
     (lambda X, g, b, eps, d: _bn_bw(X, g, b, eps, d, -1),)),
    (ex.check_causal_attention, lambda Q, K, V: _causal_ref(Q, K, V), ()),
    (ex.check_rms_norm, lambda X, g, eps: g * X / np.sqrt((X ** 2).mean(-1, keepdims=True) + eps),
     ()),
    (ex.check_rotary_embedding, lambda X, p, base: _rope_ref(X, p, base), ()),
    (ex.check_kv_cache_step, lambda *a: _kv_step(*a), ()),
    (ex.check_swiglu, lambda X, Wg, Wu, Wd: (_silu(X @ Wg) * (X @ Wu)) @ Wd, ()),
    (ex.check_top_k_routing, lambda s, k: _route_ref(s, k), ()),
    (ex.check_patchify, lambda im, p: _patchify_ref(im, p), ()),
    (ex.check_grouped_query_attention, lambda Q, K, V: _gqa_ref(Q, K, V), ()),
    (ex.check_sampling_probs, lambda z, T, k: _sampling_ref(z, T, k), ()),
]


@pytest.mark.parametrize("check, fn, args", RIGHT, ids=[c[0].__name__ for c in RIGHT])
def test_right_answer_passes(check, fn, args, capsys):
    assert check(fn, *args) is None
    assert "Correct!" in capsys.readouterr().out


def _cast(value, to):
    if isinstance(value, (tuple, list)):
        return type(value)(_cast(v, to) for v in value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "f" or isinstance(value, float):
        return to(np.asarray(value, dtype=np.float32))
    return value


def _torch_tensor(arr):
    import torch
    return torch.tensor(arr, requires_grad=True)   # as if computed by a torch model


FLOAT_RIGHT = [c for c in RIGHT if c[0] not in (ex.check_parameter_count, ex.check_logic_gate,
                                                 ex.check_threshold_network,
                                                 ex.check_conv_output_size)]


@pytest.mark.parametrize("check, fn, args", FLOAT_RIGHT, ids=[c[0].__name__ for c in FLOAT_RIGHT])
def test_right_answer_in_float32_passes_with_a_note(check, fn, args, capsys):
    check(lambda *a: _cast(fn(*a), lambda x: x), *args)
    out = capsys.readouterr().out
    assert "Correct!" in out and "float32" in out


@pytest.mark.parametrize("check, fn, args", FLOAT_RIGHT, ids=[c[0].__name__ for c in FLOAT_RIGHT])
def test_right_answer_as_torch_tensor_passes(check, fn, args, capsys):
    pytest.importorskip("torch")
    check(lambda *a: _cast(fn(*a), _torch_tensor), *args)
    assert "Correct!" in capsys.readouterr().out


NONE_ANSWERS = [c for c in RIGHT if c[0] is not ex.check_threshold_network]


@pytest.mark.parametrize("check, fn, args", NONE_ANSWERS, ids=[c[0].__name__ for c in NONE_ANSWERS])
def test_a_function_that_returns_none_is_told_so(check, fn, args):
    message = fails(check, lambda *a: None, *args, contains=["returned None", "return"])
    for misleading in ("sum or average", "overflow", "transpose", "sign"):
        assert misleading not in message, message


@pytest.mark.parametrize("check, fn, args", NONE_ANSWERS, ids=[c[0].__name__ for c in NONE_ANSWERS])
def test_a_function_that_returns_text_or_nan_never_crashes_the_check(check, fn, args):
    fails(check, lambda *a: "forty-two", *args)
    fails(check, lambda *a: np.nan, *args)
    fails(check, lambda *a: {"a": 1}, *args)


def test_a_check_needs_a_function():
    with pytest.raises(TypeError, match="fn must be callable"):
        ex.check_relu(np.array([1.0]))


def test_last_failure_keeps_the_input():
    fails(ex.check_relu, np.abs)
    seen = ex.last_failure()
    assert seen["check"] == "check_relu"
    np.testing.assert_array_equal(np.abs(seen["input"]["z"]), seen["received"])
    assert seen["largest_difference"] > 0


def test_failure_reports_the_largest_difference_and_where():
    def almost(Z):
        out = act.softmax(Z)
        if np.ndim(Z) == 2 and Z.shape == (4, 5):
            out = out.copy()
            out[2, 3] += 0.01
        return out
    fails(ex.check_softmax, almost, contains=["largest difference: 0.01", "at index (2, 3)"])


def test_a_mistake_hint_fires_only_when_the_mistake_differs_from_the_answer():
    # On input 0 the sigmoid derivative mistake "s * (1 + s)" gives 0.75, not the
    # reference 0.25; a wrong answer of 0.75 there gets that hint, but a hint is
    # never given for a mistake that coincides with the reference on the input.
    from nnbook.exercises import _checking
    hint = _checking.mistake_hint(np.array(1.0), {"z": np.array(0.0)}, np.array(1.0),
                                  [(lambda z: np.array(1.0), "never shown")])
    assert hint is None


def _sm(S):
    E = np.exp(S - S.max(-1, keepdims=True))
    return E / E.sum(-1, keepdims=True)


def _silu(z):
    return z / (1 + np.exp(-z))


def _causal_ref(Q, K, V, mask="causal", after_softmax=False, stable=True):
    L = Q.shape[-2]
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    banned = {"causal": np.triu(np.ones((L, L), bool), 1), "none": np.zeros((L, L), bool),
              "anti": np.tril(np.ones((L, L), bool), -1)}[mask]
    if after_softmax:
        return (_sm(S) * ~banned) @ V
    if not stable:
        E = np.exp(S) * ~banned
        return E / E.sum(-1, keepdims=True) @ V
    return _sm(np.where(banned, -np.inf, S)) @ V


def _rope_ref(X, p, base, sign=1.0, halves=False):
    d = X.shape[-1]
    a = p[:, None] * base ** (-np.arange(0, d, 2) / d)
    c, s = np.cos(a), sign * np.sin(a)
    if halves:
        x1, x2 = X[..., :d // 2], X[..., d // 2:]
        return np.concatenate([x1 * c - x2 * s, x1 * s + x2 * c], -1)
    out = np.empty_like(X)
    even, odd = X[..., 0::2], X[..., 1::2]
    out[..., 0::2], out[..., 1::2] = even * c - odd * s, even * s + odd * c
    return out


def _kv_step(q, k, v, K_cache, V_cache, append_first=True, front=False):
    K_new = np.concatenate([k, K_cache] if front else [K_cache, k], 1)
    V_new = np.concatenate([v, V_cache] if front else [V_cache, v], 1)
    K_att, V_att = (K_new, V_new) if append_first else (K_cache, V_cache)
    if K_att.shape[1] == 0:
        return v, K_new, V_new
    return _sm(q @ np.swapaxes(K_att, -1, -2) / np.sqrt(q.shape[-1])) @ V_att, K_new, V_new


def _route_ref(s, k, full_gates=False, per_token=False):
    top = np.argsort(-s, -1)[:, :k]
    gates = np.take_along_axis(_sm(s), top, -1) if full_gates else \
        _sm(np.take_along_axis(s, top, -1))
    counts = np.bincount(top.ravel(), minlength=s.shape[1])
    f = counts / (len(s) if per_token else top.size)
    return top, gates, s.shape[1] * np.sum(f * _sm(s).mean(0))


def _patchify_ref(im, p, order=(0, 2, 4, 1, 3, 5)):
    N, C, H, W = im.shape
    return im.reshape(N, C, H // p, p, W // p, p).transpose(order).reshape(N, -1, C * p * p)


def _gqa_ref(Q, K, V, tile=False):
    G = Q.shape[1] // K.shape[1]
    K, V = ((np.tile(A, (1, G, 1, 1)) if tile else np.repeat(A, G, 1)) for A in (K, V))
    return _sm(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])) @ V


def _sampling_ref(z, T, k, times=False, renormalize=True):
    z = z * T if times else z / T
    if k is None:
        return _sm(z)
    if not renormalize:
        p = _sm(z)
        return np.where(p < np.sort(p, -1)[..., [-k]], 0.0, p)
    return _sm(np.where(z < np.sort(z, -1)[..., [-k]], -np.inf, z))


def test_every_check_is_tested():
    tested = {c[0].__name__ for c in RIGHT} | {"check_digits_capstone", "check_text_capstone"}
    assert tested == {n for n in ex.__all__ if n.startswith("check_")}


# -- wrong answers: the message names the input, the expected value and a hint ---

def test_sigmoid_derivative_wrong():
    msg = fails(ex.check_sigmoid_derivative, sig,
                contains=["input z = 0", "expected: 0.25", "got:      0.5",
                          "returns sigma(z) itself"])
    assert "Hint" in msg
    fails(ex.check_sigmoid_derivative, lambda z: z * (1 - z), contains=["first compute s"])
    fails(ex.check_sigmoid_derivative, lambda z: 1 - sig(z) ** 2, contains=["tanh"])


def test_sigmoid_derivative_overflow():
    def naive(z):
        with np.errstate(over="ignore", invalid="ignore"):
            e = np.exp(z)
            return e / (1 + e) ** 2
    fails(ex.check_sigmoid_derivative, naive, contains=["800", "contains nan", "overflows"])


def test_relu_wrong():
    fails(ex.check_relu, np.abs, contains=["not |z|"])
    fails(ex.check_relu, lambda z: np.array(max(0.0, float(np.max(z)))), contains=["np.maximum"])
    fails(ex.check_relu_derivative, lambda z: (np.asarray(z) >= 0) * 1.0,
          contains=["input z = 0", "z > 0"])


def test_elu_wrong():
    fails(ex.check_elu, lambda z: np.where(z > 0, z, np.exp(np.minimum(z, 0))),
          contains=["exp(z) - 1"])
    fails(ex.check_elu_derivative, lambda z: np.where(z > 0, 1.0, np.expm1(np.minimum(z, 0))),
          contains=["the -1 disappears"])


def test_softmax_with_the_global_max_is_rejected():
    def global_max(Z):
        with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
            E = np.exp(Z - np.max(Z))
            return E / E.sum(axis=-1, keepdims=True)
    fails(ex.check_softmax, global_max, contains=["ROW's own maximum"])


def test_attention_without_max_subtraction_is_rejected():
    def naive(Q, K, V):
        with np.errstate(over="ignore", invalid="ignore"):
            E = np.exp(Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1]))
            return E / E.sum(axis=-1, keepdims=True) @ V
    fails(ex.check_attention, naive, contains=["subtract each row's maximum"])


def test_layer_norm_and_attention_accept_float32():
    ex.check_layer_norm(lambda X, g, b, eps: _layer_norm_ref(X, g, b, eps).astype(np.float32))
    ex.check_attention(lambda Q, K, V: _attention_ref(Q, K, V).astype(np.float32))


def test_line_fit_accepts_polyfits_array():
    ex.check_line_fit(lambda x, y: np.polyfit(x, y, 1))


def test_perceptron_with_sign_and_zero_one_labels_is_rejected():
    def sign_update(w, b, x, y, lr):
        err = y - np.sign(x @ w + b)
        return w + lr * err * x, b + lr * err
    fails(ex.check_perceptron_update, sign_update, contains=["np.sign"])


def test_logic_gate_outputs_must_be_exactly_zero_or_one():
    fails(ex.check_logic_gate, lambda X: np.where((X @ [1, 1] - 1.5) > 0, 0.51, 0.49) * 0
          + np.where((X @ [-1, -1] + 1.5) > 0, 0.51, 0.49), "nand",
          contains=["exactly 0 or 1"])
    fails(ex.check_logic_gate, lambda X: np.full(len(X), np.nan), "nand", contains=["nan"])


def test_threshold_network_checks_the_weights_not_a_truth_table():
    xor = [(np.array([[1, -1], [1, -1]]), np.array([-0.5, 1.5])), ((1, 1), -1.5)]
    ex.check_threshold_network(xor, "xor")
    fails(ex.check_threshold_network, [((1, 1), -0.5)], "xor", contains=["rows of the truth"])
    fails(ex.check_threshold_network, [((1, 1), -1.0)], "and", contains=["exactly 0"])
    fails(ex.check_threshold_network, lambda X: X.sum(axis=1) % 2, "xor",
          contains=["list of (W, b) pairs"])
    fails(ex.check_threshold_network, [((1, 1, 1), 0.5)], "xor", contains=["expects 3 inputs"])


def test_softmax_wrong():
    fails(ex.check_softmax, lambda Z: np.exp(Z) / np.exp(Z).sum(axis=-1, keepdims=True)
          if np.max(np.abs(Z)) < 700 else np.full(np.shape(Z), np.nan),
          contains=["1000", "contains nan", "ROW's own maximum"])
    fails(ex.check_softmax, lambda Z: np.exp(Z - Z.max()) / np.exp(Z - Z.max()).sum(),
          contains=["ROW must sum to 1"])


def test_logic_gate_wrong():
    msg = fails(ex.check_logic_gate, lambda X: (X @ [1, 1] - 1.5 > 0).astype(int), "nand",
                contains=["4 of 4 rows", "(0, 0) -> 0 (expected 1)", "inverted"])
    assert "Hint" in msg
    fails(ex.check_logic_gate, lambda X: np.zeros(5), "xor", contains=["shape"])
    with pytest.raises(ValueError):
        ex.check_logic_gate(lambda X: X, "maybe")


def test_line_fit_wrong():
    fails(ex.check_line_fit, lambda x, y: tuple(np.polyfit(x, y, 1)[::-1]),
          contains=["wrong a", "swapped"])
    fails(ex.check_line_fit, lambda x, y: 1.0, contains=["tuple of 2 values"])


def test_perceptron_update_wrong():
    fails(ex.check_perceptron_update,
          lambda w, b, x, y, lr: (w + lr * y * x, b + lr * y),
          contains=["correctly classified"])
    fails(ex.check_perceptron_update,
          lambda w, b, x, y, lr: (w - lr * (y - int(x @ w + b > 0)) * x,
                                  b - lr * (y - int(x @ w + b > 0))),
          contains=["wrong sign"])
    fails(ex.check_perceptron_update,
          lambda w, b, x, y, lr: _perceptron(w, b, x, y, lr)[:1] + (b,),
          contains=["wrong b_new", "bias is updated too"])


def test_perceptron_update_strict_threshold():
    def ge(w, b, x, y, lr):
        err = y - int(x @ w + b >= 0)
        return w + lr * err * x, b + lr * err
    fails(ex.check_perceptron_update, ge, contains=["strictly"])


def test_parameter_count_wrong():
    fails(ex.check_parameter_count, lambda s: sum(a * b for a, b in zip(s[:-1], s[1:])),
          contains=["layer_sizes = [2, 1]", "expected: 3", "got:      2", "bias"])
    fails(ex.check_parameter_count, lambda s: sum(a * b + a for a, b in zip(s[:-1], s[1:])),
          contains=["n_out per layer"])


def test_dense_forward_wrong():
    fails(ex.check_dense_forward, lambda X, W, b: X @ W.T + b, contains=["W.T"])
    fails(ex.check_dense_forward, lambda X, W, b: X @ W, contains=["forgot the bias"])
    fails(ex.check_dense_forward, lambda X, W, b: (X @ W + b).T, contains=["transpose"])


def test_dense_backward_wrong():
    fails(ex.check_dense_backward, lambda X, W, dZ: (dZ @ W.T, X.T @ dZ, dZ[0]),
          contains=["wrong db", "sum dZ over the batch"])
    fails(ex.check_dense_backward, lambda X, W, dZ: (dZ @ W, X.T @ dZ, dZ.sum(0)),
          contains=["raised ValueError", "shapes do not fit"])
    fails(ex.check_dense_backward, lambda X, W, dZ: (dZ @ W.T, (X.T @ dZ).T, dZ.sum(0)),
          contains=["wrong dW", "transpose"])
    fails(ex.check_dense_backward, lambda X, W, dZ: (dZ @ W.T, X.T @ dZ),
          contains=["tuple of 3 values"])


def test_mse_grad_wrong():
    fails(ex.check_mse_grad, lambda p, y: (p - y) / p.size, contains=["factor 2"])
    fails(ex.check_mse_grad, lambda p, y: 2 * (p - y), contains=["MEAN"])
    fails(ex.check_mse_grad, lambda p, y: 2 * (p - y) / len(p), contains=["ENTRIES"])
    fails(ex.check_mse_grad, lambda p, y: np.mean((p - y) ** 2), contains=["single number"])


def test_gradient_descent_step_wrong():
    fails(ex.check_gradient_descent_step, lambda t, g, lr: t + lr * g, contains=["UP"])
    fails(ex.check_gradient_descent_step, lambda t, g, lr: t - g, contains=["lr"])


def test_momentum_update_wrong():
    fails(ex.check_momentum_update,
          lambda t, v, g, lr, mu: (t - lr * v, mu * v + g), contains=["FIRST"])
    fails(ex.check_momentum_update,
          lambda t, v, g, lr, mu: (t - lr * (mu * v + (1 - mu) * g), mu * v + (1 - mu) * g),
          contains=["full gradient"])
    fails(ex.check_momentum_update,
          lambda t, v, g, lr, mu: (t + mu * v - lr * g, mu * v - lr * g),
          contains=["convention"])
    fails(ex.check_momentum_update, lambda t, v, g, lr, mu: (t - lr * (v + g), v + g),
          contains=["mu"])


def test_adam_step_wrong():
    def no_correction(theta, m, v, g, t, lr):
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        return theta - lr * m / (np.sqrt(v) + 1e-8), m, v
    fails(ex.check_adam_step, no_correction, contains=["wrong theta_new", "bias correction"])


def test_network_gradients_wrong():
    def seed_order(X, Y, Ws, bs):      # uses already-updated weights below the top
        Ws = [W.copy() for W in Ws]
        dWs, dbs = _net_grads(X, Y, Ws, bs)
        Ws[-1] -= 0.5 * dWs[-1]
        return _net_grads(X, Y, Ws, bs)[0][:-1] + dWs[-1:], dbs
    fails(ex.check_network_gradients, seed_order, contains=["wrong dWs[0]", "layer 0"])

    def too_big(X, Y, Ws, bs):
        dWs, dbs = _net_grads(X, Y, Ws, bs)
        return [d * len(X) for d in dWs], dbs
    fails(ex.check_network_gradients, too_big, contains=["wrong dWs", "N times"])

    def crash(X, Y, Ws, bs):
        raise RuntimeError("oops")
    fails(ex.check_network_gradients, crash, contains=["raised RuntimeError: oops"])


def test_rnn_step_wrong():
    fails(ex.check_rnn_step, lambda x, h, Wx, Wh, b: x @ Wx + h @ Wh + b, contains=["tanh"])
    fails(ex.check_rnn_step, lambda x, h, Wx, Wh, b: np.tanh(x @ Wx + h @ Wh.T + b),
          contains=["W_hh.T"])


def test_gru_step_wrong():
    def swapped(x, h, Wx, Wh, bx, bh):
        H = h.shape[1]
        Ax, Ah = x @ Wx + bx, h @ Wh + bh
        r = sig(Ax[:, :H] + Ah[:, :H])
        z = sig(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + r * Ah[:, 2 * H:])
        return z * n + (1 - z) * h
    fails(ex.check_gru_step, swapped, contains=["swapped"])

    def bias_outside(x, h, Wx, Wh, bx, bh):
        H = h.shape[1]
        Ax, Ah = x @ Wx + bx, h @ Wh + bh
        r = sig(Ax[:, :H] + Ah[:, :H])
        z = sig(Ax[:, H:2 * H] + Ah[:, H:2 * H])
        n = np.tanh(Ax[:, 2 * H:] + r * (h @ Wh[:, 2 * H:]) + bh[2 * H:])
        return (1 - z) * n + z * h
    fails(ex.check_gru_step, bias_outside, contains=["INCLUDING its bias"])


def test_clip_grad_norm_wrong():
    def per_array(grads, max_norm):
        return [g * min(1, max_norm / (np.linalg.norm(g) + 1e-6)) for g in grads]
    fails(ex.check_clip_grad_norm, per_array, contains=["global norm"])

    def always(grads, max_norm):
        norm = np.sqrt(sum((g ** 2).sum() for g in grads))
        return [g * max_norm / (norm + 1e-6) for g in grads]
    fails(ex.check_clip_grad_norm, always, contains=["scale DOWN"])


def test_checks_do_not_import_torch():
    import subprocess
    import sys
    code = ("import sys, numpy as np; from nnbook import exercises as ex; "
            "ex.check_relu(lambda z: np.maximum(z, 0)); assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)


# -- chapter 10 and 12 checks ------------------------------------------------------

def _conv2d_ref(image, kernel, stride, padding, flip=False):
    if flip:
        kernel = kernel[::-1, ::-1]
    x = np.pad(image, padding)
    kh, kw = kernel.shape
    Ho, Wo = (x.shape[0] - kh) // stride + 1, (x.shape[1] - kw) // stride + 1
    return np.array([[np.sum(kernel * x[i * stride:i * stride + kh, j * stride:j * stride + kw])
                      for j in range(Wo)] for i in range(Ho)])


def _max_pool_ref(X, size):
    Ho, Wo = X.shape[0] // size, X.shape[1] // size
    return np.array([[X[i * size:(i + 1) * size, j * size:(j + 1) * size].max()
                      for j in range(Wo)] for i in range(Ho)])


def _layer_norm_ref(X, gamma, beta, eps, ddof=0):
    mu = X.mean(axis=-1, keepdims=True)
    return gamma * (X - mu) / np.sqrt(X.var(axis=-1, ddof=ddof, keepdims=True) + eps) + beta


def _attention_ref(Q, K, V, scale=True, axis=-1):
    S = Q @ np.swapaxes(K, -1, -2)
    if scale:
        S = S / np.sqrt(Q.shape[-1])
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True) @ V


def test_conv_output_size_wrong():
    fails(ex.check_conv_output_size, lambda n, k, s, p: (n + 2 * p - k) // s,
          contains=["expected: 28", "got:      27", "+ 1"])
    fails(ex.check_conv_output_size, lambda n, k, s, p: (n + 2 * p - k) / s + 1,
          contains=["floor division"])
    fails(ex.check_conv_output_size, lambda n, k, s, p: (n + p - k) // s + 1,
          contains=["n + 2p"])


def test_conv2d_wrong():
    fails(ex.check_conv2d, lambda im, k, s, p: _conv2d_ref(im, k, s, p, flip=True),
          contains=["flipped the kernel", "image = ", "expected:"])
    fails(ex.check_conv2d, lambda im, k, s, p: _conv2d_ref(im, k, 1, p),
          contains=["ignored the stride"])
    fails(ex.check_conv2d, lambda im, k, s, p: _conv2d_ref(im, k, s, 0),
          contains=["ignored the padding"])


def test_max_pool_wrong():
    def average(X, size):
        Ho, Wo = X.shape[0] // size, X.shape[1] // size
        return X[:Ho * size, :Wo * size].reshape(Ho, size, Wo, size).mean(axis=(1, 3))
    fails(ex.check_max_pool, average, contains=["AVERAGE"])
    fails(ex.check_max_pool, lambda X, size: np.maximum(_max_pool_ref(X, size), 0),
          contains=["-inf"])


def test_layer_norm_wrong():
    fails(ex.check_layer_norm, lambda X, g, b, eps: _layer_norm_ref(X, g, b, eps, ddof=1),
          contains=["biased variance"])
    fails(ex.check_layer_norm, lambda X, g, b, eps: _layer_norm_ref(X.T, g[:, None] * 0 + 1,
                                                                    0, eps).T * g + b,
          contains=["batch"])
    fails(ex.check_layer_norm, lambda X, g, b, eps: _layer_norm_ref(X, g, b, 0.0),
          contains=["forgot eps"])


def test_attention_wrong():
    fails(ex.check_attention, lambda Q, K, V: _attention_ref(Q, K, V, scale=False),
          contains=["sqrt(d)", "Q = "])
    fails(ex.check_attention, lambda Q, K, V: _attention_ref(Q, K, V, axis=-2),
          contains=["over the keys"])
    fails(ex.check_attention, lambda Q, K, V: (_attention_ref(Q, K, V), None),
          contains=["not a tuple"])


# -- exercises that make the reader build: right answers above, wrong ones here -----

def test_softmax_cross_entropy_grad_wrong():
    fails(ex.check_softmax_cross_entropy_grad, lambda Z, y: _ce_grad(Z, y, n=False),
          contains=["MEAN"])
    fails(ex.check_softmax_cross_entropy_grad, lambda Z, y: _ce_grad(Z, y, onehot=False),
          contains=["one-hot"])
    fails(ex.check_softmax_cross_entropy_grad, lambda Z, y: -_ce_grad(Z, y), contains=["sign"])
    # the reader's own loss is checked too, and the gradient against finite differences of it
    loss = lambda Z, y: -np.mean(np.log(act.softmax(Z)[np.arange(len(y)), y]))  # noqa: E731
    ex.check_softmax_cross_entropy_grad(lambda Z, y: _ce_grad(Z, y), loss=loss)
    fails(ex.check_softmax_cross_entropy_grad, lambda Z, y: _ce_grad(Z, y),
          lambda Z, y: 2 * loss(Z, y), contains=["(loss)"])


def test_gradient_checker_wrong():
    fails(ex.check_gradient_checker, lambda f, x: _central(f, x, one_sided=True),
          contains=["central difference"])
    fails(ex.check_gradient_checker, lambda f, x: _central(f, x, restore=False),
          contains=["x was changed"])
    fails(ex.check_gradient_checker, lambda f, x: _central(f, x, h=1e-1), contains=["expected"])


def test_inverted_dropout_wrong():
    fails(ex.check_inverted_dropout,
          lambda X, p, t, rng: _dropout(X, p, t, rng, rescale=False), contains=["rescale"])
    fails(ex.check_inverted_dropout,
          lambda X, p, t, rng: _dropout(X, p, t, rng, keep_prob=True), contains=["KEEP"])
    fails(ex.check_inverted_dropout,
          lambda X, p, t, rng: _dropout(X, p, True, rng), contains=["evaluation mode"])
    fails(ex.check_inverted_dropout,
          lambda X, p, t, rng: X * (rng.random(X.shape) >= p) / (1 - p) if t else X * (1 - p),
          contains=["evaluation mode"])


def test_conv2d_backward_wrong():
    forward = lambda im, k: _conv2d_ref(im, k, 1, 0)  # noqa: E731
    fails(ex.check_conv2d_backward, forward, lambda im, k, d: _conv_bw(im, k, d, flip=False),
          contains=["wrong d_image", "rotated by 180"])
    fails(ex.check_conv2d_backward, forward,
          lambda im, k, d: (_conv_bw(im, k, d)[0], 2 * _conv_bw(im, k, d)[1]),
          contains=["wrong d_kernel", "finite differences of your own forward disagree"])
    fails(ex.check_conv2d_backward, forward, lambda im, k, d: _conv_bw(im, k, d)[0],
          contains=["return 2 gradients"])
    fails(ex.check_conv2d_backward, lambda im, k: _conv2d_ref(im, k[::-1, ::-1], 1, 0),
          lambda im, k, d: _conv_bw(im, k, d), contains=["fix the forward pass first"])


def test_max_pool_backward_wrong():
    forward = lambda X, s: _max_pool_ref(X, s)  # noqa: E731
    fails(ex.check_max_pool_backward, forward, lambda X, s, d: _pool_bw(X, s, d, average=True),
          contains=["AVERAGE"])
    fails(ex.check_max_pool_backward, forward, lambda X, s, d: np.kron(d, np.ones((s, s))),
          contains=["dX"])
    fails(ex.check_max_pool_backward, forward, lambda X, s, d: -_pool_bw(X, s, d),
          contains=["wrong dX"])


def test_lstm_step_wrong():
    fails(ex.check_lstm_step, lambda *a: _lstm(*a, squash=False), contains=["tanh(c_t)"])
    fails(ex.check_lstm_step, lambda *a: _lstm(*a, order="ifog"), contains=["(i, f, g, o)"])
    fails(ex.check_lstm_step, lambda *a: _lstm(*a, order="figo"), contains=["wrong"])
    fails(ex.check_lstm_step, lambda *a: _lstm(*a)[0], contains=["tuple of 2 values"])


@pytest.mark.parametrize("check, axis", [(ex.check_batch_norm_backward, 0),
                                         (ex.check_layer_norm_backward, -1)])
def test_norm_backward_wrong(check, axis):
    forward = lambda X, g, b, eps: _bn(X, g, b, eps, axis)  # noqa: E731
    fails(check, forward, lambda X, g, b, eps, d: _bn_bw(X, g, b, eps, d, axis, simple=True),
          contains=["wrong dX", "mean and the variance depend on every input"])
    fails(check, forward,
          lambda X, g, b, eps, d: _bn_bw(X, g, b, eps, d, -1 - axis),
          contains=["wrong"])
    fails(check, forward,
          lambda X, g, b, eps, d: _bn_bw(X, np.ones_like(g), b, eps, d, axis)[:1]
          + _bn_bw(X, g, b, eps, d, axis)[1:], contains=["multiplied by gamma"])


def test_digits_capstone():
    from nnbook.scratch import MLP, Adam
    X, y, X_val, y_val = ex.digits_capstone_data()
    assert len(X) > 1000 and len(X_val) > 300
    model = MLP([64, 64, 10], activation="relu", seed=0)
    model.fit(X, y, optimizer=Adam(model.parameters(), lr=0.005), epochs=40, batch_size=32,
              seed=0, verbose=False)
    ex.check_digits_capstone(model.predict_labels)
    fails(ex.check_digits_capstone, lambda X: np.zeros(len(X), dtype=int),
          contains=["below the target 97%"])
    fails(ex.check_digits_capstone, model.predict_proba, contains=["predict_labels"])
    fails(ex.check_digits_capstone, lambda X: None, contains=["returned None"])
    with pytest.raises(TypeError, match="callable"):
        ex.check_digits_capstone("model.predict_labels")
    fails(ex.check_digits_capstone, model, contains=["predict_labels"])   # the model itself


def test_text_capstone():
    torch = pytest.importorskip("torch")
    from nnbook.models.rnn import CharLanguageModel, train_char_model
    vocab, train, val = ex.text_capstone_data()
    assert len(train) > 10 * len(val) > 0
    threads = torch.get_num_threads()
    torch.set_num_threads(1)        # small recurrent ops: one thread is fastest
    torch.manual_seed(0)
    model = CharLanguageModel(vocab, hidden_size=128)
    train_char_model(model, vocab.encode(train), vocab.encode(val), steps=250, seq_len=64,
                     batch_size=32, lr=0.01, cosine_decay=True, print_every=0, eval_every=250)
    ex.check_text_capstone(model)
    torch.set_num_threads(threads)
    fails(ex.check_text_capstone, CharLanguageModel(vocab, hidden_size=8),
          contains=["bits per character", "target is below 2.8"])
    with pytest.raises(TypeError, match="torch.nn.Module"):
        ex.check_text_capstone(lambda x: x)

    class WrongShape(torch.nn.Module):
        def forward(self, x):
            return torch.zeros(x.shape[0], x.shape[1], 3)
    fails(ex.check_text_capstone, WrongShape(), contains=["logits of shape"])


# -- the building blocks of chapter 12 (exercises 12.11-12.19) -------------------

def test_causal_attention_wrong():
    fails(ex.check_causal_attention, lambda Q, K, V: _causal_ref(Q, K, V, "none"),
          contains=["no mask"])
    fails(ex.check_causal_attention, lambda Q, K, V: _causal_ref(Q, K, V, "anti"),
          contains=["wrong way round"])
    fails(ex.check_causal_attention, lambda Q, K, V: _causal_ref(Q, K, V, after_softmax=True),
          contains=["before the softmax"])
    with np.errstate(all="ignore"):
        fails(ex.check_causal_attention, lambda Q, K, V: _causal_ref(Q, K, V, stable=False),
              contains=["subtract each row's maximum"])


def test_rms_norm_wrong():
    def layer_norm(X, g, eps):
        return g * (X - X.mean(-1, keepdims=True)) / np.sqrt(X.var(-1, keepdims=True) + eps)
    fails(ex.check_rms_norm, layer_norm, contains=["does not subtract the mean"])
    fails(ex.check_rms_norm, lambda X, g, eps: X / np.sqrt((X ** 2).mean(-1, keepdims=True) + eps),
          contains=["gamma"])
    fails(ex.check_rms_norm,
          lambda X, g, eps: g * X / (np.sqrt((X ** 2).mean(-1, keepdims=True)) + eps),
          contains=["INSIDE the square root"])


def test_rotary_embedding_wrong():
    fails(ex.check_rotary_embedding, lambda X, p, b: _rope_ref(X, p, b, sign=-1.0),
          contains=["wrong way"])
    fails(ex.check_rotary_embedding, lambda X, p, b: _rope_ref(X, p, b ** 0.5),
          contains=["2i, not i"])
    fails(ex.check_rotary_embedding, lambda X, p, b: _rope_ref(X, p, b, halves=True),
          contains=["GPT-NeoX", "equally valid"])


def test_kv_cache_step_wrong():
    fails(ex.check_kv_cache_step, lambda *a: _kv_step(*a, append_first=False),
          contains=["attend to itself", "step t = 1"])
    fails(ex.check_kv_cache_step, lambda *a: _kv_step(*a, front=True),
          contains=["wrong K_cache", "in order"])
    fails(ex.check_kv_cache_step, lambda *a: _kv_step(*a)[0],
          contains=["tuple (o, K_cache, V_cache)"])


def test_swiglu_wrong():
    sigmoid = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    fails(ex.check_swiglu, lambda X, Wg, Wu, Wd: (sigmoid(X @ Wg) * (X @ Wu)) @ Wd,
          contains=["that is GLU"])
    fails(ex.check_swiglu, lambda X, Wg, Wu, Wd: ((X @ Wg) * _silu(X @ Wu)) @ Wd,
          contains=["GATE branch"])
    fails(ex.check_swiglu, lambda X, Wg, Wu, Wd: _silu(X @ Wg) @ Wd, contains=["W_up"])


def test_top_k_routing_wrong():
    fails(ex.check_top_k_routing, lambda s, k: _route_ref(s, k, full_gates=True),
          contains=["CHOSEN"])
    fails(ex.check_top_k_routing,
          lambda s, k: (np.argsort(s, -1)[:, :k],) + _route_ref(s, k)[1:],
          contains=["wrong top", "LARGEST"])
    fails(ex.check_top_k_routing, lambda s, k: _route_ref(s, k, per_token=True),
          contains=["wrong balance", "T * k"])


def test_patchify_wrong():
    fails(ex.check_patchify, lambda im, p: im.reshape(im.shape[0], -1, im.shape[1] * p * p),
          contains=["strips"])
    fails(ex.check_patchify, lambda im, p: _patchify_ref(im, p, (0, 4, 2, 1, 3, 5)),
          contains=["row by row"])
    fails(ex.check_patchify, lambda im, p: _patchify_ref(im, p, (0, 2, 4, 3, 5, 1)),
          contains=["channel by channel"])


def test_patchify_matches_the_vision_transformer():
    torch = pytest.importorskip("torch")
    from nnbook.models.vit import patchify
    images = np.random.default_rng(0).normal(size=(2, 3, 8, 8))
    np.testing.assert_allclose(patchify(torch.tensor(images), 4).numpy(),
                               _patchify_ref(images, 4))


def test_grouped_query_attention_wrong():
    fails(ex.check_grouped_query_attention, lambda Q, K, V: _gqa_ref(Q, K, V, tile=True),
          contains=["np.tile"])
    fails(ex.check_grouped_query_attention, lambda Q, K, V: (_gqa_ref(Q, K, V), None),
          contains=["not a tuple"])


def test_grouped_query_attention_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(1)
    Q, K, V = rng.normal(size=(2, 6, 5, 4)), rng.normal(size=(2, 2, 5, 4)), \
        rng.normal(size=(2, 2, 5, 4))
    theirs = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (Q, K, V)), enable_gqa=True).numpy()
    np.testing.assert_allclose(_gqa_ref(Q, K, V), theirs, atol=1e-12)
    ex.check_grouped_query_attention(lambda Q, K, V: torch.nn.functional.
                                     scaled_dot_product_attention(
                                         *(torch.tensor(a) for a in (Q, K, V)), enable_gqa=True))


def test_sampling_probs_wrong():
    fails(ex.check_sampling_probs, lambda z, T, k: _sampling_ref(z, T, k, times=True),
          contains=["DIVIDE"])
    fails(ex.check_sampling_probs, lambda z, T, k: _sampling_ref(z, T, k, renormalize=False),
          contains=["sum to 1"])
    fails(ex.check_sampling_probs, lambda z, T, k: _sampling_ref(-z, T, k) if k else
          _sampling_ref(z, T, k), contains=["LARGEST"])


# -- chapter 12: right answers written differently, and the hints for common mistakes ---

def _masked_softmax_attention(Q, K, V, banned, value=-np.inf, axis=-1):
    S = Q @ np.swapaxes(K, -1, -2) / np.sqrt(Q.shape[-1])
    S = np.where(banned, value, S)
    E = np.exp(S - S.max(axis=axis, keepdims=True))
    return E / E.sum(axis=axis, keepdims=True) @ V


def test_causal_attention_accepts_equivalent_answers():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional

    def future(Q):
        L = Q.shape[-2]
        return np.tril(np.ones((L, L))) == 0

    ex.check_causal_attention(lambda Q, K, V: _masked_softmax_attention(Q, K, V, future(Q),
                                                                        value=-1e9))
    ex.check_causal_attention(lambda Q, K, V: F.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (Q, K, V)), is_causal=True))
    ex.check_causal_attention(lambda Q, K, V: _causal_ref(Q, K, V).tolist())

    def row_by_row(Q, K, V):
        out = np.zeros(Q.shape[:-1] + V.shape[-1:])
        for i in range(Q.shape[-2]):
            out[..., i:i + 1, :] = _attention_ref(Q[..., i:i + 1, :], K[..., :i + 1, :],
                                                  V[..., :i + 1, :])
        return out
    ex.check_causal_attention(row_by_row)


def test_causal_attention_names_more_mistakes():
    def strict(Q):
        L = Q.shape[-2]
        return np.tril(np.ones((L, L)), -1) == 0

    fails(ex.check_causal_attention,
          lambda Q, K, V: _masked_softmax_attention(Q, K, V, strict(Q), value=-1e9),
          contains=["its own position"])
    with np.errstate(all="ignore"):
        fails(ex.check_causal_attention,
              lambda Q, K, V: _masked_softmax_attention(Q, K, V, strict(Q)),
              contains=["its own position"])
    fails(ex.check_causal_attention,
          lambda Q, K, V: _masked_softmax_attention(
              Q, K, V, np.triu(np.ones((Q.shape[-2],) * 2), 1) == 1, value=0.0),
          contains=["e^0 = 1"])
    fails(ex.check_causal_attention,
          lambda Q, K, V: _masked_softmax_attention(
              Q, K, V, np.triu(np.ones((Q.shape[-2],) * 2), 1) == 1, axis=-2),
          contains=["not over the queries"])
    fails(ex.check_causal_attention, lambda Q, K, V: (_causal_ref(Q, K, V), None),
          contains=["not a tuple"])


def test_rms_norm_names_more_mistakes():
    torch = pytest.importorskip("torch")
    ex.check_rms_norm(lambda X, g, eps: torch.nn.functional.rms_norm(
        torch.tensor(X), (X.shape[-1],), torch.tensor(g), eps))
    fails(ex.check_rms_norm, lambda X, g, eps: g * X / np.sqrt((X ** 2).sum(-1, keepdims=True)
                                                               + eps), contains=["MEAN"])
    fails(ex.check_rms_norm, lambda X, g, eps: g * X / ((X ** 2).mean(-1, keepdims=True) + eps),
          contains=["ROOT"])
    fails(ex.check_rms_norm, lambda X, g, eps: g * X / np.sqrt(X.var(-1, keepdims=True) + eps),
          contains=["np.var"])
    message = fails(ex.check_rms_norm,
                    lambda X, g, eps: g * X / np.sqrt((X ** 2).mean(-1) + eps),
                    contains=["keepdims=True"])
    assert ".T is the usual cause" not in message
    fails(ex.check_layer_norm,
          lambda X, g, b, eps: g * (X - X.mean(-1)) / np.sqrt(X.var(-1) + eps) + b,
          contains=["keepdims=True"])


def test_rotary_embedding_names_more_mistakes():
    def complex_rope(X, p, base):
        d = X.shape[-1]
        z = (X[..., 0::2] + 1j * X[..., 1::2]) * np.exp(1j * p[:, None]
                                                       * base ** (-np.arange(0, d, 2) / d))
        return np.stack([z.real, z.imag], -1).reshape(X.shape)
    ex.check_rotary_embedding(complex_rope)

    def in_place(X, p, base):
        d = X.shape[-1]
        a = p[:, None] * base ** (-np.arange(0, d, 2) / d)
        X = X.copy()
        X[..., 0::2] = X[..., 0::2] * np.cos(a) - X[..., 1::2] * np.sin(a)
        X[..., 1::2] = X[..., 0::2] * np.sin(a) + X[..., 1::2] * np.cos(a)
        return X
    fails(ex.check_rotary_embedding, in_place, contains=["ORIGINAL pair"])
    fails(ex.check_rotary_embedding, lambda X, p, b: _rope_ref(X, p, 1 / b),
          contains=["exponent is negative"])


def test_kv_cache_step_names_more_mistakes():
    torch = pytest.importorskip("torch")

    def with_torch(q, k, v, K_cache, V_cache):
        q, k, v, K_cache, V_cache = (torch.tensor(a) for a in (q, k, v, K_cache, V_cache))
        K_cache, V_cache = torch.cat([K_cache, k], 1), torch.cat([V_cache, v], 1)
        return torch.nn.functional.scaled_dot_product_attention(q, K_cache, V_cache), \
            K_cache, V_cache
    ex.check_kv_cache_step(with_torch)

    def attend_first(q, k, v, K_cache, V_cache):    # crashes on the empty cache at t = 0
        o = _sm(q @ np.swapaxes(K_cache, -1, -2) / np.sqrt(q.shape[-1])) @ V_cache
        return o, np.concatenate([K_cache, k], 1), np.concatenate([V_cache, v], 1)
    fails(ex.check_kv_cache_step, attend_first, contains=["at t = 0 the caches are empty"])

    def wrong_axis(q, k, v, K_cache, V_cache):
        K_cache, V_cache = np.concatenate([K_cache, k], 0), np.concatenate([V_cache, v], 0)
        return _sm(q @ np.swapaxes(K_cache, -1, -2)) @ V_cache, K_cache, V_cache
    fails(ex.check_kv_cache_step, wrong_axis, contains=["token axis", "axis=1"])
    message = fails(ex.check_kv_cache_step, lambda *a: (_kv_step(*a)[0][:, 0],) + _kv_step(*a)[1:],
                    contains=["shape"])
    assert "caches are empty" not in message


def test_top_k_routing_names_more_mistakes():
    torch = pytest.importorskip("torch")

    def with_torch(s, k):
        scores = torch.tensor(s)
        chosen, top = scores.topk(k, dim=-1)
        f = torch.zeros(s.shape[1], dtype=torch.float64).scatter_add_(
            0, top.flatten(), torch.ones(top.numel(), dtype=torch.float64)) / top.numel()
        return top, torch.softmax(chosen, -1), s.shape[1] * (f * torch.softmax(scores, -1)
                                                             .mean(0)).sum()
    ex.check_top_k_routing(with_torch)
    fails(ex.check_top_k_routing,
          lambda s, k: (np.argsort(s, -1)[:, -k:],) + _route_ref(s, k)[1:],
          contains=["wrong order", "worst first"])

    def no_minlength(s, k):
        top, gates, _ = _route_ref(s, k)
        f = np.bincount(top.ravel()) / top.size
        return top, gates, s.shape[1] * np.sum(f * _sm(s).mean(0))
    fails(ex.check_top_k_routing, no_minlength, contains=["minlength=E"])
    fails(ex.check_top_k_routing,
          lambda s, k: _route_ref(s, k)[:2] + (_route_ref(s, k)[2] / s.shape[1],),
          contains=["multiply", "by E"])


def test_sampling_probs_names_more_mistakes():
    ex.check_sampling_probs(lambda z, T, k: _sampling_ref(z, T, k) if k is None else
                            _sm(np.where(z < np.sort(z, -1)[..., [-k]], -1e10, z / T)))

    def filter_probabilities(z, T, k):
        p = _sm(z / T)
        if k is not None:
            p = np.where(p < np.sort(p, -1)[..., [-k]], 0.0, p)
        return p / p.sum(-1, keepdims=True)
    ex.check_sampling_probs(filter_probabilities)

    def unstable(z, T, k):
        z = z / T
        if k is not None:
            z = np.where(z < np.sort(z, -1)[..., [-k]], -np.inf, z)
        return np.exp(z) / np.exp(z).sum(-1, keepdims=True)
    with np.errstate(all="ignore"):
        fails(ex.check_sampling_probs, unstable, contains=["subtract the maximum"])

    def one_row(z, T, k):
        z = z / T
        if k is not None:
            z = np.where(z < np.sort(z, -1)[..., [-k]], -np.inf, z)
        e = np.exp(z - z.max())
        return e / e.sum()
    fails(ex.check_sampling_probs, one_row, contains=["several rows"])

    def dropped_to(value, strict):
        def probs(z, T, k):
            z = z / T
            if k is not None:
                kth = np.sort(z, -1)[..., [-k]]
                z = np.where(z <= kth if strict else z < kth, value, z)
            return _sm(z)
        return probs
    fails(ex.check_sampling_probs, dropped_to(0.0, False), contains=["e^0 = 1"])
    fails(ex.check_sampling_probs, dropped_to(-np.inf, True), contains=["z <= kth"])
    fails(ex.check_sampling_probs, lambda z, T, k: _sampling_ref(z, T, None),
          contains=["top_k is given"])


def test_grouped_query_attention_names_more_mistakes():
    def grouped(Q, K, V):                  # no copy: query heads reshaped into groups
        N, H_q, L, d = Q.shape
        G = H_q // K.shape[1]
        Qg = Q.reshape(N, K.shape[1], G, L, d)
        S = Qg @ np.swapaxes(K, -1, -2)[:, :, None] / np.sqrt(d)
        return (_sm(S) @ V[:, :, None]).reshape(N, H_q, L, d)
    ex.check_grouped_query_attention(grouped)
    ex.check_grouped_query_attention(
        lambda Q, K, V: _gqa_ref(Q, K[:, np.arange(Q.shape[1]) // (Q.shape[1] // K.shape[1])],
                                 V[:, np.arange(Q.shape[1]) // (Q.shape[1] // K.shape[1])]))

    def unscaled(Q, K, V):
        G = Q.shape[1] // K.shape[1]
        return _sm(Q @ np.swapaxes(np.repeat(K, G, 1), -1, -2)) @ np.repeat(V, G, 1)
    fails(ex.check_grouped_query_attention, unscaled, contains=["sqrt(d)"])


def test_swiglu_names_more_mistakes():
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    ex.check_swiglu(lambda X, Wg, Wu, Wd: (F.silu(torch.tensor(X @ Wg)) * torch.tensor(X @ Wu))
                    @ torch.tensor(Wd))
    fails(ex.check_swiglu, lambda X, Wg, Wu, Wd: (F.gelu(torch.tensor(X @ Wg)).numpy()
                                                  * (X @ Wu)) @ Wd, contains=["GEGLU"])
    fails(ex.check_swiglu, lambda X, Wg, Wu, Wd: (_silu(X @ Wg) * _silu(X @ Wu)) @ Wd,
          contains=["only the gate branch"])
