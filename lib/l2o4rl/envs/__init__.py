"""Environments by name, all behind gymnax 1.0's interface.

``make(name)`` returns ``(env, env_params)``; ``env.step`` returns
``(obs, state, reward, terminated, truncated, info)`` and resets automatically.
"""

from __future__ import annotations

from typing import Any

import gymnax

from ..config import check_choice

GYMNAX_ENVS = (
    "Catch-bsuite",
    "CartPole-v1",
    "Asterix-MinAtar",
    "Breakout-MinAtar",
    "Freeway-MinAtar",
    "SpaceInvaders-MinAtar",
    "DeepSea-bsuite",
)
ENV_NAMES = GYMNAX_ENVS


def make(name: str, **env_kwargs: Any) -> tuple[Any, Any]:
    """The environment called ``name`` and its default parameters."""
    check_choice("environment", name, ENV_NAMES)
    return gymnax.make(name, **env_kwargs)
