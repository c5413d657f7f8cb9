"""Gradient statistics: how spread out recorded gradient coordinates are, and how their
distribution drifts over a learner's life (SPEC 1.1, 3.1).

The inputs are recorded gradient samples, shaped ``(updates, coordinates)`` or flat: the
fixed random coordinates an agent (``OnPolicyConfig.record_gradients``) or a classifier
(:mod:`l2o4rl.analysis.supervised`) records at every update.
"""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd
from scipy.stats import wasserstein_distance

from ..agents.common import leaf_names

LOG_EPS = 1e-8  # the paper's histograms show log10(|g| + 1e-8): exact zeros land at -8
LOG_BIN_EDGES = np.arange(-9.0, 5.0 + 0.25, 0.5)  # -9, -8.5, ..., 5
STAGES = ("beginning", "middle", "end")
SMALL_GRADIENT = 1e-4


def recorded_layers(learner) -> list[str]:
    """The parameter each recorded coordinate of ``learner`` belongs to, e.g. ``net/layer_1/kernel``.

    ``learner`` is an agent or a :class:`l2o4rl.analysis.supervised.Classifier`: anything with
    ``init_params(key)`` and ``gradient_indices()``. flax's ``params`` level is left out.
    """
    shapes = jax.eval_shape(learner.init_params, jax.random.key(0))
    names = leaf_names(shapes, learner.gradient_indices())
    return ["/".join(part for part in name.split("/") if part != "params") for name in names]


def log_magnitude(g) -> np.ndarray:
    """``log10(|g| + 1e-8)``, the quantity of the paper's histograms."""
    return np.log10(np.abs(np.asarray(g, np.float64)) + LOG_EPS)


def log_histogram(g) -> np.ndarray:
    """Share of ``g`` in each bin of :data:`LOG_BIN_EDGES` over ``log10(|g| + 1e-8)`` (sums to 1)."""
    counts, _ = np.histogram(np.clip(log_magnitude(g), LOG_BIN_EDGES[0], LOG_BIN_EDGES[-1]), LOG_BIN_EDGES)
    return counts / max(counts.sum(), 1)


def log_range_width(g, low: float = 1.0, high: float = 99.0) -> float:
    """Decades between the ``low`` and ``high`` percentiles of log10|g| over the nonzero ``g``.

    Exact zeros are left out: they have no logarithm, and their share is reported apart.
    """
    nonzero = np.abs(np.asarray(g, np.float64))
    nonzero = nonzero[nonzero > 0]
    if nonzero.size == 0:
        return 0.0
    low_value, high_value = np.percentile(np.log10(nonzero), [low, high])
    return float(high_value - low_value)


def share_below(g, threshold: float = SMALL_GRADIENT) -> float:
    """Share of coordinates with ``|g| < threshold`` (exact zeros included)."""
    return float(np.mean(np.abs(np.asarray(g)) < threshold))


def share_within(g, reference, low: float = 0.5, high: float = 99.5) -> float:
    """Share of ``g`` whose ``log10(|g| + 1e-8)`` lies between the ``low`` and ``high``
    percentiles of ``reference``'s: how much of ``g``'s support the reference covers."""
    low_value, high_value = np.percentile(log_magnitude(reference), [low, high])
    magnitude = log_magnitude(g)
    return float(np.mean((magnitude >= low_value) & (magnitude <= high_value)))


def stage_of(update, num_updates: int) -> np.ndarray:
    """The training stage (:data:`STAGES`: thirds of the run) of each update index."""
    third = np.minimum(np.asarray(update) * len(STAGES) // max(num_updates, 1), len(STAGES) - 1)
    return np.asarray(STAGES)[third]


def drift(earlier, later) -> float:
    """Wasserstein-1 distance between the ``log10(|g| + 1e-8)`` of two samples, in decades."""
    return float(wasserstein_distance(log_magnitude(earlier).ravel(), log_magnitude(later).ravel()))


def stage_drift(gradients) -> float:
    """:func:`drift` from the first to the last third of ``gradients`` shaped ``(updates, coordinates)``."""
    gradients = np.asarray(gradients)
    stages = stage_of(np.arange(len(gradients)), len(gradients))
    return drift(gradients[stages == STAGES[0]], gradients[stages == STAGES[-1]])


def histogram_table(samples: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per group of ``samples`` (a frame with a ``value`` column): the share in each log bin."""
    rows = []
    for keys, group in samples.groupby(by, sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        rows.append(
            pd.DataFrame(
                {
                    **dict(zip(by, keys)),
                    "bin_low": LOG_BIN_EDGES[:-1],
                    "bin_high": LOG_BIN_EDGES[1:],
                    "share": log_histogram(group["value"].to_numpy()),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)
