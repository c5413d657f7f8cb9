"""Optim4RL and its rivals meta-trained at the authors' settings (experiment optim4rl_paper_settings)."""

import json
from math import nan

import pandas as pd
import pytest

from l2o4rl import experiments
from l2o4rl.config import ConfigError
from l2o4rl.experiments.optim4rl_paper import Optim4RLPaperConfig, chosen


def test_the_paper_sweep_is_the_authors_grid_one_piece_per_run():
    experiment = experiments.get("optim4rl_paper_settings")
    cfg = experiment.config("paper")
    pieces = experiment.pieces(cfg)
    # per task: 3 untrained controls, 3 optimizers x m x 5 meta lrs x 2 clips, 5 x 2 without
    # resets, 2 baselines x 6 rates; m: 2 candidates on Catch, 4 on the gridworlds
    assert len(pieces) == (3 + 3 * 2 * 10 + 10 + 12) + 2 * (3 + 3 * 4 * 10 + 10 + 12) == 375
    meta = [p for p in pieces if p["meta_lr_grid"] != ((),)]
    assert all(
        len(p["learned"]) == 1 and len(p["meta_lr_grid"][0]) == 1 and len(p["meta_clip_grid"]) == 1 for p in meta
    )
    assert {p["num_agents"] for p in meta} == {(64,), (512,)}
    assert all(p["num_agents"] == (1,) and p["outer_steps"] == (1,) for p in pieces if p not in meta)

    def keys(config):  # what a stored piece is found by
        return {config.replace(**piece).key() for piece in experiment.pieces(config)}

    # A wider meta-lr grid adds pieces and leaves every stored one valid; another init changes
    # only the pieces that use it (not the baselines').
    assert keys(cfg) < keys(cfg.replace(meta_lr_grid=tuple((*grid, 3e-2) for grid in cfg.meta_lr_grid)))
    kept = keys(cfg) & keys(cfg.replace(init="damped"))
    assert len(kept) == 3 * 12, len(kept)


def test_a_config_with_nested_grids_survives_its_json_record():
    cfg = experiments.get("optim4rl_paper_settings").config("paper")
    assert Optim4RLPaperConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ConfigError, match="meta_lr_grid"):
        cfg.replace(meta_lr_grid=((1e-3,), (0.0,), (1e-3,)))


def test_the_candidate_is_chosen_on_some_agents_and_reported_on_others():
    def rows(optimizer, lr, select, evaluated):
        values = [("select", s, v) for s, v in enumerate(select)] + [
            ("eval", 2 + s, v) for s, v in enumerate(evaluated)
        ]
        frame = pd.DataFrame(values, columns=["split", "seed", "final_return"])
        learned = optimizer != "Adam"
        candidate = {"meta_lr": lr, "reset_period": 32 if learned else nan, "meta_clip_by": "value" if learned else nan}
        return frame.assign(task="catch_a2c", optimizer=optimizer, **candidate)

    finals = pd.concat(
        [
            rows("Optim4RL", 1e-3, [0.9, 0.8], [0.1, 0.2]),  # best on the selection agents, worse after
            rows("Optim4RL", 1e-4, [0.1, 0.0], [0.7, 0.6]),
            rows("Adam", nan, [0.5, 0.5], [0.4, 0.3]),
            rows("L2L", 1e-3, [0.9, nan], [0.0, 0.0]),  # a non-finite selection return rules it out
            rows("L2L", 1e-4, [0.2, 0.2], [0.3, 0.3]),
        ]
    ).assign(learning_rate=lambda f: f["optimizer"].map({"Adam": 1e-3}))
    picked = chosen(finals).set_index(["optimizer", "seed"])
    assert picked.loc[("Optim4RL", 2), "meta_lr"] == 1e-3
    assert picked.loc["Optim4RL", "final_return"].tolist() == [0.1, 0.2]  # reported on the other agents
    assert picked.loc["Adam", "final_return"].tolist() == [0.4, 0.3]
    assert picked.loc[("L2L", 2), "meta_lr"] == 1e-4
