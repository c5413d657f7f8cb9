"""Hand-designed baselines: Adam vs RMSProp learning curves on tasks of every kind."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from ..agents.random_policy import make_random_rollout
from ..config import Config, config, setting
from ..envs import make
from ..evaluation import training_curves
from ..optim.baselines import BASELINES
from ..tasks import TASKS, get_task
from .registry import Experiment, register


@config
class BaselineCurvesConfig(Config):
    tasks: tuple[str, ...] = setting(("catch",), each_in=TASKS)
    total_timesteps: tuple[int, ...] = setting((100_000,), one_per="tasks", doc="one budget per task")
    a2c_envs: int | None = setting(None, ge=1, doc="envs of each A2C task; None: the task's (the authors' 512 / 64)")
    optimizers: tuple[str, ...] = setting(("adam", "rmsprop"), each_in=BASELINES)
    seeds: int = setting(3, ge=1)


def random_policy_return(env_name: str, key: jax.Array, num_envs: int = 64, num_steps: int = 2_000) -> float:
    finished = np.asarray(jax.jit(make_random_rollout(*make(env_name), num_envs, num_steps))(key))
    return float(np.nanmean(finished))


def baseline_curves(cfg: BaselineCurvesConfig, seed: int):
    """Train every (task, optimizer) for ``cfg.seeds`` seeds (vmapped); tidy curves and random-policy returns."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    curves, floors = [], []
    for task_name, steps in zip(cfg.tasks, cfg.total_timesteps):
        task = get_task(task_name)
        for optimizer in cfg.optimizers:
            curves.append(training_curves(task_name, task.optimizer(optimizer), keys, steps, a2c_envs=cfg.a2c_envs,
                                          optimizer=optimizer))
        floors.append({"task": task_name, "random_return": random_policy_return(task.config.env, keys[0])})
    return {"curves": pd.concat(curves, ignore_index=True), "random": pd.DataFrame(floors)}, {}


BASELINE_TASKS = ("catch", "small_dense_long", "breakout", "inverted_pendulum")

register(
    Experiment(
        name="baseline_curves",
        notebook="01_baselines",
        figures=("baselines_adam_vs_rmsprop",),
        configs={
            "quick": BaselineCurvesConfig(tasks=BASELINE_TASKS, total_timesteps=(4_096, 1_280, 16_384, 4_096), seeds=2,
                                          a2c_envs=16),
            "cpu": BaselineCurvesConfig(tasks=BASELINE_TASKS, total_timesteps=(100_000, 1_000_000, 2_000_000, 500_000), seeds=5,
                                        a2c_envs=16),  # 512 envs would leave 1e6 steps 97 updates
            "paper": BaselineCurvesConfig(tasks=BASELINE_TASKS, total_timesteps=(1_000_000, 10_000_000, 10_000_000, 5_000_000), seeds=10),
        },
        compute=baseline_curves,
    )
)
