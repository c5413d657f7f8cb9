"""Turning run outputs into tidy tables, and the statistics the notebooks report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def tidy_metrics(metrics: Mapping[str, Any], steps_per_update: int, **labels: Any) -> pd.DataFrame:
    """Per-update scalar metrics shaped ``(seeds, updates)`` -> one row per seed x update x metric.

    Non-scalar metrics (e.g. recorded gradient coordinates) are left out; ``labels`` become
    constant columns (optimizer, env, ...).
    """
    frames = []
    for name, values in metrics.items():
        values = np.asarray(values)
        if values.ndim != 2:
            continue
        seeds, updates = np.meshgrid(np.arange(values.shape[0]), np.arange(values.shape[1]), indexing="ij")
        frames.append(
            pd.DataFrame(
                {
                    "seed": seeds.ravel(),
                    "update": updates.ravel(),
                    "env_steps": (updates.ravel() + 1) * steps_per_update,
                    "metric": name,
                    "value": values.ravel().astype(np.float64),
                }
            )
        )
    frame = pd.concat(frames, ignore_index=True)
    for column, value in labels.items():
        frame.insert(0, column, value)
    return frame


def bootstrap_mean_ci(
    values: np.ndarray, confidence: float = 0.9, resamples: int = 2000, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over axis 0 (seeds) and its percentile-bootstrap interval, for every column.

    ``values`` is ``(seeds, ...)``; returns ``(mean, low, high)`` each shaped ``values.shape[1:]``.
    """
    values = np.asarray(values, np.float64)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, values.shape[0], size=(resamples, values.shape[0]))
    means = values[picks].mean(axis=1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    return values.mean(0), np.percentile(means, tail, axis=0), np.percentile(means, 100.0 - tail, axis=0)


def difference_ci(
    a: np.ndarray, b: np.ndarray, confidence: float = 0.95, resamples: int = 2000, seed: int = 0
) -> tuple[float, float, float]:
    """mean(a) - mean(b) of two independent samples (e.g. per-seed returns of two optimizers)
    and its percentile-bootstrap interval, each sample resampled on its own."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    rng = np.random.default_rng(seed)
    gaps = a[rng.integers(0, a.size, (resamples, a.size))].mean(1) - b[
        rng.integers(0, b.size, (resamples, b.size))
    ].mean(1)
    tail = (1.0 - confidence) / 2.0 * 100.0
    return float(a.mean() - b.mean()), float(np.percentile(gaps, tail)), float(np.percentile(gaps, 100.0 - tail))


def paired_gap_ci(finals: pd.DataFrame, a: str, b: str, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of column ``a`` minus column ``b`` over rows paired by seed (both optimizers trained the
    same seeds, on the same levels), and its percentile-bootstrap interval: pairing removes what
    seeds and levels share, which on a gridworld is far more than what the optimizers differ by."""
    gap, low, high = bootstrap_mean_ci((finals[a] - finals[b]).to_numpy()[:, None], confidence)
    return gap.item(), low.item(), high.item()


def summarise_curves(frame: pd.DataFrame, by: list[str], metric: str = "episode_return", **ci: Any) -> pd.DataFrame:
    """Per group and env step: the mean of ``metric`` over seeds with a bootstrap interval."""
    rows = []
    for keys, group in frame[frame["metric"] == metric].groupby(by):
        table = group.pivot(index="seed", columns="env_steps", values="value")
        mean, low, high = bootstrap_mean_ci(table.to_numpy(), **ci)
        keys = keys if isinstance(keys, tuple) else (keys,)
        rows.append(
            pd.DataFrame({**dict(zip(by, keys)), "env_steps": table.columns, "mean": mean, "low": low, "high": high})
        )
    return pd.concat(rows, ignore_index=True)


FINAL_SHARE = 0.1  # a run's final return: its mean return over the last 10% of its updates


def final_window(updates: int, share: float = FINAL_SHARE) -> int:
    """How many updates a run's final (or initial) return averages: ``share`` of its
    ``updates``, rounded half up, at least one. The one rule every table and figure uses."""
    return max(1, int(updates * share + 0.5))


def final_mean(values: np.ndarray, share: float = FINAL_SHARE) -> np.ndarray:
    """Per-update values ``(..., updates)`` -> each run's final value (NaN-ignoring mean over its
    last :func:`final_window` updates)."""
    return np.nanmean(values[..., -final_window(values.shape[-1], share) :], axis=-1)


def final_values(
    frame: pd.DataFrame, by: list[str], metric: str = "episode_return", share: float = FINAL_SHARE
) -> pd.DataFrame:
    """Per group and seed of a tidy table: the mean of ``metric`` over the last
    :func:`final_window` of its updates (numbered from 0)."""
    selected = frame[frame["metric"] == metric]
    updates = selected.groupby(by)["update"].transform("max") + 1
    late = selected[selected["update"] >= updates - updates.map(lambda n: final_window(n, share))]
    return late.groupby(by + ["seed"], as_index=False)["value"].mean()


def thin(frame: pd.DataFrame, points: int) -> pd.DataFrame:
    """A tidy table with at most ``points`` rows per run and metric: the NaN-ignoring means over
    consecutive blocks of updates, each labelled by its last update and environment step (so a
    stored curve of thousands of updates plots the same at a fraction of the size)."""
    runs = [c for c in frame.columns if c not in ("update", "env_steps", "value")]
    updates = frame.groupby(runs, dropna=False)["update"].transform("max") + 1
    block = frame["update"] * points // updates.clip(lower=points)
    return (
        frame.assign(block=block)
        .groupby([*runs, "block"], sort=False, as_index=False, dropna=False)
        .agg(update=("update", "max"), env_steps=("env_steps", "max"), value=("value", "mean"))
        .drop(columns="block")
    )


def es_rows(metrics: dict[str, np.ndarray], **labels: Any) -> pd.DataFrame:
    """One row per ES generation: its scalar metrics (fitness, nan_members, ...) and ``labels``."""
    scalar = {k: v for k, v in metrics.items() if np.ndim(v) == 1}
    frame = pd.DataFrame({"generation": np.arange(len(scalar["fitness_mean"])), **scalar})
    for column, value in labels.items():
        frame.insert(0, column, value)
    return frame
