"""End-to-end cost of PPO on Breakout-MinAtar with each learned optimizer, relative to Adam,
and the multiply-add rate OPEN's step reaches beside PPO's own.

    .venv/bin/python bench/learned_optimizers.py [--updates N]

Same agent and config (64 envs x 128 steps, 4 epochs x 8 minibatches, hidden 64, relu);
timed after compilation, best of 3; one run per optimizer in this process.

Multiply-adds are counted in the matmuls only: each kernel weight is used once per
coordinate (an optimizer's network) or per sample (PPO's networks) in a forward pass, and a
backward pass costs two forward passes. PPO's update makes one forward pass per rollout
sample and a forward and backward pass per sample and epoch.
"""

import argparse

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax
import jax.numpy as jnp
import optax

from l2o4rl.agents import common
from l2o4rl.agents.ppo import PPO, PPOConfig, make_ppo
from l2o4rl.optim.open import OPEN
from l2o4rl.optim.optim4rl import L2L, LinearOptim, Optim4RL
from l2o4rl.runtime import timed


def best_seconds(compiled, *args, repeats=3) -> float:
    return min(timed(lambda: compiled(*args))[1] for _ in range(repeats))


def kernel_weights(tree) -> int:
    """Multiply-adds of one forward pass per coordinate or sample: the size of every kernel."""
    paths = jax.tree_util.tree_flatten_with_path(tree)[0]
    return sum(x.size for path, x in paths if getattr(path[-1], "key", None) == "kernel")


def open_step_seconds(optimizer, params, key, steps) -> float:
    """Seconds per OPEN update on ``params``, over a scan of ``steps`` updates (one PPO update's worth)."""

    def run(params, key):
        extra = {
            "layer_proportion": common.layer_proportions(params),
            "is_actor": common.actor_mask(params),
            "dormancy": jax.tree.map(lambda p: jnp.ones(p.shape[-1:]), params),
        }

        def step(carry, i):
            params, state = carry
            grads = jax.tree.map(lambda p: 1e-3 * jnp.cos(p * (i + 1.0)), params)
            k = jax.random.fold_in(key, i)
            updates, state = optimizer.update(grads, state, params, key=k, training_proportion=i / steps, **extra)
            return (optax.apply_updates(params, updates), state), None

        return jax.lax.scan(step, (params, optimizer.init(params)), jnp.arange(steps))[0]

    compiled = jax.jit(run).lower(params, key).compile()
    return best_seconds(compiled, params, key) / steps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=10)
    args = parser.parse_args()
    cfg = PPOConfig(env="Breakout-MinAtar", activation="relu", total_timesteps=64 * 128 * args.updates)
    key = jax.random.key(0)
    optimizers = {"Adam": optax.adam(1e-2, b2=0.99)}
    for cls in (Optim4RL, LinearOptim, L2L, OPEN):
        optimizers[cls.__name__] = cls(cls.init_meta_params(jax.random.key(1)))
    print(f"device: {jax.devices()[0].device_kind} x{jax.device_count()}; PPO Breakout-MinAtar, {args.updates} updates")
    print(f"{'optimizer':<14}{'env steps/s':>14}{'time vs Adam':>14}")
    seconds = {}
    for name, opt in optimizers.items():
        seconds[name] = best_seconds(jax.jit(make_ppo(cfg, opt)).lower(key).compile(), key)
        print(f"{name:<14}{cfg.total_timesteps / seconds[name]:>14,.0f}{seconds[name] / seconds['Adam']:>13.2f}x")

    params = PPO(cfg, optax.adam(1e-3)).init_params(key)
    coordinates = sum(x.size for x in jax.tree.leaves(params))
    steps = cfg.update_epochs * cfg.num_minibatches
    open_macs = kernel_weights(OPEN.init_meta_params(key)) * coordinates
    open_seconds = open_step_seconds(optimizers["OPEN"], params, key, steps)
    ppo_macs = kernel_weights(params) * cfg.steps_per_update * (1 + 3 * cfg.update_epochs)
    ppo_seconds = seconds["Adam"] / cfg.num_updates
    print(
        f"OPEN step on PPO's {coordinates:,} parameters: {open_seconds * 1e3:.2f} ms, "
        f"{open_macs / open_seconds / 1e9:.1f} G multiply-adds/s ({open_macs / coordinates:,.0f} per coordinate); "
        f"{steps} steps per PPO update: {steps * open_seconds * 1e3:.0f} ms"
    )
    print(
        f"PPO + Adam update: {ppo_seconds * 1e3:.0f} ms, {ppo_macs / ppo_seconds / 1e9:.1f} G multiply-adds/s "
        f"in its networks ({ppo_macs / 1e9:.2f} G per update)"
    )


if __name__ == "__main__":
    main()
