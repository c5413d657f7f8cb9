"""Hand-designed optimizers by name, with every setting checked.

    opt = baseline("rmsprop", learning_rate=3e-3)
    opt = get_task("breakout").optimizer("adam")   # OPEN's tuned Adam for Breakout (l2o4rl.tasks)

Per-task tuned settings live in the task catalog (``l2o4rl.tasks``), not here.
"""

from __future__ import annotations

from typing import Any

import jax
import optax

from ..config import ConfigError, check_choice

BASELINES = ("adam", "rmsprop", "sgd", "lion")
BASELINE_LABELS = {"adam": "Adam", "rmsprop": "RMSProp", "sgd": "SGD", "lion": "Lion"}

# Lion's sign updates are larger than Adam's; its authors advise a 3-10x smaller step.
LION_LR_DIVISOR = 3.0

_ALLOWED = {
    "adam": ("learning_rate", "b1", "b2", "eps"),
    "rmsprop": ("learning_rate", "decay", "eps"),
    "sgd": ("learning_rate", "momentum"),
    "lion": ("learning_rate", "b1", "b2", "weight_decay"),
}


def linear_anneal(learning_rate: float | jax.Array, updates: int, steps_per_update: int) -> optax.Schedule:
    """PureJaxRL's ``ANNEAL_LR``: the rate falls linearly from ``learning_rate`` towards 0 over a run's
    ``updates``, constant within each update's ``steps_per_update`` optimizer steps."""
    return lambda count: learning_rate * (1.0 - (count // steps_per_update) / updates)


def baseline(name: str, **settings: Any) -> optax.GradientTransformation:
    """The optimizer ``name`` with ``settings`` (a ``learning_rate`` at least)."""
    check_choice("optimizer", name, BASELINES)
    for key in settings:
        if key not in _ALLOWED[name]:
            raise ConfigError(f"optimizer {name!r} has no setting {key!r}; valid settings: {', '.join(_ALLOWED[name])}")
    if "learning_rate" not in settings:
        raise ConfigError(
            f"optimizer {name!r} needs a learning_rate (a task's tuned one: get_task(name).optimizer({name!r}))"
        )
    if name == "adam":
        return optax.adam(**settings)
    if name == "rmsprop":
        return optax.rmsprop(**settings)
    if name == "sgd":
        return optax.sgd(**settings)
    return optax.lion(**{"weight_decay": 0.0, **settings})  # optax's default decays weights; a baseline should not
