"""Reproducibility helpers."""

from __future__ import annotations

import os
import random
import sys

import numpy as np


def seed_everything(seed: int = 0) -> np.random.Generator:
    """Seed Python's ``random``, NumPy's global generator and, if it has been
    imported, PyTorch (also switching it to deterministic algorithms), so that
    a page prints the same numbers on every build. Import torch before calling
    this on pages that use it; NumPy-only pages then never pay for importing
    torch. Returns a fresh NumPy ``Generator`` seeded with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(seed)
        torch.use_deterministic_algorithms(True, warn_only=True)
    return np.random.default_rng(seed)
