import numpy as np
import pytest
import torch

from nnbook.scratch import SGD, Adam, Momentum, Parameter, RMSprop
from nnbook.scratch.optim import AdamW

CASES = [
    (SGD, dict(lr=0.1), torch.optim.SGD, dict(lr=0.1)),
    (SGD, dict(lr=0.05, weight_decay=0.01), torch.optim.SGD, dict(lr=0.05, weight_decay=0.01)),
    (Momentum, dict(lr=0.05), torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    (SGD, dict(lr=0.05, momentum=0.5, weight_decay=0.1), torch.optim.SGD,
     dict(lr=0.05, momentum=0.5, weight_decay=0.1)),
    (RMSprop, dict(lr=0.01), torch.optim.RMSprop, dict(lr=0.01)),
    (RMSprop, dict(lr=0.003, alpha=0.9, weight_decay=0.01), torch.optim.RMSprop,
     dict(lr=0.003, alpha=0.9, weight_decay=0.01)),
    (Adam, dict(lr=0.01), torch.optim.Adam, dict(lr=0.01)),
    (Adam, dict(lr=0.002, betas=(0.8, 0.99), weight_decay=0.05), torch.optim.Adam,
     dict(lr=0.002, betas=(0.8, 0.99), weight_decay=0.05)),
] + [(AdamW, kw, torch.optim.AdamW, kw)
     for kw in (dict(lr=0.01), dict(lr=0.003, weight_decay=0.5),
                dict(lr=0.02, betas=(0.8, 0.99), weight_decay=0.1))]


@pytest.mark.parametrize("ours,kw,theirs,tkw", CASES,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_matches_torch_step_by_step(ours, kw, theirs, tkw, rng):
    shapes = [(3, 4), (4,), (2, 2)]
    init = [rng.normal(size=s) for s in shapes]
    params = [Parameter(a.copy()) for a in init]
    tparams = [torch.tensor(a.copy(), requires_grad=True) for a in init]
    opt, topt = ours(params, **kw), theirs(tparams, **tkw)
    for step in range(25):
        grads = [rng.normal(size=s) for s in shapes]
        for p, tp, g in zip(params, tparams, grads):
            p.grad[...] = g
            tp.grad = torch.tensor(g)
        opt.step()
        topt.step()
        for p, tp in zip(params, tparams):
            np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12,
                                       err_msg=f"step {step}")


def test_minimizes_a_quadratic():
    for cls, lr in [(SGD, 0.1), (Momentum, 0.05), (RMSprop, 0.05), (Adam, 0.1)]:
        p = Parameter(np.array([3.0, -2.0]))
        opt = cls([p], lr=lr)
        for _ in range(300):
            opt.zero_grad()
            p.grad += 2 * (p.data - np.array([1.0, 1.0]))
            opt.step()
        np.testing.assert_allclose(p.data, [1.0, 1.0], atol=1e-2, err_msg=cls.__name__)


def test_zero_grad():
    p = Parameter(np.ones(3))
    p.grad += 5
    SGD([p]).zero_grad()
    assert not p.grad.any()


def test_bad_arguments():
    p = Parameter(np.ones(2))
    with pytest.raises(ValueError, match="lr must be a positive number, got -0.1"):
        SGD([p], lr=-0.1)
    with pytest.raises(ValueError, match="at least one Parameter"):
        Adam([])
    with pytest.raises(TypeError, match="Parameters with .data and .grad"):
        Adam([np.ones(2)])
    with pytest.raises(ValueError, match="momentum must be in"):
        SGD([p], momentum=1.5)
    with pytest.raises(ValueError, match="betas must be in"):
        Adam([p], betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        RMSprop([p], weight_decay=-1)


def test_adamw_decay_is_not_l2():
    """With a zero loss gradient, AdamW shrinks weights by (1 - lr*wd) per step, while
    Adam's L2 term, divided by its own RMS, moves every weight by about lr."""
    a, b = Parameter(np.array([10.0, 0.1])), Parameter(np.array([10.0, 0.1]))
    adamw, adam_l2 = AdamW([a], lr=0.01, weight_decay=0.1), Adam([b], lr=0.01, weight_decay=0.1)
    adamw.step()
    adam_l2.step()
    np.testing.assert_allclose(a.data, [10.0 * 0.999, 0.1 * 0.999])
    np.testing.assert_allclose(b.data, [10.0 - 0.01, 0.1 - 0.01], rtol=1e-6)
