"""Actor and critic networks that also return their per-layer activations (for dormancy).

Networks take a batch ``(B, *obs_shape)`` and return ``(output, activations)`` where
``activations[name]`` is the output of the parameterised layer ``name`` (post-activation
for hidden layers, raw for output layers), so the agent scores dormancy per neuron without
a second forward pass. Layers are named ``layer_<depth>``, output heads ``<what>_head``:
layer proportion and dormancy are read off these names.
"""

from __future__ import annotations

from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
from flax.linen.initializers import constant

from ..initializers import orthogonal

ACTIVATIONS = {"relu": nn.relu, "tanh": nn.tanh, "swish": nn.swish}  # swish: brax.training's PPO default


def _dense(width: int, scale: float, index: int) -> nn.Dense:
    return nn.Dense(width, kernel_init=orthogonal(scale), bias_init=constant(0.0), name=f"layer_{index}")


class MLP(nn.Module):
    """Hidden dense layers, then a linear head; orthogonal init (sqrt 2 hidden, ``head_scale`` head)."""

    hidden: Sequence[int]
    out: int
    activation: str = "tanh"
    head_scale: float = 1.0

    @nn.compact
    def __call__(self, x):
        act = ACTIVATIONS[self.activation]
        x = x.reshape(x.shape[0], -1)
        activations = {}
        for i, width in enumerate(self.hidden):
            x = activations[f"layer_{i}"] = act(_dense(width, np.sqrt(2), i)(x))
        out = activations[f"layer_{len(self.hidden)}"] = _dense(self.out, self.head_scale, len(self.hidden))(x)
        return out, activations


class GaussianMLP(nn.Module):
    """An MLP mean with a state-independent log standard deviation (continuous actions)."""

    hidden: Sequence[int]
    action_dim: int
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x):
        mean, activations = MLP(self.hidden, self.action_dim, self.activation, head_scale=0.01, name="mlp")(x)
        log_std = self.param("log_std", constant(0.0), (self.action_dim,))
        return (mean, jnp.broadcast_to(log_std, mean.shape)), activations


class TanhGaussianMLP(nn.Module):
    """brax.training's continuous policy: an MLP gives each action's location and a raw scale,
    std = softplus(raw) + 0.001 (state-dependent); the sampled pre-tanh action is squashed by
    tanh before it reaches the env (:func:`l2o4rl.agents.common.squash`)."""

    hidden: Sequence[int]
    action_dim: int
    activation: str = "tanh"

    @nn.compact
    def __call__(self, x):
        out, activations = MLP(self.hidden, 2 * self.action_dim, self.activation, head_scale=0.01, name="mlp")(x)
        loc, raw_scale = jnp.split(out, 2, axis=-1)
        return (loc, jnp.log(jax.nn.softplus(raw_scale) + MIN_STD)), activations


MIN_STD = 0.001  # brax.training's NormalTanhDistribution(min_std)

A2C_INITS = ("lecun", "orthogonal")
CONV_PADDINGS = ("SAME", "VALID")


class SharedActorCritic(nn.Module):
    """One torso with linear policy and value heads: the A2C networks of Optim4RL (SPEC 1.5).

    ``torso="mlp"``: one dense layer of ``hidden``; ``torso="conv"``: a channels-last
    16-filter 2x2 conv, then a dense layer of ``hidden``. ``init_style="lecun"`` is the authors'
    (flax's defaults: lecun-normal kernels, zero biases); ``"orthogonal"`` the PPO-style init
    (sqrt 2 torso, 0.01 policy head, 1.0 value head). ``padding="SAME"`` is the authors' conv
    (flax's default), over the whole map including its wall border.
    """

    num_actions: int
    torso: str = "mlp"
    hidden: int = 32
    activation: str = "relu"
    init_style: str = "lecun"  # not "init": that would shadow Module.init
    padding: str = "SAME"

    def _kernel_init(self, scale: float):
        return orthogonal(scale) if self.init_style == "orthogonal" else nn.initializers.lecun_normal()

    @nn.compact
    def __call__(self, obs):
        act = ACTIVATIONS[self.activation]
        activations = {}
        x = obs
        if self.torso == "conv":
            conv = nn.Conv(16, (2, 2), padding=self.padding, kernel_init=self._kernel_init(np.sqrt(2)), name="layer_0")
            x = activations["layer_0"] = act(conv(x))
        depth = len(activations)
        x = x.reshape(x.shape[0], -1)
        dense = nn.Dense(self.hidden, kernel_init=self._kernel_init(np.sqrt(2)), name=f"layer_{depth}")
        x = activations[f"layer_{depth}"] = act(dense(x))
        policy = nn.Dense(self.num_actions, kernel_init=self._kernel_init(0.01), name="policy_head")
        value = nn.Dense(1, kernel_init=self._kernel_init(1.0), name="value_head")
        logits = activations["policy_head"] = policy(x)
        value = activations["value_head"] = value(x)
        return (logits, value[:, 0]), activations
