"""The identity experiment (SPEC 1.1): can a small recurrent net reproduce the gradients it is fed?

A net shaped like a coordinate-wise learned optimizer (MLP [16, 16], an LSTM of 8, a
linear head; weights shared over coordinates) is trained with Adam to output its own input
over sequences of one coordinate's consecutive gradients. Accuracy is the share of outputs
within +-10% of the input. What the net sees and outputs is the encoding:

``raw``
    g in, g out, trained by squared error on g.
``rescaled``
    the same after dividing by the training set's root mean square (and multiplying the
    output back): tells whether the tiny absolute size of g, rather than its spread, is
    what defeats the raw net.
``sign_log``
    the gradient processing of Optim4RL: ``(sign g, log(|g| + eps))`` in, a log-magnitude
    ``o`` out, trained by squared error against ``log(|g| + eps)`` and decoded as
    ``sign(g) exp(o)``, the convention of Optim4RL's ``m = sign(g) exp(...)``.

Every encoding is judged on its decoded output against g itself, one criterion for all.
Because ``sign_log`` takes the sign from its input, only the magnitude has to be learnt
there; that is the point of the processing, not a loophole: +-10% of g has g's sign.
Sequences holding an exact zero are left out of the data: no output but 0 itself is
within 10% of 0, and ``sign_log`` would get it free (``sign 0 = 0``).

The synthetic control (SPEC 1.1) is one series of 6 segments, segment i (1..6) drawn
uniformly from [i - 1, i + 1]: a drifting but well-scaled signal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from ..config import check_choice
from ..initializers import orthogonal
from ..optim.processing import LOG_EPS, sign_log

ENCODINGS = ("raw", "rescaled", "sign_log")
TOLERANCE = 0.1  # an output counts as right within +-10% of its target


class IdentityNet(nn.Module):
    """Per coordinate and time step: MLP [16, 16] (relu), then an LSTM(8) over time, then Dense(1)."""

    hidden: Sequence[int] = (16, 16)
    memory: int = 8

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        """``features (sequences, time, inputs) -> outputs (sequences, time)``."""
        x = features
        for width in self.hidden:
            x = nn.relu(nn.Dense(width)(x))
        # flax's LSTM default (orthogonal via LAPACK QR) can deadlock under vmap on CPU; see l2o4rl.initializers.
        x = nn.RNN(nn.OptimizedLSTMCell(self.memory, recurrent_kernel_init=orthogonal()))(x)
        return nn.Dense(1)(x)[..., 0]


def identity_accuracy(prediction, target, tolerance: float = TOLERANCE) -> jax.Array:
    """Share of ``prediction`` within ``+-tolerance * |target|`` of ``target``."""
    return jnp.mean(jnp.abs(prediction - target) <= tolerance * jnp.abs(target))


def sequences(series, length: int = 5) -> np.ndarray:
    """Non-overlapping windows of ``length`` consecutive values of each column of ``series``
    ``(time, columns)`` (or one series ``(time,)``); windows holding an exact zero are dropped."""
    series = np.asarray(series, np.float32)
    series = series[:, None] if series.ndim == 1 else series
    usable = (series.shape[0] // length) * length
    windows = series[:usable].T.reshape(-1, length)
    return windows[np.all(windows != 0, axis=1)]


def synthetic_series(key: jax.Array, segments: int = 6, segment_length: int = 500) -> np.ndarray:
    """``segments * segment_length`` values; segment i (from 1) uniform in [i - 1, i + 1]."""
    centres = np.repeat(np.arange(1, segments + 1, dtype=np.float32), segment_length)
    return centres + np.asarray(jax.random.uniform(key, centres.shape, minval=-1.0, maxval=1.0))


def encoding_index(name: str) -> int:
    check_choice("identity encoding", name, ENCODINGS)
    return ENCODINGS.index(name)


# The encodings are selected by a traced index, so that one compiled program vmaps over all
# of them. Each sees two features: the raw encodings' second is a constant 0, which leaves
# the raw net's function class unchanged.
def encode(g: jax.Array, encoding: jax.Array, scale: jax.Array) -> jax.Array:
    """The net's inputs ``(..., 2)`` for gradients ``g`` under ``encoding`` (an index into :data:`ENCODINGS`)."""
    raw = jnp.stack([g / scale, jnp.zeros_like(g)], axis=-1)
    return jnp.where(encoding == ENCODINGS.index("sign_log"), sign_log(g), raw)


def target(g: jax.Array, encoding: jax.Array, scale: jax.Array) -> jax.Array:
    """What the net is trained to output for ``g``."""
    return jnp.where(encoding == ENCODINGS.index("sign_log"), jnp.log(jnp.abs(g) + LOG_EPS), g / scale)


def decode(output: jax.Array, g: jax.Array, encoding: jax.Array, scale: jax.Array) -> jax.Array:
    """The gradient an output stands for (sign_log: the input's sign times ``exp(output)``)."""
    is_log = encoding == ENCODINGS.index("sign_log")
    return jnp.where(is_log, jnp.sign(g) * jnp.exp(jnp.where(is_log, output, 0.0)), output * scale)


def make_identity_train(epochs: int, batch_size: int) -> Callable:
    """``train(key, encoding, learning_rate, train_sequences, test_sequences) -> metrics``, each
    ``(epochs,)``: the mean training ``loss`` and the ``test_accuracy`` after every epoch (one
    pass over the training sequences in shuffled minibatches; a remainder smaller than a
    minibatch is skipped). ``encoding`` is an index into :data:`ENCODINGS`."""
    net = IdentityNet()

    def train(key, encoding, learning_rate, train_sequences, test_sequences):
        rms = jnp.sqrt(jnp.mean(train_sequences**2))
        scale = jnp.where(encoding == ENCODINGS.index("rescaled"), rms, 1.0)
        optimizer = optax.adam(learning_rate)
        init_key, shuffle_key = jax.random.split(key)
        params = net.init(init_key, encode(train_sequences[:1], encoding, scale))
        size = min(batch_size, train_sequences.shape[0])
        num_batches = train_sequences.shape[0] // size

        def loss_fn(params, g):
            return jnp.mean((net.apply(params, encode(g, encoding, scale)) - target(g, encoding, scale)) ** 2)

        def step(carry, batch_indices):
            params, opt_state = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, train_sequences[batch_indices])
            updates, opt_state = optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state), loss

        def epoch(carry, epoch_key):
            order = jax.random.permutation(epoch_key, train_sequences.shape[0])[: num_batches * size]
            carry, losses = jax.lax.scan(step, carry, order.reshape(num_batches, size))
            output = net.apply(carry[0], encode(test_sequences, encoding, scale))
            accuracy = identity_accuracy(decode(output, test_sequences, encoding, scale), test_sequences)
            return carry, {"loss": losses.mean(), "test_accuracy": accuracy}

        _, metrics = jax.lax.scan(epoch, (params, optimizer.init(params)), jax.random.split(shuffle_key, epochs))
        return metrics

    return train


def split_sequences(
    windows: np.ndarray, key: jax.Array, test_fraction: float, max_sequences: int
) -> tuple[np.ndarray, np.ndarray]:
    """A random subset of at most ``max_sequences`` windows, split into train and test."""
    order = np.asarray(jax.random.permutation(key, len(windows)))[:max_sequences]
    num_test = max(1, int(round(test_fraction * len(order))))
    return windows[order[num_test:]], windows[order[:num_test]]


def run_identity(
    train_sequences: np.ndarray,
    test_sequences: np.ndarray,
    key: jax.Array,
    *,
    encodings: Sequence[str] = ENCODINGS,
    learning_rates: Sequence[float] = (3e-3, 1e-3, 3e-4, 1e-4),
    seeds: int = 3,
    epochs: int = 1000,
    batch_size: int = 256,
) -> pd.DataFrame:
    """Every encoding x seed x learning rate, in one vmapped program: one row per epoch."""
    grid = [(e, s, r) for e in encodings for s in range(seeds) for r in learning_rates]
    encoding, seed, rate = (np.asarray(column) for column in zip(*grid))
    keys = jax.random.split(key, seeds)[seed]  # a seed's net starts alike under every encoding and rate
    train = jax.vmap(make_identity_train(epochs, batch_size), in_axes=(0, 0, 0, None, None))
    indices = jnp.asarray([encoding_index(e) for e in encoding])
    metrics = jax.jit(train)(keys, indices, jnp.asarray(rate, jnp.float32), train_sequences, test_sequences)
    return pd.DataFrame(
        {
            "encoding": np.repeat(encoding, epochs),
            "learning_rate": np.repeat(rate, epochs),
            "seed": np.repeat(seed, epochs),
            "epoch": np.tile(np.arange(1, epochs + 1), len(grid)),
            "loss": np.asarray(metrics["loss"], np.float64).ravel(),
            "test_accuracy": np.asarray(metrics["test_accuracy"], np.float64).ravel(),
        }
    )


def best_rate_accuracy(curves: pd.DataFrame, by: Sequence[str] = ("data", "encoding")) -> pd.DataFrame:
    """Per group, the final-epoch test accuracy of every seed at the learning rate with the best mean.

    The rate is chosen on the held-out sequences it is then reported on, as a sweep's best
    is; with a handful of rates the optimism this adds is small.
    """
    final = curves[curves["epoch"] == curves["epoch"].max()]
    by = list(by)
    means = final.groupby(by + ["learning_rate"], as_index=False)["test_accuracy"].mean()
    best = means.loc[means.groupby(by)["test_accuracy"].idxmax(), by + ["learning_rate"]]
    return final.merge(best, on=by + ["learning_rate"])[by + ["learning_rate", "seed", "test_accuracy"]]
