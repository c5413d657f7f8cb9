"""A2C+Adam (Optim4RL's settings, SPEC 1.5) learns each LPG gridworld far above a random
policy. Slow (cpu scale): `make test-slow`."""

import jax
import numpy as np
import pytest

from l2o4rl.evaluation import random_policy_return
from l2o4rl.tasks import SMALL_A2C_ENVS, get_task

pytestmark = pytest.mark.slow

# Budgets (env steps) at which Adam's margin over random is already clear on this CPU, with the
# cpu scale's envs.
ENVS = SMALL_A2C_ENVS
BUDGETS = {
    "small_dense_short": 300_000,
    "small_dense_long": 300_000,
    "big_sparse_short": 2_500_000,  # sparse rewards: Adam takes off after about 1.5e6 steps
    "big_sparse_long": 1_000_000,
    "big_dense_short": 1_000_000,
    "big_dense_long": 1_000_000,
}


@pytest.mark.parametrize("name", BUDGETS)
def test_a2c_adam_beats_random(name):
    task = get_task(name)
    train = task.make_train(task.optimizer("adam"), total_timesteps=BUDGETS[name], **task.scaled(ENVS))
    keys = jax.random.split(jax.random.key(0), 2)
    _, metrics = jax.jit(jax.vmap(train))(keys)
    returns = np.asarray(metrics["episode_return"])
    final = np.nanmean(returns[:, -max(1, returns.shape[1] // 10) :], axis=1)
    floor = random_policy_return(task.config.env, keys[0])
    margin = 0.5 * abs(floor) + 0.5
    assert (final > floor + margin).all(), f"{name}: final {final} vs random {floor:.2f}"
