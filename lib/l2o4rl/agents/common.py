"""Pieces PPO and A2C share: rollouts, GAE, episode tracking, normalisation, optimizer inputs.

The optimizer extra args
------------------------
Agents call ``optimizer.update(grads, opt_state, params, **extra_args)`` with:

``training_proportion``
    scalar in [0, 1]: update index / (number of updates - 1).
``batch_proportion``
    scalar in [0, 1]: epoch index over the current rollout / (epochs - 1).
``key``
    a PRNG key, fresh for every update (for stochastic update rules).
``dormancy``
    pytree like ``params``: per-neuron tau-dormancy score of the neuron each parameter
    feeds, broadcastable to the parameter's shape (1 for parameters that feed no neuron).
``layer_proportion``
    pytree like ``params`` of scalars: i / (L - 1) for a parameter of the network's i-th of L layers
    (a log-std outside the layers is a layer of its own, the last).
``is_actor``
    pytree like ``params`` of boolean scalars: True for actor (policy) parameters.

Hand-designed optax optimizers ignore them (the agent wraps every optimizer with
``optax.with_extra_args_support``); learned optimizers read what they need.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax

DORMANCY_EPS = 1e-8


class Transition(NamedTuple):
    obs: jax.Array
    action: jax.Array
    reward: jax.Array  # with gamma * V(final obs) added on truncated steps
    done: jax.Array  # episode ended (terminated or truncated): no bootstrapping through it
    value: jax.Array
    log_prob: jax.Array


class EpisodeStats(NamedTuple):
    """Per env: the running return and the return of the last finished episode (NaN before one)."""

    running: jax.Array
    last: jax.Array

    @classmethod
    def zeros(cls, num_envs: int) -> EpisodeStats:
        return cls(jnp.zeros(num_envs), jnp.full(num_envs, jnp.nan))

    def update(self, reward: jax.Array, done: jax.Array) -> EpisodeStats:
        running = self.running + reward
        return EpisodeStats(jnp.where(done, 0.0, running), jnp.where(done, running, self.last))


class RunningMeanStd(NamedTuple):
    """Streaming mean and variance (parallel Welford) for observation and return normalisation."""

    mean: jax.Array
    var: jax.Array
    count: jax.Array

    @classmethod
    def init(cls, shape: tuple[int, ...]) -> RunningMeanStd:
        return cls(jnp.zeros(shape), jnp.ones(shape), jnp.asarray(1e-4))

    def update(self, batch: jax.Array) -> RunningMeanStd:
        batch = batch.reshape((-1,) + self.mean.shape)
        b_mean, b_var, b_count = batch.mean(0), batch.var(0), batch.shape[0]
        delta, total = b_mean - self.mean, self.count + b_count
        mean = self.mean + delta * b_count / total
        m2 = self.var * self.count + b_var * b_count + delta**2 * self.count * b_count / total
        return RunningMeanStd(mean, m2 / total, total)

    def normalize(self, x: jax.Array, clip: float = 10.0) -> jax.Array:
        return jnp.clip((x - self.mean) / jnp.sqrt(self.var + 1e-8), -clip, clip)


def gae(transitions: Transition, last_value: jax.Array, gamma: float, lam: float) -> tuple[jax.Array, jax.Array]:
    """Generalised advantage estimates and value targets over a time-major rollout (reverse scan)."""

    def backwards(carry, t: Transition):
        next_advantage, next_value = carry
        not_done = 1.0 - t.done
        delta = t.reward + gamma * next_value * not_done - t.value
        advantage = delta + gamma * lam * not_done * next_advantage
        return (advantage, t.value), advantage

    _, advantages = jax.lax.scan(
        backwards, (jnp.zeros_like(last_value), last_value), transitions, reverse=True, unroll=8
    )
    return advantages, advantages + transitions.value


# ---------------------------------------------------------------------------------------
# Per-parameter optimizer inputs derived from the parameter tree's layer names.
# Networks name their layers ``layer_<i>`` (in depth order) and output heads ``*_head``.

_LAYER = re.compile(r"layer_(\d+)$")


def _module_name(path) -> str | None:
    """The innermost ``layer_i`` / ``*_head`` module a parameter belongs to, if any."""
    names = [getattr(k, "key", None) for k in path]
    for name in reversed(names):
        if isinstance(name, str) and (_LAYER.match(name) or name.endswith("_head")):
            return name
    return None


def network_depths(network_params) -> dict[str, int]:
    names = {_module_name(p) for p, _ in jax.tree_util.tree_flatten_with_path(network_params)[0]} - {None}
    layers = {n: int(_LAYER.match(n).group(1)) for n in names if _LAYER.match(n)}
    head_depth = max(layers.values(), default=-1) + 1
    return {**layers, **{n: head_depth for n in names if n.endswith("_head")}}


def layer_proportions(params: dict[str, Any]) -> Any:
    """Scalar i/(L-1) per parameter; each top-level entry of ``params`` is one network.

    Parameters outside a named layer (a Gaussian actor's log-std) form a layer of their own
    after the head, as in the OPEN authors' code: a 2-hidden-layer continuous actor gives
    0, 1/3, 2/3 (head) and 1 (log-std). Their published Ant optimizer was trained on that.
    """

    def per_network(network_params):
        depths = network_depths(network_params)
        unnamed = any(_module_name(p) is None for p, _ in jax.tree_util.tree_flatten_with_path(network_params)[0])
        last = max(depths.values(), default=-1) + int(unnamed)

        def proportion(path, _):
            depth = depths.get(_module_name(path), last)
            return jnp.asarray(depth / max(last, 1), jnp.float32)

        return jax.tree_util.tree_map_with_path(proportion, network_params)

    return {name: per_network(p) for name, p in params.items()}


def neuron_dormancy(activation: jax.Array) -> jax.Array:
    """tau-dormancy score per neuron (last axis): mean |activation| over the batch (and
    spatial axes) divided by the layer's mean of that quantity (Sokar et al. 2023)."""
    activity = jnp.abs(activation).reshape(-1, activation.shape[-1]).mean(0)
    return activity / (activity.mean() + DORMANCY_EPS)


def dormancy_tree(network_params: Any, activations: dict[str, jax.Array]) -> Any:
    """Per-parameter dormancy (broadcastable to each parameter) from one network's activations.

    A parameter in module ``m`` gets the score of ``m``'s output neurons; a single-output
    layer (a critic head) scores 1; parameters outside a named layer score 1.
    """
    scores = {name: neuron_dormancy(act) for name, act in activations.items()}

    def per_parameter(path, param):
        score = scores.get(_module_name(path))
        if score is None or param.ndim == 0 or param.shape[-1] != score.shape[0]:
            return jnp.ones((), jnp.float32)
        return score

    return jax.tree_util.tree_map_with_path(per_parameter, network_params)


def actor_mask(params: dict[str, Any], actor_keys: tuple[str, ...] = ("actor",)) -> Any:
    """Boolean scalar per parameter: True under a top-level key in ``actor_keys`` or a ``policy_head``."""

    def is_actor(path, _):
        keys = [getattr(k, "key", None) for k in path]
        return jnp.asarray(keys[0] in actor_keys or "policy_head" in keys)

    return jax.tree_util.tree_map_with_path(is_actor, params)


def clip_gradients(grads: dict[str, Any], max_grad_norm: float | None, clip_value: float | None) -> dict[str, Any]:
    """Clip each network's gradient by its own global norm, and/or every coordinate by value."""
    if max_grad_norm is not None:
        grads = {k: optax.clip_by_global_norm(max_grad_norm).update(g, None)[0] for k, g in grads.items()}
    if clip_value is not None:
        grads = jax.tree.map(lambda g: jnp.clip(g, -clip_value, clip_value), grads)
    return grads


def gradient_subsample_indices(params: Any, size: int, key: jax.Array) -> jax.Array:
    """A fixed random subset of flat gradient coordinates to record at every update."""
    total = sum(x.size for x in jax.tree.leaves(params))
    return jax.random.choice(key, total, (min(size, total),), replace=False)


def leaf_names(params: Any, flat_indices) -> list[str]:
    """The parameter (e.g. ``actor/layer_0/kernel``) each flat coordinate index belongs to."""
    leaves = jax.tree_util.tree_flatten_with_path(params)[0]
    names = ["/".join(str(getattr(k, "key", k)) for k in path) for path, _ in leaves]
    ends = np.cumsum([leaf.size for _, leaf in leaves])
    return [names[i] for i in np.searchsorted(ends, np.asarray(flat_indices), side="right")]


# ---------------------------------------------------------------------------------------
# Action distributions: categorical (logits) and diagonal Gaussian ((mean, log_std)).


def sample_action(key: jax.Array, dist, discrete: bool) -> jax.Array:
    if discrete:
        return jax.random.categorical(key, dist)
    mean, log_std = dist
    return mean + jnp.exp(log_std) * jax.random.normal(key, mean.shape)


def log_prob(dist, action: jax.Array, discrete: bool) -> jax.Array:
    if discrete:
        return jnp.take_along_axis(jax.nn.log_softmax(dist), action[..., None].astype(jnp.int32), -1)[..., 0]
    mean, log_std = dist
    z = (action - mean) / jnp.exp(log_std)
    return jnp.sum(-0.5 * z**2 - log_std - 0.5 * jnp.log(2 * jnp.pi), -1)


def squash(action: jax.Array) -> jax.Array:
    """A tanh-Gaussian policy's env action from its (stored, Gaussian) pre-tanh sample."""
    return jnp.tanh(action)


def tanh_log_det_jacobian(x: jax.Array) -> jax.Array:
    """log |d tanh(x) / dx| = log(1 - tanh(x)^2), summed over action dims, in a form that stays
    finite for large |x| (as brax.training's NormalTanhDistribution)."""
    return jnp.sum(2.0 * (jnp.log(2.0) - x - jax.nn.softplus(-2.0 * x)), -1)


def entropy(dist, discrete: bool) -> jax.Array:
    if discrete:
        logp = jax.nn.log_softmax(dist)
        return -jnp.sum(jnp.exp(logp) * logp, -1)
    _, log_std = dist
    return jnp.sum(log_std + 0.5 * jnp.log(2 * jnp.pi * jnp.e), -1)
