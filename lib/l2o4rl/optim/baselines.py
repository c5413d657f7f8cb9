"""Hand-designed optimizers by name, with the tuned settings of the papers (SPEC 2.4, 1.5).

    opt = baseline("adam", env="Breakout-MinAtar")      # OPEN's tuned Adam for Breakout
    opt = baseline("rmsprop", learning_rate=3e-3)
"""

from __future__ import annotations

from typing import Any

import optax

from ..config import ConfigError, check_choice

BASELINES = ("adam", "rmsprop", "sgd", "lion")

# OPEN's tuned Adam (learning rate, b1, b2) per environment (SPEC 2.4).
TUNED_ADAM: dict[str, dict[str, float]] = {
    "Asterix-MinAtar": {"learning_rate": 3e-3, "b1": 0.9, "b2": 0.999},
    "Freeway-MinAtar": {"learning_rate": 1e-3, "b1": 0.9, "b2": 0.99},
    "Breakout-MinAtar": {"learning_rate": 1e-2, "b1": 0.9, "b2": 0.99},
    "SpaceInvaders-MinAtar": {"learning_rate": 7e-3, "b1": 0.9, "b2": 0.99},
    "brax-ant": {"learning_rate": 3e-4, "b1": 0.99, "b2": 0.99},
    "gridworld": {"learning_rate": 1e-4, "b1": 0.99, "b2": 0.99},
}

# Lion's sign updates are larger than Adam's; its authors advise a 3-10x smaller step.
LION_LR_DIVISOR = 3.0

_ALLOWED = {
    "adam": ("learning_rate", "b1", "b2", "eps"),
    "rmsprop": ("learning_rate", "decay", "eps"),
    "sgd": ("learning_rate", "momentum"),
    "lion": ("learning_rate", "b1", "b2", "weight_decay"),
}


def baseline(name: str, env: str | None = None, **settings: Any) -> optax.GradientTransformation:
    """The optimizer ``name``; ``env`` starts from that env's tuned Adam settings, which
    explicit ``settings`` override. RMSProp, SGD and Lion take the tuned Adam learning rate
    (Lion divided by :data:`LION_LR_DIVISOR`) where no tuned value of their own exists."""
    check_choice("optimizer", name, BASELINES)
    tuned = dict(TUNED_ADAM[env]) if env in TUNED_ADAM else {}
    if name != "adam":
        tuned = {"learning_rate": tuned["learning_rate"]} if tuned else {}
    if name == "lion" and tuned:
        tuned["learning_rate"] /= LION_LR_DIVISOR
    merged = {**tuned, **settings}
    for key in merged:
        if key not in _ALLOWED[name]:
            raise ConfigError(f"optimizer {name!r} has no setting {key!r}; valid settings: {', '.join(_ALLOWED[name])}")
    if "learning_rate" not in merged:
        raise ConfigError(f"optimizer {name!r} needs a learning_rate (or an env with tuned settings: {', '.join(TUNED_ADAM)})")
    if name == "adam":
        return optax.adam(**merged)
    if name == "rmsprop":
        return optax.rmsprop(**merged)
    if name == "sgd":
        return optax.sgd(**merged)
    return optax.lion(**{"weight_decay": 0.0, **merged})  # optax's default decays weights; a baseline should not
