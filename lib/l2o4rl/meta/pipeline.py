"""Pipeline training (SPEC 1.3): stagger agents' lifetimes so every meta-batch spans a whole life.

Agent ``j`` of ``n`` gets the reset offset ``r_j = floor(linspace(0, m-1, n))[j]`` and is
re-initialised at outer step ``t`` whenever ``t mod m == r_j``. After the first ``m``
steps the agents' ages are spread evenly over ``[0, m)``. The two ablations:

- ``"never"``: agents are never reset, so they share one life that goes on for the whole
  meta-training -- the "without pipeline" runs of the authors' code;
- ``"lockstep"``: every agent is reset together, whenever ``t mod m == 0``.

Resets are a branch-free select over the whole agent state, so one compiled step serves every ``t``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..config import check_choice

RESET_MODES = ("pipeline", "never", "lockstep")
NEVER = -1  # an offset no ``t mod m`` equals


def reset_offsets(num_agents: int, period: int, mode: str = "pipeline") -> np.ndarray:
    """Each agent's reset phase in ``[0, period)``: spread evenly (pipeline), all zero (lockstep),
    or none (never)."""
    check_choice("reset mode", mode, RESET_MODES)
    if num_agents < 1 or period < 1:
        raise ValueError(f"reset_offsets needs num_agents >= 1 and period >= 1 (got {num_agents}, {period})")
    if mode == "never":
        return np.full(num_agents, NEVER, np.int32)
    if mode == "lockstep":
        return np.zeros(num_agents, np.int32)
    return np.floor(np.linspace(0, period - 1, num_agents)).astype(np.int32)


def reset_mask(step: jax.Array, offsets: jax.Array, period: int) -> jax.Array:
    """Which agents are re-initialised at outer step ``step``."""
    return jnp.mod(step, period) == offsets


def select_agents(mask: jax.Array, fresh: Any, current: Any) -> Any:
    """Per agent (leading axis), ``fresh`` where ``mask`` else ``current``, over a whole pytree."""

    def pick(new, old):
        if jax.dtypes.issubdtype(new.dtype, jax.dtypes.prng_key):
            return jax.random.wrap_key_data(pick(jax.random.key_data(new), jax.random.key_data(old)))
        return jnp.where(mask.reshape(mask.shape + (1,) * (new.ndim - 1)), new, old)

    return jax.tree.map(pick, fresh, current)


def advance_ages(ages: jax.Array, mask: jax.Array) -> jax.Array:
    """Ages (outer steps since the last reset) at this step, after this step's resets, from last step's."""
    return jnp.where(mask, 0, ages + 1)


def age_schedule(num_agents: int, period: int, steps: int, mode: str = "pipeline") -> np.ndarray:
    """Every agent's age at each of ``steps`` outer steps, shape ``(steps, num_agents)``: the
    trainer's own bookkeeping, for tests and the lifetime figure."""
    offsets = jnp.asarray(reset_offsets(num_agents, period, mode))

    def step(ages, t):
        ages = advance_ages(ages, reset_mask(t, offsets, period))
        return ages, ages

    # Agents start fresh at step 0: age -1 before it, so the first step reads 0 either way.
    _, ages = jax.lax.scan(step, jnp.full(num_agents, -1), jnp.arange(steps))
    return np.asarray(ages)
