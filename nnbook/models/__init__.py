"""PyTorch models used in the book: the ideas of :mod:`nnbook.scratch`, as
practitioners write them (``nn.Module`` subclasses with a ``forward``).

Needs PyTorch: ``pip install "nnbook[torch]"``."""

from .._extras import require

require("torch", "torch", "nnbook.models")

from .cnn import LeNet5, SmallCNN, conv_bn_relu
from .mlp import SimpleNN, count_parameters
from .modern import DeepMLP, SequenceTransformer, TransformerEncoderBlock
from .rnn import CharLanguageModel, CharVocab, SequenceForecaster, generate

__all__ = ["DeepMLP", "SequenceTransformer", "TransformerEncoderBlock", "LeNet5", "SmallCNN",
           "conv_bn_relu", "CharLanguageModel", "CharVocab", "SequenceForecaster", "SimpleNN",
           "count_parameters", "generate"]
