"""Display names of optimizers: the ``optimizer`` column of every results table and legend."""

from __future__ import annotations

UNTRAINED = " (untrained)"  # suffix of a learned optimizer's untrained control

LABELS = {
    "adam": "Adam", "rmsprop": "RMSProp", "lion": "Lion", "optim4rl": "Optim4RL", "linear_optim": "LinearOptim",
    "l2l": "L2L", "open": "OPEN", "open_multi": "OPEN (multi-task)", "opt": "OPT", "no_features": "No Features",
    "no_training_proportion": "- training proportion", "no_batch_proportion": "- batch proportion",
    "no_dormancy": "- dormancy", "no_layer_proportion": "- layer proportion", "no_stochasticity": "- stochasticity",
}  # fmt: skip


def label(name: str) -> str:
    """The display name of optimizer ``name`` (itself when it has none)."""
    return LABELS.get(name, name)


def untrained_label(name: str) -> str:
    return label(name) + UNTRAINED
