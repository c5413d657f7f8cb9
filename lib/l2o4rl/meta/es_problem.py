"""The problem ES solves when it meta-trains a learned optimizer (OPEN's recipe, SPEC 2.3):
train one agent per population member with the learned optimizer its meta-parameters define,
and score it. :mod:`.es` holds the strategy and the run, as evosax separates problems from
algorithms.

A member's score on an :class:`InnerTask` is its agent's final return divided by Adam's
return on that task (``normaliser``); :func:`member_scores` gives one score per task.
:func:`member_keys` and :func:`pairwise_win_lose` set up the two fitness schemes: common
random numbers for a fixed task, and antithetic pairs sharing a sampled level, the better of
each pair scoring 1, for a task distribution.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..config import ConfigError, check_choice
from ..envs import GRIDWORLD_DISTRIBUTIONS
from ..optim.catalog import ES_TRAINED, LearnedSpec, learned
from ..tasks import TASKS, get_task


def es_trained(kind: str) -> LearnedSpec:
    """The spec of ``kind``, one of the learned optimizers ES meta-trains (:data:`ES_TRAINED`)."""
    check_choice("ES-trained learned optimizer", kind, ES_TRAINED)
    return learned(kind)


@dataclass(frozen=True)
class InnerTask:
    """One task of the fitness: a named task (:data:`l2o4rl.tasks.TASKS`) at a budget.

    ``normaliser`` is Adam's return on it (fitness = return / normaliser); ``levels`` names a
    gridworld distribution each training run draws its own level from.
    """

    task: str
    overrides: Mapping[str, Any] = field(default_factory=dict)
    normaliser: float = 1.0
    levels: str | None = None

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        if self.levels is not None:
            check_choice("gridworld level distribution", self.levels, GRIDWORLD_DISTRIBUTIONS)
        if not (np.isfinite(self.normaliser) and self.normaliser > 0):
            raise ConfigError(f"InnerTask {self.task!r}: normaliser must be finite and positive, got {self.normaliser}")

    def final_return(self, optimizer: optax.GradientTransformation) -> Callable[[jax.Array], jax.Array]:
        """``key -> final return``: the mean over envs of each env's last finished episode."""
        env = {"env": self.levels} if self.levels else {}  # each distribution runs in its own env
        train = get_task(self.task).make_train(optimizer, **{**self.overrides, **env})

        def run(key: jax.Array) -> jax.Array:
            level_key, key = jax.random.split(key)
            env_params = GRIDWORLD_DISTRIBUTIONS[self.levels](level_key) if self.levels else None
            _, metrics = train(key, env_params)
            return metrics["episode_return"][-1]

        return run


def member_scores(kind: str, tasks: Sequence[InnerTask]) -> Callable[[Any, jax.Array], jax.Array]:
    """``(meta_params, key) -> (num_tasks,)`` normalised final returns of one member
    (``meta_params`` already masked by the kind's :meth:`LearnedSpec.live`)."""
    spec = es_trained(kind)

    def scores(meta_params: Any, key: jax.Array) -> jax.Array:
        optimizer = spec.masked_build(meta_params)
        keys = jax.random.split(key, len(tasks))
        return jnp.stack([t.final_return(optimizer)(k) / t.normaliser for t, k in zip(tasks, keys)])

    return scores


# -- fitness -----------------------------------------------------------------------------------


def pairwise_win_lose(scores: jax.Array) -> jax.Array:
    """Antithetic pairs ``(i, i + N/2)``: 1 for the better member, 0 for the other, 1/2 each on a tie.

    A non-finite score loses to a finite one.
    """
    finite = jnp.where(jnp.isfinite(scores), scores, -jnp.inf)
    plus, minus = jnp.split(finite, 2)
    win = jnp.where(plus > minus, 1.0, jnp.where(plus < minus, 0.0, 0.5))
    return jnp.concatenate([win, 1.0 - win])


def member_keys(key: jax.Array, population_size: int, antithetic_tasks: bool) -> jax.Array:
    """One key per member: all equal (common random numbers) or equal within antithetic pairs."""
    keys = jax.random.split(key, population_size // 2 if antithetic_tasks else 1)
    return jnp.concatenate([keys, keys]) if antithetic_tasks else jnp.repeat(keys, population_size)
