"""The shared shape of a learned optimizer: an optax transformation built from meta-parameters.

A learned optimizer class ``X`` subclasses ``optax.GradientTransformationExtraArgs``:

    phi = X.init_meta_params(jax.random.key(0), **structure)   # an ordinary pytree
    opt = X(phi, **settings)                                   # an optax transformation
    updates, state = opt.update(grads, opt.init(params), params, key=..., ...)

Its network is a flax module applied per coordinate, with hidden states shaped
``param.shape + (hidden,)``. Gradients entering the network are stop-gradient, so
meta-gradients flow through the updates only (truncated backpropagation, SPEC 1.4).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..config import ConfigError
from ..initializers import orthogonal


class LearnedOptimizer(optax.GradientTransformationExtraArgs):
    """Base class; subclasses implement ``_build`` and ``init_meta_params``."""

    # keyword settings that change the meta-parameters' structure (must match init_meta_params)
    structure: tuple[str, ...] = ()

    def __new__(cls, meta_params: Any, **settings: Any):
        named = [p.name for p in inspect.signature(cls._build).parameters.values() if p.kind != p.VAR_KEYWORD]
        valid = tuple(named[1:]) + cls.structure
        for key in settings:
            if key not in valid:
                raise ConfigError(f"{cls.__name__} has no setting {key!r}; valid settings: {', '.join(valid)}")
        init, update = cls._build(meta_params, **settings)
        return super().__new__(cls, init, update)

    @classmethod
    def _build(cls, meta_params, **settings) -> tuple[Callable, Callable]:
        raise NotImplementedError

    @classmethod
    def init_meta_params(cls, key: jax.Array, **structure: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def num_meta_params(cls, **structure: Any) -> int:
        shapes = jax.eval_shape(lambda k: cls.init_meta_params(k, **structure), jax.random.key(0))
        return sum(x.size for x in jax.tree.leaves(shapes))


def gru_cell(features: int, **kwargs) -> nn.GRUCell:
    """flax's GRU cell with a vmap-safe orthogonal recurrent init (see :mod:`l2o4rl.initializers`)."""
    return nn.GRUCell(features, recurrent_kernel_init=orthogonal(), **kwargs)


def gru_step(params: dict[str, Any], h: jax.Array, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """flax's ``GRUCell`` (same parameters, same result) as two fused matmuls.

    ``h' = (1 - z) n + z h`` with ``r, z = sigmoid(x W_ir + h W_hr, x W_iz + h W_hz)`` and
    ``n = tanh(x W_in + b_in + r (h W_hn + b_hn))``; fusing the three gates' kernels makes
    one pass over the inputs instead of six, which dominates a per-coordinate optimizer.
    """
    w_x = jnp.concatenate([params[g]["kernel"] for g in ("ir", "iz", "in")], axis=1)
    b_x = jnp.concatenate([params[g]["bias"] for g in ("ir", "iz", "in")])
    w_h = jnp.concatenate([params[g]["kernel"] for g in ("hr", "hz", "hn")], axis=1)
    xs = jnp.split(x @ w_x + b_x, 3, axis=-1)
    hs = jnp.split(h @ w_h, 3, axis=-1)
    r, z = jax.nn.sigmoid(xs[0] + hs[0]), jax.nn.sigmoid(xs[1] + hs[1])
    n = jnp.tanh(xs[2] + r * (hs[2] + params["hn"]["bias"]))
    h = (1.0 - z) * n + z * h
    return h, h


def stack(tree: Any) -> jax.Array:
    """Every leaf shaped ``param.shape + (k,)`` flattened and stacked into one ``(N, k)`` array."""
    leaves = jax.tree.leaves(tree)
    return jnp.concatenate([x.reshape(-1, x.shape[-1]) for x in leaves], axis=0)


def unstack(flat: jax.Array, shapes: list[tuple[int, ...]]) -> list[jax.Array]:
    """Split ``(N, ...)`` rows back into one array per parameter shape (inverse of :func:`stack`)."""
    ends = np.cumsum([int(np.prod(s)) for s in shapes])[:-1]
    return [part.reshape(shape + flat.shape[1:]) for part, shape in zip(jnp.split(flat, ends), shapes)]


def zeros_like_with_hidden(params: Any, hidden: int) -> Any:
    """A zero hidden state per coordinate: each leaf shaped ``param.shape + (hidden,)``."""
    return jax.tree.map(lambda p: jnp.zeros(p.shape + (hidden,), jnp.float32), params)


def map_leaves(fn: Callable, tree: Any, *rest: Any) -> tuple[Any, ...]:
    """Apply ``fn(leaf, *matching leaves) -> tuple`` per leaf; return one tree per tuple entry."""
    leaves, treedef = jax.tree.flatten(tree)
    rest_leaves = [treedef.flatten_up_to(r) for r in rest]
    results = [fn(leaf, *(r[i] for r in rest_leaves)) for i, leaf in enumerate(leaves)]
    return tuple(treedef.unflatten([r[k] for r in results]) for k in range(len(results[0])))
