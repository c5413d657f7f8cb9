"""Named experiments, each with a config at every scale (``quick``, ``cpu``, ``paper``).

Each module is a leaf: its configs, its compute function and its table helpers; it registers
its experiments in :mod:`l2o4rl.repro.registry` on import.
"""

from ..repro.registry import EXPERIMENTS, Experiment, figures_of_notebook, get, register
from . import (  # noqa: F401  (each registers its experiments)
    brax_generalization,
    deep_sea,
    gradient_distribution,
    inner_loop,
    meta_gradient,
    open_authors,
    open_es,
    optim4rl_paper,
    overview,
)

__all__ = ["EXPERIMENTS", "Experiment", "figures_of_notebook", "get", "register"]
