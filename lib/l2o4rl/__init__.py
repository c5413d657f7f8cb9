"""l2o4rl: learned optimizers for reinforcement learning (Optim4RL and OPEN) in JAX.

Importing the package changes nothing in the process. Scripts and notebooks that want one XLA
CPU device per core (ES populations are sharded over devices) and the persistent compilation
cache call :func:`configure_jax` before jax starts::

    import l2o4rl
    l2o4rl.configure_jax()
"""

from .runtime import configure_jax

__all__ = ["configure_jax"]
__version__ = "0.1.0"
