"""Gradient processing: encodings that let a network resolve gradients spanning many
orders of magnitude (SPEC 1.1).

RL gradients spread over many decades of log10|g| while |g| itself stays tiny, so a
network fed raw g sees values it cannot tell apart. Optim4RL feeds ``(sign g, log|g|)``
and decodes log-magnitude outputs with ``exp``; the older L2L preprocessing (Andrychowicz
et al. 2016) is the baseline.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

LOG_EPS = 1e-18  # the Optim4RL authors' epsilon inside log(|g| + eps)
L2L_P = 10.0


def sign_log(g: jax.Array, eps: float = LOG_EPS) -> jax.Array:
    """``(sign(g), log(|g| + eps))`` stacked on a new last axis."""
    return jnp.stack([jnp.sign(g), jnp.log(jnp.abs(g) + eps)], axis=-1)


def log_squared(g: jax.Array, eps: float = LOG_EPS) -> jax.Array:
    """``2 log(|g| + eps)``: the log of g^2 without squaring tiny gradients to zero first."""
    return 2.0 * jnp.log(jnp.abs(g) + eps)


def decode_sign_log(encoded: jax.Array) -> jax.Array:
    """Inverse of :func:`sign_log` (exact up to ``eps``)."""
    return encoded[..., 0] * jnp.exp(encoded[..., 1])


def l2l_preprocess(g: jax.Array, p: float = L2L_P) -> jax.Array:
    """``(log|g| / p, sign g)`` when ``|g| >= e^-p``, else ``(-1, e^p g)``; stacked on a new last axis."""
    large = jnp.abs(g) >= jnp.exp(-p)
    safe_log = jnp.log(jnp.maximum(jnp.abs(g), jnp.exp(-p)))  # finite everywhere, also at g = 0
    return jnp.stack([jnp.where(large, safe_log / p, -1.0), jnp.where(large, jnp.sign(g), jnp.exp(p) * g)], axis=-1)
