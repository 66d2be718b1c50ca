"""The book's figure style and the plots that several chapters share.

Call :func:`use_book_style` once at the top of a page. Figures get an opaque
white background so that they stay readable when the site is in dark mode.
"""

from __future__ import annotations

import numpy as np

from ._extras import require

mpl = require("matplotlib", "plot", "nnbook.plotting")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.colors import ListedColormap  # noqa: E402

#: The book's colour cycle (colour-blind safe, after Okabe and Ito).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
           "#F0E442", "#000000"]

#: One colour per class, the same in every chapter: class ``c`` (a label 0/1,
#: or a digit 0-9) is drawn in ``CLASS_COLORS[c]``. The first eight are
#: :data:`PALETTE`, so class 0 is blue and class 1 orange everywhere.
CLASS_COLORS = PALETTE + ["#999999", "#882255"]


def class_color(label) -> str:
    """The book's colour for class ``label`` (an integer 0-9)."""
    if isinstance(label, bool) or not isinstance(label, (int, np.integer)):
        if isinstance(label, (float, np.floating)) and float(label).is_integer():
            label = int(label)
        else:
            raise TypeError(f"label must be an integer class label, got {label!r}")
    if not 0 <= int(label) < len(CLASS_COLORS):
        raise ValueError(f"label must be in 0..{len(CLASS_COLORS) - 1}, got {label}")
    return CLASS_COLORS[int(label)]

STYLE = {
    "figure.figsize": (6.4, 4.0),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.prop_cycle": mpl.cycler(color=PALETTE),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 12,
    "axes.titleweight": "bold",
    "axes.labelsize": 11,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "font.size": 10,
    "figure.constrained_layout.use": True,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (sizes, colours, white background)."""
    mpl.rcParams.update(STYLE)


def _axes(ax):
    return ax if ax is not None else plt.subplots()[1]


def plot_decision_boundary(predict, X, y, ax=None, title: str | None = None,
                           resolution: int = 200, padding: float = 0.5):
    """Shade the regions that ``predict`` assigns to each class, over the
    2-D points ``X`` coloured by their labels ``y``.

    ``predict`` maps an ``(M, 2)`` array to ``M`` integer labels (a scratch
    model's ``predict_labels``; a model with a ``predict_labels`` method may be
    passed itself). ``resolution`` is the number of grid points per axis.
    """
    if hasattr(predict, "predict_labels"):
        predict = predict.predict_labels
    if not callable(predict):
        raise TypeError(f"predict must be a function from an (M, 2) array to M labels "
                        f"(e.g. model.predict_labels), got {predict!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)):
        raise TypeError(f"resolution must be an integer >= 2, got {resolution!r}")
    if resolution < 2:
        raise ValueError(f"resolution must be an integer >= 2, got {resolution!r}")
    if isinstance(padding, bool) or not isinstance(padding, (int, float, np.number)) or not (
            np.isfinite(padding) and padding >= 0):
        raise ValueError(f"padding must be a finite number >= 0, got {padding!r}")
    X = np.asarray(X)
    if not (np.issubdtype(X.dtype, np.number) or X.dtype == bool):
        raise TypeError(f"X must be a numeric array of shape (N, 2), got dtype {X.dtype}")
    X = X.astype(float)
    y = np.asarray(y).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2 or len(X) == 0:
        raise ValueError(f"X must have shape (N, 2) to be drawn in the plane, got {X.shape}")
    if not np.all(np.isfinite(X)):
        raise ValueError("X contains NaN or infinite values")
    if len(y) != len(X):
        raise ValueError(f"y must have one label per point ({len(X)}), got {len(y)}")
    if not (np.issubdtype(y.dtype, np.integer) or (np.issubdtype(y.dtype, np.floating)
                                                   and np.all(y == np.round(y)))) or (
            y.min() < 0 or y.max() >= len(CLASS_COLORS)):
        raise ValueError(f"y must hold integer class labels in 0..{len(CLASS_COLORS) - 1}, "
                         f"got {y[:5]!r}...")
    ax = _axes(ax)
    x0, x1 = X[:, 0].min() - padding, X[:, 0].max() + padding
    y0, y1 = X[:, 1].min() - padding, X[:, 1].max() + padding
    xx, yy = np.meshgrid(np.linspace(x0, x1, resolution), np.linspace(y0, y1, resolution))
    grid = np.c_[xx.ravel(), yy.ravel()]
    zz = np.asarray(predict(grid))
    if zz.ndim == 2 and zz.shape[1] == 1:
        zz = zz[:, 0]
    if zz.shape != (len(grid),):
        raise ValueError(f"predict must return one label per point, shape ({len(grid)},), got "
                         f"shape {zz.shape}: pass model.predict_labels (or the model) rather "
                         f"than model.predict, which returns scores")
    labels = zz.astype(float)
    if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)) \
            or labels.min() < 0 or labels.max() >= len(CLASS_COLORS):
        raise ValueError("predict must return integer class labels in "
                         f"0..{len(CLASS_COLORS) - 1}: pass model.predict_labels, not scores")
    zz = zz.reshape(xx.shape)
    classes = np.unique(np.concatenate([np.unique(y), np.unique(zz)])).astype(int)
    colors = [class_color(c) for c in range(classes.max() + 1)]
    ax.contourf(xx, yy, zz, levels=np.arange(classes.max() + 2) - 0.5,
                cmap=ListedColormap(colors), alpha=0.25)
    for c in np.unique(y).astype(int):
        ax.scatter(*X[y == c].T, s=18, color=colors[c], edgecolor="white", linewidth=0.4,
                   label=f"class {c}")
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="$x_1$", ylabel="$x_2$")
    ax.grid(False)
    if title:
        ax.set_title(title)
    return ax


def plot_history(history: dict, keys=None, ax=None, title: str | None = None,
                 ylabel: str = "loss", logy: bool = False):
    """Plot per-epoch curves from a history dict (``{"loss": [...], ...}``).

    ``keys`` chooses the curves (default: every key containing ``"loss"``);
    ``logy`` puts the y axis on a log scale. Returns the axes.
    """
    if not isinstance(history, dict):
        raise TypeError(f"history must be a dict of per-epoch lists (what fit returns), got "
                        f"{type(history).__name__}")
    keys = list(keys) if keys is not None else [k for k in history if "loss" in k]
    if not keys:
        raise ValueError(f"keys is empty: history has no key containing 'loss' "
                         f"(keys: {list(history)}); pass keys=[...]")
    missing = [k for k in keys if k not in history]
    if missing:
        raise KeyError(f"keys {missing} are not in history (it has {list(history)})")
    for key in keys:
        values = history[key]
        if isinstance(values, (str, bytes)) or not hasattr(values, "__len__") or not all(
                isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
                for v in values):
            raise TypeError(f"history[{key!r}] must be a list of numbers (one per epoch), "
                            f"got {values!r:.60}")
    ax = _axes(ax)
    for key in keys:
        values = history[key]
        ax.plot(np.arange(1, len(values) + 1), values, label=key.replace("_", " "))
    ax.set(xlabel="epoch", ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    if len(keys) > 1:
        ax.legend()
    if title:
        ax.set_title(title)
    return ax
