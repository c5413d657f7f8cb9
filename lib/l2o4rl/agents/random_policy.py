"""A uniformly random policy: the floor every learning curve is compared against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp

from ..envs import batch_step


def make_random_rollout(env: Any, env_params: Any, num_envs: int, num_steps: int) -> Callable[[jax.Array], jax.Array]:
    """``rollout(key) -> returns`` of shape ``(num_steps, num_envs)``.

    Entry ``[t, i]`` is the return of the episode that env ``i`` finished at step ``t``,
    and NaN where no episode finished.
    """
    action_space = env.action_space(env_params)
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = batch_step(env)
    sample = jax.vmap(action_space.sample)

    def one_step(carry, key):
        state, running_return = carry
        action_key, step_key = jax.random.split(key)
        actions = sample(jax.random.split(action_key, num_envs))
        _, state, reward, terminated, truncated, _ = step(
            jax.random.split(step_key, num_envs), state, actions, env_params
        )
        running_return = running_return + reward
        done = jnp.logical_or(terminated, truncated)
        finished = jnp.where(done, running_return, jnp.nan)
        return (state, jnp.where(done, 0.0, running_return)), finished

    def rollout(key: jax.Array) -> jax.Array:
        reset_key, steps_key = jax.random.split(key)
        _, state = reset(jax.random.split(reset_key, num_envs), env_params)
        carry = (state, jnp.zeros(num_envs))
        _, finished = jax.lax.scan(one_step, carry, jax.random.split(steps_key, num_steps))
        return finished

    return rollout
