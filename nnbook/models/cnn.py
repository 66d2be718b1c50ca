"""Convolutional networks in PyTorch: the classic LeNet-5 and a small modern CNN.

Both take a batch of grey-scale images of shape ``(N, 1, 28, 28)`` (MNIST
digits) and return raw class scores (logits) of shape ``(N, num_classes)``,
to be paired with ``nn.CrossEntropyLoss``.
"""

from __future__ import annotations

import torch
from torch import nn

_ACTIVATIONS = {"relu": nn.ReLU, "tanh": nn.Tanh}


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return value


def _check_images(x, channels: int, size: tuple[int, int] | None, min_size: int,
                  model: str) -> None:
    """Raise a ``ValueError`` naming the expected and received shape."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{model}: x must be a torch.Tensor, got {type(x).__name__}")
    if size is not None:
        want = f"(N, {channels}, {size[0]}, {size[1]})"
        ok = x.ndim == 4 and x.shape[1] == channels and tuple(x.shape[2:]) == size
    else:
        want = f"(N, {channels}, H, W) with H, W >= {min_size}"
        ok = x.ndim == 4 and x.shape[1] == channels and min(x.shape[2:]) >= min_size
    if not ok:
        raise ValueError(f"{model}: x must have shape {want}, got {tuple(x.shape)}")


class LeNet5(nn.Module):
    """LeNet-5 (LeCun et al., 1998) for 28x28 digits.

    ``conv 6@5x5 (padding 2) -> pool 2 -> conv 16@5x5 -> pool 2 -> 120 -> 84 -> classes``.
    The original network read 32x32 images; padding the 28x28 MNIST digits
    by 2 pixels in the first convolution gives the same 28x28 -> 14x14 ->
    10x10 -> 5x5 sequence of feature-map sizes, so the layer sizes of the
    paper carry over unchanged: 16 maps of 5x5 = 400 features enter the
    dense head.

    Activation: ReLU with max pooling by default (``activation="relu"``).
    The 1998 network used a scaled tanh and trainable average
    ("subsampling") layers; ReLU does not saturate, so with the default
    (Kaiming-uniform) initialisation and Adam it trains faster and reaches
    the same or better accuracy, which is why practitioners' LeNets use it.
    ``activation="tanh"`` keeps the original squashing function (still
    with max pooling) for comparison.

    ``features`` holds the convolutional part and ``classifier`` the dense
    head, so that ``model.features[0]`` is the first convolution (its
    ``weight`` has shape ``(6, 1, 5, 5)``: the learned first-layer filters)
    and ``model.features[:2](x)`` gives its activated feature maps.
    """

    def __init__(self, num_classes: int = 10, activation: str = "relu"):
        super().__init__()
        self.num_classes = _check_positive_int(num_classes, "num_classes")
        if activation not in _ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(_ACTIVATIONS)}, "
                             f"got {activation!r}")
        act = _ACTIVATIONS[activation]
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, kernel_size=5, padding=2), act(),   # 6 x 28 x 28
            nn.MaxPool2d(2),                                     # 6 x 14 x 14
            nn.Conv2d(6, 16, kernel_size=5), act(),              # 16 x 10 x 10
            nn.MaxPool2d(2),                                     # 16 x 5 x 5
        )
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(16 * 5 * 5, 120), act(),
            nn.Linear(120, 84), act(),
            nn.Linear(84, self.num_classes),
        )

    def forward(self, x):
        _check_images(x, 1, (28, 28), 28, "LeNet5")
        return self.classifier(self.features(x))


def conv_bn_relu(in_channels: int, out_channels: int) -> nn.Sequential:
    """``Conv2d 3x3 (padding 1, no bias) -> BatchNorm2d -> ReLU``: the
    building block of modern CNNs. The convolution needs no bias because
    batch normalisation subtracts the mean right after it and adds its own
    learned shift."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(),
    )


class SmallCNN(nn.Module):
    """A small modern CNN: three conv-BN-ReLU blocks, each followed by 2x2
    max pooling, then dropout and one linear layer.

    ``(1, 28, 28) -> 8@28x28 -> pool -> 16@14x14 -> pool -> 32@7x7 -> pool
    -> 32@3x3 = 288 features -> dropout -> classes`` (default ``widths``).

    Compared with :class:`LeNet5` it uses 3x3 kernels (two stacked 3x3
    convolutions see as far as one 5x5 with fewer weights), batch
    normalisation (faster, more stable training), dropout, and a small
    head: one linear layer on the pooled feature maps instead of three
    dense layers. It has about a seventh of LeNet-5's parameters and, with
    its three convolutions, more depth where it matters.
    ``image_size`` is the side of the (square) input images.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, int, int] = (8, 16, 32), dropout: float = 0.25,
                 image_size: int = 28):
        super().__init__()
        self.num_classes = _check_positive_int(num_classes, "num_classes")
        self.in_channels = _check_positive_int(in_channels, "in_channels")
        self.image_size = _check_positive_int(image_size, "image_size")
        if image_size < 8:
            raise ValueError(f"image_size must be >= 8 (three 2x2 poolings), got {image_size}")
        widths = tuple(widths)
        if len(widths) != 3:
            raise ValueError(f"widths must list 3 channel counts, got {widths!r}")
        for w in widths:
            _check_positive_int(w, "widths")
        if not 0 <= dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {dropout!r}")
        c1, c2, c3 = widths
        side = image_size // 2 // 2 // 2
        self.features = nn.Sequential(
            conv_bn_relu(self.in_channels, c1), nn.MaxPool2d(2),
            conv_bn_relu(c1, c2), nn.MaxPool2d(2),
            conv_bn_relu(c2, c3), nn.MaxPool2d(2),
        )
        self.head = nn.Sequential(
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.Linear(c3 * side * side, self.num_classes),
        )

    def forward(self, x):
        size = (self.image_size, self.image_size)
        _check_images(x, self.in_channels, size, self.image_size, "SmallCNN")
        return self.head(self.features(x))


class ResidualBlock(nn.Module):
    r"""The basic block of a ResNet (He et al., 2016):

    .. math::
        y = \mathrm{ReLU}\big(F(x) + S(x)\big),\qquad
        F = \text{conv 3x3} \to \text{BN} \to \text{ReLU} \to \text{conv 3x3} \to \text{BN},

    where the shortcut :math:`S` is the identity when the block keeps the
    shape of its input, and a 1x1 convolution with batch normalisation (a
    *projection*) when it changes the number of channels or, with
    ``stride=2``, halves the height and width. The block then only has to
    learn the correction :math:`F(x)` to its input: setting :math:`F` to zero
    gives (up to the final ReLU) the identity, which He et al. found plain
    stacks of layers hard to learn, and the reason deep plain networks train
    worse than shallow ones (chapter 12 measures it).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        _check_positive_int(in_channels, "in_channels")
        _check_positive_int(out_channels, "out_channels")
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride!r}")
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride=stride, padding=1,
                               bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut = nn.Identity()
        else:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                nn.BatchNorm2d(out_channels))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return torch.relu(out + self.shortcut(x))


class ResidualCNN(nn.Module):
    """A small residual CNN with global average pooling.

    ``stem: conv-BN-ReLU (1 -> widths[0]) -> one ResidualBlock with stride 2
    per further width -> global average pooling -> Linear(widths[-1], classes)``.
    With the default ``widths=(8, 16, 32)`` a 28x28 digit becomes 8@28x28,
    16@14x14 and 32@7x7 maps; *global average pooling* then replaces each of
    the 32 maps by its mean, so the head sees 32 numbers whatever the size of
    the image, and where in the image a feature was found no longer matters.
    The head has ``32 * classes + classes`` weights, where :class:`SmallCNN`'s
    flattened 32@3x3 maps need nine times as many.
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: tuple[int, ...] = (8, 16, 32)):
        super().__init__()
        self.num_classes = _check_positive_int(num_classes, "num_classes")
        self.in_channels = _check_positive_int(in_channels, "in_channels")
        widths = tuple(widths)
        if len(widths) < 1:
            raise ValueError(f"widths must list at least one channel count, got {widths!r}")
        for w in widths:
            _check_positive_int(w, "widths")
        self.min_size = 2 ** (len(widths) - 1)
        blocks = [ResidualBlock(c_in, c_out, stride=2)
                  for c_in, c_out in zip(widths[:-1], widths[1:])]
        self.features = nn.Sequential(conv_bn_relu(self.in_channels, widths[0]), *blocks)
        self.pool = nn.AdaptiveAvgPool2d(1)          # global average pooling
        self.head = nn.Linear(widths[-1], self.num_classes)

    def forward(self, x):
        _check_images(x, self.in_channels, None, self.min_size, "ResidualCNN")
        return self.head(self.pool(self.features(x)).flatten(1))
