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


def gru_step(params: dict[str, Any], h: jax.Array, x: jax.Array) -> jax.Array:
    """flax's ``GRUCell`` (same parameters, same result) feature-major, as two fused matmuls.

    ``h`` is ``(hidden, N)`` and ``x`` ``(inputs, N)``: one column per coordinate.
    ``h' = (1 - z) n + z h`` with ``r, z = sigmoid(W_ir x + W_hr h, W_iz x + W_hz h)`` and
    ``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``. Fusing the three gates' kernels makes one
    pass over the inputs instead of six, and putting the N coordinates last makes every
    matmul and elementwise op run along the long axis (the per-coordinate layout
    ``(N, 8)`` left a CPU's vector units mostly idle).
    """
    w_x = jnp.concatenate([params[g]["kernel"] for g in ("ir", "iz", "in")], axis=1).T
    b_x = jnp.concatenate([params[g]["bias"] for g in ("ir", "iz", "in")])[:, None]
    w_h = jnp.concatenate([params[g]["kernel"] for g in ("hr", "hz", "hn")], axis=1).T
    xs = jnp.split(w_x @ x + b_x, 3, axis=0)
    hs = jnp.split(w_h @ h, 3, axis=0)
    r, z = jax.nn.sigmoid(xs[0] + hs[0]), jax.nn.sigmoid(xs[1] + hs[1])
    n = jnp.tanh(xs[2] + r * (hs[2] + params["hn"]["bias"][:, None]))
    return (1.0 - z) * n + z * h


def dense(params: dict[str, Any], x: jax.Array) -> jax.Array:
    """flax's ``Dense`` feature-major: ``x`` ``(inputs, N)`` -> ``(outputs, N)``."""
    return params["kernel"].T @ x + params["bias"][:, None]


def layer_norm(params: dict[str, Any], x: jax.Array, eps: float = 1e-6) -> jax.Array:
    """flax's ``LayerNorm`` (its fast variance, clipped at zero) over the features of ``(features, N)``.

    The means over the features are matmuls with an averaging row, not reductions: XLA's CPU
    backend fuses a reduction between matmuls into one library (YNNPACK) fusion that is very
    slow inside PPO's nested loops: five PPO updates on Breakout-MinAtar with OPEN took 30 s
    with reductions (29 s of them in that fusion) and 2.3 s with matmuls.
    """
    average = jnp.full((1, x.shape[0]), 1.0 / x.shape[0])
    mean = average @ x
    var = jnp.maximum(average @ x**2 - mean**2, 0.0)
    return (x - mean) * (jax.lax.rsqrt(var + eps) * params["scale"][:, None]) + params["bias"][:, None]


def flatten(tree: Any) -> jax.Array:
    """Every leaf raveled and concatenated in tree order: one entry per coordinate, ``(N,)``."""
    return jnp.concatenate([jnp.ravel(x) for x in jax.tree.leaves(tree)])


def unflatten(flat: jax.Array, like: Any) -> Any:
    """The ``(N,)`` coordinates back into a tree shaped like ``like`` (inverse of :func:`flatten`)."""
    leaves, treedef = jax.tree.flatten(like)
    ends = np.cumsum([x.size for x in leaves])[:-1]
    return treedef.unflatten([part.reshape(x.shape) for part, x in zip(jnp.split(flat, ends), leaves)])


def per_coordinate(values: Any, like: Any) -> jax.Array:
    """``(N,)``: each leaf of ``values`` broadcast to its parameter's shape, flattened like :func:`flatten`."""
    return flatten(jax.tree.map(lambda v, p: jnp.broadcast_to(jnp.asarray(v, jnp.float32), p.shape), values, like))


def zeros_like_with_hidden(params: Any, hidden: int) -> Any:
    """A zero hidden state per coordinate: each leaf shaped ``param.shape + (hidden,)``."""
    return jax.tree.map(lambda p: jnp.zeros(p.shape + (hidden,), jnp.float32), params)


def map_leaves(fn: Callable, tree: Any, *rest: Any) -> tuple[Any, ...]:
    """Apply ``fn(leaf, *matching leaves) -> tuple`` per leaf; return one tree per tuple entry."""
    leaves, treedef = jax.tree.flatten(tree)
    rest_leaves = [treedef.flatten_up_to(r) for r in rest]
    results = [fn(leaf, *(r[i] for r in rest_leaves)) for i, leaf in enumerate(leaves)]
    return tuple(treedef.unflatten([r[k] for r in results]) for k in range(len(results[0])))
