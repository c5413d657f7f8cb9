"""Overview: a random policy on a few gymnax environments, to exercise the whole chain."""

from __future__ import annotations

import jax
import numpy as np
import pandas as pd

from ..agents.random_policy import make_random_rollout
from ..config import Config, config, setting
from ..envs import ENV_NAMES, GYMNAX_ENVS, make
from ..repro.registry import Experiment, register
from ..runtime import timed


@config
class RandomBaselineConfig(Config):
    envs: tuple[str, ...] = setting(("Catch-bsuite", "CartPole-v1"), each_in=ENV_NAMES)
    num_envs: int = setting(16, ge=1)
    num_steps: int = setting(500, ge=1)


def random_baseline(cfg: RandomBaselineConfig, seed: int):
    """Episode returns of a uniformly random policy, and the env-only step rate."""
    episodes, speed = [], []
    for env_index, name in enumerate(cfg.envs):
        env, params = make(name)
        rollout = jax.jit(make_random_rollout(env, params, cfg.num_envs, cfg.num_steps))
        key = jax.random.fold_in(jax.random.key(seed), env_index)
        compiled, compile_s = timed(lambda rollout=rollout, key=key: rollout.lower(key).compile())
        finished, run_s = timed(lambda compiled=compiled, key=key: compiled(key))
        finished = np.asarray(finished)
        step_index, env_id = np.nonzero(~np.isnan(finished))
        episodes.append(
            pd.DataFrame(
                {"env": name, "env_id": env_id, "end_step": step_index, "return": finished[step_index, env_id]}
            )
        )
        speed.append(
            {
                "env": name,
                "steps": cfg.num_envs * cfg.num_steps,
                "compile_s": compile_s,
                "run_s": run_s,
                "steps_per_s": cfg.num_envs * cfg.num_steps / run_s,
            }
        )
    return {"episodes": pd.concat(episodes, ignore_index=True), "speed": pd.DataFrame(speed)}, {}


OVERVIEW = register(
    Experiment(
        name="random_baseline",
        notebook="00_overview",
        figures=("overview_random_returns",),
        configs={
            "quick": RandomBaselineConfig(num_envs=16, num_steps=500),
            "cpu": RandomBaselineConfig(
                envs=("Catch-bsuite", "CartPole-v1", "Breakout-MinAtar"), num_envs=64, num_steps=5_000
            ),
            "paper": RandomBaselineConfig(
                envs=tuple(name for name in GYMNAX_ENVS if name != "DeepSea-bsuite"),
                num_envs=1024,
                num_steps=10_000,
            ),
        },
        compute=random_baseline,
        smoke=lambda cfg: {"num_steps": 10},
        timings=("speed",),
    )
)
