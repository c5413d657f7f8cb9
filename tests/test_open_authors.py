"""The authors' published OPEN against tuned baselines at their budgets (experiments open_authors_minatar,
open_authors_ant, open_authors_gridworld and open_authors_craftax)."""

import jax
import numpy as np
import pandas as pd

from l2o4rl import experiments
from l2o4rl.experiments import open_authors
from l2o4rl.optim.catalog import AUTHORS_LABEL
from l2o4rl.optim.checkpoints import AUTHORS_OPEN
from l2o4rl.tasks import get_task


def test_each_piece_is_one_game_and_optimizer_and_only_swept_ones_depend_on_the_sweep():
    experiment = experiments.get("open_authors_minatar")
    cfg = experiment.config("paper")
    pieces = experiment.pieces(cfg)
    assert len(pieces) == len(cfg.tasks) * len(cfg.optimizers) == 20
    assert {p["optimizers"] for p in pieces} == {(o,) for o in cfg.optimizers}
    # Retuning the sweep changes the keys of the swept baselines' pieces only.
    retuned = cfg.replace(lr_factors=(0.5, 2.0), sweep_seeds=5, sweep_timesteps=3_000_000)
    for piece, other in zip(pieces, experiment.pieces(retuned)):
        same = cfg.replace(**piece).key() == retuned.replace(**other).key()
        assert same == (piece["optimizers"][0] not in open_authors.SWEPT), piece


def test_a_swept_baseline_trains_at_its_sweeps_best_rate_and_results_name_their_vectors(tmp_path, monkeypatch):
    experiment = experiments.get("open_authors_minatar")
    default = get_task("breakout").default_learning_rate("lion")

    def rigged_sweep(task, optimizer, lr_factors, keys, steps, a2c_envs=None, overrides=None):
        # 3x the default wins clearly; the others are worse than it on every seed
        rates = default * np.asarray(lr_factors)
        wins = np.where(np.isclose(rates, 3 * default), 10.0, 1.0)
        table = {"learning_rate": rates, "seed": 0, "final_return": wins}
        return pd.DataFrame({"task": task, "optimizer": "Lion", **table})

    monkeypatch.setattr(open_authors, "sweep_table", rigged_sweep)
    run = experiment.config(
        "quick",
        tasks=("breakout",),
        total_timesteps=(8_192,),
        seeds=1,
        optimizers=("lion",),
        lr_factors=(0.3, 1.0, 3.0),
    )  # one update
    tables, _ = experiment.compute(run, 0)
    assert set(tables["curves"]["optimizer"]) == {"Lion"}
    assert set(tables["curves"]["metric"]) == {"episode_return"}
    (chosen,) = tables["rates"]["learning_rate"]
    assert np.isclose(chosen, 3 * default), (chosen, default)
    with_vectors = run.replace(optimizers=("open_multi_authors", "open_authors", "adam"))
    assert experiment.inputs(with_vectors, tmp_path)[1] == {
        "breakout_OPEN.npy": AUTHORS_OPEN["breakout"],
        "multi_OPEN.npy": AUTHORS_OPEN["multi"],
    }


def test_gridworld_pieces_train_every_optimizer_on_the_same_fresh_levels(tmp_path):
    experiment = experiments.get("open_authors_gridworld")
    cfg = experiment.config("paper")
    pieces = experiment.pieces(cfg)
    assert len(pieces) == len(open_authors.LEVEL_SETS) * 2 == 10
    # A level set's agents and levels do not depend on the other level sets a config names ...
    keys, levels = open_authors.level_set_agents("maze", 3, 0)
    other_keys, other_levels = open_authors.level_set_agents("rand_all", 3, 0)
    assert not np.array_equal(jax.random.key_data(keys), jax.random.key_data(other_keys))
    assert any(not np.array_equal(leaf[0], leaf[1]) for leaf in jax.tree.leaves(levels))  # a fresh maze per agent
    # ... and only the pieces that train with the authors' vector record its checksum.
    records = {p["optimizers"]: experiment.inputs(cfg.replace(**p), tmp_path)[1] for p in pieces[:2]}
    assert records == {("open_authors",): {"gridworld_OPEN.npy": AUTHORS_OPEN["gridworld"]}, ("adam",): {}}


def test_gridworld_pieces_of_a_few_agents_each_train_the_agents_of_the_whole_and_are_reused(monkeypatch):
    experiment = experiments.get("open_authors_gridworld")
    cfg = experiment.config("paper", seeds=5, piece_seeds=2, optimizers=("adam",))
    pieces = experiment.pieces(cfg)
    assert [(p["level_sets"], p["first_seed"], p["seeds"]) for p in pieces[:3]] == [(("rand_all",), 0, 2)] + [
        (("rand_all",), 2, 2),
        (("rand_all",), 4, 1),
    ]
    assert len(pieces) == len(open_authors.LEVEL_SETS) * 3
    # A config of fewer agents stores its pieces under the same keys, so more agents reuse them.
    fewer = experiment.pieces(cfg.replace(seeds=2))
    assert cfg.replace(**fewer[0]).key() == cfg.replace(**pieces[0]).key()
    # An ungrouped config keeps the keys it had before groups existed (its stored results).
    whole = cfg.replace(piece_seeds=None)
    assert whole.replace(**experiment.pieces(whole)[0]).key() == whole.replace(level_sets=("rand_all",)).key()

    def agents_curves(task, transformation, keys, steps, /, *, overrides, env_params, meta_params=None, **labels):
        # each agent's return stands for its key and its level's goal
        values = np.asarray(jax.random.key_data(keys))[:, -1] + np.asarray(env_params.walls).sum(axis=(1, 2))
        return pd.DataFrame({"seed": np.arange(len(keys)), "metric": "episode_return", "value": values, **labels})

    monkeypatch.setattr(open_authors, "training_curves", agents_curves)
    merged = pd.concat([experiment.compute(cfg.replace(**p), 0)[0]["curves"] for p in pieces[:3]])
    (all_at_once,) = experiment.compute(whole.replace(level_sets=("rand_all",)), 0)[0].values()
    pd.testing.assert_frame_equal(merged.reset_index(drop=True), all_at_once)


def test_craftax_adam_trains_at_its_sweeps_best_rate_with_the_configs_network_and_envs(tmp_path, monkeypatch):
    experiment = experiments.get("open_authors_craftax")
    cfg = experiment.config("cpu")
    pieces = experiment.pieces(cfg)
    assert [p["optimizers"] for p in pieces] == [("open_authors",), ("adam",)]
    # Retuning Adam's sweep changes the key of Adam's piece only.
    retuned = cfg.replace(lr_factors=(1.0, 3.0), sweep_seeds=3)
    same = [cfg.replace(**p).key() == retuned.replace(**q).key() for p, q in zip(pieces, experiment.pieces(retuned))]
    assert same == [True, False]
    calls = []

    def rigged_sweep(task, optimizer, lr_factors, keys, steps, a2c_envs=None, overrides=None):
        calls.append(("sweep", overrides, steps, len(keys)))
        rates = get_task(task).default_learning_rate(optimizer) * np.asarray(lr_factors)
        wins = np.where(np.isclose(rates, 10 * rates[1] / lr_factors[1]), 10.0, 1.0)  # 10x Craftax's rate wins
        return pd.DataFrame(
            {"task": task, "optimizer": "Adam", "learning_rate": rates, "seed": 0, "final_return": wins}
        )

    def recorded_curves(task, transformation, keys, steps, /, *, overrides, meta_params=None, **labels):
        calls.append(("train", overrides, steps, len(keys)))
        # Adam's first step along a unit gradient is its learning rate
        step, _ = transformation.update({"w": np.ones(1)}, transformation.init({"w": np.zeros(1)}))
        return pd.DataFrame({"task": [task], "metric": "episode_return", "value": -float(step["w"][0]), **labels})

    monkeypatch.setattr(open_authors, "sweep_table", rigged_sweep)
    monkeypatch.setattr(open_authors, "training_curves", recorded_curves)
    tables, _ = experiment.compute(cfg.replace(optimizers=("adam",)), 0)
    network = {"num_envs": 256, "hidden": 64}
    assert calls == [("sweep", network, 1_000_000, 2), ("train", network, 1_000_000, 4)]
    assert np.isclose(tables["rates"]["learning_rate"].item(), 2e-3)
    assert np.isclose(tables["curves"]["value"].item(), 2e-3, rtol=1e-4)  # eps 1e-5 shortens the step a little
    assert experiment.inputs(cfg, tmp_path)[1] == {"gridworld_OPEN.npy": AUTHORS_OPEN["gridworld"]}


def test_ant_trains_its_own_vector_and_tuned_adam_on_the_configs_envs(tmp_path, monkeypatch):
    experiment = experiments.get("open_authors_ant")
    cfg = experiment.config("quick")
    assert [p["optimizers"] for p in experiment.pieces(cfg)] == [("open_authors",), ("adam",)]
    assert experiment.inputs(cfg, tmp_path)[1] == {"ant_OPEN.npy": AUTHORS_OPEN["ant"]}
    # A MinAtar config without num_envs keeps the key its stored pieces have.
    minatar = experiments.get("open_authors_minatar").config("cpu")
    assert minatar.key() == minatar.replace(num_envs=None).key() != minatar.replace(num_envs=64).key()
    calls, adam_steps = [], []

    def recorded_curves(task, transformation, keys, steps, /, *, overrides, meta_params=None, **labels):
        calls.append((task, labels["optimizer"], overrides, meta_params, steps, len(keys)))
        if meta_params is None:  # Adam's first two steps along a unit gradient
            params, state = {"w": np.zeros(1)}, transformation.init({"w": np.zeros(1)})
            for _ in range(2):
                step, state = transformation.update({"w": np.ones(1)}, state, params)
                adam_steps.append(-float(step["w"][0]))
        return pd.DataFrame({"task": [task], "metric": "episode_return", "value": 0.0, **labels})

    monkeypatch.setattr(open_authors, "authors_open_optimizer", lambda name: (f"{name} optimizer", f"{name} vector"))
    monkeypatch.setattr(open_authors, "training_curves", recorded_curves)
    tables, _ = experiment.compute(cfg, 0)
    envs = {"num_envs": 16}
    assert calls == [
        ("ant", AUTHORS_LABEL, envs, "ant vector", 4_800, 2),
        ("ant", "Adam", envs, None, 4_800, 2),
    ]
    assert tables["rates"].to_dict("records") == [{"task": "ant", "optimizer": "Adam", "learning_rate": 3e-4}]
    # the authors' 3e-4 with eps 1e-5 (a unit gradient's step is 3e-4 / (1 + 1e-5)), not annealed
    first, second = adam_steps
    assert np.isclose(first, 3e-4 / (1 + 1e-5), rtol=1e-7) and np.isclose(second, first, rtol=1e-7)
