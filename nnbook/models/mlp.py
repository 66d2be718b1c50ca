"""Fully connected networks in PyTorch."""

from __future__ import annotations

import torch
from torch import nn


class SimpleNN(nn.Module):
    """Feed-forward network: ``Linear -> ReLU`` for each hidden size, then a
    linear output layer producing raw scores (logits).

    ``SimpleNN(10, [64, 32, 16], 2)`` is a widely copied tutorial's network; it
    computes the same function as ``nnbook.scratch.MLP([10, 64, 32, 16, 2])``
    given the same weights (``nn.Linear`` stores :math:`W^\\top`).
    """

    def __init__(self, input_size, hidden_sizes, output_size):
        super().__init__()
        sizes = [input_size, *_check_hidden(hidden_sizes), output_size]
        for name, s in (("input_size", input_size), ("output_size", output_size)):
            if isinstance(s, bool) or not isinstance(s, int) or s < 1:
                raise ValueError(f"{name} must be a positive integer, got {s!r}")
        self.input_size = input_size
        layers = []
        for n_in, n_out in zip(sizes[:-2], sizes[1:-1]):
            layers += [nn.Linear(n_in, n_out), nn.ReLU()]
        layers.append(nn.Linear(sizes[-2], sizes[-1]))
        self.network = nn.Sequential(*layers)

    @classmethod
    def from_scratch(cls, mlp, dtype=torch.float32) -> "SimpleNN":
        """The PyTorch twin of a ReLU ``nnbook.scratch.MLP``, with its weights.

        ``nn.Linear`` stores :math:`W^\\top` (shape ``(n_out, n_in)``), so each
        weight matrix is transposed on the way.
        """
        sizes = list(getattr(mlp, "layer_sizes", []))
        kinds = {getattr(layer, "name", None) for layer in mlp.layers
                 if type(layer).__name__ == "Activation"}
        if len(sizes) < 3 or kinds != {"relu"} or mlp.output_activation is not None:
            raise ValueError("mlp must be a scratch MLP with ReLU hidden layers, at least one "
                             f"hidden layer and no output activation, got {mlp!r}")
        model = cls(sizes[0], sizes[1:-1], sizes[-1]).to(dtype)
        linears = [m for m in model.network if isinstance(m, nn.Linear)]
        with torch.no_grad():
            for linear, dense in zip(linears, mlp.dense_layers):
                linear.weight.copy_(torch.as_tensor(dense.W.data.T))
                linear.bias.copy_(torch.as_tensor(dense.b.data))
        return model

    def forward(self, x):
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"x must have shape (N, {self.input_size}), got {tuple(x.shape)}")
        return self.network(x)


def _check_hidden(hidden_sizes):
    try:
        sizes = list(hidden_sizes)
    except TypeError:
        raise TypeError("hidden_sizes must be a list of positive integers, "
                        f"got {hidden_sizes!r}") from None
    if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"hidden_sizes must be a non-empty list of positive integers, "
                         f"got {hidden_sizes!r}")
    return sizes


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """``sum(p.numel() for p in model.parameters())``, trainable ones by default."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
