"""OPEN: Learned Optimization for Plasticity, Exploration and Non-stationarity (SPEC 2.1-2.2).

Per parameter, 19 input features (:data:`FEATURES`) go through a GRU cell and a
LayerNorm MLP with three outputs ``(m, e, delta)``; the update is

    u_hat = a1 * m * exp(a2 * e)
    u_hat[actor] += a3 * delta[actor] * eps,   eps ~ N(0, 1)   (learned exploration)
    u = u_hat - mean(u_hat)                     (one scalar mean over all parameters)
    p <- p - u

Features 0-14 are divided by their root-mean-square over the whole tensor; 15-18 are
appended as they are. Any feature, and the stochastic term, can be switched off
(``disable=(...)``, ``stochastic=False``): the ablations of SPEC 2.6. A disabled feature
is fed as zero, so every variant shares the meta-parameter layout of the authors'
checkpoints (SPEC 2.7): ``{"gru_params": GRUCell, "params": MLP}``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ..config import check_choice
from .learned import LearnedOptimizer, dense, flatten, gru_cell, gru_step, layer_norm, per_coordinate, unflatten

BETAS = (0.1, 0.5, 0.9, 0.99, 0.999, 0.9999)
FEATURES = (
    "param",
    *(f"sign_momentum_{b}" for b in BETAS),
    *(f"log_momentum_{b}" for b in BETAS),
    "sign_grad",
    "log_grad",
    "training_proportion",
    "layer_proportion",
    "batch_proportion",
    "dormancy",
)
LOG_EPS = 1e-13
RMS_EPS = 1e-5
EXTRA_INPUTS = ("training_proportion", "layer_proportion", "batch_proportion", "dormancy")
ABLATIONS = ("training_proportion", "batch_proportion", "dormancy", "layer_proportion", "stochasticity")
SIZES = {"default": (8, 16), "larger": (16, 32)}  # (GRU features, MLP width): 1211 and 3571 meta-parameters


def feature_mask(disable: tuple[str, ...]) -> np.ndarray:
    """1 for fed features, 0 for disabled ones (by name from :data:`FEATURES`)."""
    for name in disable:
        check_choice("OPEN feature", name, FEATURES)
    return np.array([0.0 if f in disable else 1.0 for f in FEATURES], np.float32)


def rms_normalise(x: jax.Array, sizes: list[int]) -> jax.Array:
    """Each feature (row) divided by its root-mean-square over each tensor's coordinates:
    ``x`` is ``(features, N)`` with the tensors' coordinates in consecutive column blocks of ``sizes``."""
    parts = jnp.split(x, np.cumsum(sizes)[:-1], axis=1)
    return jnp.concatenate([v / jnp.sqrt(RMS_EPS + jnp.mean(v**2, axis=1, keepdims=True)) for v in parts], axis=1)


def update_momenta(momenta: jax.Array, g: jax.Array) -> jax.Array:
    """``m_b <- b m_b + (1 - b) g`` for every timescale b (row); zero start, no bias correction."""
    betas = jnp.asarray(BETAS)[:, None]
    return betas * momenta + (1.0 - betas) * g


def features(params, grads, momenta, training_proportion, layer_proportion, batch_proportion, dormancy) -> jax.Array:
    """The 19 inputs of every coordinate, ``(19, N)`` (coordinates flattened in tree order);
    ``momenta`` ``(6, N)`` already include ``grads``. ``layer_proportion`` and ``dormancy``
    are trees like ``params`` of values broadcastable to each parameter."""
    p, g = flatten(params), flatten(grads)
    sizes = [x.size for x in jax.tree.leaves(params)]
    normalised = rms_normalise(
        jnp.concatenate(
            [
                p[None],
                jnp.sign(momenta),
                jnp.log(jnp.abs(momenta) + LOG_EPS),
                jnp.sign(g)[None],
                jnp.log(jnp.abs(g) + LOG_EPS)[None],
            ]
        ),
        sizes,
    )
    extras = [
        jnp.full(p.shape, training_proportion, jnp.float32),
        per_coordinate(layer_proportion, params),
        jnp.full(p.shape, batch_proportion, jnp.float32),
        per_coordinate(dormancy, params),
    ]
    return jnp.concatenate([normalised, jnp.stack(extras)])


OUTPUTS = ("m", "e", "delta")


def head_layers(width: int) -> list:
    return [nn.Dense(width), nn.LayerNorm(), nn.relu, nn.Dense(width), nn.LayerNorm(), nn.relu, nn.Dense(len(OUTPUTS))]


def head(width: int) -> nn.Module:
    return nn.Sequential(head_layers(width))


OUTPUT_LAYER = f"layers_{len(head_layers(1)) - 1}"  # flax names a Sequential's i-th layer layers_i


def apply_head(params: dict[str, Any], h: jax.Array) -> jax.Array:
    """:func:`head` (the same parameters, the same result) feature-major: ``(GRU features, N) -> (3, N)``."""
    for linear, norm in (("layers_0", "layers_1"), ("layers_3", "layers_4")):
        h = jax.nn.relu(layer_norm(params[norm], dense(params[linear], h)))
    return dense(params[OUTPUT_LAYER], h)


class OPENState(NamedTuple):
    """Hidden state of every coordinate, feature-major: coordinates flattened in tree order (N)."""

    momenta: jax.Array  # (6, N)
    carry: jax.Array  # (GRU features, N)
    noise_scale: jax.Array  # of the last update: mean std |a3 delta| of the actor noise (0 without it)


class OPEN(LearnedOptimizer):
    """OPEN as an optax transformation; see the module docstring."""

    structure = ("size",)

    @classmethod
    def init_meta_params(cls, key: jax.Array, size: str = "default") -> dict[str, Any]:
        check_choice("OPEN size", size, SIZES)
        gru_features, width = SIZES[size]
        gru_key, head_key = jax.random.split(key)
        gru = gru_cell(gru_features)
        return {
            "gru_params": gru.init(gru_key, jnp.zeros((1, gru_features)), jnp.zeros((1, len(FEATURES)))),
            "params": head(width).init(head_key, jnp.zeros((1, gru_features))),
        }

    @classmethod
    def live_mask(cls, template: Any, disable: tuple[str, ...] = (), stochastic: bool = True) -> Any:
        """1 for the meta-parameters a variant uses, 0 for those ``disable`` and ``stochastic``
        remove: a disabled feature's rows of the GRU input kernels and, without stochasticity,
        the delta output of the last layer. At those zeros the full OPEN computes exactly what
        ``OPEN(..., disable=disable, stochastic=stochastic)`` computes, so an ablation can be
        data rather than a static setting.
        """
        live = jax.tree.map(jnp.ones_like, template)
        keep = jnp.asarray(feature_mask(disable))[:, None]
        for gate in ("ir", "iz", "in"):
            kernel = live["gru_params"]["params"][gate]["kernel"]
            live["gru_params"]["params"][gate]["kernel"] = kernel * keep
        if not stochastic:
            out, delta = live["params"]["params"][OUTPUT_LAYER], OUTPUTS.index("delta")
            out["kernel"], out["bias"] = out["kernel"].at[:, delta].set(0.0), out["bias"].at[delta].set(0.0)
        return live

    @classmethod
    def _build(
        cls,
        meta_params,
        size: str = "default",
        disable: tuple[str, ...] = (),
        stochastic: bool = True,
        scales: tuple[float, float, float] = (1e-3, 1e-3, 1e-3),
    ):
        check_choice("OPEN size", size, SIZES)
        gru_features, width = SIZES[size]
        mask = jnp.asarray(feature_mask(disable))
        a1, a2, a3 = scales

        def init(params):
            n = sum(x.size for x in jax.tree.leaves(params))
            return OPENState(jnp.zeros((len(BETAS), n)), jnp.zeros((gru_features, n)), jnp.zeros(()))

        def update(
            grads,
            state,
            params=None,
            *,
            key=None,
            training_proportion=0.0,
            batch_proportion=0.0,
            dormancy=None,
            layer_proportion=None,
            is_actor=None,
            **_,
        ):
            if params is None:
                raise ValueError("OPEN needs the current params: call update(grads, state, params, ...)")
            if stochastic and key is None:
                raise ValueError("OPEN with stochastic=True needs a PRNG key: update(..., key=key)")
            ones = jax.tree.map(lambda p: 1.0, params)
            dormancy = ones if dormancy is None else dormancy
            layer_proportion = jax.tree.map(lambda _: 0.0, ones) if layer_proportion is None else layer_proportion
            is_actor = ones if is_actor is None else is_actor

            grads = jax.lax.stop_gradient(grads)
            momenta = update_momenta(state.momenta, flatten(grads))
            x = features(params, grads, momenta, training_proportion, layer_proportion, batch_proportion, dormancy)
            # A disabled feature is fed as zero: its columns of the GRU input kernels are zeroed.
            gru = dict(meta_params["gru_params"]["params"])
            for gate in ("ir", "iz", "in"):
                gru[gate] = {**gru[gate], "kernel": gru[gate]["kernel"] * mask[:, None]}
            carry = gru_step(gru, state.carry, x)
            m, e, delta = apply_head(meta_params["params"]["params"], carry)
            u_hat = a1 * m * jnp.exp(a2 * e)
            noise_scale = jnp.zeros(())
            if stochastic:
                actor_mask = per_coordinate(is_actor, params)
                noise_std = actor_mask * a3 * delta
                u_hat = u_hat + noise_std * jax.random.normal(key, u_hat.shape)
                noise_scale = jnp.sum(jnp.abs(noise_std)) / jnp.maximum(jnp.sum(actor_mask), 1.0)
            return unflatten(-(u_hat - u_hat.mean()), params), OPENState(momenta, carry, noise_scale)

        return init, update


def ablation(name: str) -> dict[str, Any]:
    """The OPEN settings of one SPEC 2.6 ablation (``"no_features"``: no extra inputs, no noise)."""
    if name == "no_features":
        return {"disable": EXTRA_INPUTS, "stochastic": False}
    check_choice("OPEN ablation", name, ABLATIONS + ("no_features",))
    return {"stochastic": False} if name == "stochasticity" else {"disable": (name,)}
