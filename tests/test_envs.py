import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from l2o4rl.config import ConfigError
from l2o4rl.envs import CRAFTAX_ENVS, ENV_NAMES, is_discrete, make
from l2o4rl.envs.brax import BraxEnv, BraxParams


def test_bad_names_list_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown environment 'Pong-MinAtar'; valid choices: .*'Breakout-MinAtar'"):
        make("Pong-MinAtar")
    with pytest.raises(ConfigError, match="unknown brax backend 'euler'; valid choices: 'generalized'"):
        BraxEnv("ant", backend="euler")


@pytest.mark.parametrize("name", ["Catch-bsuite", "CartPole-v1", "Breakout-MinAtar", "DeepSea-bsuite"])
def test_gymnax_envs_step_with_six_outputs(name):
    env, params = make(name)
    obs, state = env.reset(jax.random.key(0), params)
    out = env.step(jax.random.key(1), state, 0, params)
    assert len(out) == 6 and out[0].shape == obs.shape and is_discrete(env, params)
    assert "final_observation" in out[5]


def test_deep_sea_is_built_at_a_size_and_other_envs_refuse_one():
    env, params = make("DeepSea-bsuite", size=5)
    assert env.observation_space(params).shape == (5, 5) and params.max_steps_in_episode == 5
    with pytest.raises(ConfigError, match="'Catch-bsuite' takes no size; sized environments: DeepSea-bsuite"):
        make("Catch-bsuite", size=5)


def test_brax_wrapper_clips_actions_and_truncates():
    env, _ = make("brax-inverted_pendulum")
    params = BraxParams(max_steps_in_episode=3)
    assert not is_discrete(env, params) and env.action_space(params).shape == (1,)
    step = jax.jit(env.step)
    obs, state = env.reset(jax.random.key(0), params)
    assert obs.shape == env.observation_space(params).shape
    _, big, *_ = step(jax.random.key(1), state, jnp.array([5.0]), params)
    _, one, *_ = step(jax.random.key(1), state, jnp.array([1.0]), params)
    np.testing.assert_allclose(big.pipeline.obs, one.pipeline.obs)  # actions are clipped to [-1, 1]
    truncated = []
    for t in range(4):
        obs, state, reward, terminated, trunc, info = step(jax.random.key(t), state, jnp.zeros(1), params)
        truncated.append(bool(trunc))
        assert not bool(terminated) and np.isfinite(float(reward))
    assert truncated == [False, False, True, False]  # cut at 3 steps, then a fresh episode


def test_every_listed_env_constructs():
    craftax = importlib.util.find_spec("craftax") is not None  # optional (README: Quick start)
    for name in ENV_NAMES:
        if not name.startswith("brax-") and (craftax or name not in CRAFTAX_ENVS):
            env, params = make(name)
            assert env.observation_space(params).shape


def test_craftax_batch_step_restarts_ended_envs_from_a_pool_of_fresh_worlds():
    """Envs 1 and 3 die, env 5 reaches the time limit, env 7 dies at it: those four restart (at step
    0, from the pool of 64 // 16 = 4 fresh worlds, a different world each); the others step on as
    vmap(step)."""
    pytest.importorskip("craftax")
    env, params = make("Craftax-Classic-Symbolic-v1")
    assert env.observation_space(params).shape == (1345,) and env.action_space(params).n == 17
    n = 64
    _, state = jax.vmap(env.reset, in_axes=(0, None))(jax.random.split(jax.random.key(0), n), params)
    health = state.player_health.at[jnp.array([1, 3, 7])].set(0)
    timestep = state.timestep.at[jnp.array([5, 7])].set(params.max_timesteps - 1)
    state = state.replace(player_health=health, timestep=timestep)
    keys, actions = jax.random.split(jax.random.key(1), n), jnp.zeros(n, jnp.int32)
    obs, after, reward, terminated, truncated, info = jax.jit(env.batch_step)(keys, state, actions, params)
    ended = np.isin(np.arange(n), [1, 3, 5, 7])
    np.testing.assert_array_equal(terminated, np.isin(np.arange(n), [1, 3, 7]))
    np.testing.assert_array_equal(truncated, np.isin(np.arange(n), [5, 7]))
    np.testing.assert_array_equal(after.timestep, np.where(ended, 0, state.timestep + 1))
    restarted = np.asarray(after.map)[ended]
    assert len({m.tobytes() for m in restarted}) == 4  # four different fresh worlds
    stepped = jax.vmap(env.step_env, in_axes=(0, 0, 0, None))(keys, state, actions, params)
    np.testing.assert_array_equal(obs[~ended], stepped[0][~ended])
    np.testing.assert_array_equal(info["final_observation"], stepped[0])
    np.testing.assert_array_equal(reward, stepped[2])
