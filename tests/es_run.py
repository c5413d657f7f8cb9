"""The small ES run that tests/test_distributed.py runs in one process and over two."""

from pathlib import Path

import jax.flatten_util
import pandas as pd

from l2o4rl.meta.es import ESConfig, meta_train
from l2o4rl.meta.es_problem import InnerTask
from l2o4rl.repro.store import ResultStore, cached

CONFIG = ESConfig(population_size=4, generations=3, checkpoint_every=1, init="random", sigma=0.1, es_learning_rate=0.1)
TASK = InnerTask(
    "catch",
    {"total_timesteps": 4_096, "hidden": 8, "num_envs": 8, "num_steps": 16, "num_minibatches": 2, "update_epochs": 1},
)


def run(checkpoint_dir: Path, data_dir: Path, devices=None):
    """Meta-train OPEN on a small Catch (checkpointing), then store the result; both returned."""
    result = meta_train("open", [TASK], CONFIG, 0, devices=devices, checkpoint_dir=checkpoint_dir, progress=False)

    def compute():
        table = pd.DataFrame({"generation": range(CONFIG.generations), "fitness_mean": result.metrics["fitness_mean"]})
        return {"es": table}, {"mean": jax.flatten_util.ravel_pytree(result.mean)[0]}

    return result, cached(ResultStore(data_dir, "quick"), "es_two_processes", CONFIG, 0, compute)
