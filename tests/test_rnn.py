"""The from-scratch recurrent layers against PyTorch and finite differences."""

import numpy as np
import pytest
import torch

from nnbook.scratch.layers import Parameter
from nnbook.scratch.rnn import GRU, LSTM, RNN, clip_grad_norm, global_grad_norm

SHAPES = [  # (N, T, D, H)
    (1, 1, 1, 1),
    (3, 5, 4, 6),
    (2, 9, 3, 2),
    (5, 4, 7, 5),
    (4, 12, 2, 8),
]


def _torch_twin(layer, kind):
    """A float64 torch module with the scratch layer's weights (transposed)."""
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
    mod = cls(layer.input_size, layer.hidden_size, batch_first=True).double()
    with torch.no_grad():
        mod.weight_ih_l0.copy_(torch.from_numpy(layer.W_x.data.T.copy()))
        mod.weight_hh_l0.copy_(torch.from_numpy(layer.W_h.data.T.copy()))
        if kind == "gru":
            mod.bias_ih_l0.copy_(torch.from_numpy(layer.b_x.data))
            mod.bias_hh_l0.copy_(torch.from_numpy(layer.b_h.data))
        else:  # one bias here, two in torch: put it all in b_ih
            mod.bias_ih_l0.copy_(torch.from_numpy(layer.b.data))
            mod.bias_hh_l0.zero_()
    return mod


def _run_both(kind, N, T, D, H, seed):
    rng = np.random.default_rng(seed)
    cls = {"rnn": RNN, "lstm": LSTM, "gru": GRU}[kind]
    layer = cls(D, H, seed=seed)
    X = rng.standard_normal((N, T, D))
    h0 = rng.standard_normal((N, H)) * 0.5
    c0 = rng.standard_normal((N, H)) * 0.5
    dH = rng.standard_normal((N, T, H))
    dh_last = rng.standard_normal((N, H))
    dc_last = rng.standard_normal((N, H))

    state0 = (h0, c0) if kind == "lstm" else h0
    d_last = (dh_last, dc_last) if kind == "lstm" else dh_last
    H_seq, last = layer.forward(X, state0)
    dX, d_state0 = layer.backward(dH, d_last)

    mod = _torch_twin(layer, kind)
    Xt = torch.tensor(X, requires_grad=True)
    h0t = torch.tensor(h0[None], requires_grad=True)
    c0t = torch.tensor(c0[None], requires_grad=True)
    if kind == "lstm":
        out, (hT, cT) = mod(Xt, (h0t, c0t))
        loss = ((out * torch.from_numpy(dH)).sum() + (hT[0] * torch.from_numpy(dh_last)).sum()
                + (cT[0] * torch.from_numpy(dc_last)).sum())
    else:
        out, hT = mod(Xt, h0t)
        cT = None
        loss = (out * torch.from_numpy(dH)).sum() + (hT[0] * torch.from_numpy(dh_last)).sum()
    loss.backward()
    return dict(layer=layer, mod=mod, H_seq=H_seq, last=last, dX=dX, d_state0=d_state0,
                out=out, hT=hT, cT=cT, Xt=Xt, h0t=h0t, c0t=c0t)


def _close(a, b):
    np.testing.assert_allclose(a, b.detach().numpy() if torch.is_tensor(b) else b,
                               rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_rnn_matches_torch_outputs_and_every_gradient(shape, seed):
    r = _run_both("rnn", *shape, seed)
    layer, mod = r["layer"], r["mod"]
    _close(r["H_seq"], r["out"])
    _close(r["last"], r["hT"][0])
    _close(r["dX"], r["Xt"].grad)
    _close(r["d_state0"], r["h0t"].grad[0])
    _close(layer.W_xh.grad, mod.weight_ih_l0.grad.T)
    _close(layer.W_hh.grad, mod.weight_hh_l0.grad.T)
    # torch's two biases receive the same gradient; ours is their common value
    _close(layer.b.grad, mod.bias_ih_l0.grad)
    _close(layer.b.grad, mod.bias_hh_l0.grad)


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_lstm_matches_torch_outputs_and_every_gradient(shape, seed):
    r = _run_both("lstm", *shape, seed)
    layer, mod = r["layer"], r["mod"]
    _close(r["H_seq"], r["out"])
    _close(r["last"][0], r["hT"][0])
    _close(r["last"][1], r["cT"][0])
    _close(r["dX"], r["Xt"].grad)
    _close(r["d_state0"][0], r["h0t"].grad[0])
    _close(r["d_state0"][1], r["c0t"].grad[0])
    _close(layer.W_x.grad, mod.weight_ih_l0.grad.T)
    _close(layer.W_h.grad, mod.weight_hh_l0.grad.T)
    _close(layer.b.grad, mod.bias_ih_l0.grad)
    _close(layer.b.grad, mod.bias_hh_l0.grad)


@pytest.mark.parametrize("shape", SHAPES)
def test_gru_matches_torch_outputs_and_every_gradient(shape):
    r = _run_both("gru", *shape, 3)
    layer, mod = r["layer"], r["mod"]
    _close(r["H_seq"], r["out"])
    _close(r["last"], r["hT"][0])
    _close(r["dX"], r["Xt"].grad)
    _close(r["d_state0"], r["h0t"].grad[0])
    _close(layer.W_x.grad, mod.weight_ih_l0.grad.T)
    _close(layer.W_h.grad, mod.weight_hh_l0.grad.T)
    _close(layer.b_x.grad, mod.bias_ih_l0.grad)
    _close(layer.b_h.grad, mod.bias_hh_l0.grad)


def test_torch_style_initialisation_bounds():
    layer = LSTM(3, 16, seed=0)
    for p in layer.parameters():
        assert np.all(np.abs(p.data) <= 1 / 4)
    assert layer.W_x.shape == (3, 64) and layer.W_h.shape == (16, 64) and layer.b.shape == (64,)
    assert [p.shape for p in GRU(2, 5, seed=0).parameters()] == [(2, 15), (5, 15), (15,), (15,)]
    a, b = RNN(2, 3, seed=7), RNN(2, 3, seed=7)
    np.testing.assert_array_equal(a.W_hh.data, b.W_hh.data)


def _loss(layer, X, state, weights):
    H_seq, last = layer.forward(X, state)
    h_last = last[0] if isinstance(last, tuple) else last
    return float(np.sum(H_seq * weights) + np.sum(h_last ** 2))


@pytest.mark.parametrize("cls", [RNN, LSTM, GRU])
def test_bptt_matches_finite_differences(cls):
    rng = np.random.default_rng(11)
    N, T, D, H = 2, 6, 3, 4
    layer = cls(D, H, seed=5)
    X = rng.standard_normal((N, T, D))
    weights = rng.standard_normal((N, T, H))
    H_seq, last = layer.forward(X)
    h_last = last[0] if isinstance(last, tuple) else last
    d_last = 2 * h_last
    if cls is LSTM:
        d_last = (d_last, np.zeros_like(d_last))
    dX, _ = layer.backward(weights, d_last)
    eps = 1e-6
    for p in layer.parameters():
        num = np.zeros_like(p.data)
        for idx in np.ndindex(p.data.shape):
            old = p.data[idx]
            p.data[idx] = old + eps
            up = _loss(layer, X, None, weights)
            p.data[idx] = old - eps
            down = _loss(layer, X, None, weights)
            p.data[idx] = old
            num[idx] = (up - down) / (2 * eps)
        np.testing.assert_allclose(p.grad, num, rtol=1e-5, atol=1e-7, err_msg=p.name)
    num_dX = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += eps
        Xm[idx] -= eps
        up, down = _loss(layer, Xp, None, weights), _loss(layer, Xm, None, weights)
        num_dX[idx] = (up - down) / (2 * eps)
    np.testing.assert_allclose(dX, num_dX, rtol=1e-5, atol=1e-7)


def test_gradients_accumulate_over_calls():
    rng = np.random.default_rng(0)
    layer = RNN(2, 3, seed=0)
    X, dH = rng.standard_normal((2, 4, 2)), rng.standard_normal((2, 4, 3))
    layer.forward(X)
    layer.backward(dH)
    once = layer.W_hh.grad.copy()
    layer.forward(X)
    layer.backward(dH)
    np.testing.assert_allclose(layer.W_hh.grad, 2 * once)


def test_grad_hidden_records_dL_dh_per_step():
    rng = np.random.default_rng(0)
    layer = RNN(2, 3, seed=0)
    X = rng.standard_normal((4, 5, 2))
    H_seq, h_last = layer.forward(X)
    dH = np.zeros_like(H_seq)
    layer.backward(dH, np.ones_like(h_last))
    np.testing.assert_allclose(layer.grad_hidden_[:, -1], 1.0)
    assert layer.grad_hidden_.shape == (4, 5, 3)
    # one step back: dh_{T-1} = (dh_T * (1 - h_T^2)) W_hh^T
    expected = (1.0 - H_seq[:, -1] ** 2) @ layer.W_hh.data.T
    np.testing.assert_allclose(layer.grad_hidden_[:, -2], expected)


@pytest.mark.parametrize("max_norm", [0.1, 1.0, 5.0, 1e3])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(1)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    grads = [rng.standard_normal(s) * 3 for s in shapes]
    params = [Parameter(np.zeros(s)) for s in shapes]
    for p, g in zip(params, grads):
        p.grad = g.copy()
    tparams = [torch.zeros(s, dtype=torch.float64, requires_grad=True) for s in shapes]
    for p, g in zip(tparams, grads):
        p.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm(params, max_norm)
    ttotal = torch.nn.utils.clip_grad_norm_(tparams, max_norm)
    assert total == pytest.approx(float(ttotal), rel=1e-12)
    for p, tp in zip(params, tparams):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-12)
    assert global_grad_norm(params) <= max_norm + 1e-9


def test_clip_keeps_direction():
    p = Parameter(np.zeros(2))
    p.grad = np.array([30.0, 40.0])
    assert clip_grad_norm([p], 5.0) == pytest.approx(50.0)
    np.testing.assert_allclose(p.grad, [3.0, 4.0], rtol=1e-6)


@pytest.mark.parametrize("bad, match", [
    (np.zeros((4, 3)), "3-D"),
    (np.zeros((2, 4, 5)), r"shape \(N, T, 3\)"),
    (np.full((2, 4, 3), np.nan), "NaN"),
    (np.zeros((0, 4, 3)), "at least one"),
    (np.array([[["a"]]]), "numeric"),
])
def test_bad_inputs_raise_clear_errors(bad, match):
    with pytest.raises((ValueError, TypeError), match=match):
        RNN(3, 2).forward(bad)


def test_bad_state_and_gradient_shapes():
    layer = LSTM(3, 2, seed=0)
    X = np.zeros((4, 5, 3))
    with pytest.raises(ValueError, match=r"state\[0\] must have shape \(4, 2\)"):
        layer.forward(X, (np.zeros((4, 3)), np.zeros((4, 2))))
    with pytest.raises(ValueError, match="tuple of 2"):
        layer.forward(X, (np.zeros((4, 2)),))
    with pytest.raises(RuntimeError, match="before forward"):
        LSTM(3, 2).backward(np.zeros((4, 5, 2)))
    layer.forward(X)
    with pytest.raises(ValueError, match="dH_seq must have shape"):
        layer.backward(np.zeros((4, 4, 2)))
    with pytest.raises(ValueError, match="hidden_size must be a positive integer"):
        RNN(3, 0)
    with pytest.raises(ValueError, match="max_norm"):
        clip_grad_norm(RNN(2, 2).parameters(), -1.0)
    with pytest.raises(TypeError, match="Parameters"):
        clip_grad_norm([np.zeros(3)], 1.0)


def test_scratch_rnn_module_does_not_import_torch():
    import subprocess
    import sys
    code = "import sys, nnbook.scratch.rnn; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_last_hidden_in_sequential_learns_to_remember_the_first_step():
    from nnbook.scratch.layers import Dense
    from nnbook.scratch.mlp import Sequential
    from nnbook.scratch.optim import Adam
    from nnbook.scratch.rnn import LastHidden
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 6, 1))
    y = (X[:, 0, 0] > 0).astype(int)
    for cell in (RNN, LSTM, GRU):
        model = Sequential([LastHidden(cell(1, 12, seed=0)), Dense(12, 2, init="xavier", seed=0)])
        model.fit(X, y, optimizer=Adam(model.parameters(), lr=0.02), epochs=40, batch_size=50,
                  verbose=False)
        assert model.accuracy(X, y) > 0.9, cell.__name__


def test_last_hidden_gradient_matches_finite_differences():
    from nnbook.scratch.rnn import LastHidden
    rng = np.random.default_rng(2)
    layer = LastHidden(LSTM(2, 3, seed=1))
    X = rng.standard_normal((2, 4, 2))
    w = rng.standard_normal((2, 3))
    layer.forward(X)
    dX = layer.backward(w)
    eps = 1e-6
    num = np.zeros_like(X)
    for idx in np.ndindex(X.shape):
        Xp, Xm = X.copy(), X.copy()
        Xp[idx] += eps
        Xm[idx] -= eps
        num[idx] = (np.sum(layer.forward(Xp) * w) - np.sum(layer.forward(Xm) * w)) / (2 * eps)
    np.testing.assert_allclose(dX, num, rtol=1e-6, atol=1e-8)
    with pytest.raises(TypeError, match="RNN, LSTM or GRU"):
        LastHidden(object())
