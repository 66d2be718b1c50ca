"""Checks for the exercises of chapter 10 (convolutional networks)."""

from __future__ import annotations

import numpy as np

from ._checking import (ExerciseError, call, close, exercise_check, fail, fail_simple, ok,
                        run_cases, tuple_cases)
from ._checking import rng as _rng
from ._checking import compare  # noqa: F401
from ._checking import backward_cases

__all__ = [
    "check_conv_output_size", "check_conv2d", "check_max_pool", "check_conv2d_backward",
    "check_max_pool_backward"
]


def _conv_output_size(n, kernel_size, stride, padding):
    return (n + 2 * padding - kernel_size) // stride + 1


@exercise_check
def check_conv_output_size(fn):
    """``fn(n, kernel_size, stride, padding) -> n_out``, the output length of a
    convolution along one axis, :math:`\\lfloor (n + 2p - k)/s \\rfloor + 1`."""
    name = "check_conv_output_size"
    cases = [(32, 5, 1, 0), (28, 3, 1, 1), (7, 3, 2, 0), (8, 3, 2, 0), (224, 7, 2, 3),
             (5, 5, 1, 0), (10, 2, 2, 0), (6, 3, 2, 1)]
    for n, k, s, p in cases:
        args = {"n": n, "kernel_size": k, "stride": s, "padding": p}
        expected = _conv_output_size(n, k, s, p)
        got = call(name, fn, args)
        try:
            right = float(got) == expected
        except (TypeError, ValueError):
            right = False
        if right and float(got).is_integer():
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
        fail(name, args, expected, got, hint)
    return ok(name, len(cases))


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


@exercise_check
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
    return run_cases(
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


@exercise_check
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

    return run_cases(
        "check_max_pool", fn, cases, _max_pool,
        mistakes=[(average, "you computed the AVERAGE of each window, not its maximum"),
                  (zero_start, "you started the running maximum at 0: with all-negative "
                               "windows it must start at -inf (or use .max())"),
                  (wrong_reshape, "the reshape mixes windows: reshape to "
                                  "(H_out, size, W_out, size) and take the max over axes "
                                  "1 and 3")])


def _xcorr(image, kernel):
    kh, kw = kernel.shape
    H, W = image.shape[0] - kh + 1, image.shape[1] - kw + 1
    windows = np.lib.stride_tricks.sliding_window_view(image, (kh, kw))
    return np.einsum("ijkl,kl->ij", windows, kernel)


def _xcorr_backward(image, kernel, d_out):
    kh, kw = kernel.shape
    d_kernel = _xcorr(image, d_out)                       # correlate input with dZ
    padded = np.pad(d_out, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    d_image = _xcorr(padded, kernel[::-1, ::-1])           # full conv, flipped kernel
    return d_image, d_kernel


@exercise_check
def check_conv2d_backward(forward, backward):
    """Check a convolution layer's backward pass (one channel, stride 1, no padding).

    ``forward(image, kernel) -> Z``, the cross-correlation
    ``Z[i, j] = sum(kernel * image[i:i+kh, j:j+kw])``;
    ``backward(image, kernel, d_out) -> (d_image, d_kernel)``, the gradients of
    ``sum(Z * d_out)``. The backward is compared with the book's and with
    finite differences of your forward.
    """
    gen = _rng(23)
    cases = []
    for H, W, kh, kw in ((4, 4, 2, 2), (5, 6, 3, 2), (6, 6, 3, 3), (3, 5, 1, 3)):
        cases.append({"image": gen.normal(size=(H, W)), "kernel": gen.normal(size=(kh, kw)),
                      "d_out": gen.normal(size=(H - kh + 1, W - kw + 1))})
    mistakes = [(lambda image, kernel, d_out: (_xcorr(np.pad(d_out, ((kernel.shape[0] - 1,) * 2,
                                                                     (kernel.shape[1] - 1,) * 2)),
                                                      kernel), _xcorr(image, d_out)),
                 "d_image is a FULL convolution of d_out with the kernel rotated by 180 degrees "
                 "(kernel[::-1, ::-1]); you used the kernel unflipped"),
                (lambda image, kernel, d_out: (_xcorr_backward(image, kernel, d_out)[0],
                                               _xcorr(d_out, image)[:kernel.shape[0],
                                                                    :kernel.shape[1]]),
                 "d_kernel[a, b] = sum over (i, j) of image[i+a, j+b] * d_out[i, j]: "
                 "correlate the IMAGE with d_out")]
    return backward_cases("check_conv2d_backward", forward, backward, cases,
                          lambda image, kernel: _xcorr(image, kernel), _xcorr_backward,
                          ("d_image", "d_kernel"), mistakes=mistakes, rtol=1e-6, atol=1e-9)


def _pool_backward(X, size, d_out):
    Ho, Wo = X.shape[0] // size, X.shape[1] // size
    windows = X[:Ho * size, :Wo * size].reshape(Ho, size, Wo, size)
    is_max = windows == windows.max(axis=(1, 3), keepdims=True)
    dX = np.zeros_like(X, dtype=float)
    dX[:Ho * size, :Wo * size] = (is_max * d_out[:, None, :, None]).reshape(Ho * size, Wo * size)
    return (dX,)


@exercise_check
def check_max_pool_backward(forward, backward):
    """Check max pooling's backward pass.

    ``forward(X, size) -> Z`` as in :func:`check_max_pool`;
    ``backward(X, size, d_out) -> dX``: each window's gradient goes entirely to
    the position of its maximum (inputs here have no ties), zeros elsewhere,
    including rows and columns that no window covers.
    """
    gen = _rng(24)
    cases = [{"X": gen.normal(size=(4, 4)), "size": 2, "d_out": gen.normal(size=(2, 2))},
             {"X": gen.normal(size=(6, 6)), "size": 3, "d_out": gen.normal(size=(2, 2))},
             {"X": gen.normal(size=(5, 7)), "size": 2, "d_out": gen.normal(size=(2, 3))}]
    mistakes = [(lambda X, size, d_out: (np.kron(d_out, np.ones((size, size))) / size ** 2
                                         if X.shape[0] % size == 0 == X.shape[1] % size
                                         else np.pad(np.kron(d_out, np.ones((size, size))),
                                                     ((0, X.shape[0] % size),
                                                      (0, X.shape[1] % size))) / size ** 2,),
                 "that is AVERAGE pooling's backward: max pooling sends each window's "
                 "gradient only to its maximum"),
                (lambda X, size, d_out: (np.pad(np.kron(d_out, np.ones((size, size))),
                                                ((0, X.shape[0] % size),
                                                 (0, X.shape[1] % size))),),
                 "only the maximum of each window receives the gradient; the others get 0")]
    return backward_cases("check_max_pool_backward", forward,
                          lambda X, size, d_out: backward(X, size, d_out), cases,
                          lambda X, size: _max_pool(X, size), _pool_backward, ("dX",),
                          mistakes=mistakes)
