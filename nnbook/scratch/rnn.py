r"""Recurrent layers with hand-written backpropagation through time (BPTT).

Notation (the book's): a batch of sequences is an array ``X`` of shape
``(N, T, D)`` (``batch_first``, like ``nn.RNN(..., batch_first=True)``): ``N``
sequences of ``T`` time steps, each step a vector of ``D`` features. The
input at step :math:`t` is the matrix :math:`x_t` = ``X[:, t]`` of shape
``(N, D)``; the hidden state :math:`h_t` has shape ``(N, H)``.

Every layer here is one *cell*, a function :math:`(x_t, h_{t-1}) \mapsto h_t`
with weights shared by all time steps, applied in a loop over time
(:meth:`Recurrent.forward`). Backpropagation through time runs the same loop
backwards (:meth:`Recurrent.backward`): the gradient that reaches
:math:`h_t` is the sum of what the output at step :math:`t` sends and what
step :math:`t+1` sends back through :math:`h_t`.

Weights are stored the way the book multiplies them (``x @ W``), i.e.
transposed with respect to PyTorch's ``weight_ih_l0``; gates are stacked in
PyTorch's order (LSTM: input, forget, cell, output; GRU: reset, update,
new), so ``W_x == rnn.weight_ih_l0.T``. Initialisation follows PyTorch:
every weight and bias is drawn from :math:`\mathcal U(-1/\sqrt H, 1/\sqrt H)`.
"""

from __future__ import annotations

import numpy as np

from ._validate import as_float_array, make_rng
from .activations import sigmoid
from .layers import Layer, Parameter


def _check_size(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _uniform(rng, shape, bound):
    return rng.uniform(-bound, bound, size=shape)


class Recurrent(Layer):
    r"""A cell applied over time; subclasses define :meth:`step` and
    :meth:`step_backward`.

    The state is a tuple of ``(N, H)`` arrays whose first entry is the hidden
    state :math:`h_t` (an LSTM adds its cell state :math:`c_t`).

    ``forward(X, state=None)`` returns ``(H_seq, last)``: all hidden states,
    shape ``(N, T, H)``, and the final state (an array, or ``(h_T, c_T)``
    for an LSTM). ``backward(dH_seq, d_last=None)`` takes
    :math:`\partial L/\partial h_t` for every step (and optionally for the
    final state), accumulates the parameter gradients in ``Parameter.grad``
    and returns ``(dX, d_state0)``. After ``backward``, ``grad_hidden_``
    holds the total gradient :math:`\partial L/\partial h_t`, shape
    ``(N, T, H)``: it shows how much each time step receives.
    """

    n_states = 1
    n_gates = 1

    def __init__(self, input_size: int, hidden_size: int, seed=None):
        self.input_size = _check_size(input_size, "input_size")
        self.hidden_size = _check_size(hidden_size, "hidden_size")
        rng = make_rng(seed)
        bound = 1.0 / np.sqrt(self.hidden_size)
        D, H, G = self.input_size, self.hidden_size, self.n_gates
        self.W_x = Parameter(_uniform(rng, (D, G * H), bound), "W_x")
        self.W_h = Parameter(_uniform(rng, (H, G * H), bound), "W_h")
        self.b = Parameter(_uniform(rng, (G * H,), bound), "b")
        self._init_extra(rng, bound)
        self._caches = None
        self._X_shape = None
        self.grad_hidden_ = None

    def _init_extra(self, rng, bound):
        """Hook for parameters beyond ``W_x``, ``W_h``, ``b`` (the GRU's ``b_h``)."""

    def parameters(self):
        return [self.W_x, self.W_h, self.b]

    # -- validation -----------------------------------------------------------
    def _check_input(self, X):
        X = as_float_array(X, "X", ndim=3)
        if X.shape[2] != self.input_size:
            raise ValueError(f"X must have shape (N, T, {self.input_size}) "
                             f"(input_size={self.input_size}), got shape {X.shape}")
        if X.shape[0] == 0 or X.shape[1] == 0:
            raise ValueError(f"X must hold at least one sequence of at least one step, "
                             f"got shape {X.shape}")
        return X

    def _check_state(self, state, N, name):
        """Turn ``state`` (``None``, an array, or a tuple of arrays) into a tuple."""
        H = self.hidden_size
        if state is None:
            return tuple(np.zeros((N, H)) for _ in range(self.n_states))
        parts = (state,) if self.n_states == 1 else tuple(state)
        if len(parts) != self.n_states:
            raise ValueError(f"{name} must be a tuple of {self.n_states} arrays, got {len(parts)}")
        out = []
        for i, part in enumerate(parts):
            label = name if self.n_states == 1 else f"{name}[{i}]"
            arr = as_float_array(part, label, ndim=2)
            if arr.shape != (N, H):
                raise ValueError(f"{label} must have shape ({N}, {H}), got {arr.shape}")
            out.append(arr)
        return tuple(out)

    def _pack(self, state):
        return state[0] if self.n_states == 1 else tuple(state)

    # -- the loop over time -----------------------------------------------------
    def forward(self, X, state=None):
        r"""Run the cell over ``X`` (N, T, D) from ``state`` (zeros by default)."""
        X = self._check_input(X)
        N, T, _ = X.shape
        state = self._check_state(state, N, "state")
        H_seq = np.empty((N, T, self.hidden_size))
        caches = []
        for t in range(T):
            state, cache = self.step(X[:, t], state)
            H_seq[:, t] = state[0]
            caches.append(cache)
        self._caches, self._X_shape = caches, X.shape
        return H_seq, self._pack(state)

    def backward(self, dH_seq, d_last=None):
        r"""Backpropagation through time.

        For :math:`t = T, \dots, 1`: the gradient reaching :math:`h_t` is
        :math:`\partial L/\partial h_t = \texttt{dH\_seq}[t] + (\text{what step } t+1
        \text{ sent back})`; the cell's :meth:`step_backward` turns it into
        gradients for :math:`x_t`, for the shared weights (accumulated, since
        every step uses them) and for :math:`h_{t-1}`.
        """
        if self._caches is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward")
        N, T, D = self._X_shape
        dH_seq = as_float_array(dH_seq, "dH_seq", ndim=3)
        if dH_seq.shape != (N, T, self.hidden_size):
            raise ValueError(f"dH_seq must have shape {(N, T, self.hidden_size)} (the shape "
                             f"of the forward output), got {dH_seq.shape}")
        d_state = self._check_state(d_last, N, "d_last")
        dX = np.empty((N, T, D))
        self.grad_hidden_ = np.empty((N, T, self.hidden_size))
        for t in reversed(range(T)):
            dh = dH_seq[:, t] + d_state[0]    # from the output at t + from step t+1
            d_state = (dh,) + d_state[1:]
            self.grad_hidden_[:, t] = dh
            dX[:, t], d_state = self.step_backward(d_state, self._caches[t])
        return dX, self._pack(d_state)

    def step(self, x_t, state):
        """One time step: the new state from input ``x_t`` and ``state``
        (subclasses implement it)."""
        raise NotImplementedError

    def step_backward(self, d_state, cache):
        """Back-propagate one time step from ``d_state`` and the step's ``cache``
        (subclasses implement it)."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}({self.input_size} -> {self.hidden_size})"


class RNN(Recurrent):
    r"""The vanilla (Elman) recurrent layer with a tanh non-linearity:

    .. math::
        Z_t = x_t W_{xh} + h_{t-1} W_{hh} + b,\qquad h_t = \tanh(Z_t).

    ``W_xh`` (D, H), ``W_hh`` (H, H) and ``b`` (H,) are the same at every
    step. PyTorch's ``nn.RNN`` has two biases; ``b`` is their sum.
    """

    def __init__(self, input_size: int, hidden_size: int, seed=None):
        super().__init__(input_size, hidden_size, seed)
        self.W_x.name, self.W_h.name = "W_xh", "W_hh"

    @property
    def W_xh(self):
        """The input-to-hidden weights ``W_x`` (the name used in the book's equations)."""
        return self.W_x

    @property
    def W_hh(self):
        """The hidden-to-hidden weights ``W_h`` (the name used in the book's equations)."""
        return self.W_h

    def step(self, x_t, state):
        """One time step: :math:`h_t = \\tanh(x_t W_{xh} + h_{t-1} W_{hh} + b)`."""
        (h_prev,) = state
        h_t = np.tanh(x_t @ self.W_xh.data + h_prev @ self.W_hh.data + self.b.data)
        return (h_t,), (x_t, h_prev, h_t)

    def step_backward(self, d_state, cache):
        r"""Given :math:`dh_t = \partial L/\partial h_t`:

        .. math::
            dZ_t = dh_t \odot (1 - h_t^2),\quad
            dW_{xh} \mathrel{+}= x_t^\top dZ_t,\quad
            dW_{hh} \mathrel{+}= h_{t-1}^\top dZ_t,\quad
            db \mathrel{+}= \textstyle\sum_n dZ_t,\\
            dx_t = dZ_t W_{xh}^\top,\quad dh_{t-1} = dZ_t W_{hh}^\top .
        """
        (dh_t,) = d_state
        x_t, h_prev, h_t = cache
        dZ = dh_t * (1.0 - h_t ** 2)
        self.W_xh.grad += x_t.T @ dZ
        self.W_hh.grad += h_prev.T @ dZ
        self.b.grad += dZ.sum(axis=0)
        dx_t = dZ @ self.W_xh.data.T
        dh_prev = dZ @ self.W_hh.data.T
        return dx_t, (dh_prev,)


class LSTM(Recurrent):
    r"""Long short-term memory (Hochreiter and Schmidhuber, 1997), as in
    ``nn.LSTM``. Four gates from one affine map, stacked in the order
    input, forget, cell, output:

    .. math::
        [A^i, A^f, A^g, A^o] = x_t W_x + h_{t-1} W_h + b,\\
        i_t = \sigma(A^i),\; f_t = \sigma(A^f),\; g_t = \tanh(A^g),\;
        o_t = \sigma(A^o),\\
        c_t = f_t \odot c_{t-1} + i_t \odot g_t,\qquad
        h_t = o_t \odot \tanh(c_t).

    ``W_x`` (D, 4H), ``W_h`` (H, 4H), ``b`` (4H,); the state is ``(h, c)``.
    """

    n_states = 2
    n_gates = 4

    def step(self, x_t, state):
        """One time step of the LSTM cell (equations in the class docstring)."""
        h_prev, c_prev = state
        H = self.hidden_size
        A = x_t @ self.W_x.data + h_prev @ self.W_h.data + self.b.data
        i = sigmoid(A[:, :H])           # input gate: how much new content to write
        f = sigmoid(A[:, H:2 * H])      # forget gate: how much old memory to keep
        g = np.tanh(A[:, 2 * H:3 * H])  # candidate content
        o = sigmoid(A[:, 3 * H:])       # output gate: how much memory to show
        c_t = f * c_prev + i * g
        tanh_c = np.tanh(c_t)
        h_t = o * tanh_c
        return (h_t, c_t), (x_t, h_prev, c_prev, i, f, g, o, tanh_c)

    def step_backward(self, d_state, cache):
        r"""Given :math:`dh_t` and :math:`dc_t` (from step :math:`t+1`):

        .. math::
            do_t = dh_t \odot \tanh c_t,\quad
            dc_t \mathrel{+}= dh_t \odot o_t \odot (1-\tanh^2 c_t),\\
            di_t = dc_t \odot g_t,\quad df_t = dc_t \odot c_{t-1},\quad
            dg_t = dc_t \odot i_t,\quad dc_{t-1} = dc_t \odot f_t,

        then through each gate's non-linearity to :math:`dA`, and
        :math:`dx_t = dA\,W_x^\top`, :math:`dh_{t-1} = dA\,W_h^\top`.
        The path :math:`dc_{t-1} = dc_t \odot f_t` has no weight matrix and
        no squashing derivative: with :math:`f_t \approx 1` the gradient
        flows back many steps unchanged.
        """
        dh_t, dc_t = d_state
        x_t, h_prev, c_prev, i, f, g, o, tanh_c = cache
        do = dh_t * tanh_c
        dc = dc_t + dh_t * o * (1.0 - tanh_c ** 2)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dc_prev = dc * f
        dA = np.concatenate([di * i * (1 - i), df * f * (1 - f),
                             dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
        self.W_x.grad += x_t.T @ dA
        self.W_h.grad += h_prev.T @ dA
        self.b.grad += dA.sum(axis=0)
        return dA @ self.W_x.data.T, (dA @ self.W_h.data.T, dc_prev)


class GRU(Recurrent):
    r"""Gated recurrent unit (Cho et al., 2014), as in ``nn.GRU``. Gates in
    the order reset, update, new; the input and the hidden state have
    separate biases ``b_x`` and ``b_h`` because the reset gate multiplies
    the hidden part of the candidate, bias included:

    .. math::
        r_t = \sigma(x_t W_x^r + b_x^r + h_{t-1} W_h^r + b_h^r),\\
        z_t = \sigma(x_t W_x^z + b_x^z + h_{t-1} W_h^z + b_h^z),\\
        n_t = \tanh\big(x_t W_x^n + b_x^n + r_t \odot (h_{t-1} W_h^n + b_h^n)\big),\\
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}.

    ``W_x`` (D, 3H), ``W_h`` (H, 3H), ``b_x`` and ``b_h`` (3H,).
    """

    n_gates = 3

    def _init_extra(self, rng, bound):
        self.b.name = "b_x"
        self.b_h = Parameter(_uniform(rng, (3 * self.hidden_size,), bound), "b_h")

    @property
    def b_x(self):
        """The input-side bias ``b``."""
        return self.b

    def parameters(self):
        return [self.W_x, self.W_h, self.b_x, self.b_h]

    def step(self, x_t, state):
        """One time step of the GRU cell (equations in the class docstring)."""
        (h_prev,) = state
        H = self.hidden_size
        Ax = x_t @ self.W_x.data + self.b_x.data
        Ah = h_prev @ self.W_h.data + self.b_h.data
        r = sigmoid(Ax[:, :H] + Ah[:, :H])               # reset gate
        z = sigmoid(Ax[:, H:2 * H] + Ah[:, H:2 * H])     # update gate
        n = np.tanh(Ax[:, 2 * H:] + r * Ah[:, 2 * H:])   # candidate state
        h_t = (1 - z) * n + z * h_prev
        return (h_t,), (x_t, h_prev, r, z, n, Ah[:, 2 * H:])

    def step_backward(self, d_state, cache):
        r"""Given :math:`dh_t`: :math:`dn = dh_t \odot (1-z_t)`,
        :math:`dz = dh_t \odot (h_{t-1} - n_t)`, the direct path
        :math:`dh_{t-1} \mathrel{+}= dh_t \odot z_t`, then through the
        candidate and the gates to the two affine maps."""
        (dh_t,) = d_state
        x_t, h_prev, r, z, n, Ah_n = cache
        dn = dh_t * (1 - z)
        dz = dh_t * (h_prev - n)
        dAn = dn * (1 - n ** 2)                 # gradient of the candidate's pre-activation
        dr = dAn * Ah_n
        dAr = dr * r * (1 - r)
        dAz = dz * z * (1 - z)
        dAx = np.concatenate([dAr, dAz, dAn], axis=1)
        dAh = np.concatenate([dAr, dAz, dAn * r], axis=1)
        self.W_x.grad += x_t.T @ dAx
        self.b_x.grad += dAx.sum(axis=0)
        self.W_h.grad += h_prev.T @ dAh
        self.b_h.grad += dAh.sum(axis=0)
        dh_prev = dh_t * z + dAh @ self.W_h.data.T
        return dAx @ self.W_x.data.T, (dh_prev,)


def global_grad_norm(params) -> float:
    r"""The norm of all gradients stacked into one vector,
    :math:`\lVert g \rVert = \sqrt{\sum_p \sum_j g_{p,j}^2}`."""
    params = list(params)
    for p in params:
        if not hasattr(p, "grad"):
            raise TypeError(f"params must be Parameters with a .grad, got {p!r}")
    return float(np.sqrt(sum(float(np.sum(p.grad ** 2)) for p in params)))


def clip_grad_norm(params, max_norm: float, eps: float = 1e-6) -> float:
    r"""Rescale the gradients in place so that their global norm is at most
    ``max_norm``, as ``torch.nn.utils.clip_grad_norm_`` does:

    .. math::
        g \leftarrow g \cdot \min\Big(1, \frac{\texttt{max\_norm}}{\lVert g\rVert + \epsilon}\Big).

    The direction of the update is kept; only its length is capped. Returns
    the norm before clipping.
    """
    params = list(params)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"params must be nnbook.scratch Parameters, got {type(p).__name__}")
    if (isinstance(max_norm, bool) or not np.isscalar(max_norm)
            or not np.isfinite(max_norm) or max_norm <= 0):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}")
    total = global_grad_norm(params)
    if not np.isfinite(total):
        raise ValueError(f"the gradients contain NaN or infinite values (norm {total})")
    scale = min(1.0, float(max_norm) / (total + eps))
    for p in params:
        p.grad *= scale
    return total


class LastHidden(Layer):
    r"""Many-to-one adapter: run a recurrent layer over ``X`` (N, T, D) and
    return only its last hidden state :math:`h_T` (N, H), so that it can be
    followed by ``Dense`` layers in a :class:`~nnbook.scratch.Sequential`.
    ``backward`` sends :math:`\partial L/\partial h_T` back through time and
    returns :math:`\partial L/\partial X`."""

    def __init__(self, recurrent: Recurrent):
        if not isinstance(recurrent, Recurrent):
            raise TypeError(f"recurrent must be an RNN, LSTM or GRU layer, "
                            f"got {type(recurrent).__name__}")
        self.recurrent = recurrent
        self._shape = None

    def parameters(self):
        return self.recurrent.parameters()

    def forward(self, X):
        H_seq, last = self.recurrent.forward(X)
        self._shape = H_seq.shape
        return H_seq[:, -1]

    def backward(self, dh_T):
        if self._shape is None:
            raise RuntimeError("LastHidden.backward called before forward")
        d_last = dh_T
        if self.recurrent.n_states > 1:  # no gradient arrives at the final cell state
            d_last = (dh_T,) + (np.zeros_like(dh_T),) * (self.recurrent.n_states - 1)
        dX, _ = self.recurrent.backward(np.zeros(self._shape), d_last)
        return dX

    def __repr__(self):
        return f"LastHidden({self.recurrent!r})"
