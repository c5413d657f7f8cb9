"""Brax tasks behind gymnax 1.0's interface (episode length, auto reset, action clip).

Brax is used for its environments only: its own ``brax.training`` trainers call
``jax.device_put_replicated``, which current jax removed.
"""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from flax import struct
from gymnax.environments import environment, spaces

from ..config import check_choice

BRAX_ENVS = (
    "ant",
    "humanoid",
    "walker2d",
    "inverted_pendulum",
    "inverted_double_pendulum",
    "reacher",
    "hopper",
    "halfcheetah",
)
BRAX_BACKENDS = ("generalized", "positional", "spring", "mjx")


@struct.dataclass
class BraxState(environment.EnvState):
    pipeline: Any
    time: int


@struct.dataclass
class BraxParams(environment.EnvParams):
    max_steps_in_episode: int = 1000


class BraxEnv(environment.Environment):
    """A ``brax.envs`` task; actions are clipped to [-1, 1], episodes truncated at 1000 steps."""

    def __init__(self, name: str, backend: str = "spring"):
        super().__init__()
        check_choice("brax environment", name, BRAX_ENVS)
        check_choice("brax backend", backend, BRAX_BACKENDS)
        from brax import envs

        self.brax_name, self.backend = name, backend
        self._env = envs.get_environment(name, backend=backend)

    @property
    def name(self) -> str:
        return f"brax-{self.brax_name}"

    @property
    def default_params(self) -> BraxParams:
        return BraxParams()

    def reset_env(self, key, params):
        pipeline = self._env.reset(key)
        return pipeline.obs, BraxState(pipeline=pipeline, time=0)

    def step_env(self, key, state, action, params):
        pipeline = self._env.step(state.pipeline, jnp.clip(action, -1.0, 1.0))
        state = BraxState(pipeline=pipeline, time=state.time + 1)
        terminated = pipeline.done.astype(bool)
        return pipeline.obs, state, pipeline.reward, terminated, {}

    def action_space(self, params=None):
        return spaces.Box(-1.0, 1.0, (self._env.action_size,), jnp.float32)

    def observation_space(self, params=None):
        return spaces.Box(-jnp.inf, jnp.inf, (self._env.observation_size,), jnp.float32)

    @property
    def num_actions(self) -> int:
        return self._env.action_size


def make_brax(name: str, backend: str = "spring") -> tuple[BraxEnv, BraxParams]:
    env = BraxEnv(name, backend)
    return env, env.default_params
