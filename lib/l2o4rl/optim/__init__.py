"""Optimizers: hand-designed baselines by name, and (later) learned optimizers as optax transformations."""

from .baselines import BASELINES, baseline

__all__ = ["BASELINES", "baseline"]
