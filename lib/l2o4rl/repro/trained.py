"""Shipped trained optimizers: ``data/<scale>/trained_optimizers/<kind>_<trained_on>.npz``.

Notebooks 04 (meta-gradients) and 05 (ES) save every optimizer they meta-train here, with
its metadata (kind, task, scale, seed, initialisation); notebook 06 and users load them:

    phi, meta = load_trained("data", "cpu", "optim4rl", "gridworlds")   # or the committed data/
    opt = build("optim4rl", phi, learning_rate=3e-4)       # any optax loop

``kind`` is any learned optimizer of the catalog (:data:`l2o4rl.optim.catalog.LEARNED`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import jax
import jax.flatten_util
import numpy as np
import optax

from ..config import ConfigError, check_scale
from ..optim.catalog import learned
from ..optim.checkpoints import load_meta_params, save_meta_params
from ..runtime import project_root, writes_files

TRAINED_DIR = "trained_optimizers"


def trained_path(data_dir: str | os.PathLike, scale: str, kind: str, trained_on: str) -> Path:
    return Path(data_dir) / check_scale(scale) / TRAINED_DIR / f"{kind}_{trained_on}.npz"


def template(kind: str) -> Any:
    """Meta-parameters shaped like those of ``kind`` (values irrelevant)."""
    return learned(kind).template()


def ship(
    data_dir: str | os.PathLike, scale: str, kind: str, trained_on: str, flat: np.ndarray, *, init: str, **metadata: Any
) -> Path:
    """Save a meta-trained ``kind`` (flat meta-parameters) with the init it started from and ``metadata``."""
    path = trained_path(data_dir, scale, kind, trained_on)
    if not writes_files():  # several hosts: process 0 ships for all
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    unravel = jax.flatten_util.ravel_pytree(template(kind))[1]
    return save_meta_params(
        path, unravel(np.asarray(flat)), kind, trained_on=trained_on, scale=scale, init=init, **metadata
    )


def ship_all(
    data_dir: str | os.PathLike, scale: str, arrays: dict[str, np.ndarray], *, init: str, **metadata: Any
) -> list[Path]:
    """:func:`ship` every array of a result keyed ``"kind@trained_on"``."""
    return [ship(data_dir, scale, *run.split("@"), flat, init=init, **metadata) for run, flat in arrays.items()]


def find_trained(data_dir: str | os.PathLike, scale: str, kind: str, trained_on: str) -> Path:
    """The shipped file, looked up in ``data_dir`` and then in the repository's committed ``data/``."""
    candidates = dict.fromkeys(trained_path(d, scale, kind, trained_on) for d in (data_dir, project_root() / "data"))
    for path in candidates:
        if path.exists():
            return path
    notebook = "04_meta_training_optim4rl" if learned(kind).trainer == "meta_gradient" else "05_open_es"
    raise ConfigError(
        f"no trained {kind!r} on {trained_on!r} at scale {scale!r} (looked for {', '.join(map(str, candidates))}); run "
        f"notebook {notebook} at scale {scale!r} first, or pick a scale whose trained optimizers exist"
    )


def load_trained(data_dir: str | os.PathLike, scale: str, kind: str, trained_on: str) -> tuple[Any, dict[str, Any]]:
    """``(meta_params, metadata)`` of a shipped optimizer (see :func:`find_trained`)."""
    return load_meta_params(find_trained(data_dir, scale, kind, trained_on), template(kind))


def untrained(kind: str, init: str, key: jax.Array) -> Any:
    """A draw from the initial distribution ``kind`` is meta-trained from: the untrained control."""
    return learned(kind).init_meta_params(key, init)


def build(kind: str, meta_params: Any, learning_rate: float) -> optax.GradientTransformationExtraArgs:
    """The optax transformation of ``kind`` at ``meta_params``. ``learning_rate`` scales the
    meta-gradient optimizers; an ES-trained optimizer keeps the step scale it was trained with."""
    return learned(kind).build(meta_params, learning_rate)
