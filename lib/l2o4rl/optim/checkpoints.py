"""Meta-parameters on disk: the OPEN authors' flat vectors, and our own with metadata."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from ..config import ConfigError
from .open import OPEN, SIZES


def load_open_checkpoint(path: str | os.PathLike) -> tuple[dict[str, Any], str]:
    """The OPEN authors' published ES mean (a flat float32 vector) as our OPEN meta-parameters.

    Returns ``(meta_params, size)``; the size ("default": 1211 values, "larger": 3571) is
    read off the vector's length. The flat order is ``ravel_pytree`` of the flax parameter
    dict with sorted keys (SPEC 2.7), which our OPEN's meta-parameters reproduce exactly.
    """
    flat = np.load(path)
    for size in SIZES:
        template = OPEN.init_meta_params(jax.random.key(0), size=size)
        vector, unravel = jax.flatten_util.ravel_pytree(template)
        if flat.shape == vector.shape:
            return unravel(jnp.asarray(flat, jnp.float32)), size
    sizes = {s: OPEN.num_meta_params(size=s) for s in SIZES}
    raise ConfigError(f"{path}: {flat.shape[0] if flat.ndim == 1 else flat.shape} values match no OPEN size {sizes}")


def flat_meta_params(meta_params: Any) -> np.ndarray:
    """Meta-parameters as the flat vector ES and the files use (``ravel_pytree`` order)."""
    return np.asarray(jax.flatten_util.ravel_pytree(meta_params)[0])


def save_meta_params(path: str | os.PathLike, meta_params: Any, kind: str, **metadata: Any) -> Path:
    """Save meta-parameters as a flat vector plus JSON metadata (kind, settings, provenance)."""
    path = Path(path)
    flat, _ = jax.flatten_util.ravel_pytree(meta_params)
    record = json.dumps({"kind": kind, "size": int(flat.size), **metadata}, sort_keys=True, default=str)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as f:
        np.savez(f, flat=np.asarray(flat), metadata=np.array(record))
    os.replace(tmp, path)
    return path


def load_meta_params(path: str | os.PathLike, template: Any) -> tuple[Any, dict[str, Any]]:
    """Meta-parameters saved by :func:`save_meta_params`, shaped like ``template``, and their metadata."""
    with np.load(path) as data:
        flat, metadata = data["flat"], json.loads(str(data["metadata"]))
    vector, unravel = jax.flatten_util.ravel_pytree(template)
    if flat.shape != vector.shape:
        raise ConfigError(
            f"{path} holds {flat.size} meta-parameters of a {metadata.get('kind')!r}; the template has {vector.size}"
        )
    return unravel(jnp.asarray(flat)), metadata
