# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The inner loop: PPO and A2C with hand-designed optimizers
#
# Every learned optimizer in this project is judged against agents trained with Adam and
# RMSProp, so those agents must be right. This notebook trains them on one task of every
# kind the papers use:
#
# | task | agent | network | source |
# |---|---|---|---|
# | Catch (bsuite) | PPO | 2x64 tanh MLPs | gymnax |
# | small_dense_long (LPG gridworld) | A2C, rollout 20, gamma 0.995 | MLP 32 | Optim4RL (SPEC 1.5) |
# | Breakout-MinAtar | PPO, 64 envs x 128 steps, 4 x 8 minibatches | 2x64 relu MLPs | OPEN (SPEC 2.4) |
# | Brax inverted_pendulum | PPO as brax.training runs it: normalised obs, rewards x 10, element-wise clip 1 | policy 4x32, value 5x256, swish | SPEC 1.6 |
#
# Each baseline runs at its tuned learning rate: OPEN's published Adam settings on Breakout
# (SPEC 2.4), elsewhere the best rate of the stored sweep at the end of this notebook.
# Curves are the mean over seeds of the return of each env's last finished episode, with
# 90% bootstrap intervals; the dashed line is a uniformly random policy.

# %% tags=["parameters"]
scale = "cpu"  # quick | cpu | paper
seed = 0
recompute = False  # True: ignore stored results in data/ and recompute; "never": use them only, computing nothing
data_dir = "../data"
figures_dir = "../figures"

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.ticker import EngFormatter

from l2o4rl.repro.notebooks import start

session = start(scale, seed, data_dir, recompute)  # before anything starts jax: its settings, the figure style

from l2o4rl.analysis import final_values, final_window, summarise_curves
from l2o4rl.analysis.plotting import PAPER_WIDTH_IN, plot_curves, save_figure
from l2o4rl.experiments.inner_loop import best_learning_rates
from l2o4rl.optim.catalog import name_of
from l2o4rl.tasks import get_task

session.config("baseline_curves")

# %%
result = session.load("baseline_curves")
curves, floors = result.tables["curves"], result.tables["random"].set_index("task")["random_return"]
print(result.describe())

# %% [markdown]
# ## Final returns (mean over the last 10% of updates, per seed)

# %%
final = final_values(curves, ["task", "optimizer"])
table = final.groupby(["task", "optimizer"])["value"].agg(["mean", "std", "count"]).unstack("optimizer")
table[("random policy", "")] = floors  # a full-length key on the two-level columns
table

# %%
summary = summarise_curves(curves, ["task", "optimizer"])
tasks = list(dict.fromkeys(curves["task"]))
fig, axes = plt.subplots(1, len(tasks), figsize=(PAPER_WIDTH_IN * 1.3, 2.6), layout="constrained")
for ax, task in zip(np.atleast_1d(axes), tasks):
    plot_curves(ax, summary[summary["task"] == task], hue="optimizer")
    ax.axhline(floors[task], color="k", linestyle="--", linewidth=1, label="random policy")
    ax.set(title=task, ylabel="episode return" if task == tasks[0] else "")
np.atleast_1d(axes)[0].legend(fontsize="small")
save_figure(fig, figures_dir, "baselines_adam_vs_rmsprop")

# %% [markdown]
# What the `cpu`-scale run shows (5 seeds, each task a stored piece; 2,572 s on 2 cores),
# with the authors' settings (README, "Where we differ": time-outs end the return; the LPG
# gridworld's respawn rules, border and A2C initialisation, here with 16 envs where the
# authors use 512; the pendulum run as Optim4RL runs Brax: observations normalised from raw
# statistics, rewards scaled by 10, brax.training's networks, ratio clip 0.3, unclipped value
# loss) and each baseline at the best learning rate of the sweep below (OPEN's published
# tuned Adam on Breakout):
#
# | final return | Adam | RMSProp | random |
# |---|---|---|---|
# | Catch (PPO, 1e5 steps) | 0.99 | 0.98 | -0.60 |
# | small_dense_long (A2C, 1e6) | 21.2 (lr 9e-3) | 14.6 (lr 3e-2) | -0.05 |
# | Breakout-MinAtar (PPO, 2e6) | 22.9 | 18.1 | 0.42 |
# | inverted_pendulum (PPO, 3e5) | 597 (seed std 80) | 585 (std 227) | 23 |
#
# Both optimizers solve Catch and learn every task far above a random policy. Tuned, Adam is
# ahead on small_dense_long (21.2 against 11.6 at the papers' shared rate of 0.03, where
# RMSProp led) and level with RMSProp on the pendulum; on Breakout, Adam with OPEN's tuned
# settings is ahead of RMSProp at the same rate.
#
# ## Checks
# At `cpu` scale and above: Adam solves Catch, learns the gridworld far above a random
# policy, and its Breakout and Brax curves rise.


# %%
def mean_final(task, optimizer="Adam"):
    return final[(final["task"] == task) & (final["optimizer"] == optimizer)]["value"].mean()


def early(task, optimizer="Adam"):
    """The mean return over the first 10% of updates (the window of a final return)."""
    rows = curves[
        (curves["task"] == task) & (curves["optimizer"] == optimizer) & (curves["metric"] == "episode_return")
    ]
    return rows[rows["update"] < final_window(rows["update"].max() + 1)]["value"].mean()


assert np.isfinite(final["value"]).all(), "every run ends with a finite return"
if scale != "quick":
    assert mean_final("catch") >= 0.8, f"PPO+Adam on Catch: {mean_final('catch'):.2f} < 0.8"
    margin = mean_final("small_dense_long") - floors["small_dense_long"]
    assert margin >= 5.0, f"A2C+Adam on small_dense_long beats random by only {margin:.2f}"
    for task in ("breakout", "inverted_pendulum"):
        rise = mean_final(task) - early(task)
        assert rise > 0.5 * abs(early(task)) + 1.0, (
            f"{task}: Adam's curve does not rise ({early(task):.1f} -> {mean_final(task):.1f})"
        )


# %% [markdown]
# ## Are the baselines tuned?
# A learned optimizer that beats an untuned baseline shows nothing. Where a paper publishes
# tuned settings (OPEN's Adam on MinAtar, ant and the gridworld, SPEC 2.4) we use them;
# every other baseline takes the best learning rate of this sweep: 5 rates on a log grid
# (0.1x to 10x the task's rate, half a decade apart), 3 seeds, each task at the budget of
# the comparison it serves (Catch here; catch_a2c and small_dense_long in notebook 04; the
# pendulums in notebook 06). Final return: the mean over the last 10% of updates. Each task
# is a stored piece of its own. The task catalog (`l2o4rl.tasks`) holds the chosen rates,
# and the check below keeps it equal to this table.

# %%
sweep = session.load("lr_sweep").tables["sweep"]
best = best_learning_rates(sweep)
best["catalog"] = [get_task(t).baseline_learning_rate(name_of(o)) for t, o in zip(best["task"], best["optimizer"])]
best

# %%
sweep_tasks = list(dict.fromkeys(sweep["task"]))
fig, axes = plt.subplots(1, len(sweep_tasks), figsize=(PAPER_WIDTH_IN * 1.3, 2.4), layout="constrained", squeeze=False)
for ax, task in zip(axes[0], sweep_tasks):
    for optimizer, rows in sweep[sweep["task"] == task].groupby("optimizer"):
        stats = rows.groupby("learning_rate")["final_return"].agg(["mean", "min", "max"])
        (line,) = ax.plot(stats.index, stats["mean"], marker="o", label=optimizer)
        ax.fill_between(stats.index, stats["min"], stats["max"], color=line.get_color(), alpha=0.15, linewidth=0)
        chosen = get_task(task).baseline_learning_rate(name_of(optimizer))
        ax.axvline(chosen, color=line.get_color(), linestyle=":", linewidth=1)
    ax.set(xscale="log", xlabel="learning rate", ylabel="final return" if task == sweep_tasks[0] else "")
    ax.set_title(
        task.replace("_", " ").replace("inverted ", "inverted\n"), fontsize="medium"
    )  # long names on two lines
axes[0, 0].legend(fontsize="small")
save_figure(fig, figures_dir, "baselines_lr_sweep")

# %% [markdown]
# Lines: the mean over seeds; bands: their range; dotted: the rate the catalog uses.
#
# What the `cpu` sweep shows (3 seeds per rate):
#
# | task (budget) | Adam: best rate, return | RMSProp: best rate, return | the task's own rate |
# |---|---|---|---|
# | catch, PPO (1e5) | 1e-3 (tied with 3e-4 and 3e-3), 1.00 | 3e-4, 0.98 | 1e-3 |
# | catch_a2c (1e5) | 1e-2, 1.00 (0.78 at 1e-3) | 3e-3 (tied with 1e-2), 0.98 (0.72 at 1e-3) | 1e-3 |
# | small_dense_long (3e5) | 9e-3, 15.1 (8.2 at 3e-2) | 3e-2, 14.9 | 3e-2 |
# | inverted_pendulum (3e5) | 3e-4, 575 | 9e-4, 564 | 3e-4 |
# | inverted_double_pendulum (5e5) | 9e-4, 3374 (2178 at 3e-4) | 9e-4, 1867 | 3e-4 |
#
# Tuned, Adam and RMSProp end level on small_dense_long: the gap the earlier run showed at
# the shared rate (Adam 11.6, RMSProp 14.6 at 1e6 steps) was Adam's learning rate. On
# catch_a2c both want 3-10x the authors' agent rate at this budget; Adam's best sits at the
# grid's top edge, where returns are within 0.02 of the maximum of 1, so a wider grid could
# not change the comparison. (catch_a2c has no gradient clip since 2026-12-05, as the
# authors' Catch configs; with the old clip at 1 each rate's mean ended within 0.005 of this
# sweep's.) The rates are tuned at one budget per task (the comparison's) and used at the
# others (small_dense_long's 1e6-step run above).
#
# ## Checks
# Every run of the sweep ends finite; at `cpu` scale, the catalog's rate for each swept
# (task, optimizer) is the sweep's best.

# %%
assert np.isfinite(sweep["final_return"]).all(), "every sweep run ends with a finite return"
if scale == "cpu":
    stale = best[~np.isclose(best["learning_rate"], best["catalog"])]
    assert stale.empty, f"the task catalog's baseline rates differ from the stored sweep's best:\n{stale}"

# %% [markdown]
# ## Our PPO against the authors' Adam returns (MinAtar)
# OPEN normalises every MinAtar return by the return its authors' PPO reached with tuned
# Adam after 1e7 steps (SPEC 2.4: Breakout 50.08). Our PPO with the same settings and the
# same tuned Adam, at the same budget, should land near it: a check of our inner loop, not
# of any optimizer. At `cpu` scale: Breakout, 3 seeds (each game is a stored piece; `paper`
# runs all four with 16 seeds; 1,427 s on 2 cores shared with another job).

# %%
minatar = session.load("minatar_adam")
minatar_final = final_values(minatar.tables["curves"], ["task"])
check = minatar_final.groupby("task")["value"].agg(["mean", "std", "count"])
check["authors' Adam"] = [get_task(t).adam_return for t in check.index]
check["ratio"] = check["mean"] / check["authors' Adam"]
check

# %%
minatar_summary = summarise_curves(minatar.tables["curves"], ["task"])
games = list(check.index)
fig, axes = plt.subplots(
    1, len(games), figsize=(PAPER_WIDTH_IN * 0.45 * len(games), 2.4), layout="constrained", squeeze=False
)
for ax, game in zip(axes[0], games):
    plot_curves(
        ax, minatar_summary[minatar_summary["task"] == game].assign(optimizer="ours: PPO + Adam"), hue="optimizer"
    )
    ax.axhline(get_task(game).adam_return, color="k", linestyle="--", linewidth=1, label="authors' Adam (1e7 steps)")
    ax.set(title=game, ylabel="episode return")
axes[0, 0].legend(fontsize="x-small", loc="lower right")
save_figure(fig, figures_dir, "baselines_minatar_adam")

# %% [markdown]
# At `cpu` scale our PPO with the authors' tuned Adam (and PureJaxRL's epsilon 1e-5, README
# row 25) reaches 38.6 on Breakout after 1e7 steps (3 seeds: 33.1, 46.5, 36.3), 0.77 of the
# authors' 50.08; notebook 07's 4 other seeds of the same run end at 1.07x (0.63-1.25).
# Breakout's seeds spread widely, and a 3-seed mean cannot separate 0.77 from 1, so the check
# asks only that each game's mean lies within a factor of two of the authors' return: our
# inner loop trains at the authors' scale, not at a tenth of it or beyond it.

# %%
if scale != "quick":
    assert check["ratio"].between(0.5, 2.0).all(), f"our PPO + Adam vs the authors' MinAtar returns:\n{check}"

# %% [markdown]
# ## Our Brax PPO against brax.training's own trainer
# Brax ships a reference PPO trainer (`brax.training.agents.ppo`). Both train the same
# Brax tasks at the same settings (envs, rollout, minibatches, epochs, gamma, reward scale,
# networks, learning rate, ratio clip 0.3, unclipped value loss) from the same budget; what
# differs is listed in `l2o4rl.agents.brax_reference`: brax's trainer has no element-wise
# gradient clip and squashes its Gaussian policy with tanh (state-dependent scale), and its
# returns come from its evaluator (fresh 1000-step episodes) where ours are the training
# episodes'. Each task is a stored piece.

# %%
reference = session.load("brax_reference").tables["curves"]
# ours: the last 10% of updates, as every final return here; brax.training: its last evaluation
ours = reference[reference["trainer"] == "ours"]
ours_tidy = ours.assign(metric="episode_return", value=ours["return"], update=ours.groupby(["task", "seed"]).cumcount())
theirs = reference[reference["trainer"] != "ours"]
theirs_last = theirs[theirs["env_steps"] == theirs.groupby(["task", "seed"])["env_steps"].transform("max")]
reference_final = pd.concat(
    [
        final_values(ours_tidy, ["task", "trainer"]).rename(columns={"value": "return"}),
        theirs_last[["task", "trainer", "seed", "return"]],
    ]
).set_index(["task", "trainer", "seed"])["return"]
reference_table = reference_final.groupby(["task", "trainer"]).agg(["mean", "std"]).unstack("trainer")
reference_table

# %%
reference_tasks = list(dict.fromkeys(reference["task"]))
fig, axes = plt.subplots(1, len(reference_tasks), figsize=(PAPER_WIDTH_IN, 2.4), layout="constrained", squeeze=False)
for ax, task in zip(axes[0], reference_tasks):
    for trainer, rows in reference[reference["task"] == task].groupby("trainer", sort=False):
        mean = rows.groupby("env_steps")["return"].mean()
        ax.plot(mean.index, mean.to_numpy(), marker="o" if trainer != "ours" else None, label=trainer)
    ax.set(title=task, xlabel="environment steps", ylabel="episode return" if task == reference_tasks[0] else "")
    ax.xaxis.set_major_formatter(EngFormatter(sep=""))  # 100k, not 100000: the tick labels fit
axes[0, 0].legend(fontsize="small")
save_figure(fig, figures_dir, "baselines_brax_reference")

# %% [markdown]
# What the `cpu` run shows (3 seeds, the task's learning rate 3e-4 for both trainers):
#
# | final return | ours (training episodes, last 10% of updates) | brax.training (its evaluator, last evaluation) |
# |---|---|---|
# | inverted_pendulum, 3e5 steps | 577 (seeds 559-608) | 879 (765-940) |
# | inverted_double_pendulum, 5e5 steps | 2,214 (2,181-2,262) | 1,487 (1,308-1,646) |
#
# Our PPO lands in the reference trainer's range: behind it on one task, ahead on the other.
# The tanh-squashed policy does not close the pendulum gap: with `policy="tanh_gaussian"`
# (same seeds) ours ended at 368 (150-704). What is left differs in kind (brax evaluates its
# final policy on fresh episodes, ours averages the last tenth of training episodes) and in
# initialisation (lecun-uniform there, orthogonal here).

# %% [markdown]
# ## Checks
# Every run ends finite. At `cpu` scale: our Breakout return at 1e7 steps is within a
# factor of 2 of the authors' (ratio in [0.5, 2]), and our Brax PPO's final return is at
# least half of brax.training's on each task.

# %%
assert np.isfinite(minatar_final["value"]).all() and np.isfinite(reference["return"]).all()
if scale == "cpu":
    assert ((check["ratio"] >= 0.5) & (check["ratio"] <= 2.0)).all(), f"our PPO+Adam vs the authors':\n{check}"
    means = reference_final.groupby(["task", "trainer"]).mean().unstack("trainer")
    assert (means["ours"] >= 0.5 * means["brax.training"]).all(), f"our Brax PPO vs brax.training's:\n{means}"
