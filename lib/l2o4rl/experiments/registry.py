"""The registry of named experiments: a config per scale, the notebook, its figures."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..config import SCALES, Config, ConfigError, check_choice, check_scale
from ..store import Result, ResultStore, cached

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

    ``pieces(config) -> [overrides, ...]`` splits a long computation into pieces stored (and
    reused) one by one, e.g. one per task (:func:`per_task`), so that a run cut off loses one
    piece at most; their tables are concatenated into one result.
    """

    name: str
    notebook: str
    figures: tuple[str, ...]
    configs: Mapping[str, Config]
    compute: Callable[..., tuple[Tables, Arrays]]
    inputs: Callable[[Any, Path], tuple[dict[str, Any], dict[str, str]]] | None = None
    revision: int = 0
    pieces: Callable[[Any], list[dict[str, Any]]] | None = None

    def __post_init__(self) -> None:
        missing = [s for s in SCALES if s not in self.configs]
        if missing:
            raise ConfigError(f"experiment {self.name!r} has no config for scale(s) {missing}; every scale in {SCALES} needs one")

    def config(self, scale: str, **overrides: Any) -> Config:
        base = self.configs[check_scale(scale)]
        return base.replace(**overrides) if overrides else base

    def load_or_run(
        self, scale: str, seed: int, data_dir: str | os.PathLike, recompute: bool = False, **overrides: Any
    ) -> Result:
        """The stored result for this scale, seed and config, computed and saved when missing
        (piece by piece where the experiment has ``pieces``)."""
        cfg = self.config(scale, **overrides)
        store = ResultStore(data_dir, scale)
        if self.pieces is None:
            return self._load_or_run(store, cfg, seed, data_dir, recompute)
        return Result.merge([self._load_or_run(store, cfg.replace(**piece), seed, data_dir, recompute)
                             for piece in self.pieces(cfg)])  # fmt: skip

    def _load_or_run(self, store: ResultStore, cfg: Config, seed: int, data_dir, recompute: bool) -> Result:
        values, record = self.inputs(cfg, Path(data_dir)) if self.inputs else ({}, None)
        if self.revision:  # recorded beside the inputs, so an older revision's result is stale
            record = {**(record or {}), "revision": str(self.revision)}
        def announce(stored: Result | None) -> None:
            what = f"{self.name} [{store.scale}, seed {seed}, key {store.path(self.name, cfg, seed).name}]"
            if stored is None:
                print(f"{what}: no stored result, computing", flush=True)
            else:
                print(f"{what}: computing; the stored result it replaces took {stored.provenance['wall_time_s']:.0f} s "
                      f"on {stored.provenance['device']['device_kind']}", flush=True)  # fmt: skip

        return cached(store, self.name, cfg, seed, lambda: self.compute(cfg, seed, **values), recompute, inputs=record,
                      announce=announce)  # fmt: skip


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


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """``fn()``'s value (blocked until ready) and the seconds it took."""
    import jax

    start = time.perf_counter()
    value = jax.block_until_ready(fn())
    return value, time.perf_counter() - start
