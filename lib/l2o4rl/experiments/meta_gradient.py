"""Meta-gradient experiments (Optim4RL, SPEC 1.3-1.5): pipeline vs lockstep, and learned
optimizers vs hand-designed ones, each judged by training fresh agents with the result.

Every comparison includes each learned optimizer's untrained starting point: the Optim4RL
structure alone already trains easy tasks, so only "meta-trained beats untrained" shows
that meta-training learned something.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import pandas as pd

from ..analysis.curves import tidy_metrics
from ..config import Config, config, setting
from ..evaluation import training_curves
from ..meta.gradient import (
    GRIDWORLD_LEARNING_RATES,
    GRIDWORLD_REWARD_SCALES,
    GRIDWORLD_TASK_GRAD_NORM,
    MetaGradientConfig,
    MetaGradientTrainer,
)
from ..meta.loop import run_checkpoints
from ..meta.pipeline import RESET_MODES
from ..optim.baselines import BASELINES
from ..optim.catalog import INITS, META_GRADIENT, label, untrained_label
from ..optim.checkpoints import flat_meta_params
from ..repro.registry import Experiment, register, updates
from ..tasks import A2C_TASKS, GRIDWORLDS, SMALL_A2C_ENVS, get_task


def meta_train(meta_cfg: MetaGradientConfig, key: jax.Array, **labels: Any):
    """Meta-train from ``key``: ``(trainer, final meta-params, untrained meta-params, tidy outer-step curves)``."""
    trainer = MetaGradientTrainer(meta_cfg)
    initial = trainer.init(key).meta_params
    run = "-".join(str(word) for word in np.asarray(jax.random.key_data(key)).ravel())  # one run per config and key
    with run_checkpoints("meta_gradient", f"{meta_cfg.key()}-{run}") as directory:  # a killed run resumes
        state, metrics = trainer.train(key, checkpoint_dir=directory)
    steps_per_outer = (
        meta_cfg.num_agents * (meta_cfg.inner_updates + 1) * sum(g.config.num_steps for g in trainer.groups)
    )
    curves = tidy_metrics({k: np.asarray(v)[None] for k, v in metrics.items()}, steps_per_outer, **labels)
    return trainer, state.meta_params, initial, curves.rename(columns={"update": "outer_step"}).drop(columns="seed")


def evaluate_learned(
    trainer: MetaGradientTrainer,
    task: str,
    meta_params,
    keys,
    total_timesteps: int,
    a2c_envs: int | None = None,
    **labels,
):
    """Fresh agents trained by the learned optimizer at ``meta_params`` (one compilation for any of them)."""
    build = lambda phi: trainer.optimizer(phi, task)  # noqa: E731
    return training_curves(task, build, keys, total_timesteps, meta_params=meta_params, a2c_envs=a2c_envs, **labels)


# -- 03: pipeline vs lockstep ---------------------------------------------------------------
@config
class PipelineConfig(Config):
    tasks: tuple[str, ...] = setting(("catch_a2c", "small_dense_long"), each_in=A2C_TASKS)
    reset_periods: tuple[int, ...] = setting((32, 72), one_per="tasks", doc="m per task")
    eval_timesteps: tuple[int, ...] = setting((100_000, 300_000), one_per="tasks", doc="budget of each evaluation run")
    init: str = setting("random", choices=INITS, doc="Optim4RL's initial meta-parameters")
    modes: tuple[str, ...] = setting(RESET_MODES, each_in=RESET_MODES, doc="pipeline and its ablations")
    num_agents: int = setting(32, ge=1)
    outer_steps: int = setting(200, ge=1)
    meta_lr: float = setting(1e-3, gt=0.0)
    eval_seeds: int = setting(10, ge=1)
    a2c_envs: int | None = setting(
        None, ge=1, doc="envs of each evaluation run; None: the task's (the authors' 512 / 64)"
    )


def pipeline_training(cfg: PipelineConfig, seed: int):
    """Optim4RL meta-trained with pipeline and its ablations (same compute, same seeds), then evaluated."""
    meta_key, eval_key = jax.random.split(jax.random.key(seed))
    eval_keys = jax.random.split(eval_key, cfg.eval_seeds)
    meta_curves, curves, arrays = [], [], {}
    for task, period, budget in zip(cfg.tasks, cfg.reset_periods, cfg.eval_timesteps):
        for mode in cfg.modes:
            meta_cfg = MetaGradientConfig(
                tasks=(task,),
                init=cfg.init,
                num_agents=cfg.num_agents,
                reset_period=period,
                resets=mode,
                outer_steps=cfg.outer_steps,
                meta_lr=cfg.meta_lr,
            )
            trainer, phi, phi0, outer = meta_train(meta_cfg, meta_key, task=task, mode=mode)
            meta_curves.append(outer)
            arrays[f"{task}/{mode}"] = flat_meta_params(phi)
            curves.append(
                evaluate_learned(trainer, task, phi, eval_keys, budget, cfg.a2c_envs, optimizer=f"Optim4RL ({mode})")
            )
        # Every mode starts from the same meta-parameters: the shared untrained control.
        curves.append(
            evaluate_learned(
                trainer, task, phi0, eval_keys, budget, cfg.a2c_envs, optimizer=untrained_label("optim4rl")
            )
        )
        curves.append(
            training_curves(
                task, get_task(task).optimizer("adam"), eval_keys, budget, a2c_envs=cfg.a2c_envs, optimizer="Adam"
            )
        )
    tables = {"meta_curves": pd.concat(meta_curves, ignore_index=True), "curves": pd.concat(curves, ignore_index=True)}
    return tables, arrays


register(
    Experiment(
        name="pipeline_training",
        notebook="03_pipeline_training",
        figures=("pipeline_lifetimes", "pipeline_meta_training", "pipeline_vs_lockstep"),
        configs={
            "quick": PipelineConfig(
                tasks=("small_dense_short",),
                reset_periods=(4,),
                eval_timesteps=(1_280,),
                num_agents=4,
                outer_steps=8,
                eval_seeds=2,
                a2c_envs=SMALL_A2C_ENVS,
            ),
            # as in notebook 04: from the random init the structure already trains both tasks; evaluations at
            # 16 envs (the authors' 512 would leave a 3e5-step budget 29 updates)
            "cpu": PipelineConfig(num_agents=16, init="damped", meta_lr=3e-3, a2c_envs=SMALL_A2C_ENVS),
            "paper": PipelineConfig(
                reset_periods=(64, 288),
                eval_timesteps=(500_000, 3_000_000),
                num_agents=64,
                outer_steps=1_000,
                eval_seeds=10,
            ),
        },
        compute=pipeline_training,
        smoke=lambda cfg: {"outer_steps": 2, "eval_timesteps": updates(cfg.tasks, 1, cfg.a2c_envs)},
    )
)


# -- 04: Optim4RL vs LinearOptim vs L2L vs Adam/RMSProp -----------------------------------
@config
class MetaTrainingConfig(Config):
    tasks: tuple[str, ...] = setting(("catch_a2c", "small_dense_long", "big_dense_long"), each_in=A2C_TASKS)
    reset_periods: tuple[int, ...] = setting((32, 72, 72), one_per="tasks", doc="m per task")
    eval_timesteps: tuple[int, ...] = setting((100_000, 300_000, 1_000_000), one_per="tasks", doc="per task")
    optimizers: tuple[str, ...] = setting(META_GRADIENT, each_in=META_GRADIENT)
    baselines: tuple[str, ...] = setting(("adam", "rmsprop"), each_in=BASELINES)
    init: str = setting("random", choices=INITS, doc="every learned optimizer's initial meta-parameters")
    num_agents: int = setting(32, ge=1)
    outer_steps: tuple[int, ...] = setting((78, 585, 585), one_per="tasks", doc="per task (SPEC 1.4's lengths)")
    meta_lr: float = setting(1e-3, gt=0.0)
    eval_seeds: int = setting(10, ge=1)
    a2c_envs: int | None = setting(
        None, ge=1, doc="envs of each evaluation run; None: the task's (the authors' 512 / 64)"
    )
    gridworld_agents: int = setting(8, ge=0, doc="agents per gridworld for the multi-gridworld Optim4RL (0: skip)")
    gridworld_reset_period: int = setting(72, ge=1)
    gridworld_outer_steps: int = setting(585, ge=1)


def meta_training(cfg: MetaTrainingConfig, seed: int):
    """Each learned optimizer meta-trained per task and evaluated (with its untrained control and the
    baselines); plus one Optim4RL meta-trained on all six gridworlds at once (used by notebook 06)."""
    meta_key, eval_key = jax.random.split(jax.random.key(seed))
    eval_keys = jax.random.split(eval_key, cfg.eval_seeds)
    meta_curves, curves, arrays = [], [], {}
    for task, period, budget, steps in zip(cfg.tasks, cfg.reset_periods, cfg.eval_timesteps, cfg.outer_steps):
        for name in cfg.optimizers:
            meta_cfg = MetaGradientConfig(
                tasks=(task,),
                optimizer=name,
                init=cfg.init,
                num_agents=cfg.num_agents,
                reset_period=period,
                outer_steps=steps,
                meta_lr=cfg.meta_lr,
            )
            trainer, phi, phi0, outer = meta_train(meta_cfg, meta_key, task=task, optimizer=label(name))
            meta_curves.append(outer)
            arrays[f"{name}@{task}"] = flat_meta_params(phi)
            for optimizer, params in ((label(name), phi), (untrained_label(name), phi0)):
                curves.append(
                    evaluate_learned(trainer, task, params, eval_keys, budget, cfg.a2c_envs, optimizer=optimizer)
                )
        for name in cfg.baselines:
            curves.append(
                training_curves(
                    task,
                    get_task(task).optimizer(name),
                    eval_keys,
                    budget,
                    a2c_envs=cfg.a2c_envs,
                    optimizer=label(name),
                )
            )
    if cfg.gridworld_agents:
        meta_cfg = MetaGradientConfig(
            tasks=GRIDWORLDS,
            init=cfg.init,
            num_agents=cfg.gridworld_agents,
            reset_period=cfg.gridworld_reset_period,
            outer_steps=cfg.gridworld_outer_steps,
            meta_lr=cfg.meta_lr,
            reward_scales=GRIDWORLD_REWARD_SCALES,
            learning_rates=GRIDWORLD_LEARNING_RATES,
            task_grad_norm=GRIDWORLD_TASK_GRAD_NORM,
        )
        _, phi, _, outer = meta_train(meta_cfg, meta_key, task="six gridworlds", optimizer="Optim4RL")
        meta_curves.append(outer)
        arrays["optim4rl@gridworlds"] = flat_meta_params(phi)
    tables = {"meta_curves": pd.concat(meta_curves, ignore_index=True), "curves": pd.concat(curves, ignore_index=True)}
    return tables, arrays


register(
    Experiment(
        name="optim4rl_meta_training",
        notebook="04_meta_training_optim4rl",
        figures=("meta_training_returns", "meta_training_curves"),
        configs={
            "quick": MetaTrainingConfig(
                tasks=("small_dense_short",),
                reset_periods=(4,),
                eval_timesteps=(1_280,),
                optimizers=("optim4rl",),
                baselines=("adam",),
                init="damped",
                num_agents=2,
                outer_steps=(4,),
                eval_seeds=2,
                gridworld_agents=0,
                a2c_envs=SMALL_A2C_ENVS,
            ),
            # The conv agents of big_dense_long cost ~1.5 ms per env step for 10 seeds on 2 cores (eight 1e6-step
            # evaluations: ~3.5 h), so cpu scale compares on catch and small_dense_long; the random init's structure
            # alone already trains both, so every learned optimizer starts "damped" (steps 10x too small).
            "cpu": MetaTrainingConfig(
                tasks=("catch_a2c", "small_dense_long"),
                reset_periods=(32, 72),
                eval_timesteps=(100_000, 300_000),
                init="damped",
                outer_steps=(80, 300),
                meta_lr=3e-3,
                gridworld_agents=4,
                gridworld_outer_steps=150,
                a2c_envs=SMALL_A2C_ENVS,
            ),
            "paper": MetaTrainingConfig(
                reset_periods=(64, 288, 288),
                eval_timesteps=(500_000, 3_000_000, 10_000_000),
                num_agents=64,
                gridworld_agents=64,
                gridworld_reset_period=288,
            ),
        },
        compute=meta_training,
        smoke=lambda cfg: {
            "outer_steps": (2,) * len(cfg.tasks),
            "gridworld_outer_steps": 2,
            "eval_timesteps": updates(cfg.tasks, 1, cfg.a2c_envs),
        },
        revision=1,  # 1: the baselines at the learning rates of the stored sweep (notebook 01)
    )
)
