"""The digits project's convolutional network (see :mod:`nnbook.digits`)."""

from __future__ import annotations

import torch
from torch import nn


class DigitsCNN(nn.Module):
    """Two convolutional layers, a dense layer and dropout, for 28x28 digits.

    ``(1, 28, 28) -> conv 32@5x5 -> 32@24x24 -> pool -> 32@12x12
    -> conv 64@3x3 (padding 1) -> 64@12x12 -> pool -> 64@6x6 = 2,304 features
    -> dense 128 -> dropout -> 10 logits``, with ReLU after each convolution
    and after the dense layer. With ``batch_norm`` (the default) every
    convolution is followed by ``BatchNorm2d`` and has no bias of its own:
    the normalisation subtracts the mean right after it and adds its own
    learned shift.

    This is the shape of the networks that practitioners' tutorials train to
    about 99% on MNIST (two convolutions, pooling, one hidden dense layer),
    sized so that five epochs of full MNIST take about a minute on two CPU
    cores.
    """

    def __init__(self, batch_norm: bool = True, dropout: float = 0.3, num_classes: int = 10):
        super().__init__()
        if not isinstance(batch_norm, bool):
            raise TypeError(f"batch_norm must be True or False, got {batch_norm!r}")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a number in [0, 1), got {dropout!r}")
        if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"num_classes must be an integer >= 2, got {num_classes!r}")

        def block(c_in, c_out, kernel, padding):
            conv = nn.Conv2d(c_in, c_out, kernel, padding=padding, bias=not batch_norm)
            norm = [nn.BatchNorm2d(c_out)] if batch_norm else []
            return [conv, *norm, nn.ReLU(), nn.MaxPool2d(2)]

        self.batch_norm = batch_norm
        self.features = nn.Sequential(*block(1, 32, 5, 0),     # 28 -> 24 -> 12
                                      *block(32, 64, 3, 1))    # 12 -> 12 -> 6
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(64 * 6 * 6, 128), nn.ReLU(), nn.Dropout(dropout),
            nn.Linear(128, num_classes))

    def forward(self, x):
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"DigitsCNN: x must be a torch.Tensor, got {type(x).__name__}")
        if x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
            raise ValueError(f"DigitsCNN: x must have shape (N, 1, 28, 28), got {tuple(x.shape)}")
        return self.classifier(self.features(x))
