"""nnbook: the code of *Neural Networks: From Scratch to Deep Learning*.

- :mod:`nnbook.scratch`: NumPy-only implementations (never imports torch);
- :mod:`nnbook.models`: the same ideas as PyTorch ``nn.Module``s;
- :mod:`nnbook.training`: one shared ``fit``/``evaluate`` loop for PyTorch models;
- :mod:`nnbook.plotting`: the book's figure style and plotting helpers;
- :mod:`nnbook.utils`: reproducibility (``seed_everything``).

``import nnbook`` is cheap: submodules are imported when used.
"""

__version__ = "0.1.0"
