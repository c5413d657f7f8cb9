"""OPEN with its authors' meta-trained weights, at the paper's budgets (SPEC 2.4, 2.5, 2.7).

The authors' published optimizers (``optim.checkpoints.AUTHORS_OPEN``; a user downloads them,
the project does not ship them) train fresh PPO agents on the four MinAtar games for 1e7
steps each, the paper's budget, against tuned Adam (the authors' settings) and RMSProp and
Lion at the best rate of a learning-rate sweep stored beside them. Every (game, optimizer)
is a stored piece of 40-100 minutes on 2 cores, so a run cut off loses one piece at most.
``ant_OPEN.npy`` trains agents on Brax ant the same way (experiment ``open_authors_ant``), at
a tenth of the paper's 5e7 steps on a CPU.

``gridworld_OPEN.npy`` trains agents on fresh levels of the distribution it was meta-trained
on (``rand_all``) and of the out-of-support level sets, against Adam at the authors' tuned
settings: one stored piece per (level set, optimizer).

The same gridworld optimizer trains Craftax-Classic agents zero-shot (SPEC 2.5): Craftax's own PPO,
whose 3 x 512 networks and 17 actions the optimizer never met, against Adam at the best rate of a
stored sweep; one stored piece per optimizer.
"""

from __future__ import annotations

import jax
import pandas as pd

from ..config import Config, config, setting
from ..envs import GRIDWORLD_DISTRIBUTIONS
from ..evaluation import training_curves
from ..optim.catalog import AUTHORS_LABEL, AUTHORS_MULTI_LABEL, label
from ..optim.checkpoints import AUTHORS_OPEN, authors_open_optimizer, authors_open_path
from ..repro.registry import Experiment, one_update_per_task, register, updates
from ..tasks import MINATAR_TASKS, get_task
from .inner_loop import LR_FACTORS, best_learning_rates, sweep_table

# The authors' vector each learned optimizer loads: None for the one meta-trained on the game
# itself, or the larger one meta-trained on several tasks at once.
AUTHORS_VECTORS = {"open_authors": None, "open_multi_authors": "multi"}
AUTHORS_LABELS = {"open_authors": AUTHORS_LABEL, "open_multi_authors": AUTHORS_MULTI_LABEL}
SWEPT = ("rmsprop", "lion")  # the authors publish tuned Adam settings only
OPTIMIZERS = (*AUTHORS_VECTORS, "adam", *SWEPT)


ANT = "ant"  # OPEN's Brax task (SPEC 2.4), the one with a continuous actor


@config
class AuthorsOpenConfig(Config):
    tasks: tuple[str, ...] = setting(MINATAR_TASKS, each_in=(*MINATAR_TASKS, ANT))
    total_timesteps: tuple[int, ...] = setting(
        (10_000_000,) * len(MINATAR_TASKS), one_per="tasks", doc="one budget per task"
    )
    optimizers: tuple[str, ...] = setting(OPTIMIZERS, each_in=OPTIMIZERS)
    seeds: int = setting(4, ge=1)
    sweep_timesteps: int = setting(2_000_000, ge=1, doc="budget of each RMSProp / Lion learning-rate sweep run")
    lr_factors: tuple[float, ...] = setting(LR_FACTORS, doc="swept rates, as multiples of the default")
    sweep_seeds: int = setting(2, ge=1, doc="seeds per swept rate (not the evaluation seeds)")
    num_envs: int | None = setting(
        None, ge=1, added_later=True, doc="envs per agent (None: the task's); quick runs shrink ant's 2048"
    )

    def vectors(self) -> list[str]:
        """The published vectors (keys of ``AUTHORS_OPEN``) this config trains with."""
        return sorted({vector_of(o, t) for o in self.optimizers if o in AUTHORS_VECTORS for t in self.tasks})

    @property
    def overrides(self) -> dict[str, int]:
        return {} if self.num_envs is None else {"num_envs": self.num_envs}


def vector_of(optimizer: str, task: str) -> str:
    return AUTHORS_VECTORS[optimizer] or task


def missing_vectors(cfg: AuthorsOpenConfig | AuthorsGridworldConfig | AuthorsCraftaxConfig) -> list[str]:
    """The paths of the published vectors ``cfg`` trains with that this machine lacks."""
    return [str(authors_open_path(name)) for name in cfg.vectors() if not authors_open_path(name).is_file()]


def checksums(
    cfg: AuthorsOpenConfig | AuthorsGridworldConfig | AuthorsCraftaxConfig, data_dir
) -> tuple[dict, dict[str, str]]:
    """A result records the checksum of every published vector behind it (the files need not be here)."""
    return {}, {f"{name}_OPEN.npy": AUTHORS_OPEN[name] for name in cfg.vectors()}


def authors_open_training(cfg: AuthorsOpenConfig, seed: int):
    """Every (task, optimizer): ``cfg.seeds`` agents (vmapped; the same seeds for every
    optimizer), after a learning-rate sweep on other seeds for RMSProp and Lion."""
    overrides = cfg.overrides
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    sweep_keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 1), cfg.sweep_seeds)
    curves, sweeps, rates = [], [], []
    for task, steps in zip(cfg.tasks, cfg.total_timesteps):
        for name in cfg.optimizers:
            if name in AUTHORS_VECTORS:
                optimizer, meta_params = authors_open_optimizer(vector_of(name, task))
                display = AUTHORS_LABELS[name]
                curves.append(
                    training_curves(
                        task, optimizer, keys, steps, overrides=overrides, meta_params=meta_params, optimizer=display
                    )
                )
                continue
            rate = get_task(task).baseline_learning_rate(name)  # Adam's: the authors' tuned one
            if name in SWEPT:
                sweep, rate = swept_rate(task, name, cfg, sweep_keys, overrides)
                sweeps.append(sweep)
            rates.append({"task": task, "optimizer": label(name), "learning_rate": rate})
            run = get_task(task).at(total_timesteps=steps, **overrides)
            optimizer = get_task(task).optimizer(name, run, learning_rate=rate)
            curves.append(training_curves(task, optimizer, keys, steps, overrides=overrides, optimizer=label(name)))
    curves = pd.concat(curves, ignore_index=True)
    # Returns only: the scores and figures use nothing else, and all six metrics of 1,220
    # updates x 4 seeds would store 1.6 MB per piece.
    tables = {"curves": curves[curves["metric"] == "episode_return"].reset_index(drop=True)}
    if rates:
        tables["rates"] = pd.DataFrame(rates)
    if sweeps:
        tables["sweep"] = pd.concat(sweeps, ignore_index=True)
    return tables, {}


def swept_rate(
    task: str, name: str, cfg: AuthorsOpenConfig | AuthorsCraftaxConfig, keys: jax.Array, overrides: dict | None = None
) -> tuple[pd.DataFrame, float]:
    """Hand-designed ``name``'s learning-rate sweep on ``task`` (``cfg``'s sweep settings, one run
    per key, the task's config with ``overrides``) and its best rate."""
    sweep = sweep_table(task, name, cfg.lr_factors, keys, cfg.sweep_timesteps, overrides=overrides)
    return sweep, float(best_learning_rates(sweep)["learning_rate"].iloc[0])


SWEEP_FIELDS = ("sweep_timesteps", "lr_factors", "sweep_seeds")


def default_sweep(config_class: type[Config]) -> dict:
    """``config_class``'s default sweep settings: what the pieces of an optimizer that is not swept
    carry whatever the config's, so that retuning a sweep leaves their stored results valid."""
    return {field: getattr(config_class(), field) for field in SWEEP_FIELDS}


def per_task_and_optimizer(cfg: AuthorsOpenConfig) -> list[dict]:
    """One piece per (task, optimizer): 40-100 minutes each on 2 cores at ``cpu`` scale; see
    :func:`default_sweep` for the unswept ones."""
    unswept = default_sweep(AuthorsOpenConfig)
    return [
        {"tasks": (task,), "total_timesteps": (steps,), "optimizers": (name,), **({} if name in SWEPT else unswept)}
        for task, steps in zip(cfg.tasks, cfg.total_timesteps)
        for name in cfg.optimizers
    ]


def smoke(cfg: AuthorsOpenConfig) -> dict:
    """One update per task, and sweeps as short (Freeway's episodes need 20 updates to end)."""
    return {**one_update_per_task(cfg), "sweep_timesteps": max(updates(cfg.tasks, 1))}


register(
    Experiment(
        name="open_authors_minatar",
        notebook="07_open_authors",
        figures=("open_authors_minatar",),
        configs={
            "quick": AuthorsOpenConfig(
                tasks=("breakout",),
                total_timesteps=(16_384,),
                seeds=2,
                sweep_timesteps=16_384,
                lr_factors=(0.3, 1.0),
                sweep_seeds=1,
            ),
            # The paper's four games, each optimizer a stored piece of 10-100 minutes on 2 cores
            "cpu": AuthorsOpenConfig(),
            "paper": AuthorsOpenConfig(seeds=16, sweep_timesteps=10_000_000, sweep_seeds=3),
        },
        compute=authors_open_training,
        inputs=checksums,
        pieces=per_task_and_optimizer,
        smoke=smoke,
        requires=missing_vectors,
    )
)


# The paper trains ant for 5e7 steps (2048 envs x 10 steps); on 2 cores an update of 4 agents takes
# about 10.5 s (7 hours a run), so `cpu` stops at a tenth of that, a piece per optimizer of under an hour.
ANT_OPTIMIZERS = ("open_authors", "adam")  # the multi-task vector was meta-trained on MinAtar only

register(
    Experiment(
        name="open_authors_ant",
        notebook="07_open_authors",
        figures=("open_authors_ant",),
        configs={
            # 16 envs x 30 updates: exercises the code only (ant episodes that fall over end early)
            "quick": AuthorsOpenConfig(
                tasks=(ANT,), total_timesteps=(4_800,), optimizers=ANT_OPTIMIZERS, seeds=2, num_envs=16
            ),
            "cpu": AuthorsOpenConfig(tasks=(ANT,), total_timesteps=(5_000_000,), optimizers=ANT_OPTIMIZERS),
            "paper": AuthorsOpenConfig(
                tasks=(ANT,),
                total_timesteps=(50_000_000,),
                optimizers=(*ANT_OPTIMIZERS, *SWEPT),
                seeds=16,
                sweep_timesteps=10_000_000,
                sweep_seeds=3,
            ),
        },
        compute=authors_open_training,
        inputs=checksums,
        pieces=per_task_and_optimizer,
        smoke=smoke,
        requires=missing_vectors,
    )
)


LEVEL_SETS = tuple(GRIDWORLD_DISTRIBUTIONS)  # rand_all (in distribution), then the out-of-support sets
GRIDWORLD_OPTIMIZERS = ("open_authors", "adam")


@config
class AuthorsGridworldConfig(Config):
    implicit_tasks = ("gridworld",)  # not a field: the store's keys stay; a task's revisions still apply
    level_sets: tuple[str, ...] = setting(LEVEL_SETS, each_in=LEVEL_SETS)
    total_timesteps: int = setting(30_000_000, ge=1, doc="PPO budget of each agent (the paper's 3e7)")
    optimizers: tuple[str, ...] = setting(GRIDWORLD_OPTIMIZERS, each_in=GRIDWORLD_OPTIMIZERS)
    seeds: int = setting(16, ge=1, doc="agents per level set, each on a fresh level of its own")
    first_seed: int = setting(0, ge=0, added_later=True, doc="index of the first agent (a piece's group of them)")
    piece_seeds: int | None = setting(
        None, ge=1, added_later=True, doc="agents per stored piece (None: all of a level set's in one)"
    )

    def vectors(self) -> list[str]:
        return ["gridworld"] if "open_authors" in self.optimizers else []


def level_set_agents(level_set: str, seeds: int, seed: int, first_seed: int = 0) -> tuple[jax.Array, object]:
    """The keys and levels of agents ``first_seed, ..., first_seed + seeds - 1`` of one level set:
    each agent the same for every optimizer and every piece, whichever other level sets a config
    names and whichever group of agents holds it."""
    root = jax.random.fold_in(jax.random.key(seed), LEVEL_SETS.index(level_set))
    agent_root, level_root = jax.random.split(root)
    # A split's i-th key does not depend on how many are drawn (JAX's partitionable threefry).
    agents = slice(first_seed, first_seed + seeds)
    levels = jax.vmap(GRIDWORLD_DISTRIBUTIONS[level_set])(jax.random.split(level_root, first_seed + seeds)[agents])
    return jax.random.split(agent_root, first_seed + seeds)[agents], levels


def authors_open_gridworld(cfg: AuthorsGridworldConfig, seed: int):
    """Every (level set, optimizer): ``cfg.seeds`` agents, one fresh level each (vmapped)."""
    trainers = []  # (optimizer, meta-parameters, label): the same on every level set
    for name in cfg.optimizers:
        if name == "open_authors":
            trainers.append((*authors_open_optimizer("gridworld"), AUTHORS_LABEL))
        else:
            task = get_task("gridworld")
            trainers.append((task.optimizer(name, task.at(total_timesteps=cfg.total_timesteps)), None, label(name)))
    curves = []
    for level_set in cfg.level_sets:
        keys, levels = level_set_agents(level_set, cfg.seeds, seed, cfg.first_seed)
        for optimizer, meta_params, display in trainers:
            table = training_curves(
                "gridworld",
                optimizer,
                keys,
                cfg.total_timesteps,
                overrides={"env": level_set},  # each level set's own env: its grid sets the observation's length
                env_params=levels,
                meta_params=meta_params,
                optimizer=display,
                level_set=level_set,
            )
            table = table[table["metric"] == "episode_return"]
            curves.append(table.assign(seed=table["seed"] + cfg.first_seed))  # the agent's index, not the piece's
    return {"curves": pd.concat(curves, ignore_index=True)}, {}


def per_level_set_optimizer_and_agents(cfg: AuthorsGridworldConfig) -> list[dict]:
    """One piece per (level set, optimizer, group of ``piece_seeds`` agents). A piece's config is
    the same whichever config it came from (``piece_seeds`` is reset), so a config with more
    agents reuses the pieces of one with fewer."""
    size = cfg.piece_seeds or cfg.seeds
    return [
        {
            "level_sets": (level_set,),
            "optimizers": (name,),
            "seeds": min(size, cfg.seeds - first),
            "first_seed": cfg.first_seed + first,
            "piece_seeds": None,
        }
        for level_set in cfg.level_sets
        for name in cfg.optimizers
        for first in range(0, cfg.seeds, size)
    ]


register(
    Experiment(
        name="open_authors_gridworld",
        notebook="07_open_authors",
        figures=("open_authors_gridworld",),
        configs={
            "quick": AuthorsGridworldConfig(level_sets=("rand_all", "maze"), total_timesteps=40_960, seeds=2),
            # A tenth of the paper's 3e7 steps (the authors' OPEN reached 0.97 in 2e6): a piece of 8
            # agents took 4-18 minutes on 2 cores, 100 minutes for all ten. The paper's 3e7 with 8
            # agents in pieces of 4 (`piece_seeds=4`: OPEN on rand_all about 30 minutes a piece alone,
            # about 7 hours for the 20) is being stored piece by piece; this config moves there once all are.
            "cpu": AuthorsGridworldConfig(total_timesteps=3_000_000, seeds=8),
            "paper": AuthorsGridworldConfig(),
        },
        compute=authors_open_gridworld,
        inputs=checksums,
        pieces=per_level_set_optimizer_and_agents,
        smoke=lambda cfg: {"total_timesteps": get_task("gridworld").config.steps_per_update},
        requires=missing_vectors,
    )
)


CRAFTAX_OPTIMIZERS = ("open_authors", "adam")


@config
class AuthorsCraftaxConfig(Config):
    implicit_tasks = ("craftax",)
    total_timesteps: int = setting(1_000_000, ge=1, doc="PPO budget of each agent (Craftax's 1M benchmark)")
    num_envs: int = setting(256, ge=1, doc="envs per agent (Craftax's 1M benchmark: 256)")
    hidden: int = setting(512, ge=1, doc="width of each network's three hidden layers (Craftax's PPO: 512)")
    optimizers: tuple[str, ...] = setting(CRAFTAX_OPTIMIZERS, each_in=CRAFTAX_OPTIMIZERS)
    seeds: int = setting(8, ge=1)
    sweep_timesteps: int = setting(1_000_000, ge=1, doc="budget of each Adam learning-rate sweep run")
    # Craftax's 2e-4 was tuned for 1e9 steps: a 1e6 budget may want a larger rate, so the sweep reaches 6e-3.
    lr_factors: tuple[float, ...] = setting(
        (0.3, 1.0, 3.0, 10.0, 30.0), doc="Adam's swept rates, as multiples of Craftax's 2e-4"
    )
    sweep_seeds: int = setting(2, ge=1, doc="seeds per swept rate (not the evaluation seeds)")

    def vectors(self) -> list[str]:
        return ["gridworld"] if "open_authors" in self.optimizers else []

    @property
    def overrides(self) -> dict[str, int]:
        return {"num_envs": self.num_envs, "hidden": self.hidden}


def authors_open_craftax(cfg: AuthorsCraftaxConfig, seed: int):
    """The gridworld OPEN, zero-shot, and Adam at the best rate of a sweep on other seeds: ``cfg.seeds``
    agents each (vmapped; the same seeds for both)."""
    keys = jax.random.split(jax.random.key(seed), cfg.seeds)
    sweep_keys = jax.random.split(jax.random.fold_in(jax.random.key(seed), 1), cfg.sweep_seeds)
    curves, tables = [], {}
    for name in cfg.optimizers:
        if name == "open_authors":
            (optimizer, meta_params), display = authors_open_optimizer("gridworld"), AUTHORS_LABEL
        else:
            sweep, rate = swept_rate("craftax", name, cfg, sweep_keys, cfg.overrides)
            tables["sweep"] = sweep
            tables["rates"] = pd.DataFrame([{"task": "craftax", "optimizer": label(name), "learning_rate": rate}])
            optimizer, meta_params, display = get_task("craftax").optimizer(name, learning_rate=rate), None, label(name)
        table = training_curves(
            "craftax",
            optimizer,
            keys,
            cfg.total_timesteps,
            overrides=cfg.overrides,
            meta_params=meta_params,
            optimizer=display,
        )
        curves.append(table[table["metric"] == "episode_return"])
    return {"curves": pd.concat(curves, ignore_index=True), **tables}, {}


register(
    Experiment(
        name="open_authors_craftax",
        notebook="07_open_authors",
        figures=("open_authors_craftax",),
        configs={
            # Each env still runs 512 steps, long enough for episodes to end (the scores need them).
            "quick": AuthorsCraftaxConfig(
                total_timesteps=4_096,
                num_envs=8,
                hidden=16,
                seeds=2,
                sweep_timesteps=4_096,
                lr_factors=(1.0, 10.0),
                sweep_seeds=1,
            ),
            "cpu": AuthorsCraftaxConfig(hidden=64, seeds=4),
            "paper": AuthorsCraftaxConfig(seeds=16, sweep_seeds=3),
        },
        compute=authors_open_craftax,
        inputs=checksums,
        pieces=lambda cfg: [
            {"optimizers": (o,), **({} if o == "adam" else default_sweep(AuthorsCraftaxConfig))} for o in cfg.optimizers
        ],
        smoke=lambda cfg: dict.fromkeys(
            ("total_timesteps", "sweep_timesteps"), cfg.num_envs * get_task("craftax").config.num_steps
        ),
        requires=missing_vectors,
    )
)
