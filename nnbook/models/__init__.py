"""PyTorch models used in the book: the ideas of :mod:`nnbook.scratch`, as
practitioners write them (``nn.Module`` subclasses with a ``forward``)."""

from .mlp import SimpleNN, count_parameters

__all__ = ["SimpleNN", "count_parameters"]
