"""l2o4rl: learned optimizers for reinforcement learning (Optim4RL and OPEN) in JAX."""

from .runtime import configure_jax

configure_jax()

__version__ = "0.1.0"
