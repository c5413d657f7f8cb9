"""Meta-training of learned optimizers: meta-gradients with pipeline training, and ES."""

from .es import ESConfig, meta_train
from .es_problem import InnerTask
from .loop import CheckpointMismatchError, run_outer_loop
from .sharding import over_population, population_mesh

__all__ = ["CheckpointMismatchError", "run_outer_loop"]
__all__ += ["ESConfig", "InnerTask", "meta_train", "over_population", "population_mesh"]
