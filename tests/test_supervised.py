"""The supervised reference: digits and MNIST loaders, and the CNN classifier learning."""

import gzip
import struct

import jax
import numpy as np
import pytest

from l2o4rl.analysis.supervised import (
    Classifier,
    MNISTFormatError,
    load_digits_data,
    load_mnist,
    make_classifier_train,
    read_idx,
)


def write_idx(path, array: np.ndarray, compress: bool = False) -> None:
    """The IDX layout: two zero bytes, 0x08 (unsigned bytes), the rank, big-endian dims, data."""
    raw = (
        bytes([0, 0, 0x08, array.ndim])
        + struct.pack(f">{array.ndim}I", *array.shape)
        + array.astype(np.uint8).tobytes()
    )
    path.write_bytes(gzip.compress(raw) if compress else raw)


@pytest.fixture
def tiny_mnist():
    rng = np.random.default_rng(0)
    return {
        "x_train": rng.integers(0, 256, (5, 4, 3), dtype=np.uint8),
        "y_train": np.array([0, 1, 2, 3, 9], np.uint8),
        "x_test": rng.integers(0, 256, (2, 4, 3), dtype=np.uint8),
        "y_test": np.array([7, 5], np.uint8),
    }


def check_loaded(data, arrays):
    assert data.x_train.shape == (5, 4, 3, 1) and data.x_test.shape == (2, 4, 3, 1)
    assert data.x_train.dtype == np.float32
    np.testing.assert_allclose(data.x_train[..., 0], arrays["x_train"] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_train, [0, 1, 2, 3, 9])
    np.testing.assert_array_equal(data.y_test, [7, 5])
    assert data.num_classes == 10


def test_mnist_from_idx_directory(tmp_path, tiny_mnist):
    names = {
        "x_train": "train-images-idx3-ubyte.gz",
        "y_train": "train-labels-idx1-ubyte",
        "x_test": "t10k-images.idx3-ubyte",
        "y_test": "t10k-labels-idx1-ubyte.gz",
    }
    for key, name in names.items():
        write_idx(tmp_path / name, tiny_mnist[key], compress=name.endswith(".gz"))
    check_loaded(load_mnist(tmp_path), tiny_mnist)


def test_mnist_from_npz(tmp_path, tiny_mnist):
    np.savez(tmp_path / "mnist.npz", **tiny_mnist)
    check_loaded(load_mnist(tmp_path / "mnist.npz"), tiny_mnist)


def test_mnist_refuses_what_it_cannot_read(tmp_path, tiny_mnist):
    (tmp_path / "notes.txt").write_text("not mnist")
    with pytest.raises(MNISTFormatError, match="Accepted: a directory holding the four MNIST IDX files"):
        load_mnist(tmp_path / "notes.txt")
    with pytest.raises(MNISTFormatError, match="need exactly one train-images IDX file, found none"):
        load_mnist(tmp_path)
    np.savez(tmp_path / "partial.npz", x_train=tiny_mnist["x_train"])
    with pytest.raises(MNISTFormatError, match="lacks y_train, x_test, y_test"):
        load_mnist(tmp_path / "partial.npz")
    write_idx(tmp_path / "images-idx3-ubyte", tiny_mnist["x_train"])
    truncated = tmp_path / "truncated-idx3-ubyte"
    truncated.write_bytes((tmp_path / "images-idx3-ubyte").read_bytes()[:-3])
    with pytest.raises(MNISTFormatError, match="promises 76 bytes"):
        read_idx(truncated)
    with pytest.raises(MNISTFormatError, match="not an IDX file"):
        read_idx(tmp_path / "notes.txt")


def test_digits_are_split_and_normalised():
    data = load_digits_data(seed=0)
    assert data.x_train.shape == (1348, 8, 8, 1) and data.x_test.shape == (449, 8, 8, 1)
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10)) and data.num_classes == 10
    again, other = load_digits_data(seed=0), load_digits_data(seed=1)
    np.testing.assert_array_equal(again.y_test, data.y_test)
    assert not np.array_equal(other.y_test, data.y_test)


def test_classifier_learns_digits_and_records_gradients():
    data = load_digits_data(seed=0)
    classifier = Classifier(data.num_classes, data.x_train.shape[1:], record_gradients=16)
    train = make_classifier_train(classifier, steps=150, batch_size=32, learning_rate=1e-3)
    _, metrics = jax.jit(train)(jax.random.key(0), data)
    loss, gradients = np.asarray(metrics["loss"]), np.asarray(metrics["gradients"])
    assert gradients.shape == (150, 16) and np.isfinite(gradients).all() and np.abs(gradients).max() > 0
    assert loss[-20:].mean() < 0.5 * loss[:5].mean(), f"loss {loss[:5].mean():.2f} -> {loss[-20:].mean():.2f}"
    assert float(metrics["test_accuracy_start"]) < 0.3
    assert float(metrics["test_accuracy"]) > 0.7, "far above chance (0.1) after 150 RMSProp steps"
