"""Environments by name, all behind gymnax 1.0's interface.

``make(name)`` returns ``(env, env_params)``; ``env.step`` returns
``(obs, state, reward, terminated, truncated, info)``, resets automatically and puts the
observation the reset replaced in ``info["final_observation"]``.

- gymnax: Catch, CartPole, the MinAtar games, DeepSea (``GYMNAX_ENVS``; ``make("DeepSea-bsuite", size=N)``);
- the six LPG gridworlds of Optim4RL and OPEN's procedural gridworlds (``GRIDWORLD_NAMES``:
  ``rand_all`` and its out-of-support levels; pass a sampled level as ``env_params``);
- Brax tasks as ``brax-<task>`` (``BRAX_ENVS``; ``brax_backend=`` picks the physics pipeline);
- Craftax-Classic (``CRAFTAX_ENVS``; the optional ``craftax`` package).

Step a batch of envs with :func:`batch_step`: it uses an env's own ``batch_step`` where it has one
(Craftax resets ended envs from a shared pool of fresh worlds) and ``vmap(env.step)`` elsewhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnax
import jax
from gymnax.environments import spaces

from ..config import ConfigError, check_choice
from .brax import BRAX_BACKENDS, BRAX_ENVS, make_brax
from .craftax import CRAFTAX_ENVS, make_craftax
from .gridworld import GRIDWORLD_DISTRIBUTIONS, GRIDWORLD_NAMES, LPG_GRIDWORLDS, make_gridworld

GYMNAX_ENVS = (
    "Catch-bsuite",
    "CartPole-v1",
    "Asterix-MinAtar",
    "Breakout-MinAtar",
    "Freeway-MinAtar",
    "SpaceInvaders-MinAtar",
    "DeepSea-bsuite",
)
ENV_NAMES = GYMNAX_ENVS + GRIDWORLD_NAMES + tuple(f"brax-{name}" for name in BRAX_ENVS) + CRAFTAX_ENVS
SIZED_ENVS = ("DeepSea-bsuite",)  # envs built at a chosen size (``make(name, size=N)``)


def make(name: str, brax_backend: str = "spring", **env_kwargs: Any) -> tuple[Any, Any]:
    """The environment called ``name`` and its default parameters.

    ``brax_backend`` picks the physics pipeline of ``brax-*`` envs and is ignored by others.
    """
    check_choice("environment", name, ENV_NAMES)
    if "size" in env_kwargs and name not in SIZED_ENVS:
        raise ConfigError(f"environment {name!r} takes no size; sized environments: {', '.join(SIZED_ENVS)}")
    if name.startswith("brax-"):
        return make_brax(name.removeprefix("brax-"), brax_backend, **env_kwargs)
    if name in GRIDWORLD_NAMES:
        return make_gridworld(name, **env_kwargs)
    if name in CRAFTAX_ENVS:
        return make_craftax()
    return gymnax.make(name, **env_kwargs)


def batch_step(env: Any) -> Callable:
    """``step(keys, states, actions, env_params)`` over a leading batch axis (shared ``env_params``)."""
    return getattr(env, "batch_step", None) or jax.vmap(env.step, in_axes=(0, 0, 0, None))


def is_discrete(env: Any, env_params: Any) -> bool:
    return isinstance(env.action_space(env_params), spaces.Discrete)


__all__ = [
    "BRAX_BACKENDS",
    "BRAX_ENVS",
    "CRAFTAX_ENVS",
    "ENV_NAMES",
    "GRIDWORLD_DISTRIBUTIONS",
    "GRIDWORLD_NAMES",
    "GYMNAX_ENVS",
    "LPG_GRIDWORLDS",
    "SIZED_ENVS",
    "batch_step",
    "is_discrete",
    "make",
]
