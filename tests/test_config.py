import dataclasses

import pytest

from l2o4rl import experiments
from l2o4rl.config import SCALES, Config, ConfigError, check_scale, config, setting


@config
class ToyConfig(Config):
    optimizer: str = setting("adam", choices=("adam", "rmsprop"))
    lr: float = setting(1e-3, gt=0.0)
    steps: int = setting(10, ge=1)
    envs: tuple[str, ...] = setting(("a",), each_in=("a", "b"))

    def validate(self) -> None:
        if self.optimizer == "rmsprop" and self.steps > 100:
            raise ConfigError("ToyConfig.steps must be at most 100 with optimizer='rmsprop'")


def test_defaults_and_frozen():
    cfg = ToyConfig()
    assert (cfg.optimizer, cfg.lr, cfg.steps, cfg.envs) == ("adam", 1e-3, 10, ("a",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0


def test_unknown_key_names_key_and_valid_keys():
    with pytest.raises(ConfigError, match=r"no key 'learning_rate'; valid keys: optimizer, lr, steps, envs"):
        ToyConfig(learning_rate=1.0)


def test_positional_arguments_refused():
    with pytest.raises(ConfigError, match="keyword arguments only"):
        ToyConfig("adam")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"optimizer": "sgd"}, r"ToyConfig.optimizer = 'sgd' is not valid; valid choices: 'adam', 'rmsprop'"),
        ({"lr": 0.0}, r"ToyConfig.lr = 0.0 is not valid; it must be greater than 0.0"),
        ({"steps": 0}, r"ToyConfig.steps = 0 is not valid; it must be at least 1"),
        ({"steps": 2.5}, r"ToyConfig.steps = 2.5 has the wrong type"),
        ({"steps": True}, r"ToyConfig.steps = True has the wrong type"),
        ({"envs": ("a", "c")}, r"ToyConfig.envs contains 'c', which is not valid; valid choices: 'a', 'b'"),
        ({"envs": "ab"}, r"ToyConfig.envs = 'ab' has the wrong type"),
        ({"optimizer": "rmsprop", "steps": 101}, r"steps must be at most 100 with optimizer='rmsprop'"),
    ],
)
def test_bad_values_are_named(changes, message):
    with pytest.raises(ConfigError, match=message):
        ToyConfig(**changes)


def test_int_accepted_for_float_and_list_for_tuple():
    cfg = ToyConfig(lr=1, envs=["a", "b"])
    assert cfg.envs == ("a", "b") and cfg.lr == 1


def test_round_trip_and_replace():
    cfg = ToyConfig(optimizer="rmsprop", envs=("b",))
    assert ToyConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.replace(steps=5).steps == 5
    with pytest.raises(ConfigError, match="no key 'stepz'"):
        cfg.replace(stepz=5)


def test_key_is_stable_and_changes_with_any_value():
    assert ToyConfig().key() == ToyConfig().key()
    keys = {ToyConfig().key(), ToyConfig(lr=2e-3).key(), ToyConfig(steps=11).key(), ToyConfig(envs=("b",)).key()}
    assert len(keys) == 4


@config
class ToyConfigLater(ToyConfig):
    """ToyConfig once a setting has been added to it."""

    first: int = setting(0, ge=0, added_later=True)


def test_a_setting_added_later_keeps_the_stored_keys_at_its_default_only():
    ToyConfigLater.__name__ = "ToyConfig"  # the key hashes the class name: the same class, a later version
    assert ToyConfigLater(lr=2e-3).key() == ToyConfig(lr=2e-3).key()
    assert ToyConfigLater(lr=2e-3, first=1).key() not in {ToyConfig(lr=2e-3).key(), ToyConfigLater().key()}


def test_scale_check():
    assert check_scale("cpu") == "cpu"
    with pytest.raises(ConfigError, match="unknown scale 'laptop'; valid choices: 'quick', 'cpu', 'paper'"):
        check_scale("laptop")


def test_every_experiment_has_a_valid_config_at_every_scale():
    assert experiments.EXPERIMENTS
    for experiment in experiments.EXPERIMENTS.values():
        for scale in SCALES:
            assert isinstance(experiment.config(scale), Config)
    with pytest.raises(ConfigError, match="unknown experiment 'nope'; valid choices"):
        experiments.get("nope")


@config
class PerTaskConfig(Config):
    tasks: tuple[str, ...] = setting(("a", "b"))
    budgets: tuple[int, ...] = setting((1, 2), one_per="tasks")
    scales: tuple[float, ...] = setting((), one_per="tasks", or_empty=True)


def test_one_per_checks_lengths_against_the_named_field():
    assert PerTaskConfig(scales=(1.0, 2.0)).scales == (1.0, 2.0)
    with pytest.raises(
        ConfigError, match=r"PerTaskConfig.budgets has 1 entries; it needs one per entry of tasks \(2: a, b\)"
    ):
        PerTaskConfig(budgets=(1,))
    with pytest.raises(ConfigError, match=r"scales has 3 entries; it needs none or one per entry of tasks"):
        PerTaskConfig(scales=(1.0, 2.0, 3.0))
    with pytest.raises(ConfigError, match="budgets"):
        PerTaskConfig(tasks=("a",))  # shortening tasks alone breaks the pairing too
