"""Gradient statistics: bins, spread, drift, stages, and which layer a recorded coordinate is in."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd
import pytest

from l2o4rl.analysis import gradients as stats
from l2o4rl.analysis.supervised import Classifier
from l2o4rl.config import ConfigError
from l2o4rl.experiments import get
from l2o4rl.experiments.gradient_distribution import gradient_samples
from l2o4rl.repro.store import Result
from l2o4rl.tasks import get_task


def test_log_bins_run_from_minus_9_to_5_by_half():
    edges = stats.LOG_BIN_EDGES
    assert edges[0] == -9.0 and edges[-1] == 5.0 and len(edges) == 29
    np.testing.assert_allclose(np.diff(edges), 0.5)


def test_log_histogram_puts_values_in_their_bins():
    shares = stats.log_histogram([0.0, 1e-8, 1.0, -1.0, 2e3])
    expected = np.zeros(28)
    expected[2] = 2 / 5  # 0 and 1e-8: log10(1e-8) = -8 and log10(2e-8) = -7.7, both in [-8, -7.5)
    expected[18] = 2 / 5  # |g| = 1: [0, 0.5)
    expected[24] = 1 / 5  # 2e3: log10 = 3.3, in [3, 3.5)
    np.testing.assert_allclose(shares, expected)


def test_spread_measures():
    rng = np.random.default_rng(0)
    g = np.concatenate([rng.choice([-1, 1], 100_000) * 10 ** rng.uniform(-6, -2, 100_000), np.zeros(50_000)])
    assert stats.log_range_width(g) == pytest.approx(4 * 0.98, abs=0.02), "zeros do not widen the range"
    # |g| < 1e-4: half the nonzero values (log-uniform on [-6, -2]) plus every zero
    assert stats.share_below(g) == pytest.approx((50_000 + 50_000) / 150_000, abs=0.01)


def test_share_within_a_reference_range():
    rng = np.random.default_rng(2)
    reference = 10 ** rng.uniform(-6, -2, 100_000)
    inside, above = 10 ** rng.uniform(-5, -3, 1_000), 10 ** rng.uniform(-1, 1, 1_000)
    assert stats.share_within(inside, reference) == 1.0 and stats.share_within(above, reference) == 0.0
    assert stats.share_within(np.concatenate([inside, above, above]), reference) == pytest.approx(1 / 3)
    assert stats.share_within(reference, reference) == pytest.approx(0.99, abs=1e-3)


def test_drift_of_a_shifted_sample_is_the_shift():
    rng = np.random.default_rng(1)
    g = 10 ** rng.uniform(-5, -2, 20_000)
    assert stats.drift(g, 100 * g) == pytest.approx(2.0, abs=1e-3)
    assert stats.drift(g, -g) == pytest.approx(0.0, abs=1e-9), "the sign does not count"


def test_stages_are_thirds_and_stage_drift_compares_first_and_last():
    assert list(stats.stage_of(np.arange(10), 10)) == ["beginning"] * 4 + ["middle"] * 3 + ["end"] * 3
    gradients = np.concatenate([np.full((3, 4), 1e-4), np.full((3, 4), 1e-3), np.full((3, 4), 1e-2)])
    assert stats.stage_drift(gradients) == pytest.approx(2.0, abs=1e-3)


def _recorded_leaf_ids(learner) -> tuple[list[str], np.ndarray]:
    """Names of the recorded coordinates, and the id of the leaf each one reads from the raveled tree."""
    leaves, treedef = jax.tree.flatten(jax.eval_shape(learner.init_params, jax.random.key(0)))
    marked = jax.tree.unflatten(treedef, [jnp.full(leaf.shape, i, jnp.float32) for i, leaf in enumerate(leaves)])
    flat = jax.flatten_util.ravel_pytree(marked)[0]
    return stats.recorded_layers(learner), np.asarray(flat[learner.gradient_indices()]).astype(int)


@pytest.mark.parametrize("learner", ["a2c_conv", "ppo", "classifier"])
def test_recorded_coordinates_map_to_their_layers(learner):
    if learner == "classifier":
        model = Classifier(10, record_gradients=10_000)
    else:
        task = get_task("big_dense_long" if learner == "a2c_conv" else "breakout")
        model = task.make_agent(optax.sgd(0.0), record_gradients=10_000)
    names, leaf_ids = _recorded_leaf_ids(model)
    shapes = jax.eval_shape(model.init_params, jax.random.key(0))
    paths = [path for path, _ in jax.tree_util.tree_flatten_with_path(shapes)[0]]
    leaf_names = ["/".join(str(k.key) for k in path if k.key != "params") for path in paths]
    assert [leaf_names[i] for i in leaf_ids] == names
    assert len(set(names)) > 3 and not any("params" in n.split("/") for n in names)


def test_experiment_configs_validate():
    experiment = get("gradient_distribution")
    assert experiment.config("cpu").a2c_task == "big_dense_long"
    with pytest.raises(ConfigError, match="mnist_path must name"):
        experiment.config("quick", dataset="mnist")
    with pytest.raises(ConfigError, match="needs at least 3, one per training stage"):
        experiment.config("quick", ppo_timesteps=16_384)
    with pytest.raises(ConfigError, match="each of 3 steps or more"):
        experiment.config("quick", supervised_steps=(600, 2))


def test_gradient_samples_are_one_row_per_recorded_value():
    runs = pd.DataFrame(
        {
            "run": [0, 0, 1],
            "source": ["A2C x", "A2C x", "CNN y"],
            "kind": ["RL", "RL", "supervised"],
            "optimizer": ["adam", "adam", "rmsprop"],
            "seed": [0, 1, 0],
        }
    )
    coordinates = pd.DataFrame({"run": [0, 0, 1], "coordinate": [1, 0, 0], "layer": ["b", "a", "c"]})
    arrays = {"gradients_0": np.arange(12.0).reshape(2, 3, 2), "gradients_1": np.full((1, 3, 1), 5.0)}
    samples = gradient_samples(Result(tables={"runs": runs, "coordinates": coordinates}, arrays=arrays))
    assert len(samples) == 12 + 3
    a2c = samples[samples["source"] == "A2C x"]
    row = a2c[(a2c["seed"] == 1) & (a2c["update"] == 2) & (a2c["layer"] == "b")].iloc[0]
    assert row["value"] == 11.0 and row["stage"] == "end" and row["optimizer"] == "adam"
    assert list(samples[samples["source"] == "CNN y"]["stage"]) == list(stats.STAGES)
