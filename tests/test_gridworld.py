"""The gridworlds' invariants: objects, rewards, respawn, termination, episode length, levels."""

import functools
from collections import deque

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from l2o4rl.agents.random_policy import make_random_rollout
from l2o4rl.config import ConfigError
from l2o4rl.envs.gridworld import (
    GRIDWORLD_DISTRIBUTIONS,
    GRIDWORLD_NAMES,
    LPG_GRIDWORLDS,
    LPG_LAYOUTS,
    MOVES,
    EnvState,
    GridWorld,
    make_gridworld,
    make_level,
    maze_level,
    oos_level,
    procedural_gridworld,
    random_cells,
    sample_level,
)

# The dynamics tests read the image observation on the 13 x 13 grid; GROOVE's is checked against it.
ENV = procedural_gridworld("maze", observation="image")
SIDE = ENV.width
STAY, NORTH, EAST, SOUTH, WEST, NORTHEAST, SOUTHEAST = range(7)
PROPERTY = settings(max_examples=20, deadline=None)
STEPS = 40  # every rollout here has this length, so each env's rollout compiles once
# Compiled once and shared by the tests below (compiling dominates this file's runtime).
sample_levels = jax.jit(jax.vmap(sample_level))
step_from_one_state = jax.jit(jax.vmap(ENV.step, in_axes=(0, None, None, None)))
BATCH = 256  # keys per step_from_one_state call (one shape, one compile)


def cell(row: int, col: int, width: int = SIDE) -> int:
    return row * width + col


def state_at(agent: int, objects: list[int], present: list[bool], time: int = 0) -> EnvState:
    return EnvState(
        agent=jnp.int32(agent),
        objects=jnp.asarray(objects, jnp.int32),
        present=jnp.asarray(present),
        terminated=jnp.bool_(False),
        time=jnp.int32(time),
    )


def one_object_level(reward=0.5, terminate=0.0, respawn=0.0, max_steps=100, rows=4, cols=4, walls=None):
    return make_level(
        ENV,
        rows=rows,
        cols=cols,
        walls=walls,
        rewards=[reward],
        terminate_probs=[terminate],
        respawn_probs=[respawn],
        max_steps_in_episode=max_steps,
    )


# Object slots 1-4 of one_object_level are inactive; their stale cells are irrelevant.
IDLE = [0, 0, 0, 0]
ONE_PRESENT = [True, False, False, False, False]


@functools.partial(jax.jit, static_argnums=0)
def run(env: GridWorld, params, state: EnvState, key: jax.Array, actions: jax.Array) -> dict:
    """Step ``actions`` from ``state``; per step: the observation and state before, what step
    returned, and the observation before any automatic reset."""

    def one(carry, inputs):
        obs, state = carry
        key, action = inputs
        next_obs, next_state, reward, terminated, truncated, info = env.step(key, state, action, params)
        record = dict(
            obs=obs,
            state=state,
            reward=reward,
            terminated=terminated,
            truncated=truncated,
            final_obs=info["final_observation"],
            next_state=next_state,
        )
        return (next_obs, next_state), record

    inputs = (jax.random.split(key, actions.shape[0]), actions)
    return jax.lax.scan(one, (env.get_obs(state, params), state), inputs)[1]


def reset_and_run(env: GridWorld, params, key: jax.Array, actions) -> dict:
    reset_key, run_key = jax.random.split(key)
    _, state = env.reset(reset_key, params)
    return jax.device_get(run(env, params, state, run_key, jnp.asarray(actions, jnp.int32)))


def assert_invariants(env: GridWorld, params, actions, out: dict) -> None:
    """Every documented invariant of every transition in ``out``."""
    k = env.num_objects
    free = np.asarray(env.free_cells(params))
    active, rewards = np.asarray(params.active), np.asarray(params.reward)
    terminate_probs = np.asarray(params.terminate_prob)
    steps = len(actions)
    for states in (out["state"], out["next_state"]):
        present, objects, agent = states.present, states.objects, states.agent
        assert not (present & ~active).any(), "an unused object slot is on the grid"
        assert free[agent].all(), "the agent is on a blocked cell"
        assert free[objects[present]].all(), "an object is on a blocked cell"
        if not env.lpg_rules:  # LPG rules let a returning object land on the agent or another object
            assert (objects != agent[:, None])[present].all(), "an object shares the agent's cell"
            for cells, here in zip(objects, present):
                assert len(set(cells[here])) == here.sum(), "two objects share a cell"
    obs = out["obs"].reshape(steps, -1, env.num_channels)
    final = out["final_obs"].reshape(steps, -1, env.num_channels)
    for o in (out["obs"], out["final_obs"]):
        assert o.dtype == np.float32 and o.shape[1:] == (env.height, env.width, env.num_channels)
        assert set(np.unique(o)) <= {0.0, 1.0}
    assert (final[..., k].sum(axis=1) == 1).all()
    # The agent moved as its action says unless the target was off the grid or blocked.
    row, col = np.divmod(out["state"].agent, env.width)
    target_row, target_col = row + MOVES[actions, 0], col + MOVES[actions, 1]
    on_grid = (target_row >= 0) & (target_row < env.height) & (target_col >= 0) & (target_col < env.width)
    target = np.where(on_grid, target_row * env.width + target_col, out["state"].agent)
    landed = final[..., k].argmax(axis=1)
    np.testing.assert_array_equal(landed, np.where(free[target], target, out["state"].agent))
    # Reward is exactly that of the objects on the landing cell, which then leave the grid
    # (under LPG rules one may come straight back, elsewhere or there).
    eaten = obs[np.arange(steps), landed, :k]
    np.testing.assert_allclose(out["reward"], eaten @ rewards, atol=1e-6)
    if not env.lpg_rules:
        assert (final[..., :k].sum(axis=1)[eaten == 1] == 0).all()
    # Objects that were on the grid and not eaten stay where they were.
    stayed = obs[..., :k].any(axis=1) & (eaten == 0)
    assert (final[..., :k] == obs[..., :k]).all(axis=1)[stayed].all()
    # Termination only by eating an object that can terminate; certain when its probability is 1.
    assert not out["terminated"][eaten @ terminate_probs == 0].any()
    assert out["terminated"][(eaten * (terminate_probs == 1)).any(axis=1)].all()
    # Truncation exactly at the episode length; a finished episode restarts at time 0.
    time = out["state"].time
    np.testing.assert_array_equal(out["truncated"], time + 1 >= int(params.max_steps_in_episode))
    done = out["terminated"] | out["truncated"]
    np.testing.assert_array_equal(out["next_state"].time, np.where(done, 0, time + 1))


@PROPERTY
@given(
    name=st.sampled_from(sorted(GRIDWORLD_DISTRIBUTIONS)),
    seed=st.integers(0, 2**31 - 1),
    actions=st.lists(st.integers(0, ENV.num_actions - 1), min_size=STEPS, max_size=STEPS),
)
def test_random_actions_keep_invariants_on_procedural_levels(name, seed, actions):
    env, params = procedural_gridworld(name, "image"), GRIDWORLD_DISTRIBUTIONS[name](jax.random.key(seed % 1000))
    out = reset_and_run(env, params, jax.random.key(seed), actions)
    assert_invariants(env, params, np.asarray(actions), out)
    assert out["state"].agent[0] == params.start, "a procedural level fixes the agent's start"


@pytest.mark.parametrize("name, size", [("rand_all", 10), ("sparse", 7), ("dense", 11), ("long", 11), ("maze", 13)])
def test_groove_observation_encodes_the_state(name, size):
    """GROOVE's flat observation: agent one-hot, one per object slot (0 while away), each over the
    grid's cells indexed row * cols + col of the level, then time * 0.001; the dynamics are the
    image env's, step for step."""
    env, params = make_gridworld(name, seed=3)
    assert env.observation_space(params).shape == ((1 + 5) * size * size + 1,)
    actions = np.arange(STEPS) % 5
    out = reset_and_run(env, params, jax.random.key(2), actions)
    image = reset_and_run(procedural_gridworld(name, "image"), params, jax.random.key(2), actions)
    for a, b in zip(jax.tree.leaves(out["next_state"]), jax.tree.leaves(image["next_state"])):
        np.testing.assert_array_equal(a, b)
    cols, cells = int(params.cols), size * size
    for t in range(STEPS):
        state, obs = jax.tree.map(lambda x, t=t: x[t], out["next_state"]), out["obs"][t + 1] if t + 1 < STEPS else None
        if obs is None:
            break
        expected = np.zeros((6, cells), np.float32)
        row, col = divmod(int(state.agent), size)
        expected[0, row * cols + col] = 1
        for slot in range(5):
            if state.present[slot]:
                row, col = divmod(int(state.objects[slot]), size)
                expected[1 + slot, row * cols + col] = 1
        np.testing.assert_array_equal(obs[:-1], expected.reshape(-1))
        assert obs[-1] == pytest.approx(int(state.time) * 1e-3)


@PROPERTY
@given(
    # One small and one big world: the six differ only in numbers, and each costs a compile.
    name=st.sampled_from(["small_dense_short", "big_dense_long"]),
    seed=st.integers(0, 2**31 - 1),
    actions=st.lists(st.integers(0, 8), min_size=STEPS, max_size=STEPS),
)
def test_random_actions_keep_invariants_on_lpg_worlds(name, seed, actions):
    env, params = make_gridworld(name)
    out = reset_and_run(env, params, jax.random.key(seed), actions)
    assert_invariants(env, params, np.asarray(actions), out)


def test_stepping_onto_an_object_gives_exactly_its_reward():
    params = make_level(
        ENV,
        rows=4,
        cols=4,
        rewards=[0.7, -0.3],
        terminate_probs=[0.0, 0.0],
        respawn_probs=[0.0, 0.0],
        max_steps_in_episode=100,
    )
    state = state_at(cell(0, 0), [cell(0, 1), cell(1, 0), 0, 0, 0], [True, True, False, False, False])
    rewards = []
    for action in (EAST, SOUTH, WEST, STAY):
        obs, state, reward, terminated, truncated, _ = ENV.step(jax.random.key(0), state, action, params)
        rewards.append(float(reward))
        assert not terminated and not truncated
    assert rewards == pytest.approx([0.7, 0.0, -0.3, 0.0])
    assert int(state.agent) == cell(1, 0) and not state.present.any()
    assert obs[..., :2].sum() == 0


def test_respawn_probability_one_brings_an_eaten_object_back_on_the_next_step():
    params = one_object_level(respawn=1.0)
    state = state_at(cell(0, 0), [cell(0, 1)] + IDLE, ONE_PRESENT)
    _, state, reward, *_ = ENV.step(jax.random.key(0), state, EAST, params)
    assert float(reward) == pytest.approx(0.5) and not state.present[0]
    obs, after, *_ = step_from_one_state(jax.random.split(jax.random.key(1), BATCH), state, STAY, params)
    assert after.present[:, 0].all()
    assert (after.objects[:, 0] != after.agent).all()
    assert np.asarray(ENV.free_cells(params))[after.objects[:, 0]].all()
    assert (obs[..., 0].sum(axis=(1, 2)) == 1).all()
    assert len(set(np.asarray(after.objects[:, 0]).tolist())) > 3, "respawn cells should be random"


def test_respawn_probability_zero_never_brings_it_back():
    params = one_object_level(respawn=0.0)
    state = state_at(cell(0, 0), [cell(0, 1)] + IDLE, ONE_PRESENT)
    actions = jnp.asarray([EAST] + [STAY] * (STEPS - 1), jnp.int32)
    for seed in range(8):
        out = jax.device_get(run(ENV, params, state, jax.random.key(seed), actions))
        assert not out["next_state"].present.any()


@pytest.mark.parametrize("terminate, expected", [(1.0, 1.0), (0.0, 0.0), (0.5, 0.5)])
def test_terminate_probability_decides_whether_pickup_ends_the_episode(terminate, expected):
    params = one_object_level(terminate=terminate)
    state = state_at(cell(0, 0), [cell(0, 1)] + IDLE, ONE_PRESENT, time=3)
    keys = jax.random.split(jax.random.key(3), BATCH)
    _, after, reward, terminated, truncated, _ = step_from_one_state(keys, state, EAST, params)
    assert np.allclose(reward, 0.5) and not truncated.any()
    assert terminated.mean() == pytest.approx(expected, abs=0.1)
    np.testing.assert_array_equal(after.time, np.where(terminated, 0, 4))


def test_episode_is_truncated_exactly_at_max_steps_then_resets():
    params = one_object_level(max_steps=5)
    state = state_at(cell(0, 0), [cell(3, 3)] + IDLE, ONE_PRESENT)
    out = jax.device_get(run(ENV, params, state, jax.random.key(4), jnp.full(STEPS, STAY, jnp.int32)))
    np.testing.assert_array_equal(np.flatnonzero(out["truncated"]), np.arange(4, STEPS, 5))
    assert not out["terminated"].any()
    np.testing.assert_array_equal(out["next_state"].time, (np.arange(STEPS) + 1) % 5)


def test_walls_and_edges_block_moves():
    walls = np.zeros((3, 3), bool)
    walls[1, 1] = True
    params = one_object_level(rows=3, cols=3, walls=walls)
    state = state_at(cell(1, 0), [cell(2, 2)] + IDLE, ONE_PRESENT)
    visited = []
    for action in (EAST, NORTH, NORTH, WEST, EAST, EAST, EAST, SOUTH):
        _, state, *_ = ENV.step(jax.random.key(5), state, action, params)
        visited.append(divmod(int(state.agent), SIDE))
    assert visited == [(1, 0), (0, 0), (0, 0), (0, 0), (0, 1), (0, 2), (0, 2), (1, 2)]


def test_lpg_worlds_have_nine_actions_with_diagonals():
    env, params = make_gridworld("small_dense_short")
    assert env.num_actions == 9 and env.action_space(params).n == 9
    far = [cell(4, 6, env.width), cell(4, 5, env.width)]
    state = state_at(cell(1, 1, env.width), far, [True, True])  # the interior's top-left corner
    _, state, *_ = env.step(jax.random.key(6), state, NORTHEAST, params)
    assert int(state.agent) == cell(1, 1, env.width)  # into the border wall: stays
    _, state, *_ = env.step(jax.random.key(6), state, SOUTHEAST, params)
    assert int(state.agent) == cell(2, 2, env.width)


def test_lpg_rules_respawn_in_the_same_step_anywhere_and_terminate_per_object():
    """The Optim4RL authors' LPG port: an eaten object may come back at once, on any non-wall
    cell (the agent's too); two objects collected together terminate with 1 - (1 - p)^2."""
    env, params = make_gridworld("small_dense_short")  # +1 (terminate 0), -1 (terminate 0.5), respawn 0.5
    w = env.width
    params = params.replace(respawn_prob=jnp.array([1.0, 1.0]))
    state = state_at(cell(1, 1, w), [cell(1, 2, w), cell(4, 6, w)], [True, True])
    step = jax.jit(jax.vmap(env.step, in_axes=(0, None, None, None)))
    keys = jax.random.split(jax.random.key(0), 4096)
    _, after, reward, *_ = step(keys, state, EAST, params)
    np.testing.assert_allclose(reward, 1.0)
    assert after.present.all(), "eaten with respawn probability 1: back in the same step"
    free = np.flatnonzero(np.asarray(env.free_cells(params)))
    assert set(np.asarray(after.objects[:, 0]).tolist()) == set(free.tolist())  # every interior cell, the agent's too
    np.testing.assert_allclose(np.mean(np.asarray(after.objects[:, 0]) == cell(1, 2, w)), 1 / len(free), atol=0.015)
    # Both -1 objects of a big world on one cell: reward -2, termination 1 - 0.5^2.
    env, params = make_gridworld("big_dense_short")
    w = env.width
    state = state_at(cell(1, 1, w), [cell(5, 5, w), cell(6, 6, w), cell(1, 2, w), cell(1, 2, w)], [True] * 4)
    _, _, reward, terminated, *_ = jax.jit(jax.vmap(env.step, in_axes=(0, None, None, None)))(keys, state, EAST, params)
    np.testing.assert_allclose(reward, -2.0)
    assert np.mean(terminated) == pytest.approx(0.75, abs=0.03)


@pytest.mark.parametrize("name", sorted(LPG_LAYOUTS))
def test_lpg_worlds_match_the_table(name):
    rows, cols, per_sign, respawn, episode_length = LPG_LAYOUTS[name]
    env, params = make_gridworld(name)
    # The grid is the authors' whole map: the interior and its wall border (observed, always empty).
    assert (env.height, env.width, env.num_objects) == (rows + 2, cols + 2, 2 * per_sign)
    assert env.observation_space(params).shape == (rows + 2, cols + 2, 2 * per_sign + 1)
    assert int(np.asarray(env.free_cells(params)).sum()) == rows * cols
    np.testing.assert_array_equal(params.reward, [1.0] * per_sign + [-1.0] * per_sign)
    np.testing.assert_array_equal(params.terminate_prob, [0.0] * per_sign + [0.5] * per_sign)
    np.testing.assert_allclose(params.respawn_prob, respawn)
    assert int(params.max_steps_in_episode) == episode_length and params.active.all()
    assert params.walls[0].all() and params.walls[-1].all() and not params.walls[1:-1, 1:-1].any()
    obs, state = env.reset(jax.random.key(7), params)
    assert obs.shape == (rows + 2, cols + 2, 2 * per_sign + 1) and obs.sum() == 2 * per_sign + 1
    assert obs[0].sum() == obs[-1].sum() == obs[:, 0].sum() == obs[:, -1].sum() == 0


def test_procedural_observation_marks_objects_agent_and_blocked_cells():
    env, params = procedural_gridworld("rand_all", "image"), make_gridworld("rand_all", seed=3)[1]
    side = env.width
    assert env.num_actions == 5
    obs, state = env.reset(jax.random.key(8), params)
    assert obs.shape == env.observation_space(params).shape == (side, side, 7) and obs.dtype == jnp.float32
    blocked = ~np.asarray(env.free_cells(params)).reshape(side, side)
    np.testing.assert_array_equal(obs[..., -1], blocked)
    size = int(params.rows)
    assert blocked[size:, :].all() and blocked[:, size:].all()
    assert obs[..., 5].sum() == 1 and obs[..., :5].sum() == params.active.sum()


def test_jit_and_vmap_over_keys_and_levels():
    num = 8
    levels = jax.tree.map(lambda x: x[:num], sample_levels(jax.random.split(jax.random.key(13), 1000)))
    keys = jax.random.split(jax.random.key(10), num)
    env = procedural_gridworld("rand_all")
    reset = jax.jit(jax.vmap(env.reset))
    step = jax.jit(jax.vmap(env.step))
    obs, state = reset(keys, levels)
    obs, state, reward, terminated, truncated, _ = step(keys, state, jnp.arange(num) % 5, levels)
    assert obs.shape == (num, 601) and reward.shape == terminated.shape == truncated.shape == (num,)
    one_level = jax.tree.map(lambda x: x[0], levels)
    obs, _ = jax.vmap(env.reset, in_axes=(0, None))(keys, one_level)
    assert len({np.asarray(o).tobytes() for o in obs}) > 1, "different keys should place the objects differently"


def test_same_key_same_trajectory():
    env, params = make_gridworld("rand_all", seed=1)
    actions = np.arange(STEPS) % 5
    first, again = (reset_and_run(env, params, jax.random.key(11), actions) for _ in range(2))
    other = reset_and_run(env, params, jax.random.key(12), actions)
    for a, b in zip(jax.tree.leaves(first), jax.tree.leaves(again)):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first["obs"], other["obs"])


@pytest.mark.parametrize("cells, n", [(100, 6), (121, 5), (10, 8)])  # (10, 8): fewer allowed cells than n, ties
def test_random_cells_are_the_top_k_of_the_allowed_cells_scores(cells, n):
    # random_cells computes lax.top_k by repeated argmax (faster on CPU); the cells, and so every
    # stored gridworld result, must stay those of top_k.
    keys = jax.random.split(jax.random.key(cells), 500)
    allowed = jax.random.uniform(jax.random.key(n), (500, cells)) < 0.6

    def top_k(key, allowed):
        return jax.lax.top_k(jnp.where(allowed, jax.random.uniform(key, allowed.shape), -1.0), n)[1]

    drawn = jax.vmap(functools.partial(random_cells, n=n))(keys, allowed)
    np.testing.assert_array_equal(drawn, jax.vmap(top_k)(keys, allowed))
    assert drawn.dtype == jnp.int32


def test_sampled_rand_all_levels_respect_the_stated_ranges():
    levels = jax.device_get(sample_levels(jax.random.split(jax.random.key(13), 1000)))
    size = levels.rows
    np.testing.assert_array_equal(size, levels.cols)
    assert set(size.tolist()) == set(range(4, 11))
    count = levels.active.sum(axis=1)
    assert set(count.tolist()) == {1, 2, 3, 4, 5}
    np.testing.assert_array_equal(levels.active, np.arange(5) < count[:, None])  # used slots come first
    active = levels.active
    assert (levels.reward[:, 0] > 0).all() and (np.abs(levels.reward) <= 1).all()
    assert (levels.reward[:, 1:][active[:, 1:]] < 0).any()
    assert ((levels.terminate_prob[active] >= 1e-2) & (levels.terminate_prob[active] <= 1)).all()
    assert ((levels.respawn_prob[active] >= 1e-3) & (levels.respawn_prob[active] <= 1e-1)).all()
    for unused in (levels.reward, levels.terminate_prob, levels.respawn_prob):
        assert (unused[~active] == 0).all()
    # Log-uniform: half the mass below the geometric midpoint of the range.
    assert (levels.terminate_prob[active] < 1e-1).mean() == pytest.approx(0.5, abs=0.05)
    assert (levels.respawn_prob[active] < 1e-2).mean() == pytest.approx(0.5, abs=0.05)
    steps = levels.max_steps_in_episode
    assert steps.dtype == np.int32 and steps.min() >= 20 and steps.max() <= 750
    assert (steps < np.sqrt(20 * 750)).mean() == pytest.approx(0.5, abs=0.06)
    # 15 walls on GROOVE's 10 x 10 grid; the level always keeps room for agent and 5 objects.
    assert levels.walls.shape[1:] == (10, 10) and (levels.walls.sum(axis=(1, 2)) == 15).all()
    inside = np.arange(10)[None, :, None] < size[:, None, None]
    inside = inside & (np.arange(10)[None, None, :] < size[:, None, None])
    assert ((inside & ~levels.walls).sum(axis=(1, 2)) >= 6).all()
    # The agent's start is fixed per level, on a free cell of the level, and differs across levels.
    free = (inside & ~levels.walls).reshape(len(size), -1)
    assert free[np.arange(len(size)), levels.start].all() and len(set(levels.start.tolist())) > 20


def test_default_params_and_seeded_levels_come_from_sample_level():
    for got, seed in ((procedural_gridworld("rand_all").default_params, 0), (make_gridworld("rand_all", seed=5)[1], 5)):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(sample_level(jax.random.key(seed)))):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize(
    "name, side, rewards, terminate, respawn, episode_length",
    [
        ("sparse", 7, [1, -1, -1], [1, 1, 1], [1, 1, 1], 50),
        ("dense", 11, [1, 1, -1, -1], [0, 0, 0.5, 0], [0.05, 0.05, 0.1, 0.5], 500),
        ("long", 11, [1, 1, -1, -1], [0, 0, 0.5, 0.5], [0.01, 0.01, 1, 1], 1000),
    ],
)
def test_out_of_support_layouts(name, side, rewards, terminate, respawn, episode_length):
    params = oos_level(name)
    n = len(rewards)
    assert int(params.rows) == int(params.cols) == side and not params.walls.any()
    np.testing.assert_allclose(params.reward[:n], rewards)
    np.testing.assert_allclose(params.terminate_prob[:n], terminate)
    np.testing.assert_allclose(params.respawn_prob[:n], respawn)
    assert params.active.sum() == n and int(params.max_steps_in_episode) == episode_length


def test_mazes_are_perfect_and_fill_the_grid():
    for seed in range(3):
        params = jax.device_get(maze_level(jax.random.key(seed)))
        free = ~params.walls
        cells = list(zip(*np.nonzero(free)))
        assert len(cells) == 7 * 7 + (7 * 7 - 1)  # rooms plus the passages of a spanning tree
        seen, queue = {cells[0]}, deque([cells[0]])
        while queue:
            r, c = queue.popleft()
            for nr, nc in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
                if 0 <= nr < 13 and 0 <= nc < 13 and free[nr, nc] and (nr, nc) not in seen:
                    seen.add((nr, nc))
                    queue.append((nr, nc))
        assert len(seen) == len(cells), "every free cell is reachable"
        assert params.active.sum() == 3 and 25 <= params.max_steps_in_episode <= 50
        assert ((params.reward[:3] >= 0) & (params.reward[:3] <= 1)).all()
    assert not np.array_equal(maze_level(jax.random.key(0)).walls, maze_level(jax.random.key(1)).walls)


@pytest.mark.parametrize("name", sorted(LPG_GRIDWORLDS))
def test_random_policy_gets_a_finite_mean_return_on_each_lpg_world(name):
    env, params = LPG_GRIDWORLDS[name]()
    returns = np.asarray(jax.jit(make_random_rollout(env, params, num_envs=8, num_steps=510))(jax.random.key(14)))
    finished = returns[~np.isnan(returns)]
    assert (~np.isnan(returns)).any(axis=0).all(), "every env finishes an episode within 510 steps"
    assert np.isfinite(finished.mean())
    assert np.abs(finished).max() <= LPG_LAYOUTS[name][4]  # at most one object per step


def test_bad_names_and_parameters_raise_config_error():
    with pytest.raises(ConfigError) as err:
        make_gridworld("rand_al")
    assert all(repr(name) in str(err.value) for name in GRIDWORLD_NAMES)
    with pytest.raises(ConfigError, match="'sed'.*'seed'"):
        make_gridworld("rand_all", sed=1)
    with pytest.raises(ConfigError, match="'seed'"):
        make_gridworld("small_dense_short", seed=1)
    with pytest.raises(ConfigError, match="seed"):
        make_gridworld("maze", seed=-1)
    unused_level = lambda env: None  # noqa: E731 (construction fails before it is needed)
    with pytest.raises(ConfigError, match="num_actions.*5, 9"):
        GridWorld(4, 4, 2, 7, default_level=unused_level)
    with pytest.raises(ConfigError, match="height"):
        GridWorld(0, 4, 2, default_level=unused_level)
    with pytest.raises(ConfigError, match="terminate_probs"):
        one_object_level(terminate=1.5)
    with pytest.raises(ConfigError, match="rewards"):
        make_level(ENV, rewards=[1.0] * 6, terminate_probs=[0.0] * 6, respawn_probs=[0.0] * 6, max_steps_in_episode=10)
    with pytest.raises(ConfigError, match="walls"):
        one_object_level(rows=2, cols=2, walls=np.array([[True, True], [True, False]]))
    with pytest.raises(ConfigError, match="rows"):
        one_object_level(rows=14)


def test_default_level_first_built_inside_a_trace_is_concrete():
    """Envs are shared and cache their level; one first built under jit must not hold tracers."""
    import functools

    from l2o4rl.envs import gridworld

    env = gridworld.GridWorld(
        4, 6, 2, 9, name="fresh", default_level=functools.partial(gridworld._lpg_level, "small_dense_short")
    )
    jax.jit(lambda x: x + env.default_params.reward.sum())(1.0)
    assert not isinstance(env.default_params.reward, jax.core.Tracer)
    assert float(jax.jit(lambda x: x + env.default_params.reward.sum())(0.0)) == float(env.default_params.reward.sum())
