"""Training fresh agents with a given optimizer: the evaluation every notebook shares (tidy
curves, learning-rate sweeps, random-policy floors, recorded raw gradients)."""

from __future__ import annotations

import contextvars
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from .agents.base import OnPolicyConfig, make_train
from .agents.random_policy import make_random_rollout
from .analysis import gradients as stats
from .analysis.curves import final_window, tidy_metrics
from .envs import make
from .optim.catalog import label
from .tasks import get_task

_PROGRESS = contextvars.ContextVar("training_progress", default=False)
# Environment steps over all of a call's agents from which its run shows a bar: a shorter run
# takes minutes at most on a CPU, and the bar's cost, a compilation that JAX's persistent
# cache cannot serve (see make_train), would weigh on it. The MinAtar (4 x 1e7 steps),
# gridworld (8 x 3e6) and Craftax (4 x 1e6) evaluations and their sweeps show one; an ES
# evaluation (16 x 16k steps) does not.
LONG_RUN_STEPS = 4_000_000


@contextmanager
def training_progress(enabled: bool = True) -> Iterator[None]:
    """Within it, each long run (:data:`LONG_RUN_STEPS`) of :func:`training_curves`,
    :func:`learning_rate_sweep` and :func:`record_agent` shows a progress bar over its updates
    on stderr; the registry turns it on where it computes a ``cpu`` or ``paper`` result. The
    numbers are the same (see :func:`~.agents.base.make_train`)."""
    token = _PROGRESS.set(enabled)
    try:
        yield
    finally:
        _PROGRESS.reset(token)


@contextmanager
def updates_bar(desc: str, run: OnPolicyConfig, agents: int) -> Iterator[Callable[[jax.Array], None] | None]:
    """``on_update`` for :func:`~.agents.base.make_train`: a bar over the updates of ``agents``
    vmapped runs of ``run`` while :func:`training_progress` is on and they are long, else None.
    Block on the run's outputs inside the block: a jitted run returns before it is done."""
    if not _PROGRESS.get() or agents * run.num_updates * run.steps_per_update < LONG_RUN_STEPS:
        yield None
        return
    from tqdm import tqdm

    total = run.num_updates
    with tqdm(total=total, desc=desc, unit="update", mininterval=2.0, file=sys.stderr) as bar:
        yield lambda index: bar.update(max(int(index) - bar.n, 0))
        bar.update(total - bar.n)


def training_curves(
    task_name: str,
    optimizer: optax.GradientTransformation | Callable[[Any], optax.GradientTransformation],
    keys: jax.Array,
    total_timesteps: int,
    /,
    *,
    overrides: Mapping[str, Any] | None = None,
    a2c_envs: int | None = None,
    env_params: Any = None,
    meta_params: Any = None,
    **labels: Any,
) -> pd.DataFrame:
    """Train one agent per key (vmapped) on ``task_name`` with ``optimizer``; tidy per-update metrics.

    ``labels`` (e.g. ``optimizer="adam"``) become constant columns next to ``task``.
    ``overrides`` change the task's config (e.g. ``hidden``); ``a2c_envs`` sets an A2C task's
    envs at a smaller scale (see :meth:`Task.scaled`); ``env_params``, batched like
    ``keys``, give each agent its own environment (e.g. a gridworld level). With
    ``meta_params``, ``optimizer`` is a function ``meta_params -> transformation`` and the
    meta-parameters are an argument of the compiled run, so one compilation serves every
    set of them (e.g. each ablation of a learned optimizer).
    """
    task = get_task(task_name)
    settings = {"total_timesteps": total_timesteps, **task.scaled(a2c_envs), **(overrides or {})}
    run_config = task.at(**settings)
    desc = " ".join(map(str, [task_name, *labels.values()]))
    with updates_bar(desc, run_config, len(keys)) as on_update:

        def run(phi, key, params):
            transformation = optimizer if meta_params is None else optimizer(phi)
            return task.make_train(transformation, on_update=on_update, **settings)(key, params)[1]

        metrics = jax.block_until_ready(jax.jit(jax.vmap(run, in_axes=(None, 0, 0)))(meta_params, keys, env_params))
    return tidy_metrics(metrics, run_config.steps_per_update, task=task_name, **labels)


def learning_rate_sweep(
    task_name: str,
    name: str,
    rates: np.ndarray,
    keys: jax.Array,
    total_timesteps: int,
    /,
    *,
    overrides: Mapping[str, Any] | None = None,
    a2c_envs: int | None = None,
    env_params: Any = None,
) -> np.ndarray:
    """Episode returns ``(rates, seeds, updates)`` of the hand-designed optimizer ``name`` (the
    task's tuned settings but the learning rate) at each of ``rates``: one compilation, the
    rates and seeds vmapped. Arguments as :func:`training_curves`."""
    task = get_task(task_name)
    settings = {"total_timesteps": total_timesteps, **task.scaled(a2c_envs), **(overrides or {})}
    run_config = task.at(**settings)
    desc = f"{task_name} {label(name)} at {len(rates)} rates"
    with updates_bar(desc, run_config, len(rates) * len(keys)) as on_update:

        def returns(rate, key, params):
            optimizer = task.optimizer(name, run_config, learning_rate=rate)
            return task.make_train(optimizer, on_update=on_update, **settings)(key, params)[1]["episode_return"]

        sweep = jax.jit(jax.vmap(jax.vmap(returns, (None, 0, 0)), (0, None, None)))
        return np.asarray(sweep(jnp.asarray(rates), keys, env_params))


def random_policy_return(env_name: str, key: jax.Array, num_envs: int = 64, num_steps: int = 2_000) -> float:
    finished = np.asarray(jax.jit(make_random_rollout(*make(env_name), num_envs, num_steps))(key))
    return float(np.nanmean(finished))


@dataclass
class RecordedRun:
    """One learner's recorded gradients over its seeds, and how well it learnt."""

    source: str  # e.g. "A2C big_dense_long"
    kind: str  # "RL" or "supervised"
    optimizer: str
    gradients: np.ndarray  # (seeds, updates, coordinates)
    layers: list[str]  # per recorded coordinate
    score: str  # what score_start / score_end measure
    score_start: np.ndarray  # (seeds,)
    score_end: np.ndarray


def record_agent(
    task_name: str, optimizer: str, timesteps: int, record: int, keys: jax.Array, a2c_envs: int | None = None
) -> RecordedRun:
    """Train ``task_name`` with ``optimizer`` at the task's (the authors') learning rate for every key;
    scores are the mean return over the first and the last :func:`~.analysis.curves.final_window` updates."""
    task = get_task(task_name)
    # The gradients an agent sees in the authors' setting, not at a baseline's swept rate.
    settings = {"total_timesteps": timesteps, "record_gradients": record, **task.scaled(a2c_envs)}
    agent = task.make_agent(
        task.optimizer(optimizer, task.at(**settings), learning_rate=task.learning_rate), **settings
    )
    with updates_bar(f"{task_name} {label(optimizer)} (recording gradients)", agent.cfg, len(keys)) as on_update:
        _, metrics = jax.block_until_ready(jax.jit(jax.vmap(make_train(agent, on_update)))(keys))
    returns = np.asarray(metrics["episode_return"])
    window = final_window(returns.shape[1])
    return RecordedRun(
        f"{task.agent.upper()} {task_name}",
        "RL",
        label(optimizer),
        np.asarray(metrics["gradients"]),
        stats.recorded_layers(agent),
        "episode return",
        np.nanmean(returns[:, :window], axis=1),
        np.nanmean(returns[:, -window:], axis=1),
    )
