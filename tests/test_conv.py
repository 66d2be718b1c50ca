"""nnbook.scratch.conv: convolution, pooling and flatten layers, checked
against torch.nn.functional and its autograd gradients, against finite
differences, and by learning the 8x8 digits."""
import subprocess
import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits

from nnbook.scratch import Activation, Adam, Dense, Sequential, check_gradients
from nnbook.scratch.conv import (
    AvgPool2D, Conv2D, Flatten, MaxPool2D, col2im, conv_output_size, im2col,
)

# (N, C, H, W, F, kernel, stride, padding): batch, channels, sizes, kernels,
# strides and paddings, square and rectangular.
CONV_CASES = [
    (1, 1, 5, 5, 1, 3, 1, 0),
    (2, 3, 7, 9, 4, 3, 1, 0),
    (3, 2, 8, 8, 5, 3, 2, 1),
    (1, 1, 5, 5, 2, 5, 1, 2),
    (4, 3, 10, 7, 2, (3, 2), (2, 1), (1, 0)),
    (2, 4, 11, 11, 3, 4, 3, 2),
    (5, 1, 28, 28, 6, 5, 1, 2),
]


def _random_cases(n, seed):
    r = np.random.default_rng(seed)
    cases = []
    for _ in range(n):
        k = int(r.integers(1, 5))
        p = int(r.integers(0, 3))
        s = int(r.integers(1, 4))
        H = int(r.integers(max(1, k - 2 * p), 12))
        W = int(r.integers(max(1, k - 2 * p), 12))
        cases.append((int(r.integers(1, 5)), int(r.integers(1, 4)), H, W,
                      int(r.integers(1, 5)), k, s, p))
    return cases


ALL_CONV_CASES = CONV_CASES + _random_cases(8, seed=1)


def _torch(a, grad=False):
    return torch.tensor(a, dtype=torch.float64, requires_grad=grad)


@pytest.mark.parametrize("N,C,H,W,F_out,k,s,p", ALL_CONV_CASES)
def test_conv2d_forward_and_backward_match_torch(N, C, H, W, F_out, k, s, p):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N, C, H, W))
    conv = Conv2D(C, F_out, k, stride=s, padding=p, seed=1)
    conv.b.data[:] = rng.standard_normal(F_out)
    Z = conv.forward(X)

    Xt, Wt, bt = _torch(X, True), _torch(conv.W.data, True), _torch(conv.b.data, True)
    Zt = F.conv2d(Xt, Wt, bt, stride=s, padding=p)
    assert Z.shape == tuple(Zt.shape)
    np.testing.assert_allclose(Z, Zt.detach().numpy(), rtol=1e-10, atol=1e-12)

    dZ = rng.standard_normal(Z.shape)
    Zt.backward(torch.tensor(dZ))
    dX = conv.backward(dZ)
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.W.grad, Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(conv.b.grad, bt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_conv2d_gradients_accumulate_like_torch():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((2, 2, 6, 6))
    conv = Conv2D(2, 3, 3, seed=0)
    dZ = rng.standard_normal((2, 3, 4, 4))
    conv.forward(X)
    conv.backward(dZ)
    first = conv.W.grad.copy()
    conv.forward(X)
    conv.backward(dZ)
    np.testing.assert_allclose(conv.W.grad, 2 * first)


POOL_CASES = [
    (2, 3, 8, 8, 2, None),
    (2, 2, 7, 9, 3, 2),
    (1, 1, 5, 6, (2, 3), 1),
    (3, 4, 9, 9, 3, None),
    (2, 1, 6, 6, 2, 1),
    (4, 2, 11, 10, 3, 3),
]


@pytest.mark.parametrize("layer_cls,torch_fn", [(MaxPool2D, F.max_pool2d),
                                                (AvgPool2D, F.avg_pool2d)])
@pytest.mark.parametrize("N,C,H,W,k,s", POOL_CASES)
def test_pooling_forward_and_backward_match_torch(layer_cls, torch_fn, N, C, H, W, k, s):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((N, C, H, W))
    layer = layer_cls(k, s)
    Z = layer.forward(X)
    Xt = _torch(X, True)
    Zt = torch_fn(Xt, k, s)
    assert Z.shape == tuple(Zt.shape)
    np.testing.assert_allclose(Z, Zt.detach().numpy(), rtol=1e-12, atol=1e-14)
    dZ = rng.standard_normal(Z.shape)
    Zt.backward(torch.tensor(dZ))
    np.testing.assert_allclose(layer.backward(dZ), Xt.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_maxpool_routes_gradient_to_the_winner_only():
    X = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    pool = MaxPool2D(2)
    assert pool.forward(X).item() == 5.0
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))),
                                  [[[[0.0, 1.0], [0.0, 0.0]]]])


def test_flatten_round_trip():
    X = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    flat = Flatten()
    out = flat.forward(X)
    assert out.shape == (2, 60)
    np.testing.assert_array_equal(out, torch.flatten(torch.tensor(X), 1).numpy())
    np.testing.assert_array_equal(flat.backward(out), X)


@pytest.mark.parametrize("n,k,s,p", [(28, 5, 1, 0), (28, 5, 1, 2), (28, 3, 2, 1), (7, 3, 2, 0),
                                     (10, 4, 3, 1), (5, 5, 1, 0), (32, 5, 1, 0), (9, 2, 2, 0),
                                     (1, 3, 1, 1), (13, 7, 3, 3)])
def test_output_size_formula_matches_torch(n, k, s, p):
    out = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), stride=s, padding=p)
    assert conv_output_size(n, k, s, p) == out.shape[-1] == (n + 2 * p - k) // s + 1


def test_output_size_rejects_bad_arguments():
    with pytest.raises(ValueError, match="kernel_size 6 is larger than the padded input"):
        conv_output_size(4, 6)
    with pytest.raises(ValueError, match="stride must be an integer >= 1, got 0"):
        conv_output_size(4, 3, stride=0)
    with pytest.raises(ValueError, match="padding must be an integer >= 0, got -1"):
        conv_output_size(4, 3, padding=-1)


def test_im2col_rows_are_receptive_fields_and_col2im_is_its_adjoint():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((2, 3, 6, 5))
    cols = im2col(X, 3, stride=2, padding=1)
    Ho, Wo = conv_output_size(6, 3, 2, 1), conv_output_size(5, 3, 2, 1)
    assert cols.shape == (3 * 9, 2 * Ho * Wo)
    Xp = np.pad(X, ((0, 0), (0, 0), (1, 1), (1, 1)))
    # column (n=1, i=1, j=2) is the window starting at (2, 4) of sample 1
    np.testing.assert_array_equal(cols[:, 1 * Ho * Wo + 1 * Wo + 2], Xp[1, :, 2:5, 4:7].ravel())
    # same as torch's unfold, up to the order of axes
    unfold = F.unfold(torch.tensor(X), 3, padding=1, stride=2).numpy()   # (N, C*k*k, L)
    np.testing.assert_allclose(cols, unfold.transpose(1, 0, 2).reshape(27, -1))
    # <im2col(X), Y> == <X, col2im(Y)>: col2im is the transpose of im2col
    Y = rng.standard_normal(cols.shape)
    lhs = np.sum(cols * Y)
    rhs = np.sum(X * col2im(Y, X.shape, 3, stride=2, padding=1))
    assert lhs == pytest.approx(rhs, rel=1e-12)


def test_col2im_rejects_wrong_shape():
    with pytest.raises(ValueError, match=r"cols must have shape \(9, 32\)"):
        col2im(np.zeros((9, 10)), (2, 1, 6, 6), 3)


def _tiny_cnn(seed=0):
    return Sequential([
        Conv2D(1, 2, 3, padding=1, seed=seed), Activation("tanh"), MaxPool2D(2),
        Conv2D(2, 3, 2, stride=1, seed=seed + 1), Activation("tanh"), AvgPool2D(2),
        Flatten(), Dense(3, 4, seed=seed + 2),
    ])


def test_scratch_cnn_passes_finite_difference_gradient_check():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((3, 1, 6, 6))
    y = np.array([0, 3, 1])
    model = _tiny_cnn()
    assert model.forward(X).shape == (3, 4)
    errors = check_gradients(model, X, y, loss="softmax_cross_entropy")
    assert len(errors) == 6
    assert max(errors.values()) < 1e-6, errors


def test_scratch_cnn_input_gradient_matches_torch_autograd():
    rng = np.random.default_rng(1)
    X = rng.standard_normal((2, 1, 6, 6))
    model = _tiny_cnn(seed=4)
    model.zero_grad()
    out = model.forward(X)
    dout = rng.standard_normal(out.shape)
    dX = model.backward(dout)
    c1, _, _, c2, _, _, _, d = model.layers
    Xt = _torch(X, True)
    h = F.max_pool2d(torch.tanh(F.conv2d(Xt, _torch(c1.W.data), _torch(c1.b.data), padding=1)), 2)
    h = F.avg_pool2d(torch.tanh(F.conv2d(h, _torch(c2.W.data), _torch(c2.b.data))), 2)
    out_t = torch.flatten(h, 1) @ _torch(d.W.data) + _torch(d.b.data)
    np.testing.assert_allclose(out, out_t.detach().numpy(), rtol=1e-10)
    out_t.backward(torch.tensor(dout))
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-9, atol=1e-12)


def test_conv2d_validates_input_with_clear_messages():
    conv = Conv2D(3, 4, 5)
    with pytest.raises(ValueError, match=r"X must be 4-D with shape \(N, 3, H, W\), "
                                         r"got shape \(8, 8\)"):
        conv.forward(np.zeros((8, 8)))
    with pytest.raises(ValueError, match=r"X must have 3 channel\(s\), i.e. shape "
                                         r"\(N, 3, H, W\), got shape \(2, 1, 8, 8\)"):
        conv.forward(np.zeros((2, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"kernel 5x5 is larger than the padded input 4x4 "
                                         r"\(X of shape \(1, 3, 4, 4\)"):
        conv.forward(np.zeros((1, 3, 4, 4)))
    bad = np.zeros((1, 3, 8, 8))
    bad[0, 1, 2, 3] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        conv.forward(bad)
    with pytest.raises(RuntimeError, match="backward called before forward"):
        Conv2D(1, 1, 3).backward(np.zeros((1, 1, 1, 1)))


def test_layer_constructors_validate_arguments():
    with pytest.raises(ValueError, match="in_channels must be a positive integer, got 0"):
        Conv2D(0, 4, 3)
    with pytest.raises(ValueError, match=r"kernel_size must be an integer >= 1 or a pair"):
        Conv2D(1, 4, (3, 0))
    with pytest.raises(ValueError, match="padding must be an integer >= 0"):
        Conv2D(1, 4, 3, padding=-1)
    with pytest.raises(ValueError, match="init must be 'he' or 'xavier'"):
        Conv2D(1, 4, 3, init="zeros")
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        MaxPool2D(2, stride=0)


def test_pooling_and_flatten_validate_input():
    with pytest.raises(ValueError, match=r"MaxPool2D: X must be 4-D with shape \(N, C, H, W\), "
                                         r"got shape \(3, 4, 4\)"):
        MaxPool2D(2).forward(np.zeros((3, 4, 4)))
    with pytest.raises(ValueError, match=r"AvgPool2D: kernel 3x3 is larger than the padded "
                                         r"input 2x2"):
        AvgPool2D(3).forward(np.zeros((1, 1, 2, 2)))
    bad = np.zeros((1, 1, 2, 2))
    bad[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains 1 NaN"):
        MaxPool2D(2).forward(bad)
    with pytest.raises(ValueError, match=r"Flatten: X must have a batch axis"):
        Flatten().forward(np.zeros(5))


def test_eval_mode_keeps_no_cache_and_weights_match_torch_layout():
    conv = Conv2D(3, 5, (3, 2), seed=0)
    torch_conv = torch.nn.Conv2d(3, 5, (3, 2))
    assert conv.W.shape == tuple(torch_conv.weight.shape) == (5, 3, 3, 2)
    assert conv.b.shape == tuple(torch_conv.bias.shape)
    conv.training = False
    conv.forward(np.zeros((1, 3, 4, 4)))
    with pytest.raises(RuntimeError, match="before forward in training mode"):
        conv.backward(np.zeros((1, 5, 2, 3)))


def test_he_initialisation_scale():
    conv = Conv2D(4, 64, 3, seed=0)
    assert conv.W.data.std() == pytest.approx(np.sqrt(2 / 36), rel=0.05)
    assert np.all(conv.b.data == 0)


def test_scratch_cnn_learns_the_8x8_digits():
    digits = load_digits()
    X = (digits.images / 16.0).reshape(-1, 1, 8, 8)
    y = digits.target
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    X_train, y_train, X_test, y_test = X[:1400], y[:1400], X[1400:], y[1400:]
    model = Sequential([Conv2D(1, 8, 3, padding=1, seed=0), Activation("relu"), MaxPool2D(2),
                        Flatten(), Dense(8 * 4 * 4, 10, seed=1)])
    history = model.fit(X_train, y_train, optimizer=Adam(model.parameters(), lr=0.01),
                        epochs=5, batch_size=32, seed=0, verbose=False)
    assert history["loss"][-1] < history["loss"][0]
    assert model.accuracy(X_test, y_test) > 0.9


def test_scratch_conv_module_does_not_import_torch():
    code = ("import sys; import nnbook.scratch.conv; "
            "assert 'torch' not in sys.modules, 'torch was imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("make_layer", [lambda: Conv2D(2, 3, 3, padding=1, seed=0),
                                        lambda: MaxPool2D(2), lambda: AvgPool2D(2)])
def test_evaluation_in_chunks_matches_one_batch(make_layer):
    layer = make_layer()
    layer.eval_chunk = 4      # force several chunks, the last one partial
    X = np.random.default_rng(0).standard_normal((11, 2, 6, 6))
    full = layer.forward(X)                     # training mode: one batch
    layer.training = False
    np.testing.assert_allclose(layer.forward(X), full, rtol=1e-12, atol=1e-14)
    assert layer._cache is None                 # nothing kept for a backward pass


# -- the backward pass as a convolution with the flipped kernel ----------------------

def test_input_gradient_is_a_full_convolution_with_the_rotated_kernel():
    """Stride 1, one channel: dX = scipy's true ('full') convolution of dZ with K,
    which flips the kernel, and = the forward pass applied to the padded dZ with
    the rotated kernel."""
    from scipy.signal import convolve2d

    from nnbook.scratch.conv import conv2d_input_gradient

    rng = np.random.default_rng(7)
    X = rng.standard_normal((1, 1, 7, 6))
    conv = Conv2D(1, 1, (3, 2), seed=0)
    dZ = rng.standard_normal(conv.forward(X).shape)
    dX = conv.backward(dZ)
    K = conv.W.data[0, 0]
    np.testing.assert_allclose(dX[0, 0], convolve2d(dZ[0, 0], K, mode="full"), atol=1e-12)
    flipped = Conv2D(1, 1, (3, 2), padding=(2, 1), seed=0)
    flipped.W.data[0, 0] = K[::-1, ::-1]
    np.testing.assert_allclose(dX, flipped.forward(dZ), atol=1e-12)
    np.testing.assert_allclose(dX, conv2d_input_gradient(dZ, conv.W.data, (7, 6)), atol=1e-12)


@pytest.mark.parametrize("N,C,H,W,F_out,k,s,p", ALL_CONV_CASES)
def test_flipped_kernel_gradient_matches_backward_and_torch(N, C, H, W, F_out, k, s, p):
    from nnbook.scratch.conv import conv2d_input_gradient

    rng = np.random.default_rng(2)
    X = rng.standard_normal((N, C, H, W))
    conv = Conv2D(C, F_out, k, stride=s, padding=p, seed=3)
    Z = conv.forward(X)
    dZ = rng.standard_normal(Z.shape)
    Xt = _torch(X, True)
    F.conv2d(Xt, _torch(conv.W.data), stride=s, padding=p).backward(torch.tensor(dZ))
    dX = conv2d_input_gradient(dZ, conv.W.data, (H, W), stride=s, padding=p)
    assert dX.shape == X.shape
    np.testing.assert_allclose(dX, conv.backward(dZ), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dX, Xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_flipped_kernel_gradient_rejects_mismatched_shapes():
    from nnbook.scratch.conv import conv2d_input_gradient

    W = np.zeros((4, 2, 3, 3))
    with pytest.raises(ValueError, match=r"dZ must be 4-D, got shape \(4, 6, 6\)"):
        conv2d_input_gradient(np.zeros((4, 6, 6)), W, (8, 8))
    with pytest.raises(ValueError, match=r"dZ of shape \(1, 3, 6, 6\) has 3 channels, "
                                         r"W of shape \(4, 2, 3, 3\) has 4 filters"):
        conv2d_input_gradient(np.zeros((1, 3, 6, 6)), W, (8, 8))
    with pytest.raises(ValueError, match=r"dZ must have spatial size \(6, 6\) for input_size "
                                         r"\(8, 8\).*got dZ of shape \(1, 4, 5, 6\)"):
        conv2d_input_gradient(np.zeros((1, 4, 5, 6)), W, (8, 8))
    with pytest.raises(ValueError, match="input_size must be an integer >= 1 or a pair"):
        conv2d_input_gradient(np.zeros((1, 4, 6, 6)), W, (8, 0))
    with pytest.raises(ValueError, match="stride must be an integer >= 1"):
        conv2d_input_gradient(np.zeros((1, 4, 6, 6)), W, (8, 8), stride=0)
    with pytest.raises(TypeError, match="W must be a numeric array"):
        conv2d_input_gradient(np.zeros((1, 4, 6, 6)), np.full((4, 2, 3, 3), "a"), (8, 8))
