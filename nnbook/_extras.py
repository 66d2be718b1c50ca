"""Optional dependencies: which extra of ``pip install "nnbook[...]"`` brings each.

``pip install nnbook`` installs NumPy only, enough for :mod:`nnbook.scratch`,
:mod:`nnbook.claims`, :mod:`nnbook.utils` and :mod:`nnbook.exercises`. The
rest needs an extra; importing it without one raises :class:`MissingExtraError`
(an ``ImportError``) that names the command to run.
"""

from __future__ import annotations

import importlib

#: extra -> the modules it provides (the distributions are in pyproject.toml)
EXTRAS = {
    "torch": ("torch", "torchvision"),
    "data": ("sklearn", "mlxtend", "pandas", "pycounts_tb"),
    "plot": ("matplotlib",),
}


class MissingExtraError(ModuleNotFoundError):
    """An optional dependency is not installed; the message says which extra to install."""


def require(module: str, extra: str, feature: str):
    """Import and return ``module``, or raise :class:`MissingExtraError` saying that
    ``feature`` needs ``pip install "nnbook[extra]"``."""
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        top = module.split(".")[0]
        if exc.name is not None and exc.name.split(".")[0] != top:
            raise                         # the module exists but one of *its* imports failed
        raise MissingExtraError(
            f"{feature} needs {top}, which is not installed: "
            f'pip install "nnbook[{extra}]"', name=top) from exc
