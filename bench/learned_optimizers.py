"""End-to-end cost of PPO on Breakout-MinAtar with each learned optimizer, relative to Adam.

    .venv/bin/python bench/learned_optimizers.py [--updates N]

Same agent and config (64 envs x 128 steps, 4 epochs x 8 minibatches, hidden 64, relu);
timed after compilation, best of 3; one run per optimizer in this process.
"""

import argparse

import l2o4rl

l2o4rl.configure_jax()  # before jax starts
import jax
import optax

from l2o4rl.agents.ppo import PPOConfig, make_ppo
from l2o4rl.optim.open import OPEN
from l2o4rl.optim.optim4rl import L2L, LinearOptim, Optim4RL
from l2o4rl.runtime import timed


def steps_per_second(optimizer, cfg, key, repeats=3) -> float:
    compiled = jax.jit(make_ppo(cfg, optimizer)).lower(key).compile()
    return max(cfg.total_timesteps / timed(lambda: compiled(key))[1] for _ in range(repeats))


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
    adam = None
    for name, opt in optimizers.items():
        rate = steps_per_second(opt, cfg, key)
        adam = adam or rate
        print(f"{name:<14}{rate:>14,.0f}{adam / rate:>13.2f}x")


if __name__ == "__main__":
    main()
