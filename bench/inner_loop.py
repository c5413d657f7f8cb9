"""Environment steps per second of PPO+Adam, and the env-only random-policy ceiling.

    .venv/bin/python bench/inner_loop.py [--updates N] [--craftax]

PPO: Breakout-MinAtar with 64 envs x 128 steps, 4 epochs x 8 minibatches, hidden 64 (relu),
CartPole-v1 with the same shape (tanh), and OPEN's gridworld task at the authors' shape (1024
envs x 20 steps, 2 epochs x 16 minibatches, hidden 16, tanh), 4 agents vmapped, each on its
own ``rand_all`` level. With ``--craftax``, Craftax-Classic too (see :func:`craftax`). Timed after
compilation, best of 3 runs.
"""

import argparse
import types

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax
import optax

from l2o4rl.agents.ppo import PPOConfig, make_ppo
from l2o4rl.agents.random_policy import make_random_rollout
from l2o4rl.envs import GRIDWORLD_DISTRIBUTIONS, make
from l2o4rl.runtime import timed
from l2o4rl.tasks import get_task


def best_rate(fn, arg, steps: int, repeats: int = 3) -> float:
    compiled = jax.jit(fn).lower(arg).compile()
    return max(steps / timed(lambda: compiled(arg))[1] for _ in range(repeats))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=20)
    parser.add_argument("--craftax", action="store_true", help="also Craftax-Classic (the optional craftax package)")
    args = parser.parse_args()
    key = jax.random.key(0)
    print(f"device: {jax.devices()[0].device_kind} x{jax.device_count()} ({jax.default_backend()})")
    print(f"{'what':<40}{'env steps/s':>14}")
    for env, activation in (("Breakout-MinAtar", "relu"), ("CartPole-v1", "tanh")):
        cfg = PPOConfig(
            env=env,
            num_envs=64,
            num_steps=128,
            update_epochs=4,
            num_minibatches=8,
            hidden=64,
            activation=activation,
            total_timesteps=64 * 128 * args.updates,
        )
        rate = best_rate(make_ppo(cfg, optax.adam(1e-3)), key, cfg.total_timesteps)
        print(f"{'PPO+Adam ' + env:<40}{rate:>14,.0f}")
        rollout = make_random_rollout(*make(env), num_envs=64, num_steps=128 * args.updates)
        print(f"{'random policy (env only) ' + env:<40}{best_rate(rollout, key, cfg.total_timesteps):>14,.0f}")
    # As the experiments run it: agents vmapped, each on its own level, levels an argument.
    task, agents = get_task("gridworld"), 4
    cfg = task.at(total_timesteps=task.config.steps_per_update * args.updates)
    train = jax.vmap(task.make_train(task.optimizer("adam"), total_timesteps=cfg.total_timesteps))
    keys = jax.random.split(key, agents)
    levels = jax.vmap(GRIDWORLD_DISTRIBUTIONS[cfg.env])(keys)
    rate = best_rate(lambda agent: train(*agent), (keys, levels), agents * cfg.total_timesteps)
    print(f"{f'PPO+Adam gridworld rand_all, {agents} agents':<40}{rate:>14,.0f}")
    rollout = make_random_rollout(*make(cfg.env), num_envs=cfg.num_envs, num_steps=cfg.num_steps * args.updates)
    print(f"{'random policy (env only) rand_all':<40}{best_rate(rollout, key, cfg.total_timesteps):>14,.0f}")
    if args.craftax:
        craftax(key, args.updates)


def craftax(key, updates: int) -> None:
    """Craftax-Classic at notebook 07's cpu shape; env-only with its pooled resets and with gymnax's
    per-env auto reset (``CraftaxClassic.step``: a fresh world drawn for every env at every step)."""
    task = get_task("craftax")
    overrides = {"hidden": 64, "total_timesteps": task.config.steps_per_update * updates}
    cfg = task.at(**overrides)
    rate = best_rate(task.make_train(task.optimizer("adam"), **overrides), key, cfg.total_timesteps)
    print(f"{'PPO+Adam Craftax-Classic, hidden 64':<40}{rate:>14,.0f}")
    env, params = make(cfg.env)
    shape = {"num_envs": cfg.num_envs, "num_steps": cfg.num_steps * updates}
    pooled = best_rate(make_random_rollout(env, params, **shape), key, cfg.total_timesteps)
    print(f"{'random policy (env only) Craftax':<40}{pooled:>14,.0f}")
    per_env = types.SimpleNamespace(reset=env.reset, step=env.step, action_space=env.action_space)  # no batch_step
    # one update's steps: drawing 256 worlds a step is slow enough that more would take minutes
    rollout = make_random_rollout(per_env, params, num_envs=cfg.num_envs, num_steps=cfg.num_steps)
    every_step = best_rate(rollout, key, cfg.steps_per_update)
    print(f"{'  ... resetting every env every step':<40}{every_step:>14,.0f}")


if __name__ == "__main__":
    main()
