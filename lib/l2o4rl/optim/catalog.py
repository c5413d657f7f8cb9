"""Every learned optimizer by name, one :class:`LearnedSpec` each, and every optimizer's display name.

Meta-gradient training (notebook 04), ES (notebook 05), the shipped optimizers and every
results table read this one catalog:

    spec = LEARNED["open"]
    phi = spec.init_meta_params(jax.random.key(0), "random")   # an ordinary pytree
    opt = spec.build(phi)                                      # an optax transformation

A spec names its structure (class and settings), who trains it, its display name, and, for
OPEN's ablations, which meta-parameters the ablation leaves live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jax
import jax.numpy as jnp

from ..config import ConfigError, check_choice
from .baselines import BASELINE_LABELS
from .learned import LearnedOptimizer
from .open import ABLATIONS, OPEN, ablation
from .optim4rl import L2L, LinearOptim, Optim4RL

TRAINERS = ("meta_gradient", "es")
# zeros: all meta-parameters zero (OPEN's ES start); random: the network's own init; damped: random
# with every step DAMPING times as large (Optim4RL's family only, see scale_steps).
INITS = ("zeros", "random", "damped")
DAMPING = 0.1
# Optim4RL's output is scaled by a learning rate; OPEN's by a1 = 1e-3. Giving "OPT" the same
# scale starts both ES-trained optimizers from steps of one size on every task.
OPT_LEARNING_RATE = 1e-3
UNTRAINED = " (untrained)"  # suffix of a learned optimizer's untrained control
# The OPEN authors' published optimizers (optim.checkpoints.AUTHORS_OPEN), beside ours in tables.
AUTHORS_LABEL = "OPEN (authors)"
AUTHORS_MULTI_LABEL = "OPEN multi-task (authors)"


def mask(meta_params: Any, live: Any) -> Any:
    return jax.tree.map(jnp.multiply, meta_params, live)


@dataclass(frozen=True)
class LearnedSpec:
    """One learned optimizer: ``cls`` with ``settings``, trained by ``trainer``.

    A meta-gradient-trained optimizer's steps are scaled by the task's learning rate (its
    alpha); an ES-trained one keeps the step scale it was meta-trained with. ``ablation``
    (one of OPEN's, SPEC 2.6) keeps the removed meta-parameters at zero, so every OPEN
    variant shares the authors' layout and one compiled program.
    """

    label: str
    cls: type[LearnedOptimizer]
    trainer: str
    settings: Mapping[str, Any] = field(default_factory=dict)
    ablation: str | None = None

    def __post_init__(self) -> None:
        check_choice("trainer", self.trainer, TRAINERS)

    def structure(self, **overrides: Any) -> dict[str, Any]:
        """The settings that shape the meta-parameters (see ``LearnedOptimizer.structure``)."""
        return {k: v for k, v in {**self.settings, **overrides}.items() if k in self.cls.structure}

    def live(self, template: Any) -> Any:
        """1 where a meta-parameter is used, 0 where the ablation removed it."""
        if self.ablation is None:
            return jax.tree.map(jnp.ones_like, template)
        return self.cls.live_mask(template, **ablation(self.ablation))

    def init_meta_params(self, key: jax.Array, init: str = "random", **structure: Any) -> Any:
        """Meta-parameters to start meta-training from (``init`` one of :data:`INITS`), with
        what the ablation removed at zero; ``structure`` overrides the spec's (e.g. ``heads``)."""
        check_choice("meta-parameter init", init, INITS)
        params = self.cls.init_meta_params(key, **self.structure(**structure))
        if init == "zeros":
            return jax.tree.map(jnp.zeros_like, params)
        if init == "damped":
            if not hasattr(self.cls, "scale_steps"):
                raise ConfigError(f"init 'damped' needs a structure that can scale its steps; {self.label} has none")
            return self.cls.scale_steps(params, DAMPING, self.structure(**structure).get("heads", "mlp"))
        return params if self.ablation is None else mask(params, self.live(params))

    def template(self) -> Any:
        """Meta-parameters shaped like this optimizer's (values irrelevant)."""
        return self.cls.init_meta_params(jax.random.key(0), **self.structure())

    def build(self, meta_params: Any, learning_rate: float | None = None, **overrides: Any) -> LearnedOptimizer:
        """The optax transformation at ``meta_params`` (masked by :meth:`live`). ``learning_rate`` is
        required by (and only used for) meta-gradient-trained optimizers; ``overrides`` change settings."""
        if self.ablation is not None:
            meta_params = mask(meta_params, self.live(meta_params))
        return self.masked_build(meta_params, learning_rate, **overrides)

    def masked_build(self, meta_params: Any, learning_rate: float | None = None, **overrides: Any) -> LearnedOptimizer:
        """As :meth:`build`, for ``meta_params`` already masked by :meth:`live` (ES members and
        results): the mask is not traced again, so every OPEN variant traces to one program."""
        settings = {**self.settings, **overrides}
        if self.trainer == "meta_gradient":
            if learning_rate is None:
                raise ConfigError(f"{self.label} scales its steps by the task's learning rate: pass learning_rate")
            settings["learning_rate"] = learning_rate
        return self.cls(meta_params, **settings)


LEARNED: dict[str, LearnedSpec] = {
    "optim4rl": LearnedSpec("Optim4RL", Optim4RL, "meta_gradient"),
    "linear_optim": LearnedSpec("LinearOptim", LinearOptim, "meta_gradient"),
    "l2l": LearnedSpec("L2L", L2L, "meta_gradient"),
    "open": LearnedSpec("OPEN", OPEN, "es"),
    # The authors' multi-task OPEN is the larger network (GRU 16, width 32: multi_OPEN.npy's 3,571 values).
    "open_multi": LearnedSpec("OPEN (multi-task)", OPEN, "es", {"size": "larger"}),
    # The structure notebook 05's stored results were computed with (our first port, see optim4rl.py).
    "opt": LearnedSpec("OPT", Optim4RL, "es", {"learning_rate": OPT_LEARNING_RATE, "heads": "linear"}),
    "no_features": LearnedSpec("No Features", OPEN, "es", ablation="no_features"),
    **{f"no_{name}": LearnedSpec(f"- {name.replace('_', ' ')}", OPEN, "es", ablation=name) for name in ABLATIONS},
}
META_GRADIENT = tuple(name for name, spec in LEARNED.items() if spec.trainer == "meta_gradient")
ES_TRAINED = tuple(name for name, spec in LEARNED.items() if spec.trainer == "es")
LABELS = {**BASELINE_LABELS, **{name: spec.label for name, spec in LEARNED.items()}}


def learned(name: str) -> LearnedSpec:
    """The spec of learned optimizer ``name``; a clear error naming the valid ones otherwise."""
    check_choice("learned optimizer", name, LEARNED)
    return LEARNED[name]


def label(name: str) -> str:
    """The display name of optimizer ``name`` (itself when it has none): the ``optimizer``
    column of every results table and legend."""
    return LABELS.get(name, name)


def name_of(display: str) -> str:
    """The catalog name of the optimizer labelled ``display`` in a results table (inverse of :func:`label`)."""
    names = {shown: name for name, shown in LABELS.items()}
    return names.get(display, display)


def untrained_label(name: str) -> str:
    return label(name) + UNTRAINED
