import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from l2o4rl.config import ConfigError
from l2o4rl.experiments import brax_generalization
from l2o4rl.optim.catalog import DAMPING, learned
from l2o4rl.optim.optim4rl import L2L, Optim4RL
from l2o4rl.repro.trained import build, find_trained, load_trained, ship, ship_all, untrained

PARAMS = {"w": jnp.ones(5)}
GRADS = {"w": jnp.array([1e-3, -2.0, 3e-5, 0.5, -1.0])}


def step(transformation):
    updates, _ = transformation.update(GRADS, transformation.init(PARAMS), PARAMS)
    return np.asarray(updates["w"])


@pytest.mark.parametrize("kind", ["optim4rl", "linear_optim", "l2l"])
def test_damped_init_scales_every_step_by_the_damping(kind):
    key, spec = jax.random.key(3), learned(kind)
    random_steps = step(spec.build(spec.init_meta_params(key, "random"), 1e-3))
    damped_steps = step(spec.build(spec.init_meta_params(key, "damped"), 1e-3))
    np.testing.assert_allclose(damped_steps, DAMPING * random_steps, rtol=1e-5)
    assert np.all(random_steps != 0)


def test_ship_and_load_round_trip_with_metadata(tmp_path):
    phi = Optim4RL.init_meta_params(jax.random.key(1))
    flat = np.asarray(jax.flatten_util.ravel_pytree(phi)[0])
    ship(tmp_path, "quick", "optim4rl", "somewhere", flat, init="damped", seed=4)
    loaded, metadata = load_trained(tmp_path, "quick", "optim4rl", "somewhere")
    np.testing.assert_array_equal(jax.flatten_util.ravel_pytree(loaded)[0], flat)
    assert metadata == {
        "kind": "optim4rl",
        "trained_on": "somewhere",
        "scale": "quick",
        "init": "damped",
        "seed": 4,
        "size": flat.size,
    }
    np.testing.assert_allclose(step(build("optim4rl", loaded, 1e-3)), step(Optim4RL(phi, learning_rate=1e-3)))


def test_ship_all_ships_every_kind_at_task_array(tmp_path):
    arrays = {
        f"{kind}@task{i}": np.full(cls.num_meta_params(), float(i), np.float32)
        for i, (kind, cls) in enumerate((("optim4rl", Optim4RL), ("l2l", L2L)))
    }
    paths = ship_all(tmp_path, "quick", arrays, init="random")
    assert [p.name for p in paths] == ["optim4rl_task0.npz", "l2l_task1.npz"]
    phi, metadata = load_trained(tmp_path, "quick", "l2l", "task1")
    assert metadata["trained_on"] == "task1" and all(float(x.min()) == 1.0 for x in jax.tree.leaves(phi))


def test_missing_trained_optimizer_names_the_notebook_that_makes_it(tmp_path):
    with pytest.raises(ConfigError, match="no trained 'l2l' on 'nowhere'.*notebook 04_meta_training_optim4rl"):
        find_trained(tmp_path, "quick", "l2l", "nowhere")
    with pytest.raises(ConfigError, match="notebook 05_open_es"):
        find_trained(tmp_path, "quick", "open", "nowhere")


def test_untrained_control_is_a_draw_from_the_initial_distribution():
    key = jax.random.key(0)
    damped = untrained("optim4rl", "damped", key)
    expected = Optim4RL.scale_steps(Optim4RL.init_meta_params(key), DAMPING)
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.all(a == b)), damped, expected))
    zeros = untrained("open", "zeros", key)
    assert all(float(jnp.abs(x).max()) == 0.0 for x in jax.tree.leaves(zeros))


def test_brax_config_refuses_a_bad_learned_entry():
    with pytest.raises(ConfigError, match="'sgd@catch'.*kind one of optim4rl"):
        brax_generalization.BraxGeneralizationConfig(learned=("sgd@catch",))
    with pytest.raises(ConfigError, match="'open'"):
        brax_generalization.BraxGeneralizationConfig(learned=("open",))
