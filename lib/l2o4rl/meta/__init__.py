"""Meta-training of learned optimizers: meta-gradients with pipeline training, and ES."""

from .loop import CheckpointMismatchError, run_outer_loop

__all__ = ["CheckpointMismatchError", "run_outer_loop"]
