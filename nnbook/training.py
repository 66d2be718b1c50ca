"""One shared training loop for the book's PyTorch models.

Ten clear lines of loop teach more than a framework, so this is exactly the
loop a chapter would write (``zero_grad``, forward, loss, ``backward``,
``step``), kept in one place so that every chapter trains the same way and
prints progress the same way.
"""

from __future__ import annotations

import numbers

import numpy as np

from ._extras import require

torch = require("torch", "torch", "nnbook.training")
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402


def _check_int(value, name: str, low: int) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer >= {low}, got {value!r}")
    if value < low:
        raise ValueError(f"{name} must be >= {low} (an integer), got {value!r}")
    return int(value)


def _check_model(model):
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")


def _check_loader(loader, name: str):
    if not hasattr(loader, "__iter__"):
        raise TypeError(f"{name} must be a DataLoader (or an iterable of (x, y) batches), "
                        f"got {type(loader).__name__}")
    try:
        n = len(loader)
    except TypeError:
        return
    if n == 0:
        raise ValueError(f"{name} is empty: it yields no batches")


def _check_classes(out, yb, loss_fn):
    """Class-index targets outside ``[0, C)`` for a model with ``C`` outputs:
    an error naming them (torch would say "Target 5 is out of bounds")."""
    if isinstance(loss_fn, (nn.CrossEntropyLoss, nn.NLLLoss)) and yb.dtype == torch.long \
            and out.ndim >= 2 and yb.numel():
        n_classes = out.shape[1]
        valid = yb[yb != loss_fn.ignore_index]
        if valid.numel() and (int(valid.min()) < 0 or int(valid.max()) >= n_classes):
            raise ValueError(f"targets must be class indices in [0, {n_classes - 1}] for a "
                             f"model with {n_classes} outputs, got values from "
                             f"{int(valid.min())} to {int(valid.max())}")


def _check_targets(out, yb, loss_fn):
    """Float targets whose shape differs from the outputs' would broadcast inside
    MSELoss & co (an (N, 1) output against (N,) targets trains on an N x N grid
    of pairs and never learns): an error, as on the scratch side."""
    if yb.is_floating_point() and out.shape != yb.shape:
        hint = ("; reshape y to (N, 1), e.g. y.reshape(-1, 1)"
                if out.ndim == 2 and out.shape[1] == 1 and yb.ndim == 1 else "")
        raise ValueError(f"targets must have the shape of the model's outputs for "
                         f"{type(loss_fn).__name__}: outputs {tuple(out.shape)}, targets "
                         f"{tuple(yb.shape)}{hint}")


def make_loader(X, y, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                x_dtype=torch.float32) -> DataLoader:
    """A ``DataLoader`` over arrays: ``X`` as ``x_dtype`` (float32; ``torch.long``
    for token indices), integer ``y`` as int64 class labels, float ``y`` as
    float32 targets. ``batch_size`` defaults to 64 (the scratch ``fit``'s to 32)."""
    batch_size = _check_int(batch_size, "batch_size", 1)
    seed = _check_int(seed, "seed", 0)
    if not isinstance(shuffle, (bool, np.bool_)):
        raise TypeError(f"shuffle must be True or False, got {shuffle!r}")
    X = np.asarray(X)
    y = np.asarray(y)
    for name, arr in (("X", X), ("y", y)):
        if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
            raise TypeError(f"{name} must be a numeric array, got dtype {arr.dtype}")
        if arr.ndim == 0:
            raise ValueError(f"{name} must be an array of samples, got a scalar")
        if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinite values")
    if len(X) == 0:
        raise ValueError(f"X must hold at least one sample, got shape {X.shape}")
    if len(X) != len(y):
        raise ValueError(f"X and y must have the same number of samples, "
                         f"got {len(X)} and {len(y)}")
    y_t = torch.as_tensor(y, dtype=torch.long if np.issubdtype(y.dtype, np.integer)
                          else torch.float32)
    dataset = TensorDataset(torch.as_tensor(X, dtype=x_dtype), y_t)
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator)


def _accuracy_count(outputs, targets) -> int | None:
    """Correct predictions among the targets of a batch: class scores are on
    the last axis, so (N, C) outputs score (N,) labels and (N, T, C) outputs
    score (N, T) labels (one per token)."""
    if targets.dtype != torch.long:
        return None
    return int((outputs.argmax(dim=-1) == targets).sum())


@torch.no_grad()
def evaluate(model, loader, loss_fn) -> dict[str, float]:
    """Mean loss (and accuracy, for integer class targets) over ``loader``."""
    _check_model(model)
    _check_loader(loader, "loader")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got {loss_fn!r}")
    model.eval()
    total_loss, correct, n, n_targets = 0.0, 0, 0, 0
    for xb, yb in loader:
        out = model(xb)
        if n == 0:
            _check_targets(out, yb, loss_fn)
        _check_classes(out, yb, loss_fn)
        total_loss += float(loss_fn(out, yb)) * len(xb)
        hits = _accuracy_count(out, yb)
        correct = None if hits is None else correct + hits
        n += len(xb)
        n_targets += yb.numel()
    if n == 0:
        raise ValueError("loader is empty: it yielded no samples")
    result = {"loss": total_loss / n}
    if correct is not None:
        result["accuracy"] = correct / n_targets
    return result


def fit(model, train_loader, loss_fn, optimizer, epochs: int = 10, val_loader=None,
        print_every: int = 1) -> dict[str, list[float]]:
    """Train ``model``; returns per-epoch ``loss`` (and ``accuracy``,
    ``val_loss``, ``val_accuracy`` where they apply).

    Prints one line every ``print_every`` epochs (0 for silence), so that long
    runs show progress; no timings, so that two builds print the same text.

    ``optimizer`` must hold only this model's parameters (one built on another
    model would train nothing: an error). Float targets must have the
    outputs' shape (no silent broadcasting in ``MSELoss``). Differences from
    the scratch ``Sequential.fit``: it takes ``DataLoader``s, progress is
    ``print_every`` (the scratch side's ``verbose``), and ``accuracy`` is the
    running accuracy over the epoch's batches (the scratch side measures it
    after the epoch).
    """
    _check_model(model)
    epochs = _check_int(epochs, "epochs", 1)
    print_every = _check_int(print_every or 0, "print_every", 0)
    _check_loader(train_loader, "train_loader")
    if val_loader is not None:
        _check_loader(val_loader, "val_loader")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (e.g. nn.CrossEntropyLoss()), got {loss_fn!r}")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer, got {optimizer!r}")
    own = {id(p) for p in model.parameters()}
    held = [p for group in optimizer.param_groups for p in group["params"]]
    foreign = [p for p in held if id(p) not in own]
    if foreign:
        raise ValueError(f"optimizer holds {len(foreign)} of its {len(held)} parameter tensors "
                         "that are not this model's: it would train another model (build it "
                         "with model.parameters())")
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, n, n_targets = 0.0, 0, 0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            out = model(xb)
            if n == 0:
                _check_targets(out, yb, loss_fn)
            _check_classes(out, yb, loss_fn)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            hits = _accuracy_count(out.detach(), yb)
            correct = None if hits is None else correct + hits
            n += len(xb)
            n_targets += yb.numel()
        if n == 0:
            raise ValueError("train_loader is empty: it yielded no samples")
        history.setdefault("loss", []).append(total_loss / n)
        if correct is not None:
            history.setdefault("accuracy", []).append(correct / n_targets)
        if val_loader is not None:
            for key, value in evaluate(model, val_loader, loss_fn).items():
                history.setdefault(f"val_{key}", []).append(value)
        if print_every and (epoch % print_every == 0 or epoch in (1, epochs)):
            metrics = ", ".join(f"{k} {v[-1]:.4f}" for k, v in history.items())
            print(f"epoch {epoch:>3}/{epochs}: {metrics}", flush=True)
    return history


def _as_inputs(X, x_dtype):
    if isinstance(X, torch.Tensor):
        return X
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"X must be a numeric array or tensor, got dtype {X.dtype}")
    return torch.as_tensor(X, dtype=x_dtype)


@torch.no_grad()
def predict(model, X, batch_size: int = 1000, x_dtype=torch.float32) -> np.ndarray:
    """The model's outputs (raw scores) for ``X`` in evaluation mode, as a NumPy
    array, computed ``batch_size`` rows at a time; the counterpart of the
    scratch ``Sequential.predict``."""
    _check_model(model)
    batch_size = _check_int(batch_size, "batch_size", 1)
    X = _as_inputs(X, x_dtype)
    if X.ndim == 0 or len(X) == 0:
        raise ValueError(f"X must hold at least one sample, got shape {tuple(X.shape)}")
    was_training = model.training
    model.eval()
    try:
        return torch.cat([model(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
                         ).cpu().numpy()
    finally:
        model.train(was_training)


def predict_proba(model, X, batch_size: int = 1000, x_dtype=torch.float32) -> np.ndarray:
    """Class probabilities ``(N, n_classes)``: the softmax of :func:`predict`'s
    scores over the last axis, or ``[1 - p, p]`` with ``p = sigmoid(score)``
    for one output (as the scratch ``Sequential.predict_proba``)."""
    scores = torch.from_numpy(predict(model, X, batch_size, x_dtype))
    if scores.ndim == 2 and scores.shape[1] == 1:
        p = torch.sigmoid(scores[:, 0])
        return torch.stack([1 - p, p], dim=1).numpy()
    return torch.softmax(scores, dim=-1).numpy()


def predict_labels(model, X, batch_size: int = 1000, x_dtype=torch.float32) -> np.ndarray:
    """Class labels: the argmax of :func:`predict`'s scores over the last axis,
    or ``score > 0`` for one output (as the scratch ``Sequential.predict_labels``)."""
    scores = predict(model, X, batch_size, x_dtype)
    if scores.ndim == 2 and scores.shape[1] == 1:
        return (scores[:, 0] > 0).astype(int)
    return scores.argmax(axis=-1)
