"""Gradient distribution (SPEC 1.1, 3.1-2): RL agents' gradients against a supervised net's,
their drift over training, and the identity experiment for gradient processing.

Learners: A2C on an LPG gridworld with each of ``a2c_optimizers`` (SPEC 1.5), PPO on a
MinAtar game, and a small CNN classifier trained with RMSProp (:mod:`l2o4rl.analysis.supervised`).
Each records ``record_gradients`` fixed random coordinates of its raw (unclipped) gradient
at every update. The identity experiment (:mod:`l2o4rl.analysis.identity`) learns to reproduce
sequences of the first A2C optimizer's recorded gradients, and the synthetic control.

Tables: ``runs`` (learner, optimizer, seed, scores), ``coordinates`` (the layer of each
recorded coordinate), ``drift`` (between stages, per seed), ``numbers`` (the claims'
numbers with bootstrap intervals over seeds) and ``identity`` (accuracy per epoch); the
gradients themselves are arrays ``gradients_<run>`` shaped ``(seeds, updates,
coordinates)``, read as one long table with :func:`gradient_samples`.
"""

from __future__ import annotations

from itertools import combinations

import jax
import numpy as np
import pandas as pd

from ..analysis import gradients as stats
from ..analysis import identity
from ..analysis.curves import bootstrap_mean_ci
from ..analysis.supervised import DATASETS, Classifier, load_images, make_classifier_train
from ..config import Config, ConfigError, config, setting
from ..evaluation import RecordedRun, record_agent
from ..optim.baselines import BASELINES
from ..optim.catalog import label
from ..repro.registry import Experiment, register, updates
from ..repro.store import Result
from ..tasks import A2C_TASKS, MINATAR_TASKS, SMALL_A2C_ENVS, get_task

IDENTITY_TEST_FRACTION = 0.2

WIDTH = "log10 range width (decades, 1st-99th percentile of nonzero |g|)"
SMALL = f"share |g| < {stats.SMALL_GRADIENT:g}"
ZERO = "share g = 0"
DRIFT = "drift beginning -> end (W1 of log10(|g| + 1e-8), decades)"


def identity_measure(encoding: str) -> str:
    return f"identity accuracy, {encoding}"


@config
class GradientDistributionConfig(Config):
    record_gradients: int = setting(128, ge=1, doc="gradient coordinates recorded at every update of every run")
    seeds: int = setting(2, ge=1, doc="runs of each learner (vmapped)")
    a2c_task: str = setting("big_dense_long", choices=A2C_TASKS)
    a2c_optimizers: tuple[str, ...] = setting(("rmsprop", "adam"), each_in=BASELINES)
    a2c_timesteps: int = setting(300_000, ge=1)
    a2c_envs: int | None = setting(None, ge=1, doc="envs of the A2C runs; None: the task's (the authors' 512)")
    ppo_task: str = setting("breakout", choices=MINATAR_TASKS)
    ppo_optimizer: str = setting("adam", choices=BASELINES)
    ppo_timesteps: int = setting(500_000, ge=1)
    dataset: str = setting("digits", choices=DATASETS)
    mnist_path: str = setting("", doc="with dataset='mnist': a directory of MNIST IDX files or an .npz")
    supervised_steps: tuple[int, ...] = setting(
        (600,), doc="one CNN run per budget; the first (about where test accuracy levels off) is the claims' reference"
    )
    supervised_batch_size: int = setting(32, ge=1)
    supervised_learning_rate: float = setting(1e-3, gt=0.0)
    identity_epochs: int = setting(1000, ge=1)
    identity_learning_rates: tuple[float, ...] = setting((3e-3, 1e-3, 3e-4, 1e-4))
    identity_seeds: int = setting(5, ge=1)
    identity_batch_size: int = setting(256, ge=1)
    identity_max_sequences: int = setting(8192, ge=2, doc="cap on the gradient sequences used (train + test)")
    identity_sequence_length: int = setting(5, ge=1)
    synthetic_segment_length: int = setting(500, ge=1)

    def validate(self) -> None:
        if self.dataset == "mnist" and not self.mnist_path:
            raise ConfigError("GradientDistributionConfig.mnist_path must name the MNIST files when dataset = 'mnist'")
        if not self.supervised_steps or min(self.supervised_steps) < len(stats.STAGES):
            raise ConfigError(
                f"GradientDistributionConfig.supervised_steps = {self.supervised_steps}: "
                f"give at least one budget, each of {len(stats.STAGES)} steps or more"
            )
        if not self.a2c_optimizers:
            raise ConfigError("GradientDistributionConfig.a2c_optimizers needs at least one optimizer")
        for name, timesteps in ((self.a2c_task, self.a2c_timesteps), (self.ppo_task, self.ppo_timesteps)):
            task = get_task(name)
            updates = task.at(total_timesteps=timesteps, **task.scaled(self.a2c_envs)).num_updates
            if updates < len(stats.STAGES):
                raise ConfigError(
                    f"GradientDistributionConfig: {name} gets {updates} update(s) from {timesteps} steps; "
                    f"it needs at least {len(stats.STAGES)}, one per training stage"
                )
        if not self.identity_learning_rates or min(self.identity_learning_rates) <= 0:
            raise ConfigError(
                f"GradientDistributionConfig.identity_learning_rates = {self.identity_learning_rates} "
                "must be positive and not empty"
            )


def record_classifier(cfg: GradientDistributionConfig, steps: int, keys: jax.Array, seed: int) -> RecordedRun:
    """Train the CNN for ``steps`` for every key; scores are the test accuracy before and after."""
    data = load_images(cfg.dataset, seed, cfg.mnist_path)
    classifier = Classifier(data.num_classes, data.x_train.shape[1:], cfg.record_gradients)
    train = make_classifier_train(classifier, steps, cfg.supervised_batch_size, cfg.supervised_learning_rate)
    _, metrics = jax.jit(jax.vmap(train, in_axes=(0, None)))(keys, data)
    return RecordedRun(
        f"CNN {cfg.dataset}, {steps} steps",
        "supervised",
        label("rmsprop"),
        np.asarray(metrics["gradients"]),
        stats.recorded_layers(classifier),
        "test accuracy",
        np.asarray(metrics["test_accuracy_start"]),
        np.asarray(metrics["test_accuracy"]),
    )


def numbers_rows(per_seed: dict[str, list[float]], source: str, optimizer: str) -> list[dict]:
    """One row per measure: the mean over seeds and its 90% bootstrap interval."""
    rows = []
    for measure, values in per_seed.items():
        mean, low, high = bootstrap_mean_ci(np.asarray(values, np.float64)[:, None])
        rows.append(
            {
                "source": source,
                "optimizer": optimizer,
                "measure": measure,
                "value": mean[0],
                "low": low[0],
                "high": high[0],
                "n": len(values),
            }
        )
    return rows


def spread_and_drift(run: RecordedRun) -> list[dict]:
    per_seed = {
        WIDTH: [stats.log_range_width(g) for g in run.gradients],
        SMALL: [stats.share_below(g) for g in run.gradients],
        ZERO: [float(np.mean(g == 0)) for g in run.gradients],
        DRIFT: [stats.stage_drift(g) for g in run.gradients],
    }
    return numbers_rows(per_seed, run.source, run.optimizer)


def drift_rows(run_index: int, run: RecordedRun) -> list[dict]:
    """Drift between every pair of stages, per seed."""
    num_updates = run.gradients.shape[1]
    stage = stats.stage_of(np.arange(num_updates), num_updates)
    return [
        {
            "run": run_index,
            "source": run.source,
            "optimizer": run.optimizer,
            "seed": seed,
            "from_stage": a,
            "to_stage": b,
            "drift": stats.drift(g[stage == a], g[stage == b]),
        }
        for seed, g in enumerate(run.gradients)
        for a, b in combinations(stats.STAGES, 2)
    ]


def identity_curves(cfg: GradientDistributionConfig, agent_gradients: np.ndarray, key: jax.Array) -> pd.DataFrame:
    """Identity-experiment curves on the agent's gradient sequences and on the synthetic control."""
    synthetic_key, split_key, net_key = jax.random.split(key, 3)
    length = cfg.identity_sequence_length
    synthetic = identity.synthetic_series(synthetic_key, segment_length=cfg.synthetic_segment_length)
    datasets = {
        "agent": np.concatenate([identity.sequences(g, length) for g in agent_gradients]),
        "synthetic": identity.sequences(synthetic, length),
    }
    frames = []
    for name, windows in datasets.items():
        train, test = identity.split_sequences(windows, split_key, IDENTITY_TEST_FRACTION, cfg.identity_max_sequences)
        curves = identity.run_identity(
            train,
            test,
            net_key,
            learning_rates=cfg.identity_learning_rates,
            seeds=cfg.identity_seeds,
            epochs=cfg.identity_epochs,
            batch_size=cfg.identity_batch_size,
        )
        curves.insert(0, "data", name)
        curves["train_sequences"], curves["test_sequences"] = len(train), len(test)
        frames.append(curves)
    return pd.concat(frames, ignore_index=True)


def identity_rows(curves: pd.DataFrame, agent_run: RecordedRun) -> list[dict]:
    rows = []
    best = identity.best_rate_accuracy(curves)
    for (data, encoding), group in best.groupby(["data", "encoding"]):
        source, optimizer = (agent_run.source, agent_run.optimizer) if data == "agent" else ("synthetic control", "-")
        rows += numbers_rows({identity_measure(encoding): list(group["test_accuracy"])}, source, optimizer)
    return rows


def gradient_distribution(cfg: GradientDistributionConfig, seed: int):
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    runs = [
        record_agent(cfg.a2c_task, name, cfg.a2c_timesteps, cfg.record_gradients, keys, cfg.a2c_envs)
        for name in cfg.a2c_optimizers
    ]
    runs.append(record_agent(cfg.ppo_task, cfg.ppo_optimizer, cfg.ppo_timesteps, cfg.record_gradients, keys))
    runs += [record_classifier(cfg, steps, keys, seed) for steps in cfg.supervised_steps]
    curves = identity_curves(cfg, runs[0].gradients, jax.random.fold_in(jax.random.key(seed), 1))

    run_rows = [
        {
            "run": i,
            "source": r.source,
            "kind": r.kind,
            "optimizer": r.optimizer,
            "seed": s,
            "updates": r.gradients.shape[1],
            "score": r.score,
            "score_start": r.score_start[s],
            "score_end": r.score_end[s],
        }
        for i, r in enumerate(runs)
        for s in range(cfg.seeds)
    ]
    coordinates = [
        {"run": i, "coordinate": c, "layer": layer} for i, r in enumerate(runs) for c, layer in enumerate(r.layers)
    ]
    numbers = [row for r in runs for row in spread_and_drift(r)] + identity_rows(curves, runs[0])
    tables = {
        "runs": pd.DataFrame(run_rows),
        "coordinates": pd.DataFrame(coordinates),
        "drift": pd.DataFrame([row for i, r in enumerate(runs) for row in drift_rows(i, r)]),
        "numbers": pd.DataFrame(numbers),
        "identity": curves,
    }
    arrays = {f"gradients_{i}": r.gradients.astype(np.float32) for i, r in enumerate(runs)}
    return tables, arrays


def gradient_samples(result: Result) -> pd.DataFrame:
    """Every recorded gradient value as one row: source, kind, optimizer, seed, update, stage, layer, value."""
    runs = result.tables["runs"].drop_duplicates("run").set_index("run")
    frames = []
    for run, info in runs.iterrows():
        gradients = result.arrays[f"gradients_{run}"]
        updates = gradients.shape[1]
        seed, update, coordinate = (a.ravel() for a in np.meshgrid(*map(np.arange, gradients.shape), indexing="ij"))
        layers = result.tables["coordinates"].query("run == @run").sort_values("coordinate")["layer"].to_numpy()
        frames.append(
            pd.DataFrame(
                {
                    "source": info["source"],
                    "kind": info["kind"],
                    "optimizer": info["optimizer"],
                    "seed": seed,
                    "update": update,
                    "stage": stats.stage_of(update, updates),
                    "layer": layers[coordinate],
                    "value": gradients.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


register(
    Experiment(
        name="gradient_distribution",
        notebook="02_gradient_distribution",
        figures=("gradients_log_histograms", "gradients_by_stage", "gradients_identity"),
        configs={
            "quick": GradientDistributionConfig(
                record_gradients=32,
                seeds=2,
                a2c_optimizers=("rmsprop",),
                a2c_timesteps=9_600,
                a2c_envs=SMALL_A2C_ENVS,
                ppo_timesteps=24_576,
                supervised_steps=(60,),
                identity_epochs=5,
                identity_learning_rates=(3e-3,),
                identity_seeds=2,
                identity_max_sequences=256,
                identity_batch_size=64,
                synthetic_segment_length=50,
            ),
            "cpu": GradientDistributionConfig(
                record_gradients=128,
                seeds=2,
                a2c_timesteps=300_000,
                a2c_envs=SMALL_A2C_ENVS,
                ppo_timesteps=500_000,
                supervised_steps=(600, 2_400),
                identity_epochs=300,
                identity_learning_rates=(3e-3, 1e-3),
                identity_seeds=3,
                identity_batch_size=128,
                identity_max_sequences=4096,
            ),
            "paper": GradientDistributionConfig(
                record_gradients=512,
                seeds=5,
                a2c_timesteps=3_000_000,
                ppo_timesteps=5_000_000,
                supervised_steps=(2_000, 8_000),
                identity_epochs=1000,
                identity_seeds=5,
                identity_max_sequences=65_536,
            ),
        },
        compute=gradient_distribution,
        smoke=lambda cfg: {  # six updates: the beginning, middle and end stages each hold some
            "a2c_timesteps": updates((cfg.a2c_task,), 6, cfg.a2c_envs)[0],
            "ppo_timesteps": updates((cfg.ppo_task,), 6)[0],
            "supervised_steps": (30, 60),
            "identity_epochs": 2,
        },
        revision=1,  # 1: optimizers by label; scores over the last 10% of updates (analysis.final_window)
    )
)
