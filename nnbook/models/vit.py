"""A small vision transformer (Dosovitskiy et al., 2020) for 28x28 digits.

An image is cut into non-overlapping square patches; each patch is
flattened and mapped linearly to a vector (a *token*); a learned class token
is put in front, learned position embeddings are added, and a stack of
pre-norm Transformer encoder blocks (attention without a mask) mixes the
tokens. The class token's final vector, normalized, is read out by a linear
layer. Unlike a CNN the model is told nothing about neighbouring pixels
beyond what is inside one patch: it must learn from data which patches
matter to which.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def patchify(images: torch.Tensor, patch: int) -> torch.Tensor:
    """``(N, C, H, W)`` images to ``(N, (H/p)(W/p), C p p)`` flattened patches,
    row by row (the patch at the top left first)."""
    N, C, H, W = images.shape
    if H % patch or W % patch:
        raise ValueError(f"image size {H}x{W} must be divisible by the patch size {patch}")
    x = images.reshape(N, C, H // patch, patch, W // patch, patch)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(N, (H // patch) * (W // patch), C * patch * patch)


class EncoderBlock(nn.Module):
    """Pre-norm Transformer encoder block: ``x + MHA(LN(x))``, then
    ``x + MLP(LN(x))`` with a GELU MLP; every token attends to every token."""

    def __init__(self, dim: int, heads: int, mlp_ratio: int = 2):
        super().__init__()
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.mlp = nn.Sequential(nn.Linear(dim, mlp_ratio * dim), nn.GELU(),
                                 nn.Linear(mlp_ratio * dim, dim))

    def forward(self, x):
        N, T, C = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(N, T, 3, self.heads, C // self.heads) \
                                          .permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)            # no mask: an encoder
        x = x + self.proj(a.transpose(1, 2).reshape(N, T, C))
        return x + self.mlp(self.norm2(x))


class VisionTransformer(nn.Module):
    """ViT for square single-channel images: ``patch`` x ``patch`` patches,
    ``depth`` encoder blocks of width ``dim``, a class token and learned
    position embeddings. Input ``(N, channels, image_size, image_size)``,
    output class scores ``(N, num_classes)``."""

    def __init__(self, image_size: int = 28, patch: int = 7, channels: int = 1,
                 num_classes: int = 10, dim: int = 32, depth: int = 1, heads: int = 4,
                 mlp_ratio: int = 2):
        super().__init__()
        self.image_size = _positive_int(image_size, "image_size")
        self.patch = _positive_int(patch, "patch")
        self.channels = _positive_int(channels, "channels")
        if self.image_size % self.patch:
            raise ValueError(f"image_size ({image_size}) must be divisible by patch ({patch})")
        dim, heads = _positive_int(dim, "dim"), _positive_int(heads, "heads")
        if dim % heads:
            raise ValueError(f"dim ({dim}) must be divisible by heads ({heads})")
        n_patches = (self.image_size // self.patch) ** 2
        self.embed = nn.Linear(self.channels * self.patch ** 2, dim)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos = nn.Parameter(0.02 * torch.randn(1, n_patches + 1, dim))
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, _positive_int(mlp_ratio,
                                                                           "mlp_ratio"))
                                    for _ in range(_positive_int(depth, "depth")))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, _positive_int(num_classes, "num_classes"))

    def forward(self, images):
        expected = (self.channels, self.image_size, self.image_size)
        if images.ndim != 4 or tuple(images.shape[1:]) != expected:
            raise ValueError(f"images must have shape (N, {', '.join(map(str, expected))}), "
                             f"got {tuple(images.shape)}")
        tokens = self.embed(patchify(images, self.patch))
        x = torch.cat([self.cls.expand(len(images), -1, -1), tokens], dim=1) + self.pos
        for block in self.blocks:
            x = block(x)
        return self.head(self.norm(x[:, 0]))


def train_image_classifier(model: nn.Module, X, y, *, steps: int = 300, batch_size: int = 64,
                           lr: float = 3e-3, seed: int = 0) -> list[float]:
    """AdamW on random mini-batches of ``(X, y)`` for a fixed number of
    ``steps`` (the same compute whatever the training-set size); returns the
    loss of every step."""
    X, y = torch.as_tensor(X), torch.as_tensor(y)
    if len(X) != len(y) or len(X) == 0:
        raise ValueError(f"X and y must hold the same positive number of samples, got "
                         f"{len(X)} and {len(y)}")
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    model.train()
    losses = []
    for _ in range(_positive_int(steps, "steps")):
        idx = torch.randint(0, len(X), (_positive_int(batch_size, "batch_size"),),
                            generator=generator)
        loss = F.cross_entropy(model(X[idx]), y[idx])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def accuracy(model: nn.Module, X, y) -> float:
    """Fraction of ``X`` classified as ``y`` (in evaluation mode)."""
    was_training = model.training
    model.eval()
    correct = (model(torch.as_tensor(X)).argmax(1) == torch.as_tensor(y)).float().mean().item()
    model.train(was_training)
    return correct
