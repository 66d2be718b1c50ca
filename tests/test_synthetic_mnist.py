"""nnbook.synthetic_mnist: IDX files written byte for byte as MNIST's, and
the synthetic cache's construction (the full-size load is in test_data.py)."""

import numpy as np
import pytest

import nnbook.data as data
from nnbook.synthetic_mnist import make_synthetic_mnist, write_idx_file, write_mnist_cache


def test_write_idx_file_header_and_payload(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    path = write_idx_file(tmp_path / "x", images)
    raw = path.read_bytes()
    # magic 2051 = 0x00000803, then the three sizes, big-endian 32-bit
    assert raw[:16] == bytes([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4])
    np.testing.assert_array_equal(np.frombuffer(raw[16:], np.uint8).reshape(2, 3, 4), images)
    labels = write_idx_file(tmp_path / "y", np.array([7, 1], dtype=np.uint8)).read_bytes()
    assert labels == bytes([0, 0, 8, 1, 0, 0, 0, 2, 7, 1])
    # the header is the one nnbook.data expects
    assert raw[:16] == data._idx_header(2051, (2, 3, 4))


def test_write_idx_file_rejects_bad_arrays(tmp_path):
    with pytest.raises(TypeError, match="uint8"):
        write_idx_file(tmp_path / "x", np.zeros((2, 3, 4)))
    with pytest.raises(ValueError, match="1 \\(labels\\) or 3 \\(images\\)"):
        write_idx_file(tmp_path / "x", np.zeros((2, 3), dtype=np.uint8))


def test_write_mnist_cache_converts_and_validates(tmp_path):
    X = np.random.default_rng(0).random((5, 1, 28, 28)).astype(np.float32)
    raw = write_mnist_cache(tmp_path, X, np.arange(5), X[:2, 0], np.array([3, 4]))
    assert raw == tmp_path / "MNIST" / "raw"
    pixels = np.frombuffer((raw / "train-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    np.testing.assert_array_equal(pixels.reshape(5, 28, 28), np.round(X[:, 0] * 255))
    with pytest.raises(ValueError, match="X_train must have shape"):
        write_mnist_cache(tmp_path, X[:, 0, :10], np.arange(5), X, np.arange(5))
    with pytest.raises(ValueError, match="floats in \\[0, 1\\]"):
        write_mnist_cache(tmp_path, X * 3, np.arange(5), X, np.arange(5))
    with pytest.raises(ValueError, match="y_test must hold 2 integer labels"):
        write_mnist_cache(tmp_path, X, np.arange(5), X[:2], np.array([3, 14]))
    with pytest.raises(TypeError, match="root"):
        write_mnist_cache(5, X, np.arange(5), X, np.arange(5))


def test_make_synthetic_mnist_small_copies_are_balanced_shifts(tmp_path):
    raw = make_synthetic_mnist(tmp_path, n_train=8000, n_test=2000, seed=0)
    labels = np.frombuffer((raw / "train-labels-idx1-ubyte").read_bytes()[8:], np.uint8)
    assert len(labels) == 8000
    np.testing.assert_array_equal(np.bincount(labels), np.full(10, 800))  # 2 copies each
    images = np.frombuffer((raw / "t10k-images-idx3-ubyte").read_bytes()[16:], np.uint8)
    assert images.reshape(2000, 28, 28).max() == 255
    # these sizes are not MNIST's: load_mnist refuses the cache instead of misreading it
    with pytest.raises(data.CorruptCacheError, match="wrong header"):
        data.load_mnist(root=tmp_path, download=False)


def test_make_synthetic_mnist_refuses_an_existing_cache_and_bad_sizes(tmp_path):
    with pytest.raises(ValueError, match="n_train"):
        make_synthetic_mnist(tmp_path, n_train=0)
    X = np.zeros((60000, 28, 28), dtype=np.uint8)
    write_mnist_cache(tmp_path, X, np.zeros(60000, int), X[:10000], np.zeros(10000, int))
    with pytest.raises(FileExistsError, match="already holds an MNIST cache"):
        make_synthetic_mnist(tmp_path)
