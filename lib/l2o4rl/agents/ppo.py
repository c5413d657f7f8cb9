"""PPO in the PureJaxRL style: a whole training run is one pure, jittable function of a key.

    train = make_ppo(PPOConfig(env="CartPole-v1"), optax.adam(3e-4))
    final_state, metrics = jax.jit(train)(jax.random.key(0))
    many = jax.jit(jax.vmap(train))(jax.random.split(jax.random.key(0), 8))   # 8 seeds at once

Separate actor and critic MLPs (orthogonal init), categorical or diagonal-Gaussian policies
(optionally tanh-squashed, as brax.training's), GAE, per-minibatch advantage normalisation,
clipped value loss, entropy bonus, per-network gradient clipping, optional observation/reward
normalisation (Brax), and gymnax 1.0 semantics: bootstrap through ``truncated``, not through
``terminated``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from ..config import ConfigError, config, setting
from . import common
from .base import AgentState, OnPolicyAgent, OnPolicyConfig, make_train
from .common import Transition
from .networks import ACTIVATIONS, MLP, GaussianMLP, TanhGaussianMLP

POLICIES = ("gaussian", "tanh_gaussian")


@config
class PPOConfig(OnPolicyConfig):
    update_epochs: int = setting(4, ge=1)
    num_minibatches: int = setting(8, ge=1)
    clip_eps: float = setting(0.2, gt=0.0)
    value_clip: bool = setting(True, doc="clip the value loss by clip_eps as PureJaxRL does (brax.training does not)")
    policy: str = setting(
        "gaussian",
        choices=POLICIES,
        doc="continuous actions: PureJaxRL's Gaussian with a "
        "state-independent log-std (the env clips actions) or brax.training's tanh-squashed one",
    )
    hidden: int = setting(64, ge=1, doc="width of the actor's hidden layers (and the critic's unless critic_hidden)")
    num_layers: int = setting(2, ge=1, doc="the actor's hidden layers (and the critic's unless critic_layers)")
    critic_hidden: int | None = setting(None, ge=1, doc="width of the critic's hidden layers; None: hidden")
    critic_layers: int | None = setting(None, ge=1, doc="the critic's hidden layers; None: num_layers")
    activation: str = setting("tanh", choices=tuple(ACTIVATIONS))

    def validate(self) -> None:
        super().validate()
        if self.steps_per_update % self.num_minibatches:
            raise ConfigError(
                f"PPOConfig.num_minibatches = {self.num_minibatches} must divide num_envs * num_steps = "
                f"{self.steps_per_update}"
            )

    @property
    def optimizer_steps_per_update(self) -> int:
        return self.update_epochs * self.num_minibatches


class PPO(OnPolicyAgent):
    def __init__(self, cfg: PPOConfig, optimizer: optax.GradientTransformation, env=None, env_params=None):
        super().__init__(cfg, optimizer, env, env_params)
        self.epochs_per_update = cfg.update_epochs
        hidden = (cfg.hidden,) * cfg.num_layers
        critic_hidden = (cfg.critic_hidden or cfg.hidden,) * (cfg.critic_layers or cfg.num_layers)
        self.squashed = cfg.policy == "tanh_gaussian"
        if self.discrete and self.squashed:
            raise ConfigError(
                f"PPOConfig.policy = {cfg.policy!r} needs continuous actions; {cfg.env} has discrete ones"
            )
        if self.discrete:
            self.actor = MLP(hidden, self.action_space.n, cfg.activation, head_scale=0.01)
        else:
            continuous = TanhGaussianMLP if self.squashed else GaussianMLP
            self.actor = continuous(hidden, self.action_space.shape[0], cfg.activation)
        self.critic = MLP(critic_hidden, 1, cfg.activation, head_scale=1.0)

    def init_params(self, key):
        actor_key, critic_key = jax.random.split(key)
        dummy = jnp.zeros((1,) + self.obs_shape)
        return {"actor": self.actor.init(actor_key, dummy), "critic": self.critic.init(critic_key, dummy)}

    def policy_value(self, params, obs):
        dist, actor_acts = self.actor.apply(params["actor"], obs)
        value, critic_acts = self.critic.apply(params["critic"], obs)
        return dist, value[:, 0], {"actor": actor_acts, "critic": critic_acts}

    def value(self, params, obs):
        return self.critic.apply(params["critic"], obs)[0][:, 0]

    def env_action(self, action):
        return common.squash(action) if self.squashed else action

    def loss(self, params, batch: Transition, advantages, targets, key=None):
        """The clipped PPO loss on one minibatch, its parts, and the networks' activations.

        A tanh-squashed policy's entropy is the Gaussian's plus the squash's log-Jacobian at a
        fresh sample (drawn with ``key``), as brax.training estimates it."""
        cfg = self.cfg
        dist, value, activations = self.policy_value(params, batch.obs)
        logp = common.log_prob(dist, batch.action, self.discrete)
        value_loss = (value - targets) ** 2
        if cfg.value_clip:
            value_clipped = batch.value + jnp.clip(value - batch.value, -cfg.clip_eps, cfg.clip_eps)
            value_loss = jnp.maximum(value_loss, (value_clipped - targets) ** 2)
        value_loss = 0.5 * value_loss.mean()
        advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
        ratio = jnp.exp(logp - batch.log_prob)
        clipped_ratio = jnp.clip(ratio, 1.0 - cfg.clip_eps, 1.0 + cfg.clip_eps)
        actor_loss = -jnp.minimum(ratio * advantages, clipped_ratio * advantages).mean()
        ent = common.entropy(dist, self.discrete)
        if self.squashed:
            ent = ent + common.tanh_log_det_jacobian(common.sample_action(key, dist, False))
        ent = ent.mean()
        total = actor_loss + cfg.vf_coef * value_loss - cfg.ent_coef * ent
        return total, ({"actor_loss": actor_loss, "value_loss": value_loss, "entropy": ent}, activations)

    def update_minibatch(self, state: AgentState, minibatch, epoch, key):
        entropy_key = None
        if self.squashed:  # only then: the optimizer's key stream stays that of the Gaussian policy
            key, entropy_key = jax.random.split(key)
        loss = functools.partial(self.loss, key=entropy_key)
        (_, (losses, activations)), grads = jax.value_and_grad(loss, has_aux=True)(state.params, *minibatch)
        state = self.apply_gradients(state, grads, activations, epoch, key)
        recorded = (grads, activations) if self.records_internals else None
        return state, ({**losses, "grad_norm": optax.global_norm(grads)}, recorded)

    def update_epoch(self, state: AgentState, data, epoch):
        """Shuffle the rollout into minibatches and take one optimizer step on each."""
        cfg = self.cfg
        key, perm_key, step_key = jax.random.split(state.key, 3)
        permutation = jax.random.permutation(perm_key, cfg.steps_per_update)

        def to_minibatches(x):
            flat = x.reshape((cfg.steps_per_update,) + x.shape[2:])[permutation]
            return flat.reshape((cfg.num_minibatches, -1) + x.shape[2:])

        def step(state, inputs):
            minibatch, key = inputs
            return self.update_minibatch(state, minibatch, epoch, key)

        keys = jax.random.split(step_key, cfg.num_minibatches)
        state, (losses, recorded) = jax.lax.scan(
            step, state._replace(key=key), (jax.tree.map(to_minibatches, data), keys)
        )
        return state, (jax.tree.map(jnp.mean, losses), jax.tree.map(lambda x: x[0], recorded))

    def update(self, state: AgentState, env_params=None):
        """One PPO update: collect a rollout, then ``update_epochs`` passes over it."""
        state, transitions, last_value = self.collect_rollout(state, env_params)
        advantages, targets = common.gae(transitions, last_value, self.cfg.gamma, self.cfg.gae_lambda)
        data = (transitions, advantages, targets)
        state, (losses, recorded) = jax.lax.scan(
            lambda s, epoch: self.update_epoch(s, data, epoch), state, jnp.arange(self.cfg.update_epochs)
        )
        metrics = self.update_metrics(state, jax.tree.map(jnp.mean, losses), jax.tree.map(lambda x: x[0], recorded))
        return state._replace(update_index=state.update_index + 1), metrics


def make_ppo(cfg: PPOConfig, optimizer: optax.GradientTransformation, env=None, env_params=None) -> Callable:
    """``train(key, env_params=None)`` for PPO with ``optimizer``; see :func:`.base.make_train`."""
    return make_train(PPO(cfg, optimizer, env, env_params))
