"""Training fresh agents with a given optimizer: the evaluation every notebook shares."""

from __future__ import annotations

from typing import Any

import jax
import optax
import pandas as pd

from .analysis import tidy_metrics
from .tasks import get_task


def training_curves(
    task_name: str, optimizer: optax.GradientTransformation, keys: jax.Array, total_timesteps: int, **labels: Any
) -> pd.DataFrame:
    """Train one agent per key (vmapped) on ``task_name`` with ``optimizer``; tidy per-update metrics.

    ``labels`` (e.g. ``optimizer="adam"``) become constant columns next to ``task``.
    """
    task = get_task(task_name)
    train = task.make_train(optimizer, total_timesteps=total_timesteps)
    _, metrics = jax.jit(jax.vmap(train))(keys)
    return tidy_metrics(metrics, train.agent.cfg.steps_per_update, task=task_name, **labels)
