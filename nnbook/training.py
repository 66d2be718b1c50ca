"""One shared training loop for the book's PyTorch models.

Ten clear lines of loop teach more than a framework, so this is exactly the
loop a chapter would write (``zero_grad``, forward, loss, ``backward``,
``step``), kept in one place so that every chapter trains the same way and
prints progress the same way.
"""

from __future__ import annotations

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset


def make_loader(X, y, batch_size: int = 64, shuffle: bool = True, seed: int = 0,
                x_dtype=torch.float32) -> DataLoader:
    """A ``DataLoader`` over arrays: ``X`` as ``x_dtype`` (float32; ``torch.long``
    for token indices), integer ``y`` as int64 class labels, float ``y`` as
    float32 targets."""
    X = np.asarray(X)
    y = np.asarray(y)
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
    model.eval()
    total_loss, correct, n, n_targets = 0.0, 0, 0, 0
    for xb, yb in loader:
        out = model(xb)
        total_loss += float(loss_fn(out, yb)) * len(xb)
        hits = _accuracy_count(out, yb)
        correct = None if hits is None else correct + hits
        n += len(xb)
        n_targets += yb.numel()
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
    """
    if epochs < 1:
        raise ValueError(f"epochs must be >= 1, got {epochs}")
    history: dict[str, list[float]] = {}
    for epoch in range(1, epochs + 1):
        model.train()
        total_loss, correct, n, n_targets = 0.0, 0, 0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            out = model(xb)
            loss = loss_fn(out, yb)
            loss.backward()
            optimizer.step()
            total_loss += loss.item() * len(xb)
            hits = _accuracy_count(out.detach(), yb)
            correct = None if hits is None else correct + hits
            n += len(xb)
            n_targets += yb.numel()
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
