"""The smooth activations of current networks: GELU, SiLU (Swish) and SwiGLU.

ReLU's successors in Transformers keep its shape for large inputs (the
identity for large positive ``z``, zero for large negative ``z``) but bend
smoothly through the origin and dip slightly below zero:

- GELU (Hendrycks and Gimpel, 2016): :math:`z\\,\\Phi(z)`, with :math:`\\Phi` the
  standard normal distribution function; used in GPT-1/2/3 and BERT.
- SiLU (Hendrycks and Gimpel, 2016; Elfwing, Uchibe and Doya, 2018), found
  again by automated search as Swish (Ramachandran, Zoph and Le, 2017):
  :math:`z\\,\\sigma(z)`.
- SwiGLU (Shazeer, 2020) is not an elementwise function but a gated layer,
  :math:`\\mathrm{SiLU}(xW) \\odot (xV)`, a variant of the gated linear unit
  of Dauphin et al. (2017); used in PaLM and LLaMA.

NumPy only. Each elementwise function ``f`` has a partner ``f_derivative``.
"""

from __future__ import annotations

import math

import numpy as np

from .activations import sigmoid

_erf = np.vectorize(math.erf, otypes=[float])


def _real_array(z, name: str = "z") -> np.ndarray:
    arr = np.asarray(z)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must be a real number or an array of real numbers, "
                        f"got {type(z).__name__} with dtype {arr.dtype}")
    return arr.astype(float)


def standard_normal_cdf(z):
    r""":math:`\Phi(z) = \tfrac12\,(1 + \mathrm{erf}(z/\sqrt2))`."""
    return 0.5 * (1.0 + _erf(_real_array(z) / math.sqrt(2.0)))


def gelu(z):
    r"""Gaussian error linear unit :math:`\mathrm{GELU}(z) = z\,\Phi(z)` (exact, as
    PyTorch's ``F.gelu`` computes it by default)."""
    z = _real_array(z)
    return z * standard_normal_cdf(z)


def gelu_derivative(z):
    r""":math:`\mathrm{GELU}'(z) = \Phi(z) + z\,\varphi(z)`, with :math:`\varphi`
    the standard normal density."""
    z = _real_array(z)
    density = np.exp(-0.5 * z * z) / math.sqrt(2.0 * math.pi)
    return standard_normal_cdf(z) + z * density


def silu(z):
    r"""Sigmoid linear unit (Swish with :math:`\beta = 1`): :math:`z\,\sigma(z)`."""
    z = _real_array(z)
    return z * sigmoid(z)


def silu_derivative(z):
    r""":math:`\mathrm{SiLU}'(z) = \sigma(z)\,\big(1 + z\,(1 - \sigma(z))\big)`."""
    z = _real_array(z)
    s = sigmoid(z)
    return s * (1.0 + z * (1.0 - s))


def swiglu(X, W, V):
    r"""The SwiGLU layer :math:`\mathrm{SiLU}(XW) \odot (XV)` (bias-free, as in
    Shazeer, 2020): one projection, passed through SiLU, gates another.

    ``X`` has shape ``(N, d_in)``; ``W`` and ``V`` have shape ``(d_in, d_hidden)``.
    In a Transformer a third matrix maps the result back to ``d_in``.
    """
    X, W, V = _real_array(X, "X"), _real_array(W, "W"), _real_array(V, "V")
    if X.ndim != 2 or W.ndim != 2 or V.ndim != 2:
        raise ValueError(f"X, W and V must be 2-D, got shapes {X.shape}, {W.shape}, "
                         f"{V.shape}")
    if W.shape != V.shape or W.shape[0] != X.shape[1]:
        raise ValueError(f"W and V must both have shape ({X.shape[1]}, d_hidden) for X of "
                         f"shape {X.shape}, got {W.shape} and {V.shape}")
    return silu(X @ W) * (X @ V)
