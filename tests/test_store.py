import json

import numpy as np
import pandas as pd
import pytest

from l2o4rl.config import Config, ConfigError, config, setting
from l2o4rl.repro.store import CorruptResultError, ResultStore, cached


@config
class RunConfig(Config):
    steps: int = setting(3, ge=1)


def make_result(steps: int = 3):
    table = pd.DataFrame({"step": np.arange(steps), "return": np.linspace(0.1, 1.0 / 3.0, steps)})
    return {"curve": table}, {"params": np.arange(6, dtype=np.float32).reshape(2, 3)}


def test_round_trip_exact(tmp_path):
    store = ResultStore(tmp_path, "quick")
    tables, arrays = make_result()
    saved = store.save("exp", RunConfig(), 0, tables, arrays, wall_time_s=1.5)
    loaded = store.load("exp", RunConfig(), 0)
    pd.testing.assert_frame_equal(loaded.tables["curve"], tables["curve"])  # floats round-trip exactly
    np.testing.assert_array_equal(loaded.arrays["params"], arrays["params"])
    assert loaded.arrays["params"].dtype == np.float32
    prov = loaded.provenance
    assert prov["config"] == {"steps": 3} and prov["seed"] == 0 and prov["scale"] == "quick"
    assert prov["wall_time_s"] == 1.5 and "jax" in prov["versions"] and prov["device"]["backend"] == "cpu"
    assert saved.path == loaded.path and saved.path.parent == tmp_path / "quick" / "exp"
    assert loaded.describe() == f"result: {loaded.path}  (2 s on {prov['device']['device_kind']})"


def test_key_changes_with_config_and_seed(tmp_path):
    store = ResultStore(tmp_path, "cpu")
    store.save("exp", RunConfig(), 0, *make_result())
    assert store.load("exp", RunConfig(steps=4), 0) is None
    assert store.load("exp", RunConfig(), 1) is None
    assert store.load("exp", RunConfig(), 0) is not None
    assert ResultStore(tmp_path, "quick").load("exp", RunConfig(), 0) is None


def test_cached_reuses_and_recomputes(tmp_path):
    store, calls = ResultStore(tmp_path, "quick"), []

    def compute():
        calls.append(1)
        return make_result(steps=len(calls) + 2)

    first = cached(store, "exp", RunConfig(), 0, compute)
    again = cached(store, "exp", RunConfig(), 0, compute)
    assert len(calls) == 1 and len(again.tables["curve"]) == len(first.tables["curve"]) == 3
    fresh = cached(store, "exp", RunConfig(), 0, compute, recompute=True)
    assert len(calls) == 2 and len(fresh.tables["curve"]) == 4
    assert len(store.load("exp", RunConfig(), 0).tables["curve"]) == 4
    assert [p.name for p in (tmp_path / "quick" / "exp").iterdir()] == [fresh.path.name]  # nothing left behind


@pytest.mark.parametrize("victim", ["curve.csv", "arrays.npz"])
def test_truncated_file_is_detected(tmp_path, victim):
    store = ResultStore(tmp_path, "quick")
    path = store.save("exp", RunConfig(), 0, *make_result()).path
    data = (path / victim).read_bytes()
    (path / victim).write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptResultError, match=f"{victim} does not match its recorded checksum"):
        store.load("exp", RunConfig(), 0)


def test_edited_value_and_missing_files_are_detected(tmp_path):
    store = ResultStore(tmp_path, "quick")
    path = store.save("exp", RunConfig(), 0, *make_result()).path
    (path / "curve.csv").write_text((path / "curve.csv").read_text().replace("0.1", "0.2"))
    with pytest.raises(CorruptResultError, match="checksum"):
        store.load("exp", RunConfig(), 0)
    (path / "curve.csv").unlink()
    with pytest.raises(CorruptResultError, match="curve.csv is missing"):
        store.load("exp", RunConfig(), 0)
    (path / "provenance.json").write_text("{not json")
    with pytest.raises(CorruptResultError, match="unreadable provenance.json"):
        store.load("exp", RunConfig(), 0)


def test_failed_write_leaves_no_result(tmp_path):
    store = ResultStore(tmp_path, "quick")

    class Exploding(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.save("exp", RunConfig(), 0, {"curve": Exploding({"a": [1]})})
    assert store.load("exp", RunConfig(), 0) is None
    assert list((tmp_path / "quick" / "exp").iterdir()) == []


def test_provenance_is_json_with_checksums(tmp_path):
    path = ResultStore(tmp_path, "paper").save("exp", RunConfig(), 7, *make_result()).path
    record = json.loads((path / "provenance.json").read_text())
    assert set(record["files"]) == {"curve.csv", "arrays.npz"}
    assert all(len(digest) == 64 for digest in record["files"].values())
    assert record["git_commit"]


def test_bad_scale_refused(tmp_path):
    with pytest.raises(ConfigError, match="unknown scale 'big'"):
        ResultStore(tmp_path, "big")


def test_cached_recomputes_when_its_inputs_change(tmp_path):
    store, calls = ResultStore(tmp_path, "quick"), []

    def compute():
        calls.append(1)
        return make_result()

    first = cached(store, "exp", RunConfig(), 0, compute, inputs={"phi": "abc"})
    assert first.provenance["inputs"] == {"phi": "abc"}
    cached(store, "exp", RunConfig(), 0, compute, inputs={"phi": "abc"})
    assert len(calls) == 1
    changed = cached(store, "exp", RunConfig(), 0, compute, inputs={"phi": "def"})
    assert len(calls) == 2 and changed.provenance["inputs"] == {"phi": "def"}


def test_a_new_revision_of_an_experiment_recomputes_its_stored_result(tmp_path):
    from l2o4rl.repro.registry import Experiment

    calls = []

    def compute(cfg, seed):
        calls.append(1)
        return make_result(cfg.steps)

    configs = {scale: RunConfig() for scale in ("quick", "cpu", "paper")}
    old = Experiment("exp", "00_x", ("fig",), configs, compute)
    new = Experiment("exp", "00_x", ("fig",), configs, compute, revision=1)
    old.load_or_run("quick", 0, tmp_path)
    old.load_or_run("quick", 0, tmp_path)
    assert len(calls) == 1  # reused
    result = new.load_or_run("quick", 0, tmp_path)
    assert len(calls) == 2 and result.provenance["inputs"] == {"revision": "1"}
    new.load_or_run("quick", 0, tmp_path)
    assert len(calls) == 2  # the new revision's result is reused in turn


@config
class TasksConfig(Config):
    tasks: tuple[str, ...] = setting(("a", "b"))
    total_timesteps: tuple[int, ...] = setting((2, 3), one_per="tasks")


def test_an_experiment_in_pieces_stores_each_and_reuses_the_finished_ones(tmp_path):
    from l2o4rl.repro.registry import Experiment, per_task

    computed = []

    def compute(cfg, seed):
        computed.append(cfg.tasks)
        (task,), (steps,) = cfg.tasks, cfg.total_timesteps
        return {"curve": pd.DataFrame({"task": task, "step": np.arange(steps)})}, {f"params_{task}": np.ones(steps)}

    configs = {scale: TasksConfig() for scale in ("quick", "cpu", "paper")}
    experiment = Experiment("exp", "00_x", ("fig",), configs, compute, pieces=per_task)
    result = experiment.load_or_run("quick", 0, tmp_path)
    assert computed == [("a",), ("b",)]
    assert list(result.tables["curve"]["task"]) == ["a", "a", "b", "b", "b"]
    assert set(result.arrays) == {"params_a", "params_b"}
    assert len(result.provenance["pieces"]) == 2 and result.describe().startswith(f"result: 2 pieces in {result.path}")
    # a run with one more task computes only that piece
    experiment.load_or_run("quick", 0, tmp_path, tasks=("a", "b", "c"), total_timesteps=(2, 3, 1))
    assert computed == [("a",), ("b",), ("c",)]
    assert "inputs" not in result.provenance  # none recorded
    revised = Experiment("exp2", "00_x", ("fig",), configs, compute, pieces=per_task, revision=1)
    assert revised.load_or_run("quick", 0, tmp_path).provenance["inputs"] == {
        "revision": "1"
    }  # the pieces' shared inputs


def test_a_new_revision_of_a_task_stales_only_the_results_that_name_it(tmp_path, monkeypatch):
    import dataclasses

    from l2o4rl.repro.registry import Experiment, per_task
    from l2o4rl.tasks import TASKS

    computed = []

    def compute(cfg, seed):
        computed.append(cfg.tasks)
        return {"curve": pd.DataFrame({"task": list(cfg.tasks)})}, {}

    configs = {scale: TasksConfig(tasks=("catch", "b")) for scale in ("quick", "cpu", "paper")}
    experiment = Experiment("exp", "00_x", ("fig",), configs, compute, pieces=per_task)
    experiment.load_or_run("quick", 0, tmp_path)
    monkeypatch.setitem(TASKS, "catch", dataclasses.replace(TASKS["catch"], revision=1))
    result = experiment.load_or_run("quick", 0, tmp_path)
    assert computed == [("catch",), ("b",), ("catch",)]  # the piece on "b" is reused
    assert result.provenance["pieces"][0]["inputs"] == {"task_revisions": "catch:1"}
    assert "inputs" not in result.provenance["pieces"][1]


def test_a_baselines_revision_stales_only_the_pieces_that_train_a_hand_designed_optimizer():
    from l2o4rl.experiments import EXPERIMENTS
    from l2o4rl.repro.registry import task_revisions

    minatar = EXPERIMENTS["open_authors_minatar"].config("cpu")
    piece = lambda *names: task_revisions(minatar.replace(tasks=("asterix",), total_timesteps=(1,), optimizers=names))  # noqa: E731
    assert piece("open_authors") == ""  # the published optimizer's runs stay current
    assert piece("open_authors", "lion") == "asterix:baselines1"
    assert piece("adam") == "asterix:adam1,asterix:baselines1"  # Adam's own revision too (eps 1e-5)
    assert task_revisions(minatar.replace(tasks=("breakout",), total_timesteps=(1,), optimizers=("rmsprop",))) == ""
    gridworld = EXPERIMENTS["open_authors_gridworld"].config("cpu")  # the task is its class's, not a field
    assert task_revisions(gridworld.replace(optimizers=("adam",))) == "gridworld:baselines1"
    assert task_revisions(gridworld.replace(optimizers=("open_authors",))) == ""
    # the gridworld ES experiment evaluates tuned Adam beside OPEN: its runs train a baseline
    assert task_revisions(EXPERIMENTS["open_es_gridworld"].config("cpu")) == "gridworld:baselines1"


def test_an_adam_revision_stales_only_the_pieces_that_train_adam(monkeypatch):
    import dataclasses

    from l2o4rl.experiments import EXPERIMENTS
    from l2o4rl.repro.registry import task_revisions
    from l2o4rl.tasks import TASKS

    monkeypatch.setitem(TASKS, "breakout", dataclasses.replace(TASKS["breakout"], adam_revision=1))
    minatar = EXPERIMENTS["open_authors_minatar"].config("cpu")
    piece = lambda *names: task_revisions(minatar.replace(tasks=("breakout",), total_timesteps=(1,), optimizers=names))  # noqa: E731
    assert piece("adam") == piece("open_authors", "adam") == "breakout:adam1"
    assert piece("rmsprop") == piece("lion") == piece("open_authors") == ""  # their runs stay current
    assert task_revisions(EXPERIMENTS["minatar_adam"].config("cpu")) == "breakout:adam1"
    # a config that lists no optimizers may train Adam (notebook 02 records Breakout's Adam gradients)
    assert task_revisions(EXPERIMENTS["gradient_distribution"].config("cpu")) == "breakout:adam1"


def test_an_experiment_says_whether_it_loads_or_computes_and_what_the_stored_run_took(tmp_path, capsys):
    from l2o4rl.repro.registry import Experiment

    configs = {scale: RunConfig() for scale in ("quick", "cpu", "paper")}
    Experiment("exp", "00_x", ("fig",), configs, lambda cfg, seed: make_result()).load_or_run("quick", 0, tmp_path)
    assert ": no stored result, computing" in capsys.readouterr().err
    newer = Experiment("exp", "00_x", ("fig",), configs, lambda cfg, seed: make_result(), revision=1)
    newer.load_or_run("quick", 0, tmp_path)
    assert "computing; the stored result it replaces took 0 s on" in capsys.readouterr().err
    newer.load_or_run("quick", 0, tmp_path)
    assert "exp [quick, seed 0, key " in (err := capsys.readouterr().err) and "loaded the stored result" in err


def test_training_runs_show_their_updates_beyond_the_quick_scale_only(tmp_path):
    """A ``cpu`` or ``paper`` computation runs for minutes to hours in one jitted program: it
    gets a bar over each training run's updates; a ``quick`` one, and the audit's reruns, keep
    programs that JAX's persistent compilation cache stores."""
    from l2o4rl.agents.base import OnPolicyConfig
    from l2o4rl.evaluation import updates_bar
    from l2o4rl.repro.registry import Experiment
    from l2o4rl.repro.store import ResultStore

    shown = {}
    minatar_like = OnPolicyConfig(total_timesteps=10_000_000)  # 4 agents: 4e7 steps

    def compute(cfg, seed):
        with updates_bar("run", minatar_like, 4) as on_update:
            shown[seed] = on_update is not None
        return make_result()

    configs = {scale: RunConfig() for scale in ("quick", "cpu", "paper")}
    experiment = Experiment("exp", "00_x", ("fig",), configs, compute)
    for scale, seed in (("quick", 0), ("cpu", 1), ("paper", 2)):
        experiment.load_or_run(scale, seed, tmp_path)
    experiment.load_or_run_config(ResultStore(tmp_path / "audit", "cpu"), RunConfig(), 3, tmp_path, True)
    assert shown == {0: False, 1: True, 2: True, 3: False}


def test_recompute_never_loads_a_current_result_and_refuses_a_missing_or_stale_one(tmp_path):
    from l2o4rl.repro.registry import Experiment
    from l2o4rl.repro.store import MissingResultError

    configs = {scale: RunConfig() for scale in ("quick", "cpu", "paper")}
    old = Experiment("exp", "00_x", ("fig",), configs, lambda cfg, seed: make_result())
    with pytest.raises(MissingResultError, match=r"exp \[quick, seed 0\]: the stored result .* is missing"):
        old.load_or_run("quick", 0, tmp_path, recompute="never")
    stored = old.load_or_run("quick", 0, tmp_path)
    assert old.load_or_run("quick", 0, tmp_path, recompute="never").provenance == stored.provenance
    newer = Experiment("exp", "00_x", ("fig",), configs, lambda cfg, seed: make_result(), revision=1)
    with pytest.raises(MissingResultError, match=r"is stale \(its \['revision'\] differ\)"):
        newer.load_or_run("quick", 0, tmp_path, recompute="never")
    with pytest.raises(ConfigError, match="unknown recompute 'sometimes'; valid choices: 'missing', 'always', 'never'"):
        newer.load_or_run("quick", 0, tmp_path, recompute="sometimes")


def test_every_registered_config_names_its_task_revisions():
    """task_revisions reads every experiment's configs at every scale (a flag such as
    ``multi_task`` is not a task), and finds Catch A2C's revision where a config names it."""
    from l2o4rl.experiments import EXPERIMENTS
    from l2o4rl.repro.registry import task_revisions

    found = {
        (name, scale): task_revisions(cfg)
        for name, experiment in EXPERIMENTS.items()
        for scale, cfg in experiment.configs.items()
    }
    assert found[("pipeline_training", "cpu")] == "catch_a2c:1"
    assert found[("open_es_single", "cpu")] == ""  # OpenESConfig.multi_task is a bool
    assert found[("lr_sweep", "cpu")] == "catch_a2c:1"
