"""Optim4RL and the two learned optimizers it is compared with (SPEC 1.2).

All three are per-coordinate GRUs (hidden 8, weights shared across coordinates) whose
output is scaled by a learning rate. Two structures, chosen by ``heads``:

``heads="mlp"`` (the default) -- the authors' code of the gradient-processing paper (sail-sg/optim4rl,
the commit before "RLC2024 version"): each GRU's output goes through an MLP [16, 16] (ReLU,
flax default init), and

- :class:`Optim4RL`: GRUs read ``(sign g, log|g|)`` and ``2 log|g|``; the update is
  ``-lr * m / sqrt(exp(o2) + 1e-18)`` with ``m = sign(g) * s * exp(o1[1])``, where the sign
  flip ``s = sign(tanh(o1[0] + 1))`` is learned through a straight-through estimator (+1 at
  the start) -- an inductive bias towards adaptive, Adam-like steps;
- :class:`LinearOptim`: ``-lr * (exp(o1) g + exp(o2) o3)`` from ``(sign g, log|g|)``;
- :class:`L2L`: the authors' "L2LGD2", ``-lr * exp(o) g`` from ``(sign g, log|g|)``.

``heads="linear"`` -- our first port, closer to the later (RLC) version's compactness: one
dense layer per head, ``m = sign(g) exp(o1)`` (every step descends along sign(g)), root eps
1e-8, and L2L fed the p=10 preprocessing of Andrychowicz et al. (2016).

``gradient_clip`` clips each gradient coordinate before the network (the authors' configs use 1).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp

from ..config import check_choice
from . import processing
from .learned import LearnedOptimizer, gru_cell, map_leaves, zeros_like_with_hidden

HIDDEN = 8
HEADS = ("linear", "mlp")
MLP_WIDTHS = (16, 16)  # the authors' mlp_dims
SIGN_BIAS = 1.0  # the authors' +1 inside tanh: the learned sign starts at +1
ROOT_EPS = {"linear": 1e-8, "mlp": 1e-18}


class MLPHead(nn.Module):
    """The authors' head: dense [16, 16] with ReLU, then the output layer (flax default init)."""

    features: int

    @nn.compact
    def __call__(self, x):
        for i, width in enumerate(MLP_WIDTHS):
            x = nn.relu(nn.Dense(width, name=f"hidden_{i}")(x))
        return nn.Dense(self.features, name="out")(x)


def head(features: int, heads: str, name: str) -> nn.Module:
    """A network's output head for the structure ``heads`` (see the module doc)."""
    return MLPHead(features, name=name) if heads == "mlp" else nn.Dense(features, name=name)


def straight_through_sign(x: jax.Array) -> jax.Array:
    """``sign(x)`` (+1 at 0) forwards, the identity backwards: a learned sign that gets gradients."""
    return x + jax.lax.stop_gradient(jnp.where(x >= 0, 1.0, -1.0) - x)


class RecurrentState(NamedTuple):
    carries: tuple[Any, ...]  # one pytree per GRU, each leaf shaped param.shape + (hidden,)


class Optim4RLNet(nn.Module):
    hidden: int = HIDDEN
    gradient_processing: bool = True
    heads: str = "linear"

    @nn.compact
    def __call__(self, carries, g):
        if self.gradient_processing:
            g_in, g2_in = processing.sign_log(g), processing.log_squared(g)[..., None]
        else:  # the later (RLC) variant: raw g and g^2
            g_in, g2_in = g[..., None], (g * g)[..., None]
        h_m, x_m = gru_cell(self.hidden, name="gru_m")(carries[0], g_in)
        h_v, x_v = gru_cell(self.hidden, name="gru_v")(carries[1], g2_in)
        if self.heads == "mlp":
            o_m = head(2, "mlp", "head_m")(x_m)
            flip = straight_through_sign(jnp.tanh(o_m[..., 0] + SIGN_BIAS))
            m = jnp.sign(g) * flip * jnp.exp(o_m[..., 1])
        else:
            m = jnp.sign(g) * jnp.exp(head(1, "linear", "head_m")(x_m)[..., 0])
        v = jnp.exp(head(1, self.heads, "head_v")(x_v)[..., 0])
        return (h_m, h_v), m / jnp.sqrt(v + ROOT_EPS[self.heads])


class LinearOptimNet(nn.Module):
    hidden: int = HIDDEN
    heads: str = "linear"

    @nn.compact
    def __call__(self, carries, g):
        h, x = gru_cell(self.hidden, name="gru")(carries[0], processing.sign_log(g))
        o = head(3, self.heads, "head")(x)
        return (h,), jnp.exp(o[..., 0]) * g + jnp.exp(o[..., 1]) * o[..., 2]


class L2LNet(nn.Module):
    hidden: int = HIDDEN
    heads: str = "linear"

    @nn.compact
    def __call__(self, carries, g):
        inputs = processing.sign_log(g) if self.heads == "mlp" else processing.l2l_preprocess(g)
        h, x = gru_cell(self.hidden, name="gru")(carries[0], inputs)
        return (h,), jnp.exp(head(1, self.heads, "head")(x)[..., 0]) * g


class _RecurrentOptimizer(LearnedOptimizer):
    """A per-coordinate recurrent network ``(carries, g) -> (carries, step)``; update ``-lr * step``."""

    num_carries = 1
    structure = ("heads",)
    # head outputs that enter every step as an exp(.) factor, per structure: {head: output indices}
    step_scale_outputs: dict[str, dict[str, tuple[int, ...]]] = {}

    @classmethod
    def network(cls, heads: str = "mlp", **structure) -> nn.Module:
        raise NotImplementedError

    @classmethod
    def check_structure(cls, heads: str = "mlp", **structure: Any) -> None:
        check_choice(f"{cls.__name__} heads", heads, HEADS)

    @classmethod
    def scale_steps(cls, meta_params: Any, factor: float, heads: str = "mlp") -> Any:
        """``meta_params`` whose every step is ``factor`` times as large: the exp-factor biases shift by log(factor)."""
        params = jax.tree.map(lambda x: x, meta_params)  # a copy whose dicts may be edited
        for name, outputs in cls.step_scale_outputs[heads].items():
            layer = params["params"][name]["out"] if heads == "mlp" else params["params"][name]
            layer["bias"] = layer["bias"].at[jnp.asarray(outputs)].add(jnp.log(factor))
        return params

    @classmethod
    def init_meta_params(cls, key: jax.Array, **structure: Any) -> Any:
        cls.check_structure(**structure)
        carries = (jnp.zeros((1, HIDDEN)),) * cls.num_carries
        return cls.network(**structure).init(key, carries, jnp.zeros((1,)))

    @classmethod
    def _build(cls, meta_params, learning_rate: float = 1e-3, gradient_clip: float | None = None, **structure):
        cls.check_structure(**structure)
        net = cls.network(**structure)

        def init(params):
            return RecurrentState(tuple(zeros_like_with_hidden(params, HIDDEN) for _ in range(cls.num_carries)))

        def update(grads, state, params=None, **extra):
            def leaf(g, *carries):
                g = jax.lax.stop_gradient(g)
                if gradient_clip is not None:
                    g = jnp.clip(g, -gradient_clip, gradient_clip)
                carries, step = net.apply(meta_params, carries, g)
                return (-learning_rate * step, *carries)

            updates, *carries = map_leaves(leaf, grads, *state.carries)
            return updates, RecurrentState(tuple(carries))

        return init, update


class Optim4RL(_RecurrentOptimizer):
    """Optim4RL (SPEC 1.2); ``gradient_processing=False`` is the later variant fed raw g and g^2."""

    num_carries = 2
    structure = ("heads", "gradient_processing")
    step_scale_outputs = {"linear": {"head_m": (0,)}, "mlp": {"head_m": (1,)}}

    @classmethod
    def network(cls, heads: str = "mlp", gradient_processing: bool = True) -> nn.Module:
        return Optim4RLNet(gradient_processing=gradient_processing, heads=heads)


class LinearOptim(_RecurrentOptimizer):
    step_scale_outputs = {"linear": {"head": (0, 1)}, "mlp": {"head": (0, 1)}}

    @classmethod
    def network(cls, heads: str = "mlp") -> nn.Module:
        return LinearOptimNet(heads=heads)


class L2L(_RecurrentOptimizer):
    step_scale_outputs = {"linear": {"head": (0,)}, "mlp": {"head": (0,)}}

    @classmethod
    def network(cls, heads: str = "mlp") -> nn.Module:
        return L2LNet(heads=heads)
