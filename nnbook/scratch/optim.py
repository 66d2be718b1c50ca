"""Optimizers, step for step the same as their ``torch.optim`` namesakes.

Each optimizer holds a list of :class:`~nnbook.scratch.layers.Parameter` and
updates ``p.data`` in place from ``p.grad`` when :meth:`Optimizer.step` is called.
Notation: :math:`g_t` is the gradient at step :math:`t`, :math:`\\eta` the
learning rate, :math:`\\lambda` the weight decay (L2 penalty
:math:`\\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2`, added to the gradient as
:math:`\\lambda\\theta`).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_number, check_positive


def _buffer(state, key, like):
    """``state[key]``, a work array shaped and typed like ``like``: allocated on
    the first step (and again only if the parameter's dtype changes), so that
    later steps compute in place without temporaries."""
    buf = state.get(key)
    if buf is None or buf.shape != like.shape or buf.dtype != like.dtype:
        buf = state[key] = np.zeros_like(like)
    return buf


class Optimizer:
    """Base class: holds ``params`` (a list of ``Parameter``) and updates them in
    place from their ``.grad`` on each :meth:`Optimizer.step`.

    Subclasses implement ``_update(p, g, state)``. Every update runs in place
    on the parameter's dtype (float32 parameters stay float32), using work
    arrays kept in ``state``: a step allocates no temporaries.
    """

    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        if isinstance(params, np.ndarray) or not hasattr(params, "__iter__"):
            raise TypeError("params must be an iterable of Parameters (model.parameters()), "
                            f"got {type(params).__name__}")
        self.params = list(params)
        if not self.params:
            raise ValueError("params must contain at least one Parameter, got an empty list")
        for p in self.params:
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError(f"params must be Parameters with .data and .grad, got {p!r}")
        if len({id(p) for p in self.params}) != len(self.params):
            raise ValueError("params must not contain the same Parameter twice")
        self.lr = check_positive(lr, "lr")
        self.weight_decay = check_number(weight_decay, "weight_decay", low=0)
        self.t = 0
        self.state = [{} for _ in self.params]
        self._decay_buffers: dict[int, np.ndarray] = {}

    def zero_grad(self):
        """Set every parameter's gradient to zero (in place)."""
        for p in self.params:
            p.grad[...] = 0.0

    def _grad(self, p):
        """The gradient the update uses: ``p.grad``, plus ``weight_decay * p.data``
        (computed into a work array) when there is weight decay."""
        if not self.weight_decay:
            return p.grad
        buf = _buffer(self._decay_buffers, id(p), p.data)
        np.multiply(p.data, self.weight_decay, out=buf)
        buf += p.grad
        return buf

    def step(self):
        """One update of every parameter from its current ``.grad``."""
        self.t += 1
        for p, state in zip(self.params, self.state):
            self._update(p, self._grad(p), state)

    def _update(self, p, g, state):
        raise NotImplementedError


class SGD(Optimizer):
    r"""Stochastic gradient descent, with optional (heavy-ball) momentum.

    .. math::
        v_t = \mu v_{t-1} + g_t \;(v_1 = g_1),\qquad \theta_t = \theta_{t-1} - \eta v_t

    With ``momentum=0`` this is plain :math:`\theta \leftarrow \theta - \eta g`.
    """

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.0,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.momentum = check_number(momentum, "momentum", low=0, high=1, high_open=True)

    def _update(self, p, g, state):
        if self.momentum:
            v = state.get("v")
            if v is None or v.dtype != p.data.dtype:
                v = state["v"] = np.array(g, dtype=p.data.dtype)      # v_1 = g_1
            else:
                v *= self.momentum
                v += g
            g = v
        buf = _buffer(state, "work", p.data)
        np.multiply(g, self.lr, out=buf)
        p.data -= buf


class Momentum(SGD):
    """SGD with momentum :math:`\\mu = 0.9` by default."""

    def __init__(self, params, lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, momentum, weight_decay)


class RMSprop(Optimizer):
    r"""RMSprop (Hinton, 2012): scale each step by a running RMS of the gradient.

    .. math::
        s_t = \alpha s_{t-1} + (1-\alpha) g_t^2,\qquad
        \theta_t = \theta_{t-1} - \eta\, g_t / (\sqrt{s_t} + \epsilon)
    """

    def __init__(self, params, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        self.alpha = check_number(alpha, "alpha", low=0, high=1, high_open=True)
        self.eps = check_positive(eps, "eps")

    def _update(self, p, g, state):
        s = _buffer(state, "s", p.data)
        buf = _buffer(state, "work", p.data)
        denom = _buffer(state, "denom", p.data)
        s *= self.alpha
        np.multiply(g, 1 - self.alpha, out=buf)
        buf *= g
        s += buf                                    # s = alpha s + (1 - alpha) g^2
        np.sqrt(s, out=denom)
        denom += self.eps
        np.multiply(g, self.lr, out=buf)
        buf /= denom
        p.data -= buf                               # theta -= lr g / (sqrt(s) + eps)


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015): momentum plus RMS scaling, bias-corrected.

    .. math::
        m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t,\quad
        v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2,\\
        \hat m_t = m_t / (1-\beta_1^t),\quad \hat v_t = v_t / (1-\beta_2^t),\quad
        \theta_t = \theta_{t-1} - \eta\, \hat m_t / (\sqrt{\hat v_t} + \epsilon)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0):
        super().__init__(params, lr, weight_decay)
        if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
            raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
        self.beta1, self.beta2 = (check_number(b, f"betas[{i}]") for i, b in enumerate(betas))
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {tuple(betas)!r}")
        self.eps = check_positive(eps, "eps")

    def _update(self, p, g, state):
        m = _buffer(state, "m", p.data)
        v = _buffer(state, "v", p.data)
        buf = _buffer(state, "work", p.data)
        denom = _buffer(state, "denom", p.data)
        m *= self.beta1
        np.multiply(g, 1 - self.beta1, out=buf)
        m += buf                                    # m = beta1 m + (1 - beta1) g
        v *= self.beta2
        np.multiply(g, 1 - self.beta2, out=buf)
        buf *= g
        v += buf                                    # v = beta2 v + (1 - beta2) g^2
        np.divide(m, 1 - self.beta1 ** self.t, out=buf)
        buf *= self.lr                              # lr * m_hat
        np.divide(v, 1 - self.beta2 ** self.t, out=denom)
        np.sqrt(denom, out=denom)
        denom += self.eps                           # sqrt(v_hat) + eps
        buf /= denom
        p.data -= buf                               # theta -= lr m_hat / (sqrt(v_hat) + eps)


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019): Adam with *decoupled* weight decay.

    .. math::
        \theta \leftarrow (1 - \eta\lambda)\,\theta, \text{ then the Adam step on } g_t

    ``Adam(weight_decay=lambda)`` adds :math:`\lambda\theta` to the gradient
    (an L2 penalty), so the decay is divided by :math:`\sqrt{\hat v}` like the
    rest of the step; AdamW shrinks every weight by the same factor instead.
    The default ``weight_decay=0.01`` is ``torch.optim.AdamW``'s.
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.01):
        super().__init__(params, lr, betas, eps, weight_decay)

    def _grad(self, p):
        return p.grad                   # no L2 term: the decay is applied in _update

    def _update(self, p, g, state):
        if self.weight_decay:
            p.data *= 1.0 - self.lr * self.weight_decay
        super()._update(p, g, state)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam,
              "adamw": AdamW}
