"""Learning-rate schedules: the learning rate as a function of the step.

A schedule is a function ``lr(t)`` of the optimizer step ``t = 0, 1, 2, ...``
(the learning rate used by step ``t + 1``). :class:`Scheduled` wraps any
optimizer of :mod:`nnbook.scratch.optim` and sets its ``lr`` from the
schedule before every step, so ``MLP.fit`` can train with it unchanged.

The schedules follow ``torch.optim.lr_scheduler`` (the tests compare them
step by step): :func:`step_decay` is ``StepLR``, :func:`cosine_decay` is
``CosineAnnealingLR``, and :func:`with_warmup` is ``LinearLR`` followed by
another schedule (``SequentialLR``).
"""

from __future__ import annotations

import math

import numpy as np

from ._validate import check_positive

__all__ = ["Scheduled", "constant", "cosine_decay", "step_decay", "with_warmup"]


def _check_steps(value, name: str, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def constant(lr: float):
    r""":math:`\eta_t = \eta` at every step."""
    lr = check_positive(lr, "lr")
    return lambda t: lr


def step_decay(lr: float, step_size: int, gamma: float = 0.1):
    r"""Multiply the rate by ``gamma`` every ``step_size`` steps (``StepLR``).

    .. math:: \eta_t = \eta\,\gamma^{\lfloor t / s \rfloor}
    """
    lr = check_positive(lr, "lr")
    step_size = _check_steps(step_size, "step_size")
    if not 0 < gamma <= 1:
        raise ValueError(f"gamma must be in (0, 1], got {gamma!r}")
    return lambda t: lr * gamma ** (t // step_size)


def cosine_decay(lr: float, total_steps: int, min_lr: float = 0.0):
    r"""Half a cosine from ``lr`` down to ``min_lr`` over ``total_steps`` steps.

    .. math:: \eta_t = \eta_{\min} + \tfrac12(\eta - \eta_{\min})(1 + \cos(\pi t / T))

    for :math:`t \le T`, then :math:`\eta_{\min}` (``CosineAnnealingLR``).
    """
    lr = check_positive(lr, "lr")
    total_steps = _check_steps(total_steps, "total_steps")
    if not 0 <= min_lr <= lr:
        raise ValueError(f"min_lr must be in [0, lr={lr}], got {min_lr!r}")

    def rate(t):
        progress = min(t, total_steps) / total_steps          # 0 at the start, 1 at T
        return min_lr + 0.5 * (lr - min_lr) * (1 + math.cos(math.pi * progress))
    return rate


def with_warmup(schedule, warmup_steps: int, start_factor: float = 0.01):
    r"""Linear warm-up for ``warmup_steps`` steps, then ``schedule`` from its step 0.

    During warm-up :math:`\eta_t = \eta_0\,(f + (1 - f)\,t / w)`, with
    :math:`\eta_0` = ``schedule(0)``, :math:`f` = ``start_factor`` and
    :math:`w` = ``warmup_steps``; afterwards :math:`\eta_t` = ``schedule(t - w)``
    (``LinearLR`` then ``schedule`` in a ``SequentialLR``).
    """
    if not callable(schedule):
        raise TypeError(f"schedule must be a function of the step, got {schedule!r}")
    warmup_steps = _check_steps(warmup_steps, "warmup_steps")
    if not 0 < start_factor <= 1:
        raise ValueError(f"start_factor must be in (0, 1], got {start_factor!r}")
    peak = float(schedule(0))

    def rate(t):
        if t < warmup_steps:
            return peak * (start_factor + (1 - start_factor) * t / warmup_steps)
        return float(schedule(t - warmup_steps))
    return rate


class Scheduled:
    """An optimizer whose learning rate follows ``schedule``.

    ``Scheduled(Adam(params), cosine_decay(0.01, 1000))`` behaves like the
    Adam optimizer, except that step ``t`` (counting from 0) uses the
    learning rate ``schedule(t)``. ``lrs`` records the rates used.
    """

    def __init__(self, optimizer, schedule):
        if not (hasattr(optimizer, "step") and hasattr(optimizer, "lr")):
            raise TypeError(f"optimizer must be an Optimizer with .step() and .lr, "
                            f"got {optimizer!r}")
        if not callable(schedule):
            raise TypeError(f"schedule must be a function of the step, got {schedule!r}")
        self.optimizer = optimizer
        self.schedule = schedule
        self.lrs: list[float] = []

    @property
    def params(self):
        """The wrapped optimizer's parameters."""
        return self.optimizer.params

    def zero_grad(self):
        """Zero the wrapped optimizer's gradients."""
        self.optimizer.zero_grad()

    def step(self):
        """Set the learning rate from the schedule, then take the wrapped optimizer's step."""
        lr = float(self.schedule(len(self.lrs)))
        if not lr > 0:
            raise ValueError(f"the schedule gave a learning rate of {lr} at step "
                             f"{len(self.lrs)}; it must stay positive")
        self.optimizer.lr = lr
        self.lrs.append(lr)
        self.optimizer.step()
