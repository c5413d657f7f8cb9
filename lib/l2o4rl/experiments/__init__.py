"""Named experiments, each with a config at every scale (``quick``, ``cpu``, ``paper``)."""

from . import baselines, brax_generalization, deep_sea, gradients, meta_gradient, open_es, overview  # noqa: F401  (each registers its experiments)
from .registry import EXPERIMENTS, Experiment, figures_of_notebook, get, register

__all__ = ["EXPERIMENTS", "Experiment", "figures_of_notebook", "get", "register"]
