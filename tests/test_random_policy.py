import jax
import numpy as np

from l2o4rl.agents.random_policy import make_random_rollout
from l2o4rl.envs import make


def test_catch_random_policy_matches_theory_and_is_deterministic():
    env, params = make("Catch-bsuite")
    rollout = jax.jit(make_random_rollout(env, params, num_envs=64, num_steps=400))
    a, b = np.asarray(rollout(jax.random.key(0))), np.asarray(rollout(jax.random.key(0)))
    np.testing.assert_array_equal(a, b)
    returns = a[~np.isnan(a)]
    assert set(np.unique(returns)) <= {-1.0, 1.0}
    # Catch episodes last 9 steps: every env finishes one episode each 9 steps.
    assert len(returns) == 64 * (400 // 9)
    # Random paddle moves catch the ball about a fifth of the time.
    assert abs((returns == 1).mean() - 0.2) < 0.05
    assert not np.array_equal(a, np.asarray(rollout(jax.random.key(1))), equal_nan=True)
