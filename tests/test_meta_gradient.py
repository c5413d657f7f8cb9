"""Meta-gradient training with pipeline training (SPEC 1.3-1.4): schedule, gradients, NaN, resume."""

import jax
import jax.flatten_util
import jax.numpy as jnp
import numpy as np
import pytest

from l2o4rl.config import ConfigError
from l2o4rl.meta import CheckpointMismatchError
from l2o4rl.meta.gradient import MetaGradientConfig, MetaGradientTrainer, combine_task_gradients
from l2o4rl.meta.pipeline import age_schedule, reset_offsets, select_agents

TINY = MetaGradientConfig(tasks=("small_dense_short",), num_agents=4, inner_updates=2, reset_period=4, outer_steps=4)


def flat(tree):
    return np.asarray(jax.flatten_util.ravel_pytree(tree)[0])


def test_reset_offsets_follow_spec():
    assert reset_offsets(4, 8).tolist() == [0, 2, 4, 7]  # floor(linspace(0, 7, 4))
    assert reset_offsets(3, 8, "lockstep").tolist() == [0, 0, 0]


@pytest.mark.parametrize("agents,period", [(8, 8), (64, 32), (5, 16)])
def test_pipeline_ages_spread_evenly_after_one_period(agents, period):
    ages = age_schedule(agents, period, 3 * period)
    offsets = reset_offsets(agents, period)
    for t in range(period, 3 * period):  # after the first period: age = (t - r_j) mod m
        assert ages[t].tolist() == ((t - offsets) % period).tolist()
    # Over any later period every age in [0, m) is sampled exactly n times: uniform.
    assert np.bincount(ages[period : 2 * period].ravel(), minlength=period).tolist() == [agents] * period
    if agents == period:  # one agent per age at every single step
        assert (np.sort(ages[period:], axis=1) == np.arange(period)).all()


def test_lockstep_ages_are_all_equal():
    ages = age_schedule(6, 8, 30, "lockstep")
    assert (ages == ages[:, :1]).all()
    assert ages[:, 0].tolist() == [t % 8 for t in range(30)]


def test_never_resetting_agents_share_one_life():
    """The authors' "without pipeline" ablation: agents are never reset, so age = outer step."""
    ages = age_schedule(5, 8, 30, "never")
    assert (ages == np.arange(30)[:, None]).all()
    with pytest.raises(
        ConfigError, match="unknown reset mode 'staggered'; valid choices: 'pipeline', 'never', 'lockstep'"
    ):
        reset_offsets(5, 8, "staggered")


def test_task_gradients_are_rescaled_to_a_norm_then_averaged():
    a = {"w": jnp.array([3.0, 0.0]), "b": jnp.array([4.0])}  # norm 5
    b = {"w": jnp.array([0.0, 0.1]), "b": jnp.array([0.0])}  # norm 0.1
    plain = combine_task_gradients([a, b])
    np.testing.assert_allclose(plain["w"], [1.5, 0.05])
    rescaled = combine_task_gradients([a, b], norm=0.5)
    np.testing.assert_allclose(rescaled["w"], [(0.3 + 0.0) / 2, (0.0 + 0.5) / 2], rtol=1e-6)
    np.testing.assert_allclose(rescaled["b"], [0.4 / 2], rtol=1e-6)


def test_authors_meta_settings_run_and_clip_element_wise():
    cfg = TINY.replace(
        tasks=("small_dense_short", "small_dense_long"),
        resets="never",
        meta_loss="actor",
        meta_clip=1.0,
        meta_clip_by="value",
        task_grad_norm=0.5,
        outer_steps=2,
    )
    trainer = MetaGradientTrainer(cfg)
    clipped, _ = trainer.meta_clip.update({"w": jnp.array([5.0, -0.2, -30.0])}, None)
    np.testing.assert_allclose(clipped["w"], [1.0, -0.2, -1.0])
    state, metrics = trainer.train(jax.random.key(0), progress=False)
    assert np.isfinite(metrics["meta_loss"]).all() and int(np.asarray(state.step)) == 2
    assert all((np.asarray(ages) == 1).all() for ages in state.ages)  # never reset: one life, age = step - 1


def test_select_agents_picks_per_agent_including_keys():
    fresh = {"w": jnp.ones((3, 2)), "key": jax.random.split(jax.random.key(1), 3)}
    old = {"w": jnp.zeros((3, 2)), "key": jax.random.split(jax.random.key(2), 3)}
    out = select_agents(jnp.array([True, False, True]), fresh, old)
    assert out["w"][:, 0].tolist() == [1.0, 0.0, 1.0]
    picked = jax.random.key_data(out["key"])
    assert (picked[1] == jax.random.key_data(old["key"])[1]).all()
    assert (picked[2] == jax.random.key_data(fresh["key"])[2]).all()


def test_config_refuses_bad_values():
    with pytest.raises(ConfigError, match="optimizer"):
        MetaGradientConfig(optimizer="adam")
    with pytest.raises(ConfigError, match="breakout"):
        MetaGradientConfig(tasks=("breakout",))  # a PPO task: not meta-trainable here
    with pytest.raises(ConfigError, match="reward_scales"):
        MetaGradientConfig(tasks=("catch_a2c", "small_dense_long"), reward_scales=(1.0,))


@pytest.fixture(scope="module")
def trainer():
    return MetaGradientTrainer(TINY)


@pytest.fixture(scope="module")
def uninterrupted(trainer):
    return trainer.train(jax.random.key(0), chunk=2, progress=False)


def test_meta_gradient_is_finite_and_moves_phi(trainer, uninterrupted):
    state, metrics = uninterrupted
    assert metrics["meta_loss"].shape == (4,) and np.isfinite(metrics["meta_loss"]).all()
    assert (metrics["meta_grad_norm"] > 0).all() and np.isfinite(metrics["meta_grad_norm"]).all()
    assert metrics["nonfinite"].sum() == 0
    start = trainer.init(jax.random.key(0)).meta_params
    assert not np.allclose(flat(start), flat(state.meta_params))


def test_trainer_ages_match_the_schedule(uninterrupted):
    state, _ = uninterrupted
    expected = age_schedule(TINY.num_agents, TINY.reset_period, TINY.outer_steps)[-1]  # at the last step run
    assert np.asarray(state.ages[0]).tolist() == expected.tolist()
    assert sorted(expected.tolist()) == [0, 1, 2, 3]


def test_resume_after_a_kill_ends_where_an_uninterrupted_run_does(trainer, uninterrupted, tmp_path):
    # A run "killed" after its first chunk left a checkpoint at step 2; resuming finishes the run.
    MetaGradientTrainer(TINY.replace(outer_steps=2)).train(
        jax.random.key(0), checkpoint_dir=tmp_path, chunk=2, progress=False
    )
    resumed, metrics = trainer.train(jax.random.key(0), checkpoint_dir=tmp_path, chunk=2, progress=False)
    state, expected = uninterrupted
    np.testing.assert_array_equal(flat(resumed.meta_params), flat(state.meta_params))
    np.testing.assert_array_equal(metrics["meta_loss"], expected["meta_loss"])
    with pytest.raises(CheckpointMismatchError, match="another run"):
        MetaGradientTrainer(TINY.replace(meta_lr=0.1)).train(jax.random.key(0), checkpoint_dir=tmp_path, progress=False)


def test_nonfinite_meta_gradient_skips_the_update_and_is_counted(trainer):
    state = trainer.init(jax.random.key(0))
    poisoned = jax.tree.map(lambda x: x.at[..., 0].set(jnp.nan) if x.ndim == 1 else x, state.meta_params)
    with pytest.warns(UserWarning, match="NaN"):
        _, metrics = trainer.train(jax.random.key(0), meta_params=poisoned, chunk=2, progress=False)
    assert metrics["nonfinite"].tolist() == [1, 1, 1, 1]
    assert metrics["agents_reset_nonfinite"].sum() > 0  # agents driven to NaN are re-initialised


def step_and_temp_bytes(trainer):
    """One compiled outer step from a fresh state, and its program's temporary memory."""
    state = trainer.init(jax.random.key(0))
    compiled = jax.jit(trainer.step).lower(state).compile()
    return compiled(state), compiled.memory_analysis().temp_size_in_bytes


def test_rematerialised_inner_updates_give_the_same_step_in_less_memory():
    """With ``remat`` backpropagation stores the agent state between inner updates, not each
    update's per-parameter optimizer activations: same outer step, smaller compiled program."""
    cfg = TINY.replace(num_agents=2, inner_updates=3)
    ((plain, plain_metrics), plain_temp), ((remat, remat_metrics), remat_temp) = (
        step_and_temp_bytes(MetaGradientTrainer(cfg.replace(remat=remat))) for remat in (False, True)
    )
    # remat reorders the float operations, and Adam's normalised meta-step magnifies that on
    # coordinates whose meta-gradient is near zero: 1e-6 is 0.1% of the step (meta lr 1e-3)
    np.testing.assert_allclose(flat(remat.meta_params), flat(plain.meta_params), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(remat_metrics["meta_grad_norm"], plain_metrics["meta_grad_norm"], rtol=1e-4)
    assert remat_temp < 0.6 * plain_temp, f"remat {remat_temp:,} bytes vs {plain_temp:,} without"


def test_agents_in_groups_give_the_same_step_as_all_at_once():
    """``agent_group`` only changes how the agents are batched (3 of 4: a group and a remainder)."""
    cfg = TINY.replace(num_agents=4, inner_updates=2)
    steps = []
    for group in (None, 3):
        trainer = MetaGradientTrainer(cfg.replace(agent_group=group))
        steps.append(jax.jit(trainer.step)(trainer.init(jax.random.key(0))))
    (whole, whole_metrics), (grouped, grouped_metrics) = steps
    np.testing.assert_allclose(flat(grouped.meta_params), flat(whole.meta_params), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(grouped_metrics["meta_loss"], whole_metrics["meta_loss"], rtol=1e-5)
    np.testing.assert_allclose(flat(grouped.agents[0].params), flat(whole.agents[0].params), rtol=1e-5, atol=1e-6)
    assert not np.allclose(flat(grouped.meta_params), flat(trainer.init(jax.random.key(0)).meta_params))


def test_rematerialised_agent_groups_give_the_same_step_in_less_memory(monkeypatch):
    """With ``REMAT_GROUPS`` the groups' loop stores each group's agent state for the backward
    pass, not its K updates' optimizer states: same outer step, smaller compiled program."""
    from l2o4rl.meta import gradient

    cfg = TINY.replace(num_agents=16, inner_updates=4, agent_group=2)
    (plain, plain_metrics), plain_temp = step_and_temp_bytes(MetaGradientTrainer(cfg))
    monkeypatch.setattr(gradient, "REMAT_GROUPS", True)
    (remat, remat_metrics), remat_temp = step_and_temp_bytes(MetaGradientTrainer(cfg))
    np.testing.assert_allclose(flat(remat.meta_params), flat(plain.meta_params), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(remat_metrics["meta_loss"], plain_metrics["meta_loss"], rtol=1e-5)
    assert remat_temp < 0.7 * plain_temp, f"groups rematerialised {remat_temp:,} bytes vs {plain_temp:,} without"


def test_a_run_checkpoint_outlives_a_killed_run_and_goes_with_a_finished_one(tmp_path, monkeypatch):
    from l2o4rl.meta import loop

    monkeypatch.setattr(loop, "project_root", lambda: tmp_path)
    with pytest.raises(KeyboardInterrupt), loop.run_checkpoints("meta_gradient", "run") as directory:
        directory.mkdir(parents=True)
        raise KeyboardInterrupt  # killed: the checkpoint stays for the next start
    assert directory == tmp_path / ".cache" / "meta_gradient" / "run" and directory.exists()
    with loop.run_checkpoints("meta_gradient", "run") as again:
        assert again == directory  # the next start finds it
    assert not directory.exists() and not directory.parent.exists()  # done: gone, and its empty parent


def test_the_candidates_of_a_meta_learning_rate_sweep_share_one_compiled_step():
    def program(meta_lr):
        trainer = MetaGradientTrainer(TINY.replace(meta_lr=meta_lr))
        return jax.jit(trainer.step).lower(trainer.init(jax.random.key(0))).as_text()

    assert program(1e-3) == program(3e-4)  # the rate is an input of the program, not a constant in it
