"""Meta-parameters on disk: the OPEN authors' flat vectors, and our own with metadata."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np

from ..config import ConfigError
from ..runtime import anchors_dir
from .open import OPEN, SIZES

# The OPEN authors' published ES means and their SHA-256: one per task they meta-trained on and
# the multi-task one (the larger network). The project does not ship them; results computed
# from them record these checksums, so a stored result names the exact vector behind it.
AUTHORS_OPEN = {
    "ant": "e1901cafe323d1c5619b84e5178b3075c95a7cde920777e2c15e58c812c3e725",
    "asterix": "55d96c80dca70e4a308352798daec00fc962d7a3faacc24f612e1b437c1893aa",
    "breakout": "d7f0876c78736a0e354f8837e2a549dc7f45ff4d01f952ba9d547d8afc6f7926",
    "freeway": "97ea3f8f9a6e34523dd50c138a1538b33fbd2b1c3a5ee05a31014460825ea9f0",
    "gridworld": "16ebb93a79adbcbfdb3e6019986109ee374764cb9cc8b0ad65f69bdcaedd9bb5",
    "multi": "9ba2dea70b0b308a365516dab092808b7b9211c70072bca934d83affaee5f60c",
    "spaceinvaders": "42845f4c0b6b460789afffb1788f806e676b27acafa0febf34e86bd63d3e362f",
}
AUTHORS_OPEN_SOURCE = "https://github.com/AlexGoldie/rl-learned-optimization/tree/main/rl_optimizer/pretrained"


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


def authors_open_path(name: str) -> Path:
    """Where the authors' ``{name}_OPEN.npy`` is looked for: ``open_pretrained/`` under
    :func:`~l2o4rl.runtime.anchors_dir` (``$L2O4RL_ANCHORS``)."""
    return anchors_dir() / "open_pretrained" / f"{name}_OPEN.npy"


def load_authors_open(name: str) -> tuple[dict[str, Any], str]:
    """The authors' published OPEN ``name`` (a key of :data:`AUTHORS_OPEN`) as our meta-parameters
    and its size, after checking the file is theirs; a missing or altered file says where to get it."""
    if name not in AUTHORS_OPEN:
        raise ConfigError(f"no published OPEN {name!r}; the authors published {', '.join(AUTHORS_OPEN)}")
    path = authors_open_path(name)
    fetch = f"download {path.name} from {AUTHORS_OPEN_SOURCE} into {path.parent} (or set $L2O4RL_ANCHORS)"
    if not path.is_file():
        raise FileNotFoundError(f"the OPEN authors' {path.name} is not at {path}: {fetch}")
    if hashlib.sha256(path.read_bytes()).hexdigest() != AUTHORS_OPEN[name]:
        raise ConfigError(f"{path} is not the authors' published {path.name} (its SHA-256 differs): {fetch}")
    return load_open_checkpoint(path)


def authors_open_optimizer(name: str) -> tuple[Callable[[Any], Any], dict[str, Any]]:
    """The authors' published OPEN ``name`` as ``(build, meta_params)``: ``build(meta_params)`` is the
    optax transformation (OPEN at the vector's size), as a learned optimizer's evaluation takes it."""
    meta_params, size = load_authors_open(name)
    return functools.partial(OPEN, size=size), meta_params


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
