"""Hand-designed baselines: Adam vs RMSProp learning curves on tasks of every kind, and the
learning-rate sweep that tunes every baseline the papers publish no setting for."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from ..agents.brax_reference import reference_ppo
from ..analysis.curves import final_mean
from ..config import Config, config, setting
from ..evaluation import learning_rate_sweep, random_policy_return, training_curves
from ..optim.baselines import BASELINES
from ..optim.catalog import label, name_of
from ..repro.registry import Experiment, one_update_per_task, per_task, register
from ..tasks import BRAX_TASKS, MINATAR_TASKS, SMALL_A2C_ENVS, TASKS, get_task


@config
class BaselineCurvesConfig(Config):
    tasks: tuple[str, ...] = setting(("catch",), each_in=TASKS)
    total_timesteps: tuple[int, ...] = setting((100_000,), one_per="tasks", doc="one budget per task")
    a2c_envs: int | None = setting(None, ge=1, doc="envs of each A2C task; None: the task's (the authors' 512 / 64)")
    optimizers: tuple[str, ...] = setting(("adam", "rmsprop"), each_in=BASELINES)
    seeds: int = setting(3, ge=1)


def baseline_curves(cfg: BaselineCurvesConfig, seed: int):
    """Train every (task, optimizer) for ``cfg.seeds`` seeds (vmapped); tidy curves and random-policy returns."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    curves, floors = [], []
    for task_name, steps in zip(cfg.tasks, cfg.total_timesteps):
        task = get_task(task_name)
        for optimizer in cfg.optimizers:
            curves.append(
                training_curves(
                    task_name,
                    task.optimizer(optimizer),
                    keys,
                    steps,
                    a2c_envs=cfg.a2c_envs,
                    optimizer=label(optimizer),
                )
            )
        floors.append({"task": task_name, "random_return": random_policy_return(task.config.env, keys[0])})
    return {"curves": pd.concat(curves, ignore_index=True), "random": pd.DataFrame(floors)}, {}


BASELINE_TASKS = ("catch", "small_dense_long", "breakout", "inverted_pendulum")

register(
    Experiment(
        name="baseline_curves",
        notebook="01_baselines",
        figures=("baselines_adam_vs_rmsprop",),
        configs={
            "quick": BaselineCurvesConfig(
                tasks=BASELINE_TASKS, total_timesteps=(4_096, 1_280, 16_384, 4_096), seeds=2, a2c_envs=SMALL_A2C_ENVS
            ),
            "cpu": BaselineCurvesConfig(
                tasks=BASELINE_TASKS,
                total_timesteps=(100_000, 1_000_000, 2_000_000, 300_000),
                seeds=5,
                a2c_envs=SMALL_A2C_ENVS,
            ),  # 512 envs would leave 1e6 steps 97 updates
            "paper": BaselineCurvesConfig(
                tasks=BASELINE_TASKS, total_timesteps=(1_000_000, 10_000_000, 10_000_000, 5_000_000), seeds=10
            ),
        },
        compute=baseline_curves,
        smoke=one_update_per_task,
        pieces=per_task,
        revision=1,  # 1: optimizers by label (stored results relabelled in place, numbers unchanged)
    )
)


# Our PPO + the authors' tuned Adam at the authors' full budget (1e7 steps), against the Adam
# returns OPEN's paper normalises by (SPEC 2.4): a check of our inner loop.
register(
    Experiment(
        name="minatar_adam",
        notebook="01_baselines",
        figures=("baselines_minatar_adam",),
        configs={
            # quick repeats baseline_curves' Breakout run (same program: the compilation cache serves it)
            "quick": BaselineCurvesConfig(
                tasks=("breakout",), total_timesteps=(16_384,), optimizers=("adam",), seeds=2
            ),
            "cpu": BaselineCurvesConfig(
                tasks=("breakout",), total_timesteps=(10_000_000,), optimizers=("adam",), seeds=3
            ),
            "paper": BaselineCurvesConfig(
                tasks=MINATAR_TASKS, total_timesteps=(10_000_000,) * 4, optimizers=("adam",), seeds=16
            ),
        },
        compute=baseline_curves,
        smoke=one_update_per_task,
        pieces=per_task,
        revision=1,  # 1: optimizers by label (stored results relabelled in place, numbers unchanged)
    )
)

# A log grid around each task's learning rate (the authors' agent rate), half a decade apart.
LR_FACTORS = (0.1, 0.3, 1.0, 3.0, 10.0)


@config
class LearningRateSweepConfig(Config):
    tasks: tuple[str, ...] = setting(("catch",), each_in=TASKS)
    total_timesteps: tuple[int, ...] = setting(
        (100_000,), one_per="tasks", doc="one budget per task (the comparison's)"
    )
    a2c_envs: int | None = setting(None, ge=1, doc="envs of each A2C task; None: the task's (the authors' 512 / 64)")
    optimizers: tuple[str, ...] = setting(("adam", "rmsprop"), each_in=BASELINES)
    lr_factors: tuple[float, ...] = setting(LR_FACTORS, doc="learning rates tried, as multiples of the task's")
    seeds: int = setting(3, ge=1)


def sweep_table(
    task_name: str,
    optimizer: str,
    lr_factors,
    keys: jax.Array,
    steps: int,
    a2c_envs: int | None = None,
    overrides: dict | None = None,
) -> pd.DataFrame:
    """Hand-designed ``optimizer`` trained on ``task_name`` (its config with ``overrides``) at each
    of ``lr_factors`` x its default rate, one run per key; one row per (rate, seed) with the run's
    final return."""
    rates = get_task(task_name).default_learning_rate(optimizer) * np.asarray(lr_factors)
    returns = learning_rate_sweep(task_name, optimizer, rates, keys, steps, a2c_envs=a2c_envs, overrides=overrides)
    rate, run = np.meshgrid(np.arange(len(rates)), np.arange(len(keys)), indexing="ij")
    return pd.DataFrame(
        {
            "task": task_name,
            "optimizer": label(optimizer),
            "learning_rate": rates[rate.ravel()],
            "seed": run.ravel(),
            "final_return": final_mean(returns).ravel(),
        }
    )


def learning_rate_sweeps(cfg: LearningRateSweepConfig, seed: int):
    """Every (task, optimizer, learning rate) trained for ``cfg.seeds`` seeds; each run's final return."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    frames = [
        sweep_table(task_name, optimizer, cfg.lr_factors, keys, steps, cfg.a2c_envs)
        for task_name, steps in zip(cfg.tasks, cfg.total_timesteps)
        for optimizer in cfg.optimizers
    ]
    return {"sweep": pd.concat(frames, ignore_index=True)}, {}


def best_learning_rates(sweep: pd.DataFrame) -> pd.DataFrame:
    """Per task and optimizer: the learning rate of the highest mean final return (a tie goes to
    the rate nearest the task's own, on a log scale: no change without evidence), that return
    and the runner-up's (how clear the choice is). Means within a relative 1e-6 tie: the float32
    returns of different seeds sum to equal totals only up to their last bits."""
    means = sweep.groupby(["task", "optimizer", "learning_rate"], as_index=False)["final_return"].mean()
    rows = []
    for (task, optimizer), group in means.groupby(["task", "optimizer"], sort=False):
        default = get_task(task).default_learning_rate(name_of(optimizer))
        returns = group["final_return"]
        # No rate with a finished episode (a run too short for one) is no evidence either: all tie.
        tied = group[np.isclose(returns, returns.max(), rtol=1e-6, atol=0)] if returns.notna().any() else group
        best = np.abs(np.log(tied["learning_rate"] / default)).idxmin()
        rest = returns.drop(index=best)
        rows.append(
            {
                "task": task,
                "optimizer": optimizer,
                "learning_rate": group.at[best, "learning_rate"],
                "final_return": returns[best],
                "runner_up_return": rest.max() if len(rest) else np.nan,
            }
        )
    return pd.DataFrame(rows)


# Each task at the budget of the comparison its baselines serve: catch in notebook 01, catch_a2c
# and small_dense_long in 04, the pendulums in 06.
SWEEP_TASKS = ("catch", "catch_a2c", "small_dense_long", "inverted_pendulum", "inverted_double_pendulum")

register(
    Experiment(
        name="lr_sweep",
        notebook="01_baselines",
        figures=("baselines_lr_sweep",),
        configs={
            "quick": LearningRateSweepConfig(
                tasks=("catch",), total_timesteps=(4_096,), lr_factors=(0.1, 1.0, 10.0), seeds=2
            ),
            "cpu": LearningRateSweepConfig(
                tasks=SWEEP_TASKS,
                total_timesteps=(100_000, 100_000, 300_000, 300_000, 500_000),
                a2c_envs=SMALL_A2C_ENVS,
            ),
            "paper": LearningRateSweepConfig(
                tasks=SWEEP_TASKS, total_timesteps=(1_000_000, 500_000, 3_000_000, 5_000_000, 5_000_000), seeds=5
            ),
        },
        compute=learning_rate_sweeps,
        smoke=one_update_per_task,
        pieces=per_task,
        revision=1,  # 1: optimizers by label (stored results relabelled in place, numbers unchanged)
    )
)


@config
class BraxReferenceConfig(Config):
    tasks: tuple[str, ...] = setting(("inverted_pendulum",), each_in=BRAX_TASKS)
    total_timesteps: tuple[int, ...] = setting((300_000,), one_per="tasks", doc="one budget per task")
    seeds: int = setting(3, ge=1)
    num_evals: int = setting(6, ge=2, doc="evaluations of brax's trainer, the first before training")


def brax_reference(cfg: BraxReferenceConfig, seed: int):
    """Our PPO+Adam and brax.training's PPO trainer on each task, same settings and learning rate
    (the task's); ours: training-episode returns per update, brax's: its evaluator's."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    frames = []
    for task_name, steps in zip(cfg.tasks, cfg.total_timesteps):
        task = get_task(task_name)
        ours = training_curves(task_name, task.optimizer("adam", learning_rate=task.learning_rate), keys, steps)
        ours = ours[ours["metric"] == "episode_return"]
        frames.append(
            pd.DataFrame(
                {
                    "task": task_name,
                    "trainer": "ours",
                    "seed": ours["seed"],
                    "env_steps": ours["env_steps"],
                    "return": ours["value"],
                }
            )
        )
        for run in range(cfg.seeds):
            env_steps, returns = reference_ppo(
                task.at(total_timesteps=steps), task.learning_rate, seed + run, cfg.num_evals
            )
            frames.append(
                pd.DataFrame(
                    {
                        "task": task_name,
                        "trainer": "brax.training",
                        "seed": run,
                        "env_steps": env_steps,
                        "return": returns,
                    }
                )
            )
    return {"curves": pd.concat(frames, ignore_index=True)}, {}


register(
    Experiment(
        name="brax_reference",
        notebook="01_baselines",
        figures=("baselines_brax_reference",),
        configs={
            "quick": BraxReferenceConfig(total_timesteps=(8_192,), seeds=1, num_evals=2),
            "cpu": BraxReferenceConfig(
                tasks=("inverted_pendulum", "inverted_double_pendulum"), total_timesteps=(300_000, 500_000)
            ),
            "paper": BraxReferenceConfig(
                tasks=("optim4rl_inverted_double_pendulum", "optim4rl_ant"),
                total_timesteps=(20_000_000, 100_000_000),
                seeds=5,
                num_evals=20,
            ),
        },
        compute=brax_reference,
        smoke=lambda cfg: {**one_update_per_task(cfg), "num_evals": 2},
        pieces=per_task,
    )
)
