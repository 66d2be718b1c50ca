"""Optimizers, step for step the same as their ``torch.optim`` namesakes.

Each optimizer holds a list of :class:`~nnbook.scratch.layers.Parameter` and
updates ``p.data`` in place from ``p.grad`` when :meth:`step` is called.
Notation: :math:`g_t` is the gradient at step :math:`t`, :math:`\\eta` the
learning rate, :math:`\\lambda` the weight decay (L2 penalty
:math:`\\tfrac{\\lambda}{2}\\lVert\\theta\\rVert^2`, added to the gradient as
:math:`\\lambda\\theta`).
"""

from __future__ import annotations

import numpy as np

from ._validate import check_positive


class Optimizer:
    def __init__(self, params, lr: float, weight_decay: float = 0.0):
        self.params = list(params)
        if not self.params:
            raise ValueError("params must contain at least one Parameter, got an empty list")
        for p in self.params:
            if not (hasattr(p, "data") and hasattr(p, "grad")):
                raise TypeError(f"params must be Parameters with .data and .grad, got {p!r}")
        self.lr = check_positive(lr, "lr")
        if weight_decay < 0:
            raise ValueError(f"weight_decay must be >= 0, got {weight_decay!r}")
        self.weight_decay = float(weight_decay)
        self.t = 0
        self.state = [{} for _ in self.params]

    def zero_grad(self):
        for p in self.params:
            p.grad[...] = 0.0

    def _grad(self, p):
        return p.grad + self.weight_decay * p.data if self.weight_decay else p.grad

    def step(self):
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
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)

    def _update(self, p, g, state):
        if self.momentum:
            v = state.get("v")
            v = g.copy() if v is None else self.momentum * v + g
            state["v"] = v
            g = v
        p.data -= self.lr * g


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
        self.alpha, self.eps = float(alpha), float(eps)

    def _update(self, p, g, state):
        s = state.setdefault("s", np.zeros_like(p.data))
        s *= self.alpha
        s += (1 - self.alpha) * g * g
        p.data -= self.lr * g / (np.sqrt(s) + self.eps)


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
        self.beta1, self.beta2 = map(float, betas)
        if not (0 <= self.beta1 < 1 and 0 <= self.beta2 < 1):
            raise ValueError(f"betas must be in [0, 1), got {tuple(betas)!r}")
        self.eps = float(eps)

    def _update(self, p, g, state):
        m = state.setdefault("m", np.zeros_like(p.data))
        v = state.setdefault("v", np.zeros_like(p.data))
        m *= self.beta1
        m += (1 - self.beta1) * g
        v *= self.beta2
        v += (1 - self.beta2) * g * g
        m_hat = m / (1 - self.beta1 ** self.t)
        v_hat = v / (1 - self.beta2 ** self.t)
        p.data -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "rmsprop": RMSprop, "adam": Adam}
