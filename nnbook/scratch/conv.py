r"""Convolution and pooling layers in NumPy, with hand-written backward passes.

Notation (the book's): a batch of images is an array ``X`` of shape
``(N, C, H, W)`` (samples, channels, height, width), the layout PyTorch
uses. A convolutional layer with :math:`F` filters of size
:math:`k_h \times k_w` has weights ``W`` of shape ``(F, C, k_h, k_w)`` and a
bias ``b`` of shape ``(F,)``; with stride :math:`s` and zero padding
:math:`p` it computes

.. math::
    Z_{n,f,i,j} = b_f + \sum_{c=1}^{C}\sum_{u=0}^{k_h-1}\sum_{v=0}^{k_w-1}
        W_{f,c,u,v}\, \tilde X_{n,c,\,s i + u,\,s j + v},

where :math:`\tilde X` is ``X`` padded with :math:`p` zeros on every side.
(Strictly this is a cross-correlation; deep-learning libraries call it a
convolution and so does the book.) The output has spatial size
:math:`\lfloor (n + 2p - k)/s \rfloor + 1` along each axis
(:func:`conv_output_size`).

The layers compute it with *im2col* ("image to columns"): every receptive
field is copied into one column of a matrix ``cols``, so that the whole
convolution becomes one matrix product ``W.reshape(F, -1) @ cols``, a dense
layer applied to every patch at once. The backward pass is a dense layer's
backward pass followed by *col2im*, which adds each column's gradient back
onto the pixels it came from.

Everything is plain NumPy; importing this module never imports PyTorch.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng, standard_normal
from .layers import Layer, Parameter, _check_grad


def _pair(value, name: str, *, minimum: int = 1) -> tuple[int, int]:
    """``3 -> (3, 3)``; ``(3, 2) -> (3, 2)``, checking for integers >= minimum."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value, value)
    if len(items) != 2 or any(isinstance(v, bool) or not isinstance(v, (int, np.integer))
                              or v < minimum for v in items):
        raise ValueError(f"{name} must be an integer >= {minimum} or a pair of them, "
                         f"got {value!r}")
    return int(items[0]), int(items[1])


def conv_output_size(n: int, kernel_size: int, stride: int = 1, padding: int = 0) -> int:
    r"""Output length of a convolution or pooling along one axis:

    .. math::
        n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1 .

    Raises ``ValueError`` when the kernel is larger than the padded input.
    """
    for name, v, lo in (("n", n, 1), ("kernel_size", kernel_size, 1),
                        ("stride", stride, 1), ("padding", padding, 0)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo:
            raise ValueError(f"{name} must be an integer >= {lo}, got {v!r}")
    if kernel_size > n + 2 * padding:
        raise ValueError(f"kernel_size {kernel_size} is larger than the padded input "
                         f"(n + 2*padding = {n} + 2*{padding} = {n + 2 * padding})")
    return (n + 2 * padding - kernel_size) // stride + 1


def _windows(X, kernel_size, stride, padding):
    """A read-only view of shape ``(N, C, H_out, W_out, k_h, k_w)`` holding
    every (strided) receptive field of the zero-padded ``X``; no copy."""
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    if ph or pw:
        X = np.pad(X, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    view = np.lib.stride_tricks.sliding_window_view(X, (kh, kw), axis=(2, 3))
    return view[:, :, ::sh, ::sw]


def im2col(X, kernel_size, stride=1, padding=0):
    r"""Unfold the receptive fields of ``X`` (shape ``(N, C, H, W)``) into columns.

    Returns ``cols`` of shape :math:`(C k_h k_w,\; N H_{out} W_{out})`:
    column :math:`(n, i, j)` holds the :math:`C \times k_h \times k_w` input
    values that output pixel :math:`(i, j)` of sample :math:`n` sees,
    flattened in the same order as one filter ``W[f]``. A convolution is
    then the matrix product ``W.reshape(F, -1) @ cols``.

    Built with :func:`numpy.lib.stride_tricks.sliding_window_view` (a view
    with no copy) and one reshape (the only copy): no Python loop over
    samples or pixels.
    """
    kernel_size, stride = _pair(kernel_size, "kernel_size"), _pair(stride, "stride")
    padding = _pair(padding, "padding", minimum=0)
    X = _check_images(X, "X", None, "im2col")
    _check_fits(X, kernel_size, padding, "im2col")
    win = _windows(X, kernel_size, stride, padding)     # (N, C, Ho, Wo, kh, kw)
    N, C, Ho, Wo, kh, kw = win.shape
    return win.transpose(1, 4, 5, 0, 2, 3).reshape(C * kh * kw, N * Ho * Wo)


def col2im(cols, X_shape, kernel_size, stride=1, padding=0):
    r"""The adjoint of :func:`im2col`: add each column of ``cols`` back onto
    the pixels of the receptive field it was copied from.

    ``cols`` has the shape :func:`im2col` returns for an input of shape
    ``X_shape``; the result has shape ``X_shape``. A pixel that lies in
    several receptive fields (overlapping windows) receives the *sum* of
    their gradients, which is what the chain rule asks for. The loop runs
    over the :math:`k_h k_w` kernel offsets only (25 for a 5x5 kernel); each
    step adds a whole strided slice of the image at once.
    """
    kernel_size, stride, padding = (_pair(kernel_size, "kernel_size"),
                                    _pair(stride, "stride"), _pair(padding, "padding", minimum=0))
    (kh, kw), (sh, sw), (ph, pw) = kernel_size, stride, padding
    try:
        N, C, H, W = (int(v) for v in X_shape)
    except (TypeError, ValueError):
        raise ValueError(f"X_shape must be 4 integers (N, C, H, W), got {X_shape!r}") from None
    cols = as_float_array(cols, "cols", dtype=None)
    if (kh > H + 2 * ph) or (kw > W + 2 * pw):
        raise ValueError(f"kernel_size {kh}x{kw} is larger than the padded input of X_shape "
                         f"{tuple(X_shape)}")
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    if cols.shape != (C * kh * kw, N * Ho * Wo):
        raise ValueError(f"cols must have shape {(C * kh * kw, N * Ho * Wo)} for X_shape "
                         f"{tuple(X_shape)}, got {cols.shape}")
    # patches[:, u, v] is the (C, N, Ho, Wo) grid of values that kernel
    # offset (u, v) read from the (padded) image.
    patches = cols.reshape(C, kh, kw, N, Ho, Wo)
    Xp = np.zeros((N, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for u in range(kh):
        for v in range(kw):
            Xp[:, :, u:u + sh * Ho:sh, v:v + sw * Wo:sw] += patches[:, u, v].transpose(1, 0, 2, 3)
    return Xp[:, :, ph:ph + H, pw:pw + W]


def _in_chunks(forward, X, chunk: int):
    """``forward(X)`` computed ``chunk`` samples at a time. Used in evaluation
    mode, where nothing is cached for backward: im2col's ``cols`` is
    :math:`k_h k_w` times larger than ``X``, and on thousands of images
    allocating it at once costs more time than the arithmetic."""
    return np.concatenate([forward(X[i:i + chunk]) for i in range(0, len(X), chunk)])


def _check_images(X, name: str, channels: int | None, layer: str) -> np.ndarray:
    """``X`` as a float array of shape ``(N, C, H, W)``, with ``channels``
    channels if given; finite values only. float32 stays float32."""
    X = as_float_array(X, name, dtype=None)
    if X.ndim != 4:
        want = f"(N, {channels}, H, W)" if channels else "(N, C, H, W)"
        raise ValueError(f"{layer}: {name} must be 4-D with shape {want}, got shape {X.shape}")
    if channels is not None and X.shape[1] != channels:
        raise ValueError(f"{layer}: {name} must have {channels} channel(s), i.e. shape "
                         f"(N, {channels}, H, W), got shape {X.shape}")
    return X


def _check_fits(X, kernel_size, padding, layer: str, name: str = "X") -> None:
    (kh, kw), (ph, pw) = kernel_size, padding
    H, W = X.shape[2:]
    if kh > H + 2 * ph or kw > W + 2 * pw:
        raise ValueError(f"{layer}: kernel {kh}x{kw} is larger than the padded input "
                         f"{H + 2 * ph}x{W + 2 * pw} ({name} of shape {X.shape} with "
                         f"padding {ph}x{pw})")


class Conv2D(Layer):
    r"""2-D convolution over ``X`` of shape ``(N, C, H, W)``.

    Forward, with ``cols = im2col(X)`` of shape :math:`(C k_h k_w, N H_{out} W_{out})`
    and the filters flattened into :math:`W_{mat}` of shape :math:`(F, C k_h k_w)`:

    .. math::
        Z_{mat} = W_{mat}\, \mathrm{cols} + b ,

    (``b`` added to every column) reshaped to ``(N, F, H_out, W_out)``.
    Backward, given :math:`dZ = \partial L/\partial Z` rearranged the same
    way as :math:`dZ_{mat}` of shape :math:`(F, N H_{out} W_{out})`, is a
    dense layer's backward pass plus col2im:

    .. math::
        dW_{mat} = dZ_{mat}\, \mathrm{cols}^\top,\qquad
        db = \textstyle\sum_{\text{columns}} dZ_{mat},\qquad
        dX = \mathrm{col2im}(W_{mat}^\top dZ_{mat}) .

    ``W`` has shape ``(F, C, k_h, k_w)`` and ``b`` shape ``(F,)``, as in
    ``torch.nn.Conv2d``, so weights can be copied across directly. ``init``
    is ``"he"`` (:math:`\mathcal N(0, 2/\text{fan}_{in})`, fan-in
    :math:`C k_h k_w`) or ``"xavier"``.

    In evaluation mode (``layer.training = False``, as set by
    ``Sequential.predict``) nothing is cached for a backward pass, and a
    batch of more than ``eval_chunk`` images is processed in chunks
    (``_in_chunks``).
    """

    eval_chunk = 256
    _skips_input_grad = True        # backward(dZ, input_grad=False) skips col2im

    def __init__(self, in_channels: int, out_channels: int, kernel_size, stride=1,
                 padding=0, init: str = "he", seed=None):
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        self.in_channels, self.out_channels = int(in_channels), int(out_channels)
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = _pair(stride, "stride")
        self.padding = _pair(padding, "padding", minimum=0)
        kh, kw = self.kernel_size
        fan_in, fan_out = self.in_channels * kh * kw, self.out_channels * kh * kw
        if init == "he":
            scale = np.sqrt(2.0 / fan_in)
        elif init == "xavier":
            scale = np.sqrt(2.0 / (fan_in + fan_out))
        else:
            raise ValueError(f"init must be 'he' or 'xavier', got {init!r}")
        shape = (self.out_channels, self.in_channels, kh, kw)
        self.W = Parameter(standard_normal(make_rng(seed), shape) * scale, "W")
        self.b = Parameter(np.zeros(self.out_channels), "b")
        self._cache = None

    def parameters(self):
        return [self.W, self.b]

    def output_shape(self, input_shape):
        """``(N, F, H_out, W_out)`` for an input of shape ``(N, C, H, W)``."""
        N, _, H, W = input_shape
        (kh, kw), (sh, sw), (ph, pw) = self.kernel_size, self.stride, self.padding
        return (N, self.out_channels, conv_output_size(H, kh, sh, ph),
                conv_output_size(W, kw, sw, pw))

    def forward(self, X):
        X = _check_images(X, "X", self.in_channels, "Conv2D")
        _check_fits(X, self.kernel_size, self.padding, "Conv2D")
        if not self.training and len(X) > self.eval_chunk:
            return _in_chunks(self.forward, X, self.eval_chunk)
        N, F, Ho, Wo = self.output_shape(X.shape)
        cols = im2col(X, self.kernel_size, self.stride, self.padding)   # (C*kh*kw, N*Ho*Wo)
        W_mat = self.W.data.reshape(F, -1)                              # (F, C*kh*kw)
        Z_mat = W_mat @ cols + self.b.data[:, None]                     # (F, N*Ho*Wo)
        self._cache = (X.shape, cols) if self.training else None
        return Z_mat.reshape(F, N, Ho, Wo).transpose(1, 0, 2, 3)

    def backward(self, dZ, input_grad: bool = True):
        r"""Add :math:`dZ_{mat}\,\mathrm{cols}^\top` to ``W.grad`` and the column sums
        to ``b.grad``; return :math:`\mathrm{col2im}(W_{mat}^\top dZ_{mat})` (``None``
        with ``input_grad=False``: the first layer's input needs no gradient)."""
        if self._cache is None:
            raise RuntimeError("Conv2D.backward called before forward in training mode")
        X_shape, cols = self._cache
        F = self.out_channels
        dZ = _check_grad(dZ, self.output_shape(X_shape), "dZ", "Conv2D")
        dZ_mat = dZ.transpose(1, 0, 2, 3).reshape(F, -1)                # (F, N*Ho*Wo)
        self.W.grad += (dZ_mat @ cols.T).reshape(self.W.shape)
        self.b.grad += dZ_mat.sum(axis=1)
        if not input_grad:
            return None
        dcols = self.W.data.reshape(F, -1).T @ dZ_mat                   # (C*kh*kw, N*Ho*Wo)
        return col2im(dcols, X_shape, self.kernel_size, self.stride, self.padding)

    def __repr__(self):
        kh, kw = self.kernel_size
        return (f"Conv2D({self.in_channels} -> {self.out_channels}, kernel {kh}x{kw}, "
                f"stride {self.stride[0]}, padding {self.padding[0]})")


class _Pool2D(Layer):
    """Shared plumbing for pooling: each channel is pooled separately, so the
    input is viewed as ``N*C`` one-channel images and unfolded by im2col into
    columns of :math:`k_h k_w` values, one column per output pixel."""

    eval_chunk = 256

    def __init__(self, kernel_size, stride=None):
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride")
        self._cache = None

    def _unfold(self, X):
        X = _check_images(X, "X", None, type(self).__name__)
        _check_fits(X, self.kernel_size, (0, 0), type(self).__name__)
        N, C, H, W = X.shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        out_shape = (N, C, conv_output_size(H, kh, sh), conv_output_size(W, kw, sw))
        cols = im2col(X.reshape(N * C, 1, H, W), self.kernel_size, self.stride)
        return X.shape, out_shape, cols                                 # cols: (kh*kw, N*C*Ho*Wo)

    def _out_shape(self, X_shape):
        N, C, H, W = X_shape
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        return (N, C, conv_output_size(H, kh, sh), conv_output_size(W, kw, sw))

    def _fold(self, dcols, X_shape):
        N, C, H, W = X_shape
        dX = col2im(dcols, (N * C, 1, H, W), self.kernel_size, self.stride)
        return dX.reshape(X_shape)

    def __repr__(self):
        kh, kw = self.kernel_size
        return f"{type(self).__name__}({kh}x{kw}, stride {self.stride[0]})"


class MaxPool2D(_Pool2D):
    r"""Max pooling: each output is the largest value in its window,

    .. math::
        Z_{n,c,i,j} = \max_{0 \le u < k_h,\; 0 \le v < k_w} X_{n,c,\,s i+u,\,s j+v}.

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows). The
    gradient flows only to the winner of each window (the first one, on
    ties, as in PyTorch): :math:`dX = dZ` at the arg-max, 0 elsewhere.
    """

    def forward(self, X):
        if not self.training and len(X) > self.eval_chunk:
            return _in_chunks(self.forward, X, self.eval_chunk)
        X_shape, out_shape, cols = self._unfold(X)
        # remember the row of each column's maximum: its window's winner
        self._cache = (X_shape, cols.argmax(axis=0), cols.shape) if self.training else None
        return cols.max(axis=0).reshape(out_shape)

    def backward(self, dZ):
        if self._cache is None:
            raise RuntimeError("MaxPool2D.backward called before forward in training mode")
        X_shape, winners, cols_shape = self._cache
        dZ = _check_grad(dZ, self._out_shape(X_shape), "dZ", "MaxPool2D")
        dcols = np.zeros(cols_shape, dtype=dZ.dtype)
        dcols[winners, np.arange(cols_shape[1])] = dZ.reshape(-1)
        return self._fold(dcols, X_shape)


class AvgPool2D(_Pool2D):
    r"""Average pooling: each output is the mean of its window,

    .. math::
        Z_{n,c,i,j} = \frac{1}{k_h k_w}\sum_{u,v} X_{n,c,\,s i+u,\,s j+v},

    so every input pixel of a window receives :math:`dZ/(k_h k_w)` in the
    backward pass. ``stride`` defaults to ``kernel_size``.
    """

    def forward(self, X):
        if not self.training and len(X) > self.eval_chunk:
            return _in_chunks(self.forward, X, self.eval_chunk)
        X_shape, out_shape, cols = self._unfold(X)
        self._cache = (X_shape, cols.shape) if self.training else None
        return cols.mean(axis=0).reshape(out_shape)

    def backward(self, dZ):
        if self._cache is None:
            raise RuntimeError("AvgPool2D.backward called before forward in training mode")
        X_shape, cols_shape = self._cache
        dZ = _check_grad(dZ, self._out_shape(X_shape), "dZ", "AvgPool2D")
        dcols = np.broadcast_to(dZ.reshape(1, -1) / cols_shape[0], cols_shape)
        return self._fold(dcols, X_shape)


class Flatten(Layer):
    """``(N, C, H, W) -> (N, C*H*W)``, the bridge from convolutional to dense
    layers; backward reshapes the gradient back."""

    def __init__(self):
        self._shape = None

    def forward(self, X):
        X = np.asarray(X)
        if X.ndim < 2:
            raise ValueError(f"Flatten: X must have a batch axis and at least one more, "
                             f"i.e. shape (N, ...), got shape {X.shape}")
        self._shape = X.shape
        return X.reshape(X.shape[0], -1)

    def backward(self, dA):
        if self._shape is None:
            raise RuntimeError("Flatten.backward called before forward")
        dA = _check_grad(dA, (self._shape[0], int(np.prod(self._shape[1:]))), "dA", "Flatten")
        return dA.reshape(self._shape)

    def __repr__(self):
        return "Flatten()"


def conv2d_input_gradient(dZ, W, input_size, stride=1, padding=0):
    r"""The gradient with respect to a convolution's input, computed as a
    *full* convolution of the output gradient with the flipped kernels.

    For stride 1 and no padding, channel :math:`c` of ``dX`` is

    .. math::
        dX_{n,c} = \sum_f \operatorname{full}\big(dZ_{n,f},\;
        \operatorname{rot180}(W_{f,c})\big),

    that is, ``dZ`` padded with :math:`k - 1` zeros on every side and then
    convolved (as in the forward pass) with each kernel rotated by 180
    degrees, the roles of input and output channels swapped. The
    backward pass of a convolution is itself a convolution. A stride
    :math:`s` first spreads ``dZ`` out with :math:`s - 1` zeros between its
    entries (the positions the kernel skipped), and padding :math:`p` crops
    :math:`p` pixels from every side of the result. ``input_size`` is the
    ``(H, W)`` of the input ``X``; ``W`` has shape ``(F, C, k_h, k_w)``.

    This is the same number as :meth:`Conv2D.backward` returns (which uses
    im2col and col2im instead); the tests check both against PyTorch.
    """
    dZ, W = as_float_array(dZ, "dZ", ndim=4), as_float_array(W, "W", ndim=4)
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding", minimum=0)
    H, W_in = _pair(input_size, "input_size")
    N, F, Ho, Wo = dZ.shape
    F_w, C, kh, kw = W.shape
    if F_w != F:
        raise ValueError(f"W must have one filter per channel of dZ: dZ of shape {dZ.shape} "
                         f"has {F} channels, W of shape {W.shape} has {F_w} filters")
    expected = (conv_output_size(H, kh, sh, ph), conv_output_size(W_in, kw, sw, pw))
    if (Ho, Wo) != expected:
        raise ValueError(f"dZ must have spatial size {expected} for input_size {(H, W_in)}, "
                         f"kernel {kh}x{kw}, stride {(sh, sw)} and padding {(ph, pw)}, "
                         f"got dZ of shape {dZ.shape}")
    # 1. spread dZ out: s - 1 zeros between neighbouring entries
    D = np.zeros((N, F, (Ho - 1) * sh + 1, (Wo - 1) * sw + 1))
    D[:, :, ::sh, ::sw] = dZ
    # 2. full convolution: pad by k - 1, slide the rotated kernels, channels swapped
    W_flip = W[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)          # (C, F, kh, kw)
    cols = im2col(D, (kh, kw), padding=(kh - 1, kw - 1))
    Hp, Wp = D.shape[2] + kh - 1, D.shape[3] + kw - 1
    dXp = (W_flip.reshape(C, -1) @ cols).reshape(C, N, Hp, Wp).transpose(1, 0, 2, 3)
    # 3. rows and columns that no window reached get 0; crop the padding
    out = np.zeros((N, C, H + 2 * ph, W_in + 2 * pw))
    out[:, :, :Hp, :Wp] = dXp
    return out[:, :, ph:ph + H, pw:pw + W_in]
