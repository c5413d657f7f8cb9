"""The supervised reference for the RL gradient statistics (SPEC 3.1): a small CNN
classifier trained with RMSProp on real images, recording its gradients like an agent.

Data needs no download: scikit-learn's bundled handwritten digits (8x8) by default, or
MNIST from files the user already has (:func:`load_mnist`: IDX files, optionally gzipped,
or Keras' ``mnist.npz``). Training is one pure function of a key, so seeds vmap::

    data = load_digits_data(seed=0)
    classifier = Classifier(num_classes=10, record_gradients=64)
    train = make_classifier_train(classifier, steps=500, batch_size=32, learning_rate=1e-3)
    params, metrics = jax.jit(jax.vmap(train, in_axes=(0, None)))(keys, data)
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NamedTuple

import flax.linen as nn
import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax

from ..agents.common import gradient_subsample_indices

MNIST_FORMATS = (
    "a directory holding the four MNIST IDX files (train-images-idx3-ubyte, train-labels-idx1-ubyte, "
    "t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte; each may end in .gz, and '.idx' for '-idx' is fine), "
    "or an .npz with arrays x_train, y_train, x_test, y_test (Keras' mnist.npz)"
)
MNIST_ROLES = {"x_train": "train-images", "y_train": "train-labels", "x_test": "t10k-images", "y_test": "t10k-labels"}
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class ImageData(NamedTuple):
    """Images ``(N, H, W, 1)`` float32 in [0, 1] and integer labels ``(N,)``; a pytree."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray

    @property
    def num_classes(self) -> int:
        return int(max(self.y_train.max(), self.y_test.max())) + 1


def _images(x: np.ndarray, scale: float) -> np.ndarray:
    return (np.asarray(x, np.float32) / scale)[..., None]


def load_digits_data(seed: int = 0, test_fraction: float = 0.25) -> ImageData:
    """scikit-learn's 1,797 handwritten digits (8x8, 16 grey levels), split at random by ``seed``."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    num_test = int(round(test_fraction * len(order)))
    test, train = order[:num_test], order[num_test:]
    x, y = _images(digits.images, 16.0), digits.target.astype(np.int32)
    return ImageData(x[train], y[train], x[test], y[test])


class MNISTFormatError(ValueError):
    """A file or directory given as MNIST is not in a format :func:`load_mnist` reads."""


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (optionally gzipped): a zero short, a type byte, a rank byte, big-endian dims, data."""
    path = Path(path)
    raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise MNISTFormatError(f"{path} is not an IDX file (bad magic number {raw[:4].hex() or 'empty'})")
    rank = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=rank, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = 4 + 4 * rank + dtype.itemsize * int(np.prod(shape))
    if len(raw) != expected:
        raise MNISTFormatError(
            f"{path}: the header promises {expected} bytes for shape {shape}, the file has {len(raw)}"
        )
    return np.frombuffer(raw, dtype, offset=4 + 4 * rank).reshape(shape)


def _find_idx(directory: Path, role: str) -> Path:
    matches = sorted(p for p in directory.iterdir() if p.name.startswith(role) and "idx" in p.name)
    if len(matches) != 1:
        found = ", ".join(p.name for p in matches) or "none"
        raise MNISTFormatError(
            f"{directory}: need exactly one {role} IDX file, found {found}. Accepted: {MNIST_FORMATS}"
        )
    return matches[0]


def load_mnist(path: str | Path) -> ImageData:
    """MNIST (or any IDX/npz data set of that layout) from a directory of IDX files or an .npz."""
    path = Path(path)
    if path.is_dir():
        arrays = {key: read_idx(_find_idx(path, role)) for key, role in MNIST_ROLES.items()}
    elif path.suffix == ".npz" and path.is_file():
        with np.load(path) as npz:
            missing = [k for k in MNIST_ROLES if k not in npz.files]
            if missing:
                has = ", ".join(npz.files)
                raise MNISTFormatError(f"{path} lacks {', '.join(missing)} (has {has}). Accepted: {MNIST_FORMATS}")
            arrays = {k: npz[k] for k in MNIST_ROLES}
    else:
        raise MNISTFormatError(f"cannot read MNIST from {path}. Accepted: {MNIST_FORMATS}")
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise MNISTFormatError(
                f"{path}: {split} images {x.shape} and labels {y.shape} do not pair up as (N, H, W) and (N,)"
            )
    scale = 255.0 if np.issubdtype(arrays["x_train"].dtype, np.integer) else 1.0
    return ImageData(
        _images(arrays["x_train"], scale),
        arrays["y_train"].astype(np.int32),
        _images(arrays["x_test"], scale),
        arrays["y_test"].astype(np.int32),
    )


DATASETS = ("digits", "mnist")


def load_images(dataset: str, seed: int = 0, mnist_path: str = "") -> ImageData:
    """``"digits"`` (bundled) or ``"mnist"`` from ``mnist_path``."""
    if dataset == "mnist":
        return load_mnist(mnist_path)
    return load_digits_data(seed)


class SmallCNN(nn.Module):
    """Conv(3x3, relu) + 2x2 max-pool per entry of ``channels``, a dense relu layer, a linear head.

    Layers are named ``layer_<depth>`` like the agents' networks, so gradient coordinates
    map to the same kind of layer names.
    """

    num_classes: int
    channels: Sequence[int] = (16, 32)
    hidden: int = 64

    @nn.compact
    def __call__(self, images: jax.Array) -> jax.Array:
        x = images
        for i, width in enumerate(self.channels):
            x = nn.relu(nn.Conv(width, (3, 3), padding="SAME", name=f"layer_{i}")(x))
            x = nn.max_pool(x, (2, 2), strides=(2, 2))
        x = x.reshape(x.shape[0], -1)
        x = nn.relu(nn.Dense(self.hidden, name=f"layer_{len(self.channels)}")(x))
        return nn.Dense(self.num_classes, name="class_head")(x)


class Classifier:
    """A :class:`SmallCNN` on images of ``image_shape``, recording ``record_gradients`` coordinates."""

    def __init__(self, num_classes: int, image_shape: tuple[int, ...] = (8, 8, 1), record_gradients: int = 0):
        self.network = SmallCNN(num_classes)
        self.image_shape = image_shape
        self.record_gradients = record_gradients

    def init_params(self, key: jax.Array):
        return self.network.init(key, jnp.zeros((1,) + self.image_shape))

    def loss(self, params, images: jax.Array, labels: jax.Array) -> jax.Array:
        logits = self.network.apply(params, images)
        return optax.softmax_cross_entropy_with_integer_labels(logits, labels).mean()

    def accuracy(self, params, images: jax.Array, labels: jax.Array) -> jax.Array:
        return jnp.mean(jnp.argmax(self.network.apply(params, images), -1) == labels)

    def gradient_indices(self) -> jax.Array:
        """The fixed gradient coordinates recorded at every step (the agents' rule and key)."""
        shapes = jax.eval_shape(self.init_params, jax.random.key(0))
        return gradient_subsample_indices(shapes, self.record_gradients, jax.random.key(12345))


def make_classifier_train(classifier: Classifier, steps: int, batch_size: int, learning_rate: float) -> Callable:
    """``train(key, data) -> (params, metrics)``: RMSProp on minibatches drawn with replacement.

    ``metrics`` holds per step ``loss`` and ``gradients`` (the recorded coordinates, before
    the update), and ``test_accuracy_start`` / ``test_accuracy`` before and after training.
    """
    optimizer = optax.rmsprop(learning_rate)
    indices = classifier.gradient_indices() if classifier.record_gradients else None

    def train(key: jax.Array, data: ImageData):
        init_key, batch_key = jax.random.split(key)
        params = classifier.init_params(init_key)

        def step(carry, step_key):
            params, opt_state = carry
            picks = jax.random.randint(step_key, (batch_size,), 0, data.y_train.shape[0])
            loss, grads = jax.value_and_grad(classifier.loss)(params, data.x_train[picks], data.y_train[picks])
            updates, opt_state = optimizer.update(grads, opt_state, params)
            metrics = {"loss": loss}
            if indices is not None:
                metrics["gradients"] = jax.flatten_util.ravel_pytree(grads)[0][indices]
            return (optax.apply_updates(params, updates), opt_state), metrics

        start_accuracy = classifier.accuracy(params, data.x_test, data.y_test)
        (params, _), metrics = jax.lax.scan(step, (params, optimizer.init(params)), jax.random.split(batch_key, steps))
        metrics["test_accuracy_start"] = start_accuracy
        metrics["test_accuracy"] = classifier.accuracy(params, data.x_test, data.y_test)
        return params, metrics

    return train
