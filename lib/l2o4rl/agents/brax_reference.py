"""brax.training's own PPO trainer on one of our Brax tasks: the reference our PPO is checked
against (notebook 01), at the same settings wherever brax's trainer has them.

    steps, returns = reference_ppo(get_task("inverted_pendulum").at(), learning_rate=3e-4, seed=0)

Brax's trainer uses Adam; it has no element-wise gradient clip (``clip_value`` is not applied:
:data:`NOT_APPLIED`); its policy is always the tanh-squashed normal with a state-dependent scale
(ours with ``policy="tanh_gaussian"``), its layers lecun-uniform initialised. Its returns are
those of its evaluator (stochastic policy, fresh episodes of 1000 steps), ours those of the
training episodes.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator

import jax
import jax.numpy as jnp
import numpy as np

from ..config import ConfigError
from .ppo import PPOConfig

NOT_APPLIED = ("clip_value",)  # settings of ours that brax's trainer lacks; the reference runs without them


@contextlib.contextmanager
def _replicated_device_put() -> Iterator[None]:
    """brax 0.14's trainer calls ``jax.device_put_replicated``, which jax 0.10 removed: supply it
    (a stack along a new leading device axis) for the duration of one call only."""
    if hasattr(jax, "device_put_replicated"):
        yield
        return
    jax.device_put_replicated = lambda x, devices: jax.tree.map(lambda a: jnp.stack([a] * len(devices)), x)
    try:
        yield
    finally:
        del jax.device_put_replicated


def reference_ppo(cfg: PPOConfig, learning_rate: float, seed: int, num_evals: int = 6, eval_envs: int = 16):
    """Train with ``brax.training.agents.ppo`` at ``cfg``'s settings; ``(env steps, mean eval return)``
    at each of ``num_evals`` evaluations (the first before training)."""
    from brax import envs
    from brax.training.agents.ppo import networks, train

    if not cfg.env.startswith("brax-"):
        raise ConfigError(f"PPOConfig.env = {cfg.env!r}: brax's reference trainer runs brax-* envs only")
    if cfg.normalize_reward or cfg.max_grad_norm is not None or cfg.value_clip or cfg.num_envs % cfg.num_minibatches:
        raise ConfigError(
            "brax's reference trainer needs normalize_reward=False, max_grad_norm=None, value_clip=False and "
            f"num_minibatches dividing num_envs; got {cfg.normalize_reward}, {cfg.max_grad_norm}, {cfg.value_clip}, "
            f"{cfg.num_minibatches} / {cfg.num_envs}"
        )
    factory = functools.partial(
        networks.make_ppo_networks,
        policy_hidden_layer_sizes=(cfg.hidden,) * cfg.num_layers,
        value_hidden_layer_sizes=(cfg.critic_hidden or cfg.hidden,) * (cfg.critic_layers or cfg.num_layers),
        activation=getattr(jax.nn, cfg.activation),
    )
    log: list[tuple[int, float]] = []
    with _replicated_device_put():
        train.train(
            envs.get_environment(cfg.env.removeprefix("brax-"), backend=cfg.brax_backend),
            max_devices_per_host=1,  # one device: the stand-in device_put_replicated does not shard
            num_timesteps=cfg.total_timesteps,
            num_envs=cfg.num_envs,
            episode_length=1000,
            learning_rate=learning_rate,
            entropy_cost=cfg.ent_coef,
            discounting=cfg.gamma,
            gae_lambda=cfg.gae_lambda,
            unroll_length=cfg.num_steps,
            # one update: num_minibatches minibatches of batch_size sequences = num_envs x num_steps env steps
            batch_size=cfg.num_envs // cfg.num_minibatches,
            num_minibatches=cfg.num_minibatches,
            num_updates_per_batch=cfg.update_epochs,
            normalize_observations=cfg.normalize_obs,
            reward_scaling=cfg.reward_scale,
            clipping_epsilon=cfg.clip_eps,
            vf_loss_coefficient=cfg.vf_coef,
            bootstrap_on_timeout=cfg.bootstrap_truncation,
            network_factory=factory,
            seed=seed,
            num_evals=num_evals,
            num_eval_envs=eval_envs,
            progress_fn=lambda step, metrics: log.append((int(step), float(metrics["eval/episode_reward"]))),
        )
    steps, returns = zip(*log)
    return np.asarray(steps), np.asarray(returns)
