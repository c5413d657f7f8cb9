"""Optim4RL and the two learned optimizers it is compared with (SPEC 1.2).

All three are per-coordinate GRUs (hidden 8, weights shared across coordinates) whose
output is scaled by a learning rate:

- :class:`Optim4RL`: two GRUs read the processed g and g^2; the update is
  ``-lr * m / sqrt(v + 1e-8)`` with ``m = sign(g) exp(o1)`` and ``v = exp(o2)`` -- an
  inductive bias towards adaptive, Adam-like steps: every step descends along sign(g).
- :class:`LinearOptim`: one GRU on processed g, ``-lr * (exp(o1) g + exp(o2) o3)``.
- :class:`L2L`: one GRU on the p=10 preprocessed g, ``-lr * exp(o) g``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from . import processing
from .learned import LearnedOptimizer, gru_cell, map_leaves, zeros_like_with_hidden

HIDDEN = 8


class RecurrentState(NamedTuple):
    carries: tuple[Any, ...]  # one pytree per GRU, each leaf shaped param.shape + (hidden,)


class Optim4RLNet(nn.Module):
    hidden: int = HIDDEN
    gradient_processing: bool = True

    @nn.compact
    def __call__(self, carries, g):
        if self.gradient_processing:
            g_in, g2_in = processing.sign_log(g), processing.log_squared(g)[..., None]
        else:  # the later (RLC) variant: raw g and g^2
            g_in, g2_in = g[..., None], (g * g)[..., None]
        h_m, x_m = gru_cell(self.hidden, name="gru_m")(carries[0], g_in)
        h_v, x_v = gru_cell(self.hidden, name="gru_v")(carries[1], g2_in)
        m = jnp.sign(g) * jnp.exp(nn.Dense(1, name="head_m")(x_m)[..., 0])
        v = jnp.exp(nn.Dense(1, name="head_v")(x_v)[..., 0])
        return (h_m, h_v), m / jnp.sqrt(v + 1e-8)


class LinearOptimNet(nn.Module):
    hidden: int = HIDDEN

    @nn.compact
    def __call__(self, carries, g):
        h, x = gru_cell(self.hidden, name="gru")(carries[0], processing.sign_log(g))
        o = nn.Dense(3, name="head")(x)
        return (h,), jnp.exp(o[..., 0]) * g + jnp.exp(o[..., 1]) * o[..., 2]


class L2LNet(nn.Module):
    hidden: int = HIDDEN

    @nn.compact
    def __call__(self, carries, g):
        h, x = gru_cell(self.hidden, name="gru")(carries[0], processing.l2l_preprocess(g))
        return (h,), jnp.exp(nn.Dense(1, name="head")(x)[..., 0]) * g


class _RecurrentOptimizer(LearnedOptimizer):
    """A per-coordinate recurrent network ``(carries, g) -> (carries, step)``; update ``-lr * step``."""

    num_carries = 1
    # head outputs that enter every step as an exp(.) factor: {dense layer: output indices}
    step_scale_outputs: dict[str, tuple[int, ...]] = {}

    @classmethod
    def network(cls, **structure) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def scale_steps(cls, meta_params: Any, factor: float) -> Any:
        """``meta_params`` whose every step is ``factor`` times as large: the exp-factor biases shift by log(factor)."""
        params = jax.tree.map(lambda x: x, meta_params)  # a copy whose dicts may be edited
        for layer, outputs in cls.step_scale_outputs.items():
            bias = params["params"][layer]["bias"]
            params["params"][layer]["bias"] = bias.at[jnp.asarray(outputs)].add(jnp.log(factor))
        return params

    @classmethod
    def init_meta_params(cls, key: jax.Array, **structure: Any) -> Any:
        carries = (jnp.zeros((1, HIDDEN)),) * cls.num_carries
        return cls.network(**structure).init(key, carries, jnp.zeros((1,)))

    @classmethod
    def _build(cls, meta_params, learning_rate: float = 1e-3, **structure):
        net = cls.network(**structure)

        def init(params):
            return RecurrentState(tuple(zeros_like_with_hidden(params, HIDDEN) for _ in range(cls.num_carries)))

        def update(grads, state, params=None, **extra):
            def leaf(g, *carries):
                carries, step = net.apply(meta_params, carries, jax.lax.stop_gradient(g))
                return (-learning_rate * step, *carries)

            updates, *carries = map_leaves(leaf, grads, *state.carries)
            return updates, RecurrentState(tuple(carries))

        return init, update


class Optim4RL(_RecurrentOptimizer):
    """Optim4RL (SPEC 1.2); ``gradient_processing=False`` is the later variant fed raw g and g^2."""

    num_carries = 2
    structure = ("gradient_processing",)
    step_scale_outputs = {"head_m": (0,)}

    @classmethod
    def network(cls, gradient_processing: bool = True) -> nn.Module:
        return Optim4RLNet(gradient_processing=gradient_processing)


class LinearOptim(_RecurrentOptimizer):
    step_scale_outputs = {"head": (0, 1)}

    @classmethod
    def network(cls) -> nn.Module:
        return LinearOptimNet()


class L2L(_RecurrentOptimizer):
    step_scale_outputs = {"head": (0,)}

    @classmethod
    def network(cls) -> nn.Module:
        return L2LNet()
