"""OPEN meta-trained by evolution strategies: single- and multi-task, gridworld, ablations (SPEC 2.3-2.6).

Every experiment here meta-trains learned optimizers with :func:`l2o4rl.meta.es.meta_train`,
then trains fresh agents (evaluation seeds the ES never saw) with the trained optimizers,
their untrained starting points and hand-designed baselines. The baselines' learning rate
is picked per task from ``lr_factors`` x the task's tuned rate on separate seeds, and
tuned Adam's final return is the fitness normaliser.
"""

from __future__ import annotations

from typing import Any

import jax
import numpy as np
import pandas as pd

from ..analysis.curves import es_rows, final_values
from ..config import ConfigError, config, setting
from ..envs import GRIDWORLD_DISTRIBUTIONS
from ..evaluation import learning_rate_sweep, training_curves
from ..meta.es import ESConfig, resumable_meta_train
from ..meta.es_problem import InnerTask
from ..optim.catalog import AUTHORS_LABEL, ES_TRAINED, label, learned, untrained_label
from ..optim.checkpoints import authors_open_optimizer, authors_open_path, flat_meta_params
from ..repro.registry import Experiment, one_update_per_task, register
from ..tasks import INNER_SHAPES, MINATAR_TASKS, TASKS, get_task

BASELINE_NAMES = ("adam", "rmsprop", "lion")
OOS_LEVELS = ("sparse", "dense", "long", "maze")
# The tasks whose published OPEN notebook 05 sets beside ours (notebook 07 runs all MinAtar games').
AUTHORS_TASKS = ("breakout", "gridworld")


@config
class OpenESConfig(ESConfig):
    tasks: tuple[str, ...] = setting(("catch",), each_in=TASKS)
    total_timesteps: tuple[int, ...] = setting((16_384,), one_per="tasks", doc="inner PPO budget, one per task")
    inner: str = setting("task", choices=tuple(INNER_SHAPES), doc="PPO shape of every inner run")
    runs: tuple[str, ...] = setting(("open@catch",), doc="single-task ES runs as 'kind@task' (kind from ES_TRAINED)")
    multi_task: bool = setting(False, doc="also meta-train OPEN on all tasks at once (normalised returns)")
    baselines: tuple[str, ...] = setting(BASELINE_NAMES, each_in=BASELINE_NAMES)
    lr_factors: tuple[float, ...] = setting((1.0,), doc="baseline learning rates tried, as multiples of the task's")
    eval_seeds: int = setting(8, ge=1)
    record_dormancy: bool = setting(False, doc="record dormant-neuron shares in the evaluation runs")
    untrained_controls: bool = setting(True, doc="also evaluate each learned optimizer's ES starting point")
    oos_levels: tuple[str, ...] = setting((), each_in=OOS_LEVELS, doc="gridworld: out-of-support level sets")

    def validate(self) -> None:
        super().validate()
        for run in self.runs:
            kind, _, task = run.partition("@")
            if kind not in ES_TRAINED or task not in self.tasks:
                raise ConfigError(
                    f"OpenESConfig.runs contains {run!r}; each run is 'kind@task' with kind one of "
                    f"{', '.join(ES_TRAINED)} and task one of {', '.join(self.tasks)}"
                )
        if "adam" not in self.baselines:
            raise ConfigError("OpenESConfig.baselines must include 'adam': its return normalises the fitness")


def final_returns(curves: pd.DataFrame) -> pd.Series:
    """Per seed, the return at the last update of each curve."""
    returns = curves[curves["metric"] == "episode_return"]
    return returns[returns["update"] == returns["update"].max()].set_index("seed")["value"]


class Evaluator:
    """Trains evaluation agents on one task (optionally one level per seed) and collects tidy curves."""

    def __init__(self, task: str, cfg: OpenESConfig, steps: int, seed: int, levels: str | None = None, **labels: Any):
        self.task, self.steps, self.labels = task, steps, labels
        # Each level distribution runs in its own env (its grid sets the observation's length).
        env = {"env": levels} if levels else {}
        self.overrides = {**INNER_SHAPES[cfg.inner], "record_dormancy": cfg.record_dormancy, **env}
        root = jax.random.fold_in(jax.random.key(seed), 1)
        self.keys = jax.random.split(root, cfg.eval_seeds)
        level_keys = jax.random.split(jax.random.fold_in(root, 1), cfg.eval_seeds)
        self.env_params = jax.vmap(GRIDWORLD_DISTRIBUTIONS[levels])(level_keys) if levels else None
        self.curves: list[pd.DataFrame] = []

    def run(self, label: str, optimizer, meta_params: Any = None) -> pd.DataFrame:
        curves = training_curves(
            self.task,
            optimizer,
            self.keys,
            self.steps,
            overrides=self.overrides,
            env_params=self.env_params,
            meta_params=meta_params,
            optimizer=label,
            **self.labels,
        )
        self.curves.append(curves)
        return curves

    def baselines(
        self, cfg: OpenESConfig, seed: int, rates: dict[str, float] | None = None
    ) -> tuple[float, dict[str, float]]:
        """Evaluate every baseline at its best swept learning rate (or at the given ``rates``);
        returns tuned Adam's mean final return and the rates used."""
        tune_keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 2), cfg.eval_seeds)
        rates, adam = dict(rates or {}), np.nan
        for name in cfg.baselines:
            if name not in rates:
                candidates = get_task(self.task).default_learning_rate(name) * np.asarray(cfg.lr_factors)
                if len(candidates) > 1:
                    sweep = learning_rate_sweep(
                        self.task,
                        name,
                        candidates,
                        tune_keys,
                        self.steps,
                        overrides=INNER_SHAPES[cfg.inner],
                        env_params=self.env_params,
                    )[..., -1]
                    candidates = candidates[[int(np.nanargmax(np.nanmean(sweep, axis=1)))]]
                rates[name] = float(candidates[0])
            task = get_task(self.task)
            run = task.at(total_timesteps=self.steps, **self.overrides)
            curves = self.run(label(name), task.optimizer(name, run, learning_rate=rates[name]))
            if name == "adam":
                adam = float(final_returns(curves).mean())
        return adam, rates

    def learned(self, kind: str, meta_params: Any, label: str) -> pd.DataFrame:
        # meta_params already masked: every OPEN variant shares one compiled evaluation.
        return self.run(label, learned(kind).masked_build, meta_params)

    def authors(self, task: str) -> None:
        """The authors' published OPEN for ``task``, where it is one of :data:`AUTHORS_TASKS` and present."""
        if task in AUTHORS_TASKS and authors_open_path(task).is_file():
            self.run(AUTHORS_LABEL, *authors_open_optimizer(task))


def normaliser(adam_return: float, task: str, steps: int) -> float:
    """Fitness divides by |Adam's return| (floored) so that a negative Adam return never flips the ranking.
    Without a finished episode there is no return to divide by: a budget too small for the task."""
    if not np.isfinite(adam_return):
        episode = get_task(task).episode_steps
        raise ConfigError(
            f"OpenESConfig.total_timesteps: Adam finished no episode of {task!r} in {steps:,} steps, so its "
            f"return cannot normalise the ES fitness; give {task!r} a budget in which episodes end"
            + (f" (each lasts {episode:,} steps per env)" if episode else "")
        )
    return max(abs(adam_return), 1e-3)


def fitness_thirds(es: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Per ES run (``by``): the population's mean fitness over its first and its last third of
    generations, and the members whose fitness was not finite."""

    def third(f: pd.Series) -> int:
        return max(len(f) // 3, 1)

    return es.groupby(by, sort=False).agg(
        first_gens=("fitness_mean", lambda f: f.iloc[: third(f)].mean()),
        last_gens=("fitness_mean", lambda f: f.iloc[-third(f) :].mean()),
        nan_members=("nan_members", "sum"),
    )


def open_es(cfg: OpenESConfig, seed: int):
    """Meta-train each learned optimizer on each task (and OPEN on all tasks); evaluate against baselines."""
    es_tables, curves, arrays, inner, baselines = [], [], {}, [], []
    evaluators = {}
    for task, steps in zip(cfg.tasks, cfg.total_timesteps):
        evaluator = evaluators[task] = Evaluator(task, cfg, steps, seed)
        adam, rates = evaluator.baselines(cfg, seed)
        inner.append(
            InnerTask(task, {"total_timesteps": steps, **INNER_SHAPES[cfg.inner]}, normaliser(adam, task, steps))
        )
        baselines.append({"task": task, "adam_return": adam, **{f"lr_{k}": v for k, v in rates.items()}})
        for kind in (run.partition("@")[0] for run in cfg.runs if run.endswith(f"@{task}")):
            result = resumable_meta_train(f"{kind}@{task}", kind, [inner[-1]], cfg, seed)
            es_tables.append(es_rows(result.metrics, optimizer=label(kind), trained_on=task))
            arrays[f"{kind}@{task}"] = flat_meta_params(result.mean)
            evaluator.learned(kind, result.mean, label(kind))
            if cfg.untrained_controls:
                evaluator.learned(kind, result.start, untrained_label(kind))
        evaluator.authors(task)
    if cfg.multi_task and len(inner) > 1:
        result = resumable_meta_train("open_multi@multi", "open_multi", inner, cfg, seed)
        es_tables.append(es_rows(result.metrics, optimizer=label("open_multi"), trained_on="+".join(cfg.tasks)))
        arrays["open_multi@multi"] = flat_meta_params(result.mean)
        for evaluator in evaluators.values():
            evaluator.learned("open_multi", result.mean, label("open_multi"))
    for evaluator in evaluators.values():
        curves.extend(evaluator.curves)
    return {
        "es": pd.concat(es_tables, ignore_index=True),
        "curves": pd.concat(curves, ignore_index=True),
        "baselines": pd.DataFrame(baselines),
    }, arrays


def open_es_gridworld(cfg: OpenESConfig, seed: int):
    """Learned optimizers meta-trained on rand_all with antithetic task sampling; evaluated in and out of support."""
    (task,), (steps,) = cfg.tasks, cfg.total_timesteps
    inner = InnerTask(task, {"total_timesteps": steps, **INNER_SHAPES[cfg.inner]}, levels="rand_all")
    es_tables, arrays, results = [], {}, {}
    for kind in (run.partition("@")[0] for run in cfg.runs):
        results[kind] = resumable_meta_train(f"{kind}@rand_all", kind, [inner], cfg, seed, antithetic_tasks=True)
        es_tables.append(es_rows(results[kind].metrics, optimizer=label(kind), trained_on="rand_all"))
        arrays[f"{kind}@rand_all"] = flat_meta_params(results[kind].mean)
    curves, rates = [], None
    for levels in ("rand_all",) + cfg.oos_levels:  # baselines tuned on the training distribution only
        evaluator = Evaluator(task, cfg, steps, seed, levels=levels, level_set=levels)
        _, rates = evaluator.baselines(cfg, seed, rates)
        for kind, result in results.items():
            evaluator.learned(kind, result.mean, label(kind))
            evaluator.learned(kind, result.start, untrained_label(kind))
        evaluator.authors(task)
        curves.extend(evaluator.curves)
    tables = {
        "es": pd.concat(es_tables, ignore_index=True),
        "curves": pd.concat(curves, ignore_index=True),
        "baselines": pd.DataFrame([{"task": task, **{f"lr_{k}": v for k, v in rates.items()}}]),
    }
    return tables, arrays


SMALL_CATCH = dict(
    tasks=("catch",), total_timesteps=(16_384,), inner="small", init="random", sigma=0.1, es_learning_rate=0.1
)
QUICK = dict(population_size=2, generations=2, checkpoint_every=1, eval_seeds=2, inner="small", init="random")


def on(task: str, *kinds: str) -> tuple[str, ...]:
    return tuple(f"{kind}@{task}" for kind in kinds)


ABLATIONS = (
    "open",
    "no_features",
    "no_training_proportion",
    "no_batch_proportion",
    "no_dormancy",
    "no_layer_proportion",
    "no_stochasticity",
)

register(
    Experiment(
        name="open_es_single",
        notebook="05_open_es",
        figures=("open_es_fitness", "open_es_single_task"),
        configs={
            "quick": OpenESConfig(**QUICK, tasks=("catch",), total_timesteps=(2_048,), baselines=("adam",)),
            "cpu": OpenESConfig(
                **{**SMALL_CATCH, "tasks": ("catch", "cartpole"), "total_timesteps": (16_384, 16_384)},
                runs=on("catch", "open", "opt", "no_features") + on("cartpole", "open"),
                population_size=16,
                generations=12,
                checkpoint_every=4,
                multi_task=True,
                lr_factors=(1.0, 3.0, 10.0),
                eval_seeds=8,
            ),
            "paper": OpenESConfig(
                tasks=MINATAR_TASKS + ("ant",),
                total_timesteps=(10_000_000,) * 4 + (50_000_000,),
                runs=tuple(r for t in MINATAR_TASKS + ("ant",) for r in on(t, "open", "opt", "no_features")),
                multi_task=True,
                eval_seeds=16,
            ),
        },
        compute=open_es,
        smoke=lambda cfg: {"generations": 1, "checkpoint_every": 1, **one_update_per_task(cfg)},
        # 1: the multi-task OPEN is the larger network (fidelity item 13); 2: the feature-major OPEN
        # (1fe710b) reorders its float sums, which flips sampled actions, and the ES goes elsewhere
        revision=2,
    )
)

register(
    Experiment(
        name="open_es_ablations",
        notebook="05_open_es",
        figures=("open_es_ablations",),
        configs={
            "quick": OpenESConfig(
                **QUICK,
                tasks=("catch",),
                total_timesteps=(2_048,),
                runs=on("catch", "open", "no_stochasticity"),
                baselines=("adam",),
                record_dormancy=True,
                untrained_controls=False,
            ),
            "cpu": OpenESConfig(
                **SMALL_CATCH,
                population_size=16,
                generations=12,
                checkpoint_every=4,
                runs=on("catch", *ABLATIONS),
                baselines=("adam",),
                lr_factors=(1.0, 3.0, 10.0),
                eval_seeds=8,
                record_dormancy=True,
                untrained_controls=False,
            ),
            "paper": OpenESConfig(
                tasks=("breakout",),
                total_timesteps=(10_000_000,),
                runs=on("breakout", *ABLATIONS),
                baselines=("adam",),
                eval_seeds=16,
                record_dormancy=True,
                untrained_controls=False,
            ),
        },
        compute=open_es,
        smoke=lambda cfg: {"generations": 1, "checkpoint_every": 1, **one_update_per_task(cfg)},
        # 1: the PPO of the fidelity commit (Catch runs, Adam's normaliser too, moved); 2: the
        # feature-major OPEN (1fe710b) reorders its float sums, and the ES goes elsewhere
        revision=2,
    )
)

register(
    Experiment(
        name="open_es_gridworld",
        notebook="05_open_es",
        figures=("open_es_gridworld",),
        configs={
            "quick": OpenESConfig(
                **QUICK,
                tasks=("gridworld",),
                total_timesteps=(2_048,),
                runs=on("gridworld", "open"),
                oos_levels=("sparse",),
                baselines=("adam",),
            ),
            "cpu": OpenESConfig(
                tasks=("gridworld",),
                total_timesteps=(8_192,),
                runs=on("gridworld", "open"),
                inner="small",
                init="random",
                sigma=0.1,
                es_learning_rate=0.1,
                population_size=8,
                generations=6,
                checkpoint_every=3,
                baselines=("adam",),
                lr_factors=(1.0, 10.0, 100.0),
                eval_seeds=4,
                oos_levels=OOS_LEVELS,
            ),
            "paper": OpenESConfig(
                tasks=("gridworld",),
                total_timesteps=(30_000_000,),
                runs=on("gridworld", "open"),
                baselines=("adam",),
                eval_seeds=16,
                oos_levels=OOS_LEVELS,
            ),
        },
        compute=open_es_gridworld,
        smoke=lambda cfg: {"generations": 1, "checkpoint_every": 1, **one_update_per_task(cfg)},
        revision=1,  # GROOVE's observation and fixed starts; a time-out ends the return (fidelity items 5, 12)
    )
)


def final_scores(curves: pd.DataFrame, group: str = "task", divide_by: dict[str, float] | None = None) -> pd.DataFrame:
    """Per ``group`` (task or level set), optimizer and seed: the final return (mean over the
    last 10% of updates) and it divided by |tuned Adam's mean final return| in that group, or
    by ``divide_by[group]`` where given (e.g. the authors' Adam returns, SPEC 2.4)."""
    table = final_values(curves, [group, "optimizer"]).rename(columns={"value": "return"})
    if divide_by is None:
        divide_by = table[table["optimizer"] == "Adam"].groupby(group)["return"].mean()
    table["normalised"] = table["return"] / table[group].map(divide_by).abs().clip(lower=1e-3)
    return table


def pooled_es_runs(results: dict[int, Any], table: str = "curves") -> pd.DataFrame:
    """One table from several ES runs of an experiment (``{es_seed: Result}``): each row keeps
    its ``es_seed``, and ``seed`` becomes one id per (ES run, evaluation agent),
    ``es_seed * 1000 + seed``, so that statistics over seeds pool the runs' agents."""
    pooled = pd.concat(
        [result.tables[table].assign(es_seed=es_seed) for es_seed, result in results.items()], ignore_index=True
    )
    pooled["seed"] = pooled["es_seed"] * 1000 + pooled["seed"]
    return pooled


def es_seed_of(seed: pd.Series) -> pd.Series:
    """The ES run of a :func:`pooled_es_runs` seed id."""
    return seed // 1000


def score_matrices(scores: pd.DataFrame, group: str = "task") -> dict[str, np.ndarray]:
    """Optimizer -> ``(seeds, groups)`` normalised scores, for :mod:`l2o4rl.analysis.aggregate`; only
    optimizers evaluated on every group (the authors' checkpoints exist for some tasks only)."""
    wide = scores.pivot_table(index=["optimizer", "seed"], columns=group, values="normalised")
    matrices = {name: wide.loc[name].to_numpy() for name in dict.fromkeys(scores["optimizer"])}
    return {name: m for name, m in matrices.items() if not np.isnan(m).any()}
