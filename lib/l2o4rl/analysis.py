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
            pd.DataFrame({
                "seed": seeds.ravel(), "update": updates.ravel(), "env_steps": (updates.ravel() + 1) * steps_per_update,
                "metric": name, "value": values.ravel().astype(np.float64),
            })
        )  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    for column, value in labels.items():
        frame.insert(0, column, value)
    return frame
