"""OPEN with its authors' meta-trained weights, at the paper's budgets (SPEC 2.4, 2.7).

The authors' published optimizers (``optim.checkpoints.AUTHORS_OPEN``; a user downloads them,
the project does not ship them) train fresh PPO agents on the four MinAtar games for 1e7
steps each, the paper's budget, against tuned Adam (the authors' settings) and RMSProp and
Lion at the best rate of a learning-rate sweep stored beside them. Every (game, optimizer)
is a stored piece of 40-100 minutes on 2 cores, so a run cut off loses one piece at most.
"""

from __future__ import annotations

import functools

import jax
import pandas as pd

from ..config import Config, config, setting
from ..evaluation import training_curves
from ..optim.catalog import AUTHORS_LABEL, AUTHORS_MULTI_LABEL, label
from ..optim.checkpoints import AUTHORS_OPEN, authors_open_path, load_authors_open
from ..optim.open import OPEN
from ..repro.registry import Experiment, one_update_per_task, register, updates
from ..tasks import MINATAR_TASKS, get_task
from .inner_loop import LR_FACTORS, best_learning_rates, sweep_table

# The authors' vector each learned optimizer loads: None for the one meta-trained on the game
# itself, or the larger one meta-trained on several tasks at once.
AUTHORS_VECTORS = {"open_authors": None, "open_multi_authors": "multi"}
AUTHORS_LABELS = {"open_authors": AUTHORS_LABEL, "open_multi_authors": AUTHORS_MULTI_LABEL}
SWEPT = ("rmsprop", "lion")  # the authors publish tuned Adam settings only
OPTIMIZERS = (*AUTHORS_VECTORS, "adam", *SWEPT)


@config
class AuthorsOpenConfig(Config):
    tasks: tuple[str, ...] = setting(MINATAR_TASKS, each_in=MINATAR_TASKS)
    total_timesteps: tuple[int, ...] = setting(
        (10_000_000,) * len(MINATAR_TASKS), one_per="tasks", doc="one budget per task"
    )
    optimizers: tuple[str, ...] = setting(OPTIMIZERS, each_in=OPTIMIZERS)
    seeds: int = setting(4, ge=1)
    sweep_timesteps: int = setting(2_000_000, ge=1, doc="budget of each RMSProp / Lion learning-rate sweep run")
    lr_factors: tuple[float, ...] = setting(LR_FACTORS, doc="swept rates, as multiples of the default")
    sweep_seeds: int = setting(2, ge=1, doc="seeds per swept rate (not the evaluation seeds)")


def vector_of(optimizer: str, task: str) -> str:
    return AUTHORS_VECTORS[optimizer] or task


def vectors(cfg: AuthorsOpenConfig) -> list[str]:
    """The published vectors (keys of ``AUTHORS_OPEN``) a config trains with."""
    return sorted({vector_of(o, t) for o in cfg.optimizers if o in AUTHORS_VECTORS for t in cfg.tasks})


def missing_vectors(cfg: AuthorsOpenConfig) -> list[str]:
    """The paths of the published vectors ``cfg`` trains with that this machine lacks."""
    return [str(authors_open_path(name)) for name in vectors(cfg) if not authors_open_path(name).is_file()]


def checksums(cfg: AuthorsOpenConfig, data_dir) -> tuple[dict, dict[str, str]]:
    """A result records the checksum of every published vector behind it (the files need not be here)."""
    return {}, {f"{name}_OPEN.npy": AUTHORS_OPEN[name] for name in vectors(cfg)}


def authors_open_minatar(cfg: AuthorsOpenConfig, seed: int):
    """Every (task, optimizer): ``cfg.seeds`` agents (vmapped; the same seeds for every
    optimizer), after a learning-rate sweep on other seeds for RMSProp and Lion."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    sweep_keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 1), cfg.sweep_seeds)
    curves, sweeps, rates = [], [], []
    for task, steps in zip(cfg.tasks, cfg.total_timesteps):
        for name in cfg.optimizers:
            if name in AUTHORS_VECTORS:
                meta_params, size = load_authors_open(vector_of(name, task))
                optimizer, display = functools.partial(OPEN, size=size), AUTHORS_LABELS[name]
                curves.append(training_curves(task, optimizer, keys, steps, meta_params=meta_params, optimizer=display))
                continue
            rate = get_task(task).baseline_learning_rate(name)  # Adam's: the authors' tuned one
            if name in SWEPT:
                sweeps.append(sweep_table(task, name, cfg.lr_factors, sweep_keys, cfg.sweep_timesteps))
                rate = float(best_learning_rates(sweeps[-1])["learning_rate"].iloc[0])
            rates.append({"task": task, "optimizer": label(name), "learning_rate": rate})
            optimizer = get_task(task).optimizer(name, learning_rate=rate)
            curves.append(training_curves(task, optimizer, keys, steps, optimizer=label(name)))
    curves = pd.concat(curves, ignore_index=True)
    # Returns only: the scores and figures use nothing else, and all six metrics of 1,220
    # updates x 4 seeds would store 1.6 MB per piece.
    tables = {"curves": curves[curves["metric"] == "episode_return"].reset_index(drop=True)}
    if rates:
        tables["rates"] = pd.DataFrame(rates)
    if sweeps:
        tables["sweep"] = pd.concat(sweeps, ignore_index=True)
    return tables, {}


SWEEP_FIELDS = ("sweep_timesteps", "lr_factors", "sweep_seeds")


def per_task_and_optimizer(cfg: AuthorsOpenConfig) -> list[dict]:
    """One piece per (task, optimizer): 40-100 minutes each on 2 cores at ``cpu`` scale. The
    pieces of optimizers that are not swept carry the default sweep settings whatever the
    config's, so that retuning RMSProp and Lion leaves their stored results valid."""
    unswept = {field: getattr(AuthorsOpenConfig(), field) for field in SWEEP_FIELDS}
    return [
        {"tasks": (task,), "total_timesteps": (steps,), "optimizers": (name,), **({} if name in SWEPT else unswept)}
        for task, steps in zip(cfg.tasks, cfg.total_timesteps)
        for name in cfg.optimizers
    ]


def smoke(cfg: AuthorsOpenConfig) -> dict:
    """One update per task, and sweeps as short (Freeway's episodes need 20 updates to end)."""
    return {**one_update_per_task(cfg), "sweep_timesteps": max(updates(cfg.tasks, 1))}


register(
    Experiment(
        name="open_authors_minatar",
        notebook="07_open_authors",
        figures=("open_authors_minatar",),
        configs={
            "quick": AuthorsOpenConfig(
                tasks=("breakout",),
                total_timesteps=(16_384,),
                seeds=2,
                sweep_timesteps=16_384,
                lr_factors=(0.3, 1.0),
                sweep_seeds=1,
            ),
            # The pieces stored so far (each about an hour on 2 cores); it grows to the paper's
            # games and optimizers as more are computed and committed.
            "cpu": AuthorsOpenConfig(
                tasks=("breakout",),
                total_timesteps=(10_000_000,),
                optimizers=("open_authors", "adam", "rmsprop", "lion"),
            ),
            "paper": AuthorsOpenConfig(seeds=16, sweep_timesteps=10_000_000, sweep_seeds=3),
        },
        compute=authors_open_minatar,
        inputs=checksums,
        pieces=per_task_and_optimizer,
        smoke=smoke,
        requires=missing_vectors,
    )
)
