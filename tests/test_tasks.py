import jax
import numpy as np
import pandas as pd
import pytest

from l2o4rl.config import ConfigError
from l2o4rl.tasks import TASKS, get_task


def test_every_task_builds_its_agent_and_optimizers():
    for task in TASKS.values():
        assert task.agent in ("ppo", "a2c")
        cfg = task.at(total_timesteps=task.config.steps_per_update)
        for name in ("adam", "rmsprop", "sgd", "lion"):
            task.optimizer(name, cfg)
        assert cfg.num_updates == 1


def test_annealed_tasks_follow_the_authors_configs_and_anneal_per_update():
    # OPEN's configs.py sets ANNEAL_LR for Asterix and the gridworld only
    assert [name for name, task in TASKS.items() if task.anneal_lr] == ["asterix", "gridworld"]
    task = get_task("asterix")
    with pytest.raises(ConfigError, match="anneals adam's learning rate over a run: pass run="):
        task.optimizer("adam")
    run = task.at(total_timesteps=4 * task.config.steps_per_update)  # 4 updates of 32 optimizer steps
    params = {"w": np.zeros(1, np.float32)}
    grads = {"w": np.ones(1, np.float32)}
    opt = task.optimizer("sgd", run)  # SGD's step is the rate itself
    state, steps = opt.init(params), []
    for _ in range(4 * 32):
        update, state = opt.update(grads, state)
        steps.append(-float(update["w"][0]))
    # PureJaxRL: rate * (1 - update / updates), constant within an update's epochs x minibatches
    np.testing.assert_allclose(steps[::32], 3e-3 * np.array([1.0, 0.75, 0.5, 0.25]), rtol=1e-6)
    assert len(set(steps[32:64])) == 1
    # Breakout does not anneal: the same rate at every step, with or without a run
    opt = get_task("breakout").optimizer("sgd")
    state = opt.init(params)
    for _ in range(3):
        update, state = opt.update(grads, state)
    assert -float(update["w"][0]) == pytest.approx(1e-2)


def test_tuned_settings_follow_the_papers():
    assert get_task("breakout").learning_rate == 1e-2
    assert get_task("breakout").adam == {"b1": 0.9, "b2": 0.99, "eps": 1e-5}  # PureJaxRL's eps (README row 25)
    assert get_task("gridworld").config.num_envs == 1024 and get_task("gridworld").config.num_steps == 20
    assert get_task("big_dense_long").config.torso == "conv" and get_task("small_dense_long").config.torso == "mlp"
    assert get_task("small_dense_long").config.gamma == 0.995 and get_task("small_dense_long").config.num_steps == 20
    # RMSProp takes the same learning rate as Adam (SPEC 1.2)
    params = {"w": np.ones(2, np.float32)}
    opt = get_task("breakout").optimizer("rmsprop")
    step, _ = opt.update({"w": np.array([1.0, -1.0], np.float32)}, opt.init(params))
    np.testing.assert_allclose(np.abs(step["w"]), 1e-2 / np.sqrt(0.1), rtol=1e-3)  # first RMSProp step, decay 0.9


def test_optim4rl_brax_tasks_collect_brax_trainer_batches():
    # The authors' <env>_ppo.json (ant: batch 1024, where SPEC 1.6's table says 2048): batch x 32
    # minibatches x unroll steps per update, clip 0.3, element-wise clip 1
    for name, batch, unroll, epochs, lr in (
        ("ant", 1024, 5, 4, 3e-4),
        ("humanoid", 1024, 10, 8, 3e-4),
        ("inverted_double_pendulum", 1024, 5, 4, 3e-4),
        ("walker2d", 512, 20, 8, 3e-5),
    ):
        task = get_task(f"optim4rl_{name}")
        cfg = task.config
        assert cfg.env == f"brax-{name}" and cfg.steps_per_update == batch * 32 * unroll, name
        assert (cfg.update_epochs, cfg.num_minibatches, cfg.clip_eps, cfg.clip_value, task.learning_rate) == (
            epochs,
            32,
            0.3,
            1.0,
            lr,
        )
        # brax.training's PPO: rewards only scaled, policy 4 x 32 and value 5 x 256 swish, time-outs terminal
        assert not cfg.normalize_reward and cfg.normalize_obs and not cfg.bootstrap_truncation
        assert (cfg.hidden, cfg.num_layers, cfg.critic_hidden, cfg.critic_layers, cfg.activation) == (
            32,
            4,
            256,
            5,
            "swish",
        )


def test_reproduction_tasks_follow_the_authors_code():
    ant = get_task("ant").config  # OPEN's: global norm 0.5 per network, positional backend
    assert (ant.max_grad_norm, ant.clip_value, ant.brax_backend, ant.normalize_reward) == (
        0.5,
        None,
        "positional",
        True,
    )
    for name in (
        "breakout",
        "asterix",
        "freeway",
        "spaceinvaders",
        "gridworld",
        "ant",
        "small_dense_long",
        "big_dense_long",
    ):
        assert not get_task(name).config.bootstrap_truncation, name  # a time-out ends the return
    for name in ("catch", "cartpole", "deepsea"):  # our own tasks keep the bootstrap
        assert get_task(name).config.bootstrap_truncation, name
    assert get_task("small_dense_long").config.num_envs == 512 and get_task("catch_a2c").config.num_envs == 64
    assert get_task("small_dense_long").scaled(16) == {"num_envs": 16} and get_task("breakout").scaled(16) == {}


def test_bad_task_and_budget():
    with pytest.raises(ConfigError, match="unknown task 'pong'; valid choices: 'catch'"):
        get_task("pong")
    with pytest.raises(ConfigError, match="total_timesteps = 10 is less than one rollout"):
        get_task("breakout").at(total_timesteps=10)


def test_task_trains_on_a_sampled_gridworld_level():
    from l2o4rl.envs.gridworld import sample_level

    task = get_task("gridworld")
    run = {"num_envs": 8, "num_minibatches": 2, "total_timesteps": 8 * 20 * 2}
    train = task.make_train(task.optimizer("adam", task.at(**run)), **run)
    level = sample_level(jax.random.key(5))
    _, metrics = jax.jit(train)(jax.random.key(0), level)
    assert metrics["actor_loss"].shape == (2,) and np.isfinite(metrics["actor_loss"]).all()


def test_the_catalogs_swept_rates_are_the_stored_sweeps_best():
    """The baselines' learning rates in the catalog come from the committed cpu sweep (notebook 01):
    rerunning the sweep with another outcome, or editing a rate by hand, fails here."""
    from l2o4rl.experiments import get
    from l2o4rl.experiments.inner_loop import best_learning_rates
    from l2o4rl.optim.catalog import name_of
    from l2o4rl.repro.store import Result, ResultStore
    from l2o4rl.runtime import project_root

    experiment = get("lr_sweep")
    cfg = experiment.config("cpu")
    store = ResultStore(project_root() / "data", "cpu")
    pieces = [store.load("lr_sweep", cfg.replace(**piece), 0) for piece in experiment.pieces(cfg)]
    assert all(p is not None for p in pieces), "a piece of the cpu learning-rate sweep is not committed"
    best = best_learning_rates(Result.merge(pieces).tables["sweep"])
    assert len(best) == len(cfg.tasks) * len(cfg.optimizers)
    for task, optimizer, rate in zip(best["task"], best["optimizer"], best["learning_rate"]):
        assert get_task(task).baseline_learning_rate(name_of(optimizer)) == pytest.approx(rate), (task, optimizer)


def test_a_sweep_trains_at_each_rate_what_training_curves_trains_there():
    from l2o4rl.evaluation import learning_rate_sweep, training_curves

    # Three updates: vmapped over rates, XLA orders the float operations differently, and at 3e-2
    # the two programs' agents part by one Catch episode from the fourth update on.
    keys = jax.random.split(jax.random.key(0), 2)
    sweep = learning_rate_sweep("catch", "rmsprop", np.array([1e-4, 3e-2]), keys, 3_072)
    assert sweep.shape == (2, 2, 3)
    assert not np.array_equal(sweep[0], sweep[1])  # the rates train differently, so the match below means something
    for rate, returns in zip((1e-4, 3e-2), sweep):
        curves = training_curves("catch", get_task("catch").optimizer("rmsprop", learning_rate=rate), keys, 3_072)
        alone = curves[curves["metric"] == "episode_return"].pivot(index="seed", columns="update", values="value")
        np.testing.assert_allclose(returns, alone.to_numpy(), rtol=1e-5)


def test_training_progress_shows_a_bar_over_each_long_runs_updates_and_changes_no_number(capsys, monkeypatch):
    from l2o4rl import evaluation
    from l2o4rl.evaluation import learning_rate_sweep, training_curves, training_progress

    keys = jax.random.split(jax.random.key(0), 2)
    optimizer = get_task("catch").optimizer("rmsprop")
    quiet = training_curves("catch", optimizer, keys, 3_072, optimizer="RMSProp")
    with training_progress():  # 6,144 steps in all: too short to pay for a bar
        training_curves("catch", optimizer, keys, 3_072, optimizer="RMSProp")
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(evaluation, "LONG_RUN_STEPS", 6_144)
    with training_progress():
        shown = training_curves("catch", optimizer, keys, 3_072, optimizer="RMSProp")
        learning_rate_sweep("catch", "rmsprop", np.array([1e-4, 3e-2]), keys, 3_072)
    err = capsys.readouterr().err
    assert "catch RMSProp: 100%" in err and "3/3" in err  # three updates of 1,024 steps
    assert "catch RMSProp at 2 rates: 100%" in err
    pd.testing.assert_frame_equal(quiet, shown)


def test_best_learning_rates_picks_the_highest_mean_final_return():
    import pandas as pd

    from l2o4rl.experiments.inner_loop import best_learning_rates

    rates = [1e-4, 1e-4, 1e-3, 1e-3, 1e-2, 1e-2]  # around catch's own 1e-3
    sweep = pd.DataFrame(
        {
            "task": "catch",
            "optimizer": "Adam",
            "learning_rate": rates,
            "seed": [0, 1] * 3,
            "final_return": [1.0, 3.0, 2.0, 2.0, 4.0, 0.5],
        }
    )
    (row,) = best_learning_rates(sweep).to_dict("records")
    # means: 1e-4 -> 2.0, 1e-3 -> 2.0, 1e-2 -> 2.25
    assert row == {
        "task": "catch",
        "optimizer": "Adam",
        "learning_rate": 1e-2,
        "final_return": 2.25,
        "runner_up_return": 2.0,
    }
    # a tie goes to the task's own rate, wherever it sits in the table
    tied = sweep.assign(final_return=[2.0, 2.0, 1.0, 3.0, 2.0, 2.0])
    assert best_learning_rates(tied)["learning_rate"].item() == 1e-3
    assert best_learning_rates(tied.iloc[::-1])["learning_rate"].item() == 1e-3
    # equal returns whose float32 sums differ in the last bits tie too (Catch's RMSProp sweep)
    noisy = tied.assign(final_return=tied["final_return"] + [0, 0, 0, 0, 0, 4e-7])
    assert best_learning_rates(noisy)["learning_rate"].item() == 1e-3
    lead = tied.assign(final_return=tied["final_return"] + [0, 0, 0, 0, 0, 1e-3])
    assert best_learning_rates(lead)["learning_rate"].item() == 1e-2  # a real lead is not a tie
    # runs too short to finish an episode (NaN returns) are no evidence: the task's own rate
    unfinished = tied.assign(final_return=float("nan"))
    assert best_learning_rates(unfinished.iloc[::-1])["learning_rate"].item() == 1e-3
