"""Craftax-Classic (the ``craftax`` package, symbolic observations) behind gymnax 1.0's interface.

Drawing a Craftax world costs about what nine steps do, so resetting every env that ends inside a
vmapped step (what gymnax's auto reset does: it draws a world for every env at every step, and
uses it only where the episode ended) would make the world generator most of the run. Agents
therefore step a batch through :meth:`CraftaxClassic.batch_step`, which draws one world per
``reset_ratio`` envs per step and hands them to the envs that ended (Craftax's own "optimistic
resets"). ``step`` keeps gymnax's per-env contract for code that steps one env at a time.

``craftax`` is optional: ``make install`` adds it without its dependencies (pygame, distrax and a
TensorFlow Probability nightly, which only its interactive player and baselines import).
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from gymnax.environments import environment

CRAFTAX_ENVS = ("Craftax-Classic-Symbolic-v1",)
CRAFTAX_INSTALL = "pip install -c constraints.txt --no-deps craftax && pip install -c constraints.txt -e '.[craftax]'"


class CraftaxClassic(environment.Environment):
    """Craftax-Classic with symbolic observations (1345 values in [0, 1], 17 actions).

    An episode ends at death, in lava (terminated) or at ``max_timesteps`` = 10,000 steps (truncated).
    """

    def __init__(self, reset_ratio: int = 16):
        super().__init__()
        try:
            # craftax builds arrays when first imported, which may be inside a trace (an agent builds
            # its env there): concrete, they stay usable by every later trace.
            with jax.ensure_compile_time_eval():
                from craftax.craftax_classic.envs.craftax_symbolic_env import CraftaxClassicSymbolicEnvNoAutoReset
                from craftax.craftax_classic.game_logic import is_game_over
        except ImportError as err:  # an optional dependency: say how to get it
            raise ImportError(
                f"Craftax-Classic needs the craftax package and its imports ({err}): "
                f"`make install`, or {CRAFTAX_INSTALL}"
            ) from err
        self._env = CraftaxClassicSymbolicEnvNoAutoReset()
        self._game_over = is_game_over
        self.reset_ratio = reset_ratio

    @property
    def name(self) -> str:
        return CRAFTAX_ENVS[0]

    @property
    def default_params(self) -> Any:
        return self._env.default_params

    def reset_env(self, key, params):
        return self._env.reset_env(key, params)

    def step_env(self, key, state, action, params):
        obs, state, reward, _, _ = self._env.step_env(key, state, action, params)
        # Craftax's game over includes its time limit; gymnax 1.0 reports that apart, as truncation:
        # terminated is Craftax's game over with the limit moved past the current step.
        terminated = self._game_over(state, params.replace(max_timesteps=state.timestep + 1))
        return obs, state, reward, terminated, {}

    def is_truncated(self, state, params) -> jax.Array:
        return state.timestep >= params.max_timesteps

    def batch_step(self, keys: jax.Array, state, action: jax.Array, params):
        """``vmap(step)`` over the leading axis, with the ended envs restarted from a pool of
        ``len(keys) // reset_ratio`` (at least one) fresh worlds drawn once for the batch; the
        i-th env to end in a step takes world ``i mod pool``."""
        obs_st, state_st, reward, terminated, _ = jax.vmap(self.step_env, in_axes=(0, 0, 0, None))(
            keys, state, action, params
        )
        truncated = self.is_truncated(state_st, params)  # elementwise: the batch as it is
        done = jnp.logical_or(terminated, truncated)
        pool = max(1, keys.shape[0] // self.reset_ratio)
        pool_keys = jax.random.split(jax.random.fold_in(keys[0], 1), pool)  # apart from env 0's step key
        obs_re, state_re = jax.vmap(self.reset_env, in_axes=(0, None))(pool_keys, params)
        slot = (jnp.cumsum(done) - 1) % pool

        def restart(fresh, stepped):
            return jnp.where(done.reshape((-1,) + (1,) * (stepped.ndim - 1)), fresh[slot], stepped)

        state = jax.tree.map(restart, state_re, state_st)
        obs = restart(obs_re, obs_st)
        info = {"terminated": terminated, "truncated": truncated, "final_observation": obs_st}
        return obs, state, reward, terminated, truncated, info

    def action_space(self, params=None):
        return self._env.action_space(params)

    def observation_space(self, params=None):
        return self._env.observation_space(params)

    @property
    def num_actions(self) -> int:
        return self._env.num_actions


def make_craftax() -> tuple[CraftaxClassic, Any]:
    env = CraftaxClassic()
    return env, env.default_params
