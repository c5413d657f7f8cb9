"""Optimizers: hand-designed baselines by name, and (later) learned optimizers as optax transformations."""

from .baselines import BASELINES, TUNED_ADAM, baseline

__all__ = ["BASELINES", "TUNED_ADAM", "baseline"]
