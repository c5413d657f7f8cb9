"""A2C as in Optim4RL (SPEC 1.5): 20-step rollouts, GAE 0.95, gamma 0.995, one gradient
step per rollout on ``actor + 0.5 TD(lambda)^2 - 0.01 entropy``, and a shared torso (an
MLP, or a channels-last conv for the big gridworlds) with linear policy and value heads.
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import optax

from ..config import config, setting
from . import common
from .base import AgentState, OnPolicyAgent, OnPolicyConfig, make_train
from .common import Transition
from .networks import A2C_INITS, ACTIVATIONS, CONV_PADDINGS, SharedActorCritic


@config
class A2CConfig(OnPolicyConfig):
    num_envs: int = setting(16, ge=1)
    num_steps: int = setting(20, ge=1, doc="rollout length per env")
    gamma: float = setting(0.995, gt=0.0, le=1.0)
    gae_lambda: float = setting(0.95, ge=0.0, le=1.0)
    ent_coef: float = setting(0.01, ge=0.0)
    vf_coef: float = setting(0.5, ge=0.0)
    max_grad_norm: float | None = setting(None, doc="clip the gradient by global norm; None: off")
    torso: str = setting("mlp", choices=("mlp", "conv"))
    hidden: int = setting(32, ge=1)
    activation: str = setting("relu", choices=tuple(ACTIVATIONS))
    init: str = setting("lecun", choices=A2C_INITS, doc="lecun: flax's defaults, the authors'; orthogonal: PPO-style")
    conv_padding: str = setting("SAME", choices=CONV_PADDINGS, doc="SAME: the authors' (flax's default)")


class A2C(OnPolicyAgent):
    def __init__(self, cfg: A2CConfig, optimizer: optax.GradientTransformation, env=None, env_params=None):
        super().__init__(cfg, optimizer, env, env_params)
        self.network = SharedActorCritic(
            self.action_space.n, cfg.torso, cfg.hidden, cfg.activation, cfg.init, cfg.conv_padding
        )

    def init_params(self, key):
        return {"net": self.network.init(key, jnp.zeros((1,) + self.obs_shape))}

    def policy_value(self, params, obs):
        (logits, value), activations = self.network.apply(params["net"], obs)
        return logits, value, {"net": activations}

    def loss(self, params, batch: Transition, advantages, targets):
        """The A2C loss on a (time, env) batch, its parts, and the network's activations."""
        flat = jax.tree.map(lambda x: x.reshape((-1,) + x.shape[2:]), (batch, advantages, targets))
        batch, advantages, targets = flat
        dist, value, activations = self.policy_value(params, batch.obs)
        logp = common.log_prob(dist, batch.action, self.discrete)
        actor_loss = -jnp.mean(logp * jax.lax.stop_gradient(advantages))
        value_loss = jnp.mean((jax.lax.stop_gradient(targets) - value) ** 2)
        ent = common.entropy(dist, self.discrete).mean()
        total = actor_loss + self.cfg.vf_coef * value_loss - self.cfg.ent_coef * ent
        return total, ({"actor_loss": actor_loss, "value_loss": value_loss, "entropy": ent}, activations)

    def rollout_loss(self, state: AgentState, env_params=None):
        """Collect a fresh rollout and return ``(state, grads, losses, activations)`` at the current params."""
        state, transitions, last_value = self.collect_rollout(state, env_params)
        advantages, targets = common.gae(transitions, last_value, self.cfg.gamma, self.cfg.gae_lambda)
        grad_fn = jax.value_and_grad(self.loss, has_aux=True)
        # The optimizer's inputs carry no meta-gradient (SPEC 1.4); stopping it here keeps
        # reverse mode from differentiating the gradient computation itself.
        params = jax.lax.stop_gradient(state.params)
        (_, (losses, activations)), grads = grad_fn(params, transitions, advantages, targets)
        return state, grads, {**losses, "grad_norm": optax.global_norm(grads)}, activations

    def update(self, state: AgentState, env_params=None):
        """One A2C update: a fresh rollout and one optimizer step."""
        key, step_key = jax.random.split(state.key)
        state, grads, losses, activations = self.rollout_loss(state._replace(key=key), env_params)
        new_state = self.apply_gradients(state, grads, activations, 0, step_key)
        recorded = (grads, activations) if self.records_internals else None
        metrics = self.update_metrics(new_state, losses, recorded)
        return new_state._replace(update_index=state.update_index + 1), metrics


def make_a2c(cfg: A2CConfig, optimizer: optax.GradientTransformation, env=None, env_params=None) -> Callable:
    """``train(key, env_params=None)`` for A2C with ``optimizer``; see :func:`.base.make_train`."""
    return make_train(A2C(cfg, optimizer, env, env_params))
