"""ES meta-training: fitness shaping, NaN handling, antithetic task sampling, sharding, resume."""

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from evosax.core.fitness_shaping import centered_rank_fitness_shaping_fn
from scipy.stats import rankdata

from l2o4rl.config import ConfigError
from l2o4rl.experiments.deep_sea import DeepSeaConfig
from l2o4rl.meta import es, es_problem
from l2o4rl.meta.loop import run_outer_loop
from l2o4rl.meta.sharding import population_mesh
from l2o4rl.optim.catalog import learned
from l2o4rl.optim.open import OPEN, ablation

TARGET = jnp.array([0.5, -0.3, 0.2, 0.4])


def quadratic(phi, key):
    """Higher is better; the key scales the whole score, as a level's difficulty would."""
    scale = jnp.exp(jax.random.normal(key))
    return jnp.stack([-scale * jnp.sum((phi - TARGET) ** 2)])


def make(population=8, antithetic_tasks=False, scores=quadratic, mesh=None, **settings):
    cfg = es.ESConfig(population_size=population, **{"sigma": 0.05, "es_learning_rate": 0.02, **settings})
    strategy = es.make_strategy(jnp.zeros(4), cfg)
    step = es.make_generation(strategy, scores, antithetic_tasks=antithetic_tasks, mesh=mesh)
    return strategy, step, es.init_state(strategy, jnp.zeros(4), jax.random.key(0))


def test_centered_ranks_by_hand():
    # evosax minimises: the lowest value ranks first; NaN ranks last (worst).
    shaped = centered_rank_fitness_shaping_fn(None, jnp.array([3.0, 1.0, jnp.nan, 2.0]), None, None)
    np.testing.assert_allclose(shaped, [1 / 6, -0.5, 0.5, -1 / 6], rtol=1e-6)
    ties = centered_rank_fitness_shaping_fn(None, jnp.array([0.0, 1.0, 1.0, 2.0, 3.0]), None, None)
    np.testing.assert_allclose(ties, [-0.5, -0.125, -0.125, 0.25, 0.5], rtol=1e-6)


def test_nan_member_ranks_worst_and_is_counted():
    """One generation by hand: Adam's first step is -lr * sign(grad) for every coordinate."""
    population_size = 6

    def scores(phi, key):  # higher phi[0] is better; members with phi[1] > 0 fail
        return jnp.stack([jnp.where(phi[1] > 0, jnp.nan, phi[0])])

    strategy, step, state = make(population_size, scores=scores)
    new_state, metrics = step(state)
    _, ask_key, _, _ = jax.random.split(state.key, 4)
    population, _ = strategy.ask(ask_key, state.strategy, strategy.default_params)
    population = np.asarray(population, np.float64)
    score = np.where(population[:, 1] > 0, -np.inf, population[:, 0])  # NaN as worst
    assert int(metrics["nan_members"]) == int((population[:, 1] > 0).sum()) > 0
    shaped = (rankdata(-score) - 1) / (population_size - 1) - 0.5  # evosax's loss: the best member lowest
    grad = shaped @ (population / 0.05) / (population_size * 0.05)
    np.testing.assert_allclose(new_state.strategy.mean, -0.02 * np.sign(grad), atol=1e-6)
    assert np.isfinite(new_state.strategy.mean).all()
    assert float(metrics["fitness_max"]) == pytest.approx(population[population[:, 1] <= 0, 0].max(), rel=1e-6)


def test_es_follows_the_better_members_on_a_quadratic():
    _, step, state = make()
    state, metrics = run_outer_loop(step, state, 150, chunk=50, progress=False)
    assert np.abs(np.asarray(state.strategy.mean) - TARGET).max() < 0.1
    assert metrics["fitness_mean"][-10:].mean() > 5 * metrics["fitness_mean"][:10].mean()  # less negative


def test_antithetic_task_sampling():
    keys = es_problem.member_keys(jax.random.key(3), 8, antithetic_tasks=True)
    data = jax.random.key_data(keys)
    np.testing.assert_array_equal(data[:4], data[4:])  # pair (i, i + 4) shares a key (level and seed)
    assert len({tuple(k) for k in np.asarray(data[:4]).tolist()}) == 4  # pairs differ
    crn = jax.random.key_data(es_problem.member_keys(jax.random.key(3), 8, antithetic_tasks=False))
    assert len({tuple(k) for k in np.asarray(crn).tolist()}) == 1  # common random numbers
    # (plus, minus) pairs: win, lose, tie, NaN loses, both NaN tie
    scores = jnp.array([2.0, 0.0, 1.0, jnp.nan, jnp.nan, 1.0, 3.0, 1.0, 0.5, jnp.nan])
    np.testing.assert_array_equal(es_problem.pairwise_win_lose(scores), [1, 0, 0.5, 0, 0.5, 0, 1, 0.5, 1, 0.5])
    # ES on pairwise win/lose alone, with each pair's scores scaled by its own "level", converges.
    _, step, state = make(antithetic_tasks=True, es_learning_rate=0.03)
    state, _ = run_outer_loop(step, state, 150, chunk=50, progress=False)
    assert np.abs(np.asarray(state.strategy.mean) - TARGET).max() < 0.1


def test_resume_equals_uninterrupted(tmp_path):
    _, step, state = make()
    whole, whole_metrics = run_outer_loop(step, state, 6, chunk=2, progress=False)
    run_outer_loop(step, state, 4, chunk=2, checkpoint_dir=tmp_path, progress=False)  # "killed" after 4
    resumed, metrics = run_outer_loop(step, state, 6, chunk=2, checkpoint_dir=tmp_path, progress=False)
    for a, b in zip(jax.tree.leaves(jax.random.key_data(whole.key)), jax.tree.leaves(jax.random.key_data(resumed.key))):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(jax.tree.leaves(whole.strategy), jax.tree.leaves(resumed.strategy)):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(metrics["fitness_mean"], whole_metrics["fitness_mean"])


def test_meta_train_resumes_to_the_same_result(tmp_path):
    """A whole ES run on a tiny Catch PPO: stopped after one generation and resumed, it ends
    where an uninterrupted run ends (ES state, trained and best meta-parameters, metrics)."""
    task = es_problem.InnerTask(
        "catch",
        {"total_timesteps": 256, "hidden": 4, "num_envs": 8, "num_steps": 16, "num_minibatches": 1, "update_epochs": 1},
    )
    cfg = es.ESConfig(population_size=2, generations=2, checkpoint_every=1, init="random", sigma=0.1)
    whole = es.meta_train("open", [task], cfg, seed=3, checkpoint_dir=tmp_path / "whole", progress=False)
    es.meta_train("open", [task], cfg.replace(generations=1), seed=3, checkpoint_dir=tmp_path / "cut", progress=False)
    resumed = es.meta_train("open", [task], cfg, seed=3, checkpoint_dir=tmp_path / "cut", progress=False)
    for a, b in zip(
        jax.tree.leaves((whole.mean, whole.best, whole.state.strategy)),
        jax.tree.leaves((resumed.mean, resumed.best, resumed.state.strategy)),
    ):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(whole.metrics["fitness_mean"], resumed.metrics["fitness_mean"])
    assert whole.metrics["fitness_mean"].shape == (2,) and np.isfinite(whole.metrics["fitness_mean"]).all()
    assert int(resumed.state.strategy.generation_counter) == 2


def test_ablation_mask_is_the_ablated_open():
    """OPEN with an ablation's meta-parameters zeroed updates exactly like OPEN(**ablation(name))."""
    phi = OPEN.init_meta_params(jax.random.key(1))
    params = {"actor": {"layer_0": {"kernel": jnp.linspace(-1, 1, 12).reshape(3, 4)}}, "critic": {"w": jnp.ones(5)}}
    grads = jax.tree.map(lambda p: 1e-2 * jnp.cos(jnp.arange(p.size).reshape(p.shape) + 1.0), params)
    extra = {"key": jax.random.key(2), "training_proportion": 0.3, "batch_proportion": 1.0}
    for name in ("no_features", "no_dormancy", "no_stochasticity"):
        masked = learned(name).build(phi)
        ablated = OPEN(phi, **ablation(learned(name).ablation))
        (a, _), (b, _) = (o.update(grads, o.init(params), params, **extra) for o in (masked, ablated))
        for x, y in zip(jax.tree.leaves(a), jax.tree.leaves(b)):
            np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-9)
    full = learned("open").build(phi).update(grads, OPEN(phi).init(params), params, **extra)[0]
    assert not np.allclose(jax.tree.leaves(full)[0], jax.tree.leaves(a)[0])  # the ablation changed something


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="population_size = 7 must be even"):
        es.ESConfig(population_size=7)
    with pytest.raises(ConfigError, match="unknown learned optimizer 'velo'"):
        learned("velo")
    with pytest.raises(ConfigError, match="unknown task 'pong'"):
        es_problem.InnerTask("pong")
    with pytest.raises(ValueError, match="population_size = 6 does not split evenly over 4 cpu devices"):
        population_mesh(6, [jax.devices()[0]] * 4)
    with pytest.raises(
        ConfigError, match="DeepSeaConfig.eval_sizes = \\(1, 4\\); it needs at least one size, each at least 2"
    ):
        DeepSeaConfig(eval_sizes=(1, 4))
    with pytest.raises(ConfigError, match="DeepSeaConfig.runs must include 'open'"):
        DeepSeaConfig(runs=("no_stochasticity",))
    with pytest.raises(
        ConfigError, match="DeepSeaConfig.runs contains 'opt', which is not valid; valid choices: 'open'"
    ):
        DeepSeaConfig(runs=("open", "opt"))


SHARDED = textwrap.dedent(
    """
    import l2o4rl, jax, jax.numpy as jnp, numpy as np
    from l2o4rl.meta import es
    from l2o4rl.meta.loop import run_outer_loop
    from l2o4rl.meta.sharding import population_mesh
    assert jax.device_count() == 4, jax.devices()

    def scores(phi, key):  # a little inner loop: noisy SGD on a quadratic with step size exp(phi[0])
        def sgd(x, k):
            return x - jnp.exp(phi[0]) * (2 * (x - phi[1:]) + 0.1 * jax.random.normal(k, x.shape)), None
        x, _ = jax.lax.scan(sgd, jnp.ones(3), jax.random.split(key, 20))
        return jnp.stack([-jnp.sum(x ** 2), -jnp.abs(phi).sum()])

    cfg = es.ESConfig(population_size=8)
    strategy = es.make_strategy(jnp.zeros(4), cfg)
    results = []
    for devices in (jax.devices(), jax.devices()[:1]):
        step = es.make_generation(strategy, scores, antithetic_tasks=True, mesh=population_mesh(8, devices))
        start = es.init_state(strategy, jnp.full(4, -3.0), jax.random.key(0))
        state, metrics = run_outer_loop(step, start, 3, progress=False)
        results.append((np.asarray(state.strategy.mean), metrics["fitness_mean"], metrics["task_scores"]))
    (a, fa, ta), (b, fb, tb) = results
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(fa, fb, rtol=1e-6)
    np.testing.assert_allclose(ta, tb, rtol=1e-6)
    try:
        population_mesh(6)
    except ValueError as err:
        print("ERROR:", err)
    print("SHARDED OK", a)
    """
)


def test_sharded_population_matches_unsharded():
    """Four forced host devices split the population; the ES moves exactly as on one device."""
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    out = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "SHARDED OK" in out.stdout
    assert "population_size = 6 does not split evenly over 4 cpu devices; use a multiple of 4" in out.stdout


def test_pooled_es_runs_give_one_seed_id_per_run_and_agent():
    import pandas as pd

    from l2o4rl.experiments.open_es import es_seed_of, pooled_es_runs
    from l2o4rl.repro.store import Result

    def run(values):
        return Result(tables={"curves": pd.DataFrame({"seed": [0, 1], "value": values})})

    pooled = pooled_es_runs({0: run([1.0, 2.0]), 2: run([3.0, 4.0])})
    assert list(pooled["seed"]) == [0, 1, 2000, 2001] and list(pooled["es_seed"]) == [0, 0, 2, 2]
    assert list(es_seed_of(pooled["seed"])) == [0, 0, 2, 2] and list(pooled["value"]) == [1.0, 2.0, 3.0, 4.0]


def test_the_fitness_normaliser_floors_adams_return_and_refuses_a_budget_without_episodes():
    from l2o4rl.experiments.open_es import normaliser

    assert normaliser(-2.5, "catch", 1_024) == 2.5 and normaliser(0.0, "catch", 1_024) == 1e-3
    with pytest.raises(ConfigError, match=r"total_timesteps: Adam finished no episode of 'freeway' in 8,192 steps"):
        normaliser(float("nan"), "freeway", 8_192)
