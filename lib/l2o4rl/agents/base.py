"""What every on-policy agent here shares: config, state, rollouts, optimizer step, metrics.

A subclass supplies its networks (``init_params``, ``policy_value``) and its learning rule
(``loss``, ``update``); :func:`make_train` turns any of them into one pure ``train(key)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import jax
import jax.flatten_util
import jax.numpy as jnp
import optax

from ..config import Config, ConfigError, config, setting
from ..envs import BRAX_BACKENDS, ENV_NAMES, SIZED_ENVS, batch_step, is_discrete, make
from . import common
from .common import EpisodeStats, RunningMeanStd, Transition


@config
class OnPolicyConfig(Config):
    env: str = setting("CartPole-v1", choices=ENV_NAMES)
    brax_backend: str = setting("spring", choices=BRAX_BACKENDS, doc="physics pipeline of brax-* envs")
    env_size: int | None = setting(None, ge=1, doc=f"size of a sized env ({', '.join(SIZED_ENVS)}); None: its default")
    num_envs: int = setting(64, ge=1)
    num_steps: int = setting(128, ge=1, doc="rollout length per env")
    total_timesteps: int = setting(1_000_000, ge=1)
    gamma: float = setting(0.99, gt=0.0, le=1.0)
    gae_lambda: float = setting(0.95, ge=0.0, le=1.0)
    ent_coef: float = setting(0.01, ge=0.0)
    vf_coef: float = setting(0.5, ge=0.0)
    max_grad_norm: float | None = setting(0.5, doc="clip each network's gradient by global norm; None: off")
    clip_value: float | None = setting(None, doc="clip every gradient coordinate to +-clip_value; None: off")
    normalize_obs: bool = setting(False)
    bootstrap_truncation: bool = setting(
        True,
        doc="bootstrap from V(cut-off observation) at a time-out; False: a time-out ends the return like a "
        "termination, as both papers' code does",
    )
    normalize_reward: bool = setting(False)
    reward_scale: float = setting(1.0, gt=0.0)
    record_gradients: int = setting(0, ge=0, doc="raw gradient coordinates recorded per update (0: none)")
    record_dormancy: bool = setting(False, doc="record each hidden layer's dormant-neuron share per update")
    dormancy_tau: float = setting(0.0, ge=0.0)
    record_optimizer: tuple[str, ...] = setting(
        (), doc="scalar fields of the optimizer state (e.g. OPEN's noise_scale) recorded per update where present"
    )

    def validate(self) -> None:
        if self.env_size is not None and self.env not in SIZED_ENVS:
            raise ConfigError(
                f"{type(self).__name__}.env_size is set but env {self.env!r} has no size; "
                f"sized envs: {', '.join(SIZED_ENVS)}"
            )
        if self.total_timesteps < self.steps_per_update:
            raise ConfigError(
                f"{type(self).__name__}.total_timesteps = {self.total_timesteps} is less than one rollout "
                f"(num_envs * num_steps = {self.steps_per_update})"
            )

    @property
    def env_kwargs(self) -> dict[str, Any]:
        return {} if self.env_size is None else {"size": self.env_size}

    @property
    def steps_per_update(self) -> int:
        return self.num_envs * self.num_steps

    @property
    def num_updates(self) -> int:
        return self.total_timesteps // self.steps_per_update

    @property
    def optimizer_steps_per_update(self) -> int:
        """Optimizer steps an update takes (one per minibatch of each pass over the rollout)."""
        return 1


class AgentState(NamedTuple):
    params: dict[str, Any]  # one entry per network, e.g. {"actor": ..., "critic": ...}
    opt_state: Any
    env_state: Any
    obs: jax.Array
    episodes: EpisodeStats
    obs_stats: RunningMeanStd
    return_stats: RunningMeanStd
    discounted_return: jax.Array
    key: jax.Array
    update_index: jax.Array


class OnPolicyAgent:
    """Pure pieces of an on-policy actor-critic agent; each method can be jitted or vmapped."""

    epochs_per_update = 1  # passes over each rollout (the batch-proportion denominator)

    def __init__(self, cfg: OnPolicyConfig, optimizer: optax.GradientTransformation, env=None, env_params=None):
        self.cfg = cfg
        self.optimizer = optax.with_extra_args_support(optimizer)
        if env is None:
            env, env_params = make(cfg.env, brax_backend=cfg.brax_backend, **cfg.env_kwargs)
        self.env, self.default_env_params = env, env_params
        self.discrete = is_discrete(self.env, self.default_env_params)
        self.obs_shape = self.env.observation_space(self.default_env_params).shape
        self.action_space = self.env.action_space(self.default_env_params)

    # -- to be supplied by each agent ------------------------------------------------------
    def init_params(self, key: jax.Array) -> dict[str, Any]:
        raise NotImplementedError

    def policy_value(self, params, obs):
        """``(action distribution, value, {network: {layer: activation}})`` for a batch."""
        raise NotImplementedError

    def update(self, state: AgentState, env_params=None) -> tuple[AgentState, dict[str, jax.Array]]:
        raise NotImplementedError

    def value(self, params, obs) -> jax.Array:
        return self.policy_value(params, obs)[1]

    def env_action(self, action: jax.Array) -> jax.Array:
        """The env's action for a sampled (and stored) one; the identity unless a policy squashes."""
        return action

    # -- environment interaction -----------------------------------------------------------
    def init(self, key: jax.Array, env_params=None) -> AgentState:
        env_params = self.default_env_params if env_params is None else env_params
        param_key, env_key, key = jax.random.split(key, 3)
        params = self.init_params(param_key)
        obs, env_state = jax.vmap(self.env.reset, in_axes=(0, None))(
            jax.random.split(env_key, self.cfg.num_envs), env_params
        )
        return AgentState(
            params=params,
            opt_state=self.optimizer.init(params),
            env_state=env_state,
            obs=obs,
            episodes=EpisodeStats.zeros(self.cfg.num_envs),
            obs_stats=RunningMeanStd.init(self.obs_shape),
            return_stats=RunningMeanStd.init(()),
            discounted_return=jnp.zeros(self.cfg.num_envs),
            key=key,
            update_index=jnp.asarray(0),
        )

    def normalize_obs(self, state: AgentState, obs: jax.Array) -> jax.Array:
        return state.obs_stats.normalize(obs) if self.cfg.normalize_obs else obs

    def collect_rollout(self, state: AgentState, env_params=None) -> tuple[AgentState, Transition, jax.Array]:
        """``num_steps`` steps of every env; returns the time-major transitions and the last value."""
        cfg, env_params = self.cfg, self.default_env_params if env_params is None else env_params
        step_env = batch_step(self.env)
        # Rollouts are data: a meta-gradient must not differentiate through them.
        params = jax.lax.stop_gradient(state.params)

        def env_step(state: AgentState, key):
            action_key, step_key = jax.random.split(key)
            raw_obs, obs = state.obs, self.normalize_obs(state, state.obs)
            dist, value, _ = self.policy_value(params, obs)
            action = common.sample_action(action_key, dist, self.discrete)
            logp = common.log_prob(dist, action, self.discrete)
            with jax.named_scope("env"):  # profile scopes (bench/es.py): env, rollout, optimizer
                next_obs, env_state, reward, terminated, truncated, info = step_env(
                    jax.random.split(step_key, cfg.num_envs), state.env_state, self.env_action(action), env_params
                )
            done = jnp.logical_or(terminated, truncated)
            learn_reward = reward * cfg.reward_scale
            discounted = state.discounted_return * cfg.gamma * (1.0 - done) + learn_reward
            return_stats = state.return_stats
            if cfg.normalize_reward:
                return_stats = return_stats.update(discounted)
                learn_reward = learn_reward / jnp.sqrt(return_stats.var + 1e-8)
            if cfg.bootstrap_truncation:  # truncation is not failure: bootstrap from the cut-off observation
                final_value = self.value(params, self.normalize_obs(state, info["final_observation"]))
                bootstrap = jnp.logical_and(truncated, jnp.logical_not(terminated))
                learn_reward = learn_reward + cfg.gamma * final_value * bootstrap
            state = state._replace(
                env_state=env_state,
                obs=next_obs,
                episodes=state.episodes.update(reward, done),
                return_stats=return_stats,
                discounted_return=discounted,
            )
            return state, (Transition(obs, action, learn_reward, done.astype(jnp.float32), value, logp), raw_obs)

        key, rollout_key = jax.random.split(state.key)
        with jax.named_scope("rollout"):
            state, (transitions, raw_obs) = jax.lax.scan(
                env_step, state._replace(key=key), jax.random.split(rollout_key, cfg.num_steps)
            )
        last_value = self.value(params, self.normalize_obs(state, state.obs))
        if cfg.normalize_obs:
            # Stats move once per rollout, after it was collected with fixed stats, and from the raw
            # observations: updating from normalised ones converges to a wrong fixed point.
            state = state._replace(obs_stats=state.obs_stats.update(raw_obs))
        return state, transitions, last_value

    # -- one optimizer step ----------------------------------------------------------------
    def optimizer_inputs(self, state: AgentState, activations, epoch, key) -> dict[str, Any]:
        """The keyword extra args every optimizer update receives (see :mod:`.common`)."""
        params = state.params
        return {
            "training_proportion": state.update_index / max(self.cfg.num_updates - 1, 1),
            "batch_proportion": epoch / max(self.epochs_per_update - 1, 1),
            "key": key,
            "dormancy": {net: common.dormancy_tree(params[net], activations[net]) for net in params},
            "layer_proportion": common.layer_proportions(params),
            "is_actor": common.actor_mask(params),
        }

    def apply_gradients(self, state: AgentState, grads, activations, epoch, key) -> AgentState:
        """Clip ``grads``, let the optimizer turn them into updates, and apply those."""
        grads = common.clip_gradients(grads, self.cfg.max_grad_norm, self.cfg.clip_value)
        extra = self.optimizer_inputs(state, activations, epoch, key)
        with jax.named_scope("optimizer"):
            updates, opt_state = self.optimizer.update(grads, state.opt_state, state.params, **extra)
        return state._replace(params=optax.apply_updates(state.params, updates), opt_state=opt_state)

    # -- metrics -----------------------------------------------------------------------------
    @property
    def records_internals(self) -> bool:
        """Whether updates must carry gradients and activations out for the metrics."""
        return bool(self.cfg.record_gradients or self.cfg.record_dormancy)

    def update_metrics(self, state: AgentState, losses, recorded) -> dict[str, jax.Array]:
        """Per-update metrics; ``recorded`` is ``(grads, activations)`` of the update's first
        minibatch when :attr:`records_internals`, else None."""
        metrics = {
            **losses,
            "episode_return": jnp.nanmean(state.episodes.last),
            "episodes_finished": jnp.sum(~jnp.isnan(state.episodes.last)),
        }
        for name in self.cfg.record_optimizer:  # a hand-designed optimizer's state has no such field
            value = optax.tree_utils.tree_get(state.opt_state, name)
            if value is not None:
                metrics[f"optimizer_{name}"] = value
        if recorded is None:
            return metrics
        grads, activations = recorded
        if self.cfg.record_gradients:
            metrics["gradients"] = jax.flatten_util.ravel_pytree(grads)[0][self.gradient_indices()]
        if self.cfg.record_dormancy:
            for net, net_acts in activations.items():
                depths = common.network_depths(state.params[net])
                output_depth = max(depths.values())
                for layer, act in net_acts.items():
                    if depths[layer] < output_depth:
                        share = jnp.mean(common.neuron_dormancy(act) <= self.cfg.dormancy_tau)
                        metrics[f"dormant_{net}_{layer}"] = share
        return metrics

    def gradient_indices(self) -> jax.Array:
        """The fixed gradient coordinates recorded when ``record_gradients > 0``."""
        shapes = jax.eval_shape(self.init_params, jax.random.key(0))
        return common.gradient_subsample_indices(shapes, self.cfg.record_gradients, jax.random.key(12345))


def make_train(agent: OnPolicyAgent, on_update: Callable[[jax.Array], None] | None = None) -> Callable:
    """``train(key, env_params=None) -> (final AgentState, metrics)``, metrics shaped ``(num_updates, ...)``.

    ``env_params`` overrides the environment's parameters for this run (e.g. a sampled
    gridworld level shared by all envs of the run).

    ``on_update(i)`` runs on the host as update ``i`` begins, i.e. with the number of updates
    done (a progress bar), once per update however many agents are vmapped (its argument is
    the unbatched update index). The numbers are bit-identical with and without it
    (``tests/test_agents.py``), but JAX never writes a program with a host callback to its
    persistent compilation cache, so only long runs should pass one.
    """
    num_updates = agent.cfg.num_updates

    def train(key: jax.Array, env_params=None):
        state = agent.init(key, env_params)
        if on_update is None:  # the program every stored result was computed with
            return jax.lax.scan(lambda s, _: agent.update(s, env_params), state, None, length=num_updates)

        def step(s, index):
            jax.debug.callback(on_update, index)
            return agent.update(s, env_params)

        return jax.lax.scan(step, state, jnp.arange(num_updates))

    return train
