"""Aggregate performance over runs and tasks with stratified-bootstrap intervals (rliable's).

Scores are normalised returns shaped ``(runs, tasks)``. The aggregates follow Agarwal et
al. (2021), "Deep RL at the edge of the statistical precipice", as the ``rliable`` package
computes them (implemented here to keep its dependencies, arch and statsmodels, out):

- :func:`iqm`: the mean of the middle 50% of all run x task scores (25% cut from each end);
- :func:`mean`: the mean over tasks of the mean over runs;
- :func:`optimality_gap`: the mean shortfall below ``gamma`` (default 1: Adam's return).

:func:`interval_estimates` resamples runs with replacement *within each task* (stratified
bootstrap) and reports the percentile interval of each aggregate.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd
from scipy import stats

Aggregate = Callable[[np.ndarray], float]


def iqm(scores: np.ndarray) -> float:
    """Interquartile mean of every run x task score."""
    return float(stats.trim_mean(np.asarray(scores, np.float64), proportiontocut=0.25, axis=None))


def mean(scores: np.ndarray) -> float:
    """Mean over tasks of the per-task mean over runs."""
    return float(np.mean(np.mean(np.asarray(scores, np.float64), axis=0)))


def optimality_gap(scores: np.ndarray, gamma: float = 1.0) -> float:
    """Mean amount by which scores fall short of ``gamma`` (scores above it count as ``gamma``)."""
    return float(np.mean(gamma - np.minimum(np.asarray(scores, np.float64), gamma)))


AGGREGATES: dict[str, Aggregate] = {"IQM": iqm, "mean": mean, "optimality gap": optimality_gap}


def stratified_resamples(scores: np.ndarray, reps: int, rng: np.random.Generator) -> np.ndarray:
    """``(reps, runs, tasks)``: each task's column resampled with replacement on its own."""
    scores = np.asarray(scores, np.float64)
    runs, tasks = scores.shape
    picks = rng.integers(0, runs, size=(reps, runs, tasks))
    return np.take_along_axis(np.broadcast_to(scores, (reps, runs, tasks)), picks, axis=1)


def interval_estimates(
    scores: Mapping[str, np.ndarray],
    aggregates: Mapping[str, Aggregate] = AGGREGATES,
    reps: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> pd.DataFrame:
    """Point estimate and stratified-bootstrap percentile interval of each aggregate.

    ``scores`` maps an algorithm to its ``(runs, tasks)`` normalised scores; one row per
    algorithm x aggregate with columns ``algorithm, aggregate, value, low, high``.
    """
    rows = []
    tail = (1.0 - confidence) / 2.0 * 100.0
    for index, (name, values) in enumerate(scores.items()):
        values = np.asarray(values, np.float64)
        if values.ndim != 2:
            raise ValueError(f"scores[{name!r}] must be shaped (runs, tasks); got shape {values.shape}")
        resamples = stratified_resamples(values, reps, np.random.default_rng([seed, index]))
        for aggregate, fn in aggregates.items():
            boot = np.array([fn(r) for r in resamples])
            low, high = np.percentile(boot, [tail, 100.0 - tail])
            rows.append({"algorithm": name, "aggregate": aggregate, "value": fn(values), "low": low, "high": high})
    return pd.DataFrame(rows)
