"""Optim4RL, LinearOptim and L2L meta-trained from scratch at the authors' settings (SPEC 1.3-1.5).

The authors' meta-training configs (the RLC 2024 version of sail-sg/optim4rl,
``configs/meta_*_{catch,sdl,bdl}.json``) meta-train each learned optimizer with 64 agents on
Catch and 512 on a gridworld (one environment each), K = 4 updates of 20-step A2C rollouts per
outer step, for 5e5 (Catch, 78 outer steps) or 3e7 environment steps (585), from the
networks' own initialisation, and sweep the reset interval m, the meta learning rate and the
meta-gradient clip (global norm 0.5 or element-wise 1.0). The "no pipeline" ablation
(``meta_rlp_*``) never resets its agents. Each trained optimizer then trains fresh A2C agents
with the authors' envs (64 / 512) for the same budget (``lopt_*``), against Adam and RMSProp
(``a2c_*``).

Every sweep candidate is a stored piece (a meta-training run and its evaluation), as is each
untrained control and each baseline learning rate, so that the sweep grows piece by piece.
Each run trains ``select_seeds + eval_seeds`` agents: the best candidate of each learned
optimizer (and the best rate of each baseline) is chosen on the first ``select_seeds`` and
reported on the other ``eval_seeds``, so the luck of the agents it was chosen on does not
inflate what it reports (the luck of its one meta-training run remains: the authors', too,
ran each candidate once).
"""

from __future__ import annotations

import itertools

import jax
import pandas as pd

from ..analysis.curves import final_values, thin
from ..config import Config, ConfigError, config, setting
from ..evaluation import training_curves
from ..meta.gradient import MetaGradientConfig, MetaGradientTrainer
from ..optim.baselines import BASELINES
from ..optim.catalog import INITS, META_GRADIENT, label, untrained_label
from ..optim.checkpoints import flat_meta_params
from ..repro.registry import Experiment, register, updates
from ..tasks import A2C_TASKS, get_task
from .meta_gradient import evaluate_learned, meta_train

# Each learned run: the optimizer and how its agents reset (never: the authors' no-pipeline ablation).
RUNS = {**{name: (name, "pipeline") for name in META_GRADIENT}, "optim4rl_no_pipeline": ("optim4rl", "never")}
RUN_LABELS = {**{name: label(name) for name in META_GRADIENT}, "optim4rl_no_pipeline": "Optim4RL (no pipeline)"}
META_CLIPS = {"global_norm": 0.5, "value": 1.0}  # the authors' two meta-gradient clips
# The authors' grids (meta_rl_catch.json, meta_rl_sdl.json, meta_rl_bdl.json; a2c_grid.json for the baselines).
CATCH_META_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
GRIDWORLD_META_LRS = (1e-5, 3e-5, 1e-4, 3e-4, 1e-3)
GRIDWORLD_RESET_PERIODS = (72, 144, 288, 576)
BASELINE_LRS = (3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4)
CANDIDATE = ["reset_period", "meta_lr", "meta_clip_by", "learning_rate"]  # what a sweep chooses
CURVE_POINTS = 100  # stored points per training curve (block means): 3e7 steps are 2,930 updates


@config
class Optim4RLPaperConfig(Config):
    tasks: tuple[str, ...] = setting(("catch_a2c", "small_dense_long", "big_dense_long"), each_in=A2C_TASKS)
    num_agents: tuple[int, ...] = setting((64, 512, 512), one_per="tasks", doc="meta-training agents, one env each")
    outer_steps: tuple[int, ...] = setting((78, 585, 585), one_per="tasks", doc="meta-training length")
    eval_timesteps: tuple[int, ...] = setting(
        (500_000, 30_000_000, 30_000_000), one_per="tasks", doc="budget of each evaluation run (the task's envs)"
    )
    learned: tuple[str, ...] = setting(tuple(RUNS), each_in=RUNS)
    init: str = setting(
        "random", choices=INITS, doc="the learned optimizers' initial meta-parameters (the authors': flax's init)"
    )
    untrained_controls: bool = setting(True, doc="also evaluate each learned optimizer's initial meta-parameters")
    reset_period_grid: tuple[tuple[int, ...], ...] = setting(
        ((32, 64), GRIDWORLD_RESET_PERIODS, GRIDWORLD_RESET_PERIODS), one_per="tasks", doc="m candidates per task"
    )
    meta_lr_grid: tuple[tuple[float, ...], ...] = setting(
        (CATCH_META_LRS, GRIDWORLD_META_LRS, GRIDWORLD_META_LRS), one_per="tasks", doc="meta lr candidates per task"
    )
    meta_clip_grid: tuple[str, ...] = setting(tuple(META_CLIPS), each_in=META_CLIPS)
    baselines: tuple[str, ...] = setting(("adam", "rmsprop"), each_in=BASELINES)
    baseline_lr_grid: tuple[float, ...] = setting(BASELINE_LRS, doc="every baseline's learning-rate candidates")
    select_seeds: int = setting(5, ge=1, doc="agents the best candidate is chosen on")
    eval_seeds: int = setting(10, ge=1, doc="other agents the chosen candidate is reported on")

    def validate(self) -> None:
        for field in ("reset_period_grid", "meta_lr_grid"):
            if any(value <= 0 for grid in getattr(self, field) for value in grid):
                raise ConfigError(f"Optim4RLPaperConfig.{field} = {getattr(self, field)}: every candidate must be > 0")


def candidates(cfg: Optim4RLPaperConfig, index: int, mode: str):
    """(m, meta lr, clip) of every sweep candidate on task ``index``; m is None without resets."""
    periods = cfg.reset_period_grid[index] if mode == "pipeline" else (None,)
    return itertools.product(periods, cfg.meta_lr_grid[index], cfg.meta_clip_grid)


def optim4rl_paper_settings(cfg: Optim4RLPaperConfig, seed: int):
    """Every candidate meta-trained and evaluated, every untrained control and baseline rate evaluated,
    all on the same ``select_seeds + eval_seeds`` evaluation keys."""
    meta_key, eval_key = jax.random.split(jax.random.key(seed))
    keys = jax.random.split(eval_key, cfg.select_seeds + cfg.eval_seeds)
    curves, finals, meta_curves, arrays = [], [], [], {}

    def record(frame: pd.DataFrame) -> None:
        returns = frame[frame["metric"] == "episode_return"]
        labels = [c for c in returns.columns if c not in ("seed", "update", "env_steps", "metric", "value")]
        final = final_values(returns, labels).rename(columns={"value": "final_return"})
        final.insert(len(labels) + 1, "split", (final["seed"] >= cfg.select_seeds).map({False: "select", True: "eval"}))
        finals.append(final)
        curves.append(thin(returns, CURVE_POINTS))

    for i, task in enumerate(cfg.tasks):
        budget = cfg.eval_timesteps[i]
        for run in cfg.learned:
            name, mode = RUNS[run]
            base = MetaGradientConfig(
                tasks=(task,),
                optimizer=name,
                init=cfg.init,
                num_agents=cfg.num_agents[i],
                resets=mode,
                outer_steps=cfg.outer_steps[i],
            )
            if cfg.untrained_controls and mode == "pipeline":  # the no-pipeline run starts from the same
                trainer = MetaGradientTrainer(base)
                phi0 = trainer.init(meta_key).meta_params  # meta_train's start
                record(evaluate_learned(trainer, task, phi0, keys, budget, optimizer=untrained_label(name)))
            for period, meta_lr, clip in candidates(cfg, i, mode):
                meta_cfg = base.replace(
                    reset_period=period or base.reset_period,  # unused without resets
                    meta_lr=meta_lr,
                    meta_clip=META_CLIPS[clip],
                    meta_clip_by=clip,
                )
                labels = {"optimizer": RUN_LABELS[run], "reset_period": period or 0, "meta_lr": meta_lr}
                trainer, phi, _, outer = meta_train(meta_cfg, meta_key, task=task, **labels, meta_clip_by=clip)
                meta_curves.append(outer)
                arrays[f"{run}@{task}/m{period or 0}/lr{meta_lr:g}/{clip}"] = flat_meta_params(phi)
                record(evaluate_learned(trainer, task, phi, keys, budget, **labels, meta_clip_by=clip))
        for name, rate in itertools.product(cfg.baselines, cfg.baseline_lr_grid):
            optimizer = get_task(task).optimizer(name, learning_rate=rate)
            record(training_curves(task, optimizer, keys, budget, optimizer=label(name), learning_rate=rate))
    tables = {"curves": curves, "finals": finals, "meta_curves": meta_curves}
    return {name: in_order(pd.concat(frames, ignore_index=True)) for name, frames in tables.items() if frames}, arrays


def in_order(table: pd.DataFrame) -> pd.DataFrame:
    """Every candidate column in every piece (NaN where it does not apply), after task and optimizer."""
    lead = ["task", "optimizer", *CANDIDATE]
    return table.reindex(columns=[*lead, *[c for c in table.columns if c not in lead]])


def per_candidate(cfg: Optim4RLPaperConfig) -> list[dict]:
    """One piece per meta-training run (with its evaluation), per untrained control and per
    baseline rate. Each piece holds only its own candidate, and the baselines' pieces carry one
    agent, one outer step and the default init (they use none of them), so that changing a
    grid, the agent count or the init leaves every other stored piece valid."""
    pieces = []
    for i, task in enumerate(cfg.tasks):
        nothing = {
            "tasks": (task,),
            "eval_timesteps": (cfg.eval_timesteps[i],),
            "num_agents": (1,),
            "outer_steps": (1,),
            "init": Optim4RLPaperConfig().init,
            "learned": (),
            "untrained_controls": False,
            "reset_period_grid": ((),),
            "meta_lr_grid": ((),),
            "meta_clip_grid": (),
            "baselines": (),
            "baseline_lr_grid": (),
        }
        meta = {"num_agents": (cfg.num_agents[i],), "outer_steps": (cfg.outer_steps[i],)}
        for run in cfg.learned:
            if cfg.untrained_controls and RUNS[run][1] == "pipeline":
                pieces.append({**nothing, "init": cfg.init, "learned": (run,), "untrained_controls": True})
            for period, meta_lr, clip in candidates(cfg, i, RUNS[run][1]):
                grid = {"reset_period_grid": (() if period is None else (period,),), "meta_lr_grid": ((meta_lr,),)}
                pieces.append(
                    {**nothing, **meta, "init": cfg.init, "learned": (run,), **grid, "meta_clip_grid": (clip,)}
                )
        for name, rate in itertools.product(cfg.baselines, cfg.baseline_lr_grid):
            pieces.append({**nothing, "baselines": (name,), "baseline_lr_grid": (rate,)})
    return pieces


def chosen(finals: pd.DataFrame) -> pd.DataFrame:
    """Per task and optimizer, the candidate with the highest mean final return on the
    ``select`` agents (a non-finite return on any of them rules it out; a tie goes to the first
    in grid order), and its final returns on the ``eval`` agents (one row per agent)."""
    select = finals[finals["split"] == "select"]
    groups = select.groupby(["task", "optimizer", *CANDIDATE], dropna=False, sort=False, as_index=False)
    means = groups["final_return"].agg(lambda returns: returns.mean(skipna=False))
    best = means.sort_values("final_return", ascending=False, kind="stable").drop_duplicates(["task", "optimizer"])
    evaluated = finals[finals["split"] == "eval"].drop(columns="split")
    return best.drop(columns="final_return").merge(evaluated, on=["task", "optimizer", *CANDIDATE], how="left")


def of_chosen(table: pd.DataFrame, picked: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``table`` (curves, meta-training curves) of the candidates in ``picked`` (see
    :func:`chosen`), and of its agents only where ``table`` has agents."""
    keys = ["task", "optimizer", *CANDIDATE, *(["seed"] if "seed" in table else [])]
    return table.merge(picked[keys].drop_duplicates(), on=keys)


def smoke(cfg: Optim4RLPaperConfig) -> dict:
    """Two outer steps, one evaluation update, and the first candidate of every grid."""
    return {
        "outer_steps": (2,) * len(cfg.tasks),
        "eval_timesteps": updates(cfg.tasks, 1),
        "reset_period_grid": tuple(grid[:1] for grid in cfg.reset_period_grid),
        "meta_lr_grid": tuple(grid[:1] for grid in cfg.meta_lr_grid),
        "meta_clip_grid": cfg.meta_clip_grid[:1],
        "baseline_lr_grid": cfg.baseline_lr_grid[:1],
    }


register(
    Experiment(
        name="optim4rl_paper_settings",
        notebook="08_optim4rl_paper_settings",
        figures=("optim4rl_paper_settings",),
        configs={
            "quick": Optim4RLPaperConfig(
                tasks=("catch_a2c",),
                num_agents=(2,),
                outer_steps=(2,),
                eval_timesteps=(2_560,),  # two updates of 64 envs
                learned=("optim4rl", "optim4rl_no_pipeline"),
                reset_period_grid=((2,),),
                meta_lr_grid=((1e-3,),),
                meta_clip_grid=("value",),
                baselines=("adam",),
                baseline_lr_grid=(1e-3, 3e-3),
                select_seeds=1,
                eval_seeds=2,
            ),
            # Catch at the authors' settings; it grows towards the paper's grids (every learned
            # optimizer, five meta learning rates, both clips) piece by piece (notebook 08).
            "cpu": Optim4RLPaperConfig(
                tasks=("catch_a2c",),
                num_agents=(64,),
                outer_steps=(78,),
                eval_timesteps=(500_000,),
                learned=("optim4rl", "optim4rl_no_pipeline"),
                reset_period_grid=((32, 64),),
                meta_lr_grid=((1e-3,),),
                meta_clip_grid=("value",),
            ),
            "paper": Optim4RLPaperConfig(),
        },
        compute=optim4rl_paper_settings,
        pieces=per_candidate,
        smoke=smoke,
    )
)
