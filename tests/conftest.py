import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def random_shapes(n=4, seed=0, max_batch=7, max_width=9):
    """A few random (batch, widths...) configurations for parametrized tests."""
    r = np.random.default_rng(seed)
    return [(int(r.integers(1, max_batch)), [int(w) for w in r.integers(1, max_width, size=r.integers(2, 5))])
            for _ in range(n)]
