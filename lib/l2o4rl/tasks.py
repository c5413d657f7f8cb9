"""Named training tasks: an agent, its config and its tuned optimizer settings.

Settings follow the papers: Optim4RL's A2C tasks (SPEC 1.5), OPEN's PPO tasks (SPEC 2.4)
and PPO on Brax (SPEC 1.6, 2.4). An experiment picks tasks by name and sets the budget
(``total_timesteps``) for its scale.

    task = get_task("breakout")
    train = task.make_train(task.optimizer("adam"), total_timesteps=1_000_000)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import optax

from .agents.a2c import A2CConfig, make_a2c
from .agents.base import OnPolicyConfig
from .agents.ppo import PPOConfig, make_ppo
from .config import check_choice
from .optim.baselines import baseline


@dataclass(frozen=True)
class Task:
    name: str
    config: OnPolicyConfig
    learning_rate: float
    adam: dict[str, float] = field(default_factory=dict)  # tuned Adam b1/b2 where the paper gives them

    @property
    def agent(self) -> str:
        return "a2c" if isinstance(self.config, A2CConfig) else "ppo"

    def at(self, **overrides: Any) -> OnPolicyConfig:
        """The task's config with ``overrides`` (e.g. ``total_timesteps``), validated."""
        return self.config.replace(**overrides) if overrides else self.config

    def optimizer(self, name: str, **settings: Any) -> optax.GradientTransformation:
        """A hand-designed optimizer at this task's learning rate (Adam with its tuned betas)."""
        tuned = {"learning_rate": self.learning_rate, **(self.adam if name == "adam" else {})}
        return baseline(name, **{**tuned, **settings})

    def make_train(self, optimizer: optax.GradientTransformation, **overrides: Any) -> Callable:
        make = make_a2c if self.agent == "a2c" else make_ppo
        return make(self.at(**overrides), optimizer)


def _lpg(name: str) -> Task:
    """Optim4RL's A2C on an LPG gridworld: MLP 32 on small maps, conv 16 + MLP 32 on big ones."""
    small = name.startswith("small")
    cfg = A2CConfig(env=name, torso="mlp" if small else "conv", hidden=32, clip_value=1.0, total_timesteps=1_000_000)
    return Task(name, cfg, learning_rate=3e-2 if small else 3e-3)


def _optim4rl_brax(env: str, envs: int, batch: int, unroll: int, epochs: int, entropy: float, gamma: float,
                   reward_scale: float, lr: float, steps: int) -> Task:  # fmt: skip
    """A Brax task with the PPO settings of Optim4RL's Brax runs (SPEC 1.6). Brax's trainer collects
    ``batch x 32`` sequences of ``unroll`` steps per update; here each of the ``envs`` envs rolls out
    its share of those steps in one sequence (same steps per update, longer GAE horizon)."""
    cfg = PPOConfig(env=f"brax-{env}", num_envs=envs, num_steps=batch * 32 * unroll // envs, update_epochs=epochs,
                    num_minibatches=32, clip_eps=0.3, ent_coef=entropy, gamma=gamma, reward_scale=reward_scale,
                    total_timesteps=steps, **_BRAX)  # fmt: skip
    return Task(f"optim4rl_{env}", cfg, lr)


_MINATAR = dict(num_envs=64, num_steps=128, update_epochs=4, num_minibatches=8, hidden=64, activation="relu",
                total_timesteps=10_000_000)  # fmt: skip
_BRAX = dict(normalize_obs=True, normalize_reward=True, max_grad_norm=None, clip_value=1.0, hidden=64,
             activation="tanh")  # fmt: skip

TASKS: dict[str, Task] = {
    t.name: t
    for t in [
        Task("catch", PPOConfig(env="Catch-bsuite", num_envs=16, num_steps=64, num_minibatches=4, total_timesteps=100_000), 1e-3),
        Task("catch_a2c", A2CConfig(env="Catch-bsuite", hidden=256, total_timesteps=200_000), 1e-3),
        Task("deepsea", PPOConfig(env="DeepSea-bsuite", env_size=8, num_envs=16, num_steps=32, num_minibatches=4,
                                  total_timesteps=100_000), 1e-3),
        Task("cartpole", PPOConfig(env="CartPole-v1", num_envs=4, num_steps=128, num_minibatches=4, total_timesteps=500_000), 2.5e-4),
        *(_lpg(n) for n in ("small_dense_short", "small_dense_long", "big_sparse_short", "big_sparse_long",
                            "big_dense_short", "big_dense_long")),
        Task("asterix", PPOConfig(env="Asterix-MinAtar", **_MINATAR), 3e-3, {"b1": 0.9, "b2": 0.999}),
        Task("freeway", PPOConfig(env="Freeway-MinAtar", **_MINATAR), 1e-3, {"b1": 0.9, "b2": 0.99}),
        Task("breakout", PPOConfig(env="Breakout-MinAtar", **_MINATAR), 1e-2, {"b1": 0.9, "b2": 0.99}),
        Task("spaceinvaders", PPOConfig(env="SpaceInvaders-MinAtar", **_MINATAR), 7e-3, {"b1": 0.9, "b2": 0.99}),
        Task("gridworld", PPOConfig(env="rand_all", num_envs=1024, num_steps=20, update_epochs=2, num_minibatches=16,
                                    hidden=16, activation="tanh", total_timesteps=30_000_000), 1e-4, {"b1": 0.99, "b2": 0.99}),
        Task("ant", PPOConfig(env="brax-ant", num_envs=2048, num_steps=10, num_minibatches=32, ent_coef=0.0, gamma=0.99,
                              total_timesteps=50_000_000, **_BRAX), 3e-4, {"b1": 0.99, "b2": 0.99}),
        # Small-budget Brax tasks that Adam learns within minutes on a CPU.
        Task("inverted_pendulum", PPOConfig(env="brax-inverted_pendulum", num_envs=64, num_steps=32, num_minibatches=8,
                                            gamma=0.97, ent_coef=0.0, total_timesteps=500_000, **_BRAX), 3e-4),
        Task("inverted_double_pendulum", PPOConfig(env="brax-inverted_double_pendulum", num_envs=64, num_steps=32,
                                                   num_minibatches=8, gamma=0.97, ent_coef=0.0, total_timesteps=1_000_000,
                                                   reward_scale=10.0, **_BRAX), 3e-4),
        # SPEC 1.6: Optim4RL's Brax generalisation tasks.
        _optim4rl_brax("ant", 4096, 2048, 5, 4, 1e-2, 0.97, 10.0, 3e-4, 100_000_000),
        _optim4rl_brax("humanoid", 2048, 1024, 10, 8, 1e-3, 0.97, 0.1, 3e-4, 100_000_000),
        _optim4rl_brax("inverted_double_pendulum", 2048, 1024, 5, 4, 1e-2, 0.97, 10.0, 3e-4, 20_000_000),
        _optim4rl_brax("walker2d", 2048, 512, 20, 8, 1e-3, 0.997, 5.0, 3e-5, 50_000_000),
    ]
}  # fmt: skip


def get_task(name: str) -> Task:
    check_choice("task", name, TASKS)
    return TASKS[name]
