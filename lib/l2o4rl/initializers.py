"""Parameter initialisers safe to run under ``vmap`` on CPU.

flax's ``orthogonal`` initialiser calls LAPACK's QR. Under ``vmap`` (many seeds, agents
or ES members initialised at once) jaxlib 0.10's CPU QR kernel fans the batch out over
the same small thread pool its callers run on and can deadlock: every thread idle, the
result never ready. This module computes the same Haar-distributed orthogonal matrices
with modified Gram-Schmidt in plain jnp ops, which vmap like any other computation.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp


def orthonormal_columns(a: jax.Array) -> jax.Array:
    """Modified Gram-Schmidt on the columns of ``a`` (rows >= columns): the Q of ``a = QR``
    with R's diagonal positive, which makes Q Haar-distributed when ``a`` is Gaussian."""
    columns = a.shape[1]

    def orthogonalise(j, q):
        v = q[:, j] / jnp.linalg.norm(q[:, j])
        later = (jnp.arange(columns) > j).astype(q.dtype)
        q = q - jnp.outer(v, (v @ q) * later)
        return q.at[:, j].set(v)

    return jax.lax.fori_loop(0, columns, orthogonalise, a)


def orthogonal(scale: float = 1.0):
    """A drop-in for ``flax.linen.initializers.orthogonal(scale)`` (last axis = columns)."""

    def init(key, shape, dtype=jnp.float32):
        rows, cols = math.prod(shape[:-1]), shape[-1]
        tall = (max(rows, cols), min(rows, cols))
        q = orthonormal_columns(jax.random.normal(key, tall, jnp.float32))
        q = q if rows >= cols else q.T
        return (scale * q.reshape(shape)).astype(dtype)

    return init
