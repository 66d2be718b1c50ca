import numpy as np
import pytest
import torch

from nnbook.scratch import SGD, Adam, Parameter
from nnbook.scratch.schedules import (Scheduled, constant, cosine_decay, step_decay,
                                      with_warmup)


def torch_lrs(make_scheduler, lr, n_steps):
    """The learning rate torch uses at each of n_steps optimizer steps."""
    p = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(n_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return np.array(lrs)


def ours(schedule, n_steps):
    return np.array([schedule(t) for t in range(n_steps)])


def test_step_decay_matches_steplr():
    expected = torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5), 0.3, 30)
    np.testing.assert_allclose(ours(step_decay(0.3, 7, gamma=0.5), 30), expected, rtol=1e-12)


def test_cosine_matches_cosine_annealing():
    sched = lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=40, eta_min=1e-3)
    expected = torch_lrs(sched, 0.1, 41)
    np.testing.assert_allclose(ours(cosine_decay(0.1, 40, min_lr=1e-3), 41), expected,
                               rtol=1e-9)


def test_warmup_then_cosine_matches_sequential_lr():
    def sched(o):
        warm = torch.optim.lr_scheduler.LinearLR(o, start_factor=0.1, total_iters=5)
        cos = torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=20)
        return torch.optim.lr_scheduler.SequentialLR(o, [warm, cos], milestones=[5])
    expected = torch_lrs(sched, 0.05, 25)
    got = ours(with_warmup(cosine_decay(0.05, 20), 5, start_factor=0.1), 25)
    np.testing.assert_allclose(got, expected, rtol=1e-9)
    assert got[0] == pytest.approx(0.005) and got[5] == pytest.approx(0.05)


def test_scheduled_optimizer_matches_torch_training():
    rng = np.random.default_rng(0)
    init = rng.normal(size=(3, 2))
    p = Parameter(init.copy())
    tp = torch.tensor(init.copy(), requires_grad=True)
    opt = Scheduled(Adam([p], lr=1.0), with_warmup(cosine_decay(0.02, 15), 5, 0.2))
    topt = torch.optim.Adam([tp], lr=0.02)
    warm = torch.optim.lr_scheduler.LinearLR(topt, start_factor=0.2, total_iters=5)
    cos = torch.optim.lr_scheduler.CosineAnnealingLR(topt, T_max=15)
    tsched = torch.optim.lr_scheduler.SequentialLR(topt, [warm, cos], milestones=[5])
    for _ in range(20):
        g = rng.normal(size=(3, 2))
        p.grad[...] = g
        tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        tsched.step()
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)
    assert len(opt.lrs) == 20 and opt.optimizer.lr == opt.lrs[-1]


def test_constant_schedule_changes_nothing():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    plain, scheduled = SGD([a], lr=0.1), Scheduled(SGD([b], lr=5.0), constant(0.1))
    for _ in range(3):
        a.grad[...] = b.grad[...] = np.array([1.0, -2.0])
        plain.step()
        scheduled.step()
    np.testing.assert_array_equal(a.data, b.data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="step_size must be an integer >= 1, got 0"):
        step_decay(0.1, 0)
    with pytest.raises(ValueError, match="gamma must be in"):
        step_decay(0.1, 5, gamma=1.5)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        cosine_decay(-0.1, 10)
    with pytest.raises(ValueError, match="min_lr must be in"):
        cosine_decay(0.1, 10, min_lr=0.2)
    with pytest.raises(ValueError, match="warmup_steps must be an integer"):
        with_warmup(constant(0.1), 2.5)
    with pytest.raises(TypeError, match="schedule must be a function"):
        with_warmup(0.1, 5)
    with pytest.raises(TypeError, match="optimizer must be an Optimizer"):
        Scheduled(object(), constant(0.1))
    p = Parameter(np.ones(1))
    with pytest.raises(ValueError, match="learning rate of 0.0 at step 0"):
        Scheduled(SGD([p]), lambda t: 0.0).step()
