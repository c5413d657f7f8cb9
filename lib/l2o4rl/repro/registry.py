"""The registry of named experiments: a config per scale, the notebook, its figures."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import SCALES, Config, ConfigError, check_choice, check_scale
from ..evaluation import training_progress
from ..optim.baselines import BASELINES
from ..tasks import TASKS, get_task
from .store import Result, ResultStore, cached

Tables = Mapping[str, pd.DataFrame]
Arrays = Mapping[str, np.ndarray]


@dataclass(frozen=True)
class Experiment:
    """``compute(config, seed) -> (tables, arrays)`` at the config of each scale.

    An experiment built on others' outputs (e.g. shipped trained optimizers) names them in
    ``inputs(config, data_dir) -> (values, record)``: ``compute`` gets ``**values``, and
    ``record`` (e.g. each input file's checksum) is stored with the result, which is
    recomputed once its inputs change.

    ``revision`` is bumped when a code change alters what ``compute`` returns for an unchanged
    config (a fidelity fix, say): a stored result of another revision is stale and recomputed.
    A task's own :attr:`l2o4rl.tasks.Task.revision` is recorded likewise for every config that
    names the task (see :func:`task_revisions`), so a fix to one task stales only its results.

    ``pieces(config) -> [overrides, ...]`` splits a long computation into pieces stored (and
    reused) one by one, e.g. one per task (:func:`per_task`), so that a run cut off loses one
    piece at most; their tables are concatenated into one result.

    ``smoke(paper_config) -> overrides`` shrinks the ``paper`` config's budgets (steps,
    generations, outer steps, and sweep grids to their first candidate; :data:`BUDGETS`) and
    keeps its shapes (population, envs, batch sizes, networks, seeds), so that ``make
    test-slow`` runs every paper configuration end to end on a CPU before a GPU sees it
    (``tests/test_paper_configs.py``).

    ``timings`` names the tables that measure wall-clock time rather than what ``compute``
    computes: :mod:`l2o4rl.repro.audit` does not expect a rerun to reproduce them.

    ``requires(config) -> [path, ...]`` lists the files a computation needs that the project
    does not ship (e.g. the OPEN authors' published vectors) and this machine lacks; tests that
    would compute skip while any is missing.
    """

    name: str
    notebook: str
    figures: tuple[str, ...]
    configs: Mapping[str, Config]
    compute: Callable[..., tuple[Tables, Arrays]]
    inputs: Callable[[Any, Path], tuple[dict[str, Any], dict[str, str]]] | None = None
    revision: int = 0
    pieces: Callable[[Any], list[dict[str, Any]]] | None = None
    smoke: Callable[[Any], dict[str, Any]] | None = None
    requires: Callable[[Any], list[str]] | None = None
    timings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        missing = [s for s in SCALES if s not in self.configs]
        if missing:
            raise ConfigError(
                f"experiment {self.name!r} has no config for scale(s) {missing}; every scale in {SCALES} needs one"
            )

    def config(self, scale: str, **overrides: Any) -> Config:
        base = self.configs[check_scale(scale)]
        return base.replace(**overrides) if overrides else base

    def load_or_run(
        self, scale: str, seed: int, data_dir: str | os.PathLike, recompute: bool | str = False, **overrides: Any
    ) -> Result:
        """The stored result for this scale, seed and config, computed and saved when missing
        (piece by piece where the experiment has ``pieces``, with a progress bar over them, and
        beyond the ``quick`` scale one over each training run's updates:
        :func:`l2o4rl.evaluation.training_progress`). ``recompute`` is a policy of
        :data:`l2o4rl.repro.store.RECOMPUTE`; "never" raises
        :class:`l2o4rl.repro.store.MissingResultError` instead of computing."""
        from tqdm import tqdm

        cfg = self.config(scale, **overrides)
        store = ResultStore(data_dir, scale)
        progress = scale != "quick"  # quick runs take seconds, and their programs stay in the compilation cache
        if self.pieces is None:
            return self.load_or_run_config(store, cfg, seed, data_dir, recompute, progress)
        pieces = self.pieces(cfg)
        bar = tqdm(pieces, desc=f"{self.name} pieces", unit="piece", disable=len(pieces) < 2, file=sys.stderr)
        return Result.merge(
            [self.load_or_run_config(store, cfg.replace(**piece), seed, data_dir, recompute, progress) for piece in bar]
        )

    def load_or_run_config(
        self, store: ResultStore, cfg: Config, seed: int, data_dir, recompute: bool | str, progress: bool = False
    ) -> Result:
        """:meth:`load_or_run` for one config (a whole one, or one piece) in ``store``, its
        inputs read from ``data_dir``: the audit recomputes a stored piece into a store of its own.
        ``progress`` shows a bar over each training run's updates while computing."""
        values, record = self.inputs(cfg, Path(data_dir)) if self.inputs else ({}, None)
        if self.revision:  # recorded beside the inputs, so an older revision's result is stale
            record = {**(record or {}), "revision": str(self.revision)}
        if revised := task_revisions(cfg):  # only where a task has one: results on other tasks stay current
            record = {**(record or {}), "task_revisions": revised}

        def announce(what: str, stored: Result | None) -> None:
            # on stderr, which `python -m l2o4rl.repro.notebooks run` streams to the terminal as the notebook runs
            name = f"{self.name} [{store.scale}, seed {seed}, key {store.path(self.name, cfg, seed).name}]"
            cost = (
                ""
                if stored is None
                else (f"{stored.provenance['wall_time_s']:.0f} s on {stored.provenance['device']['device_kind']}")
            )
            if what == "loaded":
                line = f"loaded the stored result (computed in {cost})"
            elif stored is None:
                line = "no stored result, computing"
            else:
                line = f"computing; the stored result it replaces took {cost}"
            print(f"{name}: {line}", file=sys.stderr, flush=True)

        return cached(
            store,
            self.name,
            cfg,
            seed,
            lambda: self._compute(cfg, seed, values, progress),
            recompute,
            inputs=record,
            announce=announce,
        )

    def _compute(self, cfg: Config, seed: int, values: dict[str, Any], progress: bool) -> tuple[Tables, Arrays]:
        with training_progress(progress):
            return self.compute(cfg, seed, **values)


# The settings a smoke run may shrink: budgets, sweep grids, and where the paper's inputs come from.
BUDGETS = frozenset(
    {
        "total_timesteps",
        "eval_timesteps",
        "a2c_timesteps",
        "ppo_timesteps",
        "num_steps",
        "generations",
        "checkpoint_every",
        "outer_steps",
        "gridworld_outer_steps",
        "timesteps",
        "sweep_timesteps",
        "supervised_steps",
        "identity_epochs",
        "num_evals",
        "trained_from",
        # the candidates of a sweep: a smoke run tries the first of each
        "reset_period_grid",
        "meta_lr_grid",
        "meta_clip_grid",
        "baseline_lr_grid",
    }
)


def task_revisions(cfg: Config) -> str:
    """``"task:revision,..."`` for the tasks ``cfg`` names (the names in its ``task``/``tasks``
    fields, any ``*_task``/``*_tasks`` field and its class's ``implicit_tasks``) whose
    :attr:`l2o4rl.tasks.Task.revision` is not 0, and ``"task:baselines<n>"`` for their
    :attr:`~l2o4rl.tasks.Task.baseline_revision` where ``cfg`` trains a hand-designed optimizer,
    ``"task:adam<n>"`` for their :attr:`~l2o4rl.tasks.Task.adam_revision` where it trains Adam;
    "" when none has one."""
    values = cfg.to_dict()
    names: list[str] = list(getattr(cfg, "implicit_tasks", ()))  # a config class that trains one fixed task
    for key, value in values.items():
        if key in ("task", "tasks") or key.endswith(("_task", "_tasks")):
            value = value if isinstance(value, (list, tuple)) else [value]
            names += [v for v in value if isinstance(v, str)]  # not a flag such as OpenESConfig.multi_task
    # A config that lists no optimizers may train any: only one whose lists name no hand-designed one
    # (e.g. a piece of a learned optimizer alone) keeps its results through a baselines' fix.
    lists = [values[key] for key in ("optimizers", "baselines") if key in values]
    trains_baselines = not lists or any(name in BASELINES for names in lists for name in names)
    trains_adam = not lists or any("adam" in names for names in lists)
    tasks = [TASKS[n] for n in names if n in TASKS]
    revisions = {f"{t.name}:{t.revision}" for t in tasks if t.revision}
    revisions |= {f"{t.name}:baselines{t.baseline_revision}" for t in tasks if t.baseline_revision and trains_baselines}
    revisions |= {f"{t.name}:adam{t.adam_revision}" for t in tasks if t.adam_revision and trains_adam}
    return ",".join(sorted(revisions))


def updates(tasks: Sequence[str], n: int = 2, a2c_envs: int | None = None) -> tuple[int, ...]:
    """The budget of ``n`` updates of each task at its own shape (a smoke run's), or of as many
    as one episode takes on a task whose episodes all last :attr:`Task.episode_steps`: without a
    finished episode a run reports no return (and an ES has no fitness normaliser)."""
    budgets = []
    for name in tasks:
        task = get_task(name)
        shape = task.at(**task.scaled(a2c_envs))
        episode_updates = math.ceil((task.episode_steps or 0) / shape.num_steps)
        budgets.append(max(n, episode_updates) * shape.steps_per_update)
    return tuple(budgets)


def one_update_per_task(cfg: Any) -> dict[str, Any]:
    """A smoke run of a config with ``tasks`` and one ``total_timesteps`` per task: one update each
    (see :func:`updates`)."""
    return {"total_timesteps": updates(cfg.tasks, 1, getattr(cfg, "a2c_envs", None))}


def per_task(cfg: Any) -> list[dict[str, Any]]:
    """One piece per task of a config with ``tasks`` and one ``total_timesteps`` per task."""
    return [{"tasks": (task,), "total_timesteps": (steps,)} for task, steps in zip(cfg.tasks, cfg.total_timesteps)]


EXPERIMENTS: dict[str, Experiment] = {}


def register(experiment: Experiment) -> Experiment:
    if experiment.name in EXPERIMENTS:
        raise ValueError(f"experiment {experiment.name!r} is registered twice")
    EXPERIMENTS[experiment.name] = experiment
    return experiment


def get(name: str) -> Experiment:
    check_choice("experiment", name, EXPERIMENTS)
    return EXPERIMENTS[name]


def figures_of_notebook(notebook: str) -> tuple[str, ...]:
    """Every figure the experiments of ``notebook`` promise to write."""
    return tuple(f for e in EXPERIMENTS.values() if e.notebook == notebook for f in e.figures)
